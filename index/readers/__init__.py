"""Library formats and their readers. This module declares what a reader is (`Reader`,
`KeyedReader`), holds the one table of formats (`FORMATS`: extensions, sniffing, reader) that
picks the reader for a path and decides which files may be read as libraries at all, reads them
without ever blocking, and decodes the bytes. One module per reader: bibtex, csl, listing."""

from __future__ import annotations

import codecs
import errno
import importlib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from papercite.index.lines import LineIndex
from papercite.index.model import Paper, Problem, ReadResult, Span


class Reader(Protocol):
    """What a reader module (bibtex.py, csl.py, listing.py) offers: a library's text read into
    papers and problems, never raising for bad content."""

    def parse(self, text: str, source: str) -> ReadResult: ...


class KeyedReader(Reader, Protocol):
    """A reader of a format whose entries write their key (a listing's keys are generated), so
    that rename can give an entry another one (`rekeyed`)."""

    def written_key(self, raw: str, start: int, end: int, key: str, source: str) -> str | None:
        """How ``key`` is written in place of raw[start:end], an entry's key, in this format;
        None when the format cannot hold it."""
        ...

    def entry_papers(self, raw: str, source: str) -> list[Paper]:
        """The papers of one entry's text read on its own."""
        ...


EntryFormat = Literal["bibtex", "csl-json", "csl-yaml"]


@dataclass(frozen=True)
class Format:
    """A library format: the names its files have, how a file's start shows it is one (`sniff`:
    why it is not, None when it may be), and its reader (a module of this package, imported when
    first used: importing bibtexparser is slow for start-up)."""

    name: str
    extensions: tuple[str, ...]
    reader_module: str
    entry_format: EntryFormat | None  # how its entries are written (None: generated from a Paper)
    sniff: Callable[[str, bool], str | None] | None  # None: the name is enough
    discovered: bool  # found by a workspace walk; else read only when named

    def reader(self) -> Reader:
        return importlib.import_module(f"papercite.index.readers.{self.reader_module}")

    def keyed_reader(self) -> KeyedReader | None:
        """The reader, when entries of this format write their key."""
        return self.reader() if self.entry_format is not None else None


def _csl_json_problem(head: str, empty_ok: bool) -> str | None:
    if empty_ok and _EMPTY.match(head):
        return None
    csl = _CSL_JSON_OBJECT.match(head) or (_CSL_JSON_LIST.match(head) and _CSL_JSON_KEY.search(head))
    return None if csl else "not a CSL-JSON bibliography (no list of items with an \"id\" in its first KB)"


def _csl_yaml_problem(head: str, empty_ok: bool) -> str | None:
    if empty_ok and _EMPTY.match(head):
        return None
    return None if _CSL_YAML.search(head) else "not a CSL-YAML bibliography (no references: or - id: in its first KB)"


def _listing_problem(head: str, empty_ok: bool) -> str | None:
    return None if "\x00" not in head else "not a paper listing (not text)"


_CSL_JSON_LIST = re.compile(r"\A\s*\[\s*\{")
_EMPTY = re.compile(r"\s*(?:\[\s*\]\s*)?\Z")
_CSL_JSON_OBJECT = re.compile(r'\A\s*\{\s*"(?:items|references)"\s*:')
_CSL_JSON_KEY = re.compile(r'"(?:id|type)"\s*:')
_CSL_YAML = re.compile(r"^(?:references\s*:|-\s+id\s*:)", re.M)

FORMATS = (
    Format("BibTeX", (".bib", ".bibtex"), "bibtex", "bibtex", None, discovered=True),
    Format("CSL-JSON", (".json",), "csl", "csl-json", _csl_json_problem, discovered=True),
    Format("CSL-YAML", (".yaml", ".yml"), "csl", "csl-yaml", _csl_yaml_problem, discovered=True),
    Format("paper listing", (".txt",), "listing", None, _listing_problem, discovered=False),
)
"""The one table of library formats: discovery, the `libraries` globs, file watching and the
readers all go by it."""
_BY_EXTENSION = {extension: fmt for fmt in FORMATS for extension in fmt.extensions}
DISCOVERED_EXTENSIONS = tuple(ext for fmt in FORMATS if fmt.discovered for ext in fmt.extensions)


