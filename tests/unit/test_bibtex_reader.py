"""BibTeX / biblatex reader (papercite.index.readers.bibtex): inline cases, then the real corpora."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from papercite.index.model import Author, Paper, Problem, ReadResult, Span
from papercite.index.readers import bibtex, decode, read_file

SOURCE = "/home/ada/refs.bib"


def parse(text: str) -> ReadResult:
    return bibtex.parse(text, SOURCE)


def by_key(result: ReadResult) -> dict[str, Paper]:
    return {paper.key: paper for paper in result.papers}


def offset(text: str, line: int, column: int) -> int:
    line_start = 0
    for _ in range(line):
        line_start = text.index("\n", line_start) + 1
    return line_start + column


def assert_raw_round_trips(text: str, papers: list[Paper]) -> None:
    for paper in papers:
        span = paper.span
        start = offset(text, span.start_line, span.start_col)
        end = offset(text, span.end_line, span.end_col)
        assert text[start:end] == paper.raw, paper.key
        assert paper.raw.startswith("@") and paper.raw[-1] in "})", paper.key


def messages(result: ReadResult) -> list[tuple[int, str, str]]:
    return [(problem.line, problem.severity, problem.message) for problem in result.problems]


def covered(text: str, problem: Problem | Span) -> str:
    """The text a problem's range (or a span) covers."""
    if isinstance(problem, Problem):
        problem = Span(start_line=problem.line, start_col=problem.column,
                       end_line=problem.end_line, end_col=problem.end_column)
    return text[offset(text, problem.start_line, problem.start_col):offset(text, problem.end_line, problem.end_col)]


# --- fields ---


def test_reads_the_fields_of_an_article() -> None:
    text = """@Article{Vaswani2017,
  author = {Vaswani, Ashish and Shazeer, Noam and Parmar, Niki},
  title = {Attention Is All You Need},
  journal = {Advances in Neural Information Processing Systems},
  year = 2017,
  doi = {https://doi.org/10.5555/3295222.3295349},
  url = {https://papers.nips.cc/paper/7181},
  abstract = {The dominant sequence transduction models\\ldots},
}"""
    [paper] = parse(text).papers
    assert paper.key == "Vaswani2017"
    assert paper.entry_type == "article"
    assert paper.title == "Attention Is All You Need"
    assert [a.family for a in paper.authors] == ["Vaswani", "Shazeer", "Parmar"]
    assert paper.short_authors() == "Vaswani et al."
    assert paper.year == 2017
    assert paper.venue == "Advances in Neural Information Processing Systems"
    assert paper.doi == "10.5555/3295222.3295349"
    assert paper.url == "https://papers.nips.cc/paper/7181"
    assert paper.abstract == "The dominant sequence transduction models…"
    assert paper.source == SOURCE
    assert paper.key_generated is False


def test_values_go_through_latex_conversion() -> None:
    [paper] = parse(r"""@article{a, title = {{ZnO} nanowires for $\alpha$-helix {\"u}ber--sensing},
                     author = {M{\"u}ller, J{\"o}rg}, journal = {Phys.~Rev. \& Lett.}}""").papers
    assert paper.title == "ZnO nanowires for α-helix über–sensing"
    assert paper.authors == [Author(family="Müller", given="Jörg")]
    assert paper.venue == "Phys. Rev. & Lett."


@pytest.mark.parametrize(
    ("doi_field", "expected"),
    [("10.1000/xyz", "10.1000/xyz"), ("https://doi.org/10.1000/xyz", "10.1000/xyz"),
     ("http://dx.doi.org/10.1000/xyz", "10.1000/xyz"), ("doi:10.1000/xyz", "10.1000/xyz"),
     (r"10.1000/a\_b", "10.1000/a_b"), ("http://alexandria.tue.nl/a.pdf", "")],
)
def test_doi_is_bare(doi_field: str, expected: str) -> None:
    [paper] = parse(f"@article{{a, doi = {{{doi_field}}}}}").papers
    assert paper.doi == expected


def test_string_macros_and_concatenation() -> None:
    text = """@string{conf = "Proc. of the"}
@STRING{icml = conf # { International Conference on Machine Learning}}
@inproceedings{a, booktitle = icml # ", " # {2019}, title = "Due " # JAN, year = "20" # "19"}"""
    [paper] = parse(text).papers
    assert paper.venue == "Proc. of the International Conference on Machine Learning, 2019"
    assert paper.title == "Due January"  # month macros are predefined, case-insensitively
    assert paper.year == 2019


