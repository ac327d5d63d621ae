"""Settings mean the same whichever way they come (initializationOptions, workspace/configuration,
workspace/didChangeConfiguration), invalid ones are reported with window/showMessage while the rest
apply, and the `libraries` setting adds files to every document, indexed with work-done progress.
Each test starts its server with the settings it is about."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import (
    complete,
    complete_until,
    hover,
    hover_until,
    keys,
    open_document,
    position_of,
    until,
    wait_for_message,
)

SETTINGS = {"completion": {"limit": 3, "label": "title"}, "hover": {"abstract": 0}, "citationCommands": ["mycite"]}
DOTTED = {"completion.limit": 3, "completion.label": "title", "hover.abstract": 0, "citationCommands": ["mycite"]}
PROBE = "Settings probe: \\cite{learning} \\mycite{vas} \\cite{vaswani2017attention}\n"
FIRST_KEY, FIRST_TITLE = "radford2021learning", "Learning Transferable Visual Models From Natural Language Supervision"
_documents = itertools.count()


@dataclass
class Observed:
    """What the settings under test change, as a client sees it."""

    count: int  # items for "learning" (nine titles in the sample have the word; FIRST_KEY's starts with it)
    label: str  # of the first of them
    description: str
    mycite: list[str]  # keys completed in \mycite{vas
    hover: str  # on vaswani2017attention

    @property
    def defaults(self) -> bool:
        return self.count > 3 and self.label == FIRST_KEY and self.mycite == [] and "Proposes the" in self.hover

    @property
    def applied(self) -> bool:
        return (self.count == 3 and self.label == FIRST_TITLE
                and self.description == FIRST_KEY and self.mycite[:1] == ["vaswani2017attention"]
                and "Proposes the" not in self.hover)


async def observe(client: LanguageClient, workspace: Path) -> Observed:
    """Open a fresh copy of the LaTeX draft with the probe line and look (the first look waits for
    the index; a fresh document each time, so no scope is cached)."""
    text = (workspace / "draft.tex").read_text(encoding="utf-8").replace(
        "\\begin{document}\n", "\\begin{document}\n" + PROBE, 1)
    uri = open_document(client, workspace / f"probe{next(_documents)}.tex", text)
    await hover_until(client, uri, *position_of(text, "\\cite{vaswani2017att"), "Defined in")
    learning = await complete(client, uri, *position_of(text, "\\cite{learning"))
    mycite = await complete(client, uri, *position_of(text, "\\mycite{vas"))
    shown = await hover(client, uri, *position_of(text, "\\cite{vaswani2017att"))
    first = learning.items[0]
    return Observed(len(learning.items), first.label, first.label_details.description, keys(mycite),
                    shown.contents.value)


async def observe_until(client: LanguageClient, workspace: Path, expect: str) -> Observed:
    """Settings from workspace/configuration arrive after `initialized`: look again until they show."""
    return await until(lambda: observe(client, workspace), lambda o: getattr(o, expect), f"settings {expect}",
                       timeout=15)


def warnings(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Warning]


@pytest.mark.settings(SETTINGS)
async def test_initialization_options(client: LanguageClient, workspace: Path):
    observed = await observe(client, workspace)
    assert observed.applied, observed
    assert warnings(client) == []
    # VS Code registers file watchers dynamically: the server asks it to watch bibliographies
    registrations = await until(lambda: asyncio.sleep(0, client.registrations), bool, "a registration")
    (registration,) = registrations
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    globs = [w["globPattern"] for w in registration.register_options["watchers"]]
    assert "**/*.bib" in globs and "**/_quarto.yml" in globs


@pytest.mark.settings(DOTTED)
async def test_initialization_options_with_dotted_names(client: LanguageClient, workspace: Path):
    """`completion.limit` as the docs write it means the same as {"completion": {"limit": ...}}."""
    observed = await observe(client, workspace)
    assert observed.applied, observed
    assert warnings(client) == []


@pytest.mark.configuration(SETTINGS)
async def test_workspace_configuration_at_start(client: LanguageClient, workspace: Path):
    await observe_until(client, workspace, "applied")
    assert warnings(client) == []


async def test_workspace_configuration_pulled_on_change(client: LanguageClient, workspace: Path):
    """didChangeConfiguration without settings (as VS Code sends it): the server asks for them."""
    assert (await observe(client, workspace)).defaults
    client.set_configuration(SETTINGS, section="papercite")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await observe_until(client, workspace, "applied")


@pytest.mark.parametrize("settings", [{"papercite": SETTINGS}, SETTINGS, {"papercite": DOTTED}],
                         ids=["in a papercite section", "bare", "dotted names"])
async def test_did_change_configuration_with_settings(client: LanguageClient, workspace: Path, settings: dict):
    assert (await observe(client, workspace)).defaults
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    await observe_until(client, workspace, "applied")
    # back to the defaults (an emptied section is no reset: settings not named keep their value)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"papercite": {
        "completion": {"limit": 50, "label": "key"}, "hover": {"abstract": 400}, "citationCommands": []}}))
    await observe_until(client, workspace, "defaults")


@pytest.mark.settings({"completion": {"limit": 3}})
async def test_one_setting_changed_keeps_the_others(client: LanguageClient, workspace: Path):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"papercite": {"completion": {"label": "title"}, "hover": {"abstract": 0}}}))
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"papercite": {"citationCommands": ["mycite"]}}))
    observed = await observe_until(client, workspace, "applied")
    assert observed.count == 3


@pytest.mark.settings({"completion": {"limit": "many", "label": "title"}, "hover": {"abstract": 0},
                       "citationCommands": ["mycite"], "colour": "blue"})
async def test_invalid_settings_are_reported_and_the_rest_apply(client: LanguageClient, workspace: Path):
    limit = await wait_for_message(client, "'completion.limit'")
    assert limit.type == types.MessageType.Warning
    assert "(from initializationOptions)" in limit.message and "'many'" in limit.message
    unknown = await wait_for_message(client, "'colour'")
    assert unknown.type == types.MessageType.Warning
    observed = await observe(client, workspace)
    assert observed.count > 3  # the default limit stands in for the invalid one
    assert observed.label == FIRST_TITLE
    assert observed.mycite[:1] == ["vaswani2017attention"] and "Proposes the" not in observed.hover
    assert len(warnings(client)) == 2, warnings(client)


@pytest.mark.settings({"libraries": ["/no/such/*.bib", "library.bib"], "completion": {"limit": 3}})
async def test_library_pattern_matching_nothing(client: LanguageClient, workspace: Path):
    message = await wait_for_message(client, "/no/such/*.bib")
    assert message.type == types.MessageType.Warning
    assert message.message == "papercite setting 'libraries': /no/such/*.bib: no file matches (from initializationOptions)"
    observed = await observe(client, workspace)
    assert observed.count == 3 and observed.label == FIRST_KEY


@pytest.mark.settings({"completion": {"limit": 3}})
async def test_invalid_change_keeps_the_previous_value(client: LanguageClient, workspace: Path):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"papercite": {
        "completion": {"limit": 0, "label": "title"}, "hover": {"abstract": -5}, "citationCommands": "mycite"}}))
    for name in ("'completion.limit'", "'hover.abstract'", "'citationCommands'"):
        message = await wait_for_message(client, name)
        assert message.type == types.MessageType.Warning
        assert "(from workspace/didChangeConfiguration)" in message.message
    observed = await until(lambda: observe(client, workspace), lambda o: o.label != FIRST_KEY, "label: title")
    assert observed.count == 3  # kept, not reset to 50
    assert observed.label == FIRST_TITLE
    assert observed.mycite == [] and "Proposes the" in observed.hover


# --- the libraries setting ------------------------------------------------------------------

GLOBAL_BIB = """@inproceedings{vaswani2017aaacopy,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam and Parmar, Niki},
  year = {2017},
}

