"""Completion inside citations, LaTeX and Markdown: what is typed is one query; the right key comes
first, its textEdit replaces exactly what was typed (or the whole key the cursor is in)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import (
    UTF16,
    complete,
    complete_until,
    insert_after,
    keys,
    lsp_range,
    open_document,
    text_in,
)

CURSOR = "|"
# (file, the line added to it with the cursor marked, what the user typed, what the edit replaces, first key)
LATEX_CASES = {
    "title words": (r"Transformers \cite{attention is all|", "attention is all", "attention is all", "vaswani2017attention"),
    "surname and year": (r"Transformers \cite{vaswani 2017|", "vaswani 2017", "vaswani 2017", "vaswani2017attention"),
    "key prefix": (r"Encoders \citep{devl|", "devl", "devl", "devlin2019bert"),
    "multicite": (r"Models \autocites{touvron2023llama}{vas|", "vas", "vas", "vaswani2017attention"),
    "optional arguments": (r"Prompting \citep[see][p.~3]{atten|", "atten", "atten", "vaswani2017attention"),
    "after a comma": (r"Residuals \cite{he2016deep, lora|", "lora", "lora", "hu2022lora"),
    "inside a key": (r"Transformers \cite{vas|wani2017attention} again", "vas", "vaswani2017attention",
                     "vaswani2017attention"),
    "inside a key after a comma": (r"See \cite{he2016deep,hu|2022lora}.", "hu", "hu2022lora", "hu2022lora"),
}
MARKDOWN_CASES = {
    "title words": ("Transformers [@attention is all|", "attention is all", "attention is all", "vaswani2017attention"),
    "surname and year": ("Transformers [@vaswani 2017|", "vaswani 2017", "vaswani 2017", "vaswani2017attention"),
    "key prefix": ("As @devl|", "devl", "devl", "devlin2019bert"),
    "after a semicolon": ("Residuals [@he2016deep; @lora|", "lora", "lora", "hu2022lora"),
    "suppressed author": ("Transformers [-@vasw|", "vasw", "vasw", "vaswani2017attention"),
    "braced key": ("Transformers @{vasw|", "vasw", "vasw", "vaswani2017attention"),
    "from the CSL-JSON bibliography": ("BLAST [@altschul 1990|", "altschul 1990", "altschul 1990",
                                       "altschul1990basic"),
    "inside a key": ("Transformers [@vas|wani2017attention] again", "vas", "vaswani2017attention",
                     "vaswani2017attention"),
}
ANCHORS = {"draft.tex": "\\begin{document}", "draft.md": "# Background"}


def bib_line(workspace: Path, key: str) -> int:
    """1-based line of an entry in the sample library.bib."""
    lines = (workspace / "library.bib").read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, 1) if line.startswith("@") and f"{{{key}," in line)


async def complete_at_cursor(client: LanguageClient, workspace: Path, name: str, line: str, expect: str,
                             language_id: str | None = None):
    """Open `name` with `line` (cursor marked) added below its anchor; complete until `expect` comes.
    Returns (result, text, offset of the cursor)."""
    path = workspace / name
    text = insert_after(path.read_text(encoding="utf-8"), ANCHORS[name], line.replace(CURSOR, ""))
    cursor = text.index(line.replace(CURSOR, "")) + line.index(CURSOR)
    uri = open_document(client, path, text, language_id)
    from .helpers import position_at
    result = await complete_until(client, uri, *position_at(text, cursor), expect)
    return result, text, cursor


def check_list(result: types.CompletionList, text: str, cursor: int, typed: str, replaced: str, first: str):
    assert result.is_incomplete is True
    assert keys(result)[0] == first, keys(result)
    start = cursor - len(typed)
    expected_range = lsp_range(text, start, start + len(replaced), UTF16)
    for item in result.items:
        assert item.text_edit.range == expected_range, (item.label, item.text_edit.range, expected_range)
        assert item.label == item.text_edit.new_text  # completion.label defaults to "key"
    assert text_in(text, expected_range) == replaced
    # sortText carries the server's rank: distinct and in the order the items came
    sort_texts = [item.sort_text for item in result.items]
    assert sort_texts == sorted(sort_texts) and len(set(sort_texts)) == len(sort_texts), sort_texts
    assert len(keys(result)) == len(set(keys(result)))


@pytest.mark.parametrize("case", LATEX_CASES, ids=list(LATEX_CASES))
async def test_latex(client: LanguageClient, workspace: Path, case: str):
    line, typed, replaced, first = LATEX_CASES[case]
    result, text, cursor = await complete_at_cursor(client, workspace, "draft.tex", line, first)
    check_list(result, text, cursor, typed, replaced, first)


@pytest.mark.parametrize("case", MARKDOWN_CASES, ids=list(MARKDOWN_CASES))
async def test_markdown(client: LanguageClient, workspace: Path, case: str):
    line, typed, replaced, first = MARKDOWN_CASES[case]
    result, text, cursor = await complete_at_cursor(client, workspace, "draft.md", line, first)
    check_list(result, text, cursor, typed, replaced, first)


@pytest.mark.parametrize("name, line", [("draft.tex", r"Transformers \cite{vaswani 2017|"),
                                        ("draft.md", "Transformers [@vaswani 2017|")])
async def test_first_response_carries_details_and_documentation(client: LanguageClient, workspace: Path,
                                                                 name: str, line: str):
    result, _, _ = await complete_at_cursor(client, workspace, name, line, "vaswani2017attention")
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
    assert "Ashish Vaswani, Noam Shazeer, Niki Parmar et al. · 2017 · " \
           "*Advances in Neural Information Processing Systems*" in doc.value
    assert "[arXiv:1706.03762](https://arxiv.org/abs/1706.03762)" in doc.value
    assert "Proposes the Transformer" in doc.value
    assert doc.value.endswith(f"Defined in library.bib:{bib_line(workspace, 'vaswani2017attention')}")


async def test_rank_follows_the_query(client: LanguageClient, workspace: Path):
    """Two papers match 'transformer': the one whose title starts with the words comes first, and the
    order moves when the query names the other's author."""
    result, _, _ = await complete_at_cursor(client, workspace, "draft.tex", r"X \cite{transformer|",
                                            "dai2019transformer")
    assert keys(result)[0] == "dai2019transformer"  # "Transformer-XL: ..." starts with the word
    assert "vaswani2017attention" in keys(result)
    result, _, _ = await complete_at_cursor(client, workspace, "draft.tex", r"X \cite{transformer vaswani|",
                                            "vaswani2017attention")
    assert keys(result) == ["vaswani2017attention"]


@pytest.mark.parametrize("name, line", [
    ("draft.tex", r"Plain text vas| outside any citation"),
    ("draft.tex", r"A comment % \cite{vas|"),
    ("draft.tex", r"Closed \cite{vaswani2017attention} and after| it"),
    ("draft.md", "An e-mail someone@vas| is no citation"),
    ("draft.md", "Code `[@vas|` is no citation"),
])
async def test_no_completion_outside_citations(client: LanguageClient, workspace: Path, name: str, line: str):
    path = workspace / name
    text = insert_after(path.read_text(encoding="utf-8"), ANCHORS[name], line.replace(CURSOR, ""))
    cursor = text.index(line.replace(CURSOR, "")) + line.index(CURSOR)
    uri = open_document(client, path, text)
    from .helpers import position_at
    # once a real citation completes, the index is ready: the answer here is final
    inside = position_at(text, text.index("\\cite{lecun2015deep") + len("\\cite{lecun") if name == "draft.tex"
                         else text.index("[@hochreiter") + len("[@hochreiter"))
    await complete_until(client, uri, *inside, "lecun2015deep" if name == "draft.tex" else "hochreiter1997long")
    result = await complete(client, uri, *position_at(text, cursor))
    assert result is None or result.items == []