def test_undefined_macro_shows_its_name_and_is_reported_once() -> None:
    text = "@article{a, journal = IEEE_J_IT}\n@article{b, journal = IEEE_J_IT}"
    result = parse(text)
    assert [p.venue for p in result.papers] == ["IEEE_J_IT", "IEEE_J_IT"]
    assert messages(result) == [(0, "information", "@string 'IEEE_J_IT' is not defined in this file")]


def doubling_macros(levels: int) -> str:
    """`s1 = s0 # s0`, `s2 = s1 # s1`...: a file of a kilobyte asking for 10 * 2**levels characters."""
    return '@string{s0 = "0123456789"}\n' + "".join(
        f"@string{{s{i} = s{i - 1} # s{i - 1}}}\n" for i in range(1, levels + 1))


def test_doubling_string_macros_are_cut_and_the_rest_is_read() -> None:
    text = doubling_macros(40) + """@misc{bomb, title = s40 # s40}
@misc{fine, title = {A fine paper}, year = 2020}
"""
    result = parse(text)
    papers = by_key(result)
    assert list(papers) == ["bomb", "fine"]
    assert len(papers["bomb"].title) <= bibtex.VALUE_LIMIT
    assert (papers["fine"].title, papers["fine"].year) == ("A fine paper", 2020)
    assert messages(result) == [
        (13, "warning", "@string 's13' is longer than 65,536 characters after @string expansion; it is cut there "
                        "(13 more values are cut after it)"),
        (27, "warning", "@string expansion in this file exceeds its budget (1 MB more than the file's own size); "
                        "'s26' and the macros after it are left unexpanded")]
    assert {p.code for p in result.problems} == {"expansion-too-large"}


def test_a_long_macro_used_everywhere_is_expanded_within_the_files_budget() -> None:
    """Each use is under the limit, but they add up: a 60 KB macro in 40 entries would be 2.4 MB."""
    text = "@string{long = {" + "x" * 60_000 + "}}\n" + "".join(
        f"@misc{{e{i}, title = long, year = {2000 + i}}}\n" for i in range(40))
    result = parse(text)
    titles = [p.title for p in result.papers]
    assert len(titles) == 40 and titles[0] == "x" * 60_000
    expanded = sum(title == "x" * 60_000 for title in titles)
    assert titles[expanded:] == ["long"] * (40 - expanded) and 0 < expanded < 40
    assert [p.year for p in result.papers] == list(range(2000, 2040))
    [problem] = result.problems
    assert problem.line == expanded + 1 and "'long' and the macros after it are left unexpanded" in problem.message


def test_biblatex_date_and_journaltitle() -> None:
    text = """@article{a, journaltitle = {Journal of Things}, date = {2017-06}}
@article{b, date = {2017/2018}}
@article{c, date = {../2018}}
@online{d, date = {2021-03-04}, year = {in press}}"""
    papers = by_key(parse(text))
    assert papers["a"].venue == "Journal of Things"
    assert [papers[k].year for k in "abcd"] == [2017, 2017, 2018, 2021]


def test_year_ignores_noopsort_keys() -> None:
    [paper] = parse(r"@book{a, year = {{\noopsort{1973b}}1981}}").papers
    assert paper.year == 1981


@pytest.mark.parametrize(
    ("fields", "arxiv"),
    [("eprint = {1706.03762}, eprinttype = {arxiv}", "1706.03762"),
     ("eprint = {arXiv:1706.03762v5}, archiveprefix = {arXiv}", "1706.03762v5"),
     ("eprint = {hep-th/9603067}, eprinttype = {arXiv}", "hep-th/9603067"),
     ("journal = {arXiv preprint arXiv:1810.04805}", "1810.04805"),
     ("url = {https://arxiv.org/abs/2005.14165}", "2005.14165"),
     ("eprint = {4HIWAAAAYAAJ}, eprinttype = {googlebooks}", "")],
)
def test_arxiv_identifier(fields: str, arxiv: str) -> None:
    [paper] = parse(f"@misc{{a, {fields}}}").papers
    assert paper.arxiv == arxiv


def test_ids_are_aliases() -> None:
    [paper] = parse("@article{main, ids = {old-key, older:key ,}, title = {T}}").papers
    assert paper.ids == ["old-key", "older:key"]


