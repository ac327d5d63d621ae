"""CSL-JSON and CSL-YAML: real exports, date shapes, exact item positions, and bad input."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from papercite.index.model import Paper, Problem, ReadResult, Span
from papercite.index.readers import read_file
from papercite.index.readers.csl import parse, year_of

EDTF_JSON = "csl/bbt-dates-edtf.json"
CSL_YAML = "csl/bbt-csl-yaml-import.yml"


def text_at(text: str, span: Span) -> str:
    """The text a span covers, counting lines as LSP does."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    return text[starts[span.start_line] + span.start_col:starts[span.end_line] + span.end_col]


def covered(text: str, problem: Problem) -> str:
    return text_at(text, Span(start_line=problem.line, start_col=problem.column, end_line=problem.end_line,
                              end_col=problem.end_column))


def assert_raw_is_where_span_says(text: str, result: ReadResult) -> None:
    for paper in result.papers:
        assert paper.raw and paper.raw == text_at(text, paper.span), paper.key


def read_json(items: object, name: str = "/lib/refs.json") -> ReadResult:
    text = json.dumps(items, indent=2)
    result = parse(text, name)
    assert_raw_is_where_span_says(text, result)
    return result


def only_paper(item: dict) -> Paper:
    (paper,) = read_json([item]).papers
    return paper


@pytest.fixture(scope="module")
def edtf_json(corpora: Path) -> tuple[str, ReadResult]:
    path = corpora / EDTF_JSON
    return path.read_text(encoding="utf-8"), read_file(path)


@pytest.fixture(scope="module")
def csl_yaml(corpora: Path) -> tuple[str, ReadResult]:
    path = corpora / CSL_YAML
    return path.read_text(encoding="utf-8"), read_file(path)


# --- the real files -------------------------------------------------------------------------


def test_real_json_items(edtf_json: tuple[str, ReadResult]) -> None:
    """Hand count: 15 top-level objects, one per "citation-key" line: doe10-doe15 (6), doe7,
    doe8, doe9 (3), t1-t6 (6)."""
    _, result = edtf_json
    assert result.problems == []
    assert [p.key for p in result.papers] == [
        "doe10_edtf_2011", "doe11_edtf_2011", "doe12_edtf_2011", "doe13_season_2017", "doe14_date2010_2010",
        "doe15_multiple_2017", "doe7_politics_1985", "doe8_title_2017", "doe9_edtf_2011",
        "t1", "t2", "t3", "t4", "t5", "t6"]
    by_key = {p.key: p for p in result.papers}
    doe7 = by_key["doe7_politics_1985"]
    assert (doe7.title, doe7.venue, doe7.entry_type, doe7.url) == (
        "The Politics of Film Canons: printemps 1985", "Cinema Journal", "article-journal",
        "http://www.jstor.org/stable/1225428")
    assert doe7.authors[0].family == "Doe7" and doe7.authors[0].given == "John"
    assert by_key["doe14_date2010_2010"].authors[0].literal == "Doe14"
    assert by_key["t1"].entry_type == "manuscript"
    assert not any(p.key_generated for p in result.papers)


@pytest.mark.parametrize(("key", "year"), [
    ("doe10_edtf_2011", 2011),  # date-parts with string years, a circa range
    ("doe13_season_2017", 2017),  # number year plus season
    ("doe14_date2010_2010", 2011),  # the key says 2010; issued says 2011
    ("doe7_politics_1985", 1985),
    ("t2", None),  # event-date and submitted only: no issued date
    ("t3", 2014),  # open-ended range [[2014, 12, 31], [0]]
    ("t5", -334),  # BC
    ("t6", -100),  # BC range
])
def test_real_json_years(edtf_json: tuple[str, ReadResult], key: str, year: int | None) -> None:
    _, result = edtf_json
    assert {p.key: p.year for p in result.papers}[key] == year


def test_edtf_strings_give_the_years_better_bibtex_exported(edtf_json, csl_yaml) -> None:
    """Better BibTeX wrote its test dates twice: as EDTF at the end of the title, as CSL in
    issued. Read as an issued string, each EDTF must give the year exported, including EDTF's
    year zero ("0000" is CSL -1, "-0333" is CSL -334)."""
    edtf_in_title = re.compile(r"(?:^|: )(-?\d{4}[-\d~/?]*)$")
    checked = []
    for paper in edtf_json[1].papers + csl_yaml[1].papers:
        if match := edtf_in_title.search(paper.title):
            assert year_of(match.group(1)) == paper.year, paper.title
            checked.append(paper.key)
    assert checked == [  # 11 of the JSON items, 4 of the YAML ones
        "doe10_edtf_2011", "doe11_edtf_2011", "doe12_edtf_2011", "doe13_season_2017", "doe8_title_2017",
        "doe9_edtf_2011", "t1", "t3", "t4", "t5", "t6",
        "000021000024=00", "001121001222=-11", "001121001222=11", "201121201222=-2011"]


