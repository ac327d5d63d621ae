"""The in-process server of harness.py, over a project folder holding a small library."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import LIBRARY, InProcess


@pytest.fixture
async def lsp(tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    (root / "refs.bib").write_text(LIBRARY)
    server = InProcess(root, tmp_path / "index")
    await server.start()
    yield server
    server.server.search_thread.shutdown(wait=True)
    server.server.index_thread.shutdown(wait=True)
    server.server.library.store.close()
