"""What the editor tests share: where things are, the server command, skipping a missing editor."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "index" / "sample"
CLIENT_CONFIG = REPO / "client-config"


def missing(what: str, install: str) -> None:
    """Skip (or, in CI, fail) because an editor or tool is not installed."""
    message = f"{what} is not installed ({install})"
    if os.environ.get("PAPERCITE_REQUIRE_EDITORS") == "1":
        pytest.fail(message + "; PAPERCITE_REQUIRE_EDITORS=1 says it must be", pytrace=False)
    pytest.skip(message)


def server_command() -> list[str]:
    """`papercite serve` from the environment running the tests, as an editor would start it."""
    script = Path(sys.executable).parent / "papercite"
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-m", "papercite.server.cli", "serve"]
