"""Hover on a citation key: the formatted reference, or why the key is unknown."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from papercite.server.app import PaperciteServer
from papercite.server.citations import latex, markdown
from papercite.server.completion import location
from papercite.server.render import reference_markdown, unknown_key_markdown

PARSERS = {"latex": latex, "markdown": markdown}


def register(server: PaperciteServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: PaperciteServer, params: types.HoverParams) -> types.Hover | None:
        found = ls.document(params.text_document.uri)
        if found is None or found[0].syntax is None:
            return None
        state, text, lines = found
        if not lines.has_line(params.position):
            return None
        ref = PARSERS[state.syntax].key_at(text, lines.offset(params.position), ls.settings.citation_commands)
        if ref is None:
            return None
        scope = ls.scope(params.text_document.uri)
        abstract = ls.settings.hover.abstract

        def answer() -> str:
            paper, elsewhere = ls.library.lookup(ref.key, scope)
            if paper is not None:
                return reference_markdown(paper, abstract, location(paper))
            where = Path(elsewhere.source).name if elsewhere else None
            return unknown_key_markdown(ref.key, where, ls.library.closest_keys(ref.key, scope))

        value = await ls.on_search_thread(answer)
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=value),
                           range=lines.range(ref.start, ref.end))
