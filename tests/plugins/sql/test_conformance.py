"""The conformance suites naas ships, run over the sql plugins on SQLite, PostgreSQL and MySQL/MariaDB.

Each test gets an empty database (a fresh copy of a migrated SQLite file, or the
class's server database emptied), so the suites run as they would on a new
deployment.
"""

from __future__ import annotations

import unittest

from naas.plugins import CorePlugin, L3Plugin
from naas.testing import CorePluginConformance
from naas.testing.auto_allocate import AutoAllocationConformance
from naas.testing.l3 import L3PluginConformance

from .base import BackendFixture

# Isolation-matrix cells failing until findings of the 2026-12-01 hostile-input report (issue 9) are fixed.
# Remove them with the fix: a cell that passes is reported as an unexpected success.
NON_ADMIN_CALLERS = ("owner", "other", "owner_upper_case", "owner_trailing_space")
FINDING_2 = {
    f"test_isolation_matrix_router_attach_by_device_owner_as_{caller}": (
        "finding 2: a non-admin may set a network:* device_owner and name another project's router"
    )
    for caller in NON_ADMIN_CALLERS
}
# On MySQL/MariaDB with the server's default collation, the owner's id in another case or with a trailing
# space compares equal to the owner's as the key of get-me-a-network's records: it takes over the owner's
# topology record. (The rules check visibility in Python, so lists and reads no longer leak.)
FINDING_1 = {
    f"test_isolation_matrix_topology_get_as_{caller}": (
        "finding 1: MySQL compares project ids case- and space-insensitively"
    )
    for caller in ("owner_upper_case", "owner_trailing_space")
}
FINDING_3 = {
    f"test_isolation_matrix_subnet_attach_gateway_address_as_{caller}": (
        "finding 3: a plain port may take a subnet's gateway address"
    )
    for caller in NON_ADMIN_CALLERS
}


class TestSqlCoreConformanceSQLite(BackendFixture, CorePluginConformance, unittest.TestCase):
    expected_failures = FINDING_3

    def make_core_plugin(self) -> CorePlugin:
        core, _ = self.make_sql_plugins()
        return core


class TestSqlCoreConformancePostgreSQL(TestSqlCoreConformanceSQLite):
    backend = "postgresql"


class TestSqlCoreConformanceMySQL(TestSqlCoreConformanceSQLite):
    backend = "mysql"


class TestSqlL3ConformanceSQLite(BackendFixture, L3PluginConformance, unittest.TestCase):
    expected_failures = FINDING_2

    def make_plugins(self) -> tuple[CorePlugin, L3Plugin]:
        self.url = self.fresh_url()
        return self.make_sql_plugins(self.url)

    def make_plugins_on_same_storage(self) -> tuple[CorePlugin, L3Plugin]:
        """A second pair of plugins on the same database, with its own engine: as another process has."""
        return self.make_sql_plugins(self.url)


class TestSqlL3ConformancePostgreSQL(TestSqlL3ConformanceSQLite):
    backend = "postgresql"


class TestSqlL3ConformanceMySQL(TestSqlL3ConformanceSQLite):
    backend = "mysql"
    expected_failures = FINDING_1


class TestSqlAutoAllocationConformanceSQLite(BackendFixture, AutoAllocationConformance, unittest.TestCase):
    def make_plugins(self) -> tuple[CorePlugin, L3Plugin]:
        return self.make_sql_plugins()


class TestSqlAutoAllocationConformancePostgreSQL(TestSqlAutoAllocationConformanceSQLite):
    backend = "postgresql"


class TestSqlAutoAllocationConformanceMySQL(TestSqlAutoAllocationConformanceSQLite):
    backend = "mysql"
