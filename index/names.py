"""Papers named in running text: a paper's short name ("RoBERTa", "Big Bird": the part of its title
before the colon) or its whole title, found under a mouse pointer in prose.

A hover is sent at every pause of the mouse, so a look-up must cost next to nothing whatever the
size of the library. The index already lists every title's first word and first two words (its
`lead` field): a name or a title in the text starts some titles, and only those few are read. A
word starting more than LEAD_CAP titles is no name of one paper (and would cost too much to
check); answers are cached per index version.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from papercite.index.keys import STOP_WORDS, short_name
from papercite.index.store import PaperStore
from papercite.index.text import fold, words

LEAD_CAP = 100  # titles a name may start and still be looked at
NAME_UNITS = 3  # words of a short name ("Deep Speech 2")
MIN_TITLE_WORDS = 3  # shorter titles ("Random Forests") are ordinary phrases in prose
MAX_TITLE_WORDS = 40
LINE_SPAN = 500  # characters read on each side of the mouse
CACHE = 4096  # lead terms whose titles are kept, per index version
# Title heads that are kinds of writing, not names of a paper.
GENERIC_HEADS = frozenset("""
survey review editorial erratum corrigendum correction retraction commentary comment reply
introduction preface foreword tutorial overview abstract keynote perspective perspectives
position opinion letter note notes report chapter part appendix supplement discussion
""".split())

_UNREAD = object()
_UNIT = re.compile(r"[^\W_]+(?:[-'’.+][^\W_]+)*\+*")  # "Transformer-XL", "GPT-4o", "C++"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class NameMatch:
    """The paper a stretch of a line names, and where that stretch is (code points in the line)."""

    key: str
    start: int
    end: int


@dataclass(frozen=True)
class _Title:
    key: str
    source: str
    words: tuple[str, ...]  # folded, as the index's `tw`
    name: tuple[str, ...]  # folded words of its short name, () when it has none


class PaperNames:
    """Look-ups of names and titles in one store. Use from one thread (the search thread)."""

    def __init__(self, store: PaperStore):
        self.store = store
        self._searcher = None
        self._titles: OrderedDict[str, tuple[_Title, ...] | None] = OrderedDict()

    def named_at(self, line: str, column: int, within: Iterable[str]) -> NameMatch | None:
        """The one paper that the text around ``column`` of ``line`` names: a whole title of
        MIN_TITLE_WORDS or more covering the column (when the line has that many words), else a
        short name exactly (case aside), with no other paper of ``within`` named the same."""
        within = frozenset(within)
        low = max(0, column - LINE_SPAN)  # a Markdown paragraph may be one long line: read near the column
        piece, column = line[low:column + LINE_SPAN], column - low
        found = self._title_at(piece, column, within) or self._name_at(piece, column, within)
        return NameMatch(found.key, found.start + low, found.end + low) if found else None

    def _title_at(self, line: str, column: int, within: frozenset[str]) -> NameMatch | None:
        tokens = [(fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(line)]
        if len(tokens) < MIN_TITLE_WORDS:
            return None
        here = next((i for i, (_, start, end) in enumerate(tokens) if start <= column <= end), None)
        if here is None:
            return None
        line_words = [word for word, _, _ in tokens]
        found: dict[str, tuple[int, int]] = {}
        for first in range(max(0, here - MAX_TITLE_WORDS + 1), min(here + 1, len(tokens) - 1)):
            for title in self._starting(" ".join(line_words[first:first + 2]), within):
                last = first + len(title.words)
                if len(title.words) >= MIN_TITLE_WORDS and last > here and \
                        tuple(line_words[first:last]) == title.words:
                    found.setdefault(title.key, (tokens[first][1], tokens[last - 1][2]))
        return _unambiguous(found)

    def _name_at(self, line: str, column: int, within: frozenset[str]) -> NameMatch | None:
        units = list(_UNIT.finditer(line))
        here = next((i for i, unit in enumerate(units) if unit.start() <= column <= unit.end()), None)
        if here is None:
            return None
        for size in range(NAME_UNITS, 0, -1):  # the longest name the text gives wins
            found: dict[str, tuple[int, int]] = {}
            for first in range(max(0, here - size + 1), here + 1):
                window = units[first:first + size]
                if len(window) < size or any(line[a.end():b.start()].strip() for a, b in zip(window, window[1:])):
                    continue
                name = tuple(words(line[window[0].start():window[-1].end()]))
                if not name:
                    continue
                for title in self._starting(" ".join(name[:2]), within):
                    if title.name == name:
                        found.setdefault(title.key, (window[0].start(), window[-1].end()))
            if found:
                return _unambiguous(found)
        return None

    def _starting(self, lead: str, within: frozenset[str]) -> tuple[_Title, ...]:
        """Titles (of these sources) starting with one or two words, unless too many do."""
        searcher = self.store.searcher()
        if searcher is not self._searcher:
            self._searcher, self._titles = searcher, OrderedDict()
        titles = self._titles.get(lead, _UNREAD)
        if titles is _UNREAD:
            titles = self._read(searcher, lead)
            self._titles[lead] = titles
            if len(self._titles) > CACHE:
                self._titles.popitem(last=False)
        return tuple(t for t in titles or () if t.source in within)

    @staticmethod
    def _read(searcher, lead: str) -> tuple[_Title, ...] | None:
        count = searcher.reader().doc_frequency("lead", lead)
        if count == 0 or count > LEAD_CAP:
            return None
        titles = []
        for docnum in searcher.document_numbers(lead=lead):
            stored = searcher.stored_fields(docnum)
            titles.append(_Title(stored["key"], stored.get("source", ""), tuple(stored.get("tw", "").split()),
                                 name_of(stored.get("title", ""))))
        return tuple(titles)


def name_of(title: str) -> tuple[str, ...]:
    """The folded words of a title's short name ("RoBERTa: A Robustly..." -> ("roberta",)); ()
    when the part before the colon is a phrase, a kind of writing ("Survey: ..."), or nothing."""
    head, colon, _ = title.partition(":")
    name = tuple(words(head))
    if not colon or not short_name(title) or not name or all(w in STOP_WORDS or w in GENERIC_HEADS for w in name):
        return ()
    return name


def _unambiguous(found: dict[str, tuple[int, int]]) -> NameMatch | None:
    """The paper named by the longest stretch, if no other is named by one as long."""
    longest = max((end - start for start, end in found.values()), default=0)
    best = [(key, span) for key, span in found.items() if span[1] - span[0] == longest]
    if len(best) != 1:
        return None
    ((key, (start, end)),) = best
    return NameMatch(key, start, end)
