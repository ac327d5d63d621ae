"""Papers written into a bibliography file: the entry text for its format, and where it goes.

Adding a paper from a global library to a project's own bibliography should look as if the person
had pasted it: the original entry when the formats match (a BibTeX entry into a .bib, a CSL item
into a CSL file), else an entry rendered from the Paper (BibTeX from a CSL item or a listing, a CSL
item from a BibTeX entry). Each function returns an `Insertion` (an offset into the target's text
and the text to insert there) and never touches a file: the caller turns it into an editor edit.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from bibtexparser.model import Entry
from bibtexparser.splitter import Splitter

from papercite.index.model import Author, Paper
from papercite.index.readers import EntryFormat, entry_format
from papercite.index.readers.bibtex import MONTH_MACROS
from papercite.index.readers.csl import (
    ITEM_LIST_KEYS,
    CslSyntaxError,
    read_json,
    read_yaml,
    scan_json_container,
    skip_json_space,
)


# BibTeX entry type -> CSL type, and back (CSL types not listed become `misc`).
CSL_TYPES = {
    "article": "article-journal", "inproceedings": "paper-conference", "conference": "paper-conference",
    "incollection": "chapter", "inbook": "chapter", "book": "book", "phdthesis": "thesis",
    "mastersthesis": "thesis", "thesis": "thesis", "techreport": "report", "report": "report",
    "online": "webpage", "misc": "article", "unpublished": "manuscript",
}
BIBTEX_TYPES = {
    "article-journal": "article", "article-magazine": "article", "article-newspaper": "article",
    "paper-conference": "inproceedings", "chapter": "incollection", "book": "book", "thesis": "phdthesis",
    "report": "techreport", "manuscript": "unpublished",
}
# Where each BibTeX type keeps its venue (what the reader reads back as `venue`).
VENUE_FIELDS = {
    "article": "journal", "inproceedings": "booktitle", "conference": "booktitle", "incollection": "booktitle",
    "inbook": "booktitle", "book": "publisher", "proceedings": "publisher", "phdthesis": "school",
    "mastersthesis": "school", "techreport": "institution",
}
# CSL types whose venue is the work they appear in; the others name a publisher.
CSL_CONTAINED = frozenset({"article", "article-journal", "article-magazine", "article-newspaper",
                           "paper-conference", "chapter", "entry-encyclopedia", "entry-dictionary", "post-weblog"})

_BIBTEX_KEY = re.compile(r"[^\s,{}()\"#%'=\\~]+")
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_TEX_SPECIALS = re.compile(r"[\\{}&%$#_~^]")
_WORD_RUN = re.compile(r"(?<!\\)[^\W_]+")
_BARE_WORD = re.compile(r'(?<![{"\w])([A-Za-z][^\s#{}"=,]*)')
_STRING_START = re.compile(r"@string\s*([{(])\s*([^\s={}()]+)\s*=", re.IGNORECASE)
_INHERITING = re.compile(r"[,{(]\s*(?:crossref|xdata)\s*=", re.IGNORECASE)
_BLOCK_ITEM = re.compile(r"[ \t]*-[ \t]")
_INTEGER = re.compile(r"-?\d{1,9}")


class CannotWrite(ValueError):
    """The paper cannot be written into that file (why is the message)."""


@dataclass(frozen=True)
class Insertion:
    """Text to insert at ``offset`` (code points into the target's text)."""

    offset: int
    text: str


def source_format(paper: Paper) -> EntryFormat | None:
    """The format of the file a paper came from (its ``raw`` is in that format)."""
    return entry_format(Path(paper.source)) if paper.source else None


def entry_insertion(paper: Paper, target_text: str, fmt: EntryFormat,
                    read_source: Callable[[], str | None] = lambda: None) -> Insertion:
    """Where and what to insert into a bibliography (``target_text``, of format ``fmt``) to add
    ``paper``. ``read_source`` gives the text of the paper's own file; it is only called for the
    @string definitions a BibTeX entry uses that the target lacks (None: the entry is rendered
    from the Paper instead)."""
    if fmt == "bibtex":
        return bibtex_insertion(target_text, bibtex_text_for(paper, target_text, read_source))
    item = csl_item_from_raw(paper) or csl_item(paper)
    if fmt == "csl-json":
        return csl_json_insertion(target_text, item)
    raw = paper.raw if source_format(paper) == "csl-yaml" and _BLOCK_ITEM.match(paper.raw) else None
    return csl_yaml_insertion(target_text, item, raw)


# --- BibTeX ---------------------------------------------------------------------------------


def bibtex_text_for(paper: Paper, target_text: str, read_source: Callable[[], str | None]) -> str:
    """The original entry (with the @string definitions it needs and the target lacks) when the
    paper comes from BibTeX and stands alone; else a rendered one. An entry that inherits through
    crossref/xdata would lose its parent in another file: the resolved Paper is rendered instead."""
    if source_format(paper) != "bibtex" or not paper.raw or _INHERITING.search(paper.raw):
        return bibtex_entry(paper)
    missing = sorted(macros_used(paper.raw) - string_names(target_text))
    if not missing:
        return paper.raw
    definitions = string_definitions(read_source() or "")
    if any(name not in definitions for name in missing):
        return bibtex_entry(paper)  # a macro defined nowhere we can see: its expanded value is safer
    return "\n".join(definitions[name] for name in missing) + "\n\n" + paper.raw


def bibtex_insertion(target_text: str, entry: str) -> Insertion:
    """Append an entry at the end of a .bib text, a blank line before it, a line end after it."""
    newline = "\r\n" if "\r\n" in target_text else "\n"
    text, entry = target_text.replace("\r\n", "\n"), entry.replace("\r\n", "\n")
    if not text.strip():
        before = ""
    elif text.endswith("\n\n"):
        before = ""
    else:
        before = "\n" if text.endswith("\n") else "\n\n"
    return Insertion(len(target_text), (before + entry + "\n").replace("\n", newline))


def bibtex_entry(paper: Paper) -> str:
    """A BibTeX entry for a paper of any origin, read back by papercite's BibTeX reader with the
    same key, title, authors, year and venue. Text is escaped for LaTeX, and words whose case a
    style must keep ("RoBERTa", "BERT") are braced."""
    if not _BIBTEX_KEY.fullmatch(paper.key):
        raise CannotWrite(f"the key {paper.key!r} cannot be a BibTeX key")
    entry_type = paper.entry_type if paper.entry_type in VENUE_FIELDS or paper.entry_type in CSL_TYPES \
        else BIBTEX_TYPES.get(paper.entry_type, "misc")
    fields = [
        ("author", " and ".join(bibtex_name(a) for a in paper.authors)),
        ("title", protect_case(tex_escape(paper.title))),
        (VENUE_FIELDS.get(entry_type, "howpublished"), tex_escape(paper.venue)),
        ("year", str(paper.year) if paper.year is not None else ""),
        ("doi", _braces_encoded(paper.doi)),
        ("eprint", paper.arxiv),
        ("archiveprefix", "arXiv" if paper.arxiv else ""),
        ("url", _braces_encoded(paper.url)),
        ("abstract", tex_escape(paper.abstract)),
    ]
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields if value)
    return f"@{entry_type}{{{paper.key},\n{body}}}"


