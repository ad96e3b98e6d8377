"""naas.events: ordering, vetoes, swallowed after-errors, unsubscribing, and no shared state."""

from __future__ import annotations

import logging
from typing import Any

import netaddr
import pytest

from naas.context import RequestContext
from naas.events import (
    PAYLOAD_TYPES,
    Event,
    EventPayload,
    EventRegistry,
    FloatingIPAssociation,
    ResourceType,
    Subscriber,
)
from naas.exceptions import Conflict, InUse
from naas.requests import NetworkUpdate, PortUpdate
from naas.resources import Network, RouterInterfaceInfo

NET = ResourceType.NETWORK
PAYLOAD = EventPayload(context=RequestContext(project_id="project-a"), resource_id="n-1")

Calls = list[tuple[str, ResourceType, Event, EventPayload]]


def recorder(calls: Calls, label: str) -> Subscriber:
    def subscriber(resource: ResourceType, event: Event, payload: EventPayload) -> None:
        calls.append((label, resource, event, payload))

    return subscriber


def failing(error: Exception) -> Subscriber:
    def subscriber(resource: ResourceType, event: Event, payload: EventPayload) -> None:
        raise error

    return subscriber


def labels(calls: Calls) -> list[str]:
    return [label for label, *_ in calls]


@pytest.fixture
def registry() -> EventRegistry:
    return EventRegistry()


@pytest.fixture
def calls() -> Calls:
    return []


def test_a_subscriber_gets_resource_event_and_the_very_payload(registry: EventRegistry, calls: Calls) -> None:
    registry.subscribe(NET, Event.AFTER_CREATE, recorder(calls, "a"))

    registry.publish(NET, Event.AFTER_CREATE, PAYLOAD)

    assert calls == [("a", NET, Event.AFTER_CREATE, PAYLOAD)]
    assert calls[0][3] is PAYLOAD


def test_subscribers_run_lowest_priority_first_then_in_subscription_order(
    registry: EventRegistry, calls: Calls
) -> None:
    registry.subscribe(NET, Event.BEFORE_CREATE, recorder(calls, "default-1"))
    registry.subscribe(NET, Event.BEFORE_CREATE, recorder(calls, "late"), priority=2000)
    registry.subscribe(NET, Event.BEFORE_CREATE, recorder(calls, "early-1"), priority=10)
    registry.subscribe(NET, Event.BEFORE_CREATE, recorder(calls, "default-2"))
    registry.subscribe(NET, Event.BEFORE_CREATE, recorder(calls, "first"), priority=-5)
    registry.subscribe(NET, Event.BEFORE_CREATE, recorder(calls, "early-2"), priority=10)

    registry.publish(NET, Event.BEFORE_CREATE, PAYLOAD)

    assert labels(calls) == ["first", "early-1", "early-2", "default-1", "default-2", "late"]


def test_only_subscribers_of_that_resource_and_event_are_called(registry: EventRegistry, calls: Calls) -> None:
    registry.subscribe(NET, Event.AFTER_CREATE, recorder(calls, "network-after-create"))
    registry.subscribe(NET, Event.AFTER_DELETE, recorder(calls, "network-after-delete"))
    registry.subscribe(ResourceType.PORT, Event.AFTER_CREATE, recorder(calls, "port-after-create"))

    registry.publish(NET, Event.AFTER_CREATE, PAYLOAD)
    registry.publish(ResourceType.ROUTER, Event.AFTER_CREATE, PAYLOAD)

    assert labels(calls) == ["network-after-create"]


def test_publishing_without_subscribers_does_nothing(registry: EventRegistry) -> None:
    registry.publish(NET, Event.BEFORE_DELETE, PAYLOAD)


@pytest.mark.parametrize("event", [Event.BEFORE_CREATE, Event.BEFORE_UPDATE, Event.BEFORE_DELETE])
def test_a_before_subscriber_vetoes_with_its_own_error_and_later_ones_do_not_run(
    registry: EventRegistry, calls: Calls, event: Event
) -> None:
    veto = InUse("network", "n-1", ["p-1"])
    registry.subscribe(NET, event, recorder(calls, "earlier"), priority=1)
    registry.subscribe(NET, event, failing(veto), priority=2)
    registry.subscribe(NET, event, recorder(calls, "later"), priority=3)

    with pytest.raises(InUse) as caught:
        registry.publish(NET, event, PAYLOAD)

    assert caught.value is veto
    assert labels(calls) == ["earlier"]


