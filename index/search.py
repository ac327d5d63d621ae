"""As-you-type paper search: a few typed words (the last one possibly half-typed) to ranked papers.

Two stages, both bounded so that no keystroke can take long:
1. candidates: each typed word becomes a set of documents (its postings in the index, read a
   block at a time and cached, so the next keystroke reuses them), and the sets intersect in C.
   A half-typed word of 1-3 characters after finished words is a prefix term indexed as such (alone,
   it is answered by keys and the document's own papers); a longer one expands to the most
   frequent index words it starts (capped). Keys come from a capped walk of the sorted
   key lexicon. Abstract words are consulted only when titles and authors give too little, and
   typo fixes only when nothing has all the words.
2. a re-rank in Python over at most a few hundred candidates, on what people mean when they type:
   the exact key, a key prefix, the start of the title, title words, the first author, the year,
   papers of the document's own bibliography.

Whoosh's own matchers and scoring are not used on this path: in pure Python they cost tens of µs
a posting, which is what made common words take 100 ms at 100k papers.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate, chain, islice

from whoosh.reading import TermNotFound

from papercite.index.model import Paper
from papercite.index.store import DAMAGE_ERRORS, PREFIX_LENGTHS, PaperStore, decode_paper
from papercite.index.text import STOP_WORDS, fold, words

CANDIDATES = 60  # documents re-ranked from the text match (beyond key and title-start ones)
LEAD_CAP = 50  # papers whose title starts with the typed words
KEY_PREFIX_CAP = 40  # keys taken from the lexicon for a key-prefix query
EXPANSION_SCAN = 100  # lexicon words looked at for a half-typed word of 4+ letters...
EXPANSION_CAP = 8  # ...of which the most frequent stand for it
FUZZY_MIN_LENGTH = 4
FUZZY_SCAN = 3000  # lexicon words (sharing the first letter) checked for a typo fix
CACHE_POSTINGS = 150_000  # document numbers kept in the postings cache (~10 MB at most)
CACHE_DOCUMENTS = 800  # documents' stored fields kept (~2 MB)
SHORT_LENGTH = 3  # a single half-typed word this short is answered by keys and the document's own papers only
SHORT_CAP = 20  # keys (and papers of the document's own bibliographies) offered for such a word
OWN_TABLE_MAX = 5_000  # own-bibliography papers indexed by prefix in memory for the first keystrokes
PARTIAL_AFTER = 300  # finished words matching fewer papers than this leave a short half-typed word to the re-rank


@dataclass(frozen=True)
class TypedQuery:
    """What was typed: folded complete words, and the half-typed last word if any."""

    raw: str
    complete: tuple[str, ...]
    partial: str

    @property
    def all_words(self) -> tuple[str, ...]:
        return self.complete + ((self.partial,) if self.partial else ())

    @property
    def short(self) -> bool:
        """A few characters of one word: too little to search a library by (at 100k papers, three
        letters start words of a third of them, in no useful order), enough for keys and the
        document's own papers."""
        return bool(self.key_like) and not self.complete and len(self.partial) <= SHORT_LENGTH

    @cached_property
    def key_like(self) -> str:
        """The raw text as a key prefix, when it is a single token."""
        return self.raw.lower() if self.raw and not any(c.isspace() for c in self.raw) else ""


def parse_query(text: str) -> TypedQuery:
    raw = text.strip()
    found = words(text)
    typing_last = bool(found) and not text[-1:].isspace() and fold(text).rstrip().endswith(found[-1])
    if typing_last:
        return TypedQuery(raw, tuple(found[:-1]), found[-1])
    return TypedQuery(raw, tuple(found), "")


@dataclass
class Hit:
    key: str
    title: str
    surnames: list[str]
    year: int | None
    venue: str
    source: str
    score: float = 0.0
    why: list[str] = field(default_factory=list)  # the re-rank's reasons, for --json and debugging
    docnum: int = field(default=-1, repr=False)
    view: IndexView | None = field(default=None, repr=False, compare=False)

    def paper(self) -> Paper:
        """The whole record, read from the index only when asked (most hits are never shown)."""
        return decode_paper(self.view.blob(self.docnum))


