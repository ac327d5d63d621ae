"""`papercite serve` on the standard streams editors give it: a pipe (read by the event loop),
and a regular file (read the way pygls reads it). The pytest-lsp suites cover the pipe with
whole messages; these feed it as editors may, split anywhere and several at once."""

from __future__ import annotations

import asyncio
import io
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from papercite.server.lsp import stdio
from papercite.server.lsp.stdio import Frames, LoopReader, ThreadReader, Unframeable, loop_can_read


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def session(root: Path) -> list[bytes]:
    """initialize, a hover outside any document, shutdown, exit: a whole life of a server."""
    return [
        frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": root.as_uri(), "capabilities": {},
            "initializationOptions": {"indexDir": str(root / "index")}}}),
        frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
        frame({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": (root / "none.tex").as_uri()}, "position": {"line": 0, "character": 0}}}),
        frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}),
        frame({"jsonrpc": "2.0", "method": "exit"}),
    ]


def responses(output: bytes) -> dict:
    """The responses in the server's output, by id."""
    found = {}
    while output:
        head, _, rest = output.partition(b"\r\n\r\n")
        length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
                     .split(b":")[1])
        message = json.loads(rest[:length])
        output = rest[length:]
        if "id" in message and "method" not in message:
            found[message["id"]] = message
    return found


