"""papercite's paper index, the bottom layer: readers (one per format of the `readers.FORMATS`
table, each a `readers.Reader`) turn library files into `Paper` records, the store keeps them in
a Whoosh index on disk, and search ranks them for as-you-type queries; writers put a paper into a
bibliography's text, and `lines.LineIndex` converts offsets to lines and columns for everyone.
Knows nothing of documents or LSP."""

from papercite.index.model import Author, Paper, Problem, ReadResult, Span

__all__ = ["Author", "Paper", "Problem", "ReadResult", "Span"]
