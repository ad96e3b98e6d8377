"""A storage driver that keeps all of naas's state in one JSON document on disk.

It is storage only: naas's rules (:class:`naas.rules.CoreRules`,
:class:`naas.rules.L3Rules`) decide everything, and this module keeps what
they decided and enforces the invariants the contract of
:mod:`naas.storage.base` puts on a storage (one default external network, one
holder per address ...), nothing more.

How a unit of work runs
-----------------------
Every transaction takes an ``flock`` on a lock file next to the state file,
shared for reads and exclusive for writes, then loads the whole document. A
write transaction that changed something commits by writing the document to a
temporary file in the same directory, syncing it and renaming it over the
state file, so a reader or a crash sees the old document or the new one,
never half of one. Rolling back is dropping the in-memory copy. Because every
writer holds the exclusive lock from its first read to its commit, every read
is "for update" and a check the rules make still holds at commit.

``flock`` locks belong to an open file, not to a process, so threads of one
process exclude each other as separate processes do; a transaction opened
while the same thread already has one open (a ``BEFORE_*`` subscriber reading
back through the plugin) joins it.

Get-me-a-network's topology records live in the same document
(:class:`FileTopologyStore`), so two processes sharing the file also share the
claim on each project's topology.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import fcntl
import json
import os
import tempfile
import threading
import time
import types
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import netaddr

from naas.auto_allocate.store import TopologyRecord, TopologyStore
from naas.exceptions import Conflict, DefaultExternalNetworkExists, DefaultSubnetPoolExists, IpAddressAlreadyAllocated
from naas.ipam import FreeAddresses, FreePrefixes
from naas.resources import FloatingIP, Network, Port, Router, Subnet, SubnetPool
from naas.storage import ListQuery, Storage, StorageCapability, Transaction, random_mac_address

__all__ = ["FORMAT", "FileTopologyStore", "JsonFileStorage"]

FORMAT = 1
"""The version of the document's layout, written into it; a file of another version is refused."""

_SECTIONS = (
    "networks",
    "subnets",
    "subnetpools",
    "ports",
    "routers",
    "floatingips",
    "free_addresses",
    "free_prefixes",
    "topologies",
)

# List filters answered from the document before decoding: plain string attributes whose filter name is the
# field's name. The rules filter again, exactly, so narrowing on these alone is safe.
_NARROWING_KEYS = ("id", "network_id", "device_id", "port_id", "router_id", "floating_network_id", "subnetpool_id")

# How often a waiter looks at the file again for another process's change to a topology record.
_WAIT_POLL_SECONDS = 0.05

D = TypeVar("D")
Document = dict[str, Any]


def _empty_document() -> Document:
    return {"format": FORMAT, **{section: {} for section in _SECTIONS}}


# Encoding resources as JSON values and back, driven by the dataclasses' field types.


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if isinstance(value, (netaddr.IPNetwork, netaddr.IPAddress, netaddr.IPRange)):
        return str(value)
    return value


_FIELD_TYPES: dict[type, dict[str, Any]] = {}


def _field_types(cls: type) -> dict[str, Any]:
    """The dataclass's field types, resolved from their annotations once per class."""
    if cls not in _FIELD_TYPES:
        hints = typing.get_type_hints(cls)
        _FIELD_TYPES[cls] = {field.name: hints[field.name] for field in dataclasses.fields(cls)}
    return _FIELD_TYPES[cls]


def _decode(kind: Any, raw: Any) -> Any:
    if raw is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        [inner] = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _decode(inner, raw)
    if origin is tuple:
        item_kind = typing.get_args(kind)[0]
        return tuple(_decode(item_kind, item) for item in raw)
    if kind is netaddr.IPNetwork:
        return netaddr.IPNetwork(raw)
    if kind is netaddr.IPAddress:
        return netaddr.IPAddress(raw)
    if kind is netaddr.IPRange:
        first, last = raw.split("-")
        return netaddr.IPRange(first, last)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(raw)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _decode_record(kind, raw)
    return raw


def _decode_record(cls: type[D], raw: dict[str, Any]) -> D:
    # A field the record lacks gets its default: documents written before the standard attributes
    # (description, tags, timestamps, revision_number) still load.
    return cls(**{name: _decode(kind, raw[name]) for name, kind in _field_types(cls).items() if name in raw})


