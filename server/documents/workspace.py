"""The workspace's citing documents and the keys they cite: what references, rename and unused-entry
hints read. No LSP here: offsets are code points, as the citation parsers give them.

LaTeX and Markdown files under the workspace folders are found by the walk that finds bibliographies
(hidden folders, dependencies and build outputs skipped), files too big to be prose left out. Each
file's citations are kept with the file's size and modification time, so a refresh reads and parses
again only the files that changed. Open documents count with the editor's text, not the disk's,
parsed once per version.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from papercite.server.documents.bibliographies import read_text, walk_workspace
from papercite.server.documents.citations import KeyRef, syntax_for
from papercite.server.documents.citations.parsers import PARSERS

MAX_DOCUMENT_BYTES = 2_000_000  # a bigger .tex or .md is generated, not written: not scanned
MAX_DOCUMENTS = 5_000
SCAN_SECONDS = 2.0  # a walk stops after this long (a home folder opened as the workspace)

Stamp = tuple[int, int]  # (size, mtime_ns) of a file


@dataclass(frozen=True)
class Buffer:
    """An open document as the editor has it."""

    path: Path
    uri: str
    text: str
    version: int
    syntax: str | None  # None for a bibliography


@dataclass(frozen=True)
class CitingDocument:
    """One document's citations by key. ``text`` is what the offsets point into (kept only when
    something is cited); ``version`` is the editor's for an open document, None for a file."""

    path: Path
    uri: str
    syntax: str
    text: str
    version: int | None
    refs: dict[str, tuple[KeyRef, ...]]
    stamp: Stamp | None = None


@dataclass(frozen=True)
class Refresh:
    parsed: list[Path]  # documents read and parsed again, in that order
    truncated: bool  # the walk stopped at MAX_DOCUMENTS files or after SCAN_SECONDS


class CitingDocuments:
    """The workspace's citing documents, kept current by `refresh`. Not thread-safe: the server
    uses it from its search thread only."""

    def __init__(self):
        self._files: dict[Path, CitingDocument] = {}
        self._buffers: dict[Path, CitingDocument] = {}
        self._commands: tuple[str, ...] = ()
        self._cited: frozenset[str] | None = None
        self.documents: list[CitingDocument] = []  # by path; an open document's buffer, not its file
        self.truncated = False

    def refresh(self, roots: Iterable[Path], buffers: Iterable[Buffer],
                citation_commands: Iterable[str] = ()) -> Refresh:
        """Walk the folders again; read and parse the files that changed and the buffers of new
        versions. `citation_commands` is the setting (other commands: every document again)."""
        commands = tuple(citation_commands)
        if commands != self._commands:
            self._files, self._buffers, self._commands = {}, {}, commands
        parsed: list[Path] = []
        opened: dict[Path, CitingDocument] = {}
        for buffer in buffers:
            if buffer.syntax is None:
                continue
            known = self._buffers.get(buffer.path)
            if known is None or (known.uri, known.version, known.text) != (buffer.uri, buffer.version, buffer.text):
                known = self._parse(buffer.path, buffer.uri, buffer.syntax, buffer.text, buffer.version)
                parsed.append(buffer.path)
            opened[buffer.path] = known
        files: dict[Path, CitingDocument] = {}
        found, self.truncated = citing_files(roots)
        for path, (syntax, stamp) in found.items():
            known = self._files.get(path)
            if path in opened:  # the buffer counts; the file's entry waits for the document to close
                if known is not None:
                    files[path] = known
                continue
            if known is None or known.stamp != stamp or known.syntax != syntax:
                text = read_text(path)
                if text is None:
                    continue
                known = self._parse(path, path.as_uri(), syntax, text, None, stamp)
                parsed.append(path)
            files[path] = known
        self._files, self._buffers = files, opened
        current = {**{p: d for p, d in files.items() if p not in opened}, **opened}
        self.documents = [current[p] for p in sorted(current)]
        self._cited = None
        return Refresh(parsed, self.truncated)

    def citations_of(self, key: str) -> list[tuple[CitingDocument, KeyRef]]:
        """Every citation of `key`, by document path and then in document order."""
        return [(document, ref) for document in self.documents for ref in document.refs.get(key, ())]

    def cited_keys(self) -> frozenset[str]:
        """Every key some document cites."""
        if self._cited is None:
            self._cited = frozenset(key for document in self.documents for key in document.refs)
        return self._cited

    def _parse(self, path: Path, uri: str, syntax: str, text: str, version: int | None,
               stamp: Stamp | None = None) -> CitingDocument:
        refs: dict[str, list[KeyRef]] = {}
        for citation in PARSERS[syntax].find_citations(text, self._commands):
            for ref in citation.keys:
                refs.setdefault(ref.key, []).append(ref)
        kept = text if refs or version is not None else ""  # a file citing nothing needs no text
        return CitingDocument(path, uri, syntax, kept, version, {k: tuple(v) for k, v in refs.items()}, stamp)


def citing_files(roots: Iterable[Path], limit: int = MAX_DOCUMENTS,
                 seconds: float = SCAN_SECONDS) -> tuple[dict[Path, tuple[str, Stamp]], bool]:
    """LaTeX and Markdown files under these folders, walked as the bibliography scan walks them,
    with their syntax and stamp, and whether the walk was cut short; files too big to be prose
    are left out."""
    deadline = time.monotonic() + seconds
    found: dict[Path, tuple[str, Stamp]] = {}
    for root in roots:
        scan = walk_workspace(root, is_citing_file, limit - len(found), max(0.0, deadline - time.monotonic()))
        for path in scan.files:
            try:
                stat = path.stat()
            except OSError:
                continue
            if stat.st_size <= MAX_DOCUMENT_BYTES:
                found.setdefault(path, (syntax_for("", path.name), (stat.st_size, stat.st_mtime_ns)))
        if scan.truncated:
            return found, True
    return found, False


def is_citing_file(path: Path) -> bool:
    return syntax_for("", path.name) is not None
