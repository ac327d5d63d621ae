"""Faults of the index folder while papercite serves: a folder that is not papercite's, one that
is read-only, segment files damaged under the running server. Each ends in one message and a
server that keeps answering, never a traceback or an emptied folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import complete, complete_until, keys, open_document, position_of, until, wait_for_message

PROBE = "Fault probe: \\cite{attention is all}\n"


def probe(client: LanguageClient, workspace: Path, name: str = "probe.tex") -> tuple[str, int, int]:
    """A LaTeX document citing from the sample library, and where to complete in it."""
    path = workspace / name
    path.write_text((workspace / "draft.tex").read_text(encoding="utf-8") + PROBE, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    return (open_document(client, path), *position_of(text, "\\cite{attention is all"))


async def test_segments_damaged_under_the_server_are_said_once_and_rebuilt(client: LanguageClient, tmp_path: Path,
                                                                           workspace: Path):
    uri, line, column = probe(client, workspace)
    await complete_until(client, uri, line, column, "vaswani2017attention")
    for segment in (tmp_path / "index").glob("*.seg"):
        segment.write_bytes(segment.read_bytes()[:200])  # truncated under the running server
    answers = []

    async def ask():
        answers.append(keys(await complete(client, uri, line, column)))
        return answers[-1]

    await until(ask, lambda found: "vaswani2017attention" in found and len(answers) > 3,
                "completion from the rebuilt index", timeout=60)
    # found again, from an index rebuilt from the library files, said in one message
    await wait_for_message(client, "rebuil")
    damaged = [m for m in client.messages if "damaged" in m.message or "could not be read" in m.message]
    assert len(damaged) == 1, [m.message for m in client.messages]
    for _ in range(5):  # and it stays found: no completion fails any more
        assert "vaswani2017attention" in keys(await complete(client, uri, line, column))
