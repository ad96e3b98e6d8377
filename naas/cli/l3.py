"""Commands for the L3 plugin's resources: routers, their interfaces and gateways, floating IPs.

``router add/remove subnet|port`` and ``router set/unset`` print nothing on
success, as the openstack client does; ``router show`` tells the result.
"""

from __future__ import annotations

import argparse
from typing import Any, ClassVar

from naas.cli.base import NaasCommand, add_switch
from naas.cli.core import ENABLE_SWITCH, NETWORK, PORT, SUBNET, fixed_ip_request, parse_fixed_ip
from naas.cli.errors import CommandError
from naas.cli.output import AdminStateColumn
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
from naas.resources import FloatingIP, Resource

__all__ = ["FLOATING_IP", "ROUTER"]

_ROUTER_COLUMNS = (
    Column("ID", "id"),
    Column("Name", "name"),
    Column("Status", "status"),
    Column("State", "admin_state_up", AdminStateColumn),
    Column("Project", "project_id"),
)
ROUTER = Kind(
    label="router",
    plural="routers",
    plugin="l3",
    resource="router",
    list_columns=_ROUTER_COLUMNS,
    long_columns=(*_ROUTER_COLUMNS, Column("External gateway info", "external_gateway_info"), TAGS_COLUMN),
)
_FLOATING_IP_COLUMNS = (
    Column("ID", "id"),
    Column("Floating IP Address", "floating_ip_address"),
    Column("Fixed IP Address", "fixed_ip_address"),
    Column("Port", "port_id"),
    Column("Floating Network", "floating_network_id"),
    Column("Project", "project_id"),
)
FLOATING_IP = Kind(
    label="floating ip",
    plural="floating ips",
    plugin="l3",
    resource="floatingip",
    list_columns=_FLOATING_IP_COLUMNS,
    long_columns=(
        *_FLOATING_IP_COLUMNS,
        Column("Router", "router_id"),
        Column("Status", "status"),
        Column("Description", "description"),
        TAGS_COLUMN,
    ),
    name_key="floating_ip_address",
)


class ListRouters(ListResources):
    """List routers."""

    kind = ROUTER

    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_switch(parser, "admin_state_up", *ENABLE_SWITCH)

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return without_none({"admin_state_up": parsed_args.admin_state_up})


class ShowRouter(ShowResource):
    """Show a router."""

    kind = ROUTER


class DeleteRouters(DeleteResources):
    """Delete routers."""

    kind = ROUTER


class CreateRouter(CreateResource):
    """Create a router."""

    kind = ROUTER

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--external-gateway", metavar="NETWORK", help="Give it a gateway on this external network (name or ID)."
        )
        add_switch(parser, "admin_state_up", *ENABLE_SWITCH)

    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body = without_none({"admin_state_up": parsed_args.admin_state_up})
        if parsed_args.external_gateway:
            body["external_gateway_info"] = {"network_id": find_id(self.session, NETWORK, parsed_args.external_gateway)}
        return body


class RouterInterfaceCommand(NaasCommand):
    """Attach a router to, or detach it from, a subnet or a port."""

    target: ClassVar[Kind]
    verb: ClassVar[str]  # "add" or "remove", as in the L3 plugin's method names

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("router", metavar="ROUTER", help="The router (name or ID).")
        parser.add_argument(self.target.resource, metavar=self.target.label.upper(), help="Name or ID.")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> int:
        router_id = find_id(self.session, ROUTER, parsed_args.router)
        target_id = find_id(self.session, self.target, getattr(parsed_args, self.target.resource))
        change = getattr(self.session.plugins.l3, f"{self.verb}_router_interface")
        change(self.session.context, router_id, {f"{self.target.resource}_id": target_id})
        return 0


class AddSubnet(RouterInterfaceCommand):
    """Attach a router to a subnet (a new port on the subnet's gateway address)."""

    target, verb = SUBNET, "add"


class RemoveSubnet(RouterInterfaceCommand):
    """Detach a router from a subnet."""

    target, verb = SUBNET, "remove"


class AddPort(RouterInterfaceCommand):
    """Attach a router to an existing port."""

    target, verb = PORT, "add"


class RemovePort(RouterInterfaceCommand):
    """Detach a router from a port."""

    target, verb = PORT, "remove"


