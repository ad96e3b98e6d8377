"""The conformance tests added for what a wrong driver did: each passes on the bundled plugins and fails on a mutant.

Each check runs the suite's own test method with unittest's runner, once over
a bundled plugin (it must pass) and once over a plugin that breaks that one
rule (it must fail, with a message about the rule).
"""

from __future__ import annotations

import shutil
import tempfile
import unittest

import pytest

from naas.plugins import CorePlugin, L3Plugin
from naas.testing import CorePluginConformance, L3PluginConformance
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.memory.storage import MemoryStorage
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin

from .mutants import (
    ComparesProjectIdsLoosely,
    DeletesSubnetsSilentlyWithTheirNetwork,
    InProcessOnly,
    KeepsMemoryTopologiesInTheInstance,
    KeepsOtherProjectsPortsWhenUnsharing,
    KeepsTopologiesInItsProcess,
    PlugsIntoAnyVisibleNetwork,
    RaisesTheDefaultWithTheBounds,
    outcome,
    run_one,
)


def core_suite(plugin_class: type[MemoryCorePlugin]) -> type[unittest.TestCase]:
    class CoreSuite(CorePluginConformance, unittest.TestCase):
        __test__ = False  # run only through run_one

        def make_core_plugin(self) -> CorePlugin:
            return plugin_class()

    return CoreSuite


def sql_l3_suite(core_class: type[SqlCorePlugin]) -> type[unittest.TestCase]:
    class SqlL3Suite(L3PluginConformance, unittest.TestCase):
        """The L3 suite over ``core_class`` on an SQLite file that every instance of the test opens."""

        __test__ = False

        def make_plugins(self) -> tuple[CorePlugin, L3Plugin]:
            directory = tempfile.mkdtemp(prefix="naas-mutation-")
            self.addCleanup(shutil.rmtree, directory)
            self.url = f"sqlite:///{directory}/naas.sqlite"
            return self.make_plugins_on_same_storage()

        def make_plugins_on_same_storage(self) -> tuple[CorePlugin, L3Plugin]:
            core = core_class(self.url)
            self.addCleanup(core.close)
            return core, SqlL3Plugin(core)

    return SqlL3Suite


CORE_MUTATIONS = [
    pytest.param(
        PlugsIntoAnyVisibleNetwork,
        "test_isolation_port_on_an_external_network_that_is_not_shared_raises_not_authorized",
        "expected it to raise NotAuthorized",
        id="port-on-admins-external-network",
    ),
    pytest.param(
        PlugsIntoAnyVisibleNetwork,
        "test_isolation_port_on_another_projects_external_network_raises_not_authorized",
        "expected it to raise NotAuthorized",
        id="port-on-another-projects-external-network",
    ),
    pytest.param(
        KeepsOtherProjectsPortsWhenUnsharing,
        "test_isolation_shared_network_cannot_stop_being_shared_under_other_projects_ports",
        "expected it to raise InUse",
        id="unshare-under-other-projects-ports",
    ),
    pytest.param(
        DeletesSubnetsSilentlyWithTheirNetwork,
        "test_event_delete_network_publishes_the_deletes_of_its_subnets",
        "BEFORE_DELETE of the subnets deleted with network",
        id="no-subnet-events-on-network-delete",
    ),
    pytest.param(
        RaisesTheDefaultWithTheBounds,
        "test_subnetpool_update_bounds_past_default_prefixlen_are_refused_not_moving_the_default",
        "expected it to raise BadRequest",
        id="bounds-move-the-default",
    ),
]


@pytest.mark.parametrize(("mutant", "test_name", "message"), CORE_MUTATIONS)
def test_core_suite_test_passes_on_the_memory_plugin_and_fails_on_the_mutant(
    mutant: type[MemoryCorePlugin], test_name: str, message: str
) -> None:
    assert outcome(run_one(core_suite(MemoryCorePlugin), test_name)) == "passed"
    on_mutant = outcome(run_one(core_suite(mutant), test_name))
    assert on_mutant.startswith("failed:"), on_mutant
    assert message in on_mutant


SHARED_STORAGE_TESTS = [
    "test_shared_storage_get_me_a_network_through_two_instances_builds_one_topology_per_project",
]


@pytest.mark.parametrize("test_name", SHARED_STORAGE_TESTS)
def test_two_instances_over_one_database_fail_when_topology_records_stay_in_the_process(test_name: str) -> None:
    assert outcome(run_one(sql_l3_suite(SqlCorePlugin), test_name)) == "passed"
    on_mutant = outcome(run_one(sql_l3_suite(KeepsTopologiesInItsProcess), test_name))
    assert on_mutant.startswith("failed:"), on_mutant
    assert "built another topology: get_topology_store() must keep its records in that storage" in on_mutant


def memory_l3_suite(core_class: type[MemoryCorePlugin]) -> type[unittest.TestCase]:
    class MemoryL3Suite(L3PluginConformance, unittest.TestCase):
        """The L3 suite over ``core_class``, every instance of a test on one ``MemoryStorage``."""

        __test__ = False

        def make_plugins(self) -> tuple[CorePlugin, L3Plugin]:
            self.storage = MemoryStorage()
            return self.make_plugins_on_same_storage()

        def make_plugins_on_same_storage(self) -> tuple[CorePlugin, L3Plugin]:
            core = core_class(storage=self.storage)
            return core, MemoryL3Plugin(core)

    return MemoryL3Suite


@pytest.mark.parametrize("test_name", SHARED_STORAGE_TESTS)
def test_two_instances_over_one_memory_storage_fail_when_topology_records_stay_in_the_instance(
    test_name: str,
) -> None:
    assert outcome(run_one(memory_l3_suite(MemoryCorePlugin), test_name)) == "passed"
    on_mutant = outcome(run_one(memory_l3_suite(KeepsMemoryTopologiesInTheInstance), test_name))
    assert on_mutant.startswith("failed:"), on_mutant
    assert "built another topology" in on_mutant


def test_two_instances_are_skipped_for_a_plugin_that_cannot_share_its_storage() -> None:
    for test_name in [*SHARED_STORAGE_TESTS, "test_shared_storage_resources_are_the_same_through_every_instance"]:
        assert outcome(run_one(memory_l3_suite(InProcessOnly), test_name)) == (
            "skipped: InProcessOnly does not declare Capability.SHARED_STORAGE"
        )


@pytest.mark.parametrize("caller", ["owner_upper_case", "owner_trailing_space"])
def test_the_isolation_matrix_catches_project_ids_compared_loosely(caller: str) -> None:
    test_name = f"test_isolation_matrix_network_list_as_{caller}"
    assert outcome(run_one(core_suite(MemoryCorePlugin), test_name)) == "passed"
    on_mutant = outcome(run_one(core_suite(ComparesProjectIdsLoosely), test_name))
    assert on_mutant.startswith("failed:") and "shows the owner's" in on_mutant, on_mutant
    # Another project's id compares unequal even loosely: that cell cannot tell the mutant apart.
    assert outcome(run_one(core_suite(ComparesProjectIdsLoosely), "test_isolation_matrix_network_list_as_other")) == (
        "passed"
    )
