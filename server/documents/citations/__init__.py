"""Where citations are in a document, as pure functions over its text (no LSP here).

`latex` and `markdown` are each a `CitationSyntax` (`parsers.PARSERS` maps a document's syntax to
its module); all offsets count code points, the server converts them to the client's position
encoding. This module holds that interface, the result types, the choice of syntax for a document,
and the helpers both syntaxes share.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

Syntax = Literal["latex", "markdown"]

WINDOW = 4096
"""How far (code points) per-keystroke look-ups read around the cursor, so they cost the same on
a 300 KB thesis as on a letter. A citation longer than this is not seen whole."""


@dataclass(frozen=True, slots=True)
class KeyRef:
    """One key inside a citation; `end` is exclusive."""

    key: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Citation:
    """One citing construct (`\\citep[..]{a,b}`, `[@a; @b]`, `@a [p. 3]`) and the keys it names."""

    command: str
    keys: tuple[KeyRef, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class CompletionContext:
    """What the user typed for a key (`query`) and the range a chosen key replaces.

    `end` is the cursor, or the end of the key under it: completing inside a key replaces it whole.
    """

    query: str
    start: int
    end: int
    existing: str


class CitationSyntax(Protocol):
    """What a citation syntax module offers, the same for each (tests/unit/test_interfaces.py
    checks that the modules have these functions, with these parameters)."""

    def find_citations(self, text: str, extra_commands: Iterable[str] = ()) -> list[Citation]:
        """Every citation in the document, in order."""
        ...

    def completion_context(self, text: str, offset: int, extra_commands: Iterable[str] = ()) -> CompletionContext | None:
        """The key being typed at `offset`, or None when the cursor is not where a key goes."""
        ...

    def key_at(self, text: str, offset: int, extra_commands: Iterable[str] = ()) -> KeyRef | None:
        """The cited key under the cursor (at its start, inside it, or just after its end)."""
        ...

    def citation_for(self, key: str) -> str | None:
        """The citation a "cite this paper" action writes, None for a key no citation can hold."""
        ...

    def valid_key(self, key: str, text: str, ref: KeyRef) -> bool:
        """Whether the citation of `ref` in `text` can hold `key` in place of its key."""
        ...

    def key_rule(self, text: str, ref: KeyRef) -> tuple[str, str]:
        """How the citation of `ref` is written and what a key there may hold, as a refusal says
        it: ("in LaTeX", "a key holds no spaces ...")."""
        ...


_LATEX_IDS = frozenset({"latex", "tex", "plaintex"})
_MARKDOWN_IDS = frozenset({"markdown", "quarto", "rmd", "rmarkdown", "pandoc", "mdx", "gfm"})
_NOT_CITING_IDS = frozenset({"bibtex", "biblatex", "bib", "context"})
_EXTENSIONS: dict[str, Syntax] = {
    **dict.fromkeys((".tex", ".ltx", ".latex", ".rnw"), "latex"),
    **dict.fromkeys((".md", ".markdown", ".mdown", ".mkd", ".qmd", ".rmd", ".mdx"), "markdown"),
}


def syntax_for(language_id: str, path: str) -> Syntax | None:
    """The citation syntax of a document, from its language id or else its file extension.

    Bibliographies cite nothing, and ConTeXt's `\\cite[key]` is not LaTeX's, so both give None.
    """
    language = language_id.strip().lower()
    if language in _LATEX_IDS:
        return "latex"
    if language in _MARKDOWN_IDS:
        return "markdown"
    if language in _NOT_CITING_IDS:
        return None
    return _EXTENSIONS.get(os.path.splitext(path)[1].lower())


def window(text: str, offset: int) -> tuple[int, int]:
    """The span read around `offset`: from a line start up to WINDOW before it, WINDOW after it.

    Starting on a line start keeps a scan from beginning inside a comment or a code span.
    """
    start = 0
    if offset > WINDOW:
        start = text.find("\n", offset - WINDOW, offset) + 1 or offset - WINDOW
    return start, min(len(text), offset + WINDOW)


def key_at_offset(citations: Iterable[Citation], offset: int) -> KeyRef | None:
    """The key whose span holds `offset`, its start and its end included."""
    for citation in citations:
        for ref in citation.keys:
            if ref.start <= offset <= ref.end:
                return ref
    return None


def context_at(text: str, start: int, offset: int, key: re.Pattern[str]) -> CompletionContext:
    """The context for a query typed from `start` to `offset`; the range grows over the rest of a
    key (as `key` matches it from `start`) when the cursor sits inside one."""
    match = key.match(text, start)
    end = max(offset, match.end()) if match else offset
    return CompletionContext(text[start:offset], start, end, text[start:end])
