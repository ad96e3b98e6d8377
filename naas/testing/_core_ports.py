"""Conformance tests: ports, the addresses they get, and their malformed input."""

from __future__ import annotations

import re
from typing import Any

import netaddr

from naas.capabilities import Capability
from naas.exceptions import BadRequest, IpAddressAlreadyAllocated, IpAddressExhausted, NotFound
from naas.requests import FixedIPRequest, PortCreate
from naas.resources import FixedIP, Port
from naas.testing._base import MALFORMED_ID, MISSING_ID, requires
from naas.testing._core_base import CoreSuiteBase
from naas.testing.fixtures import (
    PROJECT_A_ID,
    NetworkSetup,
    addresses_of,
    allocatable_addresses,
    make_network,
    make_port,
)

__all__ = ["PortTests"]

_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


class PortTests(CoreSuiteBase):
    def _port_network(self, *cidrs: str, **subnet_attributes: Any) -> NetworkSetup:
        """A network of project A with one subnet per CIDR (``subnet_attributes`` for each)."""
        network = self.core.create_network(self.project_a, {"name": "net"})
        subnets = tuple(
            self.core.create_subnet(self.project_a, {"network_id": network.id, "cidr": cidr, **subnet_attributes})
            for cidr in cidrs or ("10.10.0.0/24",)
        )
        return NetworkSetup(network=self.core.get_network(self.project_a, network.id), subnets=subnets)

    def _create_port(self, setup: NetworkSetup, **attributes: Any) -> Port:
        return make_port(self.core, self.project_a, setup.id, **attributes)

    def _fill_network(self, setup: NetworkSetup) -> list[Port]:
        """Create ports until the network has no free address; return them."""
        ports: list[Port] = []
        while True:
            try:
                ports.append(self._create_port(setup))
            except IpAddressExhausted:
                return ports
            if len(ports) > 300:
                self.fail("a small subnet handed out more than 300 addresses")

    # Create, read, list

    def test_port_create_fills_in_defaults(self) -> None:
        setup = self._port_network()
        port = self._create_port(setup)
        self.assertEqual((setup.id, PROJECT_A_ID, ""), (port.network_id, port.project_id, port.name))
        self.assertTrue(port.admin_state_up)
        self.assertEqual(("", ""), (port.device_id, port.device_owner))
        self.assertRegex(port.mac_address, _MAC)
        self.assertIsInstance(port.status, str)

    def test_port_create_accepts_a_typed_request(self) -> None:
        setup = self._port_network()
        port = self.core.create_port(self.project_a, PortCreate(network_id=setup.id, name="typed"))
        self.assertEqual("typed", port.name)

    def test_port_create_keeps_given_attributes(self) -> None:
        setup = self._port_network()
        port = self._create_port(
            setup,
            name="vm",
            device_id="instance-1",
            device_owner="compute:nova",
            mac_address="fa:16:3e:00:00:01",
            admin_state_up=False,
        )
        self.assertEqual(
            ("vm", "instance-1", "compute:nova", "fa:16:3e:00:00:01", False),
            (port.name, port.device_id, port.device_owner, port.mac_address, port.admin_state_up),
        )

    def test_port_create_gives_each_port_its_own_mac_address(self) -> None:
        setup = self._port_network()
        macs = {self._create_port(setup).mac_address for _ in range(10)}
        self.assertEqual(10, len(macs))

    def test_port_get_returns_what_create_returned(self) -> None:
        port = self._create_port(self._port_network())
        self.assertEqual(port, self.core.get_port(self.project_a, port.id))

    def test_port_get_missing_raises_not_found(self) -> None:
        self.assertNotFound("port", MISSING_ID, self.core.get_port, self.project_a, MISSING_ID)

    def test_port_get_malformed_id_raises_not_found_or_bad_request(self) -> None:
        self.assertRefused((NotFound, BadRequest), self.core.get_port, self.project_a, MALFORMED_ID)

    def test_port_list_returns_oldest_first(self) -> None:
        setup = self._port_network()
        ports = [self._create_port(setup, name=f"port-{index}") for index in range(4)]
        self.assertEqual([p.id for p in ports], [p.id for p in self.core.get_ports(self.project_a)])

    def test_port_list_filters_by_network_id_and_device_owner(self) -> None:
        first, second = self._port_network(), self._port_network("10.20.0.0/24")
        self._create_port(first, device_owner="compute:nova")
        self._create_port(second)
        wanted = self._create_port(second, device_owner="compute:nova")
        found = self.core.get_ports(self.project_a, {"network_id": second.id, "device_owner": "compute:nova"})
        self.assertEqual([wanted.id], [port.id for port in found])

    def test_port_list_unknown_filter_raises_bad_request(self) -> None:
        self.assertBadRequest("port", "colour", self.core.get_ports, self.project_a, {"colour": "red"})

    def test_port_create_on_missing_network_raises_not_found(self) -> None:
        self.assertNotFound("network", MISSING_ID, self.core.create_port, self.project_a, {"network_id": MISSING_ID})

    # Addresses

    def test_port_gets_one_address_inside_the_allocation_pools(self) -> None:
        setup = self._port_network()
        port = self._create_port(setup)
        self.assertEqual(1, len(port.fixed_ips))
        (fixed_ip,) = port.fixed_ips
        self.assertEqual(setup.subnet().id, fixed_ip.subnet_id)
        self.assertIn(fixed_ip.ip_address, allocatable_addresses(setup.subnet()))

    def test_port_addresses_are_unique_and_never_network_broadcast_or_gateway(self) -> None:
        setup = self._port_network("10.10.0.0/28")
        subnet = setup.subnet()
        addresses = [address for port in self._fill_network(setup) for address in addresses_of(port)]
        self.assertEqual(len(addresses), len(set(addresses)), f"duplicate addresses handed out: {addresses}")
        self.assertEqual(allocatable_addresses(subnet), netaddr.IPSet(addresses))
        for reserved in (subnet.cidr.network, subnet.cidr.broadcast, subnet.gateway_ip):
            self.assertNotIn(reserved, addresses)

    def test_port_addresses_stay_inside_explicit_allocation_pools(self) -> None:
        setup = self._port_network(allocation_pools=[{"start": "10.10.0.10", "end": "10.10.0.12"}])
        addresses = [address for port in self._fill_network(setup) for address in addresses_of(port)]
        self.assertEqual(netaddr.IPSet(netaddr.IPRange("10.10.0.10", "10.10.0.12").cidrs()), netaddr.IPSet(addresses))
        self.assertEqual(3, len(addresses))

    def test_port_on_exhausted_subnet_raises_ip_address_exhausted(self) -> None:
        setup = self._port_network("10.10.0.0/29")
        self.assertEqual(5, len(self._fill_network(setup)))
        self.assertRefused(IpAddressExhausted, self._create_port, setup)

    def test_port_delete_releases_its_address(self) -> None:
        setup = self._port_network("10.10.0.0/29")
        ports = self._fill_network(setup)
        self.core.delete_port(self.project_a, ports[2].id)
        self.assertEqual(addresses_of(ports[2]), addresses_of(self._create_port(setup)))

    def test_port_on_network_without_subnets_has_no_address(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertEqual((), make_port(self.core, self.project_a, network.id).fixed_ips)

    def test_port_with_empty_fixed_ips_has_no_address(self) -> None:
        self.assertEqual((), self._create_port(self._port_network(), fixed_ips=[]).fixed_ips)

    def test_port_on_two_ipv4_subnets_gets_one_ipv4_address(self) -> None:
        setup = self._port_network("10.10.0.0/24", "10.20.0.0/24")
        self.assertEqual(1, len(self._create_port(setup).fixed_ips))

    def test_port_on_two_ipv4_subnets_uses_the_second_when_the_first_is_full(self) -> None:
        setup = self._port_network("10.10.0.0/29", "10.20.0.0/29")
        ports = self._fill_network(setup)
        self.assertEqual(10, len(ports))
        self.assertEqual(
            {subnet.id for subnet in setup.subnets}, {fixed.subnet_id for port in ports for fixed in port.fixed_ips}
        )

    @requires(Capability.IPV6)
    def test_port_on_dual_stack_network_gets_one_ipv4_and_one_ipv6_address(self) -> None:
        setup = self._port_network("10.10.0.0/24", "fd00:10::/64")
        port = self._create_port(setup)
        self.assertEqual(1, len(addresses_of(port, 4)))
        self.assertEqual(1, len(addresses_of(port, 6)))
        self.assertIn(addresses_of(port, 4)[0], allocatable_addresses(setup.subnet(4)))
        self.assertIn(addresses_of(port, 6)[0], allocatable_addresses(setup.subnet(6)))

    @requires(Capability.IPV6)
    def test_port_with_fixed_ips_none_on_dual_stack_network_gets_one_address_per_ip_version(self) -> None:
        setup = self._port_network("10.10.0.0/24", "fd00:10::/64")
        port = self._create_port(setup, fixed_ips=None)
        self.assertEqual((1, 1), (len(addresses_of(port, 4)), len(addresses_of(port, 6))))

    def test_port_with_subnet_id_gets_an_address_from_that_subnet(self) -> None:
        setup = self._port_network("10.10.0.0/24", "10.20.0.0/24")
        second = setup.subnets[1]
        port = self._create_port(setup, fixed_ips=[{"subnet_id": second.id}])
        self.assertEqual([second.id], [fixed.subnet_id for fixed in port.fixed_ips])
        self.assertIn(port.fixed_ips[0].ip_address, allocatable_addresses(second))

    def test_port_with_a_specific_address_gets_it(self) -> None:
        setup = self._port_network()
        port = self._create_port(setup, fixed_ips=[{"subnet_id": setup.subnet().id, "ip_address": "10.10.0.77"}])
        self.assertEqual(
            (FixedIP(subnet_id=setup.subnet().id, ip_address=netaddr.IPAddress("10.10.0.77")),), port.fixed_ips
        )

    def test_port_with_only_an_address_gets_the_subnet_that_holds_it(self) -> None:
        setup = self._port_network("10.10.0.0/24", "10.20.0.0/24")
        port = self._create_port(setup, fixed_ips=[{"ip_address": "10.20.0.9"}])
        self.assertEqual([setup.subnets[1].id], [fixed.subnet_id for fixed in port.fixed_ips])

    def test_port_with_a_specific_address_outside_the_pools_but_inside_the_subnet(self) -> None:
        setup = self._port_network(allocation_pools=[{"start": "10.10.0.10", "end": "10.10.0.20"}])
        port = self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.200"}])
        self.assertEqual([netaddr.IPAddress("10.10.0.200")], addresses_of(port))

    def test_port_with_two_addresses_on_one_subnet(self) -> None:
        setup = self._port_network()
        port = self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.5"}, {"subnet_id": setup.subnet().id}])
        self.assertEqual(2, len(set(addresses_of(port))))
        self.assertIn(netaddr.IPAddress("10.10.0.5"), addresses_of(port))

    def test_port_with_an_address_that_is_taken_raises_already_allocated(self) -> None:
        setup = self._port_network()
        self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.77"}])
        error = self.assertRefused(
            IpAddressAlreadyAllocated, self._create_port, setup, fixed_ips=[{"ip_address": "10.10.0.77"}]
        )
        self.assertEqual((setup.subnet().id, "10.10.0.77"), (error.resource_id, str(error.ip_address)))

    def test_port_refused_on_a_later_address_keeps_none_of_the_earlier_ones(self) -> None:
        setup = self._port_network()
        self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.7"}])
        wanted = [{"ip_address": "10.10.0.5"}, {"subnet_id": setup.subnet().id}, {"ip_address": "10.10.0.7"}]
        self.assertRefused(IpAddressAlreadyAllocated, self._create_port, setup, fixed_ips=wanted)
        port = self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.5"}])
        self.assertEqual([netaddr.IPAddress("10.10.0.5")], addresses_of(port))

    def test_port_with_an_address_outside_its_subnet_raises_bad_request(self) -> None:
        setup = self._port_network()
        for fixed_ips in ([{"subnet_id": setup.subnet().id, "ip_address": "10.99.0.5"}], [{"ip_address": "10.99.0.5"}]):
            self.assertBadRequest(
                "port",
                "fixed_ips",
                self.core.create_port,
                self.project_a,
                {"network_id": setup.id, "fixed_ips": fixed_ips},
            )

    def test_port_with_a_subnet_of_another_network_raises_bad_request(self) -> None:
        setup, other = self._port_network(), self._port_network("10.20.0.0/24")
        self.assertBadRequest(
            "port",
            "fixed_ips",
            self.core.create_port,
            self.project_a,
            {"network_id": setup.id, "fixed_ips": [{"subnet_id": other.subnet().id}]},
        )

    def test_port_with_missing_subnet_raises_not_found(self) -> None:
        setup = self._port_network()
        self.assertNotFound(
            "subnet",
            MISSING_ID,
            self.core.create_port,
            self.project_a,
            {"network_id": setup.id, "fixed_ips": [{"subnet_id": MISSING_ID}]},
        )

    # Update

    def test_port_update_changes_name_and_device(self) -> None:
        port = self._create_port(self._port_network())
        updated = self.core.update_port(
            self.project_a, port.id, {"name": "vm", "device_id": "instance-1", "device_owner": "compute:nova"}
        )
        self.assertEqual(("vm", "instance-1", "compute:nova"), (updated.name, updated.device_id, updated.device_owner))
        self.assertEqual(port.fixed_ips, updated.fixed_ips)
        self.assertEqual(updated, self.core.get_port(self.project_a, port.id))

    def test_port_update_fixed_ips_replaces_them_keeping_addresses_listed_again(self) -> None:
        setup = self._port_network()
        port = self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.5"}, {"ip_address": "10.10.0.6"}])
        updated = self.core.update_port(
            self.project_a, port.id, {"fixed_ips": [{"ip_address": "10.10.0.6"}, {"ip_address": "10.10.0.7"}]}
        )
        self.assertEqual({netaddr.IPAddress("10.10.0.6"), netaddr.IPAddress("10.10.0.7")}, set(addresses_of(updated)))

    def test_port_update_fixed_ips_releases_dropped_addresses(self) -> None:
        setup = self._port_network()
        port = self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.5"}])
        self.core.update_port(self.project_a, port.id, {"fixed_ips": [{"ip_address": "10.10.0.6"}]})
        other = self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.5"}])
        self.assertEqual([netaddr.IPAddress("10.10.0.5")], addresses_of(other))

    def test_port_update_to_an_address_that_is_taken_raises_already_allocated(self) -> None:
        setup = self._port_network()
        self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.5"}])
        port = self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.6"}])
        self.assertRefused(
            IpAddressAlreadyAllocated,
            self.core.update_port,
            self.project_a,
            port.id,
            {"fixed_ips": [{"ip_address": "10.10.0.5"}]},
        )

    def test_port_update_refused_keeps_the_old_addresses_and_takes_no_new_one(self) -> None:
        setup = self._port_network()
        self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.7"}])
        port = self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.5"}])
        self.assertRefused(
            IpAddressAlreadyAllocated,
            self.core.update_port,
            self.project_a,
            port.id,
            {"fixed_ips": [{"ip_address": "10.10.0.6"}, {"ip_address": "10.10.0.7"}]},
        )
        self.assertEqual(port, self.core.get_port(self.project_a, port.id))
        self.assertEqual(
            [netaddr.IPAddress("10.10.0.6")],
            addresses_of(self._create_port(setup, fixed_ips=[{"ip_address": "10.10.0.6"}])),
        )
        self.assertRefused(IpAddressAlreadyAllocated, self._create_port, setup, fixed_ips=[{"ip_address": "10.10.0.5"}])

    def test_port_update_to_an_address_outside_the_subnet_raises_bad_request(self) -> None:
        setup = self._port_network()
        port = self._create_port(setup)
        self.assertBadRequest(
            "port",
            "fixed_ips",
            self.core.update_port,
            self.project_a,
            port.id,
            {"fixed_ips": [{"subnet_id": setup.subnet().id, "ip_address": "10.99.0.5"}]},
        )

    def test_port_update_missing_raises_not_found(self) -> None:
        self.assertNotFound("port", MISSING_ID, self.core.update_port, self.project_a, MISSING_ID, {"name": "x"})

    def test_port_update_rejects_unknown_attribute(self) -> None:
        port = self._create_port(self._port_network())
        self.assertBadRequest(
            "port", "network_id", self.core.update_port, self.project_a, port.id, {"network_id": MISSING_ID}
        )

    def test_port_update_rejects_name_too_long(self) -> None:
        port = self._create_port(self._port_network())
        self.assertBadRequest("port", "name", self.core.update_port, self.project_a, port.id, {"name": "n" * 256})

    # Delete

    def test_port_delete_removes_it(self) -> None:
        port = self._create_port(self._port_network())
        self.core.delete_port(self.project_a, port.id)
        self.assertNotFound("port", port.id, self.core.get_port, self.project_a, port.id)

    def test_port_delete_missing_raises_not_found(self) -> None:
        self.assertNotFound("port", MISSING_ID, self.core.delete_port, self.project_a, MISSING_ID)

    # Malformed input

    def _assert_port_rejected(self, attribute: str, **attributes: Any) -> BadRequest:
        setup = make_network(self.core, self.project_a, name="rejects")
        body = {"network_id": setup.id, **attributes}
        return self.assertBadRequest("port", attribute, self.core.create_port, self.project_a, body)

    def test_port_create_rejects_missing_network_id(self) -> None:
        self.assertBadRequest("port", "network_id", self.core.create_port, self.project_a, {"name": "x"})

    def test_port_create_rejects_malformed_network_id(self) -> None:
        self.assertBadRequest("port", "network_id", self.core.create_port, self.project_a, {"network_id": MALFORMED_ID})

    def test_port_create_rejects_malformed_mac_address(self) -> None:
        for value in ("zz:16:3e:00:00:01", "fa:16:3e:00:00", "fa163e000001", 42):
            self._assert_port_rejected("mac_address", mac_address=value)

    def test_port_create_rejects_fixed_ips_that_are_not_a_list(self) -> None:
        for value in ("10.10.0.5", {"ip_address": "10.10.0.5"}, 5):
            self._assert_port_rejected("fixed_ips", fixed_ips=value)

    def test_port_create_rejects_fixed_ip_entry_without_subnet_or_address(self) -> None:
        self._assert_port_rejected("fixed_ips", fixed_ips=[{}])

    def test_port_create_rejects_fixed_ip_entry_with_malformed_address(self) -> None:
        setup = make_network(self.core, self.project_a, name="rejects")
        for value in ("10.10.0", "address", 7):
            self.assertNestedBadRequest(
                "port",
                "fixed_ips",
                self.core.create_port,
                self.project_a,
                {"network_id": setup.id, "fixed_ips": [{"ip_address": value}]},
            )

    def test_port_create_rejects_fixed_ip_entry_with_malformed_subnet_id(self) -> None:
        setup = make_network(self.core, self.project_a, name="rejects")
        self.assertNestedBadRequest(
            "port",
            "fixed_ips",
            self.core.create_port,
            self.project_a,
            {"network_id": setup.id, "fixed_ips": [{"subnet_id": MALFORMED_ID}]},
        )

    def test_port_create_rejects_fixed_ip_entry_with_unknown_attribute(self) -> None:
        setup = make_network(self.core, self.project_a, name="rejects")
        self.assertNestedBadRequest(
            "port",
            "fixed_ips",
            self.core.create_port,
            self.project_a,
            {"network_id": setup.id, "fixed_ips": [{"ip_address": "10.10.0.5", "mask": "255.255.255.0"}]},
        )

    def test_port_create_accepts_typed_fixed_ip_requests(self) -> None:
        setup = self._port_network()
        port = self.core.create_port(
            self.project_a,
            PortCreate(network_id=setup.id, fixed_ips=(FixedIPRequest(ip_address=netaddr.IPAddress("10.10.0.9")),)),
        )
        self.assertEqual([netaddr.IPAddress("10.10.0.9")], addresses_of(port))

    def test_port_create_rejects_name_too_long(self) -> None:
        self._assert_port_rejected("name", name="n" * 256)

    def test_port_create_rejects_device_owner_too_long(self) -> None:
        self._assert_port_rejected("device_owner", device_owner="o" * 256)

    def test_port_create_rejects_admin_state_up_that_is_not_a_boolean(self) -> None:
        self._assert_port_rejected("admin_state_up", admin_state_up="up")

    def test_port_create_rejects_unknown_attribute(self) -> None:
        self._assert_port_rejected("security_groups", security_groups=[])
