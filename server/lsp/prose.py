"""Hover on paper names in running text: a paper's short name ("RoBERTa", the part of its title
before the colon) or its whole title, outside citations, names that paper when no other paper
the document sees is named so (hover.py then shows its citation; the `hover.prose` setting turns
this off). The look-up itself is the index's (papercite.index.names): a few title starts read,
whatever the library's size."""

from __future__ import annotations

from lsprotocol import types

from papercite.server.documents.citations import window
from papercite.server.documents.library import Scope
from papercite.server.lsp.server import Cursor, PaperciteServer


async def paper_named_at(ls: PaperciteServer, cursor: Cursor, scope: Scope) -> tuple[str, types.Range] | None:
    """The key of the paper the prose under the cursor names, and the range of that name."""
    if _in_citation(ls, cursor):
        return None
    line = cursor.lines.position(cursor.offset).line
    line_start = cursor.lines.starts[line]
    found = await ls.on_search_thread(ls.library.named_at, cursor.lines.line_text(line),
                                      cursor.offset - line_start, scope)
    if found is None:
        return None
    return found.key, cursor.lines.range(line_start + found.start, line_start + found.end)


def _in_citation(ls: PaperciteServer, cursor: Cursor) -> bool:
    """Whether the cursor is inside a citation's text (its command, options, brackets)."""
    low, high = window(cursor.text, cursor.offset)
    return any(c.start <= cursor.offset - low < c.end
               for c in cursor.parser.find_citations(cursor.text[low:high], ls.settings.citation_commands))
