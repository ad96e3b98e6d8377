"""The storage conformance suite over the bundled storage drivers: memory, and sql on every database."""

from __future__ import annotations

import testtools

from naas.storage import Storage
from naas.testing.storage import StorageConformance
from naas_plugins.memory import MemoryStorage
from naas_plugins.sql.database import Database
from naas_plugins.sql.storage import SqlStorage
from tests.plugins.sql.base import BackendFixture


class TestMemoryStorage(StorageConformance, testtools.TestCase):
    def make_storage(self) -> Storage:
        return MemoryStorage()


class TestSqlStorageSQLite(BackendFixture, StorageConformance, testtools.TestCase):
    def make_storage(self) -> Storage:
        return SqlStorage(Database(self.fresh_url()))

    def make_shared_storage(self, storage: Storage) -> Storage:
        assert isinstance(storage, SqlStorage) and storage.database.url is not None
        return SqlStorage(Database(storage.database.url))


class TestSqlStoragePostgreSQL(TestSqlStorageSQLite):
    backend = "postgresql"


class TestSqlStorageMySQL(TestSqlStorageSQLite):
    backend = "mysql"
