"""Which bibliography files a document uses, found the way LaTeX and pandoc/Quarto find them.

Pure functions over text and paths: the server passes the editor's buffer (which may be unsaved)
and everything else is read from disk through a ``read`` callable, so tests can inject files.
Positions in problems are 0-based lines and code-point columns, like the rest of the index model.
"""

from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from papercite.index.lines import LineIndex
from papercite.index.model import Problem
from papercite.index.readers import (
    NotReadable,
    decode,
    format_of,
    format_problem,
    library_problem,
    read_bytes,
    read_head,
)

if TYPE_CHECKING:
    import yaml

Reader = Callable[[Path], str | None]

_MAGIC_LINES = 20  # TeXstudio, TeXShop and LaTeX Workshop only look near the top
_MAX_INPUT_DEPTH = 8
_MAX_PROJECT_FILES = 200
_MAX_ROOT_CANDIDATES = 30
_MAX_QUARTO_LEVELS = 10


def read_text(path: Path) -> str | None:
    """A file's text as the readers decode it, or None when it cannot be read (or is no regular
    file: a FIFO named chapter.tex must not stop the server)."""
    try:
        return decode(read_bytes(path))[0]
    except OSError:
        return None


@dataclass
class Declared:
    """The bibliographies a document declares. ``files`` keeps missing ones too (also listed in
    ``missing`` and reported in ``problems`` at their declaration) so the server can say so; so
    are files that are there but no library papercite may read (/etc/passwd, a FIFO)."""

    files: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    root: Path | None = None
    problems: list[Problem] = field(default_factory=list)


class _Ref(NamedTuple):
    """One declared name, where it was written, and the folders it may be relative to."""

    name: str
    target: str
    source: Path
    line: int
    column: int
    bases: tuple[Path, ...]


def declared_bibliographies(text: str, path: Path, syntax: Literal["latex", "markdown"],
                            read: Reader = read_text) -> Declared:
    """The bibliographies ``text`` (the document at ``path``) uses, in declaration order."""
    if syntax == "latex":
        return _latex(text, path.resolve(), read)
    if syntax == "markdown":
        return _markdown(text, path.resolve(), read)
    raise ValueError(f"unknown syntax: {syntax!r}")


def _finish(refs: list[_Ref], root: Path | None, problems: list[Problem]) -> Declared:
    """Resolve every reference once; de-duplicate files but report each missing declaration."""
    declared = Declared(root=root, problems=problems)
    for ref in refs:
        path, exists = _resolve(ref)
        if path not in declared.files:
            declared.files.append(path)
        if not exists:
            message = f"bibliography not found: {ref.name} ({path})"
        elif (refused := library_problem(path)) is not None:
            message = f"bibliography not read: {ref.name} ({path}): {refused}"
        else:
            continue
        if path not in declared.missing:
            declared.missing.append(path)
        declared.problems.append(Problem(source=str(ref.source), line=ref.line, column=ref.column, message=message))
    return declared


def _resolve(ref: _Ref) -> tuple[Path, bool]:
    """The first base where the file exists; else the first base, so the report names the
    place the tool would have looked first."""
    candidates = [(base / ref.target).resolve() for base in ref.bases]
    found = next((c for c in candidates if c.exists()), None)
    return (found, True) if found else (candidates[0], False)


