"""Latency of the bibliography-side features through `papercite serve`, as an editor drives them:
workspace symbols typed letter by letter (VS Code asks at every keystroke), inlay hints for a
screenful of a long thesis, the outline of an open 1k-entry .bib, and that .bib's diagnostics after
an edit (the debounce included).

The library is tests/bench/synthetic.py's, in files of 1k entries, given as the `libraries`
setting (so workspace symbols search all of it); the thesis (about 2,000 citations of random
library papers, ~300 KB) declares the first file. Uses server_latency.py's client and library.
Timings are wall-clock on whatever else the machine is doing: run it alone.

    python tests/bench/workspace_features.py [--size 100000] [--work DIR] [--reuse] [--samples 30]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_latency import Client, first_indexing, make_library, pct, server_command  # noqa: E402

CITATIONS = 2_000
SCREEN_LINES = 60


def thesis(papers, rng: random.Random) -> str:
    lines = ["\\documentclass{report}", "\\begin{document}"]
    for _ in range(CITATIONS // 2):
        a, b = rng.sample(papers[:1000], 2)
        lines.append(f"As argued in prior work on this question \\cite{{{a.key}}}, and later \\citep[p.~3]{{{b.key}}} "
                     f"the results hold; we follow the {rng.choice(['method', 'setup', 'analysis'])} closely.")
    lines += ["\\bibliography{../lib/part0000}", "\\end{document}", ""]
    return "\n".join(lines)


def wait_for(client: Client, method: str, uri: str, after: float, timeout: float = 60.0) -> float:
    """Seconds from `after` to the first `method` notification about `uri` parsed after it."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for parsed, name, params in list(client.notifications):
            if name == method and params.get("uri") == uri and parsed > after:
                return parsed - after
        time.sleep(0.005)
    raise RuntimeError(f"no {method} for {uri}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="papercite-wsf-"))
    rng = random.Random(11)
    papers, lib, files = make_library(args.size, work, args.reuse)
    index = work / f"index{args.size}"
    if not (args.reuse and (index / "catalogue.json").exists()):
        print(f"indexing {args.size} papers: {first_indexing(index, files)['wall_s']:.0f} s")
    (lib.parent / "lib").unlink(missing_ok=True)
    (lib.parent / "lib").symlink_to(lib.name)
    docs = work / "docs"
    docs.mkdir(exist_ok=True)
    tex = docs / "thesis.tex"
    tex.write_text(thesis(papers, rng), encoding="utf-8")

    client = Client(server_command(), work / "server.log")
    client.initialize(docs, {"indexDir": str(index), "libraries": [str(lib / "*.bib")],
                             "inlayHints": {"enabled": True}})
    text = tex.read_text(encoding="utf-8")
    client.notify("textDocument/didOpen", {"textDocument": {"uri": tex.as_uri(), "languageId": "latex",
                                                            "version": 1, "text": text}})

    # workspace symbols, every prefix of three title words
    times, found = [], 0
    for paper in rng.sample(papers, args.samples):
        words = [w for w in re.findall(r"\w+", paper.title) if len(w) > 3][:3]
        query = " ".join(words)
        for end in range(1, len(query) + 1):
            ms, result = client.request("workspace/symbol", {"query": query[:end]})
            times.append(ms)
        found += any(s["name"].startswith(paper.key + ":") for s in result[:10])
    print(f"workspace/symbol per keystroke, {len(times)} requests: p50 {pct(times, 0.5):.1f} ms, "
          f"p95 {pct(times, 0.95):.1f} ms; the paper in the first 10 for {found}/{args.samples} full queries")

    # inlay hints for a screenful, at random places: first time (titles looked up) and again (cached)
    lines = text.count("\n")
    cold, warm, shown = [], [], 0
    for start in rng.sample(range(lines - SCREEN_LINES), args.samples):
        params = {"textDocument": {"uri": tex.as_uri()},
                  "range": {"start": {"line": start, "character": 0}, "end": {"line": start + SCREEN_LINES, "character": 0}}}
        ms, hints = client.request("textDocument/inlayHint", params)
        cold.append(ms)
        shown += len(hints or [])
        warm.append(client.request("textDocument/inlayHint", params)[0])
    print(f"textDocument/inlayHint, {SCREEN_LINES} lines of a {len(text) // 1000} KB thesis: first p50 "
          f"{pct(cold, 0.5):.1f} / p95 {pct(cold, 0.95):.1f} ms, again p50 {pct(warm, 0.5):.1f} / p95 {pct(warm, 0.95):.1f} ms "
          f"({shown / len(cold):.0f} hints a screen)")

    # the outline and the diagnostics of an open 1k-entry bibliography
    bib = files[0]
    bib_text = bib.read_text(encoding="utf-8")
    opened = time.perf_counter()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": bib.as_uri(), "languageId": "bibtex",
                                                            "version": 1, "text": bib_text}})
    first_diagnostics = wait_for(client, "textDocument/publishDiagnostics", bib.as_uri(), opened)
    outline = [client.request("textDocument/documentSymbol", {"textDocument": {"uri": bib.as_uri()}})
               for _ in range(10)]
    print(f"1k-entry .bib opened: diagnostics after {first_diagnostics * 1000:.0f} ms (read, not yet indexed); "
          f"documentSymbol p50 {pct([ms for ms, _ in outline], 0.5):.1f} ms ({len(outline[0][1])} entries)")
    edits = []
    for version in range(2, 2 + 5):
        broken = bib_text + f"\n@misc{{{papers[version].key},\n  title = {{Again}}\n}}\n"
        changed = time.perf_counter()
        client.notify("textDocument/didChange", {"textDocument": {"uri": bib.as_uri(), "version": version},
                                                 "contentChanges": [{"text": broken}]})
        edits.append(wait_for(client, "textDocument/publishDiagnostics", bib.as_uri(), changed) * 1000)
    print(f"diagnostics after an edit of that .bib (0.3 s pause for typing included): p50 {pct(edits, 0.5):.0f} ms, "
          f"max {max(edits):.0f} ms")
    client.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
