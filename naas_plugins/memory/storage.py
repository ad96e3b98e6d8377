"""The in-process storage driver: every resource in dicts, one transaction at a time.

A transaction holds one re-entrant lock for its whole life, so transactions
never interleave and the rules' checks hold until commit. Every write records
how to undo itself; a transaction that raises undoes its writes in reverse
order, so a failed plugin call leaves nothing behind. A transaction opened
while the same thread already has one open (a ``BEFORE_*`` subscriber reading
through the plugin) joins it.

Free space is kept in :mod:`naas.ipam`'s allocators, one
:class:`~naas.ipam.FreeAddresses` per subnet and one
:class:`~naas.ipam.FreePrefixes` per pool, so its cost does not grow with how
full a subnet or a pool is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, Generic, TypeVar

import netaddr

from naas.auto_allocate.store import MemoryTopologyStore, TopologyStore
from naas.exceptions import (
    Conflict,
    DefaultExternalNetworkExists,
    DefaultSubnetPoolExists,
    IpAddressAlreadyAllocated,
)
from naas.ipam import FreeAddresses, FreePrefixes
from naas.resources import FixedIP, FloatingIP, Network, Port, Resource, Router, Subnet, SubnetPool
from naas.storage import ListQuery, Storage, StorageCapability, Transaction, random_mac_address

__all__ = ["MemoryStorage"]

R = TypeVar("R", bound=Resource)
Undo = list[Callable[[], object]]
KeyFunction = Callable[[R], Iterable[str]]


class _Table(Generic[R]):
    """Resources by id in creation order, with secondary indexes from filter spellings to ids."""

    def __init__(self, **indexes: KeyFunction[R]) -> None:
        self.rows: dict[str, R] = {}
        self._order: dict[str, int] = {}
        self._next = 0
        self._key_functions = indexes
        self._indexes: dict[str, dict[str, dict[str, None]]] = {name: {} for name in indexes}

    def get(self, resource_id: str) -> R | None:
        return self.rows.get(resource_id)

    def insert(self, resource_id: str, resource: R, undo: Undo) -> None:
        if resource_id in self.rows:
            raise Conflict(
                resource.RESOURCE, resource_id, f"The {resource.RESOURCE} id {resource_id} is already in use."
            )
        self._next += 1
        self._order[resource_id] = self._next
        self.rows[resource_id] = resource
        self._index(resource_id, resource, add=True)
        undo.append(lambda: self._drop(resource_id))

    def replace(self, resource_id: str, resource: R, undo: Undo) -> None:
        previous = self.rows[resource_id]
        self._index(resource_id, previous, add=False)
        self.rows[resource_id] = resource
        self._index(resource_id, resource, add=True)
        undo.append(lambda: self._restore(resource_id, previous))

    def delete(self, resource_id: str, undo: Undo) -> R:
        previous = self.rows[resource_id]
        order = self._order[resource_id]
        self._drop(resource_id)

        def reinsert() -> None:
            self._order[resource_id] = order
            self.rows[resource_id] = previous
            self._index(resource_id, previous, add=True)
            # Put it back in its place: lists are oldest first.
            self.rows = dict(sorted(self.rows.items(), key=lambda item: self._order[item[0]]))

        undo.append(reinsert)
        return previous

    def matching(self, query: ListQuery) -> list[R]:
        """The rows an index narrows ``query`` to, or all of them."""
        for name, index in self._indexes.items():
            value = query.sole(name)
            if value is not None:
                return [self.rows[resource_id] for resource_id in index.get(value, ())]
        return list(self.rows.values())

    def _drop(self, resource_id: str) -> None:
        resource = self.rows.pop(resource_id)
        del self._order[resource_id]
        self._index(resource_id, resource, add=False)

    def _restore(self, resource_id: str, resource: R) -> None:
        self._index(resource_id, self.rows[resource_id], add=False)
        self.rows[resource_id] = resource
        self._index(resource_id, resource, add=True)

    def _index(self, resource_id: str, resource: R, *, add: bool) -> None:
        for name, keys in self._key_functions.items():
            index = self._indexes[name]
            for key in keys(resource):
                if add:
                    index.setdefault(key, {})[resource_id] = None
                    # Keep each bucket in creation order even after an undo re-adds an old id.
                    if len(index[key]) > 1 and self._order[resource_id] < self._order[next(reversed(index[key]))]:
                        index[key] = dict(sorted(index[key].items(), key=lambda item: self._order[item[0]]))
                else:
                    bucket = index[key]
                    del bucket[resource_id]
                    if not bucket:
                        del index[key]


class _State:
    """Everything a :class:`MemoryStorage` holds."""

    def __init__(self) -> None:
        self.networks: _Table[Network] = _Table(project_id=lambda n: [n.project_id], id=lambda n: [n.id])
        self.subnets: _Table[Subnet] = _Table(
            network_id=lambda s: [s.network_id],
            subnetpool_id=lambda s: [s.subnetpool_id] if s.subnetpool_id else [],
            id=lambda s: [s.id],
        )
        self.subnetpools: _Table[SubnetPool] = _Table(id=lambda p: [p.id])
        self.ports: _Table[Port] = _Table(
            network_id=lambda p: [p.network_id],
            device_id=lambda p: [p.device_id],
            fixed_ips=lambda p: dict.fromkeys(f.subnet_id for f in p.fixed_ips),
            id=lambda p: [p.id],
        )
        self.routers: _Table[Router] = _Table(
            project_id=lambda r: [r.project_id],
            id=lambda r: [r.id],
        )
        self.floatingips: _Table[FloatingIP] = _Table(
            port_id=lambda f: [f.port_id] if f.port_id else [],
            router_id=lambda f: [f.router_id] if f.router_id else [],
            id=lambda f: [f.id],
        )
        self.free_addresses: dict[str, FreeAddresses] = {}
        self.holders: dict[str, dict[netaddr.IPAddress, str]] = {}  # subnet id -> address -> port id
        self.macs: dict[str, dict[str, str]] = {}  # network id -> MAC -> port id
        self.free_prefixes: dict[str, FreePrefixes] = {}
        self.topologies = MemoryTopologyStore()


class _MemoryTransaction(Transaction):
    def __init__(self, state: _State) -> None:
        self._state = state
        self.undo: Undo = []

    # Networks

    def network(self, network_id: str, *, for_update: bool = False) -> Network | None:
        return self._state.networks.get(network_id)

    def networks(self, query: ListQuery) -> list[Network]:
        return self._state.networks.matching(query)

    def default_network(self) -> Network | None:
        return next((n for n in self._state.networks.rows.values() if n.is_default), None)

    def add_network(self, network: Network) -> None:
        self._check_default_network(network)
        self._state.networks.insert(network.id, network, self.undo)
        self._set(self._state.macs, network.id, {})

    def update_network(self, network: Network) -> None:
        self._check_default_network(network)
        stored = self._state.networks.rows[network.id]
        self._state.networks.replace(network.id, _with_subnets(network, stored.subnets), self.undo)

    def remove_network(self, network_id: str) -> None:
        self._state.networks.delete(network_id, self.undo)
        self._pop(self._state.macs, network_id)

    def _check_default_network(self, network: Network) -> None:
        current = self.default_network()
        if network.is_default and current is not None and current.id != network.id:
            raise DefaultExternalNetworkExists(current.id)

    # Subnets

    def subnet(self, subnet_id: str, *, for_update: bool = False) -> Subnet | None:
        return self._state.subnets.get(subnet_id)

    def subnets(self, query: ListQuery) -> list[Subnet]:
        return self._state.subnets.matching(query)

    def add_subnet(self, subnet: Subnet) -> None:
        state = self._state
        state.subnets.insert(subnet.id, subnet, self.undo)
        network = state.networks.rows[subnet.network_id]
        state.networks.replace(network.id, _with_subnets(network, (*network.subnets, subnet.id)), self.undo)
        self._set(state.free_addresses, subnet.id, FreeAddresses(subnet.id, subnet.cidr, subnet.allocation_pools))
        self._set(state.holders, subnet.id, {})

    def update_subnet(self, subnet: Subnet) -> None:
        state = self._state
        current = state.subnets.rows[subnet.id]
        state.subnets.replace(subnet.id, subnet, self.undo)
        if subnet.allocation_pools != current.allocation_pools:
            held = state.holders[subnet.id]
            free = FreeAddresses(subnet.id, subnet.cidr, subnet.allocation_pools, held)
            self._set(state.free_addresses, subnet.id, free)

    def remove_subnet(self, subnet_id: str) -> None:
        state = self._state
        subnet = state.subnets.delete(subnet_id, self.undo)
        network = state.networks.rows[subnet.network_id]
        remaining = tuple(s for s in network.subnets if s != subnet_id)
        state.networks.replace(network.id, _with_subnets(network, remaining), self.undo)
        self._pop(state.free_addresses, subnet_id)
        self._pop(state.holders, subnet_id)

    # Subnet pools

    def subnetpool(self, subnetpool_id: str, *, for_update: bool = False) -> SubnetPool | None:
        return self._state.subnetpools.get(subnetpool_id)

    def subnetpools(self, query: ListQuery) -> list[SubnetPool]:
        return self._state.subnetpools.matching(query)

    def default_subnetpool(self, ip_version: int) -> SubnetPool | None:
        pools = self._state.subnetpools.rows.values()
        return next((p for p in pools if p.is_default and p.ip_version == ip_version), None)

    def add_subnetpool(self, subnetpool: SubnetPool) -> None:
        self._check_default_pool(subnetpool)
        self._state.subnetpools.insert(subnetpool.id, subnetpool, self.undo)
        self._set(self._state.free_prefixes, subnetpool.id, FreePrefixes(subnetpool.id, subnetpool.prefixes))

    def update_subnetpool(self, subnetpool: SubnetPool) -> None:
        self._check_default_pool(subnetpool)
        state = self._state
        current = state.subnetpools.rows[subnetpool.id]
        state.subnetpools.replace(subnetpool.id, subnetpool, self.undo)
        if subnetpool.prefixes != current.prefixes:
            free = state.free_prefixes[subnetpool.id]
            grown = FreePrefixes.from_blocks(subnetpool.id, free.prefixes, free.to_blocks())
            grown.add_prefixes(subnetpool.prefixes)
            self._set(state.free_prefixes, subnetpool.id, grown)

    def remove_subnetpool(self, subnetpool_id: str) -> None:
        self._state.subnetpools.delete(subnetpool_id, self.undo)
        self._pop(self._state.free_prefixes, subnetpool_id)

    def _check_default_pool(self, subnetpool: SubnetPool) -> None:
        current = self.default_subnetpool(subnetpool.ip_version)
        if subnetpool.is_default and current is not None and current.id != subnetpool.id:
            raise DefaultSubnetPoolExists(current.id, subnetpool.ip_version)

    # Ports

    def new_mac_address(self, network_id: str) -> str:
        macs = self._state.macs[network_id]
        while True:
            mac_address = random_mac_address()
            if mac_address not in macs:
                return mac_address

    def port(self, port_id: str, *, for_update: bool = False) -> Port | None:
        return self._state.ports.get(port_id)

    def ports(self, query: ListQuery) -> list[Port]:
        return self._state.ports.matching(query)

    def add_port(self, port: Port) -> None:
        self._hold(port, ())
        self._state.ports.insert(port.id, port, self.undo)

    def update_port(self, port: Port) -> None:
        current = self._state.ports.rows[port.id]
        self._hold(port, current.fixed_ips, current.mac_address)
        self._state.ports.replace(port.id, port, self.undo)

    def remove_port(self, port_id: str) -> None:
        port = self._state.ports.delete(port_id, self.undo)
        for fixed_ip in port.fixed_ips:
            self._pop(self._state.holders[fixed_ip.subnet_id], fixed_ip.ip_address)
        self._pop(self._state.macs[port.network_id], port.mac_address)

    def _hold(self, port: Port, old_fixed_ips: Iterable[FixedIP], old_mac: str | None = None) -> None:
        """Make ``port`` the holder of its MAC address and addresses, and let go of what it no longer has."""
        state = self._state
        macs = state.macs[port.network_id]
        if port.mac_address != old_mac:
            holder = macs.get(port.mac_address)
            if holder is not None and holder != port.id:
                message = f"MAC address {port.mac_address} is already in use on network {port.network_id}."
                raise Conflict("network", port.network_id, message)
            if old_mac is not None:
                self._pop(macs, old_mac)
            self._set(macs, port.mac_address, port.id)
        kept = set(port.fixed_ips)
        for fixed_ip in old_fixed_ips:
            if fixed_ip not in kept:
                self._pop(state.holders[fixed_ip.subnet_id], fixed_ip.ip_address)
        for fixed_ip in port.fixed_ips:
            holders = state.holders[fixed_ip.subnet_id]
            holder = holders.get(fixed_ip.ip_address)
            if holder is None:
                self._set(holders, fixed_ip.ip_address, port.id)
            elif holder != port.id:
                raise IpAddressAlreadyAllocated(fixed_ip.subnet_id, str(fixed_ip.ip_address))

    # Free space

    def take_address(self, subnet: Subnet, address: netaddr.IPAddress | None) -> netaddr.IPAddress:
        free = self._state.free_addresses[subnet.id]
        taken = free.allocate() if address is None else free.allocate_address(address)
        self.undo.append(lambda: free.release(taken))
        return taken

    def give_back_address(self, subnet: Subnet, address: netaddr.IPAddress) -> None:
        free = self._state.free_addresses[subnet.id]
        free.release(address)
        self.undo.append(lambda: free.allocate_address(address))

    def count_free_addresses(self, subnet: Subnet) -> int:
        return self._state.free_addresses[subnet.id].free_count

    def take_prefix(self, subnetpool: SubnetPool, prefixlen: int) -> netaddr.IPNetwork:
        free = self._state.free_prefixes[subnetpool.id]
        taken = free.allocate(prefixlen)
        self.undo.append(lambda: free.release(taken))
        return taken

    def take_cidr(self, subnetpool: SubnetPool, cidr: netaddr.IPNetwork) -> netaddr.IPNetwork:
        free = self._state.free_prefixes[subnetpool.id]
        taken = free.allocate_cidr(cidr)
        self.undo.append(lambda: free.release(taken))
        return taken

    def give_back_prefix(self, subnetpool: SubnetPool, cidr: netaddr.IPNetwork) -> None:
        free = self._state.free_prefixes[subnetpool.id]
        free.release(cidr)
        self.undo.append(lambda: free.allocate_cidr(cidr))

    def has_room(self, subnetpool: SubnetPool, prefixlen: int) -> bool:
        return self._state.free_prefixes[subnetpool.id].can_allocate(prefixlen)

    # Routers

    def router(self, router_id: str, *, for_update: bool = False) -> Router | None:
        return self._state.routers.get(router_id)

    def routers(self, query: ListQuery) -> list[Router]:
        return self._state.routers.matching(query)

    def add_router(self, router: Router) -> None:
        self._state.routers.insert(router.id, router, self.undo)

    def update_router(self, router: Router) -> None:
        self._state.routers.replace(router.id, router, self.undo)

    def remove_router(self, router_id: str) -> None:
        self._state.routers.delete(router_id, self.undo)

    # Floating IPs

    def floatingip(self, floatingip_id: str, *, for_update: bool = False) -> FloatingIP | None:
        return self._state.floatingips.get(floatingip_id)

    def floatingips(self, query: ListQuery) -> list[FloatingIP]:
        return self._state.floatingips.matching(query)

    def add_floatingip(self, floatingip: FloatingIP) -> None:
        self._check_unique_mapping(floatingip)
        self._state.floatingips.insert(floatingip.id, floatingip, self.undo)

    def update_floatingip(self, floatingip: FloatingIP) -> None:
        self._check_unique_mapping(floatingip)
        self._state.floatingips.replace(floatingip.id, floatingip, self.undo)

    def remove_floatingip(self, floatingip_id: str) -> None:
        self._state.floatingips.delete(floatingip_id, self.undo)

    def _check_unique_mapping(self, floatingip: FloatingIP) -> None:
        if floatingip.port_id is None:
            return
        for other in self.floatingips(ListQuery({"port_id": frozenset([floatingip.port_id])})):
            if (
                other.id != floatingip.id
                and other.floating_network_id == floatingip.floating_network_id
                and other.fixed_ip_address == floatingip.fixed_ip_address
            ):
                raise Conflict(
                    "floatingip",
                    other.id,
                    f"Floating IP {other.id} of network {floatingip.floating_network_id} already maps "
                    f"{floatingip.fixed_ip_address} of port {floatingip.port_id}.",
                )

    # Undoable dict changes

    def _set(self, mapping: dict[Any, Any], key: Any, value: Any) -> None:
        missing = object()
        previous = mapping.get(key, missing)
        mapping[key] = value

        def restore() -> None:
            if previous is missing:
                del mapping[key]
            else:
                mapping[key] = previous

        self.undo.append(restore)

    def _pop(self, mapping: dict[Any, Any], key: Any) -> None:
        previous = mapping.pop(key)
        self.undo.append(lambda: mapping.__setitem__(key, previous))


def _with_subnets(network: Network, subnet_ids: tuple[str, ...]) -> Network:
    return dataclasses.replace(network, subnets=subnet_ids)


class MemoryStorage(Storage):
    """All state in this process, behind one re-entrant lock; nothing survives the process."""

    capabilities: ClassVar[frozenset[StorageCapability]] = frozenset()

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.RLock()
        self._open = threading.local()

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[Transaction]:
        with self._lock:
            current: _MemoryTransaction | None = getattr(self._open, "transaction", None)
            if current is not None:
                # The same thread is inside a transaction already (a subscriber reading back): join it.
                yield current
                return
            transaction = _MemoryTransaction(self._state)
            self._open.transaction = transaction
            try:
                yield transaction
            except BaseException:
                for undo in reversed(transaction.undo):
                    undo()
                raise
            finally:
                self._open.transaction = None

    def topology_store(self) -> TopologyStore:
        return self._state.topologies
