"""Readers, one module per library format. Each exposes ``parse(text, source) -> ReadResult``;
this module picks the reader for a path and decodes the bytes."""

from __future__ import annotations

from pathlib import Path

from papercite.index.model import Problem, ReadResult

# Extension -> reader module name (imported lazily: bibtexparser costs ~100 ms to import).
FORMATS = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".json": "csl",
    ".yaml": "csl",
    ".yml": "csl",
    ".txt": "listing",
}


def is_library(path: Path) -> bool:
    return path.suffix.lower() in FORMATS


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else Latin-1, which cannot fail. Returns (text, encoding)."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def parse_text(text: str, source: str, fmt: str | None = None) -> ReadResult:
    """Parse already-decoded text (an editor buffer, say) with the reader for ``source``."""
    import importlib

    fmt = fmt or FORMATS.get(Path(source).suffix.lower())
    if fmt is None:
        return ReadResult(problems=[Problem(source=source, line=0, message=f"unknown library format: {Path(source).suffix or 'no extension'}")])
    module = importlib.import_module(f"papercite.index.readers.{fmt}")
    return module.parse(text, source)


def read_file(path: Path) -> ReadResult:
    """Read a library file from disk. Never raises for bad content or a missing file:
    those come back as problems."""
    try:
        data = path.read_bytes()
    except OSError as err:
        return ReadResult(problems=[Problem(source=str(path), line=0, message=f"cannot read: {err.strerror or err}")])
    return parse_bytes(data, str(path))


def parse_bytes(data: bytes, source: str) -> ReadResult:
    """Decode (saying which encoding was used when it was not UTF-8) and parse a file's bytes."""
    text, encoding = decode(data)
    result = parse_text(text, source)
    result.encoding = encoding
    if encoding != "utf-8":
        result.problems.insert(0, Problem(source=source, line=0, severity="information",
                                          message=f"not valid UTF-8; read as {encoding}"))
    return result
