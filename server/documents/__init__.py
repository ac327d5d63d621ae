"""The documents layer, between the index and the LSP features, with no handlers: where citations
are in a text (citations: a `CitationSyntax` per syntax), what a document declares
(bibliographies), the workspace's citing documents (workspace), which papers a document sees
(library: `Library`, the one door into the index for the server and the CLI), settings, and
positions (`Lines`: the index's line index with LSP positions)."""
