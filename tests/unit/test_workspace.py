"""The workspace's citing documents: which files count, their citations by key, open buffers over
the disk, and rescans that read and parse again only what changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from papercite.index.model import Paper
from papercite.server.documents.citations import KeyRef, markdown
from papercite.server.lsp.unused import unused_entries
from papercite.server.documents.workspace import Buffer, CitingDocuments, citing_files

FILES = {
    "main.tex": "\\documentclass{article}\n\\begin{document}\n\\cite{a, b} and \\citep[p.~3]{a}\n\\end{document}\n",
    "chapters/one.ltx": "% \\cite{commented}\n\\textcite{c}\n",
    "notes/index.qmd": "---\ntitle: x\n---\nSee [@a; @{odd key}] and @d.\n",
    "notes/more.Rmd": "`@code` and [-@b]\n",
    "notes/plain.markdown": "No citation at all.\n",
    "README.md": "Mail me at me@example.org.\n",
    # not citing documents, or in folders nobody writes in
    "refs.bib": "@article{a, title={A}}\n",
    ".git/COMMIT.md": "[@hidden]\n",
    "node_modules/pkg/README.md": "[@dependency]\n",
    "_site/index.md": "[@built]\n",
    "_book/index.tex": "\\cite{built}\n",
    "venv/lib/x.md": "[@venv]\n",
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write(tmp_path, FILES)
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    return tmp_path


def cited(workspace: CitingDocuments, key: str) -> list[tuple[str, str]]:
    """(file name, text of the reference) of each citation of key."""
    return [(doc.path.name, doc.text[ref.start:ref.end]) for doc, ref in workspace.citations_of(key)]


def test_which_files_and_what_they_cite(root: Path):
    workspace = CitingDocuments()
    refresh = workspace.refresh([root], [])
    assert sorted(p.relative_to(root).as_posix() for p in refresh.parsed) == [
        "README.md", "chapters/one.ltx", "main.tex", "notes/index.qmd", "notes/more.Rmd", "notes/plain.markdown"]
    assert not refresh.truncated
    assert workspace.cited_keys() == {"a", "b", "c", "d", "odd key"}
    main = (root / "main.tex").read_text()
    first, second = main.index("{a,") + 1, main.index("]{a}") + 2
    third = FILES["notes/index.qmd"].index("@a") + 1
    assert [(doc.path.name, ref) for doc, ref in workspace.citations_of("a")] == [
        ("main.tex", KeyRef("a", first, first + 1)), ("main.tex", KeyRef("a", second, second + 1)),
        ("index.qmd", KeyRef("a", third, third + 1))]
    assert cited(workspace, "odd key") == [("index.qmd", "odd key")]
    (odd_doc, odd_ref), = workspace.citations_of("odd key")
    (bare_doc, bare_ref), = workspace.citations_of("d")
    # written @{odd key}, the citation holds a key with a space; a bare @d does not
    assert markdown.valid_key("odd key", odd_doc.text, odd_ref)
    assert not markdown.valid_key("odd key", bare_doc.text, bare_ref)
    assert cited(workspace, "b") == [("main.tex", "b"), ("more.Rmd", "b")]
    assert workspace.citations_of("commented") == [] and workspace.citations_of("hidden") == []


def test_a_rescan_parses_only_what_changed(root: Path):
    workspace = CitingDocuments()
    workspace.refresh([root], [])
    assert workspace.refresh([root], []).parsed == []
    one = root / "chapters" / "one.ltx"
    one.write_text("\\textcite{c} and \\cite{e}\n", encoding="utf-8")
    os.utime(one, ns=(1, 1))  # a new mtime even on a coarse clock
    new = root / "notes" / "new.md"
    new.write_text("[@e]\n", encoding="utf-8")
    (root / "notes" / "more.Rmd").unlink()
    refresh = workspace.refresh([root], [])
    assert sorted(refresh.parsed) == sorted([one, new])
    assert cited(workspace, "e") == [("one.ltx", "e"), ("new.md", "e")]
    assert cited(workspace, "b") == [("main.tex", "b")]  # more.Rmd is gone


def test_open_buffers_count_instead_of_their_files(root: Path):
    workspace = CitingDocuments()
    main = root / "main.tex"
    workspace.refresh([root], [])
    buffer = Buffer(main, "file:///editor/main.tex", "\\cite{f}\n😀 \\cite{b}\n", 3, "latex")
    bibliography = Buffer(root / "refs.bib", "file:///editor/refs.bib", "@article{a}", 1, None)
    assert workspace.refresh([root], [buffer, bibliography]).parsed == [main]  # the buffer; the bibliography cites nothing
    assert cited(workspace, "a") == [("index.qmd", "a")]
    (document, ref), = [(d, r) for d, r in workspace.citations_of("b") if d.path == main]
    assert (document.uri, document.version, ref) == ("file:///editor/main.tex", 3, KeyRef("b", 17, 18))
    assert workspace.refresh([root], [buffer]).parsed == []  # the same version is not parsed again
    # an open document outside the folders counts too; a closed one goes back to its (unchanged) file
    outside = Buffer(root.parent / "elsewhere.md", "file:///elsewhere.md", "[@g]", 1, "markdown")
    assert workspace.refresh([root], [outside]).parsed == [outside.path]
    assert cited(workspace, "g") == [("elsewhere.md", "g")]
    assert cited(workspace, "a")[0] == ("main.tex", "a")


def test_new_citation_commands_read_every_document_again(root: Path):
    workspace = CitingDocuments()
    write(root, {"custom.tex": "\\mycite{h}\n"})
    workspace.refresh([root], [])
    assert workspace.citations_of("h") == []
    assert len(workspace.refresh([root], [], ["mycite"]).parsed) == 7
    assert cited(workspace, "h") == [("custom.tex", "h")]


def test_huge_files_and_limits(root: Path, monkeypatch):
    found, truncated = citing_files([root], limit=2)
    assert len(found) == 2 and truncated
    assert citing_files([root / "missing"]) == ({}, False)
    write(root, {"generated.tex": "\\cite{huge}\n" + "%" * 100})
    monkeypatch.setattr("papercite.server.documents.workspace.MAX_DOCUMENT_BYTES", 100)
    found, truncated = citing_files([root])
    assert root / "generated.tex" not in found and root / "main.tex" in found and not truncated


def test_unused_entries_count_aliases():
    entries = [Paper(key="a"), Paper(key="b", ids=["b-old"]), Paper(key="c"), Paper(key="d", key_generated=True)]
    assert [p.key for p in unused_entries(entries, {"a", "b-old"})] == ["c"]


def test_linked_files_are_known_by_their_target(root: Path, tmp_path_factory):
    """A link to a document elsewhere is that document (an open buffer of it is known by its real
    path); a linked folder is not entered (no cycles)."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    write(elsewhere, {"shared.tex": "\\cite{linked}\n", "inner/deep.md": "[@deeper]\n"})
    (root / "link.tex").symlink_to(elsewhere / "shared.tex")
    (root / "folder").symlink_to(elsewhere / "inner", target_is_directory=True)
    found, _ = citing_files([root])
    assert (elsewhere / "shared.tex").resolve() in found and root / "link.tex" not in found
    assert not any("deep.md" in path.name for path in found)
