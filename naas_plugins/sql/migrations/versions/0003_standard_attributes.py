"""Neutron's standard attributes on every resource: description, tags, timestamps, revision number.

Each of networks, subnets, subnetpools, ports, routers and floatingips gains:

* ``description`` (``VARCHAR(255)``, empty for existing rows);
* ``tags``: the sorted tags, comma-separated (NULL: none), ``MEDIUMTEXT`` on MySQL/MariaDB;
* ``created_at_utc`` / ``updated_at_utc``: the wire timestamps (``2026-12-01T17:00:00Z``). Existing
  rows get the time they were made, from the nanosecond ``created_at`` lists sort by;
* ``revision_number`` (``BIGINT``, 0 for existing rows).

On MySQL/MariaDB the text columns get the binary, NO PAD collation of revision 0002. Every
step is plain DDL and an ``UPDATE`` per table, so ``naas db upgrade --sql`` prints it for
SQLite as for the others.

Revision ID: 0003_standard_attributes
Revises: 0002_exact_strings_and_sizes
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003_standard_attributes"
down_revision = "0002_exact_strings_and_sizes"
branch_labels = None
depends_on = None

CHARSET = "utf8mb4"
EPOCH = "1970-01-01T00:00:00Z"
TABLES = ("networks", "subnetpools", "subnets", "ports", "routers", "floatingips")

# created_at (nanoseconds since the epoch, UTC) spelled as the wire spells a time, per dialect.
_FROM_NANOSECONDS = {
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%SZ', created_at / 1000000000, 'unixepoch')",
    "postgresql": (
        # A colon before a word is a bind parameter in SQLAlchemy's text(): escaped.
        "to_char(to_timestamp(created_at / 1000000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\\:MI\\:SS\"Z\"')"
    ),
    # The session runs in UTC (set below), so FROM_UNIXTIME gives UTC.
    "mysql": "DATE_FORMAT(FROM_UNIXTIME(created_at DIV 1000000000), '%Y-%m-%dT%H:%i:%sZ')",
}


def _text(length: int | None, dialect: str) -> sa.types.TypeEngine[str]:
    if dialect in ("mysql", "mariadb"):
        collation = "utf8mb4_nopad_bin" if _is_mariadb() else "utf8mb4_0900_bin"
        if length is None:
            return mysql.MEDIUMTEXT(charset=CHARSET, collation=collation)
        return mysql.VARCHAR(length, charset=CHARSET, collation=collation)
    return sa.String(length) if length else sa.Text()


def _is_mariadb() -> bool:
    return bool(getattr(op.get_context().dialect, "is_mariadb", False))


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    for table in TABLES:
        op.add_column(table, sa.Column("description", _text(255, dialect), nullable=False, server_default=""))
        op.add_column(table, sa.Column("tags", _text(None, dialect), nullable=True))
        for column in ("created_at_utc", "updated_at_utc"):
            op.add_column(table, sa.Column(column, _text(20, dialect), nullable=False, server_default=EPOCH))
        op.add_column(table, sa.Column("revision_number", sa.BigInteger(), nullable=False, server_default="0"))
    spelled = _FROM_NANOSECONDS["mysql" if dialect == "mariadb" else dialect]
    if dialect in ("mysql", "mariadb"):
        op.execute("SET time_zone = '+00:00'")
    for table in TABLES:
        op.execute(f"UPDATE {table} SET created_at_utc = {spelled}, updated_at_utc = {spelled}")
