"""Go to definition: from a cited key to its entry in the .bib, CSL-JSON or CSL-YAML file the
document sees it in (its own bibliographies first, then the `libraries` setting)."""

from __future__ import annotations

from lsprotocol import types

from papercite.server.lsp.locations import target_at
from papercite.server.lsp.server import PaperciteServer


def register(server: PaperciteServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: PaperciteServer, params: types.DefinitionParams
                         ) -> types.Location | list[types.LocationLink] | None:
        target = await target_at(ls, params.text_document.uri, params.position)
        if target is None or target.entry is None or target.scope is None:
            return None  # not a citation, or a key no bibliography of the document has
        entry = target.entry
        if not links_supported(ls):
            return types.Location(uri=entry.source.uri, range=entry.range)
        # the whole entry, with its key selected (or the whole entry again when its key is generated)
        return [types.LocationLink(target_uri=entry.source.uri, target_range=entry.range,
                                   target_selection_range=entry.key_range or entry.range,
                                   origin_selection_range=target.range)]


def links_supported(ls: PaperciteServer) -> bool:
    text_document = ls.client_capabilities.text_document
    return bool(text_document and text_document.definition and text_document.definition.link_support)
