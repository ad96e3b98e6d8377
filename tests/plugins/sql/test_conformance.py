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


class TestSqlCoreConformanceSQLite(BackendFixture, CorePluginConformance, unittest.TestCase):
    def make_core_plugin(self) -> CorePlugin:
        core, _ = self.make_sql_plugins()
        return core


class TestSqlCoreConformancePostgreSQL(TestSqlCoreConformanceSQLite):
    backend = "postgresql"


class TestSqlCoreConformanceMySQL(TestSqlCoreConformanceSQLite):
    backend = "mysql"


class TestSqlL3ConformanceSQLite(BackendFixture, L3PluginConformance, unittest.TestCase):
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


class TestSqlAutoAllocationConformanceSQLite(BackendFixture, AutoAllocationConformance, unittest.TestCase):
    def make_plugins(self) -> tuple[CorePlugin, L3Plugin]:
        return self.make_sql_plugins()


class TestSqlAutoAllocationConformancePostgreSQL(TestSqlAutoAllocationConformanceSQLite):
    backend = "postgresql"


class TestSqlAutoAllocationConformanceMySQL(TestSqlAutoAllocationConformanceSQLite):
    backend = "mysql"
