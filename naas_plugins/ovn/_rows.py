"""The mapping: which OVN northbound rows realize each naas resource, as ML2/OVN lays them out.

A pure function of the typed states of :mod:`naas.backends`: no I/O, so the
backend's precommit can run it and its sync can compare what it returns with
what the northbound database holds.

=========================  ====================================================================
naas                       OVN northbound
=========================  ====================================================================
network                    ``Logical_Switch`` ``naas-<network id>``; on a ``router:external``
                           network also a ``localnet`` port ``provnet-<network id>``
subnet with DHCP           a ``DHCP_Options`` row (IPv4: OVN's native DHCP; IPv6: DHCPv6, with
                           router advertisements from the router port)
port                       ``Logical_Switch_Port`` ``<port id>``, its MAC and addresses, and
                           port security; a router's ports are ``router`` ports peered with the
                           router port ``lrp-<port id>``; a floating IP's port has no row
router                     ``Logical_Router`` ``naas-<router id>``
interface                  ``Logical_Router_Port`` ``lrp-<port id>``
gateway                    ``Logical_Router_Port`` ``lrp-<port id>`` with ``Gateway_Chassis``
                           rows, a default route to the external subnet's gateway, and one
                           ``snat`` ``NAT`` row per IPv4 interface subnet when SNAT is on
floating IP                a ``dnat_and_snat`` ``NAT`` row on its router
=========================  ====================================================================

Every row carries ``external_ids`` ``naas:owner`` (``<resource type>:<id>``,
the resource whose change writes it) and ``naas:revision_number``, and has a
UUID derived from what it is (:func:`row_uuid`), so a row is found by its
UUID alone and two writers creating the same row cannot both succeed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import netaddr

from naas.backends import FloatingIPState, NetworkState, PortState, ResourceState, RouterState
from naas.events import ResourceType
from naas.resources import (
    DEVICE_OWNER_FLOATINGIP,
    DEVICE_OWNER_ROUTER_GATEWAY,
    DEVICE_OWNER_ROUTER_INTERFACE,
    FloatingIP,
    Network,
    Port,
    Router,
    Subnet,
)

__all__ = [
    "CHILD_OF",
    "OWNER_KEY",
    "REVISION_KEY",
    "ROOT_TABLES",
    "TABLES",
    "Parent",
    "RowSpec",
    "Settings",
    "dhcp_server_mac",
    "owner_key",
    "parse_owner",
    "revision",
    "router_name",
    "row_uuid",
    "rows_for",
    "switch_name",
]

OWNER_KEY = "naas:owner"
"""``external_ids`` key naming the naas resource a row belongs to: ``network:<id>``, ``port:<id>`` ..."""
REVISION_KEY = "naas:revision_number"
"""``external_ids`` key holding the revision of the resource the row was written from."""

ROOT_TABLES = ("Logical_Switch", "Logical_Router", "DHCP_Options")
CHILD_OF: Mapping[str, tuple[str, str]] = {
    "Logical_Switch_Port": ("Logical_Switch", "ports"),
    "Logical_Router_Port": ("Logical_Router", "ports"),
    "NAT": ("Logical_Router", "nat"),
    "Logical_Router_Static_Route": ("Logical_Router", "static_routes"),
    "Gateway_Chassis": ("Logical_Router_Port", "gateway_chassis"),
}
"""Each non-root table naas writes, with the table and column holding its rows."""
TABLES = (*ROOT_TABLES, *CHILD_OF)

_NAMESPACE = uuid.UUID("6f1c1a52-3d1e-5b7a-9a43-2f7c0e0a7b55")
_DHCP_LEASE_TIME = 43200  # seconds, ML2/OVN's default


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the mapping takes from the configuration."""

    gateway_chassis: tuple[str, ...] = ()
    physical_network: str = "physnet"


@dataclasses.dataclass(frozen=True)
class Parent:
    """The row and column that hold a non-root row."""

    table: str
    uuid: uuid.UUID
    column: str
    label: str


@dataclasses.dataclass(frozen=True)
class RowSpec:
    """One row as naas wants it: its table, UUID, the columns naas sets, and its parent (non-root rows)."""

    table: str
    uuid: uuid.UUID
    label: str
    columns: Mapping[str, Any]
    parent: Parent | None = None


@functools.lru_cache(maxsize=1 << 16)
def _text(value: netaddr.IPAddress | netaddr.IPNetwork) -> str:
    # netaddr spells an IPv6 address slowly; a sync spells every address of every resource.
    return str(value)


