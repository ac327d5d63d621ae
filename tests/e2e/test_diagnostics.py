"""Undefined-key and missing-bibliography warnings, published as the documents are opened, edited and
closed. One server for the module (default settings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import change_document, lsp_range, open_document, scratch_path, wait_for_diagnostics

pytestmark = pytest.mark.asyncio(loop_scope="module")


def key_range(text: str, key: str) -> types.Range:
    start = text.index(key)
    return lsp_range(text, start, start + len(key))


@pytest.mark.parametrize("name, key", [("draft.tex", "smith2099imaginary"), ("draft.md", "doe2099missing")])
async def test_undefined_key_in_the_sample_drafts(shared: LanguageClient, shared_workspace: Path, request,
                                                  name: str, key: str):
    """Exactly one warning: the deliberately undefined key. Keys in comments (draft.tex), code spans
    and e-mail addresses (draft.md) are no citations; every other key is defined."""
    text = (shared_workspace / name).read_text(encoding="utf-8")
    uri = open_document(shared, scratch_path(shared_workspace, request, Path(name).suffix), text)
    # the first publication may come before the library is indexed (every key unknown): wait for the last
    diagnostics = await wait_for_diagnostics(shared, uri, lambda d: len(d) == 1)
    (diagnostic,) = diagnostics
    assert diagnostic.range == key_range(text, key)
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.source == "papercite"
    assert diagnostic.code == "undefined-key"
    assert diagnostic.message == f"'{key}' is not in this document's bibliographies"


@pytest.mark.parametrize("name, edit", [
    ("draft.tex", (r"\parencite{smith2099imaginary}", r"\parencite{vaswani2017attention,  hu2022lora}")),
    ("draft.md", ("[@doe2099missing]", "[@vaswani2017attention; @hu2022lora]")),
])
async def test_edits_update_and_close_clears(shared: LanguageClient, shared_workspace: Path, request,
                                             name: str, edit: tuple[str, str]):
    text = (shared_workspace / name).read_text(encoding="utf-8")
    uri = open_document(shared, scratch_path(shared_workspace, request, Path(name).suffix), text)
    await wait_for_diagnostics(shared, uri, lambda d: len(d) == 1)
    # the undefined key replaced by defined ones: no warning left
    fixed = text.replace(*edit)
    change_document(shared, uri, fixed, 2)
    await wait_for_diagnostics(shared, uri, lambda d: d == [])
    # a new typo on another line is flagged, with its own range
    typo = "hu2022lroa"
    broken = fixed.replace("hu2022lora", typo, 1)
    change_document(shared, uri, broken, 3)
    diagnostics = await wait_for_diagnostics(shared, uri, lambda d: len(d) == 1)
    assert diagnostics[0].range == key_range(broken, typo)
    assert diagnostics[0].message == f"'{typo}' is not in this document's bibliographies"
    shared.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_for_diagnostics(shared, uri, lambda d: d == [])


@pytest.mark.parametrize("suffix, text, name", [
    (".tex", "\\documentclass{article}\n\\addbibresource{library.bib}\n\\addbibresource{nosuch.bib}\n"
             "\\begin{document}\n\\cite{vaswani2017attention}\n\\end{document}\n", "nosuch.bib"),
    (".tex", "\\documentclass{article}\n\\bibliography{library, gone/away}\n"
             "\\begin{document}\n\\cite{vaswani2017attention}\n\\end{document}\n", "gone/away"),
    (".md", "---\ntitle: T\nbibliography:\n  - library.bib\n  - nosuch.json\n---\n\nSee [@vaswani2017attention].\n",
     "nosuch.json"),
])
async def test_missing_bibliography(shared: LanguageClient, shared_workspace: Path, request,
                                    suffix: str, text: str, name: str):
    """A declared bibliography that does not exist is reported where it is declared; the keys of the
    ones that exist are still defined."""
    uri = open_document(shared, scratch_path(shared_workspace, request, suffix), text)
    target = name if name.endswith((".bib", ".json")) else name + ".bib"
    missing = (shared_workspace / target).resolve()

    def settled(diagnostics):
        return len(diagnostics) == 1 and "bibliography not found" in diagnostics[0].message

    (diagnostic,) = await wait_for_diagnostics(shared, uri, settled)
    start = text.index(name)
    assert diagnostic.range == lsp_range(text, start, start)
    assert diagnostic.message == f"bibliography not found: {name} ({missing})"
    assert diagnostic.severity == types.DiagnosticSeverity.Warning


@pytest.mark.parametrize("name, key, citation", [("draft.tex", "smith2099imaginary", "\\cite{vaswani 2017"),
                                                 ("draft.md", "doe2099missing", "[@vaswani 2017")])
async def test_crlf_line_ends(shared: LanguageClient, shared_workspace: Path, request, name: str, key: str,
                              citation: str):
    """Windows line ends: ranges count lines and characters as with LF (the \\r is no character of a line)."""
    from .helpers import complete_until, hover_until, position_of

    anchor = "\\begin{document}\n" if name.endswith(".tex") else "# Background\n"
    lf = (shared_workspace / name).read_text(encoding="utf-8").replace(anchor, anchor + "X " + citation + "\n", 1)
    crlf = lf.replace("\n", "\r\n")
    uri = open_document(shared, scratch_path(shared_workspace, request, Path(name).suffix), crlf)
    line, character = position_of(lf, citation)
    result = await complete_until(shared, uri, line, character, "vaswani2017attention")
    assert result.items[0].text_edit.range == lsp_range(lf, lf.index(citation) + len(citation) - len("vaswani 2017"),
                                                        lf.index(citation) + len(citation))
    shown = await hover_until(shared, uri, *position_of(lf, "{vaswani2017att" if name.endswith(".tex")
                                                        else "@vaswani2017att"), "Defined in")
    assert shown.range == key_range(lf, "vaswani2017attention")
    diagnostics = await wait_for_diagnostics(shared, uri, lambda d: len(d) == 2)  # the key and what is typed
    (undefined,) = [d for d in diagnostics if d.message.startswith(f"'{key}'")]
    assert undefined.range == key_range(lf, key)
