"""Unused entries (setting `diagnostics.unusedEntries`, off by default): a faded hint on each entry of an
open bibliography that no document of the project cites, by key or alias; checked again when a citing
document is opened, saved or closed, and cleared when the setting is turned off."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from .conftest import SERVER
from .helpers import UTF8, holds, lsp_range, wait_for_diagnostics
from .projects import close_file, entry_range, open_file, projects, serve  # noqa: F401 (projects: fixture)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=SERVER, scope="module")
async def thesis_unused(lsp_client: LanguageClient, projects: Path):  # noqa: F811
    await serve(lsp_client, projects, "thesis", client_capabilities("visual-studio-code"),
                diagnostics={"unusedEntries": True})
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER, scope="module")
async def notes_default(lsp_client: LanguageClient, projects: Path):  # noqa: F811
    await serve(lsp_client, projects, "notes", client_capabilities("neovim"))
    yield
    await lsp_client.shutdown_session()


def hint(range_: types.Range, key: str) -> types.Diagnostic:
    return types.Diagnostic(range=range_, severity=types.DiagnosticSeverity.Hint, tags=[types.DiagnosticTag.Unnecessary],
                            source="papercite", code="unused-entry", message=f"'{key}' is not cited in the workspace")


def published(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [types.Diagnostic(range=d.range, severity=d.severity, tags=list(d.tags or []), source=d.source, code=d.code,
                             message=d.message) for d in diagnostics]


async def test_latex_project(thesis_unused: LanguageClient, projects: Path):
    client = thesis_unused
    ml, classics = projects / "thesis" / "refs" / "ml.bib", projects / "thesis" / "refs" / "classics.bib"
    ml_text = ml.read_text(encoding="utf-8")
    devlin = hint(entry_range(ml_text, "@inproceedings{devlin2019bert", "\n}"), "devlin2019bert")
    ml_uri, classics_uri = open_file(client, ml), open_file(client, classics)
    # only BERT is cited nowhere in the thesis; every classic is cited
    await wait_for_diagnostics(client, ml_uri, lambda d: published(d) == [devlin])
    await wait_for_diagnostics(client, classics_uri, lambda d: d == [])
    await holds(lambda: wait_for_diagnostics(client, classics_uri, lambda d: True), lambda d: d == [],
                "no hints on classics.bib", seconds=0.5)

    # a chapter opened (not saved) that cites BERT: the hint goes; closed again, it comes back
    draft = projects / "thesis" / "chapters" / "draft.tex"
    open_file(client, draft, "% !TeX root = ../main.tex\nPre-training \\cite{devlin2019bert}.\n")
    await wait_for_diagnostics(client, ml_uri, lambda d: d == [])
    close_file(client, draft)
    await wait_for_diagnostics(client, ml_uri, lambda d: published(d) == [devlin])

    # the setting turned off: the hints are cleared
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"papercite": {"diagnostics": {"unusedEntries": False}}}))
    await wait_for_diagnostics(client, ml_uri, lambda d: d == [])
    for path in (ml, classics):
        close_file(client, path)


async def test_markdown_project_off_by_default(notes_default: LanguageClient, projects: Path):
    """With the default settings nothing is said; turned on, the CSL-YAML entry no document cites
    any more (methods.md open with its citation removed) is hinted, in UTF-8 columns for Neovim."""
    client = notes_default
    methods, extra = projects / "notes" / "methods.md", projects / "notes" / "extra.yaml"
    open_file(client, methods, methods.read_text(encoding="utf-8").replace("RoBERTa [@liu2019roberta]", "RoBERTa"))
    extra_text = extra.read_text(encoding="utf-8")
    extra_uri = open_file(client, extra)
    await wait_for_diagnostics(client, extra_uri, lambda d: d == [])
    await holds(lambda: wait_for_diagnostics(client, extra_uri, lambda d: True), lambda d: d == [],
                "no hints with the setting off", seconds=1.0)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"papercite": {"diagnostics": {"unusedEntries": True}}}))
    start = extra_text.index("- id: liu2019roberta")
    end = extra_text.index("1907.11692") + len("1907.11692")
    await wait_for_diagnostics(client, extra_uri, lambda d: published(d) == [
        hint(lsp_range(extra_text, start, end, UTF8), "liu2019roberta")])
    for path in (methods, extra):
        close_file(client, path)
