"""Tests of naas.ipam.prefixes: pool prefixes, bounds, quota units and the FreePrefixes allocator."""

from __future__ import annotations

import random
from typing import Any

import netaddr
import pytest

from naas import exceptions
from naas.ipam import (
    FreePrefixes,
    check_cidr_in_pool,
    check_default_prefixlen_fits,
    check_prefixlen_in_bounds,
    check_special_purpose,
    compact_prefixes,
    prefix_quota_units,
    resolve_prefix_bounds,
)


def nets(*cidrs: str) -> list[netaddr.IPNetwork]:
    return [netaddr.IPNetwork(cidr) for cidr in cidrs]


def canonical_free(prefixes: list[str], allocated: list[netaddr.IPNetwork]) -> list[netaddr.IPNetwork]:
    """Neutron's available space: IPSet(pool) - IPSet(allocated), as CIDRs."""
    return list((netaddr.IPSet(prefixes) - netaddr.IPSet(allocated)).iter_cidrs())


def neutron_choice(free: list[netaddr.IPNetwork], prefixlen: int) -> netaddr.IPNetwork | None:
    """Neutron's SubnetAllocator: smallest free blocks first, lowest address among equals, first sub-block."""
    for block in sorted(free, key=lambda cidr: (-cidr.prefixlen, cidr.first)):
        if block.prefixlen <= prefixlen:
            return netaddr.IPNetwork((block.first, prefixlen), version=block.version)
    return None


class TestCompactPrefixes:
    def test_merges_overlapping_and_adjacent_prefixes_and_sorts_them(self) -> None:
        prefixes = ["10.1.0.0/16", "10.0.128.0/17", "10.0.0.0/17", "10.0.5.0/24", "192.168.0.0/24"]
        result = compact_prefixes(prefixes)
        assert result == nets("10.0.0.0/15", "192.168.0.0/24")

    def test_clears_host_bits(self) -> None:
        assert compact_prefixes(["10.9.8.7/8", "10.200.0.1/16"]) == nets("10.0.0.0/8")
        assert compact_prefixes(["2001:db8::1/32"]) == nets("2001:db8::/32")

    def test_accepts_networks_and_ipv6(self) -> None:
        result = compact_prefixes([netaddr.IPNetwork("2001:db8:1::/48"), "2001:db8::/48"])
        assert result == nets("2001:db8::/47")

    def test_empty_list_is_a_bad_request(self) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            compact_prefixes([])
        assert (caught.value.resource, caught.value.attribute) == ("subnetpool", "prefixes")
        assert "at least one prefix" in caught.value.reason

    def test_mixed_ip_versions_are_a_bad_request(self) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            compact_prefixes(["10.0.0.0/8", "2001:db8::/32"])
        assert caught.value.attribute == "prefixes"
        assert "cannot be mixed" in caught.value.reason
        assert "2001:db8::/32" in caught.value.reason

    @pytest.mark.parametrize(
        "bad",
        ["10.0.0.0/33", "not-a-cidr", "10.0.0.1", "10/8", " 10.0.0.0/8", "2001:db8::/129", "", 42, None],
    )
    def test_malformed_prefix_is_a_bad_request_naming_it(self, bad: Any) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            compact_prefixes(["192.168.0.0/16", bad])
        assert (caught.value.resource, caught.value.attribute) == ("subnetpool", "prefixes")
        assert repr(bad) in caught.value.reason

    def test_a_lone_string_is_refused_rather_than_iterated(self) -> None:
        with pytest.raises(exceptions.BadRequest, match="expected a list"):
            compact_prefixes("10.0.0.0/8")


