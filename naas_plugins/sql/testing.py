"""Running tests of the sql plugins on SQLite, PostgreSQL and MySQL/MariaDB.

SQLite is always there. PostgreSQL and MySQL are *opportunistic*: a test that
asks for them gets a fresh database on the server when it answers, and is
skipped, with the reason, when it does not, unless the environment variable
``NAAS_TEST_REQUIRE_BACKENDS`` (a comma-separated list such as
``postgresql,mysql``) names the backend: then an unreachable server fails the
test, so a CI job meant to cover a backend cannot pass without it.

The servers are found at ``NAAS_TEST_POSTGRESQL_URL`` and ``NAAS_TEST_MYSQL_URL``
(any database on the server; the helpers create their own next to it),
defaulting to ``postgres@127.0.0.1:5432`` and ``root@127.0.0.1:3306``::

    with temporary_database(require_backend("postgresql")) as url:
        core = SqlCorePlugin(url)

:class:`BackendDatabase` keeps one migrated database for a whole test class
and hands each test a clean one: a copy of a migrated template file on
SQLite, the same database emptied on a server (much faster than creating one
per test).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import unittest
import uuid
from collections.abc import Iterator
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from naas_plugins.sql import migration
from naas_plugins.sql.models import Base

__all__ = [
    "BACKENDS",
    "REQUIRE_ENVIRONMENT_VARIABLE",
    "BackendDatabase",
    "BackendUnavailable",
    "backend_urls",
    "empty_database",
    "require_backend",
    "required_backends",
    "server_problem",
    "temporary_database",
]

BACKENDS: Final = ("sqlite", "postgresql", "mysql")
"""Backend names as SQLAlchemy spells their dialects."""

REQUIRE_ENVIRONMENT_VARIABLE: Final = "NAAS_TEST_REQUIRE_BACKENDS"
NETWORK_BACKENDS: Final = ("linux", "ovn")
"""Names the variable may also hold: network backends whose own test kits (naas_plugins.linux.testing ...) read it."""

_DEFAULT_SERVER_URLS: Final = {
    "postgresql": "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/mysql?charset=utf8mb4",
}
_CONNECT_TIMEOUT_SECONDS: Final = 3


class BackendUnavailable(AssertionError):
    """A backend named in ``NAAS_TEST_REQUIRE_BACKENDS`` did not answer: a test failure, not a skip."""


def backend_urls() -> dict[str, str]:
    """The server URL of each opportunistic backend, from ``NAAS_TEST_<BACKEND>_URL`` or the defaults."""
    return {
        name: os.environ.get(f"NAAS_TEST_{name.upper()}_URL") or default
        for name, default in _DEFAULT_SERVER_URLS.items()
    }


def required_backends() -> frozenset[str]:
    """The databases ``NAAS_TEST_REQUIRE_BACKENDS`` names; an unknown name is an error, not a silent pass.

    The network backends it may also name (:data:`NETWORK_BACKENDS`) are their own test kits' business.
    """
    names = frozenset(name.strip().lower() for name in os.environ.get(REQUIRE_ENVIRONMENT_VARIABLE, "").split(","))
    names -= {""}
    unknown = names - set(BACKENDS) - set(NETWORK_BACKENDS)
    if unknown:
        raise ValueError(
            f"{REQUIRE_ENVIRONMENT_VARIABLE} names unknown backends {sorted(unknown)}; "
            f"known: {', '.join((*BACKENDS, *NETWORK_BACKENDS))}"
        )
    return names & set(BACKENDS)


@functools.cache
def server_problem(server_url: str) -> str | None:
    """Why the server at ``server_url`` cannot be used (None if it answers). Asked once per process."""
    try:
        engine = _server_engine(server_url)
    except ImportError as error:
        return f"its driver is not installed ({error})"
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure to connect means "not available"
        return f"{make_url(server_url).render_as_string(hide_password=True)} does not answer: {error}"
    finally:
        engine.dispose()
    return None


def require_backend(name: str) -> str:
    """The server URL of backend ``name``, or a skip (a failure if it is required) when it does not answer.

    ``sqlite`` needs no server: its "server URL" is ``sqlite://``.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    if name == "sqlite":
        return "sqlite://"
    server_url = backend_urls()[name]
    problem = server_problem(server_url)
    if problem is None:
        return server_url
    reason = f"{name} backend unavailable: {problem}"
    if name in required_backends():
        raise BackendUnavailable(f"{reason} (and {REQUIRE_ENVIRONMENT_VARIABLE} requires it)")
    raise unittest.SkipTest(reason)


