"""``naas topology show``: how a project's networks, subnets and routers reach the external networks.

:func:`collect` reads the project's resources through the plugin contracts
(a handful of filtered list calls, whatever the project's size); a tree for the
terminal (:func:`render_tree`) and a Graphviz graph (:func:`render_dot`) are
drawn from it. Both keep the plugins' order (oldest first), so the same state
always prints the same picture.

The tree starts from each external network, goes down through the routers
whose gateway is on it to the networks they are attached to, and ends with
what reaches no external network (routers without a gateway, networks without
a router). A network attached to two routers appears under both.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable, Sequence

from naas.cli.base import NaasCommand, add_project_option
from naas.cli.output import escape_text
from naas.cli.session import Session
from naas.resources import DEVICE_OWNER_ROUTER_INTERFACE, Network, Port, Router, Subnet

__all__ = ["ProjectTopology", "ShowTopology", "collect", "render_dot", "render_tree"]

# Ports whose owner starts with this belong to the network service itself (router, DHCP, floating IP).
_SERVICE_OWNER_PREFIX = "network:"


@dataclasses.dataclass(frozen=True)
class ProjectTopology:
    """A project's networks and routers, with the external networks and foreign networks they touch."""

    project_id: str
    networks: tuple[Network, ...]
    subnets: tuple[Subnet, ...]
    routers: tuple[Router, ...]
    interfaces: tuple[Port, ...]  # the routers' interface ports
    instance_ports: tuple[Port, ...]  # ports of anything but the network service

    @property
    def external_networks(self) -> list[Network]:
        return [network for network in self.networks if network.router_external]

    @property
    def internal_networks(self) -> list[Network]:
        return [network for network in self.networks if not network.router_external]

    def network(self, network_id: str) -> Network | None:
        return next((network for network in self.networks if network.id == network_id), None)

    def subnets_of(self, network_id: str) -> list[Subnet]:
        return [subnet for subnet in self.subnets if subnet.network_id == network_id]

    def ports_of(self, network_id: str) -> list[Port]:
        return [port for port in self.instance_ports if port.network_id == network_id]

    @staticmethod
    def gateway_network_id(router: Router) -> str | None:
        return router.external_gateway_info.network_id if router.external_gateway_info else None

    @staticmethod
    def gateway_addresses(router: Router) -> list[str]:
        info = router.external_gateway_info
        return [str(fixed_ip.ip_address) for fixed_ip in info.external_fixed_ips] if info else []

    def router_addresses(self, router: Router, network_id: str) -> dict[str, str]:
        """The router's address on each subnet of ``network_id``, by subnet id."""
        return {
            fixed_ip.subnet_id: str(fixed_ip.ip_address)
            for port in self.interfaces
            if port.device_id == router.id and port.network_id == network_id
            for fixed_ip in port.fixed_ips
        }

    def attached_network_ids(self, router: Router) -> list[str]:
        """The networks ``router`` has interfaces on, in the order they were attached."""
        return list(dict.fromkeys(port.network_id for port in self.interfaces if port.device_id == router.id))


def collect(session: Session, project_id: str) -> ProjectTopology:
    """Read ``project_id``'s topology through the plugin contracts."""
    core, l3, context = session.plugins.core, session.plugins.l3, session.context
    networks = core.get_networks(context, {"project_id": project_id})
    routers = l3.get_routers(context, {"project_id": project_id})
    interfaces = (
        core.get_ports(context, {"device_id": [r.id for r in routers], "device_owner": DEVICE_OWNER_ROUTER_INTERFACE})
        if routers
        else []
    )
    # The routers may reach networks of other projects: the external network, shared networks.
    known = {network.id for network in networks}
    reached = [port.network_id for port in interfaces]
    reached += [r.external_gateway_info.network_id for r in routers if r.external_gateway_info]
    foreign = sorted(set(reached) - known)
    if foreign:
        networks += core.get_networks(context, {"id": foreign})
    network_ids = [network.id for network in networks]
    subnets = core.get_subnets(context, {"network_id": network_ids}) if network_ids else []
    internal_ids = [network.id for network in networks if not network.router_external]
    ports = core.get_ports(context, {"network_id": internal_ids}) if internal_ids else []
    return ProjectTopology(
        project_id=project_id,
        networks=tuple(networks),
        subnets=tuple(subnets),
        routers=tuple(routers),
        interfaces=tuple(interfaces),
        instance_ports=tuple(port for port in ports if not port.device_owner.startswith(_SERVICE_OWNER_PREFIX)),
    )


