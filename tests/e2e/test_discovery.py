"""Which bibliographies a document sees: the ones it declares (YAML front matter, Quarto project,
\\addbibresource, \\bibliography, through a `% !TeX root`), or the workspace's when it declares none.

One server for the module, in a workspace of its own holding two small bibliographies, refs/a.bib
and refs/b.bib, whose titles both contain "fog"; the sample library.bib and references.json do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_lsp import LanguageClient

from lsprotocol import types

from .helpers import (
    change_document,
    complete,
    complete_until,
    keys,
    open_document,
    position_at,
    scratch_path,
    until,
    wait_for_diagnostics,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

A_BIB = "@article{alpha2001first,\n  title = {Alpha Particles in Fog},\n  author = {Ames, Ann},\n  year = {2001},\n}\n"
B_BIB = "@article{beta2002second,\n  title = {Beta Decay in Fog},\n  author = {Bell, Bob},\n  year = {2002},\n}\n"
A, B = "alpha2001first", "beta2002second"


@pytest.fixture(scope="module")
def project(shared_workspace: Path) -> Path:
    files = {
        "refs/a.bib": A_BIB,
        "refs/b.bib": B_BIB,
        "book/_quarto.yml": "project:\n  type: book\nbibliography: ../refs/b.bib\n",
        "thesis/main.tex": "\\documentclass{report}\n\\bibliography{../refs/a,../refs/b}\n"
                           "\\begin{document}\n\\include{chapters/intro}\n\\end{document}\n",
        "thesis/chapters/intro.tex": "% !TeX root = ../main.tex\n\\chapter{Introduction}\nIn fog \\cite{\n",
    }
    for name, text in files.items():
        (shared_workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (shared_workspace / name).write_text(text, encoding="utf-8")
    return shared_workspace


async def complete_query(client: LanguageClient, path: Path, head: str, opener: str, query: str, expect: str,
                         language_id: str | None = None) -> list[str]:
    """Open `head` + a line "Cite <opener><query>", complete at its end until `expect` comes; all keys."""
    text = head + f"Cite {opener}{query}\n"
    uri = open_document(client, path, text, language_id)
    line, character = position_at(text, len(text) - 1)
    return keys(await complete_until(client, uri, line, character, expect))


async def final_keys(client: LanguageClient, uri: str, text: str, line_text: str) -> list[str]:
    line, character = position_at(text, text.index(line_text) + len(line_text))
    return keys(await complete(client, uri, line, character))


@pytest.mark.parametrize("suffix, language_id, head, opener, expected", [
    (".md", "markdown", "---\nbibliography: refs/a.bib\n---\n\n", "[@", [A]),
    (".md", "markdown", "---\ntitle: List\nbibliography: [refs/a.bib, refs/b.bib]\n---\n\n", "[@", [A, B]),
    (".md", "markdown", "---\nbibliography:\n  - refs/b.bib\n  - refs/a.bib\n---\n\n", "[@", [A, B]),
    (".qmd", "quarto", "---\ntitle: Quarto\nbibliography: refs/b.bib\n---\n\n", "[@", [B]),
    (".Rmd", "rmd", "---\ntitle: R\nbibliography: \"refs/a.bib\"\n---\n\n", "[@", [A]),
    (".tex", "latex", "\\documentclass{article}\n\\addbibresource{refs/a.bib}\n\\begin{document}\n", "\\cite{", [A]),
    (".tex", "latex", "\\documentclass{article}\n\\bibliography{refs/a,refs/b}\n\\begin{document}\n", "\\cite{",
     [A, B]),
    (".tex", "latex", "\\documentclass{article}\n\\addbibresource[label=b]{refs/b.bib}\n\\begin{document}\n",
     "\\parencite{", [B]),
], ids=["front matter string", "front matter flow list", "front matter block list", "quarto", "rmarkdown",
        "addbibresource", "bibliography list", "addbibresource with options"])
async def test_declared_bibliographies_only(shared: LanguageClient, project: Path, request, suffix: str,
                                            language_id: str, head: str, opener: str, expected: list[str]):
    """'fog' completes exactly the papers of the declared files, and nothing of the workspace's
    other bibliographies (library.bib has 'Attention Is All You Need')."""
    path = scratch_path(project, request, suffix)
    found = await complete_query(shared, path, head, opener, "fog", expected[-1], language_id)
    assert sorted(found) == sorted(expected)
    text = head + f"Cite {opener}attention is all\n"
    uri = open_document(shared, path.with_name(path.stem + "_2" + suffix), text, language_id)
    assert await final_keys(shared, uri, text, "attention is all") == []


async def test_quarto_project_bibliography(shared: LanguageClient, project: Path, request):
    """A chapter of a Quarto project without front matter sees _quarto.yml's bibliography (relative to
    _quarto.yml); one with front matter sees both."""
    chapter = scratch_path(project, request, ".qmd", "book")
    assert await complete_query(shared, chapter, "# Chapter\n\n", "[@", "fog", B, "quarto") == [B]
    other = scratch_path(project, request, ".qmd", "book", tag="front")
    found = await complete_query(shared, other, "---\nbibliography: ../refs/a.bib\n---\n\n", "[@", "fog", A, "quarto")
    assert sorted(found) == [A, B]


async def test_tex_root_from_a_chapter_in_a_subfolder(shared: LanguageClient, project: Path):
    """thesis/chapters/intro.tex names its root with `% !TeX root = ../main.tex`; the root's
    \\bibliography (relative to the root's folder) applies to the chapter."""
    path = project / "thesis" / "chapters" / "intro.tex"
    text = path.read_text(encoding="utf-8").replace("\\cite{\n", "\\cite{fog\n")
    uri = open_document(shared, path, text)
    line, character = position_at(text, text.index("{fog") + 4)
    result = await complete_until(shared, uri, line, character, B)
    assert sorted(keys(result)) == [A, B]


@pytest.mark.parametrize("suffix, opener", [(".tex", "\\cite{"), (".md", "[@")])
async def test_no_declaration_sees_the_workspace(shared: LanguageClient, project: Path, request,
                                                 suffix: str, opener: str):
    """A document declaring nothing sees every bibliography in the workspace: the sample's BibTeX and
    CSL-JSON files and both of refs/."""
    path = scratch_path(project, request, suffix)
    head = "Nothing declared here.\n\n"
    assert sorted(await complete_query(shared, path, head, opener, "fog", B)) == [A, B]
    for query, key in [("attention is all", "vaswani2017attention"), ("altschul 1990", "altschul1990basic")]:
        path = path.with_name(path.stem + "_x" + suffix)
        assert (await complete_query(shared, path, head, opener, query, key))[0] == key


async def test_declaration_typed_quickly_is_seen(shared: LanguageClient, project: Path, request):
    """A bibliography declared by an edit right after the document opened (as fast as one types)
    counts once typing stops: its keys are no longer undefined."""
    path = scratch_path(project, request, ".tex")
    text = "\\documentclass{article}\n\\addbibresource{refs/a.bib}\n\\begin{document}\n" \
           "\\cite{alpha2001first} and \\cite{beta2002second}\n\\end{document}\n"
    uri = open_document(shared, path, text)
    (diagnostic,) = await wait_for_diagnostics(shared, uri, lambda d: len(d) == 1)
    assert diagnostic.message.startswith("'beta2002second'")
    change_document(shared, uri, text.replace("\\begin{document}", "\\addbibresource{refs/b.bib}\n\\begin{document}"),
                    2)
    await wait_for_diagnostics(shared, uri, lambda d: d == [], timeout=5)


async def test_new_workspace_bibliography_seen_after_watched_file_event(shared: LanguageClient, project: Path,
                                                                        request):
    """A document declaring nothing sees a bibliography created in the workspace once the client
    reports the new file (workspace/didChangeWatchedFiles), not half a minute later."""
    path = scratch_path(project, request, ".md")
    text = "Nothing declared.\n\nCite [@gamma\n"
    uri = open_document(shared, path, text)
    line, character = position_at(text, len(text) - 1)
    assert keys(await until(lambda: complete(shared, uri, line, character), lambda r: r is not None,
                            "an answer")) == []
    new = project / "refs" / "c.bib"
    new.write_text("@article{gamma2003third,\n  title = {Gamma Rays in Fog},\n  author = {Gold, Gil},\n"
                   "  year = {2003},\n}\n", encoding="utf-8")
    shared.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=new.as_uri(), type=types.FileChangeType.Created)]))
    await complete_until(shared, uri, line, character, "gamma2003third", timeout=5)


