"""The sql L3 plugin: routers, gateways, interfaces and floating IPs in the core plugin's database.

It shares the :class:`~naas_plugins.sql.database.Database` of its
:class:`~naas_plugins.sql.core.SqlCorePlugin`, so each operation is one
transaction covering the L3 rows *and* the ports they need: a router, its
gateway port and that port's addresses are stored together or not at all,
with no compensating clean-up. Every public method is one writer transaction
run by :meth:`SqlCorePlugin.write` (retried whole on a deadlock or a lost
race); ``BEFORE_*`` events are published inside it before the first change,
``AFTER_*`` events once it has committed. The ports are made by the core
plugin's ``..._in(connection, ...)`` methods, which publish the usual ``PORT``
events.

Router ports are ordinary ports whose ``device_owner`` names their role and
whose ``device_id`` is the router (or floating IP): a router's interfaces are
the ``network:router_interface`` ports with its id, found through the index
on ``ports.device_id``.

The plugin subscribes to the core plugin's ``PORT`` events: ``BEFORE_DELETE`` and
``BEFORE_UPDATE`` of a port that one of its routers or floating IPs owns are
vetoed with InUse (unless this plugin is making the change itself), and
``BEFORE_DELETE`` of an instance port disassociates the floating IPs that point
at it, inside the core plugin's transaction; their ``AFTER_UPDATE`` follows the
port's ``AFTER_DELETE``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, Self, TypeVar

import netaddr
import sqlalchemy as sa
from oslo_config import cfg
from oslo_db import exception as db_exc
from sqlalchemy.engine import Connection

from naas import policy
from naas.context import RequestContext
from naas.events import Event, EventPayload, EventRegistry, ResourceType
from naas.exceptions import BadRequest, Conflict, InUse, NaasError, NotAuthorized, NotFound
from naas.plugins.core import CorePlugin, Filters
from naas.plugins.l3 import L3Plugin
from naas.requests import (
    UNSET,
    FixedIPRequest,
    FloatingIPCreate,
    GatewayRequest,
    InterfaceRequest,
    PortCreate,
    PortUpdate,
    RouterCreate,
    RouterUpdate,
    to_id,
    to_ip,
)
from naas.resources import (
    DEVICE_OWNER_FLOATINGIP,
    DEVICE_OWNER_ROUTER_GATEWAY,
    DEVICE_OWNER_ROUTER_INTERFACE,
    ExternalGatewayInfo,
    FixedIP,
    FloatingIP,
    Port,
    Router,
    RouterInterfaceInfo,
    Subnet,
)
from naas_plugins.sql._rows import (
    ALLOCATIONS,
    CONTEXT_PROJECT,
    FLOATINGIP_LISTER,
    FLOATINGIPS,
    NETWORKS,
    PORTS,
    ROUTER_LISTER,
    ROUTERS,
    SUBNETS,
    Prefixed,
    context_params,
    floatingip_from_row,
    network_visible,
    networks_from_rows,
    only_visible,
    refine,
    router_from_row,
    routers_from_rows,
    select_routers,
    subnet_from_row,
)
from naas_plugins.sql.core import Deferred, NetworkState, SqlCorePlugin, defer_event
from naas_plugins.sql.models import next_created_at

__all__ = ["SqlL3Plugin"]

T = TypeVar("T")

ROUTER_STATUS = "ACTIVE"
FLOATINGIP_ACTIVE = "ACTIVE"
FLOATINGIP_DOWN = "DOWN"
_ROUTER_PORT_OWNERS = (DEVICE_OWNER_ROUTER_INTERFACE, DEVICE_OWNER_ROUTER_GATEWAY)
_L3_PORT_OWNERS = (*_ROUTER_PORT_OWNERS, DEVICE_OWNER_FLOATINGIP)


def _locking(statement: sa.Select[Any], **lock: Any) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The statement without and with ``FOR UPDATE`` (index by whether the backend locks rows)."""
    return statement, statement.with_for_update(**lock)


# Built once, with bind parameters (see naas_plugins.sql.core).

_INSERT_ROUTER: Final = sa.insert(ROUTERS)
_UPDATE_ROUTER: Final = sa.update(ROUTERS).where(ROUTERS.c.id == sa.bindparam("b_id"))
_DELETE_ROUTER: Final = sa.delete(ROUTERS).where(ROUTERS.c.id == sa.bindparam("b_id"))
_ROUTER: Final = select_routers().where(ROUTERS.c.id == sa.bindparam("b_id"))
_ROUTER_EXISTS: Final = sa.select(ROUTERS.c.id).where(ROUTERS.c.id == sa.bindparam("b_id"))
# A router with its gateway addresses and its interfaces' subnets, locked so that changes to one router
# (its interfaces, its gateway) are checked against each other one at a time.
_ROUTER_STATE: Final = _locking(
    sa.select(
        *ROUTERS.c,
        PORTS.c.id.label("port_id"),
        PORTS.c.network_id.label("port_network_id"),
        PORTS.c.device_owner.label("port_owner"),
        ALLOCATIONS.c.subnet_id.label("fixed_subnet_id"),
        ALLOCATIONS.c.ip_address.label("fixed_ip_address"),
        SUBNETS.c.cidr.label("fixed_cidr"),
    )
    .select_from(
        ROUTERS.outerjoin(
            PORTS,
            sa.and_(PORTS.c.device_id == ROUTERS.c.id, PORTS.c.device_owner.in_(_ROUTER_PORT_OWNERS)),
        )
        .outerjoin(ALLOCATIONS, ALLOCATIONS.c.port_id == PORTS.c.id)
        .outerjoin(SUBNETS, SUBNETS.c.id == ALLOCATIONS.c.subnet_id)
    )
    .where(ROUTERS.c.id == sa.bindparam("b_id"))
    .order_by(PORTS.c.created_at, PORTS.c.id, ALLOCATIONS.c.position),
    of=ROUTERS,
)
_TARGET = SUBNETS.alias("target")
# The network of a subnet with all its subnets; visible to the caller through the subnet or the network.
_NETWORK_STATE_OF_SUBNET: Final = {
    admin: sa.select(*NETWORKS.c, *[column.label(f"subnet_{column.name}") for column in SUBNETS.c])
    .select_from(
        _TARGET.join(NETWORKS, NETWORKS.c.id == _TARGET.c.network_id).join(
            SUBNETS, SUBNETS.c.network_id == NETWORKS.c.id
        )
    )
    .where(
        _TARGET.c.id == sa.bindparam("b_subnet"),
        sa.true() if admin else sa.or_(_TARGET.c.project_id == sa.bindparam(CONTEXT_PROJECT), network_visible(admin)),
    )
    .order_by(SUBNETS.c.created_at, SUBNETS.c.id)
    for admin in (False, True)
}
_SUBNETS: Final = sa.select(SUBNETS).where(SUBNETS.c.id.in_(sa.bindparam("ids", expanding=True)))
# A router connecting a subnet to an external network.
_ROUTER_BETWEEN: Final = (
    sa.select(ROUTERS.c.id)
    .join(PORTS, sa.and_(PORTS.c.device_id == ROUTERS.c.id, PORTS.c.device_owner == DEVICE_OWNER_ROUTER_INTERFACE))
    .join(ALLOCATIONS, ALLOCATIONS.c.port_id == PORTS.c.id)
    .where(ROUTERS.c.gw_network_id == sa.bindparam("b_network"), ALLOCATIONS.c.subnet_id == sa.bindparam("b_subnet"))
    .order_by(ROUTERS.c.created_at, ROUTERS.c.id)
    .limit(1)
)

