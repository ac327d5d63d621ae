"""`papercite serve` on the standard streams editors give it: a pipe (read by the event loop),
and a regular file (read the way pygls reads it). The pytest-lsp suites cover the pipe with
whole messages; these feed it as editors may, split anywhere and several at once."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from papercite.server.stdio import loop_can_read


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


def serve(stdin) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "papercite.server.cli", "serve"], stdin=stdin,
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