class IndexView:
    """One searcher's view of the index, with what consecutive keystrokes share cached: document
    sets of terms (deletions removed; bounded by total size) and stored fields of documents."""

    def __init__(self, store: PaperStore, searcher):
        self.store = store
        self.searcher = searcher
        self.leaves = [(leaf.reader(), offset) for leaf, offset in searcher.leaf_searchers()]
        self._cache: OrderedDict[tuple[str, str], frozenset[int]] = OrderedDict()
        self._cached = 0
        self._stored: OrderedDict[int, dict] = OrderedDict()
        self._all_sources: frozenset[str] | None = None
        self._words: dict[tuple[str, str], tuple[dict[str, int], bool]] = {}
        self._own_tables: dict[frozenset[str], dict[str, set[int]]] = {}
        self._within: dict[frozenset[str], frozenset[int]] = {}

    def sources(self, within: frozenset[str] | None) -> frozenset[int] | None:
        """Documents of these sources, or None when that is every document (no filter needed)."""
        if within is None:
            return None
        if self._all_sources is None:
            self._all_sources = frozenset(t.decode() for t in self.searcher.reader().lexicon("source"))
        if within >= self._all_sources:
            return None
        found = self._within.get(within)
        if found is None:
            found = self._within[within] = self.union("source", within & self._all_sources)
            if len(self._within) > 16:
                self._within.pop(next(iter(self._within)))
        return found

    def words_starting(self, field: str, prefix: str) -> dict[str, int]:
        """Index words starting with ``prefix`` and their document frequencies: the first
        EXPANSION_SCAN of each segment's lexicon (each walk yields frequencies as it goes;
        Whoosh's multi-segment walk looks every term up again). Typing extends a prefix one
        letter at a time, so a complete walk for a shorter prefix answers the longer ones."""
        for length in range(len(prefix) - 1, 0, -1):
            known = self._words.get((field, prefix[:length]))
            if known is not None and known[1]:
                return {w: n for w, n in known[0].items() if w.startswith(prefix)}
        found: dict[str, int] = {}
        complete = True
        for reader, _ in self.leaves:
            scanned = 0
            for term, info in islice(reader.iter_prefix(field, prefix), EXPANSION_SCAN):
                text = term.decode()
                found[text] = found.get(text, 0) + info.doc_frequency()
                scanned += 1
            complete = complete and scanned < EXPANSION_SCAN
        self._words[(field, prefix)] = (found, complete)
        if len(self._words) > 256:
            self._words.pop(next(iter(self._words)))
        return found

    def own_starting(self, sources: frozenset[str], prefix: str) -> frozenset[int]:
        """Documents of these sources (a document's own bibliographies) with a key, title word or
        surname starting with a prefix of at most SHORT_LENGTH letters. A table built once per index version
        from their stored fields, when they are few: the prefix's postings can cover most of a
        big library, and reading them at every first keystroke is what a small table saves."""
        table = self._own_tables.get(sources)
        if table is None:
            docs = self.union("source", sources)
            if len(docs) > OWN_TABLE_MAX:
                return self.docs("pre", prefix)
            table = {}
            for docnum in docs:
                stored = self.searcher.stored_fields(docnum)
                for word in (stored["key"].lower(), *stored.get("tw", "").split(), *" ".join(stored.get("aw", ())).split()):
                    for length in range(1, SHORT_LENGTH + 1):
                        table.setdefault(word[:length], set()).add(docnum)
            self._own_tables[sources] = table
            if len(self._own_tables) > 8:
                self._own_tables.pop(next(iter(self._own_tables)))
        return frozenset(table.get(prefix, ()))

    def blob(self, docnum: int) -> bytes:
        return self.store.blobs(self.searcher)[docnum]

    def stored(self, docnum: int) -> dict:
        """Stored fields (Whoosh decompresses and unpickles them: ~40 µs a document)."""
        fields = self._stored.get(docnum)
        if fields is None:
            fields = self._stored[docnum] = self.searcher.stored_fields(docnum)
            if len(self._stored) > CACHE_DOCUMENTS:
                self._stored.popitem(last=False)
        return fields

    def docs(self, field: str, term: str) -> frozenset[int]:
        found = self._cache.get((field, term))
        if found is not None:
            self._cache.move_to_end((field, term))
            return found
        found = frozenset(chain.from_iterable(self._read(field, term)))
        self._cache[(field, term)] = found
        self._cached += len(found)
        while self._cached > CACHE_POSTINGS and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            self._cached -= len(evicted)
        return found

    def union(self, field: str, terms) -> frozenset[int]:
        sets = [self.docs(field, t) for t in terms]
        return frozenset().union(*sets) if sets else frozenset()

    def _read(self, field: str, term: str):
        """A term's documents (global numbers, deletions removed), one block or segment at a time."""
        for reader, offset in self.leaves:
            try:
                matcher = reader.postings(field, term)
            except TermNotFound:
                continue
            deleted = reader.deleted_docs_set if reader.has_deletions() else None
            leaf = getattr(matcher, "child", matcher)  # unwrap the deletions filter: we subtract
            for ids in _blocks(leaf):
                if deleted:
                    ids = set(ids).difference(deleted)
                yield map(offset.__add__, ids) if offset else ids


