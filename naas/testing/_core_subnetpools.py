"""Conformance tests: subnet pools, the default pool per IP version, and their malformed input."""

from __future__ import annotations

from typing import Any

import netaddr

from naas.capabilities import Capability
from naas.exceptions import BadRequest, DefaultSubnetPoolExists, InUse, NotFound
from naas.requests import SubnetPoolCreate
from naas.resources import SubnetPool
from naas.testing._base import MALFORMED_ID, MISSING_ID, requires
from naas.testing._core_base import CoreSuiteBase
from naas.testing.fixtures import PROJECT_A_ID, make_default_pools

__all__ = ["SubnetPoolTests"]


def _networks(*cidrs: str) -> tuple[netaddr.IPNetwork, ...]:
    return tuple(netaddr.IPNetwork(cidr) for cidr in cidrs)


class SubnetPoolTests(CoreSuiteBase):
    def _create_pool(self, prefixes: list[str] | None = None, **attributes: Any) -> SubnetPool:
        body = {"prefixes": prefixes or ["10.0.0.0/16"], **attributes}
        return self.core.create_subnetpool(self.project_a, body)

    # Create, read, list

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_fills_in_defaults(self) -> None:
        pool = self._create_pool(["10.0.0.0/16"], name="pool")
        self.assertEqual(("pool", PROJECT_A_ID, 4), (pool.name, pool.project_id, pool.ip_version))
        self.assertEqual(_networks("10.0.0.0/16"), pool.prefixes)
        self.assertEqual((8, 32, 8), (pool.min_prefixlen, pool.max_prefixlen, pool.default_prefixlen))
        self.assertEqual((False, False, None), (pool.shared, pool.is_default, pool.default_quota))

    @requires(Capability.SUBNETPOOLS, Capability.IPV6)
    def test_subnetpool_create_ipv6_fills_in_defaults(self) -> None:
        pool = self._create_pool(["fd00::/48"])
        self.assertEqual(6, pool.ip_version)
        self.assertEqual((64, 128, 64), (pool.min_prefixlen, pool.max_prefixlen, pool.default_prefixlen))

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_keeps_explicit_bounds_and_quota(self) -> None:
        pool = self._create_pool(min_prefixlen=20, max_prefixlen=28, default_prefixlen=24, default_quota=1024)
        self.assertEqual((20, 28, 24), (pool.min_prefixlen, pool.max_prefixlen, pool.default_prefixlen))
        self.assertEqual(1024, pool.default_quota)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_compacts_prefixes(self) -> None:
        pool = self._create_pool(["10.0.1.0/24", "10.0.0.0/24", "10.0.0.128/25", "192.168.0.0/24"])
        self.assertEqual(_networks("10.0.0.0/23", "192.168.0.0/24"), pool.prefixes)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_accepts_a_typed_request(self) -> None:
        request = SubnetPoolCreate(prefixes=_networks("10.0.0.0/16"), default_prefixlen=24)
        pool = self.core.create_subnetpool(self.project_a, request)
        self.assertEqual(24, pool.default_prefixlen)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_get_returns_what_create_returned(self) -> None:
        pool = self._create_pool()
        self.assertEqual(pool, self.core.get_subnetpool(self.project_a, pool.id))

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_get_missing_raises_not_found(self) -> None:
        self.assertNotFound("subnetpool", MISSING_ID, self.core.get_subnetpool, self.project_a, MISSING_ID)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_get_malformed_id_raises_not_found_or_bad_request(self) -> None:
        self.assertRefused((NotFound, BadRequest), self.core.get_subnetpool, self.project_a, MALFORMED_ID)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_list_returns_oldest_first(self) -> None:
        pools = [self._create_pool([f"10.{index}.0.0/16"]) for index in (3, 1, 2)]
        self.assertEqual([p.id for p in pools], [p.id for p in self.core.get_subnetpools(self.project_a)])

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_list_filters_by_is_default(self) -> None:
        defaults = make_default_pools(self.core, self.admin, ipv6_prefixes=None)
        self.core.create_subnetpool(self.admin, {"prefixes": ["172.16.0.0/12"]})
        found = self.core.get_subnetpools(self.admin, {"is_default": True})
        self.assertEqual([pool.id for pool in defaults.pools()], [pool.id for pool in found])

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_list_unknown_filter_raises_bad_request(self) -> None:
        self.assertBadRequest("subnetpool", "colour", self.core.get_subnetpools, self.project_a, {"colour": "red"})

    # Update

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_changes_name(self) -> None:
        pool = self._create_pool()
        updated = self.core.update_subnetpool(self.project_a, pool.id, {"name": "renamed"})
        self.assertEqual("renamed", updated.name)
        self.assertEqual(updated, self.core.get_subnetpool(self.project_a, pool.id))

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_grows_prefixes_and_compacts_them(self) -> None:
        pool = self._create_pool(["10.0.0.0/24"])
        updated = self.core.update_subnetpool(
            self.project_a, pool.id, {"prefixes": ["10.0.0.0/24", "10.0.1.0/24", "192.168.0.0/24"]}
        )
        self.assertEqual(_networks("10.0.0.0/23", "192.168.0.0/24"), updated.prefixes)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_to_a_covering_prefix(self) -> None:
        pool = self._create_pool(["10.0.0.0/24"])
        updated = self.core.update_subnetpool(self.project_a, pool.id, {"prefixes": ["10.0.0.0/16"]})
        self.assertEqual(_networks("10.0.0.0/16"), updated.prefixes)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_removing_a_prefix_raises_bad_request(self) -> None:
        pool = self._create_pool(["10.0.0.0/24", "192.168.0.0/24"])
        self.assertBadRequest(
            "subnetpool",
            "prefixes",
            self.core.update_subnetpool,
            self.project_a,
            pool.id,
            {"prefixes": ["10.0.0.0/24"]},
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_shrinking_a_prefix_raises_bad_request(self) -> None:
        pool = self._create_pool(["10.0.0.0/24"])
        self.assertBadRequest(
            "subnetpool",
            "prefixes",
            self.core.update_subnetpool,
            self.project_a,
            pool.id,
            {"prefixes": ["10.0.0.0/25"]},
        )

    @requires(Capability.SUBNETPOOLS, Capability.IPV6)
    def test_subnetpool_update_prefixes_of_the_other_ip_version_raises_bad_request(self) -> None:
        pool = self._create_pool(["10.0.0.0/24"])
        self.assertBadRequest(
            "subnetpool",
            "prefixes",
            self.core.update_subnetpool,
            self.project_a,
            pool.id,
            {"prefixes": ["10.0.0.0/24", "fd00::/48"]},
        )
        self.assertBadRequest(
            "subnetpool",
            "prefixes",
            self.core.update_subnetpool,
            self.project_a,
            pool.id,
            {"prefixes": ["fd00::/48"]},
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_changes_default_prefixlen(self) -> None:
        pool = self._create_pool(min_prefixlen=16, default_prefixlen=24)
        self.assertEqual(
            26, self.core.update_subnetpool(self.project_a, pool.id, {"default_prefixlen": 26}).default_prefixlen
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_default_prefixlen_outside_bounds_raises_bad_request(self) -> None:
        pool = self._create_pool(min_prefixlen=16, max_prefixlen=28, default_prefixlen=24)
        for value in (8, 30):
            self.assertBadRequest(
                "subnetpool",
                "default_prefixlen",
                self.core.update_subnetpool,
                self.project_a,
                pool.id,
                {"default_prefixlen": value},
            )

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_bounds_past_default_prefixlen_are_refused_not_moving_the_default(self) -> None:
        pool = self._create_pool(min_prefixlen=16, max_prefixlen=28, default_prefixlen=24)
        for changes in ({"min_prefixlen": 25}, {"max_prefixlen": 20}, {"min_prefixlen": 25, "max_prefixlen": 28}):
            error = self.assertRefused(BadRequest, self.core.update_subnetpool, self.project_a, pool.id, changes)
            self.assertIn(
                error.attribute,
                {"min_prefixlen", "max_prefixlen", "default_prefixlen"},
                f"update_subnetpool({changes}) raised BadRequest naming {error.attribute}",
            )
        self.assertEqual(pool, self.core.get_subnetpool(self.project_a, pool.id))
        moved = self.core.update_subnetpool(self.project_a, pool.id, {"min_prefixlen": 25, "default_prefixlen": 26})
        self.assertEqual((25, 26), (moved.min_prefixlen, moved.default_prefixlen))

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_missing_raises_not_found(self) -> None:
        self.assertNotFound(
            "subnetpool", MISSING_ID, self.core.update_subnetpool, self.project_a, MISSING_ID, {"name": "x"}
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_rejects_unknown_attribute(self) -> None:
        pool = self._create_pool()
        self.assertBadRequest(
            "subnetpool", "shared", self.core.update_subnetpool, self.admin, pool.id, {"shared": True}
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_rejects_malformed_prefixes(self) -> None:
        pool = self._create_pool(["10.0.0.0/24"])
        self.assertBadRequest(
            "subnetpool",
            "prefixes",
            self.core.update_subnetpool,
            self.project_a,
            pool.id,
            {"prefixes": ["10.0.0.0/24", "nope"]},
        )

    # Delete

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_delete_removes_it(self) -> None:
        pool = self._create_pool()
        self.core.delete_subnetpool(self.project_a, pool.id)
        self.assertNotFound("subnetpool", pool.id, self.core.get_subnetpool, self.project_a, pool.id)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_delete_missing_raises_not_found(self) -> None:
        self.assertNotFound("subnetpool", MISSING_ID, self.core.delete_subnetpool, self.project_a, MISSING_ID)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_delete_in_use_raises_in_use_naming_the_subnets(self) -> None:
        pool = self._create_pool(default_prefixlen=24)
        network = self.core.create_network(self.project_a, {})
        subnet = self.core.create_subnet(self.project_a, {"network_id": network.id, "subnetpool_id": pool.id})
        error = self.assertRefused(InUse, self.core.delete_subnetpool, self.project_a, pool.id)
        self.assertEqual(("subnetpool", pool.id), (error.resource, error.resource_id))
        self.assertEqual((subnet.id,), error.users)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_delete_after_its_subnets_are_gone(self) -> None:
        pool = self._create_pool(default_prefixlen=24)
        network = self.core.create_network(self.project_a, {})
        subnet = self.core.create_subnet(self.project_a, {"network_id": network.id, "subnetpool_id": pool.id})
        self.core.delete_subnet(self.project_a, subnet.id)
        self.core.delete_subnetpool(self.project_a, pool.id)
        self.assertEqual([], self.core.get_subnetpools(self.project_a))

    # The default pool per IP version

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_default(self) -> None:
        pool = self.core.create_subnetpool(self.admin, {"prefixes": ["10.0.0.0/16"], "is_default": True})
        self.assertTrue(pool.is_default)
        self.assertEqual(pool, self.core.get_default_subnetpool(self.admin, 4))

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_second_default_raises_default_exists(self) -> None:
        first = self.core.create_subnetpool(self.admin, {"prefixes": ["10.0.0.0/16"], "is_default": True})
        error = self.assertRefused(
            DefaultSubnetPoolExists,
            self.core.create_subnetpool,
            self.admin,
            {"prefixes": ["172.16.0.0/12"], "is_default": True},
        )
        self.assertEqual((first.id, 4), (error.existing_id, error.ip_version))
        self.assertIn(first.id, str(error))

    @requires(Capability.SUBNETPOOLS, Capability.IPV6)
    def test_subnetpool_create_one_default_per_ip_version(self) -> None:
        pools = make_default_pools(self.core, self.admin)
        self.assertEqual(pools.ipv4, self.core.get_default_subnetpool(self.admin, 4))
        self.assertEqual(pools.ipv6, self.core.get_default_subnetpool(self.admin, 6))

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_second_default_raises_default_exists(self) -> None:
        first = self.core.create_subnetpool(self.admin, {"prefixes": ["10.0.0.0/16"], "is_default": True})
        second = self.core.create_subnetpool(self.admin, {"prefixes": ["172.16.0.0/12"]})
        error = self.assertRefused(
            DefaultSubnetPoolExists, self.core.update_subnetpool, self.admin, second.id, {"is_default": True}
        )
        self.assertEqual(first.id, error.existing_id)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_makes_a_pool_the_default(self) -> None:
        pool = self.core.create_subnetpool(self.admin, {"prefixes": ["10.0.0.0/16"]})
        updated = self.core.update_subnetpool(self.admin, pool.id, {"is_default": True})
        self.assertTrue(updated.is_default)
        self.assertEqual(updated, self.core.get_default_subnetpool(self.admin, 4))

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_update_unsetting_the_default_lets_another_become_default(self) -> None:
        first = self.core.create_subnetpool(self.admin, {"prefixes": ["10.0.0.0/16"], "is_default": True})
        self.core.update_subnetpool(self.admin, first.id, {"is_default": False})
        self.assertIsNone(self.core.get_default_subnetpool(self.admin, 4))
        second = self.core.create_subnetpool(self.admin, {"prefixes": ["172.16.0.0/12"], "is_default": True})
        self.assertEqual(second, self.core.get_default_subnetpool(self.admin, 4))

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_delete_of_the_default_lets_another_become_default(self) -> None:
        first = self.core.create_subnetpool(self.admin, {"prefixes": ["10.0.0.0/16"], "is_default": True})
        self.core.delete_subnetpool(self.admin, first.id)
        second = self.core.create_subnetpool(self.admin, {"prefixes": ["172.16.0.0/12"], "is_default": True})
        self.assertTrue(second.is_default)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_get_default_without_one_returns_none(self) -> None:
        self.core.create_subnetpool(self.admin, {"prefixes": ["10.0.0.0/16"]})
        self.assertIsNone(self.core.get_default_subnetpool(self.admin, 4))
        self.assertIsNone(self.core.get_default_subnetpool(self.admin, 6))

    # Malformed input

    def _assert_pool_rejected(self, attribute: str, body: dict[str, Any]) -> BadRequest:
        return self.assertBadRequest("subnetpool", attribute, self.core.create_subnetpool, self.project_a, body)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_prefixes_that_are_not_a_list(self) -> None:
        for value in ("10.0.0.0/8", 10, None):
            self._assert_pool_rejected("prefixes", {"prefixes": value})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_prefix_that_is_not_a_cidr(self) -> None:
        for value in ("nope", "10.0.0.0", "10.0.0.0/abc", 42):
            self._assert_pool_rejected("prefixes", {"prefixes": ["192.168.0.0/24", value]})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_prefix_with_host_bits(self) -> None:
        self._assert_pool_rejected("prefixes", {"prefixes": ["10.0.0.1/8"]})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_prefix_length_out_of_range(self) -> None:
        for value in ("10.0.0.0/33", "fd00::/129"):
            self._assert_pool_rejected("prefixes", {"prefixes": [value]})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_mixed_ip_versions(self) -> None:
        self._assert_pool_rejected("prefixes", {"prefixes": ["10.0.0.0/8", "fd00::/48"]})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_empty_prefixes(self) -> None:
        self._assert_pool_rejected("prefixes", {"prefixes": []})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_missing_prefixes(self) -> None:
        self._assert_pool_rejected("prefixes", {"name": "pool"})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_prefix_length_bound_beyond_the_ip_version(self) -> None:
        for attribute in ("default_prefixlen", "min_prefixlen", "max_prefixlen"):
            self._assert_pool_rejected(attribute, {"prefixes": ["10.0.0.0/8"], attribute: 33})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_prefix_length_that_is_not_an_integer(self) -> None:
        for attribute in ("default_prefixlen", "min_prefixlen", "max_prefixlen"):
            self._assert_pool_rejected(attribute, {"prefixes": ["10.0.0.0/8"], attribute: "long"})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_min_prefixlen_above_max_prefixlen(self) -> None:
        self._assert_pool_rejected(
            "min_prefixlen", {"prefixes": ["10.0.0.0/8"], "min_prefixlen": 28, "max_prefixlen": 24}
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_default_prefixlen_outside_the_bounds(self) -> None:
        for value in (12, 30):
            self._assert_pool_rejected(
                "default_prefixlen",
                {"prefixes": ["10.0.0.0/8"], "min_prefixlen": 16, "max_prefixlen": 28, "default_prefixlen": value},
            )

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_negative_quota(self) -> None:
        self._assert_pool_rejected("default_quota", {"prefixes": ["10.0.0.0/8"], "default_quota": -1})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_name_too_long(self) -> None:
        self._assert_pool_rejected("name", {"prefixes": ["10.0.0.0/8"], "name": "n" * 256})

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_create_rejects_unknown_attribute(self) -> None:
        self._assert_pool_rejected("address_scope_id", {"prefixes": ["10.0.0.0/8"], "address_scope_id": MISSING_ID})
