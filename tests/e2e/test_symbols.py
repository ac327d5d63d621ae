"""Document symbols of an open bibliography (its entries) and workspace symbols (papers found by
what one types: title words, a key, an author), in BibTeX, CSL-JSON and CSL-YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import change_document, lsp_range, open_document, range_of, until
from .projects import copy_projects


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_projects(tmp_path)


async def document_symbols(client: LanguageClient, uri: str) -> list[types.DocumentSymbol] | None:
    return await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))


async def workspace_symbols(client: LanguageClient, query: str) -> list[types.WorkspaceSymbol]:
    return await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))


def entry_range(text: str, head: str) -> types.Range:
    """From an entry's `@` to just after its closing brace (at the start of a line)."""
    start = text.index(head)
    return lsp_range(text, start, text.index("\n}", start) + 2)


async def test_bibtex_entries(client: LanguageClient, workspace: Path):
    bib = workspace / "thesis" / "refs" / "ml.bib"
    text = bib.read_text(encoding="utf-8")
    uri = open_document(client, bib, language_id="bibtex")
    symbols = await document_symbols(client, uri)
    assert [s.name for s in symbols] == ["vaswani2017attention", "he2016deep", "kingma2015adam", "devlin2019bert",
                                         "hu2022lora"]
    first = symbols[0]
    assert first.detail == "Vaswani et al. 2017 · Attention Is All You Need"
    assert first.kind == types.SymbolKind.Object
    assert first.range == entry_range(text, "@inproceedings{vaswani2017attention")
    assert (first.range.start.line, first.range.end.line) == (6, 16)
    assert first.selection_range == range_of(text, "vaswani2017attention")
    assert symbols[3].detail == ("Devlin et al. 2019 · BERT: Pre-training of Deep Bidirectional Transformers for…")

    # the outline follows the buffer, not the file
    edited = text.replace("@inproceedings{he2016deep,", "@inproceedings{  resnet2016,")
    change_document(client, uri, edited, 2)
    symbols = await document_symbols(client, uri)
    assert symbols[1].name == "resnet2016"
    assert symbols[1].selection_range == range_of(edited, "resnet2016")


async def test_csl_json_and_yaml_entries(client: LanguageClient, workspace: Path):
    refs = workspace / "notes" / "references.json"
    text = refs.read_text(encoding="utf-8")
    uri = open_document(client, refs, language_id="json")
    symbols = await document_symbols(client, uri)
    assert [s.name for s in symbols] == ["altschul1990basic", "watson1953molecular", "cortes1995support",
                                         "benjamini1995controlling"]
    start = text.index("{\n")  # the first item's brace, on line 2
    assert symbols[0].range == lsp_range(text, start, text.index("\n  },", start) + len("\n  }"))
    assert symbols[0].selection_range == range_of(text, "altschul1990basic")  # inside the quotes
    assert symbols[0].detail == "Altschul et al. 1990 · Basic local alignment search tool"

    extra = workspace / "notes" / "extra.yaml"
    yaml_text = extra.read_text(encoding="utf-8")
    [roberta] = await document_symbols(client, open_document(client, extra, language_id="yaml"))
    assert roberta.name == "liu2019roberta"
    assert roberta.range == lsp_range(yaml_text, yaml_text.index("- id:"), len(yaml_text.rstrip("\n")))
    assert roberta.selection_range == range_of(yaml_text, "liu2019roberta")


async def test_no_symbols_for_what_is_no_bibliography(client: LanguageClient, workspace: Path):
    package = workspace / "package.json"
    package.write_text('{"name": "thesis-tools"}\n', encoding="utf-8")
    assert await document_symbols(client, open_document(client, package, language_id="json")) is None
    assert await document_symbols(client, open_document(client, workspace / "thesis" / "main.tex")) is None


@pytest.mark.settings({"libraries": ["../global-library.bib"]})
async def test_workspace_symbols_find_papers_by_what_one_types(client: LanguageClient, workspace: Path):
    """The workspace's bibliographies and the personal library, none of them open: the first
    request has them indexed in the background."""
    ml = (workspace / "thesis" / "refs" / "ml.bib").read_text(encoding="utf-8")
    found = await until(lambda: workspace_symbols(client, "attention is all you need"),
                        lambda r: bool(r), "the workspace's bibliographies to be indexed")
    first = found[0]
    assert first.name == "vaswani2017attention: Attention Is All You Need"
    assert first.container_name == "Vaswani et al. 2017 · ml.bib"
    assert first.kind == types.SymbolKind.Object
    assert first.location == types.Location(uri=(workspace / "thesis" / "refs" / "ml.bib").as_uri(),
                                            range=entry_range(ml, "@inproceedings{vaswani2017attention"))

    refs = (workspace / "notes" / "references.json").read_text(encoding="utf-8")
    alignment = await until(lambda: workspace_symbols(client, "altschul 1990"), lambda r: bool(r), "altschul")
    assert alignment[0].name == "altschul1990basic: Basic local alignment search tool"
    assert alignment[0].location.uri == (workspace / "notes" / "references.json").as_uri()
    start = refs.index("{\n")
    assert alignment[0].location.range == lsp_range(refs, start, refs.index("\n  },", start) + len("\n  }"))

    personal = (workspace.parent / "global-library.bib").read_text(encoding="utf-8")
    memory = await until(lambda: workspace_symbols(client, "long short-term memory"), lambda r: bool(r), "lstm")
    assert memory[0].name == "hochreiter1997long: Long Short-Term Memory"
    assert memory[0].location == types.Location(uri=(workspace.parent / "global-library.bib").as_uri(),
                                                range=entry_range(personal, "@article{hochreiter1997long"))
    assert await workspace_symbols(client, "  ") == []
    assert await workspace_symbols(client, "zzqx unheard of") == []


@pytest.mark.encodings(["utf-16"])
async def test_workspace_symbol_ranges_count_utf16_units(client: LanguageClient, workspace: Path):
    """An entry whose last line has an emoji: its range ends two UTF-16 units after it (read from
    the entry's own text, the file being closed)."""
    emoji = workspace / "notes" / "emoji.yaml"
    text = "references:\n- id: smile2024\n  title: Smiles 😀 everywhere\n"
    emoji.write_text(text, encoding="utf-8")
    [found] = await until(lambda: workspace_symbols(client, "smiles everywhere"), lambda r: bool(r), "smile2024")
    assert found.location.range == types.Range(start=types.Position(line=1, character=0),
                                               end=types.Position(line=2, character=len("  title: Smiles 😀 everywhere") + 1))
    assert found.location.range == lsp_range(text, text.index("- id"), len(text) - 1)
