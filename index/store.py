"""The on-disk paper index: a Whoosh index plus a small catalogue of the source files it holds.

The index is a cache of the user's library files, never the source of truth: anything unreadable
(corruption, a schema from another version) is thrown away and rebuilt from the files, and said so.

Concurrency: one writer at a time across processes (an fcntl lock around read-catalogue → write
index → commit → write catalogue), readers never take the lock. Searchers are reopened after a
commit, never ``refresh()``ed (whoosh-reloaded 2.7.5 returns deleted documents after a refresh).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import multiprocessing
import os
import pickle
import re
import struct
import subprocess
import sys
import threading
import time
import traceback
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

import platformdirs
from pydantic import BaseModel, Field
from whoosh import index as whoosh_index
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.codec.whoosh3 import W3Codec
from whoosh.formats import Existence
from whoosh.reading import ReaderClosed
from whoosh.system import pack_uint

from papercite.index import readers
from papercite.index.model import Paper, Problem, ReadResult
from papercite.index.text import abstract_words, unique_words, words

SCHEMA_VERSION = 5  # 5: papers know where their key is; problems carry ranges and codes
PREFIX_LENGTHS = (1, 2, 3)  # half-typed words this short are one term lookup, never an expansion
KEY_PREFIX_LENGTHS = range(4, 9)  # key prefixes indexed as terms: typing a key is one look-up a keystroke
INDEX_NAME = "papers"
# The index folder's mark (a cache directory tag: backup tools skip the folder). papercite writes and
# deletes only in a folder that carries it, that it creates, or that holds nothing but its own files.
MARKER = "CACHEDIR.TAG"
MARKER_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
               "# This folder is papercite's index, a cache of your library files: papercite made it and\n"
               "# may empty it. See https://bford.info/cachedir/ about cache directory tags.\n")
# Every name papercite or Whoosh writes in it: the catalogue, the two locks, tables of contents (and
# their temporary copies), segment files; Whoosh's sorting folder. A rebuild deletes these files only.
OWN_FILE = re.compile(rf"catalogue\.(json|tmp)|write\.lock|_{INDEX_NAME}_\d+\.toc(\.[\d.]+)?"
                      rf"|{INDEX_NAME}_[0-9a-z]+\.[A-Za-z0-9_.]+|{INDEX_NAME}_WRITELOCK")
OWN_FOLDER = f"{INDEX_NAME}.tmp"
KEPT = ("write.lock",)  # never deleted: another process may hold it
LOCK_TIMEOUT = 120.0  # seconds a writer waits for another process's writer
BATCH_DOCUMENTS = 20_000  # papers written per commit in big updates
PARALLEL_BYTES = 2_000_000  # updates bigger than this parse in a worker process while writing

# What a damaged index raises when read (measured: truncated .seg -> EOFError, truncated .toc ->
# UnpicklingError, zeroed blocks -> zlib/struct errors, missing toc -> EmptyIndexError, missing
# segment file -> FileNotFoundError). Searches treat only these as damage: a bug must not wipe an index.
DAMAGE_ERRORS = (EOFError, FileNotFoundError, pickle.UnpicklingError, struct.error, zlib.error,
                 whoosh_index.EmptyIndexError)
# Opening reads the table of contents, a pickle of another version's classes: anything it raises
# means this index cannot be used, and it is rebuilt (it is only a cache of the library files).
CORRUPTION_ERRORS = (*DAMAGE_ERRORS, OSError, KeyError, ValueError, IndexError, TypeError, AttributeError)
WHOOSH_CODE = Path(whoosh_index.__file__).parent


def is_damage(err: BaseException) -> bool:
    """Whether a read failed on the index files rather than on a bug of papercite's: one of the
    errors damaged files raise, or any of CORRUPTION_ERRORS raised inside Whoosh's reading code
    (random bytes in a segment make it seek to a negative offset, say)."""
    if isinstance(err, (*DAMAGE_ERRORS, ReaderClosed)):
        return True
    frames = traceback.extract_tb(err.__traceback__)
    return isinstance(err, CORRUPTION_ERRORS) and bool(frames) and Path(frames[-1].filename).is_relative_to(WHOOSH_CODE)


def closed_under(err: BaseException) -> bool:
    """Whether a read failed on a searcher closed while its caller still walked it (hits kept from
    before the index was reopened): the caller's loss, not damage."""
    return isinstance(err, ReaderClosed) or (isinstance(err, ValueError) and "closed file" in str(err))


