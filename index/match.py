"""Which paper a piece of text names: a title, or a reference string pasted from somewhere else
("Vaswani et al. 2017. Attention is all you need. NeurIPS."), or a misspelt key.

The search finds candidates (each sentence-like segment of the text is one query, so the authors,
year and venue around a title do not have to match too); each candidate is then checked against
the text: how much of its title the text has, in order, and how much of the text its title,
authors, year and venue explain. Only a paper that passes and is clearly ahead of every other
is named: a wrong citation is worse than none.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from papercite.index.search import Hit, PaperSearch, one_edit_apart
from papercite.index.store import PaperStore
from papercite.index.text import words

KEY_WALK = 2000  # keys of the index's sorted key list read for one misspelt key, at most
MAX_WORDS = 80  # longer text is a paragraph, not a reference
SEARCHES = 6  # segments searched, longest first
QUERY_WORDS = 4  # the rarest words of a segment searched for
TITLE_COVERED = 0.85  # of the title's words, found in order in the text
UNEXPLAINED = 0.3  # most of the text's words the paper may leave unexplained
MARGIN = 1.0  # how far ahead of the next paper the best must be
# Words of reference strings that name no paper.
FILLER = frozenset("""
a an and the of in on for to with at by from et al eds ed proc proceedings pp vol volume no pages
page journal conference conf international annual arxiv preprint abs doi https http org www url
available online accessed retrieved press published editors editor edition
""".split())

_SEGMENT_BREAK = re.compile(r"(?<=\w{2})[.!?]\s+|[;()\[\]\"“”«»]|(?<!\w):\s|\s[-–—]\s")
_COMMAND = re.compile(r"\\[A-Za-z@]+\*?")
_YEAR = re.compile(r"^(18|19|20)\d\d$")


@dataclass
class Candidate:
    hit: Hit
    covered: float  # share of the title's words found in order
    unexplained: float  # share of the text's words the paper does not explain
    score: float

    @property
    def confident(self) -> bool:
        return self.covered >= TITLE_COVERED and self.unexplained <= UNEXPLAINED


def paper_named(text: str, search: PaperSearch, prefer: Iterable[str] = (),
                within: Iterable[str] | None = None) -> Hit | None:
    """The one paper ``text`` names, or None when none is clearly named."""
    plain = _COMMAND.sub(" ", text)
    text_words = words(plain)
    if len(text_words) < 2 or len(text_words) > MAX_WORDS:
        return None
    prefer = frozenset(prefer)
    reader = search.store.searcher().reader()
    frequency = functools.cache(lambda word: reader.doc_frequency("strong", word))
    candidates: dict[str, Candidate] = {}
    for query in queries(plain, frequency):
        for hit in search.search(query, limit=10, prefer=prefer, within=within):
            candidate = judge(hit, text_words, prefer)
            known = candidates.get(hit.key)
            if known is None or candidate.score > known.score:
                candidates[hit.key] = candidate
        leader = _leader(candidates)
        if leader is not None and leader.covered == 1.0:
            return leader.hit  # the whole title found, and nothing near it: the other parts would not change that
    leader = _leader(candidates)
    return leader.hit if leader else None


def _leader(candidates: dict[str, Candidate]) -> Candidate | None:
    """The confident candidate clearly ahead of every other confident one, if any."""
    ranked = sorted(candidates.values(), key=lambda c: -c.score)
    if not ranked or not ranked[0].confident:
        return None
    if len(ranked) > 1 and ranked[1].confident and ranked[0].score - ranked[1].score < MARGIN:
        return None
    return ranked[0]


def queries(text: str, frequency: Callable[[str], int]) -> list[str]:
    """The searches for a text: itself and its sentence-like parts, longest first (a title is
    usually the longest part of a reference), each made of its QUERY_WORDS rarest telling words
    that the index has (``frequency``: in how many papers a word is), in their order and
    ending in a space (every word complete). The search wants every word it is given, and the
    common ones cost most to intersect while telling least: the check of each candidate
    (``judge``) weighs all the words."""
    parts = sorted(_SEGMENT_BREAK.split(text), key=len, reverse=True)
    found: dict[str, None] = {}
    for part in [text, *parts]:
        counted = [(word, frequency(word)) for word in dict.fromkeys(w for w in words(part) if _telling(w))]
        rarest = {word for word, count in sorted((c for c in counted if c[1]), key=lambda c: c[1])[:QUERY_WORDS]}
        if len(rarest) >= 2:
            found.setdefault(" ".join(word for word, _ in counted if word in rarest) + " ")
    return list(found)[:SEARCHES]


def judge(hit: Hit, text_words: list[str], prefer: frozenset[str]) -> Candidate:
    """How well a found paper fits the text: its title covered in order, the text explained by
    it (title, authors, year, venue), the first author and the year as tie-breakers, and the
    document's own bibliography before a library."""
    title = words(hit.title)
    surnames = {w for name in hit.surnames for w in words(name)}
    explaining = set(title) | surnames | set(words(hit.venue)) | ({str(hit.year)} if hit.year else set())
    covered = in_order(title, text_words) / len(title) if title else 0.0
    content = [w for w in text_words if _telling(w)]
    unexplained = sum(w not in explaining for w in content) / len(content) if content else 1.0
    years = {w for w in content if _YEAR.match(w)}
    score = 10 * covered - 5 * unexplained
    if hit.surnames and set(words(hit.surnames[0])) & set(text_words):
        score += 1.0
    if years and hit.year:
        score += 1.0 if str(hit.year) in years else -1.0
    if hit.source in prefer:
        score += 1.0
    if len(title) < 2 and covered and len(content) > 1:  # a one-word title names a paper only alone
        covered = 0.0
    return Candidate(hit, covered, unexplained, score)


