"""`papercite check FILE...`: the editor's diagnostics as a linter, for CI on a LaTeX or Markdown
project: undefined citation keys, bibliographies declared but missing, and problems in the
bibliographies themselves (syntax errors, duplicate keys, entries without a key).

Lines are `path:line:col: severity: message` (1-based); `--json` gives one object a line. The
exit status is 1 when any error is found. An undefined key is an error here (in the editor it is
a warning while you type): a CI job should fail on a citation LaTeX or pandoc cannot resolve.
"""

from __future__ import annotations

import json
from pathlib import Path

from papercite.index.model import Problem
from papercite.index.readers import decode, is_library, read_file
from papercite.server.citations import syntax_for
from papercite.server.citations.parsers import PARSERS


def check_files(files: list[Path], index_dir: Path | None) -> list[Problem]:
    """Every problem in these files (documents and bibliographies), sorted by place."""
    from papercite.server.library import Library

    library = Library(index_dir)
    problems: list[Problem] = []
    for path in files:
        path = path.resolve()
        syntax = syntax_for("", str(path))
        if syntax is None:
            problems.extend(read_file(path).problems if is_library(path) else [
                Problem(source=str(path), line=0, message="neither a LaTeX/Markdown document nor a bibliography")])
            continue
        text, _ = decode(path.read_bytes())
        scope = library.scope(path, text, syntax)
        report = library.store.update([*scope.own, *library.global_files])
        problems.extend(p for p in report.problems if p.severity == "error")
        problems.extend(p for p in scope.problems)
        problems.extend(undefined_keys(library, scope, path, text, syntax))
    seen = set()
    unique = []
    for problem in problems:  # a bibliography shared by several documents is reported once
        key = (problem.source, problem.line, problem.column, problem.message)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return sorted(unique, key=lambda p: (p.source, p.line, p.column))


def undefined_keys(library, scope, path: Path, text: str, syntax: str) -> list[Problem]:
    problems = []
    for ref in library.undefined(PARSERS[syntax].find_citations(text), scope):
        line = text.count("\n", 0, ref.start)
        column = ref.start - (text.rfind("\n", 0, ref.start) + 1)
        problems.append(Problem(source=str(path), line=line, column=column, severity="error",
                                message=f"undefined citation key '{ref.key}'"))
    return problems


def run_check(files: list[Path], index_dir: Path | None = None, as_json: bool = False) -> int:
    from papercite.server.cli import CliError

    missing = [f for f in files if not f.is_file()]
    if missing:
        raise CliError(f"{missing[0]}: no such file")
    problems = check_files(files, index_dir)
    for problem in problems:
        if as_json:
            print(json.dumps({"path": problem.source, "line": problem.line + 1, "column": problem.column + 1,
                              "severity": problem.severity, "message": problem.message}, ensure_ascii=False))
        else:
            print(problem.render())
    return 1 if any(p.severity == "error" for p in problems) else 0