def default_index_dir() -> Path:
    return Path(platformdirs.user_cache_dir("papercite")) / "index"


class WORDS(KEYWORD):
    """A field indexed from a list of distinct, already-normalised words (`text.unique_words`).

    Whoosh's analyzer chain runs in Python a token at a time; one C regex per text and this
    pass-through make indexing about twice as fast (measured: README, Benchmarks)."""

    def index(self, value, **kwargs):
        encoded = b"" if isinstance(self.format, Existence) else pack_uint(1)
        return [(word.encode("utf-8"), 1, 1.0, encoded) for word in value]


def build_schema() -> Schema:
    return Schema(
        key=ID(stored=True),  # exact, case-sensitive citation key
        keys=KEYWORD(commas=True, lowercase=True, scorable=True),  # key and `ids` aliases, for prefixes
        kpre=WORDS(),  # their KEY_PREFIX_LENGTHS-character prefixes (lower case)
        source=ID(stored=True),
        strong=WORDS(scorable=True),  # title, authors, year, venue, DOI/arXiv words
        weak=WORDS(scorable=True),  # distinctive abstract words not already strong
        pre=WORDS(scorable=True),  # 1-3 character prefixes of title words and surnames
        lead=WORDS(scorable=True),  # the title's first word and first two words: "typed = title start"
        year=STORED(),
        title=STORED(),
        surnames=STORED(),
        tw=STORED(),  # folded title words, space-joined: the re-rank's substring tests
        aw=STORED(),  # folded words of each author's surname
        venue=STORED(),
        # zlib-compressed JSON of the whole Paper, in a column of its own: read only for results
        # shown, never decompressed with the small stored fields the re-rank reads per candidate.
        blob=COLUMN(VarBytesColumn()),
    )


def encode_paper(paper: Paper) -> bytes:
    return zlib.compress(paper.model_dump_json(exclude_defaults=True).encode(), 1)


def decode_paper(blob: bytes) -> Paper:
    return Paper.model_validate_json(zlib.decompress(blob))


def paper_document(paper: Paper) -> dict:
    """The Whoosh document for a paper (every word list computed once: this runs 100k times)."""
    surnames = [a.surname for a in paper.authors if a.surname]
    title_words = words(paper.title)
    surname_words = [words(s) for s in surnames]
    strong = unique_words(" ".join(title_words), " ".join(a.full_name for a in paper.authors),
                          str(paper.year or ""), paper.venue, paper.doi, paper.arxiv)
    prefixes = {w[:n] for w in title_words for n in PREFIX_LENGTHS}
    prefixes.update(w[:n] for ws in surname_words for w in ws for n in PREFIX_LENGTHS)
    doc = dict(
        key=paper.key,
        keys=",".join([paper.key, *paper.ids]),
        kpre=list({k.lower()[:n] for k in (paper.key, *paper.ids) for n in KEY_PREFIX_LENGTHS if len(k) >= n}),
        source=paper.source,
        strong=strong,
        pre=list(prefixes),
        lead=[" ".join(title_words[:n]) for n in (1, 2) if len(title_words) >= n],
        title=paper.title,
        surnames=surnames,
        tw=" ".join(title_words),
        aw=[" ".join(ws) for ws in surname_words],
        venue=paper.venue,
        blob=encode_paper(paper),
    )
    weak = abstract_words(paper.abstract, exclude=set(strong))
    if weak:
        doc["weak"] = weak
    if paper.year is not None:
        doc["year"] = paper.year
    return doc