def test_the_first_veto_wins(registry: EventRegistry) -> None:
    first, second = Conflict("network", "n-1", "first"), Conflict("network", "n-1", "second")
    registry.subscribe(NET, Event.BEFORE_DELETE, failing(second), priority=2)
    registry.subscribe(NET, Event.BEFORE_DELETE, failing(first), priority=1)

    with pytest.raises(Conflict) as caught:
        registry.publish(NET, Event.BEFORE_DELETE, PAYLOAD)

    assert caught.value is first


def test_an_unexpected_error_in_a_before_subscriber_also_stops_the_change(registry: EventRegistry) -> None:
    bug = KeyError("subscriber bug")
    registry.subscribe(NET, Event.BEFORE_UPDATE, failing(bug))

    with pytest.raises(KeyError) as caught:
        registry.publish(NET, Event.BEFORE_UPDATE, PAYLOAD)

    assert caught.value is bug


@pytest.mark.parametrize("event", [Event.AFTER_CREATE, Event.AFTER_UPDATE, Event.AFTER_DELETE])
def test_after_subscriber_errors_are_logged_and_swallowed(
    registry: EventRegistry, calls: Calls, event: Event, caplog: pytest.LogCaptureFixture
) -> None:
    broken = failing(RuntimeError("audit log is full"))
    registry.subscribe(NET, event, broken, priority=1)
    registry.subscribe(NET, event, recorder(calls, "later"), priority=2)

    with caplog.at_level(logging.ERROR, logger="naas.events"):
        registry.publish(NET, event, PAYLOAD)

    assert labels(calls) == ["later"]
    [record] = caplog.records
    assert record.name == "naas.events"
    assert record.levelno == logging.ERROR
    assert record.getMessage() == f"Subscriber {broken!r} failed on network {event.value}"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "audit log is full"


def test_unsubscribe_removes_only_that_subscriber_for_that_event(registry: EventRegistry, calls: Calls) -> None:
    gone, kept = recorder(calls, "gone"), recorder(calls, "kept")
    registry.subscribe(NET, Event.AFTER_CREATE, gone)
    registry.subscribe(NET, Event.AFTER_CREATE, kept)
    registry.subscribe(NET, Event.AFTER_DELETE, gone)

    registry.unsubscribe(NET, Event.AFTER_CREATE, gone)
    registry.publish(NET, Event.AFTER_CREATE, PAYLOAD)
    registry.publish(NET, Event.AFTER_DELETE, PAYLOAD)

    assert labels(calls) == ["kept", "gone"]


def test_unsubscribe_removes_every_registration_of_the_subscriber(registry: EventRegistry, calls: Calls) -> None:
    twice = recorder(calls, "twice")
    registry.subscribe(NET, Event.AFTER_CREATE, twice, priority=1)
    registry.subscribe(NET, Event.AFTER_CREATE, twice, priority=2)

    registry.unsubscribe(NET, Event.AFTER_CREATE, twice)
    registry.publish(NET, Event.AFTER_CREATE, PAYLOAD)

    assert calls == []


def test_unsubscribing_what_was_never_subscribed_is_harmless(registry: EventRegistry, calls: Calls) -> None:
    registry.unsubscribe(NET, Event.AFTER_CREATE, recorder(calls, "stranger"))
    registry.subscribe(NET, Event.AFTER_CREATE, recorder(calls, "member"))
    registry.unsubscribe(NET, Event.AFTER_CREATE, recorder(calls, "stranger"))

    registry.publish(NET, Event.AFTER_CREATE, PAYLOAD)

    assert labels(calls) == ["member"]


def test_subscribers_may_change_the_registry_while_it_publishes(registry: EventRegistry, calls: Calls) -> None:
    # The registry must not hold its lock while calling out, or this would deadlock;
    # a change made during a publish applies from the next publish on.
    late = recorder(calls, "late")

    def rewire(resource: ResourceType, event: Event, payload: EventPayload) -> None:
        calls.append(("rewire", resource, event, payload))
        registry.unsubscribe(resource, event, rewire)
        registry.subscribe(resource, event, late)

    registry.subscribe(NET, Event.AFTER_UPDATE, rewire)
    registry.subscribe(NET, Event.AFTER_UPDATE, recorder(calls, "steady"))

    registry.publish(NET, Event.AFTER_UPDATE, PAYLOAD)
    registry.publish(NET, Event.AFTER_UPDATE, PAYLOAD)

    assert labels(calls) == ["rewire", "steady", "steady", "late"]


