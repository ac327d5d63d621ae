"""The `papercite` command as a user runs it: a real subprocess, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "index" / "sample"


def papercite(*args: str, env_home: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if env_home:
        env["XDG_CACHE_HOME"] = str(env_home)
    return subprocess.run([sys.executable, "-m", "papercite.server.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_index_then_search(tmp_path: Path):
    index = str(tmp_path / "index")
    done = papercite("index", str(SAMPLE / "library.bib"), str(SAMPLE / "references.json"), "--index-dir", index)
    assert done.returncode == 0, done.stderr
    assert "48 papers in the index from 2 sources" in done.stdout
    again = papercite("index", str(SAMPLE), "--index-dir", index)  # a folder: finds both, both unchanged
    assert "0 papers from 0 changed files, 2 unchanged" in again.stdout
    found = papercite("search", "attention", "is", "all", "--limit", "2", "--index-dir", index)
    assert found.returncode == 0
    assert found.stdout.splitlines()[0].startswith("vaswani2017attention\t2017\tVaswani, Shazeer, Parmar et al.")
    rows = [json.loads(line) for line in papercite("search", "vaswani 2017", "--json", "--index-dir", index).stdout.splitlines()]
    assert rows[0]["key"] == "vaswani2017attention"
    assert set(rows[0]) == {"key", "title", "authors", "year", "score", "source"}
    assert rows[0]["source"] == str((SAMPLE / "library.bib").resolve())


def test_default_index_lives_in_the_user_cache_dir(tmp_path: Path):
    done = papercite("index", str(SAMPLE / "library.bib"), env_home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "papercite" / "index" / "catalogue.json").is_file()
    assert papercite("search", "lora", env_home=tmp_path).stdout.startswith("hu2022lora")


def test_index_reports_problems_as_linter_lines(corpora: Path, tmp_path: Path):
    bad = corpora / "malformed" / "r-bibtex-unbalanced_braces.bib"
    done = papercite("index", str(bad), "--index-dir", str(tmp_path / "i"))
    assert done.returncode == 0
    lines = [line for line in done.stderr.splitlines() if line.startswith(str(bad))]
    assert lines and all(line.split(":")[1].isdigit() for line in lines)


@pytest.mark.parametrize("args, message", [
    (["index", "/no/such/file.bib"], "papercite: error: /no/such/file.bib: no such file or folder"),
    (["index", str(SAMPLE / "README.md")], "not a library file"),
    (["search", "x", "--limit", "zero"], "not a number"),
    (["search", "x", "--limit", "0"], "must be at least 1"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_give_one_line_and_a_non_zero_exit(tmp_path: Path, args: list[str], message: str):
    done = papercite(*args, "--index-dir", str(tmp_path / "i"))
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if "error" in line]) == 1


def test_an_unwritable_index_dir_is_one_line(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = papercite("index", str(SAMPLE / "library.bib"), "--index-dir", str(blocker / "index"))
    assert done.returncode == 2
    assert done.stderr.startswith("papercite: error: cannot open the index") and "Traceback" not in done.stderr


def test_demo_shows_ranked_papers(tmp_path: Path):
    done = papercite("demo", env_home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Indexed 48 papers" in done.stdout
    assert "1. vaswani2017attention" in done.stdout
    # the replayed LSP session: completion accepted, hover, diagnostics
    assert "accepted: Sequence models \\cite{vaswani2017attention}" in done.stdout
    assert "accepted: Sequence alignment [@altschul1990basic]" in done.stdout
    assert "**Attention Is All You Need**" in done.stdout
    assert "draft.tex:46:12: warning: 'smith2099imaginary' is not in this document's bibliographies" in done.stdout
    assert "draft.md:36:47: warning: 'doe2099missing'" in done.stdout
    assert not (tmp_path / "papercite").exists()  # the demo leaves the user's index alone


def test_check_reports_undefined_keys_like_a_linter(tmp_path: Path):
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project)
    done = papercite("check", str(project / "draft.tex"), str(project / "draft.md"), "--index-dir", str(tmp_path / "i"))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f"{project / 'draft.md'}:34:47: error: undefined citation key 'doe2099missing'",
        f"{project / 'draft.tex'}:44:12: error: undefined citation key 'smith2099imaginary'",
    ]
    rows = [json.loads(line) for line in papercite("check", str(project / "draft.tex"), "--json",
                                                    "--index-dir", str(tmp_path / "i")).stdout.splitlines()]
    assert rows == [{"path": str(project / "draft.tex"), "line": 44, "column": 12, "severity": "error",
                     "message": "undefined citation key 'smith2099imaginary'"}]


def test_check_passes_a_clean_document_and_flags_a_missing_bibliography(tmp_path: Path):
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project)
    clean = project / "clean.md"
    clean.write_text("---\nbibliography: library.bib\n---\nAs shown by @vaswani2017attention.\n")
    done = papercite("check", str(clean), "--index-dir", str(tmp_path / "i"))
    assert (done.returncode, done.stdout) == (0, "")
    clean.write_text("---\nbibliography: gone.bib\n---\nAs shown by @vaswani2017attention.\n")
    done = papercite("check", str(clean), "--index-dir", str(tmp_path / "i"))
    assert done.returncode == 1
    assert "gone.bib" in done.stdout and "undefined citation key 'vaswani2017attention'" in done.stdout


def test_check_reports_a_broken_bibliography_with_its_line(corpora: Path, tmp_path: Path):
    bad = corpora / "malformed" / "r-bibtex-unbalanced_braces.bib"
    done = papercite("check", str(bad), "--index-dir", str(tmp_path / "i"))
    assert done.returncode == 1
    assert f"{bad}:9:1: error: entry 'murdoch:2010' is never closed" in done.stdout
