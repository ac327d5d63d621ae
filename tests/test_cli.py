"""The `papercite` command as a user runs it: a real subprocess, real files."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "index" / "sample"
PROJECTS = Path(__file__).resolve().parent / "fixtures" / "projects"


def papercite(*args: str, env_home: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if env_home:
        env["XDG_CACHE_HOME"] = str(env_home)
    return subprocess.run([sys.executable, "-m", "papercite.server.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False, cwd=cwd)


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


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_index_dir_before_the_command_is_used(tmp_path: Path):
    """`papercite --index-dir D index x.bib`, the form the usage line shows, not the default index."""
    index, home = tmp_path / "before", tmp_path / "home"
    done = papercite("--index-dir", str(index), "index", str(SAMPLE / "library.bib"), env_home=home)
    assert done.returncode == 0, done.stderr
    assert (index / "catalogue.json").is_file() and not (home / "papercite").exists()
    assert papercite("--index-dir", str(index), "search", "lora", env_home=home).stdout.startswith("hu2022lora")
    after = papercite("--index-dir", str(tmp_path / "other"), "search", "lora", "--index-dir", str(index))
    assert after.stdout.startswith("hu2022lora")  # given twice, the one after the command wins


@pytest.mark.parametrize("command", [["index", "library.bib"], ["search", "lora"], ["check", "draft.tex"]])
def test_a_folder_that_is_not_papercites_is_refused_untouched(tmp_path: Path, command: list[str]):
    """The workspace (or any folder with other files) named as the index dir is never emptied."""
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project)
    before = files_of(project)
    done = papercite(*command, "--index-dir", ".", cwd=project)
    assert done.returncode == 2
    assert done.stderr.startswith("papercite: error: . is not papercite's index folder"), done.stderr
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert files_of(project) == before


@pytest.mark.parametrize("read_only", ["folder and files", "files"])
def test_a_read_only_index_is_searched_never_written(unprivileged, read_only: str):
    """A CI job restoring a cached index read-only: `index` says so in one line, `search` answers
    from it, `check` checks in a temporary index of its own and says so; nothing in it changes."""
    prefix, home = unprivileged

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, sys.executable, "-m", "papercite.server.cli", *args, "--index-dir", str(index)],
                              capture_output=True, text=True, timeout=120, check=False)

    index = home / "index"
    assert run("index", str(SAMPLE / "library.bib")).returncode == 0
    for path in index.iterdir():
        path.chmod(0o400)
    if read_only == "folder and files":
        index.chmod(0o500)
    before = files_of(index)
    done = run("index", str(SAMPLE / "references.json"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"papercite: error: the index at {index} is read-only: "
                                        "papercite can search it but not update it"]
    found = run("search", "lora")
    assert found.returncode == 0 and found.stdout.startswith("hu2022lora"), found.stderr
    checked = run("check", str(SAMPLE / "draft.tex"))
    assert checked.returncode == 1, checked.stderr
    assert "undefined citation key 'smith2099imaginary'" in checked.stdout
    assert f"papercite: the index at {index} is read-only; checking with a temporary index" in checked.stderr
    assert "Traceback" not in done.stderr + found.stderr + checked.stderr
    assert files_of(index) == before


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
    assert "unknown method" not in done.stdout + done.stderr  # every message the server sends is handled


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
    assert rows == [{"path": str(project / "draft.tex"), "line": 44, "column": 12, "end_line": 44, "end_column": 30,
                     "severity": "error", "code": "undefined-key",
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


# --- papercite check on the fixture projects (paths relative to the folder it runs in) ---

THESIS_PROBLEMS = [
    "thesis/chapters/intro.tex:10:37: error: undefined citation key 'vaswani2017atention' "
    "(did you mean 'vaswani2017attention'?)",
    "thesis/chapters/intro.tex:11:20: error: undefined citation key 'hochreiter1997long'",
]
NOTES_PROBLEMS = [
    "notes/index.qmd:8:73: error: undefined citation key 'watsn1953molecular' (did you mean 'watson1953molecular'?)",
    "notes/methods.md:11:3: error: undefined citation key 'lecun2015deep'",
]


@pytest.fixture
def projects(tmp_path: Path) -> Path:
    """Both fixture projects in a folder, with a README that mentions @someone beside the thesis (no
    pandoc document: it declares no bibliography)."""
    root = tmp_path / "work"
    shutil.copytree(PROJECTS, root)
    (root / "thesis" / "README.md").write_text("Ask @alice about the figures.\n", encoding="utf-8")
    return root


def test_check_project_folders(projects: Path, tmp_path: Path):
    """A folder is the project in it: its documents, each against the bibliographies it sees (the
    chapters through their TeX root), and its bibliographies; a problem is reported once."""
    index = str(tmp_path / "i")
    done = papercite("check", "thesis", "notes", "--index-dir", index, cwd=projects)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == NOTES_PROBLEMS + THESIS_PROBLEMS
    assert done.stderr == "papercite check: 5 documents and 4 bibliographies: 4 errors, 0 warnings\n"
    # a chapter named alone is checked against its root's bibliographies, as in the editor
    done = papercite("check", "thesis/chapters/intro.tex", "thesis/chapters/methods.tex", "--index-dir", index,
                     cwd=projects)
    assert (done.returncode, done.stdout.splitlines()) == (1, THESIS_PROBLEMS)


def test_check_passes_once_the_project_is_fixed(projects: Path, tmp_path: Path):
    intro = projects / "thesis" / "chapters" / "intro.tex"
    intro.write_text(intro.read_text(encoding="utf-8").replace("vaswani2017atention", "vaswani2017attention"),
                     encoding="utf-8")
    personal = (projects / "global-library.bib").read_text(encoding="utf-8")
    lstm = personal[personal.index("@article{hochreiter1997long"):personal.index("@inproceedings{goodfellow")]
    with (projects / "thesis" / "refs" / "classics.bib").open("a", encoding="utf-8") as classics:
        classics.write("\n" + lstm)
    done = papercite("check", "thesis", "--index-dir", str(tmp_path / "i"), cwd=projects)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "papercite check: 3 documents and 2 bibliographies: 0 errors, 0 warnings\n"


def test_check_reports_bibliography_problems_of_a_project(projects: Path, tmp_path: Path):
    """Duplicates, keyless entries and syntax errors in a bibliography the project uses, with the
    undefined keys they cause (kingma2015adam's entry is skipped)."""
    ml = projects / "thesis" / "refs" / "ml.bib"
    ml.write_text(ml.read_text(encoding="utf-8").replace("{Adam: A Method for Stochastic Optimization},",
                                                         "{Adam: A Method for Stochastic Optimization,")
                  + "\n@misc{he2016deep,\n  title = {Again}\n}\n\n@article{\n  title = {No key}\n}\n",
                  encoding="utf-8")
    done = papercite("check", "thesis", "--index-dir", str(tmp_path / "i"), cwd=projects)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "thesis/chapters/intro.tex:10:37: error: undefined citation key 'vaswani2017atention' "
        "(did you mean 'vaswani2017attention'?)",
        "thesis/chapters/intro.tex:11:20: error: undefined citation key 'hochreiter1997long'",
        "thesis/chapters/methods.tex:4:27: error: undefined citation key 'kingma2015adam'",
        "thesis/refs/ml.bib:31:1: error: entry 'kingma2015adam' is not closed before the next entry: the value of "
        "'title' (line 32) does not end where it should (an unbalanced '{'?); it is skipped",
        "thesis/refs/ml.bib:63:7: error: duplicate citation key 'he2016deep' (first on line 19); "
        "this entry is ignored",
        "thesis/refs/ml.bib:67:1: error: entry without a citation key; it is skipped",
    ]
    rows = [json.loads(line) for line in papercite("check", "thesis/refs/ml.bib", "--json", "--index-dir",
                                                    str(tmp_path / "i"), cwd=projects).stdout.splitlines()]
    assert rows[1] == {"path": "thesis/refs/ml.bib", "line": 63, "column": 7, "end_line": 63, "end_column": 17,
                       "severity": "error", "code": "duplicate-key",
                       "message": "duplicate citation key 'he2016deep' (first on line 19); this entry is ignored"}
    assert [(r["code"], r["line"], r["column"], r["end_line"], r["end_column"]) for r in rows] == [
        ("syntax-error", 31, 1, 31, 30), ("duplicate-key", 63, 7, 63, 17), ("missing-key", 67, 1, 67, 10)]


