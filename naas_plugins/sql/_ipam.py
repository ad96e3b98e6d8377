"""Free addresses and free prefixes kept in tables, touched a few rows at a time.

These functions are the SQL counterparts of :class:`naas.ipam.FreeAddresses`
and :class:`naas.ipam.FreePrefixes`: the same free space (maximal free address
ranges per subnet; the canonical buddy decomposition of a pool), stored as
rows, so that an allocation reads and writes the two or three rows it changes
and never loads the rest. Every call runs inside the caller's transaction.

Concurrency: where the backend has row locks, the free range about to be
carved is read ``FOR UPDATE``; a pool's free blocks are changed only by a
transaction holding the pool's own row lock (the caller takes it), so the
allocations from one pool take turns and each sees the blocks as the previous
one left them: concurrent allocation is lowest-first, exactly as serial
allocation is. Every write is also a compare-and-swap on the values read
(``WHERE first = :seen AND last = :seen``), and a write that matches no row
raises :func:`~naas_plugins.sql.database.retry_request` so the whole operation
is retried. On SQLite writers are serialised (``BEGIN IMMEDIATE``), so the
compare-and-swap never fails there.

The statements are built once, with bind parameters: SQLAlchemy then finds
their compiled form by a memoised key instead of rebuilding and hashing a new
expression on every call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, cast

import netaddr
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from naas_plugins.sql.database import retry_request
from naas_plugins.sql.models import SubnetFreeRangeRow, SubnetPoolFreeBlockRow, from_hex, to_hex

__all__ = [
    "allocate_address",
    "allocate_any_prefix",
    "allocate_lowest_address",
    "allocate_prefix",
    "count_free_addresses",
    "has_room",
    "insert_free_blocks",
    "insert_free_ranges",
    "release_address",
    "release_blocks",
    "release_prefix",
    "replace_free_ranges",
]

RANGES = cast(sa.Table, SubnetFreeRangeRow.__table__)
BLOCKS = cast(sa.Table, SubnetPoolFreeBlockRow.__table__)


def _both(statement: sa.Select[Any]) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The statement without and with ``FOR UPDATE``."""
    return statement, statement.with_for_update()


def _read_locked(
    connection: Connection,
    statements: tuple[sa.Select[Any], sa.Select[Any]],
    params: dict[str, Any],
    found: Callable[[Any], bool],
) -> Any:
    """The row the locking form of ``statements`` (from :func:`_both`) reads, rechecked if not ``found``.

    On PostgreSQL a locking read that waited for another transaction goes on
    in the snapshot it started with: when that transaction deleted the row
    waited for, the read misses the rows it inserted (the rest of a split
    range) and reports nothing free. So a negative answer is checked with a
    plain read, which takes a new snapshot and waits for nobody; if that read
    does find something, the locked read is tried again.
    """
    plain, locked = statements
    while True:
        row = connection.execute(locked, params).first()
        if found(row) or not found(connection.execute(plain, params).first()):
            return row


def _exists(row: Any) -> bool:
    return row is not None


# Subnet addresses. Parameters: s = subnet id, value / first / last = hex addresses.

_INSERT_RANGE: Final = sa.insert(RANGES)
_DELETE_RANGES: Final = sa.delete(RANGES).where(RANGES.c.subnet_id == sa.bindparam("s"))
_COUNT_RANGES: Final = sa.select(RANGES.c.first, RANGES.c.last).where(RANGES.c.subnet_id == sa.bindparam("s"))
_LOWEST_RANGE: Final = _both(
    sa.select(RANGES.c.first, RANGES.c.last)
    .where(RANGES.c.subnet_id == sa.bindparam("s"))
    .order_by(RANGES.c.first)
    .limit(1)
)
_RANGE_AT_OR_BELOW: Final = _both(
    sa.select(RANGES.c.first, RANGES.c.last)
    .where(RANGES.c.subnet_id == sa.bindparam("s"), RANGES.c.first <= sa.bindparam("value"))
    .order_by(RANGES.c.first.desc())
    .limit(1)
)
_below = (
    sa.select(RANGES.c.first, RANGES.c.last)
    .where(RANGES.c.subnet_id == sa.bindparam("s"), RANGES.c.first < sa.bindparam("value"))
    .order_by(RANGES.c.first.desc())
    .limit(1)
    .subquery()
)
# The range ending just below an address and the one starting just above it, in one statement.
_NEIGHBOURS: Final = sa.union_all(
    sa.select(_below.c.first, _below.c.last),
    sa.select(RANGES.c.first, RANGES.c.last).where(
        RANGES.c.subnet_id == sa.bindparam("s"), RANGES.c.first == sa.bindparam("above")
    ),
)
_SAME_RANGE = sa.and_(
    RANGES.c.subnet_id == sa.bindparam("s"),
    RANGES.c.first == sa.bindparam("seen_first"),
    RANGES.c.last == sa.bindparam("seen_last"),
)
_DELETE_RANGE: Final = sa.delete(RANGES).where(_SAME_RANGE)
_UPDATE_RANGE: Final = sa.update(RANGES).where(_SAME_RANGE)


