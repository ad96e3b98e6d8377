"""Conformance tests: what one project may see and change of another's routers and floating IPs."""

from __future__ import annotations

from naas.capabilities import Capability
from naas.exceptions import BadRequest, NotAuthorized, NotFound
from naas.resources import FloatingIP, Router
from naas.testing._base import requires
from naas.testing._l3_base import L3SuiteBase
from naas.testing.fixtures import (
    PROJECT_A_ID,
    PROJECT_B_ID,
    make_network,
    make_port,
    make_routed_network,
    make_router,
)

__all__ = ["L3IsolationTests"]


class L3IsolationTests(L3SuiteBase):
    def _router_of_a(self) -> Router:
        return make_router(self.l3, self.project_a, external_network_id=self.public.id)

    def _fip_of_a(self) -> FloatingIP:
        return self.l3.create_floatingip(self.project_a, {"floating_network_id": self.public.id})

    # Routers

    def test_isolation_get_other_projects_router_raises_not_found(self) -> None:
        router = self._router_of_a()
        self.assertNotFound("router", router.id, self.l3.get_router, self.project_b, router.id)

    def test_isolation_router_list_excludes_other_projects(self) -> None:
        self._router_of_a()
        own = make_router(self.l3, self.project_b)
        self.assertEqual([own.id], [router.id for router in self.l3.get_routers(self.project_b)])

    def test_isolation_update_other_projects_router_raises_not_found(self) -> None:
        router = self._router_of_a()
        self.assertNotFound("router", router.id, self.l3.update_router, self.project_b, router.id, {"name": "x"})

    def test_isolation_delete_other_projects_router_raises_not_found(self) -> None:
        router = self._router_of_a()
        self.assertNotFound("router", router.id, self.l3.delete_router, self.project_b, router.id)

    def test_isolation_interface_on_other_projects_router_raises_not_found(self) -> None:
        router = self._router_of_a()
        own = make_network(self.core, self.project_b)
        self.assertNotFound(
            "router", router.id, self.l3.add_router_interface, self.project_b, router.id, {"subnet_id": own.subnet().id}
        )

    def test_isolation_interface_remove_on_other_projects_router_raises_not_found(self) -> None:
        routed = make_routed_network(self.core, self.l3, self.project_a, self.public.id)
        self.assertNotFound(
            "router",
            routed.router.id,
            self.l3.remove_router_interface,
            self.project_b,
            routed.router.id,
            {"subnet_id": routed.network.subnet().id},
        )

    def test_isolation_interface_on_other_projects_subnet_raises_not_found(self) -> None:
        theirs = make_network(self.core, self.project_a)
        router = make_router(self.l3, self.project_b)
        self.assertNotFound(
            "subnet",
            theirs.subnet().id,
            self.l3.add_router_interface,
            self.project_b,
            router.id,
            {"subnet_id": theirs.subnet().id},
        )

    def test_isolation_interface_with_other_projects_port_raises_not_found(self) -> None:
        theirs = make_network(self.core, self.project_a)
        port = make_port(self.core, self.project_a, theirs.id)
        router = make_router(self.l3, self.project_b)
        self.assertNotFound(
            "port", port.id, self.l3.add_router_interface, self.project_b, router.id, {"port_id": port.id}
        )

    def test_isolation_router_gateway_on_admins_external_network(self) -> None:
        router = make_router(self.l3, self.project_b, external_network_id=self.public.id)
        self.assertEqual(PROJECT_B_ID, router.project_id)
        self.assertIsNotNone(router.external_gateway_info)

    def test_isolation_router_gateway_on_other_projects_internal_network_is_refused(self) -> None:
        theirs = make_network(self.core, self.project_a)
        self.assertRefused((NotFound, BadRequest), make_router, self.l3, self.project_b, external_network_id=theirs.id)

    def test_isolation_non_admin_cannot_create_router_for_another_project(self) -> None:
        self.assertRefused(NotAuthorized, self.l3.create_router, self.project_a, {"project_id": PROJECT_B_ID})

    def test_isolation_admin_creates_router_for_another_project(self) -> None:
        router = self.l3.create_router(self.admin, {"project_id": PROJECT_A_ID})
        self.assertEqual(router, self.l3.get_router(self.project_a, router.id))
        self.assertNotFound("router", router.id, self.l3.get_router, self.project_b, router.id)

    def test_isolation_other_projects_gateway_port_is_hidden(self) -> None:
        router = self._router_of_a()
        port = self.gateway_port(router)
        self.assertNotFound("port", port.id, self.core.get_port, self.project_b, port.id)

    # Floating IPs

    @requires(Capability.FLOATINGIPS)
    def test_isolation_get_other_projects_floatingip_raises_not_found(self) -> None:
        fip = self._fip_of_a()
        self.assertNotFound("floatingip", fip.id, self.l3.get_floatingip, self.project_b, fip.id)

    @requires(Capability.FLOATINGIPS)
    def test_isolation_floatingip_list_excludes_other_projects(self) -> None:
        self._fip_of_a()
        self.assertEqual([], self.l3.get_floatingips(self.project_b))

    @requires(Capability.FLOATINGIPS)
    def test_isolation_delete_other_projects_floatingip_raises_not_found(self) -> None:
        fip = self._fip_of_a()
        self.assertNotFound("floatingip", fip.id, self.l3.delete_floatingip, self.project_b, fip.id)

    @requires(Capability.FLOATINGIPS)
    def test_isolation_disassociate_other_projects_floatingip_raises_not_found(self) -> None:
        fip = self._fip_of_a()
        self.assertNotFound("floatingip", fip.id, self.l3.disassociate_floatingip, self.project_b, fip.id)

    @requires(Capability.FLOATINGIPS)
    def test_isolation_associate_other_projects_floatingip_raises_not_found(self) -> None:
        fip = self._fip_of_a()
        routed = make_routed_network(self.core, self.l3, self.project_b, self.public.id)
        port = make_port(self.core, self.project_b, routed.network.id)
        self.assertNotFound("floatingip", fip.id, self.l3.associate_floatingip, self.project_b, fip.id, port.id)

    @requires(Capability.FLOATINGIPS)
    def test_isolation_associate_with_other_projects_port_raises_not_found(self) -> None:
        routed = make_routed_network(self.core, self.l3, self.project_a, self.public.id)
        port = make_port(self.core, self.project_a, routed.network.id)
        own = self.l3.create_floatingip(self.project_b, {"floating_network_id": self.public.id})
        self.assertNotFound("port", port.id, self.l3.associate_floatingip, self.project_b, own.id, port.id)

    @requires(Capability.FLOATINGIPS)
    def test_isolation_floatingip_for_other_projects_port_raises_not_found(self) -> None:
        routed = make_routed_network(self.core, self.l3, self.project_a, self.public.id)
        port = make_port(self.core, self.project_a, routed.network.id)
        self.assertNotFound(
            "port",
            port.id,
            self.l3.create_floatingip,
            self.project_b,
            {"floating_network_id": self.public.id, "port_id": port.id},
        )

    @requires(Capability.FLOATINGIPS)
    def test_isolation_non_admin_cannot_create_floatingip_for_another_project(self) -> None:
        self.assertRefused(
            NotAuthorized,
            self.l3.create_floatingip,
            self.project_a,
            {"floating_network_id": self.public.id, "project_id": PROJECT_B_ID},
        )
