"""Workspace features through `papercite serve` on a generated 200-document project: find references
and rename (a fresh server's first request, which walks the workspace and reads and parses every
document, then repeated requests), and the undefined-key diagnostics of a 2,000-citation document.

The project (deterministic): a library of --papers generated papers (tests/bench/synthetic.py) in
refs/library.bib; --documents documents, half LaTeX chapters (`\\cite`, `\\citep[p.~3]{a, b}`), half
Markdown notes (`[@a; @b]`, `@a`), each citing 20-50 keys in prose made of abstract sentences. Keys
are drawn with a Zipf-like skew, so a few are cited in most documents, as a project cites its core
papers. The server is driven over stdio by server_latency.Client, as an editor drives it; every time
is wall-clock from the request written to its response parsed.

1. first references and first rename: a fresh server per run (median of --cold-runs), after its index
   is ready (a definition answers): the request's own walk, reads and parses of all documents;
2. in one more server, --samples keys (the 10 most cited among them): references from a citation in
   an open chapter, references from the entry's key in the open library.bib, and rename (the edit is
   computed, not applied, so nothing changes between requests); then references after one chapter is
   rewritten on disk (that file alone is read again);
3. diagnostics of a 2,000-citation document (LaTeX, then Markdown; 2% of its keys undefined), over
   --repeats edits. Typing waits for a pause before checking (DIAGNOSTICS_DELAY, 0.3 s): the check
   itself is timed by a didChange followed at once by a didSave, which checks without waiting,
   to the publishDiagnostics of that version; a didChange alone, minus the delay, is shown too.
Every answer is checked against what the generator wrote (locations, edits, undefined keys).

    python tests/bench/workspace_latency.py [--documents 200] [--papers 2000] [--samples 200]
        [--repeats 30] [--cold-runs 3] [--work DIR] [--profile DIR]

Targets: p95 <= 100 ms for repeated references and for diagnostics. Exits 1 when one is missed.
Needs ../shared/corpora (the generator's seed titles and abstracts).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_latency import Client, ServerError, code_version, pct, position, server_command  # noqa: E402
from synthetic import generate, write_bib  # noqa: E402

from papercite.server.lsp.sync import DIAGNOSTICS_DELAY  # noqa: E402

TARGET_MS = 100.0
SETTLE_SECONDS = 1.0
BIG_CITATIONS = 2000
UNDEFINED_SHARE = 0.02


# --- the generated project ------------------------------------------------------------------------

@dataclass
class Project:
    root: Path
    library: Path
    keys: list[str]
    documents: list[Path] = field(default_factory=list)
    cited: dict[str, Counter] = field(default_factory=dict)  # key -> citations per document

    def count(self, key: str) -> int:
        return sum(self.cited.get(key, Counter()).values())


def zipf_keys(rng: random.Random, keys: list[str], n: int) -> list[str]:
    """n keys, a few very often (the weight of the i-th key falls as 1/(i+1))."""
    return rng.choices(keys, weights=[1 / (i + 1) for i in range(len(keys))], k=n)


def latex_document(rng: random.Random, keys: list[str], sentences: list[str]) -> str:
    parts = ["% !TeX root = ../main.tex\n\\section{Results}\n"]
    i = 0
    while i < len(keys):
        group = keys[i:i + rng.choice((1, 1, 2, 3))]
        i += len(group)
        command = rng.choice(("\\cite{%s}", "\\citep[p.~3]{%s}", "\\citet{%s}"))
        parts.append(f"{rng.choice(sentences)} {command % ', '.join(group)}.\n")
        if rng.random() < 0.3:
            parts.append("\n")
    return "".join(parts)


def markdown_document(rng: random.Random, keys: list[str], sentences: list[str]) -> str:
    parts = ["---\ntitle: Notes\nbibliography: ../refs/library.bib\n---\n\n"]
    i = 0
    while i < len(keys):
        group = keys[i:i + rng.choice((1, 1, 2, 3))]
        i += len(group)
        citation = f"@{group[0]}" if len(group) == 1 and rng.random() < 0.3 else \
            "[" + "; ".join(f"@{k}" for k in group) + "]"
        parts.append(f"{rng.choice(sentences)} {citation}.\n")
        if rng.random() < 0.3:
            parts.append("\n")
    return "".join(parts)


def make_project(work: Path, n_documents: int, n_papers: int, rng: random.Random) -> Project:
    root = work / "project"
    shutil.rmtree(root, ignore_errors=True)
    papers = generate(n_papers)
    library = write_bib(papers, root / "refs" / "library.bib")
    keys = [p.key for p in papers]
    popularity = keys[:]
    rng.shuffle(popularity)
    sentences = [s for p in papers[:300] for s in re.split(r"(?<=\.)\s+", p.abstract) if 40 < len(s) < 300
                 and not re.search(r"[@{}\\%#$&_^~\[\]`<*]", s)]  # prose that neither syntax reads as markup
    project = Project(root, library, keys)
    (root / "main.tex").write_text("\\documentclass{article}\n\\begin{document}\n"
                                   + "".join(f"\\input{{chapters/ch{i:03d}}}\n" for i in range(0, n_documents, 2))
                                   + "\\bibliography{refs/library}\n\\end{document}\n", encoding="utf-8")
    for i in range(n_documents):
        cited = zipf_keys(rng, popularity, rng.randint(20, 50))
        latex = i % 2 == 0
        path = root / ("chapters" if latex else "notes") / (f"ch{i:03d}.tex" if latex else f"note{i:03d}.md")
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (latex_document if latex else markdown_document)(rng, cited, sentences)
        path.write_text(text, encoding="utf-8")
        project.documents.append(path)
        for key in cited:
            project.cited.setdefault(key, Counter())[path] += 1
    return project


def big_document(project: Project, rng: random.Random, syntax: str) -> tuple[str, int]:
    """A document of BIG_CITATIONS citations (one key each), UNDEFINED_SHARE of them undefined, and
    how many are."""
    keys = [f"missing{i:04d}x" if rng.random() < UNDEFINED_SHARE else rng.choice(project.keys)
            for i in range(BIG_CITATIONS)]
    undefined = sum(k.startswith("missing") for k in keys)
    if syntax == "latex":
        body = "".join(f"Claim {i} holds \\cite{{{k}}}.\n" for i, k in enumerate(keys))
        return "\\documentclass{article}\n\\begin{document}\n" + body + \
            "\\bibliography{../refs/library}\n\\end{document}\n", undefined
    body = "".join(f"Claim {i} holds [@{k}].\n" for i, k in enumerate(keys))
    return "---\nbibliography: ../refs/library.bib\n---\n\n" + body, undefined


# --- driving the server ---------------------------------------------------------------------------

class Session:
    def __init__(self, project: Project, work: Path, log: Path, profile: Path | None = None):
        self.project = project
        self.client = Client(server_command(profile), log)
        self.client.initialize(project.root, {"indexDir": str(work / "index")})
        self.versions: dict[str, int] = {}

    def open(self, path: Path, text: str | None = None, language: str | None = None) -> tuple[str, str]:
        """didOpen, then wait for the document's first diagnostics, so that no check of it runs
        behind the requests timed next (for a bibliography they come once its buffer is indexed)."""
        text = path.read_text(encoding="utf-8") if text is None else text
        language = language or {".tex": "latex", ".md": "markdown", ".bib": "bibtex"}[path.suffix]
        uri = path.as_uri()
        self.versions[uri] = 1
        seen = len(self.client.notifications)
        self.client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": language, "version": 1, "text": text}})
        self.published(uri, 1, seen)
        return uri, text

    def close(self, uri: str) -> None:
        self.versions.pop(uri)
        self.client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def published(self, uri: str, version: int, seen: int, timeout: float = 60.0) -> tuple[float, int]:
        """(when, how many diagnostics) of the first publishDiagnostics of this version among the
        notifications after the first `seen`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for parsed, method, params in self.client.notifications[seen:]:
                if (method == "textDocument/publishDiagnostics" and params.get("uri") == uri
                        and params.get("version") == version):
                    return parsed, len(params.get("diagnostics", []))
            time.sleep(0.001)
        raise ServerError(f"no diagnostics for version {version} of {uri}")

    def at(self, uri: str, text: str, offset: int) -> dict:
        return {"textDocument": {"uri": uri}, "position": position(text, offset)}

    def wait_until_indexed(self, uri: str, text: str, key: str, timeout: float = 120.0) -> None:
        """Until a definition answers for a cited key (the library is indexed), and a little more:
        the diagnostics the end of indexing brings are not timed with the next request."""
        deadline = time.monotonic() + timeout
        offset = text.index(key)
        while time.monotonic() < deadline:
            _, found = self.client.request("textDocument/definition", self.at(uri, text, offset))
            if found:
                time.sleep(SETTLE_SECONDS)
                return
            time.sleep(0.1)
        raise ServerError(f"the library was not indexed in {timeout} s")

    def references(self, uri: str, text: str, offset: int) -> tuple[float, list]:
        ms, found = self.client.request("textDocument/references", {
            **self.at(uri, text, offset), "context": {"includeDeclaration": False}})
        return ms, found or []

    def rename(self, uri: str, text: str, offset: int, new_name: str) -> tuple[float, dict]:
        ms, edit = self.client.request("textDocument/rename", {**self.at(uri, text, offset), "newName": new_name})
        return ms, edit or {}

    def diagnostics_after(self, uri: str, text: str, save: bool) -> tuple[float, int]:
        """A whole-text didChange (then a didSave at once if `save`) -> (ms until the
        publishDiagnostics of that version, how many diagnostics)."""
        self.versions[uri] += 1
        version = self.versions[uri]
        seen = len(self.client.notifications)
        sent = time.perf_counter()
        self.client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                      "contentChanges": [{"text": text}]})
        if save:
            self.client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        parsed, count = self.published(uri, version, seen)
        return (parsed - sent) * 1000, count

    def shutdown(self) -> None:
        self.client.shutdown()


