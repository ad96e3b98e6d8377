"""Plugin classes that import fine but are right or wrong as plugins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn, Self

from oslo_config import cfg

from naas.events import EventRegistry
from naas.plugins import CorePlugin, L3Plugin


def _stub(self: object, *args: Any, **kwargs: Any) -> NoReturn:
    raise NotImplementedError("a loader test fixture does not serve requests")


def _implementing(interface: type[Any], *, leaving: Iterable[str] = ()) -> type[Any]:
    """A subclass of ``interface`` with every abstract method but ``leaving`` stubbed.

    Stubbing keeps each fixture wrong in exactly the way its test is about.
    """
    names = interface.__abstractmethods__ - set(leaving)
    return type(f"{interface.__name__}Stubs", (interface,), dict.fromkeys(names, _stub))


class StubCorePlugin(_implementing(CorePlugin)):  # type: ignore[misc]
    def __init__(self, *, events: EventRegistry) -> None:
        self.events = events


class StubL3Plugin(_implementing(L3Plugin)):  # type: ignore[misc]
    def __init__(self, *, core_plugin: CorePlugin, events: EventRegistry) -> None:
        self.core_plugin = core_plugin
        self.events = events


class NotAPlugin:
    """Has nothing to do with either interface."""


def plugin_factory() -> CorePlugin:
    """A callable, not a class: the loader wants the class itself."""
    raise AssertionError("the loader must not call what it is validating")


class IncompleteCorePlugin(
    _implementing(CorePlugin, leaving=("get_ports", "delete_port", "update_subnetpool"))  # type: ignore[misc]
):
    """Leaves three methods of the contract unimplemented."""


class UnreachableCorePlugin(StubCorePlugin):
    """Its backend is down when the loader builds it."""

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, events: EventRegistry) -> Self:
        raise ConnectionRefusedError(111, "backend at 192.0.2.1:6640 refused the connection")


class MismatchedL3Plugin(StubL3Plugin):
    """Only works with its own core plugin, and says so the documented way (TypeError)."""

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, core_plugin: CorePlugin, events: EventRegistry) -> Self:
        if not isinstance(core_plugin, UnreachableCorePlugin):
            raise TypeError(f"needs UnreachableCorePlugin, not {type(core_plugin).__name__}")
        return cls(core_plugin=core_plugin, events=events)


class ConfiguredCorePlugin(StubCorePlugin):
    """Records the configuration object the loader built it from."""

    def __init__(self, *, events: EventRegistry, conf: cfg.ConfigOpts | None = None) -> None:
        super().__init__(events=events)
        self.conf = conf

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, events: EventRegistry) -> Self:
        return cls(events=events, conf=conf)
