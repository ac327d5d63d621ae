"""Hover on a citation key: the formatted reference, or why the key is unknown."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from papercite.server.app import PaperciteServer
from papercite.server.completion import location
from papercite.server.render import reference_markdown, unknown_key_markdown



def register(server: PaperciteServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: PaperciteServer, params: types.HoverParams) -> types.Hover | None:
        cursor = ls.at_position(params.text_document.uri, params.position)
        if cursor is None:
            return None
        ref = cursor.parser.key_at(cursor.text, cursor.offset, ls.settings.citation_commands)
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
                           range=cursor.lines.range(ref.start, ref.end))
