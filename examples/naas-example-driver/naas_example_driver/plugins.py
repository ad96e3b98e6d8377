"""The example core and L3 plugins: naas's memory plugins with an audit log of every change.

The core plugin owns the :class:`~naas_example_driver.audit.AuditLog`; since
the loader hands both plugins one event registry, the log also records what
the L3 plugin publishes (routers, interfaces, floating IPs). The L3 plugin
therefore needs the example core plugin, and says so the way the L3 contract
asks: a :class:`TypeError` when it is built with any other.
"""

from __future__ import annotations

from typing import Self

from oslo_config import cfg

from naas import EventRegistry
from naas.capabilities import Capability
from naas.plugins import CorePlugin
from naas_example_driver import opts
from naas_example_driver.audit import AuditLog
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin

__all__ = ["ExampleCorePlugin", "ExampleL3Plugin"]


class ExampleCorePlugin(MemoryCorePlugin):
    """The memory core plugin, keeping the last ``audit_max_records`` changes in :attr:`audit_log`."""

    #: Everything the core contract covers but shared storage: each instance builds its own memory
    #: storage (the constructor takes none to share), so two instances never see each other's resources.
    CAPABILITIES = CorePlugin.CAPABILITIES - {Capability.SHARED_STORAGE}

    def __init__(
        self, events: EventRegistry | None = None, *, audit_max_records: int | None = opts.DEFAULT_AUDIT_MAX_RECORDS
    ) -> None:
        super().__init__(events)
        self.audit_log = AuditLog(self.events, max_records=audit_max_records)

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, events: EventRegistry) -> Self:
        opts.register_opts(conf)
        return cls(events, audit_max_records=conf[opts.GROUP].audit_max_records)


class ExampleL3Plugin(MemoryL3Plugin):
    """The memory L3 plugin, sharing the example core plugin's audit log."""

    def __init__(self, core_plugin: CorePlugin, events: EventRegistry | None = None) -> None:
        if not isinstance(core_plugin, ExampleCorePlugin):
            kind = type(core_plugin)
            raise TypeError(
                "the example L3 plugin records into the example core plugin's audit log; "
                f"set core_plugin = example, not {kind.__module__}:{kind.__qualname__}"
            )
        super().__init__(core_plugin, events)
        self._example_core = core_plugin

    @property
    def audit_log(self) -> AuditLog:
        return self._example_core.audit_log
