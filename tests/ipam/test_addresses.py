"""Tests of naas.ipam.addresses: gateway, allocation pools, address validation and FreeAddresses."""

from __future__ import annotations

import random
from typing import Any

import netaddr
import pytest

from naas import exceptions
from naas.ipam import (
    FreeAddresses,
    default_allocation_pools,
    default_gateway,
    validate_address_for_subnet,
    validate_allocation_pools,
    validate_gateway,
)


def ranges(*bounds: tuple[str, str]) -> list[netaddr.IPRange]:
    return [netaddr.IPRange(start, end) for start, end in bounds]


def ints(*addresses: str) -> list[int]:
    return [int(netaddr.IPAddress(address)) for address in addresses]


def span(first: str, last: str) -> tuple[int, int]:
    return int(netaddr.IPAddress(first)), int(netaddr.IPAddress(last))


def expand(int_ranges: list[tuple[int, int]]) -> set[int]:
    return {value for first, last in int_ranges for value in range(first, last + 1)}


def subnet(
    cidr: str = "10.0.0.0/24", gateway: str | None = "10.0.0.1", allocated: tuple[str, ...] = ()
) -> FreeAddresses:
    return FreeAddresses("subnet-1", cidr, default_allocation_pools(cidr, gateway), allocated)


class TestDefaultGateway:
    @pytest.mark.parametrize(
        ("cidr", "gateway"),
        [
            ("10.0.0.0/24", "10.0.0.1"),
            ("10.0.0.77/24", "10.0.0.1"),
            ("10.0.0.4/30", "10.0.0.5"),
            ("10.0.0.0/31", "10.0.0.1"),
            ("2001:db8::/64", "2001:db8::1"),
        ],
    )
    def test_network_plus_one(self, cidr: str, gateway: str) -> None:
        assert default_gateway(cidr) == netaddr.IPAddress(gateway)

    @pytest.mark.parametrize("cidr", ["10.0.0.7/32", "2001:db8::7/128"])
    def test_single_address_subnet_has_none(self, cidr: str) -> None:
        assert default_gateway(cidr) is None

    def test_bad_cidr(self) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            default_gateway("10.0.0.0/40")
        assert (caught.value.resource, caught.value.attribute) == ("subnet", "cidr")


class TestValidateGateway:
    @pytest.mark.parametrize(
        ("cidr", "gateway"),
        [
            ("10.0.0.0/24", "10.0.0.1"),
            ("10.0.0.0/24", "10.0.0.254"),
            ("10.0.0.0/31", "10.0.0.1"),
            ("2001:db8::/64", "2001:db8::"),
            ("2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff"),
        ],
    )
    def test_valid_gateway_is_returned_parsed(self, cidr: str, gateway: str) -> None:
        assert validate_gateway(cidr, gateway) == netaddr.IPAddress(gateway)

    @pytest.mark.parametrize(
        ("cidr", "gateway", "reason"),
        [
            ("10.0.0.0/24", "10.0.0.0", "10.0.0.0 is the network address of 10.0.0.0/24"),
            ("10.0.0.0/24", "10.0.0.255", "10.0.0.255 is the broadcast address of 10.0.0.0/24"),
            ("10.0.0.4/30", "10.0.0.7", "10.0.0.7 is the broadcast address of 10.0.0.4/30"),
            ("10.0.0.0/31", "10.0.0.0", "10.0.0.0 is the network address of 10.0.0.0/31"),
            ("10.0.0.9/32", "10.0.0.9", "10.0.0.9 is the network address of 10.0.0.9/32"),
            ("10.0.0.0/24", "10.0.1.1", "10.0.1.1 is outside the subnet 10.0.0.0/24"),
            ("10.0.0.0/24", "2001:db8::1", "2001:db8::1 is not an IPv4 address like subnet 10.0.0.0/24"),
            ("10.0.0.0/24", "10.0.0.256", "'10.0.0.256' is not an IP address"),
        ],
    )
    def test_invalid_gateway_is_a_bad_request(self, cidr: str, gateway: str, reason: str) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            validate_gateway(cidr, gateway)
        assert (caught.value.resource, caught.value.attribute, caught.value.reason) == (
            "subnet",
            "gateway_ip",
            reason,
        )


