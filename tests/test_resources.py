"""naas.resources: the wire form of each resource, field selection, and filtering."""

from __future__ import annotations

import dataclasses
from typing import Any

import netaddr
import pytest

from naas.exceptions import BadRequest
from naas.resources import (
    MAX_FILTER_VALUES,
    ExternalGatewayInfo,
    FixedIP,
    FloatingIP,
    Network,
    Port,
    Resource,
    Router,
    RouterInterfaceInfo,
    Subnet,
    SubnetPool,
    filter_resources,
    filter_values,
    parse_filters,
    unsafe_text_reason,
)


def network(network_id: str = "n-1", **changes: Any) -> Network:
    values: dict[str, Any] = {
        "id": network_id,
        "project_id": "project-a",
        "name": "net",
        "admin_state_up": True,
        "shared": False,
        "router_external": False,
        "is_default": False,
        "mtu": 1500,
        "status": "ACTIVE",
        "subnets": (),
    }
    return Network(**{**values, **changes})


def port(port_id: str, *fixed_ips: tuple[str, str], **changes: Any) -> Port:
    values: dict[str, Any] = {
        "id": port_id,
        "project_id": "project-a",
        "network_id": "n-1",
        "name": "",
        "admin_state_up": True,
        "mac_address": "fa:16:3e:00:00:01",
        "device_id": "",
        "device_owner": "",
        "fixed_ips": tuple(FixedIP(subnet_id, netaddr.IPAddress(address)) for subnet_id, address in fixed_ips),
        "status": "ACTIVE",
    }
    return Port(**{**values, **changes})


SUBNET = Subnet(
    id="s-1",
    project_id="project-a",
    network_id="n-1",
    name="sub",
    ip_version=4,
    cidr=netaddr.IPNetwork("10.0.0.0/24"),
    gateway_ip=netaddr.IPAddress("10.0.0.1"),
    allocation_pools=(netaddr.IPRange("10.0.0.2", "10.0.0.254"),),
    subnetpool_id=None,
    enable_dhcp=True,
)


def test_network_wire_form() -> None:
    assert network(router_external=True, is_default=True, subnets=("s-1", "s-2")).to_dict() == {
        "id": "n-1",
        "project_id": "project-a",
        "tenant_id": "project-a",
        "name": "net",
        "admin_state_up": True,
        "shared": False,
        "router:external": True,
        "is_default": True,
        "mtu": 1500,
        "status": "ACTIVE",
        "subnets": ["s-1", "s-2"],
        "description": "",
        "tags": [],
        "created_at": "",
        "updated_at": "",
        "revision_number": 0,
    }


def test_subnet_wire_form_turns_netaddr_values_into_text() -> None:
    assert SUBNET.to_dict() == {
        "id": "s-1",
        "project_id": "project-a",
        "tenant_id": "project-a",
        "network_id": "n-1",
        "name": "sub",
        "ip_version": 4,
        "cidr": "10.0.0.0/24",
        "gateway_ip": "10.0.0.1",
        "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.254"}],
        "subnetpool_id": None,
        "enable_dhcp": True,
        "description": "",
        "tags": [],
        "created_at": "",
        "updated_at": "",
        "revision_number": 0,
    }


def test_a_subnet_without_gateway_says_null() -> None:
    assert dataclasses.replace(SUBNET, gateway_ip=None).to_dict()["gateway_ip"] is None


def test_subnet_pool_wire_form() -> None:
    pool = SubnetPool(
        id="sp-1",
        project_id="admin",
        name="v6",
        ip_version=6,
        prefixes=(netaddr.IPNetwork("2001:db8::/48"),),
        default_prefixlen=64,
        min_prefixlen=64,
        max_prefixlen=128,
        shared=True,
        is_default=True,
        default_quota=None,
    )

    body = pool.to_dict()

    assert body["prefixes"] == ["2001:db8::/48"]
    assert (body["tenant_id"], body["shared"], body["is_default"], body["default_quota"]) == ("admin", True, True, None)


def test_port_wire_form_nests_fixed_ips_without_tenant_id() -> None:
    body = port("p-1", ("s-1", "10.0.0.5"), ("s-6", "2001:db8::5")).to_dict()

    assert body["fixed_ips"] == [
        {"subnet_id": "s-1", "ip_address": "10.0.0.5"},
        {"subnet_id": "s-6", "ip_address": "2001:db8::5"},
    ]
    assert body["tenant_id"] == "project-a"


def test_router_wire_form_nests_the_gateway() -> None:
    gateway = ExternalGatewayInfo(
        network_id="ext", enable_snat=True, external_fixed_ips=(FixedIP("ext-s", netaddr.IPAddress("203.0.113.4")),)
    )
    router = Router(
        id="r-1", project_id="project-a", name="r", admin_state_up=True, status="ACTIVE", external_gateway_info=gateway
    )

    assert router.to_dict()["external_gateway_info"] == {
        "network_id": "ext",
        "enable_snat": True,
        "external_fixed_ips": [{"subnet_id": "ext-s", "ip_address": "203.0.113.4"}],
    }
    assert dataclasses.replace(router, external_gateway_info=None).to_dict()["external_gateway_info"] is None


