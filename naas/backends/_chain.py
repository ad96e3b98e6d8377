"""The ordered list of configured backends, driven as one by the rules."""

from __future__ import annotations

import dataclasses
import logging
import types
from collections.abc import Mapping, Sequence

from naas.backends._backend import ChangeFailure, NetworkBackend, Repair, SyncReport
from naas.backends._capabilities import Capability, check_capabilities
from naas.backends._changes import (
    Change,
    DataplaneState,
    FloatingIPState,
    NetworkState,
    Operation,
    PortState,
    ResourceState,
    RouterState,
)
from naas.events import ResourceType
from naas.exceptions import BadRequest

__all__ = ["BackendChain", "BackendFailure", "ChainSyncReport", "PostcommitReport", "required_features"]

LOG = logging.getLogger(__name__)

_HANDLED_BY: dict[ResourceType, Capability] = {
    ResourceType.NETWORK: Capability.NETWORKS,
    ResourceType.PORT: Capability.PORTS,
    ResourceType.ROUTER: Capability.ROUTERS,
    ResourceType.FLOATINGIP: Capability.FLOATING_IPS,
}


@dataclasses.dataclass(frozen=True)
class BackendFailure:
    """``backend`` raised ``error`` while programming a resource, or (no resource) while syncing at all."""

    backend: str
    error: Exception
    resource_type: ResourceType | None = None
    resource_id: str | None = None
    operation: Operation | None = None

    def __str__(self) -> str:
        if self.resource_type is None:
            what = "sync"
        elif self.operation is None:
            what = f"sync {self.resource_type.value} {self.resource_id}"
        else:
            what = f"{self.operation.value} {self.resource_type.value} {self.resource_id}"
        return f"network backend {self.backend!r} failed to {what}: {self.error}"


@dataclasses.dataclass(frozen=True)
class PostcommitReport:
    """The outcome of one change's postcommit: every backend that failed, in chain order."""

    change: Change
    failures: tuple[BackendFailure, ...] = ()

    @property
    def failed(self) -> bool:
        """True when the resource must be marked ERROR (for a delete: when the dataplane may keep leftovers)."""
        return bool(self.failures)


@dataclasses.dataclass(frozen=True)
class ChainSyncReport:
    """What sync found and did, per backend, and what failed."""

    reports: tuple[tuple[str, SyncReport], ...]
    failures: tuple[BackendFailure, ...]
    repaired: bool
    handled: Mapping[str, frozenset[Capability]]

    @property
    def repairs(self) -> tuple[tuple[str, Repair], ...]:
        """Every repair made (or, when reporting only, needed), with the backend that made it."""
        return tuple((name, repair) for name, report in self.reports for repair in report.repairs)

    def realized(self, resource_type: ResourceType, resource_id: str) -> bool:
        """Whether every backend that handles ``resource_type`` now holds this resource as stored.

        False when a backend failed on it, when a backend handling its type
        failed to sync at all, or (``repair=False``) when it needs a repair.
        """
        capability = _HANDLED_BY[resource_type]
        for failure in self.failures:
            if failure.resource_type is None and capability in self.handled.get(failure.backend, frozenset()):
                return False
            if (failure.resource_type, failure.resource_id) == (resource_type, resource_id):
                return False
        if not self.repaired:
            return not any(
                (repair.resource_type, repair.resource_id) == (resource_type, resource_id) for _, repair in self.repairs
            )
        return True

    def __bool__(self) -> bool:
        """True when anything differed or failed."""
        return bool(self.failures) or any(report for _, report in self.reports)


