"""Adding a paper that only a global library has (the `libraries` setting) to the document's own
bibliography, so that citing it never leaves the project's bibliography behind.

The entry goes at the end of the first bibliography the document declares (a document that
declares none cites from the workspace and the libraries alike: nothing to add). The server never
writes the file: it sends a text edit, against the editor's buffer (with its version) when the
file is open there, else against the file on disk. Quick fixes carry the edit; a completion item
carries the `papercite.addEntry` command, run after the item is inserted.

papercite.index.writers is imported where it is used: it loads the BibTeX and YAML readers,
which start-up otherwise does without.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path

from papercite.index.model import Paper
from papercite.index.readers import decode, entry_format, parse_text, read_bytes
from papercite.server.documents.library import Scope
from papercite.server.documents.positions import Lines
from papercite.server.lsp.server import PaperciteServer

ADD_ENTRY = "papercite.addEntry"


def target_bibliography(scope: Scope) -> Path | None:
    """The bibliography entries are added to: the first one the document declares (that exists
    and is BibTeX or CSL), None when it declares none."""
    if not scope.declared:
        return None
    return next((path for path in scope.own if entry_format(path)), None)


@dataclass
class Buffer:
    """A file's text as the editor has it (version set) or as it is on disk (version None)."""

    uri: str
    text: str
    version: int | None


def current_text(ls: PaperciteServer, path: Path) -> Buffer:
    """The open buffer of ``path`` if the editor has it, else the file; CannotWrite when unreadable."""
    from papercite.index.writers import CannotWrite  # deferred for start-up (module docstring)
    for uri, state in ls.documents.items():
        if state.path == path:
            document = ls.workspace.get_text_document(uri)
            return Buffer(uri, document.source, document.version)
    try:
        text, _ = decode(read_bytes(path))
    except OSError as err:
        raise CannotWrite(f"it cannot be read ({err.strerror or err})") from None
    return Buffer(from_fs_path(str(path)) or path.as_uri(), text, None)


def add_entry_edit(ls: PaperciteServer, paper: Paper, target: Path) -> types.TextDocumentEdit:
    """The edit appending ``paper`` to ``target``; CannotWrite says why there is none."""
    from papercite.index.writers import entry_insertion  # deferred for start-up, as above

    fmt = entry_format(target)
    buffer = current_text(ls, target)
    insertion = entry_insertion(paper, buffer.text, fmt, lambda: source_text(ls, Path(paper.source)))
    where = Lines(buffer.text, ls.workspace.position_encoding).position(insertion.offset)
    return types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=buffer.uri, version=buffer.version),
        edits=[types.TextEdit(range=types.Range(start=where, end=where), new_text=insertion.text)])


class SourceTexts:
    """Library files' texts (for the @string definitions an entry needs), the last KEPT of them,
    each kept while its size and modification time stay: a global library may be large, and quick
    fixes are asked for often."""

    KEPT = 4

    def __init__(self):
        self._texts: dict[Path, tuple[tuple[int, int], str]] = {}  # library file -> (size, mtime), text

    def text(self, path: Path) -> str | None:
        try:
            stat = path.stat()
            cached = self._texts.get(path)
            if cached and cached[0] == (stat.st_size, stat.st_mtime_ns):
                return cached[1]
            text, _ = decode(read_bytes(path))
        except OSError:
            return None
        if len(self._texts) >= self.KEPT:
            self._texts.pop(next(iter(self._texts)))
        self._texts[path] = ((stat.st_size, stat.st_mtime_ns), text)
        return text


def source_text(ls: PaperciteServer, path: Path) -> str | None:
    """A library file's text: its buffer when open, else the file's (see SourceTexts)."""
    for uri, state in ls.documents.items():
        if state.path == path:
            return ls.workspace.get_text_document(uri).source
    return ls.helper(SourceTexts).text(path)


def workspace_edit(ls: PaperciteServer, edits: list[types.TextDocumentEdit]) -> types.WorkspaceEdit:
    """Versioned document changes when the client takes them, else plain changes per URI."""
    capabilities = ls.client_capabilities.workspace
    if capabilities and capabilities.workspace_edit and capabilities.workspace_edit.document_changes:
        return types.WorkspaceEdit(document_changes=edits)
    changes: dict[str, list[types.TextEdit]] = {}
    for edit in edits:
        changes.setdefault(edit.text_document.uri, []).extend(edit.edits)
    return types.WorkspaceEdit(changes=changes)


class EntryCommands:
    """The `command` member of completion items for papers outside the document's own
    bibliographies: JSON text spliced into the pre-encoded items (see completion.ItemCache)."""

    def __init__(self, uri: str, own: frozenset[str], target: Path):
        self.own = own
        self.uri = json.dumps(uri)
        self.target_name = target.name

    @classmethod
    def for_document(cls, uri: str, scope: Scope) -> EntryCommands | None:
        target = target_bibliography(scope)
        return cls(uri, scope.own_sources, target) if target else None

    def member(self, key: str, source: str) -> str:
        if source in self.own:
            return ""
        title = json.dumps(f"Add {key} to {self.target_name}")
        return (f',"command":{{"title":{title},"command":"{ADD_ENTRY}",'
                f'"arguments":[{self.uri},{json.dumps(key)},{json.dumps(source)}]}}')


def register(server: PaperciteServer) -> None:
    @server.command(ADD_ENTRY)
    async def add_entry(ls: PaperciteServer, uri: str, key: str, source: str) -> None:
        """After a completion item is inserted: add its paper to the document's bibliography,
        unless the bibliography has it by now."""
        from papercite.index.writers import CannotWrite  # deferred for start-up, as above

        if uri not in ls.documents or ls.documents[uri].syntax is None:
            ls.tell(types.MessageType.Warning, f"papercite: cannot add {key}: {uri} is not an open document")
            return
        scope = ls.scope(uri)
        target = target_bibliography(scope)
        if target is None:
            return
        paper = await ls.on_search_thread(_library_copy, ls, key, source, scope)
        if paper is None:
            return
        try:
            if key in {p.key for p in parse_text(current_text(ls, target).text, str(target)).papers}:
                return  # added meanwhile (twice completed, or typed), not indexed yet
            edit = add_entry_edit(ls, paper, target)
        except CannotWrite as err:
            ls.tell(types.MessageType.Warning, f"papercite cannot add {key} to {target.name}: {err}")
            return
        result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            edit=workspace_edit(ls, [edit]), label=f"Add {key} to {target.name}"))
        if not result.applied:
            reason = result.failure_reason or "the editor did not apply the edit"
            ls.tell(types.MessageType.Warning, f"papercite could not add {key} to {target.name}: {reason}")


def _library_copy(ls: PaperciteServer, key: str, source: str, scope: Scope) -> Paper | None:
    """The paper to add (search thread): None when the document's bibliographies have the key."""
    if ls.library.known(key, scope):
        return None
    papers = [p for p in ls.library.papers_for_key(key) if p.key == key]
    return next((p for p in papers if p.source == source), None) or ls.library.library_paper(key, scope)
