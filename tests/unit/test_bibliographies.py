"""Finding a document's bibliographies the way LaTeX, pandoc and Quarto do, on real folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from papercite.server.documents.bibliographies import (
    declared_bibliographies,
    expand_library_setting,
    read_text,
    workspace_bibliographies,
)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def latex(path: Path, text: str | None = None, **kwargs):
    text = path.read_text(encoding="utf-8") if text is None else text
    return declared_bibliographies(text, path, "latex", **kwargs)


def markdown(path: Path, text: str | None = None):
    text = path.read_text(encoding="utf-8") if text is None else text
    return declared_bibliographies(text, path, "markdown")


def messages(declared) -> list[str]:
    return [p.message for p in declared.problems]


# --- LaTeX ----------------------------------------------------------------------------------------

@pytest.fixture
def thesis(tmp_path: Path) -> Path:
    """A root with a preamble, chapters in a subfolder, and bibliographies beside the root."""
    write(tmp_path, {
        "main.tex": "\\documentclass{book}\n\\input{preamble}\n"
                    "\\bibliographystyle{plain}\n\\bibliography{ refs , more.bib }\n"
                    "\\addbibresource{lib/x.bib}\n\\begin{document}\\include{chapters/ch1}\\end{document}\n",
        "preamble.tex": "\\usepackage{biblatex}\n\\addbibresource[location=local]{lib/pre.bib}\n",
        "chapters/ch1.tex": "% !TeX root = ../main.tex\n\\chapter{One} \\cite{a}\n",
        "refs.bib": "", "more.bib": "", "lib/x.bib": "", "lib/pre.bib": "",
    })
    return tmp_path


def test_chapter_with_root_comment_gets_the_projects_bibliographies(thesis: Path):
    got = latex(thesis / "chapters/ch1.tex")
    root = thesis.resolve()
    assert got.root == root / "main.tex"
    assert got.files == [root / "lib/pre.bib", root / "refs.bib", root / "more.bib", root / "lib/x.bib"]
    assert got.missing == [] and got.problems == []


def test_root_itself_resolves_relative_to_its_folder(thesis: Path):
    got = latex(thesis / "main.tex")
    assert got.root is None
    assert [p.name for p in got.files] == ["pre.bib", "refs.bib", "more.bib", "x.bib"]


def test_chapter_without_root_comment_finds_the_root_that_includes_it(thesis: Path):
    chapter = thesis / "chapters/ch1.tex"
    got = latex(chapter, "\\chapter{One} \\cite{a}\n")
    assert got.root == (thesis / "main.tex").resolve()
    assert [p.name for p in got.files] == ["pre.bib", "refs.bib", "more.bib", "x.bib"]


def test_unrelated_file_finds_no_root(thesis: Path):
    write(thesis, {"chapters/notes.tex": "nothing here\n"})
    got = latex(thesis / "chapters/notes.tex")
    assert got.root is None and got.files == []


def test_unsaved_buffer_wins_over_the_file_on_disk(thesis: Path):
    text = "% !TeX root = ../main.tex\n\\addbibresource{chapters/new.bib}\n"
    got = latex(thesis / "chapters/ch1.tex", text)
    assert (thesis / "chapters/new.bib").resolve() in got.missing


@pytest.mark.parametrize("comment", ["%!TEX root=../main", "  %  !tex ROOT = ../main.tex  ",
                                     '% !TeX root = "../main.tex"'])
def test_root_comment_spellings(thesis: Path, comment: str):
    got = latex(thesis / "chapters/ch1.tex", f"{comment}\n\\chapter{{One}}\n")
    assert got.root == (thesis / "main.tex").resolve()


def test_root_comment_only_counts_near_the_top(thesis: Path):
    text = "\n" * 30 + "% !TeX root = ../elsewhere.tex\n"
    assert latex(thesis / "chapters/ch1.tex", text).root == (thesis / "main.tex").resolve()  # found by inclusion


def test_missing_root_is_reported_and_own_declarations_still_count(tmp_path: Path):
    write(tmp_path, {"ch.tex": "\n% !TeX root = gone.tex\n\\bibliography{own}\n", "own.bib": ""})
    got = latex(tmp_path / "ch.tex")
    assert got.root == (tmp_path / "gone.tex").resolve()
    assert got.files == [(tmp_path / "own.bib").resolve()]
    assert [(p.line, p.message) for p in got.problems] == [(1, f"TeX root not found: {got.root}")]


def test_relative_paths_fall_back_to_the_declaring_files_folder(thesis: Path):
    write(thesis, {"chapters/local.bib": ""})
    got = latex(thesis / "chapters/ch1.tex", "% !TeX root = ../main.tex\n\\bibliography{local}\n")
    assert (thesis / "chapters/local.bib").resolve() in got.files
    assert got.missing == []


def test_biblatex_resource_commands(tmp_path: Path):
    text = ("\\addglobalbib{g.bib}\n\\addsectionbib{s.bib}\n\\nobibliography{n1,n2}\n"
            "\\addbibresource[location=remote]{http://example.org/x.bib}\n"
            "\\begin{refsection}[r1.bib, sub/r2.bib]\n\\end{refsection}\n\\begin{refsection}\n")
    write(tmp_path, {name: "" for name in ["g.bib", "s.bib", "n1.bib", "n2.bib", "r1.bib", "sub/r2.bib"]})
    got = latex(tmp_path / "doc.tex", text)
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in got.files] == [
        "g.bib", "s.bib", "n1.bib", "n2.bib", "r1.bib", "sub/r2.bib"]


def test_comments_hide_declarations_but_escaped_percent_does_not(tmp_path: Path):
    text = ("% \\bibliography{commented}\n"
            "text % \\addbibresource{after.bib}\n"
            "50\\% of \\bibliography{kept}\n"
            "line break\\\\% \\bibliography{alsocommented}\n")
    got = latex(tmp_path / "doc.tex", text)
    assert [p.name for p in got.files] == ["kept.bib"]


def test_macro_arguments_are_not_file_names(tmp_path: Path):
    got = latex(tmp_path / "doc.tex", "\\bibliography{\\jobname}\n\\newcommand\\bib[1]{\\addbibresource{#1}}\n")
    assert got.files == [] and got.problems == []


def test_missing_bibliography_is_flagged_where_declared(tmp_path: Path):
    write(tmp_path, {"here.bib": ""})
    got = latex(tmp_path / "doc.tex", "\\documentclass{article}\n  \\bibliography{here,gone}\n")
    gone = (tmp_path / "gone.bib").resolve()
    assert got.files == [(tmp_path / "here.bib").resolve(), gone]
    assert got.missing == [gone]
    [problem] = got.problems
    assert (problem.source, problem.line, problem.column) == (str((tmp_path / "doc.tex").resolve()), 1, 21)
    assert "gone" in problem.message


def test_input_cycle_terminates_and_keeps_declarations(tmp_path: Path):
    write(tmp_path, {
        "main.tex": "\\documentclass{article}\\input{a}\n",
        "a.tex": "\\input{b}\\addbibresource{a.bib}\n",
        "b.tex": "\\input{a.tex}\\input{main}\\addbibresource{b.bib}\n",
    })
    reads: list[str] = []
    got = latex(tmp_path / "main.tex", read=lambda p: reads.append(p.name) or read_text(p))
    assert [p.name for p in got.files] == ["b.bib", "a.bib"]
    assert sorted(reads) == ["a.tex", "b.tex"]  # main.tex is the buffer; nothing is read twice


def test_subfile_and_include_are_followed_with_tex_implied(tmp_path: Path):
    write(tmp_path, {
        "main.tex": "\\documentclass{article}\\include{parts/one}\\subfile{parts/two.tex}\\input{parts/three}\n",
        "parts/one.tex": "\\addbibresource{one.bib}\n",
        "parts/two.tex": "\\addbibresource{two.bib}\n",
        "parts/three": "\\addbibresource{three.bib}\n",
    })
    assert [p.name for p in latex(tmp_path / "main.tex").files] == ["one.bib", "two.bib", "three.bib"]


def test_reads_go_through_the_injected_reader(tmp_path: Path):
    files = {tmp_path / "main.tex": "\\documentclass{article}\\input{part}\n",
             tmp_path / "part.tex": "\\bibliography{virtual}\n"}
    got = latex(tmp_path / "ch.tex", "% !TeX root = main.tex\n", read=lambda p: files.get(p))
    assert got.files == [tmp_path / "virtual.bib"]


def test_read_text_falls_back_to_latin1(tmp_path: Path):
    (tmp_path / "l1.tex").write_bytes("caf\xe9".encode("latin-1"))
    assert read_text(tmp_path / "l1.tex") == "café"
    assert read_text(tmp_path / "absent.tex") is None


# --- Markdown, Quarto, R Markdown -----------------------------------------------------------------

def test_front_matter_string(tmp_path: Path):
    write(tmp_path, {"refs.bib": ""})
    got = markdown(tmp_path / "doc.md", "---\ntitle: T\nbibliography: refs.bib\n---\nText [@a].\n")
    assert got.files == [(tmp_path / "refs.bib").resolve()] and got.problems == []


def test_front_matter_list_with_dots_terminator_ignores_references_and_urls(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write(tmp_path, {"a.bib": "", "sub/b.json": "[]", "home/z.bib": ""})
    text = ("---\nbibliography:\n  - a.bib\n  - sub/b.json\n  - ~/z.bib\n  - https://example.org/c.bib\n"
            "references:\n  - id: inline\nparams:\n  n: !expr 1 + 1\n...\n")
    got = markdown(tmp_path / "doc.Rmd", text)
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in got.files] == [
        "a.bib", "sub/b.json", "home/z.bib"]
    assert got.problems == []


def test_front_matter_must_open_the_document(tmp_path: Path):
    assert markdown(tmp_path / "doc.md", "Intro\n---\nbibliography: refs.bib\n---\n").files == []
    assert markdown(tmp_path / "doc.md", "---\nbibliography: refs.bib\nnever closed\n").files == []


def test_quarto_project_two_levels_up(tmp_path: Path):
    write(tmp_path, {
        "_quarto.yml": "project:\n  type: book\nbibliography: [shared.bib]\nmetadata-files: [meta/extra.yml]\n",
        "meta/extra.yml": "bibliography: extra.bib\n",
        "a/_metadata.yml": "bibliography: section.bib\n",
        "a/b/doc.qmd": "---\nbibliography: own.bib\n---\n",
        "shared.bib": "", "meta/extra.bib": "", "a/section.bib": "", "a/b/own.bib": "",
    })
    got = markdown(tmp_path / "a/b/doc.qmd")
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in got.files] == [
        "a/b/own.bib", "a/section.bib", "shared.bib", "meta/extra.bib"]
    assert got.missing == [] and got.root is None


def test_directory_metadata_outside_a_project_does_not_apply(tmp_path: Path):
    write(tmp_path, {"_metadata.yml": "bibliography: x.bib\n", "doc.qmd": "Text\n"})
    assert markdown(tmp_path / "doc.qmd").files == []


def test_broken_yaml_is_reported_with_its_line_and_the_rest_still_applies(tmp_path: Path):
    write(tmp_path, {"_quarto.yml": "bibliography: shared.bib\n", "shared.bib": ""})
    got = markdown(tmp_path / "doc.qmd", "---\ntitle: T\nbibliography: [a.bib\n---\n")
    assert got.files == [(tmp_path / "shared.bib").resolve()]
    [problem] = got.problems
    assert problem.source == str((tmp_path / "doc.qmd").resolve())
    assert (problem.line, problem.column) == (2, 20) and "invalid YAML" in problem.message


def test_broken_project_yaml_is_reported_against_that_file(tmp_path: Path):
    write(tmp_path, {"_quarto.yml": "bibliography: : :\n", "doc.qmd": ""})
    got = markdown(tmp_path / "doc.qmd")
    assert [(p.source, p.line) for p in got.problems] == [(str(tmp_path.resolve() / "_quarto.yml"), 0)]


def test_bibliography_of_the_wrong_shape_is_reported(tmp_path: Path):
    got = markdown(tmp_path / "doc.md", "---\nbibliography:\n  file: a.bib\n---\n")
    assert got.files == [] and messages(got) == ["bibliography should be a file name or a list of file names"]
    assert got.problems[0].line == 2


def test_missing_markdown_bibliography_is_flagged_at_its_entry(tmp_path: Path):
    got = markdown(tmp_path / "doc.md", "---\nbibliography:\n  - nope.bib\n---\n")
    assert got.missing == [(tmp_path / "nope.bib").resolve()]
    assert [(p.line, p.column) for p in got.problems] == [(2, 4)]


def test_unknown_syntax_is_refused(tmp_path: Path):
    with pytest.raises(ValueError):
        declared_bibliographies("", tmp_path / "x.txt", "plain")  # type: ignore[arg-type]


# --- Workspace scan -------------------------------------------------------------------------------

def test_workspace_scan_takes_bibliographies_and_csl_but_not_configs(tmp_path: Path):
    csl = json.dumps([{"id": "a", "type": "article", "title": "T"}])
    write(tmp_path, {
        "refs.bib": "", "papers/csl.json": csl, "papers/csl.yaml": "references:\n- id: a\n",
        "papers/list.yml": "- id: b\n  type: book\n",
        "package.json": json.dumps({"name": "x", "type": "module"}), "config.json": json.dumps([1, 2]),
        "_quarto.yml": "references:\n", "notes.yml": "title: x\n",
        "node_modules/dep/x.bib": "", ".git/y.bib": "", "_site/z.bib": "", "_freeze/f.bib": "",
        "env/pyvenv.cfg": "", "env/lib/v.bib": "", "build/b.bib": "",
    })
    scan = workspace_bibliographies(tmp_path)
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in scan.files] == [
        "refs.bib", "papers/csl.json", "papers/csl.yaml", "papers/list.yml"]
    assert not scan.truncated


def test_workspace_scan_stops_at_the_limit(tmp_path: Path):
    write(tmp_path, {f"{i}.bib": "" for i in range(3)})
    assert workspace_bibliographies(tmp_path, limit=3).truncated is False
    scan = workspace_bibliographies(tmp_path, limit=2)
    assert len(scan.files) == 2 and scan.truncated


def test_workspace_scan_stops_at_the_time_budget(tmp_path: Path):
    write(tmp_path, {"a/x.bib": ""})
    assert workspace_bibliographies(tmp_path, budget=0).truncated


# --- The libraries setting ------------------------------------------------------------------------

def test_library_globs_expand_home_and_recurse(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write(tmp_path, {"home/lib/a.bib": "", "home/lib/b.json": "[]", "proj/deep/x/c.bib": "", "proj/d.bib": ""})
    files, errors = expand_library_setting(["~/lib/*.bib", "**/*.bib", "~/lib/a.bib"], tmp_path / "proj")
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in files] == [
        "home/lib/a.bib", "proj/d.bib", "proj/deep/x/c.bib"]
    assert errors == []


def test_library_patterns_that_name_no_file_are_reported(tmp_path: Path):
    write(tmp_path, {"lib/a.bib": ""})
    files, errors = expand_library_setting(["lib", "gone.bib", "*.nothing", " ", str(tmp_path / "lib/a.bib")], tmp_path)
    assert files == [(tmp_path / "lib/a.bib").resolve()]
    assert errors == ["lib: is a folder; use a glob such as lib/**/*.bib",
                      "gone.bib: not found", "*.nothing: no file matches", "empty path"]
