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

Whoosh's own matchers and scoring are not used on this path: in pure Python a posting costs
more than the whole re-rank, which is what made common words slow in a large library
(measured: README, Benchmarks).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate, chain, islice

from whoosh.reading import TermNotFound

from papercite.index.model import Paper
from papercite.index.store import KEY_PREFIX_LENGTHS, PREFIX_LENGTHS, PaperStore, decode_paper
from papercite.index.text import STOP_WORDS, fold, words

CANDIDATES = 60  # documents re-ranked from the text match (beyond key and title-start ones)
LEAD_CAP = 50  # papers whose title starts with the typed words
KEY_PREFIX_CAP = 40  # papers taken by key prefix (beyond the exact key)
EXPANSION_SCAN = 100  # lexicon words looked at for a half-typed word of 4+ letters...
EXPANSION_CAP = 8  # ...of which the most frequent stand for it
FUZZY_MIN_LENGTH = 4
FUZZY_SCAN = 1500  # lexicon words (per segment and start) checked for a typo fix
CACHE_POSTINGS = 80_000  # document numbers kept in the postings cache (~6 MB at most: an int in a set costs ~70 bytes)
CACHE_DOCUMENTS = 800  # documents' stored fields kept (~2 MB)
SHORT_LENGTH = 3  # a single half-typed word this short is answered by keys and the document's own papers only
SINGLE_CAP = 20  # keys re-ranked for a short half-typed word; for a longer one, papers of each kind (title
#                 starts, own papers, other matches) when keys fill most of the list
OWN_TABLE_MAX = 5_000  # own-bibliography papers indexed by prefix in memory for the first keystrokes
PARTIAL_AFTER = 300  # finished words matching fewer papers than this leave a short half-typed word to the re-rank
HELD_LEXICONS = ("strong", "lead")  # the fields whose words a half-typed word expands to, held with the index
HOLD_MAX = 15_000  # an index of at most this many papers is held in memory (see IndexView.hold): ~2.5 KB a paper,
#                   ~5 KB with the completion rows the server makes of them (RSS 65 -> 117 MB at 10k)


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

    @property
    def single(self) -> bool:
        """One half-typed word and nothing else."""
        return bool(self.key_like) and not self.complete and bool(self.partial)

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

    @classmethod
    def from_stored(cls, view: IndexView, docnum: int, stored: dict) -> Hit:
        """The hit of a document, from its stored fields (no record decoded)."""
        return cls(key=stored["key"], title=stored.get("title", ""), surnames=stored.get("surnames", []),
                   year=stored.get("year"), venue=stored.get("venue", ""), source=stored.get("source", ""),
                   docnum=docnum, view=view)

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
        self._held: dict[int, dict] = {}  # stored fields of every document, once held (see hold)
        self._key_table: tuple[list[str], list[int]] | None = None  # sorted keys and aliases, their documents
        self._lexicons: dict[str, tuple[list[str], list[int]]] = {}  # once held: a field's sorted words, their frequencies
        self._all_sources: frozenset[str] | None = None
        self._words: dict[tuple[str, str], tuple[dict[str, int], bool, int]] = {}
        self._own_tables: dict[frozenset[str], tuple[dict[str, frozenset[int]], dict[int, str]]] = {}
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

    def words_starting(self, field: str, prefix: str, scan: int = EXPANSION_SCAN) -> dict[str, int]:
        """Index words starting with ``prefix`` and their document frequencies: the first ``scan``
        of each segment's lexicon (each walk yields frequencies as it goes; Whoosh's multi-segment
        walk looks every term up again in every segment). Typing extends a prefix one letter at a
        time, so a complete walk for a shorter prefix answers the longer ones."""
        lexicon = self._lexicons.get(field)
        if lexicon is not None:
            terms, frequencies = lexicon
            return {terms[at]: frequencies[at] for at in islice(_starting(terms, prefix), scan)}
        for length in range(len(prefix), 0, -1):
            known = self._words.get((field, prefix[:length]))
            if known is not None and (known[1] or (length == len(prefix) and known[2] >= scan)):
                return {w: n for w, n in known[0].items() if w.startswith(prefix)}
        found: dict[str, int] = {}
        complete = True
        for reader, _ in self.leaves:
            scanned = 0
            for term, info in islice(reader.iter_prefix(field, prefix), scan):
                text = term.decode()
                found[text] = found.get(text, 0) + info.doc_frequency()
                scanned += 1
            complete = complete and scanned < scan
        self._words[(field, prefix)] = (found, complete, scan)
        if len(self._words) > 256:
            self._words.pop(next(iter(self._words)))
        return found

    def own_starting(self, sources: frozenset[str], prefix: str) -> frozenset[int] | None:
        """Documents of these sources (a document's own bibliographies) with a key, title word,
        author word or venue word starting with ``prefix``; None when they are too many to
        table. A short prefix's postings can cover most of a big library, and a single half-typed
        word is answered from a sample of them (see _matches), which would miss the document's
        own papers. The table (own_table) is made once per index version; a longer prefix
        filters what the one a letter shorter found, as typing goes."""
        table = self.own_table(sources)
        if table is None:
            return None
        starts, doc_words = table
        found = starts.get(prefix)
        if found is None:
            shorter = self.own_starting(sources, prefix[:-1]) if len(prefix) > 1 else frozenset()
            needle = f" {prefix}"
            found = frozenset(d for d in shorter if needle in doc_words[d])
            if len(starts) < 4096:
                starts[prefix] = found
        return found

    def own_table(self, sources: frozenset[str]) -> tuple[dict[str, frozenset[int]], dict[int, str]] | None:
        """For own_starting: documents by the first one and two letters of their words, and
        each document's words as one string, each after a space (a prefix test is then one
        substring search in C); kept, as it is not cheap to make."""
        table = self._own_tables.get(sources)
        if table is None:
            docs = self.union("source", sources)
            if len(docs) > OWN_TABLE_MAX:
                return None
            doc_words: dict[int, str] = {}
            by_start: dict[str, set[int]] = {}
            for docnum in docs:
                stored = self.stored(docnum)
                its_words = (stored["key"].lower(), *stored.get("tw", "").split(),
                             *" ".join(stored.get("aw", ())).split(), *words(stored.get("venue", "")))
                doc_words[docnum] = " " + " ".join(its_words)
                for word in its_words:
                    by_start.setdefault(word[:1], set()).add(docnum)
                    by_start.setdefault(word[:2], set()).add(docnum)
            starts = {start: frozenset(found) for start, found in by_start.items()}
            table = self._own_tables[sources] = (starts, doc_words)
            if len(self._own_tables) > 8:
                self._own_tables.pop(next(iter(self._own_tables)))
        return table

    def first_docs(self, field: str, terms: Iterable[str], enough: int, allowed: frozenset[int] | None) -> frozenset[int]:
        """Documents of these terms (and of ``allowed``), reading posting blocks only until
        ``enough`` are found: all of them if fewer. For a single half-typed word, whose
        expansions can hold a fifth of a big library, any ``enough`` of them rank as well as
        all (the re-rank has nothing else to tell them apart by)."""
        found: set[int] = set()
        for term in terms:
            cached = self._cache.get((field, term))
            for ids in (cached,) if cached is not None else self._read(field, term):
                found.update(ids if allowed is None else allowed.intersection(ids))
                if len(found) >= enough:
                    return frozenset(found)
        return frozenset(found)

    def blob(self, docnum: int) -> bytes:
        return self.store.blobs(self.searcher)[docnum]

    def stored(self, docnum: int) -> dict:
        """Stored fields (Whoosh decompresses and unpickles them, held papers excepted)."""
        fields = self._held.get(docnum) or self._stored.get(docnum)
        if fields is None:
            fields = self._stored[docnum] = self.searcher.stored_fields(docnum)
            if len(self._stored) > CACHE_DOCUMENTS:
                self._stored.popitem(last=False)
        return fields

    def hold(self) -> Iterator[int | None]:
        """Read every live document's stored fields into memory, then table every key and alias
        and the words of HELD_LEXICONS; a generator, so that the caller paces the work (the
        search thread has keystrokes to answer): it yields each document held, and None where it
        may pause while tabling. Once held, no keystroke reads a stored field or walks a lexicon:
        in an index of HOLD_MAX papers or fewer, that is most of a keystroke's search."""
        if self._lexicons:  # held already
            yield from self._held
            return
        for docnum in self.searcher.reader().all_doc_ids():
            if docnum not in self._held:
                self._held[docnum] = self._stored.pop(docnum, None) or self.searcher.stored_fields(docnum)
            yield docnum
        table = [(fields["key"].lower(), docnum) for docnum, fields in self._held.items()]
        main_keys = {key for key, _ in table}
        for leaf in self.leaves:  # `ids` aliases are not stored: the index's keys that are nobody's main key
            for count, term in enumerate(leaf[0].lexicon("keys")):
                if (alias := term.decode()) not in main_keys:
                    table.extend((alias, docnum) for ids in self._read("keys", alias, [leaf]) for docnum in ids)
                if count % 1000 == 999:
                    yield None
        table.sort()
        self._key_table = ([key for key, _ in table], [docnum for _, docnum in table])
        for lexicon_field in HELD_LEXICONS:
            frequency: dict[str, int] = {}
            for reader, _ in self.leaves:
                for count, (term, info) in enumerate(reader.iter_field(lexicon_field)):
                    text = term.decode()
                    frequency[text] = frequency.get(text, 0) + info.doc_frequency()
                    if count % 1000 == 999:
                        yield None
            terms = sorted(frequency)
            self._lexicons[lexicon_field] = (terms, [frequency[t] for t in terms])

    def docs(self, field: str, term: str, leaves=None) -> frozenset[int]:
        found = self._cache.get((field, term))
        if found is not None:
            self._cache.move_to_end((field, term))
            return found
        found = frozenset(chain.from_iterable(self._read(field, term, leaves)))
        self._cache[(field, term)] = found
        self._cached += len(found)
        while self._cached > CACHE_POSTINGS and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            self._cached -= len(evicted)
        return found

    def union(self, field: str, terms) -> frozenset[int]:
        sets = [self.docs(field, t) for t in terms]
        return frozenset().union(*sets) if sets else frozenset()

    def _read(self, field: str, term: str, leaves=None):
        """A term's documents (global numbers, deletions removed), one block or segment at a time;
        ``leaves``: only these (reader, offset) pairs, when the caller knows which hold the term."""
        for reader, offset in self.leaves if leaves is None else leaves:
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

    def keys_starting(self, prefix: str, cap: int, allowed: frozenset[int] | None) -> frozenset[int]:
        """Documents (of ``allowed``) with a key or alias starting with ``prefix`` (lower case):
        the exact key, and ``cap`` more. A prefix of KEY_PREFIX_LENGTHS is one indexed term,
        read until ``cap`` are found; shorter and longer ones walk the key lexicon (its first
        ``cap`` keys: a short prefix's are the same at every keystroke, a long one has few).
        Each segment's lexicon is walked on its own and a key's postings are read only in the
        segments holding it: Whoosh's multi-segment walk and look-ups probe every segment for
        every key (a big library is indexed in several)."""
        if self._key_table is not None:
            keys, docnums = self._key_table
            found: set[int] = set()
            for at in _starting(keys, prefix):
                if len(found) >= cap and keys[at] != prefix:
                    break
                if allowed is None or docnums[at] in allowed:
                    found.add(docnums[at])
            return frozenset(found)
        if len(prefix) in KEY_PREFIX_LENGTHS:
            return self.first_docs("kpre", [prefix], cap, allowed) | _keep(self.docs("keys", prefix), allowed)
        holders: dict[str, list] = {}
        for leaf in self.leaves:
            for term in islice(leaf[0].expand_prefix("keys", prefix), cap):
                holders.setdefault(term.decode(), []).append(leaf)
        return _keep(frozenset().union(*(self.docs("keys", key, holders[key]) for key in sorted(holders)[:cap])), allowed)


