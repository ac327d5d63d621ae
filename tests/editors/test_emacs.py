"""Emacs in batch mode with eglot against `papercite serve`, configured by client-config/emacs/papercite.el.

eglot_driver.el loads papercite.el as a user's init file would (with `papercite` found on PATH, as
for a user: the environment running the tests puts its own first), opens the sample drafts, and
for each: completes "attention is all" and accepts the first candidate the way corfu does, asks
eglot's hover function, and waits for flymake's diagnostics. The index lives in a private
XDG_CACHE_HOME, the default location moved.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .helpers import CLIENT_CONFIG, missing

DRIVER = Path(__file__).with_name("eglot_driver.el")
FIRST = "vaswani2017attention"
EXPECTED = {
    "draft.tex": {
        "mode": "latex-mode", "language-id": "latex",
        "accepted": r"Emoji 🙂 Schölkopf \cite{nobody2099emoji} and \cite{vaswani2017attention}",
        "undefined": {"smith2099imaginary", "nobody2099emoji"},
    },
    "draft.md": {
        "mode": "markdown-mode", "language-id": "markdown",
        "accepted": "Emoji 🙂 Schölkopf [@nobody2099emoji] and [@vaswani2017attention]",
        "undefined": {"doe2099missing", "nobody2099emoji"},
    },
}
INSTALL = "apt-get install emacs-nox elpa-eglot elpa-markdown-mode"


def emacs_with_eglot() -> str | None:
    emacs = shutil.which("emacs")
    if not emacs:
        return None
    check = subprocess.run([emacs, "--batch", "-q", "--eval",
                            "(progn (package-initialize) (require 'eglot) (require 'markdown-mode))"],
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    return emacs if check.returncode == 0 else None


def test_emacs_eglot_session(workspace: Path, editor_env: dict[str, str], tmp_path: Path):
    emacs = emacs_with_eglot()
    if not emacs:
        missing("Emacs with eglot and markdown-mode", INSTALL)
    result, transcript = tmp_path / "result.json", tmp_path / "transcript.txt"
    env = {**editor_env,
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), editor_env.get("PATH", "")]),
           "PAPERCITE_CLIENT_CONFIG": str(CLIENT_CONFIG / "emacs"),
           "PAPERCITE_WORKSPACE": str(workspace),
           "PAPERCITE_RESULT": str(result),
           "PAPERCITE_TRANSCRIPT": str(transcript)}
    process = subprocess.run([emacs, "--batch", "-q", "-l", str(DRIVER)], cwd=workspace, env=env,
                             capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    text = transcript.read_text(encoding="utf-8") if transcript.exists() else "(no transcript)"
    print(text)
    assert result.exists(), f"emacs exited {process.returncode} without a result\n{text}\n{process.stderr}"
    out = json.loads(result.read_text(encoding="utf-8"))
    assert out["errors"] is None, text
    assert [m for m in out["messages"] or [] if m["type"] <= 2] == [], text  # no error or warning shown

    files = {record["file"]: record for record in out["files"]}
    for name, expected in EXPECTED.items():
        seen = files[name]
        assert seen["mode"] == expected["mode"] and seen["language-id"] == expected["language-id"], text
        assert seen["candidates"][0] == FIRST and seen["accepted"], text
        assert seen["accepted-line"] == expected["accepted"], text
        assert "Attention Is All You Need" in seen["hover"] and "Defined in library.bib" in seen["hover"], text
        covered = {d["covered"] for d in seen["diagnostics"]}
        assert covered == expected["undefined"], text
        # eglot's own completion, for the record: key prefixes work everywhere
        assert seen["eglot-own"]["key prefix"] == ["he2016deep"], text
