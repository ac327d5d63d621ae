"""Faults users and hostile clients produce, run end to end: what papercite does, and how long
until it answers right again. A script, not a test (not run in CI): it prints a table of fault,
outcome, seconds, and exits 1 when an outcome is wrong.

1. an index dir that is not papercite's (a folder of the user's): `index` with --index-dir after
   and before the command, `serve` with the `indexDir` setting; the folder must be left as it was;
2. a FIFO named refs.bib in a project: `index` and `check` of the folder finish; the server
   answers beside it; `exit` while its indexing child is busy ends both; a killed server's child ends;
3. bad frames of each kind (tests/test_stdio.py's table), each followed by a request that must be answered;
4. a read-only index (as `nobody`): `index` one line, `search` answers; segments damaged under a
   running server: seconds until completion finds the paper again; a library that becomes
   unreadable keeps its papers.

    python tests/bench/faults.py [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
from server_latency import Client, ServerError  # noqa: E402
from synthetic import generate, write_bib  # noqa: E402
from test_cli import without_permission_override  # noqa: E402
from test_stdio import BAD_FRAMES, frame_bytes  # noqa: E402

SAMPLE = HERE.parent.parent / "index" / "sample"
PAPERCITE = [sys.executable, "-m", "papercite.server.cli"]
ROWS: list[tuple[str, str, bool, float]] = []
PROBE = "Fault probe: \\cite{attention is all}\n"


def row(fault: str, outcome: str, ok: bool, seconds: float) -> None:
    ROWS.append((fault, outcome, ok, seconds))
    print(f"{'ok ' if ok else 'BAD'}  {seconds:7.2f} s  {fault}: {outcome}", flush=True)


def cli(*args: str, prefix: list[str] = (), timeout: float = 120, **kw) -> tuple[subprocess.CompletedProcess | None, float]:
    start = time.perf_counter()
    try:
        done = subprocess.run([*prefix, *PAPERCITE, *args], capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - start
    return done, time.perf_counter() - start


def one_line_error(done: subprocess.CompletedProcess | None) -> bool:
    return (done is not None and done.returncode != 0 and "Traceback" not in done.stderr
            and done.stderr.strip().count("\n") == 0 and done.stderr.startswith("papercite: error:"))


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def project(work: Path, name: str) -> Path:
    root = work / name
    shutil.copytree(SAMPLE, root)
    (root / "probe.tex").write_text((root / "draft.tex").read_text(encoding="utf-8") + PROBE, encoding="utf-8")
    return root


class Session:
    """A server on `root`, a probe document open in it, and completion at the probe's citation."""

    def __init__(self, root: Path, options: dict, log: Path, prefix: list[str] = ()):
        self.started = time.perf_counter()
        self.client = Client([*prefix, *PAPERCITE, "serve"], log)
        self.client.initialize(root, options)
        text = (root / "probe.tex").read_text(encoding="utf-8")
        self.uri = (root / "probe.tex").as_uri()
        self.client.notify("textDocument/didOpen", {"textDocument": {
            "uri": self.uri, "languageId": "latex", "version": 1, "text": text}})
        before = text.index("\\cite{attention is all") + len("\\cite{attention is all")
        self.position = {"line": text.count("\n", 0, before), "character": before - text.rfind("\n", 0, before) - 1}

    def keys(self) -> list[str]:
        _, result = self.client.request("textDocument/completion", {
            "textDocument": {"uri": self.uri}, "position": self.position}, timeout=30)
        return [item["textEdit"]["newText"] for item in (result or {}).get("items", [])]

    def until_found(self, key: str = "vaswani2017attention", timeout: float = 60) -> float | None:
        """Seconds from now until completion offers `key` (None: never within timeout)."""
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            try:
                if key in self.keys():
                    return time.perf_counter() - start
            except ServerError:
                pass
            time.sleep(0.1)
        return None

    def said(self, text: str) -> list[str]:
        return [message for _, message in self.client.messages if text in message]


# --- 1. an index dir that is not papercite's ----------------------------------------------------

