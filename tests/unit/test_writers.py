"""Entries written into bibliographies (papercite.index.writers): every rendered entry read back by
papercite's own readers gives the same paper, and every insertion leaves a file its reader accepts,
with the exact text a person would have pasted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from papercite.index.model import Author, Paper
from papercite.index.readers import parse_text, read_file
from papercite.index.readers import entry_format
from papercite.index.writers import (
    CannotWrite,
    Insertion,
    bibtex_entry,
    bibtex_insertion,
    csl_item,
    csl_json_insertion,
    csl_yaml_insertion,
    entry_insertion,
    macros_used,
    string_definitions,
    tex_escape,
)

PROJECTS = Path(__file__).resolve().parents[1] / "fixtures" / "projects"
GLOBAL = PROJECTS / "global-library.bib"


def applied(text: str, insertion: Insertion) -> str:
    return text[:insertion.offset] + insertion.text + text[insertion.offset:]


def fixture_papers() -> list[Paper]:
    """Papers of every fixture format: BibTeX (macros, {\\L}ukasz, {BERT}), CSL-JSON, CSL-YAML."""
    files = [GLOBAL, PROJECTS / "thesis/refs/ml.bib", PROJECTS / "thesis/refs/classics.bib",
             PROJECTS / "notes/references.json", PROJECTS / "notes/extra.yaml"]
    return [paper for path in files for paper in read_file(path).papers]


def same_paper(read: Paper, original: Paper) -> None:
    assert (read.key, read.title, read.authors, read.year) == \
           (original.key, original.title, original.authors, original.year)
    assert (read.venue, read.doi, read.arxiv) == (original.venue, original.doi, original.arxiv)
    assert read.abstract == original.abstract


def read_back(text: str, name: str) -> list[Paper]:
    result = parse_text(text, name)
    assert [p for p in result.problems if p.severity != "information"] == []
    return result.papers


ODD = Paper(
    key="who2020odd",
    title="Q&A at 50% for $5: the {braces} of x_1 ~ y with back\\slash and RoBERTa-like GPT-4o",
    authors=[Author(family="Berg", given="Anna", particle="van der"), Author(family="King", given="Martin Luther", suffix="Jr."),
             Author(literal="World Health Organization"), Author(literal="Smith and Sons, Ltd."),
             Author(family="García Márquez", given="Gabriel")],
    year=2020, venue="Journal of Q&A", doi="10.1000/x_y", arxiv="2001.00001", abstract="Costs 5% & more.",
    entry_type="article-journal",
)


@pytest.mark.parametrize("paper", [*fixture_papers(), ODD], ids=lambda p: p.key)
def test_bibtex_entry_reads_back_as_the_same_paper(paper: Paper):
    (read,) = read_back(bibtex_entry(paper), "/p/refs.bib")
    same_paper(read, paper)


@pytest.mark.parametrize("paper", [*fixture_papers(), ODD], ids=lambda p: p.key)
@pytest.mark.parametrize("name", ["/p/refs.json", "/p/refs.yaml"])
def test_csl_item_reads_back_as_the_same_paper(paper: Paper, name: str):
    fmt = entry_format(Path(name))
    inserted = applied("", csl_json_insertion("", csl_item(paper)) if fmt == "csl-json"
                       else csl_yaml_insertion("", csl_item(paper)))
    (read,) = read_back(inserted, name)
    same_paper(read, paper)


def test_bibtex_entry_text():
    roberta = read_file(PROJECTS / "notes/extra.yaml").papers[0]
    assert bibtex_entry(roberta) == (
        "@article{liu2019roberta,\n"
        "  author = {Liu, Yinhan and Ott, Myle and Goyal, Naman},\n"
        "  title = {{RoBERTa}: A Robustly Optimized {BERT} Pretraining Approach},\n"
        "  year = {2019},\n"
        "  eprint = {1907.11692},\n"
        "  archiveprefix = {arXiv},\n"
        "  url = {https://arxiv.org/abs/1907.11692},\n"
        "}")
    assert bibtex_entry(ODD).split("\n")[1:3] == [
        "  author = {van der Berg, Anna and King, Jr., Martin Luther and {World Health Organization} and "
        "{Smith and Sons, Ltd.} and García Márquez, Gabriel},",
        r"  title = {Q\&A at 50\% for \$5: the \{braces\} of x\_1 \textasciitilde{} y with "
        r"back\textbackslash{}slash and {RoBERTa}-like {GPT}-4o},"]


def test_a_caret_is_text_not_math():
    """(The reader reads \\textasciicircum as the modifier letter ˆ, so it is no round trip case.)"""
    assert tex_escape("x^2") == r"x\textasciicircum{}2"


def test_a_key_bibtex_cannot_hold_is_refused():
    with pytest.raises(CannotWrite, match="cannot be a BibTeX key"):
        bibtex_entry(Paper(key="has space", title="T"))


# --- BibTeX targets ---------------------------------------------------------------------------

ENTRY = "@misc{a,\n  title = {A},\n}"


@pytest.mark.parametrize("text, inserted", [
    ("", ENTRY + "\n"),
    ("% refs\n", "\n" + ENTRY + "\n"),
    ("@misc{b, title={B}}", "\n\n" + ENTRY + "\n"),
    ("@misc{b, title={B}}\n\n", ENTRY + "\n"),
    ("@misc{b, title={B}}\r\n", ("\n" + ENTRY + "\n").replace("\n", "\r\n")),
])
def test_bibtex_insertion_appends_after_a_blank_line(text: str, inserted: str):
    assert bibtex_insertion(text, ENTRY) == Insertion(len(text), inserted)


def test_original_bibtex_entry_with_the_string_macros_the_target_lacks():
    source = GLOBAL.read_text(encoding="utf-8")
    papers = {p.key: p for p in read_file(GLOBAL).papers}
    gan = papers["goodfellow2014generative"]
    assert macros_used(gan.raw) == {"nips"}
    assert macros_used('@misc{a, booktitle = nips # " 2014" # {x}, month = jan, year = 2014}') == {"nips"}
    classics = (PROJECTS / "thesis/refs/classics.bib").read_text(encoding="utf-8")
    insertion = entry_insertion(gan, classics, "bibtex", lambda: source)
    nips = "@string{nips = {Advances in Neural Information Processing Systems}}"
    assert insertion == Insertion(len(classics), "\n" + nips + "\n\n" + gan.raw + "\n")
    assert string_definitions(source)["nips"] == nips
    added = read_back(applied(classics, insertion), "/p/classics.bib")[-1]
    assert added.venue == "Advances in Neural Information Processing Systems"
    # a target defining the macro gets the entry alone; an entry without macros is copied as is
    ml = (PROJECTS / "thesis/refs/ml.bib").read_text(encoding="utf-8")
    assert entry_insertion(gan, ml, "bibtex", lambda: source).text == "\n" + gan.raw + "\n"
    lstm = papers["hochreiter1997long"]
    assert entry_insertion(lstm, ml, "bibtex", lambda: source).text == "\n" + lstm.raw + "\n"


def test_entries_that_cannot_stand_alone_are_rendered():
    text = ("@proceedings{conf, title = {Proc. of Things}, year = 2001}\n"
            "@inproceedings{child, title = {A Child}, author = {Kid, Kim}, crossref = {conf}}\n"
            "@misc{macro, title = {Macro}, howpublished = undefinedmacro}\n")
    papers = {p.key: p for p in parse_text(text, "/lib/lib.bib").papers}
    child = entry_insertion(papers["child"], "", "bibtex", lambda: text).text
    assert "crossref" not in child and "booktitle = {Proc. of Things}" in child and "year = {2001}" in child
    assert entry_insertion(papers["macro"], "", "bibtex", lambda: text).text == bibtex_entry(papers["macro"]) + "\n"


# --- CSL targets ------------------------------------------------------------------------------


def test_csl_json_insertion_keeps_the_file_indentation():
    references = (PROJECTS / "notes/references.json").read_text(encoding="utf-8")
    lecun = {p.key: p for p in read_file(GLOBAL).papers}["lecun2015deep"]
    insertion = entry_insertion(lecun, references, "csl-json")
    assert insertion.offset == references.rindex("}") + 1
    assert insertion.text.startswith(',\n  {\n    "id": "lecun2015deep",\n    "type": "article-journal",\n'
                                     '    "title": "Deep learning",\n    "author": [\n      {\n'
                                     '        "family": "LeCun",\n')
    assert insertion.text.endswith('\n    "abstract": "' + lecun.abstract + '"\n  }')
    assert json.loads(applied(references, insertion))[-1] == csl_item(lecun)


@pytest.mark.parametrize("text, expected", [
    ('[{"id": "a"}]', '[{"id": "a"}, {"id": "n", "type": "article"}]'),
    ("[]", '[\n  {\n    "id": "n",\n    "type": "article"\n  }\n]'),
    ("[\n]\n", '[\n  {\n    "id": "n",\n    "type": "article"\n  }\n]\n'),
    ("", '[\n  {\n    "id": "n",\n    "type": "article"\n  }\n]\n'),
    ('{"items": [\n\t{\n\t\t"id": "a"\n\t}\n]}', '{"items": [\n\t{\n\t\t"id": "a"\n\t},\n\t{\n\t\t"id": "n",\n\t\t"type": "article"\n\t}\n]}'),
    ('[\r\n  {"id": "a"}\r\n]', '[\r\n  {"id": "a"},\r\n  {\r\n    "id": "n",\r\n    "type": "article"\r\n  }\r\n]'),
])
def test_csl_json_insertion_shapes(text: str, expected: str):
    assert applied(text, csl_json_insertion(text, {"id": "n", "type": "article"})) == expected


@pytest.mark.parametrize("text, message", [
    ('[{"id": "a"},]', "not valid CSL-JSON"),
    ('{"title": "no list"}', "not valid CSL-JSON"),
])
def test_csl_json_insertion_refuses_broken_files(text: str, message: str):
    with pytest.raises(CannotWrite, match=message):
        csl_json_insertion(text, {"id": "n"})


def test_csl_yaml_insertion_after_the_last_item():
    extra = (PROJECTS / "notes/extra.yaml").read_text(encoding="utf-8")
    lecun = {p.key: p for p in read_file(GLOBAL).papers}["lecun2015deep"]
    insertion = entry_insertion(lecun, extra, "csl-yaml")
    assert insertion.offset == len(extra.rstrip())
    assert insertion.text.startswith("\n- id: lecun2015deep\n  type: article-journal\n  title: Deep learning\n"
                                     "  author:\n  - family: LeCun\n    given: Yann\n")
    assert "\n  issued:\n    date-parts:\n    - [2015]\n  container-title: Nature\n" in insertion.text
    papers = read_back(applied(extra, insertion), "/p/extra.yaml")
    assert [p.key for p in papers] == ["liu2019roberta", "lecun2015deep"]


@pytest.mark.parametrize("text, expected", [
    ("references:\n  - id: a\n    title: A\n# end\n", "references:\n  - id: a\n    title: A\n  - id: n\n    type: article\n# end\n"),
    ("- id: a\n", "- id: a\n- id: n\n  type: article\n"),
    ("---\nreferences:\n- id: a\n---\n\nBody.\n", "---\nreferences:\n- id: a\n- id: n\n  type: article\n---\n\nBody.\n"),
    ("", "references:\n- id: n\n  type: article\n"),
])
def test_csl_yaml_insertion_shapes(text: str, expected: str):
    assert applied(text, csl_yaml_insertion(text, {"id": "n", "type": "article"})) == expected


@pytest.mark.parametrize("text, message", [
    ("references: [{id: a}]\n", "flow style"),
    ("references: []\n", "no item"),
    ("references:\n- id: [\n", "not valid CSL-YAML"),
])
def test_csl_yaml_insertion_refuses_what_it_cannot_extend(text: str, message: str):
    with pytest.raises(CannotWrite, match=message):
        csl_yaml_insertion(text, {"id": "n"})


def test_csl_items_cross_between_json_and_yaml_with_every_field():
    roberta = read_file(PROJECTS / "notes/extra.yaml").papers[0]
    inserted = applied("[]", entry_insertion(roberta, "[]", "csl-json"))
    assert json.loads(inserted) == [{
        "id": "liu2019roberta", "type": "article",
        "title": "RoBERTa: A Robustly Optimized BERT Pretraining Approach",
        "author": [{"family": "Liu", "given": "Yinhan"}, {"family": "Ott", "given": "Myle"},
                   {"family": "Goyal", "given": "Naman"}],
        "issued": {"date-parts": [[2019]]}, "URL": "https://arxiv.org/abs/1907.11692"}]
    # YAML to YAML: the original item text, re-indented for the target list
    target = "references:\n  - id: a\n"
    assert applied(target, entry_insertion(roberta, target, "csl-yaml")) == \
        target.rstrip() + "\n" + "\n".join("  " + line for line in roberta.raw.split("\n")) + "\n"
    altschul = read_file(PROJECTS / "notes/references.json").papers[0]
    inserted = applied("- id: a\n", entry_insertion(altschul, "- id: a\n", "csl-yaml"))
    assert "\n  DOI: 10.1016/S0022-2836(05)80360-2\n" in inserted and "\n  volume: '215'\n" in inserted
    same_paper(read_back(inserted, "/p/x.yaml")[1], altschul)
