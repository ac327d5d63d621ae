"""Files that would make the server wait for ever, and the indexing child's life: a FIFO named like a
bibliography in the workspace is skipped, with the reason where a document declares it, and the
rest is served; `exit` ends the server and its indexing child while the child is busy, and a
server that dies takes its child with it.

A busy child, deterministically: the test holds the index's writer lock, so the child the server
starts waits for it (for two minutes, as `papercite index` would)."""

from __future__ import annotations

import fcntl
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest
from pytest_lsp import LanguageClient

from papercite.index.store import PaperStore

from .helpers import complete_until, open_document, position_of, wait_for_diagnostics

ANSWER_SECONDS = 30  # a process or an answer not there by then is hung (each takes well under a second)


@pytest.fixture
def workspace(workspace: Path) -> Path:
    """The sample project with a FIFO named a.bib, first of its bibliographies."""
    os.mkfifo(workspace / "a.bib")
    return workspace


async def test_a_fifo_in_the_workspace_is_skipped_and_the_rest_served(client: LanguageClient, workspace: Path):
    undeclaring = workspace / "notes.tex"  # declares nothing: it sees the workspace's bibliographies
    text = "Transformers \\cite{attention is all\n"
    uri = open_document(client, undeclaring, text)
    line, character = position_of(text, "\\cite{attention is all")
    await complete_until(client, uri, line, character, "vaswani2017attention")
    declaring = workspace / "piped.tex"
    text = "\\addbibresource{a.bib}\n\\addbibresource{library.bib}\n\\cite{vaswani2017attention}\n"
    uri = open_document(client, declaring, text)
    [diagnostic] = await wait_for_diagnostics(client, uri, lambda found: len(found) == 1)
    assert diagnostic.message == f"bibliography not read: a.bib ({workspace / 'a.bib'}): not a regular file (a FIFO)"
    assert diagnostic.range.start.line == 0


class Server:
    """`papercite serve` driven by hand over its stdio (the test needs its process and its child's)."""

    def __init__(self, root: Path, index: Path):
        self.process = subprocess.Popen([sys.executable, "-m", "papercite.server.cli", "serve"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0
        self.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {},
                                    "initializationOptions": {"indexDir": str(index),
                                                              "libraries": [str(root / "library.bib")]}})
        self.notify("initialized", {})  # the server indexes the libraries now

    def _read(self) -> None:
        stream = self.process.stdout
        while header := stream.readline():
            length = int(header.split(b":")[1]) if header.lower().startswith(b"content-length") else None
            while stream.readline().strip():
                pass
            if length is not None:
                self.messages.put(json.loads(stream.read(length)))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params) -> dict:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.messages.get(timeout=ANSWER_SECONDS)
            if message.get("id") == self.next_id and "method" not in message:
                return message

    def indexing_child(self) -> psutil.Process:
        """The child the server indexes in, once it has started."""
        server = psutil.Process(self.process.pid)
        for _ in range(ANSWER_SECONDS * 100):
            for child in server.children():
                try:
                    if "child_main" in " ".join(child.cmdline()):
                        return child
                except psutil.Error:
                    pass
            threading.Event().wait(0.01)
        raise AssertionError("the server started no indexing child")

    def close(self) -> None:
        for process in psutil.Process(self.process.pid).children(recursive=True) if self.process.poll() is None else ():
            process.kill()
        self.process.kill()
        self.process.wait()


@pytest.fixture
def busy_server(workspace: Path, tmp_path: Path):
    """A server whose indexing child waits for the writer lock this test holds."""
    index = tmp_path / "busy-index"
    PaperStore(index).close()
    with open(index / "write.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = Server(workspace, index)
        try:
            yield server
        finally:
            server.close()


def assert_ends(processes: list[psutil.Process], what: str) -> None:
    _, alive = psutil.wait_procs(processes, timeout=ANSWER_SECONDS)
    assert not alive, f"{what} did not end"


def test_exit_ends_the_server_and_its_busy_indexing_child(busy_server: Server):
    child = busy_server.indexing_child()
    assert "error" not in busy_server.request("shutdown", None)
    assert_ends([child], "the indexing child, after shutdown,")
    busy_server.notify("exit", None)
    try:
        code = busy_server.process.wait(ANSWER_SECONDS)
    except subprocess.TimeoutExpired:
        raise AssertionError("the server did not exit") from None
    assert code == 0


def test_an_indexing_child_ends_with_its_server(busy_server: Server):
    child = busy_server.indexing_child()
    busy_server.process.send_signal(signal.SIGKILL)
    busy_server.process.wait()
    assert_ends([child], "the indexing child of a killed server")
