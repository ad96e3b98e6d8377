"""Observers: subscribers that watch changes without taking part in them.

An observer (an audit log, metrics, notifications) is loaded by name from
``[DEFAULT] observers`` (entry-point namespace ``naas.observers``, or a
``package.module:Class`` path) and attached to the plugins' event registry by
:func:`naas.loading.load_plugins`. It is no dataplane: a network backend
(:mod:`naas.backends`) is what programs one.

The contract:

- :meth:`Observer.subscriptions` names the ``(ResourceType, Event)`` pairs it
  receives, by default every ``AFTER_*`` event. Only ``AFTER_*`` events may be
  observed, so an observer sees only stored changes and can never veto one;
  :func:`attach` refuses anything else with ValueError, at load time.
- :meth:`Observer.observe` receives each event with its typed
  :class:`~naas.events.EventPayload` (the request, the resource before and
  after, as :data:`naas.events.PAYLOAD_TYPES` lists), in the thread that made
  the change, after the change is stored.
- Whatever ``observe`` raises is logged, with the observer's name, and
  dropped: the change stands and the caller never sees the error.
- :meth:`Observer.close` releases what it holds; ``Plugins.close()`` calls it.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Self

from naas.events import Event, EventPayload, EventRegistry, ResourceType

if TYPE_CHECKING:
    from oslo_config import cfg

__all__ = ["ALL_AFTER_EVENTS", "OBSERVER_PRIORITY", "Observer", "attach"]

LOG = logging.getLogger(__name__)

ALL_AFTER_EVENTS: frozenset[tuple[ResourceType, Event]] = frozenset(
    (resource, event) for resource in ResourceType for event in Event if not event.is_before
)
"""Every ``AFTER_*`` event of every resource: what an observer receives unless it says otherwise."""

OBSERVER_PRIORITY = EventRegistry.DEFAULT_PRIORITY * 10
"""Observers run after the plugins' own ``AFTER_*`` subscribers, which finish the change."""


class Observer(abc.ABC):
    """Watches stored changes; its errors are logged and dropped."""

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> Self:
        """Build the observer from the loaded configuration; the loader calls this. The default ignores ``conf``."""
        return cls()

    def subscriptions(self) -> Iterable[tuple[ResourceType, Event]]:
        """The ``(resource, AFTER_* event)`` pairs to receive; read once, when attached. Default: all of them."""
        return ALL_AFTER_EVENTS

    @abc.abstractmethod
    def observe(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        """Take note of one stored change. Anything raised is logged and dropped."""

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Release what the observer holds (files, connections). Idempotent."""


def attach(registry: EventRegistry, observer: Observer, name: str) -> Callable[[], None]:
    """Subscribe ``observer`` (called ``name`` in log lines) to ``registry``; return what detaches it.

    Raises ValueError, subscribing nothing, when a subscription is not a
    ``(ResourceType, Event)`` pair with an ``AFTER_*`` event.
    """
    wanted: list[tuple[ResourceType, Event]] = []
    for entry in observer.subscriptions():
        resource, event = entry if isinstance(entry, tuple) and len(entry) == 2 else (None, None)
        if not isinstance(resource, ResourceType) or not isinstance(event, Event):
            raise ValueError(f"observer {name!r} subscribes to {entry!r}, not a (ResourceType, Event) pair")
        if event.is_before:
            raise ValueError(
                f"observer {name!r} subscribes to {resource.value} {event.value}; observers receive only after_* events"
            )
        if (resource, event) not in wanted:
            wanted.append((resource, event))

    def deliver(resource: ResourceType, event: Event, payload: EventPayload) -> None:
        try:
            observer.observe(resource, event, payload)
        except Exception:
            LOG.exception("Observer %r failed on %s %s; the change stands", name, resource.value, event.value)

    for resource, event in wanted:
        registry.subscribe(resource, event, deliver, priority=OBSERVER_PRIORITY)

    def detach() -> None:
        for resource, event in wanted:
            registry.unsubscribe(resource, event, deliver)

    return detach
