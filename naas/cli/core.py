"""Commands for the core plugin's resources: networks, subnets, subnet pools and ports."""

from __future__ import annotations

import argparse
from typing import Any

from cliff import command

from naas.cli.base import parse_key_values
from naas.cli.resources import CreateResource, Kind, ListResources, find_id, standard_commands
from naas.cli.session import Session

__all__ = ["COMMANDS", "NETWORK", "PORT", "SUBNET", "SUBNET_POOL", "fixed_ip_request", "parse_fixed_ip"]

NETWORK = Kind(
    label="network",
    plural="networks",
    plugin="core",
    resource="network",
    list_columns=(
        ("ID", "id"),
        ("Name", "name"),
        ("Subnets", "subnets"),
        ("Project", "project_id"),
        ("External", "router:external"),
    ),
)
SUBNET = Kind(
    label="subnet",
    plural="subnets",
    plugin="core",
    resource="subnet",
    list_columns=(
        ("ID", "id"),
        ("Name", "name"),
        ("Network", "network_id"),
        ("Subnet", "cidr"),
        ("Project", "project_id"),
    ),
)
SUBNET_POOL = Kind(
    label="subnet pool",
    plural="subnet pools",
    plugin="core",
    resource="subnetpool",
    list_columns=(
        ("ID", "id"),
        ("Name", "name"),
        ("Prefixes", "prefixes"),
        ("Default Prefix Length", "default_prefixlen"),
        ("Shared", "shared"),
        ("Default", "is_default"),
    ),
)
PORT = Kind(
    label="port",
    plural="ports",
    plugin="core",
    resource="port",
    list_columns=(
        ("ID", "id"),
        ("Name", "name"),
        ("MAC Address", "mac_address"),
        ("Fixed IP Addresses", "fixed_ips"),
        ("Status", "status"),
    ),
)


class ListNetworks(ListResources):
    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--external", action="store_true", help="Only external networks.")
        which.add_argument("--internal", action="store_true", help="Only internal networks.")

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        if parsed_args.external or parsed_args.internal:
            return {"router:external": bool(parsed_args.external)}
        return {}


class ListSubnets(ListResources):
    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--network", metavar="NETWORK", help="Only the subnets of this network (name or ID).")
        parser.add_argument("--ip-version", type=int, choices=(4, 6), help="Only subnets of this IP version.")

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        if parsed_args.network:
            filters["network_id"] = find_id(self.session, NETWORK, parsed_args.network)
        if parsed_args.ip_version:
            filters["ip_version"] = parsed_args.ip_version
        return filters


class ListPorts(ListResources):
    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--network", metavar="NETWORK", help="Only the ports on this network (name or ID).")
        parser.add_argument("--device-owner", metavar="OWNER", help="Only ports of this device owner.")

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        if parsed_args.network:
            filters["network_id"] = find_id(self.session, NETWORK, parsed_args.network)
        if parsed_args.device_owner:
            filters["device_owner"] = parsed_args.device_owner
        return filters


class CreateNetwork(CreateResource):
    """Create a network."""

    kind = NETWORK

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--external", action="store_true", help="An external network (router:external).")
        parser.add_argument(
            "--default", action="store_true", help="The default external network get-me-a-network uses."
        )
        parser.add_argument("--shared", action="store_true", help="Usable by every project.")
        parser.add_argument("--disable", action="store_true", help="Create it administratively down.")

    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return {
            "router:external": parsed_args.external,
            "is_default": parsed_args.default,
            "shared": parsed_args.shared,
            "admin_state_up": not parsed_args.disable,
        }


def _allocation_pool(text: str) -> dict[str, str]:
    return parse_key_values(text, "--allocation-pool", ("start", "end"))


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
        parser.add_argument(
            "--allocation-pool",
            metavar="start=IP,end=IP",
            action="append",
            type=_allocation_pool,
            help="Range ports take addresses from; repeat for several (default: the whole subnet).",
        )

    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body: dict[str, Any] = {"network_id": find_id(self.session, NETWORK, parsed_args.network)}
        if parsed_args.subnet_range:
            body["cidr"] = parsed_args.subnet_range
        if parsed_args.subnet_pool:
            body["subnetpool_id"] = find_id(self.session, SUBNET_POOL, parsed_args.subnet_pool)
        if parsed_args.use_default_subnet_pool:
            body["use_default_subnetpool"] = True
        if parsed_args.prefix_length is not None:
            body["prefixlen"] = parsed_args.prefix_length
        if parsed_args.ip_version:
            body["ip_version"] = parsed_args.ip_version
        if parsed_args.gateway.lower() == "none":
            body["gateway_ip"] = None
        elif parsed_args.gateway.lower() != "auto":
            body["gateway_ip"] = parsed_args.gateway
        if parsed_args.allocation_pool:
            body["allocation_pools"] = parsed_args.allocation_pool
        return body


class CreateSubnetPool(CreateResource):
    """Create a subnet pool."""

    kind = SUBNET_POOL

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--pool-prefix", metavar="CIDR", action="append", required=True, help="A prefix; repeat for several."
        )
        parser.add_argument("--default-prefix-length", type=int, metavar="LENGTH")
        parser.add_argument("--min-prefix-length", type=int, metavar="LENGTH")
        parser.add_argument("--max-prefix-length", type=int, metavar="LENGTH")
        parser.add_argument("--default-quota", type=int, metavar="UNITS", help="Per-project quota in address units.")
        parser.add_argument("--shared", action="store_true", help="Usable by every project.")
        parser.add_argument(
            "--default", action="store_true", help="The default pool of its IP version, used by get-me-a-network."
        )

    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body: dict[str, Any] = {
            "prefixes": parsed_args.pool_prefix,
            "shared": parsed_args.shared,
            "is_default": parsed_args.default,
        }
        optional = {
            "default_prefixlen": parsed_args.default_prefix_length,
            "min_prefixlen": parsed_args.min_prefix_length,
            "max_prefixlen": parsed_args.max_prefix_length,
            "default_quota": parsed_args.default_quota,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


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
        parser.add_argument("--device-id", metavar="ID", help="The device (instance) using the port.")
        parser.add_argument("--mac-address", metavar="MAC")

    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body: dict[str, Any] = {"network_id": find_id(self.session, NETWORK, parsed_args.network)}
        if parsed_args.no_fixed_ip:
            body["fixed_ips"] = []
        elif parsed_args.fixed_ip:
            body["fixed_ips"] = [fixed_ip_request(self.session, entry) for entry in parsed_args.fixed_ip]
        for key in ("device_owner", "device_id", "mac_address"):
            if getattr(parsed_args, key) is not None:
                body[key] = getattr(parsed_args, key)
        return body


COMMANDS: dict[str, type[command.Command]] = {
    **standard_commands(NETWORK, ListNetworks),
    "network create": CreateNetwork,
    **standard_commands(SUBNET, ListSubnets),
    "subnet create": CreateSubnet,
    **standard_commands(SUBNET_POOL),
    "subnet pool create": CreateSubnetPool,
    **standard_commands(PORT, ListPorts),
    "port create": CreatePort,
}
