"""One module per LSP request, each with register(server): its handlers, and the events it
subscribes to. No feature imports another."""
