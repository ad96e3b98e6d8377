"""Conformance tests: lifecycle events published by the L3 plugin (see ``naas.events``)."""

from __future__ import annotations

from naas.capabilities import Capability
from naas.events import Event, ResourceType
from naas.testing._base import requires
from naas.testing._core_events import Vetoed
from naas.testing._l3_base import L3SuiteBase
from naas.testing.fixtures import make_network, make_router, recording, vetoing

__all__ = ["L3EventTests"]


class L3EventTests(L3SuiteBase):
    @requires(Capability.EVENTS)
    def test_event_before_create_veto_stores_no_router_and_no_gateway_port(self) -> None:
        veto = Vetoed()
        with vetoing(self.l3.events, ResourceType.ROUTER, Event.BEFORE_CREATE, veto):
            error = self.assertRefused(Vetoed, make_router, self.l3, self.project_a, external_network_id=self.public.id)
        self.assertIs(veto, error)

    @requires(Capability.EVENTS)
    def test_event_after_create_receives_the_stored_router(self) -> None:
        with recording(self.l3.events, ResourceType.ROUTER, Event.AFTER_CREATE) as calls:
            router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        ((_, payload),) = calls
        self.assertEqual(router, payload.result)

    @requires(Capability.EVENTS)
    def test_event_before_delete_veto_keeps_the_router(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        with vetoing(self.l3.events, ResourceType.ROUTER, Event.BEFORE_DELETE, Vetoed()):
            self.assertRefused(Vetoed, self.l3.delete_router, self.project_a, router.id)
        self.assertEqual(router, self.l3.get_router(self.project_a, router.id))

    @requires(Capability.EVENTS)
    def test_event_before_update_veto_keeps_the_gateway(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        with vetoing(self.l3.events, ResourceType.ROUTER, Event.BEFORE_UPDATE, Vetoed()):
            self.assertRefused(
                Vetoed, self.l3.update_router, self.project_a, router.id, {"external_gateway_info": None}
            )

    @requires(Capability.EVENTS)
    def test_event_before_create_veto_of_interface_stores_no_port(self) -> None:
        router = make_router(self.l3, self.project_a)
        setup = make_network(self.core, self.project_a)
        with vetoing(self.l3.events, ResourceType.ROUTER_INTERFACE, Event.BEFORE_CREATE, Vetoed()):
            self.assertRefused(
                Vetoed, self.l3.add_router_interface, self.project_a, router.id, {"subnet_id": setup.subnet().id}
            )

    @requires(Capability.EVENTS)
    def test_event_interface_add_and_remove_are_published(self) -> None:
        router = make_router(self.l3, self.project_a)
        setup = make_network(self.core, self.project_a)
        kinds = (Event.AFTER_CREATE, Event.AFTER_DELETE)
        with recording(self.l3.events, ResourceType.ROUTER_INTERFACE, *kinds) as calls:
            added = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
            self.l3.remove_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        self.assertEqual(list(kinds), [event for event, _ in calls])
        self.assertEqual(added, calls[0][1].result)

    @requires(Capability.EVENTS, Capability.FLOATINGIPS)
    def test_event_before_create_veto_of_floatingip_keeps_its_address_free(self) -> None:
        body = {"floating_network_id": self.public.id, "floating_ip_address": "203.0.113.99"}
        with vetoing(self.l3.events, ResourceType.FLOATINGIP, Event.BEFORE_CREATE, Vetoed()):
            self.assertRefused(Vetoed, self.l3.create_floatingip, self.admin, body)
        self.assertEqual("203.0.113.99", str(self.l3.create_floatingip(self.admin, body).floating_ip_address))

    @requires(Capability.EVENTS, Capability.FLOATINGIPS)
    def test_event_after_create_receives_the_stored_floatingip(self) -> None:
        with recording(self.l3.events, ResourceType.FLOATINGIP, Event.AFTER_CREATE) as calls:
            fip = self.l3.create_floatingip(self.project_a, {"floating_network_id": self.public.id})
        ((_, payload),) = calls
        self.assertEqual(fip, payload.result)
