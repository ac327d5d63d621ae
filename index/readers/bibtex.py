"""BibTeX / biblatex reader.

bibtexparser v2's splitter cuts the file into blocks and recovers from broken entries; the
rest is done here because its middlewares do not cover it: `#` concatenation, crossref/xdata
inheritance, exact spans and the choice of venue, year and identifiers.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ParsingFailedBlock,
    String,
)
from bibtexparser.splitter import Splitter

from papercite.index.latex import to_unicode
from papercite.index.lines import LINE_FEED, LineIndex
from papercite.index.model import Author, Paper, Problem, ReadResult, Related, Span

# The splitter logs every broken block as a warning; we report them as Problems instead.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)

MONTH_MACROS = {
    "jan": "January", "feb": "February", "mar": "March", "apr": "April",
    "may": "May", "jun": "June", "jul": "July", "aug": "August",
    "sep": "September", "oct": "October", "nov": "November", "dec": "December",
}

VALUE_LIMIT = 64 * 1024
"""Characters of a field or @string value kept after expansion: above what a paper keeps of any
field (index/model.py), before the LaTeX conversion."""
EXPANSION_BUDGET = 1024 * 1024

# Entry types that hold data or style settings rather than a work one would cite.
NOT_CITABLE = frozenset({"xdata", "ieeetranbstctl"})

# biblatex never inherits these; we add the work's own identifiers and abstract, which would
# be wrong on a chapter or paper (the proceedings' DOI is not the paper's DOI).
NOT_INHERITED = frozenset({
    "ids", "crossref", "xref", "xdata", "entryset", "entrysubtype", "execute", "label",
    "options", "presort", "related", "relatedoptions", "relatedstring", "relatedtype",
    "shorthand", "shorthandintro", "sortkey",
    "abstract", "doi", "url", "eprint", "eprinttype", "eprintclass", "archiveprefix", "primaryclass",
})


def _renamings(parents: str, children: str, prefix: str) -> dict[tuple[str, str], dict[str, str]]:
    fields = {"title": f"{prefix}title", "subtitle": f"{prefix}subtitle", "titleaddon": f"{prefix}titleaddon"}
    return {(p, c): fields for p in parents.split() for c in children.split()}


# biblatex's default inheritance rules (biblatex.def): for these (parent, child) type pairs the
# parent's title becomes the child's booktitle / maintitle / journaltitle.
RENAMED_ON_INHERIT = {
    **_renamings("mvbook mvcollection mvreference mvproceedings",
                 "book inbook bookinbook suppbook collection reference incollection inreference "
                 "suppcollection proceedings inproceedings", "main"),
    **_renamings("book", "inbook bookinbook suppbook", "book"),
    **_renamings("collection reference", "incollection inreference suppcollection", "book"),
    **_renamings("proceedings", "inproceedings", "book"),
    **_renamings("periodical", "article suppperiodical", "journal"),
}

_IN_A_BOOK = ("booktitle", "maintitle", "journaltitle", "journal", "publisher")
_VENUE_FIELDS_BY_TYPE = {
    "article": ("journaltitle", "journal"),
    **dict.fromkeys(
        ["inproceedings", "conference", "incollection", "inbook", "inreference", "bookinbook",
         "suppbook", "suppcollection"], _IN_A_BOOK),
    **dict.fromkeys(["phdthesis", "mastersthesis", "thesis"], ("school", "institution")),
    **dict.fromkeys(["techreport", "report"], ("institution", "school", "publisher")),
    **dict.fromkeys(["book", "mvbook", "collection", "mvcollection", "proceedings", "mvproceedings",
                     "reference", "mvreference", "manual", "booklet"],
                    ("publisher", "organization", "institution", "howpublished")),
    **dict.fromkeys(["misc", "online", "electronic", "www", "web", "unpublished"],
                    ("howpublished", "journaltitle", "journal", "publisher", "organization")),
}
_VENUE_FALLBACK = ("journaltitle", "journal", "booktitle", "publisher", "school", "institution",
                   "organization", "howpublished")

_BRACE = re.compile(r"(?<!\\)[{}]")
_BRACE_OR_QUOTE = re.compile(r'(?<!\\)[{}"]')
_BARE_WORD = re.compile(r'[^\s#{"]+')
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_DOI_PREFIX = re.compile(r"^\s*(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_TEX_ESCAPE = re.compile(r"\\([_%&#$~])")
_ARXIV_ID = r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)"
_ARXIV_IN_TEXT = re.compile(r"arXiv\s*:?\s*" + _ARXIV_ID, re.IGNORECASE)
_ARXIV_IN_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/" + _ARXIV_ID, re.IGNORECASE)
_KEYLESS_ENTRY = re.compile(r"@\w+\s*[{(]\s*[^\s,={}()\"]+\s*=")
_ENTRY_HEAD = re.compile(r"@\w*[ \t]*[{(]")  # as the splitter starts a block
# What the comment scan stops at: outside blocks, a `%` or a block's head; inside one, its braces,
# quotes, `%`, closing `)` and a block head at the start of a line (where the splitter gives up the block).
_TOP_LEVEL_MARK = re.compile(r"(?<!\\)%|@(\w*)[ \t]*([{(])")
_BLOCK_MARK = re.compile(r'(?<!\\)[{}"%)]|\n[^\S\n]*@(\w*)[ \t]*([{(])')
_LINE_START_HEAD = re.compile(r"\n[^\S\n]*@\w*[ \t]*[{(]")
_COMMENT_REST = re.compile(r"[^\r\n]*")
_ENTRY_KEY = re.compile(r"@\w+\s*[{(]\s*([^\s,={}()\"]*)")
_VALID_KEY = re.compile(r'[^\s,={}()"#%~\\]+')
"""What BibTeX and biber take for a key, and \\cite{} reads back: no space, separator, brace or TeX special."""
_FIELD_NAME = re.compile(r"\s*([^\s,={}()\"#]+)\s*=\s*")
_CONCATENATION = re.compile(r"\s*(?:#\s*)?")  # between the parts of a value
_FIELD_START = re.compile(r"\n[ \t]*[A-Za-z][\w-]*[ \t]*=[ \t]*[{\"\d]")  # `  year = {`: a new field
# the token in bibtexparser's "but found `X`.", "found a X before.", "found the end of the entry (`}`)."
_FOUND_TOKEN = re.compile(r"found (?:a |the end of the entry \()?`?([^`\s]+?)`?\)?(?: before)?\.?\s*$")


def parse(text: str, source: str) -> ReadResult:
    """Papers and problems of one BibTeX/biblatex file. Never raises: a broken entry is a
    Problem, and so is a bug of ours or bibtexparser's (then the file yields no papers)."""
    try:
        return _Reader(text, source).read()
    except Exception as err:  # noqa: BLE001 - a reader must not take the server down
        return ReadResult(problems=[Problem(source=source, line=0, message=f"cannot read BibTeX: {err!r}")])


