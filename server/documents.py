"""Document sync: keeping scopes and bibliographies current, and undefined-key diagnostics.

An open bibliography (.bib, CSL) is re-indexed from its buffer as it is edited, so a new entry
completes before it is saved; closing it re-reads the file on disk.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from papercite.index.readers import is_library
from papercite.server.app import PARSERS, OpenDocument, PaperciteServer, document_syntax

DIAGNOSTICS_DELAY = 0.3  # seconds of quiet typing before a document's citations are checked


def register(server: PaperciteServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PaperciteServer, params: types.DidOpenTextDocumentParams) -> None:
        path, syntax = document_syntax(params.text_document.uri, params.text_document.language_id)
        ls.documents[params.text_document.uri] = OpenDocument(path=path, syntax=syntax)
        changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PaperciteServer, params: types.DidChangeTextDocumentParams) -> None:
        if params.text_document.uri in ls.documents:
            changed(ls, params.text_document.uri, typing=True)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PaperciteServer, params: types.DidSaveTextDocumentParams) -> None:
        if params.text_document.uri in ls.documents:
            changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PaperciteServer, params: types.DidCloseTextDocumentParams) -> None:
        state = ls.documents.pop(params.text_document.uri, None)
        if state is not None and state.diagnostics is not None:
            state.diagnostics.cancel()
        if state is not None and state.syntax is None and is_library(state.path):
            ls.index_in_background([state.path])  # the buffer may have been discarded
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                            diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: PaperciteServer, params: types.DidChangeWatchedFilesParams) -> None:
        open_paths = {d.path for d in ls.documents.values()}
        files = [Path(to_fs_path(c.uri)).resolve() for c in params.changes]
        on_disk = [f for f in files if is_library(f) and f not in open_paths]
        if on_disk:
            ls.index_in_background(on_disk)
        ls.library.forget_workspace_scans()
        ls.expand_libraries()  # a `libraries` glob may match new files, or fewer
        ls.index_in_background(ls.library.global_files)
        for state in ls.documents.values():
            state.scope = None  # a _quarto.yml or a new bibliography may change what documents see
        ls.index_changed()


def changed(ls: PaperciteServer, uri: str, typing: bool = False) -> None:
    """React to new text. While typing, diagnostics wait for a pause (DIAGNOSTICS_DELAY), so
    checking every citation never queues ahead of the completion requests on the search thread."""
    state = ls.documents[uri]
    if state.syntax is None:
        if is_library(state.path):
            reindex_buffer(ls, uri)
        return
    ls.scope(uri)
    if state.diagnostics is not None:
        state.diagnostics.cancel()
        state.diagnostics = None
    if typing and ls.event_loop is not None:
        state.diagnostics = ls.event_loop.call_later(DIAGNOSTICS_DELAY, publish_diagnostics, ls, uri)
    else:
        publish_diagnostics(ls, uri)


def reindex_buffer(ls: PaperciteServer, uri: str) -> None:
    """Index the buffer's current text; edits arriving faster than indexing coalesce to the last."""
    state = ls.documents[uri]
    version = ls.workspace.get_text_document(uri).version

    def work() -> None:
        current = ls.workspace.get_text_document(uri)
        if current.version != version or uri not in ls.documents:
            return  # a newer edit is queued behind us
        ls.library.index_text(state.path, current.source)
        ls.loop_call(ls.index_changed)

    ls.index_thread.submit(work)


def publish_diagnostics(ls: PaperciteServer, uri: str) -> None:
    """Warnings for cited keys that are in none of the document's bibliographies, and for
    declared bibliographies that do not exist. Runs on the search thread."""
    found = ls.document(uri)
    if found is None or found[0].syntax is None:
        return
    state, text, lines = found
    version = ls.workspace.get_text_document(uri).version
    scope = ls.scope(uri)
    parser = PARSERS[state.syntax]
    # While the document's bibliographies are still being indexed, a missing key may just not be
    # indexed yet: say nothing about keys until indexing ends (it refreshes every document).
    indexing = any(f in ls.indexing for f in [*scope.own, *ls.library.global_files])

    def check() -> list[types.Diagnostic]:
        citations = [] if indexing else parser.find_citations(text, ls.settings.citation_commands)
        diagnostics = [types.Diagnostic(
            range=lines.range(ref.start, ref.end), severity=types.DiagnosticSeverity.Warning,
            source="papercite", code="undefined-key", data={"key": ref.key},
            message=f"'{ref.key}' is not in this document's bibliographies")
            for ref in ls.library.undefined(citations, scope)]
        for problem in scope.problems:
            if Path(problem.source) == state.path:
                start = lines.offset(types.Position(line=problem.line, character=problem.column))
                diagnostics.append(types.Diagnostic(
                    range=lines.range(start, start), severity=types.DiagnosticSeverity.Warning,
                    source="papercite", message=problem.message))
        return diagnostics

    def publish(future) -> None:
        if future.exception() is None and ls.workspace.get_text_document(uri).version == version:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, version=version, diagnostics=future.result()))

    ls.search_thread.submit(check).add_done_callback(
        lambda future: ls.loop_call(publish, future))
