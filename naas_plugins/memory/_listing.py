"""Narrowing list calls with an index before filtering them, shared by the memory plugins."""

from __future__ import annotations

from collections.abc import Collection

from naas.plugins.core import Filters

__all__ = ["Index", "sole_filter_value"]


def sole_filter_value(filters: Filters | None, *keys: str) -> str | None:
    """The one value ``filters`` accepts for the first of ``keys`` present, if it is a single string.

    A plugin looks the candidates up in an index by that value instead of
    scanning everything; ``filter_resources`` still applies every filter
    afterwards, so this is only ever an optimisation. Several values: None.
    """
    for key in keys:
        if not filters or key not in filters:
            continue
        value = filters[key]
        if isinstance(value, Collection) and not isinstance(value, str) and len(value) == 1:
            value = next(iter(value))
        return value if isinstance(value, str) else None
    return None


class Index:
    """Resource ids by the value of an attribute that never changes, each bucket in insertion order."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[str, None]] = {}

    def add(self, key: str, resource_id: str) -> None:
        self._buckets.setdefault(key, {})[resource_id] = None

    def remove(self, key: str, resource_id: str) -> None:
        bucket = self._buckets[key]
        del bucket[resource_id]
        if not bucket:
            del self._buckets[key]

    def get(self, key: str) -> list[str]:
        return list(self._buckets.get(key, ()))