def test_floating_ip_and_router_interface_wire_forms() -> None:
    floating_ip = FloatingIP(
        id="f-1",
        project_id="project-a",
        floating_network_id="ext",
        floating_ip_address=netaddr.IPAddress("203.0.113.9"),
        port_id=None,
        fixed_ip_address=None,
        router_id=None,
        status="DOWN",
    )
    interface = RouterInterfaceInfo(
        id="r-1", project_id="project-a", network_id="n-1", port_id="p-1", subnet_id="s-1", subnet_ids=("s-1",)
    )

    assert floating_ip.to_dict()["floating_ip_address"] == "203.0.113.9"
    assert floating_ip.to_dict()["fixed_ip_address"] is None
    assert interface.to_dict() == {
        "id": "r-1",
        "project_id": "project-a",
        "tenant_id": "project-a",
        "network_id": "n-1",
        "port_id": "p-1",
        "subnet_id": "s-1",
        "subnet_ids": ["s-1"],
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (["id", "router:external"], {"id": "n-1", "router:external": False}),
        (["tenant_id"], {"tenant_id": "project-a"}),
        (["name", "no-such-field"], {"name": "net"}),
        # The Python spelling is not a wire field.
        (["router_external"], {}),
        (None, network().to_dict()),
        ([], network().to_dict()),
    ],
)
def test_fields_keeps_only_the_named_wire_keys(fields: list[str] | None, expected: dict[str, Any]) -> None:
    assert network().to_dict(fields) == expected


def test_wire_to_attribute_knows_the_wire_names_and_tenant_id() -> None:
    names = Network.wire_to_attribute()

    assert names["router:external"] == "router_external"
    assert names["tenant_id"] == "project_id"
    assert names["project_id"] == "project_id"
    assert "tenant_id" not in FixedIP.wire_to_attribute()


def test_resources_are_frozen_values() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        network().name = "renamed"  # type: ignore[misc]
    assert network() == network()
    assert network("n-1") != network("n-2")


# filter_resources

PRIVATE = network("private")
EXTERNAL = network("external", router_external=True, is_default=True, project_id="admin", subnets=("ext-s",))
SHARED = network("shared", shared=True, project_id="admin", subnets=("s-1", "s-2"), mtu=9000)
NETWORKS = [PRIVATE, EXTERNAL, SHARED]


def ids(resources: list[Any]) -> list[str]:
    return [resource.id for resource in resources]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (None, ["private", "external", "shared"]),
        ({}, ["private", "external", "shared"]),
        ({"router:external": True}, ["external"]),
        ({"router:external": "true"}, ["external"]),
        ({"router:external": "True"}, ["external"]),
        ({"router:external": "false"}, ["private", "shared"]),
        ({"router:external": ["true", "false"]}, ["private", "external", "shared"]),
        ({"router:external": "true", "is_default": "true"}, ["external"]),
        ({"router:external": "false", "shared": True}, ["shared"]),
        ({"tenant_id": "admin"}, ["external", "shared"]),
        ({"project_id": "project-a"}, ["private"]),
        ({"tenant_id": ["project-a", "admin"]}, ["private", "external", "shared"]),
        ({"id": ("private", "shared")}, ["private", "shared"]),
        ({"id": {"external"}}, ["external"]),
        ({"id": []}, []),
        ({"name": "nope"}, []),
        ({"mtu": 9000}, ["shared"]),
        ({"mtu": "9000"}, ["shared"]),
        # A list-valued attribute matches when any element does.
        ({"subnets": "s-2"}, ["shared"]),
        ({"subnets": ["ext-s", "s-1"]}, ["external", "shared"]),
    ],
)
def test_filter_networks(filters: dict[str, Any] | None, expected: list[str]) -> None:
    assert ids(filter_resources(NETWORKS, Network, filters)) == expected


def test_filter_keeps_the_order_and_returns_a_new_list() -> None:
    result = filter_resources(NETWORKS, Network, None)

    assert result == NETWORKS
    assert result is not NETWORKS


def test_filter_accepts_any_iterable_of_resources() -> None:
    assert ids(filter_resources(iter(NETWORKS), Network, {"shared": "true"})) == ["shared"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"fixed_ips": "10.0.0.5"}, ["p-1"]),
        ({"fixed_ips": "s-6"}, ["p-1", "p-2"]),
        ({"fixed_ips": ["10.0.0.5", "2001:db8::1"]}, ["p-1", "p-2"]),
        ({"fixed_ips": "10.0.0.9"}, []),
        ({"device_owner": "network:router_interface"}, ["p-2"]),
        ({"network_id": "n-1", "device_owner": ""}, ["p-1"]),
    ],
)
def test_filter_ports(filters: dict[str, Any], expected: list[str]) -> None:
    ports = [
        port("p-1", ("s-1", "10.0.0.5"), ("s-6", "2001:db8::5")),
        port("p-2", ("s-6", "2001:db8::1"), device_owner="network:router_interface"),
    ]

    assert ids(filter_resources(ports, Port, filters)) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"cidr": "10.0.0.0/24"}, ["s-1"]),
        ({"gateway_ip": "10.0.0.1"}, ["s-1"]),
        ({"ip_version": 4}, ["s-1"]),
        ({"ip_version": "6"}, []),
        ({"enable_dhcp": "true"}, ["s-1"]),
    ],
)
def test_filter_subnets_by_address_values(filters: dict[str, Any], expected: list[str]) -> None:
    assert ids(filter_resources([SUBNET], Subnet, filters)) == expected


