"""Get-me-a-network's topology records in the sql plugins' database.

The table ``auto_allocated_topologies`` is keyed by project, so creating a
record is the claim the contract of :class:`naas.auto_allocate.TopologyStore`
asks for: of two processes inserting one project's record, the database lets
exactly one succeed. Every change is ``UPDATE`` / ``DELETE ... WHERE project_id
= :p AND version = :seen``, a compare-and-swap whose row count says who won.
Each method is one statement in its own transaction.

Project ids are compared exactly: the column's collation does that on every
backend (see :mod:`naas_plugins.sql.models`), and :meth:`SqlTopologyStore.get`
checks the id it read back, so that a schema still comparing loosely cannot hand
one project another's record.

Waiting polls the record's version, starting at a few milliseconds and backing
off, since another process's commit cannot wake this one.
"""

from __future__ import annotations

import time
from typing import Any, Final, cast

import sqlalchemy as sa
from oslo_db import exception as db_exc

from naas.auto_allocate.store import TopologyRecord, TopologyStatus, TopologyStore
from naas.exceptions import BadRequest
from naas_plugins.sql._rows import format_ids, parse_ids
from naas_plugins.sql.database import Database
from naas_plugins.sql.models import NAME_LENGTH, AutoAllocatedTopologyRow

__all__ = ["SqlTopologyStore"]

TOPOLOGIES = cast(sa.Table, AutoAllocatedTopologyRow.__table__)

_FIRST_POLL: Final = 0.005
_LONGEST_POLL: Final = 0.05

# Built once, with bind parameters (see naas_plugins.sql.core).
_GET: Final = sa.select(TOPOLOGIES).where(TOPOLOGIES.c.project_id == sa.bindparam("b_project"))
_VERSION: Final = sa.select(TOPOLOGIES.c.version).where(TOPOLOGIES.c.project_id == sa.bindparam("b_project"))
_INSERT: Final = sa.insert(TOPOLOGIES)
_SEEN = sa.and_(TOPOLOGIES.c.project_id == sa.bindparam("b_project"), TOPOLOGIES.c.version == sa.bindparam("b_version"))
_REPLACE: Final = sa.update(TOPOLOGIES).where(_SEEN)
_REMOVE: Final = sa.delete(TOPOLOGIES).where(_SEEN)
_UNSETTLED: Final = (
    sa.select(TOPOLOGIES).where(TOPOLOGIES.c.status != TopologyStatus.READY.value).order_by(TOPOLOGIES.c.project_id)
)


def _values(record: TopologyRecord, version: int) -> dict[str, Any]:
    return {
        "status": record.status.value,
        "owner": record.owner,
        "lease_expires_at": record.lease_expires_at,
        "network_id": record.network_id,
        "router_id": record.router_id,
        "subnet_ids": format_ids(record.subnet_ids),
        "version": version,
    }


def _record(row: sa.Row[Any]) -> TopologyRecord:
    return TopologyRecord(
        project_id=row.project_id,
        status=TopologyStatus(row.status),
        owner=row.owner,
        lease_expires_at=row.lease_expires_at,
        network_id=row.network_id,
        router_id=row.router_id,
        subnet_ids=parse_ids(row.subnet_ids),
        version=row.version,
    )


class SqlTopologyStore(TopologyStore):
    """Topology records in ``auto_allocated_topologies``, shared by every process using the database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, project_id: str) -> TopologyRecord | None:
        with self.database.reader() as connection:
            row = connection.execute(_GET, {"b_project": project_id}).first()
        return None if row is None or row.project_id != project_id else _record(row)

    def create(self, record: TopologyRecord) -> bool:
        """Claim the project's record; BadRequest for a project id longer than the column holds."""
        if len(record.project_id) > NAME_LENGTH:
            raise BadRequest("auto_allocated_topology", "project_id", f"is longer than {NAME_LENGTH} characters")

        def attempt() -> bool:
            try:
                with self.database.writer() as connection:
                    connection.execute(_INSERT, {"project_id": record.project_id, **_values(record, record.version)})
            except db_exc.DBDuplicateEntry:
                return False
            return True

        return self.database.run(attempt)

    def replace(self, expected: TopologyRecord, new: TopologyRecord) -> bool:
        return self._swap(_REPLACE, expected, _values(new, expected.version + 1))

    def remove(self, expected: TopologyRecord) -> bool:
        return self._swap(_REMOVE, expected, {})

    def _swap(self, statement: sa.Executable, expected: TopologyRecord, values: dict[str, Any]) -> bool:
        """Run the compare-and-swap ``statement``; whether the record still had ``expected.version``."""
        params = {"b_project": expected.project_id, "b_version": expected.version, **values}

        def attempt() -> bool:
            with self.database.writer() as connection:
                return connection.execute(statement, params).rowcount == 1

        return self.database.run(attempt)

    def wait_for_change(self, project_id: str, seen_version: int | None, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pause = _FIRST_POLL
        while True:
            with self.database.reader() as connection:
                version = connection.execute(_VERSION, {"b_project": project_id}).scalar_one_or_none()
            remaining = deadline - time.monotonic()
            if version != seen_version or remaining <= 0:
                return
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, _LONGEST_POLL)

    def list_abandoned(self) -> list[TopologyRecord]:
        with self.database.reader() as connection:
            records = [_record(row) for row in connection.execute(_UNSETTLED)]
        return [record for record in records if record.is_abandoned()]
