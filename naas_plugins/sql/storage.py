"""The sql storage driver: naas's state in a database reached through oslo.db.

Units of work
-------------
:meth:`SqlStorage.run` runs a unit in one writer (or reader) transaction of a
:class:`~naas_plugins.sql.database.Database` and runs it again, whole, after a
deadlock, a lost compare-and-swap or a foreign key that a concurrent change
broke. A unique constraint that the rules check beforehand (one default, one
holder per address, one floating IP per fixed address) and that still clashes
means a concurrent writer got there between the check and the write: the unit
is retried too, and the rules then report what they find. The MAC address is
the one clash reported as it is (a ``Conflict``), since the rules never check it.

Cost
----
Each read brings an aggregate in one statement (a network with its subnets in
full, a port with its addresses), and every resource read or written in a
unit is remembered for the rest of it, so the rules' second look at the same
network, subnet or pool costs nothing. Reads ``for_update`` lock the row on
PostgreSQL and MySQL (SQLite serialises writers instead). Free addresses and
prefixes are kept in tables by :mod:`naas_plugins.sql._ipam`, so their cost does
not depend on how full a subnet or a pool is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Final, Literal, TypeVar

import netaddr
import sqlalchemy as sa
from oslo_db import exception as db_exc
from sqlalchemy.engine import Connection

from naas.auto_allocate.store import TopologyStore
from naas.context import RequestContext
from naas.exceptions import (
    Conflict,
    DefaultExternalNetworkExists,
    DefaultSubnetPoolExists,
    IpAddressAlreadyAllocated,
    IpAddressExhausted,
    SubnetPoolExhausted,
)
from naas.resources import (
    DEVICE_OWNER_FLOATINGIP,
    DEVICE_OWNER_ROUTER_GATEWAY,
    FloatingIP,
    Network,
    Port,
    Resource,
    Router,
    Subnet,
    SubnetPool,
)
from naas.storage import ListQuery, Storage, StorageCapability, Transaction, random_mac_address
from naas_plugins.sql import _ipam
from naas_plugins.sql._rows import (
    ALLOCATIONS,
    FLOATINGIP_LISTER,
    FLOATINGIPS,
    NETWORK_LISTER,
    NETWORKS,
    POOL_LISTER,
    POOLS,
    PORT_LISTER,
    PORTS,
    ROUTER_PUSHDOWN,
    ROUTERS,
    SUBNET_LISTER,
    SUBNETS,
    Lister,
    Prefixed,
    floatingip_from_row,
    format_pools,
    format_tags,
    network_from_row,
    networks_from_rows,
    owned,
    pool_from_row,
    ports_from_rows,
    router_from_row,
    routers_from_rows,
    select_ports,
    subnet_from_row,
)
from naas_plugins.sql.database import Database, retry_request
from naas_plugins.sql.models import next_created_at
from naas_plugins.sql.store import SqlTopologyStore

__all__ = ["SqlStorage"]

T = TypeVar("T")
R = TypeVar("R", bound=Resource)

_WIDTH: Final = {4: 32, 6: 128}


def _locking(statement: sa.Select[Any], **lock: Any) -> dict[bool, sa.Select[Any]]:
    """The statement without (False) and with (True) ``FOR UPDATE``."""
    return {False: statement, True: statement.with_for_update(**lock)}


def _by_id(table: sa.Table) -> sa.ColumnElement[bool]:
    return table.c.id == sa.bindparam("b_id")


# The statements, built once with bind parameters: SQLAlchemy then finds their compiled form by a
# memoised key instead of building and hashing a new expression on every call.

# A network with every column of its subnets (NULL when it has none), its subnets oldest first.
_network_with_subnets = (
    sa.select(*NETWORKS.c, *[column.label(f"subnet_{column.name}") for column in SUBNETS.c])
    .select_from(NETWORKS.outerjoin(SUBNETS, SUBNETS.c.network_id == NETWORKS.c.id))
    .order_by(SUBNETS.c.created_at, SUBNETS.c.id)
)
# Locked against concurrent updates only (NO KEY UPDATE): foreign-key checks of new subnets and ports go on.
_NETWORK: Final = _locking(_network_with_subnets.where(_by_id(NETWORKS)), of=NETWORKS, key_share=True)
_DEFAULT_NETWORK: Final = _network_with_subnets.where(NETWORKS.c.default_marker == sa.true())
# A subnet is read with its network and the network's other subnets: the rules look at them next.
_NETWORK_OF_SUBNET: Final = _locking(
    _network_with_subnets.where(
        NETWORKS.c.id == sa.select(SUBNETS.c.network_id).where(_by_id(SUBNETS)).scalar_subquery()
    ),
    of=NETWORKS,
    key_share=True,
)
_POOL: Final = _locking(sa.select(POOLS).where(_by_id(POOLS)), key_share=True)
_DEFAULT_POOL: Final = sa.select(POOLS).where(
    POOLS.c.ip_version == sa.bindparam("b_version"), POOLS.c.default_marker == sa.true()
)
_PORT: Final = _locking(select_ports().where(_by_id(PORTS)), of=PORTS)
_FLOATINGIP: Final = _locking(sa.select(FLOATINGIPS).where(_by_id(FLOATINGIPS)))
# A router with the addresses of its gateway port: the port whose device is the router.
_routers_with_gateway = (
    sa.select(
        *ROUTERS.c,
        ALLOCATIONS.c.subnet_id.label("fixed_subnet_id"),
        ALLOCATIONS.c.ip_address.label("fixed_ip_address"),
    )
    .select_from(
        ROUTERS.outerjoin(
            PORTS,
            sa.and_(PORTS.c.device_id == ROUTERS.c.id, PORTS.c.device_owner == DEVICE_OWNER_ROUTER_GATEWAY),
        ).outerjoin(ALLOCATIONS, ALLOCATIONS.c.port_id == PORTS.c.id)
    )
    .order_by(ROUTERS.c.created_at, ROUTERS.c.id, ALLOCATIONS.c.position)
)
# A router with every port whose device it is (gateway and interfaces), their addresses and those subnets.
_ROUTER: Final = _locking(
    sa.select(
        *ROUTERS.c,
        *[column.label(f"port_{column.name}") for column in PORTS.c],
        ALLOCATIONS.c.subnet_id.label("port_fixed_subnet_id"),
        ALLOCATIONS.c.ip_address.label("port_fixed_ip_address"),
        *[column.label(f"subnet_{column.name}") for column in SUBNETS.c],
    )
    .select_from(
        ROUTERS.outerjoin(PORTS, PORTS.c.device_id == ROUTERS.c.id)
        .outerjoin(ALLOCATIONS, ALLOCATIONS.c.port_id == PORTS.c.id)
        .outerjoin(SUBNETS, SUBNETS.c.id == ALLOCATIONS.c.subnet_id)
    )
    .where(_by_id(ROUTERS))
    .order_by(PORTS.c.created_at, PORTS.c.id, ALLOCATIONS.c.position),
    of=ROUTERS,
)
_ROUTER_LISTER: Final = Lister(
    Router, lambda admin: _routers_with_gateway.where(owned(ROUTERS, admin)), ROUTER_PUSHDOWN
)
_FLOATING_PORT: Final = sa.select(PORTS.c.id).where(
    PORTS.c.device_id == sa.bindparam("b_device"), PORTS.c.device_owner == DEVICE_OWNER_FLOATINGIP
)
_HELD: Final = sa.select(ALLOCATIONS.c.ip_address).where(ALLOCATIONS.c.subnet_id == sa.bindparam("b_subnet"))
_TAKEN_ADDRESS: Final = (
    sa.select(ALLOCATIONS.c.subnet_id, ALLOCATIONS.c.ip_address)
    .where(sa.tuple_(ALLOCATIONS.c.subnet_id, ALLOCATIONS.c.ip_address).in_(sa.bindparam("wanted", expanding=True)))
    .limit(1)
)

_INSERT: Final = {table.name: sa.insert(table) for table in (NETWORKS, SUBNETS, POOLS, PORTS, ROUTERS, FLOATINGIPS)}
_UPDATE: Final = {
    table.name: sa.update(table).where(_by_id(table))
    for table in (NETWORKS, SUBNETS, POOLS, PORTS, ROUTERS, FLOATINGIPS)
}
_DELETE: Final = {
    table.name: sa.delete(table).where(_by_id(table))
    for table in (NETWORKS, SUBNETS, POOLS, PORTS, ROUTERS, FLOATINGIPS)
}
_RESOURCE_OF: Final = {
    NETWORKS.name: "network",
    SUBNETS.name: "subnet",
    POOLS.name: "subnetpool",
    PORTS.name: "port",
    ROUTERS.name: "router",
    FLOATINGIPS.name: "floatingip",
}
_INSERT_ADDRESSES: Final = sa.insert(ALLOCATIONS)
_DELETE_ADDRESSES: Final = sa.delete(ALLOCATIONS).where(ALLOCATIONS.c.port_id == sa.bindparam("b_port"))


def _new_mac() -> str:
    return random_mac_address()


def _version(ip_version: int) -> Literal[4, 6]:
    return 4 if ip_version == 4 else 6


def _pool_bits(pool: SubnetPool) -> int:
    """Host bits of the pool's largest prefix: the largest free block it can ever have."""
    return _WIDTH[pool.ip_version] - min(prefix.prefixlen for prefix in pool.prefixes)


