"""Which files papercite reads as libraries, and that no file makes it wait for ever: a FIFO, a
device or a socket named like a library is skipped with a reason, a file of no library format
(/etc/passwd) is neither hashed nor recorded, a `libraries` glob reads only library files and
follows no link out of its folder, and an indexing child ends with the process that started it.

A FIFO with no writer blocks whoever opens it for reading: such calls run on a thread here, and a
call that never returns fails its test (the FIFO is then opened for writing, which ends the call)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from papercite.index import store as store_module
from papercite.index.readers import read_file
from papercite.index.store import PaperStore
from papercite.server.documents.bibliographies import declared_bibliographies, expand_library_setting, workspace_bibliographies
from papercite.server.documents.library import Library

HANG_SECONDS = 30  # a call not back by then is blocked (each returns in milliseconds)
CSL_JSON = '[{"id": "doe2020", "type": "article", "title": "Csl Paper", "issued": {"date-parts": [[2020]]}}]\n'
ENTRY = "@article{doe2020bib,\n  title = {Bib Paper},\n  author = {Doe, Jane},\n  year = {2020}\n}\n"


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def finishes(function, *args, fifos: tuple[Path, ...] = ()):
    """function(*args), asserted to return (blocked calls are released through ``fifos`` first)."""
    outcome: dict = {}

    def call() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as err:  # re-raised on the test's thread
            outcome["error"] = err

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    hung = thread.is_alive()
    if hung:
        for path in fifos:  # a writer's open and close give the blocked reader an end of file
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(HANG_SECONDS)
    assert not hung, f"{function.__name__} blocked on a FIFO"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_a_fifo_named_like_a_library_is_skipped_not_read(tmp_path: Path):
    pipe = fifo(tmp_path / "refs.bib")
    good = tmp_path / "good.bib"
    good.write_text(ENTRY, encoding="utf-8")
    [problem] = finishes(read_file, pipe, fifos=(pipe,)).problems
    assert "not a regular file (a FIFO)" in problem.message
    store = PaperStore(tmp_path / "index")
    report = finishes(store.update, [pipe, good], fifos=(pipe,))
    assert report.papers == 1 and report.indexed == [str(good)]
    [skipped] = [p for p in report.problems if p.source == str(pipe)]
    assert (skipped.severity, skipped.message) == ("warning", "skipped: not a regular file (a FIFO)")
    assert str(pipe) not in store.catalogue().sources


def test_files_of_no_library_format_are_neither_hashed_nor_recorded(tmp_path: Path):
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    secrets = tmp_path / "secrets.json"
    secrets.write_text('{"token": "hunter2"}\n')
    store = PaperStore(tmp_path / "index")
    report = store.update([passwd, secrets])
    assert store.catalogue().sources == {} and report.indexed == []
    messages = {Path(p.source).name: p.message for p in report.problems}
    assert messages == {"passwd": "skipped: not a library file (.bib, .json, .yaml, .yml or a .txt paper listing)",
                        "secrets.json": 'skipped: not a CSL-JSON bibliography (no list of items with an "id" '
                                        'in its first KB)'}


def test_a_declared_file_that_is_no_library_is_reported_at_its_declaration_and_not_used(tmp_path: Path):
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    pipe = fifo(tmp_path / "pipe.bib")
    good = tmp_path / "good.bib"
    good.write_text(ENTRY, encoding="utf-8")
    text = f"\\addbibresource{{{passwd}}}\n\\addbibresource{{pipe.bib}}\n\\addbibresource{{good.bib}}\n"
    doc = tmp_path / "main.tex"
    declared = finishes(declared_bibliographies, text, doc, "latex", fifos=(pipe,))
    assert [(p.line, p.message) for p in declared.problems] == [
        (0, f"bibliography not read: {passwd} ({passwd}): not a library file "
            "(.bib, .json, .yaml, .yml or a .txt paper listing)"),
        (1, f"bibliography not read: pipe.bib ({pipe}): not a regular file (a FIFO)")]
    scope = Library(tmp_path / "index").scope(doc, text, "latex")
    assert scope.own == [good] and scope.declared


def test_a_libraries_glob_reads_library_files_only_and_no_link_out_of_its_folder(tmp_path: Path):
    etc, elsewhere = tmp_path / "etc", tmp_path / "elsewhere"
    etc.mkdir()
    elsewhere.mkdir()
    (etc / "shadow").write_text("root:$6$salt$hash:19000:0:99999:7:::\n")
    (etc / "settings.json").write_text('{"token": "hunter2"}\n')
    (etc / "refs.bib").write_text(ENTRY, encoding="utf-8")
    (etc / "refs.json").write_text(CSL_JSON, encoding="utf-8")
    fifo(etc / "pipe.bib")
    (elsewhere / "private.bib").write_text(ENTRY, encoding="utf-8")
    (etc / "linked.bib").symlink_to(elsewhere / "private.bib")
    files, errors = finishes(expand_library_setting, [f"{etc}/*"], None, fifos=(etc / "pipe.bib",))
    assert (files, errors) == ([etc / "refs.bib", etc / "refs.json"], [])
    # named without a glob, the link's target is the user's choice; a file of no library format is not
    assert expand_library_setting([str(etc / "linked.bib")], None) == ([elsewhere / "private.bib"], [])
    assert expand_library_setting([str(etc / "shadow")], None) == (
        [], [f"{etc / 'shadow'}: not a library file (.bib, .json, .yaml, .yml or a .txt paper listing)"])
    assert expand_library_setting([f"{etc}/*.txt"], None) == ([], [f"{etc}/*.txt: no file matches"])
    assert expand_library_setting([f"{etc}/s*"], None) == ([], [f"{etc}/s*: no library file matches"])


def test_the_workspace_walk_opens_no_fifo(tmp_path: Path):
    pipe = fifo(tmp_path / "a-refs.json")
    (tmp_path / "b.bib").write_text(ENTRY, encoding="utf-8")
    scan = finishes(workspace_bibliographies, tmp_path, fifos=(pipe,))
    assert scan.files == [pipe, tmp_path / "b.bib"]  # the FIFO listed unread: indexing says it skips it


def test_the_server_never_sends_a_fifo_to_be_indexed(tmp_path: Path):
    pipe = fifo(tmp_path / "refs.bib")
    good = tmp_path / "good.bib"
    good.write_text(ENTRY, encoding="utf-8")
    assert Library(tmp_path / "index").needs_indexing([pipe, good]) == [good]


def indexing_children(of: psutil.Process) -> list[psutil.Process]:
    """The indexing children of a process (`update_in_child` runs `child_main`)."""
    found = []
    for process in of.children():
        try:
            if "child_main" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:  # ended meanwhile
            pass
    return found


@pytest.fixture
def held_lock(tmp_path: Path):
    """The index's writer lock, held by this process: an indexing child waits for it (busy)."""
    index = tmp_path / "index"
    PaperStore(index).close()
    with open(index / "write.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield index


def test_stop_children_ends_a_busy_indexing_child(tmp_path: Path, held_lock: Path, monkeypatch):
    monkeypatch.setattr(store_module, "_children_stopped", False)  # and back afterwards: this process goes on
    good = tmp_path / "good.bib"
    good.write_text(ENTRY, encoding="utf-8")
    outcome: dict = {}

    def index() -> None:
        try:
            store_module.update_in_child(held_lock, [good])
        except Exception as err:
            outcome["error"] = err

    thread = threading.Thread(target=index, daemon=True)
    thread.start()
    child = None
    while child is None and thread.is_alive():
        child = next(iter(indexing_children(psutil.Process())), None)
        time.sleep(0.01)
    store_module.stop_children()
    thread.join(HANG_SECONDS)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), store_module.IndexingStopped)
    assert child is not None and not child.is_running()
    with pytest.raises(store_module.IndexingStopped):  # no other run starts
        store_module.update_in_child(held_lock, [good])


SERVER_STAND_IN = """
import sys
from pathlib import Path
from papercite.index.store import update_in_child
update_in_child(Path(sys.argv[1]), [Path(sys.argv[2])])
"""


def test_an_indexing_child_ends_when_its_parent_dies(tmp_path: Path, held_lock: Path):
    good = tmp_path / "good.bib"
    good.write_text(ENTRY, encoding="utf-8")
    parent = subprocess.Popen([sys.executable, "-c", SERVER_STAND_IN, str(held_lock), str(good)])
    try:
        watched = psutil.Process(parent.pid)
        children = []
        while not children and parent.poll() is None:
            children = indexing_children(watched)
            time.sleep(0.01)
        assert children, "the indexing child did not start"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        gone, alive = psutil.wait_procs(children, timeout=HANG_SECONDS)
        for process in alive:
            process.kill()
        assert not alive, "the indexing child outlived its parent"
    finally:
        parent.kill()
        parent.wait()
