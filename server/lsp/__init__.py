"""The language server: the core (server: lifecycle state, settings, indexing, the caches, events),
the modules that register handlers and subscriptions on it (lifecycle, sync, entries, features/),
shared LSP helpers (locations, render, prose, unused, stdio), and serve, which puts them together.
Features are thin: LSP params -> a documents-layer call (Library, a CitationSyntax) -> lsprotocol."""