def read_message(stream) -> dict:
    """The next message the server writes that is not a notification (log messages come first)."""
    while True:
        length = 0
        while (line := stream.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message = json.loads(stream.read(length))
        if "id" in message:
            return message


def serve(stdin, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "papercite.server.cli", "serve", *flags], stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(server: subprocess.Popen) -> tuple[bytes, bytes]:
    """Close the server's stdin and collect what it wrote until it ends."""
    server.stdin.close()
    server.stdin = None  # written to already: communicate() must not flush it
    return server.communicate(timeout=60)


def test_a_pipe_fed_in_pieces(tmp_path: Path):
    """Split inside headers and bodies, then several messages in one write: each is answered."""
    server = serve(subprocess.PIPE)
    initialize, initialized, hover, shutdown, exit_ = session(tmp_path)
    cut = initialize.index(b"\r\n\r\n") + 3  # between the two line ends ending the header
    for piece in (initialize[:7], initialize[7:cut], initialize[cut:cut + 40], initialize[cut + 40:]):
        server.stdin.write(piece)  # "Content" | "-Length: ...\r\n\r" | "\n{..." | "...}"
        server.stdin.flush()
        time.sleep(0.05)
    assert read_message(server.stdout)["id"] == 1
    server.stdin.write(initialized + hover)
    server.stdin.flush()
    assert read_message(server.stdout) == {"jsonrpc": "2.0", "id": 2, "result": None}  # a document never opened
    server.stdin.write(shutdown + exit_)
    output, errors = finish(server)
    assert server.returncode == 0, errors.decode()
    assert responses(output)[3] == {"jsonrpc": "2.0", "id": 3, "result": None}


def test_a_regular_file(tmp_path: Path):
    """`papercite serve < session.bin`: stdin the loop cannot watch, read as pygls reads it."""
    recorded = tmp_path / "session.bin"
    recorded.write_bytes(b"".join(session(tmp_path)))
    with recorded.open("rb") as stdin:
        server = serve(stdin)
        output, errors = server.communicate(timeout=60)
    assert server.returncode == 0, errors.decode()
    answered = responses(output)
    assert answered[1]["result"]["capabilities"]["completionProvider"]["triggerCharacters"] == ["{", ",", "@", ";"]
    assert answered[3] == {"jsonrpc": "2.0", "id": 3, "result": None}  # shutdown (it may cancel the hover)


def test_the_client_going_away_ends_the_server(tmp_path: Path):
    """stdin closed without shutdown or exit (an editor killed): the server ends, it does not
    spin or wait for ever."""
    server = serve(subprocess.PIPE)
    server.stdin.write(session(tmp_path)[0] + b"Content-Length: 100\r\n\r\n{\"jsonrpc\"")  # cut mid-message
    output, _ = finish(server)
    assert 1 in responses(output)


@pytest.mark.parametrize("flags", [["--stdio"], ["--stdio", f"--clientProcessId={os.getpid()}"],
                                   ["--clientProcessId", str(os.getpid()), "--stdio"]])
def test_the_flags_language_clients_pass(tmp_path: Path, flags: list[str]):
    """vscode-languageclient appends --stdio to the command (and --clientProcessId for some
    transports): a whole session is served, not refused as unknown arguments."""
    server = serve(subprocess.PIPE, *flags)
    server.stdin.write(b"".join(session(tmp_path)))
    output, errors = finish(server)
    assert server.returncode == 0, errors.decode()
    assert responses(output)[3] == {"jsonrpc": "2.0", "id": 3, "result": None}


@pytest.mark.parametrize("told", ["command line", "initialize"])
def test_the_editor_gone_ends_the_server(tmp_path: Path, told: str):
    """The editor's process ends while the server's stdin stays open (held by another of its
    processes): the server notices and exits with status 1, as after an exit without shutdown."""
    editor = subprocess.Popen(["sleep", "600"])
    initialize = json.loads(session(tmp_path)[0].partition(b"\r\n\r\n")[2])
    flags = []
    if told == "command line":
        flags = [f"--clientProcessId={editor.pid}"]
    else:
        initialize["params"]["processId"] = editor.pid
    server = serve(subprocess.PIPE, "--stdio", *flags)
    try:
        server.stdin.write(frame(initialize))
        server.stdin.flush()
        assert read_message(server.stdout)["id"] == 1
        time.sleep(0.5)
        assert server.poll() is None  # the editor is there: the server stays
        editor.kill()
        editor.wait()  # reaped: a zombie still counts as a process
        assert server.wait(timeout=20) == 1
        assert "has gone" in server.stderr.read().decode()
    finally:
        editor.kill()
        server.kill()
        server.wait()


def test_an_editor_process_never_seen_is_not_watched(tmp_path: Path):
    """A process id that names no process here (an editor outside the server's container): the
    server says so and serves, it does not end at once."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    server = serve(subprocess.PIPE, f"--clientProcessId={dead.pid}")
    initialize, initialized, hover, shutdown, exit_ = session(tmp_path)
    server.stdin.write(initialize)
    server.stdin.flush()
    assert read_message(server.stdout)["id"] == 1
    time.sleep(3)  # more than one check of the watcher
    server.stdin.write(initialized + hover + shutdown + exit_)
    output, errors = finish(server)
    assert server.returncode == 0, errors.decode()
    assert responses(output)[3] == {"jsonrpc": "2.0", "id": 3, "result": None}
    assert f"process {dead.pid} is not visible" in errors.decode()


def test_which_streams_the_loop_reads(tmp_path: Path):
    pipes = [os.pipe(), os.pipe()]
    with os.fdopen(pipes[0][0], "rb") as stdin, os.fdopen(pipes[1][1], "wb") as stdout:
        assert loop_can_read(stdin, stdout)  # Neovim, Emacs
    for fd in (pipes[0][1], pipes[1][0]):
        os.close(fd)
    one, other = socket.socketpair()
    with one, other, one.makefile("rb") as stdin, other.makefile("wb") as stdout:
        assert loop_can_read(stdin, stdout)  # VS Code (libuv gives socket pairs)
        with one.makefile("wb") as same:  # one socket for both ways: non-blocking would break writes
            assert not loop_can_read(stdin, same)
    recorded = tmp_path / "messages"
    recorded.write_bytes(b"")
    with recorded.open("rb") as stdin, (tmp_path / "out").open("wb") as stdout:
        assert not loop_can_read(stdin, stdout)
    assert not loop_can_read(io.BytesIO(), io.BytesIO())



def hover(root: Path, message_id: int) -> dict:
    return {"jsonrpc": "2.0", "id": message_id, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": (root / "none.tex").as_uri()}, "position": {"line": 0, "character": 0}}}


DEAF_AFTER = 60  # seconds without a message that mean none is coming (a hang guard, not a latency bound)


class Talk:
    """`papercite serve` on pipes, its messages and its stderr read on threads as they come."""

    def __init__(self):
        self.server = serve(subprocess.PIPE)
        self.messages: queue.Queue = queue.Queue()
        self.errors = b""
        self.readers = [threading.Thread(target=self._read_messages, daemon=True),
                        threading.Thread(target=self._read_errors, daemon=True)]
        for reader in self.readers:
            reader.start()

    def _read_messages(self) -> None:
        while True:
            length = 0
            while (line := self.server.stdout.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            self.messages.put(json.loads(self.server.stdout.read(length)))

    def _read_errors(self) -> None:
        self.errors = self.server.stderr.read()

    def send(self, data: bytes) -> None:
        self.server.stdin.write(data)
        self.server.stdin.flush()

    def next(self) -> dict:
        """The server's next message; a server gone deaf fails the test instead of hanging it."""
        try:
            return self.messages.get(timeout=DEAF_AFTER)
        except queue.Empty:
            raise AssertionError(f"nothing from the server in {DEAF_AFTER} s: it is deaf") from None

    def answer(self, logged: list[str]) -> dict:
        """The server's next response; the window/logMessage texts before it go to ``logged``."""
        while "id" not in (message := self.next()) or "method" in message:
            if message.get("method") == "window/logMessage":
                logged.append(message["params"]["message"])
        return message

    def end(self) -> tuple[int, str]:
        """Close the server's stdin; its exit status and stderr once it has ended."""
        self.server.stdin.close()
        status = self.server.wait(timeout=DEAF_AFTER)
        for reader in self.readers:
            reader.join()
        return status, self.errors.decode()


def frame_bytes(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


BAD_FRAMES = {  # kind: (the bad frame made of a request's body, or junk, and what the server says of it)
    "length too small": (lambda body: b"Content-Length: %d\r\n\r\n" % (len(body) - 10) + body,
                         "is short of its message (the next header is 10 bytes later)"),
    "length too large, a message after it": (
        lambda body: b"Content-Length: %d\r\n\r\n" % (len(body) + 500) + body, "runs into the next message"),
    "length non-numeric": (lambda body: b"Content-Length: many\r\n\r\n" + body, "'many' is not a length"),
    "length negative": (lambda body: b"Content-Length: -5\r\n\r\n" + body, "'-5' is not a length"),
    "length missing": (lambda body: b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + body,
                       "a header without Content-Length"),
    "a line that is no header": (lambda body: b"hello\r\n", "not a header line: b'hello\\r\\n'"),
    "a header line too long": (lambda body: b"x" * 100_000, "a header line longer than"),
    "body not JSON": (lambda body: frame_bytes(b"{" + body), "are not one JSON text"),
    "body not UTF-8": (lambda body: frame_bytes(body.replace(b"\"2.0\"", b"\"2.\xff0\"")), "are not one JSON text"),
    "JSON, not JSON-RPC": (lambda body: frame_bytes(b"[" + body + b"]"), "not a JSON-RPC message"),
}


def test_a_bad_frame_of_each_kind_then_a_request_answered(tmp_path: Path):
    """Hostile traffic: after each kind of bad frame the next request is answered (the bad
    one, id 100, is not), and the server says what it dropped, on stderr (the editor's LSP log)
    and to the client as window/logMessage."""
    talk = Talk()
    initialize, initialized, _, shutdown, exit_ = session(tmp_path)
    talk.send(initialize + initialized)
    logged: list[str] = []
    assert talk.answer(logged)["id"] == 1
    for number, (kind, (bad_frame, said)) in enumerate(BAD_FRAMES.items(), start=2):
        talk.send(bad_frame(json.dumps(hover(tmp_path, 100)).encode()) + frame(hover(tmp_path, number)))
        assert talk.answer(logged) == {"jsonrpc": "2.0", "id": number, "result": None}, kind
        assert said in logged[-1], (kind, logged)
    talk.send(shutdown + exit_)
    status, errors = talk.end()
    assert status == 0, errors
    for kind, (_, said) in BAD_FRAMES.items():
        assert said in errors, kind


def test_a_length_too_large_with_nothing_after_it(tmp_path: Path):
    """A message whose length runs past its end, and then the client waits for its answer: the
    server does not wait for bytes that never come, it says so at once and reads on."""
    talk = Talk()
    initialize, initialized, _, shutdown, exit_ = session(tmp_path)
    body = json.dumps(hover(tmp_path, 100)).encode()
    talk.send(initialize + initialized + b"Content-Length: %d\r\n\r\n" % (len(body) + 40) + body)
    assert talk.next()["id"] == 1
    while (message := talk.next()).get("method") != "window/logMessage":
        pass  # nothing more is written until the server has reported the frame
    assert f"Content-Length {len(body) + 40} is longer than its message ({len(body)} bytes)" in message["params"]["message"]
    talk.send(frame(hover(tmp_path, 2)))
    assert talk.answer([]) == {"jsonrpc": "2.0", "id": 2, "result": None}
    talk.send(shutdown + exit_)
    assert talk.end()[0] == 0


def test_header_lines_ended_by_lf_alone(tmp_path: Path):
    """A client that ends header lines with LF, not CRLF: read all the same, said once."""
    server = serve(subprocess.PIPE)
    server.stdin.write(b"".join(message.replace(b"\r\n", b"\n") for message in session(tmp_path)))
    output, errors = finish(server)
    assert server.returncode == 0, errors.decode()
    answered = responses(output)
    assert answered[1]["result"]["capabilities"]["hoverProvider"]
    assert answered[3] == {"jsonrpc": "2.0", "id": 3, "result": None}
    assert errors.decode().count("ends header lines with LF alone") == 1


def test_input_that_cannot_be_read_on_ends_the_server(tmp_path: Path):
    """A bad frame and no header after it before the input ends: the server says why and exits
    with status 1 (an editor restarts a server that ends so), rather than ending as if all went well."""
    server = serve(subprocess.PIPE)
    server.stdin.write(session(tmp_path)[0] + b"Content-Length: many\r\n\r\n" + b"%PDF-1.4 not a message " * 100)
    output, errors = finish(server)
    assert 1 in responses(output)
    assert server.returncode == 1
    assert "Content-Length 'many' is not a length, then the input ended with no message header after it" in errors.decode()


def test_a_change_older_than_the_text_held_is_ignored(tmp_path: Path):
    """Opened at version 3, changed to 5, then a change to version 4 arrives (late, or from a
    confused client): the text stays version 5's, and the server says it ignored the change."""
    talk = Talk()
    initialize, initialized, _, shutdown, exit_ = session(tmp_path)
    uri = (tmp_path / "paper.tex").as_uri()

    def change(version: int, text: str) -> bytes:
        return frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}})

    talk.send(initialize + initialized + frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "latex", "version": 3, "text": "\\cite{alpha}"}}}))
    talk.send(change(5, "\\cite{beta}") + change(4, "\\cite{gamma}") + frame({
        "jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": uri}, "position": {"line": 0, "character": 7}}}))
    logged: list[str] = []
    assert talk.answer(logged)["id"] == 1
    assert "`beta` is not in this document's bibliographies." in talk.answer(logged)["result"]["contents"]["value"]
    assert logged == [f"papercite: ignored a change of {uri} to version 4: the text held is version 5, newer"]
    talk.send(shutdown + exit_)
    assert talk.end()[0] == 0


