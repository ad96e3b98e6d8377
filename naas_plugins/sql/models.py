"""The sql plugins' schema: SQLAlchemy 2 declarative models.

The migrations in :mod:`naas_plugins.sql.migrations` create exactly this
schema (a test compares them). The rules that two concurrent writers could
both pass if they were only checked in Python are constraints here:

* one topology record per project: ``auto_allocated_topologies.project_id`` is the key;
* one default external network: ``networks.default_marker`` is TRUE on the default
  and NULL on every other network, under a UNIQUE constraint (NULLs never collide
  on SQLite, PostgreSQL or MariaDB);
* one default subnet pool per IP version: the same, UNIQUE on ``(ip_version, default_marker)``;
* no address twice in a subnet: ``ip_allocations`` is keyed by ``(subnet_id, ip_address)``;
* no prefix twice from a pool: UNIQUE ``(subnetpool_id, cidr)`` on subnets, and prefixes are
  carved out of ``subnetpool_free_blocks`` rows that only one transaction can delete;
* no dangling references: foreign keys everywhere (SQLite runs with ``foreign_keys=ON``);
  ``RESTRICT`` where deleting the parent must be refused while children exist (a network
  with subnets or ports, a subnet with addresses, a pool with subnets): a child added by a
  concurrent transaction after the checks makes the delete fail and be retried, instead
  of vanishing; ``CASCADE`` only where the children are the parent's private bookkeeping
  (free ranges and blocks, a port's addresses).

Free space is stored, not computed: ``subnet_free_ranges`` holds each subnet's free
address ranges and ``subnetpool_free_blocks`` each pool's free prefixes (the
canonical buddy decomposition of :class:`naas.ipam.FreePrefixes`). Addresses in
both are fixed-width, zero-padded hex strings (:func:`to_hex`), so string order is
numeric order and one index range scan finds the lowest free address or the
smallest free block, however many rows there are.

Unique constraints are named ``uniq_<table>0<column>0<column>``: oslo.db reads the
column names back from that form into ``DBDuplicateEntry.columns`` on every backend.

Every string compares exactly, whatever the server's defaults (:class:`ExactString`): on
MySQL/MariaDB each text column is ``utf8mb4`` with a binary, NO PAD collation (a server
default such as ``utf8mb4_general_ci`` would make ``alice``, ``ALICE``, ``alice `` and
``alicé`` one project id); SQLite and PostgreSQL compare strings exactly already.

Sizes hold the largest values the requests admit (:mod:`naas.requests`): names and
project ids of 255 characters, comma-separated lists (pool prefixes, allocation pools)
in ``MEDIUMTEXT`` on MySQL/MariaDB, whose ``TEXT`` stops at 64 KiB.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "HEX_WIDTH",
    "MARIADB_COLLATION",
    "MYSQL_CHARSET",
    "MYSQL_COLLATION",
    "NAME_LENGTH",
    "AutoAllocatedTopologyRow",
    "Base",
    "ExactString",
    "FloatingIPRow",
    "IPAllocationRow",
    "NetworkRow",
    "PortRow",
    "RouterRow",
    "SubnetFreeRangeRow",
    "SubnetPoolFreeBlockRow",
    "SubnetPoolRow",
    "SubnetRow",
    "exact_collation",
    "from_hex",
    "next_created_at",
    "to_hex",
]

HEX_WIDTH = 32
"""Hex digits of a stored address: enough for IPv6, and IPv4 uses the same width."""

ID_LENGTH = 36
NAME_LENGTH = 255
"""The longest name or project id stored (naas.requests admits no longer)."""
ADDRESS_LENGTH = 64

MYSQL_CHARSET = "utf8mb4"
MARIADB_COLLATION = "utf8mb4_nopad_bin"
MYSQL_COLLATION = "utf8mb4_0900_bin"
"""The collations of every text column on MariaDB and on MySQL 8: byte-wise and NO PAD.

(``utf8mb4_bin`` would not do: it is PAD SPACE, so ``'alice '`` still equals ``'alice'``.)
"""


def exact_collation(dialect: sa.Dialect) -> str:
    """The binary, NO PAD ``utf8mb4`` collation of a MySQL or MariaDB server."""
    return MARIADB_COLLATION if getattr(dialect, "is_mariadb", False) else MYSQL_COLLATION


class ExactString(sa.types.TypeDecorator[str]):
    """``VARCHAR(length)`` (``MEDIUMTEXT`` without a length) that compares exactly on every backend.

    SQLite and PostgreSQL compare strings exactly already; on MySQL/MariaDB the
    column gets the collation of :func:`exact_collation`, whatever the server's default.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, length: int | None = None) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name not in ("mysql", "mariadb"):
            return dialect.type_descriptor(sa.String(self.length) if self.length else sa.Text())
        collation = exact_collation(dialect)
        if self.length is None:
            return dialect.type_descriptor(mysql.MEDIUMTEXT(charset=MYSQL_CHARSET, collation=collation))
        return dialect.type_descriptor(mysql.VARCHAR(self.length, charset=MYSQL_CHARSET, collation=collation))


