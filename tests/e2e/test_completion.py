"""Completion inside citations, LaTeX and Markdown: what is typed is one query; the right key comes
first, its textEdit replaces exactly what was typed (or the whole key the cursor is in).

One server for the module (default settings); every test opens documents of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import (
    complete,
    complete_until,
    keys,
    lsp_range,
    open_document,
    position_at,
    scratch_path,
    text_in,
    with_cursor,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

# name: (the line added to the draft, cursor marked by |; what the user typed; what the edit replaces; first key)
LATEX_CASES = {
    "title words": (r"Transformers \cite{attention is all|", "attention is all", "attention is all",
                    "vaswani2017attention"),
    "surname and year": (r"Transformers \cite{vaswani 2017|", "vaswani 2017", "vaswani 2017", "vaswani2017attention"),
    "key prefix": (r"Encoders \citep{devl|", "devl", "devl", "devlin2019bert"),
    "multicite": (r"Models \autocites{touvron2023llama}{vas|", "vas", "vas", "vaswani2017attention"),
    "multicite with notes": (r"Models \textcites(see)()[p.~2]{touvron2023llama}[ch.~1]{vas|", "vas", "vas",
                             "vaswani2017attention"),
    "optional arguments": (r"Prompting \citep[see][p.~3]{atten|", "atten", "atten", "vaswani2017attention"),
    "after a comma": (r"Residuals \cite{he2016deep, lora|", "lora", "lora", "hu2022lora"),
    "inside a key": (r"Transformers \cite{vas|wani2017attention} again", "vas", "vaswani2017attention",
                     "vaswani2017attention"),
    "inside a key after a comma": (r"See \cite{he2016deep,hu|2022lora}.", "hu", "hu2022lora", "hu2022lora"),
    "starred command": (r"See \Citet*{redm|", "redm", "redm", "redmon2016you"),
}
MARKDOWN_CASES = {
    "title words": ("Transformers [@attention is all|", "attention is all", "attention is all",
                    "vaswani2017attention"),
    "surname and year": ("Transformers [@vaswani 2017|", "vaswani 2017", "vaswani 2017", "vaswani2017attention"),
    "key prefix": ("As @devl|", "devl", "devl", "devlin2019bert"),
    "after a semicolon": ("Residuals [@he2016deep; @lora|", "lora", "lora", "hu2022lora"),
    "suppressed author": ("Transformers [-@vasw|", "vasw", "vasw", "vaswani2017attention"),
    "braced key": ("Transformers @{vasw|", "vasw", "vasw", "vaswani2017attention"),
    "prefix text": ("Transformers [see @vasw|", "vasw", "vasw", "vaswani2017attention"),
    "from the CSL-JSON bibliography": ("BLAST [@altschul 1990|", "altschul 1990", "altschul 1990",
                                       "altschul1990basic"),
    "inside a key": ("Transformers [@vas|wani2017attention] again", "vas", "vaswani2017attention",
                     "vaswani2017attention"),
}
BASES = {".tex": ("draft.tex", "\\begin{document}"), ".md": ("draft.md", "# Background")}


def bib_line(bib: Path, key: str) -> int:
    """1-based line where an entry starts in a .bib file."""
    lines = bib.read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, 1) if line.startswith("@") and f"{{{key}," in line)


async def complete_line(client: LanguageClient, workspace: Path, request, suffix: str, line: str, expect: str,
                        folder: str = "", base: str | None = None, language_id: str | None = None, tag: str = ""):
    """A copy of the sample draft (or `base`) with `line` added, opened under a name of this test's own;
    completion at the `|` until `expect` comes. Returns (result, text, cursor offset)."""
    name, anchor = BASES[suffix]
    text, cursor = with_cursor(line, base if base is not None else (workspace / name).read_text(encoding="utf-8"),
                               anchor)
    uri = open_document(client, scratch_path(workspace, request, suffix, folder, tag), text, language_id)
    return await complete_until(client, uri, *position_at(text, cursor), expect), text, cursor


def check_list(result: types.CompletionList, text: str, cursor: int, typed: str, replaced: str, first: str):
    assert result.is_incomplete is True
    assert keys(result)[0] == first, keys(result)
    start = cursor - len(typed)
    expected = lsp_range(text, start, start + len(replaced))
    assert text_in(text, expected) == replaced
    for item in result.items:
        assert item.text_edit.range == expected, (item.label, item.text_edit.range, expected)
        assert item.label == item.text_edit.new_text  # completion.label defaults to "key"
        assert item.filter_text == typed  # clients filter on what was typed: the server's order stays
    # sortText carries the server's rank: distinct, and in the order the items came
    sort_texts = [item.sort_text for item in result.items]
    assert sort_texts == sorted(sort_texts) and len(set(sort_texts)) == len(sort_texts), sort_texts
    assert len(keys(result)) == len(set(keys(result)))


@pytest.mark.parametrize("case", LATEX_CASES, ids=list(LATEX_CASES))
async def test_latex(shared: LanguageClient, shared_workspace: Path, request, case: str):
    line, typed, replaced, first = LATEX_CASES[case]
    result, text, cursor = await complete_line(shared, shared_workspace, request, ".tex", line, first)
    check_list(result, text, cursor, typed, replaced, first)


@pytest.mark.parametrize("case", MARKDOWN_CASES, ids=list(MARKDOWN_CASES))
async def test_markdown(shared: LanguageClient, shared_workspace: Path, request, case: str):
    line, typed, replaced, first = MARKDOWN_CASES[case]
    result, text, cursor = await complete_line(shared, shared_workspace, request, ".md", line, first)
    check_list(result, text, cursor, typed, replaced, first)


@pytest.mark.parametrize("suffix, line", [(".tex", r"Transformers \cite{vaswani 2017|"),
                                          (".md", "Transformers [@vaswani 2017|")])
async def test_first_response_carries_details_and_documentation(shared: LanguageClient, shared_workspace: Path,
                                                                 request, suffix: str, line: str):
    result, _, _ = await complete_line(shared, shared_workspace, request, suffix, line, "vaswani2017attention")
    item = result.items[0]
    assert item.label == "vaswani2017attention"
    assert item.kind == types.CompletionItemKind.Reference
    assert item.label_details.detail == " Vaswani et al. 2017"
    assert item.label_details.description == "Attention Is All You Need"
    assert item.detail == "Attention Is All You Need"
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    doc = item.documentation
    assert isinstance(doc, types.MarkupContent) and doc.kind == types.MarkupKind.Markdown
    assert doc.value.startswith("`vaswani2017attention`\n\n**Attention Is All You Need**\n\n")
    assert ("Ashish Vaswani, Noam Shazeer, Niki Parmar et al. · 2017 · "
            "*Advances in Neural Information Processing Systems*") in doc.value
    assert "[arXiv:1706.03762](https://arxiv.org/abs/1706.03762)" in doc.value
    assert "Proposes the Transformer" in doc.value
    line_no = bib_line(shared_workspace / "library.bib", "vaswani2017attention")
    assert doc.value.endswith(f"Defined in library.bib:{line_no}")


async def test_rank_follows_the_query(shared: LanguageClient, shared_workspace: Path, request):
    """'transformer' matches several titles: the one starting with the word comes first; adding
    another's first author leaves only that one."""
    result, _, _ = await complete_line(shared, shared_workspace, request, ".tex", r"X \cite{transformer|",
                                       "dai2019transformer")
    assert keys(result)[0] == "dai2019transformer"
    assert "vaswani2017attention" in keys(result)
    result, _, _ = await complete_line(shared, shared_workspace, request, ".tex", r"X \cite{transformer vaswani|",
                                       "vaswani2017attention", tag="2")
    assert keys(result) == ["vaswani2017attention"]


