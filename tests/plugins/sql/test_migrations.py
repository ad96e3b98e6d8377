"""The shipped Alembic migrations: they create the schema the models describe, on every backend."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import ClassVar

import sqlalchemy as sa
import testtools
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from naas import admin_context
from naas_plugins.sql import SqlCorePlugin, migration
from naas_plugins.sql.models import Base
from naas_plugins.sql.testing import require_backend, temporary_database


class TestMigrationsSQLite(testtools.TestCase):
    backend: ClassVar[str] = "sqlite"

    @contextlib.contextmanager
    def empty_database(self) -> Iterator[str]:
        with temporary_database(require_backend(self.backend)) as url:
            yield url

    def test_an_empty_database_has_no_revision(self) -> None:
        with self.empty_database() as url:
            self.assertIsNone(migration.current(url))

    def test_upgrade_brings_the_database_to_the_head_revision(self) -> None:
        with self.empty_database() as url:
            migration.upgrade(url)
            self.assertEqual(migration.head(), migration.current(url))

    def test_upgrade_of_an_upgraded_database_changes_nothing(self) -> None:
        with self.empty_database() as url:
            migration.upgrade(url)
            migration.upgrade(url)
            self.assertEqual(migration.head(), migration.current(url))

    def test_the_migrated_schema_is_the_models_schema(self) -> None:
        with self.empty_database() as url:
            migration.upgrade(url)
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            self.addCleanup(engine.dispose)
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                self.assertEqual([], compare_metadata(context, Base.metadata))

    def test_the_plugin_migrates_a_new_database_on_first_use(self) -> None:
        with self.empty_database() as url:
            core = SqlCorePlugin(url)
            self.addCleanup(core.close)
            self.assertEqual(migration.head(), migration.current(url))
            self.assertEqual([], core.get_networks(admin_context()))

    def test_the_plugin_leaves_the_schema_alone_when_told_to(self) -> None:
        with self.empty_database() as url:
            core = SqlCorePlugin(url, auto_migrate=False)
            self.addCleanup(core.close)
            self.assertIsNone(migration.current(url))

    def test_concurrent_first_uses_migrate_once(self) -> None:
        """Several processes starting on one new database: the migration lock lets one create the schema."""
        with self.empty_database() as url:
            errors: list[BaseException] = []
            barrier = threading.Barrier(4)

            def start() -> None:
                try:
                    barrier.wait(10)
                    migration.upgrade(url)
                except BaseException as error:
                    errors.append(error)

            threads = [threading.Thread(target=start) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            self.assertEqual([], errors)
            self.assertEqual(migration.head(), migration.current(url))


class TestMigrationsPostgreSQL(TestMigrationsSQLite):
    backend = "postgresql"


class TestMigrationsMySQL(TestMigrationsSQLite):
    backend = "mysql"