def _in_pools(subnet: Subnet, address: netaddr.IPAddress) -> bool:
    return any(address in pool for pool in subnet.allocation_pools)


# Resources to rows


def _standard_values(resource: Network | Subnet | SubnetPool | Port | Router | FloatingIP) -> dict[str, Any]:
    return {
        "description": resource.description,
        "tags": format_tags(resource.tags),
        "created_at_utc": resource.created_at,
        "updated_at_utc": resource.updated_at,
        "revision_number": resource.revision_number,
    }


def _network_values(network: Network) -> dict[str, Any]:
    return {
        "project_id": network.project_id,
        "name": network.name,
        "admin_state_up": network.admin_state_up,
        "shared": network.shared,
        "router_external": network.router_external,
        "is_default": network.is_default,
        "default_marker": True if network.is_default else None,
        "mtu": network.mtu,
        "status": network.status,
        **_standard_values(network),
    }


def _subnet_values(subnet: Subnet) -> dict[str, Any]:
    return {
        "project_id": subnet.project_id,
        "network_id": subnet.network_id,
        "name": subnet.name,
        "ip_version": subnet.ip_version,
        "cidr": str(subnet.cidr),
        "gateway_ip": None if subnet.gateway_ip is None else str(subnet.gateway_ip),
        "allocation_pools": format_pools(subnet.allocation_pools),
        "enable_dhcp": subnet.enable_dhcp,
        "subnetpool_id": subnet.subnetpool_id,
        **_standard_values(subnet),
    }


