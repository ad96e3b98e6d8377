"""Lifecycle events: observe or veto changes to resources.

A plugin that accepts an :class:`EventRegistry` publishes, for every resource
it manages, ``BEFORE_*`` before it changes anything and ``AFTER_*`` once the
change is stored. A ``BEFORE_*`` subscriber vetoes the change by raising a
:class:`~naas.exceptions.NaasError`: the first one raised propagates to the
caller unchanged and nothing is stored. Errors raised by ``AFTER_*``
subscribers are logged and swallowed: the change has already happened.

The registry is an ordinary object handed to whoever needs it; there is no
process-wide instance, so two sets of plugins in one process never see each
other's subscribers.

Payloads are typed: for each :class:`ResourceType`, ``request`` is one of the
request classes of :mod:`naas.requests` (or a :class:`FloatingIPAssociation`)
and ``current`` / ``result`` the resource class of :mod:`naas.resources`
listed in :data:`PAYLOAD_TYPES`. :meth:`EventRegistry.publish` refuses, with
TypeError, a payload whose values are of other types, so a subscriber can
rely on them. Observers that only watch are :mod:`naas.observers`.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import netaddr

from naas.context import RequestContext
from naas.requests import (
    FloatingIPCreate,
    FloatingIPUpdate,
    InterfaceRequest,
    NetworkCreate,
    NetworkUpdate,
    PortCreate,
    PortUpdate,
    Request,
    RouterCreate,
    RouterUpdate,
    SubnetCreate,
    SubnetPoolCreate,
    SubnetPoolUpdate,
    SubnetUpdate,
)
from naas.resources import FloatingIP, Network, Port, Resource, Router, RouterInterfaceInfo, Subnet, SubnetPool

__all__ = [
    "PAYLOAD_TYPES",
    "Event",
    "EventPayload",
    "EventRegistry",
    "FloatingIPAssociation",
    "PayloadTypes",
    "ResourceType",
    "Subscriber",
]

LOG = logging.getLogger(__name__)


class ResourceType(enum.StrEnum):
    """The kinds of resource events are published for; a value is the Networking API's resource name."""

    NETWORK = "network"
    SUBNET = "subnet"
    SUBNETPOOL = "subnetpool"
    PORT = "port"
    ROUTER = "router"
    ROUTER_INTERFACE = "router_interface"
    FLOATINGIP = "floatingip"


class Event(enum.StrEnum):
    """The moment of a change an event reports: before it (a subscriber may veto) or after it is stored."""

    BEFORE_CREATE = "before_create"
    AFTER_CREATE = "after_create"
    BEFORE_UPDATE = "before_update"
    AFTER_UPDATE = "after_update"
    BEFORE_DELETE = "before_delete"
    AFTER_DELETE = "after_delete"

    @property
    def is_before(self) -> bool:
        """Whether this is a ``BEFORE_*`` event, one whose subscribers may veto the change."""
        return self.value.startswith("before_")


@dataclasses.dataclass(frozen=True)
class FloatingIPAssociation:
    """The request of a floating IP update: associate it with ``port_id`` (None: disassociate)."""

    port_id: str | None
    fixed_ip_address: netaddr.IPAddress | None = None

    @classmethod
    def from_mapping(cls, body: Mapping[str, Any]) -> FloatingIPAssociation:
        """From the plugins' ``{"port_id": ..., "fixed_ip_address": ...}``; TypeError for any other key."""
        unknown = sorted(set(body) - {"port_id", "fixed_ip_address"})
        if unknown or "port_id" not in body:
            raise TypeError(f"a floating IP association is {{'port_id', 'fixed_ip_address'}}, not {dict(body)!r}")
        address = body.get("fixed_ip_address")
        return cls(body["port_id"], None if address is None else netaddr.IPAddress(str(address)))


EventRequest = Request | FloatingIPAssociation


@dataclasses.dataclass(frozen=True)
class PayloadTypes:
    """What the payload of one resource's events may hold: ``request`` of ``requests``, ``current``/``result``."""

    requests: tuple[type[EventRequest], ...]
    resource: type[Resource]


PAYLOAD_TYPES: Mapping[ResourceType, PayloadTypes] = {
    ResourceType.NETWORK: PayloadTypes((NetworkCreate, NetworkUpdate), Network),
    ResourceType.SUBNET: PayloadTypes((SubnetCreate, SubnetUpdate), Subnet),
    ResourceType.SUBNETPOOL: PayloadTypes((SubnetPoolCreate, SubnetPoolUpdate), SubnetPool),
    ResourceType.PORT: PayloadTypes((PortCreate, PortUpdate), Port),
    ResourceType.ROUTER: PayloadTypes((RouterCreate, RouterUpdate), Router),
    ResourceType.ROUTER_INTERFACE: PayloadTypes((InterfaceRequest,), RouterInterfaceInfo),
    ResourceType.FLOATINGIP: PayloadTypes((FloatingIPCreate, FloatingIPUpdate, FloatingIPAssociation), FloatingIP),
}
"""For each resource, the types its events' payloads carry (checked by :meth:`EventRegistry.publish`)."""


