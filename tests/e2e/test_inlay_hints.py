"""Inlay hints: the short title after each cited key, only with `inlayHints.enabled`; none for
keys the document's bibliographies lack; positions in the client's units."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import UTF8, open_document, position_at, until, wait_for_diagnostics
from .projects import copy_projects

ENABLED = {"inlayHints": {"enabled": True}}
INTRO_HINTS = [  # (key, label, tooltip) in chapters/intro.tex, whose root declares refs/ml.bib and refs/classics.bib
    ("shannon1948mathematical", "A Mathematical Theory of…", "A Mathematical Theory of Communication (Shannon 1948)"),
    ("he2016deep", "Deep Residual Learning for…", "Deep Residual Learning for Image Recognition (He et al. 2016)"),
    ("vaswani2017attention", "Attention Is All You Need", "Attention Is All You Need (Vaswani et al. 2017)"),
    ("tibshirani1996regression", "Regression Shrinkage and…",
     "Regression Shrinkage and Selection via the Lasso (Tibshirani 1996)"),
]  # vaswani2017atention (a typo) and hochreiter1997long (personal library only) get none


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_projects(tmp_path)


async def inlay_hints(client: LanguageClient, uri: str, start: int = 0, end: int = 10_000,
                      end_character: int = 0) -> list[types.InlayHint] | None:
    return await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=start, character=0),
                          end=types.Position(line=end, character=end_character))))


def key_end(text: str, key: str) -> types.Position:
    line, character = position_at(text, text.index(key) + len(key))
    return types.Position(line=line, character=character)


@pytest.mark.settings({**ENABLED, "libraries": ["../global-library.bib"]})
@pytest.mark.encodings(["utf-16"])
async def test_short_titles_after_keys(client: LanguageClient, workspace: Path):
    """hochreiter1997long is in the personal library, but the thesis declares its bibliographies:
    LaTeX would not resolve it, and it gets no hint (its diagnostic and quick fix say why)."""
    intro = workspace / "thesis" / "chapters" / "intro.tex"
    text = intro.read_text(encoding="utf-8") + "😀 again \\cite{he2016deep}\n"
    uri = open_document(client, intro, text)
    # diagnostics wait for the thesis bibliographies and the personal library to be indexed
    await wait_for_diagnostics(client, uri, lambda d: [x.data["key"] for x in d] == ["vaswani2017atention",
                                                                                    "hochreiter1997long"])
    hints = await inlay_hints(client, uri)
    assert len(hints) == 5
    assert [(h.label, h.tooltip) for h in hints[:4]] == [(label, tooltip) for _, label, tooltip in INTRO_HINTS]
    assert [h.position for h in hints[:4]] == [key_end(text, key) for key, _, _ in INTRO_HINTS]
    assert all(h.padding_left and h.kind is None for h in hints)
    # after an emoji (two UTF-16 units, one character), "\cite{he2016deep" ends at 2 + 7 + 6 + 10
    assert hints[4].position == types.Position(line=11, character=25)
    assert hints[4].label == "Deep Residual Learning for…"

    # only the keys inside the requested range: line 5 up to the middle of line 6
    middle = await inlay_hints(client, uri, 4, 5, end_character=len("and the Transformer \\citep[see][]{vaswani"))
    assert [h.position for h in middle] == [key_end(text, "he2016deep")]


@pytest.mark.encodings(["utf-8"])
@pytest.mark.settings(ENABLED)
async def test_markdown_and_utf8_positions(client: LanguageClient, workspace: Path):
    notes = workspace / "notes" / "index.qmd"
    text = notes.read_text(encoding="utf-8").replace("A typo:", "😀 A typo [@cortes1995support]:")
    uri = open_document(client, notes, text)
    hints = await until(lambda: inlay_hints(client, uri), lambda h: h is not None and len(h) == 6, "notes hints")
    assert [h.label for h in hints] == ["Basic local alignment search…", "Molecular Structure of…",
                                        "Support-Vector Networks", "Basic local alignment search…",
                                        "Support-Vector Networks", "Controlling the False…"]
    after_emoji = text.index("cortes1995support]:") + len("cortes1995support")
    line, character = position_at(text, after_emoji, UTF8)  # the emoji is four UTF-8 bytes
    assert hints[4].position == types.Position(line=line, character=character)
    assert character == after_emoji - (text.rfind("\n", 0, after_emoji) + 1) + 3  # the rest of the line is ASCII


@pytest.mark.client("neovim")  # announces workspace.inlayHint.refreshSupport
@pytest.mark.encodings(["utf-16"])
async def test_off_by_default_and_switched_by_the_setting(client: LanguageClient, workspace: Path):
    refreshes: list[None] = []
    client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)(lambda params: refreshes.append(params))
    intro = workspace / "thesis" / "chapters" / "intro.tex"
    uri = open_document(client, intro)
    assert await inlay_hints(client, uri) is None
    assert refreshes == []  # hints were never on: indexing the thesis asks for no refresh

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"papercite": ENABLED}))
    await until(lambda: asyncio.sleep(0, refreshes), bool, "a workspace/inlayHint/refresh request")
    hints = await until(lambda: inlay_hints(client, uri), lambda h: h is not None and len(h) == 4, "hints")
    assert [h.label for h in hints] == [label for _, label, _ in INTRO_HINTS]

    count = len(refreshes)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"papercite": {"inlayHints": {"enabled": False}}}))
    await until(lambda: asyncio.sleep(0, refreshes), lambda r: len(r) > count, "a refresh to drop the hints shown")
    assert await inlay_hints(client, uri) is None
