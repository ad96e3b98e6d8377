"""Rows to resources, the queries that load them, and list filters pushed down to SQL.

Every loader reads a resource *with* what it lists (a network with its subnet
ids, a port with its fixed IPs, a router with its gateway addresses) in one
statement, an outer join ordered so that the rows of one resource are
consecutive; nothing is loaded lazily.

Visibility is decided twice too: a clause in every query keeps the rows the
caller may see, then the rules (:mod:`naas.rules`) check each resource with
:mod:`naas.policy`, in Python, so that no backend's way of comparing strings (a
case-insensitive collation) can let one project see another's.

List filters are applied twice: the keys that map onto an indexed column are
turned into a ``WHERE`` clause that may return more than asked for but never
less, then the rules apply every filter exactly with
:func:`naas.resources.filter_resources`, whatever the storage. So the semantics are naas's, and the cost is that of
an index lookup, not of reading every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

import netaddr
import sqlalchemy as sa

from naas.context import RequestContext
from naas.exceptions import BadRequest
from naas.plugins.core import Filters
from naas.resources import (
    ExternalGatewayInfo,
    FixedIP,
    FloatingIP,
    Network,
    Port,
    Resource,
    Router,
    Subnet,
    SubnetPool,
    filter_values,
)
from naas_plugins.sql.models import (
    FloatingIPRow,
    IPAllocationRow,
    NetworkRow,
    PortRow,
    RouterRow,
    SubnetPoolRow,
    SubnetRow,
)

__all__ = [
    "ALLOCATIONS",
    "FLOATINGIPS",
    "NETWORKS",
    "POOLS",
    "PORTS",
    "ROUTERS",
    "SUBNETS",
    "Prefixed",
    "format_pools",
    "format_tags",
    "parse_pools",
]

ResourceT = TypeVar("ResourceT", bound=Resource)


def _table(model: type[Any]) -> sa.Table:
    return cast(sa.Table, model.__table__)


NETWORKS = _table(NetworkRow)
SUBNETS = _table(SubnetRow)
POOLS = _table(SubnetPoolRow)
PORTS = _table(PortRow)
ALLOCATIONS = _table(IPAllocationRow)
ROUTERS = _table(RouterRow)
FLOATINGIPS = _table(FloatingIPRow)

Row = Any
"""A result row, or a :class:`Prefixed` view of one: columns read as attributes."""


# Text forms of composite values kept in one column.


def format_pools(pools: Iterable[netaddr.IPRange]) -> str:
    return ",".join(
        f"{netaddr.IPAddress(pool.first, pool.version)}-{netaddr.IPAddress(pool.last, pool.version)}" for pool in pools
    )


def parse_pools(text: str) -> tuple[netaddr.IPRange, ...]:
    if not text:
        return ()
    ranges = []
    for bounds in text.split(","):
        first, last = bounds.split("-")
        ranges.append(netaddr.IPRange(first, last))
    return tuple(ranges)


def format_ids(ids: Iterable[str]) -> str:
    return ",".join(ids)


def parse_ids(text: str) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


class Prefixed:
    """The columns of a row whose names start with ``prefix``, without it: a joined table's, labelled."""

    __slots__ = ("_mapping", "_prefix")

    def __init__(self, row: Row, prefix: str) -> None:
        self._mapping = row._mapping
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return self._mapping[self._prefix + name]


# Rows to resources


def standard_attributes(row: Row) -> dict[str, Any]:
    """The standard attributes a resource's row keeps (see ``models.StandardAttributes``)."""
    return {
        "description": row.description,
        "tags": parse_tags(row.tags),
        "created_at": row.created_at_utc,
        "updated_at": row.updated_at_utc,
        "revision_number": row.revision_number,
    }


def format_tags(tags: Iterable[str]) -> str:
    """Tags as stored: comma-separated (no tag holds a comma, :func:`naas.requests.to_tags`)."""
    return ",".join(tags)


def parse_tags(text: str | None) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def network_from_row(row: Row, subnet_ids: Sequence[str]) -> Network:
    return Network(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        admin_state_up=bool(row.admin_state_up),
        shared=bool(row.shared),
        router_external=bool(row.router_external),
        is_default=bool(row.is_default),
        mtu=row.mtu,
        status=row.status,
        subnets=tuple(subnet_ids),
        **standard_attributes(row),
    )


def subnet_from_row(row: Row) -> Subnet:
    return Subnet(
        id=row.id,
        project_id=row.project_id,
        network_id=row.network_id,
        name=row.name,
        ip_version=row.ip_version,
        cidr=netaddr.IPNetwork(row.cidr),
        gateway_ip=None if row.gateway_ip is None else netaddr.IPAddress(row.gateway_ip),
        allocation_pools=parse_pools(row.allocation_pools),
        subnetpool_id=row.subnetpool_id,
        enable_dhcp=bool(row.enable_dhcp),
        **standard_attributes(row),
    )