def written_key(raw: str, start: int, end: int, key: str, source: str) -> str | None:
    """A key is written as it is, when BibTeX can hold it: none of the characters that end or
    split one (`readers.KeyedReader`)."""
    return key if _VALID_KEY.fullmatch(key) else None


def entry_papers(raw: str, source: str) -> list[Paper]:
    """An entry's text is a BibTeX file of its own (`readers.KeyedReader`)."""
    return parse(raw, source).papers


def _without_percent_comments(text: str) -> str:
    """The text with each `%` comment (to the end of its line) blanked, where biber and pandoc take
    one: between entries and between the fields of one, not inside a value (`{50%}`, `"100%"`) nor
    in an @comment. Blanks keep every offset. BibTeX itself knows no `%` comments, but a
    commented-out `%@article{...` means the entry is gone, and a `% note` line between fields
    would otherwise break the entry or glue itself to the next field's name.

    Only the blocks holding a `%` are scanned: a block head at the start of a line begins a block
    whatever came before (the splitter gives up an unclosed block there), so the scan can start at
    the last such head before each `%`."""
    if "%" not in text:
        return text
    heads = [0] + [m.start() + 1 for m in _LINE_START_HEAD.finditer(text)]
    pieces: list[str] = []
    done = 0  # text[:done] is in pieces
    at = 0  # the scan is outside any block here

    def blank_from(percent: int) -> int:
        nonlocal done
        end = _COMMENT_REST.match(text, percent).end()
        pieces.extend((text[done:percent], " " * (end - percent)))
        done = end
        return end

    percent = -1
    while (percent := text.find("%", percent + 1)) != -1:
        if percent < at or text[percent - 1:percent] == "\\":
            continue  # blanked, or a value's text seen by the scan of its block, or an escaped `\%`
        at = max(at, heads[bisect_right(heads, percent) - 1])
        while at <= percent and (mark := _TOP_LEVEL_MARK.search(text, at)) is not None:
            if mark.group() == "%":
                at = blank_from(mark.start())
            else:
                at = _block_end(text, mark, blank_from)
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _block_end(text: str, head: re.Match, blank_from: Callable[[int], int]) -> int:
    """Where the block that ``head`` opens ends, as the splitter sees it (past its closing
    delimiter, or at the next block head at the start of a line); its `%` comments blanked."""
    block_type, opening = head.group(1).lower(), head.group(2)
    closing, depth, quoted = ")" if opening == "(" else "}", 0, False
    free_text = block_type == "comment"
    at = head.end()
    while (mark := _BLOCK_MARK.search(text, at)) is not None:
        char = mark.group()
        at = mark.end()
        if mark.group(1) is not None:  # a new block at the start of a line: this one is broken
            return mark.start() + 1
        if char == "{" and not quoted:
            depth += 1
        elif char == "}" and not quoted and depth > 0:
            depth -= 1
        elif char == closing and depth == 0 and not quoted:
            return at
        elif char == '"' and depth == 0 and not free_text:
            quoted = not quoted
        elif char == "%" and depth == 0 and not quoted and not free_text:
            at = blank_from(mark.start())
    return len(text)


