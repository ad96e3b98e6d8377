"""Subnet pools: their prefixes, their prefix-length bounds, and the free space subnets are carved from.

The rules are Neutron's (reference, section 4.1 and 4.2). The free space of a pool is kept as the canonical
CIDR decomposition of *pool prefixes minus allocated prefixes*: the fewest, largest aligned blocks, exactly
what ``netaddr.IPSet(...).iter_cidrs()`` would give. Storage plugins persist it as ``(network, prefixlen)``
int pairs (:meth:`FreePrefixes.to_blocks`) and rebuild it with :meth:`FreePrefixes.from_blocks`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import netaddr

from naas import exceptions
from naas.ipam._parsing import MAX_PREFIXLEN, CidrInput, IpVersion, address_width, parse_cidr
from naas.ipam._sorted import SortedInts

__all__ = [
    "Block",
    "FreePrefixes",
    "check_cidr_in_pool",
    "check_default_prefixlen_fits",
    "check_prefixlen_in_bounds",
    "check_special_purpose",
    "compact_prefixes",
    "prefix_quota_units",
    "resolve_prefix_bounds",
]

Block = tuple[int, int]
"""A free block as storage keeps it: ``(network address as int, prefix length)``."""

_DEFAULT_MIN_PREFIXLEN: Final = {4: 8, 6: 64}
# Neutron counts subnet pool quota in /32s for IPv4 and /64s for IPv6.
_QUOTA_UNIT_PREFIXLEN: Final = {4: 32, 6: 64}

# Address space no tenant subnet may hold an address of (RFC 6890), with what to call it.
_SPECIAL_PURPOSE: Final = tuple(
    (netaddr.IPNetwork(cidr), name)
    for cidr, name in (
        ("0.0.0.0/8", "the 'this network' block 0.0.0.0/8"),
        ("127.0.0.0/8", "the loopback block 127.0.0.0/8"),
        ("224.0.0.0/4", "the multicast block 224.0.0.0/4"),
        ("255.255.255.255/32", "the limited broadcast address 255.255.255.255"),
        ("::/128", "the unspecified address ::"),
        ("::1/128", "the loopback address ::1"),
        ("::ffff:0:0/96", "the IPv4-mapped block ::ffff:0:0/96"),
        ("ff00::/8", "the multicast block ff00::/8"),
    )
)
# Link-local space: a host configures it itself, so DHCP cannot serve it (Neutron's rule).
_LINK_LOCAL: Final = tuple(
    (netaddr.IPNetwork(cidr), f"the link-local block {cidr}") for cidr in ("169.254.0.0/16", "fe80::/10")
)


def compact_prefixes(prefixes: Iterable[CidrInput]) -> list[netaddr.IPNetwork]:
    """Parse, merge and sort the prefixes of a subnet pool.

    ``prefixes`` are CIDR strings or ``IPNetwork`` values; host bits are cleared ("10.0.0.1/8" is
    10.0.0.0/8), overlapping and adjacent prefixes are merged. Returns the fewest networks covering the
    same addresses, ascending.

    Raises ``BadRequest("subnetpool", "prefixes", ...)`` for a value that is not a CIDR, an empty list,
    or IPv4 and IPv6 prefixes mixed.
    """
    # A lone string is an iterable of characters; say what is wrong instead of complaining about "1".
    if isinstance(prefixes, (str, netaddr.IPNetwork)):
        raise exceptions.BadRequest("subnetpool", "prefixes", f"expected a list of CIDRs, got {prefixes!r}")
    networks = [parse_cidr("subnetpool", "prefixes", prefix) for prefix in prefixes]
    if not networks:
        raise exceptions.BadRequest("subnetpool", "prefixes", "a subnet pool needs at least one prefix")
    if len({network.version for network in networks}) > 1:
        listing = ", ".join(str(network) for network in networks)
        raise exceptions.BadRequest(
            "subnetpool", "prefixes", f"IPv4 and IPv6 prefixes cannot be mixed in one subnet pool: {listing}"
        )
    return netaddr.cidr_merge(networks)


def resolve_prefix_bounds(
    ip_version: int,
    min_prefixlen: int | None = None,
    max_prefixlen: int | None = None,
    default_prefixlen: int | None = None,
) -> tuple[int, int, int]:
    """The ``(min_prefixlen, max_prefixlen, default_prefixlen)`` of a subnet pool, defaults filled in.

    Defaults: min 8 (IPv4) or 64 (IPv6), max 32 or 128, default = min. The result satisfies
    ``0 <= min <= default <= max <= 32 or 128``.

    Raises ``BadRequest("subnetpool", attribute, ...)`` naming the offending attribute and giving the
    numbers: a bound that is not an int in range; min above max (blamed on ``min_prefixlen`` unless it was
    defaulted); default outside min..max. ``attribute`` is ``ip_version`` if that is neither 4 nor 6.
    """
    width = address_width("subnetpool", ip_version)
    for attribute, value in (
        ("min_prefixlen", min_prefixlen),
        ("max_prefixlen", max_prefixlen),
        ("default_prefixlen", default_prefixlen),
    ):
        if value is not None:
            _check_prefixlen("subnetpool", attribute, value, ip_version)
    minimum = _DEFAULT_MIN_PREFIXLEN[ip_version] if min_prefixlen is None else min_prefixlen
    maximum = width if max_prefixlen is None else max_prefixlen
    if minimum > maximum:
        raise exceptions.BadRequest(
            "subnetpool",
            "max_prefixlen" if min_prefixlen is None else "min_prefixlen",
            f"illegal prefix bounds: min_prefixlen={minimum} is greater than max_prefixlen={maximum}",
        )
    default = minimum if default_prefixlen is None else default_prefixlen
    if not minimum <= default <= maximum:
        raise exceptions.BadRequest(
            "subnetpool",
            "default_prefixlen",
            f"illegal prefix bounds: default_prefixlen={default} is outside "
            f"min_prefixlen={minimum} .. max_prefixlen={maximum}",
        )
    return minimum, maximum, default


def check_special_purpose(resource: str, attribute: str, cidr: CidrInput, *, allow_link_local: bool) -> None:
    """Refuse a prefix that no subnet (or subnet pool) may hold.

    Refused: prefix length 0; any overlap with special-purpose space (loopback, multicast, "this network",
    the limited broadcast address, the IPv6 unspecified address, IPv4-mapped IPv6); link-local space unless
    ``allow_link_local`` (Neutron refuses it for a subnet with DHCP enabled). Raises
    ``BadRequest(resource, attribute, ...)`` naming the block it overlaps.
    """
    network = parse_cidr(resource, attribute, cidr)
    if network.prefixlen == 0:
        raise exceptions.BadRequest(resource, attribute, f"{network} has prefix length 0: it would hold every address")
    for block, name in _SPECIAL_PURPOSE:
        if _overlaps(block, network):
            raise exceptions.BadRequest(resource, attribute, f"{network} overlaps {name}, which is no subnet's")
    for block, name in () if allow_link_local else _LINK_LOCAL:
        if _overlaps(block, network):
            raise exceptions.BadRequest(
                resource, attribute, f"{network} overlaps {name}, which DHCP cannot serve (hosts configure it)"
            )


def _overlaps(first: netaddr.IPNetwork, second: netaddr.IPNetwork) -> bool:
    return first.version == second.version and (first in second or second in first)


def check_default_prefixlen_fits(prefixes: Iterable[CidrInput], default_prefixlen: int) -> None:
    """Refuse a pool default length that no prefix of the pool can hold (shorter than every one of them).

    Every allocation at the default would fail. Raises ``BadRequest("subnetpool", "default_prefixlen", ...)``.
    """
    networks = [parse_cidr("subnetpool", "prefixes", prefix) for prefix in prefixes]
    if networks and all(default_prefixlen < network.prefixlen for network in networks):
        largest = min(network.prefixlen for network in networks)
        raise exceptions.BadRequest(
            "subnetpool",
            "default_prefixlen",
            f"/{default_prefixlen} is shorter than every prefix of the pool (the largest is a /{largest})",
        )


def check_cidr_in_pool(cidr: CidrInput, prefixes: Iterable[CidrInput], pool_id: str) -> None:
    """Refuse a subnet ``cidr`` asked for from a pool whose ``prefixes`` do not hold it whole.

    Whether the prefix is free is the allocator's question (a ``Conflict``); a prefix the pool can never give
    is a malformed request. Raises ``BadRequest("subnet", "cidr", ...)``.
    """
    network = parse_cidr("subnet", "cidr", cidr)
    networks = [parse_cidr("subnetpool", "prefixes", prefix) for prefix in prefixes]
    if not any(network.version == prefix.version and network in prefix for prefix in networks):
        listing = ", ".join(str(prefix) for prefix in networks)
        raise exceptions.BadRequest(
            "subnet", "cidr", f"{network} is outside the prefixes of subnet pool {pool_id} ({listing})"
        )


def check_prefixlen_in_bounds(prefixlen: int, min_prefixlen: int, max_prefixlen: int) -> None:
    """Refuse a subnet of length ``prefixlen`` from a pool with these bounds (reference 4.2, "Bounds").

    Raises ``BadRequest("subnet", "prefixlen", ...)`` if ``prefixlen`` is not an int in
    ``min_prefixlen..max_prefixlen``.
    """
    if isinstance(prefixlen, bool) or not isinstance(prefixlen, int):
        raise exceptions.BadRequest("subnet", "prefixlen", f"{prefixlen!r} is not a prefix length")
    if not min_prefixlen <= prefixlen <= max_prefixlen:
        raise exceptions.BadRequest(
            "subnet",
            "prefixlen",
            f"/{prefixlen} is outside the subnet pool's bounds min_prefixlen={min_prefixlen} .. "
            f"max_prefixlen={max_prefixlen}",
        )


def prefix_quota_units(ip_version: int, prefixlen: int) -> int:
    """How many quota units a subnet of length ``prefixlen`` uses: ``2 ** (unit - prefixlen)``.

    The unit is a /32 for IPv4 and a /64 for IPv6. An IPv6 prefix longer than /64 is a fraction of a unit
    in Neutron; here it counts as one whole unit, so quotas stay integers and err towards refusing.

    Raises ``BadRequest`` for an ``ip_version`` other than 4 or 6 or a ``prefixlen`` out of range.
    """
    _check_prefixlen("subnet", "prefixlen", prefixlen, ip_version)
    return 1 << max(_QUOTA_UNIT_PREFIXLEN[ip_version] - prefixlen, 0)


def _check_prefixlen(resource: str, attribute: str, value: int, ip_version: int) -> None:
    width = address_width("subnetpool", ip_version)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= width:
        raise exceptions.BadRequest(
            resource, attribute, f"{value!r} is not an IPv{ip_version} prefix length (0 to {width})"
        )


class FreePrefixes:
    """The free space of one subnet pool, and the allocator that carves subnets out of it.

    A buddy allocator: free blocks are kept per prefix length, each length in a sorted int set, so
    :meth:`allocate`, :meth:`allocate_cidr` and :meth:`release` cost ``O(max_prefixlen * log n)`` whatever
    the number ``n`` of free blocks, which grows with the number of allocated prefixes. The free blocks are
    always the canonical decomposition of pool minus allocated: a carved block leaves its buddies free, a
    released block merges with its free buddy, and so on up.

    Not thread-safe: a storage plugin serialises the operations on one pool (its lock, its transaction).
    Errors name the pool by its ``pool_id`` attribute; ``ip_version`` is that of its prefixes.
    """

    def __init__(
        self,
        pool_id: str,
        prefixes: Iterable[CidrInput],
        allocated: Iterable[CidrInput] = (),
    ) -> None:
        """The free space of pool ``pool_id`` with ``prefixes``, after ``allocated`` prefixes were taken.

        Costs ``O(n log n)`` for ``n`` allocated prefixes. Raises ``BadRequest`` (see
        :func:`compact_prefixes`) for bad prefixes or an allocated value that is not a CIDR of the pool's
        IP version, and ``Conflict`` if allocated prefixes overlap each other or lie outside the pool.
        """
        self.pool_id = pool_id
        compacted = compact_prefixes(prefixes)
        self.ip_version: IpVersion = compacted[0].version
        self._width = MAX_PREFIXLEN[self.ip_version]
        self._set_prefixes(compacted)
        self._free = [SortedInts() for _ in range(self._width + 1)]
        for prefix in self._prefixes:
            self._free[prefix.prefixlen].add(prefix.first)
        # Carving from the highest address down makes every change near the low end of its level, the end
        # where SortedInts inserts and removes without shifting the rest.
        for network, prefixlen in sorted((self._parse_block(cidr) for cidr in allocated), reverse=True):
            self._carve_or_raise(network, prefixlen)

    @classmethod
    def from_blocks(
        cls,
        pool_id: str,
        prefixes: Iterable[CidrInput],
        blocks: Iterable[Block],
    ) -> FreePrefixes:
        """Rebuild from the pool's prefixes and its free blocks as :meth:`to_blocks` returned them.

        Raises ``ValueError`` naming the block if one is not an aligned prefix inside the pool (storage that
        does not hold what :meth:`to_blocks` gave it), and ``BadRequest`` for bad ``prefixes``.
        """
        pool = cls(pool_id, prefixes)
        pool._free = [SortedInts() for _ in range(pool._width + 1)]
        for network, prefixlen in blocks:
            aligned = 0 <= prefixlen <= pool._width and network % pool._size(prefixlen) == 0
            if not aligned or not pool._in_pool(network, prefixlen):
                raise ValueError(f"free block {(network, prefixlen)} is not a prefix of pool {pool_id}")
            pool._free[prefixlen].add(network)
        return pool

    @property
    def prefixes(self) -> list[netaddr.IPNetwork]:
        """The pool's prefixes, compacted and ascending."""
        return list(self._prefixes)

    @property
    def free_blocks(self) -> list[netaddr.IPNetwork]:
        """The free space as networks, ascending by address (a copy; costs ``O(n)``)."""
        return [self._network(network, prefixlen) for network, prefixlen in self.to_blocks()]

    def to_blocks(self) -> list[Block]:
        """The free space as ``(network, prefixlen)`` int pairs, ascending by address, for storage."""
        return sorted((network, prefixlen) for prefixlen, level in enumerate(self._free) for network in level)

    def can_allocate(self, prefixlen: int) -> bool:
        """Whether :meth:`allocate` would succeed for ``prefixlen``. Raises ``BadRequest`` as it does."""
        return self._best_fit_level(prefixlen) is not None

    def allocate(self, prefixlen: int) -> netaddr.IPNetwork:
        """Take a free prefix of length ``prefixlen`` and return it.

        Neutron's rule: among the smallest free blocks that can hold it, the lowest; its lowest sub-block of
        that length. Raises ``SubnetPoolExhausted`` (a ``Conflict``) when no free block is large enough, and
        ``BadRequest("subnet", "prefixlen", ...)`` when ``prefixlen`` is not a prefix length of the pool's
        IP version. The pool's min/max bounds are the caller's to check (:func:`check_prefixlen_in_bounds`).
        """
        level = self._best_fit_level(prefixlen)
        if level is None:
            raise exceptions.SubnetPoolExhausted(self.pool_id, prefixlen)
        block = self._free[level].smallest()
        assert block is not None  # _best_fit_level only returns a non-empty level
        self._carve(block, level, prefixlen)
        return self._network(block, prefixlen)

    def allocate_cidr(self, cidr: CidrInput) -> netaddr.IPNetwork:
        """Take the specific prefix ``cidr`` (host bits cleared) and return it.

        Raises ``Conflict("subnetpool", pool_id, ...)`` if any part of it is allocated or outside the pool,
        and ``BadRequest("subnet", "cidr", ...)`` if it is not a CIDR of the pool's IP version.
        """
        network, prefixlen = self._parse_block(cidr)
        self._carve_or_raise(network, prefixlen)
        return self._network(network, prefixlen)

    def release(self, cidr: CidrInput) -> None:
        """Give the allocated prefix ``cidr`` back, merging it with its free buddies.

        Raises ``Conflict("subnetpool", pool_id, ...)`` if ``cidr`` is not wholly allocated from this pool
        (outside it, or free in part or whole: a double release), and ``BadRequest`` as
        :meth:`allocate_cidr` does.
        """
        network, prefixlen = self._parse_block(cidr)
        if not self._in_pool(network, prefixlen) or self._overlaps_free(network, prefixlen):
            prefix = self._network(network, prefixlen)
            message = f"Prefix {prefix} is not allocated from subnet pool {self.pool_id}."
            raise exceptions.Conflict("subnetpool", self.pool_id, message)
        self._add_free(network, prefixlen)

    def add_prefixes(self, prefixes: Iterable[CidrInput]) -> None:
        """Grow the pool by ``prefixes``; the part not already in the pool becomes free.

        Raises ``BadRequest("subnetpool", "prefixes", ...)`` as :func:`compact_prefixes` does, including
        for prefixes of the other IP version.
        """
        added = compact_prefixes(prefixes)
        grown = compact_prefixes([*self._prefixes, *added])
        new_space = netaddr.IPSet(grown) - netaddr.IPSet(self._prefixes)
        self._set_prefixes(grown)
        for cidr in new_space.iter_cidrs():
            self._add_free(cidr.first, cidr.prefixlen)

    def _set_prefixes(self, prefixes: list[netaddr.IPNetwork]) -> None:
        self._prefixes = prefixes
        # Compacted prefixes hold every aligned block inside the pool whole, so one lookup answers _in_pool.
        self._prefix_firsts = SortedInts(prefix.first for prefix in prefixes)
        self._prefix_last_of = {prefix.first: prefix.last for prefix in prefixes}

    def _size(self, prefixlen: int) -> int:
        return 1 << (self._width - prefixlen)

    def _align(self, network: int, prefixlen: int) -> int:
        """The network address of the ``/prefixlen`` block holding ``network``."""
        return network & ~(self._size(prefixlen) - 1)

    def _network(self, network: int, prefixlen: int) -> netaddr.IPNetwork:
        return netaddr.IPNetwork((network, prefixlen), version=self.ip_version)

    def _parse_block(self, cidr: CidrInput) -> Block:
        parsed = parse_cidr("subnet", "cidr", cidr)
        if parsed.version != self.ip_version:
            raise exceptions.BadRequest(
                "subnet",
                "cidr",
                f"{parsed} is not an IPv{self.ip_version} prefix like those of subnet pool {self.pool_id}",
            )
        return parsed.first, parsed.prefixlen

    def _in_pool(self, network: int, prefixlen: int) -> bool:
        prefix_first = self._prefix_firsts.at_or_below(network)
        last = network + self._size(prefixlen) - 1
        return prefix_first is not None and last <= self._prefix_last_of[prefix_first]

    def _best_fit_level(self, prefixlen: int) -> int | None:
        _check_prefixlen("subnet", "prefixlen", prefixlen, self.ip_version)
        # The longest free prefix length that still holds the request is the smallest block that fits.
        return next((level for level in range(prefixlen, -1, -1) if self._free[level]), None)

    def _free_ancestor_level(self, network: int, prefixlen: int) -> int | None:
        """The length of the free block holding ``network/prefixlen`` whole, or None."""
        for level in range(prefixlen, -1, -1):
            if self._align(network, level) in self._free[level]:
                return level
        return None

    def _overlaps_free(self, network: int, prefixlen: int) -> bool:
        """Whether any address of ``network/prefixlen`` is free."""
        if self._free_ancestor_level(network, prefixlen) is not None:
            return True
        last = network + self._size(prefixlen) - 1
        for level in range(prefixlen + 1, self._width + 1):
            inside = self._free[level].at_or_above(network)
            if inside is not None and inside <= last:
                return True
        return False

    def _carve_or_raise(self, network: int, prefixlen: int) -> None:
        level = self._free_ancestor_level(network, prefixlen)
        if level is None:
            prefix = self._network(network, prefixlen)
            message = f"Prefix {prefix} is not available in subnet pool {self.pool_id}."
            raise exceptions.Conflict("subnetpool", self.pool_id, message)
        self._carve(network, level, prefixlen)

    def _carve(self, network: int, level: int, prefixlen: int) -> None:
        """Take ``network/prefixlen`` out of the free ``/level`` block that holds it.

        The rest of that block stays free as one buddy per length ``level+1 .. prefixlen``: the half of each
        split that does not hold ``network``.
        """
        self._free[level].remove(self._align(network, level))
        for child_level in range(level + 1, prefixlen + 1):
            self._free[child_level].add(self._align(network, child_level) ^ self._size(child_level))

    def _add_free(self, network: int, prefixlen: int) -> None:
        """Make ``network/prefixlen`` free, merging it with its buddy for as long as the buddy is free."""
        while prefixlen > 0:
            buddy = network ^ self._size(prefixlen)
            if buddy not in self._free[prefixlen]:
                break
            self._free[prefixlen].remove(buddy)
            network = min(network, buddy)
            prefixlen -= 1
        self._free[prefixlen].add(network)
