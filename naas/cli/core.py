"""Commands for the core plugin's resources: networks, subnets, subnet pools and ports.

Options follow the openstack client's: ``--share/--no-share``,
``--enable/--disable``, ``--external/--internal``, ``--default/--no-default``,
``--dhcp/--no-dhcp``. ``set`` and ``unset`` print nothing on success. The
options for ``description`` and ``tags`` (``--description``, ``--tag``,
``--no-tag``, ``--all-tag``, ``list --tags --any-tags --not-tags
--not-any-tags``), which every resource has, come from the bases in
:mod:`naas.cli.resources`.
"""

from __future__ import annotations

import argparse
from typing import Any

from naas.cli.base import add_switch, parse_key_values
from naas.cli.errors import CommandError
from naas.cli.output import AdminStateColumn, RouterTypeColumn
from naas.cli.resources import (
    TAGS_COLUMN,
    Column,
    CreateResource,
    DeleteResources,
    Kind,
    ListResources,
    SetResource,
    ShowResource,
    UnsetResource,
    find_id,
    without_none,
)
from naas.cli.session import Session
from naas.resources import Port, Resource, Subnet, SubnetPool

__all__ = [
    "ENABLE_SWITCH",
    "NETWORK",
    "PORT",
    "SHARE_SWITCH",
    "SUBNET",
    "SUBNET_POOL",
    "fixed_ip_request",
    "parse_fixed_ip",
]

_ID, _NAME, _PROJECT = Column("ID", "id"), Column("Name", "name"), Column("Project", "project_id")
_STATE = Column("State", "admin_state_up", AdminStateColumn)

NETWORK = Kind(
    label="network",
    plural="networks",
    plugin="core",
    resource="network",
    list_columns=(_ID, _NAME, Column("Subnets", "subnets")),
    long_columns=(
        _ID,
        _NAME,
        Column("Status", "status"),
        _PROJECT,
        _STATE,
        Column("Shared", "shared"),
        Column("Subnets", "subnets"),
        Column("Router Type", "router:external", RouterTypeColumn),
        TAGS_COLUMN,
    ),
)
SUBNET = Kind(
    label="subnet",
    plural="subnets",
    plugin="core",
    resource="subnet",
    list_columns=(_ID, _NAME, Column("Network", "network_id"), Column("Subnet", "cidr")),
    long_columns=(
        _ID,
        _NAME,
        Column("Network", "network_id"),
        Column("Subnet", "cidr"),
        _PROJECT,
        Column("DHCP", "enable_dhcp"),
        Column("Allocation Pools", "allocation_pools"),
        Column("IP Version", "ip_version"),
        Column("Gateway", "gateway_ip"),
        TAGS_COLUMN,
    ),
)
SUBNET_POOL = Kind(
    label="subnet pool",
    plural="subnet pools",
    plugin="core",
    resource="subnetpool",
    list_columns=(_ID, _NAME, Column("Prefixes", "prefixes")),
    long_columns=(
        _ID,
        _NAME,
        Column("Prefixes", "prefixes"),
        Column("Default Prefix Length", "default_prefixlen"),
        Column("Default Subnet Pool", "is_default"),
        Column("Shared", "shared"),
        TAGS_COLUMN,
    ),
)
_PORT_COLUMNS = (
    _ID,
    _NAME,
    Column("MAC Address", "mac_address"),
    Column("Fixed IP Addresses", "fixed_ips"),
    Column("Status", "status"),
)
PORT = Kind(
    label="port",
    plural="ports",
    plugin="core",
    resource="port",
    list_columns=_PORT_COLUMNS,
    long_columns=(*_PORT_COLUMNS, Column("Device Owner", "device_owner"), _PROJECT, TAGS_COLUMN),
)

SHARE_SWITCH = (("--share", "Usable by every project."), ("--no-share", "Usable by its own project only."))
ENABLE_SWITCH = (("--enable", "Administratively up."), ("--disable", "Administratively down."))


# Networks


