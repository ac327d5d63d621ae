"""Quick fixes and code actions on the fixture projects (tests/fixtures/projects, copied; the personal
library global-library.bib beside them is the `libraries` setting): replacing a misspelt key, adding an entry
only the personal library has to the document's own bibliography (BibTeX into thesis/refs/ml.bib,
the first .bib main.tex declares; a CSL-JSON item into notes/references.json, the first file
methods.md declares), the completion item that does the same after insertion, and "cite this
paper" on a selected title or pasted reference string. Every edit is checked whole; applying it
makes the diagnostic go."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import LanguageClient

from .helpers import (
    change_document,
    complete_until,
    open_document,
    position_at,
    range_of,
    wait_for_diagnostics,
    wait_for_message,
)
from .projects import copy_projects

pytestmark = pytest.mark.settings({"libraries": ["../global-library.bib"]})


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = copy_projects(tmp_path)
    return root


@pytest.fixture
def applied_edits(client: LanguageClient) -> list[types.ApplyWorkspaceEditParams]:
    """The workspace/applyEdit requests the server sends; the client accepts them."""
    received: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        received.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    return received


def entry_text(bib: Path, key: str) -> str:
    """An entry's original text in a .bib file, from its `@` to its closing brace."""
    text = bib.read_text(encoding="utf-8")
    start = text.index(f"{{{key},") - text[:text.index(f"{{{key},")][::-1].index("@") - 1
    return text[start:text.index("\n}", start) + 2]


def end_of(text: str) -> types.Range:
    line, character = position_at(text, len(text))
    return types.Range(start=types.Position(line=line, character=character),
                       end=types.Position(line=line, character=character))


def apply(text: str, edit: types.TextEdit) -> str:
    """One single-line or end-of-text edit applied to a text (UTF-16 positions)."""
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[:edit.range.start.line])
    end = sum(len(line) + 1 for line in lines[:edit.range.end.line])
    start += len(lines[edit.range.start.line].encode("utf-16-le")[:2 * edit.range.start.character].decode("utf-16-le")) \
        if edit.range.start.line < len(lines) else 0
    end += len(lines[edit.range.end.line].encode("utf-16-le")[:2 * edit.range.end.character].decode("utf-16-le")) \
        if edit.range.end.line < len(lines) else 0
    return text[:start] + edit.new_text + text[end:]


def plain(value):
    """Protocol objects as JSON-like data (the client decodes lists as tuples)."""
    return CONVERTER.unstructure(value)


CONVERTER = get_converter()


def undefined_keys(diagnostics: list[types.Diagnostic]) -> list[str]:
    return [d.data["key"] for d in diagnostics if d.code == "undefined-key"]


async def code_actions(client: LanguageClient, uri: str, where: types.Range,
                       diagnostics: list[types.Diagnostic] = (), only: list[str] | None = None):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=where,
        context=types.CodeActionContext(diagnostics=list(diagnostics), only=only)))


def saved(client: LanguageClient, path: Path, text: str) -> None:
    """The editor saved a file the server does not have open: written, and a watched-file event."""
    path.write_text(text, encoding="utf-8")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Changed)]))


async def open_intro(client: LanguageClient, workspace: Path, text: str | None = None):
    path = workspace / "thesis" / "chapters" / "intro.tex"
    text = path.read_text(encoding="utf-8") if text is None else text
    uri = open_document(client, path, text)
    diagnostics = await wait_for_diagnostics(
        client, uri, lambda d: sorted(undefined_keys(d)) == ["hochreiter1997long", "vaswani2017atention"])
    return uri, text, {d.data["key"]: d for d in diagnostics}