def _pool_values(pool: SubnetPool) -> dict[str, Any]:
    return {
        "project_id": pool.project_id,
        "name": pool.name,
        "ip_version": pool.ip_version,
        "prefixes": ",".join(str(prefix) for prefix in pool.prefixes),
        "default_prefixlen": pool.default_prefixlen,
        "min_prefixlen": pool.min_prefixlen,
        "max_prefixlen": pool.max_prefixlen,
        "shared": pool.shared,
        "is_default": pool.is_default,
        "default_marker": True if pool.is_default else None,
        "default_quota": pool.default_quota,
        **_standard_values(pool),
    }


def _port_values(port: Port) -> dict[str, Any]:
    return {
        "project_id": port.project_id,
        "network_id": port.network_id,
        "name": port.name,
        "admin_state_up": port.admin_state_up,
        "mac_address": port.mac_address,
        "device_id": port.device_id,
        "device_owner": port.device_owner,
        "status": port.status,
        **_standard_values(port),
    }


def _router_values(router: Router) -> dict[str, Any]:
    gateway = router.external_gateway_info
    return {
        "project_id": router.project_id,
        "name": router.name,
        "admin_state_up": router.admin_state_up,
        "status": router.status,
        "gw_network_id": None if gateway is None else gateway.network_id,
        "enable_snat": False if gateway is None else gateway.enable_snat,
        **_standard_values(router),
    }


def _floatingip_values(floatingip: FloatingIP) -> dict[str, Any]:
    return {
        "project_id": floatingip.project_id,
        "floating_network_id": floatingip.floating_network_id,
        "floating_ip_address": str(floatingip.floating_ip_address),
        "fixed_port_id": floatingip.port_id,
        "fixed_ip_address": None if floatingip.fixed_ip_address is None else str(floatingip.fixed_ip_address),
        "router_id": floatingip.router_id,
        "status": floatingip.status,
        **_standard_values(floatingip),
    }


def _address_rows(port: Port) -> list[dict[str, Any]]:
    return [
        {"subnet_id": fixed.subnet_id, "ip_address": str(fixed.ip_address), "port_id": port.id, "position": index}
        for index, fixed in enumerate(port.fixed_ips)
    ]


class _Clash(Exception):
    """A unique constraint refused a write; ``report`` names the culprit once the unit has rolled back.

    (On PostgreSQL a failed statement aborts the transaction, so the lookup needs a new one.) ``report``
    returns the error to raise, or a retry request when the culprit is gone meanwhile.
    """

    def __init__(self, report: Callable[[Connection], Exception]) -> None:
        super().__init__()
        self.report = report