@pytest.mark.parametrize(
    ("entry_type", "fields", "venue"),
    [("inproceedings", "booktitle = {ICML}, publisher = {PMLR}", "ICML"),
     ("phdthesis", "school = {MIT}, publisher = {X}", "MIT"),
     ("techreport", "institution = {IBM}, publisher = {X}", "IBM"),
     ("book", "publisher = {Springer}, booktitle = {X}", "Springer"),
     ("misc", "howpublished = {Blog post}, publisher = {X}", "Blog post"),
     ("article", "journal = {Nature}, publisher = {NPG}", "Nature"),
     ("unknowntype", "school = {ETH}", "ETH")],
)
def test_venue_is_chosen_by_entry_type(entry_type: str, fields: str, venue: str) -> None:
    [paper] = parse(f"@{entry_type}{{a, {fields}}}").papers
    assert paper.venue == venue


def test_title_and_subtitle_are_joined() -> None:
    [paper] = parse("@book{a, title = {The True Frontier}, subtitle = {Confronting Space}}").papers
    assert paper.title == "The True Frontier: Confronting Space"


# --- names ---


def test_names_are_split_into_parts() -> None:
    text = r"""@book{a, author = {van der Meer, Gerard and Donald E. Knuth and Bennett, Jr., Frank G.
    and {World Health Organization} and {Van Dyke}, Dick and Ludwig van Beethoven and others}}"""
    [paper] = parse(text).papers
    assert paper.authors == [
        Author(family="Meer", given="Gerard", particle="van der"),
        Author(family="Knuth", given="Donald E."),
        Author(family="Bennett", given="Frank G.", suffix="Jr."),
        Author(literal="World Health Organization"),
        Author(family="Van Dyke", given="Dick"),  # braces protect a family name; not corporate
        Author(family="Beethoven", given="Ludwig", particle="van"),
    ]  # `and others` is dropped


def test_editors_stand_in_for_missing_authors() -> None:
    [paper] = parse("@collection{a, editor = {Matuz, Roger}, title = {T}}").papers
    assert paper.short_authors() == "Matuz"


# --- crossref and xdata ---


def test_crossref_inherits_missing_fields_and_maps_title_to_booktitle() -> None:
    text = """@inproceedings{paper, title = {A Paper}, author = {Doe, Jane}, crossref = {Proc},
  doi = {10.1/paper}}
@proceedings{proc, title = {Proceedings of Things}, year = 2020, publisher = {ACM},
  doi = {10.1/volume}, url = {https://volume}}"""
    papers = by_key(parse(text))
    paper = papers["paper"]
    assert paper.venue == "Proceedings of Things"  # parent title -> child booktitle (biblatex)
    assert paper.year == 2020
    assert paper.title == "A Paper"
    assert paper.doi == "10.1/paper"
    assert paper.url == ""  # the volume's identifiers are not the paper's
    assert papers["proc"].title == "Proceedings of Things"


def test_crossref_keys_match_case_insensitively() -> None:
    text = "@inproceedings{p, title = {T}, crossref = {icml2020}}\n@proceedings{ICML2020, title = {ICML}}"
    result = parse(text)
    assert by_key(result)["p"].venue == "ICML"
    assert result.problems == []


def test_crossref_prefers_a_booktitle_the_parent_carries() -> None:
    """BibTeX style: the parent proceedings carries `booktitle` for its children."""
    text = """@inproceedings{p, crossref = {c}, title = {T}}
@proceedings{c, title = {Proc. 15th STOC}, booktitle = {Proc. Fifteenth Annual ACM STOC}}"""
    assert by_key(parse(text))["p"].venue == "Proc. Fifteenth Annual ACM STOC"


def test_crossref_chains_and_cycles() -> None:
    text = """@inbook{chapter, title = {Ch}, crossref = {vol}}
@book{vol, title = {Volume One}, crossref = {set}}
@mvbook{set, title = {Collected Works}, author = {Knuth, Donald}, date = {1968}}
@article{loop1, crossref = {loop2}}
@article{loop2, crossref = {loop1}, journal = {J}}"""
    result = parse(text)
    papers = by_key(result)
    assert papers["chapter"].venue == "Volume One"
    assert papers["chapter"].short_authors() == "Knuth"
    assert papers["chapter"].year == 1968
    assert papers["loop1"].venue == "J"
    assert any("leads back to itself" in p.message for p in result.problems)


