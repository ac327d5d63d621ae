"""Find references: every citation of a key in the project's documents, open or not, from a citation
or from the entry's key in a bibliography (.bib, CSL-JSON, CSL-YAML), with the entry first when the
declaration is asked for. Unsaved buffers count instead of their files; files written since the
last request count too. One server per fixture project."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import UTF8, position_of, until
from .projects import (
    close_file,
    entry_range,
    indexed,
    key_range,
    notes,  # noqa: F401 (fixture)
    open_file,
    projects,  # noqa: F401 (fixture)
    references,
    thesis,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


def location(path: Path, text: str, key: str, after: str = "", encoding: str = "utf-16") -> types.Location:
    return types.Location(uri=path.as_uri(), range=key_range(text, key, after, encoding))


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def test_latex_from_a_citation_open_and_not_open(thesis: LanguageClient, projects: Path):
    """intro.tex is open, methods.tex is not: both citations, in path order; with the declaration,
    the entry in ml.bib first."""
    intro, methods, bib = (projects / "thesis" / name for name in ("chapters/intro.tex", "chapters/methods.tex",
                                                                   "refs/ml.bib"))
    intro_text = read(intro)
    uri = open_file(thesis, intro)
    position = position_of(intro_text, "{vaswani2017att")
    await indexed(thesis, uri, position)
    citations = [location(intro, intro_text, "vaswani2017attention"),
                 location(methods, read(methods), "vaswani2017attention")]
    assert await references(thesis, uri, position) == citations
    declaration = types.Location(uri=bib.as_uri(), range=entry_range(read(bib), "@inproceedings{vaswani2017attention",
                                                                     "\n}"))
    assert await references(thesis, uri, position, declaration=True) == [declaration, *citations]
    # the misspelt key's only citation is itself; outside a citation there is nothing
    assert await references(thesis, uri, position_of(intro_text, "{vaswani2017aten")) == [
        location(intro, intro_text, "vaswani2017atention")]
    assert await references(thesis, uri, position_of(intro_text, "Information theo")) is None
    close_file(thesis, intro)


async def test_from_the_bib_entry_with_unsaved_buffers_and_new_files(thesis: LanguageClient, projects: Path):
    """From the key of the entry in an open ml.bib: methods.tex counts with its unsaved text (a line
    with an emoji before the new citation: UTF-16 columns), a chapter written to disk since counts,
    and once methods.tex is closed its file counts again."""
    intro, methods, bib = (projects / "thesis" / name for name in ("chapters/intro.tex", "chapters/methods.tex",
                                                                   "refs/ml.bib"))
    bib_text = read(bib)
    bib_uri = open_file(thesis, bib)
    at_entry = position_of(bib_text, "@inproceedings{he2016")
    edited = read(methods) + "😀 Deeper still \\cite{he2016deep}.\n"
    open_file(thesis, methods, edited)
    from_intro = location(intro, read(intro), "he2016deep")
    in_buffer = [location(methods, edited, "he2016deep"), location(methods, edited, "he2016deep", after="still")]
    assert in_buffer[1].range.start.character == len("😀 Deeper still \\cite{") + 1  # two UTF-16 units
    assert await references(thesis, bib_uri, at_entry) == [from_intro, *in_buffer]
    declaration = types.Location(uri=bib.as_uri(), range=entry_range(bib_text, "@inproceedings{he2016deep", "\n}"))
    assert await references(thesis, bib_uri, at_entry, declaration=True) == [declaration, from_intro, *in_buffer]

    appendix = projects / "thesis" / "chapters" / "appendix.tex"
    appendix.write_text("% !TeX root = ../main.tex\n\\chapter{Appendix}\nMore on \\cite{he2016deep}.\n", encoding="utf-8")
    close_file(thesis, methods)
    assert await references(thesis, bib_uri, at_entry) == [
        location(appendix, read(appendix), "he2016deep"), from_intro, location(methods, read(methods), "he2016deep")]
    appendix.unlink()
    assert await references(thesis, bib_uri, at_entry) == [from_intro, location(methods, read(methods), "he2016deep")]
    # not on the key of an entry: nothing
    assert await references(thesis, bib_uri, position_of(bib_text, "title         = {Deep Res")) is None
    close_file(thesis, bib)


async def test_markdown_from_citations_and_csl_entries(notes: LanguageClient, projects: Path):
    """Pandoc citations in .qmd and .md (the misspelt `@watsn1953molecular` is not Watson's), found
    from a citation, from the id in the CSL-JSON file and from the id in the CSL-YAML file. Neovim
    0.11 counts UTF-8 bytes (the fixture is ASCII)."""
    index, methods = projects / "notes" / "index.qmd", projects / "notes" / "methods.md"
    json_path, yaml_path = projects / "notes" / "references.json", projects / "notes" / "extra.yaml"
    index_text, methods_text = read(index), read(methods)
    uri = open_file(notes, index)
    position = position_of(index_text, "@cortes")
    await indexed(notes, uri, position)
    cortes = [location(index, index_text, "cortes1995support", encoding=UTF8),
              location(methods, methods_text, "cortes1995support", encoding=UTF8)]
    assert await references(notes, uri, position) == cortes
    json_uri = open_file(notes, json_path)
    json_text = read(json_path)
    from_json = await until(lambda: references(notes, json_uri, position_of(json_text, '"id": "cortes')),
                            bool, "references from references.json")
    assert from_json == cortes
    assert await references(notes, json_uri, position_of(json_text, '"id": "watson'), declaration=True) == [
        types.Location(uri=json_path.as_uri(), range=entry_range(json_text, '{\n    "id": "watson1953molecular"', "\n  }")),
        location(index, index_text, "watson1953molecular", encoding=UTF8)]
    yaml_uri = open_file(notes, yaml_path)
    assert await references(notes, yaml_uri, position_of(read(yaml_path), "id: liu")) == [
        location(methods, methods_text, "liu2019roberta", encoding=UTF8)]
    for path in (index, json_path, yaml_path):
        close_file(notes, path)
