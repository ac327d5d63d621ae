"""Plain paper listings, like a "daily papers" web page saved as text: one-line titles, each
followed by its abstract; no keys, authors or years (keys are generated, see `keys`).

How a line is told apart from another, by shape alone since there is no markup:

* an abstract line is long (over ``TITLE_MAX_CHARS``: the sample listing's longest title has 123
  characters, its shortest abstract 1376); a paragraph of several shorter lines that ends with a
  full stop is a hard-wrapped abstract;
* every other line is a title; its abstract is the prose that follows it, on the next line or
  after blank lines. Blank lines are optional: a short line right after a long one starts a new
  paper;
* the page header ("Subscribe", "byAK and the research community", "Mar 28") is short lines
  too, so it reads as titles with no abstract: those that come before the first title with an
  abstract are the header and are dropped. Later titles without an abstract are kept, and so is
  every title of a listing where none has an abstract (a bare list of titles).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from papercite.index.keys import assign_keys
from papercite.index.lines import LINE_BREAK
from papercite.index.model import Paper, ReadResult, Span

TITLE_MAX_CHARS = 250



@dataclass
class Line:
    """A line's text without surrounding whitespace, and where that text sits."""

    number: int
    line_start: int  # offset of the line in the file
    start: int  # offset of its first non-blank character
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def is_long(self) -> bool:
        return len(self.text) > TITLE_MAX_CHARS


@dataclass
class Entry:
    title: Line
    abstract: list[Line] = field(default_factory=list)


def parse(text: str, source: str) -> ReadResult:
    entries = read_entries(blocks(lines_of(text)))
    first_with_abstract = next((i for i, entry in enumerate(entries) if entry.abstract), 0)
    papers = [paper_from_entry(entry, text, source) for entry in entries[first_with_abstract:]]  # header dropped
    assign_keys(papers)
    return ReadResult(papers=papers)


def lines_of(text: str) -> Iterator[Line]:
    line_start = 0
    for number, line_break in enumerate([*LINE_BREAK.finditer(text), None]):
        line = text[line_start:line_break.start() if line_break else len(text)]
        yield Line(number, line_start, line_start + len(line) - len(line.lstrip()), line.strip())
        line_start = line_break.end() if line_break else len(text)


def blocks(lines: Iterator[Line]) -> Iterator[list[Line]]:
    """Runs of non-blank lines, also cut where a short line follows a long one (listings saved
    without blank lines)."""
    block: list[Line] = []
    for line in lines:
        if not line.text or (block and block[-1].is_long and not line.is_long):
            if block:
                yield block
            block = []
        if line.text:
            block.append(line)
    if block:
        yield block


def read_entries(blocks: Iterator[list[Line]]) -> list[Entry]:
    entries: list[Entry] = []
    awaiting: Entry | None = None  # a title whose abstract may be the next block
    for block in blocks:
        prose_at = prose_start(block, after_title=awaiting is not None)
        titles, prose = block[:prose_at], block[prose_at:]
        if titles:
            entries.extend(Entry(title) for title in titles)
            entries[-1].abstract = prose
        elif awaiting:
            awaiting.abstract = prose
        # else: prose with no title to belong to (a page's blurb); nothing to cite
        awaiting = entries[-1] if titles and not prose else None
    return entries


def prose_start(block: list[Line], after_title: bool) -> int:
    """Index of the block's first abstract line, len(block) when it is all titles."""
    first_long = next((i for i, line in enumerate(block) if line.is_long), None)
    if first_long is not None:
        return first_long
    if len(block) > 1 and block[-1].text.endswith("."):  # a hard-wrapped paragraph
        return 0 if after_title else 1
    return len(block)


def paper_from_entry(entry: Entry, text: str, source: str) -> Paper:
    first, last = entry.title, (entry.abstract or [entry.title])[-1]
    return Paper(
        key="",
        title=" ".join(first.text.split()),
        abstract=" ".join(line.text for line in entry.abstract),
        entry_type="misc",
        source=source,
        span=Span(start_line=first.number, start_col=first.start - first.line_start,
                  end_line=last.number, end_col=last.end - last.line_start),
        raw=text[first.start:last.end],
    )
