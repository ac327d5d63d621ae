from __future__ import annotations

from pathlib import Path

from pytest_lsp import LanguageClient

from .helpers import complete_until, open_document, position_of


async def test_latex_completion_from_title_words(client: LanguageClient, workspace: Path):
    tex = workspace / "draft.tex"
    text = tex.read_text().replace(r"\begin{document}", "\\begin{document}\nTransformers \\cite{attention is all", 1)
    uri = open_document(client, tex, text)
    line, character = position_of(text, "\\cite{attention is all")
    result = await complete_until(client, uri, line, character, "vaswani2017attention")
    first = result.items[0]
    assert result.is_incomplete
    assert first.text_edit.new_text == "vaswani2017attention"
    assert first.label_details.detail == " Vaswani et al. 2017"
