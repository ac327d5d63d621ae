"""Rename a key, from a citation or from the entry's key in a bibliography: one WorkspaceEdit with
the exact edits of the entry and of every citation in the project, open or not (documentChanges with
versions for VS Code, `changes` for Neovim); the files themselves are never written. prepareRename
says what will be renamed; invalid and taken keys, keys without an entry and keys of the shared
library are refused with a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from .helpers import UTF8, position_of
from .projects import (
    close_file,
    indexed,
    key_range,
    line_of,
    notes,  # noqa: F401 (fixture)
    open_file,
    prepare_rename,
    projects,  # noqa: F401 (fixture)
    rename,
    thesis,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def document_edit(path: Path, version: int | None, *edits: types.TextEdit) -> types.TextDocumentEdit:
    return types.TextDocumentEdit(text_document=types.OptionalVersionedTextDocumentIdentifier(
        uri=path.as_uri(), version=version), edits=list(edits))


def edit(text: str, key: str, new: str, after: str = "", encoding: str = "utf-16") -> types.TextEdit:
    return types.TextEdit(range=key_range(text, key, after, encoding), new_text=new)


def normalized(result: types.WorkspaceEdit) -> types.WorkspaceEdit:
    """Sequences as lists (the client decodes arrays as tuples)."""
    if result.document_changes is not None:
        result.document_changes = [types.TextDocumentEdit(text_document=change.text_document, edits=list(change.edits))
                                   for change in result.document_changes]
    if result.changes is not None:
        result.changes = {uri: list(edits) for uri, edits in result.changes.items()}
    return result


async def refused(client: LanguageClient, uri: str, position: tuple[int, int], new_name: str | None) -> str:
    """The message of the error a rename (or, with new_name None, a prepareRename) is answered with."""
    with pytest.raises(JsonRpcException) as error:
        if new_name is None:
            await prepare_rename(client, uri, position)
        else:
            await rename(client, uri, position, new_name)
    assert error.value.code == types.LSPErrorCodes.RequestFailed
    return error.value.message


@pytest.fixture
def thesis_files(projects: Path) -> dict[str, Path]:
    root = projects / "thesis"
    return {"intro": root / "chapters" / "intro.tex", "methods": root / "chapters" / "methods.tex",
            "ml": root / "refs" / "ml.bib", "classics": root / "refs" / "classics.bib",
            "global": projects.parent / "global-library.bib"}


async def test_from_a_citation(thesis: LanguageClient, thesis_files: dict[str, Path]):
    """intro.tex open (version 1), methods.tex and ml.bib not: their edits carry no version."""
    intro, methods, ml = thesis_files["intro"], thesis_files["methods"], thesis_files["ml"]
    before = {path: path.read_bytes() for path in (intro, methods, ml)}
    text = read(intro)
    uri = open_file(thesis, intro)
    position = position_of(text, "{vaswani2017att")
    await indexed(thesis, uri, position)
    new = "vaswani2017transformer"
    assert await prepare_rename(thesis, uri, position) == types.PrepareRenamePlaceholder(
        range=key_range(text, "vaswani2017attention"), placeholder="vaswani2017attention")
    assert normalized(await rename(thesis, uri, position, new)) == types.WorkspaceEdit(document_changes=[
        document_edit(ml, None, edit(read(ml), "vaswani2017attention", new)),
        document_edit(intro, 1, edit(text, "vaswani2017attention", new)),
        document_edit(methods, None, edit(read(methods), "vaswani2017attention", new))])
    assert {path: path.read_bytes() for path in before} == before  # edits are the client's to apply
    close_file(thesis, intro)


async def test_from_the_bib_entry_with_an_unsaved_buffer(thesis: LanguageClient, thesis_files: dict[str, Path]):
    """From the key in an open ml.bib (version 1): methods.tex is open with an unsaved line that cites
    the key after an emoji (version 1, its UTF-16 columns), intro.tex is read from disk."""
    intro, methods, ml = thesis_files["intro"], thesis_files["methods"], thesis_files["ml"]
    bib_text = read(ml)
    bib_uri = open_file(thesis, ml)
    edited = read(methods) + "😀 Deeper \\cite{he2016deep}.\n"
    open_file(thesis, methods, edited)
    at_key = position_of(bib_text, "@inproceedings{he20")
    assert await prepare_rename(thesis, bib_uri, at_key) == types.PrepareRenamePlaceholder(
        range=key_range(bib_text, "he2016deep"), placeholder="he2016deep")
    new = "he2016resnet"
    expected_in_buffer = [edit(edited, "he2016deep", new), edit(edited, "he2016deep", new, after="Deeper")]
    assert expected_in_buffer[1].range.start.character == len("😀 Deeper \\cite{") + 1
    assert normalized(await rename(thesis, bib_uri, at_key, new)) == types.WorkspaceEdit(document_changes=[
        document_edit(ml, 1, edit(bib_text, "he2016deep", new)),
        document_edit(intro, None, edit(read(intro), "he2016deep", new)),
        document_edit(methods, 1, *expected_in_buffer)])
    # elsewhere in the bibliography: nothing to rename
    assert await prepare_rename(thesis, bib_uri, position_of(bib_text, "title         = {Deep Res")) is None
    close_file(thesis, methods)
    close_file(thesis, ml)


@pytest.mark.parametrize("new_name, message", [
    ("he 2016", "'he 2016' cannot be the key of the entry in ml.bib (a BibTeX key holds no spaces and none of "
                ", { } ( ) = \" # % ~ \\)"),
    ("he2016,deep", "'he2016,deep' cannot be the key of the entry in ml.bib (a BibTeX key holds no spaces and "
                    "none of , { } ( ) = \" # % ~ \\)"),
    ("kingma2015adam", "'kingma2015adam' is already a key in ml.bib:{ml}"),
    ("breiman2001random", "'breiman2001random' is already a key in classics.bib:{classics}"),
    ("goodfellow2014generative", "'goodfellow2014generative' is already a key in global-library.bib:{global}"),
])
async def test_invalid_and_taken_keys_are_refused(thesis: LanguageClient, thesis_files: dict[str, Path],
                                                  new_name: str, message: str):
    methods = thesis_files["methods"]
    text = read(methods)
    uri = open_file(thesis, methods)
    position = position_of(text, "{hu2022")
    await indexed(thesis, uri, position)
    for name in ("ml", "classics", "global"):  # {ml}: the line of the entry with the key in ml.bib
        bib_text = read(thesis_files[name])
        if f"{{{new_name}," in bib_text:
            message = message.replace(f"{{{name}}}", str(line_of(bib_text, f"{{{new_name},")))
    assert await refused(thesis, uri, position, new_name) == message
    close_file(thesis, methods)


async def test_what_cannot_be_renamed(thesis: LanguageClient, thesis_files: dict[str, Path]):
    """A key in no bibliography has no entry; a key only in the personal library, outside the
    project, is not renamed from the project (other projects cite it)."""
    intro = thesis_files["intro"]
    text = read(intro)
    uri = open_file(thesis, intro)
    await indexed(thesis, uri, position_of(text, "{hochreiter"))
    assert await refused(thesis, uri, position_of(text, "{vaswani2017aten"), None) == (
        "'vaswani2017atention' is in none of this document's bibliographies: there is no entry to rename")
    message = (f"'hochreiter1997long' is defined in {thesis_files['global'].resolve()}, a shared library outside the "
               "workspace: renaming it there would break the citations of other projects")
    assert await refused(thesis, uri, position_of(text, "{hochreiter"), None) == message
    assert await refused(thesis, uri, position_of(text, "{hochreiter"), "hochreiter1997lstm") == message
    assert await prepare_rename(thesis, uri, position_of(text, "Information theo")) is None
    assert await refused(thesis, uri, position_of(text, "Information theo"), "x") == (
        "papercite renames citation keys: put the cursor on a key in a citation or on the key of a bibliography entry")
    close_file(thesis, intro)


@pytest.fixture
def notes_files(projects: Path) -> dict[str, Path]:
    root = projects / "notes"
    return {"index": root / "index.qmd", "methods": root / "methods.md", "json": root / "references.json",
            "yaml": root / "extra.yaml"}


async def test_markdown_and_csl(notes: LanguageClient, notes_files: dict[str, Path]):
    """Neovim takes `changes` (no versions; UTF-8 columns): the id inside its JSON quotes, the YAML id,
    and the pandoc citations of both documents."""
    index, methods, json_path, yaml_path = (notes_files[k] for k in ("index", "methods", "json", "yaml"))
    index_text = read(index)
    uri = open_file(notes, index)
    position = position_of(index_text, "@cortes", encoding=UTF8)
    await indexed(notes, uri, position)
    new = "cortes1995svm"
    assert normalized(await rename(notes, uri, position, new)) == types.WorkspaceEdit(changes={
        json_path.as_uri(): [edit(read(json_path), "cortes1995support", new, encoding=UTF8)],
        index.as_uri(): [edit(index_text, "cortes1995support", new, encoding=UTF8)],
        methods.as_uri(): [edit(read(methods), "cortes1995support", new, encoding=UTF8)]})
    yaml_text = read(yaml_path)
    yaml_uri = open_file(notes, yaml_path)
    at_id = position_of(yaml_text, "id: liu", encoding=UTF8)
    assert normalized(await rename(notes, yaml_uri, at_id, "liu2019roberta-v2")) == types.WorkspaceEdit(changes={
        yaml_path.as_uri(): [edit(yaml_text, "liu2019roberta", "liu2019roberta-v2", encoding=UTF8)],
        methods.as_uri(): [edit(read(methods), "liu2019roberta", "liu2019roberta-v2", encoding=UTF8)]})
    # what a bare @key cannot hold is refused, naming the first citation that cannot
    assert await refused(notes, uri, position, "cortes:1995.") == (
        f"'cortes:1995.' cannot be cited as a bare @key in pandoc Markdown (index.qmd:{line_of(index_text, '@cortes')}): "
        "write that citation @{cortes1995support} first, or choose a key of letters, digits and inner punctuation")
    assert await refused(notes, uri, position, "benjamini1995controlling") == (
        f"'benjamini1995controlling' is already a key in references.json:{line_of(read(json_path), 'benjamini') - 1}")
    for path in (index, yaml_path):
        close_file(notes, path)


async def test_braced_citations_take_any_key(notes: LanguageClient, notes_files: dict[str, Path]):
    """Where every citation of a key is `@{...}`, a key pandoc could not read bare is fine; the CSL-YAML id
    it goes to is quoted."""
    yaml_path, methods = notes_files["yaml"], notes_files["methods"]
    edited = read(methods).replace("[@liu2019roberta]", "[@{liu2019roberta}]")
    open_file(notes, methods, edited)
    yaml_text = read(yaml_path)
    yaml_uri = open_file(notes, yaml_path)
    at_id = position_of(yaml_text, "id: liu", encoding=UTF8)
    await indexed(notes, open_file(notes, notes_files["index"]), position_of(read(notes_files["index"]), "@cortes"))
    assert normalized(await rename(notes, yaml_uri, at_id, "Liu: RoBERTa.")) == types.WorkspaceEdit(changes={
        yaml_path.as_uri(): [edit(yaml_text, "liu2019roberta", '"Liu: RoBERTa."', encoding=UTF8)],
        methods.as_uri(): [edit(edited, "liu2019roberta", "Liu: RoBERTa.", encoding=UTF8)]})
    assert await refused(notes, yaml_uri, at_id, "liu}") == (
        f"'liu}}' cannot be cited as @{{...}} (methods.md:{line_of(edited, '@{liu')}): a key holds no }} or line "
        "break, and no space at either end")
    for path in (methods, yaml_path, notes_files["index"]):
        close_file(notes, path)
