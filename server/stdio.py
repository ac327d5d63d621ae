"""stdin read by the event loop itself, not by a worker thread.

pygls reads stdin on its thread pool: one hand-off to a worker and back for each header line and
each body, three a message, each waking two threads. Measured on the 10k benchmark that was half
of a hover's round trip (0.53 ms, 0.23 ms without) and 0.6 ms of every keystroke (a didChange and
a completion request). Editors start a language server with stdin a pipe (Neovim, Emacs) or a
socket (VS Code, through libuv), which the loop can watch like any other; anything else (a file,
a terminal, Windows) keeps pygls's reader.
"""

from __future__ import annotations

import asyncio
import os
import stat
from typing import BinaryIO

HEADER_LIMIT = 1 << 16  # bytes in one header line; a body is read by length, whatever its size


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
    """pygls's AsyncReader (readline, readexactly) over an asyncio stream on ``stdin``; at the
    end of input both return b"", which ends pygls's message loop as its own reader does."""

    def __init__(self, stdin: BinaryIO):
        self._stdin = stdin
        self._stream: asyncio.StreamReader | None = None

    async def _opened(self) -> asyncio.StreamReader:
        if self._stream is None:
            stream = asyncio.StreamReader(limit=HEADER_LIMIT)
            await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(stream), self._stdin)
            self._stream = stream
        return self._stream

    async def readline(self) -> bytes:
        try:
            return await (await self._opened()).readline()
        except ValueError:  # a header line past HEADER_LIMIT: no client sends one
            return b""

    async def readexactly(self, n: int) -> bytes:
        try:
            return await (await self._opened()).readexactly(n)
        except asyncio.IncompleteReadError:  # the client went away mid-message
            return b""
