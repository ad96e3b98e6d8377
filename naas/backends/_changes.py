"""Typed descriptions of what a backend programs: resource states, changes and the whole stored state.

A *state* is one resource together with everything a dataplane needs to
realize it, so that a backend never calls back into the plugins:

- :class:`NetworkState`: the network and all of its subnets (CIDRs, gateway
  addresses, allocation pools, DHCP);
- :class:`PortState`: the port (MAC, fixed IPs, owner) and the subnets of its
  fixed IPs (prefix lengths, gateways);
- :class:`RouterState`: the router, its external gateway
  (:class:`RouterGateway`: external network, external addresses and their
  subnets, the SNAT flag, the gateway port's MAC) and its interfaces
  (:class:`RouterInterface`: subnet, the router's address on it, port MAC);
- :class:`FloatingIPState`: the floating IP, whose ``floating_ip_address``,
  ``port_id``, ``fixed_ip_address`` and ``router_id`` are the floating → fixed
  mapping and the router that carries it.

A *change* (:class:`NetworkChange`, :class:`PortChange`, :class:`RouterChange`,
:class:`FloatingIPChange`, all :class:`Change`) holds the state before and
after one operation. Subnets are part of their network and interfaces and
gateways part of their router, so adding a subnet is an update of its
network and adding an interface an update of its router.

The constructors check that a state is consistent and raise ValueError or
TypeError when it is not: these are programming errors of whoever builds
them, never a user's bad input.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from typing import ClassVar

import netaddr

from naas.backends._capabilities import Capability
from naas.events import ResourceType
from naas.resources import FixedIP, FloatingIP, Network, Port, Resource, Router, Subnet

__all__ = [
    "Change",
    "DataplaneState",
    "FloatingIPChange",
    "FloatingIPState",
    "NetworkChange",
    "NetworkState",
    "Operation",
    "PortChange",
    "PortState",
    "ResourceState",
    "RouterChange",
    "RouterGateway",
    "RouterInterface",
    "RouterState",
]


class Operation(enum.StrEnum):
    """What a :class:`Change` does to its resource."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


def _check_subnets_cover(owner: str, fixed_ips: tuple[FixedIP, ...], subnets: tuple[Subnet, ...]) -> None:
    by_id = {subnet.id: subnet for subnet in subnets}
    for fixed_ip in fixed_ips:
        subnet = by_id.get(fixed_ip.subnet_id)
        if subnet is None:
            raise ValueError(f"{owner}: the subnet {fixed_ip.subnet_id} of {fixed_ip.ip_address} is not given")
        if fixed_ip.ip_address not in subnet.cidr:
            raise ValueError(f"{owner}: {fixed_ip.ip_address} is not in subnet {subnet.id} ({subnet.cidr})")


@dataclasses.dataclass(frozen=True)
class NetworkState:
    """A network with all of its subnets (exactly those ``network.subnets`` names)."""

    RESOURCE_TYPE: ClassVar[ResourceType] = ResourceType.NETWORK
    CAPABILITY: ClassVar[Capability] = Capability.NETWORKS

    network: Network
    subnets: tuple[Subnet, ...] = ()

    def __post_init__(self) -> None:
        if sorted(subnet.id for subnet in self.subnets) != sorted(self.network.subnets):
            raise ValueError(
                f"network {self.network.id}: subnets {[s.id for s in self.subnets]} "
                f"do not match its subnet ids {list(self.network.subnets)}"
            )
        strangers = [subnet.id for subnet in self.subnets if subnet.network_id != self.network.id]
        if strangers:
            raise ValueError(f"network {self.network.id}: subnets {strangers} belong to another network")

    @property
    def resource(self) -> Network:
        """The resource whose desired state this is."""
        return self.network

    @property
    def resource_id(self) -> str:
        """The id of :attr:`resource`."""
        return self.network.id


