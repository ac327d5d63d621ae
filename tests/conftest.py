"""Shared fixtures. Real data lives in ../shared/corpora beside the repo; tests that need it skip
cleanly when it is absent (PAPERCITE_CORPORA overrides the location)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("PAPERCITE_CORPORA", REPO.parent / "shared" / "corpora"))


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"real corpora not found at {CORPORA} (set PAPERCITE_CORPORA)")
    return CORPORA
