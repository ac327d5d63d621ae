"""Small steps every end-to-end test takes: open a file, wait until its papers are indexed, ask for
completions and hovers, and turn text offsets into LSP positions in a given encoding."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from lsprotocol import types
from pytest_lsp import LanguageClient

LANGUAGE_IDS = {".tex": "latex", ".md": "markdown", ".qmd": "quarto", ".Rmd": "rmd", ".bib": "bibtex"}
UTF8, UTF16 = "utf-8", "utf-16"
T = TypeVar("T")


def open_document(client: LanguageClient, path: Path, text: str | None = None, language_id: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language_id or LANGUAGE_IDS.get(path.suffix, "plaintext"), version=1,
        text=path.read_text(encoding="utf-8") if text is None else text)))
    return uri


def change_document(client: LanguageClient, uri: str, text: str, version: int) -> None:
    """Replace the whole buffer (a full-text didChange)."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def complete(client: LanguageClient, uri: str, line: int, character: int) -> types.CompletionList | None:
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character)))
    assert result is None or isinstance(result, types.CompletionList), result
    return result


async def hover(client: LanguageClient, uri: str, line: int, character: int) -> types.Hover | None:
    return await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character)))


async def until(ask: Callable[[], Awaitable[T]], done: Callable[[T], bool], what: str,
                timeout: float = 30.0, pause: float = 0.1) -> T:
    """ask() again (the server indexes in the background) until done(answer); fail after timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        answer = await ask()
        if done(answer):
            return answer
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last answer: {answer!r:.2000}")
        await asyncio.sleep(pause)


async def indexing_idle(client: LanguageClient, quiet: float = 0.5) -> None:
    """Wait until every indexing the server has begun ($/progress) has ended, and no new one
    begins for `quiet` seconds."""

    async def running():
        await asyncio.sleep(quiet)
        return [token for token, reports in client.progress_reports.items()
                if not (reports and isinstance(reports[-1], types.WorkDoneProgressEnd))]

    await until(running, lambda tokens: not tokens, "the server's indexing to end")


def keys(result: types.CompletionList | None) -> list[str]:
    return [item.text_edit.new_text for item in result.items] if result else []


async def complete_until(client: LanguageClient, uri: str, line: int, character: int, expect: str,
                         timeout: float = 30.0) -> types.CompletionList:
    """Completion, asked again while the first indexing is still running, until `expect` shows up."""
    return await until(lambda: complete(client, uri, line, character), lambda r: expect in keys(r),
                       f"{expect!r} to complete at {line}:{character}", timeout)


async def hover_until(client: LanguageClient, uri: str, line: int, character: int, expect: str,
                      timeout: float = 30.0) -> types.Hover:
    """Hover, asked again until its Markdown contains `expect`."""
    return await until(lambda: hover(client, uri, line, character),
                       lambda h: h is not None and expect in h.contents.value,
                       f"a hover at {line}:{character} containing {expect!r}", timeout)


async def wait_for_diagnostics(client: LanguageClient, uri: str,
                               done: Callable[[list[types.Diagnostic]], bool], timeout: float = 30.0):
    async def current():
        return list(client.diagnostics.get(uri, [])) if uri in client.diagnostics else None
    return await until(current, lambda d: d is not None and done(d), f"diagnostics of {uri}", timeout)


async def wait_for_message(client: LanguageClient, needle: str, timeout: float = 30.0) -> types.ShowMessageParams:
    async def find():
        return next((m for m in client.messages if needle in m.message), None)
    return await until(find, lambda m: m is not None, f"a window/showMessage containing {needle!r}", timeout)


def units(text: str, encoding: str = UTF16) -> int:
    return len(text.encode("utf-16-le" if encoding == UTF16 else "utf-8")) // (2 if encoding == UTF16 else 1)


def position_at(text: str, offset: int, encoding: str = UTF16) -> tuple[int, int]:
    """(line, character) of a code-point offset, the character counted in `encoding` units."""
    line = text.count("\n", 0, offset)
    return line, units(text[text.rfind("\n", 0, offset) + 1:offset], encoding)


def position_of(text: str, needle: str, after: bool = True, encoding: str = UTF16) -> tuple[int, int]:
    """(line, character) of the end (or start) of the first occurrence of needle."""
    offset = text.index(needle) + (len(needle) if after else 0)
    return position_at(text, offset, encoding)


def lsp_range(text: str, start: int, end: int, encoding: str = UTF16) -> types.Range:
    (l1, c1), (l2, c2) = position_at(text, start, encoding), position_at(text, end, encoding)
    return types.Range(start=types.Position(line=l1, character=c1), end=types.Position(line=l2, character=c2))


def range_of(text: str, needle: str, within: str | None = None, encoding: str = UTF16) -> types.Range:
    """The range of `needle`, looked for inside the first occurrence of `within` if given."""
    base = text.index(within) if within else 0
    start = text.index(needle, base)
    return lsp_range(text, start, start + len(needle), encoding)


def text_in(text: str, rng: types.Range, encoding: str = UTF16) -> str:
    """The text an LSP range covers (single-line ranges), decoded the way a client would."""
    assert rng.start.line == rng.end.line, rng
    line = text.split("\n")[rng.start.line]
    if encoding == UTF16:
        data = line.encode("utf-16-le")
        return data[2 * rng.start.character:2 * rng.end.character].decode("utf-16-le")
    return line.encode("utf-8")[rng.start.character:rng.end.character].decode("utf-8")


def insert_after(text: str, anchor: str, addition: str) -> str:
    """`text` with `addition` on its own line after the first line containing `anchor`."""
    start = text.index(anchor)
    end = text.index("\n", start) + 1
    return text[:end] + addition + "\n" + text[end:]


def scratch_path(workspace: Path, request, suffix: str, folder: str = "", tag: str = "") -> Path:
    """A document path of this test's own (not on disk until written), for tests sharing a server."""
    name = re.sub(r"\W+", "_", request.node.name + tag).strip("_")
    return workspace / folder / f"{name}{suffix}"


def with_cursor(line: str, base: str, anchor: str) -> tuple[str, int]:
    """`base` with `line` added below `anchor`, and the offset of the `|` that marks the cursor in
    `line` (the marker itself is not added)."""
    plain = line.replace("|", "")
    text = insert_after(base, anchor, plain)
    return text, text.index(plain) + line.index("|")


async def raw_request(client: LanguageClient, method: str, params: dict):
    """Send a request as plain JSON, bypassing the client's own validation (for positions the
    protocol types refuse to build); returns the raw result or raises the server's error."""
    from concurrent.futures import Future
    from uuid import uuid4

    msg_id = str(uuid4())
    future: Future = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(asyncio.wrap_future(future), timeout=10)


async def holds(ask: Callable[[], Awaitable[T]], check: Callable[[T], bool], what: str,
                seconds: float = 1.5, pause: float = 0.1) -> None:
    """check(ask()) stays true for `seconds` (for something that must not happen in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        answer = await ask()
        assert check(answer), f"{what} stopped holding: {answer!r:.2000}"
        await asyncio.sleep(pause)
