"""One long-lived connection to the OVN northbound database, and the reconciliation of one resource's rows.

ovsdbapp keeps an in-memory replica of the database (the OVS IDL), updated by
a thread of its own; a transaction is built from that replica and committed
there. Reads (precommit, sync with nothing to repair) never leave the process.

:func:`reconcile` compares the rows a resource should have
(:class:`~naas_plugins.ovn._rows.RowSpec`) with what the replica holds and,
given an IDL transaction, writes the difference. The same function serves
postcommit (every resource one plugin call changed, in one transaction) and
sync (every resource that differs, in one transaction), so what sync reports
is exactly what a postcommit would have written.

Why several processes writing at once lose nothing: a switch's or router's
list of children is only ever changed by mutation (insert/delete of one
element), never rewritten; a row naas reads before writing is verified
(``Row.verify``), so a concurrent change makes the server answer "try again"
and the reconciliation runs again on the fresh replica; and every row has a
UUID derived from what it is, so two processes creating the same row cannot
both succeed (the loser retries and finds it).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ovs.db import data as ovs_data  # type: ignore[import-untyped]
from ovs.db import idl as ovs_idl
from ovs.db import types as ovs_types
from ovsdbapp import exceptions as ovsdbapp_exceptions  # type: ignore[import-untyped]
from ovsdbapp.backend.ovs_idl import command, connection, idlutils  # type: ignore[import-untyped]
from ovsdbapp.schema.ovn_northbound import impl_idl  # type: ignore[import-untyped]

from naas.exceptions import ServiceUnavailable
from naas_plugins.ovn._rows import CHILD_OF, OWNER_KEY, REVISION_KEY, ROOT_TABLES, TABLES, RowSpec

__all__ = [
    "Difference",
    "Northbound",
    "NorthboundError",
    "NorthboundTimeout",
    "Reconcile",
    "Write",
    "reconcile",
    "row_label",
]

LOG = logging.getLogger(__name__)

_SCHEMA = "OVN_Northbound"
_DUPLICATE_RETRIES = 3


class NorthboundError(RuntimeError):
    """The northbound database refused or could not complete a transaction; the message says which and why."""


class NorthboundTimeout(NorthboundError):
    """The northbound database did not answer a transaction in time; it may still apply it."""


@dataclasses.dataclass(frozen=True)
class Write:
    """One resource's part of a transaction: the rows ``owner`` should have (none: remove them all).

    ``previously`` are the rows it had before the change (a postcommit's
    ``before``): removed when no longer wanted even if the replica's index of
    owners has not caught up with them. With ``skip_stale``, nothing is
    written when the database holds a newer revision of the resource.
    """

    owner: str
    specs: Sequence[RowSpec]
    previously: Sequence[RowSpec] = ()
    skip_stale: bool = False


@dataclasses.dataclass(frozen=True)
class Difference:
    """How one row differs from what naas wants: ``missing``, ``differs`` (in ``columns``), ``detached``, ``extra``."""

    kind: str
    label: str
    columns: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind == "differs":
            return f"{self.label}: {', '.join(self.columns)} differ"
        if self.kind == "detached":
            return f"{self.label} is not attached to {self.columns[0]}"
        return f"{self.kind} {self.label}"


def _row_to_uuid(value: Any) -> Any:
    return value.uuid if isinstance(value, ovs_idl.Row) else value


def _held(row: Any, column: str) -> Any:
    """The column's value as the replica holds it, this transaction's writes included (an OVSDB datum)."""
    changes = row._changes
    if changes and column in changes:
        return changes[column]
    data = row._data
    if data is None:
        return None
    held = data.get(column)
    # The server leaves out columns that hold their default, and the replica keeps them out.
    return held if held is not None else ovs_data.Datum.default(row._table.columns[column].type)


def _differs(row: Any, column: str, value: Any) -> bool:
    """Whether the row's column holds something else than ``value`` (a dict, a list taken as a set, a scalar).

    Reads the replica's datum as plain values, with no conversion of whole rows: a sync of
    1,000 topologies asks this about 70,000 times.
    """
    changes = row._changes
    if changes and column in changes:
        held = changes[column]
    elif row._data is None:
        return True
    else:
        held = row._data.get(column)
        if held is None:
            held = ovs_data.Datum.default(row._table.columns[column].type)
    if isinstance(value, dict):
        return held.type.value is None or {k.value: v.value for k, v in held.values.items()} != value
    if isinstance(value, list):
        return {key.value for key in held.values} != {_row_to_uuid(item) for item in value}
    return len(held.values) != 1 or next(iter(held.values)).value != value


def row_label(row: Any) -> str:
    """How a report names a row it found: its table and name, or what identifies it."""
    table = row._table.name
    if table == "NAT":
        return f"NAT {row.type} {row.external_ip} {row.logical_ip}"
    if table == "DHCP_Options":
        return f"DHCP_Options {row.cidr} (subnet {row.external_ids.get('naas:subnet_id', '?')})"
    if table == "Logical_Router_Static_Route":
        return f"Logical_Router_Static_Route {row.ip_prefix} via {row.nexthop}"
    return f"{table} {row.name}"


def _references(row: Any, column: str) -> list[Any]:
    # A row this transaction inserted has no attribute for a column not written yet (not even the default).
    try:
        return list(getattr(row, column))
    except AttributeError:
        return []


def _children(row: Any, column: str) -> set[uuid.UUID]:
    return {child.uuid for child in _references(row, column)}


def _holds(parent: Any, column: str, child: uuid.UUID) -> bool:
    """Whether ``parent``'s ``column`` holds ``child``, without converting the whole column."""
    datum = _held(parent, column)
    return datum is not None and ovs_data.Atom(ovs_types.UuidType, child) in datum.values


