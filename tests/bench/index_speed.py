"""Speed and memory of the paper index on generated libraries (10k and 100k papers with abstracts).

Reports, per size: first indexing (papers/s, peak RSS of the indexing process), index size on
disk, a fresh process's open + first query, per-keystroke query p50/p95 while "typing" every
prefix of 3-word title queries from the first character (and of surname+year and key queries),
and re-indexing one changed file of 1k entries. Libraries are split into files of 1k entries, as
people keep them. Timings are wall-clock on whatever else the machine is doing: run it alone.

    python tests/bench/index_speed.py [--sizes 10000 100000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate, write_bib  # noqa: E402

FILE_SIZE = 1000

# Runs in a fresh interpreter so that RSS and "open + first query" are what a new process sees.
CHILD = r"""
import json, sys, time
started = time.perf_counter()
from papercite.index.store import PaperStore
from papercite.index.search import PaperSearch
mode, index_dir = sys.argv[1], sys.argv[2]
store = PaperStore(index_dir)
if mode == "index":
    report = store.update(sys.argv[3:])
    out = {"seconds": report.seconds, "papers": report.papers, "indexed": len(report.indexed)}
else:
    search = PaperSearch(store)
    hits = search.search(sys.argv[3])
    out = {"first_query_s": time.perf_counter() - started, "top": hits[0].key if hits else None}
    queries = json.loads(sys.stdin.read())
    lat = {}
    for kind, texts in queries.items():
        times = []
        for text in texts:
            t = time.perf_counter()
            search.search(text, limit=50)
            times.append((time.perf_counter() - t) * 1000)
        lat[kind] = times
    out["latency_ms"] = lat
    keys = json.loads(sys.argv[4])
    searcher = store.searcher()
    lookups, papers = [], []
    for key in keys:
        t = time.perf_counter()
        searcher.document_number(key=key)
        lookups.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        store.papers_for_key(key)
        papers.append((time.perf_counter() - t) * 1000)
    out["key_lookup_ms"] = sorted(lookups)[len(lookups) // 2]
    out["paper_for_key_ms"] = sorted(papers)[len(papers) // 2]
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the benchmark process across fork+exec
out["peak_rss_mb"] = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps(out))
"""


def run_child(*args: str, stdin: str = "") -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], input=stdin, capture_output=True, text=True,
                          check=False)
    if proc.returncode:
        sys.exit(f"child failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def typing(text: str) -> list[str]:
    """Every prefix, from the first character: what an editor asks while someone types."""
    return [text[:i] for i in range(1, len(text) + 1)]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def bench(size: int, work: Path, rng: random.Random) -> dict:
    papers = generate(size)
    lib = work / f"lib{size}"
    shutil.rmtree(lib, ignore_errors=True)
    files = [write_bib(papers[i:i + FILE_SIZE], lib / f"part{i // FILE_SIZE:04d}.bib")
             for i in range(0, size, FILE_SIZE)]
    index_dir = work / f"index{size}"
    shutil.rmtree(index_dir, ignore_errors=True)
    t = time.perf_counter()
    built = run_child("index", str(index_dir), *map(str, files))
    wall = time.perf_counter() - t
    size_mb = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file()) / 1e6

    sample = rng.sample(papers, 40)
    queries = {"title typing": [], "surname+year typing": [], "key typing": []}
    for p in sample:
        title = [w for w in re.findall(r"\w+", p.title.lower()) if len(w) > 2][:3]
        queries["title typing"] += typing(" ".join(title))
        queries["surname+year typing"] += typing(f"{p.authors[0][0]} {p.year}")
        queries["key typing"] += typing(p.key[:12])
    keys = json.dumps([p.key for p in rng.sample(papers, 200)])
    searched = run_child("search", str(index_dir), "attention", keys, stdin=json.dumps(queries))

    changed = files[len(files) // 2]
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("title = {", "title = {Revised ", 1), encoding="utf-8")
    reindexed = run_child("index", str(index_dir), *map(str, files))

    return {
        "size": size,
        "index_s": built["seconds"], "index_wall_s": wall, "papers_per_s": size / built["seconds"],
        "index_peak_rss_mb": built["peak_rss_mb"], "index_mb": size_mb,
        "open_first_query_s": searched["first_query_s"], "search_peak_rss_mb": searched["peak_rss_mb"],
        "latency": {kind: (pct(v, .5), pct(v, .95), max(v), len(v)) for kind, v in searched["latency_ms"].items()},
        "all_typing": (pct(sum(searched["latency_ms"].values(), []), .5),
                       pct(sum(searched["latency_ms"].values(), []), .95)),
        "reindex_one_file_s": reindexed["seconds"], "reindexed_files": reindexed["indexed"],
        "key_lookup_ms": searched["key_lookup_ms"], "paper_for_key_ms": searched["paper_for_key_ms"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, help="keep generated libraries and indexes here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="papercite-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(11)
    for size in args.sizes:
        r = bench(size, work, rng)
        print(f"\n== {size:,} papers ==")
        print(f"first indexing: {r['index_s']:.1f} s ({r['papers_per_s']:.0f} papers/s), "
              f"peak RSS {r['index_peak_rss_mb']:.0f} MB, index {r['index_mb']:.0f} MB on disk")
        print(f"fresh process, import + open + first query: {r['open_first_query_s'] * 1000:.0f} ms; "
              f"search process peak RSS {r['search_peak_rss_mb']:.0f} MB")
        for kind, (p50, p95, worst, n) in r["latency"].items():
            print(f"  {kind:22} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  max {worst:6.1f} ms  ({n} keystrokes)")
        print(f"  {'all keystrokes':22} p50 {r['all_typing'][0]:6.2f} ms  p95 {r['all_typing'][1]:6.2f} ms")
        print(f"exact key lookup (open searcher), median: {r['key_lookup_ms'] * 1000:.0f} µs; "
              f"with the paper decoded: {r['paper_for_key_ms'] * 1000:.0f} µs")
        print(f"re-index after one 1k-entry file changed: {r['reindex_one_file_s']:.2f} s "
              f"({r['reindexed_files']} file re-read)")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
