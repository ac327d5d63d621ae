"""The documents layer, LSP-free: where citations are in a text (citations), what a document
declares (bibliographies), the workspace's citing documents (workspace), which papers a document
sees (library: the door into the index), settings, and positions in a text."""
