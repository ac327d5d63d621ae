"""Which papers a document sees, and keeping them indexed. No LSP types here: the handlers ask
this module and turn its answers into protocol objects.

A document sees its declared bibliographies (or, when it declares none, the workspace's), plus
the `libraries` setting; its own bibliographies rank first. Everything lives in one shared
on-disk index; a search is restricted to the sources the document sees.
"""

from __future__ import annotations

import os
import stat as stat_mode
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from papercite.index.model import Paper, Problem, ReadResult
from papercite.index.search import Hit, PaperSearch  # noqa: F401 (Hit: what searches answer)
from papercite.index.store import (  # noqa: F401 (IndexingStopped...: what the door raises, for its callers)
    IndexingStopped,
    IndexUnusable,
    PaperStore,
    ReadOnlyIndex,
    UpdateReport,
    stop_children,
    update_in_child,
)
from papercite.server.documents.bibliographies import (
    declared_bibliographies,
    expand_library_setting,
    workspace_bibliographies,
)

if TYPE_CHECKING:
    from papercite.index.names import NameMatch, PaperNames

WORKSPACE_RESCAN_SECONDS = 30.0
MIN_KEY_PREFIX = 3  # shortest prefix of an unknown key searched for keys like it
CLOSEST_KEPT = 256  # unknown keys whose closest keys are kept


@dataclass
class Scope:
    """The bibliographies of one document."""

    own: list[Path] = field(default_factory=list)  # declared (or, if none, the workspace's)
    missing: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    declared: bool = False

    @property
    def own_sources(self) -> frozenset[str]:
        return frozenset(str(p) for p in self.own)