BAD_FRAMINGS = [bad for kind, (bad, _) in BAD_FRAMES.items() if kind != "JSON, not JSON-RPC"]  # the loop's to report


def bad_then_good(bodies: list[bytes]) -> bytes:
    """Each kind of bad framing, each followed by a good frame of the body it was made of."""
    return b"".join(bad(body) + frame_bytes(body) for bad, body in zip(BAD_FRAMINGS, bodies, strict=True))


def read_all(read, reports: list[str]) -> list:
    async def messages() -> list:
        frames, found = Frames(read, json.loads, reports.append), []
        while (message := await frames.next()) is not None:
            found.append(message)
        return found

    return asyncio.run(messages())


def test_frames_split_anywhere_among_bad_ones():
    """The hostile stream fed one byte at a time, and all at once: the good messages come out
    whole and in order, each bad frame is reported."""
    bodies = [json.dumps({"jsonrpc": "2.0", "id": n, "method": "m", "params": {"n": "é" * n}}, ensure_ascii=False).encode()
              for n in range(len(BAD_FRAMINGS))]
    stream = bad_then_good(bodies)
    for pieces in ([stream[i:i + 1] for i in range(len(stream))], [stream]):
        reports: list[str] = []
        chunks = iter(pieces)

        async def read() -> bytes:
            return next(chunks, b"")

        found = read_all(read, reports)
        assert [m["id"] for m in found] == list(range(len(BAD_FRAMINGS)))
        assert len(reports) >= len(BAD_FRAMINGS)


