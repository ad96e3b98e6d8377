"""The storage conformance suite over the JSON-file storage, and what a file adds: durability and sharing."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import unittest

import netaddr
from naas_example_driver import JsonFileStorage

from naas.auto_allocate.store import TopologyRecord, TopologyStatus
from naas.exceptions import DefaultExternalNetworkExists
from naas.resources import Network, Subnet
from naas.storage import Storage, Transaction
from naas.testing.storage import StorageConformance


class JsonFileStorageConformance(StorageConformance, unittest.TestCase):
    def make_storage(self) -> Storage:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        return JsonFileStorage(os.path.join(directory.name, "state.json"))

    def make_shared_storage(self, storage: Storage) -> Storage:
        assert isinstance(storage, JsonFileStorage)
        return JsonFileStorage(storage.path)


def network(**changes: object) -> Network:
    values: dict[str, object] = {
        "id": "net-1",
        "project_id": "p",
        "name": "n",
        "admin_state_up": True,
        "shared": False,
        "router_external": True,
        "is_default": False,
        "mtu": 1500,
        "status": "ACTIVE",
        "subnets": (),
    }
    values.update(changes)
    return Network(**values)  # type: ignore[arg-type]


def subnet_of(owner: Network) -> Subnet:
    return Subnet(
        id="subnet-1",
        project_id=owner.project_id,
        network_id=owner.id,
        name="",
        ip_version=6,
        cidr=netaddr.IPNetwork("2001:db8::/64"),
        gateway_ip=netaddr.IPAddress("2001:db8::1"),
        allocation_pools=(netaddr.IPRange("2001:db8::2", "2001:db8::ffff"),),
        subnetpool_id=None,
        enable_dhcp=True,
    )


class TestTheFile(unittest.TestCase):
    def setUp(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.directory = directory.name
        self.path = os.path.join(directory.name, "state.json")
        self.storage = JsonFileStorage(self.path)

    def test_what_was_committed_is_read_back_by_a_new_instance(self) -> None:
        stored = network()
        self.storage.run(lambda tx: tx.add_network(stored))
        self.storage.run(lambda tx: tx.add_subnet(subnet_of(stored)))
        taken = self.storage.run(lambda tx: tx.take_address(subnet_of(stored), None))

        reopened = JsonFileStorage(self.path)

        self.assertEqual(netaddr.IPAddress("2001:db8::2"), taken)
        self.assertEqual(network(subnets=("subnet-1",)), reopened.run(lambda tx: tx.network("net-1")))
        self.assertEqual(subnet_of(stored), reopened.run(lambda tx: tx.subnet("subnet-1")))
        self.assertEqual(
            netaddr.IPAddress("2001:db8::3"), reopened.run(lambda tx: tx.take_address(subnet_of(stored), None))
        )
        with open(self.path) as state_file:
            self.assertEqual(1, json.load(state_file)["format"])

    def test_standard_attributes_are_read_back_by_a_new_instance(self) -> None:
        stored = network(
            description="edge",
            tags=("red", "blue"),
            created_at="2026-12-01T17:00:00Z",
            updated_at="2026-12-01T17:05:00Z",
            revision_number=7,
        )
        self.storage.run(lambda tx: tx.add_network(stored))

        reopened = JsonFileStorage(self.path).run(lambda tx: tx.network("net-1"))

        self.assertEqual(stored, reopened)
        assert reopened is not None
        self.assertEqual(("blue", "red"), reopened.tags)

    def test_a_document_from_before_the_standard_attributes_still_loads(self) -> None:
        self.storage.run(lambda tx: tx.add_network(network()))
        with open(self.path) as state_file:
            document = json.load(state_file)
        for name in ("description", "tags", "created_at", "updated_at", "revision_number"):
            for record in document["networks"].values():
                del record[name]
        with open(self.path, "w") as state_file:
            json.dump(document, state_file)

        reopened = JsonFileStorage(self.path).run(lambda tx: tx.network("net-1"))

        self.assertEqual(network(), reopened)

    def test_a_refused_write_leaves_the_file_as_it_was(self) -> None:
        self.storage.run(lambda tx: tx.add_network(network(is_default=True)))
        with open(self.path, "rb") as state_file:
            before = state_file.read()

        def work(tx: Transaction) -> None:
            tx.add_network(network(id="net-2", is_default=False))
            tx.add_network(network(id="net-3", is_default=True))

        self.assertRaises(DefaultExternalNetworkExists, self.storage.run, work)

        with open(self.path, "rb") as state_file:
            self.assertEqual(before, state_file.read())
        self.assertEqual(["state.json", "state.json.lock"], sorted(os.listdir(self.directory)))

    def test_a_file_of_another_format_is_refused_by_name(self) -> None:
        with open(self.path, "w") as state_file:
            json.dump({"format": 2}, state_file)

        with self.assertRaises(ValueError) as caught:
            self.storage.run(lambda tx: tx.network("net-1"), write=False)

        self.assertEqual(f"{self.path} holds format 2; this storage reads 1", str(caught.exception))

    def test_a_read_only_unit_that_writes_saves_nothing(self) -> None:
        with self.assertRaises(RuntimeError):
            self.storage.run(lambda tx: tx.add_network(network()), write=False)

        self.assertFalse(os.path.exists(self.path))
        self.assertIsNone(self.storage.run(lambda tx: tx.network("net-1")))

    def test_a_unit_opened_inside_another_on_the_same_thread_joins_it(self) -> None:
        def outer(tx: Transaction) -> Network | None:
            tx.add_network(network())
            return self.storage.run(lambda inner: inner.network("net-1"), write=False)

        self.assertEqual(network(), self.storage.run(outer))

    def test_a_waiter_sees_another_instance_s_change_to_a_topology_record(self) -> None:
        store = self.storage.topology_store()
        claimed = TopologyRecord("project", TopologyStatus.BUILDING)
        self.assertTrue(store.create(claimed))
        other = JsonFileStorage(self.path).topology_store()

        def finish() -> None:
            time.sleep(0.1)
            other.replace(claimed, TopologyRecord("project", TopologyStatus.READY, network_id="net-1"))

        finisher = threading.Thread(target=finish)
        finisher.start()
        store.wait_for_change("project", claimed.version, timeout=30)
        seen = store.get("project")
        finisher.join()

        self.assertEqual(TopologyRecord("project", TopologyStatus.READY, network_id="net-1", version=2), seen)
        self.assertFalse(other.replace(claimed, claimed), "a replace from a stale version must lose")
