"""Hover on paper names in running text (`hover.prose`, on by default), on the fixture projects (the
personal library global-library.bib is the `libraries` setting): a short name ("Adam", "RoBERTa",
"Transformer-XL": a title's part before its colon) or a whole title shows the paper's citation
hover, with the name's range; a word that only starts a name ("Transformer"), a name two papers
share, and text inside a citation show nothing; the setting turns it off."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import hover, hover_until, open_document, position_at, range_of, until
from .projects import copy_projects

pytestmark = pytest.mark.settings({"libraries": ["../global-library.bib"]})

MORE_ML = """
@inproceedings{dai2019transformer,
  title = {{Transformer-XL}: Attentive Language Models beyond a Fixed-Length Context},
  author = {Dai, Zihang and Yang, Zhilin},
  year = {2019},
}

@misc{other2020bert,
  title = {{BERT}: Another Model of the Same Name},
  author = {Other, Otto},
  year = {2020},
}
"""
LINES = (
    "\n🙂 Transformer-XL remembers longer; BERT reads both ways.\n"
    "Deep Residual Learning for Image Recognition made depth practical, as did long short-term memory.\n"
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The projects, with two more papers in ml.bib: Transformer-XL, and a second "BERT:"."""
    root = copy_projects(tmp_path)
    with (root / "thesis" / "refs" / "ml.bib").open("a", encoding="utf-8") as bib:
        bib.write(MORE_ML)
    return root


def at(text: str, word: str, within: str | None = None) -> tuple[int, int]:
    """The position of the second character of `word` (inside `within` if given)."""
    start = text.index(word, text.index(within) if within else 0)
    return position_at(text, start + 1)


async def open_thesis(client: LanguageClient, workspace: Path) -> tuple[str, str, str, str]:
    """intro.tex (with LINES) and methods.tex, open once their papers hover."""
    intro_path = workspace / "thesis" / "chapters" / "intro.tex"
    intro = intro_path.read_text(encoding="utf-8") + LINES
    intro_uri = open_document(client, intro_path, intro)
    methods = (workspace / "thesis" / "chapters" / "methods.tex").read_text(encoding="utf-8")
    methods_uri = open_document(client, workspace / "thesis" / "chapters" / "methods.tex", methods)
    await hover_until(client, intro_uri, *at(intro, "he2016deep"), "Defined in ml.bib")
    return intro_uri, intro, methods_uri, methods


async def test_short_names_and_titles_in_latex_prose(client: LanguageClient, workspace: Path):
    intro_uri, intro, methods_uri, methods = await open_thesis(client, workspace)

    adam = await hover(client, methods_uri, *at(methods, "Adam"))
    assert adam.contents.value.startswith("`kingma2015adam`\n\n**Adam: A Method for Stochastic Optimization**")
    assert adam.contents.value.endswith("Defined in ml.bib:31")
    assert adam.range == range_of(methods, "Adam")

    # the name as the text writes it, after an emoji (UTF-16 columns)
    xl = await hover(client, intro_uri, *at(intro, "XL remembers"))
    assert xl.contents.value.startswith("`dai2019transformer`\n\n**Transformer-XL: Attentive Language Models")
    assert xl.range == range_of(intro, "Transformer-XL")
    assert xl.range.start.character == len("🙂 ") + 1

    # a whole title in the line, hovered anywhere in it
    title = "Deep Residual Learning for Image Recognition"
    residual = await hover(client, intro_uri, *at(intro, "Image", title))
    assert residual.contents.value.startswith("`he2016deep`\n\n**Deep Residual Learning")
    assert residual.range == range_of(intro, title)
    memory = await hover(client, intro_uri, *at(intro, "term memory"))
    assert memory.contents.value.startswith("`hochreiter1997long`\n\n**Long Short-Term Memory**")
    assert memory.contents.value.endswith("Defined in global-library.bib:19")
    assert memory.range == range_of(intro, "long short-term memory")

    # "Transformer" only starts a name; "BERT" names two papers; "see" is in a citation
    assert await hover(client, intro_uri, *at(intro, "Transformer \\citep")) is None
    assert await hover(client, intro_uri, *at(intro, "BERT reads")) is None
    assert await hover(client, intro_uri, *at(intro, "see")) is None
    assert await hover(client, intro_uri, *at(intro, "trainable")) is None


async def test_short_name_in_markdown_prose(client: LanguageClient, workspace: Path):
    """RoBERTa is the short name of a paper of extra.yaml, methods.md's second bibliography."""
    path = workspace / "notes" / "methods.md"
    text = path.read_text(encoding="utf-8")
    uri = open_document(client, path, text)
    shown = await hover_until(client, uri, *at(text, "RoBERTa"), "liu2019roberta")
    assert shown.contents.value.startswith("`liu2019roberta`\n\n**RoBERTa: A Robustly Optimized BERT Pretraining")
    assert shown.range == range_of(text, "RoBERTa")
    # the key itself still hovers as a key
    key = await hover(client, uri, *at(text, "liu2019roberta"))
    assert key.range == range_of(text, "liu2019roberta")


@pytest.mark.settings({"libraries": ["../global-library.bib"], "hover": {"prose": False}})
async def test_prose_hover_off(client: LanguageClient, workspace: Path):
    """Off from the start: names show nothing, keys still do; turned on, names show again."""
    intro_uri, intro, methods_uri, methods = await open_thesis(client, workspace)
    assert await hover(client, methods_uri, *at(methods, "Adam")) is None
    assert await hover(client, intro_uri, *at(intro, "Image")) is None
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"papercite": {"hover": {"prose": True}}}))
    shown = await until(lambda: hover(client, methods_uri, *at(methods, "Adam")), lambda h: h is not None,
                        "the prose hover once turned on")
    assert shown.range == range_of(methods, "Adam")
