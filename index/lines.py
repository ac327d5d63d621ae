"""Offsets into a text <-> lines and columns: the one line index readers, bibliographies, the
command line and the server's positions use.

Offsets and columns count code points, as `papercite.index.model` does; `units_of` and
`chars_in` convert a stretch of a line to and from the code units of a position encoding
("utf-8", "utf-16", "utf-32": the values of LSP's PositionEncodingKind). The line starts of
one text are kept, so each conversion is a binary search, not a re-split.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from papercite.index.model import Span

LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""The line ends LSP counts."""
LINE_FEED = re.compile(r"\n")
"""Line feeds only: how bibtexparser's splitter numbers lines (the BibTeX reader agrees with it)."""


def units_of(text: str, encoding: str) -> int:
    """How many code units of ``encoding`` ``text`` takes."""
    if encoding == "utf-32" or text.isascii():
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2  # astral characters take two UTF-16 units


def chars_in(line: str, units: int, encoding: str) -> int:
    """How many code points of ``line`` make up ``units`` code units (clamped to the line)."""
    if encoding == "utf-32":
        return min(units, len(line))
    count = 0
    for i, ch in enumerate(line):
        if count >= units:
            return i
        count += len(ch.encode("utf-8", "surrogatepass")) if encoding == "utf-8" else (2 if ord(ch) > 0xFFFF else 1)
    return len(line)


class LineIndex:
    """One text and where its lines start."""

    def __init__(self, text: str, breaks: re.Pattern[str] = LINE_BREAK):
        self.text = text
        self.starts = [0] + [m.end() for m in breaks.finditer(text)]

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line_text(self, line: int) -> str:
        """The line's text without its line end."""
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def line_col(self, offset: int) -> tuple[int, int]:
        """The line and column (code points) of an offset, clamped to the text."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        return line, offset - self.starts[line]

    def span(self, start: int, end: int) -> Span:
        """The text [start, end) as a reader's span."""
        (start_line, start_col), (end_line, end_col) = self.line_col(start), self.line_col(end)
        return Span(start_line=start_line, start_col=start_col, end_line=end_line, end_col=end_col)

    def offset_at(self, line: int, column: int) -> int:
        """The offset of a line and column (code points); clamped to the line and the text."""
        if line >= len(self.starts):
            return len(self.text)
        line = max(line, 0)
        return self.starts[line] + min(max(column, 0), len(self.line_text(line)))