class TestDefaultAllocationPools:
    @pytest.mark.parametrize(
        ("cidr", "gateway", "pools"),
        [
            ("10.0.0.0/24", "10.0.0.1", [("10.0.0.2", "10.0.0.254")]),
            ("10.0.0.0/24", None, [("10.0.0.1", "10.0.0.254")]),
            ("10.0.0.0/24", "10.0.0.100", [("10.0.0.1", "10.0.0.99"), ("10.0.0.101", "10.0.0.254")]),
            ("10.0.0.0/24", "10.0.0.254", [("10.0.0.1", "10.0.0.253")]),
            ("10.0.0.0/24", "192.168.0.1", [("10.0.0.1", "10.0.0.254")]),
            ("10.0.0.4/30", "10.0.0.5", [("10.0.0.6", "10.0.0.6")]),
            ("10.0.0.0/31", None, [("10.0.0.0", "10.0.0.1")]),
            ("10.0.0.0/31", "10.0.0.1", [("10.0.0.0", "10.0.0.0")]),
            ("10.0.0.9/32", None, [("10.0.0.9", "10.0.0.9")]),
            ("2001:db8::/64", "2001:db8::1", [("2001:db8::2", "2001:db8::ffff:ffff:ffff:ffff")]),
            ("2001:db8::/64", None, [("2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff")]),
            ("2001:db8::5/128", None, [("2001:db8::5", "2001:db8::5")]),
        ],
    )
    def test_pools(self, cidr: str, gateway: str | None, pools: list[tuple[str, str]]) -> None:
        assert default_allocation_pools(cidr, gateway) == ranges(*pools)

    def test_a_single_address_taken_by_the_gateway_leaves_no_pool(self) -> None:
        assert default_allocation_pools("10.0.0.4/30", "10.0.0.6") == ranges(("10.0.0.5", "10.0.0.5"))
        assert default_allocation_pools("10.0.0.9/32", "10.0.0.9") == []


class TestValidateAllocationPools:
    def test_valid_pools_are_returned_as_ranges_ascending(self) -> None:
        pools = validate_allocation_pools(
            "10.0.0.0/24",
            [
                ("10.0.0.100", "10.0.0.254"),
                netaddr.IPRange("10.0.0.2", "10.0.0.50"),
                ("10.0.0.51", "10.0.0.51"),
            ],
            "10.0.0.1",
        )
        assert pools == ranges(
            ("10.0.0.2", "10.0.0.50"),
            ("10.0.0.51", "10.0.0.51"),
            ("10.0.0.100", "10.0.0.254"),
        )

    def test_no_pools_and_whole_point_to_point_subnet_are_valid(self) -> None:
        assert validate_allocation_pools("10.0.0.0/24", []) == []
        whole = [("10.0.0.0", "10.0.0.1")]
        assert validate_allocation_pools("10.0.0.0/31", whole) == ranges(*whole)

    @pytest.mark.parametrize(
        ("pools", "reason"),
        [
            (
                [("10.0.0.200", "10.0.1.5")],
                "pool 10.0.0.200-10.0.1.5: 10.0.1.5 is outside the subnet 10.0.0.0/24",
            ),
            ([("10.0.0.50", "10.0.0.40")], "pool 10.0.0.50-10.0.0.40: its start is after its end"),
            (
                [("10.0.0.0", "10.0.0.40")],
                "pool 10.0.0.0-10.0.0.40: 10.0.0.0 is the network address of 10.0.0.0/24",
            ),
            (
                [("10.0.0.2", "10.0.0.255")],
                "pool 10.0.0.2-10.0.0.255: 10.0.0.255 is the broadcast address of 10.0.0.0/24",
            ),
            ([("10.0.0.1", "10.0.0.9")], "pool 10.0.0.1-10.0.0.9: it holds the gateway 10.0.0.1"),
            (
                [("10.0.0.2", "10.0.0.50"), ("10.0.0.60", "10.0.0.70"), ("10.0.0.50", "10.0.0.55")],
                "pools 10.0.0.2-10.0.0.50 and 10.0.0.50-10.0.0.55 overlap",
            ),
            ([("::2", "::5")], "pool ::2-::5: ::2 is not an IPv4 address like subnet 10.0.0.0/24"),
            ([("10.0.0.2", "bogus")], "'bogus' is not an IP address"),
            ([("10.0.0.2",)], "('10.0.0.2',) is not a (start, end) pair"),
            (["10.0.0.2-10.0.0.9"], "'10.0.0.2-10.0.0.9' is not a (start, end) pair"),
        ],
    )
    def test_invalid_pools_are_a_bad_request_naming_the_pool(self, pools: list[Any], reason: str) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            validate_allocation_pools("10.0.0.0/24", pools, "10.0.0.1")
        assert (caught.value.resource, caught.value.attribute) == ("subnet", "allocation_pools")
        assert caught.value.reason == reason


