"""The ``ovn`` network backend: OVN's northbound database as the distributed engine behind networks and routers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import ClassVar, Self

from oslo_config import cfg

from naas.backends import (
    ROUTING,
    SWITCHING,
    Capability,
    Change,
    ChangeFailure,
    DataplaneState,
    NetworkBackend,
    Repair,
    RepairAction,
    RouterState,
    SyncFailure,
    SyncReport,
)
from naas.exceptions import BadRequest
from naas_plugins.ovn import opts
from naas_plugins.ovn._northbound import Difference, Northbound, NorthboundError, NorthboundTimeout, Write, reconcile
from naas_plugins.ovn._rows import RowSpec, Settings, owner_key, parse_owner, rows_for

__all__ = ["OvnBackend"]

LOG = logging.getLogger(__name__)


class OvnBackend(NetworkBackend):
    """Realizes networks, ports, routers and floating IPs as rows of an OVN northbound database.

    ``ovn-northd`` turns those rows into logical flows and every chassis's
    ``ovn-controller`` programs its Open vSwitch; naas talks to the
    northbound database only. The mapping is ML2/OVN's (see
    :mod:`naas_plugins.ovn`).

    - ``precommit`` refuses a router gateway when no gateway chassis is
      configured; it reads nothing and writes nothing.
    - ``postcommit_all`` writes every change of one plugin call (a router
      and its gateway port, say) in one OVSDB transaction, none when the
      database already holds them; when the database refuses that
      transaction, it writes change by change, so the failure is pinned on
      the resource that caused it. ``postcommit`` is the same for one
      change. A change older than what the database holds for that
      resource (``naas:revision_number``) is not written.
    - ``sync`` compares every naas row with storage from the local replica,
      without a transaction; repairing writes every difference in one
      transaction, and resource by resource when that one fails, so one
      resource that cannot be repaired does not hold up the others.
    """

    CAPABILITIES: ClassVar[frozenset[Capability]] = SWITCHING | ROUTING | {Capability.IPV6}

    def __init__(
        self,
        nb_connection: str,
        *,
        timeout: float = 180.0,
        gateway_chassis: Sequence[str] = (),
        physical_network: str = "physnet",
    ) -> None:
        """Connect to the northbound database at ``nb_connection`` and read it (ServiceUnavailable if it cannot)."""
        self.settings = Settings(tuple(gateway_chassis), physical_network)
        self.northbound = Northbound(nb_connection, timeout)

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> Self:
        opts.register_opts(conf)
        group = conf[opts.GROUP]
        return cls(
            group.ovn_nb_connection,
            timeout=group.ovsdb_connection_timeout,
            gateway_chassis=group.gateway_chassis,
            physical_network=group.external_physical_network,
        )

    def precommit(self, change: Change) -> None:
        """Refuse a router gateway while ``[ovn] gateway_chassis`` is empty: OVN could not place its NAT."""
        after = change.after
        if isinstance(after, RouterState) and after.gateway is not None and not self.settings.gateway_chassis:
            raise BadRequest(
                "router",
                "external_gateway_info",
                "the ovn network backend has no gateway chassis to place the gateway on; "
                "the operator must set [ovn] gateway_chassis",
            )

    def postcommit(self, change: Change) -> None:
        """Write the resource's rows as ``change.after`` has them (remove them for a delete), in one transaction."""
        self.northbound.write([self._write(change)])

    def postcommit_all(self, changes: Sequence[Change]) -> Sequence[ChangeFailure]:
        """Write every change in one transaction; when the database refuses it, change by change, in order.

        A timeout fails the changes not yet written without trying the
        others: a database that does not answer one would keep each waiting
        as long.
        """
        failures: list[ChangeFailure] = []
        writes: list[tuple[Change, Write]] = []
        for change in changes:
            try:
                writes.append((change, self._write(change)))
            except Exception as error:  # a state the mapping cannot lay out: that change alone fails
                failures.append(ChangeFailure(change, error))
        if not writes:
            return failures
        try:
            self.northbound.write([write for _, write in writes])
            return failures
        except NorthboundTimeout as error:
            return [*failures, *(ChangeFailure(change, error) for change, _ in writes)]
        except NorthboundError as error:
            if len(writes) == 1:
                return [*failures, ChangeFailure(writes[0][0], error)]
            LOG.warning("Writing %d changes in one transaction failed (%s); writing one at a time", len(writes), error)
        for number, (change, write) in enumerate(writes):
            try:
                self.northbound.write([write])
            except NorthboundTimeout as error:
                failures.extend(ChangeFailure(late, error) for late, _ in writes[number:])
                break
            except NorthboundError as error:
                failures.append(ChangeFailure(change, error))
        order = {id(change): index for index, change in enumerate(changes)}
        return sorted(failures, key=lambda failure: order[id(failure.change)])

    def _write(self, change: Change) -> Write:
        return Write(
            owner_key(change.resource_type, change.resource_id),
            rows_for(change.after, self.settings) if change.after is not None else (),
            previously=rows_for(change.before, self.settings) if change.before is not None else (),
            skip_stale=change.after is not None,
        )

    def sync(self, state: DataplaneState, *, repair: bool = True) -> SyncReport:
        wanted: dict[str, Sequence[RowSpec]] = {
            owner_key(item.RESOURCE_TYPE, item.resource_id): rows_for(item, self.settings) for item in state
        }
        northbound = self.northbound
        found: list[tuple[Repair, str, Sequence[RowSpec]]] = []
        with northbound.lock:
            tables = northbound.tables
            for owner, specs in wanted.items():
                owned = northbound.owned(owner)
                differences = reconcile(tables, specs, owned)
                if differences:
                    created = not owned and not any(spec.uuid in tables[spec.table].rows for spec in specs)
                    action = RepairAction.CREATED if created else RepairAction.UPDATED
                    found.append((_repair(owner, action, differences), owner, specs))
            for owner in sorted(set(northbound.owners()) - set(wanted)):
                if parse_owner(owner) is None:
                    continue
                differences = reconcile(tables, (), northbound.owned(owner))
                if differences:
                    found.append((_repair(owner, RepairAction.DELETED, differences), owner, ()))
        repairs = tuple(repair_made for repair_made, _, _ in found)
        if not repair or not found:
            return SyncReport(repairs)
        try:
            northbound.write([Write(owner, specs) for _, owner, specs in found])
            return SyncReport(repairs)
        except NorthboundError as error:
            LOG.warning("Repairing everything in one transaction failed (%s); repairing one resource at a time", error)
        done: list[Repair] = []
        failures: list[SyncFailure] = []
        for repair_made, owner, specs in found:
            try:
                northbound.write([Write(owner, specs)])
            except NorthboundError as error:
                failures.append(SyncFailure(repair_made.resource_type, repair_made.resource_id, error))
            else:
                done.append(repair_made)
        return SyncReport(tuple(done), tuple(failures))

    def close(self) -> None:
        self.northbound.close()


def _repair(owner: str, action: RepairAction, differences: Sequence[Difference]) -> Repair:
    parsed = parse_owner(owner)
    assert parsed is not None, owner
    resource_type, resource_id = parsed
    return Repair(resource_type, resource_id, action, "; ".join(str(difference) for difference in differences))
