"""The `papercite` command line (main), beside the language server: it reads the documents layer
and the index, and starts the server for `serve`. Nothing in the server imports it."""
