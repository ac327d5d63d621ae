"""Latency of the language server as an editor sees it: `papercite serve` driven over stdio.

A small JSON-RPC client in this file (Content-Length framing over the subprocess pipes, a reader
thread that answers the server's requests at once) talks to the server exactly as an editor does:
initialize with initializationOptions, didOpen, a whole-document didChange per keystroke followed
by a completion request, hovers. Every time is wall-clock from just before the request is written
to the server's stdin to just after its response is parsed (in the reader thread).

Per library size (files of 1k generated entries, tests/bench/synthetic.py):
1. first indexing: the store's child-process entry point (`papercite.index.store.child_main`, what
   `python -m papercite.index.store INDEX files...` runs) in a separate process, timed;
2. cold start, with the index on disk: process start -> initialize answered -> didOpen of a LaTeX
   document with `\\cite{}` -> first completion answered (median of --cold-runs starts), with
   papercite's modules byte-compiled first, as an installed copy has them;
3. in one more server, once it logs its completion rows prepared (it makes them in the background
   after the first completion: every paper's in an index it holds in memory, up to 15k papers,
   else the document's own bibliographies'; the time it took is printed, and keystrokes during it
   are answered as in a bigger index), per-keystroke completion while typing, from the first
   character, for
   --samples papers: a key prefix (first 12 characters of the key), 3 title words, surname + " " +
   year (each keystroke: didChange, then a completion request); an empty `\\cite{}` completion
   repeated; hovers: each sampled key once, then one key --repeats times (the target's row), and
   a hover in prose, outside any citation (`hover.prose` looks there for a paper's name). Correctness on the way: after
   the full query the paper must be in the top 5 (hit rate per kind; a latency target counts as
   met only if the hit rate is >= 90% over the queries that fit at most 5 papers of the library),
   the empty query must list the document's own papers, and hovers must show the key;
4. peak RSS of that server (psutil samples every 20 ms, and VmHWM from /proc/PID/status at the end);
and once, on the 10k library: 5. first-time indexing through the server, from a fresh index dir:
time from process start until a completion returns the library's last paper (polling), and the
$/progress received (the client advertises window.workDoneProgress and answers
window/workDoneProgress/create with null).

The LaTeX documents declare the library's first file (1k entries) as their bibliography
(`\\bibliography{...}`), as a paper has its own .bib besides the `libraries` setting: that is what
an empty `\\cite{}` lists (with no bibliography of its own a document's empty query lists nothing).
The whole library is the `libraries` setting (a glob). Keystrokes go back to back (--typing-ms
adds a pause). Timings are wall-clock on whatever else the machine is doing, and the index files
are in the page cache after indexing: run it alone. Exits 1 when a target is missed.

    python tests/bench/server_latency.py [--sizes 10000 100000] [--work DIR] [--reuse] [--verbose]
        [--samples 30] [--repeats 200] [--cold-runs 3] [--typing-ms 0] [--no-server-indexing]
        [--profile DIR]

--reuse keeps a library and index already in --work (no first-indexing time then); --verbose
shows the queries whose paper missed the top 5 and the slowest keystrokes; --profile runs the
step-3 server under cProfile on every thread (cProfile alone sees only the main thread, and the
searches run on the server's search thread), writing DIR/server-SIZE.prof (merged) and
DIR/server-SIZE.prof.THREAD.prof; its latencies are distorted by the profiler.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate, write_bib  # noqa: E402

FILE_SIZE = 1000
KEY_PREFIX = 12
TOP = 5
INDEXING_SIZE = 10_000  # the library step 5 indexes through the server

TARGETS = {  # (size, what) -> target; what is a kind's p95 in ms, or a named measurement
    (10_000, "key prefix"): 2.0, (10_000, "title words"): 10.0, (10_000, "surname+year"): 10.0,
    (100_000, "key prefix"): 20.0, (100_000, "title words"): 20.0, (100_000, "surname+year"): 20.0,
    (100_000, "first 1-2 chars"): 20.0, (100_000, "empty \\cite{}"): 20.0,
}
HOVER_P95_MS = 1.0
COLD_START_S = {100_000: 0.6}
FIRST_INDEXING_S = {10_000: 10.0}
RSS_MB = {100_000: 100.0}
HIT_RATE_FLOOR = 0.9  # below this a latency target counts as missed: fast but wrong

# The server under cProfile, every thread (cProfile alone sees only the main thread, and the
# searches run on the server's search thread). Merged stats and one file per thread at exit.
PROFILED_SERVER = r"""
import atexit, cProfile, pstats, sys, threading
out = sys.argv.pop(1)
profiles = []
def per_thread(frame, event, arg):
    profile = cProfile.Profile()
    profiles.append((threading.current_thread().name, profile))
    profile.enable()  # replaces this hook for the thread
