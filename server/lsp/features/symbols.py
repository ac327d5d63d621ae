"""Symbols: the entries of an open bibliography (the outline, breadcrumbs, "go to symbol in
file"), and papers across the workspace by title words, key or author ("go to symbol in
workspace", Ctrl+T in VS Code), which opens the paper's entry."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path

from papercite.index.lines import units_of
from papercite.index.model import Paper
from papercite.server.documents.positions import Lines
from papercite.server.lsp.render import author_year, shorten
from papercite.server.lsp.server import PaperciteServer
from papercite.server.lsp.sync import is_bibliography, read_buffer

WORKSPACE_SYMBOLS = 50  # papers offered for one query (asked again at each keystroke)
DETAIL_TITLE = 60  # characters of title in an outline row


def register(server: PaperciteServer) -> None:
    sources = WorkspaceSources()

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(ls: PaperciteServer,
                              params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
        found = ls.document(params.text_document.uri)
        if found is None or found[0].syntax is not None or not is_bibliography(ls, found[0], found[1]):
            return None
        state, text, lines = found
        version = ls.workspace.get_text_document(params.text_document.uri).version
        # Usually read already (indexing reads each version once); reading touches no index, so
        # it runs beside the search thread, not on it.
        result = await asyncio.get_running_loop().run_in_executor(None, read_buffer, state, text, version)
        return [entry_symbol(paper, lines) for paper in result.papers if paper.span is not None]

    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(ls: PaperciteServer,
                               params: types.WorkspaceSymbolParams) -> list[types.WorkspaceSymbol]:
        if not params.query.strip():
            return []
        within = sources.current(ls)

        def find() -> list[Paper]:
            hits = ls.library.search(params.query, WORKSPACE_SYMBOLS, within)
            return [hit.paper() for hit in hits]

        papers = await ls.on_search_thread(find)
        return [paper_symbol(ls, paper) for paper in papers if paper.span is not None]


class WorkspaceSources:
    """What workspace symbols search: the workspace's bibliographies (its folders' files, as
    documents that declare none see them), those open documents declare, and the `libraries`
    setting. Files not indexed yet are indexed in the background the first time they are seen."""

    def __init__(self):
        self.seen: frozenset[Path] = frozenset()

    def current(self, ls: PaperciteServer) -> frozenset[str]:
        files = [*ls.library.global_files]
        for root in ls.library.workspace_roots:
            files += ls.library.workspace_files(root)  # scanned at most every 30 s
        for state in ls.documents.values():
            files += state.scope.own if state.scope is not None else []
        found = frozenset(files)
        if not found <= self.seen:
            self.seen |= found
            ls.index_in_background(sorted(found))
        return frozenset(str(f) for f in found)


def entry_symbol(paper: Paper, lines: Lines) -> types.DocumentSymbol:
    """An entry in the outline: its key, who and when and what, the entry's range, its key selected."""
    entry = lines.span_range(paper.span)
    key = lines.span_range(paper.key_span) if paper.key_span is not None else types.Range(entry.start, entry.start)
    detail = " · ".join(part for part in (author_year(paper).strip(), shorten(paper.title, DETAIL_TITLE)) if part)
    return types.DocumentSymbol(name=paper.key, detail=detail or None, kind=types.SymbolKind.Object,
                                range=entry, selection_range=key)


def paper_symbol(ls: PaperciteServer, paper: Paper) -> types.WorkspaceSymbol:
    """A paper in the workspace symbol list. Clients filter the list again by fuzzy-matching what
    was typed against the name (VS Code drops what does not match), so the name holds both the
    key and the title: a query of title words, of a key prefix or of the surname a key starts
    with all match it."""
    uri = from_fs_path(paper.source)
    where = " · ".join(part for part in (author_year(paper).strip(), Path(paper.source).name) if part)
    return types.WorkspaceSymbol(name=f"{paper.key}: {' '.join(paper.title.split())}" if paper.title else paper.key,
                                 kind=types.SymbolKind.Object, container_name=where,
                                 location=types.Location(uri=uri, range=entry_range(ls, uri, paper)))


def entry_range(ls: PaperciteServer, uri: str, paper: Paper) -> types.Range:
    """Where an entry is, in the client's position units. An open file's buffer says exactly; for
    a file on disk the entry's own text gives the units of its last line, and the text before it
    on its first line is taken to be indentation (one unit a character in every encoding)."""
    found = ls.document(uri)
    if found is not None:
        return found[2].span_range(paper.span)
    span = paper.span
    end = units_of(paper.raw[paper.raw.rfind("\n") + 1:], ls.workspace.position_encoding)  # its last line
    if span.end_line == span.start_line:
        end += span.start_col
    return types.Range(start=types.Position(line=span.start_line, character=span.start_col),
                       end=types.Position(line=span.end_line, character=end))
