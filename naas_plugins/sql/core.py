"""The sql core plugin: networks, subnets, subnet pools, ports and their addresses in a database.

Transactions
------------
Every public method is one writer (or reader) transaction of the plugin's
:class:`~naas_plugins.sql.database.Database`, run through
:meth:`~naas_plugins.sql.database.Database.run`, which retries the whole
method on a deadlock or a lost compare-and-swap. Inside it, in this order:
the request is parsed and checked, the rows it depends on are read (locked on
PostgreSQL and MySQL where a concurrent change would invalidate the check), the
``BEFORE_*`` event is published, and the changes are written. ``AFTER_*``
events are collected while the transaction runs and published once it has
committed; a failure anywhere rolls back everything the method did, addresses
and prefixes included.

The ``..._in(connection, ...)`` methods (:meth:`SqlCorePlugin.network_state_in`,
:meth:`~SqlCorePlugin.port_in`, :meth:`~SqlCorePlugin.create_port_in`,
:meth:`~SqlCorePlugin.update_port_in`, :meth:`~SqlCorePlugin.delete_port_in`)
do the work inside a transaction the caller opened, with :meth:`SqlCorePlugin.write`
as the transaction boundary; the L3 plugin, which shares the database, calls
them to create and delete its ports in the same transaction as its routers and
floating IPs.

Cost
----
A call reads the handful of rows it needs with one query per kind of resource
(an outer join brings a network's subnets or a port's addresses along) and
never re-reads what it wrote. Addresses and prefixes come from the free-space
tables of :mod:`naas_plugins.sql._ipam`, so their cost does not depend on how
full a subnet or a pool is.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal, Self, TypeVar

import netaddr
import sqlalchemy as sa
from oslo_config import cfg
from oslo_db import exception as db_exc
from sqlalchemy.engine import Connection

from naas import policy
from naas.auto_allocate.store import TopologyStore
from naas.context import RequestContext
from naas.events import Event, EventPayload, EventRegistry, ResourceType
from naas.exceptions import (
    BadRequest,
    Conflict,
    DefaultExternalNetworkExists,
    DefaultSubnetPoolExists,
    InUse,
    IpAddressAlreadyAllocated,
    IpAddressExhausted,
    NaasError,
    NotAuthorized,
    NotFound,
    SubnetPoolExhausted,
    SubnetPoolQuotaExceeded,
)
from naas.ipam import (
    FreeAddresses,
    check_prefixlen_in_bounds,
    compact_prefixes,
    default_allocation_pools,
    default_gateway,
    prefix_quota_units,
    resolve_prefix_bounds,
    validate_address_for_subnet,
    validate_allocation_pools,
    validate_gateway,
)
from naas.plugins.core import CorePlugin, Filters
from naas.requests import (
    UNSET,
    FixedIPRequest,
    NetworkCreate,
    NetworkUpdate,
    PortCreate,
    PortUpdate,
    SubnetCreate,
    SubnetPoolCreate,
    SubnetPoolUpdate,
    SubnetUpdate,
    Unset,
    plan_fixed_ips,
)
from naas.resources import (
    DEVICE_OWNER_FLOATINGIP,
    DEVICE_OWNER_ROUTER_GATEWAY,
    DEVICE_OWNER_ROUTER_INTERFACE,
    FixedIP,
    Network,
    Port,
    Subnet,
    SubnetPool,
)
from naas_plugins.sql import _ipam, migration
from naas_plugins.sql._rows import (
    ALLOCATIONS,
    NETWORK_LISTER,
    NETWORKS,
    POOL_LISTER,
    POOLS,
    PORT_LISTER,
    PORTS,
    SUBNET_LISTER,
    SUBNETS,
    Prefixed,
    context_params,
    format_pools,
    networks_from_rows,
    parse_pools,
    pool_from_row,
    ports_from_rows,
    refine,
    select_networks,
    select_ports,
    subnet_from_row,
    subnet_visible,
)
from naas_plugins.sql.database import Database, engine_options_from_conf, retry_request
from naas_plugins.sql.models import next_created_at
from naas_plugins.sql.store import SqlTopologyStore

__all__ = ["SqlCorePlugin"]

T = TypeVar("T")

NETWORK_STATUS = "ACTIVE"
PORT_STATUS = "ACTIVE"
_MAC_PREFIX = "fa:16:3e"
_WIDTH = {4: 32, 6: 128}
# Ports that tie an external network to routers: it cannot stop being external while they exist.
_EXTERNAL_USERS = (DEVICE_OWNER_ROUTER_GATEWAY, DEVICE_OWNER_FLOATINGIP)

Deferred = list[tuple[EventRegistry, ResourceType, Event, EventPayload]]
"""``AFTER_*`` events collected during a transaction (with the registry to publish them to), published once it
has committed."""


def _new_id() -> str:
    return str(uuid.uuid4())


def _new_mac() -> str:
    suffix = random.getrandbits(24).to_bytes(3, "big")
    return ":".join([_MAC_PREFIX, *(f"{byte:02x}" for byte in suffix)])


def _version(ip_version: int) -> Literal[4, 6]:
    return 4 if ip_version == 4 else 6


def _in_pools(pools: Iterable[netaddr.IPRange], value: int) -> bool:
    return any(pool.first <= value <= pool.last for pool in pools)


def _overlap(first: netaddr.IPNetwork, second: netaddr.IPNetwork) -> bool:
    return first.version == second.version and (first in second or second in first)


def _pool_bits(pool: SubnetPool) -> int:
    """Host bits of the pool's largest prefix: the largest free block it can ever have."""
    return _WIDTH[pool.ip_version] - min(prefix.prefixlen for prefix in pool.prefixes)


