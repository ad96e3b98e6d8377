"""Concurrent use of one database: threads through several plugin instances (as separate processes would
use it, each with its own engine), and real processes.

On SQLite writers take turns (``BEGIN IMMEDIATE``); on PostgreSQL and MySQL the
rows being carved are locked and every write is a compare-and-swap. Either way
no address or prefix is handed out twice, no request fails, and the free-space
tables end up exactly as :mod:`naas.ipam` computes them from what is allocated.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import fixtures
import netaddr

from naas import RequestContext, admin_context
from naas.auto_allocate import AutoAllocator
from naas_plugins.sql import SqlCorePlugin, _ipam

from .base import BackendTestCase
from .consistency import free_space_problems

T = TypeVar("T")

THREADS = 16


def _in_threads(count: int, target: Callable[[int], T]) -> tuple[dict[int, T], dict[int, BaseException]]:
    barrier = threading.Barrier(count)
    results: dict[int, T] = {}
    errors: dict[int, BaseException] = {}

    def run(index: int) -> None:
        try:
            barrier.wait(30)
            results[index] = target(index)
        except BaseException as error:
            errors[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results, errors


def _ports_in_a_process(url: str, network_id: str, count: int) -> list[str]:
    """Run in a child process: its own plugin, its own engine, the same database."""
    core = SqlCorePlugin(url, auto_migrate=False)
    try:
        ports = [core.create_port(admin_context(), {"network_id": network_id}) for _ in range(count)]
        return [str(fixed.ip_address) for port in ports for fixed in port.fixed_ips]
    finally:
        core.close()


class TestConcurrencySQLite(BackendTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.url = self.fresh_url()
        # Two plugin instances on one database: two engines, as two processes would have.
        self.cores = [self.make_sql_plugins(self.url)[0] for _ in range(2)]
        self.core = self.cores[0]
        self.admin = admin_context()

    def test_ports_from_many_threads_get_distinct_addresses(self) -> None:
        network = self.core.create_network(self.admin, {})
        subnet = self.core.create_subnet(self.admin, {"network_id": network.id, "cidr": "10.10.0.0/24"})

        def create(index: int) -> list[netaddr.IPAddress]:
            core = self.cores[index % 2]
            ports = [core.create_port(self.admin, {"network_id": network.id}) for _ in range(5)]
            return [fixed.ip_address for port in ports for fixed in port.fixed_ips]

        results, errors = _in_threads(THREADS, create)
        self.assertEqual({}, errors)
        addresses = [address for found in results.values() for address in found]
        self.assertEqual(THREADS * 5, len(set(addresses)), sorted(addresses))
        # Lowest first, whoever asked: the first 80 addresses after the gateway.
        self.assertEqual({netaddr.IPAddress(f"10.10.0.{n}") for n in range(2, 82)}, set(addresses))
        self.assertEqual(253 - THREADS * 5, self.core.count_free_addresses(self.admin, subnet.id))
        self.assertEqual([], free_space_problems(self.core))

    def test_ports_and_releases_from_many_threads_keep_the_free_ranges_exact(self) -> None:
        network = self.core.create_network(self.admin, {})
        self.core.create_subnet(self.admin, {"network_id": network.id, "cidr": "10.10.0.0/26"})

        def churn(index: int) -> None:
            core = self.cores[index % 2]
            chance = random.Random(index)
            mine = []
            for _ in range(8):
                if mine and chance.random() < 0.4:
                    core.delete_port(self.admin, mine.pop(chance.randrange(len(mine))))
                else:
                    mine.append(core.create_port(self.admin, {"network_id": network.id}).id)

        _, errors = _in_threads(8, churn)
        self.assertEqual({}, errors)
        self.assertEqual([], free_space_problems(self.core))

    def test_one_address_asked_for_by_many_threads_goes_to_one(self) -> None:
        network = self.core.create_network(self.admin, {})
        self.core.create_subnet(self.admin, {"network_id": network.id, "cidr": "10.10.0.0/24"})

        def create(index: int) -> Any:
            body = {"network_id": network.id, "fixed_ips": [{"ip_address": "10.10.0.200"}]}
            return self.cores[index % 2].create_port(self.admin, body)

        results, errors = _in_threads(THREADS, create)
        self.assertEqual(1, len(results), errors)
        self.assertEqual({"IpAddressAlreadyAllocated"}, {type(error).__name__ for error in errors.values()})

    def test_subnets_from_many_threads_never_overlap(self) -> None:
        pool = self.core.create_subnetpool(
            self.admin, {"prefixes": ["10.0.0.0/16"], "min_prefixlen": 16, "default_prefixlen": 24}
        )

        def carve(index: int) -> list[netaddr.IPNetwork]:
            core = self.cores[index % 2]
            network = core.create_network(self.admin, {})
            cidrs = []
            for prefixlen in (24, 26, 28, 25):
                body = {"network_id": network.id, "subnetpool_id": pool.id, "prefixlen": prefixlen}
                cidrs.append(core.create_subnet(self.admin, body).cidr)
            return cidrs

        results, errors = _in_threads(THREADS, carve)
        self.assertEqual({}, errors)
        cidrs = [cidr for found in results.values() for cidr in found]
        self.assertEqual(sum(cidr.size for cidr in cidrs), netaddr.IPSet(cidrs).size, "prefixes overlap")
        self.assertEqual([], free_space_problems(self.core))

        # Give half of them back at once: the pool's free blocks merge back exactly.
        subnets = self.core.get_subnets(self.admin, {"subnetpool_id": pool.id})

        def release(index: int) -> None:
            for subnet in subnets[index :: THREADS * 2]:
                self.cores[index % 2].delete_subnet(self.admin, subnet.id)

        _, errors = _in_threads(THREADS, release)
        self.assertEqual({}, errors)
        self.assertEqual([], free_space_problems(self.core))

    def slow_carves(self) -> None:
        """Open a race window in every carve: the block is read, not yet carved."""
        carve = _ipam._carve

        def slow_carve(*args: Any, **kwargs: Any) -> None:
            time.sleep(0.05)
            carve(*args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch("naas_plugins.sql._ipam._carve", slow_carve))

    def test_concurrent_subnets_from_a_pool_are_lowest_first(self) -> None:
        """Issue 10: on PostgreSQL, allocations racing for one block took larger blocks and fragmented the pool."""
        pool = self.core.create_subnetpool(self.admin, {"prefixes": ["10.100.0.0/16"], "default_prefixlen": 24})
        networks = [self.core.create_network(self.admin, {}).id for _ in range(8)]
        self.slow_carves()

        def ask(index: int) -> netaddr.IPNetwork:
            body = {"network_id": networks[index], "subnetpool_id": pool.id, "prefixlen": 24}
            return self.cores[index % 2].create_subnet(self.admin, body).cidr

        results, errors = _in_threads(8, ask)
        self.assertEqual({}, errors)
        self.assertEqual(
            [netaddr.IPNetwork(f"10.100.{n}.0/24") for n in range(8)], sorted(results.values()), "not lowest first"
        )
        half = self.core.create_subnet(
            self.admin, {"network_id": networks[0], "subnetpool_id": pool.id, "prefixlen": 17}
        )
        self.assertEqual(netaddr.IPNetwork("10.100.128.0/17"), half.cidr)
        self.assertEqual([], free_space_problems(self.core))

    def test_one_project_asking_through_several_plugin_sets_gets_one_topology(self) -> None:
        public = self.core.create_network(self.admin, {"router:external": True, "is_default": True})
        self.core.create_subnet(self.admin, {"network_id": public.id, "cidr": "203.0.113.0/24"})
        for prefix, prefixlen in (("10.128.0.0/16", 26), ("fd00:128::/48", 64)):
            self.core.create_subnetpool(
                self.admin,
                {"prefixes": [prefix], "default_prefixlen": prefixlen, "shared": True, "is_default": True},
            )
        allocators = []
        for _ in range(2):
            core, l3 = self.make_sql_plugins(self.url)
            allocators.append(AutoAllocator(core, l3))

        def ask(index: int) -> str:
            return str(allocators[index % 2].get_auto_allocated_topology(RequestContext("project-a"), None)["id"])

        results, errors = _in_threads(8, ask)
        self.assertEqual({}, errors)
        self.assertEqual(1, len(set(results.values())))
        self.assertEqual(1, len(self.core.get_networks(self.admin, {"tenant_id": "project-a"})))
        self.assertEqual(2, len(self.core.get_subnets(self.admin, {"tenant_id": "project-a"})))

    def test_processes_sharing_the_database_get_distinct_addresses(self) -> None:
        network = self.core.create_network(self.admin, {})
        self.core.create_subnet(self.admin, {"network_id": network.id, "cidr": "10.10.0.0/24"})
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(3, mp_context=context) as processes:
            futures = [processes.submit(_ports_in_a_process, self.url, network.id, 10) for _ in range(3)]
            addresses = [address for future in futures for address in future.result(timeout=120)]
        self.assertEqual(30, len(set(addresses)), sorted(addresses))
        self.assertEqual([], free_space_problems(self.core))


class TestConcurrencyPostgreSQL(TestConcurrencySQLite):
    backend = "postgresql"


class TestConcurrencyMySQL(TestConcurrencySQLite):
    backend = "mysql"
