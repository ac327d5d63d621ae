"""`papercite demo`: index the bundled sample library, show what papercite finds as people type,
then replay a real LSP session against the bundled LaTeX and Markdown drafts (the server started
as editors start it, over stdio) and print what an editor would show.

Everything runs in a scratch folder (unless --index-dir names an index), so a demo never adds
sample papers to the user's own index.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import textwrap
from importlib.resources import files
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from papercite.index.readers import is_library
from papercite.index.search import PaperSearch
from papercite.index.store import PaperStore
from papercite.server.documents.positions import Lines

SAMPLE = Path(str(files("papercite.index") / "sample"))

# What people type, and what they mean by it.
QUERIES = [
    ("attention is all", "the start of a title"),
    ("vaswani 2017", "an author and a year"),
    ("resid learn", "half-typed title words"),
    ("atention transformer", "with a typo"),
    ("kingma", "a key prefix"),
    ("scholkopf kernels", "an accented author typed without accents"),
    ("consensus understandable", "words from the middle of a title"),
]

# Typed into the drafts during the replay: (file, line to add after, text typed at its end).
TYPING = [
    ("draft.tex", r"\section{Introduction}", r"Sequence models \cite{attention is all"),
    ("draft.tex", r"\section{Introduction}", r"Optimisers \citep[see][]{kingma 2015"),
    ("draft.md", "# Background", "Kernel machines [@scholkopf kern"),
    ("draft.md", "# Background", "Sequence alignment [@blast"),
]


def run_demo(index_dir: Path | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="papercite-demo-") as scratch:
        index = index_dir or Path(scratch) / "index"
        ranked_searches(index)
        workspace = Path(scratch) / "project"
        shutil.copytree(SAMPLE, workspace)
        asyncio.run(replay_session(workspace, index))
    return 0


def ranked_searches(index: Path) -> None:
    store = PaperStore(index)
    libraries = sorted(p for p in SAMPLE.iterdir() if is_library(p))
    report = store.update(libraries)
    print(f"Indexed {report.papers} papers from {', '.join(p.name for p in libraries)} in {report.seconds:.2f} s.\n")
    search = PaperSearch(store)
    for text, meaning in QUERIES:
        print(f"papercite search {text!r}   ({meaning})")
        for rank, hit in enumerate(search.search(text, limit=3), 1):
            print(f"  {rank}. {hit.key:26} {hit.paper().short_authors()} {hit.year or ''}: {hit.title}")
        print()
    store.close()


async def replay_session(workspace: Path, index: Path) -> None:
    client = LanguageClient("papercite-demo", "1.0")
    diagnostics: dict[str, list[types.Diagnostic]] = {}
    published = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        diagnostics[params.uri] = params.diagnostics
        published.set()

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def on_message(params: types.ShowMessageParams) -> None:
        print(f"[server message] {params.message}")

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        """What an editor keeps in its log for whoever debugs, not in front of the user."""

    print("== An LSP session: `papercite serve` over stdio, as an editor starts it ==\n")
    await client.start_io(sys.executable, "-m", "papercite.server.cli", "serve")
    try:
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=workspace.as_uri(),
            initialization_options={"indexDir": str(index)}))
        client.initialized(types.InitializedParams())
        texts = {}
        for name, language in (("draft.tex", "latex"), ("draft.md", "markdown")):
            path = workspace / name
            texts[name] = path.read_text(encoding="utf-8")
            client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
                uri=path.as_uri(), language_id=language, version=1, text=texts[name])))
        versions = {name: 1 for name in texts}
        for name, anchor, typed in TYPING:
            texts[name] = await type_and_accept(client, workspace / name, texts[name], anchor, typed, versions)
        await show_hovers(client, workspace, texts)
        await asyncio.wait_for(published.wait(), 10)
        await asyncio.sleep(0.5)  # the drafts' final diagnostics
        print("Diagnostics (what the editor underlines):")
        for uri, found in sorted(diagnostics.items()):
            for d in found:
                print(f"  {Path(uri).name}:{d.range.start.line + 1}:{d.range.start.character + 1}: "
                      f"{d.severity.name.lower()}: {d.message}")
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()


async def type_and_accept(client, path: Path, text: str, anchor: str, typed: str, versions: dict[str, int]) -> str:
    """Type a half-finished citation on a new line after `anchor`, show the completion list, and
    accept its first item as an editor does (apply its textEdit). Returns the new text."""
    lines = text.splitlines()
    line = next(i for i, value in enumerate(lines) if value.startswith(anchor)) + 1
    lines.insert(line, typed)
    send_text(client, path, lines, versions)
    for attempt in range(50):  # the first indexing runs in the background: ask again until it is done
        result = await client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=types.Position(line=line, character=len(typed))))
        if result and result.items:
            break
        await asyncio.sleep(0.2)
    print(f"{path.name}: typing  {typed}|")
    items = result.items if result else []
    for item in items[:3]:
        details = item.label_details
        print(f"  {item.label:26}{details.detail if details else ''}  —  {details.description if details else ''}")
    if items:
        edit = items[0].text_edit
        lines[line] = typed[:edit.range.start.character] + edit.new_text + typed[edit.range.end.character:]
        print(f"  accepted: {lines[line]}" + ("]" if path.suffix == ".md" else "}"))
        lines[line] += "]" if path.suffix == ".md" else "}"
        send_text(client, path, lines, versions)
    print()
    return "\n".join(lines) + "\n"


def send_text(client, path: Path, lines: list[str], versions: dict[str, int]) -> None:
    versions[path.name] += 1
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=versions[path.name]),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="\n".join(lines) + "\n")]))


async def show_hovers(client, workspace: Path, texts: dict[str, str]) -> None:
    for name, key in (("draft.tex", "vaswani2017attention"), ("draft.tex", "smith2099imaginary"),
                      ("draft.md", "liu2019roberta")):
        text = texts[name]
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=(workspace / name).as_uri()),
            position=Lines(text).position(text.index(key) + 2)))
        print(f"{name}: hover on {key}")
        body = hover.contents.value if hover else "(nothing)"
        print(textwrap.indent(body, "  │ "))
        print()
