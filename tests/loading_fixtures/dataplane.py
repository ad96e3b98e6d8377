"""Backends, observers and plugins that take backends, right or wrong, for the loader's tests."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from oslo_config import cfg

from naas.backends import BackendChain, Capability
from naas.events import Event, EventPayload, EventRegistry, ResourceType
from naas.observers import Observer
from naas.plugins import CorePlugin
from naas.testing.backends import RecordingBackend
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin

BUILT: list[str] = []
"""Names of the backends and observers built and closed, in order, across one test."""


class NamedRecorder(RecordingBackend):
    """Records its own building and closing in BUILT."""

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> Self:
        BUILT.append(f"built {cls.__name__}")
        return cls()

    def close(self) -> None:
        BUILT.append(f"closed {type(self).__name__}")
        super().close()


class SecondRecorder(NamedRecorder):
    pass


class UnbuildableBackend(NamedRecorder):
    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> Self:
        raise ConnectionRefusedError(111, "OVN northbound database at 192.0.2.1:6641 refused the connection")


class StringCapabilities(RecordingBackend):
    CAPABILITIES = frozenset({"networks", "dhcp"})  # type: ignore[arg-type, assignment]


class DhcpWithoutPorts(RecordingBackend):
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset({Capability.NETWORKS, Capability.DHCP})


class RulesCorePlugin(MemoryCorePlugin):
    """Stands in for the core rules: its from_config takes the backend chain."""

    backends: BackendChain

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, events: EventRegistry, backends: BackendChain) -> Self:
        plugin = cls(events=events)
        plugin.backends = backends
        return plugin

    def close(self) -> None:
        BUILT.append("closed RulesCorePlugin")


class RulesL3Plugin(MemoryL3Plugin):
    backends: BackendChain

    @classmethod
    def from_config(
        cls, conf: cfg.ConfigOpts, *, core_plugin: CorePlugin, events: EventRegistry, backends: BackendChain
    ) -> Self:
        plugin = cls(core_plugin, events=events)
        plugin.backends = backends
        return plugin


class UnbuildableL3Plugin(RulesL3Plugin):
    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, **kwargs: Any) -> Self:
        raise RuntimeError("no L3 agent")


class AuditObserver(Observer):
    """Keeps every event it is told of."""

    def __init__(self) -> None:
        self.seen: list[tuple[ResourceType, Event, EventPayload]] = []
        self.closed = 0

    def observe(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        self.seen.append((resource, event, payload))

    def close(self) -> None:
        BUILT.append("closed AuditObserver")
        self.closed += 1


class NetworkCreations(AuditObserver):
    def subscriptions(self) -> list[tuple[ResourceType, Event]]:
        return [(ResourceType.NETWORK, Event.AFTER_CREATE)]


class FailingObserver(AuditObserver):
    def observe(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        super().observe(resource, event, payload)
        raise OSError(28, "No space left on device")


class VetoingObserver(AuditObserver):
    """Wants a before_* event, which observers may not have."""

    def subscriptions(self) -> list[tuple[ResourceType, Event]]:
        return [(ResourceType.NETWORK, Event.AFTER_CREATE), (ResourceType.PORT, Event.BEFORE_DELETE)]


class MisspelledSubscription(AuditObserver):
    def subscriptions(self) -> list[Any]:
        return [("network", "after_create")]