def insert_free_ranges(connection: Connection, subnet_id: str, ranges: Iterable[tuple[int, int]]) -> None:
    """Store the free ranges of a new subnet (or of new allocation pools): one statement."""
    rows = [{"subnet_id": subnet_id, "first": to_hex(first), "last": to_hex(last)} for first, last in ranges]
    if rows:
        connection.execute(_INSERT_RANGE, rows)


def replace_free_ranges(connection: Connection, subnet_id: str, ranges: Iterable[tuple[int, int]]) -> None:
    """Replace every free range of the subnet (its allocation pools changed)."""
    connection.execute(_DELETE_RANGES, {"s": subnet_id})
    insert_free_ranges(connection, subnet_id, ranges)


def count_free_addresses(connection: Connection, subnet_id: str) -> int:
    """How many addresses are free; reads one row per free range (few, unless the subnet is fragmented)."""
    rows = connection.execute(_COUNT_RANGES, {"s": subnet_id})
    return sum(from_hex(last) - from_hex(first) + 1 for first, last in rows)


def _swap(connection: Connection, statement: sa.Executable, subnet_id: str, row: Any, **values: str) -> None:
    """Change or delete the range ``row`` of the subnet, if it still is as it was read."""
    params = {"s": subnet_id, "seen_first": row.first, "seen_last": row.last, **values}
    if connection.execute(statement, params).rowcount != 1:
        raise retry_request(f"free range {row.first}-{row.last} of subnet {subnet_id} changed")


def allocate_lowest_address(connection: Connection, subnet_id: str, lock: bool) -> int | None:
    """Take the lowest free address of the subnet's pools; None if there is none. Two statements."""
    params = {"s": subnet_id}
    if lock:
        row = _read_locked(connection, _LOWEST_RANGE, params, _exists)
    else:
        row = connection.execute(_LOWEST_RANGE[False], params).first()
    if row is None:
        return None
    first, last = from_hex(row.first), from_hex(row.last)
    if first == last:
        _swap(connection, _DELETE_RANGE, subnet_id, row)
    else:
        _swap(connection, _UPDATE_RANGE, subnet_id, row, first=to_hex(first + 1))
    return first


def allocate_address(connection: Connection, subnet_id: str, value: int, lock: bool) -> bool:
    """Take ``value`` out of the free ranges; False if it is not free (taken, or outside the pools)."""
    params = {"s": subnet_id, "value": to_hex(value)}

    def holds(row: Any) -> bool:
        return row is not None and from_hex(row.last) >= value

    if lock:
        row = _read_locked(connection, _RANGE_AT_OR_BELOW, params, holds)
    else:
        row = connection.execute(_RANGE_AT_OR_BELOW[False], params).first()
    if not holds(row):
        return False
    first, last = from_hex(row.first), from_hex(row.last)
    if first == last:
        _swap(connection, _DELETE_RANGE, subnet_id, row)
    elif value == first:
        _swap(connection, _UPDATE_RANGE, subnet_id, row, first=to_hex(value + 1))
    else:
        _swap(connection, _UPDATE_RANGE, subnet_id, row, last=to_hex(value - 1))
        if value < last:
            insert_free_ranges(connection, subnet_id, [(value + 1, last)])
    return True


