"""How many SQL statements calls send: the SPEC's budget, and costs that do not grow with fullness.

Statements are counted with SQLAlchemy's ``before_cursor_execute`` event (BEGIN
and COMMIT are not statements there, on any backend). Counts, unlike times, do
not depend on the machine, so tests can hold them to a number.
"""

from __future__ import annotations

import netaddr

from naas import RequestContext, admin_context
from naas.auto_allocate import AutoAllocator

from .base import BackendTestCase, StatementCounter

# SPEC, "Performance targets": building one dual-stack topology.
TOPOLOGY_BUDGET = 40


class TestStatementCountsSQLite(BackendTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.core, self.l3 = self.make_sql_plugins()
        self.admin = admin_context()
        self.counter = StatementCounter(self.core.database.engine)
        self.addCleanup(self.counter.close)

    def counted(self, call: object, *args: object, **kwargs: object) -> int:
        self.counter.reset()
        call(*args, **kwargs)  # type: ignore[operator]
        return self.counter.count

    def deploy(self, external_cidrs: tuple[str, ...] = ("100.64.0.0/16",)) -> None:
        public = self.core.create_network(self.admin, {"name": "public", "router:external": True, "is_default": True})
        for cidr in external_cidrs:
            self.core.create_subnet(self.admin, {"network_id": public.id, "cidr": cidr})
        for prefix, prefixlen in (("10.0.0.0/8", 24), ("fd00::/32", 64)):
            self.core.create_subnetpool(
                self.admin,
                {"prefixes": [prefix], "default_prefixlen": prefixlen, "shared": True, "is_default": True},
            )

    def test_a_dual_stack_topology_is_built_within_the_budget(self) -> None:
        self.deploy()
        allocator = AutoAllocator(self.core, self.l3)
        counts = [
            self.counted(allocator.get_auto_allocated_topology, RequestContext(f"project-{index}"), None)
            for index in range(5)
        ]
        self.assertLessEqual(max(counts), TOPOLOGY_BUDGET, counts)

    def test_a_dual_stack_gateway_stays_within_the_budget(self) -> None:
        """An external network with IPv4 and IPv6 subnets: the gateway port takes one address of each."""
        self.deploy(("100.64.0.0/16", "2001:db8::/64"))
        allocator = AutoAllocator(self.core, self.l3)
        counts = [
            self.counted(allocator.get_auto_allocated_topology, RequestContext(f"project-{index}"), None)
            for index in range(3)
        ]
        self.assertLessEqual(max(counts), TOPOLOGY_BUDGET, counts)

    def test_an_existing_topology_is_returned_with_a_few_reads(self) -> None:
        self.deploy()
        allocator = AutoAllocator(self.core, self.l3)
        allocator.get_auto_allocated_topology(RequestContext("project-a"), None)
        count = self.counted(allocator.get_auto_allocated_topology, RequestContext("project-a"), None)
        self.assertLessEqual(count, 6)

    def test_a_port_address_costs_the_same_in_a_full_subnet_as_in_an_empty_one(self) -> None:
        empty = self.core.create_network(self.admin, {})
        self.core.create_subnet(self.admin, {"network_id": empty.id, "cidr": "10.1.0.0/24"})
        full = self.core.create_network(self.admin, {})
        self.core.create_subnet(self.admin, {"network_id": full.id, "cidr": "10.2.0.0/24"})
        for _ in range(225):  # 90 % of the subnet's 253 addresses
            self.core.create_port(self.admin, {"network_id": full.id})
        in_empty = self.counted(self.core.create_port, self.admin, {"network_id": empty.id})
        in_full = self.counted(self.core.create_port, self.admin, {"network_id": full.id})
        self.assertEqual(in_empty, in_full)
        self.assertLessEqual(in_full, 5)

    def test_a_prefix_costs_the_same_from_a_busy_pool_as_from_an_empty_one(self) -> None:
        pools = [
            self.core.create_subnetpool(self.admin, {"prefixes": ["10.0.0.0/8"], "default_prefixlen": 24}),
            self.core.create_subnetpool(self.admin, {"prefixes": ["11.0.0.0/8"], "default_prefixlen": 24}),
        ]
        busy = pools[1]
        carrier = self.core.create_network(self.admin, {})
        for _ in range(200):
            self.core.create_subnet(self.admin, {"network_id": carrier.id, "subnetpool_id": busy.id})
        # Free every other one: the pool is fragmented, with many free /24 blocks.
        for subnet in self.core.get_subnets(self.admin, {"subnetpool_id": busy.id})[::2]:
            self.core.delete_subnet(self.admin, subnet.id)

        def carve(pool_id: str) -> int:
            network = self.core.create_network(self.admin, {})
            return self.counted(
                self.core.create_subnet, self.admin, {"network_id": network.id, "subnetpool_id": pool_id}
            )

        carve(pools[0].id)  # the empty pool's first carve splits its /8; compare the steady state
        self.assertLessEqual(carve(busy.id), carve(pools[0].id) + 1)

    def test_a_port_on_the_external_network_costs_the_same_whatever_else_is_stored(self) -> None:
        network = self.core.create_network(self.admin, {})
        self.core.create_subnet(self.admin, {"network_id": network.id, "cidr": "10.0.0.0/16"})
        first = self.counted(self.core.create_port, self.admin, {"network_id": network.id})
        for index in range(50):
            other = self.core.create_network(self.admin, {"name": f"other-{index}"})
            self.core.create_subnet(self.admin, {"network_id": other.id, "cidr": "10.1.0.0/24"})
        self.assertEqual(first, self.counted(self.core.create_port, self.admin, {"network_id": network.id}))

    def test_counting_free_space_reads_the_free_tables_only(self) -> None:
        pool = self.core.create_subnetpool(self.admin, {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 24})
        network = self.core.create_network(self.admin, {})
        subnet = self.core.create_subnet(self.admin, {"network_id": network.id, "subnetpool_id": pool.id})
        self.assertEqual(2, self.counted(self.core.count_free_addresses, self.admin, subnet.id))
        self.assertEqual(2, self.counted(self.core.check_subnetpool_room, self.admin, pool.id, 24))
        self.assertEqual(253, self.core.count_free_addresses(self.admin, subnet.id))
        self.assertEqual(netaddr.IPNetwork("10.0.0.0/24"), subnet.cidr)


class TestStatementCountsPostgreSQL(TestStatementCountsSQLite):
    backend = "postgresql"


class TestStatementCountsMySQL(TestStatementCountsSQLite):
    backend = "mysql"
