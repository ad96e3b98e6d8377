"""The storage conformance suite: what any storage driver must do, checked on the driver itself.

A storage driver author runs it next to the behaviour suites (which run the
rules over the storage)::

    class TestMyStorage(naas.testing.StorageConformance, unittest.TestCase):
        def make_storage(self):
            return MyStorage(...)

These tests talk to :class:`naas.storage.Storage` directly, without the rules,
so they are fast and a failure points at the storage: the invariants it must
enforce, its free-space primitives, rollback, list order, and (for a storage
declaring :attr:`~naas.storage.StorageCapability.SHARED_BETWEEN_PROCESSES`) two
instances over the same state, built with :meth:`StorageConformance.make_shared_storage`.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import netaddr

from naas.auto_allocate.store import TopologyRecord, TopologyStatus
from naas.exceptions import (
    Conflict,
    DefaultExternalNetworkExists,
    DefaultSubnetPoolExists,
    IpAddressAlreadyAllocated,
    IpAddressExhausted,
    SubnetPoolExhausted,
)
from naas.resources import FixedIP, FloatingIP, Network, Port, Router, Subnet, SubnetPool
from naas.storage import ListQuery, Storage, StorageCapability, Transaction

if TYPE_CHECKING:
    from unittest import TestCase as _TestCaseBase
else:
    _TestCaseBase = object

__all__ = ["StorageConformance"]

T = TypeVar("T")


class _Rollback(Exception):
    """Raised by a test's unit of work to make the storage roll it back."""


def _id() -> str:
    return str(uuid.uuid4())


def _network(**changes: Any) -> Network:
    values: dict[str, Any] = {
        "id": _id(),
        "project_id": "p",
        "name": "n",
        "admin_state_up": True,
        "shared": False,
        "router_external": False,
        "is_default": False,
        "mtu": 1500,
        "status": "ACTIVE",
        "subnets": (),
    }
    values.update(changes)
    return Network(**values)


def _subnet(network: Network, cidr: str, **changes: Any) -> Subnet:
    block = netaddr.IPNetwork(cidr)
    values: dict[str, Any] = {
        "id": _id(),
        "project_id": network.project_id,
        "network_id": network.id,
        "name": "",
        "ip_version": block.version,
        "cidr": block,
        "gateway_ip": netaddr.IPAddress(block.first + 1, block.version),
        "allocation_pools": (netaddr.IPRange(block.first + 2, block.last - (1 if block.version == 4 else 0)),),
        "subnetpool_id": None,
        "enable_dhcp": True,
    }
    values.update(changes)
    return Subnet(**values)


def _pool(prefixes: tuple[str, ...], **changes: Any) -> SubnetPool:
    networks = tuple(netaddr.IPNetwork(prefix) for prefix in prefixes)
    version = networks[0].version
    values: dict[str, Any] = {
        "id": _id(),
        "project_id": "p",
        "name": "",
        "ip_version": version,
        "prefixes": networks,
        "default_prefixlen": 24 if version == 4 else 64,
        "min_prefixlen": 8,
        "max_prefixlen": 32 if version == 4 else 128,
        "shared": False,
        "is_default": False,
        "default_quota": None,
    }
    values.update(changes)
    return SubnetPool(**values)


def _port(network: Network, fixed_ips: tuple[FixedIP, ...] = (), **changes: Any) -> Port:
    values: dict[str, Any] = {
        "id": _id(),
        "project_id": network.project_id,
        "network_id": network.id,
        "name": "",
        "admin_state_up": True,
        "mac_address": "fa:16:3e:00:00:01",
        "device_id": "",
        "device_owner": "",
        "fixed_ips": fixed_ips,
        "status": "ACTIVE",
    }
    values.update(changes)
    return Port(**values)


def _read(reader: str, resource_id: str, tx: Transaction) -> object:
    return getattr(tx, reader)(resource_id)


def _write(writer: str, resource: object, tx: Transaction) -> None:
    getattr(tx, writer)(resource)


def _list_ports(query: ListQuery, tx: Transaction) -> list[Port]:
    return tx.ports(query)


