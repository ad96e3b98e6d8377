"""``naas port plug`` / ``naas port unplug``: hand a port to an instance's network namespace, or take it back.

The linux backend adds these to ``naas`` through the ``naas.cli``
entry-point namespace. They need ``linux`` among ``[DEFAULT] backends`` and the
port realized on this host (its network's bridge and the port's veth pair)::

    naas port plug PORT --netns NAME [--ifname eth0]
    naas port unplug PORT
"""

from __future__ import annotations

import argparse
from typing import Any

from naas.backends import PortState
from naas.cli.base import NaasShowOne
from naas.cli.core import PORT, SUBNET
from naas.cli.errors import CommandError
from naas.cli.resources import find
from naas.resources import Port, Subnet
from naas_plugins.linux.backend import LinuxBackend

__all__ = ["PlugPort", "UnplugPort"]

_COLUMNS = ("port_id", "mac_address", "netns", "ifname", "fixed_ips")


class _PortCommand(NaasShowOne):
    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("port", metavar="PORT", help="The port (name or ID).")
        return parser

    def backend(self) -> LinuxBackend:
        for backend in self.session.plugins.backends.backends.values():
            if isinstance(backend, LinuxBackend):
                return backend
        raise CommandError("the linux backend is not configured ([DEFAULT] backends does not name 'linux')")

    def port_state(self, name_or_id: str) -> PortState:
        port = find(self.session, PORT, name_or_id)
        assert isinstance(port, Port)
        subnets = []
        for subnet_id in dict.fromkeys(fixed.subnet_id for fixed in port.fixed_ips):
            subnet = SUBNET.call(self.session, "get", subnet_id)
            assert isinstance(subnet, Subnet)
            subnets.append(subnet)
        return PortState(port, tuple(subnets))


def _row(port: Port, netns: str, ifname: str) -> tuple[Any, ...]:
    addresses = ", ".join(str(fixed.ip_address) for fixed in port.fixed_ips)
    return (port.id, port.mac_address, netns, ifname, addresses)


class PlugPort(_PortCommand):
    """Move a port's instance end into a network namespace, with the port's MAC and link up."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("--netns", metavar="NAME", required=True, help="The instance's network namespace.")
        parser.add_argument(
            "--ifname", metavar="NAME", default="eth0", help="The interface's name there (default: eth0)."
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        state = self.port_state(parsed_args.port)
        self.backend().plug(state, parsed_args.netns, parsed_args.ifname)
        return _COLUMNS, _row(state.port, parsed_args.netns, parsed_args.ifname)


class UnplugPort(_PortCommand):
    """Take a port's interface back from whichever namespace holds it (idempotent)."""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        state = self.port_state(parsed_args.port)
        self.backend().unplug(state)
        return _COLUMNS, _row(state.port, "", "")
