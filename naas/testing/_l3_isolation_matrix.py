"""Conformance tests: the isolation matrix over routers, floating IPs, ports as interfaces and topologies.

See :mod:`naas.testing._matrix` for the callers.
"""

from __future__ import annotations

from naas.auto_allocate import AutoAllocator
from naas.capabilities import Capability
from naas.exceptions import BadRequest, NotAuthorized
from naas.resources import DEVICE_OWNER_ROUTER_INTERFACE, FloatingIP, Router
from naas.testing._base import requires
from naas.testing._l3_base import L3SuiteBase
from naas.testing._matrix import FOREIGN, NON_ADMINS, OWNER, MatrixCallers, add_matrix_tests, cell
from naas.testing.fixtures import (
    PROJECT_A_ID,
    NetworkSetup,
    RoutedNetwork,
    make_default_pools,
    make_network,
    make_port,
    make_routed_network,
    make_router,
)

__all__ = ["L3IsolationMatrix"]


@add_matrix_tests
class L3IsolationMatrix(MatrixCallers, L3SuiteBase):
    def _owners_router(self) -> Router:
        return make_router(self.l3, self.project_a, external_network_id=self.public.id)

    def _callers_network(self, actor: str) -> NetworkSetup:
        """A network of the caller's own for a foreign caller, the owner's for the owner and admins."""
        if actor in FOREIGN:
            return make_network(self.core, self.caller(actor), ["10.40.0.0/24"], name="callers")
        return make_network(self.core, self.project_a, ["10.10.0.0/24"])

    # Routers

    def cell_router_create(self, actor: str) -> None:
        """Create a router for the owner's project."""
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertRefused(NotAuthorized, self.l3.create_router, context, {"project_id": PROJECT_A_ID})
        else:
            router = self.l3.create_router(context, {"project_id": PROJECT_A_ID})
            self.assertEqual(router, self.l3.get_router(self.project_a, router.id))

    def cell_router_get(self, actor: str) -> None:
        """Read the owner's router."""
        router = self._owners_router()
        if actor in FOREIGN:
            self.assertNotFound("router", router.id, self.l3.get_router, self.caller(actor), router.id)
        else:
            self.assertEqual(router, self.l3.get_router(self.caller(actor), router.id))

    def cell_router_list(self, actor: str) -> None:
        """List routers, unfiltered and filtered by id, by project and by name."""
        router = self._owners_router()
        self.assertListing(actor, router.id, self.l3.get_routers, [{"name": router.name}])

    def cell_router_update(self, actor: str) -> None:
        """Rename the owner's router."""
        router = self._owners_router()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("router", router.id, self.l3.update_router, context, router.id, {"name": "taken"})
        else:
            self.assertEqual("renamed", self.l3.update_router(context, router.id, {"name": "renamed"}).name)

    def cell_router_delete(self, actor: str) -> None:
        """Delete the owner's router."""
        router = self._owners_router()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("router", router.id, self.l3.delete_router, context, router.id)
        else:
            self.l3.delete_router(context, router.id)
            self.assertNotFound("router", router.id, self.l3.get_router, self.admin, router.id)

    def cell_router_attach(self, actor: str) -> None:
        """Attach a subnet to the owner's router."""
        router = self._owners_router()
        subnet = self._callers_network(actor).subnet()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound(
                "router", router.id, self.l3.add_router_interface, context, router.id, {"subnet_id": subnet.id}
            )
        else:
            info = self.l3.add_router_interface(context, router.id, {"subnet_id": subnet.id})
            self.assertEqual((router.id, subnet.id), (info.id, info.subnet_id))

    @cell(*NON_ADMINS)
    def cell_router_attach_by_device_owner(self, actor: str) -> None:
        """Make a port an interface of the owner's router by its device owner (finding 2: only naas or an admin)."""
        router = self._owners_router()
        network = self._callers_network(actor)
        body = {"network_id": network.id, "device_owner": DEVICE_OWNER_ROUTER_INTERFACE, "device_id": router.id}
        self.assertRefused((NotAuthorized, BadRequest), self.core.create_port, self.caller(actor), body)

    # Ports, as router interfaces

    def cell_port_attach(self, actor: str) -> None:
        """Make the owner's port an interface of the caller's router."""
        setup = make_network(self.core, self.project_a, ["10.10.0.0/24"])
        port = make_port(self.core, self.project_a, setup.id)
        context = self.caller(actor)
        router = make_router(self.l3, self.project_a if actor == OWNER else context)
        if actor in FOREIGN:
            self.assertNotFound("port", port.id, self.l3.add_router_interface, context, router.id, {"port_id": port.id})
        else:
            self.assertEqual(port.id, self.l3.add_router_interface(context, router.id, {"port_id": port.id}).port_id)

    # Floating IPs

    def _owners_floatingip(self) -> FloatingIP:
        return self.l3.create_floatingip(self.project_a, {"floating_network_id": self.public.id})

    @requires(Capability.FLOATINGIPS)
    def cell_floatingip_create(self, actor: str) -> None:
        """Create a floating IP for the owner's project."""
        context = self.caller(actor)
        body = {"floating_network_id": self.public.id, "project_id": PROJECT_A_ID}
        if actor in FOREIGN:
            self.assertRefused(NotAuthorized, self.l3.create_floatingip, context, body)
        else:
            fip = self.l3.create_floatingip(context, body)
            self.assertEqual(fip, self.l3.get_floatingip(self.project_a, fip.id))

    @requires(Capability.FLOATINGIPS)
    def cell_floatingip_get(self, actor: str) -> None:
        """Read the owner's floating IP."""
        fip = self._owners_floatingip()
        if actor in FOREIGN:
            self.assertNotFound("floatingip", fip.id, self.l3.get_floatingip, self.caller(actor), fip.id)
        else:
            self.assertEqual(fip, self.l3.get_floatingip(self.caller(actor), fip.id))

    @requires(Capability.FLOATINGIPS)
    def cell_floatingip_list(self, actor: str) -> None:
        """List floating IPs, unfiltered and filtered by id, by project and by network."""
        fip = self._owners_floatingip()
        self.assertListing(actor, fip.id, self.l3.get_floatingips, [{"floating_network_id": self.public.id}])

    @requires(Capability.FLOATINGIPS)
    def cell_floatingip_update(self, actor: str) -> None:
        """Disassociate the owner's floating IP."""
        fip = self._owners_floatingip()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("floatingip", fip.id, self.l3.disassociate_floatingip, context, fip.id)
        else:
            self.assertIsNone(self.l3.disassociate_floatingip(context, fip.id).port_id)

    @requires(Capability.FLOATINGIPS)
    def cell_floatingip_delete(self, actor: str) -> None:
        """Delete the owner's floating IP."""
        fip = self._owners_floatingip()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("floatingip", fip.id, self.l3.delete_floatingip, context, fip.id)
        else:
            self.l3.delete_floatingip(context, fip.id)
            self.assertNotFound("floatingip", fip.id, self.l3.get_floatingip, self.admin, fip.id)

    @requires(Capability.FLOATINGIPS)
    def cell_floatingip_attach(self, actor: str) -> None:
        """Point the owner's floating IP at a port, and a floating IP of the caller's at the owner's port."""
        routed: RoutedNetwork = make_routed_network(self.core, self.l3, self.project_a, self.public.id)
        port = make_port(self.core, self.project_a, routed.network.id)
        fip = self._owners_floatingip()
        context = self.caller(actor)
        if actor in FOREIGN:
            own = self.l3.create_floatingip(context, {"floating_network_id": self.public.id})
            self.assertNotFound("port", port.id, self.l3.associate_floatingip, context, own.id, port.id)
            self.assertNotFound("floatingip", fip.id, self.l3.associate_floatingip, context, fip.id, port.id)
        else:
            self.assertEqual(port.id, self.l3.associate_floatingip(context, fip.id, port.id).port_id)

    # Get-me-a-network topologies

    def _owners_topology(self) -> tuple[AutoAllocator, str]:
        make_default_pools(self.core, self.admin)
        allocator = AutoAllocator(self.core, self.l3)
        return allocator, allocator.get_auto_allocated_topology(self.project_a, None)["id"]

    def cell_topology_create(self, actor: str) -> None:
        """Ask for the owner's topology by the owner's project id."""
        allocator, network_id = self._owners_topology()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertRefused(NotAuthorized, allocator.get_auto_allocated_topology, context, PROJECT_A_ID)
        else:
            self.assertEqual(network_id, allocator.get_auto_allocated_topology(context, PROJECT_A_ID)["id"])

    @cell(*NON_ADMINS)
    def cell_topology_get(self, actor: str) -> None:
        """Ask for one's own topology once the owner has one: the owner's, or a topology of one's own."""
        allocator, network_id = self._owners_topology()
        context = self.caller(actor)
        got = allocator.get_auto_allocated_topology(context, None)
        if actor in FOREIGN:
            self.assertNotEqual(network_id, got["id"], f"{context.project_id!r} was handed the owner's topology")
            self.assertEqual(context.project_id, self.core.get_network(context, got["id"]).project_id)
        else:
            self.assertEqual(network_id, got["id"])
        self.assertEqual(network_id, allocator.get_auto_allocated_topology(self.project_a, None)["id"])
        self.assertEqual(PROJECT_A_ID, self.core.get_network(self.project_a, network_id).project_id)

    def cell_topology_delete(self, actor: str) -> None:
        """Delete the owner's topology by the owner's project id."""
        allocator, network_id = self._owners_topology()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertRefused(NotAuthorized, allocator.delete_auto_allocated_topology, context, PROJECT_A_ID)
            self.assertEqual(network_id, allocator.get_auto_allocated_topology(self.project_a, None)["id"])
        else:
            allocator.delete_auto_allocated_topology(context, PROJECT_A_ID)
            self.assertNotFound("network", network_id, self.core.get_network, self.admin, network_id)