class _Splitter(Splitter):
    """bibtexparser's splitter, but only `@comment`, `@string` and `@preamble` themselves are such
    blocks: it takes every type that starts so for one (`@commentary{key,...}` was dropped as a
    comment, `@strings{key,...}` misread as a macro)."""

    def _handle_explicit_comment(self, m):
        return super()._handle_explicit_comment(m) if _block_type(m) == "comment" else self._as_entry(m)

    def _handle_string(self, m):
        return super()._handle_string(m) if _block_type(m) == "string" else self._as_entry(m)

    def _handle_preamble(self, m):
        return super()._handle_preamble(m) if _block_type(m) == "preamble" else self._as_entry(m)

    def _as_entry(self, m):
        return self._handle_entry(m, m.group(0).lower())


def _block_type(head: re.Match) -> str:
    return head.group(0)[1:].strip().lower()


@dataclass
class _RawEntry:
    """An entry as written: field values are still BibTeX expressions (`{..}`, `".."`, macros)."""

    entry_type: str
    key: str
    fields: dict[str, str]
    field_lines: dict[str, int]
    start: int
    end: int
    line: int
    column: int
    key_span: Span
    key_end: int
    resolved: dict[str, str] | None = field(default=None, repr=False)


class _Reader:
    def __init__(self, text: str, source: str):
        self.written = text  # the entries' text as written, comments and all
        self.text = _without_percent_comments(text)  # what is parsed: same offsets
        self.source = source
        self.positions = LineIndex(text, LINE_FEED)  # lines as the splitter numbers them
        self.problems: list[Problem] = []
        self.macros = dict(MONTH_MACROS)
        self.undefined_macros: set[str] = set()
        self.entries: list[_RawEntry] = []
        self.by_exact_key: dict[str, _RawEntry] = {}
        self.by_key: dict[str, _RawEntry] = {}  # lowercased: BibTeX matches crossref keys so too
        self.resolving: set[str] = set()
        # characters @string macros may add to the file's values, in all: what real files need
        # (abbreviations of journal names) at any size, and a bound on what a hostile one costs
        self.expansion_left = EXPANSION_BUDGET + len(text)
        self.expansion_spent = False
        self.first_cut: Problem | None = None
        self.more_cuts = 0

    def problem(self, line: int, message: str, severity: str = "error", code: str = "") -> None:
        """A problem known only by its line (the splitter gives fields a line, not an offset)."""
        self.problems.append(Problem(source=self.source, line=line, message=message, severity=severity, code=code))

    def problem_at(self, start: int, end: int, message: str, code: str, severity: str = "error",
                   related: Related | None = None) -> None:
        """A problem covering the text [start, end)."""
        span = self.span(start, end)
        self.problems.append(Problem(
            source=self.source, line=span.start_line, column=span.start_col, end_line=span.end_line,
            end_column=span.end_col, message=message, severity=severity, code=code, related=related))

    def span(self, start: int, end: int) -> Span:
        return self.positions.span(start, end)

    def read(self) -> ReadResult:
        self.collect(_Splitter(self.text).split().blocks)
        papers = []
        for entry in self.entries:
            if entry.entry_type in NOT_CITABLE:
                continue
            try:
                papers.append(self.paper(entry))
            except Exception as err:  # noqa: BLE001 - one odd entry must not cost the others
                self.problem_at(entry.start, entry.key_end, f"cannot read entry '{entry.key}': {err!r}",
                                "unreadable-entry")
        if self.more_cuts:
            self.first_cut.message += f" ({self.more_cuts} more values are cut after it)"
        self.problems.sort(key=lambda p: (p.line, p.column))
        return ReadResult(papers=papers, problems=self.problems)

    # --- blocks -> raw entries, @string macros, problems ---

    def collect(self, blocks) -> None:
        """The splitter gives a block's line but not its offset; its raw text is an exact slice
        of the input, found right after the previous block's (every block, so that an entry
        quoted inside an @comment is not mistaken for the real one)."""
        cursor = 0
        for block in blocks:
            start = self.text.find(block.raw, cursor)
            cursor = start + len(block.raw)
            if isinstance(block, DuplicateBlockKeyBlock):  # bibtexparser's duplicate check; we do our own
                block = block.ignore_error_block
            if isinstance(block, String):
                self.macros[block.key.lower()] = self.evaluate(block.value, block.start_line, block.key)
            elif isinstance(block, Entry):
                self.add_entry(block, start)
            elif isinstance(block, DuplicateFieldKeyBlock):
                self.add_entry(block.ignore_error_block, start)
            elif isinstance(block, ParsingFailedBlock):
                self.report_failed(block, start)

    def add_entry(self, block: Entry, start: int) -> None:
        head = _ENTRY_HEAD.match(block.raw)
        head_end = start + (head.end() if head else 1)
        if not block.key:
            self.problem_at(start, head_end, "entry without a citation key; it is skipped", "missing-key")
            return
        key_start = self.text.index(block.key, head_end)
        key_end = key_start + len(block.key)
        fields: dict[str, str] = {}
        field_lines: dict[str, int] = {}
        for bib_field in block.fields:
            name = bib_field.key.lower()
            if name in fields:
                message = f"duplicate field '{name}' in '{block.key}'; the first value is used"
                self.problem(bib_field.start_line, message, severity="warning", code="duplicate-field")
                continue
            fields[name] = bib_field.value
            field_lines[name] = bib_field.start_line
        first = self.by_exact_key.get(block.key)
        if first is not None:
            self.problem_at(key_start, key_end, f"duplicate citation key '{block.key}' (first on line "
                                                f"{first.line + 1}); this entry is ignored", "duplicate-key",
                            related=Related(span=first.key_span, message=f"first definition of '{block.key}'"))
            return
        line, column = self.positions.line_col(start)
        entry = _RawEntry(block.entry_type, block.key, fields, field_lines, start=start,
                          end=start + len(block.raw), line=line, column=column,
                          key_span=self.span(key_start, key_end), key_end=key_end)
        self.entries.append(entry)
        self.by_exact_key[block.key] = entry
        self.by_key.setdefault(block.key.lower(), entry)

    def report_failed(self, block: ParsingFailedBlock, start: int) -> None:
        """A block the splitter gave up on: said where it went wrong, in words a person can act on.
        The range is the entry's head (`@misc{key`), or the token the splitter stopped at."""
        raw = block.raw
        head = _ENTRY_HEAD.match(raw)
        if head and _KEYLESS_ENTRY.match(raw):
            self.problem_at(start, start + head.end(), "entry without a citation key; it is skipped", "missing-key")
            return
        key_match = _ENTRY_KEY.match(raw)
        key = key_match.group(1) if key_match else ""
        block_type = raw[1:head.end() - 1].strip().lower() if head else ""
        if block_type in ("string", "preamble", "comment"):
            what = f"@{block_type}" + (f" '{key}'" if key else "")
        else:
            first_line = raw.split("\n")[0][:40]
            what = f"entry '{key}'" if key else f"'{first_line}'"
        head_end = start + (key_match.end() if key else head.end() if head else 1)
        reason = getattr(block.error, "abort_reason", str(block.error))
        if "end of file" in reason or "Unexpected block start" in reason:
            where = "is never closed" if "end of file" in reason else "is not closed before the next entry"
            culprit = _unclosed_value(raw, key_match.end() if key else len(raw))
            if culprit is None:
                closer = ")" if head and head.group().endswith("(") else "}"
                self.problem_at(start, head_end, f"{what} {where} (a missing '{closer}'?); it is skipped",
                                "syntax-error")
                return
            name, opening = culprit
            line = self.positions.line_col(start + opening)[0]
            delimiter = raw[opening]
            self.problem_at(start, head_end,
                            f"{what} {where}: the value of '{name}' (line {line + 1}) does not end where it "
                            f"should (an unbalanced '{delimiter}'?); it is skipped", "syntax-error",
                            related=Related(span=self.span(start + opening, start + opening + 1),
                                            message=f"the '{delimiter}' opening the value of '{name}'"))
            return
        found = _FOUND_TOKEN.search(reason)
        if found is None:
            self.problem_at(start, head_end, f"cannot parse {what}: {reason.strip()}; it is skipped", "syntax-error")
            return
        token = found.group(1)
        end = start + len(raw)
        at = end if self.text.startswith(token, end) else end - len(token)
        if reason.startswith("Expected comma after entry key"):
            expected = "',' after the key"
        elif "Expected a `=` after entry key `" in reason:
            expected = f"'=' and a value after the field name '{reason.split('`')[3]}'"
        elif "Expected a `=`" in reason or "Expected equals sign" in reason:
            expected = "'=' after a field name"
        else:
            expected = "',' or '}' after a field value"
        self.problem_at(at, at + len(token), f"{what}: expected {expected}, found '{token}'; it is skipped",
                        "syntax-error")

    # --- values ---

    def evaluate(self, expression: str, line: int, name: str, entry_key: str | None = None) -> str:
        """A BibTeX value (`{..}`, `".."`, numbers and @string macros joined by `#`) -> its text, cut
        at VALUE_LIMIT characters: @string macros that each join the one before twice would
        otherwise double at each level (a 1 KB file asking for terabytes), and a field of megabytes
        costs its LaTeX conversion and index that many times over. ``name`` (of an @string, or of
        the field of the entry ``entry_key``) says which value macros made so long."""
        n = len(expression)
        if expression[:1] == "{" and expression[-1:] == "}" and expression.find("{", 1, n - 1) == -1 \
                and expression.find("}", 1, n - 1) == -1:
            return expression[1:min(n - 1, VALUE_LIMIT + 1)]  # the common case, without scanning for delimiters
        parts = []
        room, length, expanded = VALUE_LIMIT, 0, False
        i = 0
        while i < n:
            char = expression[i]
            if char.isspace() or char == "#":
                i += 1
                continue
            if char == "{" or char == '"':
                close = _closing_delimiter(expression, i)
                part, size = expression[i + 1:min(close, i + 1 + room)], close - i - 1
                i = close + 1
            else:
                word = _BARE_WORD.match(expression, i).group()
                i += len(word)
                value = word if word.isdigit() else self.expand_macro(word, line)
                if value is not word:
                    expanded = True
                    value = self.spend_expansion(value, room, word, line)
                part, size = value[:room], len(value)
            parts.append(part)
            room -= len(part)
            length += size
        if length > VALUE_LIMIT and expanded:
            self.value_cut(line, f"@string '{name}'" if entry_key is None else f"'{name}' of '{entry_key}'")
        return "".join(parts)

    def spend_expansion(self, value: str, room: int, name: str, line: int) -> str:
        """Macro ``name``'s value, if the file's expansion budget can pay for the ``room``
        characters of it a value takes; else the name (said once). Cut values still add up: a
        file of many macros or fields, each twice the one before, cut."""
        cost = min(len(value), room)
        if cost <= self.expansion_left:
            self.expansion_left -= cost
            return value
        if not self.expansion_spent:
            self.expansion_spent = True
            self.problem(line, "@string expansion in this file exceeds its budget (1 MB more than the file's own "
                               f"size); '{name}' and the macros after it are left unexpanded", severity="warning",
                         code="expansion-too-large")
        return name

    def value_cut(self, line: int, what: str) -> None:
        """Said once, at the first value cut: the others are usually made of it."""
        if self.first_cut is None:
            self.problem(line, f"{what} is longer than {VALUE_LIMIT:,} characters after @string expansion; "
                               "it is cut there", severity="warning", code="expansion-too-large")
            self.first_cut = self.problems[-1]
        else:
            self.more_cuts += 1

    def expand_macro(self, name: str, line: int) -> str:
        """Unknown macros usually come from another file (IEEEabrv.bib): say so once, show the name."""
        value = self.macros.get(name.lower())
        if value is not None:
            return value
        if name.lower() not in self.undefined_macros:
            self.undefined_macros.add(name.lower())
            self.problem(line, f"@string '{name}' is not defined in this file", severity="information",
                         code="undefined-string")
        return name

    def own_fields(self, entry: _RawEntry) -> dict[str, str]:
        return {name: self.evaluate(value, entry.field_lines[name], name, entry.key)
                for name, value in entry.fields.items()}

    def resolved_fields(self, entry: _RawEntry) -> dict[str, str]:
        """The entry's fields with what it inherits through `xdata` and `crossref`, evaluated."""
        if entry.resolved is not None:
            return entry.resolved
        fields = self.own_fields(entry)
        self.resolving.add(entry.key)
        for xdata_key in _key_list(fields.get("xdata", "")):
            parent = self.parent(entry, xdata_key, "xdata")
            if parent is not None:
                _inherit(fields, self.resolved_fields(parent), {})
        crossref_key = fields.get("crossref", "").strip()
        if crossref_key:
            parent = self.parent(entry, crossref_key, "crossref")
            if parent is not None:
                renamed = RENAMED_ON_INHERIT.get((parent.entry_type, entry.entry_type), {})
                _inherit(fields, self.resolved_fields(parent), renamed)
        self.resolving.discard(entry.key)
        entry.resolved = fields
        return fields

    def parent(self, entry: _RawEntry, key: str, relation: str) -> _RawEntry | None:
        parent = self.by_key.get(key.lower())
        line = entry.field_lines.get(relation, entry.line)
        if parent is None:
            self.problem(line, f"{relation} '{key}' of '{entry.key}' is not in this file", severity="warning",
                         code="missing-parent")
        elif parent.key in self.resolving:
            self.problem(line, f"{relation} '{key}' of '{entry.key}' leads back to itself", severity="warning",
                         code="parent-loop")
            return None
        return parent

    # --- raw entry -> Paper ---

    def paper(self, entry: _RawEntry) -> Paper:
        fields = self.resolved_fields(entry)
        end_line, end_col = self.positions.line_col(entry.end)
        return Paper(
            key=entry.key,
            title=_title(fields),
            authors=_authors(fields.get("author") or fields.get("editor") or ""),
            year=_year(fields),
            venue=_venue(entry.entry_type, fields),
            abstract=to_unicode(fields.get("abstract", "")),
            doi=_doi(fields.get("doi", "")),
            arxiv=_arxiv(fields),
            url=_plain(fields.get("url", "")),
            entry_type=entry.entry_type,
            ids=_key_list(fields.get("ids", "")),
            source=self.source,
            span=Span(start_line=entry.line, start_col=entry.column, end_line=end_line, end_col=end_col),
            key_span=entry.key_span,
            raw=self.written[entry.start:entry.end],
        )


