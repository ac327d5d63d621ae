"""Completion of papers inside citations: the typed text is one query to the index."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from itertools import islice

from lsprotocol import types

from papercite.server.lsp.entries import EntryCommands
from papercite.server.lsp.locations import location
from papercite.server.lsp.render import completion_item
from papercite.server.lsp.server import EncodedJSON, PaperciteServer

TRIGGERS = ["{", ",", "@", ";"]
PREPARE_CHUNK = 12  # rows made per turn on the search thread (~1 ms: what a keystroke may wait for)


def register(server: PaperciteServer) -> None:
    items = ItemCache()

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
        replace = json.dumps(ls.protocol.unstructure(cursor.lines.range(context.start, context.end)),
                             separators=(",", ":"))
        typed = text[context.start:offset]

        def answer() -> EncodedJSON:
            hits = ls.library.complete(context.query, scope, settings.completion.limit)
            return items.completion_list(hits, replace, typed, settings, commands)

        result = await ls.on_search_thread(answer)
        items.prepare_soon(ls, scope.own_sources, settings)
        return result


class ItemCache:
    """Completion rows of papers, encoded as JSON, less what each request sets (range, rank, filter
    text). Making a row (decoding the record, writing its documentation) costs more than finding the
    paper (measured: README, Benchmarks), and a keystroke can bring fifty new papers. So rows are
    made ahead of typing, after a document's first completion: every paper's when the index is small
    enough to hold in memory (Library.rows_to_prepare), else those of the document's own
    bibliographies; rows of other papers are kept once made, the last SIZE of them."""

    SIZE = 1000

    def __init__(self):
        self._items: dict[tuple, str] = {}  # made for a request, least recent first
        self._prepared: dict[tuple, str] = {}  # made ahead of typing
        self._view = None  # the index view the rows were made from
        self._job: tuple | None = None  # (view, label, abstract, own sources) being or having been prepared

    def completion_list(self, hits, replace: str, typed: str, settings,
                        commands: EntryCommands | None = None) -> EncodedJSON:
        """The CompletionList (isIncomplete: typing on changes the query) as JSON text; ``replace``
        is the JSON of the range the key replaces. Papers outside the document's bibliographies
        carry the command adding them (``commands``).

        ``filterText`` is ``typed``, the text of that range up to the cursor. Clients (VS Code,
        Neovim's cmp/blink, Emacs' company/corfu) filter and re-sort items by fuzzy-matching it
        against each item's filterText (or label). A query such as "sparse lora fed" does not
        match the key "hu2022lora", so the item would be dropped or sunk; a filterText equal to
        the typed text matches every item equally, so ``sortText``, the server's rank, decides."""
        if hits and hits[0].view is not self._view:  # found on a changed index: papers may have changed too
            self._items, self._prepared, self._view, self._job = {}, {}, hits[0].view, None
        items = ",".join(
            f'{self._fixed(hit, settings)},"sortText":"{rank:05d}","filterText":{json.dumps(typed or hit.key)},'
            f'"textEdit":{{"range":{replace},"newText":{json.dumps(hit.key)}}}'
            f'{commands.member(hit.key, hit.source) if commands else ""}}}'
            for rank, hit in enumerate(hits))
        return EncodedJSON(f'{{"isIncomplete":true,"items":[{items}]}}')

    def _fixed(self, hit, settings, prepared: bool = False) -> str:
        """The row's JSON object without its per-request members and closing brace."""
        key = (hit.source, hit.key, settings.completion.label, settings.hover.abstract)
        fixed = self._prepared.get(key)
        if fixed is not None:
            return fixed
        fixed = self._items.pop(key, None)
        if fixed is None:
            paper = hit.paper()
            data = completion_item(hit, paper, label=settings.completion.label,
                                   abstract_chars=settings.hover.abstract, location=location(paper))
            fixed = json.dumps(data, separators=(",", ":"))[:-1]
        if prepared:
            self._prepared[key] = fixed
        else:  # (again) the most recent
            if len(self._items) >= self.SIZE:
                self._items.pop(next(iter(self._items)))
            self._items[key] = fixed
        return fixed

    def prepare_soon(self, ls: PaperciteServer, own: frozenset[str], settings) -> None:
        """Start making rows ahead of typing, unless they are made or being made for this index
        view, these settings and these own bibliographies."""
        job = (self._view, settings.completion.label, settings.hover.abstract, own)
        if self._view is not None and job != self._job:
            self._job = job
            asyncio.ensure_future(self._prepare(ls, own, settings, job))

    async def _prepare(self, ls: PaperciteServer, own: frozenset[str], settings, job: tuple) -> None:
        """On the search thread, PREPARE_CHUNK rows at a time; given up when the index changes
        or the settings do (the next completion starts again)."""
        started = time.perf_counter()

        def make() -> tuple[int, int]:
            """The next chunk: (papers taken, rows made); none once the job is over (a completion
            found the index changed: rows of the old papers must not join the new ones)."""
            taken = made = 0
            if self._job != job:
                return taken, made
            for hit in islice(hits, PREPARE_CHUNK):
                taken += 1
                if hit is not None:  # None: a pause while the index tables its keys
                    self._fixed(hit, settings, prepared=True)
                    made += 1
            return taken, made

        hits, everything = await ls.on_search_thread(ls.library.rows_to_prepare, job[0], own)
        made = 0
        while hits is not None and self._job == job:
            taken, count = await ls.on_search_thread(make)
            made += count
            if taken < PREPARE_CHUNK:
                break
        if self._job == job and made:
            gc.freeze()  # what was made lives as long as the index does: out of the collector's sight
            what = "every paper in the index" if everything else "the document's own bibliographies"
            ls.window_log_message(types.LogMessageParams(
                type=types.MessageType.Log,
                message=f"papercite: {made:,} completion rows prepared ({what}) in {time.perf_counter() - started:.1f} s"))