@dataclasses.dataclass(frozen=True)
class PortState:
    """A port and the subnets of its fixed IPs (each subnet once)."""

    RESOURCE_TYPE: ClassVar[ResourceType] = ResourceType.PORT
    CAPABILITY: ClassVar[Capability] = Capability.PORTS

    port: Port
    subnets: tuple[Subnet, ...] = ()

    def __post_init__(self) -> None:
        _check_subnets_cover(f"port {self.port.id}", self.port.fixed_ips, self.subnets)

    @property
    def resource(self) -> Port:
        """The resource whose desired state this is."""
        return self.port

    @property
    def resource_id(self) -> str:
        """The id of :attr:`resource`."""
        return self.port.id


@dataclasses.dataclass(frozen=True)
class RouterGateway:
    """A router's external gateway: its port on the external network and that network's subnets it uses."""

    network_id: str
    port_id: str
    mac_address: str
    enable_snat: bool
    external_fixed_ips: tuple[FixedIP, ...]
    external_subnets: tuple[Subnet, ...]
    """The subnet of each external address: its CIDR (prefix length) and upstream ``gateway_ip``."""

    def __post_init__(self) -> None:
        _check_subnets_cover(f"gateway port {self.port_id}", self.external_fixed_ips, self.external_subnets)


@dataclasses.dataclass(frozen=True)
class RouterInterface:
    """One router interface: the router's ``ip_address`` on ``subnet``, through port ``port_id``."""

    port_id: str
    mac_address: str
    network_id: str
    subnet: Subnet
    ip_address: netaddr.IPAddress

    def __post_init__(self) -> None:
        if self.ip_address not in self.subnet.cidr:
            raise ValueError(f"router interface {self.port_id}: {self.ip_address} is not in {self.subnet.cidr}")
        if self.subnet.network_id != self.network_id:
            raise ValueError(f"router interface {self.port_id}: subnet {self.subnet.id} is not on {self.network_id}")


@dataclasses.dataclass(frozen=True)
class RouterState:
    """A router with its gateway (None when it has none) and its interfaces."""

    RESOURCE_TYPE: ClassVar[ResourceType] = ResourceType.ROUTER
    CAPABILITY: ClassVar[Capability] = Capability.ROUTERS

    router: Router
    gateway: RouterGateway | None = None
    interfaces: tuple[RouterInterface, ...] = ()

    def __post_init__(self) -> None:
        info = self.router.external_gateway_info
        if (info is None) != (self.gateway is None):
            raise ValueError(f"router {self.router.id}: gateway given without external_gateway_info, or the reverse")
        if info is not None and self.gateway is not None:
            stored = (info.network_id, info.enable_snat, info.external_fixed_ips)
            if stored != (self.gateway.network_id, self.gateway.enable_snat, self.gateway.external_fixed_ips):
                raise ValueError(f"router {self.router.id}: the gateway differs from its external_gateway_info")

    @property
    def resource(self) -> Router:
        """The resource whose desired state this is."""
        return self.router

    @property
    def resource_id(self) -> str:
        """The id of :attr:`resource`."""
        return self.router.id


@dataclasses.dataclass(frozen=True)
class FloatingIPState:
    """A floating IP: ``floating_ip_address`` → ``fixed_ip_address`` of ``port_id``, on ``router_id``."""

    RESOURCE_TYPE: ClassVar[ResourceType] = ResourceType.FLOATINGIP
    CAPABILITY: ClassVar[Capability] = Capability.FLOATING_IPS

    floatingip: FloatingIP

    def __post_init__(self) -> None:
        fip = self.floatingip
        if (fip.port_id is None) != (fip.fixed_ip_address is None) or (fip.port_id is None) != (fip.router_id is None):
            raise ValueError(f"floating IP {fip.id}: port_id, fixed_ip_address and router_id go together")

    @property
    def resource(self) -> FloatingIP:
        """The resource whose desired state this is."""
        return self.floatingip

    @property
    def resource_id(self) -> str:
        """The id of :attr:`resource`."""
        return self.floatingip.id


