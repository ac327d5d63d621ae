"""The core of the language server: lifecycle state, settings, and the work that keeps the index current.

It imports no feature: the modules serve lists register their handlers on the server made here
and subscribe to its events (see events). All index reads run on one search thread (Whoosh
searchers are not documented as thread-safe, and one thread means a cancelled request still
queued is simply dropped); index writes run on one indexing thread, big ones in a child process.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from papercite.index.model import ReadResult
from papercite.server.documents.citations import syntax_for
from papercite.server.documents.citations.parsers import PARSERS
from papercite.server.documents.library import IndexingStopped, IndexUnusable, Library, Scope, stop_children
from papercite.server.documents.positions import Lines
from papercite.server.documents.settings import Settings, parse_settings
from papercite.server.documents.workspace import CitingDocuments
from papercite.server.lsp.events import (
    INDEX_CHANGED,
    INDEX_REBUILT,
    SCOPE_OUTDATED,
    Events,
)
from papercite.server.lsp.stdio import (
    Frames,
    LoopReader,
    ThreadReader,
    Unframeable,
    loop_can_read,
    serve_frames,
    watch_process,
)

VERSION = "0.1.0"
SCOPE_REFRESH_SECONDS = 1.0
T = TypeVar("T")

log = logging.getLogger("papercite")


@dataclass
class OpenDocument:
    """What the server knows of an open document beyond its text."""

    path: Path
    syntax: str | None  # "latex", "markdown", or None for a bibliography
    scope: Scope | None = None
    scope_version: int | None = None
    scope_time: float = 0.0
    recheck: bool = False  # a look at the scope is scheduled for when the refresh window ends
    diagnostics: asyncio.TimerHandle | None = None  # diagnostics (a bibliography: its reading) waiting for a pause in typing
    parsed: tuple[int, ReadResult] | None = None  # a bibliography buffer read at a version: papers and problems


@dataclass
class Cursor:
    """A request's position in a citing document, with what handlers need to read it."""

    state: OpenDocument
    text: str
    lines: Lines
    offset: int
    parser: ModuleType  # papercite.server.documents.citations.latex or .markdown


class Refusal(JsonRpcException):
    """A request the server declines, with the reason for the user (a rename to a key that is
    taken, say): answered as an error that clients show, not logged as a server fault."""

    CODE = int(types.LSPErrorCodes.RequestFailed)


class EncodedJSON(str):
    """A handler's result already encoded as JSON text, sent as is. pygls converts a result with
    cattrs and then json.dumps: for a completion list of documented items, a third of a keystroke's
    budget (measured: README, Benchmarks), while the items themselves barely change from keystroke
    to keystroke."""