@functools.lru_cache(maxsize=1 << 17)
def row_uuid(table: str, identity: str) -> uuid.UUID:
    """The UUID of the naas row of ``table`` that ``identity`` names: the same in every process."""
    return uuid.uuid5(_NAMESPACE, f"{table}/{identity}")


def switch_name(network_id: str) -> str:
    """The ``Logical_Switch`` name of a network."""
    return f"naas-{network_id}"


def router_name(router_id: str) -> str:
    """The ``Logical_Router`` name of a router."""
    return f"naas-{router_id}"


def owner_key(resource_type: ResourceType, resource_id: str) -> str:
    """The ``naas:owner`` value of a resource's rows."""
    return f"{resource_type.value}:{resource_id}"


def parse_owner(value: str) -> tuple[ResourceType, str] | None:
    """The resource type and id an ``naas:owner`` value names, or None when it names none naas knows."""
    kind, _, resource_id = value.partition(":")
    try:
        return ResourceType(kind), resource_id
    except ValueError:
        return None


def revision(resource: Network | Subnet | Port | Router | FloatingIP) -> str:
    """The resource's ``revision_number``, as ``external_ids`` hold it."""
    return str(resource.revision_number)


def dhcp_server_mac(subnet_id: str) -> str:
    """The MAC OVN's DHCP server answers from on a subnet: locally administered, derived from the subnet id."""
    digest = hashlib.sha256(subnet_id.encode()).digest()
    return "0a:" + ":".join(f"{byte:02x}" for byte in digest[:5])


def _ids(resource_type: ResourceType, resource: Network | Port | FloatingIP, **extra: str) -> dict[str, str]:
    return {OWNER_KEY: owner_key(resource_type, resource.id), REVISION_KEY: revision(resource), **extra}


def _switch_parent(network_id: str) -> Parent:
    name = switch_name(network_id)
    return Parent("Logical_Switch", row_uuid("Logical_Switch", network_id), "ports", f"Logical_Switch {name}")


def _router_parent(router_id: str, column: str) -> Parent:
    name = router_name(router_id)
    return Parent("Logical_Router", row_uuid("Logical_Router", router_id), column, f"Logical_Router {name}")


def _dhcp_uuid(subnet_id: str) -> uuid.UUID:
    return row_uuid("DHCP_Options", subnet_id)


def _network_rows(state: NetworkState, settings: Settings) -> list[RowSpec]:
    network = state.network
    name = switch_name(network.id)
    rows = [
        RowSpec(
            "Logical_Switch",
            row_uuid("Logical_Switch", network.id),
            f"Logical_Switch {name}",
            {
                "name": name,
                "external_ids": _ids(
                    ResourceType.NETWORK, network, **{"naas:network_name": network.name, "naas:mtu": str(network.mtu)}
                ),
            },
        )
    ]
    if network.router_external:
        localnet = f"provnet-{network.id}"
        rows.append(
            RowSpec(
                "Logical_Switch_Port",
                row_uuid("Logical_Switch_Port", localnet),
                f"Logical_Switch_Port {localnet}",
                {
                    "name": localnet,
                    "type": "localnet",
                    "addresses": ["unknown"],
                    "options": {"network_name": settings.physical_network},
                    "external_ids": _ids(ResourceType.NETWORK, network),
                },
                _switch_parent(network.id),
            )
        )
    rows.extend(_dhcp_row(network, subnet) for subnet in state.subnets if subnet.enable_dhcp)
    return rows


def _dhcp_row(network: Network, subnet: Subnet) -> RowSpec:
    server_mac = dhcp_server_mac(subnet.id)
    if subnet.ip_version == 4:
        server_ip = subnet.gateway_ip if subnet.gateway_ip is not None else subnet.cidr[1]
        options = {
            "server_id": _text(server_ip),
            "server_mac": server_mac,
            "lease_time": str(_DHCP_LEASE_TIME),
            "mtu": str(network.mtu),
        }
        if subnet.gateway_ip is not None:
            options["router"] = _text(subnet.gateway_ip)
    else:
        options = {"server_id": server_mac}
    external_ids = {
        OWNER_KEY: owner_key(ResourceType.NETWORK, network.id),
        REVISION_KEY: revision(subnet),
        "naas:subnet_id": subnet.id,
    }
    return RowSpec(
        "DHCP_Options",
        _dhcp_uuid(subnet.id),
        f"DHCP_Options {_text(subnet.cidr)} (subnet {subnet.id})",
        {"cidr": _text(subnet.cidr), "options": options, "external_ids": external_ids},
    )


