"""Subnet addresses: the gateway, the allocation pools, and the free addresses ports take theirs from.

The rules are Neutron's (reference, sections 4.2 and 4.3). An IPv4 subnet's network and broadcast addresses
are never anyone's, except in a /31 or /32 where every address is usable (RFC 3021 point-to-point links).
The free addresses of a subnet are kept as maximal ``(first, last)`` int ranges; storage plugins persist
them (:meth:`FreeAddresses.to_ranges`) and rebuild them with :meth:`FreeAddresses.from_ranges`.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Sequence

import netaddr

from naas import exceptions
from naas.ipam._parsing import AddressInput, CidrInput, parse_address, parse_cidr
from naas.ipam._sorted import IntRanges, Range

__all__ = [
    "FreeAddresses",
    "default_allocation_pools",
    "default_gateway",
    "validate_address_for_subnet",
    "validate_allocation_pools",
    "validate_gateway",
]

PoolInput = netaddr.IPRange | tuple[AddressInput, AddressInput]


def default_gateway(cidr: CidrInput) -> netaddr.IPAddress | None:
    """The gateway a subnet gets when none is asked for: its network address + 1.

    Returns None for a single-address subnet (IPv4 /32, IPv6 /128), which has no room for one.
    Raises ``BadRequest("subnet", "cidr", ...)`` if ``cidr`` is not a CIDR.
    """
    network = parse_cidr("subnet", "cidr", cidr)
    if network.size == 1:
        return None
    return netaddr.IPAddress(network.first + 1, network.version)


def validate_gateway(cidr: CidrInput, gateway_ip: AddressInput) -> netaddr.IPAddress:
    """Check that ``gateway_ip`` can be the gateway of subnet ``cidr``; return it parsed.

    It must be an address of the subnet's IP version inside the subnet, and in IPv4 neither the network
    address nor (prefix length 30 or less) the broadcast address.
    Raises ``BadRequest("subnet", "gateway_ip", ...)`` saying which rule failed.
    """
    network = parse_cidr("subnet", "cidr", cidr)
    gateway = parse_address("subnet", "gateway_ip", gateway_ip)
    problem = _address_problem(network, gateway)
    if problem is None and network.version == 4 and gateway == network.network:
        problem = f"{gateway} is the network address of {network}"
    if problem is not None:
        raise exceptions.BadRequest("subnet", "gateway_ip", problem)
    return gateway


def default_allocation_pools(
    cidr: CidrInput,
    gateway_ip: AddressInput | None = None,
) -> list[netaddr.IPRange]:
    """The allocation pools a subnet gets when none are asked for, ascending.

    IPv4 with prefix length 30 or less: network + 1 .. broadcast - 1; IPv4 /31 and /32: every address;
    IPv6: network + 1 .. last (a /128: its one address). The gateway, if inside, is then cut out, which
    may split the range in two or leave none. Raises ``BadRequest`` if ``cidr`` or ``gateway_ip`` do not
    parse.
    """
    network = parse_cidr("subnet", "cidr", cidr)
    first, last = network.first, network.last
    if _reserved(network):
        first, last = first + 1, last - 1
    elif network.version == 6 and network.size > 1:
        first += 1
    pools = [(first, last)]
    if gateway_ip is not None:
        gateway = int(parse_address("subnet", "gateway_ip", gateway_ip))
        if first <= gateway <= last:
            pools = [(first, gateway - 1), (gateway + 1, last)]
    return [_ip_range(network, start, end) for start, end in pools if start <= end]


def validate_allocation_pools(
    cidr: CidrInput, pools: Iterable[PoolInput], gateway_ip: AddressInput | None = None
) -> list[netaddr.IPRange]:
    """Check allocation pools asked for subnet ``cidr``; return them as ranges, ascending.

    Each pool is an ``IPRange`` or a ``(start, end)`` pair of addresses. Each must lie inside the subnet,
    start no later than it ends, hold neither the IPv4 network nor broadcast address, and not hold the
    gateway; no two may overlap. An empty ``pools`` is valid: ports then only get addresses asked for.
    Raises ``BadRequest("subnet", "allocation_pools", ...)`` naming the pool and the rule it breaks.
    """
    network = parse_cidr("subnet", "cidr", cidr)
    gateway = None if gateway_ip is None else parse_address("subnet", "gateway_ip", gateway_ip)
    if gateway is not None and gateway.version != network.version:
        gateway = None  # in no pool; refusing it is validate_gateway's job
    checked: list[tuple[int, int, str]] = []
    for pool in pools:
        start, end = _parse_pool(pool)
        label = f"{start}-{end}"
        problem = _address_problem(network, start) or _address_problem(network, end)
        if problem is None and start > end:
            problem = "its start is after its end"
        if problem is None and gateway is not None and start <= gateway <= end:
            problem = f"it holds the gateway {gateway}"
        if problem is not None:
            raise exceptions.BadRequest("subnet", "allocation_pools", f"pool {label}: {problem}")
        checked.append((int(start), int(end), label))
    checked.sort()
    for (_, previous_end, previous), (start_value, _, label) in itertools.pairwise(checked):
        if start_value <= previous_end:
            raise exceptions.BadRequest("subnet", "allocation_pools", f"pools {previous} and {label} overlap")
    return [_ip_range(network, start, end) for start, end, _ in checked]


def validate_address_for_subnet(cidr: CidrInput, ip: AddressInput) -> netaddr.IPAddress:
    """Check that a port may have the address ``ip`` on subnet ``cidr``; return it parsed.

    It must be an address of the subnet's IP version inside the subnet, and not the IPv4 network or
    broadcast address (a /31 or /32 has neither). It may lie outside the allocation pools.
    Raises ``BadRequest("port", "fixed_ips", ...)`` saying which rule failed.
    """
    network = parse_cidr("subnet", "cidr", cidr)
    address = parse_address("port", "fixed_ips", ip)
    problem = _address_problem(network, address)
    if problem is not None:
        raise exceptions.BadRequest("port", "fixed_ips", problem)
    return address


def _reserved(network: netaddr.IPNetwork) -> tuple[int, ...]:
    """The addresses of ``network`` nobody may have: IPv4 network and broadcast, unless a /31 or /32."""
    if network.version == 4 and network.prefixlen <= 30:
        return network.first, network.last
    return ()


def _address_problem(network: netaddr.IPNetwork, address: netaddr.IPAddress) -> str | None:
    """Why ``address`` cannot be used in ``network``, or None if it can."""
    if address.version != network.version:
        return f"{address} is not an IPv{network.version} address like subnet {network}"
    if address not in network:
        return f"{address} is outside the subnet {network}"
    if int(address) in _reserved(network):
        kind = "network" if address == network.network else "broadcast"
        return f"{address} is the {kind} address of {network}"
    return None


def _parse_pool(pool: PoolInput) -> tuple[netaddr.IPAddress, netaddr.IPAddress]:
    if isinstance(pool, netaddr.IPRange):
        return netaddr.IPAddress(pool.first, pool.version), netaddr.IPAddress(pool.last, pool.version)
    if not isinstance(pool, Sequence) or isinstance(pool, str) or len(pool) != 2:
        raise exceptions.BadRequest("subnet", "allocation_pools", f"{pool!r} is not a (start, end) pair")
    start, end = (parse_address("subnet", "allocation_pools", bound) for bound in pool)
    return start, end


def _ip_range(network: netaddr.IPNetwork, first: int, last: int) -> netaddr.IPRange:
    # Bare ints below 2**32 would be read as IPv4, so give netaddr addresses of the right version.
    version = network.version
    return netaddr.IPRange(netaddr.IPAddress(first, version), netaddr.IPAddress(last, version))


def _without(ranges: Iterable[Range], holes: Sequence[int]) -> Iterator[Range]:
    """``ranges`` with the ascending, distinct ``holes`` cut out."""
    for first, last in ranges:
        start = first
        for hole in holes[bisect.bisect_left(holes, first) : bisect.bisect_right(holes, last)]:
            if start < hole:
                yield start, hole - 1
            start = hole + 1
        if start <= last:
            yield start, last


class FreeAddresses:
    """The free addresses of one subnet's allocation pools, and the allocator ports get addresses from.

    Free space is a set of maximal int ranges with ordered lookups, so :meth:`allocate`,
    :meth:`allocate_address` and :meth:`release` cost ``O(log n)`` in the number ``n`` of free ranges,
    however full or fragmented the subnet is. Addresses a port asked for outside the pools (Neutron allows
    it; the gateway a router interface takes is one) are kept in a set of their own.

    Not thread-safe: a storage plugin serialises the operations on one subnet (its lock, its transaction).
    Errors name the subnet by ``subnet_id``.
    """

    def __init__(
        self,
        subnet_id: str,
        cidr: CidrInput,
        allocation_pools: Iterable[netaddr.IPRange],
        allocated: Iterable[AddressInput] = (),
    ) -> None:
        """The free addresses of subnet ``subnet_id`` after ``allocated`` addresses were taken.

        ``allocation_pools`` are trusted to be valid (see :func:`validate_allocation_pools`). Costs
        ``O(n log n)`` for ``n`` allocated addresses. Raises ``BadRequest`` if ``cidr`` is not a CIDR or an
        allocated address is not one a port may have (see :func:`validate_address_for_subnet`).
        """
        self.subnet_id = subnet_id
        self.cidr = parse_cidr("subnet", "cidr", cidr)
        self._pools = IntRanges((pool.first, pool.last) for pool in allocation_pools)
        taken = {int(validate_address_for_subnet(self.cidr, address)) for address in allocated}
        self._outside = {value for value in taken if value not in self._pools}
        self._free = IntRanges(_without(self._pools, sorted(taken - self._outside)))

    @classmethod
    def from_ranges(
        cls,
        subnet_id: str,
        cidr: CidrInput,
        allocation_pools: Iterable[netaddr.IPRange],
        free_ranges: Iterable[Range],
        allocated_outside_pools: Iterable[int] = (),
    ) -> FreeAddresses:
        """Rebuild from what :meth:`to_ranges` and :meth:`allocated_outside_pools` returned.

        Raises ``ValueError`` if a free range is not inside the pools or an outside address is inside them
        (storage that does not hold what it was given), and ``BadRequest`` as the constructor does.
        """
        addresses = cls(subnet_id, cidr, allocation_pools)
        addresses._free = IntRanges(free_ranges)
        for first, last in addresses._free:
            if not addresses._pools.covers(first, last):
                raise ValueError(f"free range {(first, last)} is outside the pools of subnet {subnet_id}")
        addresses._outside = set(allocated_outside_pools)
        inside = sorted(value for value in addresses._outside if value in addresses._pools)
        if inside:
            raise ValueError(f"addresses {inside} are inside the pools of subnet {subnet_id}")
        return addresses

    @property
    def free_count(self) -> int:
        """How many addresses of the allocation pools are free."""
        return self._free.size

    def to_ranges(self) -> list[Range]:
        """The free addresses as ascending ``(first, last)`` int ranges, for storage."""
        return list(self._free)

    def allocated_outside_pools(self) -> list[int]:
        """The addresses taken outside the allocation pools, ascending, for storage."""
        return sorted(self._outside)

    def allocate(self) -> netaddr.IPAddress:
        """Take the lowest free address of the allocation pools and return it.

        Raises ``IpAddressExhausted("subnet", subnet_id)`` (a ``Conflict``) if none is free.
        """
        value = self._free.smallest()
        if value is None:
            raise exceptions.IpAddressExhausted("subnet", self.subnet_id)
        self._free.remove(value)
        return netaddr.IPAddress(value, self.cidr.version)

    def allocate_address(self, ip: AddressInput) -> netaddr.IPAddress:
        """Take the specific address ``ip``, inside the allocation pools or not, and return it parsed.

        Raises ``IpAddressAlreadyAllocated`` (a ``Conflict``) if it is taken, and
        ``BadRequest("port", "fixed_ips", ...)`` if no port may have it (see
        :func:`validate_address_for_subnet`).
        """
        address = validate_address_for_subnet(self.cidr, ip)
        value = int(address)
        if value in self._free:
            self._free.remove(value)
        elif value in self._pools or value in self._outside:
            raise exceptions.IpAddressAlreadyAllocated(self.subnet_id, str(address))
        else:
            self._outside.add(value)
        return address

    def release(self, ip: AddressInput) -> None:
        """Give the allocated address ``ip`` back.

        Raises ``Conflict("subnet", subnet_id, ...)`` if it is not allocated (a double release), and
        ``BadRequest`` as :meth:`allocate_address` does.
        """
        address = validate_address_for_subnet(self.cidr, ip)
        value = int(address)
        if value in self._outside:
            self._outside.remove(value)
        elif value in self._pools and value not in self._free:
            self._free.add(value)
        else:
            message = f"IP address {address} is not allocated in subnet {self.subnet_id}."
            raise exceptions.Conflict("subnet", self.subnet_id, message)

    def is_allocated(self, ip: AddressInput) -> bool:
        """Whether ``ip`` is taken. Raises ``BadRequest`` as :meth:`allocate_address` does."""
        value = int(validate_address_for_subnet(self.cidr, ip))
        return value in self._outside or (value in self._pools and value not in self._free)