@dataclasses.dataclass(frozen=True)
class EventPayload:
    """What happened: ``request`` is the validated request (create, update),
    ``current`` the stored resource before the change (update, delete) and
    ``result`` the stored resource after it (``AFTER_CREATE``, ``AFTER_UPDATE``).

    For a router interface, ``resource_id`` is the router's and ``current`` /
    ``result`` the :class:`~naas.resources.RouterInterfaceInfo`. A mapping
    given as ``request`` is read as a :class:`FloatingIPAssociation`.
    """

    context: RequestContext
    resource_id: str | None = None
    request: EventRequest | None = None
    current: Resource | None = None
    result: Resource | None = None

    def __post_init__(self) -> None:
        if isinstance(self.request, Mapping):
            object.__setattr__(self, "request", FloatingIPAssociation.from_mapping(self.request))

    def check(self, resource: ResourceType) -> None:
        """TypeError unless every value is of a type :data:`PAYLOAD_TYPES` lists for ``resource``."""
        expected = PAYLOAD_TYPES[resource]
        if self.request is not None and not isinstance(self.request, expected.requests):
            allowed = " or ".join(kind.__name__ for kind in expected.requests)
            raise TypeError(f"{resource.value} event: request is a {type(self.request).__name__}, not {allowed}")
        for name in ("current", "result"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, expected.resource):
                raise TypeError(
                    f"{resource.value} event: {name} is a {type(value).__name__}, not {expected.resource.__name__}"
                )


Subscriber = Callable[[ResourceType, Event, EventPayload], None]
"""What :meth:`EventRegistry.subscribe` takes: called as ``subscriber(resource, event, payload)``."""


class EventRegistry:
    """Subscribers per (resource, event), called in priority order (lower first)."""

    DEFAULT_PRIORITY = 1000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[tuple[ResourceType, Event], list[tuple[int, int, Subscriber]]] = {}
        self._sequence = 0

    def subscribe(
        self, resource: ResourceType, event: Event, subscriber: Subscriber, priority: int = DEFAULT_PRIORITY
    ) -> None:
        """Call ``subscriber(resource, event, payload)`` on every such event, lower ``priority`` first.

        Subscribers of equal priority are called in the order they subscribed.
        A ``BEFORE_*`` subscriber vetoes the change by raising a
        :class:`~naas.exceptions.NaasError`; an ``AFTER_*`` subscriber's error
        is logged and dropped.
        """
        with self._lock:
            self._sequence += 1
            entries = self._subscribers.setdefault((resource, event), [])
            entries.append((priority, self._sequence, subscriber))
            entries.sort(key=lambda entry: entry[:2])

    def unsubscribe(self, resource: ResourceType, event: Event, subscriber: Subscriber) -> None:
        """Stop calling ``subscriber`` for (``resource``, ``event``); a subscriber not subscribed is ignored."""
        with self._lock:
            entries = self._subscribers.get((resource, event), [])
            entries[:] = [entry for entry in entries if entry[2] != subscriber]

    def notify(
        self,
        resource: ResourceType,
        event: Event,
        context: RequestContext,
        resource_id: str | None,
        *,
        request: EventRequest | Mapping[str, Any] | None = None,
        current: Resource | None = None,
        result: Resource | None = None,
    ) -> None:
        """Publish an :class:`EventPayload` built from these fields (the plugins' usual call)."""
        payload = EventPayload(
            context=context,
            resource_id=resource_id,
            request=request,  # type: ignore[arg-type]  # __post_init__ turns a mapping into its typed form
            current=current,
            result=result,
        )
        self.publish(resource, event, payload)

    def publish(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        """Call the subscribers; a ``BEFORE_*`` subscriber's error stops the change.

        Raises TypeError, before calling anyone, when the payload does not hold
        the types :data:`PAYLOAD_TYPES` lists for ``resource``.
        """
        payload.check(resource)
        with self._lock:
            entries = list(self._subscribers.get((resource, event), ()))
        for _, _, subscriber in entries:
            if event.is_before:
                subscriber(resource, event, payload)
                continue
            try:
                subscriber(resource, event, payload)
            except Exception:
                LOG.exception("Subscriber %r failed on %s %s", subscriber, resource.value, event.value)