def edit_count(edit: dict) -> tuple[int, int]:
    """(text edits, documents) of a WorkspaceEdit, in either of its shapes."""
    if edit.get("documentChanges"):
        return sum(len(c["edits"]) for c in edit["documentChanges"]), len(edit["documentChanges"])
    changes = edit.get("changes") or {}
    return sum(len(e) for e in changes.values()), len(changes)


def citing_offset(text: str, key: str) -> int:
    """Inside the first citation of key in text (not inside a longer key that starts with it)."""
    return re.search(r"(?<=[{@ ])" + re.escape(key) + r"(?=[},;\].\s])", text).start() + len(key) // 2


def entry_offset(bib_text: str, key: str) -> int:
    """Inside the key of the entry of key."""
    return bib_text.index("{" + key + ",") + 1 + len(key) // 2


def first_request(project: Project, work: Path, kind: str, run: int) -> float:
    """A fresh server's first references (or rename) request, after its index is ready."""
    session = Session(project, work, work / "logs" / f"first-{kind}-{run}.log")
    try:
        chapter = project.documents[0]
        uri, text = session.open(chapter)
        key = next(k for k in project.cited if chapter in project.cited[k])
        session.wait_until_indexed(uri, text, key)
        offset = citing_offset(text, key)
        if kind == "references":
            ms, found = session.references(uri, text, offset)
            assert len(found) == project.count(key), (key, len(found), project.count(key))
        else:
            ms, edit = session.rename(uri, text, offset, key + "_renamed")
            assert edit_count(edit)[0] == project.count(key) + 1, (key, edit_count(edit), project.count(key))
        return ms
    finally:
        session.shutdown()


