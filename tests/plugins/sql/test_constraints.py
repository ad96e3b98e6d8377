"""The rules the database itself enforces, checked by writing rows directly, past the plugins' own checks."""

from __future__ import annotations

from typing import Any

import fixtures
import sqlalchemy as sa
from oslo_db import exception as db_exc

from naas import admin_context
from naas.auto_allocate import TopologyRecord, TopologyStatus
from naas.exceptions import DefaultExternalNetworkExists
from naas_plugins.sql._rows import ALLOCATIONS, FLOATINGIPS, NETWORKS, POOLS, SUBNETS
from naas_plugins.sql.store import TOPOLOGIES

from .base import BackendTestCase


def _network(network_id: str, *, default: bool = False) -> dict[str, Any]:
    return {
        "id": network_id,
        "project_id": "p",
        "name": network_id,
        "admin_state_up": True,
        "shared": False,
        "router_external": default,
        "is_default": default,
        "default_marker": True if default else None,
        "mtu": 1500,
        "status": "ACTIVE",
        "created_at": 1,
    }


def _pool(pool_id: str, ip_version: int, *, default: bool) -> dict[str, Any]:
    return {
        "id": pool_id,
        "project_id": "p",
        "name": pool_id,
        "ip_version": ip_version,
        "prefixes": "10.0.0.0/8" if ip_version == 4 else "fd00::/8",
        "default_prefixlen": 24,
        "min_prefixlen": 8,
        "max_prefixlen": 32,
        "shared": True,
        "is_default": default,
        "default_marker": True if default else None,
        "created_at": 1,
    }


