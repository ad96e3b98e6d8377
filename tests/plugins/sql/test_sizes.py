"""The largest values requests admit fit the columns on every backend; longer ones are refused, not a DB error."""

from __future__ import annotations

from naas import AutoAllocator, RequestContext, admin_context
from naas.exceptions import BadRequest

from .base import BackendTestCase

# 255 characters, each 4 bytes in UTF-8: the longest project id naas.requests admits, at its widest.
WIDEST_PROJECT = "\U0001f600" * 255


class TestSizesSQLite(BackendTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.core, self.l3 = self.make_sql_plugins()
        self.allocator = AutoAllocator(self.core, self.l3)
        admin = admin_context()
        public = self.core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
        self.core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24"})
        self.core.create_subnetpool(
            admin, {"prefixes": ["10.0.0.0/8"], "default_prefixlen": 26, "shared": True, "is_default": True}
        )

    def test_the_widest_project_id_gets_its_topology(self) -> None:
        network_id = self.allocator.get_auto_allocated_topology(RequestContext(WIDEST_PROJECT), None)["id"]
        self.assertEqual(WIDEST_PROJECT, self.core.get_network(admin_context(), network_id).project_id)
        record = self.allocator.topology_store.get(WIDEST_PROJECT)
        self.assertIsNotNone(record)
        self.assertIsNone(self.allocator.topology_store.get(WIDEST_PROJECT[:-1]))

    def test_a_longer_project_id_is_a_bad_request_that_stores_nothing(self) -> None:
        before = self.core.get_networks(admin_context())
        error = self.assertRaises(BadRequest, self.allocator.get_auto_allocated_topology, admin_context(), "p" * 256)
        self.assertEqual("project_id", error.attribute)
        self.assertEqual(before, self.core.get_networks(admin_context()))
        self.assertIsNone(self.allocator.topology_store.get("p" * 256))


class TestSizesPostgreSQL(TestSizesSQLite):
    backend = "postgresql"


class TestSizesMySQL(TestSizesSQLite):
    backend = "mysql"
