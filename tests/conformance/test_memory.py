"""naas's conformance suites, run over the bundled ``memory`` plugins."""

from __future__ import annotations

import unittest

import naas.testing
from naas.events import EventRegistry
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.memory.storage import MemoryStorage


class TestMemoryCorePlugin(naas.testing.CorePluginConformance, unittest.TestCase):
    def make_core_plugin(self) -> MemoryCorePlugin:
        return MemoryCorePlugin()


class TestMemoryL3Plugin(naas.testing.L3PluginConformance, unittest.TestCase):
    """Built as an application would without a loader: the L3 plugin publishes to its core plugin's registry."""

    def make_plugins(self) -> tuple[MemoryCorePlugin, MemoryL3Plugin]:
        self.storage = MemoryStorage()
        return self.make_plugins_on_same_storage()

    def make_plugins_on_same_storage(self) -> tuple[MemoryCorePlugin, MemoryL3Plugin]:
        """Another pair over the same ``MemoryStorage``, as a second application object in the process would."""
        core = MemoryCorePlugin(storage=self.storage)
        return core, MemoryL3Plugin(core)


class TestMemoryL3PluginSharingARegistry(naas.testing.L3PluginConformance, unittest.TestCase):
    """Built as ``naas.loading.load_plugins`` builds them: both plugins handed one event registry."""

    def make_plugins(self) -> tuple[MemoryCorePlugin, MemoryL3Plugin]:
        self.storage = MemoryStorage()
        return self.make_plugins_on_same_storage()

    def make_plugins_on_same_storage(self) -> tuple[MemoryCorePlugin, MemoryL3Plugin]:
        events = EventRegistry()
        core = MemoryCorePlugin(events=events, storage=self.storage)
        return core, MemoryL3Plugin(core, events=events)
