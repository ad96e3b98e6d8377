"""Exact string comparison on MySQL/MariaDB, and columns that hold the largest values requests admit.

* MySQL/MariaDB: every table, and with it every text column, becomes ``utf8mb4`` with a
  binary, NO PAD collation (``utf8mb4_nopad_bin`` on MariaDB, ``utf8mb4_0900_bin`` on MySQL 8;
  ``utf8mb4_bin`` is PAD SPACE, so ``'alice '`` would still equal ``'alice'``). Tables created under a case-, accent- or
  trailing-space-insensitive server default (``utf8mb4_general_ci``) compared ``ALICE``
  equal to ``alice``: one project could list another's resources and take over its
  topology record. SQLite and PostgreSQL already compare exactly: nothing to do there.
* MySQL/MariaDB: the comma-separated lists (pool prefixes, allocation pools, topology
  subnet ids) become ``MEDIUMTEXT``; ``TEXT`` stops at 64 KiB.
* Every backend: ``ip_allocations.position`` becomes ``INTEGER`` (it was ``SMALLINT``).

Revision ID: 0002_exact_strings_and_sizes
Revises: 0001_initial_schema
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002_exact_strings_and_sizes"
down_revision = "0001_initial_schema"
branch_labels = None
depends_on = None

CHARSET = "utf8mb4"

TABLES = (
    "networks",
    "subnetpools",
    "subnetpool_free_blocks",
    "subnets",
    "subnet_free_ranges",
    "ports",
    "ip_allocations",
    "routers",
    "floatingips",
    "auto_allocated_topologies",
)
LISTS = (("subnetpools", "prefixes"), ("subnets", "allocation_pools"), ("auto_allocated_topologies", "subnet_ids"))


# ip_allocations as revision 0001 created it.
_IP_ALLOCATIONS_0001 = sa.Table(
    "ip_allocations",
    sa.MetaData(),
    sa.Column("subnet_id", sa.String(36), nullable=False),
    sa.Column("ip_address", sa.String(64), nullable=False),
    sa.Column("port_id", sa.String(36), nullable=False),
    sa.Column("position", sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(["subnet_id"], ["subnets.id"], name="fk_ip_allocations_subnet_id_subnets"),
    sa.ForeignKeyConstraint(["port_id"], ["ports.id"], name="fk_ip_allocations_port_id_ports", ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("subnet_id", "ip_address", name="pk_ip_allocations"),
    sa.Index("ix_ip_allocations_port_id", "port_id"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        _exact_strings_on_mysql()
    # On SQLite the batch copies the table; copy_from says what it is, so offline ("naas db upgrade --sql")
    # needs no reflection of a database it does not have.
    with op.batch_alter_table("ip_allocations", copy_from=_IP_ALLOCATIONS_0001) as batch:
        batch.alter_column("position", type_=sa.Integer(), existing_type=sa.SmallInteger(), existing_nullable=False)


def _exact_strings_on_mysql() -> None:
    # MariaDB refuses to change the collation of a column a foreign key joins, even with the
    # checks off: the keys are dropped while their two ends change, then made again as they were.
    bind = op.get_bind()
    collation = "utf8mb4_nopad_bin" if getattr(bind.dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
    inspector = sa.inspect(bind)
    foreign_keys = [(table, key) for table in TABLES for key in inspector.get_foreign_keys(table)]
    for table, key in foreign_keys:
        op.drop_constraint(str(key["name"]), table, type_="foreignkey")
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} CONVERT TO CHARACTER SET {CHARSET} COLLATE {collation}")
    for table, column in LISTS:
        op.alter_column(
            table,
            column,
            type_=mysql.MEDIUMTEXT(charset=CHARSET, collation=collation),
            existing_type=sa.Text(),
            existing_nullable=False,
        )
    for table, key in foreign_keys:
        op.create_foreign_key(
            str(key["name"]),
            table,
            key["referred_table"],
            key["constrained_columns"],
            key["referred_columns"],
            ondelete=key["options"].get("ondelete"),
        )