def _attach(parent: Any, column: str, child: Any) -> None:
    if parent._data is None:  # inserted by this transaction: set the whole column
        setattr(parent, column, [*_references(parent, column), child])
    else:  # a mutation, so a concurrent writer's children are kept
        parent.addvalue(column, child)


def _int_revision(text: str | None) -> int | None:
    # Rows written by an earlier naas may hold a digest ("h" and hex digits): never newer, so they are overwritten.
    return int(text) if text is not None and text.isdigit() else None


def reconcile(
    tables: Mapping[str, Any],
    specs: Sequence[RowSpec],
    owned: Iterable[tuple[str, uuid.UUID]],
    txn: Any = None,
    *,
    skip_stale: bool = False,
) -> list[Difference]:
    """How the replica differs from ``specs`` for one resource; with ``txn``, also write the difference.

    ``owned`` lists (table, UUID) of the rows that carry this resource's
    ``naas:owner``; those not in ``specs`` are extra and are removed. With
    ``skip_stale``, when the resource's own row (``specs[0]``) already holds
    a newer revision than ``specs`` do, nothing is written (a late postcommit
    of an older change). Raises :class:`NorthboundError` when a row's parent
    (a port's switch, a floating IP's router) is not in the database.
    """
    differences: list[Difference] = []
    if skip_stale and txn is not None and specs:
        own = tables[specs[0].table].rows.get(specs[0].uuid)
        if own is not None:
            own.verify("external_ids")
            held = _int_revision(own.external_ids.get(REVISION_KEY))
            wanted = _int_revision(specs[0].columns["external_ids"].get(REVISION_KEY))
            if held is not None and wanted is not None and held > wanted:
                LOG.info("%s holds revision %s, newer than %s: not overwritten", specs[0].label, held, wanted)
                return differences
    wanted_uuids = {spec.uuid for spec in specs}
    for spec in specs:
        row = tables[spec.table].rows.get(spec.uuid)
        if row is None:
            differences.append(Difference("missing", spec.label))
            if txn is not None:
                row = txn.insert(tables[spec.table], new_uuid=spec.uuid, persist_uuid=True)
                for column_name, value in spec.columns.items():
                    setattr(row, column_name, value)
        else:
            changed = tuple(name for name, value in spec.columns.items() if _differs(row, name, value))
            if changed:
                differences.append(Difference("differs", spec.label, changed))
                if txn is not None:
                    for name in changed:
                        row.verify(name)
                        setattr(row, name, spec.columns[name])
        if spec.parent is None:
            continue
        parent = tables[spec.parent.table].rows.get(spec.parent.uuid)
        if parent is None:
            if txn is not None:
                raise NorthboundError(
                    f"{spec.label} belongs in {spec.parent.label}, which the northbound database does not hold"
                )
            differences.append(Difference("detached", spec.label, (spec.parent.label,)))
            continue
        if row is None or not _holds(parent, spec.parent.column, spec.uuid):
            if row is not None:
                differences.append(Difference("detached", spec.label, (spec.parent.label,)))
            if txn is not None:
                _attach(parent, spec.parent.column, tables[spec.table].rows[spec.uuid])
    extras = list(dict.fromkeys((table, row_id) for table, row_id in owned if row_id not in wanted_uuids))
    hints = [(spec.parent.table, spec.parent.uuid) for spec in specs if spec.parent is not None]
    hints += [(spec.table, spec.uuid) for spec in specs]
    # Roots first: deleting a switch or router takes its children with it.
    for table, row_id in sorted(extras, key=lambda item: item[0] not in ROOT_TABLES):
        row = tables[table].rows.get(row_id)
        if row is None:
            continue
        differences.append(Difference("extra", row_label(row)))
        if txn is None:
            continue
        if table in ROOT_TABLES:
            row.delete()
            continue
        parent_table, column = CHILD_OF[table]
        for parent in _parents_of(tables, parent_table, column, row_id, hints):
            parent.delvalue(column, row)
    return differences


