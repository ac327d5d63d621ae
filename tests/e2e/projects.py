"""The fixture projects (tests/fixtures/projects) as a workspace: `thesis/` and `notes/` in the
workspace folder, the personal library beside it, outside the workspace (tests name it with the
`libraries` setting as "../global-library.bib")."""

from __future__ import annotations

import shutil
from pathlib import Path

PROJECTS = Path(__file__).resolve().parents[1] / "fixtures" / "projects"


def copy_projects(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for name in ("thesis", "notes"):
        shutil.copytree(PROJECTS / name, root / name)
    shutil.copy(PROJECTS / "global-library.bib", tmp_path / "global-library.bib")
    return root