def bibtex_name(author: Author) -> str:
    """`von Last, Jr, First`; an organisation in braces, so BibTeX does not split it."""
    if author.literal:
        return "{" + tex_escape(author.literal) + "}"
    last = " ".join(_name_part(p) for p in (author.particle, author.family) if p)
    parts = [last or _name_part(author.given)]
    if author.suffix:
        parts.append(_name_part(author.suffix))
    if author.given and last:
        parts.append(_name_part(author.given))
    elif author.suffix:
        parts.append("")
    return ", ".join(parts)


def _name_part(text: str) -> str:
    """One part of a name: escaped, and braced when it holds a comma or the word "and"."""
    escaped = tex_escape(text)
    return "{" + escaped + "}" if "," in text or re.search(r"\band\b", text, re.IGNORECASE) else escaped


def tex_escape(text: str) -> str:
    return _TEX_SPECIALS.sub(lambda m: _TEX_SPECIAL[m.group()], " ".join(text.split()))


def protect_case(text: str) -> str:
    """Words with a capital past their first letter ("RoBERTa", "BERT") in braces, which keep
    their case in styles that lower-case titles."""
    return _WORD_RUN.sub(lambda m: "{" + m.group() + "}" if any(c.isupper() for c in m.group()[1:]) else m.group(),
                         text)


def _braces_encoded(value: str) -> str:
    return value.replace("{", "%7B").replace("}", "%7D")


