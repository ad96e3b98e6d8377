"""Conformance tests: subnets with explicit CIDRs, their gateways and allocation pools, and malformed input."""

from __future__ import annotations

from typing import Any

import netaddr

from naas.capabilities import Capability
from naas.exceptions import BadRequest, InUse, NotFound
from naas.requests import SubnetCreate
from naas.resources import Subnet
from naas.testing._base import MALFORMED_ID, MISSING_ID, requires
from naas.testing._core_base import CoreSuiteBase
from naas.testing.fixtures import PROJECT_A_ID, addresses_of, make_network, make_port

__all__ = ["SubnetTests"]


def _pool_set(ranges: tuple[netaddr.IPRange, ...]) -> netaddr.IPSet:
    addresses = netaddr.IPSet()
    for address_range in ranges:
        addresses.update(netaddr.IPSet(address_range.cidrs()))
    return addresses


def _range_set(first: str, last: str) -> netaddr.IPSet:
    return netaddr.IPSet(netaddr.IPRange(first, last).cidrs())


class SubnetTests(CoreSuiteBase):
    def _subnet_network_id(self) -> str:
        return self.core.create_network(self.project_a, {"name": "net"}).id

    def _create_subnet(self, **attributes: Any) -> Subnet:
        return self.core.create_subnet(self.project_a, {"network_id": self._subnet_network_id(), **attributes})

    # Create

    def test_subnet_create_with_cidr(self) -> None:
        network_id = self._subnet_network_id()
        subnet = self.core.create_subnet(
            self.project_a, {"network_id": network_id, "cidr": "10.10.0.0/24", "name": "sub"}
        )
        self.assertEqual(netaddr.IPNetwork("10.10.0.0/24"), subnet.cidr)
        self.assertEqual(
            (4, network_id, "sub", PROJECT_A_ID), (subnet.ip_version, subnet.network_id, subnet.name, subnet.project_id)
        )
        self.assertIsNone(subnet.subnetpool_id)
        self.assertTrue(subnet.enable_dhcp)

    def test_subnet_create_accepts_a_typed_request(self) -> None:
        network_id = self._subnet_network_id()
        subnet = self.core.create_subnet(
            self.project_a, SubnetCreate(network_id=network_id, cidr=netaddr.IPNetwork("10.10.0.0/24"))
        )
        self.assertEqual(netaddr.IPNetwork("10.10.0.0/24"), subnet.cidr)

    def test_subnet_gateway_defaults_to_the_first_address(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        self.assertEqual(netaddr.IPAddress("10.10.0.1"), subnet.gateway_ip)

    def test_subnet_allocation_pools_default_to_the_cidr_without_network_broadcast_and_gateway(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        self.assertEqual(_range_set("10.10.0.2", "10.10.0.254"), _pool_set(subnet.allocation_pools))

    def test_subnet_allocation_pools_exclude_an_explicit_gateway(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24", gateway_ip="10.10.0.254")
        self.assertEqual(netaddr.IPAddress("10.10.0.254"), subnet.gateway_ip)
        self.assertEqual(_range_set("10.10.0.1", "10.10.0.253"), _pool_set(subnet.allocation_pools))

    def test_subnet_allocation_pools_exclude_a_gateway_in_the_middle(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24", gateway_ip="10.10.0.100")
        expected = _range_set("10.10.0.1", "10.10.0.254")
        expected.remove("10.10.0.100")
        self.assertEqual(expected, _pool_set(subnet.allocation_pools))

    def test_subnet_without_gateway(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24", gateway_ip=None)
        self.assertIsNone(subnet.gateway_ip)
        self.assertEqual(_range_set("10.10.0.1", "10.10.0.254"), _pool_set(subnet.allocation_pools))

    def test_subnet_keeps_explicit_allocation_pools(self) -> None:
        pools = [{"start": "10.10.0.10", "end": "10.10.0.20"}, {"start": "10.10.0.100", "end": "10.10.0.110"}]
        subnet = self._create_subnet(cidr="10.10.0.0/24", allocation_pools=pools)
        expected = _range_set("10.10.0.10", "10.10.0.20") | _range_set("10.10.0.100", "10.10.0.110")
        self.assertEqual(expected, _pool_set(subnet.allocation_pools))

    @requires(Capability.IPV6)
    def test_subnet_create_ipv6_with_cidr(self) -> None:
        subnet = self._create_subnet(cidr="fd00:1::/64")
        self.assertEqual((6, netaddr.IPNetwork("fd00:1::/64")), (subnet.ip_version, subnet.cidr))
        self.assertEqual(netaddr.IPAddress("fd00:1::1"), subnet.gateway_ip)
        pools = _pool_set(subnet.allocation_pools)
        self.assertNotIn(netaddr.IPAddress("fd00:1::"), pools)
        self.assertNotIn(netaddr.IPAddress("fd00:1::1"), pools)
        self.assertIn(netaddr.IPAddress("fd00:1::2"), pools)

    def test_subnet_create_is_listed_on_its_network(self) -> None:
        network_id = self._subnet_network_id()
        subnet = self.core.create_subnet(self.project_a, {"network_id": network_id, "cidr": "10.10.0.0/24"})
        self.assertEqual((subnet.id,), self.core.get_network(self.project_a, network_id).subnets)

    def test_subnet_create_same_cidr_on_two_networks(self) -> None:
        first = self._create_subnet(cidr="10.10.0.0/24")
        second = self._create_subnet(cidr="10.10.0.0/24")
        self.assertEqual(first.cidr, second.cidr)
        self.assertNotEqual(first.network_id, second.network_id)

    def test_subnet_create_overlapping_cidr_on_one_network_raises_bad_request(self) -> None:
        network_id = self._subnet_network_id()
        self.core.create_subnet(self.project_a, {"network_id": network_id, "cidr": "10.10.0.0/24"})
        for cidr in ("10.10.0.0/24", "10.10.0.128/25", "10.10.0.0/16"):
            self.assertBadRequest(
                "subnet", "cidr", self.core.create_subnet, self.project_a, {"network_id": network_id, "cidr": cidr}
            )

    def test_subnet_create_adjacent_cidr_on_one_network(self) -> None:
        network_id = self._subnet_network_id()
        self.core.create_subnet(self.project_a, {"network_id": network_id, "cidr": "10.10.0.0/24"})
        adjacent = self.core.create_subnet(self.project_a, {"network_id": network_id, "cidr": "10.10.1.0/24"})
        self.assertEqual(netaddr.IPNetwork("10.10.1.0/24"), adjacent.cidr)

    def test_subnet_create_on_missing_network_raises_not_found(self) -> None:
        self.assertNotFound(
            "network",
            MISSING_ID,
            self.core.create_subnet,
            self.project_a,
            {"network_id": MISSING_ID, "cidr": "10.10.0.0/24"},
        )

    # Read, list

    def test_subnet_get_returns_what_create_returned(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        self.assertEqual(subnet, self.core.get_subnet(self.project_a, subnet.id))

    def test_subnet_get_missing_raises_not_found(self) -> None:
        self.assertNotFound("subnet", MISSING_ID, self.core.get_subnet, self.project_a, MISSING_ID)

    def test_subnet_get_malformed_id_raises_not_found_or_bad_request(self) -> None:
        self.assertRefused((NotFound, BadRequest), self.core.get_subnet, self.project_a, MALFORMED_ID)

    def test_subnet_list_returns_oldest_first(self) -> None:
        setup = make_network(self.core, self.project_a, ["10.10.2.0/24", "10.10.0.0/24", "10.10.1.0/24"])
        self.assertEqual([s.id for s in setup.subnets], [s.id for s in self.core.get_subnets(self.project_a)])

    def test_subnet_list_filters_by_network_id(self) -> None:
        make_network(self.core, self.project_a, ["10.10.0.0/24"])
        wanted = make_network(self.core, self.project_a, ["10.20.0.0/24"])
        found = self.core.get_subnets(self.project_a, {"network_id": wanted.id})
        self.assertEqual([wanted.subnets[0].id], [subnet.id for subnet in found])

    @requires(Capability.IPV6)
    def test_subnet_list_filters_by_ip_version(self) -> None:
        setup = make_network(self.core, self.project_a, ["10.10.0.0/24", "fd00:1::/64"])
        found = self.core.get_subnets(self.project_a, {"ip_version": 6})
        self.assertEqual([setup.subnet(6).id], [subnet.id for subnet in found])

    def test_subnet_list_unknown_filter_raises_bad_request(self) -> None:
        self.assertBadRequest("subnet", "colour", self.core.get_subnets, self.project_a, {"colour": "red"})

    # Update

    def test_subnet_update_changes_name(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        updated = self.core.update_subnet(self.project_a, subnet.id, {"name": "renamed"})
        self.assertEqual("renamed", updated.name)
        self.assertEqual(updated, self.core.get_subnet(self.project_a, subnet.id))

    def test_subnet_update_changes_gateway(self) -> None:
        subnet = self._create_subnet(
            cidr="10.10.0.0/24", allocation_pools=[{"start": "10.10.0.10", "end": "10.10.0.20"}]
        )
        updated = self.core.update_subnet(self.project_a, subnet.id, {"gateway_ip": "10.10.0.254"})
        self.assertEqual(netaddr.IPAddress("10.10.0.254"), updated.gateway_ip)

    def test_subnet_update_changes_allocation_pools(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        updated = self.core.update_subnet(
            self.project_a, subnet.id, {"allocation_pools": [{"start": "10.10.0.50", "end": "10.10.0.60"}]}
        )
        self.assertEqual(_range_set("10.10.0.50", "10.10.0.60"), _pool_set(updated.allocation_pools))

    def test_subnet_update_changes_enable_dhcp(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        self.assertFalse(self.core.update_subnet(self.project_a, subnet.id, {"enable_dhcp": False}).enable_dhcp)

    def test_subnet_update_missing_raises_not_found(self) -> None:
        self.assertNotFound("subnet", MISSING_ID, self.core.update_subnet, self.project_a, MISSING_ID, {"name": "x"})

    def test_subnet_update_gateway_outside_cidr_raises_bad_request(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        self.assertBadRequest(
            "subnet", "gateway_ip", self.core.update_subnet, self.project_a, subnet.id, {"gateway_ip": "10.99.0.1"}
        )

    def test_subnet_update_allocation_pool_outside_cidr_raises_bad_request(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        pools = [{"start": "10.10.0.10", "end": "10.10.1.10"}]
        self.assertBadRequest(
            "subnet",
            "allocation_pools",
            self.core.update_subnet,
            self.project_a,
            subnet.id,
            {"allocation_pools": pools},
        )

    def test_subnet_update_allocation_pools_excluding_an_address_in_use_raises_bad_request(self) -> None:
        setup = make_network(self.core, self.project_a, ["10.10.0.0/24"])
        port = make_port(self.core, self.project_a, setup.id)
        (address,) = addresses_of(port)
        elsewhere = "10.10.0.200" if address < netaddr.IPAddress("10.10.0.200") else "10.10.0.2"
        self.assertBadRequest(
            "subnet",
            "allocation_pools",
            self.core.update_subnet,
            self.project_a,
            setup.subnet().id,
            {"allocation_pools": [{"start": elsewhere, "end": elsewhere}]},
        )

    def test_subnet_update_rejects_unknown_attribute(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        self.assertBadRequest(
            "subnet", "cidr", self.core.update_subnet, self.project_a, subnet.id, {"cidr": "10.20.0.0/24"}
        )

    def test_subnet_update_rejects_name_too_long(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        self.assertBadRequest("subnet", "name", self.core.update_subnet, self.project_a, subnet.id, {"name": "n" * 256})

    def test_subnet_update_rejects_malformed_gateway(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        self.assertBadRequest(
            "subnet", "gateway_ip", self.core.update_subnet, self.project_a, subnet.id, {"gateway_ip": "10.10.0"}
        )

    # Delete

    def test_subnet_delete_removes_it(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        self.core.delete_subnet(self.project_a, subnet.id)
        self.assertNotFound("subnet", subnet.id, self.core.get_subnet, self.project_a, subnet.id)
        self.assertEqual((), self.core.get_network(self.project_a, subnet.network_id).subnets)

    def test_subnet_delete_frees_its_cidr_on_the_network(self) -> None:
        subnet = self._create_subnet(cidr="10.10.0.0/24")
        self.core.delete_subnet(self.project_a, subnet.id)
        again = self.core.create_subnet(self.project_a, {"network_id": subnet.network_id, "cidr": "10.10.0.0/24"})
        self.assertEqual(subnet.cidr, again.cidr)

    def test_subnet_delete_with_ports_raises_in_use_naming_them(self) -> None:
        setup = make_network(self.core, self.project_a, ["10.10.0.0/24"])
        port = make_port(self.core, self.project_a, setup.id)
        error = self.assertRefused(InUse, self.core.delete_subnet, self.project_a, setup.subnet().id)
        self.assertEqual(("subnet", setup.subnet().id), (error.resource, error.resource_id))
        self.assertEqual((port.id,), error.users)
        self.assertEqual(port, self.core.get_port(self.project_a, port.id))

    def test_subnet_delete_missing_raises_not_found(self) -> None:
        self.assertNotFound("subnet", MISSING_ID, self.core.delete_subnet, self.project_a, MISSING_ID)

    # Malformed input

    def _assert_subnet_rejected(self, attribute: str, **attributes: Any) -> BadRequest:
        body = {"network_id": self._subnet_network_id(), **attributes}
        return self.assertBadRequest("subnet", attribute, self.core.create_subnet, self.project_a, body)

    def test_subnet_create_rejects_cidr_that_is_not_a_cidr(self) -> None:
        for value in ("10.10.0.0", "banana/24", "10.10.0.0/abc", "", 42, ["10.10.0.0/24"]):
            self._assert_subnet_rejected("cidr", cidr=value)

    def test_subnet_create_rejects_cidr_with_host_bits(self) -> None:
        self._assert_subnet_rejected("cidr", cidr="10.10.0.1/24")

    def test_subnet_create_rejects_cidr_prefix_length_out_of_range(self) -> None:
        for value in ("10.10.0.0/33", "10.10.0.0/-1", "fd00::/129"):
            self._assert_subnet_rejected("cidr", cidr=value)

    def test_subnet_create_rejects_missing_cidr_without_a_pool(self) -> None:
        self._assert_subnet_rejected("cidr")

    def test_subnet_create_rejects_missing_network_id(self) -> None:
        self.assertBadRequest("subnet", "network_id", self.core.create_subnet, self.project_a, {"cidr": "10.0.0.0/24"})

    def test_subnet_create_rejects_malformed_network_id(self) -> None:
        self.assertBadRequest(
            "subnet",
            "network_id",
            self.core.create_subnet,
            self.project_a,
            {"network_id": MALFORMED_ID, "cidr": "10.10.0.0/24"},
        )

    def test_subnet_create_rejects_ip_version_other_than_4_or_6(self) -> None:
        for value in (5, "four", 0, True):
            self._assert_subnet_rejected("ip_version", cidr="10.10.0.0/24", ip_version=value)

    def test_subnet_create_rejects_ip_version_that_contradicts_the_cidr(self) -> None:
        self._assert_subnet_rejected("ip_version", cidr="10.10.0.0/24", ip_version=6)

    def test_subnet_create_rejects_malformed_gateway(self) -> None:
        for value in ("10.10.0", "gateway", 17):
            self._assert_subnet_rejected("gateway_ip", cidr="10.10.0.0/24", gateway_ip=value)

    def test_subnet_create_rejects_gateway_outside_cidr(self) -> None:
        self._assert_subnet_rejected("gateway_ip", cidr="10.10.0.0/24", gateway_ip="10.10.1.1")

    def test_subnet_create_rejects_gateway_of_the_other_ip_version(self) -> None:
        self._assert_subnet_rejected("gateway_ip", cidr="10.10.0.0/24", gateway_ip="fd00::1")

    def test_subnet_create_rejects_malformed_allocation_pools(self) -> None:
        for value in ("10.10.0.2-10.10.0.9", [{"start": "10.10.0.2"}], [{"start": "10.10.0.2", "end": "x"}]):
            self._assert_subnet_rejected("allocation_pools", cidr="10.10.0.0/24", allocation_pools=value)

    def test_subnet_create_rejects_allocation_pool_that_runs_backwards(self) -> None:
        pools = [{"start": "10.10.0.9", "end": "10.10.0.2"}]
        self._assert_subnet_rejected("allocation_pools", cidr="10.10.0.0/24", allocation_pools=pools)

    def test_subnet_create_rejects_allocation_pool_outside_cidr(self) -> None:
        pools = [{"start": "10.10.0.200", "end": "10.10.1.20"}]
        self._assert_subnet_rejected("allocation_pools", cidr="10.10.0.0/24", allocation_pools=pools)

    def test_subnet_create_rejects_allocation_pool_of_the_other_ip_version(self) -> None:
        pools = [{"start": "fd00::2", "end": "fd00::9"}]
        self._assert_subnet_rejected("allocation_pools", cidr="10.10.0.0/24", allocation_pools=pools)

    def test_subnet_create_rejects_prefixlen_with_cidr(self) -> None:
        self._assert_subnet_rejected("prefixlen", cidr="10.10.0.0/24", prefixlen=24)

    def test_subnet_create_rejects_name_too_long(self) -> None:
        self._assert_subnet_rejected("name", cidr="10.10.0.0/24", name="n" * 256)

    def test_subnet_create_rejects_enable_dhcp_that_is_not_a_boolean(self) -> None:
        self._assert_subnet_rejected("enable_dhcp", cidr="10.10.0.0/24", enable_dhcp="sometimes")

    def test_subnet_create_rejects_unknown_attribute(self) -> None:
        self._assert_subnet_rejected("dns_nameservers", cidr="10.10.0.0/24", dns_nameservers=["192.0.2.53"])