@pytest.mark.parametrize(("issued", "year"), [
    ("2019-06", 2019),
    ("2019~", 2019),
    ("2019?", 2019),
    ("2019/2020", 2019),
    ("[2019-06-24]", 2019),
    ("{2019,2020}", 2019),
    ("2019-06-24T10:00:00Z", 2019),
    ("-0333", -334),
    ("0000", -1),
    ("201X", None),
    ({"raw": "June 24, 2019"}, 2019),
    ({"literal": "13th cent"}, None),
    ({"literal": "2017-14/2017-15"}, 2017),
    ({"date-parts": [["2019", 6]]}, 2019),
    ({"date-parts": [[2019], [2020]]}, 2019),
    ({"date-parts": [[0]]}, None),
    ([{"year": 2016}], 2016),  # pandoc-citeproc YAML
    ([{"year": "-12", "season": 1}, {"year": "-13"}], -12),
    (2019, 2019),
    ({"date-parts": "garbage"}, None),
    ({"date-parts": [[float("nan")]]}, None),
])
def test_date_shapes(issued: object, year: int | None) -> None:
    assert year_of(issued) == year


def test_real_yaml_items(csl_yaml: tuple[str, ReadResult]) -> None:
    """Hand count: 11 entries, one per "- id:" line: six date tests (000021000024=00 ...
    SeasonrangesEDTF=2017), then vogel_cinema_2016, Adams2001, Berndt1994, Dunning2016,
    Wordsworth1883."""
    _, result = csl_yaml
    assert result.problems == []
    assert [p.key for p in result.papers] == [
        "000021000024=00", "001121001222=-11", "001121001222=11", "201121201222=-2011", "monthsoutrange=2017",
        "SeasonrangesEDTF=2017", "vogel_cinema_2016", "Adams2001", "Berndt1994", "Dunning2016", "Wordsworth1883"]
    assert [p.year for p in result.papers] == [-1, -12, 11, -2012, 2017, 2017, 2016, 2014, 1994, 2016, 1883]
    assert [p.entry_type for p in result.papers] == (
        ["webpage"] * 6 + ["book", "article-journal", "article-journal", "book", "book"])


def test_real_yaml_fields(csl_yaml: tuple[str, ReadResult]) -> None:
    _, result = csl_yaml
    by_key = {p.key: p for p in result.papers}
    vogel = by_key["vogel_cinema_2016"]
    assert (vogel.title, vogel.venue, vogel.short_authors()) == ("Le Cinéma, art subversif", "Capricci", "Vogel")
    # The export spells é as "e" + a spacing acute (U+00B4) in the abstract, but not in the title.
    assert vogel.abstract.startswith("Le Cine\u00b4ma, art subversif est un livre culte dans l'histoire")
    assert vogel.abstract.endswith("programmation jusqu'en 1968")
    assert "\n" not in vogel.abstract  # a folded scalar
    adams = by_key["Adams2001"]
    assert adams.title == "The physical volcanology of the 1600 eruption of **Huaynaputina**, southern Peru"
    assert len(adams.authors) == 7 and adams.short_authors() == "Adams et al."
    assert adams.venue == "Bulletin of Volcanology"
    berndt = by_key["Berndt1994"]
    assert (berndt.doi, berndt.url) == ("10.1484/J.SE.2.303788", "http://dx.doi.org/10.1484/J.SE.2.303788")
    dunning = by_key["Dunning2016"]
    assert dunning.title == ("Samuel Presbiter: Notes from the school of William de Montibus. Collecta ex diuersis "
                             "auditis in scola magistri Willelmi de Monte")  # CSL's <span class="nocase"> dropped
    assert dunning.venue == "Toronto Medieval Latin Texts"  # collection-title before publisher
    assert by_key["Wordsworth1883"].short_authors() == "Wordsworth"  # the editor, there being no author


