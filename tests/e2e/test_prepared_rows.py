"""After a document's first completion the server makes every paper's completion row in the
background (the index is small enough to hold): rows made ahead must be the rows it would make on
demand, and an edited bibliography must never be answered with rows of the old entries."""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from .helpers import change_document, complete, complete_until, open_document, position_of, until

PREPARED = re.compile(r"papercite: (\d+) completion rows prepared \(every paper in the index\)")


async def prepared(client: LanguageClient, times: int = 1) -> None:
    """Wait until the server has logged, ``times`` times, that it made the rows of the 40 papers of
    library.bib (what the draft declares, so all the index holds)."""
    async def found():
        return [int(m.group(1)) for log in client.log_messages if (m := PREPARED.search(log.message))]
    await until(found, lambda counts: counts.count(40) >= times, f"{times} 'rows prepared' log messages for 40 papers")


def rows(result: types.CompletionList) -> list[tuple]:
    return [(i.label, i.label_details, i.detail, i.documentation, i.sort_text, i.filter_text, i.text_edit, i.command)
            for i in result.items]


async def test_rows_made_ahead_are_the_rows_made_on_demand(client: LanguageClient, workspace: Path):
    draft = workspace / "draft.tex"
    text = draft.read_text(encoding="utf-8").replace("\\begin{document}\n", "\\begin{document}\n\\cite{learn\n", 1)
    uri = open_document(client, draft, text)
    query = position_of(text, "\\cite{learn")
    on_demand = await complete_until(client, uri, *query, "he2016deep")  # the first answer: made on demand
    await prepared(client)
    ahead = await complete(client, uri, *query)
    assert rows(ahead) == rows(on_demand)
    assert len(ahead.items) > 5


async def test_an_edited_entry_is_never_shown_as_it_was(client: LanguageClient, workspace: Path):
    bib = workspace / "library.bib"
    bib_text = bib.read_text(encoding="utf-8")
    bib_uri = open_document(client, bib, language_id="bibtex")
    draft = workspace / "draft.tex"
    text = draft.read_text(encoding="utf-8").replace("\\begin{document}\n", "\\begin{document}\n\\cite{vaswani\n", 1)
    uri = open_document(client, draft, text)
    query = position_of(text, "\\cite{vaswani")
    await complete_until(client, uri, *query, "vaswani2017attention")
    await prepared(client)

    change_document(client, bib_uri, bib_text.replace("{Attention Is All You Need}", "{Attention Was All We Had}"), 2)

    def renamed(result: types.CompletionList | None) -> bool:
        item = next((i for i in result.items if i.label == "vaswani2017attention"), None) if result else None
        return item is not None and item.detail == "Attention Was All We Had"

    result = await until(lambda: complete(client, uri, *query), renamed, "the edited title")
    item = next(i for i in result.items if i.label == "vaswani2017attention")
    assert "**Attention Was All We Had**" in item.documentation.value
    assert "Attention Is All You Need" not in item.documentation.value
    await prepared(client, times=2)  # made again, from the edited index
    after = await complete(client, uri, *query)
    item = next(i for i in after.items if i.label == "vaswani2017attention")
    assert item.detail == "Attention Was All We Had" and "**Attention Was All We Had**" in item.documentation.value
