"""End-to-end fixtures: `papercite serve` started as a real subprocess over stdio and driven by
pytest-lsp's client, in a temporary workspace holding the bundled sample library and drafts.

Markers a test can carry:

- ``@pytest.mark.settings({...})``: start the server with those initializationOptions (merged over
  a private ``indexDir``).
- ``@pytest.mark.client("neovim")``: announce another editor's capabilities (pytest-lsp names).
- ``@pytest.mark.encodings(["utf-8"])``: the client's ``general.positionEncodings``.
- ``@pytest.mark.configuration({...})``: what the client answers to ``workspace/configuration``
  for section ``papercite`` from the start (tests may change it later with
  ``client.set_configuration``).
- ``@pytest.mark.files({"relative/path": "text"})``: files written into the workspace before the
  server starts (for settings such as ``libraries`` that are read at initialisation).

The InitializeResult is kept as ``client.init_result``.

Starting a server costs most of a second, so tests that need nothing but the default settings use
``shared``: one server per module, in a workspace shared by the module's tests (module-scoped,
so such a module carries ``pytestmark = pytest.mark.asyncio(loop_scope="module")``). Each test
there opens documents of its own (see ``helpers.scratch_path``) and leaves the others' alone.
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
    config.addinivalue_line("markers", "encodings(list): the client's general.positionEncodings")
    config.addinivalue_line("markers", "configuration(dict): the client's workspace/configuration section papercite")
    config.addinivalue_line("markers", "files(dict): files written into the workspace before the server starts")


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "papercite.server.cli", "serve"])


@pytest.fixture
def workspace(tmp_path: Path, request) -> Path:
    root = tmp_path / "project"
    shutil.copytree(SAMPLE, root)
    files_mark = request.node.get_closest_marker("files")
    for name, text in (files_mark.args[0] if files_mark else {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


async def start_session(lsp_client: LanguageClient, root: Path, options: dict,
                        capabilities: types.ClientCapabilities) -> None:
    lsp_client.registrations = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        lsp_client.registrations.extend(params.registrations)

    lsp_client.init_result = await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities,
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")],
        initialization_options=options,
    ))


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, request):
    root: Path = request.getfixturevalue("workspace")
    tmp_path: Path = request.getfixturevalue("tmp_path")
    settings_mark = request.node.get_closest_marker("settings")
    client_mark = request.node.get_closest_marker("client")
    encodings_mark = request.node.get_closest_marker("encodings")
    configuration_mark = request.node.get_closest_marker("configuration")
    options = {"indexDir": str(tmp_path / "index"), **(settings_mark.args[0] if settings_mark else {})}
    if configuration_mark:
        lsp_client.set_configuration(configuration_mark.args[0], section="papercite")
    capabilities = client_capabilities(client_mark.args[0] if client_mark else "visual-studio-code")
    if encodings_mark:
        capabilities.general = capabilities.general or types.GeneralClientCapabilities()
        capabilities.general.position_encodings = encodings_mark.args[0]
    await start_session(lsp_client, root, options, capabilities)
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def shared_workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("shared") / "project"
    shutil.copytree(SAMPLE, root)
    return root


@pytest_lsp.fixture(config=SERVER, scope="module")
async def shared(lsp_client: LanguageClient, request):
    """One server with default settings for all the tests of a module."""
    root: Path = request.getfixturevalue("shared_workspace")
    await start_session(lsp_client, root, {"indexDir": str(root.parent / "index")},
                        client_capabilities("visual-studio-code"))
    yield
    await lsp_client.shutdown_session()
