"""Citations in LaTeX: the natbib, biblatex, apacite, chicago and harvard commands, plus any the
user declares. Comments, verbatim-like environments and `\\verb` are skipped, as TeX skips them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from papercite.server.documents.citations import (
    WINDOW,
    Citation,
    CompletionContext,
    KeyRef,
    context_at,
    key_at_offset,
    window,
)

# Argument shapes. PLAIN: [opt][opt]{keys}. MULTI (biblatex \cites): (pre)(post) then one or more
# [opt][opt]{keys}. VOLUME: [pre]{volume}[pages]{keys}. MULTIVOLUME: (pre)(post) then volume groups.
PLAIN, MULTI, VOLUME, MULTIVOLUME = "plain", "multi", "volume", "multivolume"

_PLAIN_COMMANDS = """
    cite citet citep citealt citealp citenum citeauthor citefullauthor citeyear citeyearpar
    citetalias citepalias Citet Citep Citealt Citealp Citeauthor
    Cite parencite Parencite footcite footcitetext textcite Textcite smartcite Smartcite supercite
    autocite Autocite citetitle citedate citeurl nocite fullcite footfullcite notecite Notecite
    pnotecite Pnotecite fnotecite pagecite citename citelist citefield
    citeA citeANP citeNP citeyearNP fullciteA fullciteNP fullciteauthor fullciteauthorNP
    shortcite shortciteA shortciteNP shortciteauthor shortciteauthorNP citeN shortciteN
    citeasnoun possessivecite citeaffixed citeonline
""".split()
_MULTI_COMMANDS = """
    cites Cites parencites Parencites footcites footcitetexts smartcites Smartcites textcites
    Textcites supercites autocites Autocites
""".split()
_VOLUME_COMMANDS = """
    volcite Volcite pvolcite Pvolcite fvolcite ftvolcite svolcite Svolcite tvolcite Tvolcite
    avolcite Avolcite
