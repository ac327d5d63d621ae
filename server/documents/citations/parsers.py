"""The citation parser of each syntax (kept apart from the package's __init__, which both parser
modules import)."""

from papercite.server.documents.citations import CitationSyntax, Syntax, latex, markdown

PARSERS: dict[Syntax, CitationSyntax] = {"latex": latex, "markdown": markdown}
