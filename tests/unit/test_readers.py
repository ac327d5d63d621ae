"""What every reader shares (papercite.index.readers): decoding, and saying where an encoding went wrong."""

from __future__ import annotations

import json
from pathlib import Path

from papercite.index.readers import parse_bytes, parse_text, read_file

ENTRY = "@article{caf\u00e9,\n  title = {Caf\u00e9 au lait},\n  author = {M\u00fcller, J.}\n}\n"


def test_latin1_bytes_are_read_and_the_first_bad_byte_is_pointed_at() -> None:
    result = parse_bytes(("% ok\n" + ENTRY).encode("latin-1"), "/lib/refs.bib")
    assert result.encoding == "cp1252"
    assert [(p.key, p.title) for p in result.papers] == [("caf\u00e9", "Caf\u00e9 au lait")]
    [problem] = result.problems
    assert (problem.line, problem.column, problem.end_line, problem.end_column) == (1, 12, 1, 13)  # the é of café
    assert (problem.severity, problem.code) == ("warning", "encoding")
    assert problem.message == "not valid UTF-8 (first invalid byte: 0xE9); read as Windows-1252 (Latin-1)"


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


CHINESE = """@article{张三2020深度学习,
  author = {张三 and 李四},
  title = {基于深度学习的中文文本分类方法研究},
  journal = {计算机学报},
  year = {2020}
}
@inproceedings{王五2019,
  author = {王五},
  title = {面向知识图谱的实体关系抽取},
  year = {2019}
}
"""


def test_a_gb18030_file_keeps_its_chinese_keys_and_says_which_encoding_was_assumed() -> None:
    """Read as Latin-1, the keys would be mojibake no \\cite{} can type."""
    for codec in ("gb18030", "gbk"):
        result = parse_bytes(CHINESE.encode(codec), "/lib/zh.bib")
        assert result.encoding == "gb18030"
        assert [(p.key, p.title, p.venue) for p in result.papers] == [
            ("张三2020深度学习", "基于深度学习的中文文本分类方法研究", "计算机学报"),
            ("王五2019", "面向知识图谱的实体关系抽取", "")]
        [problem] = result.problems
        assert (problem.line, problem.column, problem.end_column) == (0, 9, 10)  # at 张, in characters
        assert problem.message == "not valid UTF-8 (first invalid byte: 0xD5); read as GB18030"


def test_other_scripts_are_detected_and_latin_text_reads_as_windows_1252() -> None:
    russian = "@book{ivanov, author = {Иванов, Иван}, title = {Методы вычисления физико-химических величин}}\n"
    for codec, expected in (("cp1251", "cp1251"), ("koi8_r", "koi8_r")):
        result = parse_bytes(russian.encode(codec), "/lib/ru.bib")
        assert (result.encoding, result.papers[0].title) == (expected, "Методы вычисления физико-химических величин")
    # the detector calls this German Windows-1250; it is Latin-1, whose smart quotes are Windows-1252's
    german = "@misc{m, author = {Groß, Käthe}, title = {\u201eÜber Bäume\u201c in Österreich}}\n"
    result = parse_bytes(german.encode("cp1252"), "/lib/de.bib")
    assert (result.encoding, result.papers[0].title, result.papers[0].authors[0].family) == (
        "cp1252", "\u201eÜber Bäume\u201c in Österreich", "Groß")


def test_utf16_with_a_byte_order_mark_is_read_and_named() -> None:
    result = parse_bytes(("\ufeff" + CHINESE).encode("utf-16-le"), "/lib/zh.bib")
    assert (result.encoding, [p.key for p in result.papers]) == ("utf-16", ["张三2020深度学习", "王五2019"])
    assert [p.message for p in result.problems] == ["not UTF-8: read as UTF-16 (the file starts with its byte order mark)"]


def test_every_reader_keeps_at_most_so_much_of_a_field() -> None:
    """A field of megabytes (a pasted full text) is cut, the entry said so at its key; the entry's
    text, which cannot be cut and still read back, is not kept; the other entries are whole."""
    abstract = "lorem ipsum dolor sit amet " * 40_000  # 1 MB
    bib = f"@misc{{before, title = {{Before}}}}\n@article{{huge,\n  title = {{{'T' * 10_000}}},\n" \
          f"  abstract = {{{abstract}}},\n  year = 2020\n}}\n@misc{{after, title = {{After}}}}\n"
    items = [{"id": "before", "title": "Before"}, {"id": "huge", "title": "T" * 10_000, "abstract": abstract},
             {"id": "after", "title": "After"}]
    for source, text in (("/lib/refs.bib", bib), ("/lib/refs.json", json.dumps(items, indent=1))):
        result = parse_text(text, source)
        before, huge, after = result.papers
        assert (len(huge.title), len(huge.abstract), huge.raw) == (4096, 32768, ""), source
        assert huge.abstract == abstract[:32768], source
        assert (before.title, after.title) == ("Before", "After") and before.raw and after.raw, source
        [problem] = result.problems
        assert (problem.severity, problem.code, problem.line) == ("warning", "field-too-long", huge.key_span.start_line)
        assert problem.message == ("entry 'huge' is too long to keep whole: title at 4,096 characters; abstract at "
                                   "32,768 characters; its text not kept (over 65,536 characters)"), source
