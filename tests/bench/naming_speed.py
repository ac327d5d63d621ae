"""Cost of the workspace fixes on generated libraries: the prose hover's name look-up (sent at every
pause of the mouse), "cite this paper" on a pasted reference string, the closest keys of a misspelt
key (quick fixes, hover), and the `command` member added to completion items of library papers.

Reports p50/p95 in ms per size, first (cold: nothing cached for this index version) and again
(warm), plus how often the right paper is named. Wall-clock: run it alone.

    python tests/bench/naming_speed.py [--sizes 10000 100000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate, write_bib  # noqa: E402

from papercite.index.match import paper_named  # noqa: E402
from papercite.index.names import PaperNames  # noqa: E402
from papercite.index.store import PaperStore  # noqa: E402
from papercite.server.lsp.entries import EntryCommands  # noqa: E402
from papercite.server.documents.library import Library, Scope  # noqa: E402

FILE_SIZE = 1000
PROSE = ("The results of the proposed method show clear improvements across many settings, and the "
         "ablation confirms that each component matters for the final performance on the benchmark.")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return (time.perf_counter() - started) * 1000, result


def bench(size: int, work: Path, rng: random.Random) -> dict:
    papers = generate(size)
    index_dir = work / f"index{size}"
    files = [work / f"lib{size}" / f"part{i // FILE_SIZE:04d}.bib" for i in range(0, size, FILE_SIZE)]
    if not index_dir.exists():
        for i, path in zip(range(0, size, FILE_SIZE), files):
            write_bib(papers[i:i + FILE_SIZE], path)
        PaperStore(index_dir).update(files)
    library = Library(index_dir)
    scope = Scope(own=files[:1], declared=True)
    library.global_files = files[1:]
    within = library.visible_sources(scope)
    names = PaperNames(library.store)
    sample = rng.sample(papers, 200)

    hovers: list[tuple[str, int, str | None]] = []  # (line, column, expected key or None when ambiguous)
    for paper in sample:
        head = paper.title.partition(":")[0]
        if ":" in paper.title:
            line = f"As {head} shows, this works."
            hovers.append((line, 4, paper.key))
        line = f"In {paper.title} the authors show it."
        hovers.append((line, 3 + len(paper.title) // 2, paper.key))
    words = list(re.finditer(r"\w+", PROSE))
    hovers += [(PROSE, m.start() + 1, None) for m in words]
    cold, warm, named, wanted = [], [], 0, 0
    for line, column, key in hovers:
        ms, found = timed(names.named_at, line, column, within)
        cold.append(ms)
        wanted += key is not None
        named += key is not None and found is not None and found.key == key
    for line, column, _ in hovers:
        warm.append(timed(names.named_at, line, column, within)[0])

    references = [f"{p.authors[0][0]}, {p.authors[0][1][0]}. et al. ({p.year}). {p.title}. {p.venue}." for p in sample[:60]]
    cite, cited = [], 0
    for paper, reference in zip(sample, references):
        ms, hit = timed(paper_named, reference, library.searcher, scope.own_sources, within)
        cite.append(ms)
        cited += hit is not None and hit.key == paper.key
    prose_cite = [timed(paper_named, PROSE[:120], library.searcher, scope.own_sources, within)[0] for _ in range(5)]

    typos = []  # (typo, right key): two neighbours swapped, a letter dropped, a letter doubled
    for n, paper in enumerate(sample[:90]):
        key, i = paper.key, rng.randrange(1, len(paper.key) - 2)
        typo = [key[:i] + key[i + 1] + key[i] + key[i + 2:], key[:i] + key[i + 1:], key[:i] + key[i] + key[i:]][n % 3]
        if typo != key:  # (swapping two equal letters changes nothing)
            typos.append((typo, key))
    closest, fixed = [], 0
    for typo, key in typos:
        ms, found = timed(library.closest_keys, typo, scope)
        closest.append(ms)
        fixed += found[:1] == [key]

    commands = EntryCommands("file:///thesis/intro.tex", scope.own_sources, Path("/thesis/refs.bib"))
    members = [timed(lambda: [commands.member(p.key, str(files[1])) for p in sample[:50]])[0] for _ in range(50)]
    return {
        "size": size,
        "prose hover: cold p50/p95": (pct(cold, .5), pct(cold, .95)),
        "prose hover: warm p50/p95": (pct(warm, .5), pct(warm, .95)),
        "prose hover: named right (of names asked; ambiguous names counted as misses)": f"{named}/{wanted}",
        "cite this paper, reference string p50/p95": (pct(cite, .5), pct(cite, .95)),
        "cite this paper: right paper": f"{cited}/{len(references)}",
        "cite this paper, 120 chars of prose p50": pct(prose_cite, .5),
        "closest keys p50/p95": (pct(closest, .5), pct(closest, .95)),
        "closest keys: right key first": f"{fixed}/{len(typos)}",
        "completion: command members for 50 items p50": pct(members, .5),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, help="keep generated libraries and indexes here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="papercite-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    for size in args.sizes:
        print(json.dumps(bench(size, work, rng), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