def macros_used(entry: str) -> set[str]:
    """The @string macros (lower case) an entry's field values use, predefined months left out."""
    used: set[str] = set()
    for block in Splitter(entry).split().blocks:
        if isinstance(block, Entry):
            for field in block.fields:
                used.update(name.lower() for name in _BARE_WORD.findall(_without_literals(field.value)))
    return used - set(MONTH_MACROS)


def _without_literals(expression: str) -> str:
    """A field value with its `{...}` and `"..."` parts blanked: what is left are macro names,
    numbers and `#`."""
    out, depth, quoted = [], 0, False
    for char in expression:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif depth == 0 and not quoted:
            out.append(char)
            continue
        out.append(" ")
    return "".join(out)


def string_names(text: str) -> set[str]:
    """The @string macros a .bib text defines (lower case)."""
    return {m.group(2).lower() for m in _STRING_START.finditer(text)}


def string_definitions(text: str) -> dict[str, str]:
    """Each @string definition of a .bib text, by its macro name (lower case), as written."""
    found: dict[str, str] = {}
    for match in _STRING_START.finditer(text):
        close = _matching_close(text, match.start(1))
        if close is not None:
            found.setdefault(match.group(2).lower(), text[match.start():close + 1])
    return found


def _matching_close(text: str, opening: int) -> int | None:
    """The offset of the brace or parenthesis closing the block opened at ``opening`` (braces
    nest; a parenthesis closes only outside braces)."""
    depth = 0
    for i in range(opening + 1, len(text)):
        char = text[i]
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i if text[opening] == "{" else None
            depth -= 1
        elif char == ")" and depth == 0 and text[opening] == "(":
            return i
    return None


# --- CSL ------------------------------------------------------------------------------------


def csl_item(paper: Paper) -> dict[str, Any]:
    """A CSL item for a paper of any origin, read back by papercite's CSL reader with the same
    key, title, authors, year and venue."""
    item_type = CSL_TYPES.get(paper.entry_type) or (
        paper.entry_type if paper.entry_type in BIBTEX_TYPES or paper.entry_type in CSL_CONTAINED else "article")
    item: dict[str, Any] = {"id": paper.key, "type": item_type}
    if paper.title:
        item["title"] = paper.title
    if paper.authors:
        item["author"] = [csl_name(a) for a in paper.authors]
    if paper.year is not None:
        item["issued"] = {"date-parts": [[paper.year]]}
    if paper.venue:
        item["container-title" if item_type in CSL_CONTAINED else "publisher"] = paper.venue
    if paper.doi:
        item["DOI"] = paper.doi
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv}" if paper.arxiv else "")
    if url:
        item["URL"] = url
    if paper.arxiv and paper.arxiv not in url:
        item["note"] = f"arXiv: {paper.arxiv}"
    if paper.abstract:
        item["abstract"] = paper.abstract
    return item


def csl_name(author: Author) -> dict[str, str]:
    if author.literal:
        return {"literal": author.literal}
    name = {"family": author.family, "given": author.given, "non-dropping-particle": author.particle,
            "suffix": author.suffix}
    return {part: value for part, value in name.items() if value}


def csl_item_from_raw(paper: Paper) -> dict[str, Any] | None:
    """The paper's original CSL item, every field kept (None when it comes from elsewhere)."""
    fmt = source_format(paper)
    try:
        if fmt == "csl-json":
            item = json.loads(paper.raw)
        elif fmt == "csl-yaml":
            raw = textwrap.dedent(paper.raw)
            items = read_yaml(raw if _BLOCK_ITEM.match(raw) else f"- {raw}", 0)
            item = _numbers_in_dates(items[0].value) if items else None
        else:
            return None
    except (ValueError, CslSyntaxError, IndexError):
        return None
    return item if isinstance(item, dict) else None


def _numbers_in_dates(item: dict[str, Any]) -> dict[str, Any]:
    """YAML keeps every scalar a string; date parts are numbers in CSL-JSON."""
    for value in item.values():
        if isinstance(value, dict) and isinstance(value.get("date-parts"), list):
            value["date-parts"] = [[int(p) if isinstance(p, str) and _INTEGER.fullmatch(p) else p for p in part]
                                   if isinstance(part, list) else part for part in value["date-parts"]]
    return item


