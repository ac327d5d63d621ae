"""papercite's language server: thin LSP handlers over the paper index. Importing this package is
cheap (pygls loads only when the server starts), so the CLI's index/search commands stay fast."""
