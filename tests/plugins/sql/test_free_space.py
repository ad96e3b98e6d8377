"""The free-space tables against naas.ipam: after any sequence of allocations and releases they hold
exactly the free ranges and blocks that FreeAddresses and FreePrefixes compute from what is allocated."""

from __future__ import annotations

import contextlib
import random

import netaddr

from naas import admin_context
from naas.exceptions import IpAddressAlreadyAllocated, IpAddressExhausted, SubnetPoolExhausted

from .base import BackendTestCase
from .consistency import free_space_problems


class TestFreeSpaceSQLite(BackendTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.core, _ = self.make_sql_plugins()
        self.admin = admin_context()

    def test_addresses_taken_and_given_back_in_any_order(self) -> None:
        network = self.core.create_network(self.admin, {})
        subnet = self.core.create_subnet(
            self.admin,
            {
                "network_id": network.id,
                "cidr": "10.0.0.0/26",
                "allocation_pools": [
                    {"start": "10.0.0.2", "end": "10.0.0.20"},
                    {"start": "10.0.0.30", "end": "10.0.0.60"},
                ],
            },
        )
        chance = random.Random(7)
        ports = []
        for step in range(120):
            if ports and chance.random() < 0.45:
                self.core.delete_port(self.admin, ports.pop(chance.randrange(len(ports))))
                continue
            body: dict[str, object] = {"network_id": network.id}
            if step % 5 == 0:
                # A specific address, inside or outside the pools.
                body["fixed_ips"] = [{"ip_address": str(subnet.cidr[chance.randrange(1, 63)])}]
            # A taken address or a full subnet is refused, and that is fine.
            with contextlib.suppress(IpAddressExhausted, IpAddressAlreadyAllocated):
                ports.append(self.core.create_port(self.admin, body).id)
        self.assertEqual([], free_space_problems(self.core))

    def test_allocation_pools_changed_under_allocated_addresses(self) -> None:
        network = self.core.create_network(self.admin, {})
        subnet = self.core.create_subnet(self.admin, {"network_id": network.id, "cidr": "10.0.0.0/24"})
        for _ in range(5):
            self.core.create_port(self.admin, {"network_id": network.id})
        self.core.update_subnet(
            self.admin, subnet.id, {"allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.100"}]}
        )
        self.assertEqual([], free_space_problems(self.core))
        self.assertEqual(99 - 5, self.core.count_free_addresses(self.admin, subnet.id))

    def test_prefixes_carved_and_given_back_in_any_order(self) -> None:
        pool = self.core.create_subnetpool(
            self.admin, {"prefixes": ["10.0.0.0/20", "192.168.0.0/24"], "min_prefixlen": 20, "default_prefixlen": 24}
        )
        network = self.core.create_network(self.admin, {})
        chance = random.Random(11)
        subnets = []
        for _ in range(150):
            if subnets and chance.random() < 0.4:
                self.core.delete_subnet(self.admin, subnets.pop(chance.randrange(len(subnets))))
                continue
            prefixlen = chance.choice((22, 24, 25, 26, 28))
            try:
                body = {"network_id": network.id, "subnetpool_id": pool.id, "prefixlen": prefixlen}
                subnets.append(self.core.create_subnet(self.admin, body).id)
            except SubnetPoolExhausted:
                pass
        self.assertEqual([], free_space_problems(self.core))

    def test_a_grown_pool_merges_its_new_space_with_the_free_blocks(self) -> None:
        pool = self.core.create_subnetpool(
            self.admin, {"prefixes": ["10.0.0.0/24"], "min_prefixlen": 22, "default_prefixlen": 24}
        )
        self.core.update_subnetpool(self.admin, pool.id, {"prefixes": ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/23"]})
        self.assertEqual([], free_space_problems(self.core))
        network = self.core.create_network(self.admin, {})
        body = {"network_id": network.id, "subnetpool_id": pool.id, "prefixlen": 22}
        self.assertEqual(netaddr.IPNetwork("10.0.0.0/22"), self.core.create_subnet(self.admin, body).cidr)


class TestFreeSpacePostgreSQL(TestFreeSpaceSQLite):
    backend = "postgresql"


class TestFreeSpaceMySQL(TestFreeSpaceSQLite):
    backend = "mysql"
