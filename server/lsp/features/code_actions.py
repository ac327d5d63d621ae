"""Quick fixes for undefined keys, and "cite this paper" on selected text.

On an undefined-key diagnostic: replace the key with one of the closest keys the document sees
(edit distance, then search rank); cite the paper the typed text names (`\\cite{long short-term
memory}`); add the entry when the key is only in a global library. On a selection that is a paper
title or a pasted reference string: replace it with a citation of the one paper it clearly names.
Whichever cites a paper only a global library has also adds its entry to the document's own
bibliography (entries.py), in the same edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from papercite.index.model import Paper
from papercite.server.documents.citations import window
from papercite.server.documents.library import Scope
from papercite.server.lsp.entries import (
    add_entry_edit,
    target_bibliography,
    workspace_edit,
)
from papercite.server.lsp.render import shorten
from papercite.server.lsp.server import PARSERS, PaperciteServer

UNDEFINED_KEY = "undefined-key"  # the diagnostic code documents.py gives undefined keys
MAX_SELECTION = 1000  # characters: longer selections are no title or reference
KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]


@dataclass
class Fix:
    """One action's change: ``text`` over the key or selection (None: leave it), and ``add``, a
    paper to append to the document's bibliography (None: nothing to add)."""

    title: str
    text: str | None
    add: Paper | None


