"""Pandoc Markdown citations: finding them, the completion context at the cursor, the key under
it."""

from __future__ import annotations


import pytest

from papercite.server.documents.citations import CompletionContext, KeyRef, syntax_for
from papercite.server.documents.citations.markdown import completion_context, find_citations, key_at

from cursor import check_context, split  # noqa: E402


def keys(text: str) -> list[list[str]]:
    return [[ref.key for ref in citation.keys] for citation in find_citations(text)]


def context(marked: str) -> CompletionContext | None:
    """The completion context where `|` marks the cursor (the bar is removed from the text)."""
    return completion_context(*split(marked))


def at(marked: str) -> KeyRef | None:
    return key_at(*split(marked))


# --- syntax_for ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language_id", ["markdown", "quarto", "rmd", "rmarkdown", "pandoc", "mdx", "Markdown"]
)
def test_markdown_language_ids(language_id: str) -> None:
    assert syntax_for(language_id, "/a/paper.tex") == "markdown"


@pytest.mark.parametrize(
    "path", ["/a/notes.md", "/a/x.markdown", "/a/report.qmd", "/a/analysis.Rmd", "/a/b.rmd"]
)
def test_markdown_extensions_when_the_language_id_is_unknown(path: str) -> None:
    assert syntax_for("plaintext", path) == "markdown"


def test_bibliographies_cite_nothing() -> None:
    assert syntax_for("bibtex", "/a/refs.bib") is None


# --- find_citations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("As @smith04 says.", [["smith04"]]),
        ("Blah [@a; @b, p. 4].", [["a", "b"]]),
        ("Smith says [-@a].", [["a"]]),
        ("Blah [see @a, pp. 33-35; also @b, chap. 1].", [["a", "b"]]),
        ("@a [p. 30] says.", [["a"]]),
        ("@a [-@b p. 30; see also @c] says.", [["a", "b", "c"]]),
        ("@a\n[-@b p. 30] says.", [["a", "b"]]),
        (
            "See @{key with.odd:chars} and @{https://x.org/?q=1&r=2}.",
            [["key with.odd:chars"], ["https://x.org/?q=1&r=2"]],
        ),
        (
            "As @ghost2019. And @smith: yes; @a--b, @doe_j.",
            [["ghost2019"], ["smith"], ["a"], ["doe_j"]],
        ),
        (
            "@doi:10.1000/x.y-z @_under @2019report @http://x.org/a",
            [["doi:10.1000/x.y-z"], ["_under"], ["2019report"], ["http://x.org/a"]],
        ),
        ("Как писал @Иванов2020, [см. @пункт3].", [["Иванов2020"], ["пункт3"]]),
        ("(@a) and *@b* and **[@c]**", [["a"], ["b"], ["c"]]),
        ("@http://, as pandoc reads it", [["http:/"]]),  # `:/` goes on while a `/` follows
        ("A note.^[See @a, p. 3.]", [["a"]]),
        ("[^1]: @a [p. 12] and [@b].", [["a"], ["b"]]),
        (
            "See @fig-plot, [@tbl-x; @a] and @sec:intro, but @figaro2019 and @{fig-x}.",
            [["a"], ["figaro2019"], ["fig-x"]],
        ),
    ],
)
def test_citations(text: str, expected: list[list[str]]) -> None:
    assert keys(text) == expected


def test_key_offsets_and_citation_spans() -> None:
    text = "x [see @a, p. 4; @{b c}] and @d [p. 5]."
    first, second = find_citations(text)
    assert text[first.start : first.end] == "[see @a, p. 4; @{b c}]"
    assert [(ref.key, text[ref.start : ref.end]) for ref in first.keys] == [
        ("a", "a"),
        ("b c", "b c"),
    ]
    assert text[second.start : second.end] == "@d [p. 5]"
    assert second.command == "@"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("A note.^[See @a, p. 3.]", "@a"),  # a note, not a bracketed citation
        ("As @a [^1] says", "@a"),  # a footnote reference, not a locator
        ("As @a [p. 3](http://x.org) says", "@a"),  # a link, not a locator
        ("As @a\n  [p. 3] says", "@a\n  [p. 3]"),
    ],
)
def test_what_belongs_to_an_in_text_citation(text: str, span: str) -> None:
    [citation] = find_citations(text)
    assert text[citation.start : citation.end] == span


def test_an_email_address_does_not_start_a_citation() -> None:
    text = "mail john@host [@a] or @b [see](http://x.org)"
    assert [text[c.start : c.end] for c in find_citations(text)] == ["[@a]", "@b"]


@pytest.mark.parametrize(
    "text",
    [
        "Mail john@example.com or x.y@z.org.",
        "An escaped \\@a is no citation.",
        "Inline `x @a` and ``a ` @b`` code.",
        "```python\nprint(@a)\n```",
        "~~~ {.haskell}\n@a\n~~~~",
        "````\n```\n@a\n````",
        "Para.\n\n    indented @a code\n\n    more @b",
        "<!-- @a hidden\n@b -->",
        "https://medium.com/@user and <https://x.org/@y>",
        "[a link](https://x.org/@a) and [no key]",
        "```\n@a never closed\n\n@b",
    ],
)
def test_text_pandoc_does_not_read_as_citations(text: str) -> None:
    assert keys(text) == []


def test_after_code_the_text_cites_again() -> None:
    text = "`@a` @b\n\n```\n@c\n```\n@d\n\n    @e\n\n@f <!-- @g --> @h"
    assert keys(text) == [["b"], ["d"], ["f"], ["h"]]