_INSERT_FLOATINGIP: Final = sa.insert(FLOATINGIPS)
_UPDATE_FLOATINGIP: Final = sa.update(FLOATINGIPS).where(FLOATINGIPS.c.id == sa.bindparam("b_id"))
_DELETE_FLOATINGIP: Final = sa.delete(FLOATINGIPS).where(FLOATINGIPS.c.id == sa.bindparam("b_id"))
_FLOATINGIP: Final = _locking(sa.select(FLOATINGIPS).where(FLOATINGIPS.c.id == sa.bindparam("b_id")), key_share=True)
_FLOATINGIP_EXISTS: Final = sa.select(FLOATINGIPS.c.id).where(FLOATINGIPS.c.id == sa.bindparam("b_id"))
_FLOATINGIPS_OF_PORT: Final = sa.select(FLOATINGIPS).where(FLOATINGIPS.c.fixed_port_id == sa.bindparam("b_port"))
_DISASSOCIATE_PORT: Final = sa.update(FLOATINGIPS).where(FLOATINGIPS.c.fixed_port_id == sa.bindparam("b_port"))
_MAPPING_THE_ADDRESS: Final = sa.select(FLOATINGIPS.c.id).where(
    FLOATINGIPS.c.id != sa.bindparam("b_id"),
    FLOATINGIPS.c.floating_network_id == sa.bindparam("b_network"),
    FLOATINGIPS.c.fixed_port_id == sa.bindparam("b_port"),
    FLOATINGIPS.c.fixed_ip_address == sa.bindparam("b_ip"),
)
_FLOATINGIPS_THROUGH: Final = (
    sa.select(FLOATINGIPS.c.id)
    .where(FLOATINGIPS.c.router_id == sa.bindparam("b_router"))
    .order_by(FLOATINGIPS.c.created_at, FLOATINGIPS.c.id)
)
# Those whose fixed address is on one of the given subnets.
_FLOATINGIPS_THROUGH_SUBNETS: Final = _FLOATINGIPS_THROUGH.join(
    ALLOCATIONS,
    sa.and_(
        ALLOCATIONS.c.port_id == FLOATINGIPS.c.fixed_port_id,
        ALLOCATIONS.c.ip_address == FLOATINGIPS.c.fixed_ip_address,
    ),
).where(ALLOCATIONS.c.subnet_id.in_(sa.bindparam("subnets", expanding=True)))


def _new_id() -> str:
    return str(uuid.uuid4())


def _overlap(first: netaddr.IPNetwork, second: netaddr.IPNetwork) -> bool:
    return first.version == second.version and (first in second or second in first)


def _parse_value(attribute: str, convert: Callable[[Any], T], value: Any) -> T:
    try:
        return convert(value)
    except ValueError as error:
        raise BadRequest("floatingip", attribute, str(error)) from None


@dataclasses.dataclass(frozen=True)
class _Interface:
    port_id: str
    network_id: str
    subnet_ids: tuple[str, ...]
    cidrs: tuple[netaddr.IPNetwork, ...]


@dataclasses.dataclass(frozen=True)
class _RouterState:
    """A router with everything its changes are checked against, read in one query."""

    router: Router
    gateway_port_id: str | None
    gateway_cidrs: tuple[netaddr.IPNetwork, ...]
    interfaces: tuple[_Interface, ...]

    def cidrs(self) -> list[netaddr.IPNetwork]:
        return [*self.gateway_cidrs, *(cidr for interface in self.interfaces for cidr in interface.cidrs)]


@dataclasses.dataclass(frozen=True)
class _Association:
    """Where a floating IP points: a port's fixed address, reached through a router."""

    port_id: str
    fixed_ip: FixedIP
    router_id: str


class _ThreadState(threading.local):
    def __init__(self) -> None:
        # Ports this plugin is deleting or rewiring itself, past its own veto.
        self.own_changes: set[str] = set()
        # Floating IPs disassociated because their port is being deleted: (before, after), by port id.
        self.disassociated: dict[str, list[tuple[FloatingIP, FloatingIP]]] = {}