class Library:
    """The one door into the index for the server and `papercite check`: what a document sees,
    searches, lookups, and indexing. Its callers never reach the store or the searcher."""

    def __init__(self, index_dir: Path | None = None):
        self.store = PaperStore(index_dir)
        self.searcher = PaperSearch(self.store)
        self._closest: dict[tuple[str, frozenset[str], int], list[str]] = {}
        self._closest_view = None
        self.global_files: list[Path] = []
        self.workspace_roots: list[Path] = []
        self._workspace_scans: dict[tuple[Path, ...], tuple[float, list[Path]]] = {}  # per set of roots

    # --- scope ---------------------------------------------------------------------------------

    def set_libraries(self, patterns: list[str], base: Path | None) -> list[str]:
        """Apply the `libraries` setting; returns messages for patterns that match nothing."""
        found, errors = expand_library_setting(patterns, base)
        self.global_files = [p.resolve() for p in found]
        return errors

    def scope(self, path: Path, text: str, syntax: str) -> Scope:
        declared = declared_bibliographies(text, path, syntax)
        existing = [p for p in declared.files if p not in declared.missing]
        if declared.files:
            return Scope(own=existing, missing=declared.missing, problems=declared.problems, declared=True)
        return Scope(own=self.workspace_files(path), problems=declared.problems)

    def workspace_files(self, near: Path) -> list[Path]:
        """The workspace's bibliographies (rescanned at most every WORKSPACE_RESCAN_SECONDS)."""
        roots = tuple(r for r in self.workspace_roots if near.is_relative_to(r)) or (near.parent,)
        scanned_at, files = self._workspace_scans.get(roots, (0.0, []))
        if time.monotonic() - scanned_at > WORKSPACE_RESCAN_SECONDS:
            files = [f.resolve() for root in roots for f in workspace_bibliographies(root).files]
            self._workspace_scans[roots] = (time.monotonic(), files)
        return files

    def forget_workspace_scans(self) -> None:
        """Files were created or deleted: scan again when next asked."""
        self._workspace_scans.clear()

    def visible_sources(self, scope: Scope) -> frozenset[str]:
        return scope.own_sources | {str(p) for p in self.global_files}

    def citable_sources(self, scope: Scope) -> frozenset[str]:
        """Where LaTeX or pandoc would resolve the document's keys: a document that declares
        bibliographies cites from those alone; one that declares none sees the workspace's and the
        global libraries."""
        return scope.own_sources if scope.declared else self.visible_sources(scope)

    # --- the index itself ----------------------------------------------------------------------

    @property
    def index_dir(self) -> Path:
        return self.store.dir

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    @property
    def notices(self) -> list[str]:
        """What opening or reading the index found (damage repaired, a rebuild), oldest first."""
        return self.store.notices

    def read(self, function: Callable, *args):
        """function(*args) over an index that may be damaged under the server (see PaperStore.read)."""
        return self.store.read(function, *args)

    def take_lost(self) -> tuple[str, list[str]] | None:
        """After a rebuild, once: (its notice, the sources it threw away, to index again)."""
        if self.store.lost is None:
            return None
        lost, self.store.lost = self.store.lost, None
        return self.store.notices[-1], lost

    def generation(self) -> object:
        """What changes whenever the index does (a new searcher after every commit): for caches
        of what was derived from it."""
        return self.store.searcher()

    def indexing_problems(self) -> dict[str, list[Problem]]:
        """What indexing found wrong in each indexed file, by source."""
        return {source: record.problems for source, record in self.store.catalogue().sources.items()}

    # --- indexing ------------------------------------------------------------------------------

    def update(self, files: list[Path]) -> UpdateReport:
        """Bring these files up to date in the index, in this process (`papercite check`)."""
        return self.store.update(files)

    def index_files(self, files: list[Path], progress: Callable[[int, int, str], None] | None = None) -> UpdateReport:
        """Bring these files up to date in the index, in a child process (memory and CPU of a
        big first indexing stay out of the server); readers see each committed batch at once."""
        return update_in_child(self.store.dir, files, progress)

    def index_buffer(self, source: Path, result: ReadResult) -> UpdateReport:
        """An edited, maybe unsaved, bibliography buffer (already read): small, so in this process."""
        return self.store.update_parsed(str(source), result)

    def needs_indexing(self, files: list[Path]) -> list[Path]:
        """Files not indexed, changed on disk since, or indexed and since deleted (a stat each).
        A FIFO, a device or a socket is none: reading it would never end, and nothing of it is kept;
        nor is a file never indexed that cannot be read (nothing would be, again and again)."""
        sources = self.store.catalogue().sources
        stale = []
        for path in files:
            record = sources.get(str(path))
            try:
                stat = path.stat()
            except OSError:  # gone: if indexed, an update removes its papers
                if record is not None:
                    stale.append(path)
                continue
            if not stat_mode.S_ISREG(stat.st_mode) or (record is None and not os.access(path, os.R_OK)):
                continue
            if record is None or (record.size, record.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                stale.append(path)
        return stale

    # --- questions -----------------------------------------------------------------------------

    def papers_for_key(self, key: str) -> list[Paper]:
        """Every indexed paper with this key (or alias), wherever it is."""
        return self.store.papers_for_key(key)

    def papers_in(self, source: Path) -> list[Paper]:
        return self.store.papers_in(str(source))

    def has_key(self, key: str, sources: frozenset[str]) -> bool:
        return self.searcher.has_key(key, sources)

    def search(self, query: str, limit: int, within: frozenset[str] | None) -> list[Hit]:
        return self.searcher.search(query, limit=limit, within=within)

    def rows_to_prepare(self, found_in: object, own: frozenset[str]):
        """For completion rows made ahead of typing: (every paper, True) when the index is small
        enough to hold in memory, else (the papers of ``own``, False); (None, False) when the
        index changed since hits came from it (``found_in``: their ``view``)."""
        if self.searcher.view() is not found_in:
            return None, False
        self.searcher.prepare(own)
        held = self.searcher.hold()
        return (held, True) if held is not None else (self.searcher.papers(own), False)

    def complete(self, query: str, scope: Scope, limit: int) -> list[Hit]:
        return self.searcher.search(query, limit=limit, prefer=scope.own_sources, within=self.visible_sources(scope))

    def known(self, key: str, scope: Scope) -> bool:
        """Whether LaTeX or pandoc would resolve the key (a paper only in a global library is still
        undefined for a document that declares bibliographies, and a quick fix adds it)."""
        return self.searcher.has_key(key, self.citable_sources(scope))

    def undefined(self, citations, scope: Scope) -> list:
        """The key references of these citations that the document's bibliographies lack."""
        known: dict[str, bool] = {}
        found = []
        for citation in citations:
            for ref in citation.keys:
                if ref.key not in known:
                    known[ref.key] = self.known(ref.key, scope)
                if not known[ref.key]:
                    found.append(ref)
        return found

    def lookup(self, key: str, scope: Scope) -> tuple[Paper | None, Paper | None]:
        """(the paper with this key that the document sees, else one the index has elsewhere)."""
        papers = self.store.papers_for_key(key)
        visible = self.visible_sources(scope)
        seen = [p for p in papers if p.source in visible]
        seen.sort(key=lambda p: p.source not in scope.own_sources)
        if seen:
            return seen[0], None
        return None, papers[0] if papers else None

    def library_paper(self, key: str, scope: Scope) -> Paper | None:
        """The paper with this key in a global library, when the document declares bibliographies
        that lack it: what an "add the entry" fix copies into the document's own bibliography."""
        if not scope.declared:
            return None
        libraries = {str(p) for p in self.global_files} - scope.own_sources
        return next((p for p in self.store.papers_for_key(key) if p.source in libraries and p.key == key), None)

    @cached_property
    def names(self) -> PaperNames:
        """Short names of papers in prose (imported when first asked: start-up is for completion)."""
        from papercite.index.names import PaperNames  # deferred for start-up

        return PaperNames(self.store)

    def paper_named(self, text: str, scope: Scope) -> Hit | None:
        """The one paper a title or a pasted reference string names, if it clearly names one."""
        from papercite.index.match import paper_named  # deferred for start-up, as names

        return paper_named(text, self.searcher, prefer=scope.own_sources, within=self.visible_sources(scope))

    def named_at(self, line: str, column: int, scope: Scope) -> NameMatch | None:
        """The one paper whose short name or title the prose around ``column`` of ``line`` gives."""
        return self.names.named_at(line, column, self.visible_sources(scope))

    def cited(self, key: str, scope: Scope) -> Hit | None:
        """The paper a citation of ``key`` resolves to, as LaTeX or pandoc would (own bibliographies
        first), read from the index's stored fields: no record decoded, so every key of a screen
        costs little. An `ids` alias, not in the key field, goes the long way (lookup)."""
        view = self.searcher.view()
        citable = self.citable_sources(scope)
        allowed = view.sources(citable)
        docs = view.docs("key", key)
        docs = docs if allowed is None else docs & allowed
        if not docs:
            paper, _ = self.lookup(key, scope)
            return None if paper is None or paper.source not in citable else Hit(
                key=paper.key, title=paper.title, surnames=[a.surname for a in paper.authors], year=paper.year,
                venue=paper.venue, source=paper.source)
        own = scope.own_sources
        docnum, stored = min(((d, view.stored(d)) for d in docs), key=lambda found: found[1]["source"] not in own)
        return Hit.from_stored(view, docnum, stored)

    def closest_keys(self, key: str, scope: Scope, count: int = 3) -> list[str]:
        """Keys the document sees that are spelt most like ``key`` (a typo, most likely), nearest
        first, none further than a quarter of the key's length. Keys one edit away come from the
        index's key list; when there are none, from searches for ever shorter prefixes of the key
        (a misspelt key mostly shares its start with the right one), in edit distance and then
        search rank order. Kept until the index changes: hovers and quick fixes ask again and
        again about the same few keys."""
        within = self.visible_sources(scope)
        view = self.searcher.view()
        if view is not self._closest_view:  # answers of an older index version
            self._closest, self._closest_view = {}, view
        if (key, within, count) not in self._closest:
            if len(self._closest) >= CLOSEST_KEPT:
                self._closest.pop(next(iter(self._closest)))
            self._closest[(key, within, count)] = self._closest_keys(key, within, count)
        return self._closest[(key, within, count)]

    def _closest_keys(self, key: str, within: frozenset[str], count: int) -> list[str]:
        from papercite.index.match import keys_one_edit_from  # deferred for start-up, as names

        near = keys_one_edit_from(key, self.store, within)
        if near:
            return near[:count]
        hits = []
        for length in range(len(key), MIN_KEY_PREFIX - 1, -1):
            hits = self.searcher.search(key[:length], limit=4 * count, within=within)
            if any(h.key != key for h in hits):
                break
        ranks = {hit.key: rank for rank, hit in reversed(list(enumerate(hits))) if hit.key != key}
        folded, most = key.lower(), max(2, len(key) // 4)
        close = sorted((edit_distance(folded, k.lower()), rank, k) for k, rank in ranks.items())
        return [k for distance, _, k in close if distance <= most][:count]


def edit_distance(a: str, b: str) -> int:
    """Edits (insertion, deletion, substitution, swap of neighbours) turning ``a`` into ``b``."""
    previous2, previous = [], list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]