class TestValidateAddressForSubnet:
    @pytest.mark.parametrize(
        ("cidr", "ip"),
        [
            ("10.0.0.0/24", "10.0.0.1"),
            ("10.0.0.0/31", "10.0.0.0"),
            ("10.0.0.9/32", "10.0.0.9"),
            ("2001:db8::/64", "2001:db8::"),
        ],
    )
    def test_valid_address_is_returned_parsed(self, cidr: str, ip: str) -> None:
        assert validate_address_for_subnet(cidr, ip) == netaddr.IPAddress(ip)

    @pytest.mark.parametrize(
        ("ip", "reason"),
        [
            ("10.0.1.5", "10.0.1.5 is outside the subnet 10.0.0.0/24"),
            ("10.0.0.0", "10.0.0.0 is the network address of 10.0.0.0/24"),
            ("10.0.0.255", "10.0.0.255 is the broadcast address of 10.0.0.0/24"),
            ("::5", "::5 is not an IPv4 address like subnet 10.0.0.0/24"),
            ("10.0.0.5/32", "'10.0.0.5/32' is not an IP address"),
            (5, "5 is not an IP address"),
        ],
    )
    def test_unusable_address_is_a_bad_request(self, ip: Any, reason: str) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            validate_address_for_subnet("10.0.0.0/24", ip)
        assert (caught.value.resource, caught.value.attribute, caught.value.reason) == (
            "port",
            "fixed_ips",
            reason,
        )


