"""The core plugin conformance suite.

A driver author runs it against their plugin by combining it with a
``unittest.TestCase``::

    import unittest
    import naas.testing

    class TestMyCore(naas.testing.CorePluginConformance, unittest.TestCase):
        def make_core_plugin(self):
            return MyCorePlugin(events=naas.EventRegistry())

Every contract method of :class:`naas.plugins.CorePlugin`, every error its
docstrings name, malformed input, tenant isolation, the one-default rules,
address and prefix allocation, lifecycle events and concurrent use from many
threads, and Neutron's standard attributes (description, tags, timestamps,
revision numbers and ``if_revision`` preconditions) are covered. Tests of what the plugin class leaves out of its
``CAPABILITIES`` (:mod:`naas.capabilities`) are skipped, naming the capability.
"""

from __future__ import annotations

from naas.testing._core_base import CoreSuiteBase
from naas.testing._core_concurrency import ConcurrencyTests
from naas.testing._core_events import EventTests
from naas.testing._core_ipam import SubnetFromPoolTests
from naas.testing._core_isolation import IsolationTests
from naas.testing._core_isolation_matrix import CoreIsolationMatrix
from naas.testing._core_networks import NetworkTests
from naas.testing._core_ports import PortTests
from naas.testing._core_standard import StandardAttributeTests
from naas.testing._core_subnetpools import SubnetPoolTests
from naas.testing._core_subnets import SubnetTests

__all__ = ["CorePluginConformance"]


class CorePluginConformance(
    NetworkTests,
    SubnetTests,
    SubnetPoolTests,
    SubnetFromPoolTests,
    PortTests,
    StandardAttributeTests,
    IsolationTests,
    CoreIsolationMatrix,
    EventTests,
    ConcurrencyTests,
    CoreSuiteBase,
):
    """Mix into a ``unittest.TestCase`` and define ``make_core_plugin(self)``."""