def _add_network_switches(parser: argparse.ArgumentParser) -> None:
    add_switch(parser, "shared", *SHARE_SWITCH)
    add_switch(parser, "admin_state_up", *ENABLE_SWITCH)
    add_switch(
        parser,
        "router_external",
        ("--external", "An external network (router:external): router gateways and floating IPs."),
        ("--internal", "An internal network."),
    )
    add_switch(
        parser,
        "is_default",
        ("--default", "The default external network, which get-me-a-network uses."),
        ("--no-default", "Not the default external network."),
    )


def _network_switches(parsed_args: argparse.Namespace) -> dict[str, Any]:
    return {
        "shared": parsed_args.shared,
        "admin_state_up": parsed_args.admin_state_up,
        "router:external": parsed_args.router_external,
        "is_default": parsed_args.is_default,
    }


class ListNetworks(ListResources):
    """List networks."""

    kind = NETWORK

    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        _add_network_switches(parser)

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return without_none(_network_switches(parsed_args))


class ShowNetwork(ShowResource):
    """Show a network."""

    kind = NETWORK


class CreateNetwork(CreateResource):
    """Create a network."""

    kind = NETWORK

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _add_network_switches(parser)
        parser.add_argument("--mtu", type=int, metavar="MTU", help="Maximum transmission unit (default: 1500).")

    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return without_none({**_network_switches(parsed_args), "mtu": parsed_args.mtu})


class SetNetwork(SetResource):
    """Set network attributes."""

    kind = NETWORK

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", help="A new name.")
        _add_network_switches(parser)

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        return without_none({"name": parsed_args.name, **_network_switches(parsed_args)})


class UnsetNetwork(UnsetResource):
    """Clear network attributes."""

    kind = NETWORK

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", action="store_true", help="Clear the name.")

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        return {"name": ""} if parsed_args.name else {}


class DeleteNetworks(DeleteResources):
    """Delete networks."""

    kind = NETWORK


# Subnets


def _allocation_pool(text: str) -> dict[str, str]:
    return parse_key_values(text, "--allocation-pool", ("start", "end"))


def _add_dhcp_switch(parser: argparse.ArgumentParser) -> None:
    add_switch(
        parser,
        "enable_dhcp",
        ("--dhcp", "Serve addresses by DHCP (the default)."),
        ("--no-dhcp", "No DHCP on this subnet."),
    )


def _add_allocation_pool_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--allocation-pool", metavar="start=IP,end=IP", action="append", type=_allocation_pool, help=help_text
    )


def _gateway_ip(text: str) -> str | None:
    """``--gateway`` as a ``gateway_ip``: an address, or None for 'none'."""
    return None if text.lower() == "none" else text


class ListSubnets(ListResources):
    """List subnets."""

    kind = SUBNET

    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--network", metavar="NETWORK", help="Only the subnets of this network (name or ID).")
        parser.add_argument("--ip-version", type=int, choices=(4, 6), help="Only subnets of this IP version.")
        _add_dhcp_switch(parser)

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        filters: dict[str, Any] = {"ip_version": parsed_args.ip_version, "enable_dhcp": parsed_args.enable_dhcp}
        if parsed_args.network:
            filters["network_id"] = find_id(self.session, NETWORK, parsed_args.network)
        return without_none(filters)


class ShowSubnet(ShowResource):
    """Show a subnet."""

    kind = SUBNET


