"""The records every reader produces and every consumer reads.

Positions are 0-based lines and 0-based columns counted in Unicode code points of the
decoded source text; consumers convert (LSP needs UTF-16, CLI output wants 1-based).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Author(BaseModel):
    """One person or organisation. Corporate names live whole in ``literal``."""

    model_config = ConfigDict(frozen=True)

    family: str = ""
    given: str = ""
    particle: str = ""  # "van der", "de La"
    suffix: str = ""  # "Jr.", "III"
    literal: str = ""  # "World Health Organization"

    @property
    def surname(self) -> str:
        """What "Surname et al." shows: the particle-qualified family name or the literal."""
        if self.literal:
            return self.literal
        return f"{self.particle} {self.family}".strip()

    @property
    def full_name(self) -> str:
        if self.literal:
            return self.literal
        parts = [self.given, self.particle, self.family]
        name = " ".join(p for p in parts if p)
        return f"{name}, {self.suffix}" if self.suffix else name


class Span(BaseModel):
    """Where an entry sits in its source file (end is exclusive)."""

    model_config = ConfigDict(frozen=True)

    start_line: int
    start_col: int
    end_line: int
    end_col: int


class Paper(BaseModel):
    key: str
    title: str = ""
    authors: list[Author] = Field(default_factory=list)
    year: int | None = None
    venue: str = ""
    abstract: str = ""
    doi: str = ""
    arxiv: str = ""
    url: str = ""
    entry_type: str = "article"
    ids: list[str] = Field(default_factory=list)  # alias keys (biblatex `ids`)
    source: str = ""  # absolute path of the file the entry came from
    span: Span | None = None
    key_span: Span | None = None  # where the key is written in the entry (None: generated, or not known)
    raw: str = ""  # the entry's original text, to copy into another bibliography
    key_generated: bool = False

    def short_authors(self, most: int = 2) -> str:
        """'Vaswani', 'Vaswani and Shazeer', 'Vaswani et al.'."""
        names = [a.surname for a in self.authors if a.surname]
        if not names:
            return ""
        if len(names) == 1:
            return names[0]
        if len(names) == 2 and most >= 2:
            return f"{names[0]} and {names[1]}"
        return f"{names[0]} et al."


Severity = Literal["error", "warning", "information"]


class Related(BaseModel):
    """Another place in the same file that a problem refers to (the first entry of a duplicated
    key, the brace that swallowed an entry), and what it is."""

    span: Span
    message: str


class Problem(BaseModel):
    """Something wrong in a source file, with where (0-based, as Span). The range is
    [line:column, end_line:end_column), the entry head or the token at fault; without an end it
    is a point."""

    source: str
    line: int
    column: int = 0
    end_line: int | None = None
    end_column: int | None = None
    message: str
    severity: Severity = "error"
    code: str = ""  # the kind, stable for tools: "syntax-error", "duplicate-key", "missing-key", "encoding"...
    related: Related | None = None

    def render(self) -> str:
        """The linter line: ``path:line:col: severity: message`` (1-based)."""
        return f"{self.source}:{self.line + 1}:{self.column + 1}: {self.severity}: {self.message}"


class ReadResult(BaseModel):
    papers: list[Paper] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    encoding: str = "utf-8"
