"""Generated citation keys: readable, valid in LaTeX and pandoc, unique, and stable."""

from __future__ import annotations

import re

import pytest

from papercite.index.keys import assign_keys, base_key
from papercite.index.model import Author, Paper

# Letters and digits of any script, then an optional collision suffix: valid in \cite{} and as
# a bare pandoc @key (internal punctuation only), whatever the title or name was made of.
VALID_KEY = re.compile(r"[^\W_]+(?:-[2-9]\d*)?")


def paper(title: str = "", *, family: str = "", literal: str = "", year: int | None = None, key: str = "") -> Paper:
    authors = [Author(family=family, literal=literal)] if family or literal else []
    return Paper(key=key, title=title, authors=authors, year=year)


def keys_of(papers: list[Paper]) -> list[str]:
    assign_keys(papers)
    return [p.key for p in papers]


@pytest.mark.parametrize(("title", "key"), [
    ("LightGen: Efficient Image Generation through Knowledge Distillation", "lightgen"),
    ("Titans: Learning to Memorize at Test Time", "titans"),
    ("LLaMA-Adapter V2: Parameter-Efficient Visual Instruction Model", "llamaadapterv2"),
    ("GEB-1.3B: Open Lightweight Large Language Model", "geb13b"),
    ("O1 Embedder: Let Retrievers Think Before Action", "o1embedder"),
    ("Dataset Decomposition: Faster LLM Training", "datasetdecomposition"),  # 20 characters: a name
])
def test_short_name_before_a_colon_is_the_key(title: str, key: str) -> None:
    assert base_key(paper(title)) == key


@pytest.mark.parametrize(("title", "key"), [
    ("A Little Help Goes a Long Way: Efficient LLM Training", "wang2023little"),  # 7 words: a phrase
    ("Dynamic Sparse Learning: A Novel Paradigm", "wang2023dynamic"),  # 21 characters: a phrase
    ("2024: A Review of Reviews", "wang20232024"),  # no letter: not a name
])
def test_a_phrase_before_the_colon_is_not_a_name(title: str, key: str) -> None:
    assert base_key(paper(title, family="Wang", year=2023)) == key


def test_author_year_and_first_significant_title_word() -> None:
    assert base_key(paper("Attention Is All You Need", family="Vaswani", year=2017)) == "vaswani2017attention"
    assert base_key(paper("The Art of Computer Programming", family="Knuth", year=1968)) == "knuth1968art"


def test_a_short_name_wins_over_author_and_year() -> None:
    bert = paper("BERT: Pre-training of Deep Bidirectional Transformers", family="Devlin", year=2019)
    assert base_key(bert) == "bert"


def test_author_without_year_or_title() -> None:
    assert base_key(paper("On the Origin of Species", family="Darwin")) == "darwinorigin"
    assert base_key(paper(family="Darwin", year=1859)) == "darwin1859"


def test_particle_is_left_out_and_organisations_give_their_first_word() -> None:
    beethoven = Paper(key="", title="Symphony No. 9", year=1824,
                      authors=[Author(family="Beethoven", particle="van", given="Ludwig")])
    assert base_key(beethoven) == "beethoven1824symphony"
    assert base_key(paper("Global Report", literal="World Health Organization", year=2020)) == "world2020global"


def test_title_words_without_author() -> None:
    assert base_key(paper("Attention as an RNN")) == "attentionrnn"
    assert base_key(paper("Sparse LoRA for Federated Fine-Tuning")) == "sparselorafederated"
    assert base_key(paper("Don't Stop Pretraining? Make Prompt-based Fine-tuning Powerful")) == "dontstoppretraining"


@pytest.mark.parametrize(("family", "title", "key"), [
    ("Müller", "Über die Natur", "muller2001uber"),
    ("Łukasiewicz", "Ørsted's Ænigma", "lukasiewicz2001orsteds"),
    ("Straße", "Œuvres complètes", "strasse2001oeuvres"),
    ("Иванов", "Теория графов", "иванов2001теория"),  # folding would leave nothing: keep the letters
    ("Йорк", "Zeta functions", "йорк2001zeta"),  # and keep them whole (й is not и)
    ("Tanaka", "東京の研究", "tanaka2001東京の研究"),
])
def test_non_ascii_names_and_titles(family: str, title: str, key: str) -> None:
    generated = base_key(paper(title, family=family, year=2001))
    assert generated == key
    assert VALID_KEY.fullmatch(generated)


@pytest.mark.parametrize(("title", "key"), [
    ("1984", "1984"),
    ("2001: 3 + 4 = 7", "200134"),
    ("???", "untitled"),
    ("∑ ∫ ∂", "untitled"),
    ("", "untitled"),
    ("The Of And", "untitled"),  # only stop words
])
def test_titles_without_letters(title: str, key: str) -> None:
    assert base_key(paper(title)) == key


def test_negative_year_keeps_the_key_valid() -> None:
    key = base_key(paper("Histories", family="Herodotus", year=-430))
    assert key == "herodotus430histories"
    assert VALID_KEY.fullmatch(key)


def test_collisions_get_numbered_suffixes_in_order() -> None:
    papers = [paper("LightGen: One"), paper("LightGen: Two"), paper("Attention as an RNN"), paper("LightGen: Three")]
    assert keys_of(papers) == ["lightgen", "lightgen-2", "attentionrnn", "lightgen-3"]
    assert all(p.key_generated for p in papers)


def test_an_unrelated_paper_inserted_before_renames_nothing() -> None:
    before = keys_of([paper("LightGen: One"), paper("LightGen: Two"), paper("Attention as an RNN")])
    after = keys_of([paper("Titans: Memory"), paper("LightGen: One"), paper("Symbolic Discovery"),
                     paper("LightGen: Two"), paper("Attention as an RNN")])
    assert [after[1], after[3], after[4]] == before


def test_keys_already_present_are_kept_and_avoided_case_insensitively() -> None:
    papers = [paper("LightGen: One"), paper("Whatever", key="LightGen"), paper("LightGen: Two")]
    assert keys_of(papers) == ["lightgen-2", "LightGen", "lightgen-3"]
    assert [p.key_generated for p in papers] == [True, False, True]


def test_taken_keys_from_elsewhere_in_the_library_are_avoided() -> None:
    papers = [paper("LightGen: One"), paper("Titans: Two")]
    assign_keys(papers, taken={"lightgen", "TITANS", "titans-2"})
    assert [p.key for p in papers] == ["lightgen-2", "titans-3"]


def test_a_suffixed_key_never_collides_with_another_papers_base() -> None:
    """Bases are letters and digits only, so "lightgen-2" cannot be some other paper's base."""
    papers = [paper("LightGen: One"), paper("LightGen2: Other"), paper("LightGen: Two")]
    assert keys_of(papers) == ["lightgen", "lightgen2", "lightgen-2"]


def test_assignment_is_deterministic() -> None:
    titles = ["LightGen: One", "Attention as an RNN", "LightGen: Two", ""]
    assert keys_of([paper(t) for t in titles]) == keys_of([paper(t) for t in titles])