def _addresses(port: Port) -> str:
    return " ".join([port.mac_address, *(_text(fixed.ip_address) for fixed in port.fixed_ips)])


def _port_rows(state: PortState) -> list[RowSpec]:
    port = state.port
    if port.device_owner == DEVICE_OWNER_FLOATINGIP:
        return []  # as in ML2/OVN: the NAT row of the floating IP holds its address
    by_id = {subnet.id: subnet for subnet in state.subnets}
    cidrs = " ".join(f"{_text(fixed.ip_address)}/{by_id[fixed.subnet_id].cidr.prefixlen}" for fixed in port.fixed_ips)
    external_ids = _ids(
        ResourceType.PORT,
        port,
        **{
            "naas:port_name": port.name,
            "naas:device_owner": port.device_owner,
            "naas:device_id": port.device_id,
            "naas:network_id": port.network_id,
            "naas:cidrs": cidrs,
        },
    )
    columns: dict[str, Any] = {"name": port.id, "enabled": [port.admin_state_up], "external_ids": external_ids}
    if port.device_owner in (DEVICE_OWNER_ROUTER_INTERFACE, DEVICE_OWNER_ROUTER_GATEWAY):
        options = {"router-port": f"lrp-{port.id}"}
        if port.device_owner == DEVICE_OWNER_ROUTER_GATEWAY:
            options["nat-addresses"] = "router"
        columns.update(
            type="router",
            addresses=["router"],
            port_security=[],
            options=options,
            dhcpv4_options=[],
            dhcpv6_options=[],
        )
    else:
        dhcp: dict[int, list[uuid.UUID]] = {4: [], 6: []}
        for fixed in port.fixed_ips:
            subnet = by_id[fixed.subnet_id]
            if subnet.enable_dhcp and not dhcp[subnet.ip_version]:
                dhcp[subnet.ip_version].append(_dhcp_uuid(subnet.id))
        columns.update(
            type="",
            addresses=[_addresses(port)],
            port_security=[_addresses(port)],
            options={},
            dhcpv4_options=dhcp[4],
            dhcpv6_options=dhcp[6],
        )
    return [
        RowSpec(
            "Logical_Switch_Port",
            row_uuid("Logical_Switch_Port", port.id),
            f"Logical_Switch_Port {port.id}",
            columns,
            _switch_parent(port.network_id),
        )
    ]


