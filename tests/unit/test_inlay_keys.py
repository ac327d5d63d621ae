"""Which citation keys an inlay-hint request covers (papercite.server.lsp.features.inlay_hints.keys_between)."""

from __future__ import annotations

from papercite.server.documents.citations import latex, markdown
from papercite.server.lsp.features.inlay_hints import keys_between


def test_keys_inside_the_range_only_with_citations_begun_above_it():
    text = "x \\cite{above,\n  first,\n  second} and \\citep{third}\n\\cite{below}\n"
    start, end = text.index("  first"), text.index("\\cite{below}")
    refs = keys_between(text, start, end, latex, [])
    assert [(r.key, text[r.start:r.end]) for r in refs] == [("first", "first"), ("second", "second"),
                                                            ("third", "third")]


def test_a_key_cut_by_the_range_end_is_left_out():
    text = "See [@alpha; @beta] and @gamma.\n"
    assert [r.key for r in keys_between(text, 0, text.index("beta") + 2, markdown, [])] == ["alpha"]
    assert [r.key for r in keys_between(text, text.index("@beta"), len(text), markdown, [])] == ["beta", "gamma"]


def test_far_into_a_long_document():
    filler = "Plain prose without citations.\n" * 2000
    text = filler + "Later \\cite{late2024} and \\mycite{custom}.\n"
    refs = keys_between(text, len(filler), len(text), latex, ["mycite"])
    assert [(r.key, r.start) for r in refs] == [("late2024", text.index("late2024")), ("custom", text.index("custom"))]