class SetRouter(SetResource):
    """Set router attributes: its name, its state, its external gateway."""

    kind = ROUTER

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", help="A new name.")
        add_switch(parser, "admin_state_up", *ENABLE_SWITCH)
        parser.add_argument(
            "--external-gateway", metavar="NETWORK", help="Set or replace the gateway: an external network."
        )
        parser.add_argument(
            "--fixed-ip",
            metavar="subnet=SUBNET,ip-address=IP",
            action="append",
            type=parse_fixed_ip,
            help="The gateway's address (with --external-gateway); repeat for several.",
        )
        add_switch(
            parser,
            "enable_snat",
            ("--enable-snat", "Source-NAT through the gateway."),
            ("--disable-snat", "No source NAT."),
        )

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        changes = without_none({"name": parsed_args.name, "admin_state_up": parsed_args.admin_state_up})
        if parsed_args.external_gateway:
            changes["external_gateway_info"] = self._gateway(parsed_args)
        elif parsed_args.fixed_ip or parsed_args.enable_snat is not None:
            raise CommandError("--fixed-ip, --enable-snat and --disable-snat need --external-gateway")
        return changes

    def _gateway(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        gateway: dict[str, Any] = {"network_id": find_id(self.session, NETWORK, parsed_args.external_gateway)}
        if parsed_args.enable_snat is not None:
            gateway["enable_snat"] = parsed_args.enable_snat
        if parsed_args.fixed_ip:
            gateway["external_fixed_ips"] = [fixed_ip_request(self.session, entry) for entry in parsed_args.fixed_ip]
        return gateway


class UnsetRouter(UnsetResource):
    """Remove a router's external gateway, or clear its name."""

    kind = ROUTER

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--external-gateway", action="store_true", help="Remove the gateway.")
        parser.add_argument("--name", action="store_true", help="Clear the name.")

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        changes: dict[str, Any] = {"name": ""} if parsed_args.name else {}
        if parsed_args.external_gateway:
            changes["external_gateway_info"] = None
        return changes


class ListFloatingIPs(ListResources):
    """List floating IPs."""

    kind = FLOATING_IP

    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--network", metavar="NETWORK", help="Only floating IPs on this network (name or ID).")
        parser.add_argument("--port", metavar="PORT", help="Only the floating IP of this port (name or ID).")

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        if parsed_args.network:
            filters["floating_network_id"] = find_id(self.session, NETWORK, parsed_args.network)
        if parsed_args.port:
            filters["port_id"] = find_id(self.session, PORT, parsed_args.port)
        return filters


class ShowFloatingIP(ShowResource):
    """Show a floating IP."""

    kind = FLOATING_IP


class DeleteFloatingIPs(DeleteResources):
    """Delete floating IPs."""

    kind = FLOATING_IP


class CreateFloatingIP(CreateResource):
    """Allocate a floating IP on an external network, optionally for a port."""

    kind = FLOATING_IP
    has_name = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("network", metavar="NETWORK", help="The external network (name or ID).")
        parser.add_argument("--port", metavar="PORT", help="Associate it with this port (name or ID).")
        parser.add_argument("--floating-ip-address", metavar="IP", help="This address, rather than any free one.")
        parser.add_argument("--fixed-ip-address", metavar="IP", help="Which of the port's addresses to map to.")

    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body: dict[str, Any] = {"floating_network_id": find_id(self.session, NETWORK, parsed_args.network)}
        if parsed_args.port:
            body["port_id"] = find_id(self.session, PORT, parsed_args.port)
        if parsed_args.floating_ip_address:
            body["floating_ip_address"] = parsed_args.floating_ip_address
        if parsed_args.fixed_ip_address:
            body["fixed_ip_address"] = parsed_args.fixed_ip_address
        return body


class SetFloatingIP(SetResource):
    """Associate a floating IP with a port, or set its description and tags."""

    kind = FLOATING_IP

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", metavar="PORT", help="Associate it with this port (name or ID).")
        parser.add_argument("--fixed-ip-address", metavar="IP", help="Which of the port's addresses to map to.")

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        if not parsed_args.port:
            if parsed_args.fixed_ip_address:
                raise CommandError("--fixed-ip-address needs --port")
            return {}
        # What associate_floatingip sends; as an update, it joins the description and tags in one revision.
        return without_none(
            {
                "port_id": find_id(self.session, PORT, parsed_args.port),
                "fixed_ip_address": parsed_args.fixed_ip_address,
            }
        )


class UnsetFloatingIP(UnsetResource):
    """Dissociate a floating IP from its port, or remove its tags."""

    kind = FLOATING_IP

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", action="store_true", help="Dissociate it from its port.")

    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        assert isinstance(current, FloatingIP)
        # As disassociate_floatingip: dissociating a floating IP that has no port changes nothing.
        return {"port_id": None} if parsed_args.port and current.port_id is not None else {}
