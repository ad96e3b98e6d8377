"""Conformance suite for get-me-a-network over a driver's core and L3 plugins.

A driver author runs it against their plugins::

    class TestMyAutoAllocation(naas.testing.AutoAllocationConformance, testtools.TestCase):
        def make_plugins(self):
            core = MyCorePlugin(...)
            return core, MyL3Plugin(core)

It drives :class:`naas.auto_allocate.AutoAllocator` through the public plugin
contracts only, so a failure points at the plugins (or at naas), never at
private wiring.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from naas.auto_allocate import AutoAllocator, BuildStep, OwnerToken, TopologyRecord, TopologyStatus
from naas.context import RequestContext, admin_context
from naas.exceptions import (
    AutoAllocationFailure,
    BadRequest,
    Conflict,
    InUse,
    NaasError,
    NotAuthorized,
    NotFound,
)
from naas.plugins import CorePlugin, L3Plugin
from naas.resources import DEVICE_OWNER_ROUTER_INTERFACE, Network, SubnetPool
from naas.testing._base import ConformanceCase
from naas.testing.faults import CallRecord, Delay, FaultInjector
from naas.testing.fixtures import StoredState, l3_state

__all__ = ["AutoAllocationConformance", "Deployment"]

EXTERNAL_CIDR = "203.0.113.0/24"
POOL_V4_PREFIX = "10.128.0.0/16"
POOL_V6_PREFIX = "fd00:128::/48"


@dataclasses.dataclass(frozen=True)
class Deployment:
    """What an operator set up for get-me-a-network: the default external network and pools."""

    external_network: Network | None
    pools: tuple[SubnetPool, ...]


class AutoAllocationConformance(ConformanceCase):
    """Get-me-a-network behaviour every pair of conformant plugins must give."""

    #: Threads asking at once for one project in the concurrency test.
    concurrent_requests = 32

    def make_plugins(self) -> tuple[CorePlugin, L3Plugin]:
        """Return a fresh, empty core plugin and the L3 plugin built on it."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_plugins()")

    def make_allocator(self, core: Any, l3: Any, **options: Any) -> AutoAllocator:
        """The service under test over ``core`` and ``l3`` (possibly proxies of ``self.core``/``self.l3``).

        The topology store is the real core plugin's, so records outlive proxies.
        """
        return AutoAllocator(core, l3, self.store, **options)

    def setUp(self) -> None:
        super().setUp()
        self.start_afresh()

    def start_afresh(self) -> None:
        """New, empty plugins (also used between the sub-tests of one test)."""
        self.core, self.l3 = self.make_plugins()
        self.store = self.core.get_topology_store()
        self.admin = admin_context()
        self.project = RequestContext("project-a")
        self.other = RequestContext("project-b")
        self.allocator = self.make_allocator(self.core, self.l3)

    def stored_state(self) -> StoredState:
        state = l3_state(self.l3)
        record = self.store.get("project-a")
        state["topology"] = [dataclasses.asdict(record)] if record else []
        return state

    # Deployment builders

    def deploy(self, *, external: bool = True, v4: bool = True, v6: bool = True, **pool_options: Any) -> Deployment:
        network = self.make_external_network() if external else None
        pools = []
        if v4:
            pools.append(self.make_pool(POOL_V4_PREFIX, 26, **pool_options))
        if v6:
            pools.append(self.make_pool(POOL_V6_PREFIX, 64, **pool_options))
        return Deployment(network, tuple(pools))

    def make_external_network(self, cidr: str = EXTERNAL_CIDR, *, subnet: bool = True) -> Network:
        network = self.core.create_network(self.admin, {"name": "public", "router:external": True, "is_default": True})
        if subnet:
            self.core.create_subnet(self.admin, {"network_id": network.id, "cidr": cidr})
        return self.core.get_network(self.admin, network.id)

    def make_pool(self, prefix: str, default_prefixlen: int, **options: Any) -> SubnetPool:
        body = {
            "name": f"default-{prefix}",
            "prefixes": [prefix],
            "default_prefixlen": default_prefixlen,
            "shared": True,
            "is_default": True,
        }
        body.update(options)
        return self.core.create_subnetpool(self.admin, body)

    # Observations

    def project_resources(self, project_id: str = "project-a") -> dict[str, list[str]]:
        """Ids of everything the project owns, by kind."""
        owner = {"tenant_id": project_id}
        return {
            "networks": [n.id for n in self.core.get_networks(self.admin, owner)],
            "subnets": [s.id for s in self.core.get_subnets(self.admin, owner)],
            "ports": [p.id for p in self.core.get_ports(self.admin, owner)],
            "routers": [r.id for r in self.l3.get_routers(self.admin, owner)],
        }

    def consumed(self, deployment: Deployment) -> dict[str, Any]:
        """What the deployment's shared resources have handed out: pool prefixes and external addresses."""
        state: dict[str, Any] = {
            pool.id: sorted(str(s.cidr) for s in self.core.get_subnets(self.admin, {"subnetpool_id": pool.id}))
            for pool in deployment.pools
        }
        if deployment.external_network is not None:
            ports = self.core.get_ports(self.admin, {"network_id": deployment.external_network.id})
            state["external_ports"] = sorted(p.id for p in ports)
        return state

    def assertNothingBuilt(self, deployment: Deployment, project_id: str = "project-a") -> None:
        self.assertEqual(
            {"networks": [], "subnets": [], "ports": [], "routers": []}, self.project_resources(project_id)
        )
        self.assertEqual(
            {pool.id: [] for pool in deployment.pools},
            {p.id: self.consumed(deployment)[p.id] for p in deployment.pools},
        )
        if deployment.external_network is not None:
            self.assertEqual([], self.consumed(deployment)["external_ports"])
        self.assertIsNone(self.store.get(project_id))

    def assertWorkingTopology(self, network_id: str, deployment: Deployment, project_id: str = "project-a") -> None:
        """One enabled network with a subnet per pool, one router with a gateway and an interface per subnet."""
        network = self.core.get_network(self.admin, network_id)
        self.assertEqual(
            ("auto_allocated_network", project_id, True), (network.name, network.project_id, network.admin_state_up)
        )
        subnets = sorted(
            self.core.get_subnets(self.admin, {"network_id": network_id}), key=lambda subnet: subnet.ip_version
        )
        self.assertEqual(
            [(f"auto_allocated_subnet_v{p.ip_version}", p.id, p.default_prefixlen) for p in deployment.pools],
            [(s.name, s.subnetpool_id, s.cidr.prefixlen) for s in subnets],
        )
        routers = self.l3.get_routers(self.admin, {"tenant_id": project_id})
        self.assertEqual(1, len(routers), routers)
        router = routers[0]
        self.assertEqual("auto_allocated_router", router.name)
        assert deployment.external_network is not None
        self.assertIsNotNone(router.external_gateway_info)
        assert router.external_gateway_info is not None
        self.assertEqual(deployment.external_network.id, router.external_gateway_info.network_id)
        interfaces = self.core.get_ports(
            self.admin, {"device_id": router.id, "device_owner": DEVICE_OWNER_ROUTER_INTERFACE}
        )
        attached = sorted(ip.subnet_id for port in interfaces for ip in port.fixed_ips)
        self.assertEqual(sorted(s.id for s in subnets), attached)
        for subnet in subnets:
            gateways = [ip.ip_address for port in interfaces for ip in port.fixed_ips if ip.subnet_id == subnet.id]
            self.assertEqual([subnet.gateway_ip], gateways)
        self.assertEqual(1, len(self.core.get_networks(self.admin, {"tenant_id": project_id})))

    # Steps 1 and 2: project and fields

    def test_result_shape(self) -> None:
        self.deploy()
        result = self.allocator.get_auto_allocated_topology(self.project, "project-a")
        self.assertEqual({"id", "project_id", "tenant_id"}, set(result))
        self.assertEqual(("project-a", "project-a"), (result["project_id"], result["tenant_id"]))

    def test_missing_project_means_the_callers(self) -> None:
        deployment = self.deploy()
        for missing in (None, "None"):
            result = self.allocator.get_auto_allocated_topology(self.project, missing)
            self.assertEqual("project-a", result["project_id"])
            self.assertWorkingTopology(result["id"], deployment)

    def test_non_admin_cannot_ask_for_another_project(self) -> None:
        self.deploy()
        for fields in (None, ["dry-run"]):
            with self.assertStateUnchanged("asking for another project"):
                self.assertRaisesError(
                    NotAuthorized, self.allocator.get_auto_allocated_topology, self.project, "project-b", fields
                )
        self.assertRaisesError(NotAuthorized, self.allocator.delete_auto_allocated_topology, self.project, "project-b")

    def test_admin_builds_for_another_project_and_it_owns_everything(self) -> None:
        deployment = self.deploy()
        result = self.allocator.get_auto_allocated_topology(self.admin, "project-b")
        self.assertEqual("project-b", result["project_id"])
        self.assertWorkingTopology(result["id"], deployment, "project-b")
        self.assertEqual([], self.l3.get_routers(self.admin, {"tenant_id": self.admin.project_id}))
        self.assertEqual([], self.core.get_ports(self.admin, {"tenant_id": self.admin.project_id}))

    def test_unrecognized_field_is_bad_request(self) -> None:
        self.deploy()
        with self.assertStateUnchanged("fields=['id']"):
            error = self.assertRaisesError(
                BadRequest, self.allocator.get_auto_allocated_topology, self.project, None, ["id"]
            )
        self.assertEqual(
            ("auto_allocate", "fields", "Unrecognized field"), (error.resource, error.attribute, error.reason)
        )

    # Step 3: idempotence

    def test_second_request_returns_the_same_topology(self) -> None:
        deployment = self.deploy()
        first = self.allocator.get_auto_allocated_topology(self.project, None)
        resources = self.project_resources()
        second = self.allocator.get_auto_allocated_topology(self.project, None)
        self.assertEqual(first, second)
        self.assertEqual(resources, self.project_resources())
        self.assertWorkingTopology(first["id"], deployment)

    def test_projects_get_separate_topologies(self) -> None:
        deployment = self.deploy()
        mine = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
        theirs = self.allocator.get_auto_allocated_topology(self.other, None)["id"]
        self.assertNotEqual(mine, theirs)
        self.assertWorkingTopology(mine, deployment, "project-a")
        self.assertWorkingTopology(theirs, deployment, "project-b")
        self.assertRaisesError(NotFound, self.core.get_network, self.other, mine)

    # Steps 4 and 5: requirements and the build

    def test_build_with_both_pools_puts_ipv4_first(self) -> None:
        deployment = self.deploy()
        result = self.allocator.get_auto_allocated_topology(self.project, None)
        self.assertWorkingTopology(result["id"], deployment)
        self.assertEqual(
            [4, 6], [s.ip_version for s in self.core.get_subnets(self.admin, {"network_id": result["id"]})]
        )

    def test_build_with_one_pool(self) -> None:
        for family in ("v4", "v6"):
            with self.subTest(family=family):
                self.start_afresh()
                deployment = self.deploy(v4=family == "v4", v6=family == "v6")
                result = self.allocator.get_auto_allocated_topology(self.project, None)
                self.assertWorkingTopology(result["id"], deployment)

    def test_no_default_external_network(self) -> None:
        deployment = self.deploy(external=False)
        error = self.assertRaisesError(
            AutoAllocationFailure, self.allocator.get_auto_allocated_topology, self.project, None
        )
        self.assertEqual("Deployment error: No default router:external network.", str(error))
        self.assertNothingBuilt(deployment)

    def test_no_default_pools(self) -> None:
        deployment = self.deploy(v4=False, v6=False)
        error = self.assertRaisesError(
            AutoAllocationFailure, self.allocator.get_auto_allocated_topology, self.project, None
        )
        self.assertEqual(("No default subnetpools defined",), error.reasons)
        self.assertNothingBuilt(deployment)

    def test_exhausted_pool_fails_cleanly_naming_pool_and_prefix_length(self) -> None:
        deployment = self.deploy(v6=False)
        pool = deployment.pools[0]
        # Take the whole pool for another project.
        holder = self.core.create_network(self.admin, {"name": "holder", "project_id": "holder"})
        self.core.create_subnet(self.admin, {"network_id": holder.id, "subnetpool_id": pool.id, "prefixlen": 16})
        error = self.assertRaisesError(
            AutoAllocationFailure, self.allocator.get_auto_allocated_topology, self.project, None
        )
        self.assertEqual("Unable to provide project private network", error.reasons[0])
        self.assertIn(pool.id, error.reasons[1])
        self.assertIn("/26", error.reasons[1])
        self.assertEqual({"networks": [], "subnets": [], "ports": [], "routers": []}, self.project_resources())
        self.assertIsNone(self.store.get("project-a"))

    def test_external_network_without_room_fails_cleanly(self) -> None:
        self.deploy(external=False)
        network = self.make_external_network("198.51.100.0/30")  # two usable addresses, one is the gateway
        filler = self.core.create_port(self.admin, {"network_id": network.id, "project_id": "filler"})
        error = self.assertRaisesError(
            AutoAllocationFailure, self.allocator.get_auto_allocated_topology, self.project, None
        )
        self.assertEqual("Unable to provide external connectivity", error.reasons[0])
        self.assertEqual({"networks": [], "subnets": [], "ports": [], "routers": []}, self.project_resources())
        self.assertEqual([filler.id], [p.id for p in self.core.get_ports(self.admin, {"network_id": network.id})])

    # Step 7: dry-run

    def test_dry_run_passes_and_creates_nothing(self) -> None:
        deployment = self.deploy()
        result = self.allocator.get_auto_allocated_topology(self.project, None, ["dry-run"])
        self.assertEqual({"id": "dry-run=pass", "project_id": "project-a"}, result)
        self.assertNothingBuilt(deployment)

    def test_dry_run_names_every_missing_requirement(self) -> None:
        """Each requirement missing alone, then all at once: the reasons name exactly those."""
        cases: dict[str, Callable[[], list[str]]] = {
            "no external network": lambda: self._deploy_missing(external=False),
            "external network without subnet": lambda: self._deploy_missing(external_subnet=False),
            "external network full": lambda: self._deploy_missing(external_full=True),
            "no default pools": lambda: self._deploy_missing(pools=False),
            "pool not visible": lambda: self._deploy_missing(pool_shared=False),
            "pool exhausted": lambda: self._deploy_missing(pool_full=True),
            "pool quota": lambda: self._deploy_missing(pool_quota=True),
            "everything": lambda: self._deploy_missing(external=False, pool_full=True, pool_shared_v6=False),
        }
        for name, arrange in cases.items():
            with self.subTest(name):
                self.start_afresh()
                expected = arrange()
                with self.assertStateUnchanged(f"dry-run with {name}"):
                    error = self.assertRaisesError(
                        AutoAllocationFailure,
                        self.allocator.get_auto_allocated_topology,
                        self.project,
                        None,
                        ["dry-run"],
                    )
                self.assertEqual(expected, list(error.reasons))
                self.assertIsNone(self.store.get("project-a"))

    def _deploy_missing(
        self,
        *,
        external: bool = True,
        external_subnet: bool = True,
        external_full: bool = False,
        pools: bool = True,
        pool_shared: bool = True,
        pool_shared_v6: bool = True,
        pool_full: bool = False,
        pool_quota: bool = False,
    ) -> list[str]:
        """Arrange a deployment lacking what is asked; return the reasons a dry-run must give, in order."""
        expected: list[str] = []
        if not external:
            expected.append("No default router:external network")
        elif not external_subnet:
            network = self.make_external_network(subnet=False)
            expected.append(f"Default external network {network.id} has no subnet")
        elif external_full:
            network = self.make_external_network("198.51.100.0/30")
            self.core.create_port(self.admin, {"network_id": network.id, "project_id": "filler"})
            expected.append(f"Default external network {network.id} has no free address for a router gateway")
        else:
            self.make_external_network()
        if not pools:
            expected.append("No default subnetpools defined")
            return expected
        v4 = self.make_pool(POOL_V4_PREFIX, 26, shared=pool_shared)
        v6 = self.make_pool(POOL_V6_PREFIX, 64, shared=pool_shared and pool_shared_v6)
        if not pool_shared:
            expected.append(f"Default IPv4 subnet pool {v4.id} is not visible to project project-a")
        if not (pool_shared and pool_shared_v6):
            expected.append(f"Default IPv6 subnet pool {v6.id} is not visible to project project-a")
        if pool_full:
            holder = self.core.create_network(self.admin, {"name": "holder", "project_id": "holder"})
            self.core.create_subnet(self.admin, {"network_id": holder.id, "subnetpool_id": v4.id, "prefixlen": 16})
            expected.append(f"Subnet pool {v4.id} has no free prefix of length /26")
        if pool_quota:
            self.core.update_subnetpool(self.admin, v4.id, {"default_quota": 32})  # less than one /26
            expected.append(f"Project project-a would exceed its quota of 32 address units in subnet pool {v4.id}")
        return expected

    # Step 8: delete

    def test_delete_removes_everything(self) -> None:
        deployment = self.deploy()
        before = self.consumed(deployment)
        self.allocator.get_auto_allocated_topology(self.project, None)
        self.allocator.delete_auto_allocated_topology(self.project, None)
        self.assertNothingBuilt(deployment)
        self.assertEqual(before, self.consumed(deployment))

    def test_delete_without_topology_creates_nothing(self) -> None:
        deployment = self.deploy()
        with self.assertStateUnchanged("delete without a topology"):
            self.allocator.delete_auto_allocated_topology(self.project, None)
        self.assertNothingBuilt(deployment)

    def test_delete_refuses_while_an_instance_port_remains(self) -> None:
        self.deploy()
        network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
        instance = self.core.create_port(
            self.project, {"network_id": network_id, "device_id": "vm-1", "device_owner": "compute:nova"}
        )
        with self.assertStateUnchanged("delete with an instance port"):
            error = self.assertRaisesError(InUse, self.allocator.delete_auto_allocated_topology, self.project, None)
        self.assertEqual((instance.id,), error.users)
        self.assertIn(instance.id, str(error))
        self.assertEqual(network_id, self.allocator.get_auto_allocated_topology(self.project, None)["id"])

    def _plug_users_network(self, router_id: str) -> tuple[Network, str]:
        """The project plugs a network of its own into its topology's router; returns it and the interface port."""
        mine = self.core.create_network(self.project, {"name": "mine"})
        subnet = self.core.create_subnet(self.project, {"network_id": mine.id, "cidr": "192.168.2.0/24"})
        info = self.l3.add_router_interface(self.project, router_id, {"subnet_id": subnet.id})
        return mine, info.port_id

    def test_delete_refuses_before_touching_anything_while_the_router_has_an_interface_it_did_not_make(self) -> None:
        """Finding 6: the delete used to unplug the topology's subnets, then fail on the user's own interface."""
        deployment = self.deploy()
        network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
        router_id = self._router_of()
        mine, interface_port = self._plug_users_network(router_id)
        with self.assertStateUnchanged("delete with the user's own network plugged in"):
            error = self.assertRaisesError(InUse, self.allocator.delete_auto_allocated_topology, self.project, None)
        self.assertEqual(("router", router_id, (interface_port,)), (error.resource, error.resource_id, error.users))
        # The topology's subnets are all still attached, so the next request needs no repair.
        interfaces = self.core.get_ports(
            self.admin, {"device_id": router_id, "device_owner": DEVICE_OWNER_ROUTER_INTERFACE}
        )
        attached = {fixed_ip.subnet_id for port in interfaces for fixed_ip in port.fixed_ips}
        self.assertLessEqual(set(self.core.get_network(self.admin, network_id).subnets), attached)
        self.assertEqual(network_id, self.allocator.get_auto_allocated_topology(self.project, None)["id"])
        # Once the user unplugs their network, the delete goes through and leaves that network alone.
        self.l3.remove_router_interface(self.project, router_id, {"port_id": interface_port})
        self.allocator.delete_auto_allocated_topology(self.project, None)
        self.assertEqual([mine.id], [n.id for n in self.core.get_networks(self.admin, {"tenant_id": "project-a"})])
        self.core.delete_network(self.project, mine.id)
        self.assertNothingBuilt(deployment)

    def test_what_another_project_hangs_on_the_router_does_not_block_the_delete(self) -> None:
        """Finding 2: another project's interface and floating IP locked the victim out of its own topology.

        An admin attaches another project's subnet to the victim's router (the
        one way left to do it), and that project gives its instance a floating
        IP through the router. A port claiming to be one of the router's
        interfaces by its device owner (what any project could make before
        device owners were restricted) is refused even to an admin. The
        victim's delete removes its topology; the other project keeps its
        network, subnet, instance port and floating IP.
        """
        deployment = self.deploy()
        assert deployment.external_network is not None
        self.allocator.get_auto_allocated_topology(self.project, None)
        router_id = self._router_of()
        theirs = self.core.create_network(self.other, {"name": "theirs"})
        their_subnet = self.core.create_subnet(self.other, {"network_id": theirs.id, "cidr": "172.16.0.0/24"})
        self.l3.add_router_interface(self.admin, router_id, {"subnet_id": their_subnet.id})
        instance = self.core.create_port(self.other, {"network_id": theirs.id})
        floatingip = self.l3.create_floatingip(
            self.other, {"floating_network_id": deployment.external_network.id, "port_id": instance.id}
        )
        self.assertEqual(router_id, floatingip.router_id)
        spoofed = {
            "network_id": theirs.id,
            "project_id": "project-b",
            "device_owner": DEVICE_OWNER_ROUTER_INTERFACE,
            "device_id": router_id,
        }
        self.assertBadRequest("port", "device_owner", self.core.create_port, self.admin, spoofed)

        self.allocator.delete_auto_allocated_topology(self.project, None)

        self.assertEqual({"networks": [], "subnets": [], "ports": [], "routers": []}, self.project_resources())
        self.assertIsNone(self.store.get("project-a"))
        self.assertEqual(
            {pool.id: [] for pool in deployment.pools},
            {p.id: self.consumed(deployment)[p.id] for p in deployment.pools},
        )
        self.assertRaisesError(NotFound, self.l3.get_router, self.admin, router_id)
        owned = {"tenant_id": "project-b"}
        self.assertEqual([theirs.id], [n.id for n in self.core.get_networks(self.other, owned)])
        self.assertEqual([their_subnet.id], [s.id for s in self.core.get_subnets(self.other, owned)])
        self.assertEqual(instance.id, self.core.get_port(self.other, instance.id).id)
        kept = self.l3.get_floatingip(self.other, floatingip.id)
        self.assertEqual((None, None), (kept.port_id, kept.router_id))

    def test_another_projects_port_on_the_topology_network_refuses_without_being_named(self) -> None:
        """Only an admin can put it there; the victim learns it exists, never its id (finding 16)."""
        self.deploy()
        network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
        placed = self.core.create_port(self.admin, {"network_id": network_id, "project_id": "project-b"})
        with self.assertStateUnchanged("the owner's delete with another project's port on its network"):
            error = self.assertRaisesError(Conflict, self.allocator.delete_auto_allocated_topology, self.project, None)
        self.assertNotIsInstance(error, InUse)
        self.assertNotIn(placed.id, str(error))
        self.assertIn("ports of other projects (1)", str(error))
        with self.assertStateUnchanged("an admin's delete with another project's port on the network"):
            error = self.assertRaisesError(
                InUse, self.allocator.delete_auto_allocated_topology, self.admin, "project-a"
            )
        self.assertEqual((placed.id,), error.users)
        self.core.delete_port(self.admin, placed.id)
        self.allocator.delete_auto_allocated_topology(self.project, None)
        self.assertIsNone(self.store.get("project-a"))

    # Tampering

    def _router_of(self, project_id: str = "project-a") -> str:
        routers = self.l3.get_routers(self.admin, {"tenant_id": project_id})
        self.assertEqual(1, len(routers))
        return routers[0].id

    def _unplug_all(self, router_id: str, network_id: str) -> None:
        for subnet in self.core.get_subnets(self.admin, {"network_id": network_id}):
            self.l3.remove_router_interface(self.project, router_id, {"subnet_id": subnet.id})

    def test_deleted_router_is_repaired(self) -> None:
        deployment = self.deploy()
        network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
        router_id = self._router_of()
        self._unplug_all(router_id, network_id)
        self.l3.delete_router(self.project, router_id)
        repaired = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
        self.assertEqual(network_id, repaired)
        self.assertWorkingTopology(repaired, deployment)

    def test_unplugged_interface_and_removed_gateway_are_repaired(self) -> None:
        deployment = self.deploy()
        network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
        router_id = self._router_of()
        subnet = self.core.get_subnets(self.admin, {"network_id": network_id})[0]
        self.l3.remove_router_interface(self.project, router_id, {"subnet_id": subnet.id})
        self.l3.update_router(self.project, router_id, {"external_gateway_info": None})
        self.assertEqual(network_id, self.allocator.get_auto_allocated_topology(self.project, None)["id"])
        self.assertWorkingTopology(network_id, deployment)

    def test_deleted_subnet_is_re_created_from_its_pool(self) -> None:
        """Finding 18: a user who deleted the IPv6 (or IPv4) subnet got a single-stack topology for good."""
        for ip_version in (6, 4):
            with self.subTest(ip_version=ip_version):
                self.start_afresh()
                deployment = self.deploy()
                network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
                router_id = self._router_of()
                (gone,) = self.core.get_subnets(self.admin, {"network_id": network_id, "ip_version": ip_version})
                self.l3.remove_router_interface(self.project, router_id, {"subnet_id": gone.id})
                self.core.delete_subnet(self.project, gone.id)
                self.assertEqual(network_id, self.allocator.get_auto_allocated_topology(self.project, None)["id"])
                self.assertWorkingTopology(network_id, deployment)
                record = self.store.get("project-a")
                assert record is not None
                subnets = self.core.get_subnets(self.admin, {"network_id": network_id})
                self.assertEqual(sorted(s.id for s in subnets), sorted(record.subnet_ids))
                self.assertNotIn(gone.id, record.subnet_ids)
                # Whole again: a further request changes nothing.
                resources = self.project_resources()
                self.allocator.get_auto_allocated_topology(self.project, None)
                self.assertEqual(resources, self.project_resources())

    def test_deleted_network_is_rebuilt(self) -> None:
        deployment = self.deploy()
        network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
        router_id = self._router_of()
        self._unplug_all(router_id, network_id)
        self.core.delete_network(self.project, network_id)
        rebuilt = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
        self.assertNotEqual(network_id, rebuilt)
        self.assertWorkingTopology(rebuilt, deployment)
        self.assertRaisesError(NotFound, self.l3.get_router, self.admin, router_id)

    # Failure injection: every plugin call of a build, and of a delete, in turn

    def _allocator_failing_at(
        self, fail_at: int | None, error: Callable[[CallRecord], BaseException]
    ) -> tuple[AutoAllocator, FaultInjector]:
        faults = FaultInjector(fail_at, error)
        return self.make_allocator(faults.wrap(self.core, "core"), faults.wrap(self.l3, "l3")), faults

    def test_every_build_call_failing_leaves_nothing(self) -> None:
        deployment = self.deploy()
        before = self.consumed(deployment)
        allocator, faults = self._allocator_failing_at(None, RuntimeError)
        allocator.get_auto_allocated_topology(self.admin, "measure")
        build_calls = len(faults.calls)
        allocator.delete_auto_allocated_topology(self.admin, "measure")
        self.assertEqual(before, self.consumed(deployment))
        self.assertGreaterEqual(build_calls, 8)

        errors: dict[str, Callable[[CallRecord], BaseException]] = {
            "expected": lambda record: NotFound("injected", str(record)),
            "unexpected": lambda record: RuntimeError(f"injected fault in {record}"),
        }
        for kind, make_error in errors.items():
            for fail_at in range(1, build_calls + 1):
                allocator, faults = self._allocator_failing_at(fail_at, make_error)
                with self.subTest(kind=kind, call=fail_at):
                    try:
                        allocator.get_auto_allocated_topology(self.project, None)
                    except AutoAllocationFailure as error:
                        self.assertEqual("expected", kind, f"{faults.failed}: unexpected error became {error!r}")
                        self.assertIsInstance(error.__cause__, NotFound)
                    except RuntimeError as error:
                        self.assertEqual("unexpected", kind)
                        self.assertIn("injected fault", str(error))
                    except NotFound as error:
                        # An expected error outside the build's two stages is re-raised as itself.
                        self.assertEqual("expected", kind)
                        self.assertEqual("injected", error.resource)
                    else:
                        self.fail(f"failing call {fail_at} ({faults.failed}) did not fail the request")
                    self.assertIsNotNone(faults.failed)
                    self.assertNothingBuilt(deployment)
                    self.assertEqual(before, self.consumed(deployment))
        # And the deployment still works afterwards.
        self.assertWorkingTopology(self.allocator.get_auto_allocated_topology(self.project, None)["id"], deployment)

    def test_every_delete_call_failing_keeps_a_usable_topology(self) -> None:
        """A delete that fails part-way leaves a topology that the next request repairs or deletes."""
        deployment = self.deploy()
        before = self.consumed(deployment)
        self.allocator.get_auto_allocated_topology(self.project, None)
        allocator, faults = self._allocator_failing_at(None, RuntimeError)
        allocator.delete_auto_allocated_topology(self.project, None)
        delete_calls = len(faults.calls)
        self.assertGreaterEqual(delete_calls, 4)
        for fail_at in range(1, delete_calls + 1):
            for ends_with in ("get", "delete"):
                with self.subTest(call=fail_at, then=ends_with):
                    network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
                    allocator, faults = self._allocator_failing_at(
                        fail_at, lambda r: RuntimeError(f"injected fault in {r}")
                    )
                    self.assertRaisesError(RuntimeError, allocator.delete_auto_allocated_topology, self.project, None)
                    if ends_with == "get":
                        network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
                        self.assertWorkingTopology(network_id, deployment)
                    self.allocator.delete_auto_allocated_topology(self.project, None)
                    self.assertNothingBuilt(deployment)
                    self.assertEqual(before, self.consumed(deployment))

    # Concurrency and crashed builders

    def test_concurrent_requests_build_one_topology(self) -> None:
        """Many threads ask at once; plugin calls sleep, so the threads really interleave.

        Without the claim on the topology record, every thread would build
        its own network and consume its own pool prefixes.
        """
        deployment = self.deploy()
        delay = Delay(0.002)
        allocator = self.make_allocator(delay.wrap(self.core, "core"), delay.wrap(self.l3, "l3"))
        barrier = threading.Barrier(self.concurrent_requests)
        results: list[dict[str, Any]] = []
        errors: list[BaseException] = []
        enabled: list[bool] = []
        lock = threading.Lock()

        def ask() -> None:
            barrier.wait()
            try:
                result = allocator.get_auto_allocated_topology(self.project, None)
                up = self.core.get_network(self.admin, result["id"]).admin_state_up
            except BaseException as error:
                with lock:
                    errors.append(error)
                return
            with lock:
                results.append(result)
                enabled.append(up)

        threads = [threading.Thread(target=ask) for _ in range(self.concurrent_requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], errors)
        self.assertEqual(self.concurrent_requests, len(results))
        self.assertEqual(1, len({r["id"] for r in results}))
        self.assertTrue(all(enabled), "a caller got a network that was still disabled")
        self.assertWorkingTopology(results[0]["id"], deployment)
        resources = self.project_resources()
        self.assertEqual(
            (1, len(deployment.pools), 1),
            (len(resources["networks"]), len(resources["subnets"]), len(resources["routers"])),
        )
        consumed = self.consumed(deployment)
        self.assertEqual([1] * len(deployment.pools), [len(consumed[p.id]) for p in deployment.pools])

    build_steps = (
        BuildStep.CLAIMED,
        BuildStep.NETWORK_CREATED,
        BuildStep.SUBNET_CREATED,
        BuildStep.ROUTER_CREATED,
        BuildStep.INTERFACE_ADDED,
        BuildStep.NETWORK_ENABLED,
    )

    def test_abandoned_build_is_cleaned_up_and_rebuilt(self) -> None:
        """A builder that stops at each step and is never heard of again: the next request takes over."""
        deployment = self.deploy()
        before = self.consumed(deployment)
        for step in self.build_steps:
            with self.subTest(step=step):
                stalled = _StalledBuild(self.make_allocator, self.core, self.l3, step)
                self.assertTrue(stalled.reached.wait(10), f"the build never reached {step}")
                record = self.store.get("project-a")
                assert record is not None
                self.assertEqual(TopologyStatus.BUILDING, record.status)
                network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
                self.assertWorkingTopology(network_id, deployment)
                outcome = stalled.finish()
                # The stalled builder lost its claim: it failed, or returned the topology built instead.
                if isinstance(outcome, dict):
                    self.assertEqual(network_id, outcome["id"])
                self.assertWorkingTopology(network_id, deployment)
                self.allocator.delete_auto_allocated_topology(self.project, None)
                self.assertNothingBuilt(deployment)
                self.assertEqual(before, self.consumed(deployment))

    def test_recovery_removes_only_what_the_abandoned_build_made(self) -> None:
        """Finding 11: recovery used to delete the project's own resources that carry the reserved names.

        The project keeps a disabled network named ``auto_allocated_network``
        (with a subnet) and an empty router named ``auto_allocated_router``. A
        build stalls at each step in turn and is taken over; the user's
        resources survive, and so they do when an operator clears the build.
        """
        deployment = self.deploy()
        before = self.consumed(deployment)
        for step in self.build_steps:
            with self.subTest(step=step):
                kept_network = self.core.create_network(
                    self.project, {"name": "auto_allocated_network", "admin_state_up": False}
                )
                kept_subnet = self.core.create_subnet(
                    self.project, {"network_id": kept_network.id, "cidr": "192.168.1.0/24"}
                )
                kept_router = self.l3.create_router(self.project, {"name": "auto_allocated_router"})
                stalled = _StalledBuild(self.make_allocator, self.core, self.l3, step)
                self.assertTrue(stalled.reached.wait(10), f"the build never reached {step}")
                network_id = self.allocator.get_auto_allocated_topology(self.project, None)["id"]
                stalled.finish()
                self.assertNotEqual(kept_network.id, network_id)
                network = self.core.get_network(self.project, kept_network.id)
                self.assertEqual(((kept_subnet.id,), False), (network.subnets, network.admin_state_up))
                self.assertEqual("auto_allocated_router", self.l3.get_router(self.project, kept_router.id).name)
                self.allocator.delete_auto_allocated_topology(self.project, None)
                self.l3.delete_router(self.project, kept_router.id)
                self.core.delete_network(self.project, kept_network.id)
                self.assertNothingBuilt(deployment)
                self.assertEqual(before, self.consumed(deployment))

    def test_operator_clean_up_leaves_the_projects_own_resources(self) -> None:
        """Finding 11's reproduction: the record a builder killed right after its claim leaves behind."""
        deployment = self.deploy()
        kept = self.core.create_network(self.project, {"name": "auto_allocated_network", "admin_state_up": False})
        self.core.create_subnet(self.project, {"network_id": kept.id, "cidr": "192.168.1.0/24"})
        kept_router = self.l3.create_router(self.project, {"name": "auto_allocated_router"})
        self.store.create(
            TopologyRecord("project-a", TopologyStatus.BUILDING, owner="another-host:1:dead", lease_expires_at=0.0)
        )
        self.assertEqual(["project-a"], self.allocator.remove_abandoned_topologies(self.admin))
        self.assertIsNone(self.store.get("project-a"))
        self.assertEqual([kept.id], [n.id for n in self.core.get_networks(self.admin, {"tenant_id": "project-a"})])
        self.assertEqual(kept_router.id, self.l3.get_router(self.project, kept_router.id).id)
        self.l3.delete_router(self.project, kept_router.id)
        self.core.delete_network(self.project, kept.id)
        self.assertNothingBuilt(deployment)

    def test_a_builder_in_another_pid_namespace_is_trusted_until_its_lease_ends(self) -> None:
        """Finding 8: a request in another container with the host's name declared a live builder dead.

        The record's owner ran on this machine (same host name, same kernel
        boot) but in another PID namespace, under a pid that does not exist
        here: that says nothing about whether it is alive, so the request
        waits for the lease. The same owner in this PID namespace is known
        dead and its build is cleared at once.
        """
        here = OwnerToken.current()
        if not (here.boot_id and here.pid_namespace):
            self.skipTest("this system does not expose a boot id and PID namespaces")
        deployment = self.deploy()
        exited = _pid_of_an_exited_process()
        elsewhere = dataclasses.replace(here, pid_namespace=here.pid_namespace + "0", pid=exited)
        self.store.create(
            TopologyRecord(
                "project-a", TopologyStatus.BUILDING, owner=str(elsewhere), lease_expires_at=time.time() + 60
            )
        )
        impatient = self.make_allocator(self.core, self.l3, wait_timeout=0.2)
        with self.assertStateUnchanged("a request while another container builds"):
            error = self.assertRaisesError(Conflict, impatient.get_auto_allocated_topology, self.project, None)
        self.assertIn("still building", str(error))

        record = self.store.get("project-a")
        assert record is not None
        dead_here = dataclasses.replace(elsewhere, pid_namespace=here.pid_namespace)
        self.assertTrue(self.store.replace(record, dataclasses.replace(record, owner=str(dead_here))))
        network_id = impatient.get_auto_allocated_topology(self.project, None)["id"]
        self.assertWorkingTopology(network_id, deployment)

    def test_operator_clean_up_removes_abandoned_builds(self) -> None:
        deployment = self.deploy()
        before = self.consumed(deployment)
        stalled = _StalledBuild(self.make_allocator, self.core, self.l3, BuildStep.ROUTER_CREATED)
        self.assertTrue(stalled.reached.wait(10))
        self.assertRaisesError(NotAuthorized, self.allocator.remove_abandoned_topologies, self.project)
        record = self.store.get("project-a")
        assert record is not None
        while not record.is_abandoned():
            threading.Event().wait(0.01)
        self.assertEqual(["project-a"], self.allocator.remove_abandoned_topologies(self.admin))
        self.assertNothingBuilt(deployment)
        self.assertIsInstance(stalled.finish(), NaasError)  # it lost its claim
        self.assertNothingBuilt(deployment)
        self.assertEqual(before, self.consumed(deployment))
        self.assertEqual([], self.allocator.remove_abandoned_topologies(self.admin))


