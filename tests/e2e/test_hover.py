"""Hover on citation keys: the formatted reference and where it is defined; for an unknown key, that
it is unknown, where else papercite has it, and the closest defined keys. Absurd positions answer
nothing and the server keeps serving. One server for the module (default settings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from .helpers import (
    complete,
    complete_until,
    hover,
    hover_until,
    lsp_range,
    open_document,
    position_at,
    raw_request,
    scratch_path,
    with_cursor,
)
from .test_completion import bib_line

pytestmark = pytest.mark.asyncio(loop_scope="module")

VASWANI = (
    "`vaswani2017attention`\n\n"
    "**Attention Is All You Need**\n\n"
    "Ashish Vaswani, Noam Shazeer, Niki Parmar et al. · 2017 · *Advances in Neural Information Processing Systems*\n\n"
    "[arXiv:1706.03762](https://arxiv.org/abs/1706.03762)\n\n"
    "Proposes the Transformer, a sequence transduction architecture that drops recurrence and convolution "
    "entirely and relies on stacked multi-head self-attention. Because every position attends to every other in "
    "one step, training parallelises far better than with recurrent networks. The model set new quality records "
    "on English-German and English-French machine translation at a fraction of the…\n\n"
    "Defined in library.bib:{line}"
)


def key_span(text: str, key: str, within: str) -> tuple[int, int]:
    start = text.index(key, text.index(within))
    return start, start + len(key)


async def open_copy(client: LanguageClient, workspace: Path, request, name: str, text: str | None = None,
                    tag: str = "") -> tuple[str, str]:
    text = (workspace / name).read_text(encoding="utf-8") if text is None else text
    return open_document(client, scratch_path(workspace, request, Path(name).suffix, tag=tag), text), text


async def test_latex_known_key(shared: LanguageClient, shared_workspace: Path, request):
    uri, text = await open_copy(shared, shared_workspace, request, "draft.tex")
    start, end = key_span(text, "vaswani2017attention", "\\parencite{")
    expected = VASWANI.replace("{line}", str(bib_line(shared_workspace / "library.bib", "vaswani2017attention")))
    first = await hover_until(shared, uri, *position_at(text, start), "Defined in")
    # at the key's start, inside it and just after it: the same hover, over the key
    for offset in (start, start + 7, end):
        result = first if offset == start else await hover(shared, uri, *position_at(text, offset))
        assert result.contents.kind == types.MarkupKind.Markdown
        assert result.contents.value == expected
        assert result.range == lsp_range(text, start, end)


@pytest.mark.parametrize("key, within, parts", [
    ("openai2023gpt4", "}{openai2023gpt4", ["**GPT-4 Technical Report**", "OpenAI · 2023"]),
    ("ioffe2015batch", "ioffe2015batch", ["**Batch Normalization: Accelerating Deep Network Training by Reducing "
                                          "Internal Covariate Shift**", "Sergey Ioffe and Christian Szegedy · 2015"]),
    ("he2016deep", "  he2016deep}", ["[doi:10.1109/CVPR.2016.90](https://doi.org/10.1109/CVPR.2016.90)",
                                     "[arXiv:1512.03385](https://arxiv.org/abs/1512.03385)"]),
])
async def test_latex_keys_in_multicites_and_lists(shared: LanguageClient, shared_workspace: Path, request,
                                                  key: str, within: str, parts: list[str]):
    """The second group of \\autocites, a key after a comma, a key on a continuation line."""
    uri, text = await open_copy(shared, shared_workspace, request, "draft.tex")
    start, end = key_span(text, key, within)
    result = await hover_until(shared, uri, *position_at(text, start + 2), "Defined in")
    assert result.contents.value.startswith(f"`{key}`\n\n")
    for part in parts:
        assert part in result.contents.value
    assert result.contents.value.endswith(f"Defined in library.bib:{bib_line(shared_workspace / 'library.bib', key)}")
    assert result.range == lsp_range(text, start, end)


async def test_markdown_known_key_from_csl_json(shared: LanguageClient, shared_workspace: Path, request):
    uri, text = await open_copy(shared, shared_workspace, request, "draft.md")
    start, end = key_span(text, "altschul1990basic", "[@altschul")
    result = await hover_until(shared, uri, *position_at(text, end - 1), "Defined in")
    json_text = (shared_workspace / "references.json").read_text(encoding="utf-8")
    item_line = json_text.count("\n", 0, json_text.rindex("{", 0, json_text.index('"altschul1990basic"'))) + 1
    value = result.contents.value
    assert value.startswith("`altschul1990basic`\n\n**Basic local alignment search tool**\n\n"
                            "Stephen F. Altschul, Warren Gish, Webb Miller et al. · 1990 · *Journal of Molecular Biology*")
    # parentheses in a DOI are escaped in the link target, so the Markdown link stays whole
    assert "[doi:10.1016/S0022-2836(05)80360-2](https://doi.org/10.1016/S0022-2836%2805%2980360-2)" in value
    assert "Introduces BLAST" in value
    assert value.endswith(f"Defined in references.json:{item_line}")
    assert result.range == lsp_range(text, start, end)


@pytest.mark.parametrize("key, within", [("he2016deep", "@he2016deep made"), ("scholkopf2002learning", "[-@"),
                                         ("kingma2015adam", "@kingma2015adam, p. 4")])
async def test_markdown_key_forms(shared: LanguageClient, shared_workspace: Path, request, key: str, within: str):
    """In-text `@key`, suppressed-author `[-@key]`, a key followed by a locator."""
    uri, text = await open_copy(shared, shared_workspace, request, "draft.md")
    start, end = key_span(text, key, within)
    result = await hover_until(shared, uri, *position_at(text, start + 1), "Defined in")
    assert result.contents.value.startswith(f"`{key}`\n\n**")
    assert result.contents.value.endswith(f"Defined in library.bib:{bib_line(shared_workspace / 'library.bib', key)}")
    assert result.range == lsp_range(text, start, end)


@pytest.mark.parametrize("name, line, key, closest", [
    ("draft.tex", r"Typo \cite{vaswani2017atention}.", "vaswani2017atention", "vaswani2017attention"),
    ("draft.tex", r"Typo \citep[p.~1]{he2016deep, hochreiter1997lnog}.", "hochreiter1997lnog", "hochreiter1997long"),
    ("draft.md", "Typo [@altschul1990basc].", "altschul1990basc", "altschul1990basic"),
    ("draft.md", "Typo @devlin2019bret says.", "devlin2019bret", "devlin2019bert"),
])
async def test_unknown_key_names_the_closest_keys(shared: LanguageClient, shared_workspace: Path, request,
                                                  name: str, line: str, key: str, closest: str):
    anchor = "\\begin{document}" if name.endswith(".tex") else "# Background"
    text, _ = with_cursor("|" + line, (shared_workspace / name).read_text(encoding="utf-8"), anchor)
    uri, _ = await open_copy(shared, shared_workspace, request, name, text)
    start, end = key_span(text, key, line)
    result = await hover_until(shared, uri, *position_at(text, start + 3), "Closest keys")
    lines = result.contents.value.split("\n\n")
    assert lines[0] == f"`{key}` is not in this document's bibliographies."
    assert lines[-1].startswith(f"Closest keys: `{closest}`")
    assert len(lines) == 2  # no other bibliography papercite indexes has it
    assert result.range == lsp_range(text, start, end)


@pytest.mark.parametrize("name, key", [("draft.tex", "smith2099imaginary"), ("draft.md", "doe2099missing")])
async def test_unknown_key_in_the_sample_drafts(shared: LanguageClient, shared_workspace: Path, request,
                                                name: str, key: str):
    uri, text = await open_copy(shared, shared_workspace, request, name)
    # a defined key hovers with its reference once indexed: from then on the answer is final
    known = "vaswani2017attention"
    await hover_until(shared, uri, *position_at(text, text.index(known) + 1), "Defined in")
    start, end = key_span(text, key, key)
    result = await hover(shared, uri, *position_at(text, start))
    assert result.contents.value.startswith(f"`{key}` is not in this document's bibliographies.")
    assert "It is in" not in result.contents.value
    assert result.range == lsp_range(text, start, end)


OTHER_BIB = """@article{zhang2030elsewhere,
  title = {Citations Kept in Another Bibliography},
  author = {Zhang, Wei},
  year = {2030},
}
"""


@pytest.mark.parametrize("name, citation", [("draft.tex", r"\cite{zhang2030elsewhere}"),
                                            ("draft.md", "[@zhang2030elsewhere]")])
async def test_key_only_in_another_bibliography(shared: LanguageClient, shared_workspace: Path, request,
                                                name: str, citation: str):
    """other/other.bib is no bibliography of the draft's, but another open document declares it, so the
    index holds it: the hover says the key is unknown here and names the file it is in."""
    folder = shared_workspace / "other"
    folder.mkdir(exist_ok=True)
    (folder / "other.bib").write_text(OTHER_BIB, encoding="utf-8")
    notes = "---\nbibliography: other.bib\n---\n\nAs [@zhang2030",
    notes_uri = open_document(shared, scratch_path(shared_workspace, request, ".md", "other"), notes[0])
    await complete_until(shared, notes_uri, 4, len("As [@zhang2030"), "zhang2030elsewhere")

    anchor = "\\begin{document}" if name.endswith(".tex") else "# Background"
    text, _ = with_cursor("Elsewhere |" + citation, (shared_workspace / name).read_text(encoding="utf-8"), anchor)
    uri, _ = await open_copy(shared, shared_workspace, request, name, text)
    start, end = key_span(text, "zhang2030elsewhere", "Elsewhere")
    result = await hover_until(shared, uri, *position_at(text, start), "It is in")
    parts = result.contents.value.split("\n\n")
    assert parts[:2] == ["`zhang2030elsewhere` is not in this document's bibliographies.",
                         "It is in other.bib (a library papercite indexes)."]
    assert result.range == lsp_range(text, start, end)
    # and the draft cannot complete it: it is not among its bibliographies
    line, character = position_at(text, start + 5)
    result = await complete(shared, uri, line, character)
    assert "zhang2030elsewhere" not in [i.text_edit.new_text for i in result.items]


@pytest.mark.parametrize("name, where", [("draft.tex", "\\cite{lecun2015deep}"), ("draft.tex", "Deep learning"),
                                         ("draft.tex", "\\cite{lecun"), ("draft.md", "# Background"),
                                         ("draft.md", "someone@example.org")])
async def test_no_hover_off_keys(shared: LanguageClient, shared_workspace: Path, request, name: str, where: str):
    uri, text = await open_copy(shared, shared_workspace, request, name)
    known = "vaswani2017attention"
    await hover_until(shared, uri, *position_at(text, text.index(known) + 1), "Defined in")
    assert await hover(shared, uri, *position_at(text, text.index(where) + 2)) is None


@pytest.mark.parametrize("name", ["draft.tex", "draft.md"])
async def test_absurd_positions(shared: LanguageClient, shared_workspace: Path, request, name: str):
    """Positions past the document's end or a line's end answer nothing or clamp (as the LSP says);
    they never crash the server, which keeps answering."""
    ending = "\nTrailing \\cite{vaswani 2017" if name.endswith(".tex") else "\nTrailing [@vaswani 2017"
    base = (shared_workspace / name).read_text(encoding="utf-8")
    text = base + ending  # no final line break: the document ends inside a citation
    uri, _ = await open_copy(shared, shared_workspace, request, name, text)
    last_line, last_character = position_at(text, len(text))
    await complete_until(shared, uri, last_line, last_character, "vaswani2017attention")
    huge = 2**31 - 1
    for line, character in [(10**6, 0), (10**6, huge), (last_line + 1, 0), (huge, huge)]:
        result = await complete(shared, uri, line, character)
        assert result is None or result.items == [], (line, character)
        assert await hover(shared, uri, line, character) is None
    # a character past the end of a line means the line's end (LSP): here, the end of the citation
    result = await complete(shared, uri, last_line, huge)
    assert result.items[0].text_edit.range == lsp_range(text, len(text) - len("vaswani 2017"), len(text))
    # numbers the protocol forbids (negative, or past uinteger as a client may send -1 unsigned) are
    # refused with an InvalidParams error, answered at once, with no error message popped up
    errors_before = [m for m in shared.messages if m.type == types.MessageType.Error]
    for position in ({"line": -1, "character": 0}, {"line": 0, "character": -1},
                     {"line": 0, "character": 2**32 - 1}, {"line": 2**32 - 1, "character": 2**32 - 1}):
        for method in (types.TEXT_DOCUMENT_COMPLETION, types.TEXT_DOCUMENT_HOVER):
            with pytest.raises(JsonRpcInvalidParams):
                await raw_request(shared, method, {"textDocument": {"uri": uri}, "position": position})
    assert [m for m in shared.messages if m.type == types.MessageType.Error] == errors_before
    # a document the server never saw
    assert await hover(shared, uri + ".unknown", 0, 0) is None
    assert await complete(shared, uri + ".unknown", 0, 0) is None
    # still serving
    result = await complete(shared, uri, last_line, last_character)
    assert result.items[0].text_edit.new_text == "vaswani2017attention"
