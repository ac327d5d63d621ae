"""Keys and entries in LSP terms, for definition, references, rename and unused-entry hints: the
key a request points at (in a citation, or an entry's key in an open bibliography), the entry it
names, and where both are in the texts as the editor has them.

A request takes a `Snapshot` of the open documents on the event loop; the work on the search
thread reads that snapshot, never the live buffers, so offsets, texts and versions agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from papercite.index.model import Paper
from papercite.index.readers import is_library, parse_text
from papercite.server.documents.bibliographies import read_text
from papercite.server.documents.library import Scope
from papercite.server.documents.positions import Lines
from papercite.server.documents.workspace import Buffer, CitingDocument, Refresh
from papercite.server.lsp.server import PaperciteServer


@dataclass(frozen=True)
class Snapshot:
    """The open documents (citing ones and bibliographies) and the settings a request works with."""

    buffers: dict[Path, Buffer]
    roots: tuple[Path, ...]
    citation_commands: tuple[str, ...]
    encoding: str


def snapshot(ls: PaperciteServer) -> Snapshot:
    """Taken on the event loop, where the buffers change."""
    buffers = {}
    for uri, state in ls.documents.items():
        document = ls.workspace.get_text_document(uri)
        buffers[state.path] = Buffer(state.path, uri, document.source, document.version, state.syntax)
    return Snapshot(buffers, tuple(ls.library.workspace_roots), tuple(ls.settings.citation_commands),
                    ls.workspace.position_encoding)


def refresh_citing(ls: PaperciteServer, snap: Snapshot) -> Refresh:
    """Bring the workspace's citing documents up to date (search thread)."""
    return ls.citing.refresh(snap.roots, snap.buffers.values(), snap.citation_commands)


@dataclass(frozen=True)
class SourceFile:
    """A file's text as the editor has it: its buffer when open (``version`` set), else the disk's."""

    path: Path
    uri: str
    text: str
    version: int | None
    lines: Lines


def source_file(ls: PaperciteServer, snap: Snapshot, path: Path) -> SourceFile | None:
    """The file's text as the editor has it, with its line table (search thread)."""
    return ls.helper(SourceCache).source(snap, path)


@dataclass(frozen=True)
class EntryPlace:
    """An entry in the current text of its file (its text starts at ``start`` there)."""

    source: SourceFile
    paper: Paper
    start: int

    @property
    def range(self) -> types.Range:
        return self.source.lines.range(self.start, self.start + len(self.paper.raw))

    @property
    def key_offsets(self) -> tuple[int, int] | None:
        """Where the entry spells its key; None when the key was generated (it has none)."""
        span = self.paper.key_span
        if span is None:
            return None
        end = self.start + len(self.paper.raw)
        return (self.source.lines.offset_at(span.start_line, span.start_col),
                min(self.source.lines.offset_at(span.end_line, span.end_col), end))

    @property
    def key_range(self) -> types.Range | None:
        offsets = self.key_offsets
        return None if offsets is None else self.source.lines.range(*offsets)

    @property
    def name(self) -> str:
        """How a message names the place: `ml.bib:12`."""
        return f"{self.source.path.name}:{self.range.start.line + 1}"


def entry_start(source: SourceFile, paper: Paper) -> int | None:
    """The offset of the entry in the current text, if the text there is still the entry's."""
    if paper.span is None or not paper.raw:
        return None
    start = source.lines.offset_at(paper.span.start_line, paper.span.start_col)
    return start if source.text.startswith(paper.raw, start) else None


def current_entries(ls: PaperciteServer, source: SourceFile) -> list[EntryPlace]:
    """A bibliography's entries as its current text has them (search thread)."""
    return ls.helper(SourceCache).entries(ls, source)


def read_entries(ls: PaperciteServer, source: SourceFile) -> list[EntryPlace]:
    """The index's records of the file when each is still where its span says (the usual case:
    nothing is parsed), else the text read again (an edit not indexed yet, or a file not indexed)."""
    papers = ls.library.papers_in(source.path)
    starts = [entry_start(source, paper) for paper in papers]
    if not papers or None in starts:
        papers = parse_text(source.text, str(source.path)).papers
        starts = [entry_start(source, paper) for paper in papers]
    return [EntryPlace(source, paper, start) for paper, start in zip(papers, starts) if start is not None]


def entry_place(ls: PaperciteServer, snap: Snapshot, paper: Paper) -> EntryPlace | None:
    """Where an indexed paper's entry is now (search thread); None if its file is gone or no longer
    has it."""
    source = source_file(ls, snap, Path(paper.source))
    if source is None:
        return None
    start = entry_start(source, paper)
    if start is not None:
        return EntryPlace(source, paper, start)
    return next((place for place in current_entries(ls, source) if place.paper.key == paper.key), None)


_KEY_LIKE = re.compile(r"[^\s{}(),\"=]+")
"""What an entry's key is made of, as far as finding one under the cursor goes: `@type{KEY,`,
`"id": "KEY"`, `id: KEY` (or `'KEY'`)."""


