"""Faults of the index folder while papercite serves: a folder that is not papercite's, one that
is read-only, segment files damaged under the running server. Each ends in one message and a
server that keeps answering, never a traceback or an emptied folder."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from .conftest import SAMPLE, SERVER, start_session
from .helpers import complete, complete_until, indexing_idle, keys, open_document, position_of, until, wait_for_message

PROBE = "Fault probe: \\cite{attention is all}\nAsked only after the damage: \\cite{all you need}\n"


def probe(client: LanguageClient, workspace: Path, name: str = "probe.tex") -> tuple[str, int, int]:
    """A LaTeX document citing from the sample library, and where to complete in it."""
    path = workspace / name
    path.write_text((workspace / "draft.tex").read_text(encoding="utf-8") + PROBE, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    return (open_document(client, path), *position_of(text, "\\cite{attention is all"))


DAMAGE = {
    "truncated": lambda data: data[:200],
    "zeroed": lambda data: data[:1000] + bytes(len(data) - 1000),
    "overwritten": lambda data: random.Random(7).randbytes(len(data)),
}


@pytest.mark.parametrize("damage", DAMAGE)
async def test_segments_damaged_under_the_server_are_said_once_and_rebuilt(client: LanguageClient, tmp_path: Path,
                                                                           workspace: Path, damage: str):
    uri, line, column = probe(client, workspace)
    await complete_until(client, uri, line, column, "vaswani2017attention")
    await indexing_idle(client)  # else a later commit may merge the damaged segments away
    for segment in (tmp_path / "index").glob("*.seg"):  # under the running server
        segment.write_bytes(DAMAGE[damage](segment.read_bytes()))
    answers = []
    text = (workspace / "probe.tex").read_text(encoding="utf-8")
    line, column = position_of(text, "\\cite{all you need")  # a query not asked yet: it must read the index

    async def ask():
        answers.append(keys(await complete(client, uri, line, column)))
        return answers[-1]

    await until(ask, lambda found: "vaswani2017attention" in found and len(answers) > 3,
                "completion from the rebuilt index", timeout=60)
    # found again, from an index rebuilt from the library files, said in one message
    await wait_for_message(client, "rebuil")
    damaged = [m for m in client.messages if "damaged" in m.message]
    assert len(damaged) == 1, [m.message for m in client.messages]
    for _ in range(5):  # and it stays found: no completion fails any more
        assert "vaswani2017attention" in keys(await complete(client, uri, line, column))


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
async def server_as():
    """Start servers (run through a command prefix, e.g. as another user) that each test initialises
    with the options it is about; all shut down after it."""
    clients: list[LanguageClient] = []

    async def start(prefix: list[str] = ()) -> LanguageClient:
        clients.append(await ClientServerConfig(server_command=[*prefix, *SERVER.server_command]).start())
        return clients[-1]

    yield start
    for client in clients:
        await client.shutdown_session()
        await client.stop()


async def test_an_index_dir_that_is_not_papercites_is_refused_and_the_server_still_serves(server_as, workspace: Path):
    """indexDir naming the workspace itself: refused in one message and left as it is; completion
    works from a temporary index."""
    before = files_of(workspace)
    client = await server_as()
    await start_session(client, workspace, {"indexDir": str(workspace)}, client_capabilities("visual-studio-code"))
    uri, line, column = probe(client, workspace)
    await complete_until(client, uri, line, column, "vaswani2017attention")
    refused = [m for m in client.messages if "not papercite's index folder" in m.message]
    assert len(refused) == 1 and "temporary index" in refused[0].message, [m.message for m in client.messages]
    assert files_of(workspace) == {**before, "probe.tex": (workspace / "probe.tex").read_bytes()}


async def test_a_read_only_index_is_served_as_it_is_with_one_message(server_as, unprivileged):
    prefix, home = unprivileged
    workspace, index = home / "project", home / "index"
    shutil.copytree(SAMPLE, workspace)
    subprocess.run([*prefix, sys.executable, "-m", "papercite.server.cli", "index", str(workspace / "library.bib"),
                    "--index-dir", str(index)], check=True, capture_output=True)
    for path in index.iterdir():
        path.chmod(0o400)
    index.chmod(0o500)
    before = files_of(index)
    client = await server_as(prefix)
    await start_session(client, workspace, {"indexDir": str(index)}, client_capabilities("visual-studio-code"))
    uri, line, column = probe(client, workspace)
    await complete_until(client, uri, line, column, "vaswani2017attention")
    await wait_for_message(client, "read-only")
    assert len([m for m in client.messages if "read-only" in m.message]) == 1, [m.message for m in client.messages]
    assert not [m for m in client.messages if "failed" in m.message]
    assert files_of(index) == before
