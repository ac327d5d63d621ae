"""papercite's server side, in layers: documents (LSP-free project logic over the index), lsp
(the language server) and cli (the command line). Importing this package is cheap (pygls loads
only when the server starts), so the CLI's index/search commands stay fast."""
