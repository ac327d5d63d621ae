"""The session's lifecycle: initialize, initialized, shutdown, and configuration changes."""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from papercite.index.readers import DISCOVERED_EXTENSIONS
from papercite.server.documents.library import stop_children
from papercite.server.documents.settings import SECTION
from papercite.server.lsp.server import PaperciteServer

# watched: the files a workspace walk finds as bibliographies, and Quarto projects (they declare them)
LIBRARY_GLOBS = (*(f"**/*{extension}" for extension in DISCOVERED_EXTENSIONS), "**/_quarto.yml")

log = logging.getLogger("papercite")


def register(server: PaperciteServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: PaperciteServer, params: types.InitializeParams) -> None:
        ls.event_loop = asyncio.get_running_loop()
        if params.process_id is not None:
            ls.watch_client(params.process_id)
        ls.apply_settings(params.initialization_options, "initializationOptions")

    @server.feature(types.INITIALIZED)
    async def initialized(ls: PaperciteServer, params: types.InitializedParams) -> None:
        queued, ls.pending_messages = ls.pending_messages, None
        for kind, message in queued:
            ls.tell(kind, message)
        workspace = ls.client_capabilities.workspace
        if workspace and workspace.configuration:
            await fetch_configuration(ls)
        if workspace and workspace.did_change_watched_files and workspace.did_change_watched_files.dynamic_registration:
            try:
                await ls.client_register_capability_async(types.RegistrationParams(registrations=[types.Registration(
                    id="papercite-libraries", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=types.DidChangeWatchedFilesRegistrationOptions(
                        watchers=[types.FileSystemWatcher(glob_pattern=g) for g in LIBRARY_GLOBS]))]))
            except Exception as err:  # the client said it could, then could not: saving .bib files still works
                log.warning("could not register file watchers: %s", err)
        ls.index_in_background(ls.library.global_files)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: PaperciteServer, params: None) -> None:
        stop_children()  # the writer lock is free once the client hears the answer

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: PaperciteServer, params: types.DidChangeConfigurationParams) -> None:
        if params.settings:
            ls.apply_settings(params.settings, "workspace/didChangeConfiguration")
        elif ls.client_capabilities.workspace and ls.client_capabilities.workspace.configuration:
            await fetch_configuration(ls)
        ls.index_in_background(ls.library.global_files)
        ls.index_changed()


async def fetch_configuration(ls: PaperciteServer) -> None:
    try:
        answer = await ls.workspace_configuration_async(types.ConfigurationParams(
            items=[types.ConfigurationItem(section=SECTION)]))
    except Exception as err:  # a client that advertises the capability but fails it
        log.warning("workspace/configuration failed: %s", err)
        return
    if answer and answer[0] is not None:
        ls.apply_settings(answer[0], "workspace/configuration")