async def test_replace_a_misspelt_key(client: LanguageClient, workspace: Path):
    """The one close key, preferred; the range is the key's, counted in UTF-16 after an emoji."""
    path = workspace / "thesis" / "chapters" / "intro.tex"
    text = path.read_text(encoding="utf-8").replace("Attention was later", "🙂 Attention was later")
    uri, text, diagnostics = await open_intro(client, workspace, text)
    typo = diagnostics["vaswani2017atention"]
    key_range = range_of(text, "vaswani2017atention")
    assert typo.range == key_range and key_range.start.character == len("🙂 Attention was later scaled up \\cite{") + 1

    actions = await code_actions(client, uri, typo.range, [typo])
    assert plain(actions) == plain([types.CodeAction(
        title="Replace with `vaswani2017attention`", kind=types.CodeActionKind.QuickFix, diagnostics=[typo],
        is_preferred=True, edit=types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=1),
            edits=[types.TextEdit(range=key_range, new_text="vaswani2017attention")])]))])

    fixed = apply(text, actions[0].edit.document_changes[0].edits[0])
    assert fixed == text.replace("vaswani2017atention", "vaswani2017attention")
    change_document(client, uri, fixed, 2)
    await wait_for_diagnostics(client, uri, lambda d: undefined_keys(d) == ["hochreiter1997long"])


async def test_add_an_entry_only_the_personal_library_has_latex(client: LanguageClient, workspace: Path):
    """hochreiter1997long goes, as written in global-library.bib, at the end of thesis/refs/ml.bib
    (the first bibliography main.tex declares; the file is not open, so the edit has no version).
    Saved, the bibliography is indexed again and the warning goes."""
    uri, text, diagnostics = await open_intro(client, workspace)
    missing = diagnostics["hochreiter1997long"]
    assert missing.message == "'hochreiter1997long' is not in this document's bibliographies"
    ml = workspace / "thesis" / "refs" / "ml.bib"
    ml_text = ml.read_text(encoding="utf-8")
    entry = entry_text(workspace.parent / "global-library.bib", "hochreiter1997long")
    assert entry.startswith("@article{hochreiter1997long,\n  title         = {Long Short-Term Memory},")

    actions = await code_actions(client, uri, missing.range, [missing])
    assert plain(actions) == plain([types.CodeAction(
        title="Add `hochreiter1997long` to ml.bib", kind=types.CodeActionKind.QuickFix, diagnostics=[missing],
        is_preferred=True, edit=types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=ml.as_uri(), version=None),
            edits=[types.TextEdit(range=end_of(ml_text), new_text="\n" + entry + "\n")])]))])

    saved(client, ml, ml_text + "\n" + entry + "\n")
    await wait_for_diagnostics(client, uri, lambda d: d == [])


CSL_LECUN = """,
  {
    "id": "lecun2015deep",
    "type": "article-journal",
    "title": "Deep learning",
    "author": [
      {
        "family": "LeCun",
        "given": "Yann"
      },
      {
        "family": "Bengio",
        "given": "Yoshua"
      },
      {
        "family": "Hinton",
        "given": "Geoffrey"
      }
    ],
    "issued": {
      "date-parts": [
        [
          2015
        ]
      ]
    },
    "container-title": "Nature",
    "DOI": "10.1038/nature14539",
    "abstract": "A review of deep learning: models built from many layers of learned representations, trained end to end with backpropagation. It explains how convolutional networks transformed the processing of images, video and speech and how recurrent networks handle sequential data such as text. The authors close with their view of where the field should go next."
  }"""