def test_check_a_missing_path_is_a_usage_error(tmp_path: Path):
    done = papercite("check", str(tmp_path / "nowhere"), "--index-dir", str(tmp_path / "i"))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"papercite: error: {tmp_path / 'nowhere'}: no such file or folder\n"


# --- papercite check on real drafts and broken files (../shared/corpora) ---

def test_check_reports_a_broken_bibliography_with_its_line(corpora: Path, tmp_path: Path):
    bad = corpora / "malformed" / "r-bibtex-unbalanced_braces.bib"
    done = papercite("check", str(bad), "--index-dir", str(tmp_path / "i"))
    assert done.returncode == 1
    assert done.stdout == (f"{bad}:9:1: error: entry 'murdoch:2010' is never closed: the value of 'title' (line 11) "
                           "does not end where it should (an unbalanced '{'?); it is skipped\n")


def test_check_malformed_and_latin1_bibliographies(corpora: Path, tmp_path: Path):
    """A folder of broken files: one error each; a Latin-1 file is a warning only (exit 0 alone)."""
    latin1 = corpora / "bib" / "afpsample.latin1.bib"
    done = papercite("check", str(corpora / "malformed"), str(latin1), "--json", "--index-dir", str(tmp_path / "i"))
    assert done.returncode == 1
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"path": str(latin1), "line": 51, "column": 29, "end_line": 51, "end_column": 30, "severity": "warning",
         "code": "encoding", "message": "not valid UTF-8 (first invalid byte: 0xBF); read as Windows-1252 (Latin-1)"},
        {"path": str(corpora / "malformed" / "bbt-endnote-export-no-key.bib"), "line": 2, "column": 2,
         "end_line": 2, "end_column": 11, "severity": "error", "code": "missing-key",
         "message": "entry without a citation key; it is skipped"},
        {"path": str(corpora / "malformed" / "r-bibtex-unbalanced_braces.bib"), "line": 9, "column": 1,
         "end_line": 9, "end_column": 19, "severity": "error", "code": "syntax-error",
         "message": "entry 'murdoch:2010' is never closed: the value of 'title' (line 11) does not end where it "
                    "should (an unbalanced '{'?); it is skipped"},
    ]
    done = papercite("check", str(latin1), "--index-dir", str(tmp_path / "i"))
    assert done.returncode == 0
    assert done.stdout == f"{latin1}:51:29: warning: not valid UTF-8 (first invalid byte: 0xBF); read as Windows-1252 (Latin-1)\n"


