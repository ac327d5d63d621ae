"""Completion of papers inside citations: the typed text is one query to the index."""

from __future__ import annotations

from pathlib import Path

import attrs
from lsprotocol import types

from papercite.index.model import Paper
from papercite.server.app import PaperciteServer
from papercite.server.render import completion_item

TRIGGERS = ["{", ",", "@", ";"]


def register(server: PaperciteServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=TRIGGERS))
    async def completion(ls: PaperciteServer, params: types.CompletionParams) -> types.CompletionList | None:
        cursor = ls.at_position(params.text_document.uri, params.position)
        if cursor is None:
            return None
        text, offset = cursor.text, cursor.offset
        context = cursor.parser.completion_context(text, offset, ls.settings.citation_commands)
        if context is None:
            return None
        scope = ls.scope(params.text_document.uri)
        settings = ls.settings
        replace = cursor.lines.range(context.start, context.end)
        typed = text[context.start:offset]

        def answer() -> list[types.CompletionItem]:
            hits = ls.library.complete(context.query, scope, settings.completion.limit)
            ITEMS.forget_if_changed(ls.library.searcher.view())
            return [ITEMS.item(hit, rank, replace, typed, settings) for rank, hit in enumerate(hits)]

        return types.CompletionList(is_incomplete=True, items=await ls.on_search_thread(answer))


class ItemCache:
    """Completion items of papers recently offered, less what each request sets (range, rank,
    filter text). Consecutive keystrokes offer mostly the same papers, and rendering one (decoding
    the record, writing its documentation) costs more than finding it."""

    SIZE = 500

    def __init__(self):
        self._items: dict[tuple, types.CompletionItem] = {}
        self._view = None

    def forget_if_changed(self, view) -> None:
        if view is not self._view:  # the index changed: papers may have too
            self._items, self._view = {}, view

    def item(self, hit, rank: int, replace: types.Range, typed: str, settings) -> types.CompletionItem:
        key = (hit.source, hit.key, settings.completion.label, settings.hover.abstract)
        item = self._items.get(key)
        if item is None:
            paper = hit.paper()
            item = completion_item(hit, paper, 0, replace, "", label=settings.completion.label,
                                   abstract_chars=settings.hover.abstract, location=location(paper))
            if len(self._items) >= self.SIZE:
                self._items.pop(next(iter(self._items)))
            self._items[key] = item
        return attrs.evolve(item, text_edit=types.TextEdit(range=replace, new_text=hit.key),
                            sort_text=f"{rank:05d}", filter_text=typed or hit.key)


ITEMS = ItemCache()


def location(paper: Paper) -> str | None:
    """`refs.bib:123`: where an entry is defined, as people read it."""
    if not paper.source:
        return None
    name = Path(paper.source).name
    return f"{name}:{paper.span.start_line + 1}" if paper.span else name