def format_of(path: Path | str) -> Format | None:
    """The library format a file of this name would be in (None: no library's name)."""
    return _BY_EXTENSION.get(os.path.splitext(path)[1].lower())


def entry_format(path: Path) -> EntryFormat | None:
    """How a bibliography file of this name writes its entries (None: a listing, or unknown)."""
    fmt = format_of(path)
    return fmt.entry_format if fmt else None


def is_library(path: Path) -> bool:
    """Whether the name is that of a library format (the content is `library_problem`'s question)."""
    return format_of(path) is not None


LIBRARY_NAMES = ".bib, .json, .yaml, .yml or a .txt paper listing"  # FORMATS as messages name them
MAX_FILE_BYTES = 512 * 2**20  # far above any real library; a bound, so no file is read without end
SNIFF_BYTES = 4096  # what a format sniff reads of a file
_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFDIR: "a folder"}


class NotReadable(OSError):
    """A file papercite refuses to read: not a regular file (reading a FIFO blocks for ever, a
    device may never end), bigger than MAX_FILE_BYTES, or, as a library, of no library format. An
    OSError, so that every caller's handling of unreadable files covers it."""


def _refusal(path: Path, reason: str) -> NotReadable:
    return NotReadable(errno.EINVAL, reason, str(path))


def check_regular(path: Path, mode: int) -> None:
    """NotReadable unless ``mode`` (a stat's) is a regular file's."""
    if not stat.S_ISREG(mode):
        raise _refusal(path, f"not a regular file ({_KINDS.get(stat.S_IFMT(mode), 'a special file')})")


