"""Conformance tests: Neutron's standard attributes on networks, subnets, subnet pools and ports.

``description``, ``tags``, ``created_at``, ``updated_at`` and ``revision_number``:
set on create, a revision per update, ``if_revision`` preconditions that refuse a
stale caller and change nothing, tag filters, and malformed input named by attribute.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from typing import Any

from naas.capabilities import Capability
from naas.events import Event, ResourceType
from naas.exceptions import NotFound, RevisionMismatch
from naas.requests import MAX_TAGS
from naas.testing._base import requires
from naas.testing._core_base import CoreSuiteBase
from naas.testing._standard import TIMESTAMP, ManualClock, set_clock, standard
from naas.testing.fixtures import make_network, plugin_packages, race_window, run_in_threads

__all__ = ["StandardAttributeTests"]

START = datetime.datetime(2026, 12, 1, 17, 0, 0, tzinfo=datetime.UTC)


@dataclasses.dataclass(frozen=True)
class Kind:
    """One resource type, driven through the core plugin's methods for it."""

    name: str
    create: Callable[[Mapping[str, Any]], Any]
    get: Callable[[str], Any]
    update: Callable[..., Any]
    delete: Callable[..., None]
    listed: Callable[[Mapping[str, Any]], list[Any]]


class StandardAttributeTests(CoreSuiteBase):
    def kinds(self) -> list[Kind]:
        """Every core resource type the plugin supports, each created by ``project_a``."""
        context = self.project_a
        network_id = self.core.create_network(context, {"name": "holder"}).id
        cidrs = iter(f"10.77.{index}.0/24" for index in range(256))
        prefixes = iter(f"10.{index}.0.0/16" for index in range(100, 200))
        kinds = [
            Kind(
                "network",
                lambda body: self.core.create_network(context, body),
                lambda id_: self.core.get_network(context, id_),
                lambda id_, changes, **kw: self.core.update_network(context, id_, changes, **kw),
                lambda id_, **kw: self.core.delete_network(context, id_, **kw),
                lambda filters: list(self.core.get_networks(context, filters)),
            ),
            Kind(
                "subnet",
                lambda body: self.core.create_subnet(context, {"network_id": network_id, "cidr": next(cidrs), **body}),
                lambda id_: self.core.get_subnet(context, id_),
                lambda id_, changes, **kw: self.core.update_subnet(context, id_, changes, **kw),
                lambda id_, **kw: self.core.delete_subnet(context, id_, **kw),
                lambda filters: list(self.core.get_subnets(context, filters)),
            ),
            Kind(
                "port",
                lambda body: self.core.create_port(context, {"network_id": network_id, **body}),
                lambda id_: self.core.get_port(context, id_),
                lambda id_, changes, **kw: self.core.update_port(context, id_, changes, **kw),
                lambda id_, **kw: self.core.delete_port(context, id_, **kw),
                lambda filters: list(self.core.get_ports(context, filters)),
            ),
        ]
        if Capability.SUBNETPOOLS in type(self.core).CAPABILITIES:
            kinds.append(
                Kind(
                    "subnetpool",
                    lambda body: self.core.create_subnetpool(context, {"prefixes": [next(prefixes)], **body}),
                    lambda id_: self.core.get_subnetpool(context, id_),
                    lambda id_, changes, **kw: self.core.update_subnetpool(context, id_, changes, **kw),
                    lambda id_, **kw: self.core.delete_subnetpool(context, id_, **kw),
                    lambda filters: list(self.core.get_subnetpools(context, filters)),
                )
            )
        return kinds

    def use_manual_clock(self) -> ManualClock:
        clock = ManualClock(START)
        if not set_clock(self.core, clock):
            self.skipTest(f"{type(self.core).__name__} has no clock attribute a test can set (naas.rules.CoreRules)")
        return clock

    # Create

    def test_create_sets_description_tags_timestamps_and_revision_zero(self) -> None:
        for kind in self.kinds():
            created = kind.create({"description": f"the {kind.name}", "tags": ["red", "blue"]})
            description, tags, created_at, updated_at, revision = standard(created)
            self.assertEqual((f"the {kind.name}", ("blue", "red"), 0), (description, tags, revision), kind.name)
            self.assertRegex(created_at, TIMESTAMP, kind.name)
            self.assertEqual(created_at, updated_at, kind.name)
            self.assertEqual(created, kind.get(created.id), kind.name)
            body = created.to_dict()
            self.assertEqual(
                (f"the {kind.name}", ["blue", "red"], created_at, created_at, 0),
                tuple(body[key] for key in ("description", "tags", "created_at", "updated_at", "revision_number")),
                kind.name,
            )

    def test_create_without_standard_attributes_gives_empty_ones(self) -> None:
        for kind in self.kinds():
            created = kind.create({})
            self.assertEqual(("", (), 0), (created.description, created.tags, created.revision_number), kind.name)

    def test_created_at_is_the_time_of_creation_in_utc(self) -> None:
        clock = self.use_manual_clock()
        for kind in self.kinds():
            created = kind.create({})
            self.assertEqual(("2026-12-01T17:00:00Z", "2026-12-01T17:00:00Z"), standard(created)[2:4], kind.name)
        clock.now = datetime.datetime(
            2026, 12, 1, 18, 30, 5, 999999, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
        )
        network = self.core.create_network(self.project_a, {})
        self.assertEqual("2026-12-01T17:30:05Z", network.created_at)

    # Update

    def test_every_update_adds_one_to_the_revision_and_moves_updated_at(self) -> None:
        clock = self.use_manual_clock()
        for kind in self.kinds():
            created = kind.create({"tags": ["red"]})
            clock.advance(minutes=5)
            renamed = kind.update(created.id, {"name": "renamed"})
            clock.advance(minutes=5)
            retagged = kind.update(renamed.id, {"tags": ["green", "blue"]})
            self.assertEqual((1, 2), (renamed.revision_number, retagged.revision_number), kind.name)
            self.assertEqual(
                (created.created_at, created.created_at),
                (renamed.created_at, retagged.created_at),
                kind.name,
            )
            self.assertLess(created.updated_at, renamed.updated_at, kind.name)
            self.assertLess(renamed.updated_at, retagged.updated_at, kind.name)
            self.assertEqual(retagged, kind.get(created.id), kind.name)
            clock.advance(minutes=5)

    def test_an_update_that_changes_no_value_still_counts_a_revision(self) -> None:
        """As in Neutron, whose revision plugin counts every update that reaches the database."""
        for kind in self.kinds():
            created = kind.create({"name": "same", "description": "same"})
            updated = kind.update(created.id, {"name": "same", "description": "same"})
            self.assertEqual(1, updated.revision_number, kind.name)
            self.assertEqual("same", updated.description, kind.name)

    def test_an_update_replaces_the_whole_tag_set_and_keeps_it_when_not_given(self) -> None:
        for kind in self.kinds():
            created = kind.create({"tags": ["a", "b"], "description": "kept"})
            replaced = kind.update(created.id, {"tags": ["c"]})
            self.assertEqual((("c",), "kept"), (replaced.tags, replaced.description), kind.name)
            described = kind.update(created.id, {"description": "changed"})
            self.assertEqual((("c",), "changed"), (described.tags, described.description), kind.name)
            cleared = kind.update(created.id, {"tags": [], "description": ""})
            self.assertEqual(((), "", 3), (cleared.tags, cleared.description, cleared.revision_number), kind.name)

    # Preconditions

    def test_an_update_at_the_expected_revision_succeeds(self) -> None:
        for kind in self.kinds():
            created = kind.create({})
            first = kind.update(created.id, {"description": "one"}, if_revision=0)
            second = kind.update(created.id, {"description": "two"}, if_revision=1)
            self.assertEqual(("two", 2), (second.description, second.revision_number), kind.name)
            self.assertEqual(1, first.revision_number, kind.name)

    def test_a_stale_if_revision_refuses_the_update_and_changes_nothing(self) -> None:
        for kind in self.kinds():
            created = kind.create({"description": "before"})
            kind.update(created.id, {"description": "current"})
            error = self.assertRefused(
                RevisionMismatch, kind.update, created.id, {"description": "stale", "tags": ["x"]}, if_revision=0
            )
            self.assertEqual(
                (kind.name, created.id, 0, 1),
                (error.resource, error.resource_id, error.expected, error.actual),
                kind.name,
            )
            stored = kind.get(created.id)
            self.assertEqual(("current", (), 1), (stored.description, stored.tags, stored.revision_number), kind.name)
            # A revision from the future is no better than one from the past.
            self.assertRefused(RevisionMismatch, kind.update, created.id, {"description": "ahead"}, if_revision=7)

    def test_a_stale_if_revision_refuses_the_delete_and_keeps_the_resource(self) -> None:
        for kind in reversed(self.kinds()):
            created = kind.create({})
            kind.update(created.id, {"description": "changed"})
            error = self.assertRefused(RevisionMismatch, kind.delete, created.id, if_revision=0)
            self.assertEqual((kind.name, 0, 1), (error.resource, error.expected, error.actual), kind.name)
            self.assertEqual(1, kind.get(created.id).revision_number, kind.name)
            kind.delete(created.id, if_revision=1)
            self.assertRaisesError(NotFound, kind.get, created.id)

    def test_a_malformed_if_revision_is_a_bad_request_naming_it(self) -> None:
        for kind in self.kinds():
            created = kind.create({})
            for malformed in ("0", True, -1, 1.0):
                self.assertBadRequest(kind.name, "if_revision", kind.update, created.id, {}, if_revision=malformed)
                self.assertBadRequest(kind.name, "if_revision", kind.delete, created.id, if_revision=malformed)

    @requires(Capability.THREADS, Capability.EVENTS)
    def test_concurrent_updates_at_one_revision_let_exactly_one_through(self) -> None:
        """8 threads update one network, each requiring revision 0: one succeeds, 7 get RevisionMismatch.

        A subscriber on BEFORE_UPDATE sleeps inside each call, between the
        precondition check and the write: a plugin that checks outside the unit
        of work that writes lets several through.
        """
        network = self.core.create_network(self.project_a, {})

        def update(index: int) -> Any:
            return self.core.update_network(self.project_a, network.id, {"description": f"d-{index}"}, if_revision=0)

        with race_window(
            self.core.events, ResourceType.NETWORK, Event.BEFORE_UPDATE, modules=plugin_packages(self.core)
        ):
            outcome = run_in_threads(8, update)
        self.assertEqual(1, len(outcome.results), f"errors: {outcome.errors}")
        for error in outcome.errors.values():
            self.assertIsInstance(error, RevisionMismatch)
        (winner,) = outcome.results.values()
        stored = self.core.get_network(self.project_a, network.id)
        self.assertEqual((1, winner.description), (stored.revision_number, stored.description))

    # Filters

    def test_tag_filters_select_as_neutron_s(self) -> None:
        for kind in self.kinds():
            both = kind.create({"tags": ["red", "blue"]})
            red = kind.create({"tags": ["red"]})
            bare = kind.create({})
            mine = {both.id, red.id, bare.id}

            def found(filters: Mapping[str, Any], kind: Kind = kind, mine: set[str] = mine) -> set[str]:
                return {resource.id for resource in kind.listed(filters)} & mine

            self.assertEqual({both.id}, found({"tags": "red,blue"}), kind.name)
            self.assertEqual({both.id}, found({"tags": ["blue", "red"]}), kind.name)
            self.assertEqual({both.id, red.id}, found({"tags": "red"}), kind.name)
            self.assertEqual({both.id}, found({"tags-any": ["blue", "green"]}), kind.name)
            self.assertEqual({both.id, red.id}, found({"tags-any": "green,red"}), kind.name)
            self.assertEqual({red.id, bare.id}, found({"not-tags": "red,blue"}), kind.name)
            self.assertEqual({bare.id}, found({"not-tags-any": ["red"]}), kind.name)
            self.assertEqual({red.id}, found({"tags": "red", "not-tags": "blue"}), kind.name)
            self.assertEqual(set(), found({"tags": "green"}), kind.name)

    def test_lists_filter_by_description_and_revision_number(self) -> None:
        for kind in self.kinds():
            first = kind.create({"description": "alpha"})
            second = kind.create({"description": "beta"})
            kind.update(second.id, {"description": "beta"})
            mine = {first.id, second.id}
            self.assertEqual({second.id}, {r.id for r in kind.listed({"description": "beta"})} & mine, kind.name)
            self.assertEqual({first.id}, {r.id for r in kind.listed({"revision_number": 0})} & mine, kind.name)
            self.assertEqual({second.id}, {r.id for r in kind.listed({"revision_number": "1"})} & mine, kind.name)

    def test_a_malformed_tag_filter_is_a_bad_request_naming_it(self) -> None:
        self.assertBadRequest("network", "tags-any", self.core.get_networks, self.project_a, {"tags-any": [1]})
        self.assertBadRequest("network", "not-tags", self.core.get_networks, self.project_a, {"not-tags": ","})
        self.assertBadRequest(
            "network", "revision_number", self.core.get_networks, self.project_a, {"revision_number": "one"}
        )

    # Malformed input

    def test_malformed_description_and_tags_are_refused_naming_the_attribute(self) -> None:
        malformed: list[tuple[str, Any]] = [
            ("description", "d" * 256),
            ("description", "line\nbreak"),
            ("description", 5),
            ("tags", "red"),
            ("tags", ["a,b"]),
            ("tags", ["a/b"]),
            ("tags", [""]),
            ("tags", ["t" * 256]),
            ("tags", ["same", "same"]),
            ("tags", [f"t{index}" for index in range(MAX_TAGS + 1)]),
            ("tags", ["\x1b[31m"]),
            ("tags", [None]),
        ]
        for kind in self.kinds():
            existing = kind.create({})
            for attribute, value in malformed:
                self.assertBadRequest(kind.name, attribute, kind.create, {attribute: value})
                self.assertBadRequest(kind.name, attribute, kind.update, existing.id, {attribute: value})
            self.assertEqual(0, kind.get(existing.id).revision_number, kind.name)

    def test_the_longest_description_and_most_tags_are_kept(self) -> None:
        tags = [f"{index:02d}" + "t" * 253 for index in range(MAX_TAGS)]
        for kind in self.kinds():
            created = kind.create({"description": "é" * 255, "tags": tags})
            self.assertEqual(("é" * 255, tuple(sorted(tags))), standard(kind.get(created.id))[0:2], kind.name)

    def test_deleting_a_network_keeps_nothing_of_its_subnets_standard_attributes(self) -> None:
        setup = make_network(self.core, self.project_a, ["10.66.0.0/24"])
        self.core.update_subnet(self.project_a, setup.subnet().id, {"tags": ["gone"]})
        self.core.delete_network(self.project_a, setup.id, if_revision=setup.network.revision_number)
        self.assertEqual([], self.core.get_subnets(self.project_a, {"tags": "gone"}))
