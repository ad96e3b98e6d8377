"""Conformance tests: hostile input, as a multi-tenant API would pass it on, is refused before any storage sees it.

Each case is one of the 2026-12-01 adversarial findings that crashed a database driver (a 500 behind a REST
API) or was accepted: text no database or terminal takes, numbers JSON can spell but no column holds, values
of the wrong Python type, lists past their bound, addresses and prefixes Neutron refuses, and device owners
only naas may give. Every case is a BadRequest (or NotAuthorized) naming the attribute, and stores nothing.
"""

from __future__ import annotations

import json
from typing import Any

from naas.exceptions import NotAuthorized
from naas.requests import FIXED_IPS_LIST_LIMIT, MAX_ALLOCATION_POOLS, MAX_FIXED_IPS_PER_PORT, MAX_SUBNETPOOL_PREFIXES
from naas.resources import DEVICE_OWNER_FLOATINGIP, DEVICE_OWNER_ROUTER_GATEWAY, DEVICE_OWNER_ROUTER_INTERFACE
from naas.testing._base import MISSING_ID
from naas.testing._core_base import CoreSuiteBase
from naas.testing.fixtures import NetworkSetup, make_network, make_port

__all__ = ["UNSAFE_TEXTS", "WRONG_TYPE_IDS", "HostileInputTests"]

UNSAFE_TEXTS = {
    "NUL": "a\x00b",
    "lone surrogate": "\ud800",
    "terminal escape": "\x1b[2J\x1b[31mowned",
    "newline": "a\r\nb",
    "bidi override": "abc\u202edcb",
}
"""Texts valid in JSON that no name, id or filter value may hold (findings 10 and 21)."""

WRONG_TYPE_IDS: tuple[Any, ...] = ([MISSING_ID], 12, {"id": MISSING_ID}, None, b"x")
"""Ids of the wrong Python type (finding 19): a BadRequest on ``id``, never a driver's error."""

NON_FINITE = {"1e400": json.loads("1e400"), "Infinity": json.loads("Infinity"), "NaN": json.loads("NaN")}
"""Numbers ``json.loads`` turns into non-finite floats (finding 9)."""