class CreateSubnet(CreateResource):
    """Create a subnet, with an explicit range or a prefix from a subnet pool."""

    kind = SUBNET

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--network", metavar="NETWORK", required=True, help="The network (name or ID).")
        parser.add_argument("--subnet-range", metavar="CIDR", help="The subnet's CIDR.")
        pool = parser.add_mutually_exclusive_group()
        pool.add_argument("--subnet-pool", metavar="POOL", help="Take the prefix from this pool (name or ID).")
        pool.add_argument(
            "--use-default-subnet-pool", action="store_true", help="Take the prefix from the default pool."
        )
        parser.add_argument("--prefix-length", type=int, metavar="LENGTH", help="Prefix length taken from the pool.")
        parser.add_argument("--ip-version", type=int, choices=(4, 6), help="IP version (implied by a CIDR).")
        parser.add_argument(
            "--gateway",
            metavar="GATEWAY",
            default="auto",
            help="The gateway address, 'auto' (the first address, the default) or 'none'.",
        )
        _add_allocation_pool_option(
            parser, "Range ports take addresses from; repeat for several (default: the whole subnet)."
        )
        _add_dhcp_switch(parser)

    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body: dict[str, Any] = {
            "network_id": find_id(self.session, NETWORK, parsed_args.network),
            "cidr": parsed_args.subnet_range,
            "prefixlen": parsed_args.prefix_length,
            "ip_version": parsed_args.ip_version,
            "allocation_pools": parsed_args.allocation_pool,
            "enable_dhcp": parsed_args.enable_dhcp,
        }
        if parsed_args.subnet_pool:
            body["subnetpool_id"] = find_id(self.session, SUBNET_POOL, parsed_args.subnet_pool)
        if parsed_args.use_default_subnet_pool:
            body["use_default_subnetpool"] = True
        body = without_none(body)
        if parsed_args.gateway.lower() != "auto":
            body["gateway_ip"] = _gateway_ip(parsed_args.gateway)
        return body


def _pool_ranges(subnet: Subnet) -> list[dict[str, str]]:
    return [
        {"start": str(netaddr_range[0]), "end": str(netaddr_range[-1])} for netaddr_range in subnet.allocation_pools
    ]


class SetSubnet(SetResource):
    """Set subnet attributes."""

    kind = SUBNET

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", help="A new name.")
        parser.add_argument("--gateway", metavar="GATEWAY", help="A new gateway address, or 'none' for no gateway.")
        _add_allocation_pool_option(parser, "Add an allocation pool; repeat for several.")
        parser.add_argument(
            "--no-allocation-pool",
            action="store_true",
            help="Remove the existing allocation pools (with --allocation-pool: replace them).",
        )
        _add_dhcp_switch(parser)

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        assert isinstance(current, Subnet)
        changes = without_none({"name": parsed_args.name, "enable_dhcp": parsed_args.enable_dhcp})
        if parsed_args.gateway is not None:
            changes["gateway_ip"] = _gateway_ip(parsed_args.gateway)
        if parsed_args.allocation_pool or parsed_args.no_allocation_pool:
            kept = [] if parsed_args.no_allocation_pool else _pool_ranges(current)
            changes["allocation_pools"] = kept + (parsed_args.allocation_pool or [])
        return changes


class UnsetSubnet(UnsetResource):
    """Remove allocation pools from a subnet, or clear its name."""

    kind = SUBNET

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", action="store_true", help="Clear the name.")
        _add_allocation_pool_option(parser, "Remove this allocation pool; repeat for several.")

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        assert isinstance(current, Subnet)
        changes: dict[str, Any] = {"name": ""} if parsed_args.name else {}
        if parsed_args.allocation_pool:
            pools = _pool_ranges(current)
            for removed in parsed_args.allocation_pool:
                if removed not in pools:
                    raise CommandError(
                        f"Subnet {current.id} has no allocation pool start={removed['start']},end={removed['end']}"
                    )
                pools.remove(removed)
            changes["allocation_pools"] = pools
        return changes


class DeleteSubnets(DeleteResources):
    """Delete subnets."""

    kind = SUBNET


# Subnet pools


def _add_default_pool_switch(parser: argparse.ArgumentParser) -> None:
    add_switch(
        parser,
        "is_default",
        ("--default", "The default pool of its IP version, which get-me-a-network uses."),
        ("--no-default", "Not the default pool."),
    )