def _unclosed_value(raw: str, fields_start: int) -> tuple[str, int] | None:
    """In a broken entry, the field whose value does not end where it should: never closed, or
    closed only after lines that start other fields (`title = {"Parsing {Rd} files",` swallowing
    `year = 2010,`). Returns (field name, offset of its opening delimiter), or None."""
    pos = fields_start
    while (comma := raw.find(",", pos)) != -1 and (field := _FIELD_NAME.match(raw, comma + 1)):
        pos = field.end()
        while pos < len(raw) and raw[pos] in '{"':
            close = _closing_delimiter(raw, pos)
            if close == len(raw) or _FIELD_START.search(raw, pos, close):
                return field.group(1), pos
            pos = _CONCATENATION.match(raw, close + 1).end()
    return None


def _closing_delimiter(expression: str, opening: int) -> int:
    """Index of the `}` or `"` closing the literal opened at `opening` (len if never closed).
    Braces nest; a `"` only closes a quoted literal outside braces."""
    quoted = expression[opening] == '"'
    depth = 0 if quoted else 1
    for mark in (_BRACE_OR_QUOTE if quoted else _BRACE).finditer(expression, opening + 1):
        char = mark.group()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0 and not quoted:
                return mark.start()
        elif depth == 0:
            return mark.start()
    return len(expression)


