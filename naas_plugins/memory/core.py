"""The in-process core plugin: networks, subnets, subnet pools and ports kept in memory.

All state sits behind one re-entrant lock, so every method is one atomic unit:
it validates, publishes ``BEFORE_*`` (a subscriber's exception vetoes the
change) and applies the change while holding the lock, and publishes
``AFTER_*`` once the lock is released. A method that allocates several things
(prefixes, addresses) registers how to give each one back on an
:class:`contextlib.ExitStack`; if anything fails midway the stack gives them
back, and only a method that reaches its end keeps them (``undo.pop_all()``).

Address and prefix allocation use :mod:`naas.ipam`: one
:class:`~naas.ipam.FreePrefixes` per subnet pool and one
:class:`~naas.ipam.FreeAddresses` per subnet, so their cost does not grow with
how full a pool or a subnet is.

The lock is re-entrant so that a ``BEFORE_*`` subscriber may read from this
plugin (for example to check what it is about to veto). Subscribers to
``BEFORE_*`` events run while the lock is held: they must not wait on another
thread that is itself calling this plugin.

Ports are ``ACTIVE`` as soon as they exist: there is no agent to bind them, so
nothing would ever move them out of ``DOWN``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import netaddr

from naas import policy
from naas.capabilities import Capability
from naas.context import RequestContext
from naas.events import Event, EventRegistry, ResourceType
from naas.exceptions import (
    BadRequest,
    Conflict,
    DefaultExternalNetworkExists,
    DefaultSubnetPoolExists,
    InUse,
    IpAddressExhausted,
    NotAuthorized,
    NotFound,
    SubnetPoolExhausted,
    SubnetPoolQuotaExceeded,
)
from naas.ipam import (
    FreeAddresses,
    FreePrefixes,
    check_prefixlen_in_bounds,
    default_allocation_pools,
    default_gateway,
    prefix_quota_units,
    resolve_prefix_bounds,
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
    filter_resources,
)
from naas_plugins.memory._listing import Index, sole_filter_value

__all__ = ["MemoryCorePlugin"]

NETWORK_STATUS = "ACTIVE"
PORT_STATUS = "ACTIVE"
_MAC_PREFIX = "fa:16:3e"
# Ports that tie an external network to routers: it cannot stop being external while they exist.
_EXTERNAL_USERS = (DEVICE_OWNER_ROUTER_GATEWAY, DEVICE_OWNER_FLOATINGIP)


@dataclasses.dataclass
class _NetworkRecord:
    network: Network
    # Insertion-ordered set of the ids of the ports on the network.
    port_ids: dict[str, None] = dataclasses.field(default_factory=dict)
    macs: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class _SubnetRecord:
    subnet: Subnet
    free: FreeAddresses
    # Who holds each allocated address, to name the users and re-check pools on update.
    holders: dict[netaddr.IPAddress, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _PoolRecord:
    pool: SubnetPool
    free: FreePrefixes
    subnet_ids: dict[str, None] = dataclasses.field(default_factory=dict)
    # Quota units each project's subnets take from the pool, so a quota check costs the same for every project.
    usage: dict[str, int] = dataclasses.field(default_factory=dict)


def _new_id() -> str:
    return str(uuid.uuid4())


def _in_ranges(address: netaddr.IPAddress, ranges: Iterable[netaddr.IPRange]) -> bool:
    return any(address in pool for pool in ranges)


class MemoryCorePlugin(CorePlugin):
    """A complete, thread-safe core plugin whose state lives in this process only."""

    #: Each instance holds its own state: two instances never share resources or topology records.
    CAPABILITIES = CorePlugin.CAPABILITIES - {Capability.SHARED_STORAGE}

    def __init__(self, events: EventRegistry | None = None) -> None:
        self.events = events if events is not None else EventRegistry()
        self._lock = threading.RLock()
        # Dicts keep insertion order, which is the "oldest first" order lists are returned in.
        self._networks: dict[str, _NetworkRecord] = {}
        self._subnets: dict[str, _SubnetRecord] = {}
        self._pools: dict[str, _PoolRecord] = {}
        self._ports: dict[str, Port] = {}
        self._network_ids_by_project = Index()
        # One slot each: at most one default external network and one default pool per IP version.
        self._default_network_id: str | None = None
        self._default_pool_ids: dict[int, str] = {}

    # Networks

    def create_network(self, context: RequestContext, network: NetworkCreate | Mapping[str, Any]) -> Network:
        request = NetworkCreate.parse(network)
        policy.check_admin_only(context, request)
        project_id = policy.owner_for(context, request.project_id, "network")
        with self._lock:
            if request.is_default:
                self._check_no_default_network(None)
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
            self.events.notify(ResourceType.NETWORK, Event.BEFORE_CREATE, context, created.id, request=request)
            self._networks[created.id] = _NetworkRecord(created)
            self._network_ids_by_project.add(project_id, created.id)
            if created.is_default:
                self._default_network_id = created.id
        self.events.notify(
            ResourceType.NETWORK, Event.AFTER_CREATE, context, created.id, request=request, result=created
        )
        return created

    def get_network(self, context: RequestContext, network_id: str) -> Network:
        with self._lock:
            return self._visible_network(context, network_id).network

    def get_networks(self, context: RequestContext, filters: Filters | None = None) -> list[Network]:
        project_id = sole_filter_value(filters, "project_id", "tenant_id")
        with self._lock:
            ids: Iterable[str]
            if filters and filters.get("is_default") in (True, "true", "True", [True]):
                # Get-me-a-network asks for the default external network on every build.
                ids = [self._default_network_id] if self._default_network_id else []
            elif project_id is None:
                ids = self._networks
            else:
                ids = self._network_ids_by_project.get(project_id)
            networks = (self._networks[network_id].network for network_id in ids)
            visible = [network for network in networks if policy.is_visible(context, network)]
        return filter_resources(visible, Network, filters)

    def update_network(
        self, context: RequestContext, network_id: str, changes: NetworkUpdate | Mapping[str, Any]
    ) -> Network:
        request = NetworkUpdate.parse(changes)
        policy.check_admin_only(context, request)
        with self._lock:
            record = self._visible_network(context, network_id)
            current = record.network
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
            if is_default and not current.is_default:
                self._check_no_default_network(network_id)
            if current.router_external and not external:
                self._check_unused_as_external(record)
            if current.shared and not shared:
                self._check_unused_by_other_projects(record)
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
            record.network = updated
            if updated.is_default:
                self._default_network_id = network_id
            elif current.is_default:
                self._default_network_id = None
        self.events.notify(
            ResourceType.NETWORK,
            Event.AFTER_UPDATE,
            context,
            network_id,
            request=request,
            current=current,
            result=updated,
        )
        return updated

    def delete_network(self, context: RequestContext, network_id: str) -> None:
        with self._lock:
            record = self._visible_network(context, network_id)
            policy.check_modify(context, record.network, network_id)
            if record.port_ids:
                raise InUse("network", network_id, record.port_ids)
            subnets = [self._subnets[subnet_id] for subnet_id in record.network.subnets]
            for subnet_record in subnets:
                subnet = subnet_record.subnet
                self.events.notify(ResourceType.SUBNET, Event.BEFORE_DELETE, context, subnet.id, current=subnet)
            self.events.notify(ResourceType.NETWORK, Event.BEFORE_DELETE, context, network_id, current=record.network)
            for subnet_record in subnets:
                self._forget_subnet(subnet_record)
            del self._networks[network_id]
            self._network_ids_by_project.remove(record.network.project_id, network_id)
            if record.network.is_default:
                self._default_network_id = None
        for subnet_record in subnets:
            subnet = subnet_record.subnet
            self.events.notify(ResourceType.SUBNET, Event.AFTER_DELETE, context, subnet.id, current=subnet)
        self.events.notify(ResourceType.NETWORK, Event.AFTER_DELETE, context, network_id, current=record.network)

    # Subnets

    def create_subnet(self, context: RequestContext, subnet: SubnetCreate | Mapping[str, Any]) -> Subnet:
        request = SubnetCreate.parse(subnet)
        project_id = policy.owner_for(context, request.project_id, "subnet")
        with self._lock, contextlib.ExitStack() as undo:
            network_record = self._visible_network(context, request.network_id)
            policy.check_modify(context, network_record.network, request.network_id)
            pool_record = self._pool_for_subnet(context, request)
            subnet_id = _new_id()
            self.events.notify(ResourceType.SUBNET, Event.BEFORE_CREATE, context, subnet_id, request=request)
            if pool_record is None:
                assert request.cidr is not None  # SubnetCreate.validate: no pool means a cidr
                cidr = request.cidr
            else:
                cidr = self._allocate_prefix(pool_record, request, project_id, undo)
            self._check_no_overlap(network_record, cidr)
            gateway = self._gateway_for(cidr, request.gateway_ip)
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
                subnetpool_id=None if pool_record is None else pool_record.pool.id,
                enable_dhcp=request.enable_dhcp,
            )
            self._subnets[subnet_id] = _SubnetRecord(created, FreeAddresses(subnet_id, cidr, allocation_pools))
            if pool_record is not None:
                self._count_in_pool(pool_record, created, +1)
            network_record.network = dataclasses.replace(
                network_record.network, subnets=(*network_record.network.subnets, subnet_id)
            )
            undo.pop_all()
        self.events.notify(ResourceType.SUBNET, Event.AFTER_CREATE, context, subnet_id, request=request, result=created)
        return created

    def get_subnet(self, context: RequestContext, subnet_id: str) -> Subnet:
        with self._lock:
            return self._visible_subnet(context, subnet_id).subnet

    def get_subnets(self, context: RequestContext, filters: Filters | None = None) -> list[Subnet]:
        network_id = sole_filter_value(filters, "network_id")
        with self._lock:
            if network_id is None:
                ids: Iterable[str] = self._subnets
            else:
                network_record = self._networks.get(network_id)
                ids = () if network_record is None else network_record.network.subnets
            subnets = (self._subnets[subnet_id].subnet for subnet_id in ids)
            visible = [subnet for subnet in subnets if self._subnet_is_visible(context, subnet)]
        return filter_resources(visible, Subnet, filters)

    def update_subnet(
        self, context: RequestContext, subnet_id: str, changes: SubnetUpdate | Mapping[str, Any]
    ) -> Subnet:
        request = SubnetUpdate.parse(changes)
        with self._lock:
            record = self._visible_subnet(context, subnet_id)
            current = record.subnet
            policy.check_owner(context, current, subnet_id)
            gateway = current.gateway_ip
            if request.gateway_ip is not UNSET and request.gateway_ip != current.gateway_ip:
                gateway = self._check_new_gateway(record, request.gateway_ip, request.allocation_pools is UNSET)
            free = record.free
            pools = current.allocation_pools
            if request.allocation_pools is not UNSET:
                pools = tuple(validate_allocation_pools(current.cidr, request.allocation_pools, gateway))
                self._check_pools_keep_addresses(record, pools)
                free = FreeAddresses(subnet_id, current.cidr, pools, record.holders)
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
            record.subnet = updated
            record.free = free
        self.events.notify(
            ResourceType.SUBNET,
            Event.AFTER_UPDATE,
            context,
            subnet_id,
            request=request,
            current=current,
            result=updated,
        )
        return updated

    def delete_subnet(self, context: RequestContext, subnet_id: str) -> None:
        with self._lock:
            record = self._visible_subnet(context, subnet_id)
            current = record.subnet
            policy.check_owner(context, current, subnet_id)
            if record.holders:
                raise InUse("subnet", subnet_id, dict.fromkeys(record.holders.values()))
            self.events.notify(ResourceType.SUBNET, Event.BEFORE_DELETE, context, subnet_id, current=current)
            self._forget_subnet(record)
            network_record = self._networks[current.network_id]
            network_record.network = dataclasses.replace(
                network_record.network, subnets=tuple(s for s in network_record.network.subnets if s != subnet_id)
            )
        self.events.notify(ResourceType.SUBNET, Event.AFTER_DELETE, context, subnet_id, current=current)

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
        with self._lock:
            if request.is_default:
                self._check_no_default_pool(request.ip_version, None)
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
            free = FreePrefixes(created.id, created.prefixes)
            self.events.notify(ResourceType.SUBNETPOOL, Event.BEFORE_CREATE, context, created.id, request=request)
            self._pools[created.id] = _PoolRecord(created, free)
            if created.is_default:
                self._default_pool_ids[created.ip_version] = created.id
        self.events.notify(
            ResourceType.SUBNETPOOL, Event.AFTER_CREATE, context, created.id, request=request, result=created
        )
        return created

    def get_subnetpool(self, context: RequestContext, subnetpool_id: str) -> SubnetPool:
        with self._lock:
            return self._visible_pool(context, subnetpool_id).pool

    def get_subnetpools(self, context: RequestContext, filters: Filters | None = None) -> list[SubnetPool]:
        with self._lock:
            visible = [r.pool for r in self._pools.values() if policy.is_visible(context, r.pool)]
        return filter_resources(visible, SubnetPool, filters)

    def get_default_subnetpool(self, context: RequestContext, ip_version: int) -> SubnetPool | None:
        if isinstance(ip_version, bool) or ip_version not in (4, 6):
            raise BadRequest("subnetpool", "ip_version", f"{ip_version!r} is neither 4 nor 6")
        with self._lock:
            default = self._default_pool(ip_version)
        if default is None or not policy.is_visible(context, default):
            return None
        return default

    def update_subnetpool(
        self, context: RequestContext, subnetpool_id: str, changes: SubnetPoolUpdate | Mapping[str, Any]
    ) -> SubnetPool:
        request = SubnetPoolUpdate.parse(changes)
        policy.check_admin_only(context, request)
        with self._lock:
            record = self._visible_pool(context, subnetpool_id)
            current = record.pool
            policy.check_modify(context, current, subnetpool_id)
            prefixes = current.prefixes
            if request.prefixes is not UNSET:
                prefixes = self._grown_prefixes(current, request.prefixes)
            low, high, default = resolve_prefix_bounds(
                current.ip_version,
                current.min_prefixlen if request.min_prefixlen is UNSET else request.min_prefixlen,
                current.max_prefixlen if request.max_prefixlen is UNSET else request.max_prefixlen,
                current.default_prefixlen if request.default_prefixlen is UNSET else request.default_prefixlen,
            )
            is_default = current.is_default if request.is_default is UNSET else request.is_default
            if is_default and not current.is_default:
                self._check_no_default_pool(current.ip_version, subnetpool_id)
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
                record.free.add_prefixes(prefixes)
            record.pool = updated
            if updated.is_default:
                self._default_pool_ids[updated.ip_version] = subnetpool_id
            elif current.is_default:
                del self._default_pool_ids[current.ip_version]
        self.events.notify(
            ResourceType.SUBNETPOOL,
            Event.AFTER_UPDATE,
            context,
            subnetpool_id,
            request=request,
            current=current,
            result=updated,
        )
        return updated

    def delete_subnetpool(self, context: RequestContext, subnetpool_id: str) -> None:
        with self._lock:
            record = self._visible_pool(context, subnetpool_id)
            policy.check_modify(context, record.pool, subnetpool_id)
            if record.subnet_ids:
                raise InUse("subnetpool", subnetpool_id, record.subnet_ids, what="subnets")
            self.events.notify(
                ResourceType.SUBNETPOOL, Event.BEFORE_DELETE, context, subnetpool_id, current=record.pool
            )
            del self._pools[subnetpool_id]
            if record.pool.is_default:
                del self._default_pool_ids[record.pool.ip_version]
        self.events.notify(ResourceType.SUBNETPOOL, Event.AFTER_DELETE, context, subnetpool_id, current=record.pool)

    # Ports

    def create_port(self, context: RequestContext, port: PortCreate | Mapping[str, Any]) -> Port:
        request = PortCreate.parse(port)
        project_id = policy.owner_for(context, request.project_id, "port")
        with self._lock, contextlib.ExitStack() as undo:
            network_record = self._visible_network(context, request.network_id)
            self._check_may_plug(context, network_record.network)
            if request.mac_address is None:
                mac_address = self._new_mac(network_record)
            else:
                self._check_mac_free(network_record, request.mac_address)
                mac_address = request.mac_address
            port_id = _new_id()
            self.events.notify(ResourceType.PORT, Event.BEFORE_CREATE, context, port_id, request=request)
            if request.fixed_ips is None:
                fixed_ips = self._allocate_automatic(network_record, port_id, undo)
            else:
                fixed_ips = self._allocate_requested(network_record, port_id, request.fixed_ips, (), undo)
            created = Port(
                id=port_id,
                project_id=project_id,
                network_id=request.network_id,
                name=request.name,
                admin_state_up=request.admin_state_up,
                mac_address=mac_address,
                device_id=request.device_id,
                device_owner=request.device_owner,
                fixed_ips=fixed_ips,
                status=PORT_STATUS,
            )
            self._ports[port_id] = created
            network_record.port_ids[port_id] = None
            network_record.macs.add(mac_address)
            undo.pop_all()
        self.events.notify(ResourceType.PORT, Event.AFTER_CREATE, context, port_id, request=request, result=created)
        return created

    def get_port(self, context: RequestContext, port_id: str) -> Port:
        with self._lock:
            return self._visible_port(context, port_id)

    def get_ports(self, context: RequestContext, filters: Filters | None = None) -> list[Port]:
        network_id = sole_filter_value(filters, "network_id")
        with self._lock:
            if network_id is None:
                ids: Iterable[str] = self._ports
            else:
                network_record = self._networks.get(network_id)
                ids = () if network_record is None else network_record.port_ids
            ports = (self._ports[port_id] for port_id in ids)
            visible = [port for port in ports if policy.is_visible(context, port)]
        return filter_resources(visible, Port, filters)

    def update_port(self, context: RequestContext, port_id: str, changes: PortUpdate | Mapping[str, Any]) -> Port:
        request = PortUpdate.parse(changes)
        with self._lock, contextlib.ExitStack() as undo:
            current = self._visible_port(context, port_id)
            policy.check_modify(context, current, port_id)
            self.events.notify(
                ResourceType.PORT, Event.BEFORE_UPDATE, context, port_id, request=request, current=current
            )
            fixed_ips = current.fixed_ips
            if request.fixed_ips is not UNSET:
                network_record = self._networks[current.network_id]
                fixed_ips = self._allocate_requested(
                    network_record, port_id, request.fixed_ips, current.fixed_ips, undo
                )
            updated = dataclasses.replace(
                current,
                name=current.name if request.name is UNSET else request.name,
                admin_state_up=current.admin_state_up if request.admin_state_up is UNSET else request.admin_state_up,
                device_id=current.device_id if request.device_id is UNSET else request.device_id,
                device_owner=current.device_owner if request.device_owner is UNSET else request.device_owner,
                fixed_ips=fixed_ips,
            )
            self._ports[port_id] = updated
            undo.pop_all()
        self.events.notify(
            ResourceType.PORT, Event.AFTER_UPDATE, context, port_id, request=request, current=current, result=updated
        )
        return updated

    def delete_port(self, context: RequestContext, port_id: str) -> None:
        with self._lock:
            current = self._visible_port(context, port_id)
            policy.check_modify(context, current, port_id)
            self.events.notify(ResourceType.PORT, Event.BEFORE_DELETE, context, port_id, current=current)
            for fixed_ip in current.fixed_ips:
                self._release_address(fixed_ip)
            network_record = self._networks[current.network_id]
            del network_record.port_ids[port_id]
            network_record.macs.discard(current.mac_address)
            del self._ports[port_id]
        self.events.notify(ResourceType.PORT, Event.AFTER_DELETE, context, port_id, current=current)

    # Lookups; callers hold the lock.

    def _visible_network(self, context: RequestContext, network_id: str) -> _NetworkRecord:
        record = self._networks.get(network_id)
        if record is None or not policy.is_visible(context, record.network):
            raise NotFound("network", network_id)
        return record

    def _subnet_is_visible(self, context: RequestContext, subnet: Subnet) -> bool:
        # A subnet is seen with its network: shared and external networks show their subnets to everyone.
        return policy.is_visible(context, subnet) or policy.is_visible(
            context, self._networks[subnet.network_id].network
        )

    def _visible_subnet(self, context: RequestContext, subnet_id: str) -> _SubnetRecord:
        record = self._subnets.get(subnet_id)
        if record is None or not self._subnet_is_visible(context, record.subnet):
            raise NotFound("subnet", subnet_id)
        return record

    def _visible_pool(self, context: RequestContext, subnetpool_id: str) -> _PoolRecord:
        record = self._pools.get(subnetpool_id)
        if record is None or not policy.is_visible(context, record.pool):
            raise NotFound("subnetpool", subnetpool_id)
        return record

    def _visible_port(self, context: RequestContext, port_id: str) -> Port:
        port = self._ports.get(port_id)
        if port is None or not policy.is_visible(context, port):
            raise NotFound("port", port_id)
        return port

    def _default_pool(self, ip_version: int) -> SubnetPool | None:
        pool_id = self._default_pool_ids.get(ip_version)
        return None if pool_id is None else self._pools[pool_id].pool

    def _ports_owned_by(self, port_ids: Iterable[str], device_owners: Sequence[str]) -> list[str]:
        return [port_id for port_id in port_ids if self._ports[port_id].device_owner in device_owners]

    # Capacity, answered from the allocators rather than by listing what is allocated.

    def count_free_addresses(self, context: RequestContext, subnet_id: str) -> int:
        with self._lock:
            return self._visible_subnet(context, subnet_id).free.free_count

    def check_subnetpool_room(
        self, context: RequestContext, subnetpool_id: str, prefixlen: int, project_id: str | None = None
    ) -> None:
        with self._lock:
            record = self._visible_pool(context, subnetpool_id)
            self._check_quota(record, project_id or context.project_id, prefixlen)
            if not record.free.can_allocate(prefixlen):
                raise SubnetPoolExhausted(subnetpool_id, prefixlen)

    # Checks; callers hold the lock.

    def _check_no_default_network(self, network_id: str | None) -> None:
        if self._default_network_id is not None and self._default_network_id != network_id:
            raise DefaultExternalNetworkExists(self._default_network_id)

    def _check_no_default_pool(self, ip_version: int, subnetpool_id: str | None) -> None:
        default = self._default_pool(ip_version)
        if default is not None and default.id != subnetpool_id:
            raise DefaultSubnetPoolExists(default.id, ip_version)

    def _check_unused_as_external(self, record: _NetworkRecord) -> None:
        users = self._ports_owned_by(record.port_ids, _EXTERNAL_USERS)
        if users:
            raise InUse("network", record.network.id, users, what="router gateway and floating IP ports")

    def _check_unused_by_other_projects(self, record: _NetworkRecord) -> None:
        owner = record.network.project_id
        users = [port_id for port_id in record.port_ids if self._ports[port_id].project_id != owner]
        if users:
            raise InUse("network", record.network.id, users, what="ports of other projects")

    def _check_may_plug(self, context: RequestContext, network: Network) -> None:
        """Non-admins plug ports into their own networks and shared ones, not into others' external networks."""
        if not (context.is_admin or network.shared or network.project_id == context.project_id):
            raise NotAuthorized(f"Only the owner or an admin may create ports on network {network.id}")

    def _check_mac_free(self, record: _NetworkRecord, mac_address: str) -> None:
        if mac_address in record.macs:
            raise Conflict(
                "network",
                record.network.id,
                f"MAC address {mac_address} is already in use on network {record.network.id}.",
            )

    def _check_no_overlap(self, record: _NetworkRecord, cidr: netaddr.IPNetwork) -> None:
        for subnet_id in record.network.subnets:
            other = self._subnets[subnet_id].subnet.cidr
            if other.version == cidr.version and (cidr in other or other in cidr):
                raise BadRequest(
                    "subnet", "cidr", f"{cidr} overlaps with {other} of subnet {subnet_id} on the same network"
                )

    def _check_new_gateway(
        self, record: _SubnetRecord, gateway: netaddr.IPAddress | None, keeps_pools: bool
    ) -> netaddr.IPAddress | None:
        """Validate a changed gateway: inside the subnet, outside the pools, not another device's address.

        ``keeps_pools``: the update leaves the allocation pools as they are, so
        they are checked here (new pools are checked against the gateway later).
        """
        if gateway is None:
            return None
        subnet = record.subnet
        gateway = validate_gateway(subnet.cidr, gateway)
        if keeps_pools and _in_ranges(gateway, subnet.allocation_pools):
            raise BadRequest(
                "subnet", "gateway_ip", f"{gateway} is inside the allocation pools; change allocation_pools with it"
            )
        holder = record.holders.get(gateway)
        # A router port may hold it: that is how a router becomes the gateway of a subnet it was plugged into.
        if holder is not None and self._ports[holder].device_owner != DEVICE_OWNER_ROUTER_INTERFACE:
            raise BadRequest("subnet", "gateway_ip", f"{gateway} is in use by port {holder}")
        return gateway

    def _check_pools_keep_addresses(self, record: _SubnetRecord, pools: Sequence[netaddr.IPRange]) -> None:
        """New pools must keep every address allocated from the old pools.

        Addresses outside the old pools were asked for explicitly (a router's
        gateway address, for one) and stay valid wherever the pools go.
        """
        old_pools = record.subnet.allocation_pools
        for address, port_id in record.holders.items():
            if _in_ranges(address, old_pools) and not _in_ranges(address, pools):
                raise BadRequest(
                    "subnet",
                    "allocation_pools",
                    f"{address} is in use by port {port_id} and would fall outside the allocation pools",
                )

    # Subnet pools and prefixes; callers hold the lock.

    def _pool_for_subnet(self, context: RequestContext, request: SubnetCreate) -> _PoolRecord | None:
        """The pool a new subnet comes from (checked against the request's IP version), or None."""
        if request.subnetpool_id is not None:
            record = self._visible_pool(context, request.subnetpool_id)
        elif request.use_default_subnetpool:
            assert request.ip_version is not None  # SubnetCreate.validate
            default = self.get_default_subnetpool(context, request.ip_version)
            if default is None:
                raise BadRequest(
                    "subnet", "use_default_subnetpool", f"No default subnet pool for IPv{request.ip_version}"
                )
            record = self._pools[default.id]
        else:
            return None
        version = record.pool.ip_version
        if request.cidr is not None and request.cidr.version != version:
            raise BadRequest("subnet", "cidr", f"{request.cidr} is not IPv{version} like subnet pool {record.pool.id}")
        if request.ip_version is not None and request.ip_version != version:
            raise BadRequest("subnet", "ip_version", f"subnet pool {record.pool.id} is IPv{version}")
        if isinstance(request.gateway_ip, netaddr.IPAddress) and request.gateway_ip.version != version:
            raise BadRequest("subnet", "gateway_ip", f"{request.gateway_ip} is not IPv{version} like the subnet pool")
        return record

    def _allocate_prefix(
        self, record: _PoolRecord, request: SubnetCreate, project_id: str, undo: contextlib.ExitStack
    ) -> netaddr.IPNetwork:
        """Take the subnet's prefix from the pool: the requested cidr, or any block of the requested length."""
        pool = record.pool
        cidr = request.cidr
        if cidr is None and isinstance(request.gateway_ip, netaddr.IPAddress):
            # As in Neutron, a gateway without a cidr asks for the block around that gateway.
            prefixlen = pool.default_prefixlen if request.prefixlen is None else request.prefixlen
            cidr = netaddr.IPNetwork(f"{request.gateway_ip}/{prefixlen}").cidr
        if cidr is not None:
            prefixlen = cidr.prefixlen
        else:
            prefixlen = pool.default_prefixlen if request.prefixlen is None else request.prefixlen
        check_prefixlen_in_bounds(prefixlen, pool.min_prefixlen, pool.max_prefixlen)
        self._check_quota(record, project_id, prefixlen)
        allocated = record.free.allocate(prefixlen) if cidr is None else record.free.allocate_cidr(cidr)
        undo.callback(record.free.release, allocated)
        return allocated

    def _check_quota(self, record: _PoolRecord, project_id: str, prefixlen: int) -> None:
        """Refuse a prefix that would take the project over the pool's quota (0 or None: no quota, as in Neutron).

        Unlike Neutron, which counts the pool owner's subnets, the project the subnet is for is counted.
        """
        pool = record.pool
        if not pool.default_quota:
            return
        used = record.usage.get(project_id, 0)
        if used + prefix_quota_units(pool.ip_version, prefixlen) > pool.default_quota:
            raise SubnetPoolQuotaExceeded(pool.id, project_id, pool.default_quota)

    @staticmethod
    def _count_in_pool(record: _PoolRecord, subnet: Subnet, sign: int) -> None:
        """Add (+1) or remove (-1) a subnet from its pool's allocations and its project's quota usage."""
        if sign > 0:
            record.subnet_ids[subnet.id] = None
        else:
            del record.subnet_ids[subnet.id]
        units = prefix_quota_units(subnet.ip_version, subnet.cidr.prefixlen)
        record.usage[subnet.project_id] = record.usage.get(subnet.project_id, 0) + sign * units
        if not record.usage[subnet.project_id]:
            del record.usage[subnet.project_id]

    def _grown_prefixes(
        self, pool: SubnetPool, prefixes: tuple[netaddr.IPNetwork, ...]
    ) -> tuple[netaddr.IPNetwork, ...]:
        """The pool's new prefixes, which must be of its IP version and hold every old one."""
        if prefixes[0].version != pool.ip_version:
            raise BadRequest("subnetpool", "prefixes", f"subnet pool {pool.id} is IPv{pool.ip_version}")
        lost = netaddr.IPSet(pool.prefixes) - netaddr.IPSet(prefixes)
        if lost:
            listing = ", ".join(str(cidr) for cidr in lost.iter_cidrs())
            raise BadRequest("subnetpool", "prefixes", f"prefixes can only be added, not removed: {listing}")
        return prefixes

    @staticmethod
    def _gateway_for(cidr: netaddr.IPNetwork, requested: netaddr.IPAddress | Unset | None) -> netaddr.IPAddress | None:
        """UNSET: the default gateway; None: no gateway; an address: that one, if it can be the gateway."""
        if requested is UNSET:
            return default_gateway(cidr)
        if requested is None:
            return None
        return validate_gateway(cidr, requested)

    def _forget_subnet(self, record: _SubnetRecord) -> None:
        """Drop a subnet (which holds no address) and give its prefix back to its pool."""
        subnet = record.subnet
        if subnet.subnetpool_id is not None:
            pool_record = self._pools[subnet.subnetpool_id]
            pool_record.free.release(subnet.cidr)
            self._count_in_pool(pool_record, subnet, -1)
        del self._subnets[subnet.id]

    # Port addresses; callers hold the lock and pass the undo stack of their change.

    def _new_mac(self, record: _NetworkRecord) -> str:
        while True:
            suffix = random.getrandbits(24).to_bytes(3, "big")
            mac_address = ":".join([_MAC_PREFIX, *(f"{byte:02x}" for byte in suffix)])
            if mac_address not in record.macs:
                return mac_address

    def _allocate_automatic(
        self, network_record: _NetworkRecord, port_id: str, undo: contextlib.ExitStack
    ) -> tuple[FixedIP, ...]:
        """One address per IP version the network has subnets of, from the first subnet with room."""
        fixed_ips = []
        for version in (4, 6):
            candidates = [
                record
                for record in (self._subnets[subnet_id] for subnet_id in network_record.network.subnets)
                if record.subnet.ip_version == version
            ]
            if not candidates:
                continue
            with_room = next((record for record in candidates if record.free.free_count), None)
            if with_room is None:
                raise IpAddressExhausted("network", network_record.network.id)
            fixed_ips.append(self._take_address(with_room, None, port_id, undo))
        return tuple(fixed_ips)

    def _allocate_requested(
        self,
        network_record: _NetworkRecord,
        port_id: str,
        wanted: Sequence[FixedIPRequest],
        current: Sequence[FixedIP],
        undo: contextlib.ExitStack,
    ) -> tuple[FixedIP, ...]:
        """The addresses ``wanted`` asks for, in its order, keeping those of ``current`` it asks for again.

        An entry keeps a current address when it names it, or names only its
        subnet; the current addresses no entry keeps are released. Entries naming
        an address are served first, so an "any address" entry cannot take it.
        """
        plan = plan_fixed_ips(wanted, current)
        results = list(plan.kept)
        for fixed_ip in plan.released:
            self._release_address(fixed_ip, undo)
        for index in plan.order:
            if results[index] is None:
                entry = wanted[index]
                record = self._subnet_for_entry(network_record, entry)
                results[index] = self._take_address(record, entry.ip_address, port_id, undo)
        return tuple(fixed for fixed in results if fixed is not None)

    def _subnet_for_entry(self, network_record: _NetworkRecord, entry: FixedIPRequest) -> _SubnetRecord:
        network = network_record.network
        if entry.subnet_id is not None:
            record = self._subnets.get(entry.subnet_id)
            if record is None:
                raise NotFound("subnet", entry.subnet_id)
            if record.subnet.network_id != network.id:
                raise BadRequest("port", "fixed_ips", f"subnet {entry.subnet_id} is not on network {network.id}")
            return record
        assert entry.ip_address is not None  # FixedIPRequest.validate
        for subnet_id in network.subnets:
            record = self._subnets[subnet_id]
            if entry.ip_address in record.subnet.cidr:
                return record
        raise BadRequest("port", "fixed_ips", f"{entry.ip_address} is in no subnet of network {network.id}")

    def _take_address(
        self,
        record: _SubnetRecord,
        address: netaddr.IPAddress | None,
        port_id: str,
        undo: contextlib.ExitStack,
    ) -> FixedIP:
        taken = record.free.allocate() if address is None else record.free.allocate_address(address)
        record.holders[taken] = port_id
        undo.callback(self._forget_holder, record, taken)
        return FixedIP(subnet_id=record.subnet.id, ip_address=taken)

    def _release_address(self, fixed_ip: FixedIP, undo: contextlib.ExitStack | None = None) -> None:
        """Give an address back; with ``undo``, register how to take it again if the change fails."""
        record = self._subnets[fixed_ip.subnet_id]
        port_id = record.holders.pop(fixed_ip.ip_address)
        record.free.release(fixed_ip.ip_address)
        if undo is not None:
            undo.callback(self._restore_holder, record, fixed_ip.ip_address, port_id)

    @staticmethod
    def _forget_holder(record: _SubnetRecord, address: netaddr.IPAddress) -> None:
        del record.holders[address]
        record.free.release(address)

    @staticmethod
    def _restore_holder(record: _SubnetRecord, address: netaddr.IPAddress, port_id: str) -> None:
        record.free.allocate_address(address)
        record.holders[address] = port_id
