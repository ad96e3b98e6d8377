"""The rules drive the network backends: every change reaches them, failures become ERROR, sync repairs.

Run over the memory storage and the sql storage on SQLite, with the
RecordingBackend of naas.testing.backends, whose dataplane is a dict: after any
sequence of changes its dataplane must be exactly what a sync computes from
storage, so a sync that finds nothing to repair proves every change was
described completely.
"""

from __future__ import annotations

import testtools

from naas import RequestContext, admin_context
from naas.auto_allocate import AutoAllocator
from naas.backends import BackendChain, Change, RouterChange
from naas.exceptions import BadRequest
from naas.rules import CoreRules, L3Rules
from naas.testing.backends import RecordingBackend
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin
from tests.plugins.sql.base import BackendFixture


class DataplaneTests:
    """Mixed into a TestCase that builds ``self.core`` / ``self.l3`` over ``make_plugins(chain)``."""

    def make_plugins(self, chain: BackendChain) -> tuple[CoreRules, L3Rules]:
        raise NotImplementedError

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.backend = RecordingBackend()
        self.core, self.l3 = self.make_plugins(BackendChain({"recording": self.backend}))
        self.admin = admin_context()
        public = self.core.create_network(self.admin, {"name": "public", "router:external": True, "is_default": True})
        self.core.create_subnet(self.admin, {"network_id": public.id, "cidr": "203.0.113.0/24"})
        for prefix, length in (("10.0.0.0/16", 26), ("fd00::/48", 64)):
            self.core.create_subnetpool(
                self.admin, {"prefixes": [prefix], "default_prefixlen": length, "shared": True, "is_default": True}
            )
        self.public = public

    def assert_in_sync(self) -> None:
        report = self.core.dataplane.sync(repair=False)
        self.assertEqual(((), ()), (report.repairs, report.failures))  # type: ignore[attr-defined]

    def test_a_backend_holds_exactly_what_is_stored_after_every_kind_of_change(self) -> None:
        project = RequestContext("p")
        allocator = AutoAllocator(self.core, self.l3)
        network_id = allocator.get_auto_allocated_topology(project, None)["id"]
        self.assert_in_sync()
        vm = self.core.create_port(project, {"network_id": network_id, "name": "vm"})
        fip = self.l3.create_floatingip(project, {"floating_network_id": self.public.id, "port_id": vm.id})
        self.core.update_port(project, vm.id, {"name": "renamed", "admin_state_up": False})
        self.assert_in_sync()
        self.l3.disassociate_floatingip(project, fip.id)
        self.l3.delete_floatingip(project, fip.id)
        self.core.delete_port(project, vm.id)
        (router,) = self.l3.get_routers(project)
        self.l3.update_router(project, router.id, {"external_gateway_info": None})
        self.assert_in_sync()
        allocator.delete_auto_allocated_topology(project, None)
        self.assert_in_sync()
        # The dataplane holds only the deployment itself now.
        self.assertEqual({"network"}, {kind.value for kind, _ in self.backend.dataplane})

    def test_a_router_change_carries_its_gateway_and_interfaces(self) -> None:
        project = RequestContext("p")
        network_id = AutoAllocator(self.core, self.l3).get_auto_allocated_topology(project, None)["id"]
        changes = [c for c in self.backend.postcommits if isinstance(c, RouterChange)]
        last = changes[-1].after
        assert last is not None and last.gateway is not None
        self.assertEqual(self.public.id, last.gateway.network_id)
        self.assertTrue(last.gateway.enable_snat)
        self.assertEqual(1, len(last.gateway.external_fixed_ips))
        subnets = self.core.get_subnets(self.admin, {"network_id": network_id})
        self.assertEqual(
            sorted((s.id, s.gateway_ip) for s in subnets),
            sorted((i.subnet.id, i.ip_address) for i in last.interfaces),
        )

    def test_a_failed_postcommit_keeps_the_change_marks_it_error_and_sync_repairs_it(self) -> None:
        network = self.core.create_network(self.admin, {"name": "before"})
        self.assertEqual("ACTIVE", network.status)
        self.backend.fail_postcommit(network.id)

        updated = self.core.update_network(self.admin, network.id, {"name": "after"})

        stored = self.core.get_network(self.admin, network.id)
        self.assertEqual(("after", "ERROR"), (updated.name, updated.status))
        self.assertEqual(("after", "ERROR"), (stored.name, stored.status))
        self.backend.heal()
        report = self.core.dataplane.sync()
        self.assertIn(network.id, [repair.resource_id for _, repair in report.repairs])
        self.assertEqual("ACTIVE", self.core.get_network(self.admin, network.id).status)
        self.assert_in_sync()

    def test_a_plugin_call_hands_all_its_changes_to_the_backend_in_one_batch(self) -> None:
        network = self.core.create_network(self.admin, {"name": "private"})
        subnet = self.core.create_subnet(self.admin, {"network_id": network.id, "cidr": "10.9.0.0/24"})
        batches = len(self.backend.batches)

        router = self.l3.create_router(self.admin, {"external_gateway_info": {"network_id": self.public.id}})
        self.l3.add_router_interface(self.admin, router.id, {"subnet_id": subnet.id})
        self.core.get_ports(self.admin)  # a read hands nothing

        created, added = self.backend.batches[batches:]
        self.assertEqual([("port", "create"), ("router", "create")], [_kind(c) for c in created])
        self.assertEqual([("port", "create"), ("router", "update")], [_kind(c) for c in added])
        self.assertEqual(self.backend.postcommits[-4:], [*created, *added])

    def test_a_failure_in_one_change_of_a_batch_marks_only_its_resource_error(self) -> None:
        network = self.core.create_network(self.admin, {"name": "private"})
        subnet = self.core.create_subnet(self.admin, {"network_id": network.id, "cidr": "10.9.0.0/24"})
        router = self.l3.create_router(self.admin, {"name": "r"})
        batches = len(self.backend.batches)
        self.backend.fail_postcommit(router.id)

        info = self.l3.add_router_interface(self.admin, router.id, {"subnet_id": subnet.id})

        (batch,) = self.backend.batches[batches:]
        self.assertEqual([("port", "create"), ("router", "update")], [_kind(c) for c in batch])
        self.assertEqual("ERROR", self.l3.get_router(self.admin, router.id).status)
        self.assertEqual("ACTIVE", self.core.get_port(self.admin, info.port_id).status)
        self.backend.heal()
        self.core.dataplane.sync()
        self.assertEqual("ACTIVE", self.l3.get_router(self.admin, router.id).status)
        self.assert_in_sync()

    def test_a_sync_that_still_fails_leaves_the_error(self) -> None:
        network = self.core.create_network(self.admin, {})
        self.backend.fail_postcommit(network.id)
        self.core.update_network(self.admin, network.id, {"name": "x"})
        # The recording backend's sync does not fail, but reporting only repairs nothing.
        self.core.dataplane.sync(repair=False)
        self.assertEqual("ERROR", self.core.get_network(self.admin, network.id).status)

    def test_a_precommit_refusal_stores_nothing(self) -> None:
        network = self.core.create_network(self.admin, {"name": "kept"})
        self.backend.refuse_precommit(network.id, BadRequest("network", "name", "the dataplane says no"))
        self.assertRaises(BadRequest, self.core.update_network, self.admin, network.id, {"name": "refused"})
        self.assertEqual("kept", self.core.get_network(self.admin, network.id).name)

    def test_an_administratively_down_port_is_down(self) -> None:
        network = self.core.create_network(self.admin, {})
        port = self.core.create_port(self.admin, {"network_id": network.id, "admin_state_up": False})
        self.assertEqual("DOWN", port.status)
        self.assertEqual("ACTIVE", self.core.update_port(self.admin, port.id, {"admin_state_up": True}).status)


def _kind(change: Change) -> tuple[str, str]:
    return change.resource_type.value, change.operation.value


class TestDataplaneMemory(DataplaneTests, testtools.TestCase):
    def make_plugins(self, chain: BackendChain) -> tuple[CoreRules, L3Rules]:
        core = MemoryCorePlugin(backends=chain)
        return core, MemoryL3Plugin(core)


class TestDataplaneSqlite(BackendFixture, DataplaneTests, testtools.TestCase):
    def make_plugins(self, chain: BackendChain) -> tuple[CoreRules, L3Rules]:
        core = SqlCorePlugin(self.fresh_url(), auto_migrate=False, backends=chain)
        self.addCleanup(core.close)
        return core, SqlL3Plugin(core)
