"""Real editors driven against `papercite serve`: headless Neovim, Emacs in batch mode with eglot.

Each test copies the bundled sample library and drafts (index/sample) into a temporary workspace,
gives the server a private index directory, and starts the editor with a clean configuration plus
the snippet users copy from client-config/. An editor that is not installed skips the test with
the command that installs it; CI installs them and sets PAPERCITE_REQUIRE_EDITORS=1, which turns
those skips into failures so a broken install step cannot pass as green.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .helpers import SAMPLE


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(SAMPLE, root)
    return root


@pytest.fixture
def editor_env(tmp_path: Path) -> dict[str, str]:
    """The environment an editor runs in: the user's, with XDG folders of its own (no user config,
    no swap, shada or log files left behind)."""
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        folder = tmp_path / "xdg" / name.lower()
        folder.mkdir(parents=True)
        env[f"XDG_{name}_HOME"] = str(folder)
    env["HOME"] = str(tmp_path / "home")
    Path(env["HOME"]).mkdir()
    return env
