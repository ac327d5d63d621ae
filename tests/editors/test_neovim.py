"""A real headless Neovim against `papercite serve`, configured as client-config/neovim tells users.

For each Neovim found (the `nvim` on PATH, Debian's 0.7.2 in CI, and another one named by the
PAPERCITE_NVIM environment variable, e.g. a 0.11+ build) and each way of
configuring it that the version supports (the `papercite` Lua module for 0.7+, `lsp/papercite.lua`
with vim.lsp.config for 0.11+), nvim_driver.lua opens the sample LaTeX and Markdown drafts and:

- asks for completion of "attention is all" inside a citation, on a line that has an emoji and an
  accented letter before it (so UTF-16 and byte columns differ), and applies the first item's
  textEdit as accepting it does;
- types queries for real (<C-x><C-o>, <C-y>) through the configured omnifunc;
- hovers the key it wrote;
- waits for the undefined-key diagnostics and checks each covers its key in the buffer;
- goes to the definition of that key (Neovim opens library.bib at the entry) and renames it with
  vim.lsp.buf.rename, then back: the citation and the entry change in one edit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import CLIENT_CONFIG, missing, server_command

DRIVER = Path(__file__).with_name("nvim_driver.lua")
FIRST = "vaswani2017attention"
RENAMED = "vaswani2017transformer"  # what the session renames FIRST to, and back
TITLE = "Attention Is All You Need"
EXPECTED = {
    "draft.tex": {
        "filetype": "tex",
        "accepted": r"Emoji 🙂 Schölkopf \cite{nobody2099emoji} and \cite{vaswani2017attention}",
        "undefined": {"smith2099imaginary", "nobody2099emoji"},
    },
    "draft.md": {
        "filetype": "markdown",
        "accepted": "Emoji 🙂 Schölkopf [@nobody2099emoji] and [@vaswani2017attention]",
        "undefined": {"doe2099missing", "nobody2099emoji"},
    },
}


@dataclass(frozen=True)
class Neovim:
    path: str
    version: tuple[int, int, int]

    @property
    def name(self) -> str:
        return "nvim-" + ".".join(map(str, self.version))


def version_of(path: str) -> tuple[int, int, int] | None:
    try:
        first = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"NVIM v(\d+)\.(\d+)\.(\d+)", first)
    return tuple(int(part) for part in match.groups()) if match else None


def neovims() -> list[Neovim]:
    found = []
    system = shutil.which("nvim")
    if system and (version := version_of(system)):
        found.append(Neovim(system, version))
    other = os.environ.get("PAPERCITE_NVIM")  # e.g. a Neovim 0.11+ for lsp/papercite.lua
    if other and (version := version_of(other)):
        found.append(Neovim(other, version))
    return found


NEOVIMS = neovims()
RUNS = [(nvim, mode) for nvim in NEOVIMS for mode in ("module", "lsp-config")
        if mode == "module" or nvim.version >= (0, 11, 0)]


def run_driver(nvim: Neovim, mode: str, workspace: Path, env: dict[str, str], tmp_path: Path) -> tuple[dict, str]:
    result, transcript = tmp_path / "result.json", tmp_path / "transcript.txt"
    env = {**env,
           "PAPERCITE_CLIENT_CONFIG": str(CLIENT_CONFIG / "neovim"),
           "PAPERCITE_CMD": json.dumps(server_command()),
           "PAPERCITE_WORKSPACE": str(workspace),
           "PAPERCITE_INDEX_DIR": str(tmp_path / "index"),
           "PAPERCITE_MODE": mode,
           "PAPERCITE_RESULT": str(result),
           "PAPERCITE_TRANSCRIPT": str(transcript)}
    process = subprocess.run([nvim.path, "--headless", "--clean", "-c", f"luafile {DRIVER}"], cwd=workspace,
                             env=env, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    text = transcript.read_text(encoding="utf-8") if transcript.exists() else "(no transcript)"
    assert result.exists(), f"nvim exited {process.returncode} without a result\n{text}\n{process.stderr}"
    return json.loads(result.read_text(encoding="utf-8")), text


def test_neovim_is_installed():
    if not NEOVIMS:
        missing("Neovim", "apt-get install neovim")


@pytest.mark.parametrize("nvim, mode", RUNS, ids=[f"{nvim.name}-{mode}" for nvim, mode in RUNS])
def test_neovim_session(nvim: Neovim, mode: str, workspace: Path, editor_env: dict[str, str], tmp_path: Path):
    out, transcript = run_driver(nvim, mode, workspace, editor_env, tmp_path)
    print(transcript)  # shown with -s, and on failure
    assert out["errors"] == [], transcript
    problems = [m["message"] for m in out["messages"] if m["type"] <= 2]  # Error, Warning
    assert problems == [], transcript

    for name, expected in EXPECTED.items():
        seen = out["files"][name]
        assert seen["filetype"] == expected["filetype"], transcript
        # completion from title words: the right key first, accepting writes it over the query
        assert seen["keys"][0] == FIRST, transcript
        assert seen["is_incomplete"] is True
        assert seen["accepted_line"] == expected["accepted"], transcript
        # the first response carries the documentation (Neovim never resolves items)
        assert TITLE in seen["first"]["documentation"], transcript
        assert TITLE in seen["hover"] and "Defined in library.bib" in seen["hover"], transcript
        # keystrokes through the configured omnifunc
        for typed in seen["typed"]:
            builtin = typed["omnifunc"] == "v:lua.vim.lsp.omnifunc" and mode == "module"
            title_words = "residual learning" in typed["type"]
            inside_key = typed["line"].startswith("Inside")
            if builtin and title_words and nvim.version < (0, 11, 0):
                continue  # Neovim 0.7-0.10's own omnifunc drops them: the README says so, this run shows it
            if mode == "lsp-config" and inside_key:
                continue  # Neovim's native completion leaves the rest of the key: the README says so
            assert typed["popup"] and typed["result"] == typed["expect"], (typed, transcript)
        # undefined keys, each diagnostic covering exactly its key in the buffer
        assert seen["diagnostics_settled"], transcript
        covered = {d["covered"] for d in seen["diagnostics"]}
        assert covered == expected["undefined"], transcript
        for diagnostic in seen["diagnostics"]:
            assert diagnostic["message"].startswith(f"'{diagnostic['covered']}' is not in"), transcript
            assert diagnostic["source"] == "papercite"
        # go to definition opens the bibliography at the entry; rename changes citation and entry
        assert seen["definition"] == {"file": "library.bib", "line": "@inproceedings{vaswani2017attention,"}, \
            transcript
        assert seen["renamed"] == {"line": expected["accepted"].replace(FIRST, RENAMED),
                                   "entry": f"@inproceedings{{{RENAMED},"}, transcript
        assert seen["renamed_back"] == {"line": expected["accepted"], "entry": f"@inproceedings{{{FIRST},"}, \
            transcript