@pytest.mark.parametrize(
    ("resource_type", "key"),
    [(Network, "colour"), (Network, "router:internal"), (Subnet, "router:external"), (Port, "tenant")],
)
def test_an_unknown_filter_key_is_a_bad_request_naming_it(resource_type: type[Resource], key: str) -> None:
    with pytest.raises(BadRequest) as caught:
        filter_resources([], resource_type, {"id": "x", key: "y"})

    error = caught.value
    assert (error.resource, error.attribute) == (resource_type.RESOURCE, key)
    assert (
        str(error)
        == f"Invalid {resource_type.RESOURCE} attribute '{key}': is not an attribute that can be filtered on."
    )


# Filter validation


def test_parse_filters_gives_every_key_a_tuple_of_its_values() -> None:
    network = netaddr.IPNetwork("10.0.0.0/8")

    checked = parse_filters(Subnet, {"name": "a", "cidr": network, "id": iter(["x", "y"]), "ip_version": 4})

    assert checked == {"name": ("a",), "cidr": (network,), "id": ("x", "y"), "ip_version": (4,)}
    assert parse_filters(Network, None) == {}


@pytest.mark.parametrize(
    ("filters", "attribute", "reason"),
    [
        ([("name", "x")], "filters", "must be a mapping of attribute to values, not list"),
        ("name=x", "filters", "must be a mapping of attribute to values, not str"),
        ({7: "x"}, "filters", "keys are attribute names, not int"),
        ({"na\x1bme": "x"}, "filters", "a key holds the control character U+001B at position 2"),
        ({"name": "a\x00"}, "name", "a value holds the control character U+0000 at position 1"),
        ({"name": ["ok", "\udc00"]}, "name", "a value holds a lone surrogate U+DC00 at position 0"),
        ({"name": "n" * 256}, "name", "a value is 256 characters long, the limit is 255"),
        ({"name": b"x"}, "name", "filter values are strings, numbers or booleans, not bytes"),
        ({"name": {"a": 1}}, "name", "filter values are strings, numbers or booleans, not dict"),
        ({"name": float("inf")}, "name", "filter values are strings, numbers or booleans, not float"),
        ({"id": 2**63}, "id", "9223372036854775808 is out of range of a 64-bit integer"),
        ({"mtu": "15OO"}, "mtu", "'15OO' is not a 64-bit integer"),
        ({"mtu": "\u0661\u0665"}, "mtu", "'\u0661\u0665' is not a 64-bit integer"),
        ({"mtu": False}, "mtu", "must be an integer, not a boolean"),
        ({"name": ["x"] * (MAX_FILTER_VALUES + 1)}, "name", f"lists more than {MAX_FILTER_VALUES} values"),
    ],
)
def test_parse_filters_refuses_malformed_filters_naming_the_key(filters: Any, attribute: str, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_filters(Network, filters)

    assert (caught.value.resource, caught.value.attribute, caught.value.reason) == ("network", attribute, reason)


def test_parse_filters_accepts_integers_in_decimal_text_and_negative() -> None:
    assert parse_filters(Network, {"mtu": ["1500", "-1", 9000]}) == {"mtu": ("1500", "-1", 9000)}


def test_filter_resources_refuses_what_parse_filters_refuses() -> None:
    with pytest.raises(BadRequest) as caught:
        filter_resources(NETWORKS, Network, {"name": [["nested"]]})

    assert caught.value.attribute == "name"


def test_a_network_value_is_one_filter_value_not_its_addresses() -> None:
    assert filter_values(netaddr.IPNetwork("10.0.0.0/8")) == {"10.0.0.0/8"}
    assert ids(filter_resources([SUBNET], Subnet, {"cidr": netaddr.IPNetwork("10.0.0.0/24")})) == ["s-1"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("plain", None),
        ("caf\u00e9 \u540d", None),
        ("\t", "holds the control character U+0009 at position 0"),
        ("ab\x9b", "holds the control character U+009B at position 2"),
        ("\u2066x", "holds the control character U+2066 at position 0"),
        ("x\ud83d", "holds a lone surrogate U+D83D at position 1"),
    ],
)
def test_unsafe_text_reason(text: str, reason: str | None) -> None:
    assert unsafe_text_reason(text) == reason
