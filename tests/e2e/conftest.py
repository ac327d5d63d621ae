"""End-to-end fixtures: `papercite serve` started as a real subprocess over stdio and driven by
pytest-lsp's client, in a temporary workspace holding the bundled sample library and drafts.

Mark a test with ``@pytest.mark.settings({...})`` to start the server with those
initializationOptions, and ``@pytest.mark.client("neovim")`` to mimic another editor's capabilities.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SAMPLE = Path(__file__).resolve().parents[2] / "index" / "sample"


def pytest_configure(config):
    config.addinivalue_line("markers", "settings(options): initializationOptions for the server")
    config.addinivalue_line("markers", "client(name): client capabilities to announce (pytest-lsp names)")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(SAMPLE, root)
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "papercite.server.cli", "serve"]))
async def client(lsp_client: LanguageClient, request):
    root: Path = request.getfixturevalue("workspace")
    tmp_path: Path = request.getfixturevalue("tmp_path")
    settings_mark = request.node.get_closest_marker("settings")
    client_mark = request.node.get_closest_marker("client")
    options = {"indexDir": str(tmp_path / "index"), **(settings_mark.args[0] if settings_mark else {})}
    lsp_client.registrations = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        lsp_client.registrations.extend(params.registrations)

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(client_mark.args[0] if client_mark else "visual-studio-code"),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")],
        initialization_options=options,
    ))
    yield
    await lsp_client.shutdown_session()
