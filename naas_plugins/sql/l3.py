"""The ``sql`` L3 plugin: the L3 rules over its core plugin's database."""

from __future__ import annotations

from typing import Self

from oslo_config import cfg

from naas.backends import BackendChain
from naas.events import EventRegistry
from naas.plugins.core import CorePlugin
from naas.rules import L3Rules
from naas_plugins.sql.core import SqlCorePlugin

__all__ = ["SqlL3Plugin"]


class SqlL3Plugin(L3Rules):
    """The L3 rules, keeping routers and floating IPs in the database of a :class:`SqlCorePlugin`.

    ``events`` defaults to the core plugin's registry.
    """

    def __init__(self, core_plugin: SqlCorePlugin, events: EventRegistry | None = None) -> None:
        if not isinstance(core_plugin, SqlCorePlugin):
            raise TypeError(
                "the sql L3 plugin shares the core plugin's database and works only with the sql core plugin "
                f"(naas_plugins.sql.SqlCorePlugin), not with {type(core_plugin).__module__}."
                f"{type(core_plugin).__qualname__}"
            )
        super().__init__(core_plugin, events)
        self.database = core_plugin.database

    @classmethod
    def from_config(
        cls,
        conf: cfg.ConfigOpts,
        *,
        core_plugin: CorePlugin,
        events: EventRegistry,
        backends: BackendChain | None = None,
    ) -> Self:
        """Raises TypeError unless ``core_plugin`` is a :class:`SqlCorePlugin` (whose database this plugin shares)."""
        return cls(core_plugin, events=events)  # type: ignore[arg-type]