def to_hex(value: int) -> str:
    """An address as a fixed-width hex string; lexical order of these is numeric order."""
    return f"{value:0{HEX_WIDTH}x}"


def from_hex(text: str) -> int:
    return int(text, 16)


_clock_lock = threading.Lock()
_last_created_at = 0


def next_created_at() -> int:
    """Nanoseconds since the epoch, strictly increasing within this process.

    Lists are returned oldest first; two rows made within one clock tick still
    sort in the order they were made (ties between processes fall back to the id).
    """
    global _last_created_at
    with _clock_lock:
        _last_created_at = max(time.time_ns(), _last_created_at + 1)
        return _last_created_at


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _id_column() -> Mapped[str]:
    return mapped_column(ExactString(ID_LENGTH), primary_key=True)


def _project_column() -> Mapped[str]:
    return mapped_column(ExactString(NAME_LENGTH), nullable=False, index=True)


def _created_column() -> Mapped[int]:
    return mapped_column(sa.BigInteger, nullable=False)


TIMESTAMP_LENGTH = 20
"""``2026-12-01T17:00:00Z``: the standard attributes' timestamps, stored as the wire spells them."""
EPOCH = "1970-01-01T00:00:00Z"


class StandardAttributes:
    """Neutron's standard attributes (:data:`naas.resources.STANDARD_ATTRIBUTES`), on every resource's row.

    ``tags`` are the sorted tags, comma-separated (no tag holds a comma), read and written whole with the
    row like a pool's prefixes; NULL (rows from before revision 0003) means none. The timestamps keep the
    wire form, whose string order is time order. ``created_at`` is the older, finer column lists sort by.
    """

    description: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False, server_default="")
    tags: Mapped[str | None] = mapped_column(ExactString(), nullable=True)
    created_at_utc: Mapped[str] = mapped_column(ExactString(TIMESTAMP_LENGTH), nullable=False, server_default=EPOCH)
    updated_at_utc: Mapped[str] = mapped_column(ExactString(TIMESTAMP_LENGTH), nullable=False, server_default=EPOCH)
    revision_number: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, server_default="0")


class NetworkRow(StandardAttributes, Base):
    __tablename__ = "networks"
    __table_args__ = (sa.UniqueConstraint("default_marker", name="uniq_networks0default_marker"),)

    id: Mapped[str] = _id_column()
    project_id: Mapped[str] = _project_column()
    name: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False)
    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    shared: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    router_external: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    is_default: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    # TRUE on the default external network, NULL elsewhere: the UNIQUE constraint allows one TRUE.
    default_marker: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    mtu: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    status: Mapped[str] = mapped_column(ExactString(16), nullable=False)
    created_at: Mapped[int] = _created_column()


class SubnetPoolRow(StandardAttributes, Base):
    __tablename__ = "subnetpools"
    __table_args__ = (
        sa.UniqueConstraint("ip_version", "default_marker", name="uniq_subnetpools0ip_version0default_marker"),
    )

    id: Mapped[str] = _id_column()
    project_id: Mapped[str] = _project_column()
    name: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False)
    ip_version: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    # The compacted prefixes, comma-separated: read and written whole with the pool.
    prefixes: Mapped[str] = mapped_column(ExactString(), nullable=False)
    default_prefixlen: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    min_prefixlen: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    max_prefixlen: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    shared: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    is_default: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    # TRUE on the default pool of its IP version, NULL elsewhere (see NetworkRow.default_marker).
    default_marker: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    default_quota: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    created_at: Mapped[int] = _created_column()


class SubnetPoolFreeBlockRow(Base):
    """One free block of a pool.

    ``host_bits`` is the block's size as a power of two (address width minus
    prefix length) rather than its prefix length, so that "the smallest block
    that fits, lowest address first" is ``host_bits >= :needed ORDER BY host_bits,
    network LIMIT 1``: the primary key's own order, one index probe, no sort of
    the blocks of a level.
    """

    __tablename__ = "subnetpool_free_blocks"

    subnetpool_id: Mapped[str] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("subnetpools.id", ondelete="CASCADE"), primary_key=True
    )
    host_bits: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    network: Mapped[str] = mapped_column(ExactString(HEX_WIDTH), primary_key=True)


class SubnetRow(StandardAttributes, Base):
    __tablename__ = "subnets"
    __table_args__ = (
        # Guards, besides the free blocks, against one prefix handed out twice by a pool.
        sa.UniqueConstraint("subnetpool_id", "cidr", name="uniq_subnets0subnetpool_id0cidr"),
        # Quota counts a project's subnets in a pool without reading the pool's others.
        sa.Index("ix_subnets_subnetpool_id_project_id", "subnetpool_id", "project_id"),
    )

    id: Mapped[str] = _id_column()
    project_id: Mapped[str] = _project_column()
    # RESTRICT, not CASCADE: a network is deleted after its subnets, each of which first gives its
    # prefix back to its pool; a cascade could sweep away a subnet added meanwhile with its prefix.
    network_id: Mapped[str] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("networks.id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False)
    ip_version: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    cidr: Mapped[str] = mapped_column(ExactString(ADDRESS_LENGTH), nullable=False)
    gateway_ip: Mapped[str | None] = mapped_column(ExactString(ADDRESS_LENGTH), nullable=True)
    # "first-last" ranges, comma-separated: read and written whole with the subnet.
    allocation_pools: Mapped[str] = mapped_column(ExactString(), nullable=False)
    enable_dhcp: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    # RESTRICT: a pool cannot be deleted from under its subnets.
    subnetpool_id: Mapped[str | None] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("subnetpools.id"), nullable=True
    )
    created_at: Mapped[int] = _created_column()