def _open_regular(path: Path) -> int:
    """A read-only descriptor of a regular file. The file is looked at before it is opened (opening
    some devices acts on them) and again after (it may have been replaced in between); opened
    non-blocking, so not even a FIFO put there meanwhile can hold the open up."""
    check_regular(path, os.stat(path).st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        check_regular(path, os.fstat(fd).st_mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, never blocking; NotReadable (an OSError) when it is no regular file
    or holds more than ``limit`` bytes."""
    with os.fdopen(_open_regular(path), "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _refusal(path, f"too big (over {limit // 2**20} MB)")
    return data


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of a regular file, as `read_bytes` reads it."""
    with os.fdopen(_open_regular(path), "rb") as handle:
        return handle.read(size)


def format_problem(path: Path, head: bytes | str, *, empty_ok: bool = True) -> str | None:
    """Why a file of this name that starts so is no library (None: it is one). BibTeX goes by its
    name; names other files share go by their first KB too: CSL-JSON is a list of objects with
    "id" or "type" (or an object holding one under "items"/"references"), CSL-YAML has a top-level
    ``references:`` or a list of items with ``id:``, a listing is text. An empty file or list is a
    library yet to be filled, unless ``empty_ok`` is false (a workspace walk: nothing says it is one)."""
    fmt = format_of(path)
    if fmt is None:
        return f"not a library file ({LIBRARY_NAMES})"
    if fmt.sniff is None:
        return None
    if isinstance(head, bytes):
        head = head[:SNIFF_BYTES].decode("utf-8", "ignore")
    return fmt.sniff(head[:SNIFF_BYTES].lstrip("\ufeff"), empty_ok)


def library_problem(path: Path) -> str | None:
    """Why papercite may not read ``path`` as a library (None: it may): the one test for files
    that come from a setting's glob, a document's declaration or a workspace walk. The name
    first, then a regular file (looked at, never opened blocking), then its first KB when the
    name is not enough (`format_problem`)."""
    fmt = format_of(path)
    if fmt is None:
        return format_problem(path, "")
    try:
        if fmt.sniff is None:
            check_regular(path, os.stat(path).st_mode)
            return None
        return format_problem(path, read_head(path))
    except OSError as err:
        return err.strerror or str(err)


def read_library(path: Path) -> bytes:
    """A library file's bytes (`read_bytes`), NotReadable when they are no library's
    (`format_problem`): checked before anything is kept of them, even a hash."""
    data = read_bytes(path)
    if (problem := format_problem(path, data)) is not None:
        raise _refusal(path, problem)
    return data


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; else the encoding a detector finds, when
    the text it gives is in a script other than Latin (GB18030, Big5, Shift-JIS, Windows-1251...);
    else Windows-1252, or Latin-1, which cannot fail. The detector cannot tell the Latin code pages
    apart (it reads German Latin-1 as Windows-1250, "Groß" but "Núńez"), and Windows-1252 is
    Latin-1 with printable characters where Latin-1 has control codes. Returns (text, encoding)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in (_non_latin_encoding(data), "cp1252"):
        if encoding is not None:
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                pass
    return data.decode("latin-1"), "latin-1"


# What text in a Latin script holds besides letters (charset-normalizer's names of Unicode blocks).
_LATIN_SCRIPT_BLOCKS = frozenset({
    "Control character", "General Punctuation", "Currency Symbols", "Letterlike Symbols", "Number Forms",
    "Mathematical Operators", "Spacing Modifier Letters", "Combining Diacritical Marks", "IPA Extensions",
})
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_DETECTOR_SAMPLE = 64 * 1024
"""Bytes the detector reads: whole lines with non-ASCII bytes, all it needs (its time grows with its
input). Whole lines keep multi-byte characters whole: a line break is one ASCII byte in all of them."""
_DETECTOR_EVIDENCE = 32
"""Non-ASCII bytes below which the detector guesses: it reads a lone Latin-1 "São" as Big5."""


def _non_latin_encoding(data: bytes) -> str | None:
    """The encoding charset-normalizer finds for the file's non-ASCII lines, when the text it gives is
    not in a Latin script; None when it is, or when the file has too few such bytes to tell."""
    import charset_normalizer  # imported here: only files that are not UTF-8 need it

    sample = bytearray()
    at = 0
    while len(sample) < _DETECTOR_SAMPLE and (byte := _NON_ASCII.search(data, at)):
        start = data.rfind(b"\n", 0, byte.start()) + 1
        at = data.find(b"\n", byte.start()) + 1 or len(data)
        sample += data[start:at]
    if len(_NON_ASCII.findall(sample)) < _DETECTOR_EVIDENCE:
        return None
    best = charset_normalizer.from_bytes(bytes(sample)).best()
    if best is None or best.encoding.startswith("utf") \
            or all("Latin" in block or block in _LATIN_SCRIPT_BLOCKS for block in best.alphabets):
        return None  # UTF-16 and UTF-32 are taken from their byte order mark alone
    return best.encoding


_ENCODING_NAMES = {"cp1252": "Windows-1252 (Latin-1)", "latin-1": "Latin-1", "utf-16": "UTF-16"}


def encoding_name(encoding: str) -> str:
    """How a message names a Python codec: "Windows-1252 (Latin-1)", "GB18030", "SHIFT-JIS"."""
    return _ENCODING_NAMES.get(encoding) or encoding.upper().replace("_", "-")


def parse_text(text: str, source: str) -> ReadResult:
    """Parse already-decoded text (an editor buffer, say) with the reader for ``source``."""
    fmt = format_of(source)
    if fmt is None:
        return ReadResult(problems=[Problem(source=source, line=0, message=f"unknown library format: {Path(source).suffix or 'no extension'}")])
    result = fmt.reader().parse(text, source)
    result.problems += [problem for paper in result.papers if (problem := clipped(paper)) is not None]
    if (lost := replacement_characters(text, source)) is not None:
        result.problems.insert(0, lost)
    result.problems.sort(key=lambda p: (p.line, p.column))
    return result


def clipped(paper: Paper) -> Problem | None:
    """Every reader's papers keep at most so much of each field (model.py says how much): the
    warning on the entry whose fields were cut, at its key."""
    cut = paper.clip()
    if not cut:
        return None
    at = paper.key_span or paper.span or Span(start_line=0, start_col=0, end_line=0, end_col=0)
    return Problem(source=paper.source, line=at.start_line, column=at.start_col, end_line=at.end_line,
                   end_column=at.end_col if paper.key_span else at.start_col + 1, severity="warning",
                   code="field-too-long", message=f"entry '{paper.key}' is too long to keep whole: {'; '.join(cut)}")


def read_file(path: Path) -> ReadResult:
    """Read a library file from disk. Never raises for bad content or a missing file:
    those come back as problems."""
    try:
        data = read_bytes(path)
    except OSError as err:
        return ReadResult(problems=[Problem(source=str(path), line=0, message=f"cannot read: {err.strerror or err}",
                                            code="unreadable")])
    return parse_bytes(data, str(path))


def parse_bytes(data: bytes, source: str) -> ReadResult:
    """Decode (saying which encoding was used when it was not UTF-8) and parse a file's bytes."""
    text, encoding = decode(data)
    result = parse_text(text, source)
    result.encoding = encoding
    if encoding != "utf-8":
        result.problems.insert(0, not_utf8(data, encoding, source))
    return result


def not_utf8(data: bytes, encoding: str, source: str) -> Problem:
    """Where a file read in another encoding stops being UTF-8, and which encoding was assumed:
    people fix an encoding one place at a time."""
    name = encoding_name(encoding)
    if encoding == "utf-16":
        return Problem(source=source, line=0, column=0, end_line=0, end_column=1, severity="warning",
                       code="encoding", message="not UTF-8: read as UTF-16 (the file starts with its byte order mark)")
    try:
        data.decode("utf-8")
        at = 0  # not reached: decode() only falls back on invalid UTF-8
    except UnicodeDecodeError as err:
        at = err.start
    line = data.count(b"\n", 0, at)
    line_start = data.rfind(b"\n", 0, at) + 1
    # columns count characters: those of the line before the byte, in the encoding the file was read in
    column = len(data[line_start:at].decode(encoding, errors="ignore"))
    return Problem(source=source, line=line, column=column, end_line=line, end_column=column + 1,
                   severity="warning", code="encoding",
                   message=f"not valid UTF-8 (first invalid byte: 0x{data[at]:02X}); read as {name}")


def replacement_characters(text: str, source: str) -> Problem | None:
    """U+FFFD in a text marks characters lost by an earlier decoding with the wrong encoding (an
    editor opening a Latin-1 file as UTF-8, say): saving the text now keeps them lost."""
    at = text.find("\ufffd")
    if at == -1:
        return None
    line, column = LineIndex(text).line_col(at)
    more = text.count("\ufffd") - 1
    return Problem(source=source, line=line, column=column, end_line=line, end_column=column + 1,
                   severity="warning", code="encoding",
                   message="'\ufffd' (U+FFFD) marks a character lost by reading the file with the wrong encoding"
                           + (f" ({more} more in the file)" if more else "")
                           + "; reopen it with its real encoding (Latin-1?) before saving")


def key_in_raw(paper: Paper) -> tuple[int, int] | None:
    """Where ``paper.raw`` spells the key (its ``key_span``, as offsets into the entry's text);
    None when the key was generated (the entry has none) or the reader could not place it."""
    if paper.key_span is None or paper.span is None:
        return None
    starts = LineIndex(paper.raw).starts

    def offset(line: int, column: int) -> int | None:
        index = line - paper.span.start_line
        if not 0 <= index < len(starts):
            return None
        return starts[index] + column - (paper.span.start_col if index == 0 else 0)

    start, end = offset(paper.key_span.start_line, paper.key_span.start_col), \
        offset(paper.key_span.end_line, paper.key_span.end_col)
    if start is None or not 0 <= start < len(paper.raw):
        return None
    # a YAML block scalar's span ends after its line break, which the entry's text leaves out
    end = len(paper.raw) if end is None else min(end, len(paper.raw))
    return (start, end) if start < end else None


def rekeyed(paper: Paper, key: str) -> tuple[int, int, str] | None:
    """The edit that gives the entry ``key`` for its own: ``[start, end)`` in ``paper.raw`` and the
    text to write there, quoted and escaped as the place requires (CSL); None when the entry has no
    written key or its format cannot hold ``key``: the edited entry, read again on its own, must
    have exactly that key."""
    place = key_in_raw(paper)
    fmt = format_of(paper.source)
    reader = fmt.keyed_reader() if fmt else None
    if place is None or reader is None:
        return None
    start, end = place
    spelled = reader.written_key(paper.raw, start, end, key, paper.source)
    if spelled is None:
        return None
    papers = reader.entry_papers(paper.raw[:start] + spelled + paper.raw[end:], paper.source)
    if len(papers) != 1 or papers[0].key != key or papers[0].key_generated:
        return None
    return start, end, spelled
