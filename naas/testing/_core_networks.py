"""Conformance tests: networks, the default external network, and their malformed input."""

from __future__ import annotations

import uuid

from naas.exceptions import BadRequest, DefaultExternalNetworkExists, InUse, NotFound
from naas.requests import NetworkCreate, NetworkUpdate
from naas.testing._base import MALFORMED_ID, MISSING_ID
from naas.testing._core_base import CoreSuiteBase
from naas.testing.fixtures import PROJECT_A_ID, make_external_network, make_network, make_port

__all__ = ["NetworkTests"]


class NetworkTests(CoreSuiteBase):
    # Create, read, list

    def test_network_create_fills_in_defaults(self) -> None:
        network = self.core.create_network(self.project_a, {"name": "net"})
        self.assertEqual("net", network.name)
        self.assertEqual(PROJECT_A_ID, network.project_id)
        self.assertTrue(network.admin_state_up)
        self.assertFalse(network.shared)
        self.assertFalse(network.router_external)
        self.assertFalse(network.is_default)
        self.assertEqual(1500, network.mtu)
        self.assertEqual((), network.subnets)
        self.assertIsInstance(network.status, str)

    def test_network_create_gives_a_uuid(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertEqual(network.id, str(uuid.UUID(network.id)))

    def test_network_create_gives_each_network_its_own_id(self) -> None:
        ids = {self.core.create_network(self.project_a, {}).id for _ in range(5)}
        self.assertEqual(5, len(ids))

    def test_network_create_accepts_a_typed_request(self) -> None:
        network = self.core.create_network(self.project_a, NetworkCreate(name="typed", mtu=9000))
        self.assertEqual(("typed", 9000), (network.name, network.mtu))

    def test_network_create_accepts_tenant_id_for_project_id(self) -> None:
        network = self.core.create_network(self.admin, {"tenant_id": PROJECT_A_ID})
        self.assertEqual(PROJECT_A_ID, network.project_id)

    def test_network_get_returns_what_create_returned(self) -> None:
        network = self.core.create_network(self.project_a, {"name": "net"})
        self.assertEqual(network, self.core.get_network(self.project_a, network.id))

    def test_network_get_lists_its_subnets(self) -> None:
        setup = make_network(self.core, self.project_a, ["10.10.0.0/24", "10.10.1.0/24"])
        self.assertEqual(
            {subnet.id for subnet in setup.subnets}, set(self.core.get_network(self.project_a, setup.id).subnets)
        )

    def test_network_get_missing_raises_not_found(self) -> None:
        self.assertNotFound("network", MISSING_ID, self.core.get_network, self.project_a, MISSING_ID)

    def test_network_get_malformed_id_raises_not_found_or_bad_request(self) -> None:
        self.assertRefused((NotFound, BadRequest), self.core.get_network, self.project_a, MALFORMED_ID)

    def test_network_list_returns_oldest_first(self) -> None:
        created = [self.core.create_network(self.project_a, {"name": f"net-{index}"}) for index in range(4)]
        self.assertEqual([network.id for network in created], [n.id for n in self.core.get_networks(self.project_a)])

    def test_network_list_filters_by_name(self) -> None:
        self.core.create_network(self.project_a, {"name": "blue"})
        red = self.core.create_network(self.project_a, {"name": "red"})
        self.assertEqual([red.id], [n.id for n in self.core.get_networks(self.project_a, {"name": "red"})])

    def test_network_list_filter_values_are_alternatives(self) -> None:
        blue = self.core.create_network(self.project_a, {"name": "blue"})
        red = self.core.create_network(self.project_a, {"name": "red"})
        self.core.create_network(self.project_a, {"name": "green"})
        found = self.core.get_networks(self.project_a, {"name": ["red", "blue"]})
        self.assertEqual({blue.id, red.id}, {network.id for network in found})

    def test_network_list_filters_by_router_external(self) -> None:
        public = make_external_network(self.core, self.admin)
        self.core.create_network(self.admin, {"name": "internal"})
        found = self.core.get_networks(self.admin, {"router:external": True})
        self.assertEqual([public.id], [network.id for network in found])

    def test_network_list_unknown_filter_raises_bad_request(self) -> None:
        self.assertBadRequest("network", "colour", self.core.get_networks, self.project_a, {"colour": "red"})

    # Update

    def test_network_update_changes_name(self) -> None:
        network = self.core.create_network(self.project_a, {"name": "old"})
        updated = self.core.update_network(self.project_a, network.id, {"name": "new"})
        self.assertEqual("new", updated.name)
        self.assertEqual(updated, self.core.get_network(self.project_a, network.id))

    def test_network_update_accepts_a_typed_request(self) -> None:
        network = self.core.create_network(self.project_a, {})
        updated = self.core.update_network(self.project_a, network.id, NetworkUpdate(admin_state_up=False))
        self.assertFalse(updated.admin_state_up)

    def test_network_update_leaves_unnamed_attributes_alone(self) -> None:
        network = self.core.create_network(self.project_a, {"name": "kept", "mtu": 9000})
        updated = self.core.update_network(self.project_a, network.id, {"admin_state_up": False})
        self.assertEqual(("kept", 9000), (updated.name, updated.mtu))

    def test_network_update_by_admin_makes_it_external(self) -> None:
        network = self.core.create_network(self.admin, {})
        self.assertTrue(self.core.update_network(self.admin, network.id, {"router:external": True}).router_external)

    def test_network_update_missing_raises_not_found(self) -> None:
        self.assertNotFound("network", MISSING_ID, self.core.update_network, self.project_a, MISSING_ID, {"name": "x"})

    # Delete

    def test_network_delete_removes_it(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.core.delete_network(self.project_a, network.id)
        self.assertNotFound("network", network.id, self.core.get_network, self.project_a, network.id)
        self.assertEqual([], self.core.get_networks(self.project_a))

    def test_network_delete_removes_its_subnets(self) -> None:
        setup = make_network(self.core, self.project_a, ["10.10.0.0/24", "10.10.1.0/24"])
        self.core.delete_network(self.project_a, setup.id)
        for subnet in setup.subnets:
            self.assertNotFound("subnet", subnet.id, self.core.get_subnet, self.project_a, subnet.id)
        self.assertEqual([], self.core.get_subnets(self.project_a))

    def test_network_delete_with_ports_raises_in_use_naming_them(self) -> None:
        setup = make_network(self.core, self.project_a)
        ports = [make_port(self.core, self.project_a, setup.id) for _ in range(2)]
        error = self.assertRefused(InUse, self.core.delete_network, self.project_a, setup.id)
        self.assertEqual(("network", setup.id), (error.resource, error.resource_id))
        self.assertEqual({port.id for port in ports}, set(error.users))
        for port in ports:
            self.assertIn(port.id, str(error))

    def test_network_delete_with_ports_deletes_nothing(self) -> None:
        setup = make_network(self.core, self.project_a)
        port = make_port(self.core, self.project_a, setup.id)
        self.assertRaisesError(InUse, self.core.delete_network, self.project_a, setup.id)
        self.assertEqual(setup.network, self.core.get_network(self.project_a, setup.id))
        self.assertEqual(setup.subnets[0], self.core.get_subnet(self.project_a, setup.subnets[0].id))
        self.assertEqual(port, self.core.get_port(self.project_a, port.id))

    def test_network_delete_missing_raises_not_found(self) -> None:
        self.assertNotFound("network", MISSING_ID, self.core.delete_network, self.project_a, MISSING_ID)

    def test_network_delete_twice_raises_not_found(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.core.delete_network(self.project_a, network.id)
        self.assertNotFound("network", network.id, self.core.delete_network, self.project_a, network.id)

    # The default external network

    def test_network_create_default_external_network(self) -> None:
        network = self.core.create_network(self.admin, {"router:external": True, "is_default": True})
        self.assertTrue(network.router_external)
        self.assertTrue(network.is_default)

    def test_network_create_is_default_without_router_external_raises_bad_request(self) -> None:
        self.assertBadRequest("network", "is_default", self.core.create_network, self.admin, {"is_default": True})

    def test_network_create_second_default_external_raises_default_exists(self) -> None:
        first = make_external_network(self.core, self.admin)
        error = self.assertRefused(
            DefaultExternalNetworkExists,
            self.core.create_network,
            self.admin,
            {"name": "second", "router:external": True, "is_default": True},
        )
        self.assertEqual(first.id, error.existing_id)
        self.assertIn(first.id, str(error))

    def test_network_create_second_external_network_that_is_not_default(self) -> None:
        make_external_network(self.core, self.admin)
        second = self.core.create_network(self.admin, {"router:external": True})
        self.assertEqual((True, False), (second.router_external, second.is_default))

    def test_network_update_second_default_raises_default_exists(self) -> None:
        first = make_external_network(self.core, self.admin)
        second = self.core.create_network(self.admin, {"router:external": True})
        error = self.assertRefused(
            DefaultExternalNetworkExists, self.core.update_network, self.admin, second.id, {"is_default": True}
        )
        self.assertEqual(first.id, error.existing_id)

    def test_network_update_is_default_alone_on_an_external_network(self) -> None:
        network = self.core.create_network(self.admin, {"router:external": True})
        updated = self.core.update_network(self.admin, network.id, {"is_default": True})
        self.assertEqual((True, True), (updated.router_external, updated.is_default))

    def test_network_update_is_default_again_on_the_default_network(self) -> None:
        public = make_external_network(self.core, self.admin)
        self.assertTrue(self.core.update_network(self.admin, public.id, {"is_default": True}).is_default)

    def test_network_update_external_and_default_together(self) -> None:
        network = self.core.create_network(self.admin, {})
        updated = self.core.update_network(self.admin, network.id, {"router:external": True, "is_default": True})
        self.assertEqual((True, True), (updated.router_external, updated.is_default))

    def test_network_update_is_default_on_internal_network_raises_bad_request(self) -> None:
        network = self.core.create_network(self.admin, {})
        self.assertBadRequest(
            "network", "is_default", self.core.update_network, self.admin, network.id, {"is_default": True}
        )

    def test_network_update_unsetting_the_default_lets_another_become_default(self) -> None:
        first = make_external_network(self.core, self.admin)
        self.core.update_network(self.admin, first.id, {"is_default": False})
        second = self.core.create_network(self.admin, {"router:external": True, "is_default": True})
        self.assertTrue(second.is_default)

    def test_network_delete_of_the_default_lets_another_become_default(self) -> None:
        first = self.core.create_network(self.admin, {"router:external": True, "is_default": True})
        self.core.delete_network(self.admin, first.id)
        second = self.core.create_network(self.admin, {"router:external": True, "is_default": True})
        self.assertTrue(second.is_default)

    # Malformed input

    def test_network_create_rejects_name_too_long(self) -> None:
        self.assertBadRequest("network", "name", self.core.create_network, self.project_a, {"name": "n" * 256})

    def test_network_create_accepts_name_of_255_characters(self) -> None:
        self.assertEqual("n" * 255, self.core.create_network(self.project_a, {"name": "n" * 255}).name)

    def test_network_create_rejects_name_that_is_not_a_string(self) -> None:
        self.assertBadRequest("network", "name", self.core.create_network, self.project_a, {"name": 42})

    def test_network_create_rejects_unknown_attribute(self) -> None:
        self.assertBadRequest("network", "colour", self.core.create_network, self.project_a, {"colour": "red"})

    def test_network_create_rejects_admin_state_up_that_is_not_a_boolean(self) -> None:
        for value in ("maybe", 2, None):
            self.assertBadRequest(
                "network", "admin_state_up", self.core.create_network, self.project_a, {"admin_state_up": value}
            )

    def test_network_create_rejects_router_external_that_is_not_a_boolean(self) -> None:
        self.assertBadRequest(
            "network", "router:external", self.core.create_network, self.admin, {"router:external": "maybe"}
        )

    def test_network_create_rejects_shared_that_is_not_a_boolean(self) -> None:
        self.assertBadRequest("network", "shared", self.core.create_network, self.admin, {"shared": [True]})

    def test_network_create_rejects_is_default_that_is_not_a_boolean(self) -> None:
        self.assertBadRequest(
            "network", "is_default", self.core.create_network, self.admin, {"router:external": True, "is_default": 7}
        )

    def test_network_create_rejects_mtu_out_of_range(self) -> None:
        for value in (67, 65536, -1):
            self.assertBadRequest("network", "mtu", self.core.create_network, self.project_a, {"mtu": value})

    def test_network_create_rejects_mtu_that_is_not_an_integer(self) -> None:
        for value in ("big", 1500.5, True):
            self.assertBadRequest("network", "mtu", self.core.create_network, self.project_a, {"mtu": value})

    def test_network_create_rejects_empty_project_id(self) -> None:
        self.assertBadRequest("network", "project_id", self.core.create_network, self.admin, {"project_id": ""})

    def test_network_create_rejects_tenant_id_that_differs_from_project_id(self) -> None:
        self.assertBadRequest(
            "network",
            "tenant_id",
            self.core.create_network,
            self.admin,
            {"project_id": PROJECT_A_ID, "tenant_id": "someone-else"},
        )

    def test_network_create_rejects_a_body_that_is_not_a_mapping(self) -> None:
        self.assertRefused(BadRequest, self.core.create_network, self.project_a, ["name", "x"])  # type: ignore[arg-type]

    def test_network_update_rejects_unknown_attribute(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertBadRequest(
            "network", "subnets", self.core.update_network, self.project_a, network.id, {"subnets": []}
        )

    def test_network_update_rejects_name_too_long(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertBadRequest(
            "network", "name", self.core.update_network, self.project_a, network.id, {"name": "n" * 256}
        )

    def test_network_update_rejects_admin_state_up_that_is_not_a_boolean(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertBadRequest(
            "network", "admin_state_up", self.core.update_network, self.project_a, network.id, {"admin_state_up": "x"}
        )
