"""naas's conformance suites, run over the bundled ``memory`` plugins."""

from __future__ import annotations

import unittest

import naas.testing
from naas.events import EventRegistry
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.memory.storage import MemoryStorage

# Isolation-matrix cells failing until findings of the 2026-12-01 hostile-input report (issue 9) are fixed.
# Remove them with the fix: a cell that passes is reported as an unexpected success.
NON_ADMIN_CALLERS = ("owner", "other", "owner_upper_case", "owner_trailing_space")
FINDING_2 = {
    f"test_isolation_matrix_router_attach_by_device_owner_as_{caller}": (
        "finding 2: a non-admin may set a network:* device_owner and name another project's router"
    )
    for caller in NON_ADMIN_CALLERS
}
FINDING_3 = {
    f"test_isolation_matrix_subnet_attach_gateway_address_as_{caller}": (
        "finding 3: a plain port may take a subnet's gateway address"
    )
    for caller in NON_ADMIN_CALLERS
}


class TestMemoryCorePlugin(naas.testing.CorePluginConformance, unittest.TestCase):
    expected_failures = FINDING_3

    def make_core_plugin(self) -> MemoryCorePlugin:
        return MemoryCorePlugin()


class TestMemoryL3Plugin(naas.testing.L3PluginConformance, unittest.TestCase):
    """Built as an application would without a loader: the L3 plugin publishes to its core plugin's registry."""

    expected_failures = FINDING_2

    def make_plugins(self) -> tuple[MemoryCorePlugin, MemoryL3Plugin]:
        self.storage = MemoryStorage()
        return self.make_plugins_on_same_storage()

    def make_plugins_on_same_storage(self) -> tuple[MemoryCorePlugin, MemoryL3Plugin]:
        """Another pair over the same ``MemoryStorage``, as a second application object in the process would."""
        core = MemoryCorePlugin(storage=self.storage)
        return core, MemoryL3Plugin(core)


class TestMemoryL3PluginSharingARegistry(naas.testing.L3PluginConformance, unittest.TestCase):
    """Built as ``naas.loading.load_plugins`` builds them: both plugins handed one event registry."""

    expected_failures = FINDING_2

    def make_plugins(self) -> tuple[MemoryCorePlugin, MemoryL3Plugin]:
        self.storage = MemoryStorage()
        return self.make_plugins_on_same_storage()

    def make_plugins_on_same_storage(self) -> tuple[MemoryCorePlugin, MemoryL3Plugin]:
        events = EventRegistry()
        core = MemoryCorePlugin(events=events, storage=self.storage)
        return core, MemoryL3Plugin(core, events=events)
