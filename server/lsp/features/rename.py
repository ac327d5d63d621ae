"""Rename a citation key, from a citation or from an entry's key in an open bibliography: one
WorkspaceEdit changes the entry's key and every citation of it in the workspace's documents, open
or not. prepareRename says what will be renamed. A new key that a citing document's syntax or the
bibliography's format cannot hold, or that a bibliography in reach already has, is refused with a
message; so is a key with no entry to rename, or one in a shared library outside the workspace.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from papercite.index.readers import entry_format, rekeyed
from papercite.server.documents.citations import KeyRef
from papercite.server.documents.citations.parsers import PARSERS
from papercite.server.documents.positions import Lines
from papercite.server.documents.workspace import MAX_DOCUMENTS, CitingDocument
from papercite.server.lsp.entries import workspace_edit
from papercite.server.lsp.locations import (
    EntryPlace,
    LineTables,
    Target,
    refresh_citing,
    target_at,
)
from papercite.server.lsp.server import PaperciteServer, Refusal

BIBTEX_RULE = "a BibTeX key holds no spaces and none of , { } ( ) = \" # % ~ \\"
CSL_RULE = "an id has no spaces around it"


def register(server: PaperciteServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    async def prepare_rename(ls: PaperciteServer, params: types.PrepareRenameParams
                             ) -> types.PrepareRenamePlaceholder | None:
        target = await target_at(ls, params.text_document.uri, params.position)
        if target is None:
            return None  # not on a key: the client says nothing can be renamed here
        renamed_entry(ls, target)
        return types.PrepareRenamePlaceholder(range=target.range, placeholder=target.key)

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    async def rename(ls: PaperciteServer, params: types.RenameParams) -> types.WorkspaceEdit:
        target = await target_at(ls, params.text_document.uri, params.position)
        if target is None:
            raise Refusal("papercite renames citation keys: put the cursor on a key in a citation "
                          "or on the key of a bibliography entry")
        entry = renamed_entry(ls, target)
        return await ls.on_search_thread(rename_edit, ls, target, entry, params.new_name)


def renamed_entry(ls: PaperciteServer, target: Target) -> EntryPlace:
    """The entry whose key a rename at the target changes, or the reason there is none."""
    entry = target.entry
    if entry is None:
        raise Refusal(f"'{target.key}' is in none of this document's bibliographies: there is no entry to rename")
    if entry.paper.key != target.key:
        raise Refusal(f"'{target.key}' is an alias (ids) of '{entry.paper.key}' in {entry.name}: "
                      f"rename '{entry.paper.key}' or edit its ids field")
    if entry.key_offsets is None:
        raise Refusal(f"the entry at {entry.name} has no key of its own ('{target.key}' is made up): "
                      "give it one in the file")
    path = entry.source.path
    if target.scope is not None and path not in target.scope.own and not in_workspace(ls, path):
        raise Refusal(f"'{target.key}' is defined in {path}, a shared library outside the workspace: "
                      "renaming it there would break the citations of other projects")
    return entry


def in_workspace(ls: PaperciteServer, path: Path) -> bool:
    return any(path.is_relative_to(root) for root in ls.library.workspace_roots)


def rename_edit(ls: PaperciteServer, target: Target, entry: EntryPlace, new_key: str) -> types.WorkspaceEdit:
    """The edit of the entry and of every citation of its key (search thread)."""
    old_key = entry.paper.key
    if new_key == old_key:
        return types.WorkspaceEdit(changes={})
    rekey = rekeyed(entry.paper, new_key)
    if rekey is None:
        rule = BIBTEX_RULE if entry_format(entry.source.path) == "bibtex" else CSL_RULE
        raise Refusal(f"'{new_key}' cannot be the key of the entry in {entry.source.path.name} ({rule})")
    refresh = refresh_citing(ls, target.snap)
    citations = ls.citing.citations_of(old_key)
    for document, ref in citations:
        check_citable(new_key, document, ref)
    taken_in = taken(ls, target, entry, new_key)
    if taken_in is not None:
        raise Refusal(f"'{new_key}' is already a key in {taken_in}")
    if refresh.truncated:
        ls.loop_call(ls.tell, types.MessageType.Warning,
                     f"papercite: the workspace has too many documents to scan them all (more than {MAX_DOCUMENTS}, "
                     "or over the time limit): citations in documents not scanned keep the old key")
    edits: dict[str, types.TextDocumentEdit] = {}

    def edit(uri: str, version: int | None, range_: types.Range, text: str) -> None:
        if uri not in edits:
            edits[uri] = types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=[])
        edits[uri].edits.append(types.TextEdit(range=range_, new_text=text))

    start, end, spelled = rekey
    edit(entry.source.uri, entry.source.version, entry.source.lines.range(entry.start + start, entry.start + end),
         spelled)
    lines = LineTables(target.snap)
    for document, ref in citations:
        edit(document.uri, document.version, lines.of(document).range(ref.start, ref.end), new_key)
    return workspace_edit(ls, list(edits.values()))


def check_citable(new_key: str, document: CitingDocument, ref: KeyRef) -> None:
    """Refuse a key this citation's syntax cannot hold, naming the place."""
    syntax = PARSERS[document.syntax]
    if syntax.valid_key(new_key, document.text, ref):
        return
    where = f"{document.path.name}:{Lines(document.text).position(ref.start).line + 1}"
    written, rule = syntax.key_rule(document.text, ref)
    raise Refusal(f"'{new_key}' cannot be cited {written} ({where}): {rule}")


def taken(ls: PaperciteServer, target: Target, entry: EntryPlace, new_key: str) -> str | None:
    """The file of an entry that already has `new_key` (or an alias of it), among the bibliographies
    in reach: the entry's file, what the citing document sees, the workspace's, the shared libraries."""
    sources = {str(entry.source.path), *map(str, ls.library.global_files)}
    if in_workspace(ls, entry.source.path):
        sources.update(map(str, ls.library.workspace_files(entry.source.path)))
    if target.scope is not None:
        sources |= ls.library.visible_sources(target.scope)
    if not ls.library.has_key(new_key, sources):
        return None
    holder = next((p for p in ls.library.papers_for_key(new_key) if p.source in sources), None)
    if holder is None:  # has_key saw it, and then the index changed
        return "a bibliography in reach"
    return Path(holder.source).name + (f":{holder.span.start_line + 1}" if holder.span else "")