def csl_json_insertion(target_text: str, item: dict[str, Any]) -> Insertion:
    """A new object at the end of a CSL-JSON item list (the file's own indentation kept; an
    empty file becomes a list of one)."""
    start = 1 if target_text.startswith("\ufeff") else 0
    root = skip_json_space(target_text, start)
    newline = "\r\n" if "\r\n" in target_text else "\n"
    if root == len(target_text):
        return Insertion(len(target_text), ("[\n  " + _indented(_json(item, "  "), "  ") + "\n]\n").replace("\n", newline))
    try:
        read_json(target_text, start)  # the whole file must be valid, not only the list
        items_at = _json_item_list(target_text, root)
        members, end = scan_json_container(target_text, items_at)
    except CslSyntaxError as err:
        raise CannotWrite(f"it is not valid CSL-JSON ({err})") from None
    except json.JSONDecodeError as err:
        raise CannotWrite(f"it is not valid CSL-JSON ({err.msg})") from None
    if not members:
        indent = _line_indent(target_text, items_at) or ""
        inner = target_text[items_at + 1:end - 1]
        text = newline + indent + "  " + _indented(_json(item, "  "), indent + "  ", newline) + \
            ("" if "\n" in inner else newline + indent)
        return Insertion(items_at + 1, text)
    last = members[-1]
    indent = _line_indent(target_text, last.start)
    if indent is None:  # items written on one line
        return Insertion(last.end, ", " + json.dumps(item, ensure_ascii=False))
    unit = _inner_indent(target_text, last.start, last.end, indent)
    return Insertion(last.end, "," + newline + indent + _indented(_json(item, unit), indent, newline))


class _CslYamlDumper(yaml.SafeDumper):
    """Block style, except lists of plain values (``date-parts: - [2019, 6]``), as pandoc writes."""

    def represent_list(self, data):
        flow = all(not isinstance(value, (dict, list)) for value in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_CslYamlDumper.add_representer(list, _CslYamlDumper.represent_list)


def _json_item_list(text: str, root: int) -> int:
    """Where the item list of a valid CSL-JSON text opens (the reader found it, so it is there)."""
    if text[root] == "[":
        return root
    members, _ = scan_json_container(text, root)
    return next(m for m in reversed(members) if m.key in ITEM_LIST_KEYS and isinstance(m.value, list)).start


def _json(item: dict[str, Any], unit: str) -> str:
    return json.dumps(item, indent=unit, ensure_ascii=False)


def _indented(block: str, indent: str, newline: str = "\n") -> str:
    """Every line but the first indented (the first goes where the caller already is)."""
    first, *rest = block.split("\n")
    return newline.join([first, *(indent + line if line else line for line in rest)])


def _line_indent(text: str, offset: int) -> str | None:
    """The whitespace before ``offset`` on its line, None when something else precedes it."""
    line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    before = text[line_start:offset]
    return before if not before.strip() else None


def _inner_indent(text: str, start: int, end: int, indent: str) -> str:
    """One level of indentation as the file writes it: how much deeper than the item its first
    member sits (two spaces when the item is on one line)."""
    lines = text[start:end].splitlines()
    if len(lines) > 1:
        deeper = lines[1][:len(lines[1]) - len(lines[1].lstrip())]
        if deeper.startswith(indent) and len(deeper) > len(indent):
            return deeper[len(indent):]
    return "  "


def csl_yaml_insertion(target_text: str, item: dict[str, Any], raw: str | None = None) -> Insertion:
    """A new block item after the last item of a CSL-YAML list (``references:`` or a top-level
    list), indented like the others; ``raw``, an original block item, is used as written."""
    newline = "\r\n" if "\r\n" in target_text else "\n"
    block = textwrap.dedent(raw.replace("\r\n", "\n")).rstrip() if raw else yaml.dump(
        [item], Dumper=_CslYamlDumper, sort_keys=False, allow_unicode=True, width=1000).rstrip()
    if not target_text.strip():
        return Insertion(len(target_text), ("references:\n" + block + "\n").replace("\n", newline))
    start = 1 if target_text.startswith("\ufeff") else 0
    try:
        items = read_yaml(target_text, start)
    except CslSyntaxError as err:
        raise CannotWrite(f"it is not valid CSL-YAML ({err})") from None
    if not items:
        raise CannotWrite("it has no item to add after (an empty list)")
    last = items[-1]
    entry = _BLOCK_ITEM.match(target_text, last.start)
    if entry is None:
        raise CannotWrite("its items are written in flow style ([...]); papercite only adds to block lists")
    indent = entry.group()[:entry.group().index("-")]
    return Insertion(last.end, newline + indent + _indented(block, indent, newline))
