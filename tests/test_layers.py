"""The import contract of pyproject's [tool.importlinter] (layers index <- documents <- lsp <- cli,
features independent, a core that imports no feature, one door into the index, no cycles) holds, and would catch an
upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_contract_is_kept():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(("module", "added", "broken"), [
    ("server/documents/library.py", "from papercite.server.lsp.server import PaperciteServer",
     ["Layers: index <- documents <- lsp <- cli BROKEN",
      "papercite.server.documents.library -> papercite.server.lsp.server"]),
    ("server/lsp/features/hover.py", "from papercite.index.store import PaperStore",
     ["One door: the server and check reach the index through Library BROKEN",
      "papercite.server.lsp.features.hover -> papercite.index.store"]),
    ("server/lsp/features/hover.py", "from papercite.server.lsp.features import completion",
     ["Features are independent of each other BROKEN"]),
])
def test_a_wrong_import_breaks_it(tmp_path: Path, module: str, added: str, broken: list[str]):
    """A copy of the sources with one import the contract forbids (an upward import, a feature
    reaching the store, a feature importing another): lint-imports fails, naming it."""
    package = tmp_path / "papercite"
    for layer in ("index", "server"):
        shutil.copytree(ROOT / layer, package / layer, ignore=shutil.ignore_patterns("__pycache__", "sample"))
    changed = package / module
    changed.write_text(changed.read_text() + f"\n{added}  # noqa\n")
    run = lint_imports(tmp_path, pythonpath=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    for line in broken:
        assert line in run.stdout, run.stdout
