"""The ``memory`` core plugin: the core rules over an in-process storage."""

from __future__ import annotations

from naas.backends import BackendChain
from naas.events import EventRegistry
from naas.rules import CoreRules
from naas.storage import Storage
from naas_plugins.memory.storage import MemoryStorage

__all__ = ["MemoryCorePlugin"]


class MemoryCorePlugin(CoreRules):
    """The core rules over a new :class:`MemoryStorage` (or the ``storage`` given, to share one)."""

    def __init__(
        self,
        events: EventRegistry | None = None,
        storage: Storage | None = None,
        backends: BackendChain | None = None,
    ) -> None:
        super().__init__(storage if storage is not None else MemoryStorage(), events, backends)