def required_features(state: ResourceState) -> list[tuple[Capability, str, str]]:
    """The features realizing ``state`` needs, each with the (resource, attribute) that asks for it."""
    needs: list[tuple[Capability, str, str]] = []
    if isinstance(state, NetworkState):
        if any(subnet.enable_dhcp for subnet in state.subnets):
            needs.append((Capability.DHCP, "subnet", "enable_dhcp"))
        if any(subnet.ip_version == 6 for subnet in state.subnets):
            needs.append((Capability.IPV6, "subnet", "ip_version"))
    elif isinstance(state, PortState):
        if any(fixed.ip_address.version == 6 for fixed in state.port.fixed_ips):
            needs.append((Capability.IPV6, "port", "fixed_ips"))
    elif isinstance(state, RouterState):
        gateway = state.gateway
        if gateway is not None:
            needs.append((Capability.GATEWAYS, "router", "external_gateway_info"))
            if gateway.enable_snat:
                needs.append((Capability.SNAT, "router", "enable_snat"))
            if any(fixed.ip_address.version == 6 for fixed in gateway.external_fixed_ips):
                needs.append((Capability.IPV6, "router", "external_gateway_info"))
        if state.interfaces:
            needs.append((Capability.INTERFACES, "router_interface", "subnet_id"))
            if any(interface.ip_address.version == 6 for interface in state.interfaces):
                needs.append((Capability.IPV6, "router_interface", "subnet_id"))
    elif isinstance(state, FloatingIPState) and state.floatingip.floating_ip_address.version == 6:
        needs.append((Capability.IPV6, "floatingip", "floating_ip_address"))
    return needs