def release_address(connection: Connection, subnet_id: str, value: int) -> None:
    """Give ``value`` (inside the pools, allocated) back, merging it with the free ranges it touches.

    One read (the ranges just below and just above) and one or two writes.
    """
    hexed = to_hex(value)
    neighbours = connection.execute(_NEIGHBOURS, {"s": subnet_id, "value": hexed, "above": to_hex(value + 1)}).all()
    before = next((row for row in neighbours if from_hex(row.last) == value - 1), None)
    after = next((row for row in neighbours if from_hex(row.first) == value + 1), None)
    if before is not None and after is not None:
        _swap(connection, _DELETE_RANGE, subnet_id, after)
        _swap(connection, _UPDATE_RANGE, subnet_id, before, last=after.last)
    elif before is not None:
        _swap(connection, _UPDATE_RANGE, subnet_id, before, last=hexed)
    elif after is not None:
        _swap(connection, _UPDATE_RANGE, subnet_id, after, first=hexed)
    else:
        insert_free_ranges(connection, subnet_id, [(value, value)])


# Pool prefixes. A block is (host_bits, network): host_bits = address width - prefix length.
# Parameters: p = pool id, bits = host bits, network = hex network.

_INSERT_BLOCK: Final = sa.insert(BLOCKS)
_fitting = (
    sa.select(BLOCKS.c.host_bits, BLOCKS.c.network)
    .where(BLOCKS.c.subnetpool_id == sa.bindparam("p"), BLOCKS.c.host_bits >= sa.bindparam("bits"))
    .order_by(BLOCKS.c.host_bits, BLOCKS.c.network)
    .limit(1)
)
_SMALLEST_FITTING: Final = _fitting
_AMONG_BLOCKS: Final = sa.select(BLOCKS.c.host_bits, BLOCKS.c.network).where(
    BLOCKS.c.subnetpool_id == sa.bindparam("p"),
    sa.tuple_(BLOCKS.c.host_bits, BLOCKS.c.network).in_(sa.bindparam("blocks", expanding=True)),
)
_DELETE_BLOCKS: Final = sa.delete(BLOCKS).where(
    BLOCKS.c.subnetpool_id == sa.bindparam("p"),
    sa.tuple_(BLOCKS.c.host_bits, BLOCKS.c.network).in_(sa.bindparam("blocks", expanding=True)),
)
_SAME_BLOCK = sa.and_(
    BLOCKS.c.subnetpool_id == sa.bindparam("p"),
    BLOCKS.c.host_bits == sa.bindparam("seen_bits"),
    BLOCKS.c.network == sa.bindparam("seen_network"),
)
_DELETE_BLOCK: Final = sa.delete(BLOCKS).where(_SAME_BLOCK)
_UPDATE_BLOCK: Final = sa.update(BLOCKS).where(_SAME_BLOCK)


def insert_free_blocks(
    connection: Connection, subnetpool_id: str, width: int, prefixes: Iterable[netaddr.IPNetwork]
) -> None:
    """Store the free blocks of a new pool: its compacted prefixes. One statement."""
    rows = [
        {"subnetpool_id": subnetpool_id, "host_bits": width - prefix.prefixlen, "network": to_hex(prefix.first)}
        for prefix in prefixes
    ]
    if rows:
        connection.execute(_INSERT_BLOCK, rows)


def has_room(connection: Connection, subnetpool_id: str, width: int, prefixlen: int) -> bool:
    """Whether some free block can hold a /``prefixlen``: one index probe."""
    return connection.execute(_SMALLEST_FITTING, {"p": subnetpool_id, "bits": width - prefixlen}).first() is not None


def allocate_any_prefix(connection: Connection, subnetpool_id: str, width: int, prefixlen: int) -> int | None:
    """Carve the lowest /``prefixlen`` of the smallest free block that holds one; its network, or None.

    The caller holds the pool's row lock (see the module docstring). Two or three
    statements: read the block, replace it by its first buddy, insert the others.
    """
    needed = width - prefixlen
    row = connection.execute(_SMALLEST_FITTING, {"p": subnetpool_id, "bits": needed}).first()
    if row is None:
        return None
    network = from_hex(row.network)
    _carve(connection, subnetpool_id, (row.host_bits, network), network, needed)
    return network


