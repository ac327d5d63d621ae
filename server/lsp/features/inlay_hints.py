"""Inlay hints (setting `inlayHints.enabled`, off by default): the short title of the cited paper
after each key, so `\\cite{vaswani2017attention}` reads as what it cites. Keys the document's
bibliographies lack get none (their diagnostic says why)."""

from __future__ import annotations

from lsprotocol import types

from papercite.server.documents.citations import WINDOW, KeyRef, window
from papercite.server.documents.library import Scope
from papercite.server.lsp.events import INDEX_CHANGED
from papercite.server.lsp.render import author_year, shorten
from papercite.server.lsp.server import PaperciteServer

TITLE_CHARS = 30  # characters of title shown, the "…" included
MOST_KEYS = 500  # keys hinted in one request (a screenful holds a few dozen)
TITLE_CACHE = 5_000  # labels kept until the index changes


def register(server: PaperciteServer) -> None:
    server.events.subscribe(INDEX_CHANGED, lambda: refresh_inlay_hints(server))

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
    async def inlay_hint(ls: PaperciteServer, params: types.InlayHintParams) -> list[types.InlayHint] | None:
        if not ls.settings.inlay_hints.enabled:
            return None
        cursor = ls.at_position(params.text_document.uri, params.range.start)
        if cursor is None:
            return None
        end = cursor.lines.offset(params.range.end)
        refs = keys_between(cursor.text, cursor.offset, end, cursor.parser, ls.settings.citation_commands)
        scope = ls.scope(params.text_document.uri)
        sources = ls.library.visible_sources(scope)
        titles = ls.index_cache("hint titles", TITLE_CACHE)  # (key, sources seen) -> label, tooltip
        missing = {r.key for r in refs if (r.key, sources) not in titles}
        if missing:
            found = await ls.on_search_thread(hint_texts, ls, missing, scope)
            titles.keep({(key, sources): text for key, text in found.items()})
        hints = []
        for ref in refs:
            text = titles.get((ref.key, sources))
            if text is not None:
                label, tooltip = text
                hints.append(types.InlayHint(position=cursor.lines.position(ref.end), label=label,
                                             tooltip=tooltip, padding_left=True))
        return hints


def keys_between(text: str, start: int, end: int, parser, commands: list[str]) -> list[KeyRef]:
    """The citation keys within [start, end) (at most MOST_KEYS): the citations of that stretch
    only, read from a line start a little before it so that one begun above is seen whole."""
    first = window(text, start)[0]
    last = min(len(text), end + WINDOW)
    refs = []
    for citation in parser.find_citations(text[first:last], commands):
        for ref in citation.keys:
            if start <= first + ref.start and first + ref.end <= end:
                refs.append(KeyRef(ref.key, first + ref.start, first + ref.end))
                if len(refs) == MOST_KEYS:
                    return refs
    return refs


def hint_texts(ls: PaperciteServer, keys: set[str], scope: Scope) -> dict[str, tuple[str, str] | None]:
    """Each key's hint label (its paper's short title) and tooltip, None for a key the document
    does not see or a paper without a title. Runs on the search thread."""
    texts: dict[str, tuple[str, str] | None] = {}
    for key in keys:
        paper = ls.library.cited(key, scope)
        if paper is None or not paper.title.strip():
            texts[key] = None
            continue
        title = " ".join(paper.title.split())
        who = author_year(paper).strip()
        texts[key] = (shorten(title, TITLE_CHARS), f"{title} ({who})" if who else title)
    return texts


def refresh_inlay_hints(ls: PaperciteServer) -> None:
    """Papers or settings changed: ask the client to ask again for the hints it shows, if it
    can. Nothing to do while hints are off and were off."""
    enabled = ls.settings.inlay_hints.enabled
    workspace = ls.client_capabilities.workspace
    if (enabled or ls.inlay_hints_were_enabled) and workspace and workspace.inlay_hint \
            and workspace.inlay_hint.refresh_support:
        ls.workspace_inlay_hint_refresh(None)
    ls.inlay_hints_were_enabled = enabled
