"""CSL-JSON and CSL-YAML bibliographies (Zotero, Better BibTeX, pandoc, citeproc).

Both formats are read into plain items first, each with the character range it occupies in the
file, so one mapping (`paper_from_item`) serves both and every Paper knows its exact source text.
Accepted shapes: a list of items, or an object holding it under ``items`` or ``references``; for
YAML also a pandoc front-matter block (``---`` ... ``---``) followed by a document body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from papercite.index.keys import assign_keys
from papercite.index.lines import LineIndex
from papercite.index.model import Author, Paper, Problem, ReadResult, Related, Severity, Span
from papercite.index.readers import entry_format

ITEM_LIST_KEYS = ("items", "references")
KEY_FIELDS = ("id", "citation-key")  # where an item's key is, first found wins
VENUE_FIELDS = ("container-title", "collection-title", "publisher", "event-title", "event")

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster
_YAML_NULL = "tag:yaml.org,2002:null"
_NOT_A_LIST = 'expected a list of items, or an object with an "items" or "references" list'
_JSON_KEY_MEMBER = re.compile(r'"(id|citation-key)"[ \t\n\r]*:[ \t\n\r]*', re.IGNORECASE)
_TOKEN = re.compile(r"\w+|\S")  # what a syntax error's range covers: the word or character it stopped at
_JSON = json.JSONDecoder()
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_BLOCK_ENTRY = re.compile(r"[ \t]*-[ \t]+")  # what precedes an item of a block list on its line
_CSL_MARKUP = re.compile(r"</?(?:i|b|sup|sub|span)(?:\s[^>]*)?>")  # CSL rich text, not content
_EDTF_YEAR = re.compile(r"^[\s\[{]*(-?\d{4,9})(?!\d)")  # "2019-06", "[2019-06-24]", "-0333~"
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")  # in free text: "June 24, 2019"
_INTEGER = re.compile(r"^\s*-?\d{1,9}\s*$")  # a year, not a 5000-digit number
_DOI_PREFIX = re.compile(r"^\s*(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v\d+)?"
_ARXIV_IN_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/" + _ARXIV_ID, re.IGNORECASE)
_ARXIV_IN_NOTE = re.compile(r"arxiv:\s*" + _ARXIV_ID, re.IGNORECASE)
_ARXIV_IN_DOI = re.compile(r"^10\.48550/arxiv\." + _ARXIV_ID, re.IGNORECASE)
_ARXIV_NUMBER = re.compile(r"^(?:arxiv:\s*)?" + _ARXIV_ID, re.IGNORECASE)


class CslSyntaxError(Exception):
    """The file is not valid JSON/YAML; ``offset`` is where the parser gave up."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


@dataclass
class RawItem:
    """One element of the item list: its value and the text range [start, end) it came from."""

    value: Any
    start: int
    end: int
    key_ranges: dict[str, tuple[int, int]] | None = None  # KEY_FIELDS name -> text range of its value


def parse(text: str, source: str) -> ReadResult:
    """Read a CSL-JSON (``.json``) or CSL-YAML (``.yaml``, ``.yml``) text; any other name is
    told by its first character. Never raises: unreadable input is one Problem."""
    lines = LineIndex(text)
    start = 1 if text.startswith("\ufeff") else 0  # an editor buffer may keep the BOM
    is_json = is_json_text(text, start, source)
    kind = "CSL-JSON" if is_json else "CSL-YAML"
    try:
        items = read_json(text, start) if is_json else read_yaml(text, start)
    except CslSyntaxError as err:
        token = _TOKEN.match(text, err.offset)
        span = lines.span(err.offset, token.end() if token else err.offset)
        return ReadResult(problems=[Problem(
            source=source, line=span.start_line, column=span.start_col, end_line=span.end_line,
            end_column=span.end_col, message=f"invalid {kind}: {err}", code="syntax-error")])
    except (RecursionError, ValueError) as err:  # nesting deeper than the stack; a 5000-digit number
        return ReadResult(problems=[Problem(source=source, line=0, message=f"cannot read {kind}: {err}",
                                            code="syntax-error")])
    return papers_from_items(items, text, source, lines)


