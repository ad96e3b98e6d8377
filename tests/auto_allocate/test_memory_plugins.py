"""The get-me-a-network conformance suite over the bundled memory plugins."""

from __future__ import annotations

import testtools

from naas.plugins import CorePlugin, L3Plugin
from naas.testing.auto_allocate import AutoAllocationConformance
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin


class TestMemoryAutoAllocation(AutoAllocationConformance, testtools.TestCase):
    def make_plugins(self) -> tuple[CorePlugin, L3Plugin]:
        core = MemoryCorePlugin()
        return core, MemoryL3Plugin(core)
