"""Conformance tests: lifecycle events published by the core plugin (see ``naas.events``)."""

from __future__ import annotations

import netaddr

from naas.events import Event, EventPayload, ResourceType
from naas.exceptions import BadRequest, Conflict
from naas.requests import NetworkCreate, PortCreate
from naas.resources import Network, Port
from naas.testing._base import requires
from naas.testing._core_base import CoreSuiteBase
from naas.testing.fixtures import PROJECT_A_ID, addresses_of, make_network, make_port, recording, vetoing

__all__ = ["EventTests", "Vetoed"]


class Vetoed(Conflict):
    """What the suite's vetoing subscribers raise."""

    def __init__(self) -> None:
        super().__init__("test", None, "vetoed by the conformance suite")


class EventTests(CoreSuiteBase):
    # Vetoes

    @requires("events")
    def test_event_before_create_veto_stores_no_network(self) -> None:
        veto = Vetoed()
        with vetoing(self.core.events, ResourceType.NETWORK, Event.BEFORE_CREATE, veto):
            error = self.assertRefused(Vetoed, self.core.create_network, self.project_a, {"name": "net"})
        self.assertIs(veto, error)
        self.assertEqual([], self.core.get_networks(self.admin))

    @requires("events")
    def test_event_before_create_veto_stores_no_subnet(self) -> None:
        network = self.core.create_network(self.project_a, {})
        veto = Vetoed()
        with vetoing(self.core.events, ResourceType.SUBNET, Event.BEFORE_CREATE, veto):
            error = self.assertRefused(
                Vetoed, self.core.create_subnet, self.project_a, {"network_id": network.id, "cidr": "10.10.0.0/24"}
            )
        self.assertIs(veto, error)
        self.assertEqual((), self.core.get_network(self.project_a, network.id).subnets)

    @requires("events", "subnetpools")
    def test_event_before_create_veto_of_subnet_keeps_the_pool_prefix_free(self) -> None:
        pool = self.core.create_subnetpool(
            self.project_a, {"prefixes": ["10.0.0.0/24"], "min_prefixlen": 24, "default_prefixlen": 24}
        )
        network = self.core.create_network(self.project_a, {})
        body = {"network_id": network.id, "subnetpool_id": pool.id}
        with vetoing(self.core.events, ResourceType.SUBNET, Event.BEFORE_CREATE, Vetoed()):
            self.assertRefused(Vetoed, self.core.create_subnet, self.project_a, body)
        self.assertEqual(netaddr.IPNetwork("10.0.0.0/24"), self.core.create_subnet(self.project_a, body).cidr)

    @requires("events", "subnetpools")
    def test_event_before_create_veto_stores_no_subnetpool(self) -> None:
        with vetoing(self.core.events, ResourceType.SUBNETPOOL, Event.BEFORE_CREATE, Vetoed()):
            self.assertRefused(Vetoed, self.core.create_subnetpool, self.project_a, {"prefixes": ["10.0.0.0/16"]})

    @requires("events")
    def test_event_before_create_veto_of_port_keeps_its_address_free(self) -> None:
        setup = make_network(self.core, self.project_a, ["10.10.0.0/29"])
        with vetoing(self.core.events, ResourceType.PORT, Event.BEFORE_CREATE, Vetoed()):
            for _ in range(6):
                self.assertRefused(Vetoed, make_port, self.core, self.project_a, setup.id)
        ports = [make_port(self.core, self.project_a, setup.id) for _ in range(5)]
        self.assertEqual(5, len({address for port in ports for address in addresses_of(port)}))

    @requires("events")
    def test_event_before_update_veto_keeps_the_network_unchanged(self) -> None:
        network = self.core.create_network(self.project_a, {"name": "old"})
        with vetoing(self.core.events, ResourceType.NETWORK, Event.BEFORE_UPDATE, Vetoed()):
            self.assertRefused(Vetoed, self.core.update_network, self.project_a, network.id, {"name": "new"})
        self.assertEqual("old", self.core.get_network(self.project_a, network.id).name)

    @requires("events")
    def test_event_before_update_veto_keeps_the_port_addresses(self) -> None:
        setup = make_network(self.core, self.project_a)
        port = make_port(self.core, self.project_a, setup.id, fixed_ips=[{"ip_address": "10.10.0.5"}])
        with vetoing(self.core.events, ResourceType.PORT, Event.BEFORE_UPDATE, Vetoed()):
            self.assertRefused(
                Vetoed, self.core.update_port, self.project_a, port.id, {"fixed_ips": [{"ip_address": "10.10.0.6"}]}
            )
        self.assertEqual(port, self.core.get_port(self.project_a, port.id))

    @requires("events")
    def test_event_before_delete_veto_keeps_the_network(self) -> None:
        setup = make_network(self.core, self.project_a)
        with vetoing(self.core.events, ResourceType.NETWORK, Event.BEFORE_DELETE, Vetoed()):
            self.assertRefused(Vetoed, self.core.delete_network, self.project_a, setup.id)
        self.assertEqual(setup.network, self.core.get_network(self.project_a, setup.id))

    @requires("events")
    def test_event_before_delete_veto_keeps_the_port_and_its_address(self) -> None:
        setup = make_network(self.core, self.project_a)
        port = make_port(self.core, self.project_a, setup.id, fixed_ips=[{"ip_address": "10.10.0.5"}])
        with vetoing(self.core.events, ResourceType.PORT, Event.BEFORE_DELETE, Vetoed()):
            self.assertRefused(Vetoed, self.core.delete_port, self.project_a, port.id)
        self.assertEqual(port, self.core.get_port(self.project_a, port.id))

    @requires("events")
    def test_event_before_delete_veto_keeps_the_subnet(self) -> None:
        setup = make_network(self.core, self.project_a)
        with vetoing(self.core.events, ResourceType.SUBNET, Event.BEFORE_DELETE, Vetoed()):
            self.assertRefused(Vetoed, self.core.delete_subnet, self.project_a, setup.subnet().id)

    # What subscribers are told

    @requires("events")
    def test_event_before_create_receives_the_validated_request_and_context(self) -> None:
        with recording(self.core.events, ResourceType.NETWORK, Event.BEFORE_CREATE) as calls:
            self.core.create_network(self.project_a, {"name": "net"})
        ((_, payload),) = calls
        self.assertIsInstance(payload.request, NetworkCreate)
        self.assertEqual("net", getattr(payload.request, "name", None))
        self.assertEqual(PROJECT_A_ID, payload.context.project_id)

    @requires("events")
    def test_event_after_create_receives_the_stored_network(self) -> None:
        with recording(self.core.events, ResourceType.NETWORK, Event.AFTER_CREATE) as calls:
            network = self.core.create_network(self.project_a, {"name": "net"})
        ((event, payload),) = calls
        self.assertEqual(Event.AFTER_CREATE, event)
        self.assertEqual(network, payload.result)
        self.assertEqual(network.id, payload.resource_id)

    @requires("events")
    def test_event_after_create_receives_the_port_with_its_addresses(self) -> None:
        setup = make_network(self.core, self.project_a)
        with recording(self.core.events, ResourceType.PORT, Event.BEFORE_CREATE, Event.AFTER_CREATE) as calls:
            port = make_port(self.core, self.project_a, setup.id)
        self.assertEqual([Event.BEFORE_CREATE, Event.AFTER_CREATE], [event for event, _ in calls])
        self.assertIsInstance(calls[0][1].request, PortCreate)
        self.assertEqual(port, calls[1][1].result)

    @requires("events")
    def test_event_after_create_subscriber_can_read_the_network_back(self) -> None:
        seen: list[Network] = []

        def read_back(resource: ResourceType, event: Event, payload: EventPayload) -> None:
            assert payload.resource_id is not None
            seen.append(self.core.get_network(payload.context, payload.resource_id))

        self.core.events.subscribe(ResourceType.NETWORK, Event.AFTER_CREATE, read_back)
        self.addCleanup(self.core.events.unsubscribe, ResourceType.NETWORK, Event.AFTER_CREATE, read_back)
        network = self.callWithin(10.0, self.core.create_network, self.project_a, {})
        self.assertEqual([network], seen)

    @requires("events")
    def test_event_after_create_subscriber_error_does_not_fail_the_request(self) -> None:
        with vetoing(self.core.events, ResourceType.NETWORK, Event.AFTER_CREATE, RuntimeError("subscriber bug")):
            network = self.core.create_network(self.project_a, {})
        self.assertEqual(network, self.core.get_network(self.project_a, network.id))

    @requires("events")
    def test_event_update_tells_the_state_before_and_after(self) -> None:
        network = self.core.create_network(self.project_a, {"name": "old"})
        with recording(self.core.events, ResourceType.NETWORK, Event.BEFORE_UPDATE, Event.AFTER_UPDATE) as calls:
            updated = self.core.update_network(self.project_a, network.id, {"name": "new"})
        self.assertEqual([Event.BEFORE_UPDATE, Event.AFTER_UPDATE], [event for event, _ in calls])
        self.assertEqual(network, calls[0][1].current)
        self.assertEqual(updated, calls[1][1].result)
        self.assertEqual({network.id}, {payload.resource_id for _, payload in calls})

    @requires("events")
    def test_event_delete_tells_the_deleted_resource(self) -> None:
        network = self.core.create_network(self.project_a, {})
        with recording(self.core.events, ResourceType.NETWORK, Event.BEFORE_DELETE, Event.AFTER_DELETE) as calls:
            self.core.delete_network(self.project_a, network.id)
        self.assertEqual([Event.BEFORE_DELETE, Event.AFTER_DELETE], [event for event, _ in calls])
        self.assertEqual(network, calls[0][1].current)
        self.assertEqual({network.id}, {payload.resource_id for _, payload in calls})

    @requires("events")
    def test_event_after_delete_is_published_once_the_port_is_gone(self) -> None:
        setup = make_network(self.core, self.project_a)
        port = make_port(self.core, self.project_a, setup.id)
        remaining: list[list[Port]] = []

        def look(resource: ResourceType, event: Event, payload: EventPayload) -> None:
            remaining.append(self.core.get_ports(payload.context))

        self.core.events.subscribe(ResourceType.PORT, Event.AFTER_DELETE, look)
        self.addCleanup(self.core.events.unsubscribe, ResourceType.PORT, Event.AFTER_DELETE, look)
        self.callWithin(10.0, self.core.delete_port, self.project_a, port.id)
        self.assertEqual([[]], remaining)

    @requires("events")
    def test_event_failed_request_publishes_no_after_event(self) -> None:
        with recording(self.core.events, ResourceType.NETWORK, Event.AFTER_CREATE) as calls:
            self.assertRefused(BadRequest, self.core.create_network, self.project_a, {"mtu": 1})
        self.assertEqual([], calls)