class SubnetFreeRangeRow(Base):
    """One maximal range of free addresses in a subnet's allocation pools."""

    __tablename__ = "subnet_free_ranges"

    subnet_id: Mapped[str] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True
    )
    first: Mapped[str] = mapped_column(ExactString(HEX_WIDTH), primary_key=True)
    last: Mapped[str] = mapped_column(ExactString(HEX_WIDTH), nullable=False)


class PortRow(StandardAttributes, Base):
    __tablename__ = "ports"
    __table_args__ = (sa.UniqueConstraint("network_id", "mac_address", name="uniq_ports0network_id0mac_address"),)

    id: Mapped[str] = _id_column()
    project_id: Mapped[str] = _project_column()
    # RESTRICT: a network cannot be deleted from under its ports.
    network_id: Mapped[str] = mapped_column(ExactString(ID_LENGTH), sa.ForeignKey("networks.id"), nullable=False)
    name: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False)
    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    mac_address: Mapped[str] = mapped_column(ExactString(32), nullable=False)
    device_id: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False, index=True)
    device_owner: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False)
    status: Mapped[str] = mapped_column(ExactString(16), nullable=False)
    created_at: Mapped[int] = _created_column()


class IPAllocationRow(Base):
    """An address held by a port. The key makes a second holder of one address impossible."""

    __tablename__ = "ip_allocations"

    # RESTRICT: a subnet cannot be deleted from under the addresses on it.
    subnet_id: Mapped[str] = mapped_column(ExactString(ID_LENGTH), sa.ForeignKey("subnets.id"), primary_key=True)
    ip_address: Mapped[str] = mapped_column(ExactString(ADDRESS_LENGTH), primary_key=True)
    port_id: Mapped[str] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("ports.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # The address's place in the port's fixed_ips, which keep the order they were asked for in.
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False)


class RouterRow(StandardAttributes, Base):
    __tablename__ = "routers"

    id: Mapped[str] = _id_column()
    project_id: Mapped[str] = _project_column()
    name: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False)
    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    status: Mapped[str] = mapped_column(ExactString(16), nullable=False)
    gw_network_id: Mapped[str | None] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("networks.id"), nullable=True
    )
    gw_port_id: Mapped[str | None] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("ports.id"), nullable=True, index=True
    )
    enable_snat: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    created_at: Mapped[int] = _created_column()


class FloatingIPRow(StandardAttributes, Base):
    __tablename__ = "floatingips"
    __table_args__ = (
        # One floating IP per fixed address and external network.
        sa.UniqueConstraint("floating_network_id", "fixed_port_id", "fixed_ip_address", name="uq_floatingips_fixed_ip"),
    )

    id: Mapped[str] = _id_column()
    project_id: Mapped[str] = _project_column()
    floating_network_id: Mapped[str] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("networks.id"), nullable=False
    )
    floating_ip_address: Mapped[str] = mapped_column(ExactString(ADDRESS_LENGTH), nullable=False)
    floating_port_id: Mapped[str] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("ports.id", ondelete="CASCADE"), nullable=False, index=True
    )
    fixed_port_id: Mapped[str | None] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("ports.id"), nullable=True, index=True
    )
    fixed_ip_address: Mapped[str | None] = mapped_column(ExactString(ADDRESS_LENGTH), nullable=True)
    router_id: Mapped[str | None] = mapped_column(
        ExactString(ID_LENGTH), sa.ForeignKey("routers.id"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(ExactString(16), nullable=False)
    created_at: Mapped[int] = _created_column()


class AutoAllocatedTopologyRow(Base):
    """Get-me-a-network's record of a project's topology (see :mod:`naas.auto_allocate.store`).

    No foreign keys on purpose: the record must outlive the resources it names
    (a user may delete them; the next request repairs the topology).
    """

    __tablename__ = "auto_allocated_topologies"

    project_id: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), primary_key=True)
    status: Mapped[str] = mapped_column(ExactString(16), nullable=False)
    owner: Mapped[str | None] = mapped_column(ExactString(NAME_LENGTH), nullable=True)
    lease_expires_at: Mapped[float] = mapped_column(sa.Double, nullable=False)
    network_id: Mapped[str | None] = mapped_column(ExactString(ID_LENGTH), nullable=True)
    router_id: Mapped[str | None] = mapped_column(ExactString(ID_LENGTH), nullable=True)
    # Comma-separated ids, in the order they were made.
    subnet_ids: Mapped[str] = mapped_column(ExactString(), nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