class TestResolvePrefixBounds:
    def test_defaults(self) -> None:
        assert resolve_prefix_bounds(4) == (8, 32, 8)
        assert resolve_prefix_bounds(6) == (64, 128, 64)

    def test_default_prefixlen_follows_an_explicit_min(self) -> None:
        assert resolve_prefix_bounds(4, min_prefixlen=16) == (16, 32, 16)
        assert resolve_prefix_bounds(4, min_prefixlen=16, max_prefixlen=28, default_prefixlen=24) == (
            16,
            28,
            24,
        )

    def test_extremes_are_allowed(self) -> None:
        assert resolve_prefix_bounds(4, 0, 0, 0) == (0, 0, 0)
        assert resolve_prefix_bounds(4, min_prefixlen=32) == (32, 32, 32)
        assert resolve_prefix_bounds(6, 0, 128, 128) == (0, 128, 128)

    @pytest.mark.parametrize(
        ("ip_version", "bounds", "attribute", "fragments"),
        [
            (4, {"min_prefixlen": -1}, "min_prefixlen", ["-1", "0 to 32"]),
            (4, {"max_prefixlen": 33}, "max_prefixlen", ["33", "0 to 32"]),
            (6, {"default_prefixlen": 129}, "default_prefixlen", ["129", "0 to 128"]),
            (4, {"min_prefixlen": "8"}, "min_prefixlen", ["'8'"]),
            (4, {"max_prefixlen": True}, "max_prefixlen", ["True"]),
            (
                4,
                {"min_prefixlen": 24, "max_prefixlen": 16},
                "min_prefixlen",
                ["min_prefixlen=24", "max_prefixlen=16"],
            ),
            (4, {"max_prefixlen": 4}, "max_prefixlen", ["min_prefixlen=8", "max_prefixlen=4"]),
            (6, {"max_prefixlen": 48}, "max_prefixlen", ["min_prefixlen=64", "max_prefixlen=48"]),
            (
                4,
                {"min_prefixlen": 21, "default_prefixlen": 20},
                "default_prefixlen",
                ["default_prefixlen=20", "21"],
            ),
            (
                4,
                {"max_prefixlen": 24, "default_prefixlen": 25},
                "default_prefixlen",
                ["default_prefixlen=25", "24"],
            ),
        ],
    )
    def test_illegal_bounds_name_the_attribute_and_the_numbers(
        self, ip_version: int, bounds: dict[str, Any], attribute: str, fragments: list[str]
    ) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            resolve_prefix_bounds(ip_version, **bounds)
        assert (caught.value.resource, caught.value.attribute) == ("subnetpool", attribute)
        for fragment in fragments:
            assert fragment in caught.value.reason

    @pytest.mark.parametrize("ip_version", [5, 0, True, "4"])
    def test_unknown_ip_version(self, ip_version: Any) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            resolve_prefix_bounds(ip_version)
        assert caught.value.attribute == "ip_version"


class TestCheckPrefixlenInBounds:
    def test_inside_the_bounds_passes(self) -> None:
        for prefixlen in (16, 20, 24):
            check_prefixlen_in_bounds(prefixlen, 16, 24)

    @pytest.mark.parametrize("prefixlen", [15, 25])
    def test_outside_the_bounds_is_a_bad_request(self, prefixlen: int) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            check_prefixlen_in_bounds(prefixlen, 16, 24)
        assert (caught.value.resource, caught.value.attribute) == ("subnet", "prefixlen")
        assert f"/{prefixlen}" in caught.value.reason and "min_prefixlen=16" in caught.value.reason

    def test_not_an_int(self) -> None:
        with pytest.raises(exceptions.BadRequest, match="'24' is not a prefix length"):
            check_prefixlen_in_bounds("24", 16, 24)  # type: ignore[arg-type]


class TestPrefixQuotaUnits:
    @pytest.mark.parametrize(
        ("ip_version", "prefixlen", "units"),
        [(4, 24, 256), (4, 32, 1), (4, 8, 2**24), (6, 64, 1), (6, 48, 2**16), (6, 0, 2**64), (6, 128, 1)],
    )
    def test_units(self, ip_version: int, prefixlen: int, units: int) -> None:
        assert prefix_quota_units(ip_version, prefixlen) == units

    def test_bad_prefixlen(self) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            prefix_quota_units(4, 33)
        assert caught.value.attribute == "prefixlen"