async def test_document_outside_the_workspace_sees_its_own_folder(shared: LanguageClient, project: Path,
                                                                  tmp_path_factory):
    """Outside every workspace folder, a document declaring nothing sees the bibliographies beside
    it, even right after a document inside the workspace was served the workspace's."""
    inside = "Nothing declared.\n\nCite [@fog\n"
    uri = open_document(shared, project / "inside_first.md", inside)
    await complete_until(shared, uri, *position_at(inside, len(inside) - 1), A)
    outside = tmp_path_factory.mktemp("outside")
    (outside / "own.bib").write_text("@book{omega1999outside,\n  title = {Omega Fog Outside},\n"
                                     "  author = {Olsen, Ola},\n  year = {1999},\n}\n", encoding="utf-8")
    uri = open_document(shared, outside / "notes.md", inside)
    result = await complete_until(shared, uri, *position_at(inside, len(inside) - 1), "omega1999outside", timeout=5)
    assert keys(result) == ["omega1999outside"]


async def test_folder_with_spaces_and_accents(shared: LanguageClient, project: Path):
    """File URIs are percent-encoded: a document and its bibliography in 'Mes notes/été 2024' are found."""
    folder = project / "Mes notes" / "été 2024"
    folder.mkdir(parents=True)
    (folder / "réfs.bib").write_text(A_BIB.replace("alpha2001first", "delta2004été"), encoding="utf-8")
    text = "---\nbibliography: réfs.bib\n---\n\nCite [@fog\n"
    uri = open_document(shared, folder / "chapitre 1.md", text)
    assert "%20" in uri and "%C3%A9" in uri
    result = await complete_until(shared, uri, 4, len("Cite [@fog"), "delta2004été")
    assert keys(result) == ["delta2004été"]
    assert result.items[0].documentation.value.endswith("Defined in réfs.bib:1")


@pytest.mark.parametrize("suffix, language_id, opener", [
    (".tex", "tex", "\\cite{"), (".tex", "plaintext", "\\cite{"), (".ltx", "", "\\cite{"),
    (".md", "pandoc", "[@"), (".qmd", "plaintext", "[@"), (".Rmd", "rmarkdown", "[@"),
])
async def test_language_ids_and_extensions(shared: LanguageClient, project: Path, request, suffix: str,
                                           language_id: str, opener: str):
    """Language ids editors send for LaTeX and Markdown dialects; an unknown one falls back on the
    file's extension."""
    head = "\\addbibresource{refs/a.bib}\n" if opener == "\\cite{" else "---\nbibliography: refs/a.bib\n---\n\n"
    found = await complete_query(shared, scratch_path(project, request, suffix), head, opener, "fog", A, language_id)
    assert found == [A]