async def test_add_an_entry_only_the_personal_library_has_markdown(client: LanguageClient, workspace: Path):
    """lecun2015deep (BibTeX in the personal library) becomes a CSL-JSON item at the end of
    notes/references.json, the first bibliography methods.md declares (extra.yaml is the second),
    in the file's own indentation; the file is open, so the edit names its buffer's version, and
    the buffer edited is indexed again at once."""
    notes = workspace / "notes"
    references = notes / "references.json"
    references_text = references.read_text(encoding="utf-8")
    references_uri = open_document(client, references, language_id="json")
    text = (notes / "methods.md").read_text(encoding="utf-8")
    uri = open_document(client, notes / "methods.md", text)
    (missing,) = await wait_for_diagnostics(client, uri, lambda d: undefined_keys(d) == ["lecun2015deep"])
    assert missing.range == range_of(text, "lecun2015deep")

    actions = await code_actions(client, uri, missing.range, [missing])
    insert_at = position_at(references_text, references_text.rindex("}") + 1)
    assert plain(actions) == plain([types.CodeAction(
        title="Add `lecun2015deep` to references.json", kind=types.CodeActionKind.QuickFix, diagnostics=[missing],
        is_preferred=True, edit=types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=references_uri, version=1),
            edits=[types.TextEdit(range=types.Range(start=types.Position(*insert_at), end=types.Position(*insert_at)),
                                  new_text=CSL_LECUN)])]))])

    change_document(client, references_uri, apply(references_text, actions[0].edit.document_changes[0].edits[0]), 2)
    await wait_for_diagnostics(client, uri, lambda d: d == [])


async def test_completing_a_library_paper_adds_its_entry(client: LanguageClient, workspace: Path,
                                                         applied_edits: list[types.ApplyWorkspaceEditParams]):
    """An item of the personal library carries papercite.addEntry; the thesis's own papers do not.
    Run after insertion, the command asks the editor to append the entry to ml.bib; run again
    once the entry is there, it asks nothing."""
    intro = workspace / "thesis" / "chapters" / "intro.tex"
    text = intro.read_text(encoding="utf-8") + "Consensus \\cite{part-time parl\n"
    uri = open_document(client, intro, text)
    line, character = position_at(text, len(text) - 1)
    result = await complete_until(client, uri, line, character, "lamport1998part")
    (item,) = [i for i in result.items if i.text_edit.new_text == "lamport1998part"]
    library = str((workspace.parent / "global-library.bib").resolve())
    assert plain(item.command) == plain(types.Command(
        title="Add lamport1998part to ml.bib", command="papercite.addEntry", arguments=[uri, "lamport1998part", library]))
    assert all(i.command is None for i in result.items if i.text_edit.new_text != "lamport1998part")
    result = await complete_until(client, uri, line, character - len("part-time parl"), "vaswani2017attention")
    assert all(i.command is None for i in result.items if i.text_edit.new_text in ("vaswani2017attention", "he2016deep"))

    # the editor inserts the key, then runs the item's command
    cited = text.replace("part-time parl\n", "lamport1998part}\n")
    change_document(client, uri, cited, 2)
    await wait_for_diagnostics(client, uri, lambda d: "lamport1998part" in undefined_keys(d))
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=item.command.command, arguments=list(item.command.arguments)))
    ml = workspace / "thesis" / "refs" / "ml.bib"
    ml_text = ml.read_text(encoding="utf-8")
    entry = entry_text(workspace.parent / "global-library.bib", "lamport1998part")
    assert plain(applied_edits) == plain([types.ApplyWorkspaceEditParams(label="Add lamport1998part to ml.bib", edit=types.WorkspaceEdit(
        document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=ml.as_uri(), version=None),
            edits=[types.TextEdit(range=end_of(ml_text), new_text="\n" + entry + "\n")])]))])

    saved(client, ml, ml_text + "\n" + entry + "\n")
    await wait_for_diagnostics(client, uri, lambda d: "lamport1998part" not in undefined_keys(d))
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=item.command.command, arguments=list(item.command.arguments)))
    assert len(applied_edits) == 1


REFACTOR = types.CodeActionKind.RefactorRewrite


async def cite_action(client: LanguageClient, uri: str, text: str, selected: str):
    return list(await code_actions(client, uri, range_of(text, selected), only=[types.CodeActionKind.Refactor]))