def _blocks(matcher):
    """Posting ids a block at a time. Whoosh's per-posting API is a Python call an id; its
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
        return self._search(typed, limit, frozenset(prefer), None if within is None else frozenset(within))

    def has_key(self, key: str, within: Iterable[str] | None = None) -> bool:
        """Whether a paper has this key (or `ids` alias) in these sources: set look-ups, no
        decoding, so checking every citation of a long document stays cheap."""
        view = self.view()
        docs = view.docs("key", key)
        if not docs:  # an alias? (the keys field is lower case: a main key in other case is no match)
            docs = frozenset(d for d in view.docs("keys", key.lower())
                             if view.stored(d)["key"].lower() != key.lower())
        return bool(_keep(docs, view.sources(None if within is None else frozenset(within))))

    def hold(self) -> Iterator[Hit | None] | None:
        """Every paper, unranked, held in memory as the caller iterates (see IndexView.hold; None
        between papers: a pause point), for a caller preparing what it shows ahead of typing;
        None when the index is too big to hold."""
        view = self.view()
        if view.searcher.doc_count() > HOLD_MAX:
            return None
        return (None if docnum is None else Hit.from_stored(view, docnum, view.stored(docnum))
                for docnum in view.hold())

    def prepare(self, prefer: Iterable[str]) -> None:
        """Make now what the first keystroke in a document preferring these sources (its own
        bibliographies) would otherwise wait for: the table of their papers' words."""
        self.view().own_table(frozenset(prefer))

    def papers(self, sources: Iterable[str]) -> Iterator[Hit]:
        """Every paper of these sources, unranked."""
        view = self.view()
        for docnum in sorted(view.union("source", sources)):
            yield Hit.from_stored(view, docnum, view.stored(docnum))

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
        keys = view.keys_starting(typed.key_like, SINGLE_CAP if typed.short else KEY_PREFIX_CAP, allowed) \
            if typed.key_like else frozenset()
        candidates |= keys
        # one half-typed word: each other kind of match has the room keys leave in the list
        room = (SINGLE_CAP if typed.short else max(SINGLE_CAP, limit - len(keys))) if typed.single else 0
        spellings = self._abbreviations(view, reader, typed)
        if typed.all_words:
            own = view.own_starting(prefer, typed.partial) if prefer and typed.single else None
            sample = room if own is not None or not prefer else 0  # a sample of matches misses no own paper
            matches = _keep(self._matches(view, typed, spellings, allowed, sample), allowed)
            if not matches and not candidates:
                typos = self._spellings(view, reader, typed)
                if typos:
                    spellings.update(typos)
                    matches = _keep(self._matches(view, typed, spellings, allowed, sample), allowed)
            lead = self._lead(view, typed, allowed, room)
            if len(typed.all_words) > 2:
                lead &= matches
            candidates.update(islice(lead, room or LEAD_CAP))
            if prefer:
                if own is None:
                    own = view.union("source", prefer) & (view.docs("pre", typed.partial) if typed.short else matches)
                candidates.update(islice(_keep(own, allowed), room or CANDIDATES))
            candidates.update(islice(matches, room or CANDIDATES))
        return self._rerank(view, typed, candidates, prefer, spellings)[:limit]

    def _matches(self, view: IndexView, typed: TypedQuery, spellings, allowed: frozenset[int] | None,
                 sample: int) -> frozenset[int]:
        """Documents with every typed word in title, authors, year, venue or ids; if fewer than
        CANDIDATES, also those where some words are only in the abstract. A few characters
        of a single word say too little to rank a library by: they match nothing here (keys and
        the document's own papers still come); with ``sample``, a single longer half-typed word
        matches that many of its documents, not all. A short half-typed word after finished
        words that few papers have is left to the re-rank: its prefix postings can cover most
        of a library, and reading them would cost more than the finished words narrowed."""
        if typed.short:
            return frozenset()
        if sample:
            expansions = (t for s in _spelled(typed.partial, spellings) for t in self._expand(view, "strong", s))
            found = view.first_docs("strong", expansions, sample, allowed)
            if len(found) >= sample:
                return found
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

    def _lead(self, view: IndexView, typed: TypedQuery, allowed: frozenset[int] | None, room: int) -> frozenset[int]:
        """Papers (of ``allowed``) whose title starts with the typed words: the strongest signal,
        and a cheap one; for a single word, ``room`` of them (see _matches' sample)."""
        if typed.short:  # a few letters say too little of a title: keys answer them
            return frozenset()
        head = typed.all_words[:2]
        lead = " ".join(head)
        if typed.partial and len(head) == len(typed.all_words):
            expansions = self._expand(view, "lead", lead)
            if room:
                return view.first_docs("lead", expansions, room, allowed)
            return _keep(view.union("lead", expansions), allowed)
        return _keep(view.docs("lead", lead), allowed)

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
    def _spellings(view: IndexView, reader, typed: TypedQuery) -> dict[str, list[str]]:
        """Typo fixes: for each word of FUZZY_MIN_LENGTH+ letters that the index does not know,
        the known words (or, for the half-typed word, word starts) one edit away.

        Scans the lexicon words that could be the word with one edit (see _typo_starts), a
        bounded walk per start, instead of Whoosh's FuzzyTerm, whose automaton costs thousands
        of term-table seeks per word. Words with digits are keys or names of things ("gpt4"),
        not misspelt prose: none are fixed."""
        fixes: dict[str, list[str]] = {}
        for word in typed.all_words:
            is_partial = word == typed.partial
            if len(word) < FUZZY_MIN_LENGTH or any(c.isdigit() for c in word):
                continue
            if not is_partial and (reader.doc_frequency("strong", word) or reader.doc_frequency("weak", word)):
                continue
            found: dict[str, int] = {}
            for start, scan in _typo_starts(word):
                for text, frequency in view.words_starting("strong", start, scan).items():
                    heads = (text[:len(word) - 1], text[:len(word)], text[:len(word) + 1]) if is_partial else (text,)
                    for head in heads:
                        if one_edit_apart(word, head):
                            found[head] = max(found.get(head, 0), frequency)
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
            hit = Hit.from_stored(view, docnum, stored)
            hit.score = relevance.score(hit, stored.get("tw", ""), stored.get("aw", []))
            hits.append(hit)
        hits.sort(key=lambda h: (-h.score, h.key))
        return hits


