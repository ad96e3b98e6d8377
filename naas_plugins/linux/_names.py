"""Every kernel object's name, derived from the installation prefix and a resource id.

Namespaces carry the prefix and the whole id (namespace names have no length
limit). Interfaces live inside the installation's own namespaces (or, once
plugged, inside the instance's, under the name the caller chose), so their
names only need to be unique per namespace; they carry a short kind and 11 hex
digits of a hash of the id (hashed, because ids may share any fixed part),
which fits the kernel's 15-character limit as Neutron's ``tap``/``qr-`` names do.
Each interface also carries an alias ``naas:<kind>:<resource id>`` so sync can
name the resource of a leftover it removes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Final

__all__ = ["IFNAME_MAX", "Names", "short"]

IFNAME_MAX: Final = 15
"""Longest interface name the kernel accepts (IFNAMSIZ is 16 with the NUL byte)."""
ALIAS_PREFIX: Final = "naas:"

# Interface kinds: where the interface sits, what it stands for.
PORT = "port"
ROUTER_INTERFACE = "interface"
GATEWAY = "gateway"
DHCP = "dhcp"
NETWORK = "network"


def short(resource_id: str) -> str:
    """11 hex digits identifying ``resource_id`` (sha1, so ids sharing a prefix still differ)."""
    return hashlib.sha1(resource_id.encode()).hexdigest()[:11]


def alias(kind: str, resource_id: str) -> str:
    """The alias set on an interface: ``naas:<kind>:<resource id>``."""
    return f"{ALIAS_PREFIX}{kind}:{resource_id}"


def parse_alias(text: str | None) -> tuple[str, str] | None:
    """``(kind, resource id)`` from an alias :func:`alias` wrote, else None."""
    if not text or not text.startswith(ALIAS_PREFIX):
        return None
    kind, _, resource_id = text[len(ALIAS_PREFIX) :].partition(":")
    return (kind, resource_id) if resource_id else None


@dataclasses.dataclass(frozen=True)
class Names:
    """The names of one installation's objects (``prefix`` as in ``[linux] prefix``)."""

    prefix: str

    @property
    def switch_namespace(self) -> str:
        """The namespace holding every network's bridge and the switch side of every veth pair."""
        return f"{self.prefix}switch"

    @property
    def router_namespace_prefix(self) -> str:
        return f"{self.prefix}r-"

    @property
    def dhcp_namespace_prefix(self) -> str:
        return f"{self.prefix}d-"

    def router_namespace(self, router_id: str) -> str:
        return f"{self.router_namespace_prefix}{router_id}"

    def dhcp_namespace(self, network_id: str) -> str:
        return f"{self.dhcp_namespace_prefix}{network_id}"

    @property
    def nft_table(self) -> str:
        """The nftables table (family ``ip``) of this installation in each of its router namespaces."""
        return self.prefix.replace("-", "_") + "nat"

    # In the switch namespace

    @staticmethod
    def bridge(network_id: str) -> str:
        return f"br{short(network_id)}"

    @staticmethod
    def port_switch_end(port_id: str) -> str:
        """The port's end on its network's bridge (Neutron's ``tap``)."""
        return f"tap{short(port_id)}"

    @staticmethod
    def port_instance_end(port_id: str) -> str:
        """The port's other end, in the switch namespace until it is plugged into an instance."""
        return f"tpi{short(port_id)}"

    @staticmethod
    def interface_switch_end(port_id: str) -> str:
        return f"sqr{short(port_id)}"

    @staticmethod
    def gateway_switch_end(port_id: str) -> str:
        return f"sqg{short(port_id)}"

    @staticmethod
    def dhcp_switch_end(network_id: str) -> str:
        return f"sns{short(network_id)}"

    # In a router namespace

    @staticmethod
    def router_interface(port_id: str) -> str:
        return f"qr-{short(port_id)}"

    @staticmethod
    def router_gateway(port_id: str) -> str:
        return f"qg-{short(port_id)}"

    # In a DHCP namespace

    @staticmethod
    def dhcp_interface(network_id: str) -> str:
        return f"ns-{short(network_id)}"
