"""One normalisation for indexing, querying and re-ranking, so that a typed "muller" finds "Müller"
and a re-rank never disagrees with the index about what a word is."""

from __future__ import annotations

import re

from whoosh.support.charset import accent_map

_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower case with accents removed (Latin, Greek, Cyrillic diacritics)."""
    return text.lower().translate(accent_map)


def words(text: str) -> list[str]:
    """The searchable words of a text, folded, in order."""
    return _WORD.findall(fold(text))


def unique_words(*texts: str) -> list[str]:
    """Distinct words of several texts, first occurrence order (index fields want no repeats)."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in words(text):
            seen.setdefault(word, None)
    return list(seen)


# Words too common in abstracts to tell papers apart; dropping them halves the postings to index.
STOP_WORDS = frozenset("""
a about above across after again against all also although among an and another any are as at be
been before being below between both but by can could did do does done due during each either even
ever every few for from further had has have having here how however if in into is it its itself
just less like made make many may more most much must new no nor not now of off often on once one
only or other our out over own per rather same several should show shown shows since so some such
than that the their them then there these they this those through thus to too two under up upon us
use used uses using very via was we well were what when where whether which while who whom whose
why will with within without would yet you your paper propose proposed present approach method
methods results result work based existing first three novel also however while moreover finally
furthermore specifically significantly extensive experiments demonstrate achieves achieve
""".split())
ABSTRACT_WORDS = 24  # distinctive abstract words indexed per paper (abstract matches rank last anyway)


def abstract_words(abstract: str, exclude: set[str] = frozenset()) -> list[str]:
    """The first ABSTRACT_WORDS distinct, distinctive words of an abstract."""
    chosen: dict[str, None] = {}
    for word in words(abstract):
        if len(word) > 2 and word not in STOP_WORDS and word not in exclude and not word.isdigit():
            chosen.setdefault(word, None)
            if len(chosen) >= ABSTRACT_WORDS:
                break
    return list(chosen)