def _locking(statement: sa.Select[Any], **lock: Any) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The statement without and with ``FOR UPDATE`` (index by whether the backend locks rows)."""
    return statement, statement.with_for_update(**lock)


# The statements, built once with bind parameters (b_... in WHERE clauses, column names in VALUES and
# SET): SQLAlchemy then finds their compiled form by a memoised key instead of building and hashing a
# new expression on every call.

_INSERT_NETWORK: Final = sa.insert(NETWORKS)
_UPDATE_NETWORK: Final = sa.update(NETWORKS).where(NETWORKS.c.id == sa.bindparam("b_id"))
_DELETE_NETWORK: Final = sa.delete(NETWORKS).where(NETWORKS.c.id == sa.bindparam("b_id"))
_DEFAULT_NETWORK_ID: Final = sa.select(NETWORKS.c.id).where(NETWORKS.c.default_marker == sa.true())
# Locked against concurrent updates only: foreign-key checks of new subnets and ports go on.
_NETWORK: Final = _locking(select_networks().where(NETWORKS.c.id == sa.bindparam("b_id")), of=NETWORKS, key_share=True)
# Locked against everything, foreign-key checks of new subnets and ports included (a delete).
_NETWORK_STATE: Final = _locking(
    sa.select(*NETWORKS.c, *[column.label(f"subnet_{column.name}") for column in SUBNETS.c])
    .select_from(NETWORKS.outerjoin(SUBNETS, SUBNETS.c.network_id == NETWORKS.c.id))
    .where(NETWORKS.c.id == sa.bindparam("b_id"))
    .order_by(SUBNETS.c.created_at, SUBNETS.c.id),
    of=NETWORKS,
)
_PORTS_OF_NETWORK = (
    sa.select(PORTS.c.id)
    .where(PORTS.c.network_id == sa.bindparam("b_network"))
    .order_by(PORTS.c.created_at, PORTS.c.id)
)
_PORT_IDS: Final = _PORTS_OF_NETWORK
_PORT_IDS_OWNED_BY: Final = _PORTS_OF_NETWORK.where(PORTS.c.device_owner.in_(sa.bindparam("owners", expanding=True)))
_PORT_IDS_OF_OTHERS: Final = _PORTS_OF_NETWORK.where(PORTS.c.project_id != sa.bindparam("b_project"))

_INSERT_SUBNET: Final = sa.insert(SUBNETS)
_UPDATE_SUBNET: Final = sa.update(SUBNETS).where(SUBNETS.c.id == sa.bindparam("b_id"))
_DELETE_SUBNET: Final = sa.delete(SUBNETS).where(SUBNETS.c.id == sa.bindparam("b_id"))
_DELETE_SUBNETS: Final = sa.delete(SUBNETS).where(SUBNETS.c.id.in_(sa.bindparam("ids", expanding=True)))
_SUBNET: Final = {
    admin: sa.select(SUBNETS)
    .join(NETWORKS, NETWORKS.c.id == SUBNETS.c.network_id)
    .where(SUBNETS.c.id == sa.bindparam("b_id"), subnet_visible(admin))
    for admin in (False, True)
}
_SUBNET_EXISTS: Final = sa.select(SUBNETS.c.id).where(SUBNETS.c.id == sa.bindparam("b_id"))
_SUBNET_POOLS: Final = sa.select(SUBNETS.c.id, SUBNETS.c.allocation_pools).where(
    SUBNETS.c.id.in_(sa.bindparam("ids", expanding=True))
)
_HOLDERS: Final = (
    sa.select(ALLOCATIONS.c.ip_address, ALLOCATIONS.c.port_id)
    .join(PORTS, PORTS.c.id == ALLOCATIONS.c.port_id)
    .where(ALLOCATIONS.c.subnet_id == sa.bindparam("b_subnet"))
    .order_by(PORTS.c.created_at, PORTS.c.id, ALLOCATIONS.c.position)
)
_ADDRESS_HOLDER: Final = (
    sa.select(PORTS.c.id, PORTS.c.device_owner)
    .join(ALLOCATIONS, ALLOCATIONS.c.port_id == PORTS.c.id)
    .where(ALLOCATIONS.c.subnet_id == sa.bindparam("b_subnet"), ALLOCATIONS.c.ip_address == sa.bindparam("b_ip"))
)
_QUOTA_CIDRS: Final = sa.select(SUBNETS.c.cidr).where(
    SUBNETS.c.subnetpool_id == sa.bindparam("b_pool"), SUBNETS.c.project_id == sa.bindparam("b_project")
)

_INSERT_POOL: Final = sa.insert(POOLS)
_UPDATE_POOL: Final = sa.update(POOLS).where(POOLS.c.id == sa.bindparam("b_id"))
_DELETE_POOL: Final = sa.delete(POOLS).where(POOLS.c.id == sa.bindparam("b_id"))
_POOL: Final = _locking(sa.select(POOLS).where(POOLS.c.id == sa.bindparam("b_id")), key_share=True)
_LOCK_POOL: Final = sa.select(POOLS.c.id).where(POOLS.c.id == sa.bindparam("b_id")).with_for_update()
_POOL_VERSION: Final = sa.select(POOLS.c.ip_version).where(POOLS.c.id == sa.bindparam("b_id"))
_DEFAULT_POOL: Final = sa.select(POOLS).where(
    POOLS.c.ip_version == sa.bindparam("b_version"), POOLS.c.default_marker == sa.true()
)
# Locked in id order, so that two transactions locking the same pools cannot deadlock.
_POOLS: Final = _locking(
    sa.select(POOLS).where(POOLS.c.id.in_(sa.bindparam("ids", expanding=True))).order_by(POOLS.c.id)
)
_POOL_USERS: Final = (
    sa.select(SUBNETS.c.id)
    .where(SUBNETS.c.subnetpool_id == sa.bindparam("b_id"))
    .order_by(SUBNETS.c.created_at, SUBNETS.c.id)
)

_INSERT_PORT: Final = sa.insert(PORTS)
_UPDATE_PORT: Final = sa.update(PORTS).where(PORTS.c.id == sa.bindparam("b_id"))
_DELETE_PORT: Final = sa.delete(PORTS).where(PORTS.c.id == sa.bindparam("b_id"))
_PORT: Final = _locking(select_ports().where(PORTS.c.id == sa.bindparam("b_id")), of=PORTS)
_INSERT_ADDRESSES: Final = sa.insert(ALLOCATIONS)
_DELETE_ADDRESSES: Final = sa.delete(ALLOCATIONS).where(ALLOCATIONS.c.port_id == sa.bindparam("b_port"))
_TAKEN_ADDRESS: Final = (
    sa.select(ALLOCATIONS.c.subnet_id, ALLOCATIONS.c.ip_address)
    .where(sa.tuple_(ALLOCATIONS.c.subnet_id, ALLOCATIONS.c.ip_address).in_(sa.bindparam("wanted", expanding=True)))
    .limit(1)
)


@functools.cache
def _subnet_target(pool: str | None, lock: bool) -> sa.Select[Any]:
    """The network of a new subnet, its subnets' CIDRs and the pool (``pool``: None, "id" or "default").

    The pool is outer-joined on its id or on being the default of an IP
    version: a missing pool leaves its columns NULL. ``lock`` serialises
    subnet creation per network, so that two overlapping CIDRs cannot both
    pass the overlap check.
    """
    columns: list[Any] = [*NETWORKS.c, SUBNETS.c.id.label("subnet_id"), SUBNETS.c.cidr.label("subnet_cidr")]
    joined = NETWORKS.outerjoin(SUBNETS, SUBNETS.c.network_id == NETWORKS.c.id)
    if pool is not None:
        columns += [column.label(f"pool_{column.name}") for column in POOLS.c]
        condition = (
            POOLS.c.id == sa.bindparam("b_pool")
            if pool == "id"
            else sa.and_(POOLS.c.ip_version == sa.bindparam("b_version"), POOLS.c.default_marker == sa.true())
        )
        joined = joined.outerjoin(POOLS, condition)
    statement = (
        sa.select(*columns)
        .select_from(joined)
        .where(NETWORKS.c.id == sa.bindparam("b_network"))
        .order_by(SUBNETS.c.created_at, SUBNETS.c.id)
    )
    return statement.with_for_update(of=NETWORKS, key_share=True) if lock else statement


class _AddressTaken(Exception):
    """An address asked for outside the allocation pools turned out taken (its row's key clashed)."""

    def __init__(self, wanted: Sequence[tuple[str, str]]) -> None:
        super().__init__(wanted)
        self.wanted = wanted


@dataclasses.dataclass(frozen=True)
class NetworkState:
    """A network as a write needs it: the resource and its subnets in full (oldest first)."""

    network: Network
    subnets: tuple[Subnet, ...]


def defer_event(
    deferred: Deferred,
    events: EventRegistry,
    resource: ResourceType,
    event: Event,
    context: RequestContext,
    resource_id: str,
    *,
    request: Any = None,
    current: Any = None,
    result: Any = None,
) -> None:
    """Queue an ``AFTER_*`` event, published by :meth:`SqlCorePlugin.write` once the transaction committed."""
    payload = EventPayload(context=context, resource_id=resource_id, request=request, current=current, result=result)
    deferred.append((events, resource, event, payload))


class SqlCorePlugin(CorePlugin):
    """The core plugin on a database reached through oslo.db (SQLite, PostgreSQL, MySQL/MariaDB).

    ``connection`` is a database URL or an oslo.db transaction context
    (``enginefacade.transaction_context()``) the caller configured;
    ``engine_options`` are oslo.db engine options used with a URL. With
    ``auto_migrate`` (the default) the schema is created or upgraded to the
    newest revision when the plugin is built.
    """

    def __init__(
        self,
        connection: str | Any,
        events: EventRegistry | None = None,
        *,
        auto_migrate: bool = True,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.events = events if events is not None else EventRegistry()
        self.database = Database(connection, engine_options=engine_options)
        self._topology_store = SqlTopologyStore(self.database)
        if auto_migrate:
            migration.ensure_schema(self.database.engine)

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, events: EventRegistry) -> Self:
        """``[database] connection`` (oslo.db's options); unset: an SQLite file in ``state_path``.

        With ``[database] auto_migrate = false`` the schema is not touched, and a database not at the
        newest revision raises :class:`~naas_plugins.sql.migration.SchemaOutOfDate`.
        """
        url, options = engine_options_from_conf(conf)
        auto_migrate = conf.database.auto_migrate
        plugin = cls(url, events, auto_migrate=auto_migrate, engine_options=options)
        if not auto_migrate:
            try:
                migration.check_schema(plugin.database.engine)
            except migration.SchemaOutOfDate:
                plugin.close()
                raise
        return plugin

    def close(self) -> None:
        """Release the database connections held in the pool."""
        self.database.close()

    def get_topology_store(self) -> TopologyStore:
        """Get-me-a-network's records, in ``auto_allocated_topologies`` of this database.

        Shared with every process using the database, not only with this plugin's callers.
        """
        return self._topology_store

    # Transactions

    def write(
        self,
        work: Callable[[Connection, Deferred], T],
        duplicate: Callable[[db_exc.DBDuplicateEntry], NaasError | None] | None = None,
    ) -> T:
        """Run ``work`` in a writer transaction (retried whole), then publish the events it deferred.

        The transaction boundary of every change, the L3 plugin's included.

        ``duplicate`` turns a unique-constraint clash into the error the caller
        should see; returning None re-raises the clash itself.
        """

        def attempt() -> tuple[T, Deferred]:
            deferred: Deferred = []
            try:
                with self.database.writer() as connection:
                    result = work(connection, deferred)
            except db_exc.DBDuplicateEntry as error:
                translated = duplicate(error) if duplicate is not None else None
                if translated is None:
                    raise
                raise translated from None
            except _AddressTaken as taken:
                raise self._address_taken_error(taken) from None
            return result, deferred

        result, deferred = self.database.run(attempt)
        self._publish_deferred(deferred)
        return result

    @staticmethod
    def _publish_deferred(deferred: Deferred) -> None:
        for registry, resource, event, payload in deferred:
            registry.publish(resource, event, payload)

    def _address_taken_error(self, taken: _AddressTaken) -> NaasError | db_exc.RetryRequest:
        """Which of the wanted addresses is taken, read after the failed transaction rolled back."""
        with self.database.reader() as connection:
            row = connection.execute(_TAKEN_ADDRESS, {"wanted": list(taken.wanted)}).first()
        if row is None:
            # Its holder let go of it meanwhile: try again.
            return retry_request("a wanted address was released while it was being taken")
        return IpAddressAlreadyAllocated(row.subnet_id, row.ip_address)

    @property
    def _locks(self) -> bool:
        return self.database.locks_rows

    # Networks

    def create_network(self, context: RequestContext, network: NetworkCreate | Mapping[str, Any]) -> Network:
        request = NetworkCreate.parse(network)
        policy.check_admin_only(context, request)
        project_id = policy.owner_for(context, request.project_id, "network")
        created = Network(
            id=_new_id(),
            project_id=project_id,
            name=request.name,
            admin_state_up=request.admin_state_up,
            shared=request.shared,
            router_external=request.router_external,
            is_default=request.is_default,
            mtu=request.mtu,
            status=NETWORK_STATUS,
            subnets=(),
        )

        def work(connection: Connection, deferred: Deferred) -> Network:
            self.events.notify(ResourceType.NETWORK, Event.BEFORE_CREATE, context, created.id, request=request)
            connection.execute(
                _INSERT_NETWORK,
                {
                    "id": created.id,
                    "project_id": project_id,
                    "name": created.name,
                    "admin_state_up": created.admin_state_up,
                    "shared": created.shared,
                    "router_external": created.router_external,
                    "is_default": created.is_default,
                    "default_marker": True if created.is_default else None,
                    "mtu": created.mtu,
                    "status": created.status,
                    "created_at": next_created_at(),
                },
            )
            defer_event(
                deferred,
                self.events,
                ResourceType.NETWORK,
                Event.AFTER_CREATE,
                context,
                created.id,
                request=request,
                result=created,
            )
            return created

        return self.write(work, self._default_network_clash)

    def _default_network_clash(self, error: db_exc.DBDuplicateEntry) -> NaasError | None:
        if "default_marker" not in error.columns:
            return None
        with self.database.reader() as connection:
            existing = connection.execute(_DEFAULT_NETWORK_ID).scalar_one_or_none()
        if existing is None:
            # The default was removed since: try again.
            raise retry_request("the default external network changed")
        return DefaultExternalNetworkExists(existing)

    def get_network(self, context: RequestContext, network_id: str) -> Network:
        with self.database.reader() as connection:
            return self._network_in(connection, context, network_id)

    def get_networks(self, context: RequestContext, filters: Filters | None = None) -> list[Network]:
        statement, params = NETWORK_LISTER.query(context, filters)
        with self.database.reader() as connection:
            networks = networks_from_rows(connection.execute(statement, params))
        return refine(networks, Network, filters)

    def update_network(
        self, context: RequestContext, network_id: str, changes: NetworkUpdate | Mapping[str, Any]
    ) -> Network:
        request = NetworkUpdate.parse(changes)
        policy.check_admin_only(context, request)

        def work(connection: Connection, deferred: Deferred) -> Network:
            current = self._network_in(connection, context, network_id, lock=True)
            policy.check_modify(context, current, network_id)
            external = current.router_external if request.router_external is UNSET else request.router_external
            shared = current.shared if request.shared is UNSET else request.shared
            if request.is_default is UNSET:
                # A network that stops being external stops being the default with it.
                is_default = current.is_default and external
            else:
                is_default = request.is_default
                if is_default and not external:
                    raise BadRequest(
                        "network", "is_default", "only an external network (router:external) can be the default"
                    )
            if current.router_external and not external:
                users = self._ids(connection, _PORT_IDS_OWNED_BY, b_network=network_id, owners=list(_EXTERNAL_USERS))
                if users:
                    raise InUse("network", network_id, users, what="router gateway and floating IP ports")
            if current.shared and not shared:
                users = self._ids(connection, _PORT_IDS_OF_OTHERS, b_network=network_id, b_project=current.project_id)
                if users:
                    raise InUse("network", network_id, users, what="ports of other projects")
            updated = dataclasses.replace(
                current,
                name=current.name if request.name is UNSET else request.name,
                admin_state_up=current.admin_state_up if request.admin_state_up is UNSET else request.admin_state_up,
                shared=shared,
                router_external=external,
                is_default=is_default,
            )
            self.events.notify(
                ResourceType.NETWORK, Event.BEFORE_UPDATE, context, network_id, request=request, current=current
            )
            connection.execute(
                _UPDATE_NETWORK,
                {
                    "b_id": network_id,
                    "name": updated.name,
                    "admin_state_up": updated.admin_state_up,
                    "shared": updated.shared,
                    "router_external": updated.router_external,
                    "is_default": updated.is_default,
                    "default_marker": True if updated.is_default else None,
                },
            )
            defer_event(
                deferred,
                self.events,
                ResourceType.NETWORK,
                Event.AFTER_UPDATE,
                context,
                network_id,
                request=request,
                current=current,
                result=updated,
            )
            return updated

        return self.write(work, self._default_network_clash)

    def delete_network(self, context: RequestContext, network_id: str) -> None:
        def work(connection: Connection, deferred: Deferred) -> None:
            state = self.network_state_in(connection, context, network_id, lock=True)
            network = state.network
            policy.check_modify(context, network, network_id)
            users = self._ids(connection, _PORT_IDS, b_network=network_id)
            if users:
                raise InUse("network", network_id, users)
            for subnet in state.subnets:
                self.events.notify(ResourceType.SUBNET, Event.BEFORE_DELETE, context, subnet.id, current=subnet)
            self.events.notify(ResourceType.NETWORK, Event.BEFORE_DELETE, context, network_id, current=network)
            self._release_prefixes(connection, state.subnets)
            if state.subnets:
                # Named one by one: a subnet added meanwhile makes the network's delete fail (and
                # the call retry) rather than vanish with its prefix.
                connection.execute(_DELETE_SUBNETS, {"ids": [subnet.id for subnet in state.subnets]})
            connection.execute(_DELETE_NETWORK, {"b_id": network_id})
            for subnet in state.subnets:
                defer_event(
                    deferred, self.events, ResourceType.SUBNET, Event.AFTER_DELETE, context, subnet.id, current=subnet
                )
            defer_event(
                deferred, self.events, ResourceType.NETWORK, Event.AFTER_DELETE, context, network_id, current=network
            )

        self.write(work)

    def _network_in(
        self, connection: Connection, context: RequestContext, network_id: str, *, lock: bool = False
    ) -> Network:
        """The visible network with its subnet ids; NotFound otherwise. ``lock``: against concurrent updates."""
        networks = networks_from_rows(connection.execute(_NETWORK[lock and self._locks], {"b_id": network_id}))
        if not networks or not policy.is_visible(context, networks[0]):
            raise NotFound("network", network_id)
        return networks[0]

    def network_state_in(
        self, connection: Connection, context: RequestContext, network_id: str, *, lock: bool = False
    ) -> NetworkState:
        """The visible network with its subnets in full, in one query; NotFound otherwise.

        ``lock`` locks the network row against everything, foreign-key checks of
        new subnets and ports included (a delete), not only against other updates.
        """
        rows = connection.execute(_NETWORK_STATE[lock and self._locks], {"b_id": network_id}).all()
        if not rows:
            raise NotFound("network", network_id)
        subnets = tuple(subnet_from_row(Prefixed(row, "subnet_")) for row in rows if row.subnet_id is not None)
        network = networks_from_rows(rows)[0]
        if not policy.is_visible(context, network):
            raise NotFound("network", network_id)
        return NetworkState(network, subnets)

    @staticmethod
    def _ids(connection: Connection, statement: sa.Select[Any], **params: Any) -> list[str]:
        return list(connection.execute(statement, params).scalars())

    # Subnets

    def create_subnet(self, context: RequestContext, subnet: SubnetCreate | Mapping[str, Any]) -> Subnet:
        request = SubnetCreate.parse(subnet)
        project_id = policy.owner_for(context, request.project_id, "subnet")

        def work(connection: Connection, deferred: Deferred) -> Subnet:
            network, cidrs, pool = self._subnet_target_in(connection, context, request)
            policy.check_modify(context, network, request.network_id)
            subnet_id = _new_id()
            self.events.notify(ResourceType.SUBNET, Event.BEFORE_CREATE, context, subnet_id, request=request)
            if pool is None:
                assert request.cidr is not None  # SubnetCreate.validate: no pool means a cidr
                cidr = request.cidr
            else:
                cidr = self._allocate_prefix_in(connection, pool, request, project_id)
            for other_id, other in cidrs:
                if _overlap(cidr, other):
                    raise BadRequest(
                        "subnet", "cidr", f"{cidr} overlaps with {other} of subnet {other_id} on the same network"
                    )
            gateway = _gateway_for(cidr, request.gateway_ip)
            if request.allocation_pools is None:
                allocation_pools = default_allocation_pools(cidr, gateway)
            else:
                allocation_pools = validate_allocation_pools(cidr, request.allocation_pools, gateway)
            created = Subnet(
                id=subnet_id,
                project_id=project_id,
                network_id=request.network_id,
                name=request.name,
                ip_version=cidr.version,
                cidr=cidr,
                gateway_ip=gateway,
                allocation_pools=tuple(allocation_pools),
                subnetpool_id=None if pool is None else pool.id,
                enable_dhcp=request.enable_dhcp,
            )
            connection.execute(
                _INSERT_SUBNET,
                {
                    "id": subnet_id,
                    "project_id": project_id,
                    "network_id": request.network_id,
                    "name": created.name,
                    "ip_version": created.ip_version,
                    "cidr": str(cidr),
                    "gateway_ip": None if gateway is None else str(gateway),
                    "allocation_pools": format_pools(allocation_pools),
                    "enable_dhcp": created.enable_dhcp,
                    "subnetpool_id": created.subnetpool_id,
                    "created_at": next_created_at(),
                },
            )
            _ipam.insert_free_ranges(connection, subnet_id, ((pool.first, pool.last) for pool in allocation_pools))
            defer_event(
                deferred,
                self.events,
                ResourceType.SUBNET,
                Event.AFTER_CREATE,
                context,
                subnet_id,
                request=request,
                result=created,
            )
            return created

        def clash(error: db_exc.DBDuplicateEntry) -> NaasError | None:
            if "cidr" in error.columns:
                # The free blocks and this guard disagree: refuse rather than hand a prefix out twice.
                return Conflict("subnetpool", request.subnetpool_id, "The prefix is already allocated from the pool.")
            return None

        return self.write(work, clash)

    def _subnet_target_in(
        self, connection: Connection, context: RequestContext, request: SubnetCreate
    ) -> tuple[Network, list[tuple[str, netaddr.IPNetwork]], SubnetPool | None]:
        """The network (locked against concurrent subnet creation), its subnets' CIDRs and the pool, in one query."""
        pool_mode = None
        if request.subnetpool_id is not None:
            pool_mode = "id"
        elif request.use_default_subnetpool:
            pool_mode = "default"
        params = {"b_network": request.network_id, "b_pool": request.subnetpool_id, "b_version": request.ip_version}
        rows = connection.execute(_subnet_target(pool_mode, self._locks), params).all()
        if not rows:
            raise NotFound("network", request.network_id)
        network = networks_from_rows(rows)[0]
        if not policy.is_visible(context, network):
            raise NotFound("network", request.network_id)
        cidrs = [(row.subnet_id, netaddr.IPNetwork(row.subnet_cidr)) for row in rows if row.subnet_id is not None]
        if pool_mode is None:
            return network, cidrs, None
        pool = None if rows[0].pool_id is None else pool_from_row(Prefixed(rows[0], "pool_"))
        if request.subnetpool_id is not None:
            if pool is None or not policy.is_visible(context, pool):
                raise NotFound("subnetpool", request.subnetpool_id)
        elif pool is None or not policy.is_visible(context, pool):
            raise BadRequest("subnet", "use_default_subnetpool", f"No default subnet pool for IPv{request.ip_version}")
        version = pool.ip_version
        if request.cidr is not None and request.cidr.version != version:
            raise BadRequest("subnet", "cidr", f"{request.cidr} is not IPv{version} like subnet pool {pool.id}")
        if request.ip_version is not None and request.ip_version != version:
            raise BadRequest("subnet", "ip_version", f"subnet pool {pool.id} is IPv{version}")
        if isinstance(request.gateway_ip, netaddr.IPAddress) and request.gateway_ip.version != version:
            raise BadRequest("subnet", "gateway_ip", f"{request.gateway_ip} is not IPv{version} like the subnet pool")
        return network, cidrs, pool

    def _allocate_prefix_in(
        self, connection: Connection, pool: SubnetPool, request: SubnetCreate, project_id: str
    ) -> netaddr.IPNetwork:
        """Carve the subnet's prefix from the pool: the requested cidr, or any block of the requested length."""
        cidr = request.cidr
        if cidr is None and isinstance(request.gateway_ip, netaddr.IPAddress):
            # As in Neutron, a gateway without a cidr asks for the block around that gateway.
            prefixlen = pool.default_prefixlen if request.prefixlen is None else request.prefixlen
            cidr = netaddr.IPNetwork(f"{request.gateway_ip}/{prefixlen}").cidr
        prefixlen = (
            cidr.prefixlen
            if cidr is not None
            else (pool.default_prefixlen if request.prefixlen is None else request.prefixlen)
        )
        check_prefixlen_in_bounds(prefixlen, pool.min_prefixlen, pool.max_prefixlen)
        width = _WIDTH[pool.ip_version]
        if pool.default_quota:
            if self._locks:
                # One quota check at a time per pool, so two requests cannot both fit under it.
                connection.execute(_LOCK_POOL, {"b_id": pool.id})
            self._check_quota_in(connection, pool, project_id, prefixlen)
        if cidr is None:
            network = _ipam.allocate_any_prefix(connection, pool.id, width, prefixlen, self._locks)
            if network is None:
                raise SubnetPoolExhausted(pool.id, prefixlen)
            return netaddr.IPNetwork((network, prefixlen), version=_version(pool.ip_version))
        if not _ipam.allocate_prefix(connection, pool.id, width, cidr, _pool_bits(pool), self._locks):
            raise Conflict("subnetpool", pool.id, f"Prefix {cidr} is not available in subnet pool {pool.id}.")
        return cidr

    def _check_quota_in(self, connection: Connection, pool: SubnetPool, project_id: str, prefixlen: int) -> None:
        """Refuse a prefix that takes the project over the pool's quota (0 or None: none, as in Neutron).

        Unlike Neutron, which counts the pool owner's subnets, the project the subnet is for is counted.
        """
        assert pool.default_quota
        cidrs = connection.execute(_QUOTA_CIDRS, {"b_pool": pool.id, "b_project": project_id}).scalars()
        used = sum(prefix_quota_units(pool.ip_version, netaddr.IPNetwork(cidr).prefixlen) for cidr in cidrs)
        if used + prefix_quota_units(pool.ip_version, prefixlen) > pool.default_quota:
            raise SubnetPoolQuotaExceeded(pool.id, project_id, pool.default_quota)

    def get_subnet(self, context: RequestContext, subnet_id: str) -> Subnet:
        with self.database.reader() as connection:
            return self._subnet_in(connection, context, subnet_id)

    def _subnet_in(self, connection: Connection, context: RequestContext, subnet_id: str) -> Subnet:
        row = connection.execute(_SUBNET[context.is_admin], {"b_id": subnet_id, **context_params(context)}).first()
        if row is None:
            raise NotFound("subnet", subnet_id)
        return subnet_from_row(row)

    def get_subnets(self, context: RequestContext, filters: Filters | None = None) -> list[Subnet]:
        statement, params = SUBNET_LISTER.query(context, filters)
        with self.database.reader() as connection:
            subnets = [subnet_from_row(row) for row in connection.execute(statement, params)]
        return refine(subnets, Subnet, filters)

    def update_subnet(
        self, context: RequestContext, subnet_id: str, changes: SubnetUpdate | Mapping[str, Any]
    ) -> Subnet:
        request = SubnetUpdate.parse(changes)

        def work(connection: Connection, deferred: Deferred) -> Subnet:
            current = self._subnet_in(connection, context, subnet_id)
            policy.check_owner(context, current, current.id)
            gateway = current.gateway_ip
            if request.gateway_ip is not UNSET and request.gateway_ip != current.gateway_ip:
                gateway = self._check_new_gateway_in(
                    connection, current, request.gateway_ip, request.allocation_pools is UNSET
                )
            pools = current.allocation_pools
            if request.allocation_pools is not UNSET:
                pools = tuple(validate_allocation_pools(current.cidr, request.allocation_pools, gateway))
                holders = self._holders_in(connection, subnet_id)
                for address, port_id in holders:
                    if _in_pools(current.allocation_pools, int(address)) and not _in_pools(pools, int(address)):
                        raise BadRequest(
                            "subnet",
                            "allocation_pools",
                            f"{address} is in use by port {port_id} and would fall outside the allocation pools",
                        )
            updated = dataclasses.replace(
                current,
                name=current.name if request.name is UNSET else request.name,
                gateway_ip=gateway,
                allocation_pools=pools,
                enable_dhcp=current.enable_dhcp if request.enable_dhcp is UNSET else request.enable_dhcp,
            )
            self.events.notify(
                ResourceType.SUBNET, Event.BEFORE_UPDATE, context, subnet_id, request=request, current=current
            )
            if request.allocation_pools is not UNSET:
                free = FreeAddresses(subnet_id, current.cidr, pools, [address for address, _ in holders])
                _ipam.replace_free_ranges(connection, subnet_id, free.to_ranges())
            connection.execute(
                _UPDATE_SUBNET,
                {
                    "b_id": subnet_id,
                    "name": updated.name,
                    "gateway_ip": None if gateway is None else str(gateway),
                    "allocation_pools": format_pools(pools),
                    "enable_dhcp": updated.enable_dhcp,
                },
            )
            defer_event(
                deferred,
                self.events,
                ResourceType.SUBNET,
                Event.AFTER_UPDATE,
                context,
                subnet_id,
                request=request,
                current=current,
                result=updated,
            )
            return updated

        return self.write(work)

    def _check_new_gateway_in(
        self, connection: Connection, subnet: Subnet, gateway: netaddr.IPAddress | None, keeps_pools: bool
    ) -> netaddr.IPAddress | None:
        """Validate a changed gateway: inside the subnet, outside the pools, not another device's address.

        ``keeps_pools``: the update leaves the allocation pools as they are, so
        they are checked here (new pools are checked against the gateway later).
        """
        if gateway is None:
            return None
        gateway = validate_gateway(subnet.cidr, gateway)
        if keeps_pools and _in_pools(subnet.allocation_pools, int(gateway)):
            raise BadRequest(
                "subnet", "gateway_ip", f"{gateway} is inside the allocation pools; change allocation_pools with it"
            )
        holder = connection.execute(_ADDRESS_HOLDER, {"b_subnet": subnet.id, "b_ip": str(gateway)}).first()
        # A router port may hold it: that is how a router becomes the gateway of a subnet it was plugged into.
        if holder is not None and holder.device_owner != DEVICE_OWNER_ROUTER_INTERFACE:
            raise BadRequest("subnet", "gateway_ip", f"{gateway} is in use by port {holder.id}")
        return gateway

    def _holders_in(self, connection: Connection, subnet_id: str) -> list[tuple[netaddr.IPAddress, str]]:
        """Every address allocated on the subnet and the port holding it, ordered by port age."""
        rows = connection.execute(_HOLDERS, {"b_subnet": subnet_id})
        return [(netaddr.IPAddress(row.ip_address), row.port_id) for row in rows]

    def delete_subnet(self, context: RequestContext, subnet_id: str) -> None:
        def work(connection: Connection, deferred: Deferred) -> None:
            current = self._subnet_in(connection, context, subnet_id)
            policy.check_owner(context, current, current.id)
            holders = self._holders_in(connection, subnet_id)
            if holders:
                raise InUse("subnet", subnet_id, dict.fromkeys(port_id for _, port_id in holders))
            self.events.notify(ResourceType.SUBNET, Event.BEFORE_DELETE, context, subnet_id, current=current)
            self._release_prefixes(connection, [current])
            connection.execute(_DELETE_SUBNET, {"b_id": subnet_id})
            defer_event(
                deferred, self.events, ResourceType.SUBNET, Event.AFTER_DELETE, context, subnet_id, current=current
            )

        self.write(work)

    def _release_prefixes(self, connection: Connection, subnets: Sequence[Subnet]) -> None:
        """Give the prefixes of ``subnets`` back to their pools."""
        pool_ids = sorted({subnet.subnetpool_id for subnet in subnets if subnet.subnetpool_id is not None})
        if not pool_ids:
            return
        # Locked: releases merge free buddies, and two at once in one pool could each miss the other's half.
        pools = {row.id: pool_from_row(row) for row in connection.execute(_POOLS[self._locks], {"ids": pool_ids})}
        for subnet in subnets:
            if subnet.subnetpool_id is not None:
                pool = pools[subnet.subnetpool_id]
                _ipam.release_prefix(connection, pool.id, _WIDTH[pool.ip_version], subnet.cidr, _pool_bits(pool))

    # Subnet pools

    def create_subnetpool(
        self, context: RequestContext, subnetpool: SubnetPoolCreate | Mapping[str, Any]
    ) -> SubnetPool:
        request = SubnetPoolCreate.parse(subnetpool)
        policy.check_admin_only(context, request)
        project_id = policy.owner_for(context, request.project_id, "subnetpool")
        # SubnetPoolCreate.validate has resolved the bounds.
        assert request.min_prefixlen is not None and request.max_prefixlen is not None
        assert request.default_prefixlen is not None
        created = SubnetPool(
            id=_new_id(),
            project_id=project_id,
            name=request.name,
            ip_version=request.ip_version,
            prefixes=request.prefixes,
            default_prefixlen=request.default_prefixlen,
            min_prefixlen=request.min_prefixlen,
            max_prefixlen=request.max_prefixlen,
            shared=request.shared,
            is_default=request.is_default,
            default_quota=request.default_quota,
        )

        def work(connection: Connection, deferred: Deferred) -> SubnetPool:
            self.events.notify(ResourceType.SUBNETPOOL, Event.BEFORE_CREATE, context, created.id, request=request)
            connection.execute(
                _INSERT_POOL,
                {
                    "id": created.id,
                    "project_id": project_id,
                    "name": created.name,
                    "ip_version": created.ip_version,
                    "prefixes": ",".join(str(prefix) for prefix in created.prefixes),
                    "default_prefixlen": created.default_prefixlen,
                    "min_prefixlen": created.min_prefixlen,
                    "max_prefixlen": created.max_prefixlen,
                    "shared": created.shared,
                    "is_default": created.is_default,
                    "default_marker": True if created.is_default else None,
                    "default_quota": created.default_quota,
                    "created_at": next_created_at(),
                },
            )
            _ipam.insert_free_blocks(connection, created.id, _WIDTH[created.ip_version], created.prefixes)
            defer_event(
                deferred,
                self.events,
                ResourceType.SUBNETPOOL,
                Event.AFTER_CREATE,
                context,
                created.id,
                request=request,
                result=created,
            )
            return created

        return self.write(work, self._default_pool_clash(created.ip_version))

    def _default_pool_clash(self, ip_version: int) -> Callable[[db_exc.DBDuplicateEntry], NaasError | None]:
        def clash(error: db_exc.DBDuplicateEntry) -> NaasError | None:
            if "default_marker" not in error.columns:
                return None
            with self.database.reader() as connection:
                existing = self._default_pool_in(connection, ip_version)
            if existing is None:
                raise retry_request("the default subnet pool changed")
            return DefaultSubnetPoolExists(existing.id, ip_version)

        return clash

    def get_subnetpool(self, context: RequestContext, subnetpool_id: str) -> SubnetPool:
        with self.database.reader() as connection:
            return self._pool_in(connection, context, subnetpool_id)

    def _pool_in(
        self, connection: Connection, context: RequestContext, subnetpool_id: str, *, lock: bool = False
    ) -> SubnetPool:
        row = connection.execute(_POOL[lock and self._locks], {"b_id": subnetpool_id}).first()
        if row is None:
            raise NotFound("subnetpool", subnetpool_id)
        pool = pool_from_row(row)
        if not policy.is_visible(context, pool):
            raise NotFound("subnetpool", subnetpool_id)
        return pool

    def get_subnetpools(self, context: RequestContext, filters: Filters | None = None) -> list[SubnetPool]:
        statement, params = POOL_LISTER.query(context, filters)
        with self.database.reader() as connection:
            pools = [pool_from_row(row) for row in connection.execute(statement, params)]
        return refine(pools, SubnetPool, filters)

    def get_default_subnetpool(self, context: RequestContext, ip_version: int) -> SubnetPool | None:
        if isinstance(ip_version, bool) or ip_version not in (4, 6):
            raise BadRequest("subnetpool", "ip_version", f"{ip_version!r} is neither 4 nor 6")
        with self.database.reader() as connection:
            default = self._default_pool_in(connection, ip_version)
        if default is None or not policy.is_visible(context, default):
            return None
        return default

    @staticmethod
    def _default_pool_in(connection: Connection, ip_version: int) -> SubnetPool | None:
        row = connection.execute(_DEFAULT_POOL, {"b_version": ip_version}).first()
        return None if row is None else pool_from_row(row)

    def update_subnetpool(
        self, context: RequestContext, subnetpool_id: str, changes: SubnetPoolUpdate | Mapping[str, Any]
    ) -> SubnetPool:
        request = SubnetPoolUpdate.parse(changes)
        policy.check_admin_only(context, request)

        def work(connection: Connection, deferred: Deferred) -> SubnetPool:
            # Locked: growing the pool adds free blocks computed from its current prefixes.
            current = self._pool_in(connection, context, subnetpool_id, lock=True)
            policy.check_modify(context, current, subnetpool_id)
            prefixes = current.prefixes
            if request.prefixes is not UNSET:
                prefixes = _grown_prefixes(current, request.prefixes)
            low, high, default = resolve_prefix_bounds(
                current.ip_version,
                current.min_prefixlen if request.min_prefixlen is UNSET else request.min_prefixlen,
                current.max_prefixlen if request.max_prefixlen is UNSET else request.max_prefixlen,
                current.default_prefixlen if request.default_prefixlen is UNSET else request.default_prefixlen,
            )
            is_default = current.is_default if request.is_default is UNSET else request.is_default
            updated = dataclasses.replace(
                current,
                name=current.name if request.name is UNSET else request.name,
                prefixes=prefixes,
                min_prefixlen=low,
                max_prefixlen=high,
                default_prefixlen=default,
                is_default=is_default,
                default_quota=current.default_quota if request.default_quota is UNSET else request.default_quota,
            )
            self.events.notify(
                ResourceType.SUBNETPOOL, Event.BEFORE_UPDATE, context, subnetpool_id, request=request, current=current
            )
            if prefixes != current.prefixes:
                added = netaddr.IPSet(prefixes) - netaddr.IPSet(current.prefixes)
                _ipam.release_blocks(
                    connection, subnetpool_id, _WIDTH[current.ip_version], list(added.iter_cidrs()), _pool_bits(updated)
                )
            connection.execute(
                _UPDATE_POOL,
                {
                    "b_id": subnetpool_id,
                    "name": updated.name,
                    "prefixes": ",".join(str(prefix) for prefix in prefixes),
                    "min_prefixlen": low,
                    "max_prefixlen": high,
                    "default_prefixlen": default,
                    "is_default": is_default,
                    "default_marker": True if is_default else None,
                    "default_quota": updated.default_quota,
                },
            )
            defer_event(
                deferred,
                self.events,
                ResourceType.SUBNETPOOL,
                Event.AFTER_UPDATE,
                context,
                subnetpool_id,
                request=request,
                current=current,
                result=updated,
            )
            return updated

        return self.write(work, self._default_pool_clash_for(subnetpool_id))

    def _default_pool_clash_for(self, subnetpool_id: str) -> Callable[[db_exc.DBDuplicateEntry], NaasError | None]:
        def clash(error: db_exc.DBDuplicateEntry) -> NaasError | None:
            with self.database.reader() as connection:
                version = connection.execute(_POOL_VERSION, {"b_id": subnetpool_id}).scalar_one_or_none()
            return None if version is None else self._default_pool_clash(version)(error)

        return clash

    def delete_subnetpool(self, context: RequestContext, subnetpool_id: str) -> None:
        def work(connection: Connection, deferred: Deferred) -> None:
            current = self._pool_in(connection, context, subnetpool_id)
            policy.check_modify(context, current, subnetpool_id)
            users = self._ids(connection, _POOL_USERS, b_id=subnetpool_id)
            if users:
                raise InUse("subnetpool", subnetpool_id, users, what="subnets")
            self.events.notify(ResourceType.SUBNETPOOL, Event.BEFORE_DELETE, context, subnetpool_id, current=current)
            connection.execute(_DELETE_POOL, {"b_id": subnetpool_id})
            defer_event(
                deferred,
                self.events,
                ResourceType.SUBNETPOOL,
                Event.AFTER_DELETE,
                context,
                subnetpool_id,
                current=current,
            )

        self.write(work)

    # Ports

    def create_port(self, context: RequestContext, port: PortCreate | Mapping[str, Any]) -> Port:
        request = PortCreate.parse(port)
        return self.write(
            lambda connection, deferred: self.create_port_in(connection, context, request, deferred),
            self._mac_clash(request),
        )

    def _mac_clash(self, request: PortCreate) -> Callable[[db_exc.DBDuplicateEntry], NaasError | None]:
        """A MAC address the caller asked for that another port on the network has."""

        def clash(error: db_exc.DBDuplicateEntry) -> NaasError | None:
            if "mac_address" not in error.columns:
                return None
            return Conflict(
                "network",
                request.network_id,
                f"MAC address {request.mac_address} is already in use on network {request.network_id}.",
            )

        return clash

    def create_port_in(
        self,
        connection: Connection,
        context: RequestContext,
        request: PortCreate,
        deferred: Deferred,
        *,
        state: NetworkState | None = None,
        versions: Sequence[int] = (4, 6),
    ) -> Port:
        """Create a port inside the caller's transaction; AFTER_CREATE is deferred to ``deferred``.

        ``state`` is the network, if the caller has already read it (the L3
        plugin, creating a gateway port). Without ``fixed_ips`` the port gets one
        address of each of ``versions`` (a floating IP wants IPv4 only).
        """
        project_id = policy.owner_for(context, request.project_id, "port")
        if state is None:
            state = self.network_state_in(connection, context, request.network_id)
        network = state.network
        if not (context.is_admin or network.shared or network.project_id == context.project_id):
            raise NotAuthorized(f"Only the owner or an admin may create ports on network {network.id}")
        mac_address = request.mac_address or _new_mac()
        port_id = _new_id()
        self.events.notify(ResourceType.PORT, Event.BEFORE_CREATE, context, port_id, request=request)
        try:
            connection.execute(
                _INSERT_PORT,
                {
                    "id": port_id,
                    "project_id": project_id,
                    "network_id": network.id,
                    "name": request.name,
                    "admin_state_up": request.admin_state_up,
                    "mac_address": mac_address,
                    "device_id": request.device_id,
                    "device_owner": request.device_owner,
                    "status": PORT_STATUS,
                    "created_at": next_created_at(),
                },
            )
        except db_exc.DBDuplicateEntry as error:
            if "mac_address" in error.columns and request.mac_address is None:
                # 24 random bits, as in Neutron: on a network with thousands of ports (an external
                # network's gateways) a drawn MAC is sometimes taken. Draw again, in a new transaction.
                raise retry_request(f"generated MAC address {mac_address} is taken") from error
            raise
        if request.fixed_ips is None:
            fixed_ips = self._allocate_automatic_in(connection, state, versions)
        else:
            fixed_ips = self._allocate_requested_in(connection, state, request.fixed_ips, ())
        self._insert_fixed_ips(connection, port_id, fixed_ips, state)
        created = Port(
            id=port_id,
            project_id=project_id,
            network_id=network.id,
            name=request.name,
            admin_state_up=request.admin_state_up,
            mac_address=mac_address,
            device_id=request.device_id,
            device_owner=request.device_owner,
            fixed_ips=fixed_ips,
            status=PORT_STATUS,
        )
        defer_event(
            deferred,
            self.events,
            ResourceType.PORT,
            Event.AFTER_CREATE,
            context,
            port_id,
            request=request,
            result=created,
        )
        return created

    def get_port(self, context: RequestContext, port_id: str) -> Port:
        with self.database.reader() as connection:
            return self.port_in(connection, context, port_id)

    def port_in(self, connection: Connection, context: RequestContext, port_id: str, *, lock: bool = False) -> Port:
        """The visible port with its addresses; NotFound otherwise."""
        ports = ports_from_rows(connection.execute(_PORT[lock and self._locks], {"b_id": port_id}))
        if not ports or not policy.is_visible(context, ports[0]):
            raise NotFound("port", port_id)
        return ports[0]

    def get_ports(self, context: RequestContext, filters: Filters | None = None) -> list[Port]:
        statement, params = PORT_LISTER.query(context, filters)
        with self.database.reader() as connection:
            ports = ports_from_rows(connection.execute(statement, params))
        return refine(ports, Port, filters)

    def update_port(self, context: RequestContext, port_id: str, changes: PortUpdate | Mapping[str, Any]) -> Port:
        request = PortUpdate.parse(changes)
        return self.write(
            lambda connection, deferred: self.update_port_in(connection, context, port_id, request, deferred)
        )

    def update_port_in(
        self, connection: Connection, context: RequestContext, port_id: str, request: PortUpdate, deferred: Deferred
    ) -> Port:
        """Update a port inside the caller's transaction (see :meth:`create_port_in`)."""
        current = self.port_in(connection, context, port_id, lock=True)
        policy.check_modify(context, current, port_id)
        self.events.notify(ResourceType.PORT, Event.BEFORE_UPDATE, context, port_id, request=request, current=current)
        fixed_ips = current.fixed_ips
        if request.fixed_ips is not UNSET:
            state = self.network_state_in(connection, context.elevated(), current.network_id)
            connection.execute(_DELETE_ADDRESSES, {"b_port": port_id})
            fixed_ips = self._allocate_requested_in(connection, state, request.fixed_ips, current.fixed_ips)
            self._insert_fixed_ips(connection, port_id, fixed_ips, state)
        updated = dataclasses.replace(
            current,
            name=current.name if request.name is UNSET else request.name,
            admin_state_up=current.admin_state_up if request.admin_state_up is UNSET else request.admin_state_up,
            device_id=current.device_id if request.device_id is UNSET else request.device_id,
            device_owner=current.device_owner if request.device_owner is UNSET else request.device_owner,
            fixed_ips=fixed_ips,
        )
        connection.execute(
            _UPDATE_PORT,
            {
                "b_id": port_id,
                "name": updated.name,
                "admin_state_up": updated.admin_state_up,
                "device_id": updated.device_id,
                "device_owner": updated.device_owner,
            },
        )
        defer_event(
            deferred,
            self.events,
            ResourceType.PORT,
            Event.AFTER_UPDATE,
            context,
            port_id,
            request=request,
            current=current,
            result=updated,
        )
        return updated

    def delete_port(self, context: RequestContext, port_id: str) -> None:
        def work(connection: Connection, deferred: Deferred) -> None:
            current = self.port_in(connection, context, port_id, lock=True)
            policy.check_modify(context, current, port_id)
            self.delete_port_in(connection, context, current, deferred)

        self.write(work)

    def delete_port_in(self, connection: Connection, context: RequestContext, port: Port, deferred: Deferred) -> None:
        """Delete ``port`` (already read and checked) inside the caller's transaction, releasing its addresses."""
        self.events.notify(ResourceType.PORT, Event.BEFORE_DELETE, context, port.id, current=port)
        self._release_addresses_in(connection, port.fixed_ips)
        # Its address rows go with it (ON DELETE CASCADE).
        connection.execute(_DELETE_PORT, {"b_id": port.id})
        defer_event(deferred, self.events, ResourceType.PORT, Event.AFTER_DELETE, context, port.id, current=port)

    # Capacity

    def count_free_addresses(self, context: RequestContext, subnet_id: str) -> int:
        """From the subnet's free ranges: one query, one row per range."""
        with self.database.reader() as connection:
            self._subnet_in(connection, context, subnet_id)
            return _ipam.count_free_addresses(connection, subnet_id)

    def check_subnetpool_room(
        self, context: RequestContext, subnetpool_id: str, prefixlen: int, project_id: str | None = None
    ) -> None:
        """From the pool's free blocks: one index probe, plus the project's subnets if the pool has a quota."""
        with self.database.reader() as connection:
            pool = self._pool_in(connection, context, subnetpool_id)
            width = _WIDTH[pool.ip_version]
            if isinstance(prefixlen, bool) or not isinstance(prefixlen, int) or not 0 <= prefixlen <= width:
                raise BadRequest("subnet", "prefixlen", f"{prefixlen!r} is not an IPv{pool.ip_version} prefix length")
            if pool.default_quota:
                self._check_quota_in(connection, pool, project_id or context.project_id, prefixlen)
            if not _ipam.has_room(connection, subnetpool_id, width, prefixlen):
                raise SubnetPoolExhausted(subnetpool_id, prefixlen)

    # Addresses; callers hold a writer transaction.

    def _allocate_automatic_in(
        self, connection: Connection, state: NetworkState, versions: Sequence[int]
    ) -> tuple[FixedIP, ...]:
        """One address per IP version the network has subnets of, from the first subnet with room."""
        fixed_ips = []
        for version in versions:
            candidates = [subnet for subnet in state.subnets if subnet.ip_version == version]
            for subnet in candidates:
                value = _ipam.allocate_lowest_address(connection, subnet.id, self._locks)
                if value is not None:
                    address = netaddr.IPAddress(value, _version(version))
                    fixed_ips.append(FixedIP(subnet_id=subnet.id, ip_address=address))
                    break
            else:
                if candidates:
                    raise IpAddressExhausted("network", state.network.id)
        return tuple(fixed_ips)

    def _allocate_requested_in(
        self,
        connection: Connection,
        state: NetworkState,
        wanted: Sequence[FixedIPRequest],
        current: Sequence[FixedIP],
    ) -> tuple[FixedIP, ...]:
        """The addresses ``wanted`` asks for, in its order, keeping those of ``current`` it asks for again.

        An entry keeps a current address when it names it, or names only its
        subnet; the current addresses no entry keeps are released. Entries naming
        an address are served first, so an "any address" entry cannot take it.
        """
        plan = plan_fixed_ips(wanted, current)
        results = list(plan.kept)
        self._release_addresses_in(connection, list(plan.released), state)
        taken = {(fixed.subnet_id, fixed.ip_address) for fixed in results if fixed is not None}
        for index in plan.order:
            if results[index] is None:
                entry = wanted[index]
                subnet = self._subnet_for_entry_in(connection, state, entry)
                fixed = self._take_address_in(connection, subnet, entry.ip_address, taken)
                taken.add((fixed.subnet_id, fixed.ip_address))
                results[index] = fixed
        return tuple(fixed for fixed in results if fixed is not None)

    def _subnet_for_entry_in(self, connection: Connection, state: NetworkState, entry: FixedIPRequest) -> Subnet:
        network_id = state.network.id
        if entry.subnet_id is not None:
            subnet = next((s for s in state.subnets if s.id == entry.subnet_id), None)
            if subnet is not None:
                return subnet
            exists = connection.execute(_SUBNET_EXISTS, {"b_id": entry.subnet_id}).first()
            if exists is None:
                raise NotFound("subnet", entry.subnet_id)
            raise BadRequest("port", "fixed_ips", f"subnet {entry.subnet_id} is not on network {network_id}")
        assert entry.ip_address is not None  # FixedIPRequest.validate
        for subnet in state.subnets:
            if entry.ip_address in subnet.cidr:
                return subnet
        raise BadRequest("port", "fixed_ips", f"{entry.ip_address} is in no subnet of network {network_id}")

    def _take_address_in(
        self,
        connection: Connection,
        subnet: Subnet,
        address: netaddr.IPAddress | None,
        taken: set[tuple[str, netaddr.IPAddress]],
    ) -> FixedIP:
        """Take ``address`` (None: the lowest free) on ``subnet``.

        An address outside the allocation pools is not in the free ranges: the
        key of its ``ip_allocations`` row, inserted by the caller, is what stops
        a second holder (see :class:`_AddressTaken`).
        """
        if address is None:
            value = _ipam.allocate_lowest_address(connection, subnet.id, self._locks)
            if value is None:
                raise IpAddressExhausted("subnet", subnet.id)
            return FixedIP(subnet_id=subnet.id, ip_address=netaddr.IPAddress(value, _version(subnet.ip_version)))
        address = validate_address_for_subnet(subnet.cidr, address)
        if (subnet.id, address) in taken:
            raise IpAddressAlreadyAllocated(subnet.id, str(address))
        if _in_pools(subnet.allocation_pools, int(address)) and not _ipam.allocate_address(
            connection, subnet.id, int(address), self._locks
        ):
            raise IpAddressAlreadyAllocated(subnet.id, str(address))
        return FixedIP(subnet_id=subnet.id, ip_address=address)

    def _insert_fixed_ips(
        self, connection: Connection, port_id: str, fixed_ips: Sequence[FixedIP], state: NetworkState
    ) -> None:
        if not fixed_ips:
            return
        rows = [
            {"subnet_id": fixed.subnet_id, "ip_address": str(fixed.ip_address), "port_id": port_id, "position": index}
            for index, fixed in enumerate(fixed_ips)
        ]
        try:
            connection.execute(_INSERT_ADDRESSES, rows)
        except db_exc.DBDuplicateEntry:
            pools = {subnet.id: subnet.allocation_pools for subnet in state.subnets}
            outside = [
                (fixed.subnet_id, str(fixed.ip_address))
                for fixed in fixed_ips
                if not _in_pools(pools.get(fixed.subnet_id, ()), int(fixed.ip_address))
            ]
            raise _AddressTaken(outside) from None

    def _release_addresses_in(
        self, connection: Connection, fixed_ips: Sequence[FixedIP], state: NetworkState | None = None
    ) -> None:
        """Return the addresses inside their subnet's pools to the free ranges (the caller drops the rows)."""
        if not fixed_ips:
            return
        if state is not None:
            pools = {subnet.id: subnet.allocation_pools for subnet in state.subnets}
        else:
            rows = connection.execute(_SUBNET_POOLS, {"ids": sorted({fixed.subnet_id for fixed in fixed_ips})})
            pools = {row.id: parse_pools(row.allocation_pools) for row in rows}
        for fixed in fixed_ips:
            if _in_pools(pools.get(fixed.subnet_id, ()), int(fixed.ip_address)):
                _ipam.release_address(connection, fixed.subnet_id, int(fixed.ip_address))


def _gateway_for(cidr: netaddr.IPNetwork, requested: netaddr.IPAddress | Unset | None) -> netaddr.IPAddress | None:
    """UNSET: the default gateway; None: no gateway; an address: that one, if it can be the gateway."""
    if requested is UNSET:
        return default_gateway(cidr)
    if requested is None:
        return None
    return validate_gateway(cidr, requested)


def _grown_prefixes(pool: SubnetPool, prefixes: tuple[netaddr.IPNetwork, ...]) -> tuple[netaddr.IPNetwork, ...]:
    """The pool's new prefixes, which must be of its IP version and hold every old one."""
    if prefixes[0].version != pool.ip_version:
        raise BadRequest("subnetpool", "prefixes", f"subnet pool {pool.id} is IPv{pool.ip_version}")
    lost = netaddr.IPSet(pool.prefixes) - netaddr.IPSet(prefixes)
    if lost:
        listing = ", ".join(str(cidr) for cidr in lost.iter_cidrs())
        raise BadRequest("subnetpool", "prefixes", f"prefixes can only be added, not removed: {listing}")
    return tuple(compact_prefixes(prefixes))
