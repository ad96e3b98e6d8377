"""Conformance tests: floating IPs, their association with ports, and what they keep in use."""

from __future__ import annotations

from typing import Any

import netaddr

from naas.capabilities import Capability
from naas.exceptions import BadRequest, Conflict, InUse, IpAddressAlreadyAllocated, IpAddressExhausted, NotFound
from naas.requests import FloatingIPCreate
from naas.resources import DEVICE_OWNER_FLOATINGIP, FloatingIP, Port
from naas.testing._base import MALFORMED_ID, MISSING_ID, requires
from naas.testing._l3_base import L3SuiteBase
from naas.testing.fixtures import (
    PROJECT_A_ID,
    RoutedNetwork,
    addresses_of,
    allocatable_addresses,
    make_external_network,
    make_network,
    make_port,
    make_routed_network,
)

__all__ = ["FloatingIPTests"]


class FloatingIPTests(L3SuiteBase):
    def _routed(self) -> tuple[RoutedNetwork, Port]:
        """Project A's network, routed to ``public``, with one instance port on it."""
        routed = make_routed_network(self.core, self.l3, self.project_a, self.public.id)
        return routed, make_port(self.core, self.project_a, routed.network.id, device_owner="compute:nova")

    def _fip(self, **attributes: Any) -> FloatingIP:
        """A floating IP of project A; one with a specific address is an admin's to create (Neutron's policy)."""
        body = {"floating_network_id": self.public.id, **attributes}
        if "floating_ip_address" in attributes:
            return self.l3.create_floatingip(self.admin, {**body, "project_id": self.project_a.project_id})
        return self.l3.create_floatingip(self.project_a, body)

    def _fip_ports(self) -> list[Port]:
        return self.core.get_ports(self.admin, {"network_id": self.public.id, "device_owner": DEVICE_OWNER_FLOATINGIP})

    # Create, read, list

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_takes_an_address_on_the_external_network(self) -> None:
        fip = self._fip()
        self.assertEqual((self.public.id, PROJECT_A_ID), (fip.floating_network_id, fip.project_id))
        self.assertIn(fip.floating_ip_address, allocatable_addresses(self.public.subnet()))
        self.assertEqual((None, None, None), (fip.port_id, fip.fixed_ip_address, fip.router_id))
        self.assertIsInstance(fip.status, str)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_holds_its_address_with_a_floatingip_port(self) -> None:
        fip = self._fip()
        (port,) = self._fip_ports()
        self.assertEqual([fip.floating_ip_address], addresses_of(port))

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_accepts_a_typed_request(self) -> None:
        fip = self.l3.create_floatingip(self.project_a, FloatingIPCreate(floating_network_id=self.public.id))
        self.assertEqual(self.public.id, fip.floating_network_id)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_with_a_specific_address(self) -> None:
        fip = self._fip(floating_ip_address="203.0.113.99")
        self.assertEqual(netaddr.IPAddress("203.0.113.99"), fip.floating_ip_address)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_with_an_address_that_is_taken_raises_already_allocated(self) -> None:
        self._fip(floating_ip_address="203.0.113.99")
        self.assertRefused(IpAddressAlreadyAllocated, self._fip, floating_ip_address="203.0.113.99")

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_with_an_address_outside_the_network_raises_bad_request(self) -> None:
        self.assertBadRequest("floatingip", "floating_ip_address", self._fip, floating_ip_address="10.99.0.1")

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_gives_distinct_addresses(self) -> None:
        addresses = {self._fip().floating_ip_address for _ in range(5)}
        self.assertEqual(5, len(addresses))

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_associated_with_a_port(self) -> None:
        routed, port = self._routed()
        fip = self._fip(port_id=port.id)
        self.assertEqual(
            (port.id, addresses_of(port, 4)[0], routed.router.id), (fip.port_id, fip.fixed_ip_address, fip.router_id)
        )

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_for_a_port_without_a_connecting_router_raises_not_found(self) -> None:
        unrouted = make_network(self.core, self.project_a, ["10.30.0.0/24"], name="unrouted")
        port = make_port(self.core, self.project_a, unrouted.id)
        self.assertRefused(NotFound, self._fip, port_id=port.id)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_for_a_port_routed_to_another_external_network_raises_not_found(self) -> None:
        other = make_external_network(self.core, self.admin, ["198.51.100.0/24"], name="other", is_default=False)
        _, port = self._routed()
        self.assertRefused(
            NotFound, self.l3.create_floatingip, self.project_a, {"floating_network_id": other.id, "port_id": port.id}
        )

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_for_missing_port_raises_not_found(self) -> None:
        self.assertNotFound("port", MISSING_ID, self._fip, port_id=MISSING_ID)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_on_internal_network_raises_bad_request(self) -> None:
        internal = make_network(self.core, self.project_a)
        self.assertBadRequest(
            "floatingip",
            "floating_network_id",
            self.l3.create_floatingip,
            self.project_a,
            {"floating_network_id": internal.id},
        )

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_on_missing_network_raises_not_found(self) -> None:
        self.assertNotFound(
            "network", MISSING_ID, self.l3.create_floatingip, self.project_a, {"floating_network_id": MISSING_ID}
        )

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_on_exhausted_network_raises_ip_address_exhausted(self) -> None:
        small = make_external_network(self.core, self.admin, ["198.51.100.0/29"], name="small", is_default=False)
        for _ in range(5):
            self.l3.create_floatingip(self.project_a, {"floating_network_id": small.id})
        self.assertRefused(
            IpAddressExhausted, self.l3.create_floatingip, self.project_a, {"floating_network_id": small.id}
        )

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_get_returns_what_create_returned(self) -> None:
        fip = self._fip()
        self.assertEqual(fip, self.l3.get_floatingip(self.project_a, fip.id))

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_get_missing_raises_not_found(self) -> None:
        self.assertNotFound("floatingip", MISSING_ID, self.l3.get_floatingip, self.project_a, MISSING_ID)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_get_malformed_id_raises_not_found_or_bad_request(self) -> None:
        self.assertRefused((NotFound, BadRequest), self.l3.get_floatingip, self.project_a, MALFORMED_ID)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_list_returns_oldest_first(self) -> None:
        fips = [self._fip() for _ in range(4)]
        self.assertEqual([f.id for f in fips], [f.id for f in self.l3.get_floatingips(self.project_a)])

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_list_filters_by_port_id(self) -> None:
        _, port = self._routed()
        self._fip()
        associated = self._fip(port_id=port.id)
        found = self.l3.get_floatingips(self.project_a, {"port_id": port.id})
        self.assertEqual([associated.id], [fip.id for fip in found])

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_list_unknown_filter_raises_bad_request(self) -> None:
        self.assertBadRequest("floatingip", "colour", self.l3.get_floatingips, self.project_a, {"colour": "red"})

    # Association

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_associate_maps_it_to_the_ports_ipv4_address(self) -> None:
        routed, port = self._routed()
        fip = self._fip()
        associated = self.l3.associate_floatingip(self.project_a, fip.id, port.id)
        self.assertEqual(
            (port.id, addresses_of(port, 4)[0], routed.router.id),
            (associated.port_id, associated.fixed_ip_address, associated.router_id),
        )
        self.assertEqual(fip.floating_ip_address, associated.floating_ip_address)
        self.assertEqual(associated, self.l3.get_floatingip(self.project_a, fip.id))

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_associate_with_a_chosen_fixed_address(self) -> None:
        routed = make_routed_network(self.core, self.l3, self.project_a, self.public.id)
        subnet_id = routed.network.subnet().id
        port = make_port(
            self.core,
            self.project_a,
            routed.network.id,
            fixed_ips=[
                {"subnet_id": subnet_id, "ip_address": "10.20.0.10"},
                {"subnet_id": subnet_id, "ip_address": "10.20.0.11"},
            ],
        )
        associated = self.l3.associate_floatingip(self.project_a, self._fip().id, port.id, "10.20.0.11")
        self.assertEqual(netaddr.IPAddress("10.20.0.11"), associated.fixed_ip_address)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_associate_with_an_address_the_port_lacks_raises_bad_request(self) -> None:
        _, port = self._routed()
        fip = self._fip()
        self.assertBadRequest(
            "floatingip",
            "fixed_ip_address",
            self.l3.associate_floatingip,
            self.project_a,
            fip.id,
            port.id,
            "10.20.0.250",
        )

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_associate_without_a_connecting_router_raises_not_found(self) -> None:
        unrouted = make_network(self.core, self.project_a, ["10.30.0.0/24"], name="unrouted")
        port = make_port(self.core, self.project_a, unrouted.id)
        fip = self._fip()
        self.assertRefused(NotFound, self.l3.associate_floatingip, self.project_a, fip.id, port.id)
        self.assertIsNone(self.l3.get_floatingip(self.project_a, fip.id).port_id)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_associate_to_an_address_that_already_has_one_raises_conflict(self) -> None:
        _, port = self._routed()
        self._fip(port_id=port.id)
        fip = self._fip()
        self.assertRefused(Conflict, self.l3.associate_floatingip, self.project_a, fip.id, port.id)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_associate_missing_raises_not_found(self) -> None:
        _, port = self._routed()
        self.assertNotFound("floatingip", MISSING_ID, self.l3.associate_floatingip, self.project_a, MISSING_ID, port.id)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_associate_to_missing_port_raises_not_found(self) -> None:
        fip = self._fip()
        self.assertNotFound("port", MISSING_ID, self.l3.associate_floatingip, self.project_a, fip.id, MISSING_ID)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_disassociate_unmaps_it(self) -> None:
        _, port = self._routed()
        fip = self._fip(port_id=port.id)
        unmapped = self.l3.disassociate_floatingip(self.project_a, fip.id)
        self.assertEqual((None, None, None), (unmapped.port_id, unmapped.fixed_ip_address, unmapped.router_id))
        self.assertEqual(fip.floating_ip_address, unmapped.floating_ip_address)
        self.assertEqual(unmapped, self.l3.get_floatingip(self.project_a, fip.id))

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_disassociate_is_idempotent(self) -> None:
        fip = self._fip()
        self.assertEqual(fip, self.l3.disassociate_floatingip(self.project_a, fip.id))
        self.assertEqual(fip, self.l3.disassociate_floatingip(self.project_a, fip.id))

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_disassociate_missing_raises_not_found(self) -> None:
        self.assertNotFound("floatingip", MISSING_ID, self.l3.disassociate_floatingip, self.project_a, MISSING_ID)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_reassociate_after_disassociate(self) -> None:
        routed, port = self._routed()
        fip = self._fip(port_id=port.id)
        self.l3.disassociate_floatingip(self.project_a, fip.id)
        other = make_port(self.core, self.project_a, routed.network.id)
        self.assertEqual(other.id, self.l3.associate_floatingip(self.project_a, fip.id, other.id).port_id)

    # Delete

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_delete_removes_it_and_its_port(self) -> None:
        fip = self._fip()
        self.l3.delete_floatingip(self.project_a, fip.id)
        self.assertNotFound("floatingip", fip.id, self.l3.get_floatingip, self.project_a, fip.id)
        self.assertEqual([], self._fip_ports())

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_delete_releases_its_address(self) -> None:
        fip = self._fip(floating_ip_address="203.0.113.99")
        self.l3.delete_floatingip(self.project_a, fip.id)
        self.assertEqual(fip.floating_ip_address, self._fip(floating_ip_address="203.0.113.99").floating_ip_address)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_delete_of_an_associated_one(self) -> None:
        _, port = self._routed()
        fip = self._fip(port_id=port.id)
        self.l3.delete_floatingip(self.project_a, fip.id)
        self.assertEqual([], self.l3.get_floatingips(self.project_a))
        self.assertEqual(port, self.core.get_port(self.project_a, port.id))

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_delete_missing_raises_not_found(self) -> None:
        self.assertNotFound("floatingip", MISSING_ID, self.l3.delete_floatingip, self.project_a, MISSING_ID)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_port_cannot_be_deleted_through_the_core_plugin(self) -> None:
        self._fip()
        (port,) = self._fip_ports()
        self.assertRefused(InUse, self.core.delete_port, self.admin, port.id)

    # What floating IPs keep in use

    @requires(Capability.FLOATINGIPS)
    def test_router_gateway_removal_while_a_floatingip_uses_it_raises_in_use(self) -> None:
        routed, port = self._routed()
        self._fip(port_id=port.id)
        self.assertRefused(
            InUse, self.l3.update_router, self.project_a, routed.router.id, {"external_gateway_info": None}
        )

    @requires(Capability.FLOATINGIPS)
    def test_interface_removal_while_a_floatingip_reaches_through_it_raises_in_use(self) -> None:
        routed, port = self._routed()
        self._fip(port_id=port.id)
        self.assertRefused(
            InUse,
            self.l3.remove_router_interface,
            self.project_a,
            routed.router.id,
            {"subnet_id": routed.network.subnet().id},
        )

    @requires(Capability.FLOATINGIPS)
    def test_interface_removal_after_disassociating(self) -> None:
        routed, port = self._routed()
        fip = self._fip(port_id=port.id)
        self.l3.disassociate_floatingip(self.project_a, fip.id)
        self.l3.remove_router_interface(self.project_a, routed.router.id, {"subnet_id": routed.network.subnet().id})
        self.assertEqual([], self.core.get_ports(self.admin, {"device_owner": "network:router_interface"}))

    # Malformed input

    def _assert_fip_rejected(self, attribute: str, **attributes: Any) -> BadRequest:
        body = {"floating_network_id": self.public.id, **attributes}
        return self.assertBadRequest("floatingip", attribute, self.l3.create_floatingip, self.project_a, body)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_rejects_missing_floating_network_id(self) -> None:
        self.assertBadRequest("floatingip", "floating_network_id", self.l3.create_floatingip, self.project_a, {})

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_rejects_malformed_floating_network_id(self) -> None:
        self._assert_fip_rejected("floating_network_id", floating_network_id=MALFORMED_ID)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_rejects_malformed_floating_ip_address(self) -> None:
        for value in ("203.0.113", "address", 5):
            self._assert_fip_rejected("floating_ip_address", floating_ip_address=value)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_rejects_malformed_port_id(self) -> None:
        self._assert_fip_rejected("port_id", port_id=MALFORMED_ID)

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_rejects_fixed_ip_address_without_port(self) -> None:
        self._assert_fip_rejected("fixed_ip_address", fixed_ip_address="10.20.0.5")

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_rejects_unknown_attribute(self) -> None:
        self._assert_fip_rejected("dns_name", dns_name="www")