class StorageConformance(_TestCaseBase):
    """Mix in before a ``TestCase`` and implement :meth:`make_storage`."""

    def make_storage(self) -> Storage:
        """A new, empty storage for one test (closed by the suite afterwards)."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_storage()")

    def make_shared_storage(self, storage: Storage) -> Storage:
        """A second storage over the same state as ``storage`` (another process would build it this way).

        Needed only when the storage declares ``SHARED_BETWEEN_PROCESSES``.
        """
        raise NotImplementedError(f"{type(self).__name__} declares SHARED_BETWEEN_PROCESSES: make_shared_storage()")

    def setUp(self) -> None:
        super().setUp()
        self.storage = self.make_storage()
        self.addCleanup(self.storage.close)

    # Helpers

    def run_unit(self, work: Callable[[Transaction], T]) -> T:
        return self.storage.run(work)

    def add(self, *resources: Any) -> None:
        """Store each resource in one unit, in order."""
        adders: dict[type, str] = {
            Network: "add_network",
            Subnet: "add_subnet",
            SubnetPool: "add_subnetpool",
            Port: "add_port",
            Router: "add_router",
            FloatingIP: "add_floatingip",
        }

        def work(tx: Transaction) -> None:
            for resource in resources:
                getattr(tx, adders[type(resource)])(resource)

        self.run_unit(work)

    def network_with_subnet(self, cidr: str = "10.0.0.0/29") -> tuple[Network, Subnet]:
        network = _network()
        subnet = _subnet(network, cidr)
        self.add(network, subnet)
        return network, subnet

    def take(self, subnet: Subnet, address: str | None = None) -> netaddr.IPAddress:
        wanted = None if address is None else netaddr.IPAddress(address)
        return self.run_unit(lambda tx: tx.take_address(subnet, wanted))

    def hold(self, network: Network, subnet: Subnet, address: str | None = None, **changes: Any) -> Port:
        """A port holding ``address`` (or the lowest free one) of ``subnet``, taken and stored in one unit."""

        def work(tx: Transaction) -> Port:
            wanted = None if address is None else netaddr.IPAddress(address)
            taken = tx.take_address(subnet, wanted)
            port = _port(network, (FixedIP(subnet_id=subnet.id, ip_address=taken),), **changes)
            if "mac_address" not in changes:
                port = dataclasses.replace(port, mac_address=tx.new_mac_address(network.id))
            tx.add_port(port)
            return port

        return self.run_unit(work)

    # Round trips and order

    def test_a_stored_network_reads_back_as_stored(self) -> None:
        network = _network(name="net", shared=True)
        self.add(network)
        self.assertEqual(network, self.run_unit(lambda tx: tx.network(network.id)))

    def test_a_missing_resource_reads_as_none(self) -> None:
        missing = _id()
        readers = ("network", "subnet", "subnetpool", "port", "router", "floatingip")
        for reader in readers:
            self.assertIsNone(self.run_unit(functools.partial(_read, reader, missing)), reader)

    def test_a_network_lists_its_subnets_oldest_first(self) -> None:
        network = _network()
        first, second = _subnet(network, "10.0.0.0/24"), _subnet(network, "10.0.1.0/24")
        self.add(network, first, second)
        self.assertEqual((first.id, second.id), self.run_unit(lambda tx: tx.network(network.id)).subnets)  # type: ignore[union-attr]
        self.run_unit(lambda tx: tx.remove_subnet(first.id))
        self.assertEqual((second.id,), self.run_unit(lambda tx: tx.network(network.id)).subnets)  # type: ignore[union-attr]

    def test_lists_are_oldest_first_and_hold_every_match(self) -> None:
        networks = [_network(name=f"n{index}") for index in range(5)]
        self.add(*networks)
        listed = self.run_unit(lambda tx: tx.networks(ListQuery()))
        self.assertEqual([n.id for n in networks], [n.id for n in listed])
        query = ListQuery({"name": frozenset(["n3"])})
        self.assertIn(networks[3], self.run_unit(lambda tx: tx.networks(query)))

    def test_ports_are_found_by_network_device_and_subnet(self) -> None:
        network, subnet = self.network_with_subnet()
        port = self.hold(network, subnet, device_id="router-1")
        for key, value in (("network_id", network.id), ("device_id", "router-1"), ("fixed_ips", subnet.id)):
            query = ListQuery({key: frozenset([value])})
            self.assertIn(port, self.run_unit(functools.partial(_list_ports, query)), key)

    def test_a_unit_reads_its_own_writes(self) -> None:
        network = _network()

        def work(tx: Transaction) -> Network | None:
            tx.add_network(network)
            tx.update_network(dataclasses.replace(network, name="renamed"))
            return tx.network(network.id)

        self.assertEqual("renamed", self.run_unit(work).name)  # type: ignore[union-attr]

    # Rollback

    def test_a_unit_that_raises_keeps_nothing(self) -> None:
        network, subnet = self.network_with_subnet("10.0.0.0/29")
        pool = _pool(("10.8.0.0/16",))
        self.add(pool)
        free_before = self.run_unit(lambda tx: tx.count_free_addresses(subnet))

        def work(tx: Transaction) -> None:
            other = _network()
            tx.add_network(other)
            tx.add_subnet(_subnet(other, "10.1.0.0/24"))
            address = tx.take_address(subnet, None)
            tx.add_port(_port(network, (FixedIP(subnet_id=subnet.id, ip_address=address),)))
            tx.take_prefix(pool, 24)
            tx.update_network(dataclasses.replace(network, name="changed"))
            raise _Rollback

        self.assertRaises(_Rollback, self.storage.run, work)
        self.assertEqual([network.id], [n.id for n in self.run_unit(lambda tx: tx.networks(ListQuery()))])
        self.assertEqual([], self.run_unit(lambda tx: tx.ports(ListQuery())))
        self.assertEqual(free_before, self.run_unit(lambda tx: tx.count_free_addresses(subnet)))
        self.assertEqual(netaddr.IPNetwork("10.8.0.0/24"), self.run_unit(lambda tx: tx.take_prefix(pool, 24)))

    # Invariants

    def test_one_default_external_network(self) -> None:
        first = _network(router_external=True, is_default=True)
        self.add(first)
        second = _network(router_external=True, is_default=True)
        self.assertRaises(DefaultExternalNetworkExists, self.add, second)
        other = _network(router_external=True)
        self.add(other)
        self.assertRaises(
            DefaultExternalNetworkExists,
            self.run_unit,
            lambda tx: tx.update_network(dataclasses.replace(other, is_default=True)),
        )
        self.assertEqual(first, self.run_unit(lambda tx: tx.default_network()))

    def test_one_default_subnet_pool_per_ip_version(self) -> None:
        v4, v6 = _pool(("10.0.0.0/8",), is_default=True), _pool(("fd00::/8",), is_default=True)
        self.add(v4, v6)
        self.assertRaises(DefaultSubnetPoolExists, self.add, _pool(("11.0.0.0/8",), is_default=True))
        self.assertEqual(v4, self.run_unit(lambda tx: tx.default_subnetpool(4)))
        self.assertEqual(v6, self.run_unit(lambda tx: tx.default_subnetpool(6)))

    def test_one_port_per_mac_address_on_a_network(self) -> None:
        network, _ = self.network_with_subnet()
        other, _ = self.network_with_subnet("10.1.0.0/29")
        self.add(_port(network, mac_address="fa:16:3e:aa:bb:cc"))
        self.assertRaises(Conflict, self.add, _port(network, mac_address="fa:16:3e:aa:bb:cc"))
        self.add(_port(other, mac_address="fa:16:3e:aa:bb:cc"))

    def test_a_new_mac_address_is_one_the_network_does_not_have(self) -> None:
        network, _ = self.network_with_subnet()
        taken = {self.hold_mac(network) for _ in range(20)}
        self.assertEqual(20, len(taken))

    def hold_mac(self, network: Network) -> str:
        def work(tx: Transaction) -> str:
            mac_address = tx.new_mac_address(network.id)
            tx.add_port(_port(network, mac_address=mac_address))
            return mac_address

        return self.run_unit(work)

    def test_an_address_has_one_holder(self) -> None:
        network, subnet = self.network_with_subnet("10.0.0.0/29")
        self.hold(network, subnet, "10.0.0.3")
        self.assertRaises(IpAddressAlreadyAllocated, self.hold, network, subnet, "10.0.0.3")
        # Outside the allocation pools too (the gateway address, here).
        self.hold(network, subnet, "10.0.0.1")
        self.assertRaises(IpAddressAlreadyAllocated, self.hold, network, subnet, "10.0.0.1")

    def test_an_id_is_given_once(self) -> None:
        network = _network()
        self.add(network)
        with self.assertRaises(Conflict) as caught:
            self.add(_network(id=network.id, name="another"))
        self.assertEqual(network.id, caught.exception.resource_id)
        self.assertEqual("n", self.run_unit(lambda tx: tx.network(network.id)).name)  # type: ignore[union-attr]

    def test_one_topology_record_per_project(self) -> None:
        store = self.storage.topology_store()
        self.assertTrue(store.create(TopologyRecord(project_id="p", status=TopologyStatus.BUILDING, owner="a")))
        self.assertFalse(store.create(TopologyRecord(project_id="p", status=TopologyStatus.BUILDING, owner="b")))
        self.assertEqual("a", store.get("p").owner)  # type: ignore[union-attr]

    def test_one_floating_ip_per_fixed_address_and_network(self) -> None:
        public, public_subnet = self.network_with_subnet("203.0.113.0/29")
        network, subnet = self.network_with_subnet("10.0.0.0/29")
        target = self.hold(network, subnet)
        fixed = target.fixed_ips[0].ip_address

        def floating(**changes: Any) -> FloatingIP:
            floatingip_id = _id()
            self.hold(public, public_subnet, device_id=floatingip_id, device_owner="network:floatingip")
            values: dict[str, Any] = {
                "id": floatingip_id,
                "project_id": "p",
                "floating_network_id": public.id,
                "floating_ip_address": netaddr.IPAddress("203.0.113.2"),
                "port_id": target.id,
                "fixed_ip_address": fixed,
                "router_id": None,
                "status": "ACTIVE",
            }
            values.update(changes)
            return FloatingIP(**values)

        self.add(floating())
        self.assertRaises(Conflict, self.add, floating())

    # Free addresses

    def test_addresses_come_lowest_first_until_none_is_free(self) -> None:
        _, subnet = self.network_with_subnet("10.0.0.0/29")  # pool .2 - .6
        taken = [str(self.take(subnet)) for _ in range(5)]
        self.assertEqual(["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"], taken)
        self.assertEqual(0, self.run_unit(lambda tx: tx.count_free_addresses(subnet)))
        self.assertRaises(IpAddressExhausted, self.take, subnet)

    def test_a_given_back_address_is_free_again(self) -> None:
        _, subnet = self.network_with_subnet("10.0.0.0/29")
        for _ in range(3):
            self.take(subnet)
        self.run_unit(lambda tx: tx.give_back_address(subnet, netaddr.IPAddress("10.0.0.3")))
        self.assertEqual(3, self.run_unit(lambda tx: tx.count_free_addresses(subnet)))
        self.assertEqual(netaddr.IPAddress("10.0.0.3"), self.take(subnet))

    def test_new_allocation_pools_keep_the_held_addresses_taken(self) -> None:
        network, subnet = self.network_with_subnet("10.0.0.0/28")
        self.hold(network, subnet, "10.0.0.5")
        wider = dataclasses.replace(subnet, allocation_pools=(netaddr.IPRange("10.0.0.4", "10.0.0.8"),))
        self.run_unit(lambda tx: tx.update_subnet(wider))
        self.assertEqual(4, self.run_unit(lambda tx: tx.count_free_addresses(wider)))
        self.assertEqual(netaddr.IPAddress("10.0.0.4"), self.take(wider))
        self.assertEqual(netaddr.IPAddress("10.0.0.6"), self.take(wider))

    # Free prefixes

    def test_prefixes_come_from_the_smallest_fitting_block_lowest_first(self) -> None:
        pool = _pool(("10.0.0.0/16",))
        self.add(pool)
        first = self.run_unit(lambda tx: tx.take_prefix(pool, 24))
        second = self.run_unit(lambda tx: tx.take_prefix(pool, 26))
        third = self.run_unit(lambda tx: tx.take_prefix(pool, 24))
        self.assertEqual(["10.0.0.0/24", "10.0.1.0/26", "10.0.2.0/24"], [str(first), str(second), str(third)])

    def test_a_pool_runs_out(self) -> None:
        pool = _pool(("10.0.0.0/23",))
        self.add(pool)
        self.run_unit(lambda tx: tx.take_prefix(pool, 24))
        self.run_unit(lambda tx: tx.take_prefix(pool, 24))
        self.assertFalse(self.run_unit(lambda tx: tx.has_room(pool, 24)))
        self.assertRaises(SubnetPoolExhausted, self.run_unit, lambda tx: tx.take_prefix(pool, 24))

    def test_a_taken_cidr_cannot_be_taken_again(self) -> None:
        pool = _pool(("10.0.0.0/16",))
        self.add(pool)
        cidr = netaddr.IPNetwork("10.0.4.0/24")
        self.assertEqual(cidr, self.run_unit(lambda tx: tx.take_cidr(pool, cidr)))
        self.assertRaises(Conflict, self.run_unit, lambda tx: tx.take_cidr(pool, cidr))
        self.assertRaises(Conflict, self.run_unit, lambda tx: tx.take_cidr(pool, netaddr.IPNetwork("10.0.0.0/16")))

    def test_given_back_prefixes_merge_with_their_buddies(self) -> None:
        pool = _pool(("10.0.0.0/23",))
        self.add(pool)
        taken = [self.run_unit(lambda tx: tx.take_prefix(pool, 24)) for _ in range(2)]
        for cidr in taken:
            self.give_back_prefix(pool, cidr)
        self.assertEqual(netaddr.IPNetwork("10.0.0.0/23"), self.run_unit(lambda tx: tx.take_prefix(pool, 23)))

    def give_back_prefix(self, pool: SubnetPool, cidr: netaddr.IPNetwork) -> None:
        self.run_unit(lambda tx: tx.give_back_prefix(pool, cidr))

    def test_a_grown_pool_has_room_in_its_new_prefixes(self) -> None:
        pool = _pool(("10.0.0.0/24",))
        self.add(pool)
        self.run_unit(lambda tx: tx.take_prefix(pool, 24))
        grown = dataclasses.replace(pool, prefixes=(netaddr.IPNetwork("10.0.0.0/23"),))
        self.run_unit(lambda tx: tx.update_subnetpool(grown))
        self.assertEqual(netaddr.IPNetwork("10.0.1.0/24"), self.run_unit(lambda tx: tx.take_prefix(grown, 24)))

    # Routers and floating IPs

    def test_a_router_reads_back_as_stored(self) -> None:
        router = Router(
            id=_id(), project_id="p", name="r", admin_state_up=True, status="ACTIVE", external_gateway_info=None
        )
        self.add(router)
        self.assertEqual(router, self.run_unit(lambda tx: tx.router(router.id)))
        self.run_unit(lambda tx: tx.remove_router(router.id))
        self.assertIsNone(self.run_unit(lambda tx: tx.router(router.id)))

    # Standard attributes

    def test_standard_attributes_read_back_as_stored_and_as_updated(self) -> None:
        """Every resource keeps description, tags, timestamps and revision as given, on add and on update."""
        stamped: dict[str, Any] = {
            "description": "ü" * 255,
            "tags": tuple(f"tag-{index:02d}" + "x" * 240 for index in range(50)),
            "created_at": "2026-12-01T17:00:00Z",
            "updated_at": "2026-12-01T17:00:00Z",
            "revision_number": 2**40,
        }
        network, subnet = self.network_with_subnet("10.9.0.0/29")
        network = dataclasses.replace(network, subnets=(subnet.id,), **stamped)
        pool = _pool(("10.8.0.0/16",), **stamped)
        port = self.hold(network, subnet, **stamped)
        router = Router(
            id=_id(), project_id="p", name="r", admin_state_up=True, status="ACTIVE", external_gateway_info=None
        )
        router = dataclasses.replace(router, **stamped)
        self.add(pool, router)
        self.run_unit(lambda tx: tx.update_network(network))
        subnet = dataclasses.replace(subnet, **stamped)
        self.run_unit(lambda tx: tx.update_subnet(subnet))
        readers: dict[str, Any] = {
            "network": network,
            "subnet": subnet,
            "subnetpool": pool,
            "port": port,
            "router": router,
        }
        for reader, stored in readers.items():
            read = self.run_unit(functools.partial(_read, reader, stored.id))
            self.assertEqual(stored, read, reader)
        updates = {"network": "update_network", "subnet": "update_subnet", "subnetpool": "update_subnetpool"}
        updates.update({"port": "update_port", "router": "update_router"})
        for reader, writer in updates.items():
            changed = dataclasses.replace(
                readers[reader],
                description="",
                tags=("only",),
                updated_at="2026-12-01T18:00:00Z",
                revision_number=2**40 + 1,
            )
            self.run_unit(functools.partial(_write, writer, changed))
            self.assertEqual(changed, self.run_unit(functools.partial(_read, reader, changed.id)), reader)
        listed = self.run_unit(lambda tx: tx.networks(ListQuery({"id": frozenset([network.id])})))
        self.assertEqual([("only",)], [found.tags for found in listed if found.id == network.id])

    # Sharing

    def test_a_shared_storage_sees_what_another_instance_committed(self) -> None:
        if StorageCapability.SHARED_BETWEEN_PROCESSES not in self.storage.capabilities:
            self.skipTest(f"{type(self.storage).__name__} does not declare SHARED_BETWEEN_PROCESSES")
        other = self.make_shared_storage(self.storage)
        self.addCleanup(other.close)
        network = _network(router_external=True, is_default=True)
        self.add(network)
        self.assertEqual(network, other.run(lambda tx: tx.network(network.id)))
        self.assertRaises(DefaultExternalNetworkExists, other.run, lambda tx: tx.add_network(_network(is_default=True)))
        store = other.topology_store()
        self.assertTrue(self.storage.topology_store().create(TopologyRecord("q", TopologyStatus.BUILDING)))
        self.assertFalse(store.create(TopologyRecord("q", TopologyStatus.BUILDING)))
