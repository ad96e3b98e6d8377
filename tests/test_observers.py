"""naas.observers: observers loaded from a config file see typed, stored changes; their errors change nothing."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

import pytest
from oslo_config import cfg

from naas.context import RequestContext
from naas.events import Event, EventPayload, EventRegistry, ResourceType
from naas.exceptions import PluginLoadError
from naas.loading import OBSERVERS_NAMESPACE, load_plugins
from naas.observers import ALL_AFTER_EVENTS, Observer, attach
from naas.requests import NetworkCreate
from naas.resources import Network, Port

# The fixtures' import name depends on how pytest put this file on sys.path.
FIXTURES = f"{__package__}.loading_fixtures.dataplane" if __package__ else "loading_fixtures.dataplane"
_fixtures = importlib.import_module(FIXTURES)
AuditObserver = _fixtures.AuditObserver
MisspelledSubscription = _fixtures.MisspelledSubscription
NetworkCreations = _fixtures.NetworkCreations
VetoingObserver = _fixtures.VetoingObserver
ConfigFromFile = Callable[[str], cfg.ConfigOpts]
PROJECT = RequestContext(project_id="project-a")


def memory_with_observers(config_from_file: ConfigFromFile, *observers: str) -> cfg.ConfigOpts:
    return config_from_file(f"""
        [DEFAULT]
        core_plugin = memory
        l3_plugin = memory
        observers = {", ".join(f"{FIXTURES}:{name}" for name in observers)}
    """)


def test_an_observer_from_the_config_file_sees_every_stored_change_typed(config_from_file: ConfigFromFile) -> None:
    with load_plugins(memory_with_observers(config_from_file, "AuditObserver")) as plugins:
        audit = plugins.observers[f"{FIXTURES}:AuditObserver"]
        assert isinstance(audit, AuditObserver)
        network = plugins.core.create_network(PROJECT, {"name": "net"})
        port = plugins.core.create_port(PROJECT, {"network_id": network.id})
        plugins.core.delete_port(PROJECT, port.id)

    assert [(resource, event) for resource, event, _ in audit.seen] == [
        (ResourceType.NETWORK, Event.AFTER_CREATE),
        (ResourceType.PORT, Event.AFTER_CREATE),
        (ResourceType.PORT, Event.AFTER_DELETE),
    ]
    created, port_created, port_deleted = (payload for _, _, payload in audit.seen)
    assert isinstance(created.request, NetworkCreate)
    assert isinstance(created.result, Network)
    assert created.result == network
    assert isinstance(port_created.result, Port)
    assert port_deleted.current == port
    assert audit.closed == 1


def test_an_observer_sees_only_what_it_subscribed_to(config_from_file: ConfigFromFile) -> None:
    with load_plugins(memory_with_observers(config_from_file, "NetworkCreations")) as plugins:
        network = plugins.core.create_network(PROJECT, {"name": "net"})
        plugins.core.update_network(PROJECT, network.id, {"name": "renamed"})
        plugins.l3.create_router(PROJECT, {"name": "r"})
        observer = plugins.observers[f"{FIXTURES}:NetworkCreations"]
    assert isinstance(observer, NetworkCreations)

    assert [payload.resource_id for _, _, payload in observer.seen] == [network.id]


def test_a_failing_observer_is_logged_and_dropped_and_the_change_stands(
    config_from_file: ConfigFromFile, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"{FIXTURES}:FailingObserver"
    with load_plugins(memory_with_observers(config_from_file, "FailingObserver", "AuditObserver")) as plugins:
        with caplog.at_level(logging.ERROR, "naas.observers"):
            network = plugins.core.create_network(PROJECT, {"name": "kept"})

        assert plugins.core.get_network(PROJECT, network.id) == network
        # The observer after it in the list was still told.
        audit = plugins.observers[f"{FIXTURES}:AuditObserver"]
        assert isinstance(audit, AuditObserver)
        assert [payload.resource_id for _, _, payload in audit.seen] == [network.id]
    assert [record.getMessage() for record in caplog.records] == [
        f"Observer {name!r} failed on network after_create; the change stands"
    ]
    assert "No space left on device" in caplog.text


def test_an_observer_asking_for_a_before_event_is_refused_at_load_time(config_from_file: ConfigFromFile) -> None:
    name = f"{FIXTURES}:VetoingObserver"
    registry = EventRegistry()

    with pytest.raises(PluginLoadError) as caught:
        load_plugins(memory_with_observers(config_from_file, "VetoingObserver"), events=registry)

    assert str(caught.value) == (
        f"Cannot load plugin {name!r} from namespace {OBSERVERS_NAMESPACE!r}: observer {name!r} subscribes to "
        "port before_delete; observers receive only after_* events"
    )


def test_a_refused_observer_is_subscribed_to_nothing() -> None:
    registry = EventRegistry()
    observer = VetoingObserver()

    with pytest.raises(ValueError, match="observers receive only after_"):
        attach(registry, observer, "vetoing")
    registry.notify(ResourceType.NETWORK, Event.AFTER_CREATE, PROJECT, "n-1")

    assert observer.seen == []


def test_a_subscription_that_is_not_an_enum_pair_is_refused() -> None:
    with pytest.raises(ValueError) as caught:
        attach(EventRegistry(), MisspelledSubscription(), "misspelled")

    assert str(caught.value) == (
        "observer 'misspelled' subscribes to ('network', 'after_create'), not a (ResourceType, Event) pair"
    )


def test_detaching_stops_delivery() -> None:
    registry = EventRegistry()
    observer = AuditObserver()
    detach = attach(registry, observer, "audit")
    registry.notify(ResourceType.NETWORK, Event.AFTER_DELETE, PROJECT, "n-1")

    detach()
    registry.notify(ResourceType.NETWORK, Event.AFTER_DELETE, PROJECT, "n-2")

    assert [payload.resource_id for _, _, payload in observer.seen] == ["n-1"]


def test_observers_run_after_the_plugins_own_after_subscribers() -> None:
    registry = EventRegistry()
    order: list[str] = []

    class Last(Observer):
        def observe(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
            order.append("observer")

    attach(registry, Last(), "last")
    registry.subscribe(ResourceType.PORT, Event.AFTER_DELETE, lambda *_: order.append("plugin"))
    registry.notify(ResourceType.PORT, Event.AFTER_DELETE, PROJECT, "p-1")

    assert order == ["plugin", "observer"]


def test_by_default_an_observer_receives_every_after_event_and_no_before_event() -> None:
    assert set(AuditObserver().subscriptions()) == ALL_AFTER_EVENTS
    assert len(ALL_AFTER_EVENTS) == 3 * len(ResourceType)
    assert not any(event.is_before for _, event in ALL_AFTER_EVENTS)
