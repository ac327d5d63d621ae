"""Document sync: keeping scopes and bibliographies current, and diagnostics: undefined keys in
citing documents, syntax errors, duplicate keys and keyless entries in bibliographies.

An open bibliography (.bib, CSL) is re-indexed from its buffer as it is edited, so a new entry
completes before it is saved; closing it re-reads the file on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from papercite.index.model import Problem, ReadResult
from papercite.index.readers import is_library, parse_text
from papercite.server.documents.bibliographies import looks_like_bibliography, read_text
from papercite.server.documents.positions import Lines
from papercite.server.lsp.events import INDEX_CHANGED, INDEX_REBUILT, SCOPE_OUTDATED
from papercite.server.lsp.server import (
    PARSERS,
    OpenDocument,
    PaperciteServer,
    document_syntax,
)
from papercite.server.lsp.unused import unused_entry_check

DIAGNOSTICS_DELAY = 0.3  # seconds of quiet typing before a document's citations are checked


def register(server: PaperciteServer) -> None:
    server.events.subscribe(SCOPE_OUTDATED, lambda uri: publish_diagnostics(server, uri))
    server.events.subscribe(INDEX_CHANGED, lambda: publish_everywhere(server))
    server.events.subscribe(INDEX_REBUILT, lambda: reindex_buffers(server))

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
        if state is not None and state.syntax is not None:
            republish_unused_entries(ls)  # its file on disk cites what it cites now
        publish_closed_bibliographies(ls)  # a closed bibliography's problems, as its file has them

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
    checking every citation never queues ahead of the completion requests on the search thread;
    a bibliography is read and indexed after the pause too, and its diagnostics follow."""
    state = ls.documents[uri]
    if state.syntax is None and not is_library(state.path):
        return
    if state.syntax is not None:
        ls.scope(uri)
    if state.diagnostics is not None:
        state.diagnostics.cancel()
        state.diagnostics = None
    check = publish_diagnostics if state.syntax is not None else reindex_buffer
    if typing and ls.event_loop is not None:
        state.diagnostics = ls.event_loop.call_later(DIAGNOSTICS_DELAY, check, ls, uri)
    else:
        check(ls, uri)
        if state.syntax is not None:
            republish_unused_entries(ls)  # opened or saved: what it cites may have changed


def publish_everywhere(ls: PaperciteServer) -> None:
    """The index changed: every open document's diagnostics, and the closed bibliographies'."""
    for uri in list(ls.documents):
        publish_diagnostics(ls, uri)
    publish_closed_bibliographies(ls)


def reindex_buffers(ls: PaperciteServer) -> None:
    """The index was rebuilt: an open bibliography is indexed from its buffer."""
    for uri, state in list(ls.documents.items()):
        if state.syntax is None:
            reindex_buffer(ls, uri)


def reindex_buffer(ls: PaperciteServer, uri: str) -> None:
    """Read the buffer's current text, publish its diagnostics, then index it. Reading runs beside
    the indexing thread, not behind it: indexing a big library takes seconds, and the diagnostics
    and the outline need only the reading. Edits arriving faster coalesce to the last."""
    state = ls.documents[uri]
    text_document = ls.workspace.get_text_document(uri)
    text, version = text_document.source, text_document.version

    def current() -> bool:  # False once a newer edit is queued behind us, or the buffer closed
        return ls.documents.get(uri) is state and ls.workspace.get_text_document(uri).version == version

    def read() -> None:
        if current():
            read_buffer(state, text, version)
            ls.loop_call(publish_diagnostics, ls, uri)
            ls.index_thread.submit(index)

    def index() -> None:
        if current():
            ls.library.index_buffer(state.path, read_buffer(state, text, version))
            ls.loop_call(ls.index_changed)

    if ls.event_loop is None:
        read()
    else:
        ls.event_loop.run_in_executor(None, read)


def read_buffer(state: OpenDocument, text: str, version: int) -> ReadResult:
    """A bibliography buffer's papers and problems at this version, read once for indexing,
    diagnostics and symbols (an older version read late does not replace a newer one)."""
    parsed = state.parsed
    if parsed is None or parsed[0] != version:
        parsed = (version, parse_text(text, str(state.path)))
        if state.parsed is None or state.parsed[0] < version:
            state.parsed = parsed
    return parsed[1]


def is_bibliography(ls: PaperciteServer, state: OpenDocument, text: str) -> bool:
    """Whether an open non-citing document is a bibliography: a .bib file, a JSON/YAML file that
    reads as CSL, or one a document or the `libraries` setting names (a package.json, opened in an
    editor that sends every JSON file, is none of papercite's business)."""
    return is_library(state.path) and (
        looks_like_bibliography(state.path, text) or state.path in ls.library.global_files
        or any(d.scope is not None and state.path in d.scope.own for d in ls.documents.values()))