def entry_with_key_at(ls: PaperciteServer, snap: Snapshot, path: Path,
                      position: types.Position) -> EntryPlace | None:
    """The entry of the bibliography at `path` whose key is at `position` (search thread, where
    the file's line table is kept: a big library's costs milliseconds to make). The word under the
    cursor is looked up as a key first, which decodes that entry alone; when it is none (the cursor
    elsewhere, a key in quotes with spaces, an edit not indexed yet), every entry is looked at."""
    source = source_file(ls, snap, path)
    if source is None or not source.lines.has_line(position):
        return None
    offset = source.lines.offset(position)
    number = position.line
    column = offset - source.lines.starts[number]
    words = [m.group() for m in _KEY_LIKE.finditer(source.lines.line_text(number)) if m.start() <= column <= m.end()]
    for word in dict.fromkeys(w for word in words for w in (word, word.strip("'"))):
        for paper in ls.library.papers_for_key(word):
            place = entry_place(ls, snap, paper) if paper.source == str(path) else None
            if place is not None and _holds(place, offset):
                return place
    return next((place for place in current_entries(ls, source) if _holds(place, offset)), None)


def _holds(place: EntryPlace, offset: int) -> bool:
    offsets = place.key_offsets
    return offsets is not None and offsets[0] <= offset <= offsets[1]


@dataclass(frozen=True)
class Target:
    """The key a request points at: where it is written there, and the entry it names (None when
    none of the bibliographies the document sees has it). ``scope`` is the citing document's, None
    when the request points at an entry in a bibliography."""

    key: str
    range: types.Range
    entry: EntryPlace | None
    scope: Scope | None
    snap: Snapshot


async def target_at(ls: PaperciteServer, uri: str, position: types.Position) -> Target | None:
    """The key under the cursor: in a citation, or an entry's key in an open bibliography."""
    snap = snapshot(ls)
    cursor = ls.at_position(uri, position)
    if cursor is not None:
        ref = cursor.parser.key_at(cursor.text, cursor.offset, ls.settings.citation_commands)
        if ref is None:
            return None
        scope = ls.scope(uri)

        def entry() -> EntryPlace | None:
            paper, _ = ls.library.lookup(ref.key, scope)
            return entry_place(ls, snap, paper) if paper is not None else None

        return Target(ref.key, cursor.lines.range(ref.start, ref.end), await ls.on_search_thread(entry), scope, snap)
    state = ls.documents.get(uri)
    if state is None or state.syntax is not None or not is_library(state.path):
        return None
    place = await ls.on_search_thread(entry_with_key_at, ls, snap, state.path, position)
    if place is None:
        return None
    return Target(place.paper.key, place.key_range, place, None, snap)


class SourceCache:
    """Bibliography texts with their line tables and entries, kept while unchanged: for a 3 MB
    library of 2,000 entries the line table and decoding the entries cost too much for every request
    (measured: README, Benchmarks). A buffer is known by its version, a file by its size and mtime;
    entries also by the index's generation (a new one after every commit). Search thread only."""

    SIZE = 8

    def __init__(self):
        self._sources: dict[Path, tuple[tuple, SourceFile]] = {}
        self._entries: dict[Path, tuple[SourceFile, object, list[EntryPlace]]] = {}

    def source(self, snap: Snapshot, path: Path) -> SourceFile | None:
        buffer = snap.buffers.get(path)
        if buffer is not None:
            stamp: tuple = (buffer.uri, buffer.version, snap.encoding)
        else:
            try:
                stat = path.stat()
            except OSError:
                return None
            stamp = (stat.st_size, stat.st_mtime_ns, snap.encoding)
        cached = self._sources.get(path)
        if cached is not None and cached[0] == stamp and (buffer is None or cached[1].text == buffer.text):
            return cached[1]
        if buffer is not None:
            source = SourceFile(path, buffer.uri, buffer.text, buffer.version, Lines(buffer.text, snap.encoding))
        else:
            text = read_text(path)
            if text is None:
                return None
            source = SourceFile(path, path.as_uri(), text, None, Lines(text, snap.encoding))
        self._remember(self._sources, path, (stamp, source))
        return source

    def entries(self, ls: PaperciteServer, source: SourceFile) -> list[EntryPlace]:
        generation = ls.library.generation()
        cached = self._entries.get(source.path)
        if cached is not None and cached[0] is source and cached[1] is generation:
            return cached[2]
        places = read_entries(ls, source)
        self._remember(self._entries, source.path, (source, generation, places))
        return places

    def _remember(self, table: dict, path: Path, value) -> None:
        table.pop(path, None)
        if len(table) >= self.SIZE:
            table.pop(next(iter(table)))
        table[path] = value



class LineTables:
    """One line table per document for the request (a key may be cited many times in one)."""

    def __init__(self, snap: Snapshot):
        self.encoding = snap.encoding
        self._tables: dict[str, Lines] = {}

    def of(self, document: CitingDocument) -> Lines:
        table = self._tables.get(document.uri)
        if table is None:
            table = self._tables[document.uri] = Lines(document.text, self.encoding)
        return table


def location(paper: Paper) -> str | None:
    """`refs.bib:123`: where an entry is defined, as people read it."""
    if not paper.source:
        return None
    name = Path(paper.source).name
    return f"{name}:{paper.span.start_line + 1}" if paper.span else name