class SourceRecord(BaseModel):
    """What the catalogue remembers of one indexed file."""

    size: int
    mtime_ns: int
    sha1: str
    papers: int
    encoding: str = "utf-8"
    problems: list[Problem] = Field(default_factory=list)


class Catalogue(BaseModel):
    schema_version: int = 0  # 0: written before the version was recorded (saved files omit defaults)
    sources: dict[str, SourceRecord] = Field(default_factory=dict)


@dataclass
class UpdateReport:
    """What one update did, for the CLI summary and the server's progress messages."""

    indexed: list[str] = field(default_factory=list)  # sources (re)read and written
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    papers: int = 0  # papers written by this update
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0


class Prepared:
    """A source read and turned into Whoosh documents, ready to write (made in a worker process
    for big updates, so parsing one file overlaps with writing the previous one). ``unread``: why
    the file could not be read; then nothing of it is written and its papers stay as they were."""

    def __init__(self, source: str, record: SourceRecord, result: ReadResult, unread: OSError | None = None):
        self.source = source
        self.record = record
        self.unread = unread
        record.papers, record.encoding, record.problems = len(result.papers), result.encoding, result.problems
        self.documents = [paper_document(p) for p in result.papers]


def prepare_file(path: Path, record: SourceRecord) -> Prepared:
    source = str(path)
    try:
        data = readers.read_library(path)
    except OSError as err:
        return Prepared(source, record, ReadResult(), unread=err)
    record.sha1 = record.sha1 or hashlib.sha1(data).hexdigest()
    try:
        result = readers.parse_bytes(data, source)
    except Exception as err:  # a reader bug must cost one file, not the whole update
        result = ReadResult(problems=[Problem(source=source, line=0, message=f"could not be read: {err!r}",
                                              code="unreadable")])
    return Prepared(source, record, result)


def _in_worker(function, calls: list[tuple], ahead: int = 2):
    """Yield function(*call) for each call, computed in one worker process a few calls ahead of
    the consumer (bounded, so a slow writer never piles up parsed libraries in memory)."""
    context = multiprocessing.get_context("spawn")  # fork is unsafe beside the server's threads
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        pending: deque = deque()
        for call in calls:
            pending.append(pool.submit(function, *call))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class IndexUnusable(RuntimeError):
    """The index folder cannot be used as asked; the message says why in one line."""


class IndexLocked(IndexUnusable):
    """Another process held the writer lock for longer than we were willing to wait."""


class ForeignFolder(IndexUnusable):
    """The folder holds files papercite did not write: it is never written to, let alone emptied."""


class ReadOnlyIndex(IndexUnusable):
    """The index folder (or its files) cannot be written: searches work, updates cannot."""


class PrivateStorage(FileStorage):
    """Whoosh's folder storage, with every file it makes owner-only: the index holds the titles,
    paths and abstracts of a user's library."""

    def create_file(self, name, *args, **kwargs):
        file = super().create_file(name, *args, **kwargs)
        os.chmod(self._fpath(name), 0o600)
        return file

    def lock(self, name):
        os.close(os.open(self._fpath(name), os.O_WRONLY | os.O_CREAT, 0o600))
        return super().lock(name)

    def temp_storage(self, name=None):
        storage = super().temp_storage(name)
        os.chmod(storage.folder, 0o700)
        return storage


def own_layout(folder: Path) -> bool:
    """Whether the folder holds only files papercite and Whoosh write (an index made before the
    folder was marked): such a folder is papercite's, and is marked rather than refused."""
    with os.scandir(folder) as entries:
        return all(entry.name == OWN_FOLDER if entry.is_dir() else bool(OWN_FILE.fullmatch(entry.name))
                   for entry in entries)


def make_private(folder: Path) -> None:
    """Take group and other access off the folder and its files (an index made before it was
    owner-only); never adds a permission (a folder made read-only stays read-only)."""
    for path in (folder, *folder.iterdir()):
        try:
            mode = path.stat().st_mode
            if mode & 0o077:
                os.chmod(path, mode & 0o700)
        except OSError:  # not the owner, or a read-only file system: nothing to take away then
            pass