def _telling(word: str) -> bool:
    """A word that may say which paper: no initial, filler word or number other than a year."""
    return len(word) > 1 and word not in FILLER and (not word.isdigit() or bool(_YEAR.match(word)))


def in_order(needles: list[str], haystack: list[str]) -> int:
    """The length of the longest common subsequence: the needles found in the haystack in order."""
    row = [0] * (len(haystack) + 1)
    for needle in needles:
        diagonal = 0
        for j, word in enumerate(haystack, 1):
            diagonal, row[j] = row[j], diagonal + 1 if needle == word else max(row[j], row[j - 1])
    return row[-1]


def keys_one_edit_from(key: str, store: PaperStore, within: Iterable[str]) -> list[str]:
    """Keys (of these sources) one edit from ``key``, case aside: a typo, most likely. Two
    neighbours swapped or a character too many are looked up directly; a wrong or missing
    character is found by reading the index's sorted key list from ever shorter starts of
    ``key`` (the right key shares its start up to the typo), KEY_WALK keys at most in all."""
    searcher = store.searcher()
    reader, folded, within = searcher.reader(), key.lower(), frozenset(within)
    direct = [folded, *(folded[:i] + folded[i + 1] + folded[i] + folded[i + 2:] for i in range(len(folded) - 1)),
              *(folded[:i] + folded[i + 1:] for i in range(len(folded)))]
    found = _keys_in(searcher, [text for text in dict.fromkeys(direct) if reader.doc_frequency("keys", text)], within)
    budget = KEY_WALK
    for length in range(len(folded) - 1, 0, -1):
        if found:
            break
        near = []
        for term in reader.expand_prefix("keys", folded[:length]):
            budget -= 1
            if budget < 0:
                return []
            if one_edit_apart(folded, text := term.decode()):
                near.append(text)
        found = _keys_in(searcher, near, within)
    return [k for k in found if k != key]


def _keys_in(searcher, folded_keys: list[str], within: frozenset[str]) -> list[str]:
    """The keys (in their own case) of these sources whose lower case is one of ``folded_keys``."""
    found = [stored["key"] for text in folded_keys for docnum in searcher.document_numbers(keys=text)
             if (stored := searcher.stored_fields(docnum)).get("source") in within and stored["key"].lower() == text]
    return list(dict.fromkeys(found))
