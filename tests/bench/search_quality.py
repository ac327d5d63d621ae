"""Search-quality benchmark on real libraries: can a person find each paper from what they remember?

For every paper of each library it makes the queries people type and reports recall@1, recall@5
and MRR per kind:
- title words: 2-3 consecutive significant title words (from a seeded random position);
- surname + year: the first author's surname and the year, where at most 5 papers share both;
- key prefix: the shortest prefix (4+ characters) that only this paper's key starts with;
- exact key;
- one typo: two title words, one of 5+ letters with one edit (deletion, substitution or swap).
A result counts when it is the paper, or a duplicate entry of it (same title and year).

    python tests/bench/search_quality.py [--corpora DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from papercite.index.model import Paper
from papercite.index.search import PaperSearch
from papercite.index.store import PaperStore
from papercite.index.text import STOP_WORDS, words

REPO = Path(__file__).resolve().parents[2]
LIBRARIES = ["bib/bbt-mendeley-export.bib", "bib/biblatex-examples.bib", "papers/daily-papers-listing.txt"]
TARGETS = {"title words": 0.98, "surname + year": 0.95, "one typo": 0.90, "key prefix": 0.99, "exact key": 0.99}
TARGET_AT = {"title words": 5, "surname + year": 5, "one typo": 5, "key prefix": 1, "exact key": 1}


def significant(title: str) -> list[str]:
    return [w for w in words(title) if w not in STOP_WORDS and len(w) > 1]


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["delete", "substitute", "swap"])
    if kind == "delete":
        return word[:i] + word[i + 1:]
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    letters = "abcdefghijklmnopqrstuvwxyz".replace(word[i], "")
    return word[:i] + rng.choice(letters) + word[i + 1:]


def queries_for(paper: Paper, everything: list[Paper], rng: random.Random, shared: Counter) -> list[tuple[str, str]]:
    out = []
    title = significant(paper.title)
    if len(title) >= 2:
        n = min(len(title), rng.choice([2, 3]))
        start = rng.randrange(len(title) - n + 1)
        out.append(("title words", " ".join(title[start:start + n])))
        long_words = [i for i, w in enumerate(title) if len(w) >= 5]
        if long_words:
            i = rng.choice(long_words)
            other = title[i + 1] if i + 1 < len(title) else title[i - 1]
            out.append(("one typo", f"{typo(title[i], rng)} {other}"))
    if paper.authors and paper.year and shared[(paper.authors[0].surname.lower(), paper.year)] <= 5:
        out.append(("surname + year", f"{paper.authors[0].surname} {paper.year}"))
    keys = [p.key.lower() for p in everything if p.key != paper.key]
    key = paper.key.lower()
    prefix = next((key[:n] for n in range(4, len(key) + 1) if not any(k.startswith(key[:n]) for k in keys)), key)
    out.append(("key prefix", prefix))
    out.append(("exact key", paper.key))
    return out


def evaluate(corpora: Path, verbose: bool) -> dict[str, dict[str, float]]:
    rng = random.Random(2026)
    ranks: dict[str, list[int | None]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        store = PaperStore(Path(tmp) / "index")
        report = store.update([corpora / lib for lib in LIBRARIES])
        search = PaperSearch(store)
        libraries = {lib: store.papers_in(str((corpora / lib).resolve())) for lib in LIBRARIES}
        everything = [p for papers in libraries.values() for p in papers]
        for lib, papers in libraries.items():
            shared = Counter((p.authors[0].surname.lower(), p.year) for p in papers if p.authors and p.year)
            print(f"{lib}: {len(papers)} papers", file=sys.stderr)
            for paper in papers:
                same = {(paper.title, paper.year)}
                for kind, text in queries_for(paper, everything, rng, shared):
                    hits = search.search(text, limit=20)
                    rank = next((i + 1 for i, h in enumerate(hits)
                                 if h.key == paper.key or ((h.title, h.year) in same and paper.title)), None)
                    ranks[kind].append(rank)
                    if verbose and (rank is None or rank > TARGET_AT[kind]):
                        print(f"  miss {kind:15} {text!r:40} -> {paper.key} (rank {rank}); "
                              f"top: {[h.key for h in hits[:3]]}", file=sys.stderr)
        print(f"indexed {report.papers} papers in {report.seconds:.1f} s", file=sys.stderr)
    results = {}
    for kind, found in ranks.items():
        n = len(found)
        results[kind] = {
            "queries": n,
            "recall@1": sum(1 for r in found if r == 1) / n,
            "recall@5": sum(1 for r in found if r and r <= 5) / n,
            "mrr": sum(1 / r for r in found if r) / n,
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=REPO.parent / "shared" / "corpora")
    parser.add_argument("--verbose", action="store_true", help="list every query that missed its target")
    args = parser.parse_args()
    if not args.corpora.is_dir():
        print(f"corpora not found at {args.corpora}", file=sys.stderr)
        return 2
    results = evaluate(args.corpora, args.verbose)
    print(f"{'query kind':16} {'queries':>7} {'recall@1':>9} {'recall@5':>9} {'MRR':>6}  target")
    ok = True
    for kind, r in results.items():
        at = TARGET_AT[kind]
        met = r[f"recall@{at}"] >= TARGETS[kind]
        ok &= met
        print(f"{kind:16} {r['queries']:7d} {r['recall@1']:9.3f} {r['recall@5']:9.3f} {r['mrr']:6.3f}  "
              f"recall@{at} >= {TARGETS[kind]} {'met' if met else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