def bench(project: Project, work: Path, args, rng: random.Random) -> dict:
    result: dict = {}
    for kind in ("references", "rename"):
        result[f"first {kind}"] = [first_request(project, work, kind, run) for run in range(args.cold_runs)]
        print(f"first {kind}: " + ", ".join(f"{ms:.0f} ms" for ms in result[f"first {kind}"]), file=sys.stderr)

    session = Session(project, work, work / "logs" / "session.log",
                      args.profile / "workspace-session.prof" if args.profile else None)
    try:
        chapter = project.documents[0]
        uri, text = session.open(chapter)
        session.wait_until_indexed(uri, text, next(k for k in project.cited if chapter in project.cited[k]))
        by_count = sorted(project.cited, key=project.count, reverse=True)
        sample = by_count[:10] + rng.sample(by_count[10:], min(args.samples - 10, len(by_count) - 10))
        bib_uri, bib_text = session.open(project.library)

        # from a citation in the key's first citing document (opened for it, closed after), and
        # from the key of its entry in the open library.bib
        references, from_entry, renames = [], [], []
        for key in sample:
            path = sorted(project.cited[key])[0]
            doc_uri, doc_text = (uri, text) if path == chapter else session.open(path)
            ms, found = session.references(doc_uri, doc_text, citing_offset(doc_text, key))
            assert len(found) == project.count(key), (key, len(found), project.count(key))
            references.append(ms)
            ms, found = session.references(bib_uri, bib_text, entry_offset(bib_text, key))
            assert len(found) == project.count(key), (key, len(found))
            from_entry.append(ms)
            ms, edit = session.rename(doc_uri, doc_text, citing_offset(doc_text, key), key + "_renamed")
            assert edit_count(edit)[0] == project.count(key) + 1, (key, edit_count(edit))
            renames.append(ms)
            if path != chapter:
                session.close(doc_uri)
        result.update({"references": references, "references from the entry": from_entry, "rename": renames})
        result["most cited"] = (by_count[0], project.count(by_count[0]), len(project.cited[by_count[0]]))

        # a chapter that is not open rewritten on disk: references read that file alone again
        changed = project.documents[2]
        key = sample[0]
        after_change = []
        for _ in range(args.repeats):
            changed.write_text(changed.read_text(encoding="utf-8") + f"Again \\cite{{{key}}}.\n", encoding="utf-8")
            project.cited[key][changed] += 1
            ms, found = session.references(bib_uri, bib_text, entry_offset(bib_text, key))
            assert len(found) == project.count(key), (key, len(found), project.count(key))
            after_change.append(ms)
        result["references, one file changed"] = after_change

        # diagnostics of a 2,000-citation document
        for syntax, suffix in (("latex", ".tex"), ("markdown", ".md")):
            big, undefined = big_document(project, rng, syntax)
            path = project.root / "chapters" / f"big{suffix}"
            big_uri, _ = session.open(path, big, syntax)
            saved, typed = [], []
            for i in range(args.repeats):
                edited = big.replace("Claim 0 ", f"Claim 0 ({i}) ")  # a new version, the same citations
                ms, count = session.diagnostics_after(big_uri, edited, save=True)
                assert count == undefined, (count, undefined)
                saved.append(ms)
            for i in range(min(args.repeats, 10)):
                edited = big.replace("Claim 0 ", f"Claim 0 (typed {i}) ")
                ms, count = session.diagnostics_after(big_uri, edited, save=False)
                assert count == undefined, (count, undefined)
                typed.append(ms - DIAGNOSTICS_DELAY * 1000)
            result[f"diagnostics, {syntax}"] = saved
            result[f"diagnostics, {syntax}, typed"] = typed
            result[f"undefined, {syntax}"] = undefined
            session.close(big_uri)
    finally:
        session.shutdown()
    return result


