"""The `papercite` command: serve, index, search, check, demo.

Errors reach the user as one line on stderr and a non-zero exit, never a traceback. Each command
imports what it uses when it runs, for start-up time (`papercite search` loads no pygls, `serve`
no tqdm, `--help` neither); no import here is late to dodge a cycle.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papercite.index.model import Problem

from papercite.server.cli.errors import CliError

EXIT_USAGE = 2


def _index_dir_option(default) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", type=Path, metavar="DIR", default=default,
                        help="where the index lives (default: the user cache dir, e.g. ~/.cache/papercite/index)")
    return common


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="papercite", description="Cite papers as easily as completing a name.",
                                     parents=[_index_dir_option(None)])
    # after the command too; absent there, it must not overwrite the one given before the command
    common = _index_dir_option(argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common], help="run the language server on stdio")
    transport = serve.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk LSP on stdin/stdout (the default)")
    transport.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (for debugging)")
    serve.add_argument("--clientProcessId", "--client-process-id", dest="client_process", type=int, metavar="PID",
                       help="exit when this process (the editor) has gone")

    index = commands.add_parser("index", parents=[common], help="index library files or folders")
    index.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    index.add_argument("--force", action="store_true", help="re-read files even when unchanged")

    search = commands.add_parser("search", parents=[common], help="ranked papers for a query")
    search.add_argument("query", nargs="+")
    search.add_argument("--limit", type=_positive, default=10, metavar="N")
    search.add_argument("--json", action="store_true", help="one JSON object a line")

    check = commands.add_parser("check", parents=[common],
                                help="report undefined citations and bibliography errors like a linter")
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                       help="a LaTeX/Markdown document, a bibliography, or a project folder")
    check.add_argument("--json", action="store_true", help="one JSON object a line")

    commands.add_parser("demo", parents=[common], help="index the bundled sample library and show what it does")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CliError as err:
        print(f"papercite: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `papercite search x | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _store(args):
    from papercite.index.store import IndexUnusable, PaperStore  # deferred for start-up

    try:
        store = PaperStore(args.index_dir)
    except IndexUnusable as err:
        raise CliError(str(err)) from None
    except OSError as err:
        raise CliError(f"cannot open the index at {args.index_dir or 'the default location'}: {err}") from None
    for notice in store.notices:
        print(f"papercite: {notice}", file=sys.stderr)
    return store


def library_files(paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    """Files named, plus the bibliographies found in folders named; and a problem per folder that
    could not be listed. A missing path, or one named that is no library file, is an error."""
    from papercite.index.readers import library_problem  # deferred for start-up
    from papercite.server.documents.bibliographies import (  # deferred for start-up
        unlisted_folders,
        workspace_bibliographies,
    )

    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        path = path.expanduser()
        if path.is_dir():
            scan = workspace_bibliographies(path, limit=100_000, budget=60.0)
            files.extend(scan.files)
            problems += unlisted_folders(scan)
        elif path.exists():
            if (problem := library_problem(path)) is not None:
                raise CliError(f"{path}: {problem}")
            files.append(path)
        else:
            raise CliError(f"{path}: no such file or folder")
    return files, problems


def cmd_index(args) -> int:
    from tqdm import tqdm  # deferred for start-up

    from papercite.index.store import IndexUnusable  # deferred for start-up

    files, unlisted = library_files(args.paths)
    store = _store(args)
    with tqdm(total=len(files), unit="file", disable=None, file=sys.stderr, leave=False) as bar:
        def progress(done: int, total: int, source: str) -> None:
            bar.n = done
            bar.set_postfix_str(Path(source).name if source else "writing the index", refresh=True)

        try:
            report = store.update(files, progress=progress, force=args.force)
        except IndexUnusable as err:  # locked by another writer, or read-only
            raise CliError(str(err)) from None
    report.problems[:0] = unlisted
    for problem in report.problems:
        print(problem.render(), file=sys.stderr)
    errors = sum(p.severity == "error" for p in report.problems)
    print(f"{store.count()} papers in the index from {len(store.catalogue().sources)} sources; "
          f"this run: {report.papers} papers from {len(report.indexed)} changed files, "
          f"{len(report.unchanged)} unchanged, {len(report.removed)} removed, "
          f"{len(report.problems)} problems ({errors} errors), {report.seconds:.1f} s")
    return 0


def cmd_search(args) -> int:
    from papercite.index.search import PaperSearch  # deferred for start-up

    store = _store(args)
    told = len(store.notices)
    hits = store.read(PaperSearch(store).search, " ".join(args.query), args.limit)
    for notice in store.notices[told:]:  # damage found by the search itself
        print(f"papercite: {notice}", file=sys.stderr)
    for hit in hits:
        if args.json:
            print(json.dumps({"key": hit.key, "title": hit.title, "authors": hit.surnames, "year": hit.year,
                              "score": round(hit.score, 3), "source": hit.source}, ensure_ascii=False))
        else:
            authors = ", ".join(hit.surnames[:3]) + (" et al." if len(hit.surnames) > 3 else "")
            print(f"{hit.key}\t{hit.year or ''}\t{authors}\t{hit.title}")
    if not hits and not args.json:
        print("no match", file=sys.stderr)
    return 0


def cmd_serve(args) -> int:
    from papercite.server.lsp.serve import run  # deferred for start-up: pygls loads only for `serve`

    return run(tcp=args.tcp, index_dir=args.index_dir, client_process=args.client_process)


def cmd_check(args) -> int:
    from papercite.server.cli.check import run_check  # deferred for start-up

    return run_check(args.paths, index_dir=args.index_dir, as_json=args.json)


def cmd_demo(args) -> int:
    from papercite.server.cli.demo import run_demo  # deferred for start-up

    return run_demo(index_dir=args.index_dir)


COMMANDS = {"serve": cmd_serve, "index": cmd_index, "search": cmd_search, "check": cmd_check, "demo": cmd_demo}