def _parents_of(
    tables: Mapping[str, Any], table: str, column: str, child: uuid.UUID, hints: Sequence[tuple[str, uuid.UUID]]
) -> list[Any]:
    """The rows of ``table`` whose ``column`` holds ``child``: the hinted ones first, else every row is looked at."""
    rows = tables[table].rows
    hinted = [rows[row_id] for hint_table, row_id in hints if hint_table == table and row_id in rows]
    found = [row for row in hinted if child in _children(row, column)]
    if found:
        return found
    return [row for row in list(rows.values()) if child in _children(row, column)]


class _OwnerIndexIdl(connection.OvsdbIdl):  # type: ignore[misc]
    """The IDL replica, plus an index from ``naas:owner`` to the rows that carry it, kept on every update."""

    def __init__(self, remote: str, helper: Any) -> None:
        super().__init__(remote, helper)
        self.owned: dict[str, dict[uuid.UUID, str]] = {}
        self._owner_of: dict[uuid.UUID, str] = {}

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        table = row._table.name
        if table not in TABLES:
            return
        old = self._owner_of.pop(row.uuid, None)
        if old is not None:
            rows = self.owned.get(old, {})
            rows.pop(row.uuid, None)
            if not rows:
                self.owned.pop(old, None)
        if event == ovs_idl.ROW_DELETE:
            return
        owner = row.external_ids.get(OWNER_KEY)
        if owner is not None:
            self._owner_of[row.uuid] = owner
            self.owned.setdefault(owner, {})[row.uuid] = table


class _NbApi(impl_idl.OvnNbApiIdlImpl):  # type: ignore[misc]
    """ovsdbapp's northbound API on a connection of its own.

    ovsdbapp keeps the connection on the class, shared by every instance; two
    backends (two northbound databases, or a test's several) would then
    share the first one's.
    """

    def __init__(self, ovsdb_connection: connection.Connection) -> None:
        self._own_connection = ovsdb_connection
        super().__init__(ovsdb_connection, start=True, auto_index=True)

    @property
    def ovsdb_connection(self) -> connection.Connection:
        return self._own_connection

    @ovsdb_connection.setter
    def ovsdb_connection(self, value: connection.Connection) -> None:
        self._own_connection = value