def is_json_text(text: str, start: int, source: str) -> bool:
    """JSON by its file name; a name that is neither JSON nor YAML is told by the first character."""
    written = entry_format(Path(source))
    first = skip_json_space(text, start)
    return written == "csl-json" or (written != "csl-yaml" and text[first:first + 1] in ("[", "{"))


# --- JSON -----------------------------------------------------------------------------------


@dataclass
class JsonMember(RawItem):
    key: str | None = None  # None for array elements


def read_json(text: str, start: int) -> list[RawItem]:
    """The item list of a CSL-JSON document. Members are decoded one at a time by the standard
    decoder, which is what gives each item its offsets."""
    root = skip_json_space(text, start)
    if root == len(text):
        return []  # a new, still empty file
    if text[root] not in "[{":
        raise CslSyntaxError(_NOT_A_LIST, root)
    try:
        members, end = scan_json_container(text, root)
        if (trailing := skip_json_space(text, end)) < len(text):
            raise CslSyntaxError("extra data after the end of the document", trailing)
        if text[root] != "[":
            holder = next((m for m in reversed(members) if m.key in ITEM_LIST_KEYS), None)
            if holder is None or not isinstance(holder.value, list):
                raise CslSyntaxError(_NOT_A_LIST, root)
            members = scan_json_container(text, holder.start)[0]
    except json.JSONDecodeError as err:
        raise CslSyntaxError(err.msg, err.pos) from None
    for member in members:
        if isinstance(member.value, dict):
            member.key_ranges = json_key_ranges(text, member)
    return members


def json_key_ranges(text: str, item: RawItem) -> dict[str, tuple[int, int]]:
    """Where the item's key members' values are written. A match is kept only if the value there is
    the item's own (not a nested object's member of the same name); the last one wins, as in the
    decoded item."""
    names = {str(name).lower(): value for name, value in item.value.items() if str(name).lower() in KEY_FIELDS}
    found: dict[str, tuple[int, int]] = {}
    if not names:
        return found
    for match in _JSON_KEY_MEMBER.finditer(text, item.start, item.end):
        name = match.group(1).lower()
        try:
            value, end = _JSON.raw_decode(text, match.end())
        except json.JSONDecodeError:
            continue
        if value == names.get(name) and not isinstance(value, (dict, list)):
            found[name] = (match.end(), end)
    return found


def skip_json_space(text: str, pos: int) -> int:
    return _JSON_SPACE.match(text, pos).end()


def scan_json_container(text: str, pos: int) -> tuple[list[JsonMember], int]:
    """The members of the array or object opening at ``pos``, and the offset after it."""
    closer = "]" if text[pos] == "[" else "}"
    members: list[JsonMember] = []
    cursor = skip_json_space(text, pos + 1)
    if text.startswith(closer, cursor):
        return members, cursor + 1
    while True:
        key = None
        if closer == "}":
            if not text.startswith('"', cursor):
                raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, cursor)
            key, cursor = _JSON.raw_decode(text, cursor)
            cursor = skip_json_space(text, cursor)
            if not text.startswith(":", cursor):
                raise json.JSONDecodeError("Expecting ':' delimiter", text, cursor)
            cursor = skip_json_space(text, cursor + 1)
        value, end = _JSON.raw_decode(text, cursor)
        members.append(JsonMember(value, cursor, end, key=key))
        cursor = skip_json_space(text, end)
        if text.startswith(closer, cursor):
            return members, cursor + 1
        if not text.startswith(",", cursor):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, cursor)
        cursor = skip_json_space(text, cursor + 1)


# --- YAML -----------------------------------------------------------------------------------


