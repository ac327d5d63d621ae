"""Positions in the negotiated encoding: UTF-16 when the client names none, else the first of the
client's `general.positionEncodings` the server knows. A line with an emoji (two UTF-16 units, four
UTF-8 bytes) and CJK characters (one UTF-16 unit, three UTF-8 bytes) before the citation tells them
apart. Each encoding needs a server of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import complete, complete_until, hover_until, insert_after, open_document, wait_for_diagnostics

PREFIX = "😀 中文 "  # 5 code points: 6 UTF-16 units (the emoji takes two), 12 UTF-8 bytes (4 + 1 + 3 + 3 + 1)
LATEX_LINES = [PREFIX + r"\cite{vaswani 2017", PREFIX + r"\cite{hu2022lora} and \cite{nokey2000x}"]
MARKDOWN_LINES = [PREFIX + "[@vaswani 2017", PREFIX + "[@hu2022lora] and [@nokey2000x]"]


def expected(prefix: int, opener: int, between: int) -> tuple[int, ...]:
    """(completion start, cursor, key start, key end, undefined key start, end) on the lines above,
    counted by hand: the prefix's units, then ASCII only."""
    start = prefix + opener
    return start, start + len("vaswani 2017"), start, start + 10, start + 10 + between, start + 20 + between


# LaTeX: `\cite{` is 6, "} and \cite{" 12. Markdown: "[@" is 2, "] and [@" 8.
EXPECTED = {
    encoding: {"latex": expected(prefix, 6, 12), "markdown": expected(prefix, 2, 8)}
    for encoding, prefix in (("utf-16", 6), ("utf-8", 12), ("utf-32", 5))
}
assert EXPECTED["utf-16"]["latex"] == (12, 24, 12, 22, 34, 44)
assert EXPECTED["utf-8"]["markdown"] == (14, 26, 14, 24, 32, 42)


def positions_params():
    return [
        pytest.param("utf-16", id="no encodings named: utf-16"),
        pytest.param("utf-8", marks=pytest.mark.encodings(["utf-8"]), id="utf-8"),
        pytest.param("utf-16", marks=pytest.mark.encodings(["utf-16", "utf-8"]), id="utf-16 preferred"),
        pytest.param("utf-32", marks=pytest.mark.encodings(["utf-32", "utf-16"]), id="utf-32"),
        pytest.param("utf-8", marks=pytest.mark.encodings(["x-unknown", "utf-8"]), id="unknown skipped"),
    ]


async def check_document(client: LanguageClient, workspace: Path, name: str, syntax: str, encoding: str):
    completion_start, cursor, key_start, key_end, bad_start, bad_end = EXPECTED[encoding][syntax]
    anchor = "\\begin{document}" if syntax == "latex" else "# Background"
    lines = LATEX_LINES if syntax == "latex" else MARKDOWN_LINES
    text = insert_after((workspace / name).read_text(encoding="utf-8"), anchor, "\n".join(lines))
    first = text.split("\n").index(lines[0])
    uri = open_document(client, workspace / name, text)

    result = await complete_until(client, uri, first, cursor, "vaswani2017attention")
    assert result.items[0].text_edit.new_text == "vaswani2017attention"
    assert result.items[0].text_edit.range == types.Range(start=types.Position(line=first, character=completion_start),
                                                          end=types.Position(line=first, character=cursor))

    hover = await hover_until(client, uri, first + 1, key_start + 3, "Defined in")
    assert hover.contents.value.startswith("`hu2022lora`")
    assert hover.range == types.Range(start=types.Position(line=first + 1, character=key_start),
                                      end=types.Position(line=first + 1, character=key_end))

    def settled(diagnostics):
        return any(d.message.startswith("'nokey2000x'") for d in diagnostics) and not any(
            d.message.startswith("'hu2022lora'") for d in diagnostics)

    diagnostics = await wait_for_diagnostics(client, uri, settled)
    (bad,) = [d for d in diagnostics if d.message.startswith("'nokey2000x'")]
    assert bad.range == types.Range(start=types.Position(line=first + 1, character=bad_start),
                                    end=types.Position(line=first + 1, character=bad_end))
    return uri, text, first


@pytest.mark.parametrize("encoding", positions_params())
async def test_ranges_in_the_negotiated_encoding(client: LanguageClient, workspace: Path, encoding: str):
    assert client.init_result.capabilities.position_encoding == encoding
    await check_document(client, workspace, "draft.tex", "latex", encoding)
    uri, text, first = await check_document(client, workspace, "draft.md", "markdown", encoding)

    # an incremental edit, in the same encoding: another emoji typed at the start of the line
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=first, character=0),
                              end=types.Position(line=first, character=0)), text="🎉")]))
    width = {"utf-16": 2, "utf-8": 4, "utf-32": 1}[encoding]
    completion_start, cursor = EXPECTED[encoding]["markdown"][:2]
    result = await complete(client, uri, first, cursor + width)
    assert result.items[0].text_edit.new_text == "vaswani2017attention"
    assert result.items[0].text_edit.range == types.Range(
        start=types.Position(line=first, character=completion_start + width),
        end=types.Position(line=first, character=cursor + width))
    # a position inside the emoji's units (a client bug) does not break the answer
    inside = await complete(client, uri, first, 1)
    assert inside is None or inside.items == []


@pytest.mark.client("neovim")
async def test_neovim(client: LanguageClient, workspace: Path):
    """Neovim 0.11 offers utf-8 first, and has no resolve step for documentation it did not ask for
    lazily: the first response carries everything."""
    assert client.init_result.capabilities.position_encoding == "utf-8"
    uri, text, first = await check_document(client, workspace, "draft.tex", "latex", "utf-8")
    result = await complete(client, uri, first, EXPECTED["utf-8"]["latex"][1])
    item = result.items[0]
    assert result.is_incomplete is True
    assert item.label_details.detail == " Vaswani et al. 2017"
    assert isinstance(item.documentation, types.MarkupContent)
    assert item.documentation.value.startswith("`vaswani2017attention`\n\n**Attention Is All You Need**")
    assert "Defined in library.bib:" in item.documentation.value
    assert client.registrations == []  # no dynamic registration of file watchers in Neovim