def test_missing_crossref_parent_is_reported() -> None:
    result = parse("@inproceedings{a,\n  title = {T},\n  crossref = {nowhere}\n}")
    assert [p.title for p in result.papers] == ["T"]
    assert messages(result) == [(2, "warning", "crossref 'nowhere' of 'a' is not in this file")]


def test_xdata_fields_are_inherited_and_xdata_entries_are_not_papers() -> None:
    text = """@xdata{acm, publisher = {ACM}, location = {New York}}
@xdata{year, date = {2019}}
@book{a, title = {T}, xdata = {acm, year}}"""
    [paper] = parse(text).papers
    assert (paper.key, paper.venue, paper.year) == ("a", "ACM", 2019)


# --- file structure ---


def test_comments_preamble_and_parenthesised_entries() -> None:
    text = """Prose before the first entry, with an email a@b.org and {braces}.
@comment{ @article{commented-out, title = {No}} }
@preamble{ "\\newcommand{\\noopsort}[1]{}" }
% a percent comment
@article(paren, title = "In (parentheses)", year = 1999)
Prose between entries.
@Book{braced, title = {Braced}}
"""
    result = parse(text)
    assert [(p.key, p.title) for p in result.papers] == [("paren", "In (parentheses)"), ("braced", "Braced")]
    assert result.problems == []
    assert result.papers[0].raw == '@article(paren, title = "In (parentheses)", year = 1999)'
    assert_raw_round_trips(text, result.papers)


def test_span_points_at_the_entry_not_at_a_copy_in_a_comment() -> None:
    text = "@comment{ @article{a, title = {A}} }\n@article{a, title = {A}}\n"
    [paper] = parse(text).papers
    assert (paper.span.start_line, paper.span.start_col) == (1, 0)
    assert_raw_round_trips(text, [paper])


def test_span_is_exact_and_end_exclusive() -> None:
    text = "% header\n  @article{a,\n  title = {Ünïcödé}\n}  trailing\n@misc{b,}"
    papers = by_key(parse(text))
    span = papers["a"].span
    assert (span.start_line, span.start_col, span.end_line, span.end_col) == (1, 2, 3, 1)
    assert papers["a"].raw == "@article{a,\n  title = {Ünïcödé}\n}"
    assert_raw_round_trips(text, list(papers.values()))


def test_spans_with_windows_line_endings() -> None:
    text = "@article{a,\r\n  title = {A}\r\n}\r\n\r\n@article{b,\r\n  title = {B}\r\n}\r\n"
    papers = parse(text).papers
    assert [(p.span.start_line, p.span.end_line) for p in papers] == [(0, 2), (4, 6)]
    assert_raw_round_trips(text, papers)


def test_only_comment_itself_is_a_comment() -> None:
    """Types that merely start with "comment", "string" or "preamble" are entries like any other."""
    text = """@commentary{ward1998, title = {A Commentary on Romans}, year = 1998}
@Commented{c1, title = {Commented Edition}}
@strings{s1, title = {String Theory}}
@comment{ @article{gone, title = {Gone}} }
"""
    result = parse(text)
    assert [(p.key, p.entry_type, p.title) for p in result.papers] == [
        ("ward1998", "commentary", "A Commentary on Romans"), ("c1", "commented", "Commented Edition"),
        ("s1", "strings", "String Theory")]
    assert result.problems == []
    assert_raw_round_trips(text, result.papers)


def test_percent_comment_lines_between_fields_are_skipped() -> None:
    """As biber and pandoc read them; the entry's text keeps them, and its span is exact. A `%`
    inside a value is text."""
    text = """@article{kept,
  % see the errata, {and} the "preprint"
  title = "100% Kept",
% author = {Nobody, N.},
  % a comment without an equals sign
  author = {Knuth, Donald}, % trailing, with a comma
  url = {https://example.org/a%20b},
  abstract = {Half
% of a line},
  year = 1984
}
@misc{after, title = {After}}
"""
    result = parse(text)
    assert result.problems == []
    kept, after = result.papers
    assert (kept.key, kept.title, kept.authors[0].family, kept.year) == ("kept", "100% Kept", "Knuth", 1984)
    assert (kept.url, kept.abstract) == ("https://example.org/a%20b", "Half % of a line")
    assert (kept.span.start_line, kept.span.end_line, after.span.start_line) == (0, 10, 11)
    assert "% author = {Nobody, N.}," in kept.raw
    assert_raw_round_trips(text, result.papers)


