"""Completion rows and hover Markdown, as the editor receives them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from lsprotocol import types
from pygls.protocol import default_converter

from papercite.index.model import Author, Paper
from papercite.index.search import Hit
from papercite.server.lsp.features.completion import ItemCache
from papercite.server.documents.settings import CompletionSettings, Settings
from papercite.server.lsp.render import (
    author_year,
    reference_markdown,
    shorten,
    unknown_key_markdown,
)

ATTENTION = Paper(
    key="vaswani2017attention",
    title="Attention Is All You Need",
    authors=[Author(given="Ashish", family="Vaswani"), Author(given="Noam", family="Shazeer"),
             Author(given="Niki", family="Parmar"), Author(given="Jakob", family="Uszkoreit")],
    year=2017,
    venue="Advances in Neural Information Processing Systems",
    abstract="The dominant sequence transduction models are based on complex recurrent networks.",
    doi="10.48550/arXiv.1706.03762",
    arxiv="1706.03762",
    url="https://papers.nips.cc/paper/7181",
)
LORA = Paper(key="hu2022lora", title="LoRA: Low-Rank Adaptation of Large Language Models",
             authors=[Author(given="Edward J.", family="Hu"), Author(given="Yelong", family="Shen")], year=2022)
CONVERTER = default_converter()
RANGE = types.Range(start=types.Position(line=3, character=10), end=types.Position(line=3, character=25))


@dataclass
class PaperHit(Hit):
    """A search hit that has its paper at hand (a real one reads it from the index)."""

    known: Paper | None = None

    def paper(self) -> Paper:
        return self.known


def hit_of(paper: Paper) -> Hit:
    return PaperHit(key=paper.key, title=paper.title, surnames=[a.surname for a in paper.authors],
                    year=paper.year, venue=paper.venue, source=paper.source or "refs.bib", known=paper)


def test_hover_lists_key_title_authors_year_venue_links_abstract_and_place() -> None:
    text = reference_markdown(ATTENTION, location="refs.bib:123")
    assert text.split("\n\n") == [
        "`vaswani2017attention`",
        "**Attention Is All You Need**",
        "Ashish Vaswani, Noam Shazeer, Niki Parmar et al. · 2017 · *Advances in Neural Information Processing Systems*",
        "[doi:10.48550/arXiv.1706.03762](https://doi.org/10.48550/arXiv.1706.03762) · "
        "[arXiv:1706.03762](https://arxiv.org/abs/1706.03762) · "
        "[https://papers.nips.cc/paper/7181](https://papers.nips.cc/paper/7181)",
        "The dominant sequence transduction models are based on complex recurrent networks.",
        "Defined in refs.bib:123",
    ]


def test_hover_names_up_to_three_authors_in_full() -> None:
    three = ATTENTION.model_copy(update={"authors": ATTENTION.authors[:3]})
    assert "Ashish Vaswani, Noam Shazeer and Niki Parmar · 2017" in reference_markdown(three)
    assert "Edward J. Hu and Yelong Shen · 2022" in reference_markdown(LORA)


def test_hover_cuts_a_long_abstract_at_a_word_boundary() -> None:
    paper = Paper(key="k", abstract="Large language models are trained on large corpora of web text.")
    last = reference_markdown(paper, abstract_chars=30).split("\n\n")[-1]
    assert last == "Large language models are…"
    assert reference_markdown(paper, abstract_chars=0) == "`k`"
    assert reference_markdown(paper, abstract_chars=1000).endswith("corpora of web text.")


def test_hover_escapes_markdown_in_title_and_abstract() -> None:
    paper = Paper(key="star", title="*-CFQ: the snake_case [sic] <b> `code`", abstract="Uses a*b and x_1.")
    text = reference_markdown(paper)
    assert r"**\*-CFQ: the snake\_case \[sic\] \<b> \`code\`**" in text
    assert text.endswith(r"Uses a\*b and x\_1.")


def test_hover_of_a_cyrillic_corporate_undated_paper() -> None:
    paper = Paper(key="minzdrav", title="Клинические рекомендации по лечению гриппа",
                  authors=[Author(literal="Министерство здравоохранения РФ")])
    assert reference_markdown(paper).split("\n\n") == [
        "`minzdrav`", "**Клинические рекомендации по лечению гриппа**", "Министерство здравоохранения РФ"]
    assert author_year(paper) == " Министерство здравоохранения РФ"


def test_link_targets_survive_parentheses_and_a_url_repeating_the_arxiv_id_is_dropped() -> None:
    paper = Paper(key="k", doi="10.1016/0370-2693(92)90123-X", arxiv="2106.09685",
                  url="https://arxiv.org/abs/2106.09685")
    assert reference_markdown(paper).split("\n\n")[1] == (
        "[doi:10.1016/0370-2693(92)90123-X](https://doi.org/10.1016/0370-2693%2892%2990123-X) · "
        "[arXiv:2106.09685](https://arxiv.org/abs/2106.09685)")


def test_author_year() -> None:
    assert author_year(ATTENTION) == " Vaswani et al. 2017"
    assert author_year(hit_of(ATTENTION)) == " Vaswani et al. 2017"
    assert author_year(LORA) == " Hu and Shen 2022"
    assert author_year(Paper(key="k", authors=[Author(family="Knuth", particle="van")])) == " van Knuth"
    assert author_year(Paper(key="k", year=1999)) == " 1999"
    assert author_year(Paper(key="k")) == ""


def test_shorten() -> None:
    assert shorten("LoRA: Low-Rank Adaptation of Large Language Models", 30) == "LoRA: Low-Rank Adaptation of…"
    assert shorten("Attention  Is\nAll You Need") == "Attention Is All You Need"
    assert shorten("Supercalifragilistic", 10) == "Supercali…"
    assert len(shorten("word " * 40, 60)) <= 60


def rows(papers: list[Paper], typed: str, label: str = "key") -> list[types.CompletionItem]:
    """The completion list the editor receives for these papers ranked in this order, read as
    lsprotocol reads it (so the JSON written by hand is a valid CompletionList)."""
    settings = Settings(completion=CompletionSettings(label=label))
    text = ItemCache().completion_list([hit_of(p) for p in papers], json.dumps(CONVERTER.unstructure(RANGE)),
                                       typed, settings)
    completions = CONVERTER.structure(json.loads(text), types.CompletionList)
    assert completions.is_incomplete
    return completions.items


def test_completion_item_inserts_the_key_in_rank_order() -> None:
    lora = LORA.model_copy(update={"source": "/home/me/paper/refs.bib"})
    item = rows([ATTENTION, lora], "sparse lora")[1]
    assert item.label == "hu2022lora"
    assert item.label_details == types.CompletionItemLabelDetails(
        detail=" Hu and Shen 2022", description="LoRA: Low-Rank Adaptation of Large Language Models")
    assert item.detail == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert item.kind == types.CompletionItemKind.Reference
    assert item.sort_text == "00001"
    assert item.text_edit == types.TextEdit(range=RANGE, new_text="hu2022lora")
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    assert item.documentation == types.MarkupContent(
        kind=types.MarkupKind.Markdown, value=reference_markdown(lora, location="refs.bib"))


def test_filter_text_is_what_was_typed_so_clients_keep_every_item_in_server_order() -> None:
    typed = "sparse lora fed"
    items = rows([LORA, ATTENTION], typed)
    assert [i.filter_text for i in items] == [typed, typed]
    assert [i.sort_text for i in items] == ["00000", "00001"]
    assert rows([LORA], "")[0].filter_text == "hu2022lora"


def test_title_label_moves_the_key_to_the_description() -> None:
    untitled = Paper(key="anon2020")
    item, untitled_item = rows([ATTENTION, untitled], "attention", label="title")
    assert item.label == "Attention Is All You Need"
    assert item.label_details.description == "vaswani2017attention"
    assert item.text_edit.new_text == "vaswani2017attention"
    assert untitled_item.label == "anon2020"


def test_unknown_key_hover() -> None:
    assert unknown_key_markdown("vaswani2017", None, []) == "`vaswani2017` is not in this document's bibliographies."
    assert unknown_key_markdown("vaswani2017", "zotero.bib", ["vaswani2017attention", "vaswani2018"]) == (
        "`vaswani2017` is not in this document's bibliographies.\n\n"
        "It is in zotero.bib (a library papercite indexes).\n\n"
        "Closest keys: `vaswani2017attention`, `vaswani2018`")
