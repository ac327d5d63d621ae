"""Go to definition from a cited key, in LaTeX and Markdown, to its entry: the exact range of the
entry in the .bib, CSL-JSON or CSL-YAML file the document sees, with the key selected; for a paper
only in the personal library (`libraries`), its place there. One server per fixture project."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from .conftest import SERVER
from .helpers import UTF8, position_of, wait_for_diagnostics
from .projects import (
    close_file,
    definition,
    entry_range,
    indexed,
    key_range,
    notes,  # noqa: F401 (fixture)
    open_file,
    projects,  # noqa: F401 (fixture)
    serve,
    thesis,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


def expected_link(projects: Path, document_text: str, cited: str, key: str, bibliography: str,
                  entry_start: str, entry_end: str) -> types.LocationLink:
    """The entry from `entry_start` to the end of the first `entry_end` after it, its key selected,
    the key after `cited` in the document as the origin."""
    bib_text = (projects / bibliography).read_text(encoding="utf-8")
    return types.LocationLink(
        target_uri=(projects / bibliography).resolve().as_uri(),
        target_range=entry_range(bib_text, entry_start, entry_end),
        target_selection_range=key_range(bib_text, key, after=entry_start[:1]),
        origin_selection_range=key_range(document_text, key, after=cited))


@pytest.mark.parametrize("document, cited, key, bibliography, entry_start, entry_end", [
    ("thesis/chapters/intro.tex", "\\cite{", "shannon1948mathematical", "thesis/refs/classics.bib",
     "@article{shannon1948mathematical", "\n}"),
    ("thesis/chapters/methods.tex", "\\textcite{", "vaswani2017attention", "thesis/refs/ml.bib",
     "@inproceedings{vaswani2017attention", "\n}"),
    ("thesis/chapters/methods.tex", "\\parencites[p.~3]{hu2022lora}{", "he2016deep", "thesis/refs/ml.bib",
     "@inproceedings{he2016deep", "\n}"),
    ("thesis/chapters/intro.tex", "goes back to \\cite{", "hochreiter1997long", "../global-library.bib",
     "@article{hochreiter1997long", "\n}"),
])
async def test_latex(thesis: LanguageClient, projects: Path, document: str, cited: str, key: str,
                     bibliography: str, entry_start: str, entry_end: str):
    path = projects / document
    text = path.read_text(encoding="utf-8")
    uri = open_file(thesis, path)
    expected = expected_link(projects, text, cited, key, bibliography, entry_start, entry_end)
    start = text.index(key, text.index(cited))
    # at the key's start, inside it and just after it
    for offset in (start, start + 5, start + len(key)):
        position = (text.count("\n", 0, offset), offset - text.rfind("\n", 0, offset) - 1)
        assert await indexed(thesis, uri, position) == [expected]
    close_file(thesis, path)


@pytest.mark.parametrize("document, cited, key, bibliography, entry_start, entry_end", [
    ("notes/index.qmd", "search fast [@", "altschul1990basic", "notes/references.json",
     '{\n    "id": "altschul1990basic"', "\n  }"),
    ("notes/index.qmd", "found [@watson1953molecular; @", "cortes1995support", "notes/references.json",
     '{\n    "id": "cortes1995support"', "\n  }"),
    ("notes/methods.md", "RoBERTa [@", "liu2019roberta", "notes/extra.yaml",
     "- id: liu2019roberta", "1907.11692"),
    ("notes/methods.md", "\n[@", "lecun2015deep", "../global-library.bib", "@article{lecun2015deep", "\n}"),
])
async def test_markdown(notes: LanguageClient, projects: Path, document: str, cited: str, key: str,
                        bibliography: str, entry_start: str, entry_end: str):
    path = projects / document
    text = path.read_text(encoding="utf-8")
    uri = open_file(notes, path)
    expected = expected_link(projects, text, cited, key, bibliography, entry_start, entry_end)
    assert await indexed(notes, uri, position_of(text, cited)) == [expected]
    close_file(notes, path)


async def test_wide_characters_before_keys_and_in_entries(notes: LanguageClient, projects: Path):
    """Positions in the negotiated encoding (UTF-8 for Neovim 0.11: the emoji and the 𝔸 are four
    bytes each) on both sides: before the cited key, and before the id on the line of a one-line
    CSL-JSON item."""
    bibliography = projects / "notes" / "smiles.json"
    bib_text = '[{"title": "😀 Smiles", "id": "smile2024"},\n {"title": "𝔸 Alphabets 😀", "id": "alpha2024"}]\n'
    bibliography.write_text(bib_text, encoding="utf-8")
    path = projects / "notes" / "smiles.md"  # a buffer only: never saved
    text = "---\nbibliography: smiles.json\n---\n\n😀 [@smile2024] and 𝔸 @alpha2024.\n"
    uri = open_file(notes, path, text)
    found = await indexed(notes, uri, position_of(text, "@alpha", encoding=UTF8))
    # the item is code points 1-46 of its line, its id 35-44; the citation's key, code points 22-31
    assert found == [types.LocationLink(
        target_uri=bibliography.as_uri(),
        target_range=types.Range(start=types.Position(line=1, character=1), end=types.Position(line=1, character=52)),
        target_selection_range=types.Range(start=types.Position(line=1, character=41),
                                           end=types.Position(line=1, character=50)),
        origin_selection_range=types.Range(start=types.Position(line=4, character=28),
                                           end=types.Position(line=4, character=37)))]
    close_file(notes, path)
    bibliography.unlink()


@pytest.mark.parametrize("cited", ["\\cite{vaswani2017atention", "\\chapter{Introd", "% A typo"])
async def test_nothing_to_go_to(thesis: LanguageClient, projects: Path, cited: str):
    """A misspelt key (in no bibliography), text outside citations and comments have no definition."""
    path = projects / "thesis" / "chapters" / "intro.tex"
    text = path.read_text(encoding="utf-8")
    uri = open_file(thesis, path)
    await indexed(thesis, uri, position_of(text, "\\cite{shannon"))
    # indexed: the typo and the paper only in the personal library are undefined (the thesis declares
    # its bibliographies), yet the latter has a definition
    await wait_for_diagnostics(thesis, uri, lambda d: len(d) == 2)
    assert await definition(thesis, uri, position_of(text, cited)) is None
    close_file(thesis, path)


@pytest_lsp.fixture(config=SERVER, loop_scope="module")  # the module's tests run on its loop
async def without_links(lsp_client: LanguageClient, projects: Path):  # noqa: F811
    """A client that cannot take LocationLinks."""
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.definition.link_support = False
    await serve(lsp_client, projects, "thesis", capabilities)
    yield
    await lsp_client.shutdown_session()


async def test_a_location_for_clients_without_links(without_links: LanguageClient, projects: Path):
    path = projects / "thesis" / "chapters" / "methods.tex"
    text = path.read_text(encoding="utf-8")
    uri = open_file(without_links, path)
    bib_text = (projects / "thesis" / "refs" / "ml.bib").read_text(encoding="utf-8")
    assert await indexed(without_links, uri, position_of(text, "\\citep{kingma")) == types.Location(
        uri=(projects / "thesis" / "refs" / "ml.bib").as_uri(),
        range=entry_range(bib_text, "@inproceedings{kingma2015adam", "\n}"))