class SqlL3Plugin(L3Plugin):
    """The L3 plugin for :class:`SqlCorePlugin`, in the same database and transactions.

    ``events`` defaults to the core plugin's registry.
    """

    def __init__(self, core_plugin: SqlCorePlugin, events: EventRegistry | None = None) -> None:
        if not isinstance(core_plugin, SqlCorePlugin):
            raise TypeError(
                f"SqlL3Plugin keeps its routers in the core plugin's database and needs a SqlCorePlugin, "
                f"not {type(core_plugin).__module__}.{type(core_plugin).__qualname__}"
            )
        self.core_plugin: SqlCorePlugin = core_plugin
        self.events = events if events is not None else core_plugin.events
        self.database = core_plugin.database
        self._thread = _ThreadState()
        core_events = core_plugin.events
        core_events.subscribe(ResourceType.PORT, Event.BEFORE_DELETE, self._on_port_change)
        core_events.subscribe(ResourceType.PORT, Event.BEFORE_UPDATE, self._on_port_change)
        core_events.subscribe(ResourceType.PORT, Event.AFTER_DELETE, self._after_port_delete)

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, core_plugin: CorePlugin, events: EventRegistry) -> Self:
        """Raises TypeError unless ``core_plugin`` is a :class:`SqlCorePlugin` (whose database this plugin shares)."""
        if not isinstance(core_plugin, SqlCorePlugin):
            raise TypeError(
                "the sql L3 plugin shares the core plugin's database and works only with the sql core plugin "
                f"(naas_plugins.sql.SqlCorePlugin), not with {type(core_plugin).__module__}."
                f"{type(core_plugin).__qualname__}"
            )
        return cls(core_plugin, events=events)

    # Transactions

    def _write(
        self,
        work: Callable[[Connection, Deferred], T],
        duplicate: Callable[[db_exc.DBDuplicateEntry], NaasError | None] | None = None,
    ) -> T:
        """One writer transaction of the shared database for ``work`` (see :meth:`SqlCorePlugin.write`)."""
        return self.core_plugin.write(work, duplicate)

    @contextlib.contextmanager
    def _own_change(self, port_id: str) -> Iterator[None]:
        self._thread.own_changes.add(port_id)
        try:
            yield
        finally:
            self._thread.own_changes.discard(port_id)

    # Routers

    def create_router(self, context: RequestContext, router: RouterCreate | Mapping[str, Any]) -> Router:
        request = RouterCreate.parse(router)
        policy.check_admin_only(context, request)
        project_id = policy.owner_for(context, request.project_id, "router")
        gateway = request.external_gateway_info
        router_id = _new_id()

        def work(connection: Connection, deferred: Deferred) -> Router:
            state = None if gateway is None else self._gateway_network_in(connection, context, gateway.network_id, ())
            self.events.notify(ResourceType.ROUTER, Event.BEFORE_CREATE, context, router_id, request=request)
            info, port_id = None, None
            if gateway is not None and state is not None:
                port = self._create_gateway_port_in(
                    connection, context, router_id, project_id, gateway, state, deferred
                )
                info = ExternalGatewayInfo(
                    network_id=gateway.network_id, enable_snat=gateway.enable_snat, external_fixed_ips=port.fixed_ips
                )
                port_id = port.id
            created = Router(
                id=router_id,
                project_id=project_id,
                name=request.name,
                admin_state_up=request.admin_state_up,
                status=ROUTER_STATUS,
                external_gateway_info=info,
            )
            # After its gateway port, which routers.gw_port_id refers to.
            connection.execute(
                _INSERT_ROUTER,
                {
                    "id": router_id,
                    "project_id": project_id,
                    "name": created.name,
                    "admin_state_up": created.admin_state_up,
                    "status": created.status,
                    "gw_network_id": None if info is None else info.network_id,
                    "gw_port_id": port_id,
                    "enable_snat": True if info is None else info.enable_snat,
                    "created_at": next_created_at(),
                },
            )
            defer_event(
                deferred,
                self.events,
                ResourceType.ROUTER,
                Event.AFTER_CREATE,
                context,
                router_id,
                request=request,
                result=created,
            )
            return created

        return self._write(work)

    def get_router(self, context: RequestContext, router_id: str) -> Router:
        with self.database.reader() as connection:
            routers = routers_from_rows(connection.execute(_ROUTER, {"b_id": router_id}))
        if not routers or not policy.is_visible(context, routers[0]):
            raise NotFound("router", router_id)
        return routers[0]

    def get_routers(self, context: RequestContext, filters: Filters | None = None) -> list[Router]:
        statement, params = ROUTER_LISTER.query(context, filters)
        with self.database.reader() as connection:
            routers = routers_from_rows(connection.execute(statement, params))
        return refine(only_visible(context, routers), Router, filters)

    def update_router(
        self, context: RequestContext, router_id: str, changes: RouterUpdate | Mapping[str, Any]
    ) -> Router:
        request = RouterUpdate.parse(changes)
        policy.check_admin_only(context, request)

        def work(connection: Connection, deferred: Deferred) -> Router:
            state = self._router_in(connection, context, router_id)
            current = state.router
            policy.check_modify(context, current, router_id)
            self.events.notify(
                ResourceType.ROUTER, Event.BEFORE_UPDATE, context, router_id, request=request, current=current
            )
            info = current.external_gateway_info
            port_id = state.gateway_port_id
            old_port: Port | None = None
            if request.external_gateway_info is not UNSET:
                info, port_id, old_port = self._change_gateway_in(
                    connection, context, state, request.external_gateway_info, deferred
                )
            updated = dataclasses.replace(
                current,
                name=current.name if request.name is UNSET else request.name,
                admin_state_up=current.admin_state_up if request.admin_state_up is UNSET else request.admin_state_up,
                external_gateway_info=info,
            )
            connection.execute(
                _UPDATE_ROUTER,
                {
                    "b_id": router_id,
                    "name": updated.name,
                    "admin_state_up": updated.admin_state_up,
                    "gw_network_id": None if info is None else info.network_id,
                    "gw_port_id": port_id,
                    "enable_snat": True if info is None else info.enable_snat,
                },
            )
            if old_port is not None:
                # Only now that the router no longer refers to it.
                self._delete_own_port_in(connection, context, old_port, deferred)
            defer_event(
                deferred,
                self.events,
                ResourceType.ROUTER,
                Event.AFTER_UPDATE,
                context,
                router_id,
                request=request,
                current=current,
                result=updated,
            )
            return updated

        return self._write(work)

    def delete_router(self, context: RequestContext, router_id: str) -> None:
        def work(connection: Connection, deferred: Deferred) -> None:
            state = self._router_in(connection, context, router_id)
            current = state.router
            policy.check_modify(context, current, router_id)
            if state.interfaces:
                raise InUse("router", router_id, [interface.port_id for interface in state.interfaces])
            self._check_no_floatingips_through_in(connection, router_id)
            self.events.notify(ResourceType.ROUTER, Event.BEFORE_DELETE, context, router_id, current=current)
            connection.execute(_DELETE_ROUTER, {"b_id": router_id})
            if state.gateway_port_id is not None:
                port = self.core_plugin.port_in(connection, context.elevated(), state.gateway_port_id)
                self._delete_own_port_in(connection, context, port, deferred)
            defer_event(
                deferred, self.events, ResourceType.ROUTER, Event.AFTER_DELETE, context, router_id, current=current
            )

        self._write(work)

    # Interfaces

    def add_router_interface(
        self, context: RequestContext, router_id: str, interface: InterfaceRequest | Mapping[str, Any]
    ) -> RouterInterfaceInfo:
        request = InterfaceRequest.parse(interface)

        def work(connection: Connection, deferred: Deferred) -> RouterInterfaceInfo:
            state = self._router_in(connection, context, router_id)
            policy.check_modify(context, state.router, router_id)
            if request.subnet_id is not None:
                info = self._attach_subnet_in(connection, context, state, request, request.subnet_id, deferred)
            else:
                assert request.port_id is not None  # InterfaceRequest.validate: exactly one of the two
                info = self._attach_port_in(connection, context, state, request, request.port_id, deferred)
            defer_event(
                deferred,
                self.events,
                ResourceType.ROUTER_INTERFACE,
                Event.AFTER_CREATE,
                context,
                router_id,
                request=request,
                result=info,
            )
            return info

        return self._write(work)

    def remove_router_interface(
        self, context: RequestContext, router_id: str, interface: InterfaceRequest | Mapping[str, Any]
    ) -> RouterInterfaceInfo:
        request = InterfaceRequest.parse(interface)

        def work(connection: Connection, deferred: Deferred) -> RouterInterfaceInfo:
            state = self._router_in(connection, context, router_id)
            router = state.router
            policy.check_modify(context, router, router_id)
            attached = _find_interface(state, request)
            removed = (request.subnet_id,) if request.subnet_id is not None else attached.subnet_ids
            self._check_no_floatingips_through_in(connection, router_id, attached.port_id, removed)
            info = _interface_info(router, dataclasses.replace(attached, subnet_ids=removed))
            self.events.notify(ResourceType.ROUTER_INTERFACE, Event.BEFORE_DELETE, context, router_id, request=request)
            admin = context.elevated()
            port = self.core_plugin.port_in(connection, admin, attached.port_id)
            if len(removed) < len(attached.subnet_ids):
                # Drop one subnet's address from an interface port that has others (Neutron does the same).
                remaining = tuple(
                    FixedIPRequest(subnet_id=fixed.subnet_id, ip_address=fixed.ip_address)
                    for fixed in port.fixed_ips
                    if fixed.subnet_id != removed[0]
                )
                with self._own_change(port.id):
                    self.core_plugin.update_port_in(
                        connection, admin, port.id, PortUpdate(fixed_ips=remaining), deferred
                    )
            else:
                self._delete_own_port_in(connection, context, port, deferred)
            defer_event(
                deferred,
                self.events,
                ResourceType.ROUTER_INTERFACE,
                Event.AFTER_DELETE,
                context,
                router_id,
                request=request,
                current=info,
            )
            return info

        return self._write(work)

    # Floating IPs

    def create_floatingip(
        self, context: RequestContext, floatingip: FloatingIPCreate | Mapping[str, Any]
    ) -> FloatingIP:
        request = FloatingIPCreate.parse(floatingip)
        project_id = policy.owner_for(context, request.project_id, "floatingip")
        network_id = request.floating_network_id
        floatingip_id = _new_id()

        def work(connection: Connection, deferred: Deferred) -> FloatingIP:
            state = self.core_plugin.network_state_in(connection, context, network_id)
            if not state.network.router_external:
                raise BadRequest(
                    "floatingip", "floating_network_id", f"Network {network_id} is not an external network"
                )
            association = None
            if request.port_id is not None:
                association = self._find_association_in(
                    connection, context, network_id, request.port_id, request.fixed_ip_address, floatingip_id
                )
            self.events.notify(ResourceType.FLOATINGIP, Event.BEFORE_CREATE, context, floatingip_id, request=request)
            port = self._create_floating_port_in(
                connection, context, state, project_id, floatingip_id, request, deferred
            )
            created = FloatingIP(
                id=floatingip_id,
                project_id=project_id,
                floating_network_id=network_id,
                floating_ip_address=port.fixed_ips[0].ip_address,
                port_id=None,
                fixed_ip_address=None,
                router_id=None,
                status=FLOATINGIP_DOWN,
            )
            created = _associated(created, association)
            connection.execute(
                _INSERT_FLOATINGIP,
                {
                    "id": floatingip_id,
                    "project_id": project_id,
                    "floating_network_id": network_id,
                    "floating_ip_address": str(created.floating_ip_address),
                    "floating_port_id": port.id,
                    "created_at": next_created_at(),
                    **_association_values(created),
                },
            )
            defer_event(
                deferred,
                self.events,
                ResourceType.FLOATINGIP,
                Event.AFTER_CREATE,
                context,
                floatingip_id,
                request=request,
                result=created,
            )
            return created

        return self._write(work, _association_clash)

    def get_floatingip(self, context: RequestContext, floatingip_id: str) -> FloatingIP:
        with self.database.reader() as connection:
            return self._floatingip_in(connection, context, floatingip_id)[0]

    def get_floatingips(self, context: RequestContext, filters: Filters | None = None) -> list[FloatingIP]:
        statement, params = FLOATINGIP_LISTER.query(context, filters)
        with self.database.reader() as connection:
            floatingips = [floatingip_from_row(row) for row in connection.execute(statement, params)]
        return refine(only_visible(context, floatingips), FloatingIP, filters)

    def associate_floatingip(
        self, context: RequestContext, floatingip_id: str, port_id: str, fixed_ip_address: str | None = None
    ) -> FloatingIP:
        port_id = _parse_value("port_id", to_id, port_id)
        fixed_ip = None if fixed_ip_address is None else _parse_value("fixed_ip_address", to_ip, fixed_ip_address)
        change = {"port_id": port_id, "fixed_ip_address": fixed_ip_address}

        def work(connection: Connection, deferred: Deferred) -> FloatingIP:
            current, _ = self._floatingip_in(connection, context, floatingip_id, lock=True)
            policy.check_modify(context, current, floatingip_id)
            association = self._find_association_in(
                connection, context, current.floating_network_id, port_id, fixed_ip, floatingip_id
            )
            self.events.notify(
                ResourceType.FLOATINGIP, Event.BEFORE_UPDATE, context, floatingip_id, request=change, current=current
            )
            return self._reassociate_in(connection, context, current, association, change, deferred)

        return self._write(work, _association_clash)

    def disassociate_floatingip(self, context: RequestContext, floatingip_id: str) -> FloatingIP:
        change = {"port_id": None}

        def work(connection: Connection, deferred: Deferred) -> FloatingIP:
            current, _ = self._floatingip_in(connection, context, floatingip_id, lock=True)
            policy.check_modify(context, current, floatingip_id)
            if current.port_id is None:
                return current
            self.events.notify(
                ResourceType.FLOATINGIP, Event.BEFORE_UPDATE, context, floatingip_id, request=change, current=current
            )
            return self._reassociate_in(connection, context, current, None, change, deferred)

        return self._write(work)

    def delete_floatingip(self, context: RequestContext, floatingip_id: str) -> None:
        def work(connection: Connection, deferred: Deferred) -> None:
            current, floating_port_id = self._floatingip_in(connection, context, floatingip_id, lock=True)
            policy.check_modify(context, current, floatingip_id)
            self.events.notify(ResourceType.FLOATINGIP, Event.BEFORE_DELETE, context, floatingip_id, current=current)
            connection.execute(_DELETE_FLOATINGIP, {"b_id": floatingip_id})
            port = self.core_plugin.port_in(connection, context.elevated(), floating_port_id)
            self._delete_own_port_in(connection, context, port, deferred)
            defer_event(
                deferred,
                self.events,
                ResourceType.FLOATINGIP,
                Event.AFTER_DELETE,
                context,
                floatingip_id,
                current=current,
            )

        self._write(work)

    # Core plugin event subscribers; they run inside the core plugin's transaction.

    def _on_port_change(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        """Veto deleting or rewiring a port our routers or floating IPs own; disassociate a deleted port."""
        port = payload.current
        if not isinstance(port, Port):
            return
        if port.device_owner in _L3_PORT_OWNERS and port.id not in self._thread.own_changes:
            if event is Event.BEFORE_DELETE or _rewires(port, payload.request):
                self._veto_in_use(port)
            return
        if event is Event.BEFORE_DELETE:
            self._disassociate_port(port)

    def _veto_in_use(self, port: Port) -> None:
        with self.database.reader() as connection:
            if port.device_owner in _ROUTER_PORT_OWNERS:
                if connection.execute(_ROUTER_EXISTS, {"b_id": port.device_id}).first():
                    raise InUse("port", port.id, [port.device_id], what="router")
            elif connection.execute(_FLOATINGIP_EXISTS, {"b_id": port.device_id}).first():
                raise InUse("port", port.id, [port.device_id], what="floating IP")

    def _disassociate_port(self, port: Port) -> None:
        """Floating IPs pointing at the port point nowhere once it is gone; the foreign key insists."""
        with self.database.writer() as connection:
            rows = connection.execute(_FLOATINGIPS_OF_PORT, {"b_port": port.id}).all()
            if not rows:
                return
            connection.execute(_DISASSOCIATE_PORT, {"b_port": port.id, **_association_values(None)})
        changed = [(before, _associated(before, None)) for before in map(floatingip_from_row, rows)]
        self._thread.disassociated[port.id] = changed

    def _after_port_delete(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        port = payload.current
        if not isinstance(port, Port):
            return
        for current, updated in self._thread.disassociated.pop(port.id, ()):
            self.events.notify(
                ResourceType.FLOATINGIP,
                Event.AFTER_UPDATE,
                payload.context,
                updated.id,
                request={"port_id": None},
                current=current,
                result=updated,
            )

    # Reads

    def _router_in(self, connection: Connection, context: RequestContext, router_id: str) -> _RouterState:
        """The visible router, locked, with its gateway addresses and interfaces, in one query."""
        rows = connection.execute(_ROUTER_STATE[self.database.locks_rows], {"b_id": router_id}).all()
        if not rows:
            raise NotFound("router", router_id)
        first = rows[0]
        gateway_ips: list[FixedIP] = []
        gateway_cidrs: list[netaddr.IPNetwork] = []
        # Interface port id -> (its network, its (subnet id, cidr) pairs), in port order.
        interfaces: dict[str, tuple[str, list[tuple[str, netaddr.IPNetwork]]]] = {}
        for row in rows:
            if row.port_id is None:
                continue
            if row.port_id == first.gw_port_id:
                if row.fixed_subnet_id is not None:
                    gateway_ips.append(
                        FixedIP(subnet_id=row.fixed_subnet_id, ip_address=netaddr.IPAddress(row.fixed_ip_address))
                    )
                    gateway_cidrs.append(netaddr.IPNetwork(row.fixed_cidr))
            elif row.port_owner == DEVICE_OWNER_ROUTER_INTERFACE:
                _, addresses = interfaces.setdefault(row.port_id, (row.port_network_id, []))
                if row.fixed_subnet_id is not None:
                    addresses.append((row.fixed_subnet_id, netaddr.IPNetwork(row.fixed_cidr)))
        router = router_from_row(first, gateway_ips)
        if not policy.is_visible(context, router):
            raise NotFound("router", router_id)
        attached = tuple(
            _Interface(
                port_id=port_id,
                network_id=network_id,
                subnet_ids=tuple(dict.fromkeys(subnet_id for subnet_id, _ in addresses)),
                cidrs=tuple(dict.fromkeys(cidr for _, cidr in addresses)),
            )
            for port_id, (network_id, addresses) in interfaces.items()
        )
        return _RouterState(router, first.gw_port_id, tuple(dict.fromkeys(gateway_cidrs)), attached)

    def _floatingip_in(
        self, connection: Connection, context: RequestContext, floatingip_id: str, *, lock: bool = False
    ) -> tuple[FloatingIP, str]:
        """The visible floating IP and the id of its port; NotFound otherwise."""
        row = connection.execute(_FLOATINGIP[lock and self.database.locks_rows], {"b_id": floatingip_id}).first()
        if row is None:
            raise NotFound("floatingip", floatingip_id)
        floatingip = floatingip_from_row(row)
        if not policy.is_visible(context, floatingip):
            raise NotFound("floatingip", floatingip_id)
        return floatingip, row.floating_port_id

    def _gateway_network_in(
        self,
        connection: Connection,
        context: RequestContext,
        network_id: str,
        router_cidrs: Sequence[netaddr.IPNetwork],
    ) -> NetworkState:
        """The gateway network: external, and none of its subnets overlapping the router's interfaces."""
        state = self.core_plugin.network_state_in(connection, context, network_id)
        if not state.network.router_external:
            raise BadRequest("router", "external_gateway_info", f"Network {network_id} is not an external network")
        for subnet in state.subnets:
            for cidr in router_cidrs:
                if _overlap(subnet.cidr, cidr):
                    raise BadRequest(
                        "router",
                        "external_gateway_info",
                        f"subnet {subnet.id} ({subnet.cidr}) of network {network_id} overlaps with {cidr}, "
                        "an interface of the router",
                    )
        return state

    # Gateways

    def _create_gateway_port_in(
        self,
        connection: Connection,
        context: RequestContext,
        router_id: str,
        project_id: str,
        gateway: GatewayRequest,
        state: NetworkState,
        deferred: Deferred,
    ) -> Port:
        try:
            return self.core_plugin.create_port_in(
                connection,
                context.elevated(),
                PortCreate(
                    network_id=gateway.network_id,
                    project_id=project_id,
                    device_owner=DEVICE_OWNER_ROUTER_GATEWAY,
                    device_id=router_id,
                    fixed_ips=gateway.external_fixed_ips,
                ),
                deferred,
                state=state,
            )
        except BadRequest as error:
            # The caller asked for a gateway, not a port: name what they sent.
            raise BadRequest("router", "external_gateway_info", f"{error.attribute}: {error.reason}") from error

    def _change_gateway_in(
        self,
        connection: Connection,
        context: RequestContext,
        state: _RouterState,
        gateway: GatewayRequest | None,
        deferred: Deferred,
    ) -> tuple[ExternalGatewayInfo | None, str | None, Port | None]:
        """Set, change or (None) remove the gateway: the new gateway info, its port id, and the old port to delete."""
        router = state.router
        current = router.external_gateway_info
        old_port_id = state.gateway_port_id
        admin = context.elevated()
        if gateway is None:
            if old_port_id is None:
                return None, None, None
            self._check_no_floatingips_through_in(connection, router.id)
            return None, None, self.core_plugin.port_in(connection, admin, old_port_id)
        if current is not None and old_port_id is not None and gateway.network_id == current.network_id:
            # Same external network: change SNAT and, if asked, the gateway port's addresses.
            fixed_ips = current.external_fixed_ips
            if gateway.external_fixed_ips is not None:
                with self._own_change(old_port_id):
                    port = self.core_plugin.update_port_in(
                        connection, admin, old_port_id, PortUpdate(fixed_ips=gateway.external_fixed_ips), deferred
                    )
                fixed_ips = port.fixed_ips
            info = ExternalGatewayInfo(
                network_id=gateway.network_id, enable_snat=gateway.enable_snat, external_fixed_ips=fixed_ips
            )
            return info, old_port_id, None
        if current is not None:
            # Floating IPs on the old network reach their ports through this gateway.
            self._check_no_floatingips_through_in(connection, router.id)
        interface_cidrs = [cidr for interface in state.interfaces for cidr in interface.cidrs]
        network = self._gateway_network_in(connection, context, gateway.network_id, interface_cidrs)
        port = self._create_gateway_port_in(
            connection, context, router.id, router.project_id, gateway, network, deferred
        )
        old_port = None if old_port_id is None else self.core_plugin.port_in(connection, admin, old_port_id)
        info = ExternalGatewayInfo(
            network_id=gateway.network_id, enable_snat=gateway.enable_snat, external_fixed_ips=port.fixed_ips
        )
        return info, port.id, old_port

    # Interfaces

    def _attach_subnet_in(
        self,
        connection: Connection,
        context: RequestContext,
        state: _RouterState,
        request: InterfaceRequest,
        subnet_id: str,
        deferred: Deferred,
    ) -> RouterInterfaceInfo:
        """A new port on the subnet, holding its gateway address."""
        network_state = self._network_state_of_subnet_in(connection, context, subnet_id)
        network = network_state.network
        subnet = next(s for s in network_state.subnets if s.id == subnet_id)
        if not context.is_admin and network.project_id != context.project_id:
            raise NotAuthorized(f"Only the owner of network {network.id} or an admin may attach subnet {subnet_id}")
        if subnet.gateway_ip is None:
            raise BadRequest("router_interface", "subnet_id", f"Subnet {subnet_id} has no gateway IP")
        _check_can_attach(state, [subnet], "subnet_id")
        router = state.router
        self.events.notify(ResourceType.ROUTER_INTERFACE, Event.BEFORE_CREATE, context, router.id, request=request)
        port = self.core_plugin.create_port_in(
            connection,
            context.elevated(),
            PortCreate(
                network_id=subnet.network_id,
                project_id=router.project_id,
                device_owner=DEVICE_OWNER_ROUTER_INTERFACE,
                device_id=router.id,
                fixed_ips=(FixedIPRequest(subnet_id=subnet_id, ip_address=subnet.gateway_ip),),
            ),
            deferred,
            state=network_state,
        )
        return _interface_info(router, _Interface(port.id, subnet.network_id, (subnet_id,), (subnet.cidr,)))

    def _network_state_of_subnet_in(
        self, connection: Connection, context: RequestContext, subnet_id: str
    ) -> NetworkState:
        """The network of a visible subnet, with all its subnets, in one query; NotFound for the subnet otherwise."""
        params = {"b_subnet": subnet_id, **context_params(context)}
        rows = connection.execute(_NETWORK_STATE_OF_SUBNET[context.is_admin], params).all()
        subnets = tuple(subnet_from_row(Prefixed(row, "subnet_")) for row in rows)
        target = next((subnet for subnet in subnets if subnet.id == subnet_id), None)
        network = networks_from_rows(rows)[0] if rows else None
        # The query's visibility clause, checked again exactly (see naas_plugins.sql._rows).
        if (
            target is None
            or network is None
            or not (policy.is_visible(context, target) or policy.is_visible(context, network))
        ):
            raise NotFound("subnet", subnet_id)
        return NetworkState(network, subnets)

    def _attach_port_in(
        self,
        connection: Connection,
        context: RequestContext,
        state: _RouterState,
        request: InterfaceRequest,
        port_id: str,
        deferred: Deferred,
    ) -> RouterInterfaceInfo:
        """An unbound port with addresses becomes the router's interface on their subnets."""
        port = self.core_plugin.port_in(connection, context, port_id, lock=True)
        if port.device_id or port.device_owner:
            owner = port.device_owner or "device"
            raise BadRequest("router_interface", "port_id", f"Port {port_id} is in use by {owner} {port.device_id}")
        if not port.fixed_ips:
            raise BadRequest("router_interface", "port_id", f"Port {port_id} has no IP address")
        subnets = self._subnets_in(connection, [fixed.subnet_id for fixed in port.fixed_ips])
        _check_can_attach(state, subnets, "port_id")
        router = state.router
        self.events.notify(ResourceType.ROUTER_INTERFACE, Event.BEFORE_CREATE, context, router.id, request=request)
        self.core_plugin.update_port_in(
            connection,
            context.elevated(),
            port_id,
            PortUpdate(device_owner=DEVICE_OWNER_ROUTER_INTERFACE, device_id=router.id),
            deferred,
        )
        interface = _Interface(port_id, port.network_id, tuple(s.id for s in subnets), tuple(s.cidr for s in subnets))
        return _interface_info(router, interface)

    def _subnets_in(self, connection: Connection, subnet_ids: Sequence[str]) -> list[Subnet]:
        """The subnets, in the order of ``subnet_ids`` (duplicates dropped)."""
        rows = connection.execute(_SUBNETS, {"ids": sorted(set(subnet_ids))})
        by_id = {row.id: subnet_from_row(row) for row in rows}
        return [by_id[subnet_id] for subnet_id in dict.fromkeys(subnet_ids) if subnet_id in by_id]

    def _check_no_floatingips_through_in(
        self,
        connection: Connection,
        router_id: str,
        interface_port_id: str | None = None,
        subnet_ids: Sequence[str] | None = None,
    ) -> None:
        """Refuse while floating IPs reach fixed addresses through this router (on ``subnet_ids``, if given)."""
        if subnet_ids is None:
            rows = connection.execute(_FLOATINGIPS_THROUGH, {"b_router": router_id})
        else:
            rows = connection.execute(
                _FLOATINGIPS_THROUGH_SUBNETS, {"b_router": router_id, "subnets": list(subnet_ids)}
            )
        users = list(rows.scalars())
        if not users:
            return
        if interface_port_id is None:
            raise InUse("router", router_id, users, what="floating IPs")
        raise InUse("router_interface", interface_port_id, users, what="floating IPs")

    # Floating IPs

    def _create_floating_port_in(
        self,
        connection: Connection,
        context: RequestContext,
        state: NetworkState,
        project_id: str,
        floatingip_id: str,
        request: FloatingIPCreate,
        deferred: Deferred,
    ) -> Port:
        """The floating IP's port: the requested address, or one from the first IPv4 subnet with room."""
        network_id = state.network.id
        if request.floating_ip_address is not None:
            fixed_ips: tuple[FixedIPRequest, ...] | None = (FixedIPRequest(ip_address=request.floating_ip_address),)
        elif not any(subnet.ip_version == 4 for subnet in state.subnets):
            raise BadRequest("floatingip", "floating_network_id", f"Network {network_id} has no IPv4 subnet")
        else:
            fixed_ips = None
        port_request = PortCreate(
            network_id=network_id,
            project_id=project_id,
            device_owner=DEVICE_OWNER_FLOATINGIP,
            device_id=floatingip_id,
            fixed_ips=fixed_ips,
        )
        try:
            return self.core_plugin.create_port_in(
                connection, context.elevated(), port_request, deferred, state=state, versions=(4,)
            )
        except BadRequest as error:
            if request.floating_ip_address is None:
                raise
            raise BadRequest("floatingip", "floating_ip_address", error.reason) from error

    def _find_association_in(
        self,
        connection: Connection,
        context: RequestContext,
        network_id: str,
        port_id: str,
        fixed_ip_address: netaddr.IPAddress | None,
        floatingip_id: str,
    ) -> _Association:
        """Check that floating IP ``floatingip_id`` of ``network_id`` may point at the port's address."""
        port = self.core_plugin.port_in(connection, context, port_id)
        if port.device_owner in _L3_PORT_OWNERS:
            raise BadRequest("floatingip", "port_id", f"Port {port_id} is a {port.device_owner} port")
        if fixed_ip_address is None:
            fixed_ip = next((f for f in port.fixed_ips if f.ip_address.version == 4), None)
            if fixed_ip is None:
                raise BadRequest("floatingip", "port_id", f"Port {port_id} has no IPv4 address")
        else:
            fixed_ip = next((f for f in port.fixed_ips if f.ip_address == fixed_ip_address), None)
            if fixed_ip is None or fixed_ip_address.version != 4:
                raise BadRequest(
                    "floatingip", "fixed_ip_address", f"Port {port_id} has no IPv4 address {fixed_ip_address}"
                )
        router_id = connection.execute(
            _ROUTER_BETWEEN, {"b_network": network_id, "b_subnet": fixed_ip.subnet_id}
        ).scalar_one_or_none()
        if router_id is None:
            raise NotFound(
                "router",
                fixed_ip.subnet_id,
                f"External network {network_id} is not reachable from subnet {fixed_ip.subnet_id}.",
            )
        clash = connection.execute(
            _MAPPING_THE_ADDRESS,
            {"b_id": floatingip_id, "b_network": network_id, "b_port": port_id, "b_ip": str(fixed_ip.ip_address)},
        ).scalar_one_or_none()
        if clash is not None:
            raise Conflict(
                "floatingip",
                clash,
                f"Floating IP {clash} of network {network_id} already maps {fixed_ip.ip_address} of port {port_id}.",
            )
        return _Association(port_id, fixed_ip, router_id)

    def _reassociate_in(
        self,
        connection: Connection,
        context: RequestContext,
        current: FloatingIP,
        association: _Association | None,
        change: Mapping[str, Any],
        deferred: Deferred,
    ) -> FloatingIP:
        updated = _associated(current, association)
        connection.execute(_UPDATE_FLOATINGIP, {"b_id": current.id, **_association_values(updated)})
        defer_event(
            deferred,
            self.events,
            ResourceType.FLOATINGIP,
            Event.AFTER_UPDATE,
            context,
            current.id,
            request=change,
            current=current,
            result=updated,
        )
        return updated

    # Ports

    def _delete_own_port_in(
        self, connection: Connection, context: RequestContext, port: Port, deferred: Deferred
    ) -> None:
        """Delete a port this plugin owns, past its own veto."""
        with self._own_change(port.id):
            self.core_plugin.delete_port_in(connection, context.elevated(), port, deferred)


def _associated(floatingip: FloatingIP, association: _Association | None) -> FloatingIP:
    return dataclasses.replace(
        floatingip,
        port_id=None if association is None else association.port_id,
        fixed_ip_address=None if association is None else association.fixed_ip.ip_address,
        router_id=None if association is None else association.router_id,
        status=FLOATINGIP_DOWN if association is None else FLOATINGIP_ACTIVE,
    )


def _association_values(floatingip: FloatingIP | None) -> dict[str, Any]:
    if floatingip is None or floatingip.port_id is None:
        return {"fixed_port_id": None, "fixed_ip_address": None, "router_id": None, "status": FLOATINGIP_DOWN}
    return {
        "fixed_port_id": floatingip.port_id,
        "fixed_ip_address": None if floatingip.fixed_ip_address is None else str(floatingip.fixed_ip_address),
        "router_id": floatingip.router_id,
        "status": floatingip.status,
    }


def _association_clash(error: db_exc.DBDuplicateEntry) -> NaasError | None:
    """Two requests mapped one fixed address at once, and ``uq_floatingips_fixed_ip`` let one through."""
    if {"fixed_ip_address", "uq_floatingips_fixed_ip", "floatingips_fixed"} & set(error.columns):
        return Conflict("floatingip", None, "That fixed address already has a floating IP from this network.")
    return None


def _interface_info(router: Router, interface: _Interface) -> RouterInterfaceInfo:
    return RouterInterfaceInfo(
        id=router.id,
        project_id=router.project_id,
        network_id=interface.network_id,
        port_id=interface.port_id,
        subnet_id=interface.subnet_ids[0],
        subnet_ids=interface.subnet_ids,
    )


def _find_interface(state: _RouterState, request: InterfaceRequest) -> _Interface:
    router_id = state.router.id
    if request.port_id is not None:
        found = next((i for i in state.interfaces if i.port_id == request.port_id), None)
        where = f"port {request.port_id}"
    else:
        found = next((i for i in state.interfaces if request.subnet_id in i.subnet_ids), None)
        where = f"subnet {request.subnet_id}"
    if found is None:
        raise NotFound("router_interface", router_id, f"Router {router_id} has no interface on {where}.")
    return found


def _check_can_attach(state: _RouterState, subnets: Sequence[Subnet], attribute: str) -> None:
    """One interface per subnet, and no two of the router's subnets (gateway included) may overlap."""
    router_id = state.router.id
    attached = {subnet_id for interface in state.interfaces for subnet_id in interface.subnet_ids}
    router_cidrs = state.cidrs()
    for subnet in subnets:
        if subnet.id in attached:
            raise BadRequest(
                "router_interface", attribute, f"Router {router_id} already has a port on subnet {subnet.id}"
            )
        for cidr in router_cidrs:
            if _overlap(subnet.cidr, cidr):
                raise BadRequest(
                    "router_interface",
                    attribute,
                    f"cidr {subnet.cidr} of subnet {subnet.id} overlaps with {cidr} on router {router_id}",
                )


def _rewires(port: Port, request: Any) -> bool:
    """Whether a port update changes what the port is attached to or its addresses."""
    if not isinstance(request, PortUpdate):
        return True
    return (
        request.fixed_ips is not UNSET
        or (request.device_owner is not UNSET and request.device_owner != port.device_owner)
        or (request.device_id is not UNSET and request.device_id != port.device_id)
    )
