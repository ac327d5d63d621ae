"""What every reader shares (papercite.index.readers): decoding, and saying where an encoding went wrong."""

from __future__ import annotations

from pathlib import Path

from papercite.index.readers import parse_bytes, parse_text, read_file

ENTRY = "@article{caf\u00e9,\n  title = {Caf\u00e9 au lait},\n  author = {M\u00fcller, J.}\n}\n"


def test_latin1_bytes_are_read_and_the_first_bad_byte_is_pointed_at() -> None:
    result = parse_bytes(("% ok\n" + ENTRY).encode("latin-1"), "/lib/refs.bib")
    assert result.encoding == "latin-1"
    assert [(p.key, p.title) for p in result.papers] == [("caf\u00e9", "Caf\u00e9 au lait")]
    [problem] = result.problems
    assert (problem.line, problem.column, problem.end_line, problem.end_column) == (1, 12, 1, 13)  # the é of café
    assert (problem.severity, problem.code) == ("warning", "encoding")
    assert problem.message == "not valid UTF-8 (first invalid byte: 0xE9); read as Latin-1"


def test_utf8_with_a_byte_order_mark_is_no_problem() -> None:
    result = parse_bytes(b"\xef\xbb\xbf" + ENTRY.encode("utf-8"), "/lib/refs.bib")
    assert (result.encoding, result.problems) == ("utf-8", [])


def test_replacement_characters_in_a_buffer_are_a_warning() -> None:
    """An editor that opened a Latin-1 file as UTF-8 shows U+FFFD for each lost character: saving
    would keep them lost, so the buffer's diagnostics say so, at the first one."""
    text = ENTRY.encode("latin-1").decode("utf-8", errors="replace")
    for source in ("/lib/refs.bib", "/lib/refs.json"):
        problems = [p for p in parse_text(text, source).problems if p.code == "encoding"]
        assert [(p.line, p.column, p.end_column, p.severity) for p in problems] == [(0, 12, 13, "warning")]
        assert problems[0].message == ("'\ufffd' (U+FFFD) marks a character lost by reading the file with the wrong "
                                       "encoding (2 more in the file); reopen it with its real encoding (Latin-1?) "
                                       "before saving")


def test_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    [problem] = read_file(tmp_path / "gone.bib").problems
    assert (problem.code, problem.message) == ("unreadable", "cannot read: No such file or directory")