def test_commented_out_entries_are_no_entries_and_no_errors() -> None:
    text = """%@Article{template,
%  author = {},
%  title = {},
%}
% @misc{gone, title = {Gone}}
  %@book{half-commented,
  title = {Left over},
}
@article{real, title = {Real}}
"""
    result = parse(text)
    assert [(p.key, p.span.start_line) for p in result.papers] == [("real", 8)]
    assert result.problems == []
    assert_raw_round_trips(text, result.papers)


# --- problems ---


def test_entry_without_key_is_an_error_and_skipped() -> None:
    text = "@article{good1, title = {One}}\n@article{\n  title = {No key}\n}\n@article{, title = {Empty key}}\n"
    result = parse(text)
    assert [p.key for p in result.papers] == ["good1"]
    assert messages(result) == [(1, "error", "entry without a citation key; it is skipped"),
                                (4, "error", "entry without a citation key; it is skipped")]
    assert [covered(text, p) for p in result.problems] == ["@article{", "@article{"]
    assert {p.code for p in result.problems} == {"missing-key"}


def test_unbalanced_braces_skip_only_the_broken_entry() -> None:
    """The problem covers the entry's head; the brace that swallowed the next field is named and
    pointed at."""
    text = """@article{before, title = {Before}}
@article{broken,
  title = {Never {closed},
  year = 2000
}
@article{after, title = {After}}
"""
    result = parse(text)
    assert [p.key for p in result.papers] == ["before", "after"]
    [problem] = result.problems
    assert (problem.line, problem.column, problem.severity, problem.code) == (1, 0, "error", "syntax-error")
    assert covered(text, problem) == "@article{broken"
    assert problem.message == ("entry 'broken' is not closed before the next entry: the value of 'title' (line 3) "
                               "does not end where it should (an unbalanced '{'?); it is skipped")
    assert problem.related.message == "the '{' opening the value of 'title'"
    assert (problem.related.span.start_line, problem.related.span.start_col) == (2, 10)
    assert covered(text, problem.related.span) == "{"


@pytest.mark.parametrize("text, token, message", [
    ("@article{a title = {x}}", "=", "entry 'a': expected ',' after the key, found '='; it is skipped"),
    ("@article{a,\n  title {x}}", "{", "entry 'a': expected '=' after a field name, found '{'; it is skipped"),
    ("@article{a,\n  title}", "}", "entry 'a': expected '=' and a value after the field name 'title', found '}'; "
                                   "it is skipped"),
    ("@string{jgr {J. Geophys. Res.}}", "{", "@string 'jgr': expected '=' after a field name, found '{'; "
                                              "it is skipped"),
])
def test_syntax_errors_point_at_the_token(text: str, token: str, message: str) -> None:
    [problem] = parse(text + "\n@article{after, title = {After}}\n").problems
    assert (problem.message, problem.code) == (message, "syntax-error")
    assert covered(text, problem) == token
    assert problem.column == text.rindex(token) - text.rfind("\n", 0, text.rindex(token)) - 1


@pytest.mark.parametrize("text, message", [
    ('@article{a, title = {x}, year = "2000}', "entry 'a' is never closed: the value of 'year' (line 1) does not "
                                              "end where it should (an unbalanced '\"'?); it is skipped"),
    ("@article(a, title = {x}", "entry 'a' is never closed (a missing ')'?); it is skipped"),
    ("@article{a, title = {x}\n", "entry 'a' is never closed (a missing '}'?); it is skipped"),
])
def test_unclosed_entries_name_the_likely_cause(text: str, message: str) -> None:
    [problem] = parse(text).problems
    assert problem.message == message
    assert covered(text, problem) == "@article{a" if "{a" in text else "@article(a"


def test_duplicate_key_keeps_the_first_and_points_at_it() -> None:
    """Each duplicate is an error on its key (a citation of it is ambiguous), related to the first
    definition; keys differing in case are different keys."""
    text = "@article{k, title = {First}}\n\n@article{ k , title = {Second}}\n@article{K, title = {Other case}}\n" \
           "@book{k,\n title = {Third}}"
    result = parse(text)
    assert [(p.key, p.title) for p in result.papers] == [("k", "First"), ("K", "Other case")]
    assert messages(result) == [
        (2, "error", "duplicate citation key 'k' (first on line 1); this entry is ignored"),
        (4, "error", "duplicate citation key 'k' (first on line 1); this entry is ignored")]
    for problem in result.problems:
        assert covered(text, problem) == "k" and problem.code == "duplicate-key"
        assert problem.related.message == "first definition of 'k'"
        assert problem.related.span == result.papers[0].key_span
    assert [(p.column, p.end_column) for p in result.problems] == [(10, 11), (6, 7)]


