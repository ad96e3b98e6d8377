"""Conformance tests: router interfaces, and what they keep from being deleted."""

from __future__ import annotations

from naas.capabilities import Capability
from naas.exceptions import BadRequest, InUse, IpAddressAlreadyAllocated, NotFound
from naas.requests import InterfaceRequest
from naas.resources import DEVICE_OWNER_ROUTER_INTERFACE, Router
from naas.testing._base import MALFORMED_ID, MISSING_ID, requires
from naas.testing._l3_base import L3SuiteBase
from naas.testing.fixtures import PROJECT_A_ID, NetworkSetup, addresses_of, make_network, make_port, make_router

__all__ = ["RouterInterfaceTests"]


class RouterInterfaceTests(L3SuiteBase):
    def _router_and_network(self, *cidrs: str) -> tuple[Router, NetworkSetup]:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        return router, make_network(self.core, self.project_a, cidrs or ("10.10.0.0/24",))

    # Adding

    def test_interface_by_subnet_reports_router_network_subnet_and_port(self) -> None:
        router, setup = self._router_and_network()
        info = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.assertEqual(
            (router.id, PROJECT_A_ID, setup.id, setup.subnet().id, (setup.subnet().id,)),
            (info.id, info.project_id, info.network_id, info.subnet_id, info.subnet_ids),
        )

    def test_interface_by_subnet_creates_a_port_on_the_subnet_gateway(self) -> None:
        router, setup = self._router_and_network()
        info = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        port = self.core.get_port(self.admin, info.port_id)
        self.assertEqual((setup.id, DEVICE_OWNER_ROUTER_INTERFACE), (port.network_id, port.device_owner))
        self.assertEqual([setup.subnet().gateway_ip], addresses_of(port))

    def test_interface_accepts_a_typed_request(self) -> None:
        router, setup = self._router_and_network()
        info = self.l3.add_router_interface(self.project_a, router.id, InterfaceRequest(subnet_id=setup.subnet().id))
        self.assertEqual(setup.subnet().id, info.subnet_id)

    def test_interface_on_router_without_gateway(self) -> None:
        router = make_router(self.l3, self.project_a)
        setup = make_network(self.core, self.project_a)
        info = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.assertEqual(router.id, info.id)

    def test_interfaces_on_two_networks(self) -> None:
        router, first = self._router_and_network()
        second = make_network(self.core, self.project_a, ["10.20.0.0/24"], name="second")
        infos = [
            self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
            for setup in (first, second)
        ]
        self.assertEqual({first.id, second.id}, {info.network_id for info in infos})
        self.assertNotEqual(infos[0].port_id, infos[1].port_id)

    @requires(Capability.IPV6)
    def test_interface_on_ipv6_subnet(self) -> None:
        router, setup = self._router_and_network("fd00:10::/64")
        info = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet(6).id})
        self.assertEqual([setup.subnet(6).gateway_ip], addresses_of(self.core.get_port(self.admin, info.port_id)))

    def test_interface_by_port_uses_that_port(self) -> None:
        router, setup = self._router_and_network()
        port = make_port(self.core, self.project_a, setup.id, fixed_ips=[{"ip_address": "10.10.0.1"}])
        info = self.l3.add_router_interface(self.project_a, router.id, {"port_id": port.id})
        self.assertEqual(
            (router.id, port.id, setup.id, setup.subnet().id), (info.id, info.port_id, info.network_id, info.subnet_id)
        )
        self.assertEqual(addresses_of(port), addresses_of(self.core.get_port(self.project_a, port.id)))

    def test_interface_by_subnet_without_gateway_raises_bad_request(self) -> None:
        router = make_router(self.l3, self.project_a)
        network = self.core.create_network(self.project_a, {})
        subnet = self.core.create_subnet(
            self.project_a, {"network_id": network.id, "cidr": "10.10.0.0/24", "gateway_ip": None}
        )
        self.assertBadRequest(
            "router_interface",
            "subnet_id",
            self.l3.add_router_interface,
            self.project_a,
            router.id,
            {"subnet_id": subnet.id},
        )

    def test_interface_twice_on_one_subnet_raises_bad_request(self) -> None:
        router, setup = self._router_and_network()
        self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.assertBadRequest(
            "router_interface",
            "subnet_id",
            self.l3.add_router_interface,
            self.project_a,
            router.id,
            {"subnet_id": setup.subnet().id},
        )

    def test_interface_on_a_subnet_overlapping_an_attached_one_raises_bad_request(self) -> None:
        router, setup = self._router_and_network()
        overlapping = make_network(self.core, self.project_a, ["10.10.0.0/25"], name="overlapping")
        self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.assertBadRequest(
            "router_interface",
            "subnet_id",
            self.l3.add_router_interface,
            self.project_a,
            router.id,
            {"subnet_id": overlapping.subnet().id},
        )

    def test_interface_when_the_gateway_address_is_taken_raises_already_allocated(self) -> None:
        router, setup = self._router_and_network()
        make_port(self.core, self.project_a, setup.id, fixed_ips=[{"ip_address": "10.10.0.1"}])
        self.assertRefused(
            IpAddressAlreadyAllocated,
            self.l3.add_router_interface,
            self.project_a,
            router.id,
            {"subnet_id": setup.subnet().id},
        )

    def test_interface_by_port_already_attached_raises_bad_request(self) -> None:
        router, setup = self._router_and_network()
        other = make_router(self.l3, self.project_a, name="other")
        port = make_port(self.core, self.project_a, setup.id)
        self.l3.add_router_interface(self.project_a, router.id, {"port_id": port.id})
        self.assertBadRequest(
            "router_interface", "port_id", self.l3.add_router_interface, self.project_a, other.id, {"port_id": port.id}
        )

    def test_interface_by_port_without_address_raises_bad_request(self) -> None:
        router, setup = self._router_and_network()
        port = make_port(self.core, self.project_a, setup.id, fixed_ips=[])
        self.assertBadRequest(
            "router_interface", "port_id", self.l3.add_router_interface, self.project_a, router.id, {"port_id": port.id}
        )

    def test_interface_with_neither_subnet_nor_port_raises_bad_request(self) -> None:
        router = make_router(self.l3, self.project_a)
        error = self.assertRefused(BadRequest, self.l3.add_router_interface, self.project_a, router.id, {})
        self.assertIn(error.attribute, ("subnet_id", "port_id"))

    def test_interface_with_both_subnet_and_port_raises_bad_request(self) -> None:
        router, setup = self._router_and_network()
        port = make_port(self.core, self.project_a, setup.id)
        error = self.assertRefused(
            BadRequest,
            self.l3.add_router_interface,
            self.project_a,
            router.id,
            {"subnet_id": setup.subnet().id, "port_id": port.id},
        )
        self.assertIn(error.attribute, ("subnet_id", "port_id"))

    def test_interface_with_malformed_subnet_id_raises_bad_request(self) -> None:
        router = make_router(self.l3, self.project_a)
        self.assertBadRequest(
            "router_interface",
            "subnet_id",
            self.l3.add_router_interface,
            self.project_a,
            router.id,
            {"subnet_id": MALFORMED_ID},
        )

    def test_interface_with_malformed_port_id_raises_bad_request(self) -> None:
        router = make_router(self.l3, self.project_a)
        self.assertBadRequest(
            "router_interface",
            "port_id",
            self.l3.add_router_interface,
            self.project_a,
            router.id,
            {"port_id": MALFORMED_ID},
        )

    def test_interface_with_unknown_attribute_raises_bad_request(self) -> None:
        router, setup = self._router_and_network()
        self.assertBadRequest(
            "router_interface",
            "network_id",
            self.l3.add_router_interface,
            self.project_a,
            router.id,
            {"subnet_id": setup.subnet().id, "network_id": setup.id},
        )

    def test_interface_on_missing_router_raises_not_found(self) -> None:
        setup = make_network(self.core, self.project_a)
        self.assertNotFound(
            "router",
            MISSING_ID,
            self.l3.add_router_interface,
            self.project_a,
            MISSING_ID,
            {"subnet_id": setup.subnet().id},
        )

    def test_interface_with_missing_subnet_raises_not_found(self) -> None:
        router = make_router(self.l3, self.project_a)
        self.assertNotFound(
            "subnet", MISSING_ID, self.l3.add_router_interface, self.project_a, router.id, {"subnet_id": MISSING_ID}
        )

    def test_interface_with_missing_port_raises_not_found(self) -> None:
        router = make_router(self.l3, self.project_a)
        self.assertNotFound(
            "port", MISSING_ID, self.l3.add_router_interface, self.project_a, router.id, {"port_id": MISSING_ID}
        )

    # Removing

    def test_interface_remove_by_subnet_deletes_its_port(self) -> None:
        router, setup = self._router_and_network()
        added = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        removed = self.l3.remove_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.assertEqual(
            (router.id, added.port_id, setup.subnet().id), (removed.id, removed.port_id, removed.subnet_id)
        )
        self.assertNotFound("port", added.port_id, self.core.get_port, self.admin, added.port_id)

    def test_interface_remove_by_port_deletes_it(self) -> None:
        router, setup = self._router_and_network()
        added = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        removed = self.l3.remove_router_interface(self.project_a, router.id, {"port_id": added.port_id})
        self.assertEqual(added.port_id, removed.port_id)
        self.assertNotFound("port", added.port_id, self.core.get_port, self.admin, added.port_id)

    def test_interface_remove_frees_the_subnet_gateway_for_a_new_interface(self) -> None:
        router, setup = self._router_and_network()
        self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.l3.remove_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        info = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.assertEqual([setup.subnet().gateway_ip], addresses_of(self.core.get_port(self.admin, info.port_id)))

    def test_interface_remove_lets_the_network_be_deleted(self) -> None:
        router, setup = self._router_and_network()
        self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.l3.remove_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.core.delete_network(self.project_a, setup.id)
        self.assertNotFound("network", setup.id, self.core.get_network, self.project_a, setup.id)

    def test_interface_remove_without_interface_on_subnet_raises_not_found(self) -> None:
        router, setup = self._router_and_network()
        self.assertRefused(
            NotFound, self.l3.remove_router_interface, self.project_a, router.id, {"subnet_id": setup.subnet().id}
        )

    def test_interface_remove_of_a_port_that_is_no_interface_raises_not_found(self) -> None:
        router, setup = self._router_and_network()
        port = make_port(self.core, self.project_a, setup.id)
        self.assertRefused(NotFound, self.l3.remove_router_interface, self.project_a, router.id, {"port_id": port.id})

    def test_interface_remove_from_missing_router_raises_not_found(self) -> None:
        setup = make_network(self.core, self.project_a)
        self.assertNotFound(
            "router",
            MISSING_ID,
            self.l3.remove_router_interface,
            self.project_a,
            MISSING_ID,
            {"subnet_id": setup.subnet().id},
        )

    def test_interface_remove_with_neither_subnet_nor_port_raises_bad_request(self) -> None:
        router = make_router(self.l3, self.project_a)
        self.assertRefused(BadRequest, self.l3.remove_router_interface, self.project_a, router.id, {})

    # What interfaces keep from being deleted

    def test_router_delete_with_interfaces_raises_in_use_naming_them(self) -> None:
        router, first = self._router_and_network()
        second = make_network(self.core, self.project_a, ["10.20.0.0/24"], name="second")
        infos = [
            self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
            for setup in (first, second)
        ]
        error = self.assertRefused(InUse, self.l3.delete_router, self.project_a, router.id)
        self.assertEqual(("router", router.id), (error.resource, error.resource_id))
        self.assertEqual({info.port_id for info in infos}, set(error.users))

    def test_router_delete_with_interfaces_deletes_nothing(self) -> None:
        router, setup = self._router_and_network()
        info = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        gateway = self.gateway_port(router)
        self.assertRaisesError(InUse, self.l3.delete_router, self.project_a, router.id)
        self.assertEqual(router, self.l3.get_router(self.project_a, router.id))
        self.assertEqual(gateway, self.core.get_port(self.admin, gateway.id))
        self.assertEqual(info.port_id, self.core.get_port(self.admin, info.port_id).id)

    def test_router_delete_after_removing_its_interfaces(self) -> None:
        router, setup = self._router_and_network()
        self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.l3.remove_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.l3.delete_router(self.project_a, router.id)
        self.assertEqual([], self.l3.get_routers(self.project_a))

    def test_interface_port_cannot_be_deleted_through_the_core_plugin(self) -> None:
        router, setup = self._router_and_network()
        info = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.assertRefused(InUse, self.core.delete_port, self.project_a, info.port_id)
        self.assertRefused(InUse, self.core.delete_port, self.admin, info.port_id)

    def test_interface_port_added_by_port_cannot_be_deleted_through_the_core_plugin(self) -> None:
        router, setup = self._router_and_network()
        port = make_port(self.core, self.project_a, setup.id)
        self.l3.add_router_interface(self.project_a, router.id, {"port_id": port.id})
        self.assertRefused(InUse, self.core.delete_port, self.project_a, port.id)

    def test_network_with_an_interface_cannot_be_deleted(self) -> None:
        router, setup = self._router_and_network()
        info = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        error = self.assertRefused(InUse, self.core.delete_network, self.project_a, setup.id)
        self.assertEqual((info.port_id,), error.users)

    def test_subnet_with_an_interface_cannot_be_deleted(self) -> None:
        router, setup = self._router_and_network()
        info = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        error = self.assertRefused(InUse, self.core.delete_subnet, self.project_a, setup.subnet().id)
        self.assertEqual((info.port_id,), error.users)
