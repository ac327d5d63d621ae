"""An open bibliography is indexed from the editor's buffer: an entry typed into library.bib
completes in the draft before it is saved, and the server never writes the file. Closing the buffer
unsaved goes back to what is on disk."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import (
    change_document,
    complete,
    complete_until,
    holds,
    keys,
    open_document,
    position_of,
    until,
    wait_for_diagnostics,
)

NEW_ENTRY = """
@article{newkey2024fresh,
  title   = {Quantum Gardening with Sparse Llamas},
  author  = {Fresh, Frida and Green, Gus},
  journal = {Journal of Unlikely Results},
  year    = {2024},
}
"""


def undefined(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(d.message.split("'")[1] for d in diagnostics if d.code == "undefined-key")


async def test_unsaved_entry_completes_and_the_file_is_untouched(client: LanguageClient, workspace: Path):
    bib = workspace / "library.bib"
    on_disk, stat = bib.read_bytes(), bib.stat()
    bib_text = on_disk.decode("utf-8")
    bib_uri = open_document(client, bib, language_id="bibtex")

    draft = workspace / "draft.tex"
    text = draft.read_text(encoding="utf-8").replace(
        "\\begin{document}\n", "\\begin{document}\nGardens \\cite{newkey2024fresh} and \\cite{quantum garden\n", 1)
    uri = open_document(client, draft, text)
    query = position_of(text, "\\cite{quantum garden")
    assert undefined(await wait_for_diagnostics(client, uri, lambda d: len(d) == 3)) == [
        "newkey2024fresh", "quantum garden", "smith2099imaginary"]
    assert await complete(client, bib_uri, 8, 5) is None  # a bibliography cites nothing

    # an incremental edit: the entry typed at the end of the buffer
    lines = bib_text.split("\n")
    end = types.Position(line=len(lines) - 1, character=len(lines[-1]))
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=bib_uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=end, end=end),
                                                                text=NEW_ENTRY)]))
    result = await complete_until(client, uri, *query, "newkey2024fresh")
    assert keys(result)[0] == "newkey2024fresh"
    item = result.items[0]
    assert item.label_details.detail == " Fresh and Green 2024"
    first_line = (bib_text + NEW_ENTRY).split("\n").index("@article{newkey2024fresh,") + 1
    assert item.documentation.value.endswith(f"Defined in library.bib:{first_line}")
    # another document using library.bib opens: the open buffer, not the file on disk, stays indexed
    other = "\\documentclass{article}\n\\addbibresource{library.bib}\n\\begin{document}\n\\cite{quantum garden\n"
    other_uri = open_document(client, workspace / "other.tex", other)
    await complete_until(client, other_uri, 3, len("\\cite{quantum garden"), "newkey2024fresh")
    await holds(lambda: complete(client, uri, *query), lambda r: "newkey2024fresh" in keys(r),
                "the unsaved entry completing")

    # the draft's diagnostics follow the buffer: the new key is defined now
    assert undefined(await wait_for_diagnostics(client, uri, lambda d: len(d) == 2)) == [
        "quantum garden", "smith2099imaginary"]

    # a whole-buffer edit that renames the entry: the old key goes, the new one comes
    change_document(client, bib_uri, bib_text + NEW_ENTRY.replace("newkey2024fresh", "renamed2024fresh"), 3)
    result = await until(lambda: complete(client, uri, *query),
                         lambda r: keys(r)[:1] == ["renamed2024fresh"], "the renamed entry")
    assert "newkey2024fresh" not in keys(result)

    # closing the buffer unsaved: back to the file on disk
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=bib_uri)))
    await until(lambda: complete(client, uri, *query), lambda r: r is not None and not {
        "renamed2024fresh", "newkey2024fresh"} & set(keys(r)), "the unsaved entries to go")
    assert undefined(await wait_for_diagnostics(client, uri, lambda d: len(d) == 3)) == [
        "newkey2024fresh", "quantum garden", "smith2099imaginary"]

    assert bib.read_bytes() == on_disk
    assert bib.stat().st_mtime_ns == stat.st_mtime_ns
    assert sorted(p.name for p in workspace.iterdir()) == ["README.md", "draft.md", "draft.tex", "library.bib",
                                                           "references.json"]


async def test_new_csl_json_entry(client: LanguageClient, workspace: Path):
    """The same for a CSL-JSON bibliography (language id "json"), cited from Markdown."""
    refs = workspace / "references.json"
    on_disk = refs.read_bytes()
    text = on_disk.decode("utf-8")
    item = ('  {"id": "csl2025new", "type": "article-journal", "title": "Newly Typed Orchids",'
            ' "author": [{"family": "Orr", "given": "Olga"}], "issued": {"date-parts": [[2025]]}},\n')
    edited = text.replace("[\n", "[\n" + item, 1)
    refs_uri = open_document(client, refs, language_id="json")
    draft = workspace / "draft.md"
    md = draft.read_text(encoding="utf-8").replace("# Background\n", "# Background\n\nOrchids [@orchids\n", 1)
    uri = open_document(client, draft, md)
    await complete_until(client, uri, *position_of(md, "[@hochreiter"), "hochreiter1997long")
    change_document(client, refs_uri, edited, 2)
    result = await complete_until(client, uri, *position_of(md, "[@orchids"), "csl2025new")
    assert keys(result) == ["csl2025new"]
    assert result.items[0].label_details.detail == " Orr 2025"
    assert refs.read_bytes() == on_disk