def allocate_prefix(
    connection: Connection,
    subnetpool_id: str,
    width: int,
    prefix: netaddr.IPNetwork,
    largest_host_bits: int,
) -> bool:
    """Carve the specific ``prefix``; False if it is not wholly free. The caller holds the pool's row lock.

    ``largest_host_bits`` is the size of the pool's largest prefix: the free block
    holding ``prefix`` is one of its aligned ancestors up to that size, all looked
    up in one statement.
    """
    needed = width - prefix.prefixlen
    network = prefix.first
    ancestors = [(bits, to_hex(network & ~((1 << bits) - 1))) for bits in range(needed, largest_host_bits + 1)]
    if not ancestors:
        return False
    row = connection.execute(_AMONG_BLOCKS, {"p": subnetpool_id, "blocks": ancestors}).first()
    if row is None:
        return False
    _carve(connection, subnetpool_id, (row.host_bits, from_hex(row.network)), network, needed)
    return True


def _carve(connection: Connection, subnetpool_id: str, block: tuple[int, int], wanted: int, wanted_bits: int) -> None:
    """Take ``wanted`` (``wanted_bits`` host bits) out of the free ``block``; its other halves stay free."""
    bits, start = block
    # Splitting the block in halves down to the wanted size leaves one free half (a buddy) per level.
    buddies = [((wanted & ~((1 << level) - 1)) ^ (1 << level), level) for level in range(bits - 1, wanted_bits - 1, -1)]
    params: dict[str, Any] = {"p": subnetpool_id, "seen_bits": bits, "seen_network": to_hex(start)}
    if buddies:
        # Turning the block's row into its first buddy saves a DELETE.
        first_network, first_bits = buddies[0]
        result = connection.execute(
            _UPDATE_BLOCK, {**params, "host_bits": first_bits, "network": to_hex(first_network)}
        )
    else:
        result = connection.execute(_DELETE_BLOCK, params)
    if result.rowcount != 1:
        raise retry_request(f"free block {to_hex(start)} ({bits} host bits) of subnet pool {subnetpool_id} changed")
    if len(buddies) > 1:
        connection.execute(
            _INSERT_BLOCK,
            [
                {"subnetpool_id": subnetpool_id, "host_bits": level, "network": to_hex(network)}
                for network, level in buddies[1:]
            ],
        )


def release_prefix(
    connection: Connection, subnetpool_id: str, width: int, prefix: netaddr.IPNetwork, largest_host_bits: int
) -> None:
    """Give ``prefix`` back to the pool, merged with its free buddies as far as they go.

    Three statements whatever the number of merges: read every buddy it could merge
    with, delete those it does merge with, insert the merged block.
    """
    release_blocks(connection, subnetpool_id, width, [prefix], largest_host_bits)


def release_blocks(
    connection: Connection,
    subnetpool_id: str,
    width: int,
    prefixes: Sequence[netaddr.IPNetwork],
    largest_host_bits: int,
) -> None:
    """Make each of ``prefixes`` (disjoint, not free) free, merging with free buddies (see :func:`release_prefix`).

    The caller holds the pool's row lock.
    """
    for prefix in prefixes:
        bits, network = width - prefix.prefixlen, prefix.first
        candidates = [
            (level, (network & ~((1 << level) - 1)) ^ (1 << level)) for level in range(bits, largest_host_bits)
        ]
        present: set[tuple[int, int]] = set()
        if candidates:
            rows = connection.execute(
                _AMONG_BLOCKS,
                {"p": subnetpool_id, "blocks": [(level, to_hex(start)) for level, start in candidates]},
            )
            present = {(row.host_bits, from_hex(row.network)) for row in rows}
        merged: list[tuple[int, str]] = []
        for level, buddy in candidates:
            if (level, buddy) not in present:
                break
            merged.append((level, to_hex(buddy)))
            bits, network = level + 1, network & ~((1 << (level + 1)) - 1)
        if merged:
            removed = connection.execute(_DELETE_BLOCKS, {"p": subnetpool_id, "blocks": merged}).rowcount
            if removed != len(merged):
                raise retry_request(f"a free block next to {prefix} in subnet pool {subnetpool_id} changed")
        connection.execute(
            _INSERT_BLOCK, {"subnetpool_id": subnetpool_id, "host_bits": bits, "network": to_hex(network)}
        )
