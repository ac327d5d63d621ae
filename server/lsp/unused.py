"""Unused entries (setting `diagnostics.unusedEntries`, off by default: a shared library is mostly
entries a given project does not cite): the entries of an open bibliography that no document of
the workspace cites, as faded hints among the bibliography's diagnostics.

They are checked again with the bibliography's diagnostics (as it is edited, and when the index
changes), and when a citing document is opened, saved or closed: not while one is being typed in,
which would walk the workspace at every pause in typing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from lsprotocol import types

from papercite.index.model import Paper
from papercite.server.documents.positions import Lines
from papercite.server.lsp.locations import refresh_citing, snapshot
from papercite.server.lsp.server import PaperciteServer


def unused_entries(entries: Iterable[Paper], cited: Collection[str]) -> list[Paper]:
    """The entries cited neither by their key nor by an alias (biblatex `ids`). An entry whose key
    was made up (it has none) is left to the bibliography's own diagnostics."""
    return [paper for paper in entries
            if not paper.key_generated and paper.key not in cited and not any(a in cited for a in paper.ids)]


def unused_entry_check(ls: PaperciteServer, papers: list[Paper], lines: Lines) -> Callable[[], list[types.Diagnostic]]:
    """For the search thread: hints on these entries of an open bibliography (read from the text
    `lines` holds) that no workspace document cites; none when the setting is off. Called on the
    event loop, where the open documents are."""
    if not ls.settings.diagnostics.unused_entries:
        return list
    snap = snapshot(ls)

    def check() -> list[types.Diagnostic]:
        refresh_citing(ls, snap)
        return [types.Diagnostic(range=lines.span_range(paper.span), severity=types.DiagnosticSeverity.Hint,
                                 tags=[types.DiagnosticTag.Unnecessary], source="papercite", code="unused-entry",
                                 message=f"'{paper.key}' is not cited in the workspace")
                for paper in unused_entries(papers, ls.citing.cited_keys()) if paper.span is not None]

    return check
