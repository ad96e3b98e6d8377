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
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import threading
from collections.abc import Callable
from typing import Any

from naas.context import RequestContext

__all__ = ["Event", "EventPayload", "EventRegistry", "ResourceType", "Subscriber"]

LOG = logging.getLogger(__name__)


class ResourceType(enum.StrEnum):
    NETWORK = "network"
    SUBNET = "subnet"
    SUBNETPOOL = "subnetpool"
    PORT = "port"
    ROUTER = "router"
    ROUTER_INTERFACE = "router_interface"
    FLOATINGIP = "floatingip"


class Event(enum.StrEnum):
    BEFORE_CREATE = "before_create"
    AFTER_CREATE = "after_create"
    BEFORE_UPDATE = "before_update"
    AFTER_UPDATE = "after_update"
    BEFORE_DELETE = "before_delete"
    AFTER_DELETE = "after_delete"

    @property
    def is_before(self) -> bool:
        return self.value.startswith("before_")


@dataclasses.dataclass(frozen=True)
class EventPayload:
    """What happened: ``request`` is the validated request (create, update),
    ``current`` the stored resource before the change (update, delete) and
    ``result`` the stored resource after it (``AFTER_CREATE``, ``AFTER_UPDATE``)."""

    context: RequestContext
    resource_id: str | None = None
    request: Any = None
    current: Any = None
    result: Any = None


Subscriber = Callable[[ResourceType, Event, EventPayload], None]


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
        with self._lock:
            self._sequence += 1
            entries = self._subscribers.setdefault((resource, event), [])
            entries.append((priority, self._sequence, subscriber))
            entries.sort(key=lambda entry: entry[:2])

    def unsubscribe(self, resource: ResourceType, event: Event, subscriber: Subscriber) -> None:
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
        request: Any = None,
        current: Any = None,
        result: Any = None,
    ) -> None:
        """Publish an :class:`EventPayload` built from these fields (the plugins' usual call)."""
        payload = EventPayload(
            context=context, resource_id=resource_id, request=request, current=current, result=result
        )
        self.publish(resource, event, payload)

    def publish(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        """Call the subscribers; a ``BEFORE_*`` subscriber's error stops the change."""
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