@contextlib.contextmanager
def temporary_database(server_url: str, prefix: str = "naas_test") -> Iterator[str]:
    """A new, empty, uniquely named database on the server at ``server_url``; dropped afterwards.

    For ``sqlite://`` it is a file in a temporary directory. Yields the database's URL.
    """
    url = make_url(server_url)
    if url.get_backend_name() == "sqlite":
        directory = tempfile.mkdtemp(prefix=f"{prefix}_")
        try:
            yield f"sqlite:///{os.path.join(directory, 'naas.sqlite')}"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = _server_engine(server_url, autocommit=True)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                if url.get_backend_name() == "postgresql":
                    # Connections a test forgot to close must not keep the database alive.
                    connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                else:
                    connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
    finally:
        engine.dispose()


def empty_database(engine: Engine) -> None:
    """Delete every row of the naas tables (children first), keeping the schema and its revision."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


class BackendDatabase:
    """One migrated database of ``backend`` for a test class, handed to each test clean.

    :meth:`start` (in ``setUpClass``) skips or fails as :func:`require_backend`
    says, then creates and migrates the database; :meth:`fresh_url` (in
    ``setUp``) returns the URL of a database holding the schema and nothing
    else; :meth:`stop` (in ``tearDownClass``) drops it.
    """

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._stack = contextlib.ExitStack()
        self._url: str | None = None
        self._engine: Engine | None = None
        self._copies = 0

    def start(self) -> None:
        server_url = require_backend(self.backend)
        try:
            self._url = self._stack.enter_context(temporary_database(server_url))
            migration.upgrade(self._url)
            if self.backend == "sqlite":
                # The copies are of the main file alone: everything must be in it, none in the WAL.
                engine = sa.create_engine(self._url, poolclass=sa.pool.NullPool)
                with engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                engine.dispose()
            else:
                self._engine = sa.create_engine(self._url, poolclass=sa.pool.NullPool)
        except BaseException:
            self._stack.close()
            raise

    def fresh_url(self) -> str:
        """A database with the naas schema and no rows."""
        if self._url is None:
            raise RuntimeError("BackendDatabase.start() was not called")
        if self._engine is None:
            # A copy of the migrated file: cheaper than emptying, and each test gets its own file.
            template = make_url(self._url).database
            assert template is not None
            self._copies += 1
            copy = f"{template}.{self._copies}"
            shutil.copyfile(template, copy)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(copy + suffix)
            return f"sqlite:///{copy}"
        empty_database(self._engine)
        return self._url

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        self._stack.close()
        self._url = None


def _server_engine(server_url: str, *, autocommit: bool = False) -> Engine:
    url: URL = make_url(server_url)
    connect_args: dict[str, object] = {}
    if url.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = _CONNECT_TIMEOUT_SECONDS
    elif url.get_backend_name() == "mysql":
        connect_args["connect_timeout"] = _CONNECT_TIMEOUT_SECONDS
    options: dict[str, object] = {"poolclass": sa.pool.NullPool, "connect_args": connect_args}
    if autocommit:
        # CREATE / DROP DATABASE refuse to run inside a transaction on PostgreSQL.
        options["isolation_level"] = "AUTOCOMMIT"
    return sa.create_engine(url, **options)