class BackendChain:
    """The configured backends, in order, called as one (an empty chain does nothing).

    Each backend receives only the changes of the resource types its
    ``CAPABILITIES`` name. The rules call :meth:`precommit` for each change
    inside the unit of work, :meth:`postcommit_all` with all the unit's
    changes after the commit, and :meth:`sync` to repair. See
    :mod:`naas.backends` for the whole protocol.
    """

    def __init__(self, backends: Mapping[str, NetworkBackend] | None = None) -> None:
        """``backends`` maps the configured name (alias or path, used in reports) to the built backend.

        Raises ValueError when a backend's ``CAPABILITIES`` is not sound
        (:func:`~naas.backends.check_capabilities`).
        """
        self._backends: Mapping[str, NetworkBackend] = types.MappingProxyType(dict(backends or {}))
        for name, backend in self._backends.items():
            try:
                check_capabilities(backend.CAPABILITIES)
            except ValueError as error:
                raise ValueError(f"network backend {name!r}: {error}") from None

    @property
    def backends(self) -> Mapping[str, NetworkBackend]:
        """Name → backend, in chain order (read-only)."""
        return self._backends

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What the chain as a whole realizes."""
        return frozenset().union(*(backend.CAPABILITIES for backend in self._backends.values()))

    def __len__(self) -> int:
        return len(self._backends)

    def __repr__(self) -> str:
        return f"BackendChain({list(self._backends)})"

    def handling(self, resource_type: ResourceType) -> list[tuple[str, NetworkBackend]]:
        """The backends that receive changes of ``resource_type``, in order."""
        capability = _HANDLED_BY.get(resource_type)
        return [(name, backend) for name, backend in self._backends.items() if capability in backend.CAPABILITIES]

    def precommit(self, change: Change) -> None:
        """Refuse ``change`` if a backend cannot realize it; call inside the unit of work, before committing.

        Raises BadRequest naming the attribute when a backend receiving the
        change lacks a feature it uses (DHCP, SNAT, IPv6 ...), else whatever
        :class:`~naas.exceptions.NaasError` the first refusing backend raises.
        Does no I/O. A backend's unexpected exception propagates unchanged (it
        is a bug; the unit of work rolls back either way).
        """
        receivers = self.handling(change.resource_type)
        if change.after is not None:
            for capability, resource, attribute in required_features(change.after):
                for name, backend in receivers:
                    if capability not in backend.CAPABILITIES:
                        raise BadRequest(resource, attribute, f"network backend {name!r} does not provide {capability}")
        for _, backend in receivers:
            backend.precommit(change)

    def postcommit(self, change: Change) -> PostcommitReport:
        """Program one change on every backend receiving it: :meth:`postcommit_all` of ``[change]``."""
        (report,) = self.postcommit_all([change])
        return report

    def postcommit_all(self, changes: Sequence[Change]) -> tuple[PostcommitReport, ...]:
        """Program the changes of one unit of work; call after the commit. Never raises for a backend.

        Each backend receives, in one :meth:`NetworkBackend.postcommit_all`
        call, the changes of the types it declares, in the given order; every
        backend is called, even after one fails. Returns one report per
        change, in the same order, naming every backend that failed on it;
        each failure is logged. A backend that raises, or answers something
        else than failures of the changes it was given, failed every change
        it received. The caller then stores status ERROR on each failed
        resource.
        """
        failed: dict[int, list[BackendFailure]] = {id(change): [] for change in changes}
        for name, backend in self._backends.items():
            received = [change for change in changes if _HANDLED_BY.get(change.resource_type) in backend.CAPABILITIES]
            if not received:
                continue
            for change, error in _batch_failures(backend, received):
                failure = BackendFailure(name, error, change.resource_type, change.resource_id, change.operation)
                LOG.warning("%s; the next sync repairs it", failure, exc_info=error)
                failed[id(change)].append(failure)
        return tuple(PostcommitReport(change, tuple(failed[id(change)])) for change in changes)

    def sync(self, state: DataplaneState, *, repair: bool = True) -> ChainSyncReport:
        """Ask every backend to make its dataplane match ``state`` (or, ``repair=False``, to say how it differs).

        ``state`` is every stored network, port, router and floating IP; each
        backend receives the types it declares. A backend that raises is
        reported as failing the whole sync and the others still run.
        """
        reports: list[tuple[str, SyncReport]] = []
        failures: list[BackendFailure] = []
        for name, backend in self._backends.items():
            try:
                report = backend.sync(state.restricted_to(backend.CAPABILITIES), repair=repair)
                if not isinstance(report, SyncReport):
                    raise TypeError(f"sync returned {report!r}, not a naas.backends.SyncReport")
            except Exception as error:
                failure = BackendFailure(name, error)
                LOG.error("%s", failure, exc_info=error)
                failures.append(failure)
                continue
            reports.append((name, report))
            for repair_made in report.repairs:
                LOG.info("network backend %r %s%s", name, "" if repair else "needs: ", repair_made)
            for sync_failure in report.failures:
                failure = BackendFailure(name, sync_failure.error, sync_failure.resource_type, sync_failure.resource_id)
                LOG.error("%s", failure, exc_info=sync_failure.error)
                failures.append(failure)
        handled = {name: backend.CAPABILITIES for name, backend in self._backends.items()}
        return ChainSyncReport(tuple(reports), tuple(failures), repair, types.MappingProxyType(handled))

    def close(self) -> None:
        """Close every backend, last first; an error closing one is logged and the others are still closed."""
        for name, backend in reversed(list(self._backends.items())):
            try:
                backend.close()
            except Exception:
                LOG.exception("Closing network backend %r failed", name)


def _batch_failures(backend: NetworkBackend, changes: list[Change]) -> list[tuple[Change, Exception]]:
    """(change, error) for each change ``backend`` failed in a batch; all of them when it broke the contract."""
    try:
        failures = list(backend.postcommit_all(changes))
        given = {id(change) for change in changes}
        for failure in failures:
            if not isinstance(failure, ChangeFailure) or id(failure.change) not in given:
                raise TypeError(
                    f"postcommit_all returned {failure!r}, not a naas.backends.ChangeFailure of a change it was given"
                )
    except Exception as error:
        return [(change, error) for change in changes]
    first: dict[int, tuple[Change, Exception]] = {}
    for failure in failures:
        first.setdefault(id(failure.change), (failure.change, failure.error))
    return list(first.values())
