"""Conformance tests: subnets carved from subnet pools (prefix choice, bounds, exhaustion, quota)."""

from __future__ import annotations

from typing import Any

import netaddr

from naas.capabilities import Capability
from naas.context import RequestContext
from naas.exceptions import BadRequest, Conflict, NotFound, SubnetPoolExhausted, SubnetPoolQuotaExceeded
from naas.resources import Subnet, SubnetPool
from naas.testing._base import MALFORMED_ID, MISSING_ID, requires
from naas.testing._core_base import CoreSuiteBase
from naas.testing.fixtures import PROJECT_A_ID, PROJECT_B_ID, make_default_pools

__all__ = ["SubnetFromPoolTests"]


class SubnetFromPoolTests(CoreSuiteBase):
    def _carving_pool(self, prefixes: list[str], **attributes: Any) -> SubnetPool:
        return self.core.create_subnetpool(self.project_a, {"prefixes": prefixes, **attributes})

    def _carve(self, pool: SubnetPool, **attributes: Any) -> Subnet:
        network = self.core.create_network(self.project_a, {})
        return self.core.create_subnet(
            self.project_a, {"network_id": network.id, "subnetpool_id": pool.id, **attributes}
        )

    def _cidrs(self, subnets: list[Subnet]) -> list[netaddr.IPNetwork]:
        return [subnet.cidr for subnet in subnets]

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_gets_default_prefixlen_lowest_first(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], default_prefixlen=24)
        subnets = [self._carve(pool) for _ in range(3)]
        self.assertEqual(
            [netaddr.IPNetwork(cidr) for cidr in ("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24")], self._cidrs(subnets)
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_records_the_pool(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], default_prefixlen=24)
        subnet = self._carve(pool)
        self.assertEqual((pool.id, 4), (subnet.subnetpool_id, subnet.ip_version))

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_gets_gateway_and_pools_like_an_explicit_cidr(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], default_prefixlen=24)
        subnet = self._carve(pool)
        self.assertEqual(subnet.cidr[1], subnet.gateway_ip)
        pools = netaddr.IPSet()
        for address_range in subnet.allocation_pools:
            pools.update(netaddr.IPSet(address_range.cidrs()))
        self.assertEqual(netaddr.IPSet(netaddr.IPRange(subnet.cidr[2], subnet.cidr[-2]).cidrs()), pools)

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_honours_prefixlen(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], default_prefixlen=24)
        self.assertEqual(netaddr.IPNetwork("10.0.0.0/26"), self._carve(pool, prefixlen=26).cidr)

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_takes_the_smallest_free_block_that_fits(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16", "192.168.0.0/24"], default_prefixlen=24)
        self.assertEqual(netaddr.IPNetwork("192.168.0.0/24"), self._carve(pool).cidr)
        self.assertEqual(netaddr.IPNetwork("10.0.0.0/24"), self._carve(pool).cidr)

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_fills_the_gaps_left_by_larger_allocations(self) -> None:
        pool = self._carving_pool(["10.0.0.0/24"], min_prefixlen=24, default_prefixlen=26)
        first = self._carve(pool, prefixlen=26)
        half = self._carve(pool, prefixlen=25)
        gap = self._carve(pool, prefixlen=26)
        self.assertEqual(
            [netaddr.IPNetwork(cidr) for cidr in ("10.0.0.0/26", "10.0.0.128/25", "10.0.0.64/26")],
            self._cidrs([first, half, gap]),
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_prefers_a_small_freed_block_to_a_lower_larger_one(self) -> None:
        pool = self._carving_pool(["10.0.0.0/22"], min_prefixlen=22, default_prefixlen=24)
        subnets = [self._carve(pool) for _ in range(4)]
        for index in (0, 1, 3):
            self.core.delete_subnet(self.project_a, subnets[index].id)
        # Free now: 10.0.0.0/23 and 10.0.3.0/24; the /24 fits exactly.
        self.assertEqual(netaddr.IPNetwork("10.0.3.0/24"), self._carve(pool).cidr)

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_with_a_specific_cidr(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], default_prefixlen=24)
        specific = self._carve(pool, cidr="10.0.0.0/24")
        following = self._carve(pool)
        self.assertEqual(netaddr.IPNetwork("10.0.0.0/24"), specific.cidr)
        self.assertEqual(pool.id, specific.subnetpool_id)
        self.assertEqual(netaddr.IPNetwork("10.0.1.0/24"), following.cidr)

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_with_a_specific_cidr_that_is_taken_raises_conflict(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], default_prefixlen=24)
        self._carve(pool, cidr="10.0.5.0/24")
        network = self.core.create_network(self.project_a, {})
        for cidr in ("10.0.5.0/24", "10.0.5.128/25", "10.0.4.0/23"):
            self.assertRefused(
                Conflict,
                self.core.create_subnet,
                self.project_a,
                {"network_id": network.id, "subnetpool_id": pool.id, "cidr": cidr},
            )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_with_a_cidr_outside_the_pool_is_refused(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], default_prefixlen=24)
        network = self.core.create_network(self.project_a, {})
        self.assertRefused(
            (BadRequest, Conflict),
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": pool.id, "cidr": "172.16.0.0/24"},
        )

    @requires(Capability.SUBNETPOOLS, Capability.IPV6)
    def test_subnet_from_ipv6_pool(self) -> None:
        pool = self._carving_pool(["fd00::/48"], default_prefixlen=64)
        subnets = [self._carve(pool) for _ in range(2)]
        self.assertEqual([netaddr.IPNetwork("fd00::/64"), netaddr.IPNetwork("fd00:0:0:1::/64")], self._cidrs(subnets))
        self.assertEqual(6, subnets[0].ip_version)
        self.assertEqual(netaddr.IPAddress("fd00::1"), subnets[0].gateway_ip)

    @requires(Capability.SUBNETPOOLS, Capability.IPV6)
    def test_subnet_from_the_default_pool_of_each_ip_version(self) -> None:
        pools = make_default_pools(self.core, self.admin)
        network = self.core.create_network(self.project_a, {})
        for version, pool in ((4, pools.ipv4), (6, pools.ipv6)):
            assert pool is not None
            subnet = self.core.create_subnet(
                self.project_a, {"network_id": network.id, "use_default_subnetpool": True, "ip_version": version}
            )
            self.assertEqual(
                (pool.id, version, pool.default_prefixlen),
                (subnet.subnetpool_id, subnet.ip_version, subnet.cidr.prefixlen),
            )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_the_default_pool_without_one_is_refused(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertRefused(
            (BadRequest, NotFound),
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "use_default_subnetpool": True, "ip_version": 4},
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_the_default_pool_needs_ip_version(self) -> None:
        make_default_pools(self.core, self.admin, ipv6_prefixes=None)
        network = self.core.create_network(self.project_a, {})
        self.assertBadRequest(
            "subnet",
            "ip_version",
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "use_default_subnetpool": True},
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_with_pool_id_and_use_default_subnetpool_raises_bad_request(self) -> None:
        pools = make_default_pools(self.core, self.admin, ipv6_prefixes=None)
        assert pools.ipv4 is not None
        network = self.core.create_network(self.project_a, {})
        self.assertBadRequest(
            "subnet",
            "use_default_subnetpool",
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": pools.ipv4.id, "use_default_subnetpool": True},
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_missing_pool_raises_not_found(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertNotFound(
            "subnetpool",
            MISSING_ID,
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": MISSING_ID},
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_malformed_pool_id_raises_bad_request(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertBadRequest(
            "subnet",
            "subnetpool_id",
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": MALFORMED_ID},
        )

    @requires(Capability.SUBNETPOOLS, Capability.IPV6)
    def test_subnet_from_pool_with_the_other_ip_version_raises_bad_request(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], default_prefixlen=24)
        network = self.core.create_network(self.project_a, {})
        self.assertBadRequest(
            "subnet",
            "ip_version",
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": pool.id, "ip_version": 6},
        )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_refused_after_choosing_a_prefix_takes_none(self) -> None:
        pool = self._carving_pool(["10.0.0.0/24"], min_prefixlen=24, default_prefixlen=24)
        network = self.core.create_network(self.project_a, {})
        self.assertBadRequest(
            "subnet",
            "allocation_pools",
            self.core.create_subnet,
            self.project_a,
            {
                "network_id": network.id,
                "subnetpool_id": pool.id,
                "allocation_pools": [{"start": "192.0.2.10", "end": "192.0.2.20"}],
            },
        )
        self.assertEqual(netaddr.IPNetwork("10.0.0.0/24"), self._carve(pool).cidr)

    # Bounds

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_longer_than_max_prefixlen_raises_bad_request(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], min_prefixlen=20, max_prefixlen=28, default_prefixlen=24)
        network = self.core.create_network(self.project_a, {})
        for prefixlen in (29, 32, 33):
            self.assertBadRequest(
                "subnet",
                "prefixlen",
                self.core.create_subnet,
                self.project_a,
                {"network_id": network.id, "subnetpool_id": pool.id, "prefixlen": prefixlen},
            )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_shorter_than_min_prefixlen_raises_bad_request(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], min_prefixlen=20, max_prefixlen=28, default_prefixlen=24)
        network = self.core.create_network(self.project_a, {})
        for prefixlen in (19, 8):
            self.assertBadRequest(
                "subnet",
                "prefixlen",
                self.core.create_subnet,
                self.project_a,
                {"network_id": network.id, "subnetpool_id": pool.id, "prefixlen": prefixlen},
            )

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_at_the_bounds(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], min_prefixlen=20, max_prefixlen=28, default_prefixlen=24)
        self.assertEqual(20, self._carve(pool, prefixlen=20).cidr.prefixlen)
        self.assertEqual(28, self._carve(pool, prefixlen=28).cidr.prefixlen)

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_rejects_prefixlen_that_is_not_an_integer(self) -> None:
        pool = self._carving_pool(["10.0.0.0/16"], default_prefixlen=24)
        network = self.core.create_network(self.project_a, {})
        self.assertBadRequest(
            "subnet",
            "prefixlen",
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": pool.id, "prefixlen": "long"},
        )

    # Exhaustion and returning prefixes

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_exhausted_pool_raises_pool_exhausted_naming_pool_and_prefixlen(self) -> None:
        pool = self._carving_pool(["10.0.0.0/24"], min_prefixlen=24, default_prefixlen=26)
        for _ in range(4):
            self._carve(pool)
        network = self.core.create_network(self.project_a, {})
        error = self.assertRefused(
            SubnetPoolExhausted,
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": pool.id},
        )
        self.assertEqual((pool.id, 26), (error.resource_id, error.prefixlen))
        self.assertIn(pool.id, str(error))
        self.assertIn("/26", str(error))

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_from_pool_without_a_block_that_large_raises_pool_exhausted(self) -> None:
        pool = self._carving_pool(["10.0.0.0/24"], min_prefixlen=24, default_prefixlen=26)
        self._carve(pool)
        network = self.core.create_network(self.project_a, {})
        error = self.assertRefused(
            SubnetPoolExhausted,
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": pool.id, "prefixlen": 24},
        )
        self.assertEqual(24, error.prefixlen)
        self.assertEqual(26, self._carve(pool).cidr.prefixlen)

    @requires(Capability.SUBNETPOOLS)
    def test_subnet_delete_returns_its_prefix_to_the_pool(self) -> None:
        pool = self._carving_pool(["10.0.0.0/24"], min_prefixlen=24, default_prefixlen=24)
        subnet = self._carve(pool)
        self.core.delete_subnet(self.project_a, subnet.id)
        self.assertEqual(subnet.cidr, self._carve(pool).cidr)

    @requires(Capability.SUBNETPOOLS)
    def test_network_delete_returns_its_subnets_prefixes_to_the_pool(self) -> None:
        pool = self._carving_pool(["10.0.0.0/24"], min_prefixlen=24, default_prefixlen=24)
        subnet = self._carve(pool)
        self.core.delete_network(self.project_a, subnet.network_id)
        self.assertEqual(subnet.cidr, self._carve(pool).cidr)

    @requires(Capability.SUBNETPOOLS)
    def test_subnetpool_grown_after_exhaustion_has_room_again(self) -> None:
        pool = self._carving_pool(["10.0.0.0/24"], min_prefixlen=24, default_prefixlen=24)
        self._carve(pool)
        self.core.update_subnetpool(self.project_a, pool.id, {"prefixes": ["10.0.0.0/24", "10.0.1.0/24"]})
        self.assertEqual(netaddr.IPNetwork("10.0.1.0/24"), self._carve(pool).cidr)

    # Quota

    def _quota_pool(self) -> SubnetPool:
        # 512 /32s: two /24s per project.
        return self.core.create_subnetpool(
            self.admin, {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 24, "shared": True, "default_quota": 512}
        )

    def _carve_as(self, context: RequestContext, pool: SubnetPool) -> Subnet:
        network = self.core.create_network(context, {})
        return self.core.create_subnet(context, {"network_id": network.id, "subnetpool_id": pool.id})

    @requires(Capability.SUBNETPOOLS, Capability.SUBNETPOOL_QUOTAS)
    def test_subnet_from_pool_beyond_quota_raises_quota_exceeded(self) -> None:
        pool = self._quota_pool()
        for _ in range(2):
            self._carve_as(self.project_a, pool)
        network = self.core.create_network(self.project_a, {})
        error = self.assertRefused(
            SubnetPoolQuotaExceeded,
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": pool.id},
        )
        self.assertEqual((pool.id, PROJECT_A_ID, 512), (error.resource_id, error.project_id, error.quota))

    @requires(Capability.SUBNETPOOLS, Capability.SUBNETPOOL_QUOTAS)
    def test_subnetpool_quota_counts_the_requesting_project_only(self) -> None:
        pool = self._quota_pool()
        for _ in range(2):
            self._carve_as(self.project_a, pool)
        subnets = [self._carve_as(self.project_b, pool) for _ in range(2)]
        self.assertEqual([PROJECT_B_ID, PROJECT_B_ID], [subnet.project_id for subnet in subnets])

    @requires(Capability.SUBNETPOOLS, Capability.SUBNETPOOL_QUOTAS)
    def test_subnet_refused_by_quota_takes_no_prefix(self) -> None:
        pool = self._quota_pool()
        for _ in range(2):
            self._carve_as(self.project_a, pool)
        network = self.core.create_network(self.project_a, {})
        self.assertRefused(
            SubnetPoolQuotaExceeded,
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": pool.id},
        )
        self.assertEqual(netaddr.IPNetwork("10.0.2.0/24"), self._carve_as(self.project_b, pool).cidr)

    @requires(Capability.SUBNETPOOLS, Capability.SUBNETPOOL_QUOTAS)
    def test_subnetpool_quota_is_freed_by_deleting_a_subnet(self) -> None:
        pool = self._quota_pool()
        first = self._carve_as(self.project_a, pool)
        self._carve_as(self.project_a, pool)
        self.core.delete_subnet(self.project_a, first.id)
        self.assertEqual(24, self._carve_as(self.project_a, pool).cidr.prefixlen)

    @requires(Capability.SUBNETPOOLS, Capability.SUBNETPOOL_QUOTAS)
    def test_subnetpool_quota_refuses_one_subnet_larger_than_the_quota(self) -> None:
        pool = self._quota_pool()
        network = self.core.create_network(self.project_a, {})
        self.assertRefused(
            SubnetPoolQuotaExceeded,
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "subnetpool_id": pool.id, "prefixlen": 22},
        )
