"""The import contract of pyproject's [tool.importlinter] (layers index <- documents <- lsp <- cli,
features independent, a core that imports no feature, no cycles) holds, and would catch an
upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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


def test_an_upward_import_breaks_it(tmp_path: Path):
    """A copy of the sources where the documents layer imports the server: the layers contract
    and the no-cycles contract fail, naming the import."""
    package = tmp_path / "papercite"
    for layer in ("index", "server"):
        shutil.copytree(ROOT / layer, package / layer, ignore=shutil.ignore_patterns("__pycache__", "sample"))
    library = package / "server" / "documents" / "library.py"
    library.write_text(library.read_text() + "\nfrom papercite.server.lsp.server import PaperciteServer  # noqa\n")
    run = lint_imports(tmp_path, pythonpath=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Layers: index <- documents <- lsp <- cli BROKEN" in run.stdout
    assert "papercite.server.documents.library -> papercite.server.lsp.server" in run.stdout
