"""Completion of papers inside citations: the typed text is one query to the index."""

from __future__ import annotations

from lsprotocol import types

from papercite.index.model import Paper
from papercite.server.app import PaperciteServer
from papercite.server.citations import latex, markdown
from papercite.server.render import completion_item

PARSERS = {"latex": latex, "markdown": markdown}
TRIGGERS = ["{", ",", "@", ";"]


def register(server: PaperciteServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=TRIGGERS))
    async def completion(ls: PaperciteServer, params: types.CompletionParams) -> types.CompletionList | None:
        found = ls.document(params.text_document.uri)
        if found is None or found[0].syntax is None:
            return None
        state, text, lines = found
        if not lines.has_line(params.position):
            return None
        offset = lines.offset(params.position)
        context = PARSERS[state.syntax].completion_context(text, offset, ls.settings.citation_commands)
        if context is None:
            return None
        scope = ls.scope(params.text_document.uri)
        settings = ls.settings
        replace = lines.range(context.start, context.end)
        typed = text[context.start:offset]

        def answer() -> list[types.CompletionItem]:
            hits = ls.library.complete(context.query, scope, settings.completion.limit)
            items = []
            for rank, hit in enumerate(hits):
                paper = hit.paper()
                items.append(completion_item(hit, paper, rank, replace, typed, label=settings.completion.label,
                                             abstract_chars=settings.hover.abstract, location=location(paper)))
            return items

        return types.CompletionList(is_incomplete=True, items=await ls.on_search_thread(answer))


def location(paper: Paper) -> str | None:
    """`refs.bib:123`: where an entry is defined, as people read it."""
    if not paper.source:
        return None
    from pathlib import Path

    name = Path(paper.source).name
    return f"{name}:{paper.span.start_line + 1}" if paper.span else name
