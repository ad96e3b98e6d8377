"""What a network backend declares it realizes."""

from __future__ import annotations

import enum
from collections.abc import Iterable

__all__ = ["ROUTING", "SWITCHING", "Capability", "check_capabilities"]


class Capability(enum.StrEnum):
    """One thing a backend can program; declared on the backend class as ``CAPABILITIES``.

    The resource capabilities (``NETWORKS``, ``PORTS``, ``ROUTERS``,
    ``FLOATING_IPS``) say which changes the backend receives; the others are
    features of those resources that it can also program.
    """

    NETWORKS = "networks"
    PORTS = "ports"
    DHCP = "dhcp"
    ROUTERS = "routers"
    GATEWAYS = "gateways"
    INTERFACES = "interfaces"
    SNAT = "snat"
    FLOATING_IPS = "floating_ips"
    IPV6 = "ipv6"


SWITCHING: frozenset[Capability] = frozenset({Capability.NETWORKS, Capability.PORTS, Capability.DHCP})
"""Layer 2: networks with their subnets, ports, DHCP."""

ROUTING: frozenset[Capability] = frozenset(
    {Capability.ROUTERS, Capability.GATEWAYS, Capability.INTERFACES, Capability.SNAT, Capability.FLOATING_IPS}
)
"""Layer 3: routers, their external gateways and interfaces, SNAT, floating IPs."""

# A feature is meaningless without what it is a feature of.
_NEEDS: dict[Capability, frozenset[Capability]] = {
    Capability.DHCP: frozenset({Capability.NETWORKS, Capability.PORTS}),
    Capability.GATEWAYS: frozenset({Capability.ROUTERS}),
    Capability.INTERFACES: frozenset({Capability.ROUTERS}),
    Capability.SNAT: frozenset({Capability.GATEWAYS}),
    Capability.FLOATING_IPS: frozenset({Capability.GATEWAYS}),
}
_RESOURCES = frozenset({Capability.NETWORKS, Capability.PORTS, Capability.ROUTERS, Capability.FLOATING_IPS})


def check_capabilities(capabilities: object) -> frozenset[Capability]:
    """``capabilities`` itself if it is a sound declaration, else ValueError saying what is wrong.

    Sound: a non-empty ``frozenset`` of :class:`Capability` members (a plain
    string such as ``"dhcp"`` is refused, so a typo cannot pass), naming at
    least one resource, and every feature together with what it needs
    (``DHCP`` needs ``NETWORKS`` and ``PORTS``; ``SNAT`` and ``FLOATING_IPS``
    need ``GATEWAYS``; ``GATEWAYS`` and ``INTERFACES`` need ``ROUTERS``).
    """
    if not isinstance(capabilities, frozenset):
        raise ValueError(f"CAPABILITIES must be a frozenset of naas.backends.Capability, not {capabilities!r}")
    strangers = sorted(repr(item) for item in capabilities if not isinstance(item, Capability))
    if strangers:
        raise ValueError(f"CAPABILITIES holds {', '.join(strangers)}, which are not naas.backends.Capability members")
    if not capabilities & _RESOURCES:
        raise ValueError(f"CAPABILITIES names no resource to realize; give at least one of {_names(_RESOURCES)}")
    for feature in sorted(capabilities):
        missing = _NEEDS.get(feature, frozenset()) - capabilities
        if missing:
            raise ValueError(f"CAPABILITIES declares {feature.value} without {_names(missing)}")
    return capabilities


def _names(capabilities: Iterable[Capability]) -> str:
    return ", ".join(sorted(capability.value for capability in capabilities))
