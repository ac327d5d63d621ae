"""Hover on a citation key: the formatted reference, or why the key is unknown; on a paper's name
in prose (prose.py), that paper's reference."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from papercite.server.documents.library import Scope
from papercite.server.lsp.locations import location
from papercite.server.lsp.prose import paper_named_at
from papercite.server.lsp.render import reference_markdown, unknown_key_markdown
from papercite.server.lsp.server import PaperciteServer

HOVER_CACHE = 1_000  # hover texts kept until the index changes


def register(server: PaperciteServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: PaperciteServer, params: types.HoverParams) -> types.Hover | None:
        cursor = ls.at_position(params.text_document.uri, params.position)
        if cursor is None:
            return None
        ref = cursor.parser.key_at(cursor.text, cursor.offset, ls.settings.citation_commands)
        if ref is None and not ls.settings.hover.prose:
            return None
        scope = ls.scope(params.text_document.uri)
        if ref is not None:
            key, where = ref.key, cursor.lines.range(ref.start, ref.end)
        elif (named := await paper_named_at(ls, cursor, scope)) is not None:
            key, where = named
        else:
            return None
        value = await cached_hover_text(ls, key, scope, ls.settings.hover.abstract)
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=value), range=where)


async def cached_hover_text(ls: PaperciteServer, key: str, scope: Scope, abstract: int) -> str:
    """hover_text, kept until the index changes: people hover the same keys again and again."""
    cache_key = (key, ls.library.visible_sources(scope), abstract)
    texts = ls.index_cache("hover texts", HOVER_CACHE)  # (key, sources seen, abstract) -> hover Markdown
    value = texts.get(cache_key)
    if value is None:
        value = await ls.on_search_thread(hover_text, ls, key, scope, abstract)
        texts.keep({cache_key: value})
    return value


def hover_text(ls: PaperciteServer, key: str, scope: Scope, abstract: int) -> str:
    """The hover Markdown of a key (runs on the search thread)."""
    paper, elsewhere = ls.library.lookup(key, scope)
    if paper is not None:
        return reference_markdown(paper, abstract, location(paper))
    where = Path(elsewhere.source).name if elsewhere else None
    return unknown_key_markdown(key, where, ls.library.closest_keys(key, scope))