class _FileTransaction(Transaction):
    """One unit of work over an in-memory copy of the document; :attr:`changed` says whether to write it back."""

    def __init__(self, document: Document, *, write: bool) -> None:
        self.document = document
        self.write = write
        self.changed = False

    # Raw records

    def _get(self, cls: type[D], section: str, resource_id: str) -> D | None:
        raw = self.document[section].get(resource_id)
        return None if raw is None else _decode_record(cls, raw)

    def _list(self, cls: type[D], section: str, query: ListQuery) -> list[D]:
        return [_decode_record(cls, raw) for raw in self._narrowed(section, query)]

    def _narrowed(self, section: str, query: ListQuery) -> Iterable[dict[str, Any]]:
        records: Iterable[dict[str, Any]] = self.document[section].values()
        for key in _NARROWING_KEYS:
            values = query.filters.get(key)
            if values is not None:
                # A None attribute is kept: the rules decide whether it matches.
                records = [raw for raw in records if not isinstance(raw.get(key), str) or raw[key] in values]
        return records

    def _put(self, section: str, resource_id: str, raw: Any) -> None:
        self.document[section][resource_id] = raw
        self.changed = True

    def _insert(self, section: str, resource: Network | Subnet | SubnetPool | Port | Router | FloatingIP) -> None:
        if resource.id in self.document[section]:
            raise Conflict(resource.RESOURCE, resource.id, f"{resource.RESOURCE} {resource.id} already exists.")
        self._put(section, resource.id, _encode(resource))

    def _delete(self, section: str, resource_id: str) -> dict[str, Any]:
        self.changed = True
        raw: dict[str, Any] = self.document[section].pop(resource_id)
        return raw

    # Networks

    def network(self, network_id: str, *, for_update: bool = False) -> Network | None:
        return self._get(Network, "networks", network_id)

    def networks(self, query: ListQuery) -> list[Network]:
        return self._list(Network, "networks", query)

    def default_network(self) -> Network | None:
        raw = next((raw for raw in self.document["networks"].values() if raw["is_default"]), None)
        return None if raw is None else _decode_record(Network, raw)

    def add_network(self, network: Network) -> None:
        self._check_default_network(network)
        self._insert("networks", network)

    def update_network(self, network: Network) -> None:
        self._check_default_network(network)
        subnets = self.document["networks"][network.id]["subnets"]
        self._put("networks", network.id, {**_encode(network), "subnets": subnets})

    def remove_network(self, network_id: str) -> None:
        self._delete("networks", network_id)

    def _check_default_network(self, network: Network) -> None:
        current = self.default_network()
        if network.is_default and current is not None and current.id != network.id:
            raise DefaultExternalNetworkExists(current.id)

    # Subnets

    def subnet(self, subnet_id: str, *, for_update: bool = False) -> Subnet | None:
        return self._get(Subnet, "subnets", subnet_id)

    def subnets(self, query: ListQuery) -> list[Subnet]:
        return self._list(Subnet, "subnets", query)

    def add_subnet(self, subnet: Subnet) -> None:
        self._insert("subnets", subnet)
        self.document["networks"][subnet.network_id]["subnets"].append(subnet.id)
        self._put_free_addresses(FreeAddresses(subnet.id, subnet.cidr, subnet.allocation_pools))

    def update_subnet(self, subnet: Subnet) -> None:
        current = self.document["subnets"][subnet.id]
        self._put("subnets", subnet.id, _encode(subnet))
        if _encode(subnet.allocation_pools) != current["allocation_pools"]:
            held = [
                fixed_ip["ip_address"]
                for port in self._narrowed("ports", _on_network(subnet.network_id))
                for fixed_ip in port["fixed_ips"]
                if fixed_ip["subnet_id"] == subnet.id
            ]
            self._put_free_addresses(FreeAddresses(subnet.id, subnet.cidr, subnet.allocation_pools, held))

    def remove_subnet(self, subnet_id: str) -> None:
        raw = self._delete("subnets", subnet_id)
        self.document["networks"][raw["network_id"]]["subnets"].remove(subnet_id)
        del self.document["free_addresses"][subnet_id]

    # Subnet pools

    def subnetpool(self, subnetpool_id: str, *, for_update: bool = False) -> SubnetPool | None:
        return self._get(SubnetPool, "subnetpools", subnetpool_id)

    def subnetpools(self, query: ListQuery) -> list[SubnetPool]:
        return self._list(SubnetPool, "subnetpools", query)

    def default_subnetpool(self, ip_version: int) -> SubnetPool | None:
        pools = self.document["subnetpools"].values()
        raw = next((raw for raw in pools if raw["is_default"] and raw["ip_version"] == ip_version), None)
        return None if raw is None else _decode_record(SubnetPool, raw)

    def add_subnetpool(self, subnetpool: SubnetPool) -> None:
        self._check_default_pool(subnetpool)
        self._insert("subnetpools", subnetpool)
        self._put_free_prefixes(FreePrefixes(subnetpool.id, subnetpool.prefixes))

    def update_subnetpool(self, subnetpool: SubnetPool) -> None:
        self._check_default_pool(subnetpool)
        grown = _encode(subnetpool.prefixes) != self.document["subnetpools"][subnetpool.id]["prefixes"]
        free = self._free_prefixes(subnetpool.id)
        self._put("subnetpools", subnetpool.id, _encode(subnetpool))
        if grown:
            free.add_prefixes(subnetpool.prefixes)
            self._put_free_prefixes(free)

    def remove_subnetpool(self, subnetpool_id: str) -> None:
        self._delete("subnetpools", subnetpool_id)
        del self.document["free_prefixes"][subnetpool_id]

    def _check_default_pool(self, subnetpool: SubnetPool) -> None:
        current = self.default_subnetpool(subnetpool.ip_version)
        if subnetpool.is_default and current is not None and current.id != subnetpool.id:
            raise DefaultSubnetPoolExists(current.id, subnetpool.ip_version)

    # Ports

    def new_mac_address(self, network_id: str) -> str:
        taken = {raw["mac_address"] for raw in self._narrowed("ports", _on_network(network_id))}
        while True:
            mac_address = random_mac_address()
            if mac_address not in taken:
                return mac_address

    def port(self, port_id: str, *, for_update: bool = False) -> Port | None:
        return self._get(Port, "ports", port_id)

    def ports(self, query: ListQuery) -> list[Port]:
        return self._list(Port, "ports", query)

    def add_port(self, port: Port) -> None:
        self._check_holders(port)
        self._insert("ports", port)

    def update_port(self, port: Port) -> None:
        self._check_holders(port)
        self._put("ports", port.id, _encode(port))

    def remove_port(self, port_id: str) -> None:
        self._delete("ports", port_id)

    def _check_holders(self, port: Port) -> None:
        """Refuse ``port`` when another port of its network has its MAC address or holds one of its addresses."""
        wanted = {(fixed_ip.subnet_id, str(fixed_ip.ip_address)) for fixed_ip in port.fixed_ips}
        for other in self._narrowed("ports", _on_network(port.network_id)):
            if other["id"] == port.id:
                continue
            if other["mac_address"] == port.mac_address:
                message = f"MAC address {port.mac_address} is already in use on network {port.network_id}."
                raise Conflict("network", port.network_id, message)
            for fixed_ip in other["fixed_ips"]:
                if (fixed_ip["subnet_id"], fixed_ip["ip_address"]) in wanted:
                    raise IpAddressAlreadyAllocated(fixed_ip["subnet_id"], fixed_ip["ip_address"])

    # Free space

    def _free_addresses(self, subnet: Subnet) -> FreeAddresses:
        raw = self.document["free_addresses"][subnet.id]
        ranges = [(first, last) for first, last in raw["free"]]
        return FreeAddresses.from_ranges(subnet.id, subnet.cidr, subnet.allocation_pools, ranges, raw["outside"])

    def _put_free_addresses(self, free: FreeAddresses) -> None:
        raw = {"free": free.to_ranges(), "outside": free.allocated_outside_pools()}
        self._put("free_addresses", free.subnet_id, raw)

    def _free_prefixes(self, subnetpool_id: str) -> FreePrefixes:
        prefixes = self.document["subnetpools"][subnetpool_id]["prefixes"]
        blocks = [(network, prefixlen) for network, prefixlen in self.document["free_prefixes"][subnetpool_id]]
        return FreePrefixes.from_blocks(subnetpool_id, prefixes, blocks)

    def _put_free_prefixes(self, free: FreePrefixes) -> None:
        self._put("free_prefixes", free.pool_id, free.to_blocks())

    def take_address(self, subnet: Subnet, address: netaddr.IPAddress | None) -> netaddr.IPAddress:
        free = self._free_addresses(subnet)
        taken = free.allocate() if address is None else free.allocate_address(address)
        self._put_free_addresses(free)
        return taken

    def give_back_address(self, subnet: Subnet, address: netaddr.IPAddress) -> None:
        free = self._free_addresses(subnet)
        free.release(address)
        self._put_free_addresses(free)

    def count_free_addresses(self, subnet: Subnet) -> int:
        return self._free_addresses(subnet).free_count

    def take_prefix(self, subnetpool: SubnetPool, prefixlen: int) -> netaddr.IPNetwork:
        free = self._free_prefixes(subnetpool.id)
        taken = free.allocate(prefixlen)
        self._put_free_prefixes(free)
        return taken

    def take_cidr(self, subnetpool: SubnetPool, cidr: netaddr.IPNetwork) -> netaddr.IPNetwork:
        free = self._free_prefixes(subnetpool.id)
        taken = free.allocate_cidr(cidr)
        self._put_free_prefixes(free)
        return taken

    def give_back_prefix(self, subnetpool: SubnetPool, cidr: netaddr.IPNetwork) -> None:
        free = self._free_prefixes(subnetpool.id)
        free.release(cidr)
        self._put_free_prefixes(free)

    def has_room(self, subnetpool: SubnetPool, prefixlen: int) -> bool:
        return self._free_prefixes(subnetpool.id).can_allocate(prefixlen)

    # Routers

    def router(self, router_id: str, *, for_update: bool = False) -> Router | None:
        return self._get(Router, "routers", router_id)

    def routers(self, query: ListQuery) -> list[Router]:
        return self._list(Router, "routers", query)

    def add_router(self, router: Router) -> None:
        self._insert("routers", router)

    def update_router(self, router: Router) -> None:
        self._put("routers", router.id, _encode(router))

    def remove_router(self, router_id: str) -> None:
        self._delete("routers", router_id)

    # Floating IPs

    def floatingip(self, floatingip_id: str, *, for_update: bool = False) -> FloatingIP | None:
        return self._get(FloatingIP, "floatingips", floatingip_id)

    def floatingips(self, query: ListQuery) -> list[FloatingIP]:
        return self._list(FloatingIP, "floatingips", query)

    def add_floatingip(self, floatingip: FloatingIP) -> None:
        self._check_unique_mapping(floatingip)
        self._insert("floatingips", floatingip)

    def update_floatingip(self, floatingip: FloatingIP) -> None:
        self._check_unique_mapping(floatingip)
        self._put("floatingips", floatingip.id, _encode(floatingip))

    def remove_floatingip(self, floatingip_id: str) -> None:
        self._delete("floatingips", floatingip_id)

    def _check_unique_mapping(self, floatingip: FloatingIP) -> None:
        if floatingip.port_id is None:
            return
        fixed_address = _encode(floatingip.fixed_ip_address)
        for other in self._narrowed("floatingips", ListQuery({"port_id": frozenset([floatingip.port_id])})):
            if (
                other["id"] != floatingip.id
                and other["port_id"] == floatingip.port_id
                and other["floating_network_id"] == floatingip.floating_network_id
                and other["fixed_ip_address"] == fixed_address
            ):
                raise Conflict(
                    "floatingip",
                    other["id"],
                    f"Floating IP {other['id']} of network {floatingip.floating_network_id} already maps "
                    f"{floatingip.fixed_ip_address} of port {floatingip.port_id}.",
                )

    # Topology records (see FileTopologyStore)

    def topology(self, project_id: str) -> TopologyRecord | None:
        return self._get(TopologyRecord, "topologies", project_id)

    def topologies(self) -> list[TopologyRecord]:
        return [_decode_record(TopologyRecord, raw) for raw in self.document["topologies"].values()]

    def put_topology(self, record: TopologyRecord) -> None:
        self._put("topologies", record.project_id, _encode(record))

    def remove_topology(self, project_id: str) -> None:
        self._delete("topologies", project_id)