def write_private(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)  # a file left with other permissions keeps them on O_CREAT
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
        handle.write(text)


def writable(folder: Path) -> bool:
    """Whether an update can write here: the folder, and the lock files a writer opens."""
    return os.access(folder, os.W_OK | os.X_OK) and all(
        os.access(folder / name, os.W_OK) for name in ("write.lock", f"{INDEX_NAME}_WRITELOCK")
        if (folder / name).exists())


def fingerprint(path: Path) -> tuple[int, int]:
    """Size and modification time of a regular file (NotReadable for a FIFO, a device...)."""
    st = path.stat()
    readers.check_regular(path, st.st_mode)
    return st.st_size, st.st_mtime_ns


def unread_problem(source: str, err: OSError, kept: SourceRecord | None) -> Problem:
    """What a file that could not be read costs: nothing when it was read before (its papers are
    kept, with a warning: a permission may come back, a deletion is another thing); a file
    papercite declines to read is skipped with a warning; else an error."""
    reason = err.strerror or str(err)
    if kept is not None:
        return Problem(source=source, line=0, severity="warning", code="unreadable",
                       message=f"cannot read: {reason}; its {kept.papers} papers are kept from the last reading")
    if isinstance(err, readers.NotReadable):
        return Problem(source=source, line=0, severity="warning", code="unreadable", message=f"skipped: {reason}")
    return Problem(source=source, line=0, message=f"cannot read: {reason}", code="unreadable")


T = TypeVar("T")
ProgressCallback = Callable[[int, int, str], None]  # (done, total, source)


