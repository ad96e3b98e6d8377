"""Conformance tests: routers and their external gateways."""

from __future__ import annotations

import uuid
from typing import Any

import netaddr

from naas.exceptions import BadRequest, InUse, IpAddressAlreadyAllocated, IpAddressExhausted, NotFound
from naas.requests import GatewayRequest, RouterCreate
from naas.resources import DEVICE_OWNER_ROUTER_GATEWAY, FixedIP
from naas.testing._base import MALFORMED_ID, MISSING_ID
from naas.testing._l3_base import L3SuiteBase
from naas.testing.fixtures import (
    PROJECT_A_ID,
    allocatable_addresses,
    make_external_network,
    make_network,
    make_router,
)

__all__ = ["RouterTests"]


class RouterTests(L3SuiteBase):
    def test_l3_plugin_works_with_the_core_plugin_it_was_given(self) -> None:
        self.assertIs(self.core, self.l3.core_plugin)

    # Create, read, list

    def test_router_create_without_gateway(self) -> None:
        router = self.l3.create_router(self.project_a, {"name": "r1"})
        self.assertEqual(("r1", PROJECT_A_ID), (router.name, router.project_id))
        self.assertEqual(router.id, str(uuid.UUID(router.id)))
        self.assertTrue(router.admin_state_up)
        self.assertIsNone(router.external_gateway_info)
        self.assertIsInstance(router.status, str)

    def test_router_create_accepts_a_typed_request(self) -> None:
        request = RouterCreate(name="typed", external_gateway_info=GatewayRequest(network_id=self.public.id))
        router = self.l3.create_router(self.project_a, request)
        self.assertEqual("typed", router.name)
        self.assertIsNotNone(router.external_gateway_info)

    def test_router_create_with_gateway_takes_an_address_on_the_external_network(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        info = router.external_gateway_info
        assert info is not None
        self.assertEqual(self.public.id, info.network_id)
        self.assertTrue(info.enable_snat)
        (fixed,) = info.external_fixed_ips
        self.assertEqual(self.public.subnet().id, fixed.subnet_id)
        self.assertIn(fixed.ip_address, allocatable_addresses(self.public.subnet()))

    def test_router_gateway_port_holds_the_gateway_address(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        port = self.gateway_port(router)
        assert router.external_gateway_info is not None
        self.assertEqual(router.external_gateway_info.external_fixed_ips, port.fixed_ips)
        self.assertEqual(DEVICE_OWNER_ROUTER_GATEWAY, port.device_owner)

    def test_router_gateways_get_distinct_addresses(self) -> None:
        routers = [make_router(self.l3, self.project_a, external_network_id=self.public.id) for _ in range(4)]
        addresses = {
            fixed.ip_address
            for router in routers
            for fixed in (router.external_gateway_info.external_fixed_ips if router.external_gateway_info else ())
        }
        self.assertEqual(4, len(addresses))

    def test_router_gateway_with_a_specific_address(self) -> None:
        """Only an admin picks a gateway's address (Neutron's default policy)."""
        router = self.l3.create_router(
            self.admin,
            {
                "external_gateway_info": {
                    "network_id": self.public.id,
                    "external_fixed_ips": [{"ip_address": "203.0.113.50"}],
                }
            },
        )
        assert router.external_gateway_info is not None
        self.assertEqual(
            (FixedIP(subnet_id=self.public.subnet().id, ip_address=netaddr.IPAddress("203.0.113.50")),),
            router.external_gateway_info.external_fixed_ips,
        )

    def test_router_gateway_with_an_address_that_is_taken_raises_already_allocated(self) -> None:
        body = {
            "external_gateway_info": {
                "network_id": self.public.id,
                "external_fixed_ips": [{"ip_address": "203.0.113.50"}],
            }
        }
        self.l3.create_router(self.admin, body)
        self.assertRefused(IpAddressAlreadyAllocated, self.l3.create_router, self.admin, body)

    def test_router_gateway_without_snat(self) -> None:
        router = self.l3.create_router(
            self.admin, {"external_gateway_info": {"network_id": self.public.id, "enable_snat": False}}
        )
        assert router.external_gateway_info is not None
        self.assertFalse(router.external_gateway_info.enable_snat)

    def test_router_gateway_on_internal_network_raises_bad_request(self) -> None:
        internal = make_network(self.core, self.project_a)
        self.assertNestedBadRequest(
            "router",
            "external_gateway_info",
            self.l3.create_router,
            self.project_a,
            {"external_gateway_info": {"network_id": internal.id}},
        )

    def test_router_gateway_on_missing_network_raises_not_found(self) -> None:
        self.assertNotFound(
            "network",
            MISSING_ID,
            self.l3.create_router,
            self.project_a,
            {"external_gateway_info": {"network_id": MISSING_ID}},
        )

    def test_router_gateway_on_exhausted_external_network_raises_ip_address_exhausted(self) -> None:
        small = make_external_network(self.core, self.admin, ["198.51.100.0/29"], name="small", is_default=False)
        for _ in range(5):
            make_router(self.l3, self.project_a, external_network_id=small.id)
        self.assertRefused(IpAddressExhausted, make_router, self.l3, self.project_a, external_network_id=small.id)

    def test_router_get_returns_what_create_returned(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        self.assertEqual(router, self.l3.get_router(self.project_a, router.id))

    def test_router_get_missing_raises_not_found(self) -> None:
        self.assertNotFound("router", MISSING_ID, self.l3.get_router, self.project_a, MISSING_ID)

    def test_router_get_malformed_id_raises_not_found_or_bad_request(self) -> None:
        self.assertRefused((NotFound, BadRequest), self.l3.get_router, self.project_a, MALFORMED_ID)

    def test_router_list_returns_oldest_first(self) -> None:
        routers = [make_router(self.l3, self.project_a, name=f"r{index}") for index in range(4)]
        self.assertEqual([r.id for r in routers], [r.id for r in self.l3.get_routers(self.project_a)])

    def test_router_list_filters_by_name(self) -> None:
        make_router(self.l3, self.project_a, name="blue")
        red = make_router(self.l3, self.project_a, name="red")
        self.assertEqual([red.id], [r.id for r in self.l3.get_routers(self.project_a, {"name": "red"})])

    def test_router_list_unknown_filter_raises_bad_request(self) -> None:
        self.assertBadRequest("router", "colour", self.l3.get_routers, self.project_a, {"colour": "red"})

    # Update

    def test_router_update_changes_name(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        updated = self.l3.update_router(self.project_a, router.id, {"name": "renamed"})
        self.assertEqual("renamed", updated.name)
        self.assertEqual(router.external_gateway_info, updated.external_gateway_info)
        self.assertEqual(updated, self.l3.get_router(self.project_a, router.id))

    def test_router_update_sets_a_gateway(self) -> None:
        router = make_router(self.l3, self.project_a)
        updated = self.l3.update_router(
            self.project_a, router.id, {"external_gateway_info": {"network_id": self.public.id}}
        )
        assert updated.external_gateway_info is not None
        self.assertEqual(self.public.id, updated.external_gateway_info.network_id)
        self.gateway_port(updated)

    def test_router_update_replaces_the_gateway(self) -> None:
        other = make_external_network(self.core, self.admin, ["198.51.100.0/24"], name="other", is_default=False)
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        old_port = self.gateway_port(router)
        updated = self.l3.update_router(self.project_a, router.id, {"external_gateway_info": {"network_id": other.id}})
        assert updated.external_gateway_info is not None
        self.assertEqual(other.id, updated.external_gateway_info.network_id)
        (fixed,) = updated.external_gateway_info.external_fixed_ips
        self.assertIn(fixed.ip_address, allocatable_addresses(other.subnet()))
        self.assertNotFound("port", old_port.id, self.core.get_port, self.admin, old_port.id)

    def test_router_update_removes_the_gateway_and_its_port(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        port = self.gateway_port(router)
        updated = self.l3.update_router(self.project_a, router.id, {"external_gateway_info": None})
        self.assertIsNone(updated.external_gateway_info)
        self.assertIsNone(self.l3.get_router(self.project_a, router.id).external_gateway_info)
        self.assertNotFound("port", port.id, self.core.get_port, self.admin, port.id)

    def test_router_update_removing_the_gateway_releases_its_address(self) -> None:
        body = {"network_id": self.public.id, "external_fixed_ips": [{"ip_address": "203.0.113.50"}]}
        router = self.l3.create_router(self.admin, {"external_gateway_info": body})
        self.l3.update_router(self.admin, router.id, {"external_gateway_info": None})
        again = self.l3.create_router(self.admin, {"external_gateway_info": body})
        self.assertIsNotNone(again.external_gateway_info)

    def test_router_update_gateway_to_internal_network_raises_bad_request(self) -> None:
        internal = make_network(self.core, self.project_a)
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        self.assertNestedBadRequest(
            "router",
            "external_gateway_info",
            self.l3.update_router,
            self.project_a,
            router.id,
            {"external_gateway_info": {"network_id": internal.id}},
        )

    def test_router_update_missing_raises_not_found(self) -> None:
        self.assertNotFound("router", MISSING_ID, self.l3.update_router, self.project_a, MISSING_ID, {"name": "x"})

    # Delete

    def test_router_delete_removes_it_and_its_gateway_port(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        port = self.gateway_port(router)
        self.l3.delete_router(self.project_a, router.id)
        self.assertNotFound("router", router.id, self.l3.get_router, self.project_a, router.id)
        self.assertNotFound("port", port.id, self.core.get_port, self.admin, port.id)

    def test_router_delete_missing_raises_not_found(self) -> None:
        self.assertNotFound("router", MISSING_ID, self.l3.delete_router, self.project_a, MISSING_ID)

    def test_router_gateway_port_cannot_be_deleted_through_the_core_plugin(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        port = self.gateway_port(router)
        self.assertRefused(InUse, self.core.delete_port, self.admin, port.id)

    def test_external_network_with_a_gateway_cannot_be_deleted(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        port = self.gateway_port(router)
        error = self.assertRefused(InUse, self.core.delete_network, self.admin, self.public.id)
        self.assertIn(port.id, error.users)

    def test_external_network_with_a_gateway_cannot_stop_being_external(self) -> None:
        make_router(self.l3, self.project_a, external_network_id=self.public.id)
        self.assertRefused(InUse, self.core.update_network, self.admin, self.public.id, {"router:external": False})

    def test_external_network_without_gateways_can_stop_being_external(self) -> None:
        router = make_router(self.l3, self.project_a, external_network_id=self.public.id)
        self.l3.delete_router(self.project_a, router.id)
        updated = self.core.update_network(self.admin, self.public.id, {"router:external": False})
        self.assertFalse(updated.router_external)

    # Malformed input

    def _assert_router_rejected(self, attribute: str, body: dict[str, Any]) -> BadRequest:
        return self.assertBadRequest("router", attribute, self.l3.create_router, self.project_a, body)

    def test_router_create_rejects_name_too_long(self) -> None:
        self._assert_router_rejected("name", {"name": "n" * 256})

    def test_router_create_rejects_unknown_attribute(self) -> None:
        self._assert_router_rejected("routes", {"routes": []})

    def test_router_create_rejects_admin_state_up_that_is_not_a_boolean(self) -> None:
        self._assert_router_rejected("admin_state_up", {"admin_state_up": "up"})

    def test_router_create_rejects_gateway_info_that_is_not_a_mapping(self) -> None:
        for value in (self.public.id, [self.public.id], 5):
            self.assertNestedBadRequest(
                "router",
                "external_gateway_info",
                self.l3.create_router,
                self.project_a,
                {"external_gateway_info": value},
            )

    def test_router_create_rejects_gateway_with_malformed_network_id(self) -> None:
        self.assertNestedBadRequest(
            "router",
            "external_gateway_info",
            self.l3.create_router,
            self.project_a,
            {"external_gateway_info": {"network_id": MALFORMED_ID}},
        )

    def test_router_create_rejects_gateway_without_network_id(self) -> None:
        self.assertNestedBadRequest(
            "router",
            "external_gateway_info",
            self.l3.create_router,
            self.project_a,
            {"external_gateway_info": {"enable_snat": True}},
        )

    def test_router_create_rejects_gateway_with_unknown_attribute(self) -> None:
        self.assertNestedBadRequest(
            "router",
            "external_gateway_info",
            self.l3.create_router,
            self.project_a,
            {"external_gateway_info": {"network_id": self.public.id, "qos_policy_id": MISSING_ID}},
        )

    def test_router_create_rejects_gateway_with_malformed_fixed_ip(self) -> None:
        self.assertRefused(
            BadRequest,
            self.l3.create_router,
            self.project_a,
            {"external_gateway_info": {"network_id": self.public.id, "external_fixed_ips": [{"ip_address": "x"}]}},
        )

    def test_router_create_rejects_gateway_address_outside_the_external_subnets(self) -> None:
        """The error names the router's ``external_gateway_info``, not the gateway port the plugin would create."""
        self.assertNestedBadRequest(
            "router",
            "external_gateway_info",
            self.l3.create_router,
            self.admin,
            {
                "external_gateway_info": {
                    "network_id": self.public.id,
                    "external_fixed_ips": [{"ip_address": "10.99.0.1"}],
                }
            },
        )

    def test_router_update_rejects_unknown_attribute(self) -> None:
        router = make_router(self.l3, self.project_a)
        self.assertBadRequest("router", "routes", self.l3.update_router, self.project_a, router.id, {"routes": []})

    def test_router_update_rejects_name_too_long(self) -> None:
        router = make_router(self.l3, self.project_a)
        self.assertBadRequest("router", "name", self.l3.update_router, self.project_a, router.id, {"name": "n" * 256})
