"""Diagnostics on open bibliographies (BibTeX and CSL), from the buffer as it is edited: syntax
errors on the entry head or the token at fault, duplicate keys pointing at the first definition,
entries without a key, text that lost characters to a wrong encoding. They go when the buffer is
fixed. A declared bibliography the editor has not opened shows the problems its file has."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import change_document, lsp_range, open_document, range_of, wait_for_diagnostics
from .projects import copy_projects

BROKEN_BIB_ADDITIONS = "@misc{he2016deep,\n  title = {Again}\n}\n\n@article{\n  title = {No key here}\n}\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_projects(tmp_path)


def nth(text: str, needle: str, n: int) -> int:
    """Offset of the n-th (1-based) occurrence of needle."""
    at = -1
    for _ in range(n):
        at = text.index(needle, at + 1)
    return at


async def test_broken_bibtex_buffer_then_fixed(client: LanguageClient, workspace: Path):
    bib = workspace / "thesis" / "refs" / "ml.bib"
    good = bib.read_text(encoding="utf-8")
    broken = good.replace("{Adam: A Method for Stochastic Optimization},", "{Adam: A Method for Stochastic Optimization,")
    broken += "\n" + BROKEN_BIB_ADDITIONS
    uri = open_document(client, bib, broken, language_id="bibtex")
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: len(d) == 3)

    unclosed, duplicate, keyless = diagnostics
    assert unclosed.range == range_of(broken, "@inproceedings{kingma2015adam")
    assert (unclosed.severity, unclosed.code, unclosed.source) == (
        types.DiagnosticSeverity.Error, "syntax-error", "papercite")
    assert unclosed.message == ("entry 'kingma2015adam' is not closed before the next entry: the value of 'title' "
                                "(line 32) does not end where it should (an unbalanced '{'?); it is skipped")
    [where] = unclosed.related_information
    assert where.location == types.Location(uri=uri, range=range_of(broken, "{", within="{Adam: A Method"))
    assert where.message == "the '{' opening the value of 'title'"

    second = nth(broken, "he2016deep", 2)
    assert duplicate.range == lsp_range(broken, second, second + len("he2016deep"))
    assert (duplicate.severity, duplicate.code) == (types.DiagnosticSeverity.Error, "duplicate-key")
    assert duplicate.message == "duplicate citation key 'he2016deep' (first on line 19); this entry is ignored"
    [first] = duplicate.related_information
    assert first.location == types.Location(uri=uri, range=range_of(broken, "he2016deep"))
    assert first.message == "first definition of 'he2016deep'"

    start = broken.index("@article{\n")
    assert keyless.range == lsp_range(broken, start, start + len("@article{"))
    assert (keyless.severity, keyless.code, keyless.message) == (
        types.DiagnosticSeverity.Error, "missing-key", "entry without a citation key; it is skipped")

    # fixing one problem at a time in the buffer: each diagnostic goes with its cause
    change_document(client, uri, good + "\n" + BROKEN_BIB_ADDITIONS, 2)
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: len(d) == 2)
    assert [d.code for d in diagnostics] == ["duplicate-key", "missing-key"]
    change_document(client, uri, good, 3)
    await wait_for_diagnostics(client, uri, lambda d: d == [])
    assert bib.read_text(encoding="utf-8") == good  # the server never wrote the file


async def test_broken_csl_json_buffer_then_fixed(client: LanguageClient, workspace: Path):
    refs = workspace / "notes" / "references.json"
    good = refs.read_text(encoding="utf-8")
    broken = good.replace('"id": "watson1953molecular"', '"id": "altschul1990basic"').replace(
        '    "id": "cortes1995support",\n', "")
    uri = open_document(client, refs, broken, language_id="json")
    duplicate, keyless = await wait_for_diagnostics(client, uri, lambda d: len(d) == 2)

    second = nth(broken, "altschul1990basic", 2)
    assert duplicate.range == lsp_range(broken, second, second + len("altschul1990basic"))  # inside the quotes
    assert (duplicate.severity, duplicate.code, duplicate.message) == (
        types.DiagnosticSeverity.Error, "duplicate-key", "duplicate id 'altschul1990basic' (first on line 2)")
    [first] = duplicate.related_information
    assert first.location == types.Location(uri=uri, range=range_of(broken, "altschul1990basic"))

    item = broken.index('{\n    "type": "article-journal",\n    "title": "Support-Vector Networks"')
    assert keyless.range == lsp_range(broken, item, item + 1)  # the item's first line: its `{`
    assert (keyless.severity, keyless.code) == (types.DiagnosticSeverity.Warning, "missing-key")
    assert keyless.message == "item without an id: pandoc cannot cite it (papercite calls it 'cortes1995support')"

    # a syntax error replaces them: the file cannot be read past it
    no_comma = good.replace('"volume": "171",', '"volume": "171"')
    change_document(client, uri, no_comma, 2)
    [syntax] = await wait_for_diagnostics(client, uri, lambda d: len(d) == 1 and d[0].code == "syntax-error")
    token = no_comma.index('"issue": "4356"')
    assert syntax.range == lsp_range(no_comma, token, token + 1)
    assert syntax.message == "invalid CSL-JSON: Expecting ',' delimiter"

    change_document(client, uri, good, 3)
    await wait_for_diagnostics(client, uri, lambda d: d == [])


async def test_csl_yaml_duplicate(client: LanguageClient, workspace: Path):
    extra = workspace / "notes" / "extra.yaml"
    text = extra.read_text(encoding="utf-8") + "- id: liu2019roberta\n  title: Again\n"
    uri = open_document(client, extra, text, language_id="yaml")
    [duplicate] = await wait_for_diagnostics(client, uri, lambda d: len(d) == 1)
    second = nth(text, "liu2019roberta", 2)
    assert duplicate.range == lsp_range(text, second, second + len("liu2019roberta"))
    assert duplicate.message == "duplicate id 'liu2019roberta' (first on line 2)"


async def test_lost_characters_and_files_that_are_no_bibliography(client: LanguageClient, workspace: Path):
    """A .bib the editor decoded with the wrong encoding shows U+FFFD: a warning at the first one.
    A JSON file that is no CSL (opened by an editor that sends every JSON file) gets nothing."""
    package = workspace / "package.json"
    package.write_text('{"name": "thesis-tools", "version": "1.0.0"}\n', encoding="utf-8")
    package_uri = open_document(client, package, language_id="json")
    latin = workspace / "thesis" / "refs" / "latin.bib"
    entry = "@book{muller1990,\n  author = {M\ufffdller, J\ufffdrgen},\n  title = {Caf\ufffd}\n}\n"
    uri = open_document(client, latin, entry, language_id="bibtex")
    [lost] = await wait_for_diagnostics(client, uri, lambda d: len(d) == 1)
    at = entry.index("\ufffd")
    assert lost.range == lsp_range(entry, at, at + 1)
    assert (lost.severity, lost.code) == (types.DiagnosticSeverity.Warning, "encoding")
    assert lost.message == ("'\ufffd' (U+FFFD) marks a character lost by reading the file with the wrong encoding "
                            "(2 more in the file); reopen it with its real encoding (Latin-1?) before saving")
    # package.json was opened and read first, on the same thread: its (absent) verdict came before
    assert package_uri not in client.diagnostics


async def test_a_declared_bibliography_not_open_in_the_editor_shows_its_problems(client: LanguageClient,
                                                                                 workspace: Path):
    """Writing a chapter, the problems of the .bib files its root declares show (as indexing found
    them in the files), and go when the file is fixed on disk."""
    bib = workspace / "thesis" / "refs" / "classics.bib"
    good = bib.read_text(encoding="utf-8")
    broken = good + "\n@misc{breiman2001random,\n  title = {Again}\n}\n"
    bib.write_text(broken, encoding="utf-8")
    open_document(client, workspace / "thesis" / "chapters" / "intro.tex")

    [duplicate] = await wait_for_diagnostics(client, bib.as_uri(), lambda d: len(d) == 1)
    second = nth(broken, "breiman2001random", 2)
    assert duplicate.range == lsp_range(broken, second, second + len("breiman2001random"))
    assert (duplicate.severity, duplicate.code) == (types.DiagnosticSeverity.Error, "duplicate-key")
    [first] = duplicate.related_information
    assert first.location == types.Location(uri=bib.as_uri(), range=range_of(broken, "breiman2001random"))

    bib.write_text(good, encoding="utf-8")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=bib.as_uri(), type=types.FileChangeType.Changed)]))
    await wait_for_diagnostics(client, bib.as_uri(), lambda d: d == [])
    assert (workspace / "thesis" / "refs" / "ml.bib").as_uri() not in client.diagnostics  # never had any