def pool_from_row(row: Row) -> SubnetPool:
    return SubnetPool(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        ip_version=row.ip_version,
        prefixes=tuple(netaddr.IPNetwork(prefix) for prefix in row.prefixes.split(",")),
        default_prefixlen=row.default_prefixlen,
        min_prefixlen=row.min_prefixlen,
        max_prefixlen=row.max_prefixlen,
        shared=bool(row.shared),
        is_default=bool(row.is_default),
        default_quota=row.default_quota,
        **standard_attributes(row),
    )


def port_from_row(row: Row, fixed_ips: Sequence[FixedIP]) -> Port:
    return Port(
        id=row.id,
        project_id=row.project_id,
        network_id=row.network_id,
        name=row.name,
        admin_state_up=bool(row.admin_state_up),
        mac_address=row.mac_address,
        device_id=row.device_id,
        device_owner=row.device_owner,
        fixed_ips=tuple(fixed_ips),
        status=row.status,
        **standard_attributes(row),
    )


def router_from_row(row: Row, gateway_ips: Sequence[FixedIP]) -> Router:
    info = None
    if row.gw_network_id is not None:
        info = ExternalGatewayInfo(
            network_id=row.gw_network_id, enable_snat=bool(row.enable_snat), external_fixed_ips=tuple(gateway_ips)
        )
    return Router(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        admin_state_up=bool(row.admin_state_up),
        status=row.status,
        external_gateway_info=info,
        **standard_attributes(row),
    )


def floatingip_from_row(row: Row) -> FloatingIP:
    return FloatingIP(
        id=row.id,
        project_id=row.project_id,
        floating_network_id=row.floating_network_id,
        floating_ip_address=netaddr.IPAddress(row.floating_ip_address),
        port_id=row.fixed_port_id,
        fixed_ip_address=None if row.fixed_ip_address is None else netaddr.IPAddress(row.fixed_ip_address),
        router_id=row.router_id,
        status=row.status,
        **standard_attributes(row),
    )


def _grouped(
    rows: Iterable[Row], make: Callable[[Row, list[Any]], ResourceT], child: Callable[[Row], Any]
) -> list[ResourceT]:
    """Resources from an outer join whose rows of one resource are consecutive; ``child`` is None for no child."""
    resources: list[ResourceT] = []
    current: Row | None = None
    children: list[Any] = []
    for row in rows:
        if current is None or row.id != current.id:
            if current is not None:
                resources.append(make(current, children))
            current, children = row, []
        item = child(row)
        if item is not None:
            children.append(item)
    if current is not None:
        resources.append(make(current, children))
    return resources


def _fixed_ip(row: Row) -> FixedIP | None:
    if row.fixed_subnet_id is None:
        return None
    return FixedIP(subnet_id=row.fixed_subnet_id, ip_address=netaddr.IPAddress(row.fixed_ip_address))


# Queries


def select_networks() -> sa.Select[Any]:
    """Networks with their subnet ids, oldest first (one row per subnet)."""
    return (
        sa.select(*NETWORKS.c, SUBNETS.c.id.label("subnet_id"))
        .select_from(NETWORKS.outerjoin(SUBNETS, SUBNETS.c.network_id == NETWORKS.c.id))
        .order_by(NETWORKS.c.created_at, NETWORKS.c.id, SUBNETS.c.created_at, SUBNETS.c.id)
    )


def networks_from_rows(rows: Iterable[Row]) -> list[Network]:
    return _grouped(rows, network_from_row, lambda row: row.subnet_id)


def select_ports() -> sa.Select[Any]:
    """Ports with their fixed IPs, oldest first (one row per address)."""
    return (
        sa.select(
            *PORTS.c,
            ALLOCATIONS.c.subnet_id.label("fixed_subnet_id"),
            ALLOCATIONS.c.ip_address.label("fixed_ip_address"),
        )
        .select_from(PORTS.outerjoin(ALLOCATIONS, ALLOCATIONS.c.port_id == PORTS.c.id))
        .order_by(PORTS.c.created_at, PORTS.c.id, ALLOCATIONS.c.position)
    )


def ports_from_rows(rows: Iterable[Row]) -> list[Port]:
    return _grouped(rows, port_from_row, _fixed_ip)


def routers_from_rows(rows: Iterable[Row]) -> list[Router]:
    return _grouped(rows, router_from_row, _fixed_ip)


CONTEXT_PROJECT = "ctx_project"
"""The bind parameter the visibility clauses compare ``project_id`` with."""


