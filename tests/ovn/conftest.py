"""A private OVN control plane for the ovn backend's tests, and a readable picture of its northbound database.

One control plane (NB, SB, ovn-northd, under a temporary directory, no root)
serves the whole session; every test starts from an empty northbound
database. Without OVN the tests skip with the reason; with
``NAAS_TEST_REQUIRE_BACKENDS`` naming ``ovn`` they fail instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from naas_plugins.ovn.testing import ControlPlane

GATEWAY_CHASSIS = "naas-test-gw"
PHYSICAL_NETWORK = "physnet"


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    with ControlPlane.started() as plane:
        yield plane


@pytest.fixture
def ovn(control_plane: ControlPlane) -> ControlPlane:
    """The session's control plane, its northbound database emptied for this test."""
    empty_northbound(control_plane)
    return control_plane


def empty_northbound(plane: ControlPlane) -> None:
    """Delete every root row naas could have written (their children go with them)."""
    plane.nbctl(
        "--", "--all", "destroy", "Logical_Switch",
        "--", "--all", "destroy", "Logical_Router",
        "--", "--all", "destroy", "DHCP_Options",
    )  # fmt: skip


def _decode(value: Any) -> Any:
    """ovn-nbctl's JSON (OVSDB's encoding) as Python: sets as sorted lists, maps as dicts, UUIDs as text."""
    if isinstance(value, list) and len(value) == 2 and value[0] in ("set", "map", "uuid", "named-uuid"):
        kind, inner = value
        if kind == "set":
            return sorted((_decode(item) for item in inner), key=str)
        if kind == "map":
            return {_decode(key): _decode(item) for key, item in inner}
        return inner
    return value


def table(plane: ControlPlane, name: str) -> dict[str, dict[str, Any]]:
    """Every row of table ``name``, by UUID, each a dict of its columns."""
    listing = json.loads(plane.nbctl("--format=json", "list", name))
    rows = [dict(zip(listing["headings"], (_decode(cell) for cell in row), strict=True)) for row in listing["data"]]
    return {row["_uuid"]: row for row in rows}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def northbound(plane: ControlPlane) -> dict[str, Any]:
    """The whole northbound database, by names and addresses instead of row UUIDs.

    ``switches``: name → ``ports`` (name → type, addresses, port security,
    options, enabled, the CIDRs of its DHCP options); ``dhcp``: CIDR →
    options; ``routers``: name → ``enabled``, ``ports`` (name → MAC,
    networks, IPv6 RA, gateway chassis with priorities), ``nat`` (type,
    external IP, logical IP, logical port) and ``routes`` (prefix, next hop).
    """
    dhcp = table(plane, "DHCP_Options")
    lsps = table(plane, "Logical_Switch_Port")
    lrps = table(plane, "Logical_Router_Port")
    nats = table(plane, "NAT")
    routes = table(plane, "Logical_Router_Static_Route")
    chassis = table(plane, "Gateway_Chassis")

    def dhcp_cidr(refs: Any) -> str | None:
        refs = _as_list(refs)
        return dhcp[refs[0]]["cidr"] if refs else None

    def switch_port(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": row["type"],
            "addresses": _as_list(row["addresses"]),
            "port_security": _as_list(row["port_security"]),
            "options": row["options"],
            "enabled": _as_list(row["enabled"]),
            "dhcpv4": dhcp_cidr(row["dhcpv4_options"]),
            "dhcpv6": dhcp_cidr(row["dhcpv6_options"]),
        }

    def router_port(row: dict[str, Any]) -> dict[str, Any]:
        held = [chassis[ref] for ref in _as_list(row["gateway_chassis"])]
        return {
            "mac": row["mac"],
            "networks": sorted(_as_list(row["networks"])),
            "ipv6_ra_configs": row["ipv6_ra_configs"],
            "gateway_chassis": sorted((c["chassis_name"], c["priority"]) for c in held),
        }

    def nat(row: dict[str, Any]) -> tuple[Any, ...]:
        return (row["type"], row["external_ip"], row["logical_ip"], _as_list(row["logical_port"]))

    switches = {
        row["name"]: {"ports": {lsps[ref]["name"]: switch_port(lsps[ref]) for ref in _as_list(row["ports"])}}
        for row in table(plane, "Logical_Switch").values()
    }
    routers = {
        row["name"]: {
            "enabled": _as_list(row["enabled"]),
            "ports": {lrps[ref]["name"]: router_port(lrps[ref]) for ref in _as_list(row["ports"])},
            "nat": sorted(
                (
                    nats[ref]["type"],
                    nats[ref]["external_ip"],
                    nats[ref]["logical_ip"],
                    _as_list(nats[ref]["logical_port"]),
                )
                for ref in _as_list(row["nat"])
            ),
            "routes": sorted(
                (routes[ref]["ip_prefix"], routes[ref]["nexthop"]) for ref in _as_list(row["static_routes"])
            ),
        }
        for row in table(plane, "Logical_Router").values()
    }
    return {
        "switches": switches,
        "dhcp": {row["cidr"]: row["options"] for row in dhcp.values()},
        "routers": routers,
    }


def naas_rows(plane: ControlPlane) -> list[str]:
    """Every row of the tables naas writes that carries a ``naas:owner``: ``table owner``."""
    found = []
    for name in (
        "Logical_Switch",
        "Logical_Switch_Port",
        "DHCP_Options",
        "Logical_Router",
        "Logical_Router_Port",
        "NAT",
        "Logical_Router_Static_Route",
        "Gateway_Chassis",
    ):
        found += [
            f"{name} {row['external_ids']['naas:owner']}"
            for row in table(plane, name).values()
            if "naas:owner" in row["external_ids"]
        ]
    return sorted(found)
