"""The citation parser of each syntax (kept apart from the package's __init__, which both parser
modules import)."""

from types import ModuleType

from papercite.server.documents.citations import latex, markdown

PARSERS: dict[str, ModuleType] = {"latex": latex, "markdown": markdown}