@article{zeta2024global,
  title = {Globally Available Zebra Studies},
  author = {Zeta, Zoe},
  year = {2024},
}
"""


@pytest.mark.files({"global/extra.bib": GLOBAL_BIB})
@pytest.mark.settings({"libraries": ["global/*.bib"]})
async def test_libraries_indexed_with_progress_and_ranked_after_own(client: LanguageClient, workspace: Path,
                                                                    tmp_path: Path):
    """The libraries file is indexed at start with $/progress begin … end; a document sees it besides
    its own bibliography, whose paper ranks first although the copy's key sorts first."""

    async def ended():
        return [reports for reports in client.progress_reports.values()
                if reports and isinstance(reports[-1], types.WorkDoneProgressEnd)]

    (reports,) = await until(ended, bool, "the end of the first indexing's progress")
    begin, *middle, end = reports
    assert isinstance(begin, types.WorkDoneProgressBegin)
    assert begin.title == "Indexing 1 bibliography" and begin.cancellable is False
    assert all(isinstance(r, types.WorkDoneProgressReport) for r in middle)
    assert any(r.message == "extra.bib" for r in middle)
    percentages = [begin.percentage] + [r.percentage for r in middle]
    assert percentages == sorted(percentages) and percentages[-1] <= 100
    assert end.message.startswith("2 papers from 1 files in ")
    assert any((tmp_path / "index").iterdir())  # the indexDir setting put the index there

    text = (workspace / "draft.tex").read_text(encoding="utf-8").replace(
        "\\begin{document}\n", "\\begin{document}\n\\cite{attention is all you need}\n\\cite{zebra}\n", 1)
    uri = open_document(client, workspace / "draft.tex", text)
    where = position_of(text, "\\cite{attention is all you need")
    result = await until(lambda: complete(client, uri, *where),
                         lambda r: {"vaswani2017attention", "vaswani2017aaacopy"} <= set(keys(r)), "both papers")
    assert keys(result)[:2] == ["vaswani2017attention", "vaswani2017aaacopy"]
    result = await complete(client, uri, *position_of(text, "\\cite{zebra"))
    assert keys(result) == ["zeta2024global"]
    # a document declaring only the libraries file sees that alone
    text = "---\nbibliography: global/extra.bib\n---\n\n[@attention is all you need\n"
    uri = open_document(client, workspace / "solo.md", text)
    result = await complete_until(client, uri, 4, len("[@attention is all you need"), "vaswani2017aaacopy")
    assert keys(result) == ["vaswani2017aaacopy"]


