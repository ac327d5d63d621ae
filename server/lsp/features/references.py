"""Find references: every citation of a key in the workspace's LaTeX and Markdown documents, open
or not, from a citation or from an entry's key in an open bibliography; with the entry itself when
the client asks for the declaration."""

from __future__ import annotations

from lsprotocol import types

from papercite.server.lsp.locations import LineTables, Target, refresh_citing, target_at
from papercite.server.lsp.server import PaperciteServer


def register(server: PaperciteServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: PaperciteServer, params: types.ReferenceParams) -> list[types.Location] | None:
        target = await target_at(ls, params.text_document.uri, params.position)
        if target is None:
            return None

        def find() -> list[types.Location]:
            found = citation_locations(ls, target)
            if params.context.include_declaration and target.entry is not None:
                found.insert(0, types.Location(uri=target.entry.source.uri, range=target.entry.range))
            return found

        return await ls.on_search_thread(find)


def cited_keys_of(target: Target) -> list[str]:
    """The key pointed at, or the entry's key and its aliases (biblatex `ids`), which cite it too."""
    if target.entry is None:
        return [target.key]
    return list(dict.fromkeys([target.entry.paper.key, *target.entry.paper.ids]))


def citation_locations(ls: PaperciteServer, target: Target) -> list[types.Location]:
    """The citations of the target's keys in the workspace, by document (search thread)."""
    refresh_citing(ls, target.snap)
    lines = LineTables(target.snap)
    return [types.Location(uri=document.uri, range=lines.of(document).range(ref.start, ref.end))
            for key in cited_keys_of(target) for document, ref in ls.citing.citations_of(key)]