def context_params(context: RequestContext) -> dict[str, Any]:
    """The parameters of a statement built with the visibility clauses below."""
    return {CONTEXT_PROJECT: context.project_id}


def _caller() -> sa.BindParameter[str]:
    return sa.bindparam(CONTEXT_PROJECT)


def network_visible(admin: bool) -> sa.ColumnElement[bool]:
    """The SQL form of :func:`naas.policy.is_visible` for networks."""
    if admin:
        return sa.true()
    return sa.or_(
        NETWORKS.c.project_id == _caller(),
        NETWORKS.c.shared == sa.true(),
        NETWORKS.c.router_external == sa.true(),
    )


def subnet_visible(admin: bool) -> sa.ColumnElement[bool]:
    """A subnet is seen with its network (``NETWORKS`` must be joined), or by its own project."""
    if admin:
        return sa.true()
    return sa.or_(SUBNETS.c.project_id == _caller(), network_visible(admin))


def owned(table: sa.Table, admin: bool) -> sa.ColumnElement[bool]:
    """Visibility of resources only their project (and admins) see: ports, routers, floating IPs."""
    return sa.true() if admin else table.c.project_id == _caller()


def pool_visible(admin: bool) -> sa.ColumnElement[bool]:
    if admin:
        return sa.true()
    return sa.or_(POOLS.c.project_id == _caller(), POOLS.c.shared == sa.true())


# Filters

STRING, BOOLEAN, INTEGER = "string", "boolean", "integer"
DEFAULT_MARKER, ANY_FIXED_IP = "default marker", "any fixed IP"
Pushdown = Mapping[str, tuple[Any, str]]
"""Python attribute name -> the column it is stored in and how its filter values compare."""


def _filter_texts(values: Any) -> set[str] | None:
    """The filter values as ``filter_resources`` compares them, or None if one is of a kind left to Python."""
    if isinstance(values, (str, bytes, bool, int)) or not isinstance(values, Iterable):
        values = [values]
    values = list(values)
    if not all(isinstance(value, (bool, str, int, netaddr.IPAddress, netaddr.IPNetwork)) for value in values):
        return None
    return filter_values(values)


class Lister:
    """A resource's list query, narrowed by the filters that map onto columns.

    ``base(admin)`` is the query with its visibility clause. One statement is
    built and kept per *shape* (admin or not, which filters are pushed down);
    the filter values are bind parameters (expanding ``IN`` lists), so a list call
    reuses the compiled statement instead of building a new expression.
    """

    def __init__(
        self, resource_type: type[Resource], base: Callable[[bool], sa.Select[Any]], pushdown: Pushdown
    ) -> None:
        self.resource_type = resource_type
        self._base = base
        self._pushdown = pushdown
        self._statements: dict[tuple[bool, tuple[tuple[str, str], ...]], sa.Select[Any]] = {}

    def query(self, context: RequestContext, filters: Filters | None) -> tuple[sa.Select[Any], dict[str, Any]]:
        """The statement and its parameters. Raises BadRequest for a key that is no attribute of the resource.

        The statement keeps at least every resource ``filters`` keeps; the rules apply them exactly.
        """
        params = context_params(context)
        shape: list[tuple[str, str]] = []
        attributes = self.resource_type.wire_to_attribute()
        for key, values in (filters or {}).items():
            if key not in attributes:
                raise BadRequest(self.resource_type.RESOURCE, key, "is not an attribute that can be filtered on")
            attribute = attributes[key]
            if attribute not in self._pushdown:
                continue
            kind = self._pushdown[attribute][1]
            texts = _filter_texts(values)
            if texts is None:
                continue
            name = f"f_{attribute}"
            if kind == DEFAULT_MARKER and texts == {"true"}:
                # Only the default has the marker: a unique-index lookup rather than a scan.
                shape.append((attribute, DEFAULT_MARKER))
            elif kind in (BOOLEAN, DEFAULT_MARKER):
                # A boolean attribute matches "true" or "false" only; anything else matches nothing.
                shape.append((attribute, BOOLEAN))
                params[name] = [text == "true" for text in texts if text in ("true", "false")]
            elif kind == INTEGER:
                if all(text.isdigit() for text in texts):
                    shape.append((attribute, INTEGER))
                    params[name] = sorted(int(text) for text in texts)
            elif not texts & {"true", "false", "None"}:
                # Those three spellings also match other stored values (case, NULL): left to Python.
                shape.append((attribute, kind))
                params[name] = sorted(texts)
        key_shape = (context.is_admin, tuple(sorted(shape)))
        statement = self._statements.get(key_shape)
        if statement is None:
            statement = self._base(context.is_admin).where(*(self._clause(*entry) for entry in key_shape[1]))
            self._statements[key_shape] = statement
        return statement, params

    def _clause(self, attribute: str, kind: str) -> sa.ColumnElement[bool]:
        column = self._pushdown[attribute][0]
        values: sa.BindParameter[Any] = sa.bindparam(f"f_{attribute}", expanding=True)
        if kind == DEFAULT_MARKER:
            return NETWORKS.c.default_marker == sa.true()
        if kind == BOOLEAN and column is NETWORKS.c.default_marker:
            column = NETWORKS.c.is_default
        if kind == ANY_FIXED_IP:
            # A fixed IP matches on its subnet id or its address.
            return PORTS.c.id.in_(
                sa.select(ALLOCATIONS.c.port_id).where(
                    sa.or_(ALLOCATIONS.c.subnet_id.in_(values), ALLOCATIONS.c.ip_address.in_(values))
                )
            )
        return cast(sa.ColumnElement[bool], column.in_(values))