def register(server: PaperciteServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=KINDS))
    async def code_action(ls: PaperciteServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        found = ls.document(uri)
        if found is None or found[0].syntax is None or not found[2].has_line(params.range.start):
            return None
        state, text, lines = found
        parser = PARSERS[state.syntax]
        scope = ls.scope(uri)
        version = ls.workspace.get_text_document(uri).version
        actions: list[types.CodeAction] = []
        if _wanted(types.CodeActionKind.QuickFix, params.context.only):
            for diagnostic in params.context.diagnostics:
                if diagnostic.source != "papercite" or diagnostic.code != UNDEFINED_KEY:
                    continue
                ref = _key_of(ls, text, lines.offset(diagnostic.range.start), diagnostic, parser)
                if ref is None:
                    continue  # the text changed under the diagnostic
                fixes = await ls.on_search_thread(key_fixes, ls, ref.key, scope)
                replace = types.Range(start=lines.position(ref.start), end=lines.position(ref.end))
                actions.extend(_quick_fix(ls, uri, version, replace, fix, diagnostic, scope, first=i == 0)
                               for i, fix in enumerate(fixes))
        start, end = lines.offset(params.range.start), lines.offset(params.range.end)
        if _wanted(types.CodeActionKind.RefactorRewrite, params.context.only) and \
                _citable(text, start, end, parser, ls.settings.citation_commands):
            named = await ls.on_search_thread(cited_paper, ls, text[start:end], scope)
            citation = named and parser.citation_for(named[0])
            if citation:
                _, title, add = named
                fix = Fix(f"Cite this paper: {citation} ({shorten(title, 50)})"
                          + _adding(add, target_bibliography(scope)), citation, add)
                actions.append(_action(ls, uri, version, params.range, fix, types.CodeActionKind.RefactorRewrite,
                                       scope))
        return [a for a in actions if a is not None]


def key_fixes(ls: PaperciteServer, key: str, scope: Scope) -> list[Fix]:
    """Ways to resolve an undefined key, the likeliest first (runs on the search thread): add it
    when a global library has it; cite the paper its text names (a title typed as a key); cite
    one of the closest keys, adding it too when only a global library has it."""
    library = ls.library
    fixes: list[Fix] = []
    target = target_bibliography(scope)
    if (paper := library.library_paper(key, scope)) is not None and target:
        fixes.append(Fix(f"Add `{key}` to {target.name}", None, paper))
    offered = {key}
    if " " in key.strip() and (hit := library.paper_named(key, scope)) is not None:
        offered.add(hit.key)
        add = _to_add(ls, hit.key, scope)
        fixes.append(Fix(f"Cite `{hit.key}` ({shorten(hit.title, 50)})" + _adding(add, target), hit.key, add))
    for closest in library.closest_keys(key, scope):
        if closest not in offered:
            add = _to_add(ls, closest, scope)
            fixes.append(Fix(f"Replace with `{closest}`" + _adding(add, target), closest, add))
    return [fix for fix in fixes if fix.add is None or target is not None]


def cited_paper(ls: PaperciteServer, selection: str, scope: Scope) -> tuple[str, str, Paper | None] | None:
    """(key, title, paper to add or None) of the paper a selection names (search thread)."""
    hit = ls.library.paper_named(selection, scope)
    if hit is None:
        return None
    add = _to_add(ls, hit.key, scope)
    if add is not None and target_bibliography(scope) is None:
        return None  # only a global library has it, and the document has no bibliography papercite can add to
    return hit.key, hit.title, add


def _to_add(ls: PaperciteServer, key: str, scope: Scope) -> Paper | None:
    return None if ls.library.known(key, scope) else ls.library.library_paper(key, scope)


def _adding(add: Paper | None, target: Path | None) -> str:
    return f" and add it to {target.name}" if add is not None and target is not None else ""


def _quick_fix(ls: PaperciteServer, uri: str, version: int, replace: types.Range, fix: Fix,
               diagnostic: types.Diagnostic, scope: Scope, first: bool) -> types.CodeAction | None:
    action = _action(ls, uri, version, replace, fix, types.CodeActionKind.QuickFix, scope)
    if action is not None:
        action.diagnostics = [diagnostic]
        action.is_preferred = first or None
    return action


def _action(ls: PaperciteServer, uri: str, version: int, replace: types.Range, fix: Fix,
            kind: types.CodeActionKind, scope: Scope) -> types.CodeAction | None:
    """The action with its edit: the new citation text over ``replace`` (unless the fix keeps
    the key), and the entry appended to the document's bibliography (if the fix adds one)."""
    edits = []
    if fix.text is not None:
        edits.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=[types.TextEdit(range=replace, new_text=fix.text)]))
    if fix.add is not None:
        from papercite.index.writers import CannotWrite  # deferred for start-up, as in entries.py

        target = target_bibliography(scope)
        try:
            edits.append(add_entry_edit(ls, fix.add, target))
        except CannotWrite as err:  # say why, where the client can show a disabled action
            capabilities = ls.client_capabilities.text_document
            if fix.text is None and capabilities and capabilities.code_action and \
                    capabilities.code_action.disabled_support:
                return types.CodeAction(title=fix.title, kind=kind, disabled=types.CodeActionDisabled(
                    reason=f"{target.name}: {err}"))
            return None
    return types.CodeAction(title=fix.title, kind=kind, edit=workspace_edit(ls, edits))


def _key_of(ls: PaperciteServer, text: str, offset: int, diagnostic: types.Diagnostic, parser):
    """The cited key a diagnostic is about, read again from the current text (its range may be
    from an older version); None when it is no longer there."""
    ref = parser.key_at(text, offset, ls.settings.citation_commands)
    expected = diagnostic.data.get("key") if isinstance(diagnostic.data, dict) else None
    if ref is None or (expected is not None and ref.key != expected):
        return None
    return ref


def _citable(text: str, start: int, end: int, parser, commands) -> bool:
    """Whether a selection can be replaced by a citation: some words, not too long, and no part
    of a citation."""
    selection = text[start:end]
    if len(selection) > MAX_SELECTION or len(selection.split()) < 2:
        return False
    low, high = window(text, start)
    return not any(c.start + low < end and start < c.end + low
                   for c in parser.find_citations(text[low:max(high, end)], commands))


def _wanted(kind: str, only: list[str] | None) -> bool:
    """Whether the client asked for this kind (or a kind containing it, like `refactor`)."""
    return not only or any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)
