"""The language server: the core (server: lifecycle state, settings, indexing, events), the
modules that register handlers on it (lifecycle, sync, entries, features/), shared LSP helpers
(locations, render, prose, unused), and serve, which puts them together."""