def _inherit(fields: dict[str, str], parent: dict[str, str], renamed: dict[str, str]) -> None:
    """Fill the child's missing fields from the parent's. A field the parent has under its own
    name wins over a renamed one, so BibTeX files (parent carries `booktitle`) read as BibTeX
    does and biblatex files (parent `title` -> child `booktitle`) as biber does."""
    for name, value in parent.items():
        if name not in NOT_INHERITED and name not in renamed:
            fields.setdefault(name, value)
    for parent_name, child_name in renamed.items():
        if parent_name in parent:
            fields.setdefault(child_name, parent[parent_name])


def _key_list(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]


def _plain(value: str) -> str:
    """Identifiers and URLs: no LaTeX conversion (it would turn `--` into a dash), only the
    braces and escapes people put around them."""
    return _TEX_ESCAPE.sub(r"\1", value).replace("{", "").replace("}", "").strip()


def _title(fields: dict[str, str]) -> str:
    title = to_unicode(fields.get("title", ""))
    subtitle = to_unicode(fields.get("subtitle", ""))
    return f"{title}: {subtitle}" if title and subtitle else title or subtitle


def _year(fields: dict[str, str]) -> int | None:
    """From `year`, else biblatex `date` (`2017-06`, `2017/2018`, `../2018`). `year` goes
    through LaTeX first so `{\\noopsort{1973b}}1973` gives 1973, not the sort key."""
    for name in ("year", "date"):
        match = _YEAR.search(to_unicode(fields.get(name, "")))
        if match:
            return int(match.group(1))
    return None