def foreign_index_dir(work: Path) -> None:
    library = SAMPLE / "library.bib"
    for name, args in (("after the command", ["index", str(library), "--index-dir"]),
                       ("before the command", ["--index-dir", "{dir}", "index", str(library)])):
        folder = work / f"user-folder-{name.split()[0]}"
        folder.mkdir()
        (folder / "thesis.tex").write_text("my thesis\n")
        (folder / "data").mkdir()
        (folder / "data" / "results.csv").write_text("1,2\n")
        before = files_of(folder)
        argv = [a.replace("{dir}", str(folder)) for a in args] + ([str(folder)] if args[-1] == "--index-dir" else [])
        done, seconds = cli(*argv, env={**os.environ, "XDG_CACHE_HOME": str(work / "cache")})
        ok = one_line_error(done) and files_of(folder) == before and not (work / "cache").exists()
        row(f"--index-dir {name}, a user's folder", f"refused in one line, folder intact: {done.stderr.strip()[:90]}"
            if done else "hung", ok, seconds)
    root = project(work, "project-foreign")
    before = files_of(root)
    session = Session(root, {"indexDir": str(root)}, work / "foreign-serve.log")
    found = session.until_found()
    refused = session.said("not papercite's")
    intact = {k: v for k, v in files_of(root).items()} == before
    row("indexDir setting = the workspace", f"{len(refused)} message, workspace intact: {intact}, completion "
        f"{'answered' if found is not None else 'never answered'}", found is not None and len(refused) == 1 and intact,
        time.perf_counter() - session.started)
    session.client.shutdown()


# --- 2. a FIFO named like a bibliography --------------------------------------------------------

def fifo_project(work: Path) -> None:
    root = project(work, "project-fifo")
    os.mkfifo(root / "refs.bib")
    for command in ("index", "check"):
        done, seconds = cli(command, str(root), "--index-dir", str(work / f"fifo-index-{command}"), timeout=60)
        said = "not a regular file" in (done.stderr + done.stdout) if done else False
        row(f"FIFO refs.bib, `papercite {command} DIR`", "finished, FIFO skipped with a warning" if said else
            ("hung (killed after 60 s)" if done is None else "finished without saying why"), said, seconds)
    session = Session(root, {"indexDir": str(work / "fifo-serve-index")}, work / "fifo-serve.log")
    found = session.until_found()
    row("FIFO refs.bib in the server's workspace", "completion answered" if found is not None else "no completion",
        found is not None, time.perf_counter() - session.started)
    session.client.shutdown()


def busy_child(work: Path, end) -> None:
    """A server indexing a 20k-paper library in its child; `end` ends the server; seconds until
    neither process is left."""
    root = project(work, f"project-busy-{end.__name__}")
    papers = generate(20_000)
    files = [write_bib(papers[i:i + 1000], root / "big" / f"part{i // 1000:02}.bib") for i in range(0, len(papers), 1000)]
    session = Session(root, {"indexDir": str(work / f"busy-index-{end.__name__}"),
                             "libraries": [str(root / "big" / "*.bib")]}, work / f"busy-{end.__name__}.log")
    server = psutil.Process(session.client.proc.pid)
    deadline = time.perf_counter() + 30
    while not server.children(recursive=True) and time.perf_counter() < deadline:
        time.sleep(0.05)
    family = [server, *server.children(recursive=True)]
    start = time.perf_counter()
    end(session)
    gone, alive = psutil.wait_procs(family, timeout=30)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    row(f"{end.__doc__} while its indexing child is busy ({len(files)} files)",
        f"{len(family)} processes, {len(alive)} left", len(family) > 1 and not alive, time.perf_counter() - start)
    for process in alive:
        process.kill()
    session.client.shutdown(timeout=5)


def shutdown_and_exit(session: Session) -> None:
    """shutdown + exit"""
    session.client.request("shutdown", None, timeout=30)
    session.client.notify("exit", None)


def kill_server(session: Session) -> None:
    """the server killed (SIGKILL)"""
    session.client.proc.send_signal(signal.SIGKILL)


# --- 3. bad frames ------------------------------------------------------------------------------

def bad_frames(work: Path) -> None:
    root = project(work, "project-frames")
    session = Session(root, {"indexDir": str(work / "frames-index")}, work / "frames.log")
    session.until_found()
    hover = {"textDocument": {"uri": session.uri}, "position": session.position}
    for kind, (make, said) in BAD_FRAMES.items():
        body = json.dumps({"jsonrpc": "2.0", "id": 10_000, "method": "textDocument/hover", "params": hover}).encode()
        with session.client._write_lock:
            session.client.proc.stdin.write(make(body))
            session.client.proc.stdin.flush()
        start = time.perf_counter()
        try:
            session.client.request("textDocument/hover", hover, timeout=10)
            answered = True
        except ServerError:
            answered = False
        row(f"bad frame: {kind}", "next request answered, dropped bytes logged" if answered else "deaf",
            answered and session.client.proc.poll() is None, time.perf_counter() - start)
    session.client.shutdown()
    client = Client([*PAPERCITE, "serve"], work / "frames-garbage.log")
    client.initialize(root, {"indexDir": str(work / "frames-index")})
    start = time.perf_counter()
    client.proc.stdin.write(frame_bytes(b"{") + b"garbage " * 10_000)
    client.proc.stdin.close()
    try:
        status = client.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        status = None
    row("garbage with no header after it, then the end of input", f"exit status {status}", status not in (0, None),
        time.perf_counter() - start)
    client.shutdown(timeout=5)