def test_real_files_raw_is_where_span_says(edtf_json, csl_yaml) -> None:
    for text, result in (edtf_json, csl_yaml):
        assert_raw_is_where_span_says(text, result)
    json_text, json_result = edtf_json
    assert json_result.papers[0].span == Span(start_line=1, start_col=2, end_line=27, end_col=3)
    assert json.loads(json_result.papers[-1].raw)["id"] == "t6"
    yaml_text, yaml_result = csl_yaml
    wordsworth = yaml_result.papers[-1]
    assert wordsworth.raw.startswith("- id: Wordsworth1883\n  accessed:")
    assert wordsworth.raw.endswith("  URL: https://archive.org/details/gospelaccording00goog")
    first = yaml_result.papers[0]
    assert first.raw.endswith("  type: webpage")  # the blank line before the next item is not part of it
    assert first.span == Span(start_line=1, start_col=0, end_line=8, end_col=15)


# --- shapes of file ------------------------------------------------------------------------


def test_json_object_with_items_or_references() -> None:
    for holder in ("items", "references"):
        result = read_json({"schema": "x", holder: [{"id": "a"}, {"id": "b"}]})
        assert [p.key for p in result.papers] == ["a", "b"]


def test_yaml_shapes() -> None:
    bare = "- id: a\n  title: First\n- {id: b, title: Second}\n"
    front_matter = ("---\ntitle: 'Draft'\nreferences:\n- id: a\n  title: First\n- id: b\n  title: Second\n---\n\n"
                    "Body text citing [@a; @b].\n\n---\n\n@b says: more\n")
    crlf = "references:\r\n  - id: a\r\n    title: First\r\n\r\n  - id: b\r\n    title: Second\r\n"
    for text in (bare, front_matter, crlf):
        result = parse(text, "/lib/refs.yaml")
        assert result.problems == []
        assert [(p.key, p.title) for p in result.papers] == [("a", "First"), ("b", "Second")]
        assert_raw_is_where_span_says(text, result)
    assert parse(crlf, "/lib/refs.yaml").papers[1].raw == "  - id: b\r\n    title: Second"
    assert parse(bare, "/lib/refs.yaml").papers[1].raw == "- {id: b, title: Second}"


def test_yaml_keeps_scalars_as_written() -> None:
    result = parse("- id: 2019-01-01\n  title: yes\n- id: 0012\n  title: 1.50\n", "/lib/refs.yml")
    assert [(p.key, p.title) for p in result.papers] == [("2019-01-01", "yes"), ("0012", "1.50")]


def test_positions_are_code_points_with_bom_and_astral_characters() -> None:
    text = '\ufeff[{"id": "a", "title": "😀 emoji"},\n   {"id": "é€", "title": "x"}]'
    result = parse(text, "/lib/refs.json")
    assert result.problems == []
    assert [p.key for p in result.papers] == ["a", "é€"]
    assert result.papers[1].span == Span(start_line=1, start_col=3, end_line=1, end_col=29)
    assert_raw_is_where_span_says(text, result)


def test_empty_files_are_empty_libraries() -> None:
    empty = [("", "a.json"), ("  \n", "a.json"), ("[]", "a.json"), ("", "a.yaml"), ("references:\n", "a.yaml")]
    for text, name in empty:
        assert parse(text, name) == ReadResult()


# --- fields -------------------------------------------------------------------------------


