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
from naas_plugins.sql.models import Base, ExactString, exact_collation
from naas_plugins.sql.testing import require_backend, temporary_database

RESOURCE_TABLES = ("networks", "subnetpools", "subnets", "ports", "routers", "floatingips")


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

    def test_upgrading_from_the_first_revision_keeps_the_rows_and_compares_exactly(self) -> None:
        with self.empty_database() as url:
            migration.upgrade(url, "0001_initial_schema")
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            self.addCleanup(engine.dispose)
            with engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO auto_allocated_topologies (project_id, status, lease_expires_at, subnet_ids,"
                        " version) VALUES (:p, 'ready', 0, 'a,b', 3)"
                    ),
                    {"p": "alice"},
                )
            migration.upgrade(url)
            self.assertEqual(migration.head(), migration.current(url))
            with engine.connect() as connection:
                self.assertEqual(
                    [("alice", "a,b", 3)],
                    connection.execute(
                        sa.text("SELECT project_id, subnet_ids, version FROM auto_allocated_topologies")
                    ).all(),
                )
                for spelling in ("ALICE", "alice ", "alicé"):
                    found = connection.execute(
                        sa.text("SELECT project_id FROM auto_allocated_topologies WHERE project_id = :p"),
                        {"p": spelling},
                    ).all()
                    self.assertEqual([], found, spelling)

    def test_upgrading_rows_from_before_standard_attributes_dates_them_when_they_were_made(self) -> None:
        network_id = "3f7a4c1e-2b1d-4c3e-9a8b-7c6d5e4f3a2b"
        with self.empty_database() as url:
            migration.upgrade(url, "0002_exact_strings_and_sizes")
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            self.addCleanup(engine.dispose)
            with engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO networks (id, project_id, name, admin_state_up, shared, router_external,"
                        " is_default, mtu, status, created_at)"
                        " VALUES (:id, 'alice', 'old', TRUE, FALSE, FALSE, FALSE, 1500, 'ACTIVE', :made)"
                    ),
                    # 2026-12-01T17:00:00.123456789Z: the fraction is dropped, as the wire form has none.
                    {"id": network_id, "made": 1796144400_123456789},
                )
            migration.upgrade(url)
            core = SqlCorePlugin(url)
            self.addCleanup(core.close)

            network = core.get_network(admin_context(), network_id)

            self.assertEqual(
                ("", (), "2026-12-01T17:00:00Z", "2026-12-01T17:00:00Z", 0),
                (
                    network.description,
                    network.tags,
                    network.created_at,
                    network.updated_at,
                    network.revision_number,
                ),
            )
            updated = core.update_network(admin_context(), network_id, {"tags": ["kept"]}, if_revision=0)
            self.assertEqual((1, ("kept",)), (updated.revision_number, updated.tags))

    def test_positions_beyond_a_smallint_are_stored(self) -> None:
        with self.empty_database() as url:
            migration.upgrade(url)
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            self.addCleanup(engine.dispose)
            ip_allocations = Base.metadata.tables["ip_allocations"]
            with engine.connect() as connection:
                self.assertIsInstance(
                    {column["name"]: column for column in sa.inspect(connection).get_columns("ip_allocations")}[
                        "position"
                    ]["type"],
                    sa.Integer,
                )
            self.assertIsInstance(ip_allocations.c.position.type, sa.Integer)


class TestMigrationsPostgreSQL(TestMigrationsSQLite):
    backend = "postgresql"


class TestMigrationsMySQL(TestMigrationsSQLite):
    backend = "mysql"

    def test_every_text_column_compares_exactly_whatever_the_server_default(self) -> None:
        with self.empty_database() as url:
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            self.addCleanup(engine.dispose)
            with engine.connect() as connection:
                server_default = connection.execute(sa.text("SELECT @@collation_database")).scalar_one()
            migration.upgrade(url)
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.text(
                        "SELECT table_name, column_name, collation_name, data_type FROM information_schema.columns"
                        " WHERE table_schema = DATABASE() AND collation_name IS NOT NULL"
                        " AND table_name != 'alembic_version'"
                    )
                ).all()
            expected = {
                (table.name, column.name)
                for table in Base.metadata.sorted_tables
                for column in table.columns
                if isinstance(column.type, ExactString)
            }
            self.assertEqual(expected, {(row[0], row[1]) for row in rows})
            self.assertEqual(
                {exact_collation(engine.dialect)}, {row[2] for row in rows}, f"server default {server_default}"
            )
            self.assertEqual(
                {
                    ("subnetpools", "prefixes"),
                    ("subnets", "allocation_pools"),
                    ("auto_allocated_topologies", "subnet_ids"),
                    *((table, "tags") for table in RESOURCE_TABLES),
                },
                {(row[0], row[1]) for row in rows if row[3] == "mediumtext"},
            )