def _pid_of_an_exited_process() -> int:
    """A pid that no process of this PID namespace has (until the kernel hands it out again)."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


class _StalledBuild:
    """A build of project-a's topology, in a thread, that stops at ``step`` until :meth:`finish`.

    Its lease is very short, so other requests soon treat it as abandoned.
    """

    def __init__(self, make_allocator: Callable[..., AutoAllocator], core: Any, l3: Any, step: str) -> None:
        self.step = step
        self.reached = threading.Event()
        self._release = threading.Event()
        self._outcome: list[NaasError | dict[str, Any]] = []
        allocator = make_allocator(core, l3, lease_seconds=0.05, build_hook=self._hold)
        self._thread = threading.Thread(target=self._run, args=(allocator,))
        self._thread.start()

    def _hold(self, reached: str) -> None:
        if reached == self.step:
            self.reached.set()
            self._release.wait(10)

    def _run(self, allocator: AutoAllocator) -> None:
        try:
            self._outcome.append(allocator.get_auto_allocated_topology(RequestContext("project-a"), None))
        except NaasError as error:
            self._outcome.append(error)

    def finish(self) -> NaasError | dict[str, Any]:
        self._release.set()
        self._thread.join(10)
        if len(self._outcome) != 1:
            raise AssertionError(f"the stalled build at {self.step} did not finish")
        return self._outcome[0]