NETWORK_PUSHDOWN: Pushdown = {
    "id": (NETWORKS.c.id, STRING),
    "project_id": (NETWORKS.c.project_id, STRING),
    "name": (NETWORKS.c.name, STRING),
    "shared": (NETWORKS.c.shared, BOOLEAN),
    "router_external": (NETWORKS.c.router_external, BOOLEAN),
    "is_default": (NETWORKS.c.default_marker, DEFAULT_MARKER),
}
SUBNET_PUSHDOWN: Pushdown = {
    "id": (SUBNETS.c.id, STRING),
    "project_id": (SUBNETS.c.project_id, STRING),
    "network_id": (SUBNETS.c.network_id, STRING),
    "name": (SUBNETS.c.name, STRING),
    "ip_version": (SUBNETS.c.ip_version, INTEGER),
    "cidr": (SUBNETS.c.cidr, STRING),
    "subnetpool_id": (SUBNETS.c.subnetpool_id, STRING),
}
POOL_PUSHDOWN: Pushdown = {
    "id": (POOLS.c.id, STRING),
    "project_id": (POOLS.c.project_id, STRING),
    "name": (POOLS.c.name, STRING),
    "ip_version": (POOLS.c.ip_version, INTEGER),
    "shared": (POOLS.c.shared, BOOLEAN),
    "is_default": (POOLS.c.is_default, BOOLEAN),
}
PORT_PUSHDOWN: Pushdown = {
    "id": (PORTS.c.id, STRING),
    "project_id": (PORTS.c.project_id, STRING),
    "network_id": (PORTS.c.network_id, STRING),
    "name": (PORTS.c.name, STRING),
    "device_id": (PORTS.c.device_id, STRING),
    "device_owner": (PORTS.c.device_owner, STRING),
    "mac_address": (PORTS.c.mac_address, STRING),
    "fixed_ips": (None, ANY_FIXED_IP),
}
ROUTER_PUSHDOWN: Pushdown = {
    "id": (ROUTERS.c.id, STRING),
    "project_id": (ROUTERS.c.project_id, STRING),
    "name": (ROUTERS.c.name, STRING),
}
FLOATINGIP_PUSHDOWN: Pushdown = {
    "id": (FLOATINGIPS.c.id, STRING),
    "project_id": (FLOATINGIPS.c.project_id, STRING),
    "floating_network_id": (FLOATINGIPS.c.floating_network_id, STRING),
    "port_id": (FLOATINGIPS.c.fixed_port_id, STRING),
    "router_id": (FLOATINGIPS.c.router_id, STRING),
    "floating_ip_address": (FLOATINGIPS.c.floating_ip_address, STRING),
}

NETWORK_LISTER = Lister(Network, lambda admin: select_networks().where(network_visible(admin)), NETWORK_PUSHDOWN)
SUBNET_LISTER = Lister(
    Subnet,
    lambda admin: (
        sa.select(SUBNETS)
        .join(NETWORKS, NETWORKS.c.id == SUBNETS.c.network_id)
        .where(subnet_visible(admin))
        .order_by(SUBNETS.c.created_at, SUBNETS.c.id)
    ),
    SUBNET_PUSHDOWN,
)
POOL_LISTER = Lister(
    SubnetPool,
    lambda admin: sa.select(POOLS).where(pool_visible(admin)).order_by(POOLS.c.created_at, POOLS.c.id),
    POOL_PUSHDOWN,
)
PORT_LISTER = Lister(Port, lambda admin: select_ports().where(owned(PORTS, admin)), PORT_PUSHDOWN)
FLOATINGIP_LISTER = Lister(
    FloatingIP,
    lambda admin: (
        sa.select(FLOATINGIPS).where(owned(FLOATINGIPS, admin)).order_by(FLOATINGIPS.c.created_at, FLOATINGIPS.c.id)
    ),
    FLOATINGIP_PUSHDOWN,
)
