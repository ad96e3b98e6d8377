"""Projects whose ids differ only in case, trailing spaces or accents are strangers on every backend.

The databases are created with the server's defaults (on MariaDB ``utf8mb4_general_ci``,
which compares ``alice``, ``ALICE``, ``alice `` and ``alicé`` equal): the schema's own
collation and the Python visibility check after each query keep them apart.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import testtools

from naas import AutoAllocator, RequestContext, admin_context
from naas.exceptions import NotFound
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin, migration
from naas_plugins.sql.testing import require_backend, temporary_database

from .base import BackendTestCase

OWNER = "alice"
LOOKALIKES = ("ALICE", "Alice", "alice ", "alicé")


def _public_network(core: SqlCorePlugin) -> str:
    admin = admin_context()
    public = core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
    core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24"})
    core.create_subnetpool(
        admin, {"prefixes": ["10.0.0.0/8"], "default_prefixlen": 26, "shared": True, "is_default": True}
    )
    return public.id


def _owned_resources(core: SqlCorePlugin, l3: SqlL3Plugin, public_id: str) -> dict[str, str]:
    """One of each resource, owned by OWNER: kind -> id."""
    owner = RequestContext(OWNER)
    network = core.create_network(owner, {"name": "private"})
    subnet = core.create_subnet(owner, {"network_id": network.id, "cidr": "192.168.7.0/24"})
    pool = core.create_subnetpool(owner, {"name": "own", "prefixes": ["172.20.0.0/16"], "default_prefixlen": 24})
    port = core.create_port(owner, {"network_id": network.id, "name": "vm"})
    router = l3.create_router(owner, {"name": "r", "external_gateway_info": {"network_id": public_id}})
    l3.add_router_interface(owner, router.id, {"subnet_id": subnet.id})
    floatingip = l3.create_floatingip(owner, {"floating_network_id": public_id, "port_id": port.id})
    return {
        "network": network.id,
        "subnet": subnet.id,
        "subnetpool": pool.id,
        "port": port.id,
        "router": router.id,
        "floatingip": floatingip.id,
    }


def _listings(core: SqlCorePlugin, l3: SqlL3Plugin, context: RequestContext) -> dict[str, set[str]]:
    return {
        "network": {item.id for item in core.get_networks(context)},
        "subnet": {item.id for item in core.get_subnets(context)},
        "subnetpool": {item.id for item in core.get_subnetpools(context)},
        "port": {item.id for item in core.get_ports(context)},
        "router": {item.id for item in l3.get_routers(context)},
        "floatingip": {item.id for item in l3.get_floatingips(context)},
    }


def _getters(core: SqlCorePlugin, l3: SqlL3Plugin) -> dict[str, Any]:
    return {
        "network": core.get_network,
        "subnet": core.get_subnet,
        "subnetpool": core.get_subnetpool,
        "port": core.get_port,
        "router": l3.get_router,
        "floatingip": l3.get_floatingip,
    }


class LookalikeChecks(testtools.TestCase):
    """Checks shared by the migrated and the unmigrated schema."""

    def assert_lookalikes_see_nothing(self, core: SqlCorePlugin, l3: SqlL3Plugin, owned: dict[str, str]) -> None:
        owner_sees = _listings(core, l3, RequestContext(OWNER))
        for kind, resource_id in owned.items():
            self.assertIn(resource_id, owner_sees[kind], kind)
        for name in LOOKALIKES:
            stranger = RequestContext(name)
            seen = _listings(core, l3, stranger)
            for kind, resource_id in owned.items():
                self.assertNotIn(resource_id, seen[kind], f"{name!r} lists {OWNER}'s {kind}")
                self.assertRaises(NotFound, _getters(core, l3)[kind], stranger, resource_id)
            filtered = core.get_ports(stranger, {"project_id": [OWNER]})
            self.assertEqual([], filtered, f"{name!r} filtering on {OWNER}'s project")


class TestIsolationSQLite(LookalikeChecks, BackendTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.core, self.l3 = self.make_sql_plugins()
        self.public_id = _public_network(self.core)

    def test_lookalike_projects_list_and_get_nothing_of_the_owner(self) -> None:
        owned = _owned_resources(self.core, self.l3, self.public_id)
        self.assert_lookalikes_see_nothing(self.core, self.l3, owned)

    def test_lookalike_projects_cannot_change_or_delete_the_owners_resources(self) -> None:
        owned = _owned_resources(self.core, self.l3, self.public_id)
        before = _listings(self.core, self.l3, admin_context())
        for name in LOOKALIKES:
            stranger = RequestContext(name)
            self.assertRaises(NotFound, self.core.update_network, stranger, owned["network"], {"name": "x"})
            self.assertRaises(NotFound, self.core.delete_port, stranger, owned["port"])
            self.assertRaises(NotFound, self.l3.delete_router, stranger, owned["router"])
            self.assertRaises(NotFound, self.core.delete_subnetpool, stranger, owned["subnetpool"])
        self.assertEqual(before, _listings(self.core, self.l3, admin_context()))
        self.assertEqual("private", self.core.get_network(RequestContext(OWNER), owned["network"]).name)

    def test_get_me_a_network_for_a_lookalike_leaves_the_owners_topology_alone(self) -> None:
        allocator = AutoAllocator(self.core, self.l3)
        owner = RequestContext(OWNER)
        first = allocator.get_auto_allocated_topology(owner, None)["id"]
        record = allocator.topology_store.get(OWNER)
        others = {name: allocator.get_auto_allocated_topology(RequestContext(name), None)["id"] for name in LOOKALIKES}
        self.assertNotIn(first, others.values())
        self.assertEqual(len(LOOKALIKES), len(set(others.values())))
        self.assertEqual(record, allocator.topology_store.get(OWNER))
        self.assertEqual(first, allocator.get_auto_allocated_topology(owner, None)["id"])
        for name, network_id in others.items():
            self.assertEqual(name, self.core.get_network(admin_context(), network_id).project_id)
            allocator.delete_auto_allocated_topology(RequestContext(name), None)
        self.assertEqual(record, allocator.topology_store.get(OWNER))
        self.assertEqual(OWNER, self.core.get_network(owner, first).project_id)

    def test_the_findings_reproduction(self) -> None:
        """Finding 1 of the hostile-input report, as written there."""
        alloc = AutoAllocator(self.core, self.l3)
        alice, mallory = RequestContext("alice"), RequestContext("ALICE")
        first = alloc.get_auto_allocated_topology(alice, None)["id"]
        alloc.get_auto_allocated_topology(mallory, None)
        second = alloc.get_auto_allocated_topology(alice, None)["id"]
        self.assertEqual(first, second)
        self.core.create_port(alice, {"network_id": second, "name": "alice-vm"})
        self.assertNotIn("alice-vm", [port.name for port in self.core.get_ports(mallory)])
        self.assertEqual(
            ["ALICE", "admin"], sorted({network.project_id for network in self.core.get_networks(mallory)})
        )
        subnet_id = self.core.get_network(alice, second).subnets[0]
        self.assertRaises(NotFound, self.core.get_subnet, mallory, subnet_id)


class TestIsolationPostgreSQL(TestIsolationSQLite):
    backend = "postgresql"


class TestIsolationMySQL(TestIsolationSQLite):
    backend = "mysql"


class TestIsolationOnACaseInsensitiveSchema(LookalikeChecks):
    """MariaDB with the first revision's schema, which compares under the server default collation.

    Only the Python visibility check stands between the projects here: lists and
    gets must still keep them apart.
    """

    def test_lists_and_gets_are_checked_in_python(self) -> None:
        with temporary_database(require_backend("mysql")) as url:
            migration.upgrade(url, "0001_initial_schema")
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            self.addCleanup(engine.dispose)
            with engine.begin() as connection:
                self.assertEqual(
                    1, connection.execute(sa.text("SELECT 'alice' = 'ALICE ' FROM DUAL")).scalar_one(), "not loose"
                )
                # The columns revision 0003 adds, which the plugin reads, under the tables' loose collation.
                for table in ("networks", "subnetpools", "subnets", "ports", "routers", "floatingips"):
                    connection.execute(
                        sa.text(
                            f"ALTER TABLE {table} ADD COLUMN description VARCHAR(255) NOT NULL DEFAULT '',"
                            " ADD COLUMN tags MEDIUMTEXT NULL,"
                            " ADD COLUMN created_at_utc VARCHAR(20) NOT NULL DEFAULT '1970-01-01T00:00:00Z',"
                            " ADD COLUMN updated_at_utc VARCHAR(20) NOT NULL DEFAULT '1970-01-01T00:00:00Z',"
                            " ADD COLUMN revision_number BIGINT NOT NULL DEFAULT 0"
                        )
                    )
            core = SqlCorePlugin(url, auto_migrate=False)
            self.addCleanup(core.close)
            l3 = SqlL3Plugin(core)
            owned = _owned_resources(core, l3, _public_network(core))
            self.assert_lookalikes_see_nothing(core, l3, owned)
