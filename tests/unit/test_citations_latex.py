"""LaTeX citations: finding them, the completion context at the cursor, the key under it."""

from __future__ import annotations


import pytest

from papercite.server.documents.citations import CompletionContext, KeyRef, syntax_for
from papercite.server.documents.citations.latex import completion_context, find_citations, key_at

from cursor import CURSOR, check_context, split  # noqa: E402


def keys(text: str, extra: tuple[str, ...] = ()) -> list[list[str]]:
    return [[ref.key for ref in citation.keys] for citation in find_citations(text, extra)]


def context(marked: str, extra: tuple[str, ...] = ()) -> CompletionContext | None:
    """The completion context where `|` marks the cursor (the bar is removed from the text)."""
    return completion_context(*split(marked), extra)


def at(marked: str) -> KeyRef | None:
    return key_at(*split(marked))


# --- syntax_for ------------------------------------------------------------------------------


@pytest.mark.parametrize("language_id", ["latex", "tex", "plaintex", "LaTeX"])
def test_latex_language_ids(language_id: str) -> None:
    assert syntax_for(language_id, "/notes/readme.md") == "latex"


@pytest.mark.parametrize("path", ["/a/thesis.tex", "/a/B.LTX", "/a/x.latex", "/a/analysis.Rnw"])
def test_latex_extensions_when_the_language_id_is_unknown(path: str) -> None:
    assert syntax_for("plaintext", path) == "latex"


@pytest.mark.parametrize("language_id", ["bibtex", "context"])
def test_documents_that_cite_nothing_latex_can_read(language_id: str) -> None:
    assert syntax_for(language_id, "/a/refs.tex") is None


def test_unknown_language_and_extension() -> None:
    assert syntax_for("python", "/a/setup.py") is None
    assert syntax_for("", "/a/mystyle.sty") is None


# --- find_citations --------------------------------------------------------------------------


def test_key_offsets_and_citation_span() -> None:
    text = r"See \citep[p.~3]{ vaswani2017 , devlin2019} now."
    [citation] = find_citations(text)
    assert citation.command == r"\citep"
    assert text[citation.start : citation.end] == r"\citep[p.~3]{ vaswani2017 , devlin2019}"
    assert [(ref.key, text[ref.start : ref.end]) for ref in citation.keys] == [
        ("vaswani2017", "vaswani2017"),
        ("devlin2019", "devlin2019"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            r"\cite{a}\citet{b}\citealt{c}\citealp{d}\citenum{e}\citeyearpar{f}",
            [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]],
        ),
        (
            r"\parencite{a} \Textcite{b} \autocite{c} \footcitetext{d} \fullcite{e} \supercite{f}",
            [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]],
        ),
        (
            r"\citeA{a} \citeNP{b} \shortciteauthorNP{c} \citeasnoun{d} \possessivecite{e}",
            [["a"], ["b"], ["c"], ["d"], ["e"]],
        ),
        (r"\citep*{a} \Textcite*{b} \cite**{c}", [["a"], ["b"], ["c"]]),
        (r"\citep[see][chap.~2]{a,b}", [["a", "b"]]),
        (r"\citep[{see [also]}][p.~{[}3]{a}", [["a"]]),
        (r"\citeA<e.g.,>[p. 5]{apa}", [["apa"]]),
        (r"\citeaffixed{latex,btxdoc}{e.g.}", [["latex", "btxdoc"]]),
        ("\\citep\n  [see]\n  {a,\n   b}", [["a", "b"]]),
        ("\\cite% why\n{a}", [["a"]]),
        ("\\cite{a, % b, not this\n c}", [["a", "c"]]),
        (r"\cite{a,,b,}", [["a", "b"]]),
        (r"\cite{doi:10.1000/x.y-z, Иванов:2020}", [["doi:10.1000/x.y-z", "Иванов:2020"]]),
        (r"\nocite{*}", [[]]),
        (r"\newcommand{\mycite}[1]{\cite{#1}}", [[]]),
    ],
)
def test_single_citation_commands(text: str, expected: list[list[str]]) -> None:
    assert keys(text) == expected


