"""The declared interfaces hold: each citation syntax module and each reader module has the
functions its Protocol names, with the same parameters (a module cannot say `implements`, so this
is where a syntax or reader drifting from the others shows)."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from papercite.index.readers import FORMATS, KeyedReader, Reader
from papercite.server.documents.citations import CitationSyntax
from papercite.server.documents.citations.parsers import PARSERS


def members(protocol: type) -> dict[str, inspect.Signature]:
    """The protocol's methods and their signatures without `self`."""
    found = {}
    for klass in protocol.__mro__:
        for name, value in vars(klass).items():
            if inspect.isfunction(value) and not name.startswith("_"):
                signature = inspect.signature(value)
                found.setdefault(name, signature.replace(parameters=list(signature.parameters.values())[1:]))
    return found


def assert_implements(module: ModuleType, protocol: type) -> None:
    wanted = members(protocol)
    assert wanted, protocol
    for name, signature in wanted.items():
        function = getattr(module, name, None)
        assert callable(function), f"{module.__name__} has no {name}"
        given = inspect.signature(function)
        assert [(p.name, p.kind, p.default) for p in given.parameters.values()] == \
            [(p.name, p.kind, p.default) for p in signature.parameters.values()], f"{module.__name__}.{name}{given}"


@pytest.mark.parametrize("syntax", sorted(PARSERS))
def test_each_citation_syntax_is_one(syntax: str):
    assert_implements(PARSERS[syntax], CitationSyntax)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda fmt: fmt.name)
def test_each_format_has_a_reader(fmt):
    assert_implements(fmt.reader(), Reader)
    if fmt.entry_format is not None:
        assert_implements(fmt.keyed_reader(), KeyedReader)


def test_a_module_missing_a_function_is_caught():
    """The check itself fails on a module lacking one of the functions, or with other parameters."""
    listing = next(fmt for fmt in FORMATS if fmt.entry_format is None)  # its entries write no keys
    with pytest.raises(AssertionError, match="has no written_key"):
        assert_implements(listing.reader(), KeyedReader)
    lacking = ModuleType("lacking")
    lacking.parse = lambda text: None
    with pytest.raises(AssertionError, match="lacking.parse"):
        assert_implements(lacking, Reader)
