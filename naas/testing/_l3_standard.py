"""Conformance tests: Neutron's standard attributes on routers and floating IPs."""

from __future__ import annotations

import datetime
from typing import Any

from naas.capabilities import Capability
from naas.exceptions import BadRequest, NotFound, RevisionMismatch
from naas.resources import FloatingIP
from naas.testing._base import requires
from naas.testing._l3_base import L3SuiteBase
from naas.testing._standard import TIMESTAMP, ManualClock, set_clock, standard
from naas.testing.fixtures import make_port, make_routed_network, make_router

__all__ = ["L3StandardAttributeTests"]

START = datetime.datetime(2026, 12, 1, 17, 0, 0, tzinfo=datetime.UTC)


class L3StandardAttributeTests(L3SuiteBase):
    def use_manual_clock(self) -> ManualClock:
        clock = ManualClock(START)
        if not set_clock(self.core, clock):
            self.skipTest(f"{type(self.core).__name__} has no clock attribute a test can set (naas.rules.CoreRules)")
        return clock

    def floatingip_with_port(self, **attributes: Any) -> tuple[FloatingIP, str]:
        """A floating IP of ``project_a`` on the default external network, and a port it can map to."""
        routed = make_routed_network(self.core, self.l3, self.project_a, self.public.id)
        port = make_port(self.core, self.project_a, routed.network.id)
        body = {"floating_network_id": self.public.id, **attributes}
        return self.l3.create_floatingip(self.project_a, body), port.id

    # Routers

    def test_router_create_and_update_keep_standard_attributes(self) -> None:
        clock = self.use_manual_clock()
        router = make_router(self.l3, self.project_a, description="edge", tags=["b", "a"])
        self.assertEqual(("edge", ("a", "b"), "2026-12-01T17:00:00Z", "2026-12-01T17:00:00Z", 0), standard(router))
        clock.advance(seconds=90)
        updated = self.l3.update_router(self.project_a, router.id, {"tags": ["c"]}, if_revision=0)
        self.assertEqual(("edge", ("c",), "2026-12-01T17:00:00Z", "2026-12-01T17:01:30Z", 1), standard(updated))
        self.assertEqual(updated, self.l3.get_router(self.project_a, router.id))

    def test_a_router_gateway_change_is_a_revision(self) -> None:
        router = make_router(self.l3, self.project_a)
        with_gateway = self.l3.update_router(
            self.project_a, router.id, {"external_gateway_info": {"network_id": self.public.id}}
        )
        without = self.l3.update_router(self.project_a, router.id, {"external_gateway_info": None})
        self.assertEqual((1, 2), (with_gateway.revision_number, without.revision_number))

    def test_a_stale_if_revision_refuses_router_update_and_delete(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        self.l3.update_router(self.project_a, router.id, {"name": "renamed"})
        error = self.assertRefused(
            RevisionMismatch,
            self.l3.update_router,
            self.project_a,
            router.id,
            {"external_gateway_info": None, "description": "stale"},
            if_revision=0,
        )
        self.assertEqual(("router", router.id, 0, 1), (error.resource, error.resource_id, error.expected, error.actual))
        self.assertRefused(RevisionMismatch, self.l3.delete_router, self.project_a, router.id, if_revision=0)
        stored = self.l3.get_router(self.project_a, router.id)
        self.assertEqual(("", 1), (stored.description, stored.revision_number))
        self.assertIsNotNone(stored.external_gateway_info)
        self.l3.delete_router(self.project_a, router.id, if_revision=1)
        self.assertRaisesError(NotFound, self.l3.get_router, self.project_a, router.id)

    def test_router_lists_filter_by_tags(self) -> None:
        both = make_router(self.l3, self.project_a, tags=["red", "blue"])
        red = make_router(self.l3, self.project_a, tags=["red"])
        bare = make_router(self.l3, self.project_a)

        def found(filters: dict[str, Any]) -> set[str]:
            return {router.id for router in self.l3.get_routers(self.project_a, filters)}

        self.assertEqual({both.id}, found({"tags": "blue,red"}))
        self.assertEqual({both.id, red.id}, found({"tags-any": ["red"]}))
        self.assertEqual({red.id, bare.id}, found({"not-tags": ["red", "blue"]}))
        self.assertEqual({bare.id}, found({"not-tags-any": "red"}))
        self.assertEqual({red.id}, found({"tags": "red", "revision_number": 0, "not-tags": "blue"}))

    def test_malformed_router_description_and_tags_are_refused_naming_the_attribute(self) -> None:
        router = make_router(self.l3, self.project_a)
        for attribute, value in (("description", "x" * 256), ("tags", ["a,b"]), ("tags", "a"), ("tags", ["a", "a"])):
            self.assertBadRequest("router", attribute, self.l3.create_router, self.project_a, {attribute: value})
            self.assertBadRequest(
                "router", attribute, self.l3.update_router, self.project_a, router.id, {attribute: value}
            )
        malformed: Any = "0"  # a header's text, not yet a number
        self.assertBadRequest(
            "router", "if_revision", self.l3.delete_router, self.project_a, router.id, if_revision=malformed
        )

    # Floating IPs

    @requires(Capability.FLOATINGIPS)
    def test_floatingip_create_and_update_keep_standard_attributes(self) -> None:
        floatingip, _ = self.floatingip_with_port(description="web", tags=["prod"])
        description, tags, created_at, updated_at, revision = standard(floatingip)
        self.assertEqual(("web", ("prod",), 0), (description, tags, revision))
        self.assertRegex(created_at, TIMESTAMP)
        self.assertEqual(created_at, updated_at)
        updated = self.l3.update_floatingip(
            self.project_a, floatingip.id, {"description": "api", "tags": ["prod", "eu"]}, if_revision=0
        )
        self.assertEqual(("api", ("eu", "prod"), 1), (updated.description, updated.tags, updated.revision_number))
        self.assertEqual(updated, self.l3.get_floatingip(self.project_a, floatingip.id))

    @requires(Capability.FLOATINGIPS)
    def test_update_floatingip_maps_and_unmaps_a_port_one_revision_each(self) -> None:
        floatingip, port_id = self.floatingip_with_port()
        mapped = self.l3.update_floatingip(self.project_a, floatingip.id, {"port_id": port_id, "description": "m"})
        self.assertEqual((port_id, "m", 1), (mapped.port_id, mapped.description, mapped.revision_number))
        self.assertIsNotNone(mapped.fixed_ip_address)
        unmapped = self.l3.update_floatingip(self.project_a, floatingip.id, {"port_id": None}, if_revision=1)
        self.assertEqual(
            (None, None, "m", 2),
            (unmapped.port_id, unmapped.fixed_ip_address, unmapped.description, unmapped.revision_number),
        )
        self.assertEqual(unmapped, self.l3.get_floatingip(self.project_a, floatingip.id))

    @requires(Capability.FLOATINGIPS)
    def test_associate_and_disassociate_count_revisions_and_honour_if_revision(self) -> None:
        floatingip, port_id = self.floatingip_with_port()
        self.assertRefused(
            RevisionMismatch, self.l3.associate_floatingip, self.project_a, floatingip.id, port_id, if_revision=1
        )
        mapped = self.l3.associate_floatingip(self.project_a, floatingip.id, port_id, if_revision=0)
        self.assertRefused(
            RevisionMismatch, self.l3.disassociate_floatingip, self.project_a, floatingip.id, if_revision=0
        )
        unmapped = self.l3.disassociate_floatingip(self.project_a, floatingip.id, if_revision=1)
        self.assertEqual((1, 2), (mapped.revision_number, unmapped.revision_number))

    @requires(Capability.FLOATINGIPS)
    def test_a_stale_if_revision_refuses_floatingip_update_and_delete(self) -> None:
        floatingip, port_id = self.floatingip_with_port()
        self.l3.update_floatingip(self.project_a, floatingip.id, {"description": "current"})
        error = self.assertRefused(
            RevisionMismatch,
            self.l3.update_floatingip,
            self.project_a,
            floatingip.id,
            {"port_id": port_id, "tags": ["stale"]},
            if_revision=0,
        )
        self.assertEqual(("floatingip", 0, 1), (error.resource, error.expected, error.actual))
        self.assertRefused(RevisionMismatch, self.l3.delete_floatingip, self.project_a, floatingip.id, if_revision=0)
        stored = self.l3.get_floatingip(self.project_a, floatingip.id)
        self.assertEqual(
            (None, (), "current", 1), (stored.port_id, stored.tags, stored.description, stored.revision_number)
        )
        self.l3.delete_floatingip(self.project_a, floatingip.id, if_revision=1)
        self.assertRaisesError(NotFound, self.l3.get_floatingip, self.project_a, floatingip.id)

    @requires(Capability.FLOATINGIPS)
    def test_deleting_the_mapped_port_is_a_revision_of_the_floatingip(self) -> None:
        clock = self.use_manual_clock()
        floatingip, port_id = self.floatingip_with_port()
        mapped = self.l3.update_floatingip(self.project_a, floatingip.id, {"port_id": port_id})
        clock.advance(minutes=1)
        self.core.delete_port(self.project_a, port_id)
        stored = self.l3.get_floatingip(self.project_a, floatingip.id)
        self.assertEqual((None, mapped.revision_number + 1), (stored.port_id, stored.revision_number))
        self.assertEqual("2026-12-01T17:01:00Z", stored.updated_at)

    @requires(Capability.FLOATINGIPS)
    def test_malformed_floatingip_update_is_refused_naming_the_attribute(self) -> None:
        floatingip, _ = self.floatingip_with_port()
        for attribute, value in (("description", 7), ("tags", ["a/b"]), ("port_id", "not-a-uuid")):
            self.assertBadRequest(
                "floatingip", attribute, self.l3.update_floatingip, self.project_a, floatingip.id, {attribute: value}
            )
        self.assertBadRequest(
            "floatingip",
            "fixed_ip_address",
            self.l3.update_floatingip,
            self.project_a,
            floatingip.id,
            {"fixed_ip_address": "10.20.0.5"},
        )
        error = self.assertRefused(
            BadRequest, self.l3.update_floatingip, self.project_a, floatingip.id, {"status": "DOWN"}
        )
        self.assertEqual("status", error.attribute)
        self.assertEqual(0, self.l3.get_floatingip(self.project_a, floatingip.id).revision_number)