@pytest.mark.parametrize("suffix, line", [
    (".tex", r"Plain text vas| outside any citation"),
    (".tex", r"A comment % \cite{vas|"),
    (".tex", r"Closed \cite{vaswani2017attention} and after| it"),
    (".md", "An e-mail someone@vas| is no citation"),
    (".md", "Code `[@vas|` is no citation"),
])
async def test_no_completion_outside_citations(shared: LanguageClient, shared_workspace: Path, request,
                                               suffix: str, line: str):
    # a real citation in the same document completes first: the index is ready, the answer final
    check = r"X \cite{vaswani 2017" if suffix == ".tex" else "X [@vaswani 2017"
    name, anchor = BASES[suffix]
    text, cursor = with_cursor(line, (shared_workspace / name).read_text(encoding="utf-8"), anchor)
    text = text.replace(anchor, anchor + "\n" + check, 1)
    uri = open_document(shared, scratch_path(shared_workspace, request, suffix), text)
    await complete_until(shared, uri, *position_at(text, text.index(check) + len(check)), "vaswani2017attention")
    cursor = text.index(line.replace("|", "")) + line.index("|")
    result = await complete(shared, uri, *position_at(text, cursor))
    assert result is None or result.items == []


# --- keys that are not plain ASCII words ------------------------------------------------------