def _add_pool_bounds(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--default-prefix-length", type=int, metavar="LENGTH")
    parser.add_argument("--min-prefix-length", type=int, metavar="LENGTH")
    parser.add_argument("--max-prefix-length", type=int, metavar="LENGTH")
    parser.add_argument(
        "--default-quota",
        type=int,
        metavar="UNITS",
        help="Per-project quota: addresses (IPv4) or /64 subnets (IPv6) one project may hold from the pool.",
    )


def _pool_bounds(parsed_args: argparse.Namespace) -> dict[str, Any]:
    return {
        "default_prefixlen": parsed_args.default_prefix_length,
        "min_prefixlen": parsed_args.min_prefix_length,
        "max_prefixlen": parsed_args.max_prefix_length,
        "default_quota": parsed_args.default_quota,
    }


class ListSubnetPools(ListResources):
    """List subnet pools."""

    kind = SUBNET_POOL

    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_switch(parser, "shared", *SHARE_SWITCH)
        _add_default_pool_switch(parser)

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return without_none({"shared": parsed_args.shared, "is_default": parsed_args.is_default})


class ShowSubnetPool(ShowResource):
    """Show a subnet pool."""

    kind = SUBNET_POOL


class CreateSubnetPool(CreateResource):
    """Create a subnet pool."""

    kind = SUBNET_POOL

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--pool-prefix", metavar="CIDR", action="append", required=True, help="A prefix; repeat for several."
        )
        _add_pool_bounds(parser)
        add_switch(parser, "shared", *SHARE_SWITCH)
        _add_default_pool_switch(parser)

    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return without_none(
            {
                "prefixes": parsed_args.pool_prefix,
                "shared": parsed_args.shared,
                "is_default": parsed_args.is_default,
                **_pool_bounds(parsed_args),
            }
        )


class SetSubnetPool(SetResource):
    """Set subnet pool attributes (a pool's prefixes may only grow)."""

    kind = SUBNET_POOL

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", help="A new name.")
        parser.add_argument("--pool-prefix", metavar="CIDR", action="append", help="Add a prefix; repeat for several.")
        _add_pool_bounds(parser)
        _add_default_pool_switch(parser)

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        assert isinstance(current, SubnetPool)
        changes = without_none(
            {"name": parsed_args.name, "is_default": parsed_args.is_default, **_pool_bounds(parsed_args)}
        )
        if parsed_args.pool_prefix:
            changes["prefixes"] = [str(prefix) for prefix in current.prefixes] + parsed_args.pool_prefix
        return changes


class UnsetSubnetPool(UnsetResource):
    """Remove a subnet pool's per-project quota, or clear its name."""

    kind = SUBNET_POOL

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", action="store_true", help="Clear the name.")
        parser.add_argument("--default-quota", action="store_true", help="Remove the per-project quota.")

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        changes: dict[str, Any] = {"name": ""} if parsed_args.name else {}
        if parsed_args.default_quota:
            changes["default_quota"] = None
        return changes


class DeleteSubnetPools(DeleteResources):
    """Delete subnet pools."""

    kind = SUBNET_POOL


# Ports


def parse_fixed_ip(text: str) -> dict[str, str]:
    """``--fixed-ip subnet=SUBNET,ip-address=IP`` (either key may be left out), for argparse."""
    return parse_key_values(text, "--fixed-ip", ("subnet", "ip-address"))


def fixed_ip_request(session: Session, entry: dict[str, str]) -> dict[str, str]:
    """A parsed ``--fixed-ip`` as a ``fixed_ips`` entry, the subnet's name resolved to its id."""
    request = {}
    if "subnet" in entry:
        request["subnet_id"] = find_id(session, SUBNET, entry["subnet"])
    if "ip-address" in entry:
        request["ip_address"] = entry["ip-address"]
    return request


def _add_fixed_ip_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--fixed-ip", metavar="subnet=SUBNET,ip-address=IP", action="append", type=parse_fixed_ip, help=help_text
    )


def _current_fixed_ips(port: Port) -> list[dict[str, str]]:
    return [{"subnet_id": fixed_ip.subnet_id, "ip_address": str(fixed_ip.ip_address)} for fixed_ip in port.fixed_ips]


class ListPorts(ListResources):
    """List ports."""

    kind = PORT

    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--network", metavar="NETWORK", help="Only the ports on this network (name or ID).")
        parser.add_argument("--device-owner", metavar="OWNER", help="Only ports of this device owner.")
        add_switch(parser, "admin_state_up", *ENABLE_SWITCH)

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        filters: dict[str, Any] = {
            "device_owner": parsed_args.device_owner,
            "admin_state_up": parsed_args.admin_state_up,
        }
        if parsed_args.network:
            filters["network_id"] = find_id(self.session, NETWORK, parsed_args.network)
        return without_none(filters)


