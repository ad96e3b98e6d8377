"""Conformance tests: two plugin instances over one storage, as two processes configured alike build them."""

from __future__ import annotations

from naas.auto_allocate import AutoAllocator
from naas.capabilities import Capability
from naas.plugins.core import CorePlugin
from naas.plugins.l3 import L3Plugin
from naas.testing._base import requires
from naas.testing._l3_base import L3SuiteBase
from naas.testing.fixtures import PROJECT_A_ID, PROJECT_B_ID, make_default_pools

__all__ = ["SharedStorageTests"]


class SharedStorageTests(L3SuiteBase):
    def second_plugins(self) -> tuple[CorePlugin, L3Plugin]:
        core, l3 = self.make_plugins_on_same_storage()
        if not isinstance(core, CorePlugin) or not isinstance(l3, L3Plugin):
            self.fail(f"make_plugins_on_same_storage() returned {(core, l3)!r}, not (CorePlugin, L3Plugin)")
        return core, l3

    @requires(Capability.SHARED_STORAGE)
    def test_shared_storage_resources_are_the_same_through_every_instance(self) -> None:
        other_core, other_l3 = self.second_plugins()
        network = self.core.create_network(self.project_a, {"name": "seen twice"})
        self.assertEqual(network, other_core.get_network(self.project_a, network.id))
        router = other_l3.create_router(self.project_a, {"name": "made by the other"})
        self.assertEqual(router, self.l3.get_router(self.project_a, router.id))
        other_core.delete_network(self.project_a, network.id)
        self.assertNotFound("network", network.id, self.core.get_network, self.project_a, network.id)

    @requires(Capability.SHARED_STORAGE)
    def test_shared_storage_get_me_a_network_through_two_instances_builds_one_topology_per_project(self) -> None:
        other_core, other_l3 = self.second_plugins()
        make_default_pools(self.core, self.admin)
        first, second = AutoAllocator(self.core, self.l3), AutoAllocator(other_core, other_l3)
        for project in (self.project_a, self.project_b):
            built = first.get_auto_allocated_topology(project, None)["id"]
            self.assertEqual(
                built,
                second.get_auto_allocated_topology(project, None)["id"],
                f"get-me-a-network for {project.project_id} through a second {type(other_core).__name__} over the "
                "same storage built another topology: get_topology_store() must keep its records in that storage",
            )
        for core in (self.core, other_core):
            owners = sorted(n.project_id for n in core.get_networks(self.admin, {"name": "auto_allocated_network"}))
            self.assertEqual([PROJECT_A_ID, PROJECT_B_ID], owners, f"auto-allocated networks seen by {core!r}")
        second.delete_auto_allocated_topology(self.project_a, None)
        self.assertEqual([PROJECT_B_ID], [n.project_id for n in self.l3.get_routers(self.admin)])