class PaperStore:
    """Owns one index directory. Thread-safe for one writer thread and many reader threads."""

    def __init__(self, index_dir: Path | None = None):
        self.dir = Path(index_dir) if index_dir else default_index_dir()
        self.notices: list[str] = []  # things the user should hear about (rebuilds)
        self.read_only = False  # the folder cannot be written: searched as it is, never updated
        self.lost: list[str] | None = None  # sources a rebuild threw away, until the caller takes them
        self._write_lock = threading.Lock()
        self._searcher = None
        self._replaced = None  # the searcher before the last change (see searcher())
        self._searcher_lock = threading.Lock()
        self._searcher_files: dict[str, tuple[int, int, int]] = {}  # name -> inode, size, mtime when opened
        self._blobs = None
        self._ix = self._open_or_create()

    # --- opening ---------------------------------------------------------------------------

    @property
    def _catalogue_path(self) -> Path:
        return self.dir / "catalogue.json"

    def _storage(self) -> FileStorage:
        # Without mmap Whoosh does not copy each segment into private memory (350 MB -> 32 MB at 100k).
        return PrivateStorage(str(self.dir), supports_mmap=False, readonly=self.read_only)

    def _claim(self) -> None:
        """Make sure the folder is papercite's before anything is written or deleted in it: a new or
        empty folder is marked, so is one holding an index of an earlier papercite (its own files
        only); any other folder (a workspace, a typo'd path) is refused, untouched."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.read_only = not writable(self.dir)
        marker = self.dir / MARKER
        try:
            if marker.read_text(encoding="utf-8", errors="replace") == MARKER_TEXT:
                return
        except OSError:
            pass
        if not own_layout(self.dir):
            raise ForeignFolder(f"{self.dir} is not papercite's index folder (it holds files papercite did not "
                                f"write, and no papercite {MARKER}); name an empty or new folder")
        if not self.read_only:
            make_private(self.dir)
            write_private(marker, MARKER_TEXT)

    def _open_or_create(self):
        self._claim()
        storage = self._storage()
        problem = None
        try:
            exists = storage.index_exists(INDEX_NAME)  # unpickles the table of contents
        except CORRUPTION_ERRORS as err:
            exists, problem = False, f"is damaged ({type(err).__name__})"
        if exists:
            catalogue = self._read_catalogue()
            if catalogue is None or catalogue.schema_version != SCHEMA_VERSION:
                problem = "was made by another papercite version"
            else:
                try:
                    ix = storage.open_index(INDEX_NAME)
                    ix.searcher().close()  # reads every segment's table of contents
                    return ix
                except CORRUPTION_ERRORS as err:
                    problem = f"is damaged ({type(err).__name__})"
        if self.read_only:
            raise ReadOnlyIndex(f"the index at {self.dir} {problem or 'is not there'}, and the folder is "
                                "read-only: papercite cannot make it")
        if problem:
            self.notices.append(f"The index at {self.dir} {problem}; rebuilt it empty, re-indexing the libraries.")
        return self._create(storage)

    def _create(self, storage: FileStorage):
        with self._process_lock():
            for child in self.dir.iterdir():  # papercite's own files only: never a folder, never a stranger
                if OWN_FILE.fullmatch(child.name) and child.name not in KEPT and not child.is_dir():
                    child.unlink(missing_ok=True)
            ix = storage.create_index(build_schema(), indexname=INDEX_NAME)
            self._write_catalogue(Catalogue(schema_version=SCHEMA_VERSION))
        return ix

    def rebuild(self, reason: str) -> None:
        """Throw the index away (it is only a cache) and start empty; the sources it held wait in
        ``lost`` for the caller to index again."""
        self.lost = [*(self.lost or ()), *self.catalogue().sources]
        self.notices.append(f"The index at {self.dir} {reason}; rebuilt it empty, re-indexing the libraries.")
        self._close_searcher()
        self._ix = self._create(self._storage())

    def read(self, function: Callable[..., T], *args) -> T:
        """function(*args), a read of the index, surviving damaged files: a read that fails on them
        is tried again on the index opened afresh (a searcher may outlive files a commit replaced);
        failing again on the files, not on a searcher closed under the caller, the index is rebuilt
        (said in ``notices``, its sources in ``lost``) and the read answers from the empty index."""
        if (changed := self._changed_file()) and not self.read_only:
            self.rebuild(f"is damaged ({changed} was changed after papercite wrote it)")
            return function(*args)
        try:
            return function(*args)
        except Exception as err:
            if not is_damage(err):
                raise
            self._close_searcher()
        try:
            return function(*args)
        except Exception as err:
            if not is_damage(err) or closed_under(err) or self.read_only:
                raise
            self.rebuild(f"is damaged ({type(err).__name__}: {err})")
        return function(*args)

    # --- catalogue ---------------------------------------------------------------------------

    def _read_catalogue(self) -> Catalogue | None:
        try:
            return Catalogue.model_validate_json(self._catalogue_path.read_bytes())
        except (OSError, ValueError):
            return None

    def _write_catalogue(self, catalogue: Catalogue) -> None:
        tmp = self._catalogue_path.with_suffix(".tmp")
        write_private(tmp, catalogue.model_dump_json(exclude_defaults=True))
        os.replace(tmp, self._catalogue_path)

    def catalogue(self) -> Catalogue:
        return self._read_catalogue() or Catalogue(schema_version=SCHEMA_VERSION)

    # --- writing -----------------------------------------------------------------------------

    @contextmanager
    def _process_lock(self) -> Iterator[None]:
        """The cross-process writer lock; waits (polling) up to LOCK_TIMEOUT for another writer."""
        if self.read_only:
            raise ReadOnlyIndex(f"the index at {self.dir} is read-only: papercite can search it but not update it")
        with self._write_lock, open(os.open(self.dir / "write.lock", os.O_RDWR | os.O_CREAT, 0o600)) as handle:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexLocked(f"another papercite process is writing {self.dir}") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def update(self, paths: Iterable[Path], *, progress: ProgressCallback | None = None,
               force: bool = False) -> UpdateReport:
        """Bring the index in line with these files: unchanged files are skipped, changed ones
        replace their own papers, missing ones are removed; unreadable ones keep theirs, with a
        warning. Only library files are read (`readers.read_library`): no other file is hashed
        or recorded."""
        started = time.perf_counter()
        report = UpdateReport()
        paths = list(dict.fromkeys(Path(p).resolve() for p in paths))  # twice in one writer: indexed twice
        with self._process_lock():
            catalogue = self.catalogue()
            changed: list[tuple[Path, SourceRecord]] = []
            for path in paths:
                source = str(path)
                record = catalogue.sources.get(source)
                try:
                    size, mtime = fingerprint(path)
                    if record is None or force:
                        digest = ""  # read anyway: hashed then, from the same bytes
                    elif (record.size, record.mtime_ns) == (size, mtime):
                        if not os.access(path, os.R_OK):
                            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), source)
                        digest = record.sha1
                    else:  # touched: changed only if its bytes did
                        digest = hashlib.sha1(readers.read_library(path)).hexdigest()
                except (FileNotFoundError, NotADirectoryError):
                    if record is not None:
                        report.removed.append(source)
                    else:
                        report.problems.append(Problem(source=source, line=0, message="file not found",
                                                       code="unreadable"))
                    continue
                except OSError as err:
                    report.problems.append(unread_problem(source, err, record))
                    if record is not None:
                        report.unchanged.append(source)
                    continue
                if record and digest == record.sha1:
                    record.size, record.mtime_ns = size, mtime  # unchanged, or touched only
                    report.unchanged.append(source)
                    report.problems.extend(record.problems)
                    continue
                changed.append((path, SourceRecord(size=size, mtime_ns=mtime, sha1=digest, papers=0)))
            big = len(changed) > 1 and sum(r.size for _, r in changed) > PARALLEL_BYTES
            prepared = _in_worker(prepare_file, changed) if big else (prepare_file(*c) for c in changed)
            self._write(catalogue, prepared, len(changed), report, progress)
        report.seconds = time.perf_counter() - started
        return report

    def update_text(self, source: str, text: str) -> UpdateReport:
        """Index an editor buffer's contents for ``source`` (unsaved .bib edits complete at once)."""
        return self.update_parsed(source, readers.parse_text(text, source))

    def update_parsed(self, source: str, result: ReadResult) -> UpdateReport:
        """Index what was read from an editor buffer for ``source``. The fingerprint is left stale
        so the file on disk is re-read when next seen."""
        started = time.perf_counter()
        report = UpdateReport()
        record = SourceRecord(size=-1, mtime_ns=-1, sha1="", papers=len(result.papers), problems=result.problems)
        with self._process_lock():
            self._write(self.catalogue(), [Prepared(source, record, result)], 1, report, None)
        report.seconds = time.perf_counter() - started
        return report

    def _write(self, catalogue: Catalogue, prepared: Iterable[Prepared], total: int,
               report: UpdateReport, progress: ProgressCallback | None) -> None:
        if not total and not report.removed:
            self._write_catalogue(catalogue)
            return
        writer = self._writer()
        pending = 0  # documents added since the last commit
        try:
            for source in report.removed:
                writer.delete_by_term("source", source)
                catalogue.sources.pop(source, None)
            for done, item in enumerate(prepared):
                if progress:
                    progress(done, total, item.source)
                if item.unread is not None:
                    kept = catalogue.sources.get(item.source)
                    report.problems.append(unread_problem(item.source, item.unread, kept))
                    if kept:
                        report.unchanged.append(item.source)
                    continue
                if item.source in catalogue.sources:
                    writer.delete_by_term("source", item.source)
                for document in item.documents:
                    writer.add_document(**document)
                pending += len(item.documents)
                catalogue.sources[item.source] = item.record
                report.indexed.append(item.source)
                report.papers += item.record.papers
                report.problems.extend(item.record.problems)
                if pending >= BATCH_DOCUMENTS:
                    # Commit in batches: Whoosh sorts a batch in memory instead of spilling runs to
                    # disk and merging them in Python (1.6x faster at 100k papers), and what is
                    # indexed so far becomes searchable, with the catalogue saying so.
                    writer.commit(merge=False)
                    self._write_catalogue(catalogue)
                    writer, pending = self._writer(), 0
            if progress:
                progress(total, total, "")
            writer.commit(merge=report.papers < BATCH_DOCUMENTS)
        except BaseException:
            writer.cancel()
            raise
        self._write_catalogue(catalogue)

    def _writer(self):
        # 384 MB of posting pool holds a 20k-paper batch in memory; a smaller pool spills to disk.
        return self._ix.writer(limitmb=384, codec=W3Codec(compression=0))

    # --- reading -----------------------------------------------------------------------------

    def searcher(self):
        """The shared searcher, reopened when the index changed on disk (a commit by this process or
        another: `up_to_date()` is a cheap check of the latest generation). The one it replaces is
        closed at the next change, not now: hits found on it may still be being read (a completion
        list rendered after a look at the index opened a newer one)."""
        with self._searcher_lock:
            if self._searcher is not None and not self._searcher.up_to_date():
                if self._replaced is not None:
                    self._replaced.close()
                self._replaced, self._searcher = self._searcher, None
            if self._searcher is None:
                self._ix = self._storage().open_index(INDEX_NAME)
                self._searcher = self._ix.searcher()
                self._searcher_files = self._file_signatures()
            return self._searcher

    def _file_signatures(self) -> dict[str, tuple[int, int, int]]:
        """The open generation's files (its table of contents and segments) as they are now."""
        ids = tuple(f"{segment.segment_id()}." for segment in self._ix._segments())
        names = [f"_{INDEX_NAME}_{self._ix.latest_generation()}.toc",
                 *(name for name in os.listdir(self.dir) if name.startswith(ids))]
        signatures = {}
        for name in names:
            try:
                info = os.stat(self.dir / name)
            except OSError:
                continue
            signatures[name] = (info.st_ino, info.st_size, info.st_mtime_ns)
        return signatures

    def _changed_file(self) -> str | None:
        """A file of the open searcher's generation that changed since it was opened, while that
        generation is still the latest. Whoosh never rewrites a file of a generation, so that is
        damage (a zeroed or overwritten segment reads as no matches, without an error); a file
        gone with a newer generation committed is a merge, not damage."""
        with self._searcher_lock:
            if self._searcher is None:
                return None
            for name, signature in self._searcher_files.items():
                try:
                    info = os.stat(self.dir / name)
                    now = (info.st_ino, info.st_size, info.st_mtime_ns)
                except OSError:
                    now = None
                if now != signature:
                    return None if not self._searcher.up_to_date() else name
        return None

    def _close_searcher(self) -> None:
        with self._searcher_lock:
            for searcher in (self._searcher, self._replaced):
                if searcher is not None:
                    searcher.close()
            self._searcher = self._replaced = None

    def papers_for_key(self, key: str) -> list[Paper]:
        """Every paper with this exact key, or with it as an `ids` alias (several files may hold it)."""
        searcher = self.searcher()
        exact = self._papers(searcher, searcher.document_numbers(key=key))
        if exact:
            return exact
        return [p for p in self._papers(searcher, searcher.document_numbers(keys=key.lower())) if key in p.ids]

    def papers_in(self, source: str) -> list[Paper]:
        searcher = self.searcher()
        return self._papers(searcher, searcher.document_numbers(source=source))

    def _papers(self, searcher, docnums) -> list[Paper]:
        docnums = list(docnums)
        if not docnums:  # an index nothing was committed to yet has no column to read
            return []
        blobs = self.blobs(searcher)
        return [decode_paper(blobs[d]) for d in docnums]

    def blobs(self, searcher):
        """The column of paper records for this searcher (opening it reads every document's
        offset, so it is kept until the searcher changes)."""
        if self._blobs is None or self._blobs[0] is not searcher:
            self._blobs = (searcher, searcher.reader().column_reader("blob"))
        return self._blobs[1]

    def count(self) -> int:
        return self.searcher().doc_count()

    def close(self) -> None:
        self._close_searcher()
        self._ix.close()


