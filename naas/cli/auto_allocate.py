"""``network auto allocated topology create`` and ``delete``: get me a network, as the openstack client names it.

Neutron answers with the network id and the project only; the table adds
what an operator checks next (the subnets' CIDRs, the router, its gateway),
read back through the plugin contracts. ``id`` and ``project_id`` stay the
first columns, so scripts written for the openstack client keep working.
"""

from __future__ import annotations

import argparse
from typing import Any

from naas.auto_allocate import DRY_RUN
from naas.cli.base import NaasCommand, NaasLister, NaasShowOne, displayed
from naas.cli.session import Session
from naas.cli.topology import collect

__all__ = ["CleanUpAutoAllocatedTopologies", "CreateAutoAllocatedTopology", "DeleteAutoAllocatedTopology"]


def describe_topology(session: Session, network_id: str, project_id: str) -> dict[str, Any]:
    """The auto-allocated topology around ``network_id``, as the rows of the table."""
    topology = collect(session, project_id)
    network = topology.network(network_id)
    routers = [router for router in topology.routers if network_id in topology.attached_network_ids(router)]
    router = routers[0] if routers else None
    return {
        "id": network_id,
        "project_id": project_id,
        "network_name": network.name if network else None,
        "cidrs": [str(subnet.cidr) for subnet in topology.subnets_of(network_id)],
        "router_id": router.id if router else None,
        "external_network_id": topology.gateway_network_id(router) if router else None,
        "external_gateway_ips": topology.gateway_addresses(router) if router else [],
    }


def _named_project(text: str) -> str:
    """An argparse ``type`` for ``--project``: a project, never the text ``None``."""
    if text == "None":
        # The library reads "None" as the caller's own project: what Neutron's clients send for "no project".
        raise argparse.ArgumentTypeError(
            "'None' names no project (get me a network would act on the admin project); "
            "leave --project out to mean the admin project"
        )
    return text


def _add_project_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project", metavar="PROJECT", type=_named_project, help="The project (default: the admin project)."
    )


class CreateAutoAllocatedTopology(NaasShowOne):
    """Give a project its network, subnets and router to the default external network (idempotent)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_project_option(parser)
        parser.add_argument(
            "--check-resources",
            action="store_true",
            help="Only check that everything the topology needs is there (a dry run); create nothing.",
        )
        parser.add_argument(
            "--or-show",
            action="store_true",
            default=True,
            help="Show the topology if it exists (the default; kept for the openstack client's scripts).",
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        allocator, context = self.session.allocator, self.session.context
        if parsed_args.check_resources:
            result = allocator.get_auto_allocated_topology(context, parsed_args.project, fields=[DRY_RUN])
            rows = {"id": result["id"], "project_id": result["project_id"]}
        else:
            result = allocator.get_auto_allocated_topology(context, parsed_args.project)
            rows = describe_topology(self.session, result["id"], result["project_id"])
        return tuple(rows), tuple(displayed(value) for value in rows.values())


class DeleteAutoAllocatedTopology(NaasCommand):
    """Delete a project's auto-allocated topology; refuses, changing nothing, while instances still use it."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_project_option(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> int:
        self.session.allocator.delete_auto_allocated_topology(self.session.context, parsed_args.project)
        return 0


class CleanUpAutoAllocatedTopologies(NaasLister):
    """Remove what interrupted builds left behind (builders that were killed or lost their lease)."""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], list[tuple[str]]]:
        projects = self.session.allocator.remove_abandoned_topologies(self.session.context)
        return ("project_id",), [(project,) for project in projects]
