"""Shared fixtures. Real data lives in ../shared/corpora beside the repo; tests that need it skip
cleanly when it is absent (PAPERCITE_CORPORA overrides the location)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("PAPERCITE_CORPORA", REPO.parent / "shared" / "corpora")).resolve()  # as papercite prints it


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"real corpora not found at {CORPORA} (set PAPERCITE_CORPORA)")
    return CORPORA


@pytest.fixture
def unprivileged():
    """(command prefix, folder): run a command as a user that permission bits bind, in a folder
    that user owns. Read-only index folders need it: root ignores permission bits, so as root the
    command runs as `nobody` (through setpriv), in a folder outside root's private temp dir."""
    if os.geteuid() != 0:
        folder = Path(tempfile.mkdtemp(prefix="papercite-unprivileged-"))
        yield [], folder
    else:
        setpriv = shutil.which("setpriv")
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            nobody = None
        if setpriv is None or nobody is None:
            pytest.skip("running as root without setpriv or a 'nobody' user: cannot drop privileges")
        prefix = [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
        if subprocess.run([*prefix, sys.executable, "-c", "import papercite.server.cli"], capture_output=True,
                          check=False).returncode:
            pytest.skip("the user 'nobody' cannot read this checkout or its Python")
        folder = Path(tempfile.mkdtemp(prefix="papercite-unprivileged-"))
        folder.chmod(0o755)
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        yield prefix, folder
    for path in folder.rglob("*"):  # made read-only by the test: writable again, to be removed
        if path.is_dir():
            path.chmod(0o700)
    shutil.rmtree(folder)
