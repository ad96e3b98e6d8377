"""What plugin authors test with: the conformance suites and their fixtures.

Installed with ``naas-networking[test]``. A third-party driver proves itself with::

    import unittest
    import naas.testing

    class TestMyCore(naas.testing.CorePluginConformance, unittest.TestCase):
        def make_core_plugin(self):
            return MyCore()

    class TestMyL3(naas.testing.L3PluginConformance, unittest.TestCase):
        def make_plugins(self):
            core = MyCore()
            return core, MyL3(core)

    class TestMyAutoAllocation(naas.testing.AutoAllocationConformance, unittest.TestCase):
        def make_plugins(self):
            core = MyCore()
            return core, MyL3(core)

``unittest.TestCase`` keeps failures clean under pytest and ``python -m
unittest`` alike. What a plugin supports is declared on the plugin class
(:mod:`naas.capabilities`); the suites skip, with the reason, the tests of what
it leaves out. naas runs the same suites over its bundled plugins.

The builders and probes in :mod:`naas.testing.fixtures` (re-exported here) set
up typical topologies through the public plugin API; :mod:`naas.testing.faults`
fails or slows a chosen call. The narrower roles have suites of their own, in
their own modules: :class:`naas.testing.storage.StorageConformance` for a
storage driver, :class:`naas.testing.backends.BackendConformance` (with
:class:`~naas.testing.backends.RecordingBackend`, a dataplane in a dict) for a
network backend.
"""

from naas.testing.auto_allocate import AutoAllocationConformance
from naas.testing.core import CorePluginConformance
from naas.testing.faults import Delay, FaultInjector, PluginProxy
from naas.testing.fixtures import (
    ADMIN_PROJECT_ID,
    PROJECT_A_ID,
    PROJECT_B_ID,
    Contexts,
    DefaultPools,
    NetworkSetup,
    RoutedNetwork,
    StoredState,
    ThreadOutcome,
    addresses_of,
    allocatable_addresses,
    core_state,
    l3_state,
    make_contexts,
    make_default_pools,
    make_external_network,
    make_network,
    make_port,
    make_routed_network,
    make_router,
    race_window,
    recording,
    run_in_threads,
    vetoing,
)
from naas.testing.l3 import L3PluginConformance

__all__ = [
    "ADMIN_PROJECT_ID",
    "PROJECT_A_ID",
    "PROJECT_B_ID",
    "AutoAllocationConformance",
    "Contexts",
    "CorePluginConformance",
    "DefaultPools",
    "Delay",
    "FaultInjector",
    "L3PluginConformance",
    "NetworkSetup",
    "PluginProxy",
    "RoutedNetwork",
    "StoredState",
    "ThreadOutcome",
    "addresses_of",
    "allocatable_addresses",
    "core_state",
    "l3_state",
    "make_contexts",
    "make_default_pools",
    "make_external_network",
    "make_network",
    "make_port",
    "make_routed_network",
    "make_router",
    "race_window",
    "recording",
    "run_in_threads",
    "vetoing",
]
