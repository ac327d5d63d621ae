"""The fixture projects (tests/fixtures/projects) as a workspace: `thesis/` and `notes/` in the
workspace folder, the personal library beside it, outside the workspace (tests name it with the
`libraries` setting as "../global-library.bib").

For tests of one project at a time: the `projects` copy shared by a test module, and `thesis` and
`notes`, each served by its own `papercite serve` with that project as the workspace folder and
the personal library as the `libraries` setting. Test modules import the fixtures they use; tests
open what they need and close what they change."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from .conftest import SERVER, start_session
from .helpers import LANGUAGE_IDS, UTF16, lsp_range, open_document, until

PROJECTS = Path(__file__).resolve().parents[1] / "fixtures" / "projects"


def copy_projects(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for name in ("thesis", "notes"):
        shutil.copytree(PROJECTS / name, root / name)
    shutil.copy(PROJECTS / "global-library.bib", tmp_path / "global-library.bib")
    return root


LANGUAGE_IDS = {**LANGUAGE_IDS, ".json": "json", ".yaml": "yaml"}


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> Path:
    """A module's copy of the projects (the personal library in its parent folder)."""
    return copy_projects(tmp_path_factory.mktemp("projects"))


async def serve(lsp_client: LanguageClient, projects: Path, name: str,
                capabilities: types.ClientCapabilities, **settings) -> None:
    """Start a server on one project, with an index of its own."""
    index_dir = tempfile.mkdtemp(prefix=f"index-{name}-", dir=projects.parent)
    await start_session(lsp_client, projects / name, {
        "indexDir": index_dir, "libraries": [str(projects.parent / "global-library.bib")], **settings}, capabilities)


@pytest_lsp.fixture(config=SERVER, scope="module")
async def thesis(lsp_client: LanguageClient, projects: Path):
    """The thesis, served to a VS Code client (LocationLinks, documentChanges, prepareRename)."""
    await serve(lsp_client, projects, "thesis", client_capabilities("visual-studio-code"))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER, scope="module")
async def notes(lsp_client: LanguageClient, projects: Path):
    """The notes, served to a Neovim client (0.11: positions in UTF-8; no documentChanges, so
    rename answers `changes`)."""
    await serve(lsp_client, projects, "notes", client_capabilities("neovim"))
    yield
    await lsp_client.shutdown_session()


def open_file(client: LanguageClient, path: Path, text: str | None = None) -> str:
    return open_document(client, path, text, LANGUAGE_IDS.get(path.suffix))


def close_file(client: LanguageClient, path: Path) -> None:
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=path.as_uri())))


def key_range(text: str, key: str, after: str = "", encoding: str = UTF16) -> types.Range:
    """The range of `key` at its first occurrence after `after`."""
    start = text.index(key, text.index(after) + len(after) if after else 0)
    return lsp_range(text, start, start + len(key), encoding)


def entry_range(text: str, start_marker: str, end_marker: str) -> types.Range:
    """From the start of `start_marker` to the end of the first `end_marker` after it."""
    start = text.index(start_marker)
    return lsp_range(text, start, text.index(end_marker, start) + len(end_marker))


def identifier(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def definition(client: LanguageClient, uri: str, position: tuple[int, int]):
    found = await client.text_document_definition_async(types.DefinitionParams(
        text_document=identifier(uri), position=types.Position(*position)))
    return list(found) if isinstance(found, (list, tuple)) else found


async def indexed(client: LanguageClient, uri: str, position: tuple[int, int]):
    """The definition of the key at `position`, once its bibliography is indexed."""
    return await until(lambda: definition(client, uri, position), bool, f"a definition at {position} in {uri}")


async def references(client: LanguageClient, uri: str, position: tuple[int, int],
                     declaration: bool = False) -> list[types.Location] | None:
    found = await client.text_document_references_async(types.ReferenceParams(
        text_document=identifier(uri), position=types.Position(*position),
        context=types.ReferenceContext(include_declaration=declaration)))
    return None if found is None else list(found)


async def prepare_rename(client: LanguageClient, uri: str, position: tuple[int, int]):
    return await client.text_document_prepare_rename_async(types.PrepareRenameParams(
        text_document=identifier(uri), position=types.Position(*position)))


async def rename(client: LanguageClient, uri: str, position: tuple[int, int], new_name: str):
    return await client.text_document_rename_async(types.RenameParams(
        text_document=identifier(uri), position=types.Position(*position), new_name=new_name))


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first occurrence of needle (as messages name lines)."""
    return text.count("\n", 0, text.index(needle)) + 1
