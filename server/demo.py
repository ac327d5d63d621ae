"""`papercite demo`: index the bundled sample library and show what papercite finds as people type.

Runs against a throwaway index (unless --index-dir names one), so a demo never adds sample papers
to the user's own index.
"""

from __future__ import annotations

import tempfile
from importlib.resources import files
from pathlib import Path

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


def run_demo(index_dir: Path | None = None) -> int:
    from papercite.index.search import PaperSearch
    from papercite.index.store import PaperStore

    with tempfile.TemporaryDirectory(prefix="papercite-demo-") as scratch:
        store = PaperStore(index_dir or Path(scratch) / "index")
        libraries = sorted(p for p in SAMPLE.iterdir() if p.suffix in (".bib", ".json"))
        report = store.update(libraries)
        print(f"Indexed {report.papers} papers from {', '.join(p.name for p in libraries)} "
              f"in {report.seconds:.2f} s.\n")
        search = PaperSearch(store)
        for text, meaning in QUERIES:
            print(f"typed {text!r} ({meaning}):")
            for rank, hit in enumerate(search.search(text, limit=3), 1):
                who = hit.paper().short_authors()
                print(f"  {rank}. {hit.key:26} {who} {hit.year or ''}: {hit.title}")
            print()
        store.close()
    return 0