def replacing(uri: str, version: int, where: types.Range, new_text: str) -> types.TextDocumentEdit:
    return types.TextDocumentEdit(text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                                  edits=[types.TextEdit(range=where, new_text=new_text)])


async def test_cite_this_paper_in_latex(client: LanguageClient, workspace: Path):
    """A title of the thesis's own bibliography becomes \\cite{key}; a pasted IEEE-style reference
    to a paper only the personal library has becomes \\cite{key} and adds the entry to ml.bib.
    Ordinary prose and text holding a citation are offered nothing."""
    title = "Attention Is All You Need"
    reference = ("S. Hochreiter and J. Schmidhuber, “Long short-term memory,” Neural Comput., vol. 9, no. 8, "
                 "pp. 1735–1780, 1997.")
    path = workspace / "thesis" / "chapters" / "intro.tex"
    text = path.read_text(encoding="utf-8") + f"\nAs argued in {title}, attention suffices.\nMemory: {reference}\n"
    uri, text, _ = await open_intro(client, workspace, text)

    assert plain(await cite_action(client, uri, text, title)) == plain([types.CodeAction(
        title="Cite this paper: \\cite{vaswani2017attention} (Attention Is All You Need)", kind=REFACTOR,
        edit=types.WorkspaceEdit(document_changes=[
            replacing(uri, 1, range_of(text, title), "\\cite{vaswani2017attention}")]))])

    ml = workspace / "thesis" / "refs" / "ml.bib"
    ml_text = ml.read_text(encoding="utf-8")
    entry = entry_text(workspace.parent / "global-library.bib", "hochreiter1997long")
    assert plain(await cite_action(client, uri, text, reference)) == plain([types.CodeAction(
        title="Cite this paper: \\cite{hochreiter1997long} (Long Short-Term Memory) and add it to ml.bib",
        kind=REFACTOR, edit=types.WorkspaceEdit(document_changes=[
            replacing(uri, 1, range_of(text, reference), "\\cite{hochreiter1997long}"),
            replacing(ml.as_uri(), None, end_of(ml_text), "\n" + entry + "\n")]))])

    assert await cite_action(client, uri, text, "attention suffices") == []
    assert await cite_action(client, uri, text, "the Transformer \\citep[see][]{vaswani2017attention} replaced") == []


async def test_cite_this_paper_in_markdown(client: LanguageClient, workspace: Path):
    """In methods.md: a pasted APA reference of references.json becomes [@key]; the title of a paper
    only the personal library has becomes [@key] and adds its CSL-JSON item to references.json."""
    notes = workspace / "notes"
    reference = "Cortes, C., & Vapnik, V. (1995). Support-vector networks. Machine Learning, 20(3), 273–297."
    text = (notes / "methods.md").read_text(encoding="utf-8") + f"\nClassifiers: {reference}\nSee Deep learning.\n"
    uri = open_document(client, notes / "methods.md", text)
    await wait_for_diagnostics(client, uri, lambda d: undefined_keys(d) == ["lecun2015deep"])

    assert plain(await cite_action(client, uri, text, reference)) == plain([types.CodeAction(
        title="Cite this paper: [@cortes1995support] (Support-Vector Networks)", kind=REFACTOR,
        edit=types.WorkspaceEdit(document_changes=[replacing(uri, 1, range_of(text, reference), "[@cortes1995support]")]))])

    references_text = (notes / "references.json").read_text(encoding="utf-8")
    insert_at = types.Position(*position_at(references_text, references_text.rindex("}") + 1))
    assert plain(await cite_action(client, uri, text, "Deep learning")) == plain([types.CodeAction(
        title="Cite this paper: [@lecun2015deep] (Deep learning) and add it to references.json", kind=REFACTOR,
        edit=types.WorkspaceEdit(document_changes=[
            replacing(uri, 1, range_of(text, "Deep learning", "See Deep"), "[@lecun2015deep]"),
            types.TextDocumentEdit(text_document=types.OptionalVersionedTextDocumentIdentifier(
                uri=(notes / "references.json").as_uri(), version=None),
                edits=[types.TextEdit(range=types.Range(start=insert_at, end=insert_at), new_text=CSL_LECUN)])]))])