# --- 4. index faults ----------------------------------------------------------------------------

def nobody_prefix() -> list[str] | None:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return None
    prefix = [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"] if setpriv else None
    if prefix and subprocess.run([*prefix, *PAPERCITE, "--help"], capture_output=True).returncode:
        return None  # nobody cannot read this Python or checkout
    return prefix


def read_only_index() -> None:
    prefix = nobody_prefix()
    if prefix is None:
        row("read-only index", "skipped: cannot run as an unprivileged user", True, 0.0)
        return
    home = Path(tempfile.mkdtemp(prefix="papercite-faults-"))
    home.chmod(0o777)
    try:
        index = home / "index"
        done, _ = cli("index", str(SAMPLE / "library.bib"), "--index-dir", str(index), prefix=prefix)
        for path in index.iterdir():
            path.chmod(0o400)
        index.chmod(0o500)
        before = files_of(index)
        done, seconds = cli("index", str(SAMPLE / "references.json"), "--index-dir", str(index), prefix=prefix)
        row("read-only index, `papercite index`", (done.stderr.strip()[:100] if done else "hung"),
            one_line_error(done) and files_of(index) == before, seconds)
        done, seconds = cli("search", "attention is all", "--index-dir", str(index), prefix=prefix)
        found = done is not None and done.returncode == 0 and "vaswani2017attention" in done.stdout
        row("read-only index, `papercite search`", "answered" if found else f"failed: {done and done.stderr[-200:]}",
            found and "Traceback" not in done.stderr, seconds)
    finally:
        for path in home.rglob("*"):
            if path.is_dir():
                path.chmod(0o700)
        shutil.rmtree(home)


def damaged_under_server(work: Path) -> None:
    root = project(work, "project-damaged")
    index = work / "damaged-index"
    session = Session(root, {"indexDir": str(index)}, work / "damaged.log")
    session.until_found()
    for segment in index.glob("*.seg"):
        segment.write_bytes(segment.read_bytes()[:200])
    start = time.perf_counter()
    answers = []
    while time.perf_counter() - start < 60 and len(answers) < 3:
        try:
            if "vaswani2017attention" in session.keys():
                answers.append(time.perf_counter() - start)
        except ServerError:
            pass
        time.sleep(0.1)
    told = session.said("damaged") + session.said("could not be read")
    row("segments damaged under a running server", f"completion right again, {len(told)} message(s)" if answers
        else "completion never right again", bool(answers) and len(told) == 1, answers[-1] if answers else 60.0)
    session.client.shutdown()


def unreadable_library(work: Path) -> None:
    folder = work / "unreadable"
    folder.mkdir()
    library = folder / "library.bib"
    shutil.copy(SAMPLE / "library.bib", library)
    index = str(folder / "index")
    cli("index", str(library), "--index-dir", index)
    library.write_text(library.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    library.chmod(0)
    done, seconds = cli("index", str(library), "--index-dir", index, preexec_fn=without_permission_override)
    searched, _ = cli("search", "attention is all", "--index-dir", index)
    kept = searched is not None and "vaswani2017attention" in searched.stdout
    warned = done is not None and "papers are kept" in done.stderr
    row("a library that became unreadable, `papercite index`", f"papers kept: {kept}, warning: {warned}",
        kept and warned, seconds)
    library.chmod(0o600)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed after)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="papercite-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        foreign_index_dir(work)
        fifo_project(work)
        busy_child(work, shutdown_and_exit)
        busy_child(work, kill_server)
        bad_frames(work)
        read_only_index()
        damaged_under_server(work)
        unreadable_library(work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\n| fault | outcome | seconds | ok |\n|---|---|---|---|")
    for fault, outcome, ok, seconds in ROWS:
        print(f"| {fault} | {outcome} | {seconds:.2f} | {'yes' if ok else 'NO'} |")
    return 0 if all(ok for _, _, ok, _ in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
