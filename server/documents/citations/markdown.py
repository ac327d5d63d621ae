"""Citations in pandoc Markdown (also Quarto and R Markdown): `@key`, `[see @a, p. 4; -@b]`,
`@a [p. 30]` and `@{odd key}`. Code, YAML front matter, HTML comments, URLs and e-mail addresses
cite nothing, as pandoc reads them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from papercite.server.documents.citations import (
    Citation,
    CompletionContext,
    KeyRef,
    context_at,
    key_at_offset,
    window,
)

_KEY = r"\w(?:\w|[:.#$%&\-+?<>~/](?=\w)|[:/](?=/))*"
"""Pandoc's key: starts with a letter, digit or `_`; punctuation only inside (`://` allowed)."""

_REF = r"(?<![\w\\])@(?:\{(?P<braced>[^}\n]+)\}|(?P<bare>" + _KEY + "))"
"""A key reference; an `@` after a word character is an e-mail address, after `\\` a literal."""

_BRACKETED = r"(?:(?!\n[ \t]*\n)[^\[\]])*"
"""The inside of a `[...]` without nested brackets, within one paragraph."""

_CODE = r"(?:[ ]{4}|\t)[^\n]*"
_FENCE = (
    r"[ \t]*(?P<fence_mark>`{3,}(?=[^`\n]*$)|~{3,}).*?(?:^[ \t]*(?P=fence_mark)[`~]*[ \t]*$|\Z)"
)
_FLAGS = re.VERBOSE | re.DOTALL | re.MULTILINE

# Each alternative opens with a literal character, outside its group, which lets the regex engine
# skip straight to candidate positions: several times faster than anchors or lookbehinds first.
_TOKENS = re.compile(
    rf"""
    \n(?P<fence>{_FENCE})
  | \n(?P<indented>[ \t]*\n(?P<code>{_CODE}(?:\n(?:[ \t]*\n)*{_CODE})*))
  | <(?P<comment>!--.*?(?:-->|\Z))
  | `(?P<code_span>(?P<ticks>`*)(?:(?:(?!\n[ \t]*\n).)*?(?<!`)`(?P=ticks)(?!`))?)
  | :(?P<url>//[^\s<>]*)
  | \[(?<!\^\[)(?P<bracket>{_BRACKETED}\])
  | @(?<![\w\\]@)(?P<in_text>(?:\{{[^}}\n]+\}}|{_KEY})
        (?:[ \t]*\n?[ \t]*\[(?!\^){_BRACKETED}\](?![(\[]))?)
    """,
    _FLAGS,
)
"""Text that cites nothing (code, HTML comments, the path of a URL) and citations, in one pattern
so that a scan is a single regex pass. A bracket without a key is a link or plain text; an in-text
key takes a following `[locator]`, and pandoc joins the keys of `@a [-@b; @c]` into one citation."""

_DOCUMENT_START = re.compile(
    rf"(?P<front_matter>---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*$)|(?P<fence>{_FENCE})", _FLAGS
)
"""What only the first line can open without a line break before it: YAML front matter, a fence."""

_REFS = re.compile(_REF)
_CROSS_REFERENCE = (
    r"(?:fig|tbl|sec|eq|lst|thm|lem|cor|prp|cnj|def|exm|exr)-|(?:fig|tbl|sec|eq|lst):"
)
"""Quarto (`@fig-plot`) and pandoc-crossref (`@sec:intro`) cross-references look like citations."""
_CROSS_REFERENCES = re.compile(_CROSS_REFERENCE)
_NO_CITATION_AFTER = re.compile(r"[\w\\]")
_LIST_ITEM = re.compile(r"[ \t]|(?:[-*+]|\d+[.)]|#\.)[ \t]")
_CITATIONS = ("bracket", "in_text")

# What may be typed after an `@`, and what of it is the key a completion replaces.
_BRACED_KEY = re.compile(r"[^}\n]*")
_TYPED_BARE = re.compile(rf"(?!{_CROSS_REFERENCE})(?:\w[\w:.#$%&\-+?<>~/]*)?")
_TYPED_IN_BRACKETS = re.compile(rf"(?!{_CROSS_REFERENCE})(?:\w[^;,\[\]\n]*)?")
_BARE_KEY = re.compile(_KEY)


def find_citations(text: str, extra_commands: Iterable[str] = ()) -> list[Citation]:
    """Every citation in the document, in order. `extra_commands` is accepted for the same
    signature as LaTeX's and has no meaning in Markdown."""
    return list(_scan(text, 0, len(text)))


def completion_context(
    text: str, offset: int, extra_commands: Iterable[str] = ()
) -> CompletionContext | None:
    """The key being typed after an `@` at `offset`, or None when the cursor is not in one.

    Inside `[...]` the query runs to the cursor unless `;`, `,` or `]` intervenes, so it may
    hold spaces (`[@vaswani 2017`); outside brackets it is a key prefix.
    """
    start, end = window(text, offset)
    line = text.rfind("\n", start, offset) + 1 or start
    at = text.rfind("@", line, offset)
    if at < 0 or _NO_CITATION_AFTER.match(text[at - 1 : at]):
        return None
    query_start, typed, key = _query_rules(text, start, at)
    if not typed.fullmatch(text, query_start, offset) or _ignored(text, start, end, at, offset):
        return None
    return context_at(text, query_start, offset, key)