class ShowPort(ShowResource):
    """Show a port."""

    kind = PORT


class CreatePort(CreateResource):
    """Create a port."""

    kind = PORT

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--network", metavar="NETWORK", required=True, help="The network (name or ID).")
        addresses = parser.add_mutually_exclusive_group()
        addresses.add_argument(
            "--fixed-ip",
            metavar="subnet=SUBNET,ip-address=IP",
            action="append",
            type=parse_fixed_ip,
            help="An address: any from SUBNET (name or ID), or exactly IP; repeat for several "
            "(default: one per IP version).",
        )
        addresses.add_argument("--no-fixed-ip", action="store_true", help="No address at all.")
        parser.add_argument("--device-owner", metavar="OWNER", help="Who uses the port, e.g. compute:nova.")
        parser.add_argument("--device", metavar="ID", dest="device_id", help="The device (instance) using the port.")
        parser.add_argument("--mac-address", metavar="MAC")
        add_switch(parser, "admin_state_up", *ENABLE_SWITCH)

    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body = without_none(
            {
                "network_id": find_id(self.session, NETWORK, parsed_args.network),
                "device_owner": parsed_args.device_owner,
                "device_id": parsed_args.device_id,
                "mac_address": parsed_args.mac_address,
                "admin_state_up": parsed_args.admin_state_up,
            }
        )
        if parsed_args.no_fixed_ip:
            body["fixed_ips"] = []
        elif parsed_args.fixed_ip:
            body["fixed_ips"] = [fixed_ip_request(self.session, entry) for entry in parsed_args.fixed_ip]
        return body


class SetPort(SetResource):
    """Set port attributes."""

    kind = PORT

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", help="A new name.")
        parser.add_argument("--device", metavar="ID", dest="device_id", help="The device (instance) using the port.")
        parser.add_argument("--device-owner", metavar="OWNER", help="Who uses the port, e.g. compute:nova.")
        _add_fixed_ip_option(parser, "Add an address: any from SUBNET, or exactly IP; repeat for several.")
        parser.add_argument(
            "--no-fixed-ip", action="store_true", help="Remove every address (with --fixed-ip: replace them)."
        )
        add_switch(parser, "admin_state_up", *ENABLE_SWITCH)

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        assert isinstance(current, Port)
        changes = without_none(
            {
                "name": parsed_args.name,
                "device_id": parsed_args.device_id,
                "device_owner": parsed_args.device_owner,
                "admin_state_up": parsed_args.admin_state_up,
            }
        )
        if parsed_args.fixed_ip or parsed_args.no_fixed_ip:
            kept = [] if parsed_args.no_fixed_ip else _current_fixed_ips(current)
            added = [fixed_ip_request(self.session, entry) for entry in parsed_args.fixed_ip or []]
            changes["fixed_ips"] = kept + added
        return changes


class UnsetPort(UnsetResource):
    """Remove addresses from a port, or clear its name."""

    kind = PORT

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", action="store_true", help="Clear the name.")
        _add_fixed_ip_option(parser, "Remove the addresses matching SUBNET and/or IP; repeat for several.")

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        assert isinstance(current, Port)
        changes: dict[str, Any] = {"name": ""} if parsed_args.name else {}
        if parsed_args.fixed_ip:
            kept = _current_fixed_ips(current)
            for entry in parsed_args.fixed_ip:
                wanted = fixed_ip_request(self.session, entry)
                matching = [ip for ip in kept if all(ip[key] == value for key, value in wanted.items())]
                if not matching:
                    raise CommandError(f"Port {current.id} has no fixed IP {_fixed_ip_text(entry)}")
                kept = [ip for ip in kept if ip not in matching]
            changes["fixed_ips"] = kept
        return changes


def _fixed_ip_text(entry: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in entry.items())


class DeletePorts(DeleteResources):
    """Delete ports."""

    kind = PORT