def test_key_spans_cover_the_key() -> None:
    text = "@article{ spaced:key ,\n title = {A}}\n  @book(paren, title = {B})\n@misc{\u00e9t\u00e9,}"
    papers = parse(text).papers
    assert [covered(text, p.key_span) for p in papers] == ["spaced:key", "paren", "\u00e9t\u00e9"]


@pytest.mark.parametrize("second", ["title", "TITLE"])
def test_duplicate_field_keeps_the_first_value_and_warns(second: str) -> None:
    """As BibTeX and biber do: a repeated field is a warning, the entry stays."""
    result = parse(f"@article{{k,\n  title = {{First}},\n  {second} = {{Second}}\n}}")
    assert [p.title for p in result.papers] == ["First"]
    assert messages(result) == [(2, "warning", "duplicate field 'title' in 'k'; the first value is used")]


@pytest.mark.parametrize(
    "garbage",
    ["", "@", "@article", "@article{", "@article{a", "@article{a,", "@article{a, title", "@article{a, title =",
     "@article{a, title = {", '@article{a, title = "x', "@string{", "@string{x = ", "@comment{", "@preamble{",
     "@article(a, title = {x}", "}}}}", "@@@@", "@article{a, title = x # }", "@article{a, = {x}}",
     "\x00\ufeff@article{a,}", "@article{a, crossref = {a}}"],
)
def test_never_raises_on_broken_input(garbage: str) -> None:
    result = parse(garbage)
    assert not any(p.message.startswith("cannot read") for p in result.problems)
    assert_raw_round_trips(garbage, result.papers)


# --- real corpora ---

# Hand-counted (grep -c '^@' minus @string/@comment/@preamble, then reasoned per file):
HAND_COUNTED_PAPERS = {
    # 40 `@` lines: 1 @preamble + 3 @STRING -> 36 entries, no duplicates.
    "bib/xampl.bib": 36,
    # 100 `@` lines: 8 @string -> 92 entries (2 of them @set, which are citable).
    "bib/biblatex-examples.bib": 92,
    # 72 `@` lines, all entries; @IEEEtranBSTCTL{IEEEexample:BSTcontrol} configures the style -> 71.
    "bib/IEEEexample.bib": 71,
    # 512 `@` lines, all entries (types include @web_page): 37 are `@type{,` with no key and
    # 25 repeat an earlier key (Scales2015, Matias2014, Matias2016, Milazzo2017 three times each,
    # 13 others twice) -> 512 - 37 - 25 = 450.
    "bib/bbt-mendeley-export.bib": 450,
    # 54 `@` lines: 1 @preamble -> 53.
    "bib/bbt-name-particles.bib": 53,
    # 6 `@` lines: 1 @preamble -> 5.
    "bib/pybtex-cyrillic.bib": 5,
    "bib/afpsample.latin1.bib": 50,
    "bib/bbt-colon-key.bib": 1,
    # the only entry has no key
    "malformed/bbt-endnote-export-no-key.bib": 0,
    # murdoch:2009 is fine; murdoch:2010 never closes its title brace
    "malformed/r-bibtex-unbalanced_braces.bib": 1,
}


def corpus(corpora: Path, name: str) -> ReadResult:
    return read_file(corpora / name)


def test_every_corpus_file_is_read_without_internal_errors(corpora: Path) -> None:
    files = sorted(corpora.glob("bib/*.bib")) + sorted(corpora.glob("malformed/*.bib"))
    assert {str(path.relative_to(corpora)) for path in files} == set(HAND_COUNTED_PAPERS)
    for path in files:
        result = read_file(path)
        assert not any(p.message.startswith("cannot read") for p in result.problems), path
        assert len(result.papers) == HAND_COUNTED_PAPERS[str(path.relative_to(corpora))], path


def test_raw_round_trips_for_every_entry_of_every_corpus_file(corpora: Path) -> None:
    for path in sorted(corpora.glob("*/*.bib")):
        text, _ = decode(path.read_bytes())
        result = bibtex.parse(text, str(path))
        assert_raw_round_trips(text, result.papers)
        assert all(p.source == str(path) for p in result.papers)