def test_check_pandoc_draft_without_a_bibliography(corpora: Path, tmp_path: Path):
    """pandoc's citation test declares no bibliography and its folder holds none: every citation
    is undefined, at its key (the Cyrillic key's column counts characters)."""
    draft = corpora / "drafts" / "pandoc-markdown-citations.md"
    done = papercite("check", str(draft), "--index-dir", str(tmp_path / "i"))
    assert done.returncode == 1
    expected = [(4, 7, "nonexistent"), (6, 6, "nonexistent"), (8, 6, "item1"), (10, 6, "item1"), (12, 6, "item1"),
                (14, 6, "item1"), (14, 15, "item2"), (14, 38, "пункт3"), (18, 28, "item1"), (18, 49, "пункт3"),
                (20, 23, "item1"), (24, 42, "item1"), (26, 33, "item1"), (30, 30, "item1"), (35, 8, "пункт3"),
                (35, 57, "пункт3"), (37, 28, "item1"), (37, 44, "пункт3"), (37, 53, "item2"), (39, 42, "item1"),
                (39, 80, "item2")]
    assert done.stdout.splitlines() == [f"{draft}:{line}:{column}: error: undefined citation key '{key}'"
                                        for line, column, key in expected]


def test_check_latex_draft_with_a_missing_bibliography(corpora: Path, tmp_path: Path):
    """The harvard manual's `\\bibliography{harvard}` is not beside it: that is an error at the
    declaration, and each citation (through harvard's own commands) is undefined."""
    draft = corpora / "drafts" / "harvard.tex"
    done = papercite("check", str(draft), "--index-dir", str(tmp_path / "i"))
    assert done.returncode == 1
    expected = [(51, 60, "latex"), (51, 83, "btxdoc"), (65, 40, "agsm"), (92, 16, "btxdoc"), (92, 49, "latex"),
                (100, 20, "btxdoc"), (100, 55, "latex"), (112, 17, "latex"), (125, 31, "latex"), (125, 37, "btxdoc"),
                (162, 20, "btxdoc"), (162, 27, "latex"), (174, 11, "btxdoc"), (196, 25, "agsm"), (204, 20, "latex"),
                (215, 20, "btxdoc"), (215, 55, "latex"), (223, 34, "btxdoc"), (223, 41, "latex"), (227, 34, "btxdoc"),
                (227, 41, "latex"), (292, 56, "latex2htmldoc"), (302, 78, "latex")]
    assert done.stdout.splitlines() == [
        *(f"{draft}:{line}:{column}: error: undefined citation key '{key}'" for line, column, key in expected),
        f"{draft}:337:15: error: bibliography not found: harvard ({corpora / 'drafts' / 'harvard.bib'})"]