class TestAllocate:
    def test_new_pool_is_all_free(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/9", "10.128.0.0/9", "172.16.0.0/12"])
        assert pool.prefixes == nets("10.0.0.0/8", "172.16.0.0/12")
        assert pool.free_blocks == nets("10.0.0.0/8", "172.16.0.0/12")
        assert pool.ip_version == 4

    def test_first_allocation_takes_the_lowest_block_and_leaves_its_buddies_free(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/8"])
        assert pool.allocate(24) == netaddr.IPNetwork("10.0.0.0/24")
        assert pool.free_blocks == canonical_free(["10.0.0.0/8"], nets("10.0.0.0/24"))
        assert len(pool.free_blocks) == 16

    def test_next_block_is_the_buddy_of_an_allocated_one_not_a_fresh_block(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/8"], ["10.0.0.0/24"])
        assert pool.allocate(24) == netaddr.IPNetwork("10.0.1.0/24")
        assert pool.allocate(24) == netaddr.IPNetwork("10.0.2.0/24")

    def test_a_free_hole_is_used_before_a_bigger_block_is_split(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/16"], ["10.0.0.0/26", "10.0.0.128/25"])
        assert pool.allocate(26) == netaddr.IPNetwork("10.0.0.64/26")
        assert pool.allocate(26) == netaddr.IPNetwork("10.0.1.0/26")

    def test_the_smallest_fitting_block_wins_over_a_lower_address(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/16", "10.1.0.0/24"])
        assert pool.allocate(25) == netaddr.IPNetwork("10.1.0.0/25")

    def test_among_equal_blocks_the_lowest_address_wins(self) -> None:
        pool = FreePrefixes("pool-1", ["10.2.0.0/24", "10.1.0.0/24", "10.4.0.0/24"])
        assert [pool.allocate(24) for _ in range(3)] == nets("10.1.0.0/24", "10.2.0.0/24", "10.4.0.0/24")

    def test_ipv6(self) -> None:
        pool = FreePrefixes("pool-6", ["2001:db8::/48"])
        assert pool.allocate(64) == netaddr.IPNetwork("2001:db8::/64")
        assert pool.allocate(64) == netaddr.IPNetwork("2001:db8:0:1::/64")
        assert pool.allocate(56) == netaddr.IPNetwork("2001:db8:0:100::/56")

    def test_exhaustion_names_the_pool_and_the_prefix_length(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/24"])
        pool.allocate(25)
        pool.allocate(25)
        with pytest.raises(exceptions.SubnetPoolExhausted) as caught:
            pool.allocate(25)
        assert isinstance(caught.value, exceptions.Conflict)
        assert (caught.value.resource_id, caught.value.prefixlen) == ("pool-1", 25)
        assert str(caught.value) == "Subnet pool pool-1 has no free prefix of length /25."

    def test_a_prefix_larger_than_any_free_block_is_exhaustion(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/24", "10.0.2.0/24"])
        assert not pool.can_allocate(23)
        with pytest.raises(exceptions.SubnetPoolExhausted, match="/23"):
            pool.allocate(23)
        assert pool.free_blocks == nets("10.0.0.0/24", "10.0.2.0/24")

    def test_can_allocate(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/24"], ["10.0.0.0/25"])
        assert pool.can_allocate(25) and pool.can_allocate(32)
        assert not pool.can_allocate(24)

    @pytest.mark.parametrize("prefixlen", [-1, 33, "24", True])
    def test_invalid_prefixlen_is_a_bad_request(self, prefixlen: Any) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/8"])
        for method in (pool.allocate, pool.can_allocate):
            with pytest.raises(exceptions.BadRequest) as caught:
                method(prefixlen)
            assert (caught.value.resource, caught.value.attribute) == ("subnet", "prefixlen")


class TestAllocateCidr:
    def test_a_free_cidr_is_taken(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/16"])
        assert pool.allocate_cidr("10.0.5.9/24") == netaddr.IPNetwork("10.0.5.0/24")
        assert pool.free_blocks == canonical_free(["10.0.0.0/16"], nets("10.0.5.0/24"))
        # The /24 buddy left free beside it is now the smallest block that fits.
        assert pool.allocate(24) == netaddr.IPNetwork("10.0.4.0/24")

    def test_the_whole_pool_can_be_taken(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/16"])
        pool.allocate_cidr(netaddr.IPNetwork("10.0.0.0/16"))
        assert pool.free_blocks == []

    @pytest.mark.parametrize(
        ("allocated", "requested"),
        [
            (["10.0.1.0/24"], "10.0.0.0/23"),
            (["10.0.1.0/24"], "10.0.1.0/24"),
            (["10.0.1.0/24"], "10.0.1.128/25"),
            ([], "10.1.0.0/24"),
            ([], "10.0.0.0/15"),
        ],
        ids=["partly-taken", "taken", "inside-taken", "outside-pool", "larger-than-pool"],
    )
    def test_an_unavailable_cidr_is_a_conflict_naming_pool_and_prefix(
        self, allocated: list[str], requested: str
    ) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/16"], allocated)
        before = pool.to_blocks()
        with pytest.raises(exceptions.Conflict) as caught:
            pool.allocate_cidr(requested)
        assert (caught.value.resource, caught.value.resource_id) == ("subnetpool", "pool-1")
        assert str(caught.value) == f"Prefix {requested} is not available in subnet pool pool-1."
        assert pool.to_blocks() == before

    @pytest.mark.parametrize("cidr", ["2001:db8::/64", "10.0.0.300/24", "10.0.0.0"])
    def test_a_bad_cidr_is_a_bad_request(self, cidr: str) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/16"])
        with pytest.raises(exceptions.BadRequest) as caught:
            pool.allocate_cidr(cidr)
        assert (caught.value.resource, caught.value.attribute) == ("subnet", "cidr")


class TestRelease:
    def test_release_merges_back_to_the_original_prefix(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/8"])
        taken = [pool.allocate(24), pool.allocate(26), pool.allocate(20), pool.allocate_cidr("10.200.0.0/13")]
        for cidr in reversed(taken[1:]):
            pool.release(cidr)
            assert pool.free_blocks == canonical_free(["10.0.0.0/8"], taken[: taken.index(cidr)])
        pool.release(str(taken[0]))
        assert pool.free_blocks == nets("10.0.0.0/8")
        assert pool.to_blocks() == [(int(netaddr.IPAddress("10.0.0.0")), 8)]

    def test_released_space_is_reused_lowest_first(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/16"])
        first, second, _ = (pool.allocate(24) for _ in range(3))
        pool.release(second)
        pool.release(first)
        assert pool.allocate(23) == netaddr.IPNetwork("10.0.0.0/23")

    @pytest.mark.parametrize(
        "cidr",
        ["10.0.2.0/24", "10.0.0.0/24", "10.0.0.0/22", "10.0.0.0/15", "10.9.0.0/24"],
        ids=["free", "double-release", "partly-free", "beyond-pool", "outside-pool"],
    )
    def test_releasing_what_is_not_allocated_is_a_conflict(self, cidr: str) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/16"], ["10.0.0.0/24", "10.0.1.0/24"])
        pool.release("10.0.0.0/24")
        before = pool.to_blocks()
        with pytest.raises(exceptions.Conflict) as caught:
            pool.release(cidr)
        assert caught.value.resource_id == "pool-1"
        assert str(caught.value) == f"Prefix {cidr} is not allocated from subnet pool pool-1."
        assert pool.to_blocks() == before


class TestConstruction:
    def test_built_from_allocations_equals_neutron_available_space(self) -> None:
        rng = random.Random(7)
        slash24s = rng.sample(range(65536), 2000)
        allocated = [netaddr.IPNetwork((0x0A000000 + (index << 8), 24)) for index in slash24s]
        pool = FreePrefixes("pool-1", ["10.0.0.0/8"], allocated)
        assert pool.free_blocks == canonical_free(["10.0.0.0/8"], allocated)

    @pytest.mark.parametrize(
        "allocated",
        [["10.0.0.0/24", "10.0.0.128/25"], ["10.0.0.0/24", "10.0.0.0/24"], ["10.1.0.0/24"]],
        ids=["overlapping", "duplicate", "outside"],
    )
    def test_inconsistent_allocations_are_a_conflict(self, allocated: list[str]) -> None:
        with pytest.raises(exceptions.Conflict, match="is not available in subnet pool pool-1"):
            FreePrefixes("pool-1", ["10.0.0.0/16"], allocated)

    def test_bad_prefixes_are_a_bad_request(self) -> None:
        with pytest.raises(exceptions.BadRequest):
            FreePrefixes("pool-1", [])


class TestAddPrefixes:
    def test_an_exhausted_pool_grows(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/24"], ["10.0.0.0/24"])
        pool.add_prefixes(["10.0.1.0/24"])
        assert pool.prefixes == nets("10.0.0.0/23")
        assert pool.allocate(24) == netaddr.IPNetwork("10.0.1.0/24")

    def test_overlapping_growth_frees_only_the_new_space_and_merges_it(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/24"], ["10.0.0.0/25"])
        pool.add_prefixes(["10.0.0.0/22", "10.0.0.0/24"])
        assert pool.prefixes == nets("10.0.0.0/22")
        assert pool.free_blocks == canonical_free(["10.0.0.0/22"], nets("10.0.0.0/25"))
        pool.release("10.0.0.0/25")
        assert pool.free_blocks == nets("10.0.0.0/22")

    def test_other_ip_version_is_a_bad_request(self) -> None:
        pool = FreePrefixes("pool-1", ["10.0.0.0/24"])
        with pytest.raises(exceptions.BadRequest, match="cannot be mixed"):
            pool.add_prefixes(["2001:db8::/64"])
        assert pool.prefixes == nets("10.0.0.0/24")


class TestPersistence:
    def test_round_trip_keeps_the_state(self) -> None:
        prefixes = ["10.0.0.0/16", "192.168.0.0/24"]
        pool = FreePrefixes("pool-1", prefixes, ["10.0.0.0/24", "10.0.64.0/18"])
        pool.allocate(26)
        blocks = pool.to_blocks()
        assert all(isinstance(network, int) and isinstance(prefixlen, int) for network, prefixlen in blocks)
        rebuilt = FreePrefixes.from_blocks("pool-1", prefixes, blocks)
        assert rebuilt.to_blocks() == blocks
        assert [rebuilt.allocate(28) for _ in range(5)] == [pool.allocate(28) for _ in range(5)]

    @pytest.mark.parametrize(
        "block", [(int(netaddr.IPAddress("10.0.0.1")), 24), (int(netaddr.IPAddress("10.1.0.0")), 24), (0, 33)]
    )
    def test_blocks_that_are_not_pool_prefixes_are_refused(self, block: tuple[int, int]) -> None:
        with pytest.raises(ValueError, match="is not a prefix of pool pool-1"):
            FreePrefixes.from_blocks("pool-1", ["10.0.0.0/16"], [block])


def test_randomized_interleaving_matches_a_brute_force_model() -> None:
    """Thousands of mixed operations, checked against a set of free /30 units and Neutron's choice."""
    rng = random.Random(20240611)
    prefixes = ["10.0.0.0/20", "10.0.32.0/22"]
    pool = FreePrefixes("pool-r", prefixes)
    unit_bits = 2  # a /30 holds 4 addresses

    def units(cidr: netaddr.IPNetwork) -> set[int]:
        return set(range(cidr.first >> unit_bits, (cidr.last >> unit_bits) + 1))

    free_units: set[int] = set().union(*(units(cidr) for cidr in nets(*prefixes)))
    allocated: list[netaddr.IPNetwork] = []

    def taken(cidr: netaddr.IPNetwork, expected: netaddr.IPNetwork) -> None:
        assert cidr == expected
        assert units(cidr) <= free_units, f"{cidr} handed out twice"
        free_units.difference_update(units(cidr))
        allocated.append(cidr)

    refusals = peak = 0
    for step in range(4000):
        # Alternate filling and draining phases so the pool is often nearly full and fragmented.
        allocate_bias = 0.75 if (step // 400) % 2 == 0 else 0.35
        roll = rng.random()
        if roll < allocate_bias * 0.7:
            prefixlen = rng.randint(21, 30)
            expected = neutron_choice(canonical_free(prefixes, allocated), prefixlen)
            if expected is None:
                with pytest.raises(exceptions.SubnetPoolExhausted):
                    pool.allocate(prefixlen)
                refusals += 1
            else:
                taken(pool.allocate(prefixlen), expected)
        elif roll < allocate_bias:
            cidr = netaddr.IPNetwork((0x0A000000 + rng.randrange(0, 1 << 14), rng.randint(22, 30))).cidr
            if units(cidr) <= free_units:
                taken(pool.allocate_cidr(cidr), cidr)
            else:
                with pytest.raises(exceptions.Conflict):
                    pool.allocate_cidr(cidr)
                refusals += 1
        elif allocated:
            cidr = allocated.pop(rng.randrange(len(allocated)))
            pool.release(cidr)
            free_units |= units(cidr)
        peak = max(peak, len(allocated))
        if step % 25 == 0:
            blocks = pool.free_blocks
            assert set().union(*(units(cidr) for cidr in blocks)) == free_units
            assert blocks == canonical_free(prefixes, allocated)
    assert refusals > 100 and peak > 50


class TestCheckSpecialPurpose:
    @pytest.mark.parametrize(
        ("cidr", "reason"),
        [
            ("0.0.0.0/0", "0.0.0.0/0 has prefix length 0: it would hold every address"),
            ("::/0", "::/0 has prefix length 0: it would hold every address"),
            ("127.0.0.0/24", "127.0.0.0/24 overlaps the loopback block 127.0.0.0/8, which is no subnet's"),
            ("64.0.0.0/2", "64.0.0.0/2 overlaps the loopback block 127.0.0.0/8, which is no subnet's"),
            ("224.0.0.0/4", "224.0.0.0/4 overlaps the multicast block 224.0.0.0/4, which is no subnet's"),
            ("0.0.0.0/8", "0.0.0.0/8 overlaps the 'this network' block 0.0.0.0/8, which is no subnet's"),
            (
                "255.255.255.0/24",
                "255.255.255.0/24 overlaps the limited broadcast address 255.255.255.255, which is no subnet's",
            ),
            ("::1/128", "::1/128 overlaps the loopback address ::1, which is no subnet's"),
            ("::/127", "::/127 overlaps the unspecified address ::, which is no subnet's"),
            (
                "::ffff:10.0.0.0/120",
                "::ffff:10.0.0.0/120 overlaps the IPv4-mapped block ::ffff:0:0/96, which is no subnet's",
            ),
            ("ff02::/16", "ff02::/16 overlaps the multicast block ff00::/8, which is no subnet's"),
        ],
    )
    def test_refuses_special_purpose_space_naming_it(self, cidr: str, reason: str) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            check_special_purpose("subnet", "cidr", cidr, allow_link_local=True)

        assert (caught.value.resource, caught.value.attribute, caught.value.reason) == ("subnet", "cidr", reason)

    @pytest.mark.parametrize("cidr", ["169.254.10.0/24", "fe80::/64", "169.0.0.0/8"])
    def test_link_local_only_where_allowed(self, cidr: str) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            check_special_purpose("subnetpool", "prefixes", cidr, allow_link_local=False)

        assert caught.value.attribute == "prefixes"
        assert "link-local" in caught.value.reason
        check_special_purpose("subnet", "cidr", cidr, allow_link_local=True)

    @pytest.mark.parametrize(
        "cidr", ["10.0.0.0/8", "192.0.2.0/24", "1.0.0.0/8", "126.0.0.0/8", "2001:db8::/32", "fd00::/8", "::2/127"]
    )
    def test_accepts_ordinary_space(self, cidr: str) -> None:
        check_special_purpose("subnet", "cidr", cidr, allow_link_local=False)

    def test_a_value_that_is_no_cidr_is_a_bad_request_on_the_attribute(self) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            check_special_purpose("subnet", "cidr", "nope", allow_link_local=True)

        assert caught.value.attribute == "cidr"


class TestCheckDefaultPrefixlenFits:
    def test_refuses_a_default_shorter_than_every_prefix(self) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            check_default_prefixlen_fits(["10.0.0.0/16", "192.168.0.0/20"], 12)

        assert (caught.value.resource, caught.value.attribute) == ("subnetpool", "default_prefixlen")
        assert caught.value.reason == "/12 is shorter than every prefix of the pool (the largest is a /16)"

    @pytest.mark.parametrize("default", [16, 20, 24])
    def test_accepts_a_default_one_prefix_can_hold(self, default: int) -> None:
        check_default_prefixlen_fits(["10.0.0.0/16", "192.168.0.0/20"], default)


class TestCheckCidrInPool:
    @pytest.mark.parametrize("cidr", ["10.0.0.0/24", "10.0.0.0/16", "172.16.5.0/24"])
    def test_accepts_a_cidr_inside_one_prefix(self, cidr: str) -> None:
        check_cidr_in_pool(cidr, ["10.0.0.0/16", "172.16.0.0/12"], "pool-1")

    @pytest.mark.parametrize("cidr", ["10.0.0.0/15", "192.168.0.0/24", "fd00::/64"])
    def test_refuses_a_cidr_the_pool_cannot_give(self, cidr: str) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            check_cidr_in_pool(cidr, ["10.0.0.0/16", "172.16.0.0/12"], "pool-1")

        assert (caught.value.resource, caught.value.attribute) == ("subnet", "cidr")
        assert (
            caught.value.reason == f"{cidr} is outside the prefixes of subnet pool pool-1 (10.0.0.0/16, 172.16.0.0/12)"
        )
