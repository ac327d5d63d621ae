"""Reading LSP messages from stdin: the framing done by papercite, stdin read by the event loop.

Framing. pygls's message loop waits for a line that is exactly `Content-Length: N\\r\\n`, ignores
every other line, and reads N bytes: a length that is wrong, a header it does not recognise (LF
line ends, a missing or non-numeric length) and the next message's header lands inside a body
or a line it ignores, and from then on the server answers nothing and logs nothing. Here a bad
frame is reported and skipped to the next message's header, which can be found without trusting
any length: `Content-Length: N` followed by a line end never occurs in a JSON text (a raw line
end is not allowed inside a JSON string, and outside strings JSON has no letters but those of
true, false and null). A frame is handled only if its length is exactly one JSON text; when no
header follows before the input ends, the server says why and exits with status 1, so the
editor restarts it.

Reading. pygls reads stdin on its thread pool: one hand-off to a worker and back for each header
line and each body, three a message, each waking two threads: half of a hover's round trip, and a
good part of every keystroke's (measured: README, Benchmarks). Editors start a language server with
stdin a pipe (Neovim, Emacs) or a socket (VS Code, through libuv), which the loop can watch like any
other; anything else (a file, a terminal, Windows) is read in chunks on a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, BinaryIO

from pygls.exceptions import JsonRpcException

CHUNK = 1 << 16  # bytes asked of stdin at a time
HEADER_LIMIT = 1 << 16  # bytes in one header line; a body is read by length, whatever its size
SKIP_LIMIT = 1 << 26  # bytes without a message header after a bad frame before the input is given up
HEADER_LINE = re.compile(rb"([-!#$%&'*+.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*\r?\n")  # field name: value
NEXT_HEADER = re.compile(rb"content-length:[ \t]{0,16}\d{1,19}[ \t]{0,16}\r?\n", re.IGNORECASE)
NEXT_HEADER_SPAN = 72  # bytes in the longest match of NEXT_HEADER
SHOWN = 60  # bytes of dropped input quoted in a report


class Unframeable(Exception):
    """The input cannot be read as LSP messages any more (the message says why)."""


def loop_can_read(stdin: BinaryIO, stdout: BinaryIO) -> bool:
    """Whether the event loop can watch ``stdin``: a pipe or socket of its own. The loop makes it
    non-blocking, which would make writes fail on a stdout sharing its file description (a
    terminal or a socket opened once for both)."""
    if os.name != "posix":
        return False
    try:
        given, written = os.fstat(stdin.fileno()), os.fstat(stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no real file behind it (a test's BytesIO)
        return False
    if not (stat.S_ISFIFO(given.st_mode) or stat.S_ISSOCK(given.st_mode)):
        return False
    return (given.st_dev, given.st_ino) != (written.st_dev, written.st_ino)


class LoopReader:
    """Chunks of ``stdin`` read by the event loop (an asyncio stream on it); b"" at its end."""

    def __init__(self, stdin: BinaryIO):
        self._stdin = stdin
        self._stream: asyncio.StreamReader | None = None

    async def read(self) -> bytes:
        if self._stream is None:
            stream = asyncio.StreamReader()
            await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(stream), self._stdin)
            self._stream = stream
        return await self._stream.read(CHUNK)


class ThreadReader:
    """Chunks of ``stdin`` read on a worker thread, for a stdin the loop cannot watch; b"" at its end."""

    def __init__(self, stdin: BinaryIO, executor: Executor):
        self._stdin, self._executor = stdin, executor

    async def read(self) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._stdin.read1, CHUNK)


class Frames:
    """The messages of a stream of LSP base-protocol frames (header lines, an empty line, a body
    of Content-Length bytes). Other header fields are ignored; line ends may be LF alone. A bad
    frame is reported (``report``) and skipped up to the next header."""

    def __init__(self, read: Callable[[], Awaitable[bytes]], decode: Callable[[bytes], Any],
                 report: Callable[[str], None]):
        self._read, self._decode, self.report = read, decode, report
        self._buffer = bytearray()
        self._ended = False
        self._bare_line_ends_reported = False

    async def next(self) -> Any:
        """The next message, decoded; None at the end of the input (between messages).
        Unframeable when the input ends inside a message or has no header after a bad frame."""
        while True:
            length = await self._header()
            if length is None:
                return None
            message = await self._body(length)
            if message is not _DROPPED:
                return message

    async def _fill(self) -> bool:
        """More input into the buffer; False at its end."""
        if not self._ended:
            chunk = await self._read()
            self._buffer += chunk
            self._ended = not chunk
        return not self._ended

    async def _header(self) -> int | None:
        while isinstance(found := await self._header_block(), str):
            await self._skip(found)
        return found

    async def _header_block(self) -> int | str | None:
        """Consume a header block and give its Content-Length, or why it is bad (the bad line
        left in the buffer), or None at the end of the input."""
        length = None
        started = False  # a header line was read (line ends before it are ignored)
        searched = 0
        while True:
            end = self._buffer.find(b"\n", searched)
            if end < 0:
                if len(self._buffer) > HEADER_LIMIT:
                    return f"a header line longer than {HEADER_LIMIT} bytes"
                searched = len(self._buffer)
                if not await self._fill():
                    if started or self._buffer.strip():
                        raise Unframeable(f"the input ended inside a message header ({bytes(self._buffer[:SHOWN])!r})")
                    return None
                continue
            if end >= HEADER_LIMIT:
                return f"a header line longer than {HEADER_LIMIT} bytes"
            line = bytes(self._buffer[:end + 1])
            searched = 0
            if not line.strip():  # an empty line: the end of the header block
                del self._buffer[:end + 1]
                if not started:
                    continue
                return "a header without Content-Length" if length is None else length
            field = HEADER_LINE.fullmatch(line)
            if field is None:
                return f"not a header line: {line[:SHOWN]!r}"
            name, value = field.groups()
            if name.lower() != b"content-length" and NEXT_HEADER.search(line):  # "junk...Content-Length: 5"
                return f"not a header line: {line[:SHOWN]!r}"
            if name.lower() == b"content-length":
                if not value.isdigit():
                    return f"Content-Length {value[:SHOWN].decode(errors='replace')!r} is not a length"
                if length is not None:
                    return "a second Content-Length header"
                length = int(value)
            if not line.endswith(b"\r\n") and not self._bare_line_ends_reported:
                self._bare_line_ends_reported = True
                self.report("the client ends header lines with LF alone, not CRLF: read all the same")
            del self._buffer[:end + 1]
            started = True

    async def _body(self, length: int) -> Any:
        """Consume a body of ``length`` bytes and decode it; _DROPPED (reported) when those bytes
        are not one JSON text."""
        scanned = 0
        while len(self._buffer) < length:
            # arriving still, or a length too large: a header in what came, or a JSON text already
            # whole (nothing may follow it but spaces), says which
            if NEXT_HEADER.search(self._buffer, max(0, scanned - NEXT_HEADER_SPAN)):
                return await self._drop_body(length)
            scanned = len(self._buffer)
            if self._buffer[-16:].rstrip().endswith(b"}") and _is_json(bytes(self._buffer)):
                return await self._drop_body(length)
            if not await self._fill():
                raise Unframeable(f"the input ended {len(self._buffer)} bytes into a message of {length} "
                                  f"({bytes(self._buffer[:SHOWN])!r})")
        try:
            message = self._decode(bytes(self._buffer[:length]))
        except (ValueError, RecursionError):  # not JSON (text that is not UTF-8 is a ValueError too)
            return await self._drop_body(length)
        except BaseException:  # JSON, but not a message pygls can read: the frame is done with
            del self._buffer[:length]
            raise
        del self._buffer[:length]
        return message

    async def _drop_body(self, length: int) -> object:
        """The body at the buffer's start is not one JSON text of ``length`` bytes: skip it."""
        following = NEXT_HEADER.search(self._buffer)
        if following is not None and following.start() < length:
            reason = f"Content-Length {length} runs into the next message, {following.start()} bytes in"
        elif len(self._buffer) < length:
            reason = f"Content-Length {length} is longer than its message ({len(self._buffer)} bytes)"
        elif following is not None and following.start() == length:
            reason = f"the {length} bytes of a message are not one JSON text"
        elif following is not None:
            reason = f"Content-Length {length} is short of its message (the next header is {following.start() - length} bytes later)"
        else:
            reason = f"the {length} bytes of a message are not one JSON text (is Content-Length short of it?)"
        if following is None and len(self._buffer) < length:
            del self._buffer[:]  # a whole JSON text and nothing after it: nothing to wait for
            self.report(f"{reason}: dropped it, reading on from the next message header")
        else:
            await self._skip(reason)
        return _DROPPED

    async def _skip(self, reason: str) -> None:
        """Drop input up to the next message header, saying what was dropped; Unframeable when
        the input ends first, or too much goes by without one."""
        shown = bytes(self._buffer[:SHOWN])
        dropped = 0
        while (following := NEXT_HEADER.search(self._buffer)) is None:
            passed = max(0, len(self._buffer) - NEXT_HEADER_SPAN)
            if not dropped and passed:
                self.report(f"{reason}: skipping input ({shown!r}...) up to the next message header")
            dropped += passed
            del self._buffer[:passed]
            if dropped > SKIP_LIMIT:
                raise Unframeable(f"{reason}, then {dropped} bytes without a message header")
            if not await self._fill():
                raise Unframeable(f"{reason}, then the input ended with no message header after it "
                                  f"({dropped + len(self._buffer)} bytes: {shown!r}...)")
        dropped += following.start()
        del self._buffer[:following.start()]
        self.report(f"{reason}: dropped {dropped} bytes ({shown!r}...), reading on from the next message header")


