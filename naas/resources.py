"""The resources plugins return: frozen, typed values.

Addresses and prefixes are :mod:`netaddr` objects. ``to_dict()`` gives the
Networking API v2.0 wire form (``router:external``, ``tenant_id`` ...), which a
REST layer or the command line prints; ``fields`` keeps only the named keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import netaddr

from naas.exceptions import BadRequest

__all__ = [
    "DEVICE_OWNER_FLOATINGIP",
    "DEVICE_OWNER_ROUTER_GATEWAY",
    "DEVICE_OWNER_ROUTER_INTERFACE",
    "ExternalGatewayInfo",
    "FixedIP",
    "FloatingIP",
    "Network",
    "Port",
    "Resource",
    "Router",
    "RouterInterfaceInfo",
    "Subnet",
    "SubnetPool",
    "filter_key",
    "filter_resources",
    "filter_values",
]

DEVICE_OWNER_ROUTER_INTERFACE = "network:router_interface"
DEVICE_OWNER_ROUTER_GATEWAY = "network:router_gateway"
DEVICE_OWNER_FLOATINGIP = "network:floatingip"


def _wire(value: Any) -> Any:
    if isinstance(value, (netaddr.IPAddress, netaddr.IPNetwork)):
        return str(value)
    if isinstance(value, netaddr.IPRange):
        return {"start": str(value[0]), "end": str(value[-1])}
    if isinstance(value, Resource):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_wire(item) for item in value]
    return value


@dataclasses.dataclass(frozen=True)
class Resource:
    """Common behaviour of every resource: wire form and attribute lookup."""

    RESOURCE: ClassVar[str] = ""
    # Python attribute name -> wire name, where they differ.
    WIRE_NAMES: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def wire_to_attribute(cls) -> dict[str, str]:
        names = {f.name: f.name for f in dataclasses.fields(cls)}
        names.update({wire: attr for attr, wire in cls.WIRE_NAMES.items()})
        if "project_id" in names:
            names["tenant_id"] = "project_id"
        return names

    def to_dict(self, fields: Sequence[str] | None = None) -> dict[str, Any]:
        body = {self.WIRE_NAMES.get(f.name, f.name): _wire(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if "project_id" in body:
            body["tenant_id"] = body["project_id"]
        if fields:
            return {key: value for key, value in body.items() if key in fields}
        return body


@dataclasses.dataclass(frozen=True)
class Network(Resource):
    RESOURCE: ClassVar[str] = "network"
    WIRE_NAMES: ClassVar[Mapping[str, str]] = {"router_external": "router:external"}

    id: str
    project_id: str
    name: str
    admin_state_up: bool
    shared: bool
    router_external: bool
    is_default: bool
    mtu: int
    status: str
    subnets: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Subnet(Resource):
    RESOURCE: ClassVar[str] = "subnet"

    id: str
    project_id: str
    network_id: str
    name: str
    ip_version: int
    cidr: netaddr.IPNetwork
    gateway_ip: netaddr.IPAddress | None
    allocation_pools: tuple[netaddr.IPRange, ...]
    subnetpool_id: str | None
    enable_dhcp: bool


@dataclasses.dataclass(frozen=True)
class SubnetPool(Resource):
    RESOURCE: ClassVar[str] = "subnetpool"

    id: str
    project_id: str
    name: str
    ip_version: int
    prefixes: tuple[netaddr.IPNetwork, ...]
    default_prefixlen: int
    min_prefixlen: int
    max_prefixlen: int
    shared: bool
    is_default: bool
    default_quota: int | None


@dataclasses.dataclass(frozen=True)
class FixedIP(Resource):
    RESOURCE: ClassVar[str] = "fixed_ip"

    subnet_id: str
    ip_address: netaddr.IPAddress


@dataclasses.dataclass(frozen=True)
class Port(Resource):
    RESOURCE: ClassVar[str] = "port"

    id: str
    project_id: str
    network_id: str
    name: str
    admin_state_up: bool
    mac_address: str
    device_id: str
    device_owner: str
    fixed_ips: tuple[FixedIP, ...]
    status: str


@dataclasses.dataclass(frozen=True)
class ExternalGatewayInfo(Resource):
    RESOURCE: ClassVar[str] = "external_gateway_info"

    network_id: str
    enable_snat: bool
    external_fixed_ips: tuple[FixedIP, ...]


@dataclasses.dataclass(frozen=True)
class Router(Resource):
    RESOURCE: ClassVar[str] = "router"

    id: str
    project_id: str
    name: str
    admin_state_up: bool
    status: str
    external_gateway_info: ExternalGatewayInfo | None


@dataclasses.dataclass(frozen=True)
class RouterInterfaceInfo(Resource):
    """What adding or removing a router interface reports."""

    RESOURCE: ClassVar[str] = "router_interface"

    id: str  # the router
    project_id: str
    network_id: str
    port_id: str
    subnet_id: str
    subnet_ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class FloatingIP(Resource):
    RESOURCE: ClassVar[str] = "floatingip"

    id: str
    project_id: str
    floating_network_id: str
    floating_ip_address: netaddr.IPAddress
    port_id: str | None
    fixed_ip_address: netaddr.IPAddress | None
    router_id: str | None
    status: str


ResourceT = TypeVar("ResourceT", bound=Resource)


def filter_key(value: Any) -> str:
    """One comparable spelling for a value: bools as 'true'/'false', addresses as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(_wire(value))
    return text.lower() if text.lower() in ("true", "false") else text


def _candidate_keys(value: Any) -> list[str]:
    if isinstance(value, tuple):
        keys: list[str] = []
        for element in value:
            keys.extend(_candidate_keys(element))
        return keys
    if isinstance(value, Resource):
        # A fixed IP matches on its subnet id or on its address.
        return [filter_key(getattr(value, f.name)) for f in dataclasses.fields(value)]
    return [filter_key(value)]


def filter_values(values: Any) -> set[str]:
    """The set of spellings a filter accepts: one value or an iterable of them, each as :func:`filter_key`."""
    if isinstance(values, (str, bytes, bool, int)) or not isinstance(values, Iterable):
        values = [values]
    return {filter_key(value) for value in values}


def filter_resources(
    resources: Iterable[ResourceT], resource_type: type[ResourceT], filters: Mapping[str, Any] | None
) -> list[ResourceT]:
    """Keep the resources matching every filter.

    ``filters`` maps an attribute's wire name (``router:external``,
    ``tenant_id`` ...) to one acceptable value or an iterable of them: values of one
    key are alternatives, keys must all match. An unknown key is a
    :class:`~naas.exceptions.BadRequest` naming it. For list-valued attributes
    (``subnets``, ``fixed_ips`` ...) a resource matches when any element matches.
    """
    if not filters:
        return list(resources)
    attributes = resource_type.wire_to_attribute()
    wanted: list[tuple[str, set[str]]] = []
    for key, values in filters.items():
        if key not in attributes:
            raise BadRequest(resource_type.RESOURCE, key, "is not an attribute that can be filtered on")
        wanted.append((attributes[key], filter_values(values)))

    def matches(item: ResourceT) -> bool:
        for attribute, accepted in wanted:
            if not accepted.intersection(_candidate_keys(getattr(item, attribute))):
                return False
        return True

    return [item for item in resources if matches(item)]
