"""The on-disk store: incremental updates, damage recovery, and two processes sharing an index."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from papercite.index.search import PaperSearch
from papercite.index.store import MARKER, SCHEMA_VERSION, ForeignFolder, PaperStore

ENTRY = "@article{{{key},\n  title = {{{title}}},\n  author = {{Doe, Jane}},\n  year = {{2020}}\n}}\n"


def bib(path: Path, *entries: tuple[str, str]) -> Path:
    path.write_text("".join(ENTRY.format(key=k, title=t) for k, t in entries), encoding="utf-8")
    return path


def keys(store: PaperStore) -> set[str]:
    return {p.key for source in store.catalogue().sources for p in store.papers_in(source)}


@pytest.fixture
def store(tmp_path: Path) -> PaperStore:
    return PaperStore(tmp_path / "index")


def test_every_corpus_file_indexes(corpora: Path, store: PaperStore):
    files = sorted(p for folder in ("bib", "csl", "papers", "malformed") for p in (corpora / folder).iterdir())
    report = store.update(files)
    assert len(report.indexed) == len(files)
    counts = {Path(s).name: r.papers for s, r in store.catalogue().sources.items()}
    assert counts["daily-papers-listing.txt"] == 96
    assert counts["bbt-dates-edtf.json"] == 15
    assert counts["bbt-csl-yaml-import.yml"] == 11
    assert counts["r-bibtex-unbalanced_braces.bib"] >= 1  # the good first entry survives
    assert store.count() == sum(counts.values())
    bad = [p for p in report.problems if Path(p.source).name == "bbt-endnote-export-no-key.bib"]
    assert bad and all(p.line >= 0 for p in bad)


def test_unchanged_files_are_not_reread(tmp_path: Path, store: PaperStore):
    a = bib(tmp_path / "a.bib", ("alpha", "Alpha Paper"))
    first = store.update([a])
    assert first.indexed == [str(a)] and first.papers == 1
    again = store.update([a])
    assert again.indexed == [] and again.unchanged == [str(a)]
    os.utime(a, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same bytes
    touched = store.update([a])
    assert touched.indexed == [] and touched.unchanged == [str(a)]


def test_changed_file_replaces_only_its_papers_and_deleted_file_is_removed(tmp_path: Path, store: PaperStore):
    a = bib(tmp_path / "a.bib", ("alpha", "Alpha Paper"), ("beta", "Beta Paper"))
    b = bib(tmp_path / "b.bib", ("gamma", "Gamma Paper"))
    store.update([a, b])
    assert keys(store) == {"alpha", "beta", "gamma"}
    bib(a, ("alpha", "Alpha Paper Revised"), ("delta", "Delta Paper"))
    report = store.update([a, b])
    assert report.indexed == [str(a)] and report.unchanged == [str(b)]
    assert keys(store) == {"alpha", "delta", "gamma"}
    assert store.papers_for_key("alpha")[0].title == "Alpha Paper Revised"
    b.unlink()
    report = store.update([a, b])
    assert report.removed == [str(b)]
    assert keys(store) == {"alpha", "delta"}
    assert PaperSearch(store).search("gamma") == []


def test_missing_file_is_a_problem_not_an_exception(tmp_path: Path, store: PaperStore):
    report = store.update([tmp_path / "nope.bib"])
    assert [p.message for p in report.problems] == ["file not found"]


def test_editor_buffer_text_is_indexed_then_file_reread(tmp_path: Path, store: PaperStore):
    a = bib(tmp_path / "a.bib", ("alpha", "Alpha Paper"))
    store.update([a])
    store.update_text(str(a.resolve()), ENTRY.format(key="unsaved", title="Unsaved Buffer Entry"))
    assert keys(store) == {"unsaved"}
    assert store.update([a]).indexed == [str(a.resolve())]  # the file on disk wins when next seen
    assert keys(store) == {"alpha"}


def test_ids_aliases_find_the_paper(tmp_path: Path, store: PaperStore):
    path = tmp_path / "a.bib"
    path.write_text("@article{new2020, ids = {old2019, older2018}, title = {Renamed}, year = 2020}\n")
    store.update([path])
    assert [p.key for p in store.papers_for_key("old2019")] == ["new2020"]
    assert [h.key for h in PaperSearch(store).search("older2018")] == ["new2020"]


def test_damaged_index_is_rebuilt_and_said(tmp_path: Path):
    a = bib(tmp_path / "a.bib", ("alpha", "Alpha Paper"))
    store = PaperStore(tmp_path / "index")
    store.update([a])
    store.close()
    segment = next((tmp_path / "index").glob("*.seg"))
    segment.write_bytes(segment.read_bytes()[: segment.stat().st_size // 2])
    reopened = PaperStore(tmp_path / "index")
    assert any("damaged" in n for n in reopened.notices)
    assert reopened.count() == 0
    assert reopened.update([a]).papers == 1  # the catalogue was reset with it: everything is re-read
    assert keys(reopened) == {"alpha"}


def test_index_from_another_version_is_rebuilt(tmp_path: Path):
    a = bib(tmp_path / "a.bib", ("alpha", "Alpha Paper"))
    store = PaperStore(tmp_path / "index")
    store.update([a])
    store.close()
    catalogue = tmp_path / "index" / "catalogue.json"
    data = json.loads(catalogue.read_text())
    assert data["schema_version"] == SCHEMA_VERSION  # saved, though it is the model's current value
    data["schema_version"] = SCHEMA_VERSION - 1
    catalogue.write_text(json.dumps(data))
    reopened = PaperStore(tmp_path / "index")
    assert any("another papercite version" in n for n in reopened.notices)
    assert reopened.update([a]).papers == 1


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("foreign", [
    {"notes.txt": "my notes", "src/main.tex": "\\documentclass{article}"},  # a workspace named as the index dir
    {"catalogue.json": "{}", "thesis.tex": "x"},  # one name papercite writes is not enough
    {"CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n# made by cargo\n", "debug/x": "y"},
])
def test_a_folder_papercite_did_not_make_is_refused_untouched(tmp_path: Path, foreign: dict[str, str]):
    folder = tmp_path / "workspace"
    for name, text in foreign.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    before = files_of(folder)
    with pytest.raises(ForeignFolder, match="not papercite's index folder"):
        PaperStore(folder)
    assert files_of(folder) == before


def test_a_rebuild_deletes_only_papercite_files(tmp_path: Path):
    a = bib(tmp_path / "a.bib", ("alpha", "Alpha Paper"))
    index = tmp_path / "index"
    PaperStore(index).update([a])
    (index / "mine.txt").write_text("the user's")
    (index / "kept").mkdir()
    (index / "kept" / "papers_x.seg").write_text("in a folder: never papercite's to delete")
    segment = next(index.glob("*.seg"))
    segment.write_bytes(segment.read_bytes()[:100])
    reopened = PaperStore(index)
    assert any("damaged" in n for n in reopened.notices)
    assert (index / "mine.txt").read_text() == "the user's"
    assert (index / "kept" / "papers_x.seg").is_file()
    assert not segment.exists()
    assert reopened.update([a]).papers == 1 and keys(reopened) == {"alpha"}


def test_an_index_of_an_earlier_version_is_adopted_and_made_private(tmp_path: Path):
    """An index written before papercite marked its folder (its own files only, readable by all)
    is papercite's: kept, marked, and taken out of other users' reach."""
    a = bib(tmp_path / "a.bib", ("alpha", "Alpha Paper"))
    index = tmp_path / "index"
    PaperStore(index).update([a])
    (index / MARKER).unlink()
    for path in (index, *index.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    adopted = PaperStore(index)
    assert not adopted.notices and keys(adopted) == {"alpha"}
    assert "papercite" in (index / MARKER).read_text()
    assert {oct(p.stat().st_mode & 0o777) for p in index.iterdir()} == {oct(0o600)}
    assert index.stat().st_mode & 0o777 == 0o700


def test_an_empty_folder_is_taken(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    store = PaperStore(tmp_path / "empty")
    assert store.update([bib(tmp_path / "a.bib", ("alpha", "Alpha Paper"))]).papers == 1
    assert (tmp_path / "empty" / MARKER).is_file()


def test_the_index_folder_and_its_files_are_owner_only(tmp_path: Path):
    umask = os.umask(0o022)  # a usual umask: what papercite makes must not depend on it
    try:
        store = PaperStore(tmp_path / "cache" / "index")
        store.update([bib(tmp_path / "a.bib", *[(f"k{i}", f"Paper {i}") for i in range(50)])])
        store.update_text(str(tmp_path / "b.bib"), ENTRY.format(key="b", title="Buffer"))
    finally:
        os.umask(umask)
    assert store.dir.stat().st_mode & 0o777 == 0o700
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in store.dir.iterdir()}
    assert modes and set(modes.values()) == {oct(0o600)}, modes


DAMAGE = {
    "truncated": lambda data: data[:200],
    "zeroed": lambda data: data[:1000] + bytes(len(data) - 1000),  # read without an error: as no matches
    "overwritten": lambda data: bytes(reversed(data)),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_segments_damaged_under_an_open_store_are_rebuilt_by_the_read(tmp_path: Path, store: PaperStore, damage):
    a = bib(tmp_path / "a.bib", *[(f"k{i}", f"Paper {i}") for i in range(40)], ("alpha", "Alpha Paper"))
    store.update([a])
    search = PaperSearch(store)
    assert [h.key for h in search.search("alpha")] == ["alpha"]
    for segment in store.dir.glob("*.seg"):
        segment.write_bytes(DAMAGE[damage](segment.read_bytes()))
    found = store.read(lambda: [h.key for h in search.search("alpha paper")] + [p.key for p in store.papers_for_key("alpha")])
    assert found == [] and store.lost == [str(a.resolve())]
    assert any("damaged" in n for n in store.notices)
    store.update([Path(s) for s in store.lost])
    assert store.read(lambda: [h.key for h in search.search("alpha")]) == ["alpha"]


def test_a_bug_in_a_read_is_no_damage(store: PaperStore, tmp_path: Path):
    store.update([bib(tmp_path / "a.bib", ("alpha", "Alpha Paper"))])

    def buggy():
        store.papers_for_key("alpha")
        return {}["missing"]  # papercite's own KeyError, not Whoosh's

    with pytest.raises(KeyError):
        store.read(buggy)
    assert store.lost is None and not store.notices and keys(store) == {"alpha"}


WRITER = """
import sys
from pathlib import Path
from papercite.index.store import PaperStore
store = PaperStore(Path(sys.argv[1]))
report = store.update([Path(sys.argv[2])])
print(report.papers)
"""


def test_two_processes_writing_the_same_index_both_land(tmp_path: Path):
    entries_a = [(f"a{i}", f"Paper A number {i}") for i in range(300)]
    entries_b = [(f"b{i}", f"Paper B number {i}") for i in range(300)]
    a, b = bib(tmp_path / "a.bib", *entries_a), bib(tmp_path / "b.bib", *entries_b)
    index = tmp_path / "index"
    PaperStore(index).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(index), str(f)], stdout=subprocess.PIPE, text=True)
             for f in (a, b)]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs == ["300", "300"]
    store = PaperStore(index)
    assert store.count() == 600
    assert not store.notices


def test_readers_never_wait_for_a_writer(tmp_path: Path, store: PaperStore):
    a = bib(tmp_path / "a.bib", ("alpha", "Alpha Paper"))
    store.update([a])
    with open(store.dir / "write.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # as another process's writer would
        found: list[str] = []
        reader = threading.Thread(target=lambda: found.extend(
            h.key for h in PaperSearch(PaperStore(store.dir)).search("alpha paper")))
        reader.start()
        reader.join(timeout=60)  # a deadlock detector, not a speed check
        assert not reader.is_alive() and found == ["alpha"]


def test_hits_outlive_the_next_change_of_the_index(tmp_path: Path, store: PaperStore):
    """A completion finds hits, the index changes (a .bib saved), something looks at the index
    (which opens the new searcher), then the hits are rendered: they must still read."""
    store.update([bib(tmp_path / "a.bib", ("doe2020a", "Sparse attention"))])
    search = PaperSearch(store)
    [hit] = search.search("sparse", 5)
    store.update_text(str(tmp_path / "b.bib"), ENTRY.format(key="doe2020b", title="Dense attention"))
    assert {h.key for h in search.search("attention", 5)} == {"doe2020a", "doe2020b"}  # the new searcher
    assert hit.paper().title == "Sparse attention"  # read from the one it replaced
    store.update_text(str(tmp_path / "c.bib"), ENTRY.format(key="doe2020c", title="Attention"))
    assert len(search.search("attention", 5)) == 3  # two changes on: the first searcher is closed