class TestFreeAddresses:
    def test_allocates_lowest_first_skipping_network_gateway_and_broadcast(self) -> None:
        addresses = subnet("10.0.0.0/29")
        assert [str(addresses.allocate()) for _ in range(5)] == [f"10.0.0.{host}" for host in range(2, 7)]
        assert addresses.free_count == 0
        with pytest.raises(exceptions.IpAddressExhausted) as caught:
            addresses.allocate()
        assert isinstance(caught.value, exceptions.Conflict)
        assert (caught.value.resource, caught.value.resource_id) == ("subnet", "subnet-1")
        assert str(caught.value) == "No more IP addresses available on subnet subnet-1."

    def test_ipv6(self) -> None:
        addresses = subnet("2001:db8::/64", "2001:db8::1")
        assert addresses.allocate() == netaddr.IPAddress("2001:db8::2")
        assert addresses.allocate_address("2001:db8::ffff") == netaddr.IPAddress("2001:db8::ffff")
        assert addresses.free_count == 2**64 - 4

    def test_a_specific_free_address_is_taken_and_then_skipped(self) -> None:
        addresses = subnet()
        assert addresses.allocate_address("10.0.0.2") == netaddr.IPAddress("10.0.0.2")
        assert addresses.allocate_address(netaddr.IPAddress("10.0.0.4")) == netaddr.IPAddress("10.0.0.4")
        assert [str(addresses.allocate()) for _ in range(2)] == ["10.0.0.3", "10.0.0.5"]
        assert addresses.to_ranges() == [span("10.0.0.6", "10.0.0.254")]

    def test_a_taken_address_is_already_allocated(self) -> None:
        addresses = subnet()
        addresses.allocate()
        before = addresses.to_ranges()
        with pytest.raises(exceptions.IpAddressAlreadyAllocated) as caught:
            addresses.allocate_address("10.0.0.2")
        assert (caught.value.resource_id, caught.value.ip_address) == ("subnet-1", "10.0.0.2")
        assert str(caught.value) == "IP address 10.0.0.2 is already allocated in subnet subnet-1."
        assert addresses.to_ranges() == before

    @pytest.mark.parametrize("ip", ["10.0.1.2", "10.0.0.0", "10.0.0.255", "2001:db8::2", "nope"])
    def test_an_address_no_port_may_have_is_a_bad_request(self, ip: str) -> None:
        addresses = subnet()
        for method in (addresses.allocate_address, addresses.release, addresses.is_allocated):
            with pytest.raises(exceptions.BadRequest) as caught:
                method(ip)
            assert (caught.value.resource, caught.value.attribute) == ("port", "fixed_ips")
        assert addresses.free_count == 253

    def test_addresses_outside_the_pools_can_be_asked_for_once(self) -> None:
        addresses = FreeAddresses("subnet-1", "10.0.0.0/24", ranges(("10.0.0.10", "10.0.0.20")))
        for ip in ("10.0.0.1", "10.0.0.50"):
            assert addresses.allocate_address(ip) == netaddr.IPAddress(ip)
            assert addresses.is_allocated(ip)
            with pytest.raises(exceptions.IpAddressAlreadyAllocated):
                addresses.allocate_address(ip)
        assert addresses.free_count == 11
        assert addresses.allocated_outside_pools() == ints("10.0.0.1", "10.0.0.50")
        addresses.release("10.0.0.1")
        assert not addresses.is_allocated("10.0.0.1")
        assert addresses.allocate_address("10.0.0.1") == netaddr.IPAddress("10.0.0.1")
        assert addresses.allocate() == netaddr.IPAddress("10.0.0.10")

    def test_no_pools_means_only_specific_addresses(self) -> None:
        addresses = FreeAddresses("subnet-1", "10.0.0.0/24", [])
        with pytest.raises(exceptions.IpAddressExhausted):
            addresses.allocate()
        assert addresses.allocate_address("10.0.0.7") == netaddr.IPAddress("10.0.0.7")

    def test_release_then_reuse_lowest_first_and_ranges_merge_back(self) -> None:
        addresses = subnet("10.0.0.0/28")
        taken = [addresses.allocate() for _ in range(5)]
        addresses.release(taken[1])
        addresses.release("10.0.0.6")
        assert addresses.to_ranges() == [span("10.0.0.3", "10.0.0.3"), span("10.0.0.6", "10.0.0.14")]
        assert addresses.allocate() == taken[1]
        for ip in taken[:4]:
            addresses.release(ip)
        assert addresses.to_ranges() == [span("10.0.0.2", "10.0.0.14")]
        assert addresses.free_count == 13

    @pytest.mark.parametrize("ip", ["10.0.0.3", "10.0.0.1", "10.0.0.2"], ids=["free", "gateway", "double"])
    def test_releasing_what_is_not_allocated_is_a_conflict(self, ip: str) -> None:
        addresses = subnet()
        addresses.allocate()
        addresses.release("10.0.0.2")
        with pytest.raises(exceptions.Conflict) as caught:
            addresses.release(ip)
        assert (caught.value.resource, caught.value.resource_id) == ("subnet", "subnet-1")
        assert str(caught.value) == f"IP address {ip} is not allocated in subnet subnet-1."
        assert addresses.free_count == 253

    def test_is_allocated(self) -> None:
        addresses = subnet()
        addresses.allocate()
        assert addresses.is_allocated("10.0.0.2")
        assert not addresses.is_allocated("10.0.0.3")
        assert not addresses.is_allocated("10.0.0.1")

    def test_built_from_allocated_addresses(self) -> None:
        addresses = subnet(allocated=("10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.254", "10.0.0.4"))
        assert addresses.to_ranges() == [span("10.0.0.3", "10.0.0.3"), span("10.0.0.5", "10.0.0.253")]
        assert addresses.allocated_outside_pools() == ints("10.0.0.1")
        assert addresses.free_count == 250
        with pytest.raises(exceptions.BadRequest):
            subnet(allocated=("10.0.9.9",))

    def test_persistence_round_trip(self) -> None:
        pools = ranges(("10.0.0.10", "10.0.0.20"), ("10.0.0.30", "10.0.0.40"))
        addresses = FreeAddresses("subnet-1", "10.0.0.0/24", pools, ["10.0.0.12", "10.0.0.1", "10.0.0.30"])
        rebuilt = FreeAddresses.from_ranges(
            "subnet-1", "10.0.0.0/24", pools, addresses.to_ranges(), addresses.allocated_outside_pools()
        )
        assert (rebuilt.to_ranges(), rebuilt.free_count) == (addresses.to_ranges(), addresses.free_count)
        assert rebuilt.is_allocated("10.0.0.1")
        assert [rebuilt.allocate() for _ in range(3)] == [addresses.allocate() for _ in range(3)]

    def test_rebuilding_from_inconsistent_storage_is_refused(self) -> None:
        pools = ranges(("10.0.0.10", "10.0.0.20"))
        with pytest.raises(ValueError, match="is outside the pools of subnet subnet-1"):
            FreeAddresses.from_ranges("subnet-1", "10.0.0.0/24", pools, [span("10.0.0.15", "10.0.0.25")])
        with pytest.raises(ValueError, match="are inside the pools of subnet subnet-1"):
            FreeAddresses.from_ranges("subnet-1", "10.0.0.0/24", pools, [], ints("10.0.0.11"))


