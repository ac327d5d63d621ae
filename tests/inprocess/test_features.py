"""Hover, completion, definition, references, rename and diagnostics answered in this process."""

from __future__ import annotations

import json

from lsprotocol import types

DOC = "\\documentclass{article}\n\\begin{document}\n%s\n\\bibliography{refs}\n\\end{document}\n"


def where(uri, position) -> dict:
    return {"text_document": types.TextDocumentIdentifier(uri=uri), "position": position}


async def test_hover_shows_the_title(lsp):
    uri, position = lsp.open("paper.tex", DOC % "See \\cite{vaswani2017at|tention}.")
    hover = await lsp.ask(types.TEXT_DOCUMENT_HOVER, types.HoverParams(**where(uri, position)))
    assert "Attention Is All You Need" in hover.contents.value


async def test_hover_on_an_unknown_key_says_so(lsp):
    uri, position = lsp.open("paper.tex", DOC % "See \\cite{nobody20|20}.")
    hover = await lsp.ask(types.TEXT_DOCUMENT_HOVER, types.HoverParams(**where(uri, position)))
    assert hover.contents.value.startswith("`nobody2020` is not in this document's bibliographies.")


async def test_completion_finds_a_title_word(lsp):
    uri, position = lsp.open("paper.tex", DOC % "See \\cite{atten|}.")
    answer = await lsp.ask(types.TEXT_DOCUMENT_COMPLETION, types.CompletionParams(**where(uri, position)))
    labels = [item["label"] for item in json.loads(answer)["items"]]
    assert "vaswani2017attention" in labels
    assert "devlin2019bert" not in labels


async def test_definition_is_the_entry(lsp):
    uri, position = lsp.open("paper.tex", DOC % "See \\cite{devlin20|19bert}.")
    answer = await lsp.ask(types.TEXT_DOCUMENT_DEFINITION, types.DefinitionParams(**where(uri, position)))
    location = answer[0] if isinstance(answer, list) else answer
    target = getattr(location, "target_uri", None) or location.uri
    assert target.endswith("refs.bib")
    start = getattr(location, "target_range", None) or location.range
    assert start.start.line == 6


async def test_references_are_the_citations(lsp):
    uri, position = lsp.open("paper.tex", DOC % "\\cite{vaswani2017attention} and \\cite{vaswani2017att|ention}.")
    answer = await lsp.ask(types.TEXT_DOCUMENT_REFERENCES, types.ReferenceParams(
        **where(uri, position), context=types.ReferenceContext(include_declaration=False)))
    assert sorted(loc.range.start.character for loc in answer if loc.uri == uri) == [6, 38]


async def test_rename_edits_the_entry_and_the_citation(lsp):
    uri, position = lsp.open("paper.tex", DOC % "See \\cite{vaswani2017att|ention}.")
    edit = await lsp.ask(types.TEXT_DOCUMENT_RENAME, types.RenameParams(**where(uri, position), new_name="vaswani2017"))
    changed = {uri.rsplit("/", 1)[1]: [e.new_text for e in edits] for uri, edits in edit.changes.items()}
    assert changed == {"paper.tex": ["vaswani2017"], "refs.bib": ["vaswani2017"]}


async def test_an_undefined_key_is_diagnosed(lsp):
    uri, _ = lsp.open("paper.tex", DOC % "See \\cite{vaswani2017attention, nobody2020|}.")
    diagnostics = await lsp.diagnostics(uri)
    assert [d.message for d in diagnostics if "nobody2020" in d.message]
    assert not [d for d in diagnostics if "vaswani2017attention" in d.message]