_DROPPED = object()


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


async def serve_frames(stop_event: threading.Event, frames: Frames, protocol, logger: logging.Logger,
                       error_handler: Callable[[Exception, type], Any]) -> None:
    """pygls's message loop (pygls.io_.run_async), over Frames. A JSON text that is no JSON-RPC
    message (an array, an object without "jsonrpc") is reported and ignored, not logged with a
    traceback."""
    while not stop_event.is_set():
        try:
            message = await frames.next()
            if message is None:
                break
            if not hasattr(message, "jsonrpc"):
                frames.report(f"not a JSON-RPC message, ignored: {repr(message)[:SHOWN]}")
                continue
            protocol.handle_message(message)
        except Unframeable:
            raise
        except Exception as exc:
            logger.exception("Unable to handle message")
            error_handler(exc, JsonRpcException)


def process_alive(pid: int) -> bool:
    """Whether process pid exists (a process of another user's counts: it is there)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # an id no process can have
        return False
    return True


def watch_process(pid: int, gone: Callable[[], None], every: float = 2.0) -> bool:
    """Call gone() once process pid has ended, checking every `every` seconds on a daemon thread.
    An editor that dies without closing the server's stdin (the pipe held open by another
    process it started) would otherwise leave the server running for ever. A process that is not
    there from the start is not watched (False): an editor outside the server's container sends
    an id from another process namespace, and the server must not end at once for that."""
    if not process_alive(pid):
        return False

    def watch() -> None:
        while process_alive(pid):
            time.sleep(every)
        gone()

    threading.Thread(target=watch, name=f"papercite-watch-{pid}", daemon=True).start()
    return True