def report(project: Project, result: dict, args) -> list[tuple[str, float, bool]]:
    documents = len(project.documents)
    citations = sum(project.count(k) for k in project.cited)
    key, count, in_documents = result["most cited"]
    print(f"\nproject: {documents} documents ({documents // 2} LaTeX, {documents - documents // 2} Markdown), "
          f"{citations} citations of {len(project.cited)} distinct keys, library of {len(project.keys)} papers; "
          f"the most cited key is cited {count} times in {in_documents} documents")
    print(f"\n{'request':34} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target p95")
    checks = []
    for name in ("first references", "first rename", "references", "references from the entry", "rename",
                 "references, one file changed", "diagnostics, latex", "diagnostics, latex, typed",
                 "diagnostics, markdown", "diagnostics, markdown, typed"):
        values = result[name]
        targeted = name in ("references", "references from the entry", "references, one file changed",
                            "diagnostics, latex", "diagnostics, markdown")
        p95 = pct(values, .95)
        met = p95 <= TARGET_MS
        if targeted:
            checks.append((name, p95, met))
        note = f"<= {TARGET_MS:g} ms: {'met' if met else 'MISSED'}" if targeted else "-"
        print(f"{name:34} {len(values):4d} {pct(values, .5):8.1f} {p95:8.1f} {max(values):8.1f}  {note}")
    print(f"\n(first: a fresh server's first request, median of the {args.cold_runs} runs is "
          f"{statistics.median(result['first references']):.0f} / {statistics.median(result['first rename']):.0f} ms; "
          f"'typed': a didChange alone, {DIAGNOSTICS_DELAY * 1000:.0f} ms of debounce subtracted; "
          f"the 2,000-citation documents have {result['undefined, latex']} and {result['undefined, markdown']} "
          "undefined keys, each reported)")
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=200, help="keys asked about (default 200)")
    parser.add_argument("--repeats", type=int, default=30, help="edits timed per measurement (default 30)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--work", type=Path, help="keep the generated project and index here")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="run the step-2 server under cProfile (distorts its latencies), stats in DIR")
    args = parser.parse_args()
    if args.profile:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    work = (args.work or Path(tempfile.mkdtemp(prefix="papercite-workspace-"))).resolve()
    (work / "logs").mkdir(parents=True, exist_ok=True)
    print(f"papercite {code_version()}; python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; work dir {work}")
    rng = random.Random(5)
    try:
        project = make_project(work, args.documents, args.papers, rng)
        checks = report(project, bench(project, work, args, rng), args)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print("\n== targets ==")
    for name, p95, met in checks:
        print(f"{name:34} p95 {p95:7.1f} ms  <= {TARGET_MS:g} ms  {'met' if met else 'MISSED'}")
    return 0 if all(met for _, _, met in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