CYRILLIC_BIB = """@book{толстой1869война,
  title = {Война и мир},
  author = {Толстой, Лев Николаевич},
  year = {1869},
  publisher = {Русский вестник},
}

@book{достоевский1866преступление,
  title = {Преступление и наказание},
  author = {Достоевский, Фёдор Михайлович},
  year = {1866},
}
"""


@pytest.fixture(scope="module")
def cyrillic(shared_workspace: Path) -> Path:
    folder = shared_workspace / "cyrillic"
    folder.mkdir()
    (folder / "russian.bib").write_text(CYRILLIC_BIB, encoding="utf-8")
    return folder


@pytest.mark.parametrize("suffix, line, typed", [
    (".tex", r"Роман \cite{война|", "война"),
    (".tex", r"Роман \cite{толст|", "толст"),
    (".md", "Роман [@война и|", "война и"),
    (".md", "Роман @толст|", "толст"),
    (".md", "Роман [@достоевский 1866|", "достоевский 1866"),
])
async def test_cyrillic_key_and_title(shared: LanguageClient, shared_workspace: Path, cyrillic: Path, request,
                                      suffix: str, line: str, typed: str):
    head = ("\\documentclass{article}\n\\addbibresource{russian.bib}\n\\begin{document}\n\\end{document}\n"
            if suffix == ".tex" else "---\nbibliography: russian.bib\n---\n\n# Background\n")
    expect = "достоевский1866преступление" if "достоевский" in line else "толстой1869война"
    result, text, cursor = await complete_line(shared, shared_workspace, request, suffix, line, expect,
                                               folder="cyrillic", base=head)
    check_list(result, text, cursor, typed, typed, expect)
    if expect == "толстой1869война":
        item = result.items[0]
        assert item.label_details.detail == " Толстой 1869"
        assert item.detail == "Война и мир"
        assert "**Война и мир**" in item.documentation.value
        assert item.documentation.value.endswith("Defined in russian.bib:1")


@pytest.fixture(scope="module")
def colon_bib(shared_workspace: Path, corpora: Path) -> Path:
    folder = shared_workspace / "colon"
    folder.mkdir()
    shutil.copy(corpora / "bib" / "bbt-colon-key.bib", folder / "games.bib")
    return folder


@pytest.mark.parametrize("suffix, line, typed, replaced", [
    (".tex", r"Presence \cite{deKort:2007|", "deKort:2007", "deKort:2007"),
    (".tex", r"Presence \cite{social presence gaming|", "social presence gaming", "social presence gaming"),
    (".tex", r"Presence \cite{deKort:20|07:DigitalGamesSocial}", "deKort:20", "deKort:2007:DigitalGamesSocial"),
    (".md", "Presence @deKort:2007:Dig|", "deKort:2007:Dig", "deKort:2007:Dig"),
    (".md", "Presence [@de kort 2007|", "de kort 2007", "de kort 2007"),
    (".md", "Presence [see @deKort:|2007:DigitalGamesSocial, p. 3]", "deKort:", "deKort:2007:DigitalGamesSocial"),
])
async def test_key_with_colons(shared: LanguageClient, shared_workspace: Path, colon_bib: Path, request,
                               suffix: str, line: str, typed: str, replaced: str):
    head = ("\\documentclass{article}\n\\bibliography{games}\n\\begin{document}\n\\end{document}\n"
            if suffix == ".tex" else "---\nbibliography: games.bib\n---\n\n# Background\n")
    key = "deKort:2007:DigitalGamesSocial"
    result, text, cursor = await complete_line(shared, shared_workspace, request, suffix, line, key,
                                               folder="colon", base=head)
    check_list(result, text, cursor, typed, replaced, key)
    assert result.items[0].label_details.detail == " de Kort et al. 2007"
