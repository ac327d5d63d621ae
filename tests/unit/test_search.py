"""Ranking: what people type finds the paper they mean, first."""

from __future__ import annotations

from pathlib import Path

import pytest

from papercite.index.search import PaperSearch, one_edit_apart, parse_query
from papercite.index.store import PaperStore

SAMPLE = Path(__file__).resolve().parents[2] / "index" / "sample"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> PaperSearch:
    store = PaperStore(tmp_path_factory.mktemp("index"))
    store.update([SAMPLE / "library.bib", SAMPLE / "references.json"])
    return PaperSearch(store)


def top(search: PaperSearch, text: str, n: int = 1, **kwargs) -> list[str]:
    return [h.key for h in search.search(text, **kwargs)[:n]]


@pytest.mark.parametrize("typed, key", [
    ("attention is all", "vaswani2017attention"),  # title start, last word half-typed
    ("vaswani 2017", "vaswani2017attention"),  # surname + year
    ("vaswani2017", "vaswani2017attention"),  # key prefix
    ("deep residual learn", "he2016deep"),
    ("hochreiter", "hochreiter1997long"),
    ("schölkopf kernels", "scholkopf2002learning"),  # accents typed
    ("scholkopf kernels", "scholkopf2002learning"),  # accents not typed
    ("few-shot learners", "brown2020language"),
    ("low rank adaptation", "hu2022lora"),
    ("raft consensus understandable", "ongaro2014search"),  # words out of order
    ("atention is all you", "vaswani2017attention"),  # one typo
    ("dropuot", "srivastava2014dropout"),  # a typo in the only word
    ("1706.03762", "vaswani2017attention"),  # an arXiv id
    ("openai", "openai2023gpt4"),  # a corporate author
    ("roberta", "liu2019roberta"),  # from the CSL-JSON file
])
def test_typed_text_finds_the_paper_first(sample: PaperSearch, typed: str, key: str):
    assert top(sample, typed) == [key]


def test_every_keystroke_of_a_title_keeps_the_paper_near_the_top(sample: PaperSearch):
    typed = "generative adversarial"
    ranks = []
    for i in range(4, len(typed) + 1):
        keys = top(sample, typed[:i], n=50)
        ranks.append(keys.index("goodfellow2014generative") if "goodfellow2014generative" in keys else None)
    assert all(r is not None and r < 5 for r in ranks), ranks
    assert ranks[-1] == 0


def test_one_or_two_characters_complete_keys(sample: PaperSearch):
    keys = top(sample, "va", n=5)
    assert keys and all(k.startswith("va") for k in keys)


def test_exact_key_beats_longer_keys_with_it_as_prefix(tmp_path: Path):
    lib = tmp_path / "k.bib"
    lib.write_text("@misc{smith, title={One}}\n@misc{smith2020, title={Two}}\n@misc{smithson, title={Three}}\n")
    store = PaperStore(tmp_path / "index")
    store.update([lib])
    assert top(PaperSearch(store), "smith", n=3)[0] == "smith"


def test_document_bibliography_ranks_above_the_global_library(tmp_path: Path):
    shared = tmp_path / "shared.bib"
    local = tmp_path / "local.bib"
    shared.write_text("@article{a2020, title={Sparse Attention Models}, author={Zed, A}, year=2020}\n")
    local.write_text("@article{b2020, title={Sparse Attention Models}, author={Zed, B}, year=2020}\n")
    store = PaperStore(tmp_path / "index")
    store.update([shared, local])
    search = PaperSearch(store)
    assert top(search, "sparse attention", prefer={str(local.resolve())}) == ["b2020"]
    assert top(search, "sparse attention", prefer={str(shared.resolve())}) == ["a2020"]


def test_latin1_and_cyrillic_titles_are_searchable(corpora: Path, tmp_path: Path):
    store = PaperStore(tmp_path / "index")
    store.update([corpora / "bib" / "afpsample.latin1.bib", corpora / "bib" / "pybtex-cyrillic.bib"])
    search = PaperSearch(store)
    assert top(search, "helanterä unity") == ["Helanterae06"]
    assert top(search, "bücking mycorrhizal") == ["Kiers11"]
    cyrillic = search.search("методы вычисления")
    assert cyrillic and cyrillic[0].title.startswith("Методы вычисления физико-химических")
    assert search.search("викторов")[0].key == cyrillic[0].key


def test_query_parsing_knows_the_half_typed_word():
    assert parse_query("sparse lo").partial == "lo"
    assert parse_query("sparse lo").complete == ("sparse",)
    assert parse_query("sparse lora ").partial == ""
    assert parse_query("Müller").partial == "muller"
    assert parse_query("deKort:2007").key_like == "dekort:2007"
    assert parse_query("two words").key_like == ""


@pytest.mark.parametrize("a, b, expected", [
    ("atention", "attention", True), ("attnetion", "attention", True), ("attentoin", "attention", True),
    ("attentiom", "attention", True), ("attention", "attention", False), ("atenion", "attention", False),
])
def test_one_edit_apart(a: str, b: str, expected: bool):
    assert one_edit_apart(a, b) is expected