def _named(kind: str, name: str, resource_id: str) -> str:
    # Names are the tenants' own text: escaped, a name cannot forge a tree line or drive the terminal.
    return f"{kind} {escape_text(name)} ({resource_id})" if name else f"{kind} {resource_id}"


def _with_details(label: str, details: Iterable[str]) -> str:
    details = [detail for detail in details if detail]
    return f"{label}: {', '.join(details)}" if details else label


def _addresses(port: Port) -> str:
    return ", ".join(str(fixed_ip.ip_address) for fixed_ip in port.fixed_ips)


@dataclasses.dataclass
class _Node:
    label: str
    children: list[_Node] = dataclasses.field(default_factory=list)


def _network_node(topology: ProjectTopology, network: Network, router: Router | None) -> _Node:
    router_addresses = topology.router_addresses(router, network.id) if router else {}
    node = _Node(_with_details(_named("network", network.name, network.id), ["" if network.admin_state_up else "down"]))
    for subnet in topology.subnets_of(network.id):
        via = router_addresses.get(subnet.id)
        details = [str(subnet.cidr), f"router at {via}" if via else ""]
        node.children.append(_Node(_with_details(_named("subnet", subnet.name, subnet.id), details)))
    for port in topology.ports_of(network.id):
        node.children.append(_Node(_with_details(_named("port", port.name, port.id), [_addresses(port)])))
    return node


def _router_node(topology: ProjectTopology, router: Router) -> _Node:
    gateway = ", ".join(topology.gateway_addresses(router))
    node = _Node(_with_details(_named("router", router.name, router.id), [f"gateway {gateway}" if gateway else ""]))
    for network_id in topology.attached_network_ids(router):
        network = topology.network(network_id)
        if network is not None:
            node.children.append(_network_node(topology, network, router))
    return node


def _tree(topology: ProjectTopology) -> _Node:
    root = _Node(f"project {escape_text(topology.project_id)}")
    external_ids = {network.id for network in topology.external_networks}
    for external in topology.external_networks:
        cidrs = [str(subnet.cidr) for subnet in topology.subnets_of(external.id)]
        details = ["default" if external.is_default else "", *cidrs]
        node = _Node(_with_details(_named("external network", external.name, external.id), details))
        node.children = [
            _router_node(topology, router)
            for router in topology.routers
            if topology.gateway_network_id(router) == external.id
        ]
        root.children.append(node)
    root.children += [
        _router_node(topology, router)
        for router in topology.routers
        if topology.gateway_network_id(router) not in external_ids
    ]
    attached = {network_id for router in topology.routers for network_id in topology.attached_network_ids(router)}
    root.children += [
        _network_node(topology, network, None) for network in topology.internal_networks if network.id not in attached
    ]
    if not root.children:
        root.children.append(_Node("(no networks or routers)"))
    return root


def _tree_lines(children: Sequence[_Node], prefix: str) -> list[str]:
    lines = []
    for position, child in enumerate(children):
        last = position == len(children) - 1
        lines.append(f"{prefix}{'└── ' if last else '├── '}{child.label}")
        lines += _tree_lines(child.children, prefix + ("    " if last else "│   "))
    return lines


def render_tree(topology: ProjectTopology) -> str:
    root = _tree(topology)
    return "\n".join([root.label, *_tree_lines(root.children, "")]) + "\n"