""".split()

COMMANDS: dict[str, str] = {
    **dict.fromkeys(_PLAIN_COMMANDS, PLAIN),
    **dict.fromkeys(_MULTI_COMMANDS, MULTI),
    **dict.fromkeys(_VOLUME_COMMANDS, VOLUME),
    **dict.fromkeys((name + "s" for name in _VOLUME_COMMANDS), MULTIVOLUME),
}
"""Built-in citation commands (without the backslash) and their argument shapes."""

_VERBATIM_ENVIRONMENTS = (
    "verbatim|Verbatim|BVerbatim|LVerbatim|lstlisting|minted|comment|filecontents"
)

# What the scanner stops at: text TeX never typesets as commands, or a citation command.
_SKIPPED = rf"""
    %[^\n]*                                              # a comment
  | \\[^A-Za-z@]                                         # a control symbol: \\ \% \{{ ...
  | \\(?:verb|lstinline)\*?(?P<delim>[^A-Za-z\s*{{])[^\n]*?(?:(?P=delim)|$)
  | \\(?:url|nolinkurl|path|href)[ \t]*\{{[^{{}}\n]*\}}  # a URL, where `%` is literal
  | \\begin[ \t]*\{{(?P<env>(?:{_VERBATIM_ENVIRONMENTS})\*?)\}}
        .*?(?:\\end[ \t]*\{{(?P=env)\}}|\Z)
"""

_SPACE = re.compile(r"(?:[ \t\r]|\n(?![ \t\r]*\n)|%[^\n]*)*")
"""Room TeX allows between a command and its arguments: spaces, one line break, comments."""

_DELIMITERS = re.compile(r"\\.|%[^\n]*|\n[ \t\r]*\n|[\[\]{}()<>]", re.DOTALL)
_CLOSERS = {"[": "]", "<": ">", "(": ")", "{": "}"}

_KEY_LIST = re.compile(r"(?:[^{}\\%\n]|%[^\n]*|\n(?![ \t\r]*\n))*")
"""The inside of a key group: anything up to a brace, a command or a paragraph break."""

_KEY = re.compile(r"%[^\n]*|[^,%\s{}\\](?:[^,%{}\\\n]*[^,%\s{}\\])?")
"""A key between commas (outer spaces dropped), or a comment to pass over."""

_NOT_A_KEY = re.compile(r"[%#]|\*$")

_KEY_RUN = re.compile(r"[^,%\s{}\\]+")
"""The rest of a key after the cursor, replaced along with it when completing inside it."""

_VALID_KEY = re.compile(r"[^,{}%\\#~\s]+")


class _Parsed(NamedTuple):
    """A citation command with the spans of its key groups' insides."""

    command: str
    start: int
    end: int
    key_lists: tuple[tuple[int, int], ...]


def find_citations(text: str, extra_commands: Iterable[str] = ()) -> list[Citation]:
    """Every citation in the document, in order (for diagnostics, references and hover)."""
    return [_citation(text, parsed) for parsed in _scan(text, 0, len(text), extra_commands)]


def completion_context(
    text: str, offset: int, extra_commands: Iterable[str] = ()
) -> CompletionContext | None:
    """The key being typed at `offset`, or None when the cursor is not where a key goes.

    The query is the text after the last `{`, `,` or line break, so it may hold spaces.
    """
    start, _ = window(text, offset)
    for parsed in _scan(text, start, offset, extra_commands):
        for first, last in parsed.key_lists:
            if first <= offset <= last:
                return _context_in_key_list(text, first, offset)
    return None


def key_at(text: str, offset: int, extra_commands: Iterable[str] = ()) -> KeyRef | None:
    """The cited key under the cursor (at its start, inside it, or just after its end)."""
    start, _ = window(text, offset)
    parsed = _scan(text, start, offset, extra_commands)
    return key_at_offset((_citation(text, found) for found in parsed), offset)


def citation_for(key: str) -> str | None:
    """The citation a "cite this paper" action writes, None for a key `\\cite` cannot hold."""
    return f"\\cite{{{key}}}" if _holds(key) else None


def valid_key(key: str, text: str, ref: KeyRef) -> bool:
    """Whether a citation can hold `key` whole; every LaTeX citation holds the same keys."""
    return _holds(key)


def key_rule(text: str, ref: KeyRef) -> tuple[str, str]:
    return "in LaTeX", "a key holds no spaces and none of , { } % \\ # ~"


def _holds(key: str) -> bool:
    """No space and none of `,{}%\\#~` (the `*` of `\\nocite{*}` is no key)."""
    return bool(_VALID_KEY.fullmatch(key)) and key != "*"


def _context_in_key_list(text: str, first: int, offset: int) -> CompletionContext | None:
    """The context for a cursor inside a key group starting at `first`; None inside a comment."""
    line = text.rfind("\n", first, offset) + 1 or first
    if "%" in text[line:offset]:
        return None
    separator = max(text.rfind(",", line, offset) + 1, line)
    typed = text[separator:offset]
    return context_at(text, offset - len(typed.lstrip()), offset, _KEY_RUN)


def _citation(text: str, parsed: _Parsed) -> Citation:
    """The public record of a parsed command: its keys, without comments, the `*` of
    `\\nocite{*}` and the `#1` of `\\newcommand{\\mycite}[1]{\\cite{#1}}`."""
    keys = tuple(
        KeyRef(match.group(), match.start(), match.end())
        for first, last in parsed.key_lists
        for match in _KEY.finditer(text, first, last)
        if not _NOT_A_KEY.match(match.group())
    )
    return Citation(parsed.command, keys, parsed.start, parsed.end)


def _scan(text: str, pos: int, endpos: int, extra_commands: Iterable[str]) -> Iterator[_Parsed]:
    """Citation commands starting in text[pos:endpos]; their arguments may run past endpos."""
    shapes = _shapes(frozenset(_command_names(extra_commands)))
    tokens = _tokenizer(frozenset(shapes))
    while match := tokens.search(text, pos, endpos):
        pos = match.end()
        name = match.group("command")
        if name is None:
            continue
        key_lists, end = _arguments(text, pos, shapes[name])
        if key_lists:
            yield _Parsed("\\" + name + match.group("star"), match.start(), end, key_lists)
            pos = end


def _command_names(names: Iterable[str]) -> Iterator[str]:
    """User-declared names without backslash or star; names TeX could not call are dropped."""
    for declared in names:
        name = declared.strip().lstrip("\\").rstrip("*")
        if re.fullmatch(r"[A-Za-z@]+", name):
            yield name


@lru_cache(maxsize=16)
def _shapes(extra: frozenset[str]) -> dict[str, str]:
    """Shapes of all citation commands; user-declared ones take plain arguments."""
    return {**dict.fromkeys(extra, PLAIN), **COMMANDS}


@lru_cache(maxsize=16)
def _tokenizer(names: frozenset[str]) -> re.Pattern[str]:
    """One pattern for skipped text and citation commands, so a scan is a single regex pass."""
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    command = rf"| \\(?P<command>{alternatives})(?![A-Za-z@])(?P<star>\*{{0,2}})"
    return re.compile(_SKIPPED + command, re.VERBOSE | re.DOTALL | re.MULTILINE)


def _arguments(text: str, pos: int, shape: str) -> tuple[tuple[tuple[int, int], ...], int]:
    """The key groups of a command whose name ends at `pos`, and where its arguments end.

    A multicite takes groups for as long as they follow, as biblatex does.
    """
    multiple = shape in (MULTI, MULTIVOLUME)
    volume = shape in (VOLUME, MULTIVOLUME)
    if multiple:
        pos = _skip_optional(text, pos, "(", 2)
    key_lists: list[tuple[int, int]] = []
    while group := _key_group(text, pos, volume):
        key_list, pos, closed = group
        key_lists.append(key_list)
        if not (multiple and closed):
            break
    return tuple(key_lists), pos


def _key_group(text: str, pos: int, volume: bool) -> tuple[tuple[int, int], int, bool] | None:
    """One `[pre][post]{keys}` (or `[pre]{volume}[pages]{keys}`) group from `pos`: the inside of
    its key list, where the group ends, and whether the list is closed. None if none follows."""
    if volume:
        after_volume = _skip_group(text, _skip_optional(text, pos, "[", 1), "{")
        if after_volume is None:
            return None
        pos = _skip_optional(text, after_volume, "[", 1)
    else:
        pos = _skip_optional(text, pos, "[<", 2)
    pos = _SPACE.match(text, pos).end()
    if not text.startswith("{", pos):
        return None
    return _key_list(text, pos)


def _key_list(text: str, brace: int) -> tuple[tuple[int, int], int, bool]:
    """The inside of the key list opened at `brace`. An unclosed list (being typed) ends with its
    line, so the rest of the paragraph is not taken for keys. Lists end within WINDOW, so that
    typing in a long document never reads on to its end."""
    last = _KEY_LIST.match(text, brace + 1, brace + WINDOW).end()
    if text.startswith("}", last):
        return (brace + 1, last), last + 1, True
    line_end = text.find("\n", brace + 1, last)
    last = last if line_end < 0 else line_end
    return (brace + 1, last), last, False


def _skip_optional(text: str, pos: int, openers: str, limit: int) -> int:
    """Past up to `limit` balanced groups opened by one of `openers`."""
    for _ in range(limit):
        end = _skip_group(text, pos, openers)
        if end is None:
            break
        pos = end
    return pos


def _skip_group(text: str, pos: int, openers: str) -> int | None:
    """Past one balanced group opened by one of `openers` after optional space; None if there is
    none or it does not close."""
    start = _SPACE.match(text, pos).end()
    if start < len(text) and text[start] in openers:
        return _balanced_end(text, start)
    return None


def _balanced_end(text: str, start: int) -> int | None:
    """Where the group opened at `start` closes, minding nested groups of its kind and braces
    (inside which brackets do not count); None if a paragraph, or WINDOW, ends first."""
    opener = text[start]
    expected = [_CLOSERS[opener]]
    for match in _DELIMITERS.finditer(text, start + 1, start + WINDOW):
        token = match.group()
        if token[0] == "\n":
            return None
        if token == expected[-1]:
            expected.pop()
            if not expected:
                return match.end()
        elif token == "{" or (token == opener and expected[-1] != "}"):
            expected.append(_CLOSERS[token])
    return None