class IndexingStopped(RuntimeError):
    """The indexing child was ended by `stop_children` (the server is shutting down)."""


_children: set[subprocess.Popen] = set()  # indexing children running now
_children_lock = threading.Lock()
_children_stopped = False
CHILD_STOP_SECONDS = 5.0  # a child that ignores SIGTERM this long is killed
CHILD_FLAGS = ("--force", "--end-with-stdin")


def stop_children() -> None:
    """End every indexing child and start no more: a server that shuts down must not leave one
    running, holding the writer lock, nor wait for it to finish a long first indexing."""
    global _children_stopped
    with _children_lock:
        _children_stopped = True
        running = list(_children)
    for child in running:
        child.terminate()
    for child in running:
        try:
            child.wait(CHILD_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def update_in_child(index_dir: Path, paths: Iterable[Path], progress: ProgressCallback | None = None,
                    force: bool = False) -> UpdateReport:
    """`PaperStore.update` in a child process: a 100k-paper first indexing needs a few hundred MB
    of posting pool and minutes of CPU, neither of which belongs in a language server. The child's
    stdin is a pipe nothing is written to: it closes when this process ends, however it ends, and
    the child then ends too (`child_main`)."""
    # Not `-m papercite.index.store`: run as __main__, the schema it creates would name
    # `__main__.WORDS` and no other process could open the index.
    command = [sys.executable, "-c", "import sys; from papercite.index.store import child_main; sys.exit(child_main())",
               str(index_dir), "--end-with-stdin", *(["--force"] if force else []), *map(str, paths)]
    with _children_lock:
        if _children_stopped:
            raise IndexingStopped("indexing stopped: shutting down")
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        _children.add(child)
    try:
        report = None
        for line in child.stdout:
            message = json.loads(line)
            if "done" in message and progress:
                progress(message["done"], message["total"], message["source"])
            elif "report" in message:
                data = message["report"]
                data["problems"] = [Problem.model_validate(p) for p in data["problems"]]
                report = UpdateReport(**data)
        errors = child.stderr.read()
    finally:
        with _children_lock:
            _children.discard(child)
        for stream in (child.stdin, child.stdout, child.stderr):
            stream.close()
        child.wait()
    if _children_stopped and report is None:
        raise IndexingStopped("indexing stopped: shutting down")
    if child.returncode or report is None:
        raise RuntimeError(f"indexing failed: {errors.strip().splitlines()[-1] if errors.strip() else child.returncode}")
    return report


def child_main(argv: list[str] | None = None) -> int:
    """The child side of `update_in_child`: progress and the report as JSON lines on stdout."""
    argv = sys.argv[1:] if argv is None else argv
    if "--end-with-stdin" in argv:
        _end_with_parent()
    force = "--force" in argv
    index_dir, *paths = [a for a in argv if a not in CHILD_FLAGS]
    store = PaperStore(Path(index_dir))

    def progress(done: int, total: int, source: str) -> None:
        print(json.dumps({"done": done, "total": total, "source": source}), flush=True)

    report = store.update([Path(p) for p in paths], progress=progress, force=force)
    data = asdict(report)
    data["problems"] = [p.model_dump() for p in report.problems]
    print(json.dumps({"report": data}), flush=True)
    return 0


def _end_with_parent() -> None:
    """Exit as soon as stdin (the pipe from `update_in_child`) reaches its end: the process that
    started this one has gone, and an indexer nobody waits for would hold the writer lock."""
    def watch() -> None:
        while os.read(0, 4096):
            pass  # nothing is written; reading on only empties a pipe someone wrote to by mistake
        os._exit(1)

    threading.Thread(target=watch, name="papercite-parent-watch", daemon=True).start()
