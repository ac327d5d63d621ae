"""Feature tests without a subprocess: the server's objects built in this process (its registered
handlers called directly, pygls' workspace set as initialize would), a document with a cursor marker
(`|`) opened in it, and a small library indexed first. The e2e suite stays for the protocol and
editors; these check what a feature answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.workspace import Workspace

from papercite.server.lsp.serve import create_server

LIBRARY = """@article{vaswani2017attention,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam},
  year = {2017},
}

@inproceedings{devlin2019bert,
  title = {BERT: Pre-training of Deep Bidirectional Transformers},
  author = {Devlin, Jacob},
  year = {2019},
}
"""
CURSOR = "|"


class InProcess:
    """A server over a workspace folder, driven by calling its registered handlers."""

    def __init__(self, root: Path, index: Path):
        self.root = root
        self.server = create_server(index)
        self.published: dict[str, list[types.Diagnostic]] = {}
        self.server.text_document_publish_diagnostics = lambda p: self.published.__setitem__(p.uri, p.diagnostics)
        self.server.protocol._workspace = Workspace(root.as_uri(), types.TextDocumentSyncKind.Incremental, [],
                                                    types.PositionEncodingKind.Utf16)
        self.server.protocol.client_capabilities = types.ClientCapabilities()

    def handler(self, method: str):
        return self.server.protocol.fm.features[method]

    async def start(self) -> None:
        self.handler(types.INITIALIZE)(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                              root_uri=self.root.as_uri()))
        self.server.library.update(sorted(self.root.glob("*.bib")))

    def open(self, name: str, marked: str, language: str = "latex") -> tuple[str, types.Position]:
        """Opens the text with its cursor marker removed; returns its URI and the marker's position."""
        offset = marked.index(CURSOR)
        text = marked.replace(CURSOR, "", 1)
        before = text[:offset]
        position = types.Position(line=before.count("\n"), character=len(before) - (before.rfind("\n") + 1))
        path = self.root / name
        path.write_text(text)
        uri = path.as_uri()
        item = types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        self.server.workspace.put_text_document(item)
        self.handler(types.TEXT_DOCUMENT_DID_OPEN)(types.DidOpenTextDocumentParams(text_document=item))
        return uri, position

    async def ask(self, method: str, params):
        answer = self.handler(method)(params)
        return await answer if asyncio.iscoroutine(answer) else answer

    async def diagnostics(self, uri: str, timeout: float = 10.0) -> list[types.Diagnostic]:
        for _ in range(int(timeout / 0.05)):
            if uri in self.published:
                return self.published[uri]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no diagnostics published for {uri}")