def _router_rows(state: RouterState, settings: Settings) -> list[RowSpec]:
    router = state.router
    name = router_name(router.id)
    owner = {OWNER_KEY: owner_key(ResourceType.ROUTER, router.id), REVISION_KEY: revision(router)}
    rows = [
        RowSpec(
            "Logical_Router",
            row_uuid("Logical_Router", router.id),
            f"Logical_Router {name}",
            {
                "name": name,
                "enabled": [router.admin_state_up],
                "external_ids": {**owner, "naas:router_name": router.name},
            },
        )
    ]
    interfaces: dict[str, list[Any]] = {}
    for interface in state.interfaces:
        interfaces.setdefault(interface.port_id, []).append(interface)
    for port_id, on_port in interfaces.items():
        lrp = f"lrp-{port_id}"
        networks = [f"{_text(item.ip_address)}/{item.subnet.cidr.prefixlen}" for item in on_port]
        ra = {}
        if any(item.subnet.ip_version == 6 for item in on_port):
            ra = {"address_mode": "dhcpv6_stateful", "send_periodic": "true"}
        rows.append(
            RowSpec(
                "Logical_Router_Port",
                row_uuid("Logical_Router_Port", lrp),
                f"Logical_Router_Port {lrp}",
                {
                    "name": lrp,
                    "mac": on_port[0].mac_address,
                    "networks": networks,
                    "ipv6_ra_configs": ra,
                    "gateway_chassis": [],
                    "external_ids": {
                        **owner,
                        "naas:port_id": port_id,
                        "naas:network_id": on_port[0].network_id,
                        "naas:subnet_ids": " ".join(item.subnet.id for item in on_port),
                    },
                },
                _router_parent(router.id, "ports"),
            )
        )
    gateway = state.gateway
    if gateway is None:
        return rows
    lrp = f"lrp-{gateway.port_id}"
    lrp_uuid = row_uuid("Logical_Router_Port", lrp)
    subnets = {subnet.id: subnet for subnet in gateway.external_subnets}
    chassis_rows = []
    for rank, chassis in enumerate(settings.gateway_chassis):
        chassis_name = f"{lrp}_{chassis}"
        chassis_rows.append(
            RowSpec(
                "Gateway_Chassis",
                row_uuid("Gateway_Chassis", chassis_name),
                f"Gateway_Chassis {chassis_name}",
                {
                    "name": chassis_name,
                    "chassis_name": chassis,
                    "priority": len(settings.gateway_chassis) - rank,
                    "external_ids": dict(owner),
                },
                Parent("Logical_Router_Port", lrp_uuid, "gateway_chassis", f"Logical_Router_Port {lrp}"),
            )
        )
    rows.append(
        RowSpec(
            "Logical_Router_Port",
            lrp_uuid,
            f"Logical_Router_Port {lrp}",
            {
                "name": lrp,
                "mac": gateway.mac_address,
                "networks": [
                    f"{_text(fixed.ip_address)}/{subnets[fixed.subnet_id].cidr.prefixlen}"
                    for fixed in gateway.external_fixed_ips
                ],
                "ipv6_ra_configs": {},
                "gateway_chassis": [row.uuid for row in chassis_rows],
                "external_ids": {
                    **owner,
                    "naas:port_id": gateway.port_id,
                    "naas:network_id": gateway.network_id,
                    "naas:is_ext_gw": "true",
                },
            },
            _router_parent(router.id, "ports"),
        )
    )
    rows.extend(chassis_rows)
    external_v4: netaddr.IPAddress | None = None
    for fixed in gateway.external_fixed_ips:
        subnet = subnets[fixed.subnet_id]
        if fixed.ip_address.version == 4 and external_v4 is None:
            external_v4 = fixed.ip_address
        if subnet.gateway_ip is None:
            continue
        prefix = "0.0.0.0/0" if subnet.ip_version == 4 else "::/0"
        identity = f"{router.id}/{prefix}/{_text(subnet.gateway_ip)}"
        rows.append(
            RowSpec(
                "Logical_Router_Static_Route",
                row_uuid("Logical_Router_Static_Route", identity),
                f"Logical_Router_Static_Route {prefix} via {_text(subnet.gateway_ip)}",
                {
                    "ip_prefix": prefix,
                    "nexthop": _text(subnet.gateway_ip),
                    "external_ids": {**owner, "naas:is_ext_gw": "true", "naas:subnet_id": subnet.id},
                },
                _router_parent(router.id, "static_routes"),
            )
        )
    if gateway.enable_snat and external_v4 is not None:
        for cidr in dict.fromkeys(_text(i.subnet.cidr) for i in state.interfaces if i.subnet.ip_version == 4):
            rows.append(
                RowSpec(
                    "NAT",
                    row_uuid("NAT", f"{router.id}/snat/{_text(cidr)}"),
                    f"NAT snat {_text(external_v4)} {_text(cidr)}",
                    {
                        "type": "snat",
                        "external_ip": _text(external_v4),
                        "logical_ip": cidr,
                        "logical_port": [],
                        "external_ids": dict(owner),
                    },
                    _router_parent(router.id, "nat"),
                )
            )
    return rows


def _floatingip_rows(state: FloatingIPState) -> list[RowSpec]:
    fip = state.floatingip
    if fip.port_id is None or fip.router_id is None or fip.fixed_ip_address is None:
        return []
    return [
        RowSpec(
            "NAT",
            row_uuid("NAT", f"{fip.id}/{fip.router_id}"),
            f"NAT dnat_and_snat {_text(fip.floating_ip_address)} {_text(fip.fixed_ip_address)}",
            {
                "type": "dnat_and_snat",
                "external_ip": _text(fip.floating_ip_address),
                "logical_ip": _text(fip.fixed_ip_address),
                "logical_port": [fip.port_id],
                "external_ids": _ids(
                    ResourceType.FLOATINGIP,
                    fip,
                    **{"naas:port_id": fip.port_id, "naas:floating_network_id": fip.floating_network_id},
                ),
            },
            _router_parent(fip.router_id, "nat"),
        )
    ]


def rows_for(state: ResourceState, settings: Settings) -> Sequence[RowSpec]:
    """Every row that realizes ``state``, parents before their children; the first is the resource's own.

    A floating IP's port and an unassociated floating IP have none.
    """
    if isinstance(state, NetworkState):
        return _network_rows(state, settings)
    if isinstance(state, PortState):
        return _port_rows(state)
    if isinstance(state, RouterState):
        return _router_rows(state, settings)
    return _floatingip_rows(state)