def _dot_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _dot_name(name: str, resource_id: str) -> str:
    # Escaped first, so that a newline or an escape in a tenant's name stays visible text in the picture.
    return escape_text(name) if name else resource_id


def _dot_node(node_id: str, label: str, attributes: str) -> str:
    return f"  {_dot_string(node_id)} [{attributes}, label={_dot_string(label)}];"


def _dot_edge(tail: str, head: str, label: str = "") -> str:
    attributes = f" [label={_dot_string(label)}]" if label else ""
    return f"  {_dot_string(tail)} -> {_dot_string(head)}{attributes};"


_EXTERNAL_STYLE = 'shape=box, style="rounded,filled", fillcolor="#cfe2f3"'
_NETWORK_STYLE = 'shape=box, style="rounded"'
_ROUTER_STYLE = 'shape=ellipse, style=filled, fillcolor="#fce5cd"'
_PORT_STYLE = "shape=note"


def render_dot(topology: ProjectTopology) -> str:
    """A Graphviz digraph: external networks at the top, then routers, networks and instance ports."""
    project = escape_text(topology.project_id)
    lines = [
        f"digraph {_dot_string('naas topology of project ' + project)} {{",
        f"  graph [label={_dot_string('project ' + project)}, labelloc=t, fontname=Helvetica];",
        "  node [fontname=Helvetica, fontsize=10];",
        # Edges point downwards only to rank the layout; connections have no direction.
        "  edge [fontname=Helvetica, fontsize=9, arrowhead=none];",
    ]
    for network in topology.networks:
        label = [_dot_name(network.name, network.id), *(str(subnet.cidr) for subnet in topology.subnets_of(network.id))]
        if network.router_external:
            label.append("external, default" if network.is_default else "external")
        style = _EXTERNAL_STYLE if network.router_external else _NETWORK_STYLE
        lines.append(_dot_node(f"network:{network.id}", "\n".join(label), style))
    for router in topology.routers:
        lines.append(_dot_node(f"router:{router.id}", _dot_name(router.name, router.id), _ROUTER_STYLE))
    for port in topology.instance_ports:
        lines.append(_dot_node(f"port:{port.id}", f"{_dot_name(port.name, port.id)}\n{_addresses(port)}", _PORT_STYLE))
    known = {network.id for network in topology.networks}
    for router in topology.routers:
        gateway_id = topology.gateway_network_id(router)
        if gateway_id in known:
            gateway = "\n".join(topology.gateway_addresses(router))
            lines.append(_dot_edge(f"network:{gateway_id}", f"router:{router.id}", gateway))
        for network_id in topology.attached_network_ids(router):
            addresses = "\n".join(topology.router_addresses(router, network_id).values())
            lines.append(_dot_edge(f"router:{router.id}", f"network:{network_id}", addresses))
    for port in topology.instance_ports:
        lines.append(_dot_edge(f"network:{port.network_id}", f"port:{port.id}"))
    lines.append("}")
    return "\n".join(lines) + "\n"


class ShowTopology(NaasCommand):
    """Show how a project's networks, subnets and routers connect to the external networks.

    A tree by default; ``--dot`` prints a Graphviz graph, e.g.
    ``naas topology show --project demo --dot | dot -Tpng -o demo.png``.
    Names are printed with non-printable characters escaped.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project_option(parser, "The project (default: the admin project).")
        # A plain command, not a cliff formatter: neither a tree nor DOT is a table of columns. So no
        # -f/--format here: in naas, as in the openstack client, that always means a cliff formatter.
        parser.add_argument(
            "--dot", action="store_true", help="Print a Graphviz graph (pipe it to 'dot -Tpng') instead of the tree."
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> int:
        topology = collect(self.session, parsed_args.project or self.session.context.project_id)
        render = render_dot if parsed_args.dot else render_tree
        self.app.stdout.write(render(topology))
        return 0
