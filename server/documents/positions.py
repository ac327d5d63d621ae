"""Offsets (code points into a document's text) <-> LSP positions in the negotiated encoding.

pygls recomputes all lines on every conversion; this keeps the line starts of one text version, so
a keystroke in a 300 KB thesis costs a binary search, not a re-split.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from lsprotocol import types

from papercite.index.model import Span

_NEWLINE = re.compile(r"\r\n|\r|\n")


def _units(text: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf32 or text.isascii():
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2  # astral characters take two UTF-16 units


def _chars(line: str, units: int, encoding: str) -> int:
    """How many code points of ``line`` make up ``units`` code units (clamped to the line)."""
    if encoding == types.PositionEncodingKind.Utf32:
        return min(units, len(line))
    count = 0
    for i, ch in enumerate(line):
        if count >= units:
            return i
        count += len(ch.encode("utf-8", "surrogatepass")) if encoding == types.PositionEncodingKind.Utf8 \
            else (2 if ord(ch) > 0xFFFF else 1)
    return len(line)


class Lines:
    """One version of a document's text, with its line starts."""

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16):
        self.text = text
        self.encoding = encoding
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def line_text(self, line: int) -> str:
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def has_line(self, position: types.Position) -> bool:
        """Whether the position's line is in the text: a request for a line past the end asks about
        nothing (clamping it to the end would answer about, and edit, a place the client did not
        name)."""
        return 0 <= position.line < len(self.starts)

    def offset(self, position: types.Position) -> int:
        """The offset of a client position; absurd positions clamp to the text (never raise)."""
        if position.line < 0:
            return 0
        if position.line >= len(self.starts):
            return len(self.text)
        line = self.line_text(position.line)
        return self.starts[position.line] + _chars(line, max(0, position.character), self.encoding)

    def position(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        return types.Position(line=line, character=_units(self.text[start:offset], self.encoding))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))

    def offset_at(self, line: int, column: int) -> int:
        """The offset of a line and column counted in code points, as readers and parsers count
        them (papercite.index.model); clamped to the line and the text."""
        if line >= len(self.starts):
            return len(self.text)
        line = max(line, 0)
        return self.starts[line] + min(max(column, 0), len(self.line_text(line)))

    def span_range(self, span: Span) -> types.Range:
        """A reader's span (code points) as an LSP range."""
        return types.Range(start=self._position_at(span.start_line, span.start_col),
                           end=self._position_at(span.end_line, span.end_col))

    def _position_at(self, line: int, column: int) -> types.Position:
        if not 0 <= line < len(self.starts):
            return self.position(len(self.text) if line > 0 else 0)
        return types.Position(line=line, character=_units(self.line_text(line)[:max(column, 0)], self.encoding))