def _blocks(matcher):
    """Posting ids a block at a time. Whoosh's per-posting API costs ~1 µs an id in Python; its
    blocks hold delta-encoded ids, which `accumulate` decodes in C."""
    if not hasattr(matcher, "_read_data") or getattr(matcher, "_byteids", False):
        yield tuple(matcher.all_ids())  # not a Whoosh 3 posting list: the slow, public way
        return
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        yield accumulate(matcher._data[0])
        matcher._next_block()


class PaperSearch:
    """Search over one store. Use from one thread at a time (the server keeps one search thread)."""

    def __init__(self, store: PaperStore):
        self.store = store
        self._view: IndexView | None = None

    def search(self, text: str, limit: int = 20, prefer: Iterable[str] = (),
               within: Iterable[str] | None = None) -> list[Hit]:
        """Ranked papers for typed text. ``prefer``: sources ranked first (the document's own
        bibliographies); ``within``: the only sources searched (None: all). Empty text lists
        papers of the preferred sources."""
        typed = parse_query(text)
        if not typed.raw and not prefer:
            return []
        try:
            return self._search(typed, limit, frozenset(prefer), None if within is None else frozenset(within))
        except DAMAGE_ERRORS as err:
            self.store.rebuild(f"could not be read ({type(err).__name__}: {err})")
            return []

    def has_key(self, key: str, within: Iterable[str] | None = None) -> bool:
        """Whether a paper has this key (or `ids` alias) in these sources: set look-ups, no
        decoding, so checking every citation of a long document stays cheap."""
        view = self.view()
        docs = view.docs("key", key)
        if not docs:  # an alias? (the keys field is lower case: a main key in other case is no match)
            docs = frozenset(d for d in view.docs("keys", key.lower())
                             if view.stored(d)["key"].lower() != key.lower())
        return bool(_keep(docs, view.sources(None if within is None else frozenset(within))))

    def view(self) -> IndexView:
        searcher = self.store.searcher()
        if self._view is None or self._view.searcher is not searcher:
            self._view = IndexView(self.store, searcher)
        return self._view

    def _search(self, typed: TypedQuery, limit: int, prefer: frozenset[str], within: frozenset[str] | None) -> list[Hit]:
        view = self.view()
        reader = view.searcher.reader()
        allowed = view.sources(within)
        candidates: set[int] = set()
        if not typed.raw:
            candidates.update(islice(_keep(view.union("source", prefer), allowed), CANDIDATES))
        if typed.key_like:
            keys = islice(reader.expand_prefix("keys", typed.key_like), SHORT_CAP if typed.short else KEY_PREFIX_CAP)
            candidates |= _keep(view.union("keys", (k.decode() for k in keys)), allowed)
        spellings = self._abbreviations(view, reader, typed)
        if typed.all_words:
            matches = _keep(self._matches(view, typed, spellings), allowed)
            if not matches and not candidates:
                typos = self._spellings(reader, typed)
                if typos:
                    spellings.update(typos)
                    matches = _keep(self._matches(view, typed, spellings), allowed)
            lead = _keep(self._lead(view, typed), allowed)
            if len(typed.all_words) > 2:
                lead &= matches
            candidates.update(islice(lead, SHORT_CAP if typed.short else LEAD_CAP))
            if prefer:
                typed_so_far = view.own_starting(prefer, typed.partial) if typed.short else matches
                candidates.update(islice(view.union("source", prefer) & typed_so_far,
                                         SHORT_CAP if typed.short else CANDIDATES))
            candidates.update(islice(matches, CANDIDATES))
        return self._rerank(view, typed, candidates, prefer, spellings)[:limit]

    def _matches(self, view: IndexView, typed: TypedQuery, spellings) -> frozenset[int]:
        """Documents with every typed word in title, authors, year, venue or ids; if fewer than
        CANDIDATES, also those where some words are only in the abstract. A few characters
        of a single word say too little to rank a library by: they match nothing here (keys and
        the document's own papers still come). A short half-typed word after finished words
        that few papers have is left to the re-rank: its prefix postings can cover most of a
        library, and reading them would cost more than the finished words narrowed."""
        if typed.short:
            return frozenset()
        words = list(typed.complete)
        if typed.partial:
            words.append(typed.partial)
        strong = [self._word_docs(view, typed, w, spellings, "strong") for w in typed.complete]
        if typed.partial:
            if not strong or len(typed.partial) > max(PREFIX_LENGTHS) or len(_intersect(strong)) > PARTIAL_AFTER:
                strong.append(self._word_docs(view, typed, typed.partial, spellings, "strong"))
            else:
                words.pop()
        found = _intersect(strong)
        if len(found) >= CANDIDATES:
            return found
        weak = [s | self._word_docs(view, typed, w, spellings, "weak") for s, w in zip(strong, words)]
        return found | (_intersect(weak) - found)

    def _word_docs(self, view: IndexView, typed: TypedQuery, word: str, spellings, field: str):
        spelled = _spelled(word, spellings)
        if word != typed.partial:
            return view.union(field, spelled)
        if field == "strong" and len(word) <= max(PREFIX_LENGTHS):
            return view.docs("pre", word) | view.docs("strong", word)
        if field == "weak":
            return view.union("weak", spelled)
        return view.union("strong", (t for s in spelled for t in self._expand(view, "strong", s)))

    def _lead(self, view: IndexView, typed: TypedQuery) -> frozenset[int]:
        """Papers whose title starts with the typed words: the strongest signal, and a cheap one."""
        if typed.short:  # a few letters say too little of a title: keys answer them
            return frozenset()
        head = typed.all_words[:2]
        lead = " ".join(head)
        if typed.partial and len(head) == len(typed.all_words):
            return view.union("lead", self._expand(view, "lead", lead))
        return view.docs("lead", lead)

    @staticmethod
    def _expand(view: IndexView, field: str, prefix: str) -> list[str]:
        """The words a half-typed prefix most likely means: the most frequent index words it starts."""
        frequency = view.words_starting(field, prefix)
        return sorted(frequency, key=frequency.get, reverse=True)[:EXPANSION_CAP]

    def _abbreviations(self, view: IndexView, reader, typed: TypedQuery) -> dict[str, list[str]]:
        """Finished words that are no index word but start some ("resid learn"): their expansions."""
        found = {}
        for word in typed.complete:
            if len(word) >= 3 and not reader.doc_frequency("strong", word) and not reader.doc_frequency("weak", word):
                expansions = self._expand(view, "strong", word)
                if expansions:
                    found[word] = expansions
        return found

    @staticmethod
    def _spellings(reader, typed: TypedQuery) -> dict[str, list[str]]:
        """Typo fixes: for each word of FUZZY_MIN_LENGTH+ letters that the index does not know,
        the known words (or, for the half-typed word, word starts) one edit away.

        Scans the lexicon words sharing the first letter (bounded), instead of Whoosh's FuzzyTerm,
        whose automaton costs thousands of term-table seeks per word."""
        fixes: dict[str, list[str]] = {}
        for word in typed.all_words:
            is_partial = word == typed.partial
            known = reader.doc_frequency("strong", word) or reader.doc_frequency("weak", word)
            if len(word) < FUZZY_MIN_LENGTH or (not is_partial and known):
                continue
            found: dict[str, int] = {}
            for term, info in islice(reader.iter_prefix("strong", word[0]), FUZZY_SCAN):
                text = term.decode()
                heads = (text[:len(word) - 1], text[:len(word)], text[:len(word) + 1]) if is_partial else (text,)
                for head in heads:
                    if one_edit_apart(word, head):
                        found[head] = max(found.get(head, 0), info.doc_frequency())
            if found:
                fixes[word] = [word, *sorted(found, key=found.get, reverse=True)[:EXPANSION_CAP]]
        return fixes

    @staticmethod
    def _rerank(view: IndexView, typed: TypedQuery, candidates: set[int], prefer: frozenset[str],
                spellings: dict[str, list[str]]) -> list[Hit]:
        relevance = Relevance(typed, prefer, spellings)
        hits = []
        for docnum in candidates:
            stored = view.stored(docnum)
            hit = Hit(key=stored["key"], title=stored.get("title", ""), surnames=stored.get("surnames", []),
                      year=stored.get("year"), venue=stored.get("venue", ""), source=stored.get("source", ""),
                      docnum=docnum, view=view)
            hit.score = relevance.score(hit, stored.get("tw", ""), stored.get("aw", []))
            hits.append(hit)
        hits.sort(key=lambda h: (-h.score, h.key))
        return hits