threading.setprofile(per_thread)
main = cProfile.Profile()
profiles.append(("main", main))
dumped = []
def dump():
    if dumped:
        return
    dumped.append(1)
    merged = None
    for name, profile in profiles:
        try:
            stats = pstats.Stats(profile)
        except Exception:  # a thread that made no calls
            continue
        stats.dump_stats(f"{out}.{name}.prof")
        merged = stats if merged is None else merged.add(profile)
    if merged is not None:
        merged.dump_stats(out)
atexit.register(dump)
from papercite.server.cli.main import main as cli_main
try:
    main.enable()
    code = cli_main(sys.argv[1:])
finally:
    main.disable()
    dump()
sys.exit(code)
"""


# --- the JSON-RPC client -------------------------------------------------------------------------

class ServerError(RuntimeError):
    pass


class Client:
    """An editor's side of the connection: requests with timing, notifications, and answers to
    the server's own requests (work-done progress, configuration, registrations)."""

    def __init__(self, command: list[str], stderr_path: Path, children: bool = False):
        self.spawned = time.perf_counter()
        self._stderr = stderr_path.open("wb")
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        self.stderr_path = stderr_path
        self._write_lock = threading.Lock()
        self._next_id = 0
        self._pending: dict[int, list] = {}  # id -> [event, parsed time, message]
        self._pending_lock = threading.Lock()
        self.closed = False
        self.notifications: list[tuple[float, str, dict]] = []
        self.server_requests: list[tuple[float, str, dict]] = []
        self.progress: list[tuple[float, dict]] = []
        self.messages: list[tuple[int, str]] = []  # window/showMessage, logMessage
        self.diagnostics = 0
        self._reader = threading.Thread(target=self._read_loop, name="lsp-reader", daemon=True)
        self._reader.start()
        self.rss = RssSampler(self.proc.pid, 0.02, children)

    # writing

    def _send(self, message: dict) -> float:
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        frame = b"Content-Length: %d\r\n\r\n" % len(body) + body
        with self._write_lock:
            sent = time.perf_counter()
            self.proc.stdin.write(frame)
            self.proc.stdin.flush()
        return sent

    def notify(self, method: str, params) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params, timeout: float = 60.0) -> tuple[float, object]:
        """(milliseconds from sending to the parsed response, result)."""
        with self._pending_lock:
            self._next_id += 1
            request_id = self._next_id
            slot = self._pending[request_id] = [threading.Event(), 0.0, None]
        sent = self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        if not slot[0].wait(timeout):
            raise ServerError(f"{method}: no answer in {timeout} s{self._stderr_tail()}")
        with self._pending_lock:
            self._pending.pop(request_id, None)
        message = slot[2]
        if message is None:
            raise ServerError(f"{method}: the server exited{self._stderr_tail()}")
        if "error" in message:
            raise ServerError(f"{method}: {message['error']}")
        return (slot[1] - sent) * 1000, message.get("result")

    def _answer(self, request_id, result) -> None:
        self._send({"jsonrpc": "2.0", "id": request_id, "result": result})

    # reading

    def _read_loop(self) -> None:
        stream = self.proc.stdout
        try:
            while True:
                length = None
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = stream.read(length)
                message = json.loads(body)
                parsed = time.perf_counter()
                self._dispatch(parsed, message)
        finally:
            self.closed = True
            with self._pending_lock:
                for slot in self._pending.values():
                    slot[0].set()

    def _dispatch(self, parsed: float, message: dict) -> None:
        method = message.get("method")
        if method is None:  # a response
            with self._pending_lock:
                slot = self._pending.get(message.get("id"))
            if slot is not None:
                slot[1], slot[2] = parsed, message
                slot[0].set()
            return
        params = message.get("params") or {}
        if "id" in message:  # the server asks
            self.server_requests.append((parsed, method, params))
            if method == "workspace/configuration":
                self._answer(message["id"], [None for _ in params.get("items", [])])
            else:  # window/workDoneProgress/create, client/registerCapability, ...: null is success
                self._answer(message["id"], None)
            return
        self.notifications.append((parsed, method, params))
        if method == "$/progress":
            self.progress.append((parsed, params))
        elif method == "textDocument/publishDiagnostics":
            self.diagnostics += 1
        elif method in ("window/showMessage", "window/logMessage"):
            self.messages.append((params.get("type", 0), params.get("message", "")))

    def _stderr_tail(self) -> str:
        try:
            tail = self.stderr_path.read_text(errors="replace").strip()[-1500:]
        except OSError:
            tail = ""
        return f"; server stderr: {tail}" if tail else ""

    # lifecycle

    def initialize(self, root: Path, options: dict) -> float:
        params = {
            "processId": os.getpid(),
            "clientInfo": {"name": "papercite-bench", "version": "1"},
            "rootUri": root.as_uri(), "rootPath": str(root),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "initializationOptions": options,
            "capabilities": {
                "general": {"positionEncodings": ["utf-16"]},
                "window": {"workDoneProgress": True, "showMessage": {}},
                "workspace": {"workspaceFolders": True},
                "textDocument": {
                    "synchronization": {"didSave": True, "dynamicRegistration": False},
                    "completion": {"completionItem": {"snippetSupport": False, "labelDetailsSupport": True,
                                                      "documentationFormat": ["markdown", "plaintext"]},
                                   "contextSupport": True},
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                    "publishDiagnostics": {"relatedInformation": True},
                },
            },
        }
        ms, _ = self.request("initialize", params)
        self.notify("initialized", {})
        return ms

    def shutdown(self, timeout: float = 30.0) -> None:
        try:
            if not self.closed:
                self.request("shutdown", None, timeout=timeout)
                self.notify("exit", None)
        except (ServerError, OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.rss.stop()
        self._stderr.close()


class RssSampler:
    """A process's resident set size, sampled on a thread, and optionally the sum of its children's
    (a scan of /proc, ~1 ms: only where indexing children are expected)."""

    def __init__(self, pid: int, interval: float, children: bool = False):
        self.process = psutil.Process(pid)
        self.interval = interval
        self.children = children
        self.peak = 0
        self.children_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
                children = 0
                for child in self.process.children(recursive=True) if self.children else ():
                    try:
                        children += child.memory_info().rss
                    except psutil.Error:
                        pass
                self.children_peak = max(self.children_peak, children)
            except psutil.Error:
                return
            self._stop.wait(self.interval)

    def vm_hwm(self) -> int | None:
        """The kernel's peak RSS of the process (bytes), from /proc/PID/status."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


# --- documents ------------------------------------------------------------------------------------

class Document:
    """An open LaTeX buffer: the text before and after the cursor in `\\cite{<query>|}`."""

    def __init__(self, client: Client, path: Path, bibliography: str, query: str = ""):
        self.client, self.uri, self.version = client, path.as_uri(), 1
        self.head = ("\\documentclass{article}\n\\begin{document}\n"
                     "Attention is all they needed, as argued before~\\cite{")
        self.tail = f"}}.\n\n\\bibliographystyle{{plain}}\n\\bibliography{{{bibliography}}}\n\\end{{document}}\n"
        self.query = query
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": self.uri, "languageId": "latex", "version": self.version, "text": self.text}})

    @property
    def text(self) -> str:
        return self.head + self.query + self.tail

    def type(self, query: str) -> None:
        """A keystroke: the editor sends the new text (whole-document change)."""
        self.query = query
        self.version += 1
        self.client.notify("textDocument/didChange", {
            "textDocument": {"uri": self.uri, "version": self.version}, "contentChanges": [{"text": self.text}]})

    def complete(self) -> tuple[float, list[str], list[dict]]:
        ms, result = self.client.request("textDocument/completion", {
            "textDocument": {"uri": self.uri}, "position": position(self.text, len(self.head) + len(self.query)),
            "context": {"triggerKind": 1}})
        items = (result.get("items", []) if isinstance(result, dict) else result) or []
        return ms, [item_key(i) for i in items], items


def position(text: str, offset: int) -> dict:
    """An LSP position (UTF-16 code units) for a code-point offset."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return {"line": line, "character": len(text[start:offset].encode("utf-16-le")) // 2}


def item_key(item: dict) -> str:
    edit = item.get("textEdit")
    if edit:
        return edit["newText"]
    return item.get("insertText") or item["label"]


def sharing(papers, kind: str, query: str, title_sets: list[set[str]]) -> int:
    """Papers of the library the full query fits as well as it fits its paper: keys with the
    prefix, titles with all the words, papers with an author of that surname and that year."""
    if kind == "key prefix":
        return sum(p.key.lower().startswith(query.lower()) for p in papers)
    if kind == "title words":
        wanted = set(query.split())
        return sum(wanted <= words for words in title_sets)
    surname, year = query.rsplit(" ", 1)
    return sum(str(p.year) == year and any(a[0] == surname for a in p.authors) for p in papers)


def typing(text: str) -> list[str]:
    """Every prefix, from the first character: what an editor asks while someone types."""
    return [text[:i] for i in range(1, len(text) + 1)]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def title_words(title: str) -> str:
    return " ".join([w for w in re.findall(r"\w+", title.lower()) if len(w) > 2][:3])


# --- the steps ------------------------------------------------------------------------------------

def server_command(profile: Path | None = None) -> list[str]:
    if profile is not None:
        return [sys.executable, "-c", PROFILED_SERVER, str(profile), "serve"]
    return [sys.executable, "-m", "papercite.server.cli", "serve"]


def make_library(size: int, work: Path, reuse: bool):
    papers = generate(size)
    lib = work / f"lib{size}"
    expected = [lib / f"part{i // FILE_SIZE:04d}.bib" for i in range(0, size, FILE_SIZE)]
    if not (reuse and all(f.exists() for f in expected)):
        shutil.rmtree(lib, ignore_errors=True)
        for i, path in zip(range(0, size, FILE_SIZE), expected):
            write_bib(papers[i:i + FILE_SIZE], path)
    return papers, lib, expected


# `python -m papercite.index.store INDEX files...` (what the server's update_in_child runs), but
# with the module imported under its own name: run as __main__, a store that *creates* the index
# pickles its schema's field class as `__main__.WORDS`, and no other process can open that index
# (the server fails `initialize` with "Can't get attribute 'WORDS' on <module ...cli>").
INDEX_CHILD = "import sys; from papercite.index.store import child_main; sys.exit(child_main())"


def first_indexing(index_dir: Path, files: list[Path]) -> dict:
    """The index built by the store's child-process entry point in its own process, timed."""
    shutil.rmtree(index_dir, ignore_errors=True)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", INDEX_CHILD, str(index_dir), *map(str, files)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = RssSampler(proc.pid, 0.05, children=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    if proc.returncode:
        sys.exit(f"indexing failed: {err[-2000:]}")
    report = next(json.loads(line)["report"] for line in reversed(out.splitlines()) if '"report"' in line)
    return {"wall_s": wall, "seconds": report["seconds"], "papers": report["papers"],
            "peak_rss_mb": sampler.peak / 1e6, "worker_peak_mb": sampler.children_peak / 1e6}


def start(command: list[str], work: Path, options: dict, bibliography: str, log: Path) -> tuple[Client, Document, dict]:
    """Process start -> initialize -> didOpen -> the first completion, timed."""
    client = Client(command, log)
    client.initialize(work / "docs", options)
    initialized = time.perf_counter()
    document = Document(client, work / "docs" / "paper.tex", bibliography)
    first_ms, keys, _ = document.complete()
    done = time.perf_counter()
    try:
        client.started_rss = client.rss.process.memory_info().rss
    except psutil.Error:
        client.started_rss = 0
    return client, document, {"initialize_s": initialized - client.spawned, "first_completion_ms": first_ms,
                              "cold_start_s": done - client.spawned, "first_items": len(keys)}


def wait_for_preparation(client: Client, timeout: float = 120.0) -> float | None:
    """Seconds from now until the server logs (window/logMessage) its completion rows prepared,
    or None if it does not within ``timeout``."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if any("completion rows prepared" in message for _, message in client.messages):
            return time.perf_counter() - started
        time.sleep(0.01)
    return None


def bench(size: int, work: Path, args, rng: random.Random) -> dict:
    result: dict = {"size": size}
    papers, lib, files = make_library(size, work, args.reuse)
    index_dir = work / f"index{size}"
    if args.reuse and (index_dir / "catalogue.json").exists():
        result["indexing"] = None
    else:
        print(f"[{size:,}] indexing {len(files)} files ...", file=sys.stderr, flush=True)
        result["indexing"] = first_indexing(index_dir, files)
    (work / "docs").mkdir(parents=True, exist_ok=True)
    options = {"indexDir": str(index_dir), "libraries": [str(lib / "*.bib")]}
    bibliography = os.path.relpath(files[0].with_suffix(""), work / "docs")
    logs = work / "logs"
    logs.mkdir(exist_ok=True)

    # 2. cold starts
    colds = []
    for run in range(args.cold_runs):
        client, _, cold = start(server_command(), work, options, bibliography, logs / f"cold{size}-{run}.log")
        client.shutdown()
        colds.append(cold)
        print(f"[{size:,}] cold start {run + 1}: {cold['cold_start_s']:.3f} s "
              f"(initialize {cold['initialize_s']:.3f} s, first completion {cold['first_completion_ms']:.1f} ms, "
              f"{cold['first_items']} items)", file=sys.stderr, flush=True)
    result["cold"] = colds

    # 3. the benchmark session
    profile = args.profile / f"server-{size}.prof" if args.profile else None
    client, document, _ = start(server_command(profile), work, options, bibliography, logs / f"session{size}.log")
    result["prepared_s"] = wait_for_preparation(client)
    result["prepared"] = next((m for _, m in client.messages if "completion rows prepared" in m), None)
    sample = rng.sample(papers, args.samples)
    own_keys = {p.key for p in papers[:FILE_SIZE]}
    kinds = {"key prefix": lambda p: p.key[:KEY_PREFIX], "title words": lambda p: title_words(p.title),
             "surname+year": lambda p: f"{p.authors[0][0]} {p.year}"}
    latency: dict[str, list[float]] = {kind: [] for kind in kinds}
    first_chars: list[float] = []
    keystrokes: list[tuple[float, str, str]] = []
    ranks: dict[str, list[tuple[int | None, int]]] = {kind: [] for kind in kinds}  # (rank, papers sharing)
    title_sets = [set(re.findall(r"\w+", p.title.lower())) for p in papers]
    # The library's papers and title sets (millions of objects at 100k) live until the end: out of
    # this client's collector's sight, or its full collections stall a keystroke by up to 0.2 s.
    gc.freeze()
    gap = args.typing_ms / 1000
    print(f"[{size:,}] typing {args.samples} papers x {len(kinds)} kinds ...", file=sys.stderr, flush=True)
    for paper in sample:
        for kind, query_of in kinds.items():
            query = query_of(paper)
            document.type("")
            keys: list[str] = []
            for typed in typing(query):
                if gap:
                    time.sleep(gap)
                document.type(typed)
                ms, keys, _ = document.complete()
                latency[kind].append(ms)
                keystrokes.append((ms, kind, typed))
                if len(typed.strip()) <= 2:
                    first_chars.append(ms)
            rank = keys.index(paper.key) if paper.key in keys else None
            shared = sharing(papers, kind, query, title_sets)
            ranks[kind].append((rank, shared))
            if args.verbose and (rank is None or rank >= TOP):
                print(f"  miss: {kind} {query!r} -> {paper.key} rank {rank}; {shared} papers match it; "
                      f"top {TOP}: {keys[:TOP]}", file=sys.stderr)

    if args.verbose:
        print("  slowest keystrokes: " + ", ".join(f"{kind} {typed!r} {ms:.0f} ms"
                                                   for ms, kind, typed in sorted(keystrokes, reverse=True)[:12]),
              file=sys.stderr)
    print(f"[{size:,}] empty \\cite{{}} x {args.repeats}, hover x {args.repeats} ...", file=sys.stderr, flush=True)
    document.type("")
    empty, empty_ok = [], 0
    for _ in range(args.repeats):
        ms, keys, _ = document.complete()
        empty.append(ms)
        empty_ok += bool(keys) and all(k in own_keys for k in keys)

    hover_doc = work / "docs" / "related.tex"
    cited = [p.key for p in sample]
    text = "\\documentclass{article}\n\\begin{document}\n" + "".join(
        f"As shown in~\\cite{{{key}}}, it works.\n" for key in cited) + \
        f"\\bibliography{{{bibliography}}}\n\\end{{document}}\n"
    client.notify("textDocument/didOpen", {"textDocument": {"uri": hover_doc.as_uri(), "languageId": "latex",
                                                            "version": 1, "text": text}})

    def hover(key: str) -> tuple[float, bool]:
        offset = text.index("{" + key + "}") + 1 + len(key) // 2
        ms, answer = client.request("textDocument/hover", {"textDocument": {"uri": hover_doc.as_uri()},
                                                           "position": position(text, offset)})
        value = (answer or {}).get("contents", {}).get("value", "") if isinstance(answer, dict) else ""
        return ms, f"`{key}`" in value and "not in this document" not in value

    # each cited key once (the document's diagnostics have looked them all up already), then (e):
    # one key hovered again and again
    first_hovers = [hover(key) for key in cited]
    hovers = [hover(cited[0]) for _ in range(args.repeats)]
    hover_ok = sum(ok for _, ok in first_hovers + hovers)

    # a hover in prose, outside any citation: hover.prose looks for a paper named there
    prose = []
    outside = position(text, text.index("it works") + 3)
    for _ in range(args.repeats):
        ms, _ = client.request("textDocument/hover", {"textDocument": {"uri": hover_doc.as_uri()}, "position": outside})
        prose.append(ms)

    result["vm_hwm_mb"] = (client.rss.vm_hwm() or 0) / 1e6
    result["started_rss_mb"] = client.started_rss / 1e6
    client.shutdown(timeout=120 if profile else 30)
    result["rss_peak_mb"] = client.rss.peak / 1e6
    result["messages"] = [m for t, m in client.messages if t <= 2]  # errors and warnings
    result["latency"] = {**latency, "first 1-2 chars": first_chars, "empty \\cite{}": empty}
    result["ranks"] = ranks
    result["empty_ok"], result["hover_ok"] = (empty_ok, len(empty)), (hover_ok, len(first_hovers) + len(hovers))
    result["hover"], result["first_hovers"] = [ms for ms, _ in hovers], [ms for ms, _ in first_hovers]
    result["prose"] = prose
    return result


def indexing_through_server(work: Path) -> dict:
    """5. A fresh index dir, `libraries` = the 10k library: time until the last paper completes."""
    papers, lib, files = make_library(INDEXING_SIZE, work, reuse=True)
    index_dir = work / "index-fresh"
    shutil.rmtree(index_dir, ignore_errors=True)
    (work / "docs").mkdir(parents=True, exist_ok=True)
    options = {"indexDir": str(index_dir), "libraries": [str(lib / "*.bib")]}
    target = papers[-1]  # in the last file: the whole library is in once it completes
    print(f"[first indexing through the server] {INDEXING_SIZE:,} papers ...", file=sys.stderr, flush=True)
    client = Client(server_command(), work / "logs" / "fresh.log", children=True)
    client.initialize(work / "docs", options)
    initialized = time.perf_counter()
    document = Document(client, work / "docs" / "fresh.tex", os.path.relpath(files[-1].with_suffix(""), work / "docs"),
                        query=target.key)
    polls, found_at, rank = 0, None, None
    deadline = time.perf_counter() + 600
    while time.perf_counter() < deadline:
        _, keys, _ = document.complete()
        polls += 1
        if target.key in keys[:TOP]:
            found_at, rank = time.perf_counter(), keys.index(target.key)
            break
        time.sleep(0.05)
    # wait a little for the progress end that follows the commit
    end_by = time.perf_counter() + 5
    while time.perf_counter() < end_by and not any(p["value"].get("kind") == "end" for _, p in client.progress):
        time.sleep(0.05)
    progress = [(t, p["value"]) for t, p in client.progress]
    created = [r for r in client.server_requests if r[1] == "window/workDoneProgress/create"]
    client.shutdown()
    begin = next((t for t, v in progress if v.get("kind") == "begin"), None)
    end = next(((t, v) for t, v in progress if v.get("kind") == "end"), None)
    return {
        "found_s": None if found_at is None else found_at - client.spawned,
        "found_after_initialized_s": None if found_at is None else found_at - initialized,
        "rank": rank, "polls": polls, "progress_creates": len(created),
        "progress": {kind: sum(v.get("kind") == kind for _, v in progress) for kind in ("begin", "report", "end")},
        "begin_title": next((v.get("title") for _, v in progress if v.get("kind") == "begin"), None),
        "end_message": end[1].get("message") if end else None,
        "progress_s": (end[0] - begin) if begin and end else None,
        "rss_peak_mb": client.rss.peak / 1e6, "children_peak_mb": client.rss.children_peak / 1e6,
        "messages": [m for t, m in client.messages if t <= 2],
    }


# --- the report -----------------------------------------------------------------------------------

def verdict(value: float | None, target: float | None, ok: bool = True) -> str:
    if target is None:
        return ""
    if value is None or not ok:
        return "MISSED (wrong answers)" if value is not None else "MISSED"
    return "met" if value <= target else "MISSED"


def report(r: dict, checks: list[tuple]) -> None:
    size = r["size"]
    print(f"\n== {size:,} papers ==")
    if r["indexing"]:
        ix = r["indexing"]
        target = FIRST_INDEXING_S.get(size)
        print(f"first indexing (papercite.index.store child entry point, own process): {ix['seconds']:.1f} s "
              f"({ix['wall_s']:.1f} s wall with start-up, {size / ix['seconds']:.0f} papers/s, "
              f"peak RSS {ix['peak_rss_mb']:.0f} MB, its parse worker {ix['worker_peak_mb']:.0f} MB)"
              + (f"   target <= {target:g} s: {verdict(ix['wall_s'], target)}" if target else ""))
        if target:
            checks.append((size, "first indexing (own process, wall)", f"{ix['wall_s']:.1f} s", f"<= {target:g} s",
                           verdict(ix["wall_s"], target)))
    else:
        print("first indexing: index reused (--reuse), not timed")
    cold = sorted(c["cold_start_s"] for c in r["cold"])
    cold_median = statistics.median(cold)
    target = COLD_START_S.get(size)
    print(f"cold start (process start -> first completion answered), median of {len(cold)}: {cold_median:.3f} s "
          f"[runs {', '.join(f'{c:.3f}' for c in cold)}; initialize answered at "
          f"{statistics.median(c['initialize_s'] for c in r['cold']):.3f} s; first completion "
          f"{statistics.median(c['first_completion_ms'] for c in r['cold']):.0f} ms, "
          f"{r['cold'][0]['first_items']} items]" + (f"   target <= {target:g} s: {verdict(cold_median, target)}"
                                                     if target else ""))
    if target:
        checks.append((size, "cold start (median)", f"{cold_median:.3f} s", f"<= {target:g} s",
                       verdict(cold_median, target)))

    prepared = r.get("prepared_s")
    print("completion rows made ahead of typing, after the first completion: "
          + (f"{r['prepared'].removeprefix('papercite: ')}; ready {prepared:.1f} s after the first completion answered"
             if prepared is not None else "NOT reported within 120 s (typing measured anyway)"))
    print(f"\n{'request':16} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  {'correct':32} target p95")
    for kind, values in r["latency"].items():
        ok = True
        if kind in r["ranks"]:
            ranks = r["ranks"][kind]
            top = sum(rank is not None and rank < TOP for rank, _ in ranks)
            listed = sum(rank is not None for rank, _ in ranks)
            distinct = [rank for rank, shared in ranks if shared <= TOP]
            top_distinct = sum(rank is not None and rank < TOP for rank in distinct)
            correct = f"top-{TOP} {top}/{len(ranks)} ({top_distinct}/{len(distinct)}), in list {listed}"
            ok = top_distinct >= HIT_RATE_FLOOR * len(distinct)
        elif kind == "empty \\cite{}":
            good, n = r["empty_ok"]
            correct, ok = f"own papers listed {good}/{n}", good == n
        else:
            correct = ""
        target = TARGETS.get((size, kind))
        p95 = pct(values, .95)
        v = verdict(p95, target, ok)
        print(f"{kind:16} {len(values):5d} {pct(values, .5):7.2f} {p95:7.2f} {max(values):7.1f}  {correct:32} "
              + (f"<= {target:g} ms: {v}" if target else "-"))
        if target:
            checks.append((size, f"completion {kind} p95", f"{p95:.2f} ms", f"<= {target:g} ms", v))
    hover_good, hover_n = r["hover_ok"]
    p95 = pct(r["hover"], .95)
    v = verdict(p95, HOVER_P95_MS, hover_good == hover_n)
    print(f"{'hover':16} {len(r['hover']):5d} {pct(r['hover'], .5):7.2f} {p95:7.2f} {max(r['hover']):7.1f}  "
          f"{f'one key; key shown {hover_good}/{hover_n}':32} <= {HOVER_P95_MS:g} ms: {v}")
    checks.append((size, "hover p95", f"{p95:.2f} ms", f"<= {HOVER_P95_MS:g} ms", v))
    first = r["first_hovers"]
    print(f"{'hover, 30 keys':16} {len(first):5d} {pct(first, .5):7.2f} {pct(first, .95):7.2f} {max(first):7.1f}  "
          f"{'(each cited key once, first)':32} -")
    prose = r["prose"]
    print(f"{'prose hover':16} {len(prose):5d} {pct(prose, .5):7.2f} {pct(prose, .95):7.2f} {max(prose):7.1f}  "
          f"{'(outside a citation: hover.prose)':32} -")
    print(f"(top-{TOP} a/n (b/m): the paper is in the top {TOP} after the full query for a of n sampled papers, and "
          f"for b of the m whose query fits at most {TOP} papers of the library; a latency target counts as met only "
          f"if b >= {HIT_RATE_FLOOR:.0%} of m. 'first 1-2 chars' are the first keystrokes of all kinds.)")

    target = RSS_MB.get(size)
    rss = max(r["rss_peak_mb"], r["vm_hwm_mb"])
    print(f"server RSS: peak sampled {r['rss_peak_mb']:.0f} MB, VmHWM {r['vm_hwm_mb']:.0f} MB "
          f"({r['started_rss_mb']:.0f} MB after start-up and the first completion)"
          + (f"   target <= {target:g} MB: {verdict(rss, target)}" if target else ""))
    if target:
        checks.append((size, "server RSS (max of sampled, VmHWM)", f"{rss:.0f} MB", f"<= {target:g} MB",
                       verdict(rss, target)))
    if r["messages"]:
        print("server warnings/errors: " + " | ".join(r["messages"][:5]))

    lat = r["latency"]
    line = [f"{size:,} papers"]
    for kind, label in (("key prefix", "completion key-prefix"), ("title words", "title"),
                        ("surname+year", "surname+year"), ("empty \\cite{}", "empty \\cite{}")):
        line.append(f"{label} p50 {pct(lat[kind], .5):.2f} ms p95 {pct(lat[kind], .95):.2f} ms")
    line.append(f"hover p50 {pct(r['hover'], .5):.2f} ms p95 {pct(r['hover'], .95):.2f} ms")
    line.append(f"cold start {cold_median:.2f} s")
    line.append(f"RSS {rss:.0f} MB")
    print("\n" + " | ".join(line))


def report_indexing(f: dict, checks: list[tuple]) -> None:
    print(f"\n== first-time indexing through the server ({INDEXING_SIZE:,} papers, fresh index dir) ==")
    target = FIRST_INDEXING_S[INDEXING_SIZE]
    if f["found_s"] is None:
        print(f"the library's last paper never completed ({f['polls']} polls)")
    else:
        print(f"last paper completes (top {TOP}, rank {f['rank'] + 1}) {f['found_s']:.1f} s after process start "
              f"({f['found_after_initialized_s']:.1f} s after initialized; {f['polls']} completion polls)"
              f"   target <= {target:g} s: {verdict(f['found_s'], target)}")
    p = f["progress"]
    received = p["begin"] > 0 and p["end"] > 0
    print(f"$/progress: {'received' if received else 'NOT received'} — {f['progress_creates']} create request(s), "
          f"{p['begin']} begin ({f['begin_title']!r}), {p['report']} report, {p['end']} end ({f['end_message']!r})"
          + (f"; begin->end {f['progress_s']:.1f} s" if f["progress_s"] else ""))
    print(f"server RSS peak {f['rss_peak_mb']:.0f} MB; indexing child process peak {f['children_peak_mb']:.0f} MB")
    if f["messages"]:
        print("server warnings/errors: " + " | ".join(f["messages"][:5]))
    checks.append((INDEXING_SIZE, "first indexing through the server",
                   "never" if f["found_s"] is None else f"{f['found_s']:.1f} s", f"<= {target:g} s",
                   verdict(f["found_s"], target)))
    checks.append((INDEXING_SIZE, "$/progress notifications", "received" if received else "none", "received",
                   "met" if received else "MISSED"))


def byte_compile_package() -> str:
    """Byte-compile papercite's modules where they are imported from, as `pip install .` does at
    install time. An editable checkout run with PYTHONDONTWRITEBYTECODE=1 (as on these machines)
    would otherwise compile them at every start: ~40 ms of cold start no installed copy pays."""
    import compileall

    import papercite.index
    import papercite.server

    folders = [Path(folder) for package in (papercite.index, papercite.server) for folder in package.__path__]
    done = all(compileall.compile_dir(folder, quiet=1) for folder in folders)
    return "package byte-compiled as installed" if done else "package NOT byte-compiled (cold start pays it)"


def code_version() -> str:
    """The commit measured, and whether the server's code differs from it."""
    repo = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "server", "index"],
                               capture_output=True, text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "(not a git checkout)"
    changed = [line[3:] for line in dirty if line.strip()]
    return f"{head}" + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, help="keep generated libraries and indexes here")
    parser.add_argument("--reuse", action="store_true", help="reuse libraries and indexes already in --work")
    parser.add_argument("--samples", type=int, default=30, help="papers typed (default 30)")
    parser.add_argument("--repeats", type=int, default=200, help="empty completions and hovers (default 200)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--typing-ms", type=float, default=0.0,
                        help="pause before each keystroke (default 0: keystrokes back to back)")
    parser.add_argument("--verbose", action="store_true", help="show the queries whose paper missed the top 5")
    parser.add_argument("--no-server-indexing", action="store_true", help="skip step 5")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="run the benchmark session's server under cProfile (distorts its latencies)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="papercite-latency-"))
    work.mkdir(parents=True, exist_ok=True)
    work = work.resolve()
    if args.profile:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    compiled = byte_compile_package()
    print(f"papercite {code_version()}; python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; work dir {work}; "
          f"keystroke pause {args.typing_ms:g} ms{'; SERVER PROFILED' if args.profile else ''}; {compiled}")
    checks: list[tuple] = []
    try:
        for size in sorted(args.sizes):
            report(bench(size, work, args, random.Random(11 + size)), checks)
            sys.stdout.flush()
        if not args.no_server_indexing:
            report_indexing(indexing_through_server(work), checks)
        print("\n== targets ==")
        for size, what, value, target, v in checks:
            print(f"{size:>7,} papers  {what:38} {value:>10}  {target:>10}  {v}")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if any(c[4].startswith("MISSED") for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
