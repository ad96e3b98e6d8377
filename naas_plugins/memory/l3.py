"""The ``memory`` L3 plugin: the L3 rules over its core plugin's in-process storage."""

from __future__ import annotations

from naas.rules import L3Rules

__all__ = ["MemoryL3Plugin"]


class MemoryL3Plugin(L3Rules):
    """The L3 rules, keeping routers and floating IPs in the storage of its core plugin (a ``CoreRules``)."""