def _keep(docs: frozenset[int], allowed: frozenset[int] | None) -> frozenset[int]:
    return docs if allowed is None else docs & allowed


def _intersect(sets: list[frozenset[int]]) -> frozenset[int]:
    if not sets:
        return frozenset()
    ordered = sorted(sets, key=len)
    return ordered[0].intersection(*ordered[1:])


def _spelled(word: str, spellings: dict[str, list[str]] | None) -> list[str]:
    return (spellings or {}).get(word) or [word]


def one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance exactly 1 (one insertion, deletion, substitution or swap)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:] or (a[i + 1:i + 2] == b[i:i + 1] and a[i:i + 1] == b[i + 1:i + 2]
                                            and a[i + 2:] == b[i + 2:])
    if len(a) > len(b):
        return a[i + 1:] == b[i:]
    return a[i:] == b[i + 1:]


def _significant(title_words) -> list[str]:
    return [w for w in title_words if len(w) > 1 and w not in STOP_WORDS]


class Relevance:
    """The re-rank score of one query, prepared once: every typed word becomes substring needles
    over space-padded, pre-folded title and author words, so a candidate costs a few `in` tests.
    Weights were tuned with tests/bench/search_quality.py."""

    def __init__(self, typed: TypedQuery, prefer: frozenset[str], spellings: dict[str, list[str]]):
        self.typed = typed
        self.prefer = prefer
        last = len(typed.all_words) - 1
        # per typed word: needles that match a whole word, or a word start for the half-typed one
        self.needles = [
            [f" {w}" if typed.partial and i == last else f" {w} " for w in _spelled(word, spellings)]
            for i, word in enumerate(typed.all_words)
        ]
        start = " ".join(typed.all_words)
        self.title_start = f" {start}" if typed.partial else f" {start} "
        phrase = " ".join(_significant(typed.all_words))
        self.phrase = (f" {phrase}" if typed.partial else f" {phrase} ") if len(typed.all_words) > 1 else ""

    def score(self, hit: Hit, title_words: str, author_words: list[str]) -> float:
        typed = self.typed
        score = 0.0
        if typed.key_like:
            key = hit.key.lower()
            if key == typed.key_like:
                hit.why.append("key")
                score += 50.0
            elif key.startswith(typed.key_like):
                hit.why.append("key prefix")
                score += 12.0 + 4.0 * len(typed.key_like) / len(key)
        if self.needles:
            title = f" {title_words} "
            authors = f" {' '.join(author_words)} "
            first_author = f" {author_words[0]} " if author_words else ""
            year = f" {hit.year} " if hit.year else ""
            matched = 0.0
            by_first_author = False
            for needles in self.needles:
                if any(n in title or n in authors or n in year for n in needles):
                    matched += 1.0
                    by_first_author = by_first_author or any(n in first_author for n in needles)
                elif any(n in f" {' '.join(words(hit.venue))} " for n in needles):
                    matched += 0.6
                else:
                    matched += 0.2  # through the abstract or an id
            score += 6.0 * matched / len(self.needles)
            if title.startswith(self.title_start):
                hit.why.append("title start")
                score += 3.0
            if matched == len(self.needles) and self.phrase:
                significant = _significant(title_words.split())
                if self.phrase in f" {' '.join(significant)} ":
                    hit.why.append("title phrase")
                    score += 1.5
                score += len(self.needles) / max(len(significant), len(self.needles))  # shorter titles: more about it
            if by_first_author:
                hit.why.append("first author")
                score += 1.5
        if hit.source in self.prefer:
            hit.why.append("document bibliography")
            score += 2.5
        if hit.year:
            score += 0.002 * max(0, min(hit.year, 2100) - 1900)  # recent first among equals
        return score