async def test_libraries_through_did_change_configuration(client: LanguageClient, workspace: Path, corpora: Path):
    """A library outside the workspace, named by an absolute path after start: its key with colons
    completes in a document whose own bibliography does not have it, with progress reported."""
    library = corpora / "bib" / "bbt-colon-key.bib"
    text = (workspace / "draft.md").read_text(encoding="utf-8").replace(
        "# Background\n", "# Background\n\nGames [@deKort:2007\nKnown [@deKort:2007:DigitalGamesSocial]\n", 1)
    uri = open_document(client, workspace / "draft.md", text)
    await complete_until(client, uri, *position_of(text, "[@hochreiter"), "hochreiter1997long")
    assert "deKort:2007:DigitalGamesSocial" not in keys(await complete(client, uri, *position_of(text, "[@deKort:2007")))
    before = set(client.progress_reports)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"papercite": {"libraries": [str(library)]}}))
    line, character = position_of(text, "[@deKort:2007")
    result = await complete_until(client, uri, line, character, "deKort:2007:DigitalGamesSocial")
    assert keys(result)[0] == "deKort:2007:DigitalGamesSocial"
    assert result.items[0].text_edit.range.start.character == character - len("deKort:2007")
    new = [client.progress_reports[t] for t in set(client.progress_reports) - before]
    assert any(isinstance(r[0], types.WorkDoneProgressBegin) for r in new)
    # and the hover says where it is defined: the library's own file
    shown = await hover_until(client, uri, *position_of(text, "Known [@deKort"), "Defined in")
    entry_line = library.read_text(encoding="utf-8").split("\n").index("@inproceedings{deKort:2007:DigitalGamesSocial,")
    assert shown.contents.value.endswith(f"Defined in bbt-colon-key.bib:{entry_line + 1}")


@pytest.mark.files({"global/extra.bib": GLOBAL_BIB})
@pytest.mark.settings({"libraries": ["global/*.bib"]})
async def test_libraries_file_changed_on_disk(client: LanguageClient, workspace: Path):
    """A libraries file saved by another program: the watched-file event re-indexes it. (The document
    declares nothing, so the file is both a workspace bibliography and a library: indexed once.)"""
    text = "Nothing declared.\n\n[@zebra\n"
    uri = open_document(client, workspace / "notes.md", text)
    where = position_of(text, "[@zebra")
    assert keys(await complete_until(client, uri, *where, "zeta2024global")) == ["zeta2024global"]
    library = workspace / "global" / "extra.bib"
    library.write_text(GLOBAL_BIB.replace("zeta2024global", "zeta2025renamed"), encoding="utf-8")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=library.as_uri(), type=types.FileChangeType.Changed)]))
    result = await complete_until(client, uri, *where, "zeta2025renamed", timeout=10)
    assert keys(result) == ["zeta2025renamed"]