def test_randomized_interleaving_matches_a_brute_force_model() -> None:
    """Thousands of mixed operations, checked against a set of free addresses and a set of taken ones."""
    rng = random.Random(1451576)
    cidr = netaddr.IPNetwork("10.0.0.0/24")
    pools = ranges(("10.0.0.2", "10.0.0.60"), ("10.0.0.100", "10.0.0.250"))
    addresses = FreeAddresses("subnet-r", cidr, pools)
    in_pools = expand([(pool.first, pool.last) for pool in pools])
    free = set(in_pools)
    allocated: set[int] = set()

    def taken(value: int) -> None:
        assert value not in allocated, f"{netaddr.IPAddress(value)} handed out twice"
        free.discard(value)
        allocated.add(value)

    refusals = peak = 0
    for step in range(6000):
        # Alternate filling and draining phases so the subnet is often full and fragmented.
        allocate_bias = 0.8 if (step // 500) % 2 == 0 else 0.3
        roll = rng.random()
        if roll < allocate_bias * 0.5:
            if free:
                lowest = min(free)
                assert int(addresses.allocate()) == lowest
                taken(lowest)
            else:
                with pytest.raises(exceptions.IpAddressExhausted):
                    addresses.allocate()
                refusals += 1
        elif roll < allocate_bias:
            value = rng.randrange(cidr.first + 1, cidr.last)
            if value in allocated:
                with pytest.raises(exceptions.IpAddressAlreadyAllocated):
                    addresses.allocate_address(netaddr.IPAddress(value, 4))
                refusals += 1
            else:
                assert int(addresses.allocate_address(netaddr.IPAddress(value, 4))) == value
                taken(value)
        elif allocated:
            value = rng.choice(sorted(allocated))
            addresses.release(netaddr.IPAddress(value, 4))
            allocated.remove(value)
            free.update({value} & in_pools)
        peak = max(peak, len(allocated & in_pools))
        if step % 20 == 0:
            assert addresses.free_count == len(free)
            assert expand(addresses.to_ranges()) == free
            assert addresses.allocated_outside_pools() == sorted(allocated - in_pools)
    assert refusals > 100 and peak == len(in_pools)
