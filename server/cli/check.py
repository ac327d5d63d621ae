"""`papercite check PATH...`: the editor's diagnostics as a linter, for CI on a LaTeX or Markdown
project: undefined citation keys, bibliographies declared but missing, and problems in the
bibliographies themselves (syntax errors, duplicate keys, entries without a key, encodings).

A path is a document, a bibliography, or a folder standing for the project in it: its LaTeX
files, its Markdown files that declare a bibliography (front matter or `_quarto.yml`: a README
that mentions @someone is no pandoc document), and every bibliography in it. Each document is
checked against the bibliographies it sees, as in the editor; each bibliography is reported
once, however many documents use it.

Lines are `path:line:col: severity: message` (1-based; paths relative to the current folder when
inside it); `--json` gives one object a line. Errors and warnings are reported (notes such as
an @string defined in another file are for the editor); the exit status is 1 when any error is
found. An undefined key is an error here (in the editor it is a warning while you type): a CI job
should fail on a citation LaTeX or pandoc cannot resolve.
"""

from __future__ import annotations

import json
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from papercite.index.lines import LineIndex
from papercite.index.model import Problem
from papercite.index.readers import is_library
from papercite.server.cli.errors import CliError
from papercite.server.documents.bibliographies import (
    declared_bibliographies,
    is_bibliography_file,
    read_text,
    unlisted_folders,
    walk_workspace,
)
from papercite.server.documents.citations import syntax_for
from papercite.server.documents.citations.parsers import PARSERS
from papercite.server.documents.library import IndexUnusable, Library, ReadOnlyIndex

REPORTED = ("error", "warning")
PROJECT_FILES = 100_000  # files a folder may hold, and seconds to find them: a project, not a disk
PROJECT_SECONDS = 60.0


@dataclass
class Project:
    """What the paths on the command line name."""

    documents: list[tuple[Path, str]] = field(default_factory=list)  # (path, syntax)
    bibliographies: list[Path] = field(default_factory=list)
    others: list[Path] = field(default_factory=list)  # named, but neither
    problems: list[Problem] = field(default_factory=list)  # folders that could not be listed


def project_of(paths: list[Path]) -> Project:
    """The documents and bibliographies named, or found in the folders named. A missing path is
    an error for the user to fix (CliError), not a problem of the project."""
    project = Project()
    for path in paths:
        path = path.expanduser()
        if path.is_dir():
            found = walk_workspace(path, _in_project, PROJECT_FILES, PROJECT_SECONDS)
            project.problems += unlisted_folders(found)
            for file in found.files:
                syntax = syntax_for("", str(file))
                if syntax is None:
                    project.bibliographies.append(file)
                elif syntax == "latex" or _declares_bibliography(file):
                    project.documents.append((file, syntax))
        elif path.exists():
            path = path.resolve()
            syntax = syntax_for("", str(path))
            if syntax is not None:
                project.documents.append((path, syntax))
            elif is_library(path):
                project.bibliographies.append(path)
            else:
                project.others.append(path)
        else:
            raise CliError(f"{path}: no such file or folder")
    return project


def _in_project(path: Path) -> bool:
    return syntax_for("", str(path)) is not None or is_bibliography_file(path)


def _declares_bibliography(path: Path) -> bool:
    text = read_text(path)
    return text is not None and bool(declared_bibliographies(text, path, "markdown").files)


def check_project(project: Project, index_dir: Path | None) -> tuple[list[Problem], int]:
    """Every problem of the project's documents and bibliographies, each once, sorted by place;
    and how many bibliographies were checked (those named and those the documents use)."""
    with ExitStack() as stack:
        return _check_project(project, _library(index_dir, stack))


def _library(index_dir: Path | None, stack: ExitStack) -> Library:
    """The library over the index; a read-only index (a CI cache restored read-only) is only a
    cache, so the check goes on in a temporary index of its own, and says so."""
    try:
        library = Library(index_dir)
    except ReadOnlyIndex as err:  # read-only, and no usable index in it
        reason = str(err)
    except IndexUnusable as err:  # not papercite's folder, or locked
        raise CliError(str(err)) from None
    except OSError as err:
        raise CliError(f"cannot open the index at {index_dir or 'the default location'}: {err}") from None
    else:
        if not library.read_only:
            return library
        reason = f"the index at {library.index_dir} is read-only"
    print(f"papercite: {reason}; checking with a temporary index", file=sys.stderr)
    return Library(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="papercite-check-"))))


def _check_project(project: Project, library) -> tuple[list[Problem], int]:
    problems = [Problem(source=str(p), line=0, message="neither a LaTeX/Markdown document nor a bibliography")
                for p in project.others] + project.problems
    checked = []
    for path, syntax in project.documents:
        text = read_text(path)
        if text is None:
            problems.append(Problem(source=str(path), line=0, message="cannot read the file", code="unreadable"))
            continue
        checked.append((path, text, syntax, library.scope(path, text, syntax)))
    used = list(dict.fromkeys([*project.bibliographies, *(f for *_, scope in checked for f in scope.own)]))
    report = library.update(used)  # one pass: unchanged files are not read again
    problems += report.problems
    for path, text, syntax, scope in checked:
        problems += scope.problems
        problems += undefined_keys(library, scope, path, text, syntax)
    unique = {(p.source, p.line, p.column, p.message): p for p in problems if p.severity in REPORTED}
    return sorted(unique.values(), key=lambda p: (p.source, p.line, p.column)), len(used)


def undefined_keys(library, scope, path: Path, text: str, syntax: str) -> list[Problem]:
    """An error per citation of a key the document's bibliographies lack, naming the closest
    defined key (most often a typo)."""
    problems = []
    closest: dict[str, list[str]] = {}
    lines = LineIndex(text)
    for ref in library.undefined(PARSERS[syntax].find_citations(text), scope):
        if ref.key not in closest:
            closest[ref.key] = library.closest_keys(ref.key, scope, count=1)
        line, column = lines.line_col(ref.start)
        hint = f" (did you mean '{closest[ref.key][0]}'?)" if closest[ref.key] else ""
        problems.append(Problem(source=str(path), line=line, column=column, end_line=line,
                                end_column=column + len(ref.key), severity="error", code="undefined-key",
                                message=f"undefined citation key '{ref.key}'{hint}"))
    return problems


def shown_path(source: str) -> str:
    """Relative to the current folder when inside it, as linters print paths; else absolute."""
    path = Path(source)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return source


def run_check(paths: list[Path], index_dir: Path | None = None, as_json: bool = False) -> int:
    project = project_of(paths)
    problems, bibliographies = check_project(project, index_dir)
    for problem in problems:
        where = shown_path(problem.source)
        if as_json:
            end_line = problem.line if problem.end_line is None else problem.end_line
            end_column = problem.column if problem.end_column is None else problem.end_column
            print(json.dumps({"path": where, "line": problem.line + 1, "column": problem.column + 1,
                              "end_line": end_line + 1, "end_column": end_column + 1, "severity": problem.severity,
                              "code": problem.code, "message": problem.message}, ensure_ascii=False))
        else:
            print(f"{where}:{problem.line + 1}:{problem.column + 1}: {problem.severity}: {problem.message}")
    errors = sum(p.severity == "error" for p in problems)
    print(f"papercite check: {_count(len(project.documents), 'document')} and "
          f"{_count(bibliographies, 'bibliography', 'bibliographies')}: {_count(errors, 'error')}, "
          f"{_count(len(problems) - errors, 'warning')}", file=sys.stderr)
    return 1 if errors else 0


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"
