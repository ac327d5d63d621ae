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


TEXT_LIMIT = 4 * 1024
"""Characters a paper keeps of a title, venue, identifier or name: far above any real one. With
the limits below, what a broken or hostile file costs in memory, in the index and on screen."""
ABSTRACT_LIMIT = 32 * 1024
RAW_LIMIT = 64 * 1024
"""The entry's text is kept whole or not at all: cut, it would not read back as the entry."""
AUTHORS_LIMIT = 1000

_CLIPPED_TEXT_FIELDS = ("title", "venue", "doi", "arxiv", "url", "entry_type")
_NAME_PARTS = ("family", "given", "particle", "suffix", "literal")


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

    def clip(self) -> list[str]:
        """Cut the fields longer than their limit, in place (an entry's text too long to keep is
        dropped); returns what was cut, in words."""
        long_fields = [name for name in _CLIPPED_TEXT_FIELDS if len(getattr(self, name)) > TEXT_LIMIT]
        for name in long_fields:
            setattr(self, name, getattr(self, name)[:TEXT_LIMIT])
        cut = [f"{name} at {TEXT_LIMIT:,} characters" for name in long_fields]
        if len(self.abstract) > ABSTRACT_LIMIT:
            self.abstract = self.abstract[:ABSTRACT_LIMIT]
            cut.append(f"abstract at {ABSTRACT_LIMIT:,} characters")
        if len(self.authors) > AUTHORS_LIMIT:
            del self.authors[AUTHORS_LIMIT:]
            cut.append(f"authors at {AUTHORS_LIMIT:,} names")
        if any(len(a.family) + len(a.given) + len(a.particle) + len(a.suffix) + len(a.literal) > TEXT_LIMIT
               for a in self.authors) \
                and any(len(getattr(a, part)) > TEXT_LIMIT for a in self.authors for part in _NAME_PARTS):
            self.authors = [Author(**{part: getattr(author, part)[:TEXT_LIMIT] for part in _NAME_PARTS})
                            for author in self.authors]
            cut.append(f"names at {TEXT_LIMIT:,} characters")
        if len(self.raw) > RAW_LIMIT:
            self.raw = ""
            cut.append(f"its text not kept (over {RAW_LIMIT:,} characters)")
        return cut

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
