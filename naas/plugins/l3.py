"""The L3 plugin contract: routers, external gateways, router interfaces, floating IPs.

An L3 plugin is built with the core plugin it works with (handed to it by the
loader, never looked up) and creates the ports it needs through it: the
gateway port (device owner ``network:router_gateway``), interface ports
(``network:router_interface``) and floating IP ports (``network:floatingip``).

Transactions, requests and errors follow the same rules as the core plugin
(see :mod:`naas.plugins.core`): each method is atomic, a failure keeps nothing,
malformed input is a BadRequest naming the attribute.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from oslo_config import cfg

from naas.capabilities import L3_CAPABILITIES, Capability
from naas.context import RequestContext
from naas.events import EventRegistry
from naas.plugins.core import CorePlugin, Filters
from naas.requests import FloatingIPCreate, FloatingIPUpdate, InterfaceRequest, RouterCreate, RouterUpdate
from naas.resources import FloatingIP, Router, RouterInterfaceInfo

__all__ = ["L3Plugin"]


class L3Plugin(abc.ABC):
    """Interface every L3 plugin implements."""

    #: What this plugin supports (see :mod:`naas.capabilities`): everything by default.
    CAPABILITIES: ClassVar[frozenset[Capability]] = L3_CAPABILITIES

    core_plugin: CorePlugin
    events: EventRegistry

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, core_plugin: CorePlugin, events: EventRegistry) -> Self:
        """Build the plugin for ``core_plugin``; the loader calls this.

        Raise :class:`TypeError` if this plugin cannot work with that core
        plugin (for example an L3 plugin that shares the core plugin's database).
        """
        return cls(core_plugin=core_plugin, events=events)  # type: ignore[call-arg]

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Release what the plugin holds outside the process. Idempotent; the default holds nothing."""

    # Routers

    @abc.abstractmethod
    def create_router(self, context: RequestContext, router: RouterCreate | Mapping[str, Any]) -> Router:
        """Create a router, with its gateway port on an external network if ``external_gateway_info`` is given.

        Raises BadRequest (malformed input; the gateway network is not
        external), NotFound (gateway network), NotAuthorized,
        IpAddressExhausted (no address left for the gateway).
        """

    @abc.abstractmethod
    def get_router(self, context: RequestContext, router_id: str) -> Router:
        """The router; NotFound when it does not exist or is not visible."""

    @abc.abstractmethod
    def get_routers(self, context: RequestContext, filters: Filters | None = None) -> list[Router]:
        """The visible routers matching ``filters``, oldest first."""

    @abc.abstractmethod
    def update_router(
        self,
        context: RequestContext,
        router_id: str,
        changes: RouterUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> Router:
        """Change a router; ``external_gateway_info`` sets, replaces or (None) removes the gateway.

        Raises as ``create_router``, plus NotFound for the router and InUse when
        removing a gateway that floating IPs still use.
        """

    @abc.abstractmethod
    def delete_router(self, context: RequestContext, router_id: str, *, if_revision: int | None = None) -> None:
        """Delete a router and its gateway port.

        Raises NotFound, NotAuthorized, InUse naming the interface ports still
        attached (checked before anything is deleted).
        """

    # Interfaces

    @abc.abstractmethod
    def add_router_interface(
        self, context: RequestContext, router_id: str, interface: InterfaceRequest | Mapping[str, Any]
    ) -> RouterInterfaceInfo:
        """Attach the router to a subnet (a new port holding the subnet's gateway address) or to a port.

        Raises BadRequest (the subnet has no gateway; the router already has a
        port on that subnet or an overlapping one; the port is in use or has no
        address), NotFound (router, subnet, port), NotAuthorized,
        IpAddressAlreadyAllocated (the gateway address is held by another port).
        """

    @abc.abstractmethod
    def remove_router_interface(
        self, context: RequestContext, router_id: str, interface: InterfaceRequest | Mapping[str, Any]
    ) -> RouterInterfaceInfo:
        """Detach the router from a subnet or port, deleting the interface port.

        Raises NotFound (router; no interface on that subnet or port),
        NotAuthorized, InUse (floating IPs reach fixed addresses through it).
        """

    # Floating IPs

    @abc.abstractmethod
    def create_floatingip(
        self, context: RequestContext, floatingip: FloatingIPCreate | Mapping[str, Any]
    ) -> FloatingIP:
        """Allocate an address on an external network, optionally associated with ``port_id``.

        Raises BadRequest (malformed; the network is not external), NotFound
        (network, port; no router connects the port's subnet to that network),
        NotAuthorized, IpAddressExhausted, IpAddressAlreadyAllocated.
        """

    @abc.abstractmethod
    def get_floatingip(self, context: RequestContext, floatingip_id: str) -> FloatingIP:
        """The floating IP; NotFound when it does not exist or is not visible."""

    @abc.abstractmethod
    def get_floatingips(self, context: RequestContext, filters: Filters | None = None) -> list[FloatingIP]:
        """The visible floating IPs matching ``filters``, oldest first."""

    @abc.abstractmethod
    def update_floatingip(
        self,
        context: RequestContext,
        floatingip_id: str,
        changes: FloatingIPUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> FloatingIP:
        """Change a floating IP as ``PUT /floatingips/{id}`` does: map it (``port_id``), unmap it (``port_id``
        None), set its ``description`` and ``tags``, all in one revision.

        Raises as ``associate_floatingip``, plus RevisionMismatch.
        """

    @abc.abstractmethod
    def associate_floatingip(
        self,
        context: RequestContext,
        floatingip_id: str,
        port_id: str,
        fixed_ip_address: str | None = None,
        *,
        if_revision: int | None = None,
    ) -> FloatingIP:
        """Map the floating IP to one of ``port_id``'s addresses (its first IPv4 address by default).

        Raises BadRequest (the port has no such IPv4 address), NotFound (floating
        IP, port, or no router between them), NotAuthorized, Conflict (that
        address already has a floating IP from the same network).
        """

    @abc.abstractmethod
    def disassociate_floatingip(
        self, context: RequestContext, floatingip_id: str, *, if_revision: int | None = None
    ) -> FloatingIP:
        """Unmap the floating IP; idempotent (unmapping an unmapped one writes nothing and keeps its revision).

        Raises NotFound, NotAuthorized, RevisionMismatch.
        """

    @abc.abstractmethod
    def delete_floatingip(self, context: RequestContext, floatingip_id: str, *, if_revision: int | None = None) -> None:
        """Release the floating IP and its port. Raises NotFound, NotAuthorized."""
