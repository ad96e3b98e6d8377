"""User input made into netaddr values, or a ``BadRequest`` that names the attribute when it is not one."""

from __future__ import annotations

from typing import Final, Literal

import netaddr

from naas import exceptions

IpVersion = Literal[4, 6]

MAX_PREFIXLEN: Final[dict[IpVersion, int]] = {4: 32, 6: 128}

CidrInput = str | netaddr.IPNetwork
AddressInput = str | netaddr.IPAddress


def address_width(resource: str, ip_version: int) -> int:
    """The address width of ``ip_version`` (32 or 128).

    Raises ``BadRequest(resource, "ip_version", ...)`` unless ``ip_version`` is 4 or 6.
    """
    # bool is an int, and True == 1 would otherwise slip through a dict lookup on other keys
    if isinstance(ip_version, bool) or ip_version not in MAX_PREFIXLEN:
        raise exceptions.BadRequest(resource, "ip_version", f"{ip_version!r} is neither 4 nor 6")
    return MAX_PREFIXLEN[ip_version]


def parse_cidr(resource: str, attribute: str, value: CidrInput) -> netaddr.IPNetwork:
    """``value`` as a network with its host bits cleared ("10.0.0.1/24" becomes 10.0.0.0/24, as Neutron does).

    Raises ``BadRequest(resource, attribute, ...)`` for anything that is not a CIDR, including a bare
    address without a prefix length.
    """
    if isinstance(value, netaddr.IPNetwork):
        return value.cidr
    if not isinstance(value, str) or "/" not in value:
        raise exceptions.BadRequest(resource, attribute, f"{value!r} is not a CIDR")
    try:
        return netaddr.IPNetwork(value).cidr
    except (netaddr.AddrFormatError, ValueError, TypeError) as error:
        raise exceptions.BadRequest(resource, attribute, f"{value!r} is not a CIDR") from error


def parse_address(resource: str, attribute: str, value: AddressInput) -> netaddr.IPAddress:
    """``value`` as an address. Raises ``BadRequest(resource, attribute, ...)`` if it is not one."""
    if isinstance(value, netaddr.IPAddress):
        return value
    if not isinstance(value, str):
        raise exceptions.BadRequest(resource, attribute, f"{value!r} is not an IP address")
    try:
        return netaddr.IPAddress(value)
    except (netaddr.AddrFormatError, ValueError, TypeError) as error:
        raise exceptions.BadRequest(resource, attribute, f"{value!r} is not an IP address") from error
