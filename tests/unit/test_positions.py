"""Offsets <-> LSP positions in each encoding, with characters that take more than one unit."""

from __future__ import annotations

import pytest
from lsprotocol import types

from papercite.index.model import Span
from papercite.server.documents.positions import Lines

TEXT = "first line\r\n😀 漢字 \\cite{vaswani}\nlast"
KEY = TEXT.index("vaswani")


@pytest.mark.parametrize("encoding, character", [
    (types.PositionEncodingKind.Utf16, 2 + 1 + 2 + 1 + 6),  # the emoji is two UTF-16 units
    (types.PositionEncodingKind.Utf8, 4 + 1 + 6 + 1 + 6),  # four bytes, and three for each CJK character
    (types.PositionEncodingKind.Utf32, 1 + 1 + 2 + 1 + 6),
])
def test_round_trip_through_wide_characters(encoding: str, character: int):
    lines = Lines(TEXT, encoding)
    position = lines.position(KEY)
    assert (position.line, position.character) == (1, character)
    assert lines.offset(position) == KEY
    assert lines.offset(types.Position(line=1, character=0)) == TEXT.index("😀")


def test_absurd_positions_clamp_instead_of_raising():
    lines = Lines(TEXT)
    assert lines.offset(types.Position(line=10**6, character=3)) == len(TEXT)
    assert lines.offset(types.Position(line=0, character=10**6)) == len("first line")
    assert lines.position(10**6) == types.Position(line=2, character=4)


def test_reader_spans_count_code_points():
    """Readers count columns in code points; the range is in the client's units."""
    lines = Lines(TEXT, types.PositionEncodingKind.Utf16)
    column = TEXT.split("\n")[1].index("vaswani")  # 11 code points, 12 UTF-16 units
    span = Span(start_line=1, start_col=column, end_line=1, end_col=column + len("vaswani"))
    assert lines.span_range(span) == types.Range(start=types.Position(line=1, character=12),
                                                 end=types.Position(line=1, character=19))
    assert lines.offset_at(1, column) == KEY
    assert lines.offset_at(0, 99) == len("first line")  # clamped to the line, before its \r\n
    assert lines.offset_at(99, 0) == len(TEXT)
