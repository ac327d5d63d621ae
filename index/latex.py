"""LaTeX field values to plain Unicode, for display and search.

Called for every field of every entry (100k-entry libraries), and pylatexenc is slow for that
(measured: README, Benchmarks), so there are three tiers: plain strings only get their whitespace
collapsed; values whose only LaTeX is braces, accents, special letters, escapes, dashes and ties are
converted with regexes (same result as pylatexenc, which the tests check on the real corpora); the
rest (math, macros) goes through pylatexenc.
"""

from __future__ import annotations

import re
import unicodedata

from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.macrospec import MacroSpec

# Characters (or the en/em-dash ligature) without which a value is plain text.
_NEEDS_LATEX = re.compile(r"[\\{}$~`]|--")

# --- tier 2: the common LaTeX of names and titles, by regex ---

_ACCENT_MARKS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331",
}
# `\"u`, `\"{u}`, `{\'\i}`, `\v c`, `\c{c}`: an accent command and the letter it goes on.
_ACCENT = re.compile(
    r"""\\(?:(['`^"~=.])|([uvHckrdb])(?=[\s{]))\s*(?:\{\s*(\\[ij]|[A-Za-z])\s*\}|(\\[ij])(?![A-Za-z])\s*|([A-Za-z]))"""
)
_LETTERS = {
    "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å",
    "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
}
# As in TeX, the space or `{}` after a control word belongs to it: `\ss x` is "ßx".
_LETTER = re.compile(r"\\(ss|ae|AE|oe|OE|aa|AA|o|O|l|L|i|j)(?![A-Za-z])(?:\{\}|\s*)")
_ESCAPED_SPECIAL = re.compile(r"\\([&%_#$-])")
_NEEDS_PYLATEXENC = re.compile(r"\\(?![&%_#$-])|(?<!\\)\$")  # other commands, math
_TEXT_LIGATURES = {
    "---": "\u2014", "--": "\u2013", "~": " ", "``": "\u201c", "''": "\u201d", "!`": "\u00a1", "?`": "\u00bf",
}
_TEXT_LIGATURE = re.compile(r"---|--|~|``|''|!`|\?`")


def _accented(match: re.Match) -> str:
    mark = _ACCENT_MARKS[match.group(1) or match.group(2)]
    letter = match.group(3) or match.group(4) or match.group(5)
    base = letter[1] if letter.startswith("\\") else letter  # the dotless \i, \j take accents as i, j
    return unicodedata.normalize("NFC", base + mark)


def _simple_latex_to_text(s: str) -> str | None:
    """Braces, accents, special letters, escapes, dashes and ties (nearly all names, most
    titles) without pylatexenc; None when anything else is left."""
    s = _LETTER.sub(lambda m: _LETTERS[m.group(1)], _ACCENT.sub(_accented, s))
    if _NEEDS_PYLATEXENC.search(s):
        return None
    s = _ESCAPED_SPECIAL.sub(lambda m: "" if m.group(1) == "-" else m.group(1), s)  # \- is a hyphenation hint
    s = _TEXT_LIGATURE.sub(lambda m: _TEXT_LIGATURES[m.group()], s)
    return collapse_whitespace(s.replace("{", "").replace("}", ""))


# --- tier 3: pylatexenc ---

# `%` starts a comment and a bare `&` is a tabular separator to pylatexenc (it would drop the
# rest of the value, or output spaces); in bib values both are nearly always meant literally.
_BARE_PERCENT = re.compile(r"(?<!\\)%")
_BARE_AMPERSAND = re.compile(r"(?<!\\)&")


def _walker_context():
    """\\noopsort{1973b} (xampl, many real files) is a sort key: the walker must know it takes an
    argument so the text rule can drop it."""
    db = latexwalker.get_default_latex_context_db()
    db.add_context_category("bibtex", prepend=True, macros=[MacroSpec("noopsort", "{")])
    return db


def _text_context():
    """pylatexenc drops the arguments of macros it has no text rule for (\\mbox{G-Animal's},
    \\texttt{..}); in bib values an unknown macro's argument is nearly always the text itself.
    Also the TeX logos and biblatex's \\hyphen, frequent in titles."""
    db = get_default_latex_context_db()
    db.add_context_category(
        "bibtex",
        prepend=True,
        macros=[
            MacroTextSpec("noopsort", discard=True),
            MacroTextSpec("url", discard=False),
            MacroTextSpec("hyphen", "-"),
            MacroTextSpec("slash", "/"),
            *(MacroTextSpec(logo, logo) for logo in ("TeX", "LaTeX", "BibTeX", "XeTeX", "LuaTeX")),
        ],
    )
    db.set_unknown_macro_spec(MacroTextSpec("", discard=False))
    return db


_WALKER_CONTEXT = _walker_context()
# "macros": a space after a control word is eaten as in TeX (`10\textendash 20` -> 10–20), yet
# `\texttt{a} \emph{b}` keeps its space; math stays readable (`$\log n$` -> "log n").
_CONVERTER = LatexNodes2Text(latex_context=_text_context(), math_mode="text", strict_latex_spaces="macros")


def _full_latex_to_text(s: str) -> str:
    """Soft hyphens (from \\-) are dropped: they would break search."""
    literal = _BARE_AMPERSAND.sub(r"\\&", _BARE_PERCENT.sub(r"\\%", s))
    walker = latexwalker.LatexWalker(literal, latex_context=_WALKER_CONTEXT, tolerant_parsing=True)
    text = _CONVERTER.nodelist_to_text(walker.get_latex_nodes()[0])
    return collapse_whitespace(text.replace("\u00ad", ""))


# --- last resort ---

_COMMAND_NAME = re.compile(r"\\[A-Za-z]+\s*")
_ESCAPED_CHAR = re.compile(r"\\(.)")
_GROUPING = re.compile(r"[{}$]")


def _strip_braces(s: str) -> str:
    """When pylatexenc fails: drop command names, braces and `$`, keep escaped characters."""
    without_commands = _ESCAPED_CHAR.sub(r"\1", _COMMAND_NAME.sub("", s))
    return collapse_whitespace(_GROUPING.sub("", without_commands))


def collapse_whitespace(s: str) -> str:
    """Runs of whitespace (newlines, tabs, the no-break spaces of `~`) become one space."""
    return " ".join(s.split())


def to_unicode(s: str) -> str:
    """`{\\"u}ber {{ZnO}} \\& $\\alpha$--helix` -> `über ZnO & α–helix`. Never raises."""
    if not _NEEDS_LATEX.search(s):
        return collapse_whitespace(s)
    try:
        simple = _simple_latex_to_text(s)
        return simple if simple is not None else _full_latex_to_text(s)
    except Exception:  # pylatexenc raises assorted errors on hostile input; display must go on
        return _strip_braces(s)