def test_has_key_checks_the_sources_given(sample: PaperSearch):
    library = str((SAMPLE / "library.bib").resolve())
    references = str((SAMPLE / "references.json").resolve())
    assert sample.has_key("vaswani2017attention")
    assert sample.has_key("vaswani2017attention", within={library})
    assert not sample.has_key("vaswani2017attention", within={references})
    assert not sample.has_key("Vaswani2017attention")  # keys are case-sensitive, as in \cite
    assert not sample.has_key("smith2099imaginary")


def test_first_letters_offer_the_documents_own_papers(tmp_path: Path):
    shared = tmp_path / "shared.bib"
    local = tmp_path / "local.bib"
    shared.write_text("".join(f"@article{{s{i}, title={{Sparse Models {i}}}, author={{Zed, A}}, year=2020}}\n"
                              for i in range(30)))
    local.write_text("@article{b2020, title={Mostly Sparse Attention}, author={Quill, B}, year=2020}\n"
                     "@article{c2020, title={Dense Attention}, author={Roe, C}, year=2020}\n")
    store = PaperStore(tmp_path / "index")
    store.update([shared, local])
    search = PaperSearch(store)
    own = {str(local.resolve())}
    assert top(search, "sp", prefer=own) == ["b2020"]  # a title word of an own paper starts with it
    assert top(search, "qu", prefer=own) == ["b2020"]  # its author's surname
    assert "c2020" not in top(search, "sp", n=50, prefer=own)


def many_papers(path: Path, count: int, key: str, title: str) -> Path:
    path.write_text("".join(f"@article{{{key.format(i)}, title={{{title.format(i)}}}, author={{Wang, A}}, year=2020}}\n"
                            for i in range(count)))
    return path


def test_a_key_prefix_shared_by_more_keys_than_are_taken_still_has_the_exact_key_first(tmp_path: Path):
    shared = many_papers(tmp_path / "shared.bib", 120, "wang2020{:03d}", "Paper {}")
    with shared.open("a") as out:
        out.write("@article{wang2020, title={The Short One}, author={Wang, A}, year=2020}\n")
    store = PaperStore(tmp_path / "index")
    store.update([shared])
    search = PaperSearch(store)
    for typed in ("wang20", "wang2020", "wang2020117"):  # 4-8 characters: one indexed term; longer: the lexicon
        hits = search.search(typed, limit=50)
        assert len(hits) > 20 if len(typed) <= 8 else len(hits) == 1
        assert all(h.key.startswith(typed) for h in hits)
    assert top(search, "wang2020") == ["wang2020"]  # among 121 keys with that prefix
    assert top(search, "wang2020117") == ["wang2020117"]


def test_a_single_common_word_still_offers_the_documents_own_papers(tmp_path: Path):
    shared = many_papers(tmp_path / "shared.bib", 300, "s{}", "Gradient Methods {}")
    local = tmp_path / "local.bib"
    local.write_text("@article{mine, title={Gradient Noise}, author={Quill, B}, year=2020}\n")
    store = PaperStore(tmp_path / "index")
    store.update([shared, local])
    search = PaperSearch(store)
    # "gradi" matches 301 papers: a sample of them is ranked, the document's own one always among them
    assert top(search, "gradi", prefer={str(local.resolve())}) == ["mine"]
    assert len(search.search("gradi", limit=50)) == 50


@pytest.mark.parametrize("typed", ["dorpout", "drpout", "dxopout"])  # swap, deletion, substitution of the 2nd letter
def test_a_typo_in_the_second_letter_is_fixed(sample: PaperSearch, typed: str):
    assert top(sample, typed) == ["srivastava2014dropout"]


def test_a_key_that_does_not_exist_finds_nothing_rather_than_guessing(sample: PaperSearch):
    assert top(sample, "vaswani2099attention") == []


def test_an_index_held_in_memory_answers_as_the_index_on_disk(tmp_path: Path):
    """PaperSearch.hold reads every paper's fields and tables the keys (aliases included): from
    then on searches must rank exactly as before, keystroke by keystroke."""
    local = tmp_path / "local.bib"
    local.write_text("@article{new2020, ids = {old2019, older2018}, title = {Renamed Attention}, author = {Quill, B},"
                     " year = 2020}\n@article{vaswani2017, title = {Another Attention}, year = 2017}\n")
    store = PaperStore(tmp_path / "index")
    store.update([SAMPLE / "library.bib", SAMPLE / "references.json", local])
    own = {str(local.resolve())}
    typed = [t[:i] for t in ("vaswani2017attention", "older2018", "hochreiter", "attention is all", "vaswani 2017",
                             "he2016deep", "generative adversarial", "x") for i in range(1, len(t) + 1)]
    on_disk = PaperSearch(store)
    answers = {(text, bool(prefer)): top(on_disk, text, n=50, prefer=prefer) for text in [*typed, ""]
               for prefer in ((), own)}
    held = PaperSearch(store)
    papers = held.hold()
    assert sum(1 for hit in papers if hit is not None) == store.count()
    assert held.view().stored(0) is held.view().stored(0)  # from memory, not read again
    for (text, prefer), keys in answers.items():
        assert top(held, text, n=50, prefer=own if prefer else ()) == keys, text
    assert top(held, "older2", n=5) == ["new2020"]  # an alias prefix, from the key table
    assert top(held, "old2019") == ["new2020"]