def publish_diagnostics(ls: PaperciteServer, uri: str) -> None:
    """Diagnostics of an open document, computed on the search thread and published unless the
    text changed meanwhile: a citing document's undefined keys and missing bibliographies, or a
    bibliography's problems."""
    found = ls.document(uri)
    if found is None:
        return
    state, text, lines = found
    version = ls.workspace.get_text_document(uri).version
    if state.syntax is None:
        check = bibliography_diagnostics(ls, uri, state, text, lines, version)
    else:
        check = citation_diagnostics(ls, uri, state, text, lines)
    if check is None:
        return

    def publish(future) -> None:
        if future.exception() is None and ls.workspace.get_text_document(uri).version == version:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, version=version, diagnostics=future.result()))

    ls.search_thread.submit(ls.read_index, check).add_done_callback(
        lambda future: ls.loop_call(publish, future))


def citation_diagnostics(ls: PaperciteServer, uri: str, state: OpenDocument, text: str,
                         lines: Lines) -> Callable[[], list[types.Diagnostic]]:
    """Warnings for cited keys that are in none of the document's bibliographies, and for
    declared bibliographies that do not exist."""
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
        # a declaration being typed names a missing file for a moment: a warning, not an error
        diagnostics += [problem_diagnostic(problem, lines, uri, types.DiagnosticSeverity.Warning)
                        for problem in scope.problems if Path(problem.source) == state.path]
        return diagnostics

    return check


def bibliography_diagnostics(ls: PaperciteServer, uri: str, state: OpenDocument, text: str, lines: Lines,
                             version: int) -> Callable[[], list[types.Diagnostic]] | None:
    """A bibliography's problems as its buffer reads now: syntax errors, duplicate keys, entries
    without a key, encoding. None until indexing has read this version (it publishes then).
    Every kind of diagnostic on a bibliography is one list added in check()."""
    if state.parsed is None or state.parsed[0] != version or not is_bibliography(ls, state, text):
        return None
    problems = state.parsed[1].problems
    unused = unused_entry_check(ls, state.parsed[1].papers, lines)

    def check() -> list[types.Diagnostic]:
        return [problem_diagnostic(problem, lines, uri) for problem in problems] + unused()

    return check


def republish_unused_entries(ls: PaperciteServer) -> None:
    """What documents cite may have changed (one was opened, saved or closed): the open
    bibliographies' diagnostics again."""
    if ls.settings.diagnostics.unused_entries:
        for uri, state in list(ls.documents.items()):
            if state.syntax is None:
                publish_diagnostics(ls, uri)


def publish_closed_bibliographies(ls: PaperciteServer) -> None:
    """The problems of bibliographies open documents declare but the editor has not opened, as
    indexing found them in their files: a duplicate key in refs.bib shows while writing the
    chapter that cites it. Open bibliographies are checked from their buffers instead; global
    libraries are left out (a shared library's problems are not the project's)."""
    open_paths = {state.path for state in ls.documents.values()}
    wanted = {path for state in ls.documents.values() if state.syntax is not None and state.scope is not None
              for path in state.scope.own if path not in open_paths}
    encoding = ls.workspace.position_encoding

    def check() -> dict[str, list[types.Diagnostic]]:
        indexing_problems = ls.library.indexing_problems()
        found: dict[str, list[types.Diagnostic]] = {}
        for path in wanted:
            uri = from_fs_path(str(path)) or path.as_uri()
            problems = indexing_problems.get(str(path))
            found[uri] = []
            if problems:
                text = read_text(path)
                if text is None:
                    continue  # gone since indexing: the next run reports it
                lines = Lines(text, encoding)
                found[uri] = [problem_diagnostic(problem, lines, uri) for problem in problems]
        return found

    def publish(future) -> None:
        if future.exception() is not None:
            return
        found = future.result()
        for uri in ls.closed_bibliographies - set(found):
            found[uri] = []  # no open document declares it any more
        for uri, diagnostics in found.items():
            if uri not in ls.documents and (diagnostics or uri in ls.closed_bibliographies):
                ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))
        ls.closed_bibliographies = {uri for uri, diagnostics in found.items() if diagnostics} - set(ls.documents)

    ls.search_thread.submit(ls.read_index, check).add_done_callback(lambda future: ls.loop_call(publish, future))


SEVERITIES = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
              "information": types.DiagnosticSeverity.Information}


def problem_diagnostic(problem: Problem, lines: Lines, uri: str,
                       severity: types.DiagnosticSeverity | None = None) -> types.Diagnostic:
    """A reader's or a declaration's problem as a diagnostic of the document it is in."""
    start = lines.offset_at(problem.line, problem.column)
    end = start if problem.end_line is None else lines.offset_at(problem.end_line, problem.end_column or 0)
    related = problem.related and [types.DiagnosticRelatedInformation(
        location=types.Location(uri=uri, range=lines.span_range(problem.related.span)),
        message=problem.related.message)]
    return types.Diagnostic(range=lines.range(start, end), severity=severity or SEVERITIES[problem.severity],
                            source="papercite", code=problem.code or None, message=problem.message,
                            related_information=related or None)
