"""Settings as real editors send them. Neovim encodes an empty Lua table as a JSON array, so a
user's `settings = { papercite = {} }` (or no settings at all) arrives as [] or {"papercite": []}:
that is "nothing set", not an invalid value to warn about (seen with Neovim 0.11+, which sends
didChangeConfiguration and answers workspace/configuration that way)."""

from __future__ import annotations

import pytest

from papercite.server.documents.settings import Settings, parse_settings


@pytest.mark.parametrize("raw", [[], {"papercite": []}, {"papercite": [], "texlab": {"build": {}}}])
def test_empty_lua_tables_mean_no_settings(raw):
    base = Settings(libraries=["~/refs.bib"])
    settings, problems = parse_settings(raw, base)
    assert problems == []
    assert settings == base


def test_settings_beside_an_empty_section_still_apply():
    settings, problems = parse_settings({"papercite": {"completion": {"limit": 3}}})
    assert problems == [] and settings.completion.limit == 3


def test_a_real_list_is_still_an_error():
    _, problems = parse_settings(["~/refs.bib"])
    assert problems and "must be an object" in problems[0]