def _on_network(network_id: str) -> ListQuery:
    return ListQuery({"network_id": frozenset([network_id])})


class JsonFileStorage(Storage):
    """Every resource and topology record in the JSON document ``path``, shared by whoever opens the same file.

    The file (and its lock file, ``path`` + ``.lock``) are created on the
    first write; the directory must exist. Nothing is held between
    transactions, so :meth:`close` has nothing to release.
    """

    capabilities: ClassVar[frozenset[StorageCapability]] = frozenset(
        {StorageCapability.SHARED_BETWEEN_PROCESSES, StorageCapability.DURABLE}
    )

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._open = threading.local()
        self._topologies = FileTopologyStore(self)

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[_FileTransaction]:
        current: _FileTransaction | None = getattr(self._open, "transaction", None)
        if current is not None:
            if write and not current.write:
                raise RuntimeError(f"a write unit of work was opened inside a read-only one on {self.path}")
            # The same thread is inside a transaction already (a subscriber reading back): join it.
            yield current
            return
        with self._locked(exclusive=write):
            transaction = _FileTransaction(self._load(), write=write)
            self._open.transaction = transaction
            try:
                yield transaction
            finally:
                self._open.transaction = None
            if transaction.changed:
                if not write:
                    raise RuntimeError(f"a read-only unit of work wrote to {self.path}; nothing was saved")
                self._save(transaction.document)

    def topology_store(self) -> FileTopologyStore:
        return self._topologies

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(descriptor)  # closing the file releases the lock

    def _load(self) -> Document:
        try:
            with open(self.path, "rb") as state_file:
                document: Document = json.load(state_file)
        except FileNotFoundError:
            return _empty_document()
        if document.get("format") != FORMAT:
            raise ValueError(f"{self.path} holds format {document.get('format')!r}; this storage reads {FORMAT}")
        return document

    def _save(self, document: Document) -> None:
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w") as temporary_file:
                json.dump(document, temporary_file, separators=(",", ":"))
                temporary_file.flush()
                os.fsync(temporary_file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        # The rename is durable only once the directory entry is on disk too.
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class FileTopologyStore(TopologyStore):
    """Get-me-a-network's records in the storage's document; each call is one unit of work of the storage.

    Waiting for another process's change polls the file, every
    ``_WAIT_POLL_SECONDS``, since a file has no way to wake a waiter.
    """

    def __init__(self, storage: JsonFileStorage) -> None:
        self._storage = storage

    def get(self, project_id: str) -> TopologyRecord | None:
        with self._storage.transaction(write=False) as transaction:
            return transaction.topology(project_id)

    def create(self, record: TopologyRecord) -> bool:
        with self._storage.transaction(write=True) as transaction:
            if transaction.topology(record.project_id) is not None:
                return False
            transaction.put_topology(record)
            return True

    def replace(self, expected: TopologyRecord, new: TopologyRecord) -> bool:
        with self._storage.transaction(write=True) as transaction:
            current = transaction.topology(expected.project_id)
            if current is None or current.version != expected.version:
                return False
            transaction.put_topology(dataclasses.replace(new, version=expected.version + 1))
            return True

    def remove(self, expected: TopologyRecord) -> bool:
        with self._storage.transaction(write=True) as transaction:
            current = transaction.topology(expected.project_id)
            if current is None or current.version != expected.version:
                return False
            transaction.remove_topology(expected.project_id)
            return True

    def wait_for_change(self, project_id: str, seen_version: int | None, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            current = self.get(project_id)
            remaining = deadline - time.monotonic()
            if (current.version if current else None) != seen_version or remaining <= 0:
                return
            time.sleep(min(_WAIT_POLL_SECONDS, remaining))

    def list_abandoned(self) -> list[TopologyRecord]:
        with self._storage.transaction(write=False) as transaction:
            records = transaction.topologies()
        return [record for record in records if record.is_abandoned()]
