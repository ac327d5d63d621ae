"""Plain paper listings: titles and abstracts told apart by shape, page header dropped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from papercite.index.model import Paper, Span
from papercite.index.readers import parse_text, read_file
from papercite.index.readers.listing import parse

LISTING = "papers/daily-papers-listing.txt"
ABSTRACT = "We study things at length. " * 12  # 324 characters: longer than any title
HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nMar 28\n\n"


def text_at(text: str, span: Span) -> str:
    """The text a span covers, counting lines as LSP does."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    return text[starts[span.start_line] + span.start_col:starts[span.end_line] + span.end_col]


def titles(text: str) -> list[str]:
    return [p.title for p in parse(text, "/lib/list.txt").papers]


@pytest.fixture(scope="module")
def listing(corpora: Path) -> tuple[str, list[Paper]]:
    path = corpora / LISTING
    result = read_file(path)
    assert result.problems == []
    return path.read_text(encoding="utf-8"), result.papers


def test_real_listing_has_96_papers(listing: tuple[str, list[Paper]]) -> None:
    """Hand count: the file has 393 lines, every even-numbered one blank. Of the 197 non-blank
    lines, lines 1-9 are the page header ("new", "Get trending papers in your email inbox!",
    "Subscribe", "byAK and the research community", "Mar 28"); lines 11-393 alternate title (at
    most 123 characters) and abstract (at least 1376): 192 lines, 96 papers, titles on lines
    11, 15, ..., 391."""
    _, papers = listing
    assert len(papers) == 96
    assert papers[0].title == ("LightGen: Efficient Image Generation through Knowledge Distillation "
                               "and Direct Preference Optimization")
    assert papers[0].abstract.startswith("Recent advances in text-to-image generation have primarily relied")
    assert papers[-1].title == ("ConES: Concept Embedding Search for Parameter Efficient Tuning "
                                "Large Vision Language Models")
    assert papers[-1].abstract.startswith("Large pre-trained vision-language models have shown great prominence")
    assert [p.span.start_line for p in papers] == list(range(10, 391, 4))  # 0-based
    assert papers[59].title == "Attention as an RNN"  # line 247: (247 - 11) / 4 = 59


def test_real_listing_drops_the_page_header(listing: tuple[str, list[Paper]]) -> None:
    _, papers = listing
    header = {"new", "Get trending papers in your email inbox!", "Subscribe",
              "byAK and the research community", "Mar 28"}
    assert not header & {p.title for p in papers}
    assert all(len(p.abstract) > 1000 for p in papers)


def test_real_listing_keys(listing: tuple[str, list[Paper]]) -> None:
    _, papers = listing
    keys = [p.key for p in papers]
    assert len(set(keys)) == 96
    assert all(p.key_generated for p in papers)
    assert {"lightgen", "cellm", "llamaadapterv2", "titans", "electra", "tinystories", "cones"} <= set(keys)
    by_title = {p.title: p.key for p in papers}
    assert by_title["Attention as an RNN"] == "attentionrnn"
    assert by_title["Rethinking the Value of Network Pruning"] == "rethinkingvaluenetwork"
    # Two titles start "Exploring Parameter-Efficient Fine-Tuning ...": the later one is suffixed.
    assert keys.index("exploringparameterefficient") < keys.index("exploringparameterefficient-2")


def test_real_listing_spans_cover_title_through_abstract(listing: tuple[str, list[Paper]]) -> None:
    text, papers = listing
    for paper in papers:
        assert paper.raw == text_at(text, paper.span)
        assert paper.raw.startswith(paper.title)
        assert paper.raw.endswith(paper.abstract[-40:])
        assert paper.span.end_line == paper.span.start_line + 2
        assert paper.entry_type == "misc"
        assert paper.source.endswith(LISTING)
        assert (paper.authors, paper.year) == ([], None)


def test_txt_files_are_read_as_listings() -> None:
    result = parse_text(f"Titans: Learning to Memorize\n\n{ABSTRACT}\n", "/lib/new.txt")
    assert [p.key for p in result.papers] == ["titans"]


def test_windows_newlines_and_trailing_whitespace() -> None:
    text = (f"Subscribe  \r\n\r\n  LightGen: Efficient Image Generation \t\r\n\r\n{ABSTRACT}  \r\n\r\n"
            f"Titans: Memory\r\n{ABSTRACT}\r\n")
    papers = parse(text, "/lib/list.txt").papers
    assert [p.title for p in papers] == ["LightGen: Efficient Image Generation", "Titans: Memory"]
    assert papers[0].abstract == ABSTRACT.strip()
    assert papers[0].span == Span(start_line=2, start_col=2, end_line=4, end_col=len(ABSTRACT.strip()))
    for paper in papers:
        assert paper.raw == text_at(text, paper.span)
    assert papers[0].raw.startswith("LightGen") and "\r\n\r\n" in papers[0].raw


def test_without_blank_lines() -> None:
    text = f"new\nSubscribe\nMar 28\nLightGen: One\n{ABSTRACT}\nTitans: Two\n{ABSTRACT}\nCELLM: Three\n{ABSTRACT}"
    papers = parse(text, "/lib/list.txt").papers
    assert [p.key for p in papers] == ["lightgen", "titans", "cellm"]
    assert all(p.abstract == ABSTRACT.strip() for p in papers)
    assert [p.span.start_line for p in papers] == [3, 5, 7]


def test_titles_without_an_abstract_after_the_header_are_kept() -> None:
    text = f"{HEADER}LightGen: One\n\n{ABSTRACT}\n\nLost Title\n\nTitans: Two\n\n{ABSTRACT}\n\nLast Title Alone\n"
    papers = parse(text, "/lib/list.txt").papers
    assert [(p.title, bool(p.abstract)) for p in papers] == [
        ("LightGen: One", True), ("Lost Title", False), ("Titans: Two", True), ("Last Title Alone", False)]
    assert papers[1].raw == "Lost Title"
    assert papers[3].span == Span(start_line=18, start_col=0, end_line=18, end_col=16)


def test_a_bare_list_of_titles_keeps_every_line() -> None:
    assert titles("Attention Is All You Need\nTitans: Memory\n\nSymbolic Discovery of Optimization Algorithms\n") == [
        "Attention Is All You Need", "Titans: Memory", "Symbolic Discovery of Optimization Algorithms"]


def test_hard_wrapped_abstracts() -> None:
    wrapped = "We study things at length, over\nseveral short lines that a text\neditor wrapped for us."
    after_blank = parse(f"{HEADER}LightGen: One\n\n{wrapped}\n\nTitans: Two\n\n{wrapped}\n", "/l.txt").papers
    under_title = parse(f"LightGen: One\n{wrapped}\n\nTitans: Two\n{wrapped}\n", "/l.txt").papers
    for papers in (after_blank, under_title):
        assert [p.title for p in papers] == ["LightGen: One", "Titans: Two"]
        assert papers[0].abstract == " ".join(wrapped.split("\n"))


def test_empty_and_blank_input() -> None:
    assert titles("") == []
    assert titles(" \n\r\n\t\n") == []
