"""Creating and upgrading the sql plugins' schema with the Alembic migrations shipped in the package.

::

    from naas_plugins.sql import migration

    migration.upgrade("postgresql+psycopg2://naas:secret@db/naas")   # to the newest revision
    migration.current("postgresql+psycopg2://naas:secret@db/naas")   # "0001_initial_schema"

Several processes may start on a fresh database at once: an upgrade holds a
lock for its duration (an exclusive transaction on SQLite, an advisory lock on
PostgreSQL, ``GET_LOCK`` on MySQL) and finds the work done if another process
did it first.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from oslo_db.sqlalchemy import engines
from sqlalchemy.engine import Connection, Engine

from naas_plugins.sql.database import configure_engine, sqlite_begin

__all__ = ["alembic_config", "current", "ensure_schema", "head", "upgrade"]

SCRIPT_LOCATION = "naas_plugins.sql:migrations"
# Any constant will do; it only has to be the same in every naas process.
_PG_ADVISORY_LOCK_KEY = 0x6E616173  # "naas"
_MYSQL_LOCK_NAME = "naas_schema_migration"
_MYSQL_LOCK_TIMEOUT = 300

Target = str | Engine


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the shipped migrations, running on ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head() -> str:
    """The newest revision shipped with this version of naas."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None, "the sql plugins ship at least one migration"
    return revision


def current(target: Target) -> str | None:
    """The revision the database at ``target`` (a URL or an engine) is at; None if it has no naas schema."""
    with _engine(target) as engine, engine.connect() as connection:
        revision: str | None = MigrationContext.configure(connection).get_current_revision()
        return revision


def upgrade(target: Target, revision: str = "head") -> None:
    """Upgrade the database at ``target`` (a URL or an engine) to ``revision``, creating the schema if needed."""
    with _engine(target) as engine, _migration_lock(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


def ensure_schema(engine: Engine) -> None:
    """Upgrade the database to :func:`head` unless it is there already (the cheap, common case)."""
    if current(engine) != head():
        upgrade(engine)


@contextlib.contextmanager
def _engine(target: Target) -> Iterator[Engine]:
    if isinstance(target, Engine):
        yield target
        return
    engine = engines.create_engine(target, sqlite_fk=True, mysql_sql_mode="TRADITIONAL", max_retries=0)
    configure_engine(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other naas process migrates alongside.

    Committed when the block ends. On MySQL DDL commits implicitly, so the lock
    there is a named lock held by the connection rather than the transaction.
    """
    with engine.connect() as connection:
        dialect = engine.dialect.name
        if dialect == "mysql":
            connection.execute(
                sa.text("SELECT GET_LOCK(:name, :timeout)"), {"name": _MYSQL_LOCK_NAME, "timeout": _MYSQL_LOCK_TIMEOUT}
            )
            connection.commit()
        try:
            # An exclusive transaction is SQLite's migration lock (see naas_plugins.sql.database).
            begin = sqlite_begin("EXCLUSIVE") if dialect == "sqlite" else contextlib.nullcontext()
            with begin, connection.begin():
                if dialect == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_ADVISORY_LOCK_KEY})
                yield connection
        finally:
            if dialect == "mysql":
                connection.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": _MYSQL_LOCK_NAME})
                connection.commit()