class Reconcile(command.BaseCommand):  # type: ignore[misc]
    """An ovsdbapp command that reconciles several resources' rows, in order; ``result`` is their differences."""

    def __init__(
        self, api: Any, work: Sequence[Write], *, owned: Callable[[str], Iterable[tuple[str, uuid.UUID]]]
    ) -> None:
        super().__init__(api)
        self.work = work
        self.owned = owned

    def run_idl(self, txn: Any) -> None:
        tables = self.api.tables
        self.result = []
        for write in self.work:
            owned = [*self.owned(write.owner), *((spec.table, spec.uuid) for spec in write.previously)]
            differences = reconcile(tables, write.specs, owned, txn, skip_stale=write.skip_stale)
            self.result.append((write.owner, differences))

    def __str__(self) -> str:
        return f"reconcile {', '.join(write.owner for write in self.work)}"

    __repr__ = __str__


class Northbound:
    """The connection to one northbound database, opened when built and kept until :meth:`close`.

    ``transactions`` counts the OVSDB ``transact`` requests sent (one per
    committed change that changed something; an attempt the server asked to
    retry counts again).
    """

    def __init__(self, remote: str, timeout: float) -> None:
        self.remote = remote
        self.timeout = timeout
        self.transactions = 0
        self._count_lock = threading.Lock()
        try:
            helper = idlutils.get_schema_helper(remote, _SCHEMA)
            helper.register_all()
            self._idl = _OwnerIndexIdl(remote, helper)
            self._connection = connection.Connection(self._idl, timeout)
            self.api = _NbApi(self._connection)
        except Exception as error:
            raise ServiceUnavailable(
                f"OVN northbound database at {remote}", f"cannot connect and read it ({error})"
            ) from error
        session = self._idl._session
        send = session.send

        def counting_send(message: Any) -> Any:
            if getattr(message, "method", None) == "transact":
                with self._count_lock:
                    self.transactions += 1
            return send(message)

        session.send = counting_send

    @property
    def lock(self) -> Any:
        """Held while the replica is read outside a transaction (the IDL thread updates it under this lock)."""
        return self._connection.lock

    @property
    def tables(self) -> Mapping[str, Any]:
        return self._idl.tables  # type: ignore[no-any-return]

    def owned(self, owner: str) -> list[tuple[str, uuid.UUID]]:
        """(table, UUID) of every row whose ``naas:owner`` is ``owner``."""
        return [(table, row_id) for row_id, table in self._idl.owned.get(owner, {}).items()]

    def owners(self) -> list[str]:
        """Every ``naas:owner`` value some row carries."""
        return list(self._idl.owned)

    def write(self, work: Sequence[Write]) -> list[tuple[str, list[Difference]]]:
        """Reconcile every :class:`Write` of ``work``, in order, in one transaction; the differences, per owner.

        Nothing is sent when the database already holds everything. Raises
        :class:`NorthboundError` naming the owners when the database refuses
        the transaction (nothing of it is applied), :class:`NorthboundTimeout`
        when it does not answer within the timeout.
        """
        what = ", ".join(write.owner for write in work)
        for attempt in range(1, _DUPLICATE_RETRIES + 1):
            txn = self.api.create_transaction(check_error=True, log_errors=False)
            reconciliation = txn.add(Reconcile(self.api, work, owned=self.owned))
            try:
                txn.commit()
            except NorthboundError:
                raise
            except ovsdbapp_exceptions.TimeoutException as error:
                raise NorthboundTimeout(
                    f"the OVN northbound database at {self.remote} did not answer the transaction for {what} "
                    f"within {self.timeout:g} s; it may still apply it"
                ) from error
            except Exception as error:
                if "duplicate uuid" in str(error) and attempt < _DUPLICATE_RETRIES:
                    # Another writer created the same row first; once the replica holds it, this one updates it.
                    LOG.debug("%s: a row was created concurrently, retrying (%s)", what, error)
                    time.sleep(0.05 * attempt)
                    continue
                raise NorthboundError(f"OVN northbound transaction for {what} failed: {error}") from error
            return reconciliation.result  # type: ignore[no-any-return]
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._connection.stop(timeout=self.timeout)