def _retry_if_gone(found: Any, make: Callable[[Any], Exception], what: str) -> Exception:
    if found is None:
        retry: Exception = retry_request(f"{what} clashed and is gone again")
        return retry
    return make(found)


def _default_network_clash(connection: Connection) -> Exception:
    found = connection.execute(sa.select(NETWORKS.c.id).where(NETWORKS.c.default_marker == sa.true())).scalar()
    return _retry_if_gone(found, lambda existing: DefaultExternalNetworkExists(str(existing)), "a default network")


def _default_pool_clash(ip_version: int) -> Callable[[Connection], Exception]:
    def report(connection: Connection) -> Exception:
        found = connection.execute(_DEFAULT_POOL, {"b_version": ip_version}).first()
        return _retry_if_gone(
            found, lambda row: DefaultSubnetPoolExists(str(row.id), ip_version), "a default subnet pool"
        )

    return report


def _mapping_clash(values: Mapping[str, Any]) -> Callable[[Connection], Exception]:
    def report(connection: Connection) -> Exception:
        found = connection.execute(
            sa.select(FLOATINGIPS.c.id).where(
                FLOATINGIPS.c.floating_network_id == values["floating_network_id"],
                FLOATINGIPS.c.fixed_port_id == values["fixed_port_id"],
                FLOATINGIPS.c.fixed_ip_address == values["fixed_ip_address"],
            )
        ).scalar()
        network_id, address, port_id = (
            values["floating_network_id"],
            values["fixed_ip_address"],
            values["fixed_port_id"],
        )
        return _retry_if_gone(
            found,
            lambda other: Conflict(
                "floatingip",
                str(other),
                f"Floating IP {other} of network {network_id} already maps {address} of port {port_id}.",
            ),
            "a floating IP",
        )

    return report


def _addresses_clash(wanted: list[tuple[str, str]]) -> Callable[[Connection], Exception]:
    def report(connection: Connection) -> Exception:
        found = connection.execute(_TAKEN_ADDRESS, {"wanted": wanted}).first()
        return _retry_if_gone(
            found, lambda row: IpAddressAlreadyAllocated(str(row.subnet_id), str(row.ip_address)), "an address"
        )

    return report