def test_mendeley_export_reports_keyless_and_duplicate_entries(corpora: Path) -> None:
    result = corpus(corpora, "bib/bbt-mendeley-export.bib")
    keyless = [p for p in result.problems if p.code == "missing-key"]
    duplicates = [p for p in result.problems if p.code == "duplicate-key"]
    assert (len(keyless), len(duplicates), len(result.problems)) == (37, 25, 62)
    assert keyless[0].line == 113  # `@article{,` on line 114
    assert duplicates[0].line == 499 and "'Milazzo2017' (first on line 406)" in duplicates[0].message


def test_xampl_crossref_and_strings(corpora: Path) -> None:
    papers = by_key(corpus(corpora, "bib/xampl.bib"))
    # crossref = {WHOLE-JOURNAL} finds @ARTICLE{whole-journal: keys match case-insensitively
    article = papers["article-crossref"]
    assert (article.venue, article.year) == ("G-Animal's Journal", 1986)
    # the parent proceedings carries its own booktitle, built from @string STOC with `#`
    proceedings = papers["inproceedings-crossref"]
    assert proceedings.venue == "Proc. Fifteenth Annual ACM Symposium on the Theory of Computing"
    assert proceedings.year == 1983
    # @book parent -> @inbook child: title becomes booktitle; publisher and author inherited
    inbook = papers["inbook-crossref"]
    assert inbook.venue == "The Art of Computer Programming"
    assert inbook.short_authors() == "Knuth"
    assert papers["book-crossref"].venue == "Addison-Wesley"
    assert papers["inproceedings-minimal"].venue == proceedings.venue
    assert papers["techreport-full"].title == "An O(n log n / loglog n) Sorting Algorithm"
    assert papers["unpublished-full"].authors[0] == Author(family="Ünderwood", given="Ulrich")


def test_biblatex_examples_crossref_date_journaltitle_eprint(corpora: Path) -> None:
    papers = by_key(corpus(corpora, "bib/biblatex-examples.bib"))
    space = papers["westfahl:space"]  # @incollection crossref @collection westfahl:frontier
    assert space.venue == "Space and Beyond"
    assert space.year == 2000
    assert space.title.startswith("The True Frontier: Confronting and Avoiding")
    aksin = papers["aksin"]  # journaltitle = jomch (an @string), date = 2006
    assert (aksin.venue, aksin.year) == ("J. Organomet. Chem.", 2006)
    assert aksin.authors[0] == Author(family="Aksın", given="Özge")
    assert papers["baez/article"].arxiv == "math/0307200v3"
    assert papers["itzhaki"].arxiv == "hep-th/9603067"
    assert papers["kastenholz"].doi == "10.1063/1.2172593"
    assert papers["kastenholz"].title.startswith("Computation of methodology-independent ionic")
    assert papers["set"].entry_type == "set"


def test_latin1_file_is_decoded_and_its_accents_converted(corpora: Path) -> None:
    result = corpus(corpora, "bib/afpsample.latin1.bib")
    assert result.encoding == "cp1252"  # Latin-1 with printable characters where it has control codes
    [problem] = result.problems  # the first byte that is not UTF-8: `copyright = {Copyright \xbf 1963`
    assert (problem.line, problem.column, problem.end_column, problem.severity, problem.code) == (
        50, 28, 29, "warning", "encoding")
    assert problem.message == "not valid UTF-8 (first invalid byte: 0xBF); read as Windows-1252 (Latin-1)"
    papers = by_key(result)
    assert papers["Helanterae06"].title == (
        "The Unity That Does Not Exist—A Review of A. Burt & R. Trivers 2006: Genes in Conflict")
    assert papers["Helanterae06"].authors == [Author(family="Helanterä", given="H.")]
    assert papers["Canals98"].authors[0] == Author(family="Canals", given="José")


def test_cyrillic_names_and_titles(corpora: Path) -> None:
    papers = by_key(corpus(corpora, "bib/pybtex-cyrillic.bib"))
    book = papers["viktorov-metodoj"]
    assert book.title == "Методы вычисления физико-химических величин и прикладные расчёты"
    assert book.authors == [Author(family="Викторов", given="Михаил Маркович")]
    assert book.venue == "Л.: <<Химия>>"
    assert papers["test-booklet"].authors == [Author(family="Last", given="First Middle", particle="de",
                                                     suffix="Jr.")]


