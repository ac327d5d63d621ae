"""LSP positions in the negotiated encoding <-> offsets (code points into a document's text): the
line index (papercite.index.lines) with LSP's types.

pygls recomputes all lines on every conversion; this keeps the line starts of one text version, so
a keystroke in a 300 KB thesis costs a binary search, not a re-split.
"""

from __future__ import annotations

from lsprotocol import types

from papercite.index.lines import LineIndex, chars_in, units_of
from papercite.index.model import Span


class Lines(LineIndex):
    """One version of a document's text, with its line starts, in a position encoding."""

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16):
        super().__init__(text)
        self.encoding = encoding

    def has_line(self, position: types.Position) -> bool:
        """Whether the position's line is in the text: a request for a line past the end asks about
        nothing (clamping it to the end would answer about, and edit, a place the client did not
        name)."""
        return 0 <= position.line < self.line_count

    def offset(self, position: types.Position) -> int:
        """The offset of a client position; absurd positions clamp to the text (never raise)."""
        if position.line < 0:
            return 0
        if position.line >= self.line_count:
            return len(self.text)
        line = self.line_text(position.line)
        return self.starts[position.line] + chars_in(line, max(0, position.character), self.encoding)

    def position(self, offset: int) -> types.Position:
        line, column = self.line_col(offset)
        start = self.starts[line]
        return types.Position(line=line, character=units_of(self.text[start:start + column], self.encoding))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))

    def span_range(self, span: Span) -> types.Range:
        """A reader's span (code points) as an LSP range."""
        return types.Range(start=self._position_at(span.start_line, span.start_col),
                           end=self._position_at(span.end_line, span.end_col))

    def _position_at(self, line: int, column: int) -> types.Position:
        if not 0 <= line < self.line_count:
            return self.position(len(self.text) if line > 0 else 0)
        return types.Position(line=line, character=units_of(self.line_text(line)[:max(column, 0)], self.encoding))