class TestConstraintsSQLite(BackendTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.core, self.l3 = self.make_sql_plugins()

    def insert(self, table: sa.Table, *rows: dict[str, Any]) -> None:
        """Insert the rows in one transaction of the plugins' database."""
        with self.core.database.writer() as connection:
            for row in rows:
                connection.execute(sa.insert(table), row)

    def test_a_second_default_external_network_row_is_refused(self) -> None:
        self.insert(NETWORKS, _network("first", default=True))
        error = self.assertRaises(db_exc.DBDuplicateEntry, self.insert, NETWORKS, _network("second", default=True))
        self.assertIn("default_marker", error.columns)

    def test_networks_that_are_not_the_default_do_not_collide(self) -> None:
        self.insert(NETWORKS, _network("first", default=True), _network("second"), _network("third"))
        with self.core.database.reader() as connection:
            self.assertEqual(3, connection.execute(sa.select(sa.func.count()).select_from(NETWORKS)).scalar())

    def test_the_plugin_reports_the_default_the_database_kept(self) -> None:
        """Even a default the plugin never saw (inserted behind its back) makes the next one a clash."""
        self.insert(NETWORKS, _network("not-seen-by-the-plugin", default=True))
        error = self.assertRaises(
            DefaultExternalNetworkExists,
            self.core.create_network,
            admin_context(),
            {"router:external": True, "is_default": True},
        )
        self.assertEqual("not-seen-by-the-plugin", error.existing_id)

    def test_one_default_subnet_pool_per_ip_version(self) -> None:
        self.insert(POOLS, _pool("v4", 4, default=True), _pool("v6", 6, default=True), _pool("other", 4, default=False))
        error = self.assertRaises(db_exc.DBDuplicateEntry, self.insert, POOLS, _pool("second-v4", 4, default=True))
        self.assertIn("default_marker", error.columns)

    def test_an_address_cannot_be_held_twice_in_a_subnet(self) -> None:
        network = self.core.create_network(admin_context(), {})
        subnet = self.core.create_subnet(admin_context(), {"network_id": network.id, "cidr": "10.0.0.0/24"})
        ports = [self.core.create_port(admin_context(), {"network_id": network.id, "fixed_ips": []}) for _ in range(2)]
        self.insert(
            ALLOCATIONS, {"subnet_id": subnet.id, "ip_address": "10.0.0.7", "port_id": ports[0].id, "position": 0}
        )
        self.assertRaises(
            db_exc.DBDuplicateEntry,
            self.insert,
            ALLOCATIONS,
            {"subnet_id": subnet.id, "ip_address": "10.0.0.7", "port_id": ports[1].id, "position": 0},
        )

    def test_a_prefix_cannot_be_allocated_twice_from_a_pool(self) -> None:
        pool = self.core.create_subnetpool(admin_context(), {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 24})
        network = self.core.create_network(admin_context(), {})
        subnet = self.core.create_subnet(admin_context(), {"network_id": network.id, "subnetpool_id": pool.id})
        other = self.core.create_network(admin_context(), {})
        row = {
            "id": "copy",
            "project_id": "p",
            "network_id": other.id,
            "name": "",
            "ip_version": 4,
            "cidr": str(subnet.cidr),
            "allocation_pools": "",
            "enable_dhcp": True,
            "subnetpool_id": pool.id,
            "created_at": 1,
        }
        error = self.assertRaises(db_exc.DBDuplicateEntry, self.insert, SUBNETS, row)
        self.assertIn("cidr", error.columns)

    def test_one_topology_record_per_project(self) -> None:
        store = self.core.get_topology_store()
        record = TopologyRecord(project_id="p", status=TopologyStatus.BUILDING, owner="me")
        self.assertTrue(store.create(record))
        self.assertFalse(store.create(TopologyRecord(project_id="p", status=TopologyStatus.BUILDING, owner="you")))
        self.assertEqual("me", store.get("p").owner)  # type: ignore[union-attr]
        row = {
            "project_id": "p",
            "status": "ready",
            "lease_expires_at": 0.0,
            "subnet_ids": "",
            "version": 1,
        }
        self.assertRaises(db_exc.DBDuplicateEntry, self.insert, TOPOLOGIES, row)

    def test_a_network_with_subnets_cannot_be_deleted_from_under_them(self) -> None:
        network = self.core.create_network(admin_context(), {})
        self.core.create_subnet(admin_context(), {"network_id": network.id, "cidr": "10.0.0.0/24"})

        def delete() -> None:
            with self.core.database.writer() as connection:
                connection.execute(sa.delete(NETWORKS).where(NETWORKS.c.id == network.id))

        self.assertRaises(db_exc.DBReferenceError, delete)

    def test_a_fixed_address_maps_to_one_floating_ip_per_network(self) -> None:
        """The clash two concurrent associations would hit (the retry then finds the other's floating IP)."""
        public = self.core.create_network(admin_context(), {"router:external": True})
        self.core.create_subnet(admin_context(), {"network_id": public.id, "cidr": "203.0.113.0/24"})
        network = self.core.create_network(admin_context(), {})
        self.core.create_subnet(admin_context(), {"network_id": network.id, "cidr": "10.0.0.0/24"})
        port = self.core.create_port(admin_context(), {"network_id": network.id})
        fips = [self.l3.create_floatingip(admin_context(), {"floating_network_id": public.id}) for _ in range(2)]
        mapping = {"fixed_port_id": port.id, "fixed_ip_address": str(port.fixed_ips[0].ip_address)}

        def map_both() -> None:
            with self.core.database.writer() as connection:
                for fip in fips:
                    connection.execute(sa.update(FLOATINGIPS).where(FLOATINGIPS.c.id == fip.id).values(**mapping))

        self.assertRaises(db_exc.DBDuplicateEntry, map_both)

    def test_a_generated_mac_address_that_is_taken_is_drawn_again(self) -> None:
        network = self.core.create_network(admin_context(), {"router:external": True})
        self.core.create_subnet(admin_context(), {"network_id": network.id, "cidr": "203.0.113.0/24"})
        draws = iter(["fa:16:3e:00:00:01", "fa:16:3e:00:00:01", "fa:16:3e:00:00:01", "fa:16:3e:00:00:02"])
        self.useFixture(fixtures.MockPatch("naas_plugins.sql.storage._new_mac", lambda: next(draws)))
        first = self.core.create_port(admin_context(), {"network_id": network.id})
        # A router's gateway port, made inside the L3 plugin's transaction, draws until it finds a free MAC.
        router = self.l3.create_router(admin_context(), {"external_gateway_info": {"network_id": network.id}})
        gateway = self.core.get_ports(admin_context(), {"device_id": router.id})
        self.assertEqual(["fa:16:3e:00:00:01", "fa:16:3e:00:00:02"], [first.mac_address, gateway[0].mac_address])


class TestConstraintsPostgreSQL(TestConstraintsSQLite):
    backend = "postgresql"


class TestConstraintsMySQL(TestConstraintsSQLite):
    backend = "mysql"
