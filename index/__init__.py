"""papercite's paper index: readers turn library files into `Paper` records, the store keeps
them in a Whoosh index on disk, and search ranks them for as-you-type queries. Knows nothing of LSP."""

from papercite.index.model import Author, Paper, Problem, ReadResult, Span

__all__ = ["Author", "Paper", "Problem", "ReadResult", "Span"]