def test_two_registries_do_not_share_subscribers(calls: Calls) -> None:
    first, second = EventRegistry(), EventRegistry()
    first.subscribe(NET, Event.BEFORE_CREATE, failing(Conflict("network", None, "vetoed in first")))
    second.subscribe(NET, Event.BEFORE_CREATE, recorder(calls, "second"))

    second.publish(NET, Event.BEFORE_CREATE, PAYLOAD)
    with pytest.raises(Conflict):
        first.publish(NET, Event.BEFORE_CREATE, PAYLOAD)

    assert labels(calls) == ["second"]


@pytest.mark.parametrize(
    ("event", "is_before"),
    [
        (Event.BEFORE_CREATE, True),
        (Event.BEFORE_UPDATE, True),
        (Event.BEFORE_DELETE, True),
        (Event.AFTER_CREATE, False),
        (Event.AFTER_UPDATE, False),
        (Event.AFTER_DELETE, False),
    ],
)
def test_event_is_before(event: Event, is_before: bool) -> None:
    assert event.is_before is is_before


def test_resource_types_are_their_wire_names() -> None:
    assert {member.value for member in ResourceType} == {
        "network",
        "subnet",
        "subnetpool",
        "port",
        "router",
        "router_interface",
        "floatingip",
    }
    assert ResourceType("network") is ResourceType.NETWORK


def test_a_payload_is_frozen_and_defaults_to_nothing() -> None:
    assert (PAYLOAD.request, PAYLOAD.current, PAYLOAD.result) == (None, None, None)
    with pytest.raises(AttributeError):
        PAYLOAD.resource_id = "n-2"  # type: ignore[misc]


# Typed payloads


def stored_network() -> Network:
    return Network(
        id="n-1",
        project_id="project-a",
        name="net",
        admin_state_up=True,
        shared=False,
        router_external=False,
        is_default=False,
        mtu=1500,
        status="ACTIVE",
        subnets=(),
    )


def test_a_payload_of_the_listed_types_reaches_subscribers(registry: EventRegistry, calls: Calls) -> None:
    registry.subscribe(NET, Event.AFTER_UPDATE, recorder(calls, "a"))
    network = stored_network()
    request = NetworkUpdate.parse({"name": "renamed"})

    registry.notify(NET, Event.AFTER_UPDATE, PAYLOAD.context, "n-1", request=request, current=network, result=network)

    ((_, _, _, payload),) = calls
    assert (payload.request, payload.current, payload.result) == (request, network, network)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"result": "n-1"}, "network event: result is a str, not Network"),
        ({"current": {"id": "n-1"}}, "network event: current is a dict, not Network"),
        (
            {"request": PortUpdate.parse({"name": "p"})},
            "network event: request is a PortUpdate, not NetworkCreate or NetworkUpdate",
        ),
    ],
)
def test_a_payload_of_other_types_is_refused_before_any_subscriber_runs(
    registry: EventRegistry, calls: Calls, fields: dict[str, Any], message: str
) -> None:
    registry.subscribe(NET, Event.AFTER_CREATE, recorder(calls, "a"))

    with pytest.raises(TypeError) as caught:
        registry.notify(NET, Event.AFTER_CREATE, PAYLOAD.context, "n-1", **fields)

    assert str(caught.value) == message
    assert calls == []


def test_every_resource_type_lists_its_payload_types() -> None:
    assert set(PAYLOAD_TYPES) == set(ResourceType)
    assert PAYLOAD_TYPES[ResourceType.ROUTER_INTERFACE].resource is RouterInterfaceInfo


def test_a_floating_ip_association_mapping_becomes_typed(registry: EventRegistry, calls: Calls) -> None:
    registry.subscribe(ResourceType.FLOATINGIP, Event.BEFORE_UPDATE, recorder(calls, "a"))

    registry.notify(
        ResourceType.FLOATINGIP,
        Event.BEFORE_UPDATE,
        PAYLOAD.context,
        "f-1",
        request={"port_id": "p-1", "fixed_ip_address": "10.0.0.5"},
    )
    registry.notify(ResourceType.FLOATINGIP, Event.BEFORE_UPDATE, PAYLOAD.context, "f-1", request={"port_id": None})

    assert [payload.request for *_, payload in calls] == [
        FloatingIPAssociation("p-1", netaddr.IPAddress("10.0.0.5")),
        FloatingIPAssociation(None, None),
    ]


@pytest.mark.parametrize("body", [{"port": "p-1"}, {"port_id": "p-1", "shared": True}, {}])
def test_any_other_mapping_as_request_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="a floating IP association is"):
        EventPayload(context=PAYLOAD.context, request=body)  # type: ignore[arg-type]