def test_name_particles_suffixes_and_corporate_authors(corpora: Path) -> None:
    papers = by_key(corpus(corpora, "bib/bbt-name-particles.bib"))
    assert papers["fixedkey"].authors == [
        Author(family="Humboldt", given="Alexander", particle="von"),
        Author(family="Gooding", given="Cuba", suffix="Jr."),
        # BibTeX's rule: the von part ends at the last lowercase word, so "La" stays in the family
        # name (as for the poet, indexed under "La Fontaine"); the surname shown is the same.
        Author(family="La Fontaine", given="Jean", particle="de"),
        Author(family="Wright", given="Georg Henrik Auto", particle="von"),
        Author(family="von Wright", given="Georg Henrik Explicit"),
    ]
    assert papers["fixedkey"].authors[2].surname == "de La Fontaine"
    assert papers["name_FormattingOfParticles"].authors == [Author(family="Meer", given="Gerard",
                                                                   particle="van der")]
    assert papers["decorations_AndTermUnaffectedByNameDecorations"].authors[0] == Author(
        family="Doe", given="John", suffix="III")
    assert papers["bennett_citations_2013"].authors[0].full_name == "Frank G. Bennett, Jr."
    assert papers["bugreports_DemoPageFullCiteCruftOnSubsequent"].authors == [
        Author(literal="U.S. Bureau of the Census")]
    assert papers["name_MultipleLiteral"].short_authors() == "Alfred Benzon Foundation et al."
    assert papers["name_ParticleCaps3"].authors == [Author(family="Van Dyke", given="Dick")]
    assert papers["bugreports_GreekStyleProblems"].authors == [Author(family="Καρυωτάκης", given="Κώστας")]
    assert papers["sort_LeadingApostropheOnNameParticle"].authors[1].surname == "in 't Horvath"


def test_colon_key(corpora: Path) -> None:
    [paper] = corpus(corpora, "bib/bbt-colon-key.bib").papers
    assert paper.key == "deKort:2007:DigitalGamesSocial"
    assert paper.venue == "Proceedings of the 10th Annual International Workshop on Presence"
    assert paper.year == 2007
    assert paper.doi == ""  # the doi field holds a PDF URL
    assert paper.authors[0] == Author(family="Kort", given="Y.A.W.", particle="de")


def test_ieee_example_prose_and_undefined_strings(corpora: Path) -> None:
    result = corpus(corpora, "bib/IEEEexample.bib")
    papers = by_key(result)
    assert "IEEEexample:BSTcontrol" not in papers
    assert papers["IEEEexample:article_typical"].venue == "IEEE_J_EDL"  # from IEEEabrv.bib, not here
    assert {p.severity for p in result.problems} == {"information"}


def test_malformed_no_key(corpora: Path) -> None:
    result = corpus(corpora, "malformed/bbt-endnote-export-no-key.bib")
    assert result.papers == []
    assert messages(result) == [(1, "error", "entry without a citation key; it is skipped")]
    assert (result.problems[0].column, result.problems[0].end_column) == (1, 10)  # `@article{` after the tab


def test_malformed_unbalanced_braces_keeps_the_first_entry(corpora: Path) -> None:
    result = corpus(corpora, "malformed/r-bibtex-unbalanced_braces.bib")
    [paper] = result.papers
    assert (paper.key, paper.title, paper.year) == ("murdoch:2009", "Parsing Rd files", 2009)
    assert paper.url == "http://developer.r-project.org/parseRd.pdf"
    [problem] = result.problems
    assert (problem.line, problem.column, problem.end_line, problem.end_column) == (8, 0, 8, 18)  # @misc{murdoch:2010
    assert problem.message == ("entry 'murdoch:2010' is never closed: the value of 'title' (line 11) does not end "
                               "where it should (an unbalanced '{'?); it is skipped")
    assert (problem.related.span.start_line, problem.related.span.start_col) == (10, 9)  # title = {"Parsing


def test_random_truncations_of_the_corpora_never_raise(corpora: Path) -> None:
    rng = random.Random(20240611)
    for path in sorted(corpora.glob("*/*.bib")):
        text, _ = decode(path.read_bytes())
        for _ in range(15):
            cut = rng.randrange(len(text))
            for sample in (text[:cut], text[cut:], text[:cut] + text[cut + rng.randrange(1, 80):]):
                result = bibtex.parse(sample, str(path))
                assert not any(p.message.startswith("cannot read") for p in result.problems), (path, cut)
