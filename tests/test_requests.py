"""naas.requests: every converter, the wire-name parser, and the checks that span attributes.

Converters raise ``ValueError(reason)``; requests turn that into a BadRequest
naming the resource and the attribute's wire name, so both levels are tested:
the converter for its rule, one request per converter for the wrapping.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable
from typing import Any

import netaddr
import pytest

from naas import requests
from naas.exceptions import BadRequest, NotFound
from naas.requests import (
    UNSET,
    FixedIPRequest,
    FloatingIPCreate,
    GatewayRequest,
    InterfaceRequest,
    NetworkCreate,
    NetworkUpdate,
    PortCreate,
    PortUpdate,
    Request,
    RouterCreate,
    RouterUpdate,
    SubnetCreate,
    SubnetPoolCreate,
    SubnetPoolUpdate,
    SubnetUpdate,
    Unset,
    plan_fixed_ips,
)
from naas.resources import FixedIP

NETWORK_ID = "5b5e2b4c-4f1a-4f3b-9a53-0c2d1e6f7a80"
SUBNET_ID = "0f6c3a52-9b1e-4d7e-8c3f-2a1b0c9d8e7f"
PORT_ID = "c0ffee00-1111-4222-8333-444455556666"
BOOLEAN = "must be a boolean (true/false, yes/no, on/off, 1/0), not "


def bad_request(build: Callable[[], object]) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        build()
    return caught.value


def assert_bad_request(error: BadRequest, resource: str, attribute: str, reason: str) -> None:
    assert (error.resource, error.attribute, error.reason) == (resource, attribute, reason)
    assert str(error) == f"Invalid {resource} attribute '{attribute}': {reason}."


# Converters


@pytest.mark.parametrize(
    ("convert", "value", "expected"),
    [
        (requests.to_name, "", ""),
        (requests.to_name, "x" * 255, "x" * 255),
        (requests.to_bool, True, True),
        (requests.to_bool, False, False),
        (requests.to_bool, "true", True),
        (requests.to_bool, "False", False),
        (requests.to_bool, "TRUE", True),
        (requests.to_bool, "yes", True),
        (requests.to_bool, " On ", True),
        (requests.to_bool, 1, True),
        (requests.to_bool, "1", True),
        (requests.to_bool, 0, False),
        (requests.to_bool, "off", False),
        (requests.to_bool, "n", False),
        (requests.to_id, NETWORK_ID, NETWORK_ID),
        (requests.to_id, NETWORK_ID.upper(), NETWORK_ID),
        (requests.to_id, NETWORK_ID.replace("-", ""), NETWORK_ID),
        (requests.to_project_id, "project-a", "project-a"),
        (requests.to_project_id, "p" * 255, "p" * 255),
        (requests.to_int_between(68, 65535), 68, 68),
        (requests.to_int_between(68, 65535), 65535, 65535),
        (requests.to_int_between(68, 65535), "1500", 1500),
        (requests.to_int_between(68, 65535), 1500.0, 1500),
        (requests.to_ip_version, 4, 4),
        (requests.to_ip_version, "6", 6),
        (requests.to_mac, "fa:16:3e:00:00:01", "fa:16:3e:00:00:01"),
        (requests.to_mac, "FA:16:3E:0A:BC:01", "fa:16:3e:0a:bc:01"),
        (requests.optional(requests.to_bool), None, None),
        (requests.optional(requests.to_bool), "true", True),
    ],
)
def test_converter_accepts(convert: Callable[[Any], Any], value: Any, expected: Any) -> None:
    result = convert(value)

    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("convert", "value", "reason"),
    [
        (requests.to_name, 42, "must be a string"),
        (requests.to_name, None, "must be a string"),
        (requests.to_name, "x" * 256, "is 256 characters long, the limit is 255"),
        (requests.to_bool, "maybe", "must be a boolean (true/false, yes/no, on/off, 1/0), not 'maybe'"),
        (requests.to_bool, 2, "must be a boolean (true/false, yes/no, on/off, 1/0), not 2"),
        (requests.to_bool, 1.0, "must be a boolean (true/false, yes/no, on/off, 1/0), not 1.0"),
        (requests.to_bool, [True], "must be a boolean (true/false, yes/no, on/off, 1/0), not [True]"),
        (requests.to_bool, None, "must be a boolean (true/false, yes/no, on/off, 1/0), not None"),
        (requests.to_id, 42, "must be a UUID string, not 42"),
        (requests.to_id, "not-a-uuid", "'not-a-uuid' is not a UUID"),
        (requests.to_id, "", "'' is not a UUID"),
        (requests.to_project_id, "", "must be a non-empty string of at most 255 characters"),
        (requests.to_project_id, "p" * 256, "is 256 characters long, the limit is 255"),
        (requests.to_project_id, 7, "must be a non-empty string of at most 255 characters"),
        (requests.to_int_between(68, 65535), 67, "67 is out of range 68..65535"),
        (requests.to_int_between(68, 65535), 65536, "65536 is out of range 68..65535"),
        (requests.to_int_between(68, 65535), "big", "must be an integer, not 'big'"),
        (requests.to_int_between(68, 65535), 1500.5, "must be an integer, not 1500.5"),
        (requests.to_int_between(68, 65535), True, "must be an integer, not True"),
        (requests.to_int_between(68, 65535), None, "must be an integer, not None"),
        (requests.to_ip_version, 5, "must be 4 or 6, not 5"),
        (requests.to_ip_version, 0, "must be 4 or 6, not 0"),
        (requests.to_ip_version, 7, "must be 4 or 6, not 7"),
        (requests.to_ip_version, "four", "must be 4 or 6, not 'four'"),
        (requests.to_mac, "fa-16-3e-00-00-01", "'fa-16-3e-00-00-01' is not a MAC address like fa:16:3e:00:00:01"),
        (requests.to_mac, "fa:16:3e:00:00", "'fa:16:3e:00:00' is not a MAC address like fa:16:3e:00:00:01"),
        (requests.to_mac, None, "None is not a MAC address like fa:16:3e:00:00:01"),
    ],
)
def test_converter_refuses_with_a_reason(convert: Callable[[Any], Any], value: Any, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        convert(value)

    assert str(caught.value) == reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.0/24", netaddr.IPNetwork("10.0.0.0/24")),
        ("2001:db8::/64", netaddr.IPNetwork("2001:db8::/64")),
        ("0.0.0.0/0", netaddr.IPNetwork("0.0.0.0/0")),
        (netaddr.IPNetwork("192.0.2.0/28"), netaddr.IPNetwork("192.0.2.0/28")),
    ],
)
def test_to_cidr_accepts(value: Any, expected: netaddr.IPNetwork) -> None:
    result = requests.to_cidr(value)

    assert isinstance(result, netaddr.IPNetwork)
    assert (result, result.prefixlen) == (expected, expected.prefixlen)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("10.0.0.0", "'10.0.0.0' is not a CIDR (expected address/prefixlen)"),
        (42, "42 is not a CIDR (expected address/prefixlen)"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not a valid CIDR"),
        ("banana/24", "'banana/24' is not a valid CIDR"),
        ("10.0.0.5/24", "'10.0.0.5/24' has host bits set; did you mean 10.0.0.0/24?"),
        ("2001:db8::1/64", "'2001:db8::1/64' has host bits set; did you mean 2001:db8::/64?"),
    ],
)
def test_to_cidr_refuses(value: Any, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        requests.to_cidr(value)

    assert str(caught.value) == reason


@pytest.mark.parametrize(
    "value", ["10.0.0.1", "2001:db8::1", netaddr.IPAddress("192.0.2.7")], ids=["v4", "v6", "netaddr"]
)
def test_to_ip_accepts(value: Any) -> None:
    result = requests.to_ip(value)

    assert isinstance(result, netaddr.IPAddress)
    assert result == netaddr.IPAddress(str(value))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (42, "42 is not an IP address"),
        (None, "None is not an IP address"),
        ("10.0.0.256", "'10.0.0.256' is not a valid IP address"),
        ("10.1", "'10.1' is not a valid IP address"),
        ("10.0.0.0/24", "'10.0.0.0/24' is not a valid IP address"),
    ],
)
def test_to_ip_refuses(value: Any, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        requests.to_ip(value)

    assert str(caught.value) == reason


def test_to_allocation_pools_accepts_mappings_and_ranges() -> None:
    given = netaddr.IPRange("10.0.0.200", "10.0.0.250")

    pools = requests.to_allocation_pools([{"start": "10.0.0.10", "end": "10.0.0.20"}, given])

    assert pools == (netaddr.IPRange("10.0.0.10", "10.0.0.20"), given)
    assert requests.to_allocation_pools([]) == ()


def test_a_single_address_pool_is_allowed() -> None:
    assert requests.to_allocation_pools([{"start": "10.0.0.9", "end": "10.0.0.9"}]) == (
        netaddr.IPRange("10.0.0.9", "10.0.0.9"),
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("10.0.0.10-10.0.0.20", "must be a list of {'start': ..., 'end': ...}"),
        (None, "must be a list of {'start': ..., 'end': ...}"),
        (["10.0.0.10"], "'10.0.0.10' is not of the form {'start': ..., 'end': ...}"),
        ([{"start": "10.0.0.10"}], "{'start': '10.0.0.10'} is not of the form {'start': ..., 'end': ...}"),
        (
            [{"start": "10.0.0.1", "end": "10.0.0.2", "size": 2}],
            "{'start': '10.0.0.1', 'end': '10.0.0.2', 'size': 2} is not of the form {'start': ..., 'end': ...}",
        ),
        (
            [{"start": "10.0.0.20", "end": "10.0.0.10"}],
            "pool 10.0.0.20-10.0.0.10 does not run from a lower to a higher address",
        ),
        (
            [{"start": "10.0.0.1", "end": "2001:db8::1"}],
            "pool 10.0.0.1-2001:db8::1 does not run from a lower to a higher address",
        ),
        ([{"start": "10.0.0.1", "end": "nowhere"}], "'nowhere' is not a valid IP address"),
    ],
)
def test_to_allocation_pools_refuses(value: Any, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        requests.to_allocation_pools(value)

    assert str(caught.value) == reason


def test_to_prefixes() -> None:
    assert requests.to_prefixes(["10.0.0.0/8", "192.168.0.0/16"]) == (
        netaddr.IPNetwork("10.0.0.0/8"),
        netaddr.IPNetwork("192.168.0.0/16"),
    )
    with pytest.raises(ValueError, match=r"^must be a list of CIDRs$"):
        requests.to_prefixes("10.0.0.0/8")
    with pytest.raises(ValueError, match=r"^'10\.0\.0\.1/8' has host bits set"):
        requests.to_prefixes(["10.0.0.1/8"])


# Each converter's failure, as the caller sees it: a BadRequest naming resource and wire name.


@pytest.mark.parametrize(
    ("request_class", "body", "resource", "attribute", "reason"),
    [
        (NetworkCreate, {"name": 7}, "network", "name", "must be a string"),
        (NetworkCreate, {"admin_state_up": "of"}, "network", "admin_state_up", f"{BOOLEAN}'of'"),
        (NetworkCreate, {"router:external": "maybe"}, "network", "router:external", f"{BOOLEAN}'maybe'"),
        (NetworkCreate, {"mtu": 9001.5}, "network", "mtu", "must be an integer, not 9001.5"),
        (NetworkCreate, {"mtu": 67}, "network", "mtu", "67 is out of range 68..65535"),
        (
            NetworkCreate,
            {"tenant_id": ""},
            "network",
            "project_id",
            "must be a non-empty string of at most 255 characters",
        ),
        (SubnetCreate, {"network_id": "net-1", "cidr": "10.0.0.0/24"}, "subnet", "network_id", "'net-1' is not a UUID"),
        (
            SubnetCreate,
            {"network_id": NETWORK_ID, "cidr": "10.0.0.0"},
            "subnet",
            "cidr",
            "'10.0.0.0' is not a CIDR (expected address/prefixlen)",
        ),
        (
            SubnetCreate,
            {"network_id": NETWORK_ID, "cidr": "10.0.0.0/24", "ip_version": 5},
            "subnet",
            "ip_version",
            "must be 4 or 6, not 5",
        ),
        (
            SubnetCreate,
            {"network_id": NETWORK_ID, "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0"},
            "subnet",
            "gateway_ip",
            "'10.0.0' is not a valid IP address",
        ),
        (
            SubnetCreate,
            {"network_id": NETWORK_ID, "cidr": "10.0.0.0/24", "allocation_pools": "all"},
            "subnet",
            "allocation_pools",
            "must be a list of {'start': ..., 'end': ...}",
        ),
        (
            SubnetCreate,
            {"network_id": NETWORK_ID, "subnetpool_id": SUBNET_ID, "prefixlen": 129},
            "subnet",
            "prefixlen",
            "129 is out of range 0..128",
        ),
        (SubnetPoolCreate, {"prefixes": "10.0.0.0/8"}, "subnetpool", "prefixes", "must be a list of CIDRs"),
        (
            SubnetPoolCreate,
            {"prefixes": ["10.0.0.0/8"], "default_quota": -1},
            "subnetpool",
            "default_quota",
            "-1 is out of range 0..9223372036854775807",
        ),
        (
            PortCreate,
            {"network_id": NETWORK_ID, "mac_address": "fa:16:3e"},
            "port",
            "mac_address",
            "'fa:16:3e' is not a MAC address like fa:16:3e:00:00:01",
        ),
        (
            PortCreate,
            {"network_id": NETWORK_ID, "device_id": "d" * 256},
            "port",
            "device_id",
            "is 256 characters long, the limit is 255",
        ),
        (
            PortCreate,
            {"network_id": NETWORK_ID, "fixed_ips": {"subnet_id": SUBNET_ID}},
            "port",
            "fixed_ips",
            "must be a list of fixed_ips entries",
        ),
        (
            FloatingIPCreate,
            {"floating_network_id": NETWORK_ID, "floating_ip_address": "x"},
            "floatingip",
            "floating_ip_address",
            "'x' is not a valid IP address",
        ),
    ],
)
def test_a_malformed_value_is_a_bad_request_naming_the_wire_attribute(
    request_class: type[Request], body: dict[str, Any], resource: str, attribute: str, reason: str
) -> None:
    assert_bad_request(bad_request(lambda: request_class.parse(body)), resource, attribute, reason)


def test_constructing_a_request_directly_validates_too() -> None:
    error = bad_request(lambda: NetworkCreate(router_external="yeah"))  # type: ignore[arg-type]

    assert_bad_request(error, "network", "router:external", f"{BOOLEAN}'yeah'")
    assert error.__cause__ is None


def test_a_converted_request_holds_typed_values() -> None:
    subnet = SubnetCreate.parse(
        {
            "network_id": NETWORK_ID.upper(),
            "cidr": "10.0.0.0/24",
            "gateway_ip": "10.0.0.254",
            "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.20"}],
            "enable_dhcp": "false",
        }
    )

    assert subnet.network_id == NETWORK_ID
    assert subnet.cidr == netaddr.IPNetwork("10.0.0.0/24")
    assert subnet.gateway_ip == netaddr.IPAddress("10.0.0.254")
    assert subnet.allocation_pools == (netaddr.IPRange("10.0.0.10", "10.0.0.20"),)
    assert subnet.enable_dhcp is False
    assert subnet.ip_version == 4


def test_requests_are_frozen() -> None:
    network = NetworkCreate(name="net")

    with pytest.raises(dataclasses.FrozenInstanceError):
        network.name = "other"  # type: ignore[misc]


# parse: wire names, unknown and required attributes


def test_parse_maps_wire_names_to_attributes() -> None:
    network = NetworkCreate.parse({"router:external": "true", "is_default": True, "tenant_id": "project-a"})

    assert network.router_external is True
    assert network.is_default is True
    assert network.project_id == "project-a"


def test_parse_accepts_matching_tenant_id_and_project_id() -> None:
    assert NetworkCreate.parse({"tenant_id": "project-a", "project_id": "project-a"}).project_id == "project-a"


def test_parse_refuses_differing_tenant_id_and_project_id() -> None:
    error = bad_request(lambda: NetworkCreate.parse({"project_id": "project-a", "tenant_id": "project-b"}))

    assert_bad_request(error, "network", "tenant_id", "differs from project_id")


@pytest.mark.parametrize(
    ("request_class", "body", "resource", "attribute"),
    [
        (NetworkCreate, {"name": "net", "colour": "blue"}, "network", "colour"),
        # Only the wire spelling is an attribute of the body.
        (NetworkCreate, {"router_external": True}, "network", "router_external"),
        # Updates cannot move a resource to another project.
        (NetworkUpdate, {"tenant_id": "project-b"}, "network", "tenant_id"),
        (NetworkUpdate, {"project_id": "project-b"}, "network", "project_id"),
        (SubnetUpdate, {"cidr": "10.0.0.0/24"}, "subnet", "cidr"),
    ],
)
def test_parse_refuses_an_unknown_attribute(
    request_class: type[Request], body: dict[str, Any], resource: str, attribute: str
) -> None:
    assert_bad_request(bad_request(lambda: request_class.parse(body)), resource, attribute, "unrecognized attribute")


@pytest.mark.parametrize(
    ("request_class", "body", "resource", "attribute"),
    [
        (SubnetCreate, {"cidr": "10.0.0.0/24"}, "subnet", "network_id"),
        (PortCreate, {"name": "p"}, "port", "network_id"),
        (SubnetPoolCreate, {"name": "pool"}, "subnetpool", "prefixes"),
        (FloatingIPCreate, {}, "floatingip", "floating_network_id"),
    ],
)
def test_parse_names_a_missing_required_attribute(
    request_class: type[Request], body: dict[str, Any], resource: str, attribute: str
) -> None:
    assert_bad_request(bad_request(lambda: request_class.parse(body)), resource, attribute, "is required")


@pytest.mark.parametrize(
    ("request_class", "body", "resource", "attribute", "reason"),
    [
        (
            PortCreate,
            {"network_id": NETWORK_ID, "fixed_ips": [{"ip": "10.0.0.5"}]},
            "port",
            "fixed_ips",
            "ip: unrecognized attribute",
        ),
        (
            RouterCreate,
            {"external_gateway_info": {"network": NETWORK_ID}},
            "router",
            "external_gateway_info",
            "network: unrecognized attribute",
        ),
        (
            RouterCreate,
            {"external_gateway_info": {"enable_snat": False}},
            "router",
            "external_gateway_info",
            "network_id: is required",
        ),
    ],
)
def test_an_error_inside_a_nested_entry_names_the_top_level_attribute(
    request_class: type[Request], body: dict[str, Any], resource: str, attribute: str, reason: str
) -> None:
    assert_bad_request(bad_request(lambda: request_class.parse(body)), resource, attribute, reason)


@pytest.mark.parametrize("body", [["name", "net"], "name=net", None])
def test_parse_refuses_a_body_that_is_not_a_mapping(body: Any) -> None:
    error = bad_request(lambda: NetworkCreate.parse(body))

    assert_bad_request(error, "network", "body", f"expected a mapping of attributes, not {type(body).__name__}")


def test_parse_returns_a_request_it_is_given_unchanged() -> None:
    network = NetworkCreate(name="net")

    assert NetworkCreate.parse(network) is network


def test_wire_name() -> None:
    assert NetworkCreate.wire_name("router_external") == "router:external"
    assert NetworkCreate.wire_name("name") == "name"


def test_create_defaults_are_neutron_s() -> None:
    assert NetworkCreate.parse({}) == NetworkCreate(
        name="", project_id=None, admin_state_up=True, shared=False, router_external=False, is_default=False, mtu=1500
    )


# Nested requests


def test_port_fixed_ips_become_fixed_ip_requests() -> None:
    port = PortCreate.parse(
        {"network_id": NETWORK_ID, "fixed_ips": [{"subnet_id": SUBNET_ID}, {"ip_address": "10.0.0.7"}]}
    )

    assert port.fixed_ips == (
        FixedIPRequest(subnet_id=SUBNET_ID),
        FixedIPRequest(ip_address=netaddr.IPAddress("10.0.0.7")),
    )


def test_port_fixed_ips_none_and_empty_mean_different_things() -> None:
    assert PortCreate(network_id=NETWORK_ID).fixed_ips is None
    assert PortCreate(network_id=NETWORK_ID, fixed_ips=[]).fixed_ips == ()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("entry", "resource", "attribute", "reason"),
    [
        ({}, "port", "fixed_ips", "subnet_id: each entry needs a subnet_id, an ip_address or both"),
        ({"subnet_id": "s"}, "port", "fixed_ips", "subnet_id: 's' is not a UUID"),
        ({"ip_address": "10.0.0.300"}, "port", "fixed_ips", "ip_address: '10.0.0.300' is not a valid IP address"),
        ("10.0.0.5", "port", "fixed_ips", "body: expected a mapping of attributes, not str"),
    ],
)
def test_a_bad_fixed_ip_entry_is_a_bad_request(entry: Any, resource: str, attribute: str, reason: str) -> None:
    error = bad_request(lambda: PortCreate.parse({"network_id": NETWORK_ID, "fixed_ips": [entry]}))

    assert_bad_request(error, resource, attribute, reason)


def test_router_gateway_is_parsed_into_a_gateway_request() -> None:
    router = RouterCreate.parse(
        {
            "name": "r",
            "external_gateway_info": {
                "network_id": NETWORK_ID,
                "enable_snat": "false",
                "external_fixed_ips": [{"ip_address": "203.0.113.10"}],
            },
        }
    )

    assert router.external_gateway_info == GatewayRequest(
        network_id=NETWORK_ID,
        enable_snat=False,
        external_fixed_ips=(FixedIPRequest(ip_address=netaddr.IPAddress("203.0.113.10")),),
    )


def test_router_update_tells_removing_the_gateway_from_leaving_it() -> None:
    assert RouterUpdate.parse({"external_gateway_info": None}).given() == {"external_gateway_info": None}
    assert RouterUpdate.parse({"name": "r"}).external_gateway_info is UNSET


# Cross-attribute rules


@pytest.mark.parametrize(
    ("body", "attribute", "reason"),
    [
        (
            {"subnetpool_id": SUBNET_ID, "use_default_subnetpool": True, "ip_version": 4},
            "use_default_subnetpool",
            "cannot be combined with subnetpool_id",
        ),
        ({}, "cidr", "is required unless the subnet comes from a subnet pool"),
        ({"ip_version": 4, "prefixlen": 24}, "cidr", "is required unless the subnet comes from a subnet pool"),
        ({"cidr": "10.0.0.0/24", "prefixlen": 26}, "prefixlen", "cannot be combined with cidr"),
        ({"cidr": "10.0.0.0/24", "ip_version": 6}, "ip_version", "is 6 but cidr 10.0.0.0/24 is IPv4"),
        ({"cidr": "2001:db8::/64", "ip_version": "4"}, "ip_version", "is 4 but cidr 2001:db8::/64 is IPv6"),
        ({"use_default_subnetpool": True}, "ip_version", "is required with use_default_subnetpool"),
        (
            {"use_default_subnetpool": True, "ip_version": 4, "prefixlen": 33},
            "prefixlen",
            "33 is longer than an IPv4 prefix can be",
        ),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "2001:db8::1"}, "gateway_ip", "2001:db8::1 is not an IPv4 address"),
        (
            {"cidr": "2001:db8::/64", "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.9"}]},
            "allocation_pools",
            "pool 10.0.0.2-10.0.0.9 is not IPv6",
        ),
    ],
)
def test_subnet_create_cross_attribute_rules(body: dict[str, Any], attribute: str, reason: str) -> None:
    error = bad_request(lambda: SubnetCreate.parse({"network_id": NETWORK_ID, **body}))

    assert_bad_request(error, "subnet", attribute, reason)


@pytest.mark.parametrize(
    ("body", "ip_version"),
    [
        ({"cidr": "10.0.0.0/24"}, 4),
        ({"cidr": "2001:db8::/64", "ip_version": 6}, 6),
        # A specific CIDR may be asked of a pool.
        ({"cidr": "10.1.0.0/24", "subnetpool_id": SUBNET_ID}, 4),
        ({"subnetpool_id": SUBNET_ID, "prefixlen": 26}, None),
        ({"use_default_subnetpool": True, "ip_version": 6, "prefixlen": 64}, 6),
        ({"use_default_subnetpool": "true", "ip_version": 4, "prefixlen": 32}, 4),
    ],
)
def test_subnet_create_valid_combinations(body: dict[str, Any], ip_version: int | None) -> None:
    assert SubnetCreate.parse({"network_id": NETWORK_ID, **body}).ip_version == ip_version


def test_subnet_gateway_unset_means_default_and_none_means_no_gateway() -> None:
    assert SubnetCreate(network_id=NETWORK_ID, cidr="10.0.0.0/24").gateway_ip is UNSET  # type: ignore[arg-type]
    assert SubnetCreate.parse({"network_id": NETWORK_ID, "cidr": "10.0.0.0/24", "gateway_ip": None}).gateway_ip is None


def test_network_is_default_needs_router_external() -> None:
    error = bad_request(lambda: NetworkCreate.parse({"is_default": True}))

    assert_bad_request(error, "network", "is_default", "only an external network (router:external) can be the default")


@pytest.mark.parametrize(
    "body",
    [{}, {"subnet_id": SUBNET_ID, "port_id": PORT_ID}, {"subnet_id": None, "port_id": None}],
    ids=["neither", "both", "both-none"],
)
def test_interface_request_needs_exactly_one_of_subnet_and_port(body: dict[str, Any]) -> None:
    error = bad_request(lambda: InterfaceRequest.parse(body))

    assert_bad_request(error, "router_interface", "subnet_id", "give exactly one of subnet_id and port_id")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"subnet_id": SUBNET_ID}, InterfaceRequest(subnet_id=SUBNET_ID, port_id=None)),
        ({"port_id": PORT_ID.upper()}, InterfaceRequest(subnet_id=None, port_id=PORT_ID)),
    ],
)
def test_interface_request_by_subnet_or_by_port(body: dict[str, Any], expected: InterfaceRequest) -> None:
    assert InterfaceRequest.parse(body) == expected


def test_floating_ip_fixed_address_needs_a_port() -> None:
    error = bad_request(
        lambda: FloatingIPCreate.parse({"floating_network_id": NETWORK_ID, "fixed_ip_address": "10.0.0.5"})
    )

    assert_bad_request(error, "floatingip", "fixed_ip_address", "needs a port_id")


def test_subnet_pool_create_resolves_prefix_bounds_and_compacts_prefixes() -> None:
    pool = SubnetPoolCreate.parse({"prefixes": ["10.0.0.0/9", "10.128.0.0/9"], "default_prefixlen": 24})

    assert pool.prefixes == (netaddr.IPNetwork("10.0.0.0/8"),)
    assert (pool.min_prefixlen, pool.default_prefixlen, pool.max_prefixlen) == (8, 24, 32)
    assert pool.ip_version == 4


def test_subnet_pool_create_refuses_mixed_ip_versions() -> None:
    error = bad_request(lambda: SubnetPoolCreate.parse({"prefixes": ["10.0.0.0/8", "2001:db8::/32"]}))

    assert (error.resource, error.attribute) == ("subnetpool", "prefixes")


# UNSET and given()


@pytest.mark.parametrize(
    ("request_class", "body", "given"),
    [
        (NetworkUpdate, {}, {}),
        (NetworkUpdate, {"name": "renamed", "router:external": "false"}, {"name": "renamed", "router_external": False}),
        (SubnetUpdate, {"gateway_ip": None}, {"gateway_ip": None}),
        (SubnetUpdate, {"allocation_pools": []}, {"allocation_pools": ()}),
        (SubnetPoolUpdate, {"default_quota": None}, {"default_quota": None}),
        (PortUpdate, {"admin_state_up": "false"}, {"admin_state_up": False}),
        (PortUpdate, {"fixed_ips": []}, {"fixed_ips": ()}),
    ],
)
def test_update_given_lists_exactly_what_the_caller_set(
    request_class: type[Request], body: dict[str, Any], given: dict[str, Any]
) -> None:
    update = request_class.parse(body)

    assert update.given() == given
    assert all(getattr(update, f.name) is UNSET for f in dataclasses.fields(update) if f.name not in given)


def test_unset_is_a_singleton_that_says_what_it_is() -> None:
    assert UNSET is Unset.UNSET
    assert repr(UNSET) == "UNSET"
    assert UNSET is not None


def test_an_update_cannot_set_a_required_create_only_attribute_to_none() -> None:
    # SubnetUpdate.allocation_pools is not optional: None is malformed, not "unset".
    error = bad_request(lambda: SubnetUpdate.parse({"allocation_pools": None}))

    assert_bad_request(error, "subnet", "allocation_pools", "must be a list of {'start': ..., 'end': ...}")


# Admin-only attributes


@pytest.mark.parametrize(
    ("request_", "names"),
    [
        (NetworkCreate(), []),
        (NetworkCreate(shared=False, router_external=False), []),
        (
            NetworkCreate(shared=True, router_external=True, is_default=True),
            ["shared", "router:external", "is_default"],
        ),
        (NetworkUpdate(name="n"), []),
        # On an update, setting the attribute at all is the admin's call, whatever the value.
        (NetworkUpdate(router_external=False), ["router:external"]),
        (SubnetPoolCreate(prefixes=["10.0.0.0/8"], is_default=True), ["is_default"]),  # type: ignore[arg-type]
        (SubnetPoolUpdate(is_default=False), ["is_default"]),
        (PortCreate.parse({"network_id": NETWORK_ID, "device_owner": "compute:nova"}), []),
        (PortCreate.parse({"network_id": NETWORK_ID, "device_owner": "network:router_interface"}), ["device_owner"]),
        (PortUpdate(device_owner="network:dhcp"), ["device_owner"]),
        (PortUpdate(device_owner="networkx"), []),
        (RouterCreate.parse({"external_gateway_info": {"network_id": NETWORK_ID}}), []),
        (
            RouterCreate.parse(
                {
                    "external_gateway_info": {
                        "network_id": NETWORK_ID,
                        "enable_snat": False,
                        "external_fixed_ips": [{"ip_address": "203.0.113.9"}],
                    }
                }
            ),
            ["external_gateway_info.enable_snat", "external_gateway_info.external_fixed_ips"],
        ),
        (
            RouterUpdate.parse({"external_gateway_info": {"network_id": NETWORK_ID, "enable_snat": "off"}}),
            ["external_gateway_info.enable_snat"],
        ),
        (FloatingIPCreate.parse({"floating_network_id": NETWORK_ID}), []),
        (
            FloatingIPCreate.parse({"floating_network_id": NETWORK_ID, "floating_ip_address": "203.0.113.9"}),
            ["floating_ip_address"],
        ),
    ],
)
def test_admin_only_given(request_: Request, names: list[str]) -> None:
    assert request_.admin_only_given() == names


# Bounded input


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a\x00b", "holds the control character U+0000 at position 1"),
        ("\x1b[2J", "holds the control character U+001B at position 0"),
        ("ok\x7f", "holds the control character U+007F at position 2"),
        ("ok\x85", "holds the control character U+0085 at position 2"),
        ("line\u2028break", "holds the control character U+2028 at position 4"),
        ("abc\u202edcb", "holds the control character U+202E at position 3"),
        ("\ud800", "holds a lone surrogate U+D800 at position 0"),
    ],
)
def test_names_and_project_ids_refuse_what_cannot_be_stored_or_printed(value: str, reason: str) -> None:
    for convert in (requests.to_name, requests.to_project_id):
        with pytest.raises(ValueError) as caught:
            convert(value)
        assert str(caught.value) == reason


@pytest.mark.parametrize("value", ["caf\u00e9", "\u540d\u524d", "emoji \U0001f600", "zero\u200dwidth joiner"])
def test_names_keep_printable_unicode(value: str) -> None:
    assert requests.to_name(value) == value


@pytest.mark.parametrize(
    "value", [float("inf"), float("-inf"), float("nan"), 1e400, json.loads("1e400"), "1" * 5000, 10**400]
)
def test_integers_refuse_non_finite_and_huge_numbers(value: Any) -> None:
    with pytest.raises(ValueError) as caught:
        requests.to_int_between(68, 65535)(value)

    assert str(caught.value).startswith(("must be an integer", "1000"))
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("mac", "reason"),
    [
        ("00:00:00:00:00:00", "00:00:00:00:00:00 is the all-zero MAC address, which no port can have"),
        ("FF:FF:FF:FF:FF:FF", "ff:ff:ff:ff:ff:ff is the broadcast MAC address, which no port can have"),
        ("01:00:5e:00:00:fb", "01:00:5e:00:00:fb is a multicast MAC address (the low bit of its first octet is set)"),
    ],
)
def test_macs_no_port_can_have_are_refused(mac: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        requests.to_mac(mac)

    assert str(caught.value) == reason


@pytest.mark.parametrize(
    ("request_class", "body", "resource", "attribute"),
    [
        (
            PortCreate,
            {"network_id": NETWORK_ID, "fixed_ips": [{"subnet_id": SUBNET_ID}] * (requests.FIXED_IPS_LIST_LIMIT + 1)},
            "port",
            "fixed_ips",
        ),
        (PortUpdate, {"fixed_ips": itertools.repeat({"subnet_id": SUBNET_ID})}, "port", "fixed_ips"),
        (
            RouterCreate,
            {
                "external_gateway_info": {
                    "network_id": NETWORK_ID,
                    "external_fixed_ips": [{"subnet_id": SUBNET_ID}] * (requests.FIXED_IPS_LIST_LIMIT + 1),
                }
            },
            "router",
            "external_gateway_info",
        ),
        (
            SubnetCreate,
            {
                "network_id": NETWORK_ID,
                "cidr": "10.0.0.0/8",
                "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.3"}] * 257,
            },
            "subnet",
            "allocation_pools",
        ),
        (SubnetPoolCreate, {"prefixes": ["10.0.0.0/24"] * 1001}, "subnetpool", "prefixes"),
        (SubnetPoolUpdate, {"prefixes": ["10.0.0.0/24"] * 1001}, "subnetpool", "prefixes"),
    ],
)
def test_every_list_attribute_has_a_limit(
    request_class: type[Request], body: dict[str, Any], resource: str, attribute: str
) -> None:
    error = bad_request(lambda: request_class.parse(body))

    assert (error.resource, error.attribute) == (resource, attribute)
    assert "the limit is" in error.reason


def test_the_limits_are_neutron_s_and_fit_the_columns() -> None:
    assert requests.MAX_FIXED_IPS_PER_PORT == 5
    assert requests.MAX_FIXED_IPS_PER_PORT <= requests.FIXED_IPS_LIST_LIMIT < 32767  # ip_allocations.position
    longest_pool = len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,")
    longest_prefix = len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124,")
    assert requests.MAX_ALLOCATION_POOLS * longest_pool < 65535
    assert requests.MAX_SUBNETPOOL_PREFIXES * longest_prefix < 65535


def test_a_request_may_name_the_id_of_a_new_network_or_router() -> None:
    assert NetworkCreate.parse({"id": NETWORK_ID.upper()}).id == NETWORK_ID
    assert RouterCreate.parse({"id": NETWORK_ID}).id == NETWORK_ID
    assert (NetworkCreate().id, RouterCreate().id) == (None, None)
    assert_bad_request(bad_request(lambda: RouterCreate.parse({"id": "r1"})), "router", "id", "'r1' is not a UUID")


@pytest.mark.parametrize(
    ("body", "attribute", "reason_part"),
    [
        ({"network_id": NETWORK_ID, "cidr": "0.0.0.0/0"}, "cidr", "prefix length 0"),
        ({"network_id": NETWORK_ID, "cidr": "224.0.0.0/24"}, "cidr", "multicast"),
        ({"network_id": NETWORK_ID, "cidr": "fe80::/64"}, "cidr", "link-local"),
    ],
)
def test_subnet_create_refuses_special_purpose_cidrs(body: dict[str, Any], attribute: str, reason_part: str) -> None:
    error = bad_request(lambda: SubnetCreate.parse(body))

    assert (error.resource, error.attribute) == ("subnet", attribute)
    assert reason_part in error.reason


def test_subnet_create_allows_link_local_without_dhcp() -> None:
    request = SubnetCreate.parse({"network_id": NETWORK_ID, "cidr": "fe80::/64", "enable_dhcp": "false"})

    assert str(request.cidr) == "fe80::/64"


def test_subnet_pool_refuses_a_chosen_default_no_prefix_can_hold_but_keeps_neutron_s_implied_one() -> None:
    error = bad_request(lambda: SubnetPoolCreate.parse({"prefixes": ["10.0.0.0/16"], "default_prefixlen": 8}))
    assert (error.attribute, error.reason) == (
        "default_prefixlen",
        "/8 is shorter than every prefix of the pool (the largest is a /16)",
    )

    implied = SubnetPoolCreate.parse({"prefixes": ["10.0.0.0/16"]})

    assert implied.default_prefixlen == 8


def test_an_unknown_attribute_is_named_printably() -> None:
    error = bad_request(lambda: NetworkCreate.parse({"na\x1bme": "x"}))

    assert error.attribute == "'na\\x1bme'"


# Boundary validators


def test_parse_id_returns_a_canonical_uuid_unchanged() -> None:
    assert requests.parse_id("network", NETWORK_ID) == NETWORK_ID


@pytest.mark.parametrize("value", ["nope", "", NETWORK_ID.upper(), NETWORK_ID.replace("-", ""), f"{{{NETWORK_ID}}}"])
def test_parse_id_of_a_string_that_is_no_canonical_uuid_is_not_found(value: str) -> None:
    with pytest.raises(NotFound) as caught:
        requests.parse_id("port", value)

    assert (caught.value.resource, caught.value.resource_id) == ("port", value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ([NETWORK_ID], "must be a UUID string, not list"),
        (7, "must be a UUID string, not int"),
        (None, "must be a UUID string, not NoneType"),
        ("x\x00", "holds the control character U+0000 at position 1"),
        ("\udfff", "holds a lone surrogate U+DFFF at position 0"),
        ("i" * 256, "is 256 characters long, the limit is 255"),
    ],
)
def test_parse_id_of_no_string_or_unusable_text_is_a_bad_request(value: Any, reason: str) -> None:
    assert_bad_request(bad_request(lambda: requests.parse_id("router", value)), "router", "id", reason)


def test_parse_project_id_names_the_project_id() -> None:
    assert requests.parse_project_id("auto_allocate", "p") == "p"
    error = bad_request(lambda: requests.parse_project_id("auto_allocate", ["x"]))
    assert (error.resource, error.attribute) == ("auto_allocate", "project_id")


@pytest.mark.parametrize(("fields", "expected"), [(None, ()), (["dry-run"], ("dry-run",)), (("a", "b"), ("a", "b"))])
def test_parse_fields_takes_a_list_of_names(fields: Any, expected: tuple[str, ...]) -> None:
    assert requests.parse_fields("auto_allocate", fields) == expected


@pytest.mark.parametrize("fields", ["dry-run", 7, [7], ["a\x00"], {"dry-run": 1}])
def test_parse_fields_refuses_anything_else(fields: Any) -> None:
    error = bad_request(lambda: requests.parse_fields("auto_allocate", fields))

    assert (error.resource, error.attribute) == ("auto_allocate", "fields")


def test_plan_fixed_ips_keeps_what_is_asked_for_again_and_releases_the_rest() -> None:
    subnet_a, subnet_b = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
    current = [
        FixedIP(subnet_id=subnet_a, ip_address=netaddr.IPAddress("10.0.0.5")),
        FixedIP(subnet_id=subnet_a, ip_address=netaddr.IPAddress("10.0.0.6")),
        FixedIP(subnet_id=subnet_b, ip_address=netaddr.IPAddress("10.1.0.5")),
    ]
    wanted = [
        FixedIPRequest(subnet_id=subnet_a),  # any address of subnet a: keeps one it has
        FixedIPRequest(ip_address=netaddr.IPAddress("10.0.0.6")),  # this one, served first
        FixedIPRequest(subnet_id=subnet_b, ip_address=netaddr.IPAddress("10.1.0.9")),  # a new one
    ]

    plan = plan_fixed_ips(wanted, current)

    assert plan.order == (1, 2, 0)
    assert plan.kept == (current[0], current[1], None)
    assert plan.released == (current[2],)