def test_name_parts() -> None:
    paper = only_paper({"id": "x", "author": [
        {"family": "Fontaine", "given": "Jean", "dropping-particle": "de", "non-dropping-particle": "La"},
        {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
        {"literal": "World Health Organization"},
        "Plain String Name",
        {"given": ""},  # nothing usable: dropped
    ]})
    fontaine, king, who, plain = paper.authors
    assert (fontaine.particle, fontaine.surname) == ("de La", "de La Fontaine")
    assert fontaine.full_name == "Jean de La Fontaine"
    assert king.full_name == "Martin Luther King, Jr."
    assert who.surname == "World Health Organization"
    assert plain.literal == "Plain String Name"


def test_venue_doi_and_type() -> None:
    paper = only_paper({"id": "x", "type": "paper-conference", "publisher": "ACM",
                        "container-title": "Proceedings of <i>SIGIR</i>", "DOI": "https://doi.org/10.1145/123.456"})
    assert (paper.entry_type, paper.venue, paper.doi) == ("paper-conference", "Proceedings of SIGIR", "10.1145/123.456")
    assert only_paper({"id": "x", "publisher": "ACM", "doi": "doi:10.1/x"}).venue == "ACM"
    assert only_paper({"id": "x", "doi": "doi:10.1/x"}).doi == "10.1/x"  # pandoc writes doi, lower case
    assert only_paper({"id": "x"}).entry_type == "article"


@pytest.mark.parametrize(("fields", "arxiv"), [
    ({"number": "arXiv:2101.00001", "publisher": "arXiv"}, "2101.00001"),
    ({"number": "2101.00001v2", "archive": "arXiv.org"}, "2101.00001"),
    ({"number": "2101.00001", "publisher": "Springer"}, ""),  # a report number, not arXiv's
    ({"URL": "https://arxiv.org/abs/1706.03762v5"}, "1706.03762"),
    ({"URL": "http://arxiv.org/pdf/hep-th/9901001"}, "hep-th/9901001"),
    ({"note": "Published at ICLR.\narXiv: 1810.04805"}, "1810.04805"),
    ({"DOI": "10.48550/arXiv.2005.14165"}, "2005.14165"),
])
def test_arxiv_ids(fields: dict, arxiv: str) -> None:
    assert only_paper({"id": "x", **fields}).arxiv == arxiv


# --- problems -----------------------------------------------------------------------------


def test_missing_id_gets_a_generated_key_and_a_warning() -> None:
    """papercite can complete such an item, but pandoc cannot cite it: a warning on its first line."""
    result = read_json([
        {"id": "vaswani2017attention", "title": "Attention Is All You Need"},
        {"title": "Attention Is All You Need", "author": [{"family": "Vaswani"}], "issued": {"date-parts": [[2017]]}},
        {"citation-key": "kept", "title": "Keyed by citation-key"},
    ])
    assert [(p.key, p.key_generated) for p in result.papers] == [
        ("vaswani2017attention", False), ("vaswani2017attention-2", True), ("kept", False)]
    (note,) = result.problems
    assert (note.severity, note.code, note.line, note.column, note.end_line, note.end_column) == (
        "warning", "missing-key", 5, 2, 5, 3)
    assert note.message == "item without an id: pandoc cannot cite it (papercite calls it 'vaswani2017attention-2')"
    assert result.papers[1].key_span is None


def test_duplicate_ids_are_errors_pointing_at_the_first() -> None:
    text = '[{"id": "a", "title": "One"},\n{"id": "b"},\n{"title": "Two", "id": "a"},\n{"ID": "a"}]'
    result = parse(text, "/lib/refs.json")
    assert [p.title for p in result.papers if p.key == "a"] == ["One", "Two", ""]
    assert [(p.severity, p.code, p.line, p.message) for p in result.problems] == [
        ("error", "duplicate-key", 2, "duplicate id 'a' (first on line 1)"),
        ("error", "duplicate-key", 3, "duplicate id 'a' (first on line 1)")]
    assert [covered(text, p) for p in result.problems] == ["a", "a"]
    assert [(p.column, p.end_column) for p in result.problems] == [(24, 25), (8, 9)]
    for problem in result.problems:
        assert problem.related.span == result.papers[0].key_span
        assert text_at(text, problem.related.span) == "a"
        assert problem.related.message == "first definition of 'a'"


def test_duplicate_ids_in_yaml() -> None:
    text = "references:\n- id: a\n  title: One\n- title: Two\n  id: 'a'\n"
    (problem,) = parse(text, "/lib/refs.yaml").problems
    assert (problem.line, problem.column, problem.end_column, problem.code) == (4, 7, 8, "duplicate-key")
    assert (problem.related.span.start_line, problem.related.span.start_col) == (1, 6)


def test_key_spans_cover_the_key_text() -> None:
    """The key without its quotes; a nested member of the same name is not the key; an escaped key
    is covered with its quotes."""
    text = ('[{"custom": {"id": "inner"}, "id": "outer"},\n {"citation-key": "ck", "title": "x"},\n'
            ' {"id": "e\\u0301t\u00e9"}, {"id": 42}]')
    papers = parse(text, "/lib/refs.json").papers
    assert [p.key for p in papers] == ["outer", "ck", "e\u0301t\u00e9", "42"]
    assert [text_at(text, p.key_span) for p in papers] == ["outer", "ck", '"e\\u0301t\u00e9"', "42"]
    yaml_text = "- id: plain\n- {id: \"flow\", title: x}\n- citation-key: 'ck'\n"
    assert [text_at(yaml_text, p.key_span) for p in parse(yaml_text, "/lib/refs.yaml").papers] == [
        "plain", "flow", "ck"]


def test_items_that_are_not_objects_are_skipped() -> None:
    result = parse('[{"id": "a"}, 42, "text", null, [1], {"id": "b"}]', "/lib/refs.json")
    assert [p.key for p in result.papers] == ["a", "b"]
    assert [p.column for p in result.problems] == [14, 18, 26, 32]
    assert {p.severity for p in result.problems} == {"error"}
    yaml_result = parse("- id: a\n- just text\n-\n- id: b\n", "/lib/refs.yaml")
    assert [p.key for p in yaml_result.papers] == ["a", "b"]
    assert [p.line for p in yaml_result.problems] == [1, 2]


@pytest.mark.parametrize(("text", "name", "line", "column"), [
    ('[{"id": "a", "title": "x"},\n {"id": "b" "title": "y"}]', "refs.json", 1, 12),  # missing comma
    ('[{"id": "a"}\n\n', "refs.json", 2, 0),  # unclosed list
    ('[{"id": "a"}] trailing', "refs.json", 0, 14),
    ('{"id": "a"}', "refs.json", 0, 0),  # one item, not a list
    ("42", "refs.json", 0, 0),
    ("references:\n- id: a\n  title: [unclosed\n- id: b\n", "refs.yaml", 3, 4),
    ("- id: a\n   title: x\n", "refs.yaml", 1, 8),  # bad indentation
    ("title: no references here\n", "refs.yaml", 0, 0),
])
def test_invalid_files_give_one_problem_with_a_position(text: str, name: str, line: int, column: int) -> None:
    result = parse(text, f"/lib/{name}")
    assert result.papers == []
    (problem,) = result.problems
    assert (problem.severity, problem.code, problem.line, problem.column) == ("error", "syntax-error", line, column)
    assert problem.message.startswith("invalid CSL-")


@pytest.mark.parametrize(("text", "name", "token", "message"), [
    ('[{"id": "a", "title": "x"},\n {"id": "b" "title": "y"}]', "refs.json", '"',
     "invalid CSL-JSON: Expecting ',' delimiter"),
    ('[{"id": "a"}] trailing', "refs.json", "trailing", "invalid CSL-JSON: extra data after the end of the document"),
    ('[{"id": "a", "title": nope}]', "refs.json", "nope", "invalid CSL-JSON: Expecting value"),
    ("references:\n- id: a\n  title: [unclosed\n- id: b\n", "refs.yaml", ":", "invalid CSL-YAML: "),  # libyaml's words
])
def test_syntax_errors_cover_the_token(text: str, name: str, token: str, message: str) -> None:
    (problem,) = parse(text, f"/lib/{name}").problems
    assert covered(text, problem) == token
    assert problem.message.startswith(message)


@pytest.mark.parametrize("text", [
    "[" * 100_000,  # deeper than the stack
    "- " * 50_000 + "x",
    "[1" + "0" * 5000 + "]",  # more digits than int() takes
    '[{"id": 1e99999, "issued": {"date-parts": [[NaN]]}}, {"issued": Infinity}]',
    "a: &a [*a]\nreferences: *a\n",  # recursive alias
    "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "references: [{id: q, title: *c, author: *c, issued: *c}, *c]\n",  # billion laughs
    "\x00\x07",
    '[{"id": "x", "author": "not a list", "title": ["a", "list"], "issued": {"date-parts": [[["deep"]]]}}]',
])
@pytest.mark.parametrize("name", ["refs.json", "refs.yaml"])
def test_hostile_input_never_raises(text: str, name: str) -> None:
    assert isinstance(parse(text, f"/lib/{name}"), ReadResult)


def test_damaged_real_files_never_raise(edtf_json, csl_yaml) -> None:
    """Cut, duplicate and delete random stretches of the real files, as an editor mid-edit does."""
    rng = random.Random(20240601)
    for (text, _), name in ((edtf_json, "refs.json"), (csl_yaml, "refs.yaml")):
        for _ in range(150):
            a, b = sorted(rng.randrange(len(text)) for _ in range(2))
            damaged = rng.choice([text[:a] + text[b:], text[:b] + text[a:], text[:a] + text[a:b] * 2 + text[b:]])
            result = parse(damaged, f"/lib/{name}")
            assert_raw_is_where_span_says(damaged, result)
            assert all(p.key for p in result.papers)


def test_a_bom_does_not_cut_the_first_yaml_item():
    """An editor buffer may keep the BOM: the first item still starts at its `-`, after the BOM."""
    text = "\ufeff- id: a\n  title: é\n- id: b\n"
    result = parse(text, "/lib/refs.yaml")
    assert [p.raw for p in result.papers] == ["- id: a\n  title: é", "- id: b"]
    assert result.papers[0].span == Span(start_line=0, start_col=1, end_line=1, end_col=10)
    assert_raw_is_where_span_says(text, result)
