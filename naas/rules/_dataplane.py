"""How the rules drive the network backends: precommit in the unit, postcommit after it, statuses, sync.

For every network, port, router and floating IP a unit of work changes, the
rules describe the change (:mod:`naas.backends` states: a network with its
subnets, a router with its gateway and interfaces ...), hand it to the
:class:`~naas.backends.BackendChain`'s ``precommit`` inside the unit (a refusal
rolls the unit back) and, once the unit has committed, hands all the unit's
changes at once to ``postcommit_all``. A
postcommit failure never undoes the change: the resource's ``status`` becomes
``ERROR`` and stays so until :meth:`Dataplane.sync` finds the backends realize
it again. With no backend configured none of this costs anything: no change is
even described.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from typing import Any

from naas.backends import (
    BackendChain,
    ChainSyncReport,
    Change,
    DataplaneState,
    FloatingIPChange,
    FloatingIPState,
    NetworkChange,
    NetworkState,
    PortChange,
    PortState,
    RouterChange,
    RouterGateway,
    RouterInterface,
    RouterState,
    Status,
)
from naas.context import RequestContext
from naas.events import Event, EventRegistry, ResourceType
from naas.resources import (
    DEVICE_OWNER_ROUTER_GATEWAY,
    DEVICE_OWNER_ROUTER_INTERFACE,
    FloatingIP,
    Network,
    Port,
    Resource,
    Router,
    Subnet,
)
from naas.storage import ListQuery, Storage, Transaction

__all__ = ["AfterCommit", "Dataplane", "desired_status", "status_for"]


class AfterCommit:
    """What a unit of work leaves for after its commit: events to publish, changes for the backends."""

    def __init__(self) -> None:
        self.events: list[Callable[[], None]] = []
        self.changes: list[Change] = []

    def append(self, publish: Callable[[], None]) -> None:
        self.events.append(publish)

    def publish(
        self,
        events: EventRegistry,
        resource: ResourceType,
        event: Event,
        context: RequestContext,
        resource_id: str,
        **payload: Any,
    ) -> None:
        """Publish an ``AFTER_*`` event on ``events`` once the unit of work has committed."""
        self.events.append(functools.partial(events.notify, resource, event, context, resource_id, **payload))

    def extend(self, other: AfterCommit) -> None:
        self.events.extend(other.events)
        self.changes.extend(other.changes)


def status_for(up: bool) -> str:
    """The status of a resource its backends realize: ACTIVE, or DOWN when administratively down."""
    return Status.ACTIVE.value if up else Status.DOWN.value


def desired_status(resource: Resource) -> str:
    """The status a realized resource has: DOWN when administratively down (a floating IP: when unmapped)."""
    if isinstance(resource, FloatingIP):
        return status_for(resource.port_id is not None)
    return status_for(getattr(resource, "admin_state_up", True))


def _subnets(tx: Transaction, subnet_ids: Iterable[str]) -> tuple[Subnet, ...]:
    found = (tx.subnet(subnet_id) for subnet_id in dict.fromkeys(subnet_ids))
    return tuple(subnet for subnet in found if subnet is not None)


def network_state(tx: Transaction, network: Network) -> NetworkState:
    return NetworkState(network, _subnets(tx, network.subnets))


def port_state(tx: Transaction, port: Port) -> PortState:
    return PortState(port, _subnets(tx, (fixed.subnet_id for fixed in port.fixed_ips)))


def router_state(tx: Transaction, router: Router) -> RouterState:
    """The router with its gateway and interfaces as stored now (its ports are those whose device it is)."""
    ports = [p for p in tx.ports(ListQuery({"device_id": frozenset([router.id])})) if p.device_id == router.id]
    gateway = None
    info = router.external_gateway_info
    gateway_port = next((p for p in ports if p.device_owner == DEVICE_OWNER_ROUTER_GATEWAY), None)
    if info is not None and gateway_port is not None:
        gateway = RouterGateway(
            network_id=info.network_id,
            port_id=gateway_port.id,
            mac_address=gateway_port.mac_address,
            enable_snat=info.enable_snat,
            external_fixed_ips=gateway_port.fixed_ips,
            external_subnets=port_state(tx, gateway_port).subnets,
        )
    interfaces = []
    for port in ports:
        if port.device_owner != DEVICE_OWNER_ROUTER_INTERFACE:
            continue
        subnets = {subnet.id: subnet for subnet in port_state(tx, port).subnets}
        for fixed in port.fixed_ips:
            if fixed.subnet_id in subnets:
                interfaces.append(
                    RouterInterface(
                        port_id=port.id,
                        mac_address=port.mac_address,
                        network_id=port.network_id,
                        subnet=subnets[fixed.subnet_id],
                        ip_address=fixed.ip_address,
                    )
                )
    return RouterState(router, gateway, tuple(interfaces))


_STATE_OF: dict[type[Resource], Callable[[Transaction, Any], Any]] = {
    Network: network_state,
    Port: port_state,
    Router: router_state,
    FloatingIP: lambda tx, floatingip: FloatingIPState(floatingip),
}
_CHANGE_OF: dict[type[Resource], type[Change]] = {
    Network: NetworkChange,
    Port: PortChange,
    Router: RouterChange,
    FloatingIP: FloatingIPChange,
}


class Dataplane:
    """The rules' side of the backends: describe changes, run precommit and postcommit, keep statuses."""

    def __init__(self, storage: Storage, chain: BackendChain | None = None) -> None:
        self.storage = storage
        self.chain = chain if chain is not None else BackendChain()

    @property
    def active(self) -> bool:
        """Whether any backend is configured (otherwise nothing is described or called)."""
        return len(self.chain) > 0

    def program(
        self,
        tx: Transaction,
        after: AfterCommit,
        before: Resource | None,
        current: Resource | None,
        *,
        request_id: str | None = None,
        before_state: Any = None,
    ) -> None:
        """Describe the change from ``before`` to ``current`` (None: created or deleted) and precommit it.

        ``before_state`` is the state read at the start of the unit, when the
        resource's state is more than itself (a network's subnets, a router's
        ports); otherwise it is derived from ``before``.
        """
        if not self.active:
            return
        resource = current if current is not None else before
        assert resource is not None, "a change has a resource before or after it"
        kind = type(resource)
        if before is not None and before_state is None:
            before_state = _STATE_OF[kind](tx, before)
        after_state = None if current is None else _STATE_OF[kind](tx, current)
        change = _CHANGE_OF[kind](before=before_state, after=after_state, request_id=request_id)
        self.chain.precommit(change)
        after.changes.append(change)

    def state(self, tx: Transaction, resource: Resource) -> Any:
        """The backend state of ``resource`` as stored now (None when backends are off)."""
        return _STATE_OF[type(resource)](tx, resource) if self.active else None

    def realize(self, changes: Iterable[Change]) -> set[tuple[ResourceType, str]]:
        """Postcommit one unit of work's changes as one batch; mark what a backend failed on ERROR.

        Returns the failed (type, id). The backends receive every change at
        once (:meth:`~naas.backends.BackendChain.postcommit_all`), so one that
        can write them in one controller transaction does.
        """
        batch = list(changes)
        if not batch:
            return set()
        failed: set[tuple[ResourceType, str]] = set()
        for report in self.chain.postcommit_all(batch):
            change = report.change
            if report.failed and change.after is not None:
                failed.add((change.resource_type, change.resource_id))
        if failed:
            self.storage.run(lambda tx: self._set_statuses(tx, dict.fromkeys(failed, Status.ERROR.value)))
        return failed

    def sync(self, *, repair: bool = True) -> ChainSyncReport:
        """Make every backend's dataplane match storage (``repair=False``: only report how it differs).

        With ``repair``, resources in ``ERROR`` that every backend now
        realizes get back the status they should have.
        """
        state = self.storage.run(_stored_state, write=False)
        report = self.chain.sync(state, repair=repair)
        if repair:
            self.storage.run(lambda tx: self._clear_errors(tx, state, report))
        return report

    def _clear_errors(self, tx: Transaction, state: DataplaneState, report: ChainSyncReport) -> None:
        statuses = {}
        for kind, resource in _resources(state):
            if resource.status == Status.ERROR.value and report.realized(kind, resource.id):
                statuses[(kind, resource.id)] = desired_status(resource)
        self._set_statuses(tx, statuses)

    @staticmethod
    def _set_statuses(tx: Transaction, statuses: dict[tuple[ResourceType, str], str]) -> None:
        for (kind, resource_id), status in statuses.items():
            reader, writer = _ACCESS[kind]
            current = getattr(tx, reader)(resource_id, for_update=True)
            if current is not None and current.status != status:
                getattr(tx, writer)(dataclasses.replace(current, status=status))


_ACCESS = {
    ResourceType.NETWORK: ("network", "update_network"),
    ResourceType.PORT: ("port", "update_port"),
    ResourceType.ROUTER: ("router", "update_router"),
    ResourceType.FLOATINGIP: ("floatingip", "update_floatingip"),
}


def _resources(state: DataplaneState) -> Iterable[tuple[ResourceType, Any]]:
    yield from ((ResourceType.NETWORK, s.network) for s in state.networks)
    yield from ((ResourceType.PORT, s.port) for s in state.ports)
    yield from ((ResourceType.ROUTER, s.router) for s in state.routers)
    yield from ((ResourceType.FLOATINGIP, s.floatingip) for s in state.floatingips)


def _stored_state(tx: Transaction) -> DataplaneState:
    everything = ListQuery()
    return DataplaneState(
        networks=tuple(network_state(tx, network) for network in tx.networks(everything)),
        ports=tuple(port_state(tx, port) for port in tx.ports(everything)),
        routers=tuple(router_state(tx, router) for router in tx.routers(everything)),
        floatingips=tuple(FloatingIPState(floatingip) for floatingip in tx.floatingips(everything)),
    )
