"""naas_plugins.sql.testing: opportunistic backends, skipped when absent unless required."""

from __future__ import annotations

import unittest
import uuid

import fixtures
import sqlalchemy as sa
import testtools

from naas_plugins.sql import testing
from naas_plugins.sql.testing import (
    REQUIRE_ENVIRONMENT_VARIABLE,
    BackendUnavailable,
    require_backend,
    required_backends,
    temporary_database,
)


class TestRequireBackend(testtools.TestCase):
    def nowhere(self, backend: str) -> None:
        """Point ``backend`` at a port nobody listens on (a new URL each time: answers are cached per URL)."""
        driver = {"postgresql": "postgresql+psycopg2://postgres", "mysql": "mysql+pymysql://root"}[backend]
        url = f"{driver}@127.0.0.1:9/{uuid.uuid4().hex}"
        self.useFixture(fixtures.EnvironmentVariable(f"NAAS_TEST_{backend.upper()}_URL", url))

    def test_sqlite_needs_no_server(self) -> None:
        self.assertEqual("sqlite://", require_backend("sqlite"))

    def test_an_absent_server_skips_with_the_reason(self) -> None:
        self.useFixture(fixtures.EnvironmentVariable(REQUIRE_ENVIRONMENT_VARIABLE, ""))
        for backend in ("postgresql", "mysql"):
            self.nowhere(backend)
            error = self.assertRaises(unittest.SkipTest, require_backend, backend)
            self.assertIn(f"{backend} backend unavailable", str(error))
            self.assertIn("does not answer", str(error))

    def test_an_absent_required_server_fails(self) -> None:
        self.useFixture(fixtures.EnvironmentVariable(REQUIRE_ENVIRONMENT_VARIABLE, "postgresql, mysql"))
        for backend in ("postgresql", "mysql"):
            self.nowhere(backend)
            error = self.assertRaises(BackendUnavailable, require_backend, backend)
            self.assertIn(REQUIRE_ENVIRONMENT_VARIABLE, str(error))
            self.assertIsInstance(error, AssertionError)  # a failure, not an error or a skip

    def test_required_backends_are_read_from_the_environment(self) -> None:
        self.useFixture(fixtures.EnvironmentVariable(REQUIRE_ENVIRONMENT_VARIABLE, "PostgreSQL,,mysql "))
        self.assertEqual(frozenset({"postgresql", "mysql"}), required_backends())

    def test_an_unknown_required_backend_is_an_error(self) -> None:
        self.useFixture(fixtures.EnvironmentVariable(REQUIRE_ENVIRONMENT_VARIABLE, "oracle"))
        self.assertRaises(ValueError, required_backends)

    def test_an_unknown_backend_is_an_error(self) -> None:
        self.assertRaises(ValueError, require_backend, "oracle")

    def test_server_urls_come_from_the_environment(self) -> None:
        self.useFixture(fixtures.EnvironmentVariable("NAAS_TEST_MYSQL_URL", "mysql+pymysql://me@db/x"))
        self.assertEqual("mysql+pymysql://me@db/x", testing.backend_urls()["mysql"])


class TestTemporaryDatabaseSQLite(testtools.TestCase):
    backend = "sqlite"

    def test_a_temporary_database_exists_inside_the_block_only(self) -> None:
        with temporary_database(require_backend(self.backend)) as url:
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            with engine.begin() as connection:
                connection.execute(sa.text("CREATE TABLE probe (x INTEGER)"))
            engine.dispose()
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.addCleanup(engine.dispose)

        def probe() -> None:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT * FROM probe"))

        # Gone: the file's directory (SQLite) or the database (servers) no longer exists.
        self.assertRaises(sa.exc.OperationalError, probe)


class TestTemporaryDatabasePostgreSQL(TestTemporaryDatabaseSQLite):
    backend = "postgresql"


class TestTemporaryDatabaseMySQL(TestTemporaryDatabaseSQLite):
    backend = "mysql"