def test_yaml_front_matter_only_at_the_top() -> None:
    text = "---\ntitle: '@notakey'\nauthor: me@x.org\n...\n\nText @a.\n---\n@b\n---\n"
    assert keys(text) == [["a"], ["b"]]


def test_a_fence_on_the_first_line() -> None:
    assert keys("```\n@a\n```\n@b") == [["b"]]


def test_indented_lines_in_a_list_are_text_not_code() -> None:
    text = "-   item one\n\n    goes on [@a]\n\n1.  item\n\n    more @b\n\nPara.\n\n    code @c"
    assert keys(text) == [["a"], ["b"]]


def test_pandoc_citations_draft(corpora) -> None:
    text = (corpora / "drafts" / "pandoc-markdown-citations.md").read_text(encoding="utf-8")
    found = [
        (text.count("\n", 0, c.start) + 1, [r.key for r in c.keys]) for c in find_citations(text)
    ]
    assert found == [
        (4, ["nonexistent"]),
        (6, ["nonexistent"]),
        (8, ["item1"]),
        (10, ["item1"]),  # @item1 [p. 30]: the locator belongs to the in-text citation
        (12, ["item1"]),
        (14, ["item1", "item2", "пункт3"]),  # @item1 [-@item2 p. 30; see also @пункт3]: one group
        (18, ["item1", "пункт3"]),
        (20, ["item1"]),
        (24, ["item1"]),
        (26, ["item1"]),
        (30, ["item1"]),  # [*see* @item1 p. **32**]
        (35, ["пункт3"]),  # footnote [^1]: @пункт3 [p. 12] ...
        (35, ["пункт3"]),  # ... and [@пункт3]
        (37, ["item1", "пункт3", "item2"]),
        (39, ["item1"]),
        (39, ["item2"]),
    ]
    in_note = [text[c.start : c.end] for c in find_citations(text) if c.start > text.index("[^1]:")]
    assert in_note[:2] == ["@пункт3 [p. 12]", "[@пункт3]"]


# --- completion_context ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marked", "query", "existing"),
    [
        ("As @|", "", ""),
        ("@|", "", ""),
        ("As @vas|", "vas", "vas"),
        ("[@vas|", "vas", "vas"),
        ("[see @vas|]", "vas", "vas"),
        ("[@vaswani 2017|", "vaswani 2017", "vaswani 2017"),
        ("[@vaswani 2017|]", "vaswani 2017", "vaswani 2017"),
        ("[@a; @|", "", ""),
        ("[@a; @|]", "", ""),
        ("[-@vas|", "vas", "vas"),
        ("[@vas|wani2017; @b]", "vas", "vaswani2017"),
        ("As @vas|wani2017, shown", "vas", "vaswani2017"),
        ("As @vas|wani2017. Then", "vas", "vaswani2017"),
        ("@{so|", "so", "so"),
        ("@{so|me key} x", "so", "some key"),
        ("@item1 [-@ite|", "ite", "ite"),
        ("[see @a;\n@vaswani 2017|", "vaswani 2017", "vaswani 2017"),
        ("[@пун|", "пун", "пун"),
        ("A note.^[See @vas|", "vas", "vas"),
        ("@doi:10.1/x|", "doi:10.1/x", "doi:10.1/x"),
        ("@fig|", "fig", "fig"),
    ],
)
def test_completion_context(marked: str, query: str, existing: str) -> None:
    check_context(context(marked), marked, query, existing)


@pytest.mark.parametrize(
    "marked",
    [
        "plain text|",
        "As @vaswani 2017|",
        "[@vaswani 2017, p|",
        "[@a; |",
        "[@a]|",
        "@a [p. 30|]",
        "A note.^[See @vaswani 2017|",
        "mail john@ex|",
        "\\@a|",
        "`code @a|`",
        "```\n@a|\n```",
        "```\n@a|",
        "<!-- @a| -->",
        "---\nauthor: @a|\n---\n",
        "see https://medium.com/@us|",
        "@{some key}|",
        "See @fig-|",
        "[@sec:intro|",
    ],
)
def test_no_completion_context(marked: str) -> None:
    assert context(marked) is None


# --- key_at ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "marked", ["[see @a; @|vaswani2017]", "[see @a; @vas|wani2017]", "[see @a; @vaswani2017|]"]
)
def test_key_at_start_inside_and_end(marked: str) -> None:
    assert at(marked) == KeyRef("vaswani2017", 10, 21)


def test_key_at_braced_and_in_text() -> None:
    assert at("x @{a b|} y") == KeyRef("a b", 4, 7)
    assert at("As @sm|ith says") == KeyRef("smith", 4, 9)


@pytest.mark.parametrize("marked", ["john@exa|mple.com", "`@a|`", "[see| @a]", "@a [p.| 5]"])
def test_no_key_at(marked: str) -> None:
    assert at(marked) is None


# --- cost ------------------------------------------------------------------------------------


def _thesis(citations: int) -> str:
    paragraph = (
        "Work on *sparse* attention `x@y` gains, see [@vaswani2017, p. %d; -@key%d] "
        "or mail john@example.com, [a link](http://x.y/@z).\n\n"
    )
    return "".join(paragraph % (i, i) for i in range(citations))


def test_finding_2000_citations() -> None:
    text = _thesis(2000)
    assert len(find_citations(text)) == 2000


def test_completion_in_a_long_document() -> None:
    text = _thesis(20_000)  # 2.7 MB: a whole-document scan takes > 100 ms
    offset = text.index("@key10000]") + 4
    assert completion_context(text, offset) == CompletionContext(
        "key", offset - 3, offset + 5, "key10000"
    )
