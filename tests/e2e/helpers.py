"""Small steps every end-to-end test takes: open a file, wait until its papers are indexed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

LANGUAGE_IDS = {".tex": "latex", ".md": "markdown", ".qmd": "quarto", ".Rmd": "rmd", ".bib": "bibtex"}


def open_document(client: LanguageClient, path: Path, text: str | None = None, language_id: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language_id or LANGUAGE_IDS.get(path.suffix, "plaintext"), version=1,
        text=path.read_text(encoding="utf-8") if text is None else text)))
    return uri


async def complete(client: LanguageClient, uri: str, line: int, character: int) -> types.CompletionList:
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character)))
    assert isinstance(result, types.CompletionList), result
    return result


async def complete_until(client: LanguageClient, uri: str, line: int, character: int, expect: str,
                         timeout: float = 60.0) -> types.CompletionList:
    """Completion, asked again while the first indexing is still running, until `expect` shows up."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await complete(client, uri, line, character)
        if any(item.text_edit.new_text == expect for item in result.items):
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{expect!r} never completed; got {[i.label for i in result.items[:5]]}")
        await asyncio.sleep(0.2)


def position_of(text: str, needle: str, after: bool = True) -> tuple[int, int]:
    """(line, UTF-16 character) of the end (or start) of the first occurrence of needle."""
    offset = text.index(needle) + (len(needle) if after else 0)
    line = text.count("\n", 0, offset)
    column_text = text[text.rfind("\n", 0, offset) + 1:offset]
    return line, len(column_text.encode("utf-16-le")) // 2