class Protocol(LanguageServerProtocol):
    """pygls with four changes: pre-encoded results (EncodedJSON) are sent as they are; a request
    whose params cannot be read (a position with a negative line, say), which pygls drops without
    answering so that the client waits for ever, is answered with the error; a Refusal is
    answered without the traceback pygls logs for a failed handler; and a stale didChange is
    ignored. Handlers that pre-encode their results use its converter (unstructure)."""

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        """pygls's, but an edit of a version older than the text held is ignored and logged:
        pygls would apply it, putting an old text (or an incremental edit at the wrong place)
        over the newer one."""
        edited = params.text_document
        held = self.workspace.text_documents.get(unquote(edited.uri))
        if held is not None and held.version is not None and edited.version < held.version:
            self._server.warn(f"ignored a change of {edited.uri} to version {edited.version}: "
                              f"the text held is version {held.version}, newer")
            return
        yield from super().lsp_text_document__did_change(params)

    def _send_handler_result(self, future, *, msg_id):
        if not future.cancelled() and isinstance(future.exception(), Refusal):
            self._request_futures.pop(msg_id, None)
            self._send_response(msg_id, error=future.exception().to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def unstructure(self, value):
        """An lsprotocol object as the JSON-ready data pygls would send."""
        return self._converter.unstructure(value)

    def _send_response(self, msg_id, result=None, error=None):
        if error is not None or not isinstance(result, EncodedJSON):
            return super()._send_response(msg_id, result, error)
        self._result_types.pop(msg_id, None)
        body = f'{{"jsonrpc":"{self.VERSION}","id":{json.dumps(msg_id)},"result":{result}}}'.encode()
        if self.writer is None:
            return
        header = f"Content-Length: {len(body)}\r\nContent-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
        written = self.writer.write(header.encode() + body if self._include_headers else body)
        if inspect.isawaitable(written):  # an async writer (websockets)
            asyncio.ensure_future(written)

    def structure_message(self, data):
        try:
            return super().structure_message(data)
        except JsonRpcException as err:
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(data["id"], error=err.to_response_error())
                err.answered = True
            raise


class IndexCache(dict):
    """Answers derived from the index, at most ``size`` of them (emptied when full). The one rule
    for caches: what is derived from the index lives in an IndexCache (PaperciteServer.index_cache),
    and every IndexCache is emptied when the index changes, before index-changed is said."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def keep(self, found: dict) -> None:
        if len(self) + len(found) > self.size:
            self.clear()
        self.update(found)


class PaperciteServer(LanguageServer):
    def __init__(self, index_dir: Path | None = None):
        super().__init__("papercite", VERSION, protocol_cls=Protocol)
        self.index_dir_override = index_dir
        self.settings = Settings()
        self.library: Library | None = None
        self.documents: dict[str, OpenDocument] = {}
        self.search_thread = ThreadPoolExecutor(1, thread_name_prefix="papercite-search")
        self.index_thread = ThreadPoolExecutor(1, thread_name_prefix="papercite-index")
        self.pending_messages: list[tuple[types.MessageType, str]] = []
        self.indexing: set[Path] = set()  # files queued or being indexed
        self.index_again: set[Path] = set()  # of those, files found stale again meanwhile (changed during the run?)
        self.event_loop: asyncio.AbstractEventLoop | None = None
        self.events = Events()  # what features subscribe to (see events)
        self.index_caches: dict[str, IndexCache] = {}  # by name; emptied when the index changes
        self.helpers: dict[type, object] = {}  # one instance per server of helper classes (see helper)
        self.closed_bibliographies: set[str] = set()  # URIs of unopened bibliographies with diagnostics published
        self.inlay_hints_were_enabled = False  # when hints go off, the client must drop those shown
        self.citing = CitingDocuments()  # the workspace's citing documents (search thread only)
        self.temporary: tempfile.TemporaryDirectory | None = None  # the index when the one asked for is unusable
        self.client_process: int | None = None  # the editor's process id given on the command line
        self.watched_processes: set[int] = set()

    def start_io(self, stdin=None, stdout=None) -> int:
        """pygls's start_io with papercite's framing, stdin read by the event loop where it can be
        (see stdio). The exit status: 1 when the input could not be read as messages any more."""
        stdin, stdout = stdin or sys.stdin.buffer, stdout or sys.stdout.buffer
        reader = LoopReader(stdin) if loop_can_read(stdin, stdout) else ThreadReader(stdin, self.thread_pool)
        frames = Frames(reader.read, self.decode, self.warn)
        self._stop_event = threading.Event()  # pygls's shutdown() sets it; the message loop checks it
        self.protocol.set_writer(StdoutWriter(stdout))

        async def serve() -> None:
            self.event_loop = asyncio.get_running_loop()
            if self.client_process is not None:
                self.watch_client(self.client_process)
            await serve_frames(self._stop_event, frames, self.protocol, log, self.report_server_error)

        try:
            asyncio.run(serve())
        except Unframeable as err:
            log.error("error: %s: exiting", err)
            return 1
        except BrokenPipeError:
            log.error("the client has gone: shutting down")
        except KeyboardInterrupt:
            pass
        except SystemExit as end:  # `exit` (0 after shutdown, else 1, as in pygls) or the editor gone
            return end.code if isinstance(end.code, int) else 0
        finally:
            self.shutdown()
        return 0

    def watch_client(self, pid: int) -> None:
        """End the server once the editor's process pid has gone (LSP: the processId of initialize,
        or `--clientProcessId`), as after an `exit` without `shutdown`."""
        if pid in self.watched_processes or self.event_loop is None:
            return
        self.watched_processes.add(pid)

        def gone() -> None:
            log.error("the editor (process %d) has gone: exiting", pid)
            raise SystemExit(1)

        if not watch_process(pid, lambda: self.loop_call(gone)):
            log.warning("the editor's process %d is not visible from here (another container?): not watched", pid)

    def decode(self, body: bytes):
        """A message's body as pygls reads it."""
        return json.loads(body, object_hook=self.protocol.structure_message)

    def warn(self, message: str) -> None:
        """A fault of the client's for the editor's LSP log: on stderr and as window/logMessage."""
        log.warning("%s", message)
        self.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=f"papercite: {message}"))

    def shutdown(self) -> None:
        """pygls's shutdown, after ending the indexing work: the interpreter's exit waits for the
        indexing thread, which waits for its child, which may be minutes into a first indexing."""
        self.index_thread.shutdown(wait=False, cancel_futures=True)
        stop_children()
        super().shutdown()

    def loop_call(self, function, *args) -> None:
        """Run function(*args) on the event loop thread (from a worker thread)."""
        if self.event_loop is not None:
            self.event_loop.call_soon_threadsafe(function, *args)

    # --- settings ----------------------------------------------------------------------------

    def apply_settings(self, raw, where: str) -> None:
        settings, problems = parse_settings(raw, self.settings)
        for problem in problems:
            self.tell(types.MessageType.Warning, f"{problem} (from {where})")
        index_dir = self.index_dir_override or (Path(settings.index_dir).expanduser() if settings.index_dir else None)
        if self.library is None or (settings.index_dir != self.settings.index_dir and not self.index_dir_override):
            try:
                self.library = Library(index_dir)
            except (OSError, IndexUnusable) as err:  # not papercite's folder, read-only without an index...
                reason = str(err) if isinstance(err, IndexUnusable) else f"cannot open its index at {index_dir}: {err}"
                if self.library is None:
                    self.library = Library(self.temporary_index())
                    reason += "; using a temporary index for this session"
                self.tell(types.MessageType.Error, f"papercite: {reason}")
            for notice in self.library.notices:
                self.tell(types.MessageType.Info, notice)
            if self.library.read_only:
                self.tell(types.MessageType.Warning, f"papercite: the index at {self.library.index_dir} is read-only: "
                          "searching what it holds; new or changed bibliographies are not indexed")
        self.settings = settings
        self.library.workspace_roots = self.workspace_roots()
        self.expand_libraries(where)
        for document in self.documents.values():
            document.scope = None  # libraries changed: every scope is recomputed when next asked

    def expand_libraries(self, where: str | None = None) -> None:
        """Match the `libraries` globs (again: files matching them may have come or gone)."""
        base = self.library.workspace_roots[0] if self.library.workspace_roots else None
        for error in self.library.set_libraries(self.settings.libraries, base):
            if where:
                self.tell(types.MessageType.Warning, f"papercite setting 'libraries': {error} (from {where})")

    def temporary_index(self) -> Path:
        """A private index folder for this session, deleted when the server ends: where the server
        works when the index folder asked for cannot be used (the folder itself is left alone)."""
        if self.temporary is None:
            self.temporary = tempfile.TemporaryDirectory(prefix="papercite-index-")
        return Path(self.temporary.name)

    def workspace_roots(self) -> list[Path]:
        try:
            folders = self.workspace.folders.values()
        except RuntimeError:  # no workspace before initialize
            return []
        roots = [Path(to_fs_path(f.uri)) for f in folders]
        if not roots and self.workspace.root_path:
            roots = [Path(self.workspace.root_path)]
        return [r.resolve() for r in roots]

    def report_server_error(self, error: Exception, source) -> None:
        if getattr(error, "answered", False):  # the client has the error as its request's answer
            return
        super().report_server_error(error, source)

    def tell(self, kind: types.MessageType, message: str) -> None:
        """window/showMessage, or queued until the client is ready for it."""
        if self.pending_messages is not None:
            self.pending_messages.append((kind, message))
            return
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    # --- documents ----------------------------------------------------------------------------

    def at_position(self, uri: str, position: types.Position) -> Cursor | None:
        """Where a request points in a citing document (None: not open, a bibliography, or a
        position beyond the text)."""
        state = self.documents.get(uri)
        if state is None or state.syntax is None:  # before making a line table of a big library
            return None
        state, text, lines = self.document(uri)
        if not lines.has_line(position):
            return None
        return Cursor(state, text, lines, lines.offset(position), PARSERS[state.syntax])

    def document(self, uri: str) -> tuple[OpenDocument, str, Lines] | None:
        """An open document's state, text and line table, or None if it is not open."""
        state = self.documents.get(uri)
        if state is None:
            return None
        text_document = self.workspace.get_text_document(uri)
        return state, text_document.source, Lines(text_document.source, self.workspace.position_encoding)

    def scope(self, uri: str) -> Scope:
        """The document's bibliographies, recomputed when its text changed (at most once a
        second while typing: declarations rarely change between keystrokes)."""

        state = self.documents[uri]
        text_document = self.workspace.get_text_document(uri)
        fresh = state.scope is not None and (state.scope_version == text_document.version
                                             or time.monotonic() - state.scope_time < SCOPE_REFRESH_SECONDS)
        if not fresh:
            state.scope = self.library.scope(state.path, text_document.source, state.syntax)
            state.scope_version, state.scope_time = text_document.version, time.monotonic()
            self.index_in_background(state.scope.own + self.library.global_files)
        elif state.scope_version != text_document.version and not state.recheck and self.event_loop:
            # served from before the last edits: look again once the window ends, or a declaration
            # typed in the last second would go unseen until the next edit
            state.recheck = True
            self.event_loop.call_later(SCOPE_REFRESH_SECONDS, self.recheck_scope, uri)
        return state.scope

    def recheck_scope(self, uri: str) -> None:
        state = self.documents.get(uri)
        if state is None:
            return
        state.recheck = False
        if state.scope is not None and state.scope_version != self.workspace.get_text_document(uri).version:
            self.events.emit(SCOPE_OUTDATED, uri)  # diagnostics recompute the scope, index what it names, republish

    # --- indexing -----------------------------------------------------------------------------

    def index_in_background(self, files: list[Path]) -> None:
        """Index what is stale among these files, on the indexing thread, with work-done progress."""
        if self.library.read_only:  # said once, when the index was opened
            return
        buffers = {d.path for d in self.documents.values() if d.syntax is None}  # indexed from the editor
        stale = [f for f in self.library.needs_indexing(list(dict.fromkeys(files))) if f not in buffers]
        self.index_again.update(f for f in stale if f in self.indexing)  # a run may have read it before a change
        stale = [f for f in stale if f not in self.indexing]
        if not stale:
            return
        self.indexing.update(stale)

        def work() -> None:
            progress = Progress(self, f"Indexing {len(stale)} bibliograph{'y' if len(stale) == 1 else 'ies'}")
            try:
                report = self.library.index_files(stale, progress.report)
                progress.end(f"{report.papers} papers from {len(report.indexed)} files in {report.seconds:.1f} s")
            except IndexingStopped:
                progress.end("stopped")
            except Exception as err:  # the server keeps serving what is indexed
                progress.end(f"indexing failed: {err}")
                self.loop_call(self.tell, types.MessageType.Error, f"papercite: indexing failed: {err}")
            finally:
                if self.event_loop is None:
                    self.indexing.difference_update(stale)
                else:
                    self.loop_call(self.indexed, stale)

        self.index_thread.submit(work)

    def indexed(self, files: list[Path]) -> None:
        """A run ended (on the event loop thread, like index_in_background): diagnostics, held
        back while it ran, are due; the files asked for again during it are checked again (no
        work unless they changed since it read them)."""
        self.indexing.difference_update(files)
        self.index_changed()
        again = [f for f in files if f in self.index_again]
        self.index_again.difference_update(again)
        if again:
            self.index_in_background(again)

    def index_changed(self) -> None:
        """Papers came, went or changed (or what documents see did): answers cached from the
        old index are dropped and every document's diagnostics are checked again (by the
        subscribers of index-changed)."""
        for cache in self.index_caches.values():
            cache.clear()
        self.events.emit(INDEX_CHANGED)

    def index_cache(self, name: str, size: int) -> IndexCache:
        """The server's cache of this name, made on first use (see IndexCache)."""
        cache = self.index_caches.get(name)
        if cache is None:
            cache = self.index_caches[name] = IndexCache(size)
        return cache

    def helper(self, kind: type[T]) -> T:
        """The server's one instance of a helper class (a cache of file texts, say), made on
        first use: state lives on the server, never in a module."""
        made = self.helpers.get(kind)
        if made is None:
            made = self.helpers[kind] = kind()
        return made

    async def on_search_thread(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.search_thread, self.read_index, function, *args)

    def read_index(self, function, *args):
        """function(*args) on the search thread, over an index that may be damaged under the server
        (see PaperStore.read): after a rebuild, the user is told and the lost sources are indexed again."""
        try:
            return self.library.read(function, *args)
        finally:
            rebuilt = self.library.take_lost()  # rebuilt, whether the read then answered or not
            if rebuilt is not None:
                self.loop_call(self.index_rebuilt, *rebuilt)

    def index_rebuilt(self, notice: str, sources: list[str]) -> None:
        self.tell(types.MessageType.Warning, f"papercite: {notice}")
        self.index_changed()
        self.index_in_background([Path(source) for source in sources])
        self.events.emit(INDEX_REBUILT)  # open bibliographies are indexed from their buffers