def test_multicite_takes_every_group_and_stops_at_text() -> None:
    text = r"\cites(See)(p.~4)[a][b]{k1,k2}[c]{k3} and {\em x}"
    [citation] = find_citations(text)
    assert [ref.key for ref in citation.keys] == ["k1", "k2", "k3"]
    assert text[citation.end :] == r" and {\em x}"


def test_volcite_skips_the_volume_argument() -> None:
    assert keys(r"\volcite[see]{3}[45--50]{plato}") == [["plato"]]
    assert keys(r"\Avolcite{2}{kant}") == [["kant"]]
    assert keys(r"\pvolcites(See)(){2}[5]{k2}{4}{k3}") == [["k2", "k3"]]


@pytest.mark.parametrize("name", ["mycite", "\\mycite", " \\mycite* "])
def test_extra_commands_with_or_without_backslash(name: str) -> None:
    assert keys(r"\mycite[p.~2]{x} \cite{y}", (name,)) == [["x"], ["y"]]


def test_unknown_commands_are_not_citations() -> None:
    assert keys(r"\mycite{x} \citex{y} \comname{cite} the \cite command") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("% \\cite{a}\n\\cite{b}", [["b"]]),
        ("100\\% \\cite{b}", [["b"]]),
        ("line\\\\% \\cite{a}\n", []),
        ("\\begin{verbatim}\n\\cite{a}\n\\end{verbatim}\\cite{b}", [["b"]]),
        ("\\begin{Verbatim*}\\cite{a}\\end{Verbatim*}", []),
        ("\\begin{lstlisting}[language=TeX]\n\\cite{a}\n\\end{lstlisting}", []),
        ("\\begin{minted}{latex}\n\\cite{a}\n\\end{minted} \\cite{b}", [["b"]]),
        ("\\begin{comment}\\cite{a}\\end{comment}", []),
        ("\\verb|\\cite{a}| \\verb*+\\cite{b}+ \\cite{c}", [["c"]]),
        ("\\begin{verbatim}\n\\cite{a} never closed", []),
        ("\\begin{filecontents}{x.bib}\n\\cite{a}\n\\end{filecontents}", []),
        ("\\url{http://x.org/a%20b} \\cite{c}", [["c"]]),
    ],
)
def test_text_tex_does_not_read_as_commands(text: str, expected: list[list[str]]) -> None:
    assert keys(text) == expected


def test_unclosed_key_list_ends_with_its_line() -> None:
    assert keys("As \\cite{vas\nshown here.\n") == [["vas"]]


def test_harvard_manual(corpora) -> None:
    text = (corpora / "drafts" / "harvard.tex").read_text(encoding="utf-8")
    found = [
        (text.count("\n", 0, c.start) + 1, c.command, [r.key for r in c.keys])
        for c in find_citations(text)
    ]
    assert found == [
        (51, r"\citeasnoun", ["latex"]),
        (51, r"\citeasnoun", ["btxdoc"]),
        (65, r"\citeasnoun", ["agsm"]),
        (92, r"\citeasnoun", ["btxdoc"]),
        (92, r"\citeasnoun", ["latex"]),  # [Annex~B] is an optional argument
        (100, r"\cite", ["btxdoc"]),
        (100, r"\cite", ["latex"]),
        (112, r"\possessivecite", ["latex"]),
        (125, r"\citeaffixed", ["latex", "btxdoc"]),  # {e.g.} is the affix, not a key
        (162, r"\citeyear", ["btxdoc", "latex"]),  # line 164's is inside \verb+...+
        (174, r"\citename", ["btxdoc"]),
        (196, r"\citeasnoun", ["agsm"]),
        (204, r"\citeasnoun", ["latex"]),
        (215, r"\cite", ["btxdoc"]),
        (215, r"\cite", ["latex"]),
        (223, r"\cite", ["btxdoc", "latex"]),
        (227, r"\cite", ["btxdoc", "latex"]),
        (292, r"\possessivecite", ["latex2htmldoc"]),
        (302, r"\citeasnoun", ["latex"]),
    ]  # none from the verbatim blocks (lines 88, 96, 108, 121, 160, 170, 219) or \comname{cite}