def _venue(entry_type: str, fields: dict[str, str]) -> str:
    for name in _VENUE_FIELDS_BY_TYPE.get(entry_type, ()) + _VENUE_FALLBACK:
        value = to_unicode(fields.get(name, ""))
        if value:
            return value
    return ""


def _doi(value: str) -> str:
    """Bare DOI (`10.x/y`); a URL that is not a DOI (seen in real exports) is dropped."""
    doi = _DOI_PREFIX.sub("", _plain(value))
    return doi if doi.startswith("10.") else ""


def _arxiv(fields: dict[str, str]) -> str:
    """biblatex `eprint` + `eprinttype = arxiv`, BibTeX `archiveprefix = arXiv`, else the
    Google-Scholar style `journal = {arXiv preprint arXiv:1706.03762}` or an arxiv.org URL."""
    kind = (fields.get("eprinttype") or fields.get("archiveprefix") or "").strip().lower()
    if kind == "arxiv" and fields.get("eprint", "").strip():
        return re.sub(r"^arxiv:\s*", "", _plain(fields["eprint"]), flags=re.IGNORECASE)
    for name in ("journal", "journaltitle", "note", "howpublished"):
        match = _ARXIV_IN_TEXT.search(fields.get(name, ""))
        if match:
            return match.group(1)
    match = _ARXIV_IN_URL.search(fields.get("url", ""))
    return match.group(1) if match else ""


def _authors(value: str) -> list[Author]:
    """BibTeX name lists. `and others` is dropped (the model has no "et al." marker)."""
    names = (_author(name.strip()) for name in split_multiple_persons_names(value))
    return [author for author in names if author is not None]


@lru_cache(maxsize=65536)
def _author(name: str) -> Author | None:
    """One name, cached: the same people recur across a library, and splitting a name is not
    cheap. A name wholly in braces (`{World Health Organization}`) is corporate."""
    if not name or name.lower() == "others":
        return None
    if name.startswith("{") and _closing_delimiter(name, 0) == len(name) - 1:
        return Author(literal=to_unicode(name))
    parts = parse_single_name_into_parts(name, strict=False)
    return Author(
        family=to_unicode(" ".join(parts.last)),
        given=to_unicode(" ".join(parts.first)),
        particle=to_unicode(" ".join(parts.von)),
        suffix=to_unicode(" ".join(parts.jr)),
    )
