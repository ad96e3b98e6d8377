"""naas.ipam's ``__all__`` lists exactly the public functions and classes of its public modules."""

from __future__ import annotations

import inspect

import naas.ipam
from naas.ipam import addresses, prefixes


def test_all_lists_every_public_function_and_class_and_nothing_missing() -> None:
    defined = {
        name
        for module in (prefixes, addresses)
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    }
    aliases = {"Block", "Range"}
    assert set(naas.ipam.__all__) == defined | aliases
    assert naas.ipam.__all__ == sorted(naas.ipam.__all__)
    for name in naas.ipam.__all__:
        assert getattr(naas.ipam, name) is not None