def _unique(paths: Iterable[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(paths))


# --- LaTeX -------------------------------------------------------------------------------------

# A % starts a comment unless escaped; \\% is a line break followed by a comment.
_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%.*")
_MAGIC_ROOT = re.compile(r"^[ \t]*%[ \t]*![ \t]*tex[ \t]*root[ \t]*=[ \t]*(?P<path>\S.*?)\s*$", re.I | re.M)
_LATEX = re.compile(
    r"\\(?P<cmd>bibliography|nobibliography|addbibresource|addglobalbib|addsectionbib"
    r"|input|include|subfile)(?![A-Za-z@])\s*(?:\[(?P<opt>[^\]]*)\])?\s*\{(?P<arg>[^{}]*)\}"
    r"|\\begin\s*\{refsection\}\s*\[(?P<refsection>[^\]]*)\]"
)
_BIBTEX_LISTS = {"bibliography", "nobibliography"}  # comma-separated, ".bib" implied
_INCLUDES = {"input", "include", "subfile"}
_REMOTE = re.compile(r"location\s*=\s*remote")


def _strip_comments(text: str) -> str:
    """Blank out comments, keeping every other character where it was so offsets stay valid."""
    return _COMMENT.sub(lambda m: m[1] + " " * (len(m[0]) - len(m[1])), text)


def _magic_root(text: str, doc: Path) -> tuple[Path, int] | None:
    """The file named by ``% !TeX root = ...`` near the top, and the line naming it."""
    head = "\n".join(text.split("\n", _MAGIC_LINES)[:_MAGIC_LINES])
    match = _MAGIC_ROOT.search(head)
    if not match:
        return None
    root = doc.parent / match["path"].strip("\"'")
    if not root.suffix:
        root = root.with_suffix(".tex")
    return root.resolve(), LineIndex(head).line_col(match.start())[0]


def _is_literal(name: str) -> bool:
    """Names built from macros (``\\jobname``, ``#1`` in a definition) cannot be resolved here."""
    return bool(name) and "\\" not in name and "#" not in name


def _split_names(arg: str, offset: int) -> Iterator[tuple[str, int]]:
    """Comma-separated names with the offset of each, surrounding spaces dropped."""
    for part in re.finditer(r"[^,]+", arg):
        name = part[0].strip()
        if name:
            yield name, offset + part.start() + part[0].index(name)


def _declared_names(match: re.Match[str]) -> Iterator[tuple[str, str, int]]:
    """(name as written, file name to look for, offset) for one bibliography declaration."""
    if match["refsection"] is not None:
        yield from ((n, n, o) for n, o in _split_names(match["refsection"], match.start("refsection")))
    elif match["cmd"] in _BIBTEX_LISTS:
        for name, offset in _split_names(match["arg"], match.start("arg")):
            yield name, name if name.lower().endswith(".bib") else f"{name}.bib", offset
    elif not _REMOTE.search(match["opt"] or ""):
        yield from ((n, n, o) for n, o in _split_names(match["arg"], match.start("arg")))


class _Project:
    """Depth-first walk of a LaTeX project in document order, following \\input and friends;
    cycle-safe and bounded so a huge or self-including project cannot stall the server."""

    def __init__(self, root_dir: Path, read: Reader):
        self.root_dir = root_dir
        self.read = read
        self.refs: list[_Ref] = []
        self.seen: set[Path] = set()

    def visit(self, path: Path, text: str, depth: int = 0) -> None:
        self.seen.add(path)
        clean = _strip_comments(text)
        bases = _unique([self.root_dir, path.parent])
        lines: LineIndex | None = None  # made for the first declaration: most files have none
        for match in _LATEX.finditer(clean):
            if match["cmd"] in _INCLUDES:
                if depth < _MAX_INPUT_DEPTH:
                    self._follow(match["arg"].strip(), path, depth)
                continue
            for name, target, offset in _declared_names(match):
                if _is_literal(name):
                    lines = lines or LineIndex(clean)
                    self.refs.append(_Ref(name, target, path, *lines.line_col(offset), bases))

    def _follow(self, name: str, parent: Path, depth: int) -> None:
        """Read the first existing candidate: TeX tries ``name.tex`` before ``name``, from the
        root's folder (LaTeX's working directory), then beside the including file."""
        if not _is_literal(name) or len(self.seen) >= _MAX_PROJECT_FILES:
            return
        names = [name] if name.endswith(".tex") else [f"{name}.tex", name]
        for base in _unique([self.root_dir, parent.parent]):
            for candidate in ((base / n).resolve() for n in names):
                if candidate in self.seen:
                    return
                text = self.read(candidate)
                if text is not None:
                    self.visit(candidate, text, depth + 1)
                    return


def _latex(text: str, doc: Path, read: Reader) -> Declared:
    read = _with_buffer(read, doc, text)
    magic = _magic_root(text, doc)
    if magic:
        return _from_root(doc, text, *magic, read)
    project = _Project(doc.parent, read)
    project.visit(doc, text)
    if not project.refs and not _is_root(text):
        enclosing = _enclosing_root(doc, read)
        if enclosing:
            return _finish(enclosing[1].refs, enclosing[0], [])
    return _finish(project.refs, None, [])


def _with_buffer(read: Reader, doc: Path, text: str) -> Reader:
    """Reads that see the editor's (possibly unsaved) text for the document itself."""
    return lambda path: text if path == doc else read(path)


def _is_root(text: str) -> bool:
    return "\\documentclass" in _strip_comments(text)


def _from_root(doc: Path, text: str, root: Path, line: int, read: Reader) -> Declared:
    """The root's declarations and those of the files it includes; the document's own too when
    the root does not reach it (a stale or wrong root comment should not hide them)."""
    project = _Project(root.parent, read)
    problems: list[Problem] = []
    root_text = read(root)
    if root_text is None:
        problems.append(Problem(source=str(doc), line=line, message=f"TeX root not found: {root}"))
    else:
        project.visit(root, root_text)
    if doc not in project.seen:
        project.visit(doc, text)
    return _finish(project.refs, root, problems)


def _enclosing_root(doc: Path, read: Reader) -> tuple[Path, _Project] | None:
    """A root next to the document, or one folder up, that includes it: for a chapter file
    without a ``% !TeX root`` comment."""
    for candidate in _root_candidates(doc):
        text = read(candidate)
        if text is None or not _is_root(text):
            continue
        project = _Project(candidate.parent, read)
        project.visit(candidate, text)
        if doc in project.seen:
            return candidate, project
    return None


def _root_candidates(doc: Path) -> list[Path]:
    folders = _unique([doc.parent, doc.parent.parent])
    found = (p.resolve() for folder in folders for p in sorted(folder.glob("*.tex")))
    return [p for p in found if p != doc][:_MAX_ROOT_CANDIDATES]


# --- Markdown, Quarto, R Markdown --------------------------------------------------------------

_FENCE_CLOSE = {"---", "..."}


def _markdown(text: str, doc: Path, read: Reader) -> Declared:
    """Front matter first, then Quarto's directory metadata (nearest first), then the project."""
    problems: list[Problem] = []
    front = _front_matter(text)
    refs = _yaml_source(front, doc, 1, read, problems) if front is not None else []
    for path, meta in _quarto_metadata(doc.parent, read):
        refs += _yaml_source(meta, path, 0, read, problems)
    return _finish(refs, None, problems)


def _yaml_source(text: str, source: Path, first_line: int, read: Reader, problems: list[Problem]) -> list[_Ref]:
    """One YAML header or metadata file: its ``bibliography:``, then that of its ``metadata-files:``."""
    node = _compose(text, source, first_line, problems)
    refs = _yaml_refs(node, source, problems)
    for path, extra in _metadata_files(node, source, read, problems):
        refs += _yaml_refs(_compose(extra, path, 0, problems), path, problems)
    return refs


def _front_matter(text: str) -> str | None:
    """The YAML between a ``---`` on the very first line and the next ``---`` or ``...``."""
    lines = text.removeprefix("\ufeff").split("\n")
    if lines[0].rstrip() != "---":
        return None
    for end, line in enumerate(lines[1:], start=1):
        if line.rstrip() in _FENCE_CLOSE:
            return "\n".join(lines[1:end])
    return None


def _compose(text: str, source: Path, first_line: int, problems: list[Problem]) -> yaml.MappingNode | None:
    """The YAML's node tree, not its values: positions come for free, and tags pandoc and
    R Markdown accept (``!expr``) do not make a valid header look broken. Leading blank lines
    make every position count from the top of ``source``. (yaml is imported here, not at
    start-up: a LaTeX user would wait for it at every start.)"""
    import yaml  # deferred for start-up (the docstring says why)

    try:
        node = yaml.compose("\n" * first_line + text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problems.append(Problem(source=str(source), line=mark.line if mark else first_line,
                                column=mark.column if mark else 0,
                                message=f"invalid YAML: {getattr(err, 'problem', None) or err}"))
        return None
    return node if node is not None and node.id == "mapping" else None


def _value(node: yaml.MappingNode | None, key: str) -> yaml.Node | None:
    if node is None:
        return None
    return next((v for k, v in node.value if k.id == "scalar" and k.value == key), None)


def _file_names(node: yaml.Node | None, source: Path, key: str, problems: list[Problem]) -> list[yaml.ScalarNode]:
    """A key's file names: a string or a list of strings; anything else is reported."""
    if node is None or _is_null(node):
        return []
    items = node.value if node.id == "sequence" else [node]
    if not all(i.id == "scalar" for i in items):
        problems.append(Problem(source=str(source), line=node.start_mark.line, column=node.start_mark.column,
                                message=f"{key} should be a file name or a list of file names"))
    return [i for i in items if i.id == "scalar" and i.value and not _is_null(i)]


def _is_null(node: yaml.Node) -> bool:
    return node.tag == "tag:yaml.org,2002:null"


def _yaml_refs(node: yaml.MappingNode | None, source: Path, problems: list[Problem]) -> list[_Ref]:
    """``bibliography:`` entries, relative to the folder of the file declaring them (pandoc runs
    beside the document; Quarto resolves project metadata beside its file)."""
    key = "bibliography"
    names = _file_names(_value(node, key), source, key, problems)
    return [_Ref(n.value, os.path.expanduser(n.value), source, n.start_mark.line, n.start_mark.column,
                 (source.parent,)) for n in names if "://" not in n.value]


def _quarto_metadata(folder: Path, read: Reader) -> list[tuple[Path, str]]:
    """Walking up to the nearest Quarto project: every ``_metadata.yml`` on the way, then
    ``_quarto.yml``. Outside a project, directory metadata does not apply: nothing."""
    found: list[tuple[Path, str]] = []
    for level in [folder, *folder.parents][:_MAX_QUARTO_LEVELS]:
        found += _first_readable(level, "_metadata", read)
        project = _first_readable(level, "_quarto", read)
        if project:
            return found + project
    return []


def _first_readable(folder: Path, stem: str, read: Reader) -> list[tuple[Path, str]]:
    for path in (folder / f"{stem}.yml", folder / f"{stem}.yaml"):
        text = read(path)
        if text is not None:
            return [(path, text)]
    return []


def _metadata_files(node: yaml.MappingNode | None, source: Path, read: Reader,
                    problems: list[Problem]) -> Iterator[tuple[Path, str]]:
    """The files ``metadata-files:`` merges in (unreadable ones are Quarto's to report)."""
    for name in _file_names(_value(node, "metadata-files"), source, "metadata-files", problems):
        path = (source.parent / name.value).resolve()
        text = read(path)
        if text is not None:
            yield path, text


# --- Workspace scan ----------------------------------------------------------------------------

_SKIP_DIRS = {"node_modules", "__pycache__", "site-packages", "venv", "build", "dist", "_build",
              "_site", "_freeze", "_book", "target"}
_CONFIG_STEMS = ("_quarto", "_metadata", "_variables")


@dataclass(frozen=True)
class WorkspaceScan:
    """Bibliographies found in a workspace; ``truncated`` when the file or time limit cut it short;
    ``unreadable``: the folders that could not be listed, with the reason."""

    files: list[Path]
    truncated: bool
    unreadable: list[tuple[Path, str]] = field(default_factory=list)


def workspace_bibliographies(root: Path, limit: int = 200, budget: float = 0.5) -> WorkspaceScan:
    """BibTeX and CSL files under ``root``, for documents that declare none. Bounded by ``limit``
    files and ``budget`` seconds, since it runs while the user waits for a completion."""
    return walk_workspace(root, is_bibliography_file, limit, budget)


def walk_workspace(root: Path, wanted: Callable[[Path], bool], limit: int, budget: float) -> WorkspaceScan:
    """The files under ``root`` that ``wanted`` accepts, in a stable order, skipping folders that
    hold no sources; bounded by ``limit`` files and ``budget`` seconds."""
    deadline = time.monotonic() + budget
    found: list[Path] = []
    unreadable: list[tuple[Path, str]] = []

    def cannot_list(err: OSError) -> None:
        unreadable.append((Path(err.filename), err.strerror or str(err)))

    # the root resolved once: below it only a link is another path resolved (os.walk does not
    # enter linked folders), and resolving every file costs a system call per path component
    for folder, dirs, names in os.walk(root.resolve(), onerror=cannot_list):
        if time.monotonic() > deadline:
            return WorkspaceScan(found, True, unreadable)
        dirs[:] = sorted(d for d in dirs if not _skipped_dir(Path(folder, d)))
        for name in sorted(names):
            path = Path(folder, name)
            if wanted(path):
                if len(found) == limit:
                    return WorkspaceScan(found, True, unreadable)
                found.append(path.resolve() if path.is_symlink() else path)
    return WorkspaceScan(found, False, unreadable)


def unlisted_folders(scan: WorkspaceScan) -> list[Problem]:
    """An error per folder of a walk that could not be listed: its files were not seen."""
    return [Problem(source=str(folder), line=0, code="unreadable",
                    message=f"cannot read the folder ({reason}); its files were left out")
            for folder, reason in scan.unreadable]


def _skipped_dir(path: Path) -> bool:
    """Hidden folders, dependencies, virtual environments and build outputs hold no sources."""
    return path.name.startswith(".") or path.name in _SKIP_DIRS or (path / "pyvenv.cfg").exists()


def is_bibliography_file(path: Path) -> bool:
    """A BibTeX file, or a JSON/YAML file whose first KB reads as CSL (`looks_like_bibliography`).
    A FIFO or device of such a name is one too, unopened, and so is one that cannot be read:
    indexing then says why it skips it."""
    fmt = format_of(path)
    if fmt is None or not fmt.discovered:
        return False
    try:
        return looks_like_bibliography(path, "" if fmt.sniff is None else read_head(path))
    except (NotReadable, PermissionError):
        return True
    except OSError:
        return False


def looks_like_bibliography(path: Path, text: str) -> bool:
    """Whether a file of this name and text (its first KB is enough) is a bibliography: BibTeX by
    its name, CSL by its content (`readers.format_problem`); package.json and tool configs are none."""
    fmt = format_of(path)
    if fmt is None or not fmt.discovered:
        return False
    return fmt.sniff is None or (not path.stem.startswith(_CONFIG_STEMS)
                                 and format_problem(path, text, empty_ok=False) is None)


# --- The libraries setting ---------------------------------------------------------------------

_GLOB_CHARS = re.compile(r"[*?[]")


def expand_library_setting(patterns: list[str], base: Path | None) -> tuple[list[Path], list[str]]:
    """Files named by the ``libraries`` setting (paths or globs, ``~`` expanded, ``**`` recursive,
    relative to ``base`` when given), and one message per pattern that names no file. Only library
    files count (`readers.library_problem`: `/etc/*` reads no shadow file), and a glob follows a
    link only to a file inside its own folder (`_glob_root`)."""
    files: list[Path] = []
    errors: list[str] = []
    for pattern in patterns:
        matched, error = _expand(pattern, base)
        files += [p for p in matched if p not in files]
        if error:
            errors.append(error)
    return files, errors


def _expand(pattern: str, base: Path | None) -> tuple[list[Path], str | None]:
    if not pattern.strip():
        return [], "empty path"
    path = Path(pattern).expanduser()
    folder = base or Path.cwd()
    if _GLOB_CHARS.search(pattern):
        # root_dir, not joining, so brackets in the base folder's name are not read as a glob
        matched = [((folder / p).resolve(), folder / p) for p in sorted(glob.glob(str(path), root_dir=folder,
                                                                               recursive=True))]
        root = (folder / _glob_root(path)).resolve()
        files = [real for real, p in matched if real.is_relative_to(root) and library_problem(p) is None]
        if files:
            return files, None
        return [], f"{pattern}: no {'library ' if matched else ''}file matches"
    path = folder / path
    if path.is_dir():
        return [], f"{pattern}: is a folder; use a glob such as {pattern.rstrip('/')}/**/*.bib"
    if not path.exists():
        return [], f"{pattern}: not found"
    problem = library_problem(path)
    return ([path.resolve()], None) if problem is None else ([], f"{pattern}: {problem}")


def _glob_root(pattern: Path) -> Path:
    """The folder a glob pattern stays in: its parts before the first with a glob character. A link
    a glob matches is followed only inside it (`/etc/*` reads no file a link points to
    elsewhere; a file named without a glob may be anywhere)."""
    parts = pattern.parts
    fixed = next(i for i, part in enumerate(parts) if _GLOB_CHARS.search(part))
    return Path(*parts[:fixed]) if fixed else Path()