class HostileInputTests(CoreSuiteBase):
    def _hostile_network(self) -> NetworkSetup:
        return make_network(self.core, self.project_a, ["10.10.0.0/16"], name="target")

    # Finding 10/21: text no database driver or terminal takes

    def test_unsafe_text_in_a_name_is_a_bad_request(self) -> None:
        setup = self._hostile_network()
        for label, text in UNSAFE_TEXTS.items():
            with self.subTest(label):
                self.assertBadRequest("network", "name", self.core.create_network, self.project_a, {"name": text})
                self.assertBadRequest(
                    "subnet", "name", self.core.update_subnet, self.project_a, setup.subnet().id, {"name": text}
                )
                body = {"network_id": setup.id, "device_id": text}
                self.assertBadRequest("port", "device_id", self.core.create_port, self.project_a, body)

    def test_unsafe_text_in_a_project_id_is_a_bad_request(self) -> None:
        for label, text in {**UNSAFE_TEXTS, "too long": "p" * 256, "empty": ""}.items():
            with self.subTest(label):
                body = {"name": "n", "project_id": text}
                self.assertBadRequest("network", "project_id", self.core.create_network, self.admin, body)

    def test_unsafe_text_in_an_id_is_a_bad_request(self) -> None:
        for label, text in UNSAFE_TEXTS.items():
            with self.subTest(label):
                self.assertBadRequest("network", "id", self.core.get_network, self.project_a, MISSING_ID + text)
                self.assertBadRequest("port", "id", self.core.delete_port, self.project_a, text)

    def test_unsafe_text_in_a_filter_is_a_bad_request_naming_its_key(self) -> None:
        for label, text in UNSAFE_TEXTS.items():
            with self.subTest(label):
                self.assertBadRequest("network", "name", self.core.get_networks, self.project_a, {"name": text})
                self.assertBadRequest(
                    "port", "device_id", self.core.get_ports, self.project_a, {"device_id": ["vm-1", text]}
                )
                self.assertBadRequest("subnet", "filters", self.core.get_subnets, self.project_a, {text: "x"})

    # Finding 19: wrong Python types at the boundary

    def test_an_id_of_the_wrong_type_is_a_bad_request(self) -> None:
        setup = self._hostile_network()
        for value in WRONG_TYPE_IDS:
            with self.subTest(value=value):
                self.assertBadRequest("network", "id", self.core.get_network, self.project_a, value)
                self.assertBadRequest("subnet", "id", self.core.delete_subnet, self.project_a, value)
                self.assertBadRequest("port", "id", self.core.update_port, self.project_a, value, {"name": "x"})
        self.assertEqual(setup.id, self.core.get_network(self.project_a, setup.id).id)

    def test_filters_of_the_wrong_shape_are_a_bad_request(self) -> None:
        for filters in ([("name", "x")], "name=x"):
            with self.subTest(filters=filters):
                malformed: Any = filters  # what a caller passing JSON through unchecked may send
                self.assertBadRequest("network", "filters", self.core.get_networks, self.project_a, malformed)
        for value in ({"a": 1}, 1.5, object()):
            with self.subTest(value=value):
                self.assertBadRequest("network", "name", self.core.get_networks, self.project_a, {"name": value})

    def test_a_body_that_is_not_a_mapping_is_a_bad_request(self) -> None:
        setup = self._hostile_network()
        bodies: tuple[Any, ...] = (None, ["name", "x"], "name=x")
        for body in bodies:
            with self.subTest(body=body):
                self.assertBadRequest("network", "body", self.core.create_network, self.project_a, body)
                self.assertBadRequest("network", "body", self.core.update_network, self.project_a, setup.id, body)

    # Finding 9: numbers JSON spells but no integer column holds

    def test_a_non_finite_number_is_a_bad_request_on_its_attribute(self) -> None:
        setup = self._hostile_network()
        for label, number in NON_FINITE.items():
            with self.subTest(label):
                self.assertBadRequest("network", "mtu", self.core.create_network, self.project_a, {"mtu": number})
                self.assertBadRequest("network", "mtu", self.core.get_networks, self.project_a, {"mtu": number})
                for attribute in ("default_prefixlen", "min_prefixlen", "max_prefixlen", "default_quota"):
                    body = {"prefixes": ["172.16.0.0/16"], attribute: number}
                    self.assertBadRequest("subnetpool", attribute, self.core.create_subnetpool, self.project_a, body)
                body = {"network_id": setup.id, "cidr": "192.168.0.0/24", "ip_version": number}
                self.assertBadRequest("subnet", "ip_version", self.core.create_subnet, self.project_a, body)

    def test_a_boolean_or_fraction_where_an_integer_is_expected_is_refused(self) -> None:
        for value in (True, 1500.5, "1500.0", [1500]):
            with self.subTest(value=value):
                self.assertBadRequest("network", "mtu", self.core.create_network, self.project_a, {"mtu": value})

    # Findings 4 and 12: every list is bounded while parsing

    def test_a_port_may_have_at_most_max_fixed_ips_per_port_addresses(self) -> None:
        setup = self._hostile_network()
        entry = {"subnet_id": setup.subnet().id}
        port = make_port(self.core, self.project_a, setup.id, fixed_ips=[entry] * MAX_FIXED_IPS_PER_PORT)
        self.assertEqual(MAX_FIXED_IPS_PER_PORT, len(port.fixed_ips))
        for count in (MAX_FIXED_IPS_PER_PORT + 1, FIXED_IPS_LIST_LIMIT + 1, 50_000):
            with self.subTest(count=count):
                body = {"network_id": setup.id, "fixed_ips": [entry] * count}
                self.assertBadRequest("port", "fixed_ips", self.core.create_port, self.project_a, body)
                changes = {"fixed_ips": [entry] * count}
                self.assertBadRequest("port", "fixed_ips", self.core.update_port, self.project_a, port.id, changes)
        endless = {"network_id": setup.id, "fixed_ips": iter(lambda: entry, None)}
        self.assertBadRequest("port", "fixed_ips", self.core.create_port, self.project_a, endless)

    def test_pool_prefixes_and_allocation_pools_are_bounded(self) -> None:
        prefixes = [f"10.{i // 256}.{i % 256}.0/24" for i in range(MAX_SUBNETPOOL_PREFIXES + 1)]
        body: dict[str, Any] = {"prefixes": prefixes}
        self.assertBadRequest("subnetpool", "prefixes", self.core.create_subnetpool, self.project_a, body)
        network = self.core.create_network(self.project_a, {"name": "pools"})
        pools = [{"start": f"10.1.{i}.1", "end": f"10.1.{i}.2"} for i in range(MAX_ALLOCATION_POOLS + 1)]
        body = {"network_id": network.id, "cidr": "10.1.0.0/16", "allocation_pools": pools}
        self.assertBadRequest("subnet", "allocation_pools", self.core.create_subnet, self.project_a, body)

    # Findings 14 and 15: prefixes and MAC addresses Neutron refuses

    def test_a_degenerate_or_special_purpose_cidr_is_refused(self) -> None:
        network = self.core.create_network(self.project_a, {"name": "special"})
        for cidr in (
            "0.0.0.0/0",
            "::/0",
            "0.0.0.0/8",
            "127.0.0.0/8",
            "::1/128",
            "224.0.0.0/4",
            "ff00::/8",
            "255.255.255.255/32",
            "::ffff:10.5.0.0/120",
        ):
            with self.subTest(cidr=cidr):
                body = {"network_id": network.id, "cidr": cidr}
                self.assertBadRequest("subnet", "cidr", self.core.create_subnet, self.project_a, body)
                pool = {"prefixes": [cidr]}
                self.assertBadRequest("subnetpool", "prefixes", self.core.create_subnetpool, self.project_a, pool)

    def test_a_pool_bound_of_prefix_length_zero_is_refused(self) -> None:
        for attribute in ("min_prefixlen", "default_prefixlen"):
            with self.subTest(attribute):
                body = {"prefixes": ["172.30.0.0/16"], attribute: 0}
                self.assertBadRequest("subnetpool", attribute, self.core.create_subnetpool, self.project_a, body)
        pool = self.core.create_subnetpool(self.project_a, {"prefixes": ["172.30.0.0/16"], "default_prefixlen": 24})
        changes = {"min_prefixlen": 0}
        self.assertBadRequest(
            "subnetpool", "min_prefixlen", self.core.update_subnetpool, self.project_a, pool.id, changes
        )

    def test_a_mac_address_no_port_can_have_is_refused(self) -> None:
        setup = self._hostile_network()
        for mac in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01"):
            with self.subTest(mac=mac):
                body = {"network_id": setup.id, "mac_address": mac}
                self.assertBadRequest("port", "mac_address", self.core.create_port, self.project_a, body)

    # Finding 2: device owners only naas (or an admin) gives

    def test_only_an_admin_gives_a_port_a_network_device_owner(self) -> None:
        setup = self._hostile_network()
        port = make_port(self.core, self.project_a, setup.id)
        for owner in ("network:dhcp", DEVICE_OWNER_ROUTER_INTERFACE, DEVICE_OWNER_ROUTER_GATEWAY):
            with self.subTest(owner=owner):
                body = {"network_id": setup.id, "device_owner": owner, "device_id": MISSING_ID}
                self.assertRefused(NotAuthorized, self.core.create_port, self.project_a, body)
                changes = {"device_owner": owner}
                self.assertRefused(NotAuthorized, self.core.update_port, self.project_a, port.id, changes)
        dhcp = make_port(self.core, self.admin, setup.id, device_owner="network:dhcp", project_id=port.project_id)
        self.assertEqual("network:dhcp", dhcp.device_owner)

    def test_no_one_makes_a_router_or_floating_ip_port_through_the_port_api(self) -> None:
        setup = self._hostile_network()
        port = make_port(self.core, self.admin, setup.id, project_id=self.project_a.project_id)
        for owner in (DEVICE_OWNER_ROUTER_INTERFACE, DEVICE_OWNER_ROUTER_GATEWAY, DEVICE_OWNER_FLOATINGIP):
            with self.subTest(owner=owner):
                body = {"network_id": setup.id, "device_owner": owner, "device_id": MISSING_ID}
                error = self.assertBadRequest("port", "device_owner", self.core.create_port, self.admin, body)
                self.assertIn("L3 plugin", error.reason)
                changes = {"device_owner": owner, "device_id": MISSING_ID}
                self.assertBadRequest("port", "device_owner", self.core.update_port, self.admin, port.id, changes)

    # Finding 3: a subnet's gateway address, and what another project may choose on a shared network

    def _shared_network_of_project_a(self) -> NetworkSetup:
        network = self.core.create_network(
            self.admin, {"name": "shared", "shared": True, "project_id": self.project_a.project_id}
        )
        self.core.create_subnet(self.project_a, {"network_id": network.id, "cidr": "192.168.50.0/24"})
        return NetworkSetup(
            self.core.get_network(self.project_a, network.id),
            tuple(self.core.get_subnets(self.project_a, {"network_id": network.id})),
        )

    def test_no_plain_port_takes_the_gateway_address_of_a_shared_network(self) -> None:
        setup = self._shared_network_of_project_a()
        gateway = str(setup.subnet().gateway_ip)
        body: dict[str, Any] = {"network_id": setup.id, "fixed_ips": [{"ip_address": gateway}]}
        error = self.assertBadRequest("port", "fixed_ips", self.core.create_port, self.project_a, body)
        self.assertIn("gateway", error.reason)
        port = make_port(self.core, self.project_a, setup.id)
        changes = {"fixed_ips": [{"subnet_id": setup.subnet().id, "ip_address": gateway}]}
        self.assertBadRequest("port", "fixed_ips", self.core.update_port, self.project_a, port.id, changes)
        self.assertRefused(NotAuthorized, self.core.create_port, self.project_b, body)

    def test_another_project_takes_what_a_shared_network_hands_out(self) -> None:
        """Neutron's create_port:fixed_ips:ip_address and create_port:mac_address: the network owner's or an admin's."""
        setup = self._shared_network_of_project_a()
        subnet_id = setup.subnet().id
        for body in (
            {"fixed_ips": [{"ip_address": "192.168.50.77"}]},
            {"fixed_ips": [{"subnet_id": subnet_id, "ip_address": "192.168.50.77"}]},
            {"mac_address": "fa:16:3e:00:00:77"},
        ):
            with self.subTest(body=body):
                error = self.assertRefused(
                    NotAuthorized, self.core.create_port, self.project_b, {"network_id": setup.id, **body}
                )
                self.assertIn(setup.id, str(error))
        theirs = make_port(self.core, self.project_b, setup.id, fixed_ips=[{"subnet_id": subnet_id}])
        held = str(theirs.fixed_ips[0].ip_address)
        changes = {"fixed_ips": [{"ip_address": "192.168.50.78"}]}
        self.assertRefused(NotAuthorized, self.core.update_port, self.project_b, theirs.id, changes)
        kept = self.core.update_port(self.project_b, theirs.id, {"fixed_ips": [{"ip_address": held}], "name": "kept"})
        self.assertEqual([held], [str(fixed.ip_address) for fixed in kept.fixed_ips])
        chosen = make_port(
            self.core,
            self.project_a,
            setup.id,
            fixed_ips=[{"ip_address": "192.168.50.77"}],
            mac_address="fa:16:3e:00:00:77",
        )
        self.assertEqual(
            ("192.168.50.77", "fa:16:3e:00:00:77"), (str(chosen.fixed_ips[0].ip_address), chosen.mac_address)
        )
        for_b = make_port(
            self.core,
            self.admin,
            setup.id,
            project_id=self.project_b.project_id,
            fixed_ips=[{"ip_address": "192.168.50.79"}],
        )
        self.assertEqual("192.168.50.79", str(for_b.fixed_ips[0].ip_address))
