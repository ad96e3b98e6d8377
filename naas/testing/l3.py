"""The L3 plugin conformance suite.

A driver author runs it against their plugin by combining it with a TestCase::

    import testtools
    import naas.testing

    class TestMyL3(naas.testing.L3PluginConformance, testtools.TestCase):
        supports_floatingips = False   # skip what the plugin does not declare

        def make_plugins(self):
            events = naas.EventRegistry()
            core = MyCorePlugin(events=events)
            return core, MyL3Plugin(core, events=events)

Every contract method of :class:`naas.plugins.L3Plugin` and every error its
docstrings name are covered: routers and gateways, interfaces (and the deletes
they refuse), floating IPs, tenant isolation, lifecycle events and concurrent
use from many threads. The core plugin need not be naas's own, but it must pass
:class:`~naas.testing.CorePluginConformance`.
"""

from __future__ import annotations

from naas.testing._l3_base import L3SuiteBase
from naas.testing._l3_concurrency import L3ConcurrencyTests
from naas.testing._l3_events import L3EventTests
from naas.testing._l3_floatingips import FloatingIPTests
from naas.testing._l3_interfaces import RouterInterfaceTests
from naas.testing._l3_isolation import L3IsolationTests
from naas.testing._l3_routers import RouterTests

__all__ = ["L3PluginConformance"]


class L3PluginConformance(
    RouterTests,
    RouterInterfaceTests,
    FloatingIPTests,
    L3IsolationTests,
    L3EventTests,
    L3ConcurrencyTests,
    L3SuiteBase,
):
    """Mix into a ``TestCase`` and define ``make_plugins(self)`` returning ``(core_plugin, l3_plugin)``.

    Capability flags, all True by default: ``supports_floatingips``,
    ``supports_ipv6``, ``supports_events`` and ``supports_threads``.
    """
