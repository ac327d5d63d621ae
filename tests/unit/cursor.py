"""Test texts with the cursor marked by `|`, shared by both citation syntaxes' tests."""

from __future__ import annotations

from papercite.server.documents.citations import CompletionContext

CURSOR = "|"


def split(marked: str) -> tuple[str, int]:
    """The text without the marker, and the cursor offset it marked."""
    offset = marked.index(CURSOR)
    return marked.replace(CURSOR, "", 1), offset


def check_context(found: CompletionContext | None, marked: str, query: str, existing: str) -> None:
    """The context names the typed query and the whole existing key, at the right offsets."""
    text, offset = split(marked)
    assert found is not None
    assert (found.query, found.existing) == (query, existing)
    assert text[found.start:found.end] == existing
    assert found.start + len(query) == offset