def read_yaml(text: str, start: int) -> list[RawItem]:
    """The item list of a CSL-YAML document, from yaml's node tree: its marks give each item's
    offsets, and its scalars are kept as written (an id ``2019-01-01`` or ``yes`` stays a string)."""
    document = text[:front_matter_end(text, start)]
    try:
        root = yaml.compose(document[start:], Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise CslSyntaxError(err.problem or str(err), start + (mark.index if mark else 0)) from None
    except yaml.YAMLError as err:  # a reader error: a character YAML does not allow
        raise CslSyntaxError(str(err).split("\n")[0], start + getattr(err, "position", 0)) from None
    if isinstance(root, MappingNode):
        holder = next((value for key, value in reversed(root.value)
                       if isinstance(key, ScalarNode) and key.value in ITEM_LIST_KEYS), None)
        if holder is None:
            raise CslSyntaxError(_NOT_A_LIST, start + root.start_mark.index)
        root = holder
    if root is None or root.tag == _YAML_NULL:
        return []
    if not isinstance(root, SequenceNode):
        raise CslSyntaxError(_NOT_A_LIST, start + root.start_mark.index)
    converted: dict[int, Any] = {}
    return [RawItem(plain_value(node, converted), *yaml_item_range(document, node, start), yaml_key_ranges(node, start))
            for node in root.value]


def yaml_key_ranges(node: Node, offset: int) -> dict[str, tuple[int, int]] | None:
    """Where the item's key members' values are written (the scalar, quotes included)."""
    if not isinstance(node, MappingNode):
        return None
    return {key.value.lower(): (offset + value.start_mark.index, offset + value.end_mark.index)
            for key, value in node.value
            if isinstance(key, ScalarNode) and isinstance(value, ScalarNode) and key.value.lower() in KEY_FIELDS}


def front_matter_end(text: str, start: int) -> int:
    """Where a pandoc front-matter block closes, so the Markdown after it is not read as YAML."""
    if not text.startswith("---", start):
        return len(text)
    closing = _FRONT_MATTER_END.search(text, start + 3)
    return closing.start() if closing else len(text)


def yaml_item_range(document: str, node: Node, offset: int) -> tuple[int, int]:
    """An item's text: from its ``-`` when it is a block item (so it pastes as it is into another
    ``references:`` list) to the end of its last value (not the blank lines and comments that
    yaml counts up to the next item)."""
    start, end = offset + node.start_mark.index, offset + node.end_mark.index
    last = node
    while isinstance(last, (MappingNode, SequenceNode)) and last.value and not last.flow_style:
        last = last.value[-1][1] if isinstance(last, MappingNode) else last.value[-1]
    if start < offset + last.end_mark.index <= end:  # not an alias to a node defined elsewhere
        end = offset + last.end_mark.index
    line_start = max(document.rfind("\n", 0, start) + 1, offset)  # offset: after a BOM
    line_start = document.rfind("\r", line_start, start) + 1 or line_start
    if _BLOCK_ENTRY.fullmatch(document, line_start, start):
        start = line_start
    return start, start + len(document[start:end].rstrip())


def plain_value(node: Node, converted: dict[int, Any]) -> Any:
    """A node as str/None/list/dict. Aliases map to one shared object (no exponential expansion
    of "billion laughs" documents; a recursive alias becomes a recursive list)."""
    if isinstance(node, ScalarNode):
        return None if node.tag == _YAML_NULL else node.value
    if id(node) in converted:
        return converted[id(node)]
    if isinstance(node, SequenceNode):
        items: list[Any] = converted.setdefault(id(node), [])
        items.extend(plain_value(child, converted) for child in node.value)
        return items
    mapping: dict[str, Any] = converted.setdefault(id(node), {})
    for key, value in node.value:
        if isinstance(key, ScalarNode):
            mapping[key.value] = plain_value(value, converted)
    return mapping


# --- writing another key in an item -----------------------------------------------------


def written_key(raw: str, start: int, end: int, key: str, source: str) -> str | None:
    """How ``key`` is written in place of raw[start:end], an item's key (its ``key_span``): inside
    quotes, escaped as they require; in place of a whole value (a number, or a string with
    escapes), as a JSON string, which is YAML too; a plain YAML scalar stays plain when it can.
    None for a key with outer spaces: any text is an id, but the reader strips ids, so it would
    not read back (`readers.KeyedReader`)."""
    if not key or key != key.strip():
        return None
    quote = raw[start - 1:start]
    if quote in ('"', "'") and raw[end:end + 1] == quote:
        return _json_string(key)[1:-1] if quote == '"' else key.replace("'", "''")
    if is_json_text(raw, 0, source) or raw[start:start + 1] in ('"', "'"):
        return _json_string(key)
    return yaml_plain_or_quoted(key)


def entry_papers(raw: str, source: str) -> list[Paper]:
    """An item's text read as a file of its own: a JSON or flow item inside a list, a block item as
    it is (`readers.KeyedReader`)."""
    return parse(raw if _BLOCK_ENTRY.match(raw) else f"[{raw}]", source).papers


def yaml_plain_or_quoted(key: str) -> str:
    """``key`` as a YAML scalar: plain when YAML reads it back unchanged in a block and in a flow
    mapping, else double-quoted (JSON's escapes are YAML's)."""
    for document in (f"id: {key}", f"{{id: {key}}}"):
        try:
            node = yaml.compose(document, Loader=_YAML_LOADER)
        except yaml.YAMLError:
            return _json_string(key)
        value = node.value[0][1] if isinstance(node, MappingNode) and len(node.value) == 1 else None
        if not isinstance(value, ScalarNode) or value.style or value.value != key:
            return _json_string(key)
    return key


def _json_string(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


# --- items to papers ------------------------------------------------------------------------


def papers_from_items(items: list[RawItem], text: str, source: str, lines: LineIndex) -> ReadResult:
    result = ReadResult()

    def problem(start: int, end: int, message: str, code: str, severity: Severity = "error",
                related: Related | None = None) -> None:
        span = lines.span(start, end)
        result.problems.append(Problem(
            source=source, line=span.start_line, column=span.start_col, end_line=span.end_line,
            end_column=span.end_col, message=message, severity=severity, code=code, related=related))

    first_of_key: dict[str, Paper] = {}
    keyless: list[tuple[RawItem, Paper]] = []
    for number, item in enumerate(items, 1):
        if not isinstance(item.value, dict):
            problem(item.start, item.end, f"item {number} is {describe(item.value)}, not an object with fields; "
                                          "skipped", "invalid-item")
            continue
        paper = paper_from_item(item.value)
        paper.source, paper.raw = source, text[item.start:item.end]
        paper.span = lines.span(item.start, item.end)
        result.papers.append(paper)
        if not paper.key:
            keyless.append((item, paper))
            continue
        paper.key_span = key_span(text, item, paper.key, lines)
        first = first_of_key.setdefault(paper.key, paper)
        if first is not paper:
            where = first.key_span or first.span
            problem(*key_range(text, item, paper.key),
                    f"duplicate id {paper.key!r} (first on line {first.span.start_line + 1})", "duplicate-key",
                    related=Related(span=where, message=f"first definition of {paper.key!r}"))
    assign_keys(result.papers)
    for item, paper in keyless:
        first_line_end = text.find("\n", item.start, item.end)
        problem(item.start, first_line_end if first_line_end != -1 else item.end,
                f"item without an id: pandoc cannot cite it (papercite calls it {paper.key!r})", "missing-key",
                "warning")
    result.problems.sort(key=lambda p: (p.line, p.column))
    return result


def key_range(text: str, item: RawItem, key: str) -> tuple[int, int]:
    """The text of the item's key: inside the quotes of its value when it is written as is, the whole
    value token otherwise (escapes), or the item's start when the reader could not place it."""
    ranges = item.key_ranges or {}
    values = {str(name).lower(): value for name, value in item.value.items()}
    found = next((ranges[name] for name in KEY_FIELDS if name in ranges and text_of(values.get(name)) == key), None)
    if found is None:
        return item.start, item.start
    start, end = found
    if text[start] in "\"'" and text[start + 1:end - 1] == key:
        return start + 1, end - 1
    return start, end


def key_span(text: str, item: RawItem, key: str, lines: LineIndex) -> Span | None:
    start, end = key_range(text, item, key)
    return lines.span(start, end) if end > start else None


def describe(value: Any) -> str:
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "empty" if value is None else names.get(type(value), type(value).__name__)


def paper_from_item(item: dict[str, Any]) -> Paper:
    """The Paper for one CSL item. Field names are matched case-insensitively (pandoc writes
    ``doi``, Zotero ``DOI``)."""
    fields = {str(name).lower(): value for name, value in item.items()}
    paper = Paper(
        key=text_of(fields.get("id")) or text_of(fields.get("citation-key")),
        title=one_line(fields.get("title")),
        authors=authors_of(fields.get("author") or fields.get("editor")),
        year=year_of(fields.get("issued")),
        venue=next((v for v in map(one_line, (fields.get(f) for f in VENUE_FIELDS)) if v), ""),
        abstract=strip_markup(text_of(fields.get("abstract"))),
        doi=_DOI_PREFIX.sub("", text_of(fields.get("doi"))),
        url=text_of(fields.get("url")),
    )
    paper.arxiv = arxiv_of(fields, paper.doi)
    if entry_type := text_of(fields.get("type")):
        paper.entry_type = entry_type
    return paper


def text_of(value: Any) -> str:
    """A scalar field as text; lists and objects, which no text field should be, give ""."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def strip_markup(text: str) -> str:
    return _CSL_MARKUP.sub("", text)


def one_line(value: Any) -> str:
    return " ".join(strip_markup(text_of(value)).split())


def authors_of(names: Any) -> list[Author]:
    """CSL name objects; a bare string is taken as a literal name."""
    if not isinstance(names, list):
        return []
    authors = []
    for name in names:
        if not isinstance(name, dict):
            name = {"literal": name}
        part = {str(k).lower(): one_line(v) for k, v in name.items()}
        particles = (part.get("dropping-particle", ""), part.get("non-dropping-particle", ""))
        author = Author(family=part.get("family", ""), given=part.get("given", ""),
                        particle=" ".join(p for p in particles if p), suffix=part.get("suffix", ""),
                        literal=part.get("literal", ""))
        if author.family or author.given or author.literal:
            authors.append(author)
    return authors


def year_of(issued: Any) -> int | None:
    """The (start) year of a CSL date in any shape met in the wild: ``date-parts`` (years may be
    strings), ``raw``/``literal`` text, an EDTF string ("2019-06", "2019~", "2019/2020",
    "[2019-06-24]"), pandoc-citeproc's list of ``{year: ...}``, a number.

    Years before 1 are CSL's: negative and with no year zero, so 334 BC is -334. EDTF counts a
    year zero (1 BC), so its "-0333" is -334 here, as Better BibTeX exports it."""
    if isinstance(issued, list):  # a range written as a list: its start
        issued = issued[0] if issued else None
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts:
            first = parts[0]
            return integer_of(first[0] if isinstance(first, list) and first else first) or None  # 0: open end
        if "year" in issued:
            return integer_of(issued["year"]) or None
        issued = issued.get("raw") or issued.get("literal")
    if not isinstance(issued, str):
        return integer_of(issued)
    if edtf := _EDTF_YEAR.match(issued):
        year = int(edtf.group(1))
        return year if year > 0 else year - 1
    year = _YEAR.search(issued)
    return int(year.group()) if year else None


def integer_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return int(value) if isinstance(value, str) and _INTEGER.match(value) else None


def arxiv_of(fields: dict[str, Any], doi: str) -> str:
    """The arXiv id, wherever the exporter put it: ``number`` of an arXiv-published item, an
    arxiv.org URL, an ``arXiv: ...`` line in ``note``, or an arXiv DOI (10.48550/arXiv.*)."""
    publisher = " ".join(text_of(fields.get(f)) for f in ("publisher", "archive", "container-title"))
    candidates = [
        _ARXIV_NUMBER.search(text_of(fields.get("number"))) if "arxiv" in publisher.lower() else None,
        _ARXIV_IN_URL.search(text_of(fields.get("url"))),
        _ARXIV_IN_NOTE.search(text_of(fields.get("note"))),
        _ARXIV_IN_DOI.search(doi),
    ]
    return next((m.group(1) for m in candidates if m), "")