class Progress:
    """Work-done progress ($/progress) from a worker thread, if the client supports it."""

    def __init__(self, server: PaperciteServer, title: str):
        self.server, self.token = server, str(uuid.uuid4())
        capabilities = server.client_capabilities.window
        self.enabled = bool(server.event_loop and capabilities and capabilities.work_done_progress)
        if self.enabled:
            future = asyncio.run_coroutine_threadsafe(self._begin(title), server.event_loop)
            try:
                future.result(timeout=5)
            except Exception:  # the client refused or did not answer: index quietly
                self.enabled = False

    async def _begin(self, title: str) -> None:
        await self.server.work_done_progress.create_async(self.token)
        self.server.work_done_progress.begin(self.token, types.WorkDoneProgressBegin(
            title=title, percentage=0, cancellable=False))

    def report(self, done: int, total: int, source: str) -> None:
        if self.enabled:
            message = Path(source).name if source else "writing the index"
            percentage = int(100 * done / total) if total else 100
            self.server.loop_call(self.server.work_done_progress.report, self.token,
                                  types.WorkDoneProgressReport(message=message, percentage=percentage))

    def end(self, message: str) -> None:
        if self.enabled:
            self.server.loop_call(self.server.work_done_progress.end, self.token,
                                  types.WorkDoneProgressEnd(message=message))


def document_syntax(uri: str, language_id: str) -> tuple[Path, str | None]:
    path = Path(to_fs_path(uri) or uri)
    return path.resolve(), syntax_for(language_id or "", str(path))