def key_at(text: str, offset: int, extra_commands: Iterable[str] = ()) -> KeyRef | None:
    """The cited key under the cursor (at its start, inside it, or just after its end)."""
    return key_at_offset(_scan(text, *window(text, offset)), offset)


def citation_for(key: str) -> str | None:
    """The citation a "cite this paper" action writes: `[@key]`, braced when pandoc would not
    read the key bare (`[@{odd key}]`)."""
    if _holds(key, braced=False):
        return f"[@{key}]"
    return f"[@{{{key}}}]" if _holds(key, braced=True) else None


def valid_key(key: str, text: str, ref: KeyRef) -> bool:
    """Whether the citation of `ref` holds `key`: as it is written, `@key` or `@{key}`."""
    return _holds(key, _braced(text, ref))


def key_rule(text: str, ref: KeyRef) -> tuple[str, str]:
    if _braced(text, ref):
        return "as @{...}", "a key holds no } or line break, and no space at either end"
    return "as a bare @key in pandoc Markdown", (f"write that citation @{{{ref.key}}} first, or choose a key of "
                                                  "letters, digits and inner punctuation")


def _braced(text: str, ref: KeyRef) -> bool:
    """Whether the key is written `@{key}` (any text but `}` may go there)."""
    return text[ref.start - 1:ref.start] == "{"


def _holds(key: str, braced: bool) -> bool:
    """Whether `@key` (`@{key}` when braced) reads back as this key: pandoc's grammar for a bare
    key, not taken for a cross-reference (`fig-`, `sec:`); in braces, anything but `}` and line
    breaks, without outer spaces."""
    if braced:
        return bool(key) and key.strip() == key and _BRACED_KEY.fullmatch(key) is not None
    return _BARE_KEY.fullmatch(key) is not None and not _CROSS_REFERENCES.match(key)


def _scan(text: str, pos: int, endpos: int) -> Iterator[Citation]:
    """Citations in text[pos:endpos], passing over code, comments and URLs."""
    for match in _tokens(text, pos, endpos):
        if match.lastgroup in _CITATIONS:
            keys = _keys(text, match.start(), match.end())
            if keys:
                yield Citation("@", keys, match.start(), match.end())


def _tokens(text: str, pos: int, endpos: int) -> Iterator[re.Match[str]]:
    """Matches of _TOKENS in order; indented lines that continue a list item are read as text."""
    if pos == 0 and (match := _DOCUMENT_START.match(text, 0, endpos)):
        pos = match.end()
        yield match
    while match := _TOKENS.search(text, pos, endpos):
        if match.lastgroup == "indented" and _continues_list(text, match.start("indented")):
            pos = match.start("code")
            continue
        pos = match.end()
        yield match


def _keys(text: str, start: int, end: int) -> tuple[KeyRef, ...]:
    """The key references in text[start:end], cross-references left out; a braced key's range is
    inside its braces."""
    refs = []
    for match in _REFS.finditer(text, start, end + 1):  # + 1: a key's end looks one ahead
        group = "braced" if match.group("braced") else "bare"
        if group == "braced" or not _CROSS_REFERENCES.match(match.group(group)):
            refs.append(KeyRef(match.group(group), match.start(group), match.end(group)))
    return tuple(refs)


def _continues_list(text: str, blank_line: int) -> bool:
    """Whether the last non-blank line before `blank_line` is a list item or indented, so that
    indented lines after it belong to the list (pandoc) instead of forming a code block."""
    end = blank_line - 1
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        if text[start:end].strip():
            return bool(_LIST_ITEM.match(text, start))
        end = start - 1
    return False


def _query_rules(text: str, start: int, at: int) -> tuple[int, re.Pattern[str], re.Pattern[str]]:
    """For the `@` at `at`: where its query starts, what the query may hold, and what counts as
    the key a completion replaces."""
    if text.startswith("{", at + 1):
        return at + 2, _BRACED_KEY, _BRACED_KEY
    typed = _TYPED_IN_BRACKETS if _inside_brackets(text, start, at) else _TYPED_BARE
    return at + 1, typed, _BARE_KEY


def _inside_brackets(text: str, start: int, at: int) -> bool:
    """Whether the `@` at `at` is inside a `[...]` citation (opened earlier in its paragraph,
    not an inline note `^[...]`)."""
    paragraph = text.rfind("\n\n", start, at) + 1 or start
    opener = text.rfind("[", paragraph, at)
    return opener > text.rfind("]", paragraph, at) and text[opener - 1 : opener] != "^"


def _ignored(text: str, start: int, end: int, at: int, offset: int) -> bool:
    """Whether the `@` or the cursor lies in code, a comment, front matter or a URL."""
    for match in _tokens(text, start, end):
        if match.start() > offset:
            break
        if match.lastgroup not in _CITATIONS and (
            match.start() <= at < match.end() or match.start() < offset < match.end()
        ):
            return True
    return False
