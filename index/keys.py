"""Citation keys for papers that come without one (paper listings, keyless CSL items).

A generated key must be typeable, valid in LaTeX ``\\cite{}`` and pandoc ``@key``, and must not
change when unrelated papers are added to the file. So:

* every base key is lower-case letters and digits only (ASCII-folded; a word that folds to nothing,
  like Cyrillic, keeps its own letters), one shape whichever rule made it;
* the base comes from the title's short name ("LightGen: ..." -> ``lightgen``), else from the
  first author, year and first title word (``vaswani2017attention``), else from the first three
  title words (``attentionrnn``), else ``untitled``;
* a collision gets ``-2``, ``-3``... in order of appearance. Bases never contain ``-``, so a
  suffixed key can never collide with another paper's base: a paper's key depends only on the
  earlier papers that share its base, never on unrelated ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from papercite.index.model import Paper

SHORT_NAME_MAX_WORDS = 3
SHORT_NAME_MAX_CHARS = 20  # "datasetdecomposition" still is a name; "dynamicsparselearning" a phrase
TITLE_WORDS = 3  # rule (c): enough words to tell apart the titles of one library
FALLBACK_KEY = "untitled"

STOP_WORDS = frozenset("""
    a an the and or nor but of on in into onto at by for from to with within without via as per
    over under about against between through towards toward up down out off than then so
    is are was were be been being do does did can could should would will may might must not no
    it its this that these those we our you your they their he she his her i my
    how what when where which who whom whose why
""".split())

# Latin letters that Unicode decomposition leaves whole.
_UNDECOMPOSED = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "đ": "d", "þ": "th",
                               "ł": "l", "ı": "i", "ħ": "h", "ŧ": "t", "ŋ": "ng"})
_APOSTROPHES = re.compile(r"['’ʼ]")  # "Don't" is one word, not "don" and "t"
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script; hyphens and the like split


def fold_word(word: str) -> str:
    """One title or name word as key material: ASCII letters and digits ("Müller" -> "muller"),
    or the word's own letters when folding would leave nothing ("Иванов" -> "иванов")."""
    lowered = word.casefold()
    decomposed = unicodedata.normalize("NFKD", lowered).translate(_UNDECOMPOSED)
    ascii_only = "".join(c for c in decomposed if c.isascii() and c.isalnum())
    if ascii_only:
        return ascii_only
    return "".join(c for c in unicodedata.normalize("NFC", lowered) if c.isalnum())


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return [w for w in (fold_word(m) for m in _WORD.findall(_APOSTROPHES.sub("", text))) if w]


def significant_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP_WORDS]


def short_name(title: str) -> str:
    """The name a title announces before its colon ("LightGen: Efficient ..." -> "lightgen"),
    or "" when the part before the colon is a phrase rather than a name."""
    head, colon, _ = title.partition(":")
    if not colon or not 1 <= len(head.split()) <= SHORT_NAME_MAX_WORDS:
        return ""
    name = "".join(words(head))
    if len(name) > SHORT_NAME_MAX_CHARS or not any(c.isalpha() for c in name):
        return ""
    return name


def author_word(paper: Paper) -> str:
    """The first author as one key word: the family name without particle, or the first
    significant word of an organisation's name."""
    if not paper.authors:
        return ""
    first = paper.authors[0]
    if first.family:
        return "".join(words(first.family))
    return next(iter(significant_words(first.literal)), "")


def base_key(paper: Paper) -> str:
    """The key ``paper`` would get if no other paper wanted it."""
    if name := short_name(paper.title):
        return name
    title_words = significant_words(paper.title)
    if author := author_word(paper):
        year = str(abs(paper.year)) if paper.year is not None else ""
        return author + year + "".join(title_words[:1])
    return "".join(title_words[:TITLE_WORDS]) or FALLBACK_KEY


def assign_keys(papers: list[Paper], taken: Iterable[str] = ()) -> None:
    """Give every keyless paper a generated key, unique against ``taken`` (keys used elsewhere in
    the library) and the keys of ``papers``, compared case-insensitively as BibTeX does. Papers
    are served in order, so the n-th paper sharing a base gets ``base-n``."""
    used = {key.lower() for key in taken} | {p.key.lower() for p in papers if p.key}
    for paper in papers:
        if paper.key:
            continue
        base = base_key(paper)
        key, n = base, 1
        while key.lower() in used:
            n += 1
            key = f"{base}-{n}"
        used.add(key)
        paper.key = key
        paper.key_generated = True