class _SqlTransaction(Transaction):
    """A unit of work on one connection, remembering every resource it read or wrote."""

    def __init__(self, connection: Connection, locks: bool) -> None:
        self._connection = connection
        self._locks = locks
        # (kind, id) -> (resource or None, whether it was read locked or written here)
        self._seen: dict[tuple[str, str], tuple[Any, bool]] = {}
        self._generated_macs: set[str] = set()
        # The ports of each router read here, kept up to date by this unit's port writes.
        self._device_ports: dict[str, dict[str, Port]] = {}

    # Reading, through the identity map

    def _remembered(self, kind: str, resource_id: str, for_update: bool) -> tuple[bool, Any]:
        entry = self._seen.get((kind, resource_id))
        if entry is None or (for_update and self._locks and not entry[1]):
            return False, None
        return True, entry[0]

    def _remember(self, kind: str, resource_id: str, resource: Any, locked: bool = True) -> None:
        previous = self._seen.get((kind, resource_id))
        self._seen[(kind, resource_id)] = (resource, locked or (previous is not None and previous[1]))

    def _execute(self, statement: sa.Executable, params: Mapping[str, Any] | list[dict[str, Any]]) -> Any:
        return self._connection.execute(statement, params)

    def _list(self, lister: Lister, query: ListQuery) -> Any:
        context = RequestContext(query.visible_to or "admin", is_admin=query.visible_to is None)
        statement, params = lister.query(context, query.filters)
        return self._execute(statement, params)

    # Networks

    def network(self, network_id: str, *, for_update: bool = False) -> Network | None:
        found, network = self._remembered("network", network_id, for_update)
        if found:
            return network  # type: ignore[no-any-return]
        rows = self._execute(_NETWORK[for_update and self._locks], {"b_id": network_id}).all()
        return self._network_from_rows(network_id, rows, for_update)

    def _network_from_rows(self, network_id: str | None, rows: list[Any], locked: bool) -> Network | None:
        if not rows:
            if network_id is not None:
                self._remember("network", network_id, None, locked)
            return None
        subnets = [subnet_from_row(Prefixed(row, "subnet_")) for row in rows if row.subnet_id is not None]
        for subnet in subnets:
            self._remember("subnet", subnet.id, subnet, False)
        network = network_from_row(rows[0], [subnet.id for subnet in subnets])
        self._remember("network", network.id, network, locked)
        return network

    def networks(self, query: ListQuery) -> list[Network]:
        return networks_from_rows(self._list(NETWORK_LISTER, query))

    def default_network(self) -> Network | None:
        return self._network_from_rows(None, self._execute(_DEFAULT_NETWORK, {}).all(), False)

    def add_network(self, network: Network) -> None:
        self._insert(NETWORKS, network.id, {**_network_values(network), "created_at": next_created_at()})
        self._remember("network", network.id, network)

    def update_network(self, network: Network) -> None:
        self._update(NETWORKS, network.id, _network_values(network))
        stored = self.network(network.id)
        subnets = network.subnets if stored is None else stored.subnets
        self._remember("network", network.id, _replace(network, subnets=subnets))

    def remove_network(self, network_id: str) -> None:
        self._execute(_DELETE[NETWORKS.name], {"b_id": network_id})
        self._remember("network", network_id, None)

    # Subnets

    def subnet(self, subnet_id: str, *, for_update: bool = False) -> Subnet | None:
        found, subnet = self._remembered("subnet", subnet_id, for_update)
        if found:
            return subnet  # type: ignore[no-any-return]
        rows = self._execute(_NETWORK_OF_SUBNET[for_update and self._locks], {"b_id": subnet_id}).all()
        self._network_from_rows(None, rows, for_update)
        entry = self._seen.get(("subnet", subnet_id))
        subnet = None if entry is None else entry[0]
        self._remember("subnet", subnet_id, subnet, for_update)
        return subnet

    def subnets(self, query: ListQuery) -> list[Subnet]:
        return [subnet_from_row(row) for row in self._list(SUBNET_LISTER, query)]

    def add_subnet(self, subnet: Subnet) -> None:
        self._insert(SUBNETS, subnet.id, {**_subnet_values(subnet), "created_at": next_created_at()})
        _ipam.insert_free_ranges(self._connection, subnet.id, ((p.first, p.last) for p in subnet.allocation_pools))
        self._remember("subnet", subnet.id, subnet)
        network = self.network(subnet.network_id)
        if network is not None:
            self._remember("network", network.id, _replace(network, subnets=(*network.subnets, subnet.id)))

    def update_subnet(self, subnet: Subnet) -> None:
        current = self.subnet(subnet.id)
        self._update(SUBNETS, subnet.id, _subnet_values(subnet))
        if current is not None and subnet.allocation_pools != current.allocation_pools:
            held = {netaddr.IPAddress(text) for text in self._execute(_HELD, {"b_subnet": subnet.id}).scalars()}
            free = netaddr.IPSet(netaddr.IPRange(p.first, p.last) for p in subnet.allocation_pools) - netaddr.IPSet(
                held
            )
            ranges = [(r.first, r.last) for r in free.iter_ipranges()]
            _ipam.replace_free_ranges(self._connection, subnet.id, ranges)
        self._remember("subnet", subnet.id, subnet)

    def remove_subnet(self, subnet_id: str) -> None:
        subnet = self.subnet(subnet_id)
        self._execute(_DELETE[SUBNETS.name], {"b_id": subnet_id})
        self._remember("subnet", subnet_id, None)
        network = None if subnet is None else self.network(subnet.network_id)
        if network is not None:
            remaining = tuple(s for s in network.subnets if s != subnet_id)
            self._remember("network", network.id, _replace(network, subnets=remaining))

    # Subnet pools

    def subnetpool(self, subnetpool_id: str, *, for_update: bool = False) -> SubnetPool | None:
        found, pool = self._remembered("subnetpool", subnetpool_id, for_update)
        if found:
            return pool  # type: ignore[no-any-return]
        row = self._execute(_POOL[for_update and self._locks], {"b_id": subnetpool_id}).first()
        pool = None if row is None else pool_from_row(row)
        self._remember("subnetpool", subnetpool_id, pool, for_update)
        return pool

    def subnetpools(self, query: ListQuery) -> list[SubnetPool]:
        return [pool_from_row(row) for row in self._list(POOL_LISTER, query)]

    def default_subnetpool(self, ip_version: int) -> SubnetPool | None:
        row = self._execute(_DEFAULT_POOL, {"b_version": ip_version}).first()
        if row is None:
            return None
        pool = pool_from_row(row)
        self._remember("subnetpool", pool.id, pool, False)
        return pool

    def add_subnetpool(self, subnetpool: SubnetPool) -> None:
        self._insert(POOLS, subnetpool.id, {**_pool_values(subnetpool), "created_at": next_created_at()})
        _ipam.insert_free_blocks(self._connection, subnetpool.id, _WIDTH[subnetpool.ip_version], subnetpool.prefixes)
        self._remember("subnetpool", subnetpool.id, subnetpool)

    def update_subnetpool(self, subnetpool: SubnetPool) -> None:
        current = self.subnetpool(subnetpool.id)
        self._update(POOLS, subnetpool.id, _pool_values(subnetpool))
        if current is not None and subnetpool.prefixes != current.prefixes:
            gained = netaddr.IPSet(subnetpool.prefixes) - netaddr.IPSet(current.prefixes)
            _ipam.release_blocks(
                self._connection,
                subnetpool.id,
                _WIDTH[subnetpool.ip_version],
                list(gained.iter_cidrs()),
                _pool_bits(subnetpool),
            )
        self._remember("subnetpool", subnetpool.id, subnetpool)

    def remove_subnetpool(self, subnetpool_id: str) -> None:
        self._execute(_DELETE[POOLS.name], {"b_id": subnetpool_id})
        self._remember("subnetpool", subnetpool_id, None)

    # Ports

    def new_mac_address(self, network_id: str) -> str:
        # A clash is one draw in 16 million: the unique constraint catches it and the unit runs again.
        mac_address = _new_mac()
        self._generated_macs.add(mac_address)
        return mac_address

    def port(self, port_id: str, *, for_update: bool = False) -> Port | None:
        found, port = self._remembered("port", port_id, for_update)
        if found:
            return port  # type: ignore[no-any-return]
        ports = ports_from_rows(self._execute(_PORT[for_update and self._locks], {"b_id": port_id}))
        port = ports[0] if ports else None
        self._remember("port", port_id, port, for_update)
        return port

    def ports(self, query: ListQuery) -> list[Port]:
        device_id = query.sole("device_id")
        if len(query.filters) == 1 and device_id in self._device_ports and query.visible_to is None:
            return list(self._device_ports[device_id].values())
        return ports_from_rows(self._list(PORT_LISTER, query))

    def _track_device(self, port: Port | None, previous: Port | None) -> None:
        """Keep the remembered ports of routers in step with a port write."""
        if previous is not None and previous.device_id in self._device_ports:
            self._device_ports[previous.device_id].pop(previous.id, None)
        if port is not None and port.device_id in self._device_ports:
            self._device_ports[port.device_id][port.id] = port

    def add_port(self, port: Port) -> None:
        self._insert(PORTS, port.id, {**_port_values(port), "created_at": next_created_at()})
        self._insert_addresses(port)
        self._remember("port", port.id, port)
        self._track_device(port, None)

    def update_port(self, port: Port) -> None:
        current = self.port(port.id)
        self._update(PORTS, port.id, _port_values(port))
        if current is None or current.fixed_ips != port.fixed_ips:
            self._execute(_DELETE_ADDRESSES, {"b_port": port.id})
            self._insert_addresses(port)
        self._remember("port", port.id, port)
        self._track_device(port, current)

    def remove_port(self, port_id: str) -> None:
        current = self.port(port_id)
        self._execute(_DELETE[PORTS.name], {"b_id": port_id})
        self._remember("port", port_id, None)
        self._track_device(None, current)

    def _insert_addresses(self, port: Port) -> None:
        rows = _address_rows(port)
        if not rows:
            return
        try:
            self._execute(_INSERT_ADDRESSES, rows)
        except db_exc.DBDuplicateEntry:
            raise _Clash(_addresses_clash([(row["subnet_id"], row["ip_address"]) for row in rows])) from None

    # Free space

    def take_address(self, subnet: Subnet, address: netaddr.IPAddress | None) -> netaddr.IPAddress:
        if address is None:
            value = _ipam.allocate_lowest_address(self._connection, subnet.id, self._locks)
            if value is None:
                raise IpAddressExhausted("subnet", subnet.id)
            return netaddr.IPAddress(value, _version(subnet.ip_version))
        if _in_pools(subnet, address):
            if not _ipam.allocate_address(self._connection, subnet.id, int(address), self._locks):
                raise IpAddressAlreadyAllocated(subnet.id, str(address))
        # Outside the pools the key of ip_allocations is the only record: a holder makes the port's insert
        # clash, and SqlStorage.run names the address once the unit has rolled back.
        return address

    def give_back_address(self, subnet: Subnet, address: netaddr.IPAddress) -> None:
        # An address outside the pools is free once no port holds it; inside, it rejoins the free ranges.
        if _in_pools(subnet, address):
            _ipam.release_address(self._connection, subnet.id, int(address))

    def count_free_addresses(self, subnet: Subnet) -> int:
        return _ipam.count_free_addresses(self._connection, subnet.id)

    def take_prefix(self, subnetpool: SubnetPool, prefixlen: int) -> netaddr.IPNetwork:
        width = _WIDTH[subnetpool.ip_version]
        self._lock_pool(subnetpool)
        network = _ipam.allocate_any_prefix(self._connection, subnetpool.id, width, prefixlen)
        if network is None:
            raise SubnetPoolExhausted(subnetpool.id, prefixlen)
        return netaddr.IPNetwork((network, prefixlen), version=_version(subnetpool.ip_version))

    def take_cidr(self, subnetpool: SubnetPool, cidr: netaddr.IPNetwork) -> netaddr.IPNetwork:
        width = _WIDTH[subnetpool.ip_version]
        self._lock_pool(subnetpool)
        if not _ipam.allocate_prefix(self._connection, subnetpool.id, width, cidr, _pool_bits(subnetpool)):
            raise Conflict(
                "subnetpool", subnetpool.id, f"Prefix {cidr} is not available in subnet pool {subnetpool.id}."
            )
        return cidr

    def give_back_prefix(self, subnetpool: SubnetPool, cidr: netaddr.IPNetwork) -> None:
        self._lock_pool(subnetpool)
        _ipam.release_prefix(
            self._connection, subnetpool.id, _WIDTH[subnetpool.ip_version], cidr, _pool_bits(subnetpool)
        )

    def _lock_pool(self, subnetpool: SubnetPool) -> None:
        """Changes to a pool's free blocks take turns (free when the rules already read the pool for update).

        A carve takes the smallest fitting block lowest first and a release merges free buddies: two at once
        in one pool could take blocks out of order or each miss the other's half.
        """
        self.subnetpool(subnetpool.id, for_update=True)

    def has_room(self, subnetpool: SubnetPool, prefixlen: int) -> bool:
        return _ipam.has_room(self._connection, subnetpool.id, _WIDTH[subnetpool.ip_version], prefixlen)

    # Routers

    def router(self, router_id: str, *, for_update: bool = False) -> Router | None:
        found, router = self._remembered("router", router_id, for_update)
        if found:
            return router  # type: ignore[no-any-return]
        rows = self._execute(_ROUTER[for_update and self._locks], {"b_id": router_id}).all()
        if not rows:
            self._remember("router", router_id, None, for_update)
            return None
        ports = ports_from_rows(Prefixed(row, "port_") for row in rows if row.port_id is not None)
        for row in rows:
            if row.subnet_id is not None:
                self._remember("subnet", row.subnet_id, subnet_from_row(Prefixed(row, "subnet_")), False)
        for port in ports:
            self._remember("port", port.id, port, False)
        self._device_ports[router_id] = {port.id: port for port in ports}
        gateway = next((p.fixed_ips for p in ports if p.device_owner == DEVICE_OWNER_ROUTER_GATEWAY), ())
        router = router_from_row(rows[0], gateway)
        self._remember("router", router_id, router, for_update)
        return router

    def routers(self, query: ListQuery) -> list[Router]:
        return routers_from_rows(self._list(_ROUTER_LISTER, query))

    def add_router(self, router: Router) -> None:
        self._insert(ROUTERS, router.id, {**_router_values(router), "created_at": next_created_at()})
        self._remember("router", router.id, router)

    def update_router(self, router: Router) -> None:
        self._update(ROUTERS, router.id, _router_values(router))
        self._remember("router", router.id, router)

    def remove_router(self, router_id: str) -> None:
        self._execute(_DELETE[ROUTERS.name], {"b_id": router_id})
        self._remember("router", router_id, None)

    # Floating IPs

    def floatingip(self, floatingip_id: str, *, for_update: bool = False) -> FloatingIP | None:
        found, floatingip = self._remembered("floatingip", floatingip_id, for_update)
        if found:
            return floatingip  # type: ignore[no-any-return]
        row = self._execute(_FLOATINGIP[for_update and self._locks], {"b_id": floatingip_id}).first()
        floatingip = None if row is None else floatingip_from_row(row)
        self._remember("floatingip", floatingip_id, floatingip, for_update)
        return floatingip

    def floatingips(self, query: ListQuery) -> list[FloatingIP]:
        return [floatingip_from_row(row) for row in self._list(FLOATINGIP_LISTER, query)]

    def add_floatingip(self, floatingip: FloatingIP) -> None:
        port_id = self._floating_port_id(floatingip.id)
        values = {**_floatingip_values(floatingip), "floating_port_id": port_id, "created_at": next_created_at()}
        self._insert(FLOATINGIPS, floatingip.id, values)
        self._remember("floatingip", floatingip.id, floatingip)

    def update_floatingip(self, floatingip: FloatingIP) -> None:
        self._update(FLOATINGIPS, floatingip.id, _floatingip_values(floatingip))
        self._remember("floatingip", floatingip.id, floatingip)

    def remove_floatingip(self, floatingip_id: str) -> None:
        self._execute(_DELETE[FLOATINGIPS.name], {"b_id": floatingip_id})
        self._remember("floatingip", floatingip_id, None)

    def _floating_port_id(self, floatingip_id: str) -> str:
        """The port holding the floating IP's address: made in this unit, so usually remembered."""
        for (kind, _), (resource, _) in self._seen.items():
            if kind == "port" and resource is not None and resource.device_id == floatingip_id:
                if resource.device_owner == DEVICE_OWNER_FLOATINGIP:
                    return str(resource.id)
        port_id = self._execute(_FLOATING_PORT, {"b_device": floatingip_id}).scalar()
        if port_id is None:
            raise AssertionError(f"floating IP {floatingip_id} has no port; the rules create it first")
        return str(port_id)

    # Writing

    def _insert(self, table: sa.Table, resource_id: str, values: dict[str, Any]) -> None:
        self._write(_INSERT[table.name], {"id": resource_id, **values}, table, resource_id)

    def _update(self, table: sa.Table, resource_id: str, values: dict[str, Any]) -> None:
        self._write(_UPDATE[table.name], {"b_id": resource_id, **values}, table, resource_id)

    def _write(self, statement: sa.Executable, params: dict[str, Any], table: sa.Table, resource_id: str) -> None:
        """Execute a write, turning a unique constraint's refusal into the error the storage contract names."""
        try:
            self._execute(statement, params)
        except db_exc.DBDuplicateEntry as error:
            # oslo.db reads the columns from the constraint's name; a primary key's (pk_<table>) gives none.
            columns = {column for column in error.columns or () if column}
            if table is PORTS and "mac_address" in columns:
                network_id, mac_address = params["network_id"], params["mac_address"]
                if mac_address in self._generated_macs:
                    # One draw in 16 million: draw again.
                    raise retry_request(f"generated MAC address {mac_address} is taken") from None
                message = f"MAC address {mac_address} is already in use on network {network_id}."
                raise Conflict("network", network_id, message) from None
            if "default_marker" in columns:
                report = _default_network_clash if table is NETWORKS else _default_pool_clash(params["ip_version"])
                raise _Clash(report) from None
            if table is FLOATINGIPS:
                raise _Clash(_mapping_clash(params)) from None
            if columns <= {"id", "PRIMARY"}:
                kind = _RESOURCE_OF[table.name]
                raise Conflict(kind, resource_id, f"The {kind} id {resource_id} is already in use.") from None
            # Backstops of what the rules decide (a prefix twice from a pool): a concurrent unit got there first.
            raise retry_request(f"a concurrent change took {', '.join(sorted(columns))} first") from None