async def test_no_bibliography_to_add_to(client: LanguageClient, workspace: Path):
    """A document that declares no bibliography sees the personal library as its own: its keys are
    no warning, so there is nothing to fix or add."""
    path = workspace / "thesis" / "loose.md"
    text = "Memory [@hochreiter1997long] and a typo [@hochreiter1997lnog].\n"
    uri = open_document(client, path, text)
    (typo,) = await wait_for_diagnostics(client, uri, lambda d: undefined_keys(d) == ["hochreiter1997lnog"])
    assert [a.title for a in await code_actions(client, uri, typo.range, [typo])] == [
        "Replace with `hochreiter1997long`"]


async def test_a_title_typed_as_a_key(client: LanguageClient, workspace: Path):
    """\\cite{long short-term memory}: the key is the paper's title; the fix cites the paper it
    names and adds its entry, in one edit."""
    path = workspace / "thesis" / "chapters" / "intro.tex"
    text = path.read_text(encoding="utf-8") + "Gates \\cite{long short-term memory}.\n"
    uri = open_document(client, path, text)
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: len(undefined_keys(d)) == 3)
    (typed,) = [d for d in diagnostics if d.data["key"] == "long short-term memory"]
    ml = workspace / "thesis" / "refs" / "ml.bib"
    entry = entry_text(workspace.parent / "global-library.bib", "hochreiter1997long")
    assert plain(await code_actions(client, uri, typed.range, [typed])) == plain([types.CodeAction(
        title="Cite `hochreiter1997long` (Long Short-Term Memory) and add it to ml.bib",
        kind=types.CodeActionKind.QuickFix, diagnostics=[typed], is_preferred=True,
        edit=types.WorkspaceEdit(document_changes=[
            replacing(uri, 1, range_of(text, "long short-term memory"), "hochreiter1997long"),
            replacing(ml.as_uri(), None, end_of(ml.read_text(encoding="utf-8")), "\n" + entry + "\n")]))])


async def test_a_bibliography_that_cannot_take_the_entry(client: LanguageClient, workspace: Path,
                                                        applied_edits: list[types.ApplyWorkspaceEditParams]):
    """methods.md declaring extra.yaml first, written as a flow list ([...]): the add fix is offered
    disabled, saying why, and the command says so in a message instead of editing."""
    notes = workspace / "notes"
    (notes / "extra.yaml").write_text(
        'references: [{id: liu2019roberta, title: "RoBERTa: A Robustly Optimized BERT Pretraining Approach"}]\n',
        encoding="utf-8")
    text = (notes / "methods.md").read_text(encoding="utf-8").replace(
        "[references.json, extra.yaml]", "[extra.yaml, references.json]")
    uri = open_document(client, notes / "methods.md", text)
    (missing,) = await wait_for_diagnostics(client, uri, lambda d: undefined_keys(d) == ["lecun2015deep"])
    (action,) = await code_actions(client, uri, missing.range, [missing])
    assert action.title == "Add `lecun2015deep` to extra.yaml" and action.edit is None
    assert action.disabled.reason == (
        "extra.yaml: its items are written in flow style ([...]); papercite only adds to block lists")
    library = str((workspace.parent / "global-library.bib").resolve())
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="papercite.addEntry", arguments=[uri, "lecun2015deep", library]))
    await wait_for_message(client, "papercite cannot add lecun2015deep to extra.yaml: its items are written in flow style")
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="papercite.addEntry", arguments=["file:///nowhere/draft.md", "lecun2015deep", library]))
    await wait_for_message(client, "papercite: cannot add lecun2015deep: file:///nowhere/draft.md is not an open document")
    assert applied_edits == []