def test_frames_over_a_pipe_read_by_the_loop_and_by_a_thread():
    bodies = [json.dumps({"jsonrpc": "2.0", "id": n}).encode() for n in range(len(BAD_FRAMINGS))]
    stream = bad_then_good(bodies) + frame_bytes(b'{"last": true}')
    for make_reader in (LoopReader, lambda stdin: ThreadReader(stdin, None)):
        given, taken = os.pipe()
        writer = threading.Thread(target=lambda: (os.write(taken, stream), os.close(taken)))
        writer.start()
        with os.fdopen(given, "rb") as stdin:
            reports: list[str] = []
            found = read_all(make_reader(stdin).read, reports)
        writer.join()
        assert found == [json.loads(body) for body in bodies] + [{"last": True}]
        assert len(reports) >= len(BAD_FRAMINGS)


def test_a_whole_message_short_of_its_length_is_dropped_without_waiting():
    """Content-Length past the end of a whole JSON text, nothing after it: reported before
    more input is asked for (the client is waiting for an answer, not sending)."""
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "initialize"}'
    reports: list[str] = []
    given = [b"Content-Length: %d\r\n\r\n" % (len(body) + 8) + body]

    async def read() -> bytes:
        if given:
            return given.pop()
        assert reports == [f"Content-Length {len(body) + 8} is longer than its message ({len(body)} bytes): "
                           "dropped it, reading on from the next message header"]
        read.answered = getattr(read, "answered", 0) + 1
        return frame_bytes(b'{"id": 2}') if read.answered == 1 else b""

    assert read_all(read, reports) == [{"id": 2}]


def test_input_that_never_has_a_header_again(monkeypatch):
    monkeypatch.setattr(stdio, "SKIP_LIMIT", 1000)
    chunks = iter([b"Content-Length: x\r\n\r\n"] + [b"garbage " * 100] * 10)

    async def read() -> bytes:
        return next(chunks, b"")

    with pytest.raises(Unframeable, match=r"Content-Length 'x' is not a length, then \d+ bytes without a message header"):
        read_all(read, [])
    for ending, why in ((b"Content-Length: 10\r\n\r\n{", "the input ended 1 bytes into a message of 10"),
                        (b"Content-Length: 10\r\n", "the input ended inside a message header")):
        chunks = iter([frame_bytes(b"{}"), ending])
        with pytest.raises(Unframeable, match=why):
            read_all(read, [])
