"""The L3 plugin conformance suite.

A driver author runs it against their plugin by combining it with a
``unittest.TestCase``::

    import unittest
    import naas.testing

    class TestMyL3(naas.testing.L3PluginConformance, unittest.TestCase):
        def make_plugins(self):
            events = naas.EventRegistry()
            core = MyCorePlugin(self.database_url, events=events)
            return core, MyL3Plugin(core, events=events)

        def make_plugins_on_same_storage(self):
            core = MyCorePlugin(self.database_url, events=naas.EventRegistry())
            return core, MyL3Plugin(core, events=core.events)

Every contract method of :class:`naas.plugins.L3Plugin` and every error its
docstrings name are covered: routers and gateways, interfaces (and the deletes
they refuse), floating IPs, their standard attributes and ``if_revision``,
tenant isolation, lifecycle events, concurrent use from many threads, and two instances over one storage building one
get-me-a-network topology per project. The core plugin need not be naas's own,
but it must pass :class:`~naas.testing.CorePluginConformance`. Tests of what the
plugin classes leave out of their ``CAPABILITIES`` (:mod:`naas.capabilities`)
are skipped, naming the plugin and the capability.
"""

from __future__ import annotations

from naas.testing._l3_base import L3SuiteBase
from naas.testing._l3_concurrency import L3ConcurrencyTests
from naas.testing._l3_events import L3EventTests
from naas.testing._l3_floatingips import FloatingIPTests
from naas.testing._l3_interfaces import RouterInterfaceTests
from naas.testing._l3_isolation import L3IsolationTests
from naas.testing._l3_isolation_matrix import L3IsolationMatrix
from naas.testing._l3_routers import RouterTests
from naas.testing._l3_shared_storage import SharedStorageTests
from naas.testing._l3_standard import L3StandardAttributeTests

__all__ = ["L3PluginConformance"]


class L3PluginConformance(
    RouterTests,
    RouterInterfaceTests,
    FloatingIPTests,
    L3StandardAttributeTests,
    L3IsolationTests,
    L3IsolationMatrix,
    L3EventTests,
    L3ConcurrencyTests,
    SharedStorageTests,
    L3SuiteBase,
):
    """Mix into a ``TestCase`` and define ``make_plugins(self)`` returning ``(core_plugin, l3_plugin)``.

    When the core plugin declares ``Capability.SHARED_STORAGE`` (the default),
    also define ``make_plugins_on_same_storage(self)``.
    """
