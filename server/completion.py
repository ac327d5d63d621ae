"""Completion of papers inside citations: the typed text is one query to the index."""

from __future__ import annotations

import json
from pathlib import Path

from lsprotocol import types

from papercite.index.model import Paper
from papercite.server.app import EncodedJSON, PaperciteServer
from papercite.server.entries import EntryCommands
from papercite.server.render import completion_item

TRIGGERS = ["{", ",", "@", ";"]


def register(server: PaperciteServer) -> None:
    items = ItemCache(server.protocol.unstructure)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=TRIGGERS))
    async def completion(ls: PaperciteServer, params: types.CompletionParams) -> EncodedJSON | None:
        cursor = ls.at_position(params.text_document.uri, params.position)
        if cursor is None:
            return None
        text, offset = cursor.text, cursor.offset
        context = cursor.parser.completion_context(text, offset, ls.settings.citation_commands)
        if context is None:
            return None
        scope = ls.scope(params.text_document.uri)
        commands = EntryCommands.for_document(params.text_document.uri, scope)
        settings = ls.settings
        replace = cursor.lines.range(context.start, context.end)
        typed = text[context.start:offset]

        def answer() -> EncodedJSON:
            hits = ls.library.complete(context.query, scope, settings.completion.limit)
            return items.completion_list(hits, ls.protocol.unstructure(replace), typed, settings, commands)

        return await ls.on_search_thread(answer)


class ItemCache:
    """Completion items of papers recently offered, encoded as JSON, less what each request sets
    (range, rank, filter text). Consecutive keystrokes offer mostly the same papers, and rendering
    one (decoding the record, writing its documentation) costs more than finding it."""

    SIZE = 1000
    PER_REQUEST = ("textEdit", "sortText", "filterText")

    def __init__(self, unstructure):
        self._unstructure = unstructure  # lsprotocol objects to JSON-ready data, as pygls does
        self._items: dict[tuple, str] = {}
        self._view = None

    def completion_list(self, hits, replace: dict, typed: str, settings,
                        commands: EntryCommands | None = None) -> EncodedJSON:
        """The CompletionList (isIncomplete: typing on changes the query) as JSON text. Papers
        outside the document's bibliographies carry the command adding them (``commands``)."""
        if hits and hits[0].view is not self._view:  # found on a changed index: papers may have changed too
            self._items, self._view = {}, hits[0].view
        range_json = json.dumps(replace, separators=(",", ":"))
        items = ",".join(
            f'{self._fixed(hit, settings)},"sortText":"{rank:05d}","filterText":{json.dumps(typed or hit.key)},'
            f'"textEdit":{{"range":{range_json},"newText":{json.dumps(hit.key)}}}'
            f'{commands.member(hit.key, hit.source) if commands else ""}}}'
            for rank, hit in enumerate(hits))
        return EncodedJSON(f'{{"isIncomplete":true,"items":[{items}]}}')

    def _fixed(self, hit, settings) -> str:
        """The item's JSON object without its per-request members and closing brace."""
        key = (hit.source, hit.key, settings.completion.label, settings.hover.abstract)
        fixed = self._items.get(key)
        if fixed is None:
            paper = hit.paper()
            item = completion_item(hit, paper, 0, EMPTY_RANGE, "", label=settings.completion.label,
                                   abstract_chars=settings.hover.abstract, location=location(paper))
            data = {name: value for name, value in self._unstructure(item).items()
                    if name not in self.PER_REQUEST}
            fixed = json.dumps(data, separators=(",", ":"))[:-1]
            if len(self._items) >= self.SIZE:
                self._items.pop(next(iter(self._items)))
            self._items[key] = fixed
        return fixed


EMPTY_RANGE = types.Range(types.Position(0, 0), types.Position(0, 0))


def location(paper: Paper) -> str | None:
    """`refs.bib:123`: where an entry is defined, as people read it."""
    if not paper.source:
        return None
    name = Path(paper.source).name
    return f"{name}:{paper.span.start_line + 1}" if paper.span else name