def _replace(resource: R, **changes: Any) -> R:
    return dataclasses.replace(resource, **changes)


class SqlStorage(Storage):
    """The state of naas in a database: SQLite, PostgreSQL or MySQL/MariaDB, through oslo.db."""

    capabilities: ClassVar[frozenset[StorageCapability]] = frozenset(
        {StorageCapability.SHARED_BETWEEN_PROCESSES, StorageCapability.DURABLE}
    )

    def __init__(self, database: Database) -> None:
        self.database = database
        self._topologies = SqlTopologyStore(database)
        self._open = threading.local()

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[Transaction]:
        current: _SqlTransaction | None = getattr(self._open, "transaction", None)
        if current is not None:
            # This thread is inside a unit already (a subscriber reading back): join it.
            yield current
            return
        with self.database.writer() if write else self.database.reader() as connection:
            transaction = _SqlTransaction(connection, self.database.locks_rows)
            self._open.transaction = transaction
            try:
                yield transaction
            finally:
                self._open.transaction = None

    def run(self, work: Callable[[Transaction], T], *, write: bool = True) -> T:
        outermost = getattr(self._open, "transaction", None) is None

        def attempt() -> T:
            try:
                with self.transaction(write=write) as transaction:
                    return work(transaction)
            except _Clash as clash:
                if not outermost:
                    raise
                with self.database.reader() as connection:
                    raise clash.report(connection) from None

        return self.database.run(attempt)

    def topology_store(self) -> TopologyStore:
        return self._topologies

    def close(self) -> None:
        self.database.close()
