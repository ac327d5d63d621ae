"""Where an entry's text spells its key (BibTeX `@type{KEY,`, CSL-JSON `"id": "KEY"`, CSL-YAML
`id: KEY`) and how another key is written there: what rename edits in a bibliography."""

from __future__ import annotations

import pytest

from papercite.index.model import Paper
from papercite.index.readers import key_in_raw, parse_text, rekeyed


def papers(text: str, name: str) -> dict[str, Paper]:
    result = parse_text(text, f"/lib/{name}")
    return {paper.key: paper for paper in result.papers}


def spelled(paper: Paper) -> str:
    place = key_in_raw(paper)
    assert place is not None
    return paper.raw[place[0]:place[1]]


def renamed(paper: Paper, key: str) -> str | None:
    """The entry's text with `key` written in, or None when refused."""
    found = rekeyed(paper, key)
    if found is None:
        return None
    start, end, text = found
    return paper.raw[:start] + text + paper.raw[end:]


BIB = "@article{ a😀 ,\n  title = {x}}\n\n@misc(b:c/d.e-f, title = \"y\")\n@book{g,title=nips}\n"


def test_bibtex_keys():
    found = papers(BIB, "refs.bib")
    assert [spelled(p) for p in found.values()] == ["a😀", "b:c/d.e-f", "g"]
    assert renamed(found["a😀"], "new2024") == "@article{ new2024 ,\n  title = {x}}"
    assert renamed(found["b:c/d.e-f"], "é:1/2'x") == "@misc(é:1/2'x, title = \"y\")"


@pytest.mark.parametrize("key", ["a b", "a,b", "a}", "a{", "x=y", 'a"b', "a(b", "a#b", "a%b", "a~b", "a\\b", "", " a"])
def test_bibtex_refuses_keys_it_cannot_hold(key: str):
    assert rekeyed(papers(BIB, "refs.bib")["g"], key) is None


JSON = ('[{"id": "a", "title": "😀 x"},\n {"ID": "b\\u00e9"}, {"id": 12},\n'
        ' {"citation-key": "ck", "author": [{"id": "nested"}]}, {"title": "no key"}]')


def test_csl_json_ids():
    found = papers(JSON, "refs.json")
    assert [spelled(found[k]) for k in ("a", "bé", "12", "ck")] == ["a", '"b\\u00e9"', "12", "ck"]
    (keyless,) = [paper for paper in found.values() if paper.key_generated]
    assert key_in_raw(keyless) is None and rekeyed(keyless, "x") is None  # nothing written to rename
    # inside the quotes when they hold the key as is; the whole value when it is escaped or a number
    assert renamed(found["a"], 'new "quoted"') == '{"id": "new \\"quoted\\"", "title": "😀 x"}'
    assert renamed(found["bé"], "c") == '{"ID": "c"}'
    assert renamed(found["12"], "13") == '{"id": "13"}'
    assert renamed(found["ck"], "dk") == '{"citation-key": "dk", "author": [{"id": "nested"}]}'
    assert rekeyed(found["a"], " padded") is None  # the reader strips ids: it would not read back


YAML = ("references:\n- id: a\n  title: x\n- {id: \"b\", title: y}\n- id: 'c''d'\n- id: 2019\n"
        "  author: [{id: zz}]\n- id: |\n    folded\n")


def test_csl_yaml_ids():
    found = papers(YAML, "refs.yaml")
    assert [spelled(found[k]) for k in ("a", "b", "c'd", "2019")] == ["a", "b", "'c''d'", "2019"]
    assert renamed(found["a"], "new") == "- id: new\n  title: x"
    # a key YAML would read otherwise is quoted; a quoted key keeps its quotes
    assert renamed(found["a"], "new: key") == '- id: "new: key"\n  title: x'
    assert renamed(found["a"], "[x]") == '- id: "[x]"\n  title: x'
    assert renamed(found["b"], "n\"ew") == '- {id: "n\\"ew", title: y}'
    assert renamed(found["c'd"], "e") == '- id: "e"'  # the doubled quote made the written text differ
    assert renamed(found["2019"], "2020") == "- id: 2020\n  author: [{id: zz}]"
    assert renamed(found["folded"], "plain") == "- id: plain"  # the block scalar's text replaced


def test_indented_yaml_list_and_crlf():
    text = "references:\r\n  - id: a\r\n    title: x\r\n  - id: b\r\n"
    found = papers(text, "refs.yml")
    assert found["a"].raw == "  - id: a\r\n    title: x"
    assert renamed(found["a"], "z") == "  - id: z\r\n    title: x"