def _starting(terms: list[str], prefix: str) -> Iterator[int]:
    """Positions in the sorted ``terms`` of those starting with ``prefix``, in order."""
    at = bisect_left(terms, prefix)
    while at < len(terms) and terms[at].startswith(prefix):
        yield at
        at += 1


def _keep(docs: frozenset[int], allowed: frozenset[int] | None) -> frozenset[int]:
    return docs if allowed is None else docs & allowed


def _intersect(sets: list[frozenset[int]]) -> frozenset[int]:
    if not sets:
        return frozenset()
    ordered = sorted(sets, key=len)
    return ordered[0].intersection(*ordered[1:])


def _spelled(word: str, spellings: dict[str, list[str]] | None) -> list[str]:
    return (spellings or {}).get(word) or [word]


def _typo_starts(word: str) -> list[tuple[str, int]]:
    """Lexicon prefixes (and how many words to scan from each) under which every word one edit
    from ``word`` lies, assuming its first letter is right: its first two letters (an edit from
    the third letter on), and the three-letter starts an edit of the second letter leaves:
    inserted or swapped (first and third letters), deleted or replaced (any letter, then the
    second or third)."""
    first = word[0]
    starts = {word[:2]: FUZZY_SCAN, first + word[2]: FUZZY_SCAN}
    for letter in "abcdefghijklmnopqrstuvwxyz":
        starts.setdefault(first + letter + word[1], FUZZY_SCAN // 10)
        starts.setdefault(first + letter + word[2], FUZZY_SCAN // 10)
    return list(starts.items())


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
