"""LaTeX -> Unicode for display and search (papercite.index.latex)."""

from __future__ import annotations

import random

import pytest

from papercite.index import latex
from papercite.index.latex import to_unicode


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"$\alpha$-helix", "α-helix"),
        (r"Sorting in $O(n^2)$ time", "Sorting in O(n^2) time"),
        (r"An {$O(n \log n)$} Sorting Algorithm", "An O(n log n) Sorting Algorithm"),
        (r"{\"u}ber M\"uller", "über Müller"),
        (r"{{ZnO}} nanowires", "ZnO nanowires"),
        (r"Science \& Society", "Science & Society"),
        ("pages 10--20", "pages 10–20"),
        ("Earl, Saint, Bishop, Skald---and Music", "Earl, Saint, Bishop, Skald—and Music"),
        ("Volume~2", "Volume 2"),
        ("  A\n   multi-line\ttitle  ", "A multi-line title"),
        (r"Aks{\i}n, {\c{C}}etinkaya, T{\'{e}}rrific, {\ss}", "Aksın, Çetinkaya, Térrific, ß"),
        (r"\L{}\'od\'z and \v{S}koda", "Łódź and Škoda"),
        ("``quoted''", "“quoted”"),
        (r"\mbox{G-Animal's} Journal", "G-Animal's Journal"),  # pylatexenc alone drops \mbox's argument
        (r"\texttt{foo} \emph{bar}", "foo bar"),
        (r"{\noopsort{1973b}}1973", "1973"),  # a sort key, not text
        (r"methodology\hyphen independent", "methodology-independent"),  # biblatex
        (r"The \LaTeX{} Companion", "The LaTeX Companion"),
        (r"Ad\-van\-ced $\beta$ methods", "Advanced β methods"),  # no soft hyphens: they break search
        (r"50% of $x$ \& 10\% of y", "50% of x & 10% of y"),  # a bare % is text, not a comment
        (r"A & B with $x$", "A & B with x"),  # a bare & is text, not a tabular separator
        ("<<Химия>> и {ГОСТ}", "<<Химия>> и ГОСТ"),
    ],
)
def test_converts_latex_to_readable_unicode(source: str, expected: str) -> None:
    assert to_unicode(source) == expected


@pytest.mark.parametrize("plain", ["Attention Is All You Need", "50% faster & smaller", "O'Hare, 1-2"])
def test_plain_text_is_returned_as_is(plain: str) -> None:
    assert to_unicode(plain) == plain


def test_plain_text_skips_latex_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(_: str) -> str:
        raise AssertionError("plain text must not reach the LaTeX converters")

    monkeypatch.setattr(latex, "_simple_latex_to_text", fail)
    monkeypatch.setattr(latex, "_full_latex_to_text", fail)
    assert to_unicode("A  plain\ntitle: with 50% & 'quotes'") == "A plain title: with 50% & 'quotes'"


def test_falls_back_to_stripping_braces_when_pylatexenc_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: str) -> str:
        raise ValueError("pylatexenc choked")

    monkeypatch.setattr(latex, "_full_latex_to_text", broken)
    assert to_unicode(r"An {$O(n)$} \emph{Sorting} \& {Search}") == "An O(n) Sorting & Search"


@pytest.mark.parametrize(
    "hostile",
    ["{", "}}}}", "\\", "\\\\", "$", "$$", "$x", r"\begin{foo} x", r"\end{foo}", r"\verb|x", r"\'", r"\c",
     r"\"{}", "%", r"\url{", r"{\"", "~" * 50, "\x00\ufeff"],
)
def test_never_raises_on_broken_latex(hostile: str) -> None:
    assert isinstance(to_unicode(hostile), str)


def test_never_raises_on_random_latex_noise() -> None:
    rng = random.Random(11)
    alphabet = "{}$\\~^_&%#'\"`-abcXYZ \n"
    for _ in range(2000):
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        assert isinstance(to_unicode(noise), str)


@pytest.mark.parametrize(
    "source",
    [r"\ss x", r"\ss{}x", r"{\ss}x", r"\o x", r"\" u", r"\v c", r"\c{c}", r"\'\i", r"\"\i x", r"\'{\i}",
     r"\={P}", r"\aa x", r"\L x", r"\k{a}", r"\H{o}", r"\d{s}", r"\b{b}", r"\r{u}", r"\u{g}", r"\.{z}",
     r"\`e", r"\^o", r"\~n", r"{\" U}", "\\'\n e", r"\&\%\_\#\$", "a~~b", "!`Hola! ?`Qu\\'e?", "a---b--c"],
)
def test_regex_tier_agrees_with_pylatexenc(source: str) -> None:
    simple = latex._simple_latex_to_text(source)
    assert simple is not None
    assert simple == latex._full_latex_to_text(source)


@pytest.mark.parametrize("source", [r"$x$", r"\emph{x}", r"\"{}", r"\{x\}", r"\relax x"])
def test_regex_tier_hands_anything_else_to_pylatexenc(source: str) -> None:
    assert latex._simple_latex_to_text(source) is None


def test_regex_tier_agrees_with_pylatexenc_on_real_field_values(corpora) -> None:
    """Every title, name part, venue... of the real files that the regex tier converts must come
    out exactly as pylatexenc would have it."""
    from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names

    from papercite.index.readers import bibtex, decode

    values = []
    for path in sorted(corpora.glob("*/*.bib")):
        text, _ = decode(path.read_bytes())
        for paper in bibtex.parse(text, str(path)).papers:
            values += [paper.title, paper.venue, paper.abstract]
        for field_value in _raw_field_values(text, str(path)):
            values.append(field_value)
            for name in split_multiple_persons_names(field_value):
                parts = parse_single_name_into_parts(name, strict=False)
                values += [" ".join(part) for part in (parts.first, parts.von, parts.last, parts.jr)]
    checked = 0
    for value in values:
        simple = latex._simple_latex_to_text(value)
        if simple is not None and latex._NEEDS_LATEX.search(value):
            assert simple == latex._full_latex_to_text(value), value
            checked += 1
    assert checked > 300  # the corpora are full of accents and protective braces


def _raw_field_values(text: str, source: str) -> list[str]:
    from bibtexparser.splitter import Splitter

    from papercite.index.readers.bibtex import _Reader

    reader = _Reader(text, source)
    reader.collect(Splitter(text).split().blocks)
    return [value for entry in reader.entries for value in reader.own_fields(entry).values()]
