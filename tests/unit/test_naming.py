"""Which paper a text names: a selected title or pasted reference string (papercite.index.match),
a short name or title under the mouse in prose (papercite.index.names), and the closest keys to a
misspelt one (Library.closest_keys). Confident answers only: two candidates as good, or a text
that says more than the paper explains, give none."""

from __future__ import annotations

from pathlib import Path

import pytest

from papercite.index.match import in_order, paper_named, queries
from papercite.index.names import NameMatch, PaperNames, name_of
from papercite.index.search import PaperSearch
from papercite.index.store import PaperStore
from papercite.server.documents.library import Library, Scope, edit_distance

PROJECTS = Path(__file__).resolve().parents[1] / "fixtures" / "projects"
SAMPLE = Path(__file__).resolve().parents[2] / "index" / "sample"
EXTRA = """@misc{dai2019transformer, title = {{Transformer-XL}: Attentive Language Models beyond a Fixed-Length Context}}
@misc{other2020bert, title = {{BERT}: Another Model of the Same Name}}
@misc{survey2021, title = {Survey: Things People Wrote}}
@misc{random2001copy, title = {Random Forests}, author = {Breiman, Leo}, year = {2001}}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[Path]:
    extra = tmp_path_factory.mktemp("extra") / "extra.bib"
    extra.write_text(EXTRA, encoding="utf-8")
    return [PROJECTS / "global-library.bib", PROJECTS / "thesis/refs/ml.bib", PROJECTS / "thesis/refs/classics.bib",
            PROJECTS / "notes/references.json", PROJECTS / "notes/extra.yaml", extra]


@pytest.fixture(scope="module")
def store(tmp_path_factory, files) -> PaperStore:
    store = PaperStore(tmp_path_factory.mktemp("index"))
    store.update(files)
    return store


@pytest.fixture(scope="module")
def within(files) -> frozenset[str]:
    return frozenset(str(f.resolve()) for f in files)


# --- a selection: title or reference string ---------------------------------------------------

@pytest.mark.parametrize("text, key", [
    ("Attention Is All You Need", "vaswani2017attention"),
    ("Vaswani et al. 2017. Attention is all you need. NeurIPS.", "vaswani2017attention"),
    ("Vaswani, A., Shazeer, N., Parmar, N., Uszkoreit, J., Jones, L., Gomez, A. N., Kaiser, Ł., & Polosukhin, I. "
     "(2017). Attention is all you need. In Advances in neural information processing systems (pp. 5998-6008).",
     "vaswani2017attention"),
    ("S. Hochreiter and J. Schmidhuber, “Long short-term memory,” Neural Comput., vol. 9, no. 8, "
     "pp. 1735–1780, 1997.", "hochreiter1997long"),
    ("LeCun, Y., Bengio, Y. & Hinton, G. Deep learning. Nature 521, 436–444 (2015).", "lecun2015deep"),
    ("Devlin et al. BERT: Pre-training of deep bidirectional transformers for language understanding. NAACL 2019",
     "devlin2019bert"),
    ("\\emph{Long Short-Term Memory}", "hochreiter1997long"),
])
def test_a_title_or_reference_names_its_paper(store: PaperStore, within, text: str, key: str):
    hit = paper_named(text, PaperSearch(store), within=within)
    assert hit is not None and hit.key == key


@pytest.mark.parametrize("text", [
    "attention",  # one word
    "we rely on attention is all you need and on many other things entirely unrelated to it",  # prose
    "Random Forests",  # two papers with that title (different keys), neither ahead
    "Quantum gardening with sparse llamas",  # no such paper
])
def test_no_confident_paper(store: PaperStore, within, text: str):
    assert paper_named(text, PaperSearch(store), within=within) is None


def test_own_bibliography_breaks_a_tie(store: PaperStore, within):
    classics = str((PROJECTS / "thesis/refs/classics.bib").resolve())
    hit = paper_named("Random Forests", PaperSearch(store), prefer=[classics], within=within)
    assert hit.key == "breiman2001random"


def test_queries_are_the_rarest_telling_words_of_each_part():
    """Initials, filler and page numbers go, and words the index lacks; of the rest, the four
    rarest, in their order."""
    frequency = {"hochreiter": 1, "schmidhuber": 2, "long": 50, "short": 30, "term": 40, "memory": 20,
                 "neural": 90, "comput": 0}.get
    assert queries("S. Hochreiter and J. Schmidhuber, “Long short-term memory,” Neural Comput., vol. 9, "
                   "pp. 1735–1780", lambda word: frequency(word, 0)) == [
        "hochreiter schmidhuber short memory ", "hochreiter schmidhuber ", "long short term memory "]
    assert in_order(["a", "b", "c"], ["x", "a", "y", "c", "b"]) == 2


# --- a name in prose --------------------------------------------------------------------------

@pytest.mark.parametrize("line, word, expected", [
    ("We train with Adam \\citep{kingma2015adam}.", "Adam", "kingma2015adam"),
    ("RoBERTa is the encoder.", "RoBERTa", "liu2019roberta"),
    ("roberta, in lower case.", "roberta", "liu2019roberta"),
    ("🙂 Transformer-XL remembers longer.", "XL", "dai2019transformer"),
    ("Deep Residual Learning for Image Recognition made depth practical.", "Image", "he2016deep"),
    ("the Transformer replaced recurrence.", "Transformer", None),  # starts a name, is none
    ("BERT reads both ways.", "BERT", None),  # two papers are called BERT
    ("A Survey of trees.", "Survey", None),  # a kind of writing, not a name
    ("Random Forests are strong.", "Forests", None),  # a two-word title is ordinary prose
])
def test_names_in_prose(store: PaperStore, within, line: str, word: str, expected: str | None):
    found = PaperNames(store).named_at(line, line.index(word) + 1, within)
    assert (found.key if found else None) == expected


def test_name_range_and_scope(store: PaperStore, within):
    names = PaperNames(store)
    line = "🙂 Transformer-XL remembers longer."
    assert names.named_at(line, 3, within) == NameMatch("dai2019transformer", 2, 16)
    assert names.named_at(line, len(line) - 2, within) is None
    # far into a long line (a paragraph on one line)
    long = "word " * 400 + line
    assert names.named_at(long, 2003, within) == NameMatch("dai2019transformer", 2002, 2016)
    # a paper the document does not see is no name of its
    assert names.named_at(line, 3, within - {str(p) for p in within if p.endswith("extra.bib")}) is None


@pytest.mark.parametrize("title, name", [
    ("RoBERTa: A Robustly Optimized BERT Pretraining Approach", ("roberta",)),
    ("Big Bird: Transformers for Longer Sequences", ("big", "bird")),
    ("Survey: Things", ()),
    ("A Very Long Phrase Before: The Colon", ()),
    ("No colon at all", ()),
])
def test_short_names_of_titles(title: str, name: tuple[str, ...]):
    assert name_of(title) == name


# --- closest keys -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def library(tmp_path_factory) -> tuple[Library, Scope]:
    library = Library(tmp_path_factory.mktemp("library"))
    library.set_libraries([str(PROJECTS / "global-library.bib")], None)
    thesis = PROJECTS / "thesis" / "main.tex"
    scope = library.scope(thesis, thesis.read_text(encoding="utf-8"), "latex")
    library.store.update([*scope.own, *library.global_files])
    return library, scope


@pytest.mark.parametrize("typo, closest", [
    ("vaswani2017atention", ["vaswani2017attention"]),  # a letter missing
    ("vsawani2017attention", ["vaswani2017attention"]),  # a swap at the start: found through its words
    ("hochreiter1997lnog", ["hochreiter1997long"]),  # a swap; in the personal library only
    ("Vaswani2017attention", ["vaswani2017attention"]),  # keys are case-sensitive
    ("vaswani2017attentionn", ["vaswani2017attention"]),  # a letter too many
    ("smith2099imaginary", []),  # nothing near: no "closest" keys at all
])
def test_closest_keys(library, typo: str, closest: list[str]):
    lib, scope = library
    assert lib.closest_keys(typo, scope) == closest


def test_keys_of_a_declaring_document(library):
    """A document that declares bibliographies cites from them alone: a personal-library key is
    undefined there, and the personal library's entry is what a fix adds."""
    lib, scope = library
    assert scope.declared and lib.known("vaswani2017attention", scope)
    assert not lib.known("hochreiter1997long", scope)
    assert lib.library_paper("hochreiter1997long", scope).source == str((PROJECTS / "global-library.bib").resolve())
    assert lib.library_paper("vaswani2017attention", scope) is None
    undeclared = Scope(own=scope.own, declared=False)
    assert lib.known("hochreiter1997long", undeclared) and lib.library_paper("hochreiter1997long", undeclared) is None


def test_edit_distance():
    assert [edit_distance(a, b) for a, b in [("abc", "abc"), ("ab", "ba"), ("kitten", "sitting"), ("", "ab")]] == \
        [0, 1, 3, 2]