ResourceState = NetworkState | PortState | RouterState | FloatingIPState
"""The desired dataplane state of one resource, of any kind a backend realizes."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Change:
    """One stored (or about to be stored) operation on one resource.

    ``before`` is None for a create, ``after`` None for a delete; both are
    given for an update. ``request_id`` ties the change to the request that
    made it, for the backend's log lines; it is None for changes made by naas
    itself. Build one of the four subclasses, never this class.
    """

    STATE: ClassVar[type[ResourceState]]

    before: ResourceState | None
    after: ResourceState | None
    request_id: str | None = None

    def __post_init__(self) -> None:
        if type(self) is Change:
            raise TypeError("build a NetworkChange, PortChange, RouterChange or FloatingIPChange, not a Change")
        if self.before is None and self.after is None:
            raise ValueError(f"{type(self).__name__} needs a state before or after the change")
        for state in (self.before, self.after):
            if state is not None and not isinstance(state, self.STATE):
                raise TypeError(f"{type(self).__name__} takes {self.STATE.__name__}, not {type(state).__name__}")
        if self.before is not None and self.after is not None and self.before.resource_id != self.after.resource_id:
            raise ValueError(
                f"{type(self).__name__}: before is {self.before.resource_id}, after is {self.after.resource_id}"
            )

    @property
    def resource_type(self) -> ResourceType:
        """The kind of resource the change is about."""
        return self.STATE.RESOURCE_TYPE

    @property
    def operation(self) -> Operation:
        """Create (no ``before``), delete (no ``after``) or update (both)."""
        if self.before is None:
            return Operation.CREATE
        return Operation.DELETE if self.after is None else Operation.UPDATE

    @property
    def resource_id(self) -> str:
        """The id of :attr:`resource`."""
        state = self.after if self.after is not None else self.before
        assert state is not None  # __post_init__ refuses a change with neither
        return state.resource_id

    @property
    def resource(self) -> Resource:
        """The resource after the change, or before it for a delete."""
        state = self.after if self.after is not None else self.before
        assert state is not None
        return state.resource

    def describe(self) -> str:
        """``"create network 8b3c..."``, for messages."""
        return f"{self.operation.value} {self.resource_type.value} {self.resource_id}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class NetworkChange(Change):
    STATE: ClassVar[type[ResourceState]] = NetworkState
    before: NetworkState | None
    after: NetworkState | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class PortChange(Change):
    STATE: ClassVar[type[ResourceState]] = PortState
    before: PortState | None
    after: PortState | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RouterChange(Change):
    STATE: ClassVar[type[ResourceState]] = RouterState
    before: RouterState | None
    after: RouterState | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class FloatingIPChange(Change):
    STATE: ClassVar[type[ResourceState]] = FloatingIPState
    before: FloatingIPState | None
    after: FloatingIPState | None


@dataclasses.dataclass(frozen=True)
class DataplaneState:
    """Every stored resource a backend may realize: what :meth:`NetworkBackend.sync` makes the dataplane match."""

    networks: tuple[NetworkState, ...] = ()
    ports: tuple[PortState, ...] = ()
    routers: tuple[RouterState, ...] = ()
    floatingips: tuple[FloatingIPState, ...] = ()

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            seen: set[str] = set()
            for state in getattr(self, field.name):
                if state.resource_id in seen:
                    raise ValueError(f"DataplaneState.{field.name} holds {state.resource_id} twice")
                seen.add(state.resource_id)

    def __iter__(self) -> Iterator[ResourceState]:
        """Every state: networks, ports, routers, then floating IPs (the order a dataplane builds them in)."""
        yield from self.networks
        yield from self.ports
        yield from self.routers
        yield from self.floatingips

    def restricted_to(self, capabilities: frozenset[Capability]) -> DataplaneState:
        """Only the resource types ``capabilities`` include (what a backend with them receives)."""
        return DataplaneState(
            networks=self.networks if Capability.NETWORKS in capabilities else (),
            ports=self.ports if Capability.PORTS in capabilities else (),
            routers=self.routers if Capability.ROUTERS in capabilities else (),
            floatingips=self.floatingips if Capability.FLOATING_IPS in capabilities else (),
        )