# --- completion_context ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marked", "query", "existing"),
    [
        (r"\cite{|", "", ""),
        (r"\cite{vas|", "vas", "vas"),
        (r"\cite{vas|}", "vas", "vas"),
        (r"\cite{a,sparse lora fed|}", "sparse lora fed", "sparse lora fed"),
        (r"\cite{a,   vas|}", "vas", "vas"),
        (r"\cite{a, |}", "", ""),
        (r"\cite{vas|wani2017, b}", "vas", "vaswani2017"),
        (r"\cite{|vaswani2017}", "", "vaswani2017"),
        (r"\citep[see][p.~3]{x|}", "x", "x"),
        (r"\cites[a]{k1}[b]{k|}", "k", "k"),
        (r"\volcite{3}[5]{pla|}", "pla", "pla"),
        ("\\citep\n  [see]\n  {a,\n   vas|}", "vas", "vas"),
        ("\\cite{vas|\nThe paragraph goes on \\emph{here}.", "vas", "vas"),
        (r"\cite{Ива|}", "Ива", "Ива"),
        (r"\cite{doi:10.1/x|}", "doi:10.1/x", "doi:10.1/x"),
    ],
)
def test_completion_context(marked: str, query: str, existing: str) -> None:
    check_context(context(marked), marked, query, existing)


@pytest.mark.parametrize(
    "marked",
    [
        r"\citep[see|]{a}",
        r"\citep[see][p.|]{a}",
        r"\volcite{3|}{plato}",
        r"\cite{a}|",
        r"\cite|{a}",
        r"\ci|te{a}",
        r"\mycite{a|}",
        "plain text|",
        "% \\cite{a|",
        "\\cite{a, % b|",
        "\\begin{verbatim}\n\\cite{a|",
        "\\verb+\\cite{b|+",
    ],
)
def test_no_completion_context_outside_key_lists(marked: str) -> None:
    assert context(marked) is None


def test_completion_context_for_extra_commands() -> None:
    assert context(r"\mycite{a|}", ("mycite",)) == CompletionContext("a", 8, 9, "a")


def test_completion_reads_only_around_the_cursor() -> None:
    # An unclosed verbatim far above the cursor is out of sight; a nearby one is not.
    far = "\\begin{verbatim}\n" + "x\n" * 5000 + "\\cite{vas"
    assert context(far + CURSOR) == CompletionContext("vas", len(far) - 3, len(far), "vas")
    near = "\\begin{verbatim}\n" + "x\n" * 10 + "\\cite{vas"
    assert context(near + CURSOR) is None


# --- key_at ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "marked", [r"\cite{a, |vaswani2017}", r"\cite{a, vas|wani2017}", r"\cite{a, vaswani2017|}"]
)
def test_key_at_start_inside_and_end(marked: str) -> None:
    assert at(marked) == KeyRef("vaswani2017", 9, 20)


@pytest.mark.parametrize(
    "marked", [r"\cite[se|e]{a}", r"\cite{a,  | b}", r"\ci|te{a}", "% \\cite{a|}"]
)
def test_no_key_at(marked: str) -> None:
    assert at(marked) is None


# --- cost ------------------------------------------------------------------------------------


def _thesis(citations: int) -> str:
    paragraph = (
        "Work on \\emph{sparse} attention $O(n \\log n)$ in Fig.~\\ref{fig:%d} gains 10\\%% "
        "\\citep[see][p.~%d]{vaswani2017attention,key%d:x} and \\textbf{more}. %% a note\n"
    )
    return "".join(paragraph % (i, i, i) for i in range(citations))


def test_finding_2000_citations() -> None:
    text = _thesis(2000)
    assert len(find_citations(text)) == 2000


def test_completion_in_a_long_document() -> None:
    text = _thesis(20_000)  # 2.8 MB: a whole-document scan takes > 100 ms
    offset = text.index("key10000:x") + 3
    assert completion_context(text, offset) == CompletionContext(
        "key", offset - 3, offset + 7, "key10000:x"
    )


def test_typing_an_unclosed_argument_in_a_huge_paragraph() -> None:
    text = r"\citep[see" + " (x) {y}" * 300_000  # one 2.4 MB paragraph, full of delimiters
    assert completion_context(text, 11) is None