# --- files that cannot be read, or must not be ---

def test_index_and_check_skip_a_fifo_named_like_a_bibliography(tmp_path: Path):
    """A FIFO named refs.bib, found in a folder or declared by a document, is skipped with the reason,
    never opened for a read that would wait for a writer for ever (the harness's timeout fails a hang)."""
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project)
    os.mkfifo(project / "refs.bib")
    (project / "piped.tex").write_text("\\documentclass{article}\n\\addbibresource{refs.bib}\n"
                                       "\\begin{document}\n\\cite{vaswani2017attention}\n\\end{document}\n")
    index = str(tmp_path / "i")
    done = papercite("index", str(project), "--index-dir", index)
    assert done.returncode == 0, done.stderr
    assert f"{project / 'refs.bib'}:1:1: warning: skipped: not a regular file (a FIFO)" in done.stderr.splitlines()
    assert "48 papers in the index from 2 sources" in done.stdout
    done = papercite("check", str(project), "--index-dir", index)
    assert done.returncode == 1
    assert f"{project / 'piped.tex'}:2:17: error: bibliography not read: refs.bib ({project / 'refs.bib'}): " \
           "not a regular file (a FIFO)" in done.stdout.splitlines()
    assert f"{project / 'refs.bib'}:1:1: warning: skipped: not a regular file (a FIFO)" in done.stdout.splitlines()
    done = papercite("index", str(project / "refs.bib"), "--index-dir", index)
    assert (done.returncode, done.stderr) == (2, f"papercite: error: {project / 'refs.bib'}: not a regular file (a FIFO)\n")


CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24  # linux/capability.h, linux/prctl.h


def without_permission_override() -> None:
    """In the child before exec: drop the capabilities that let root read any file, so permission
    bits hold for it as for anyone (root still owns its files and folders)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@pytest.fixture
def permissions_hold(tmp_path: Path):
    """What a papercite process must be started with for a file of mode 000 to be unreadable to it
    (tests run as root, which reads every file whatever its mode); skips when that cannot be had."""
    if os.geteuid() != 0:
        return None
    probe = tmp_path / "probe"
    probe.write_text("secret")
    probe.chmod(0)
    try:
        read = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}).read()"],
                              preexec_fn=without_permission_override, capture_output=True, check=False)
    except (OSError, subprocess.SubprocessError) as err:
        pytest.skip(f"cannot drop root's permission override here: {err}")
    if read.returncode == 0:
        pytest.skip("a file of mode 000 stays readable to this process even without CAP_DAC_OVERRIDE")
    return without_permission_override


def test_a_library_that_becomes_unreadable_keeps_its_papers_with_a_warning(tmp_path: Path, permissions_hold):
    """A file that cannot be read any more is not a deleted file: its papers stay, and it is said;
    a folder that cannot be listed is said too."""
    library = tmp_path / "library"
    shutil.copytree(SAMPLE, library)
    index = str(tmp_path / "index")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "papercite.server.cli", *args, "--index-dir", index],
                              capture_output=True, text=True, timeout=120, check=False, preexec_fn=permissions_hold)

    first = run("index", str(library))
    assert "48 papers in the index from 2 sources" in first.stdout, first.stderr
    bib, csl = library / "library.bib", library / "references.json"
    with bib.open("a", encoding="utf-8") as handle:
        handle.write("\n@misc{late2024, title = {Written Before the Permission Went}}\n")
    bib.chmod(0)  # changed, then unreadable
    csl.chmod(0)  # unchanged, unreadable
    again = run("index", str(library))
    assert again.returncode == 0, again.stderr
    assert f"{bib}:1:1: warning: cannot read: Permission denied; its 40 papers are kept from the last reading" \
           in again.stderr.splitlines()
    assert f"{csl}:1:1: warning: cannot read: Permission denied; its 8 papers are kept from the last reading" \
           in again.stderr.splitlines()
    assert "48 papers in the index from 2 sources" in again.stdout and "0 removed" in again.stdout
    assert run("search", "attention is all you need").stdout.startswith("vaswani2017attention")
    library.chmod(0)  # the folder itself
    folder = run("index", str(library))
    assert f"{library}:1:1: error: cannot read the folder (Permission denied); its files were left out" \
           in folder.stderr.splitlines()
    assert "48 papers in the index from 2 sources" in folder.stdout
    library.chmod(0o755)  # for the clean-up
