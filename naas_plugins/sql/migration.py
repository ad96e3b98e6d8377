"""Creating and upgrading the sql plugins' schema with the Alembic migrations shipped in the package.

::

    from naas_plugins.sql import migration

    migration.upgrade("postgresql+psycopg2://naas:secret@db/naas")   # to the newest revision
    migration.current("postgresql+psycopg2://naas:secret@db/naas")   # "0001_initial_schema"
    migration.upgrade(url, "head", sql_output=sys.stdout)            # print the SQL instead (offline)
    migration.stamp(url, "head")                                     # record a revision, run nothing
    [entry.revision for entry in migration.history()]                # newest first

Several processes may start on a fresh database at once: an upgrade holds a
lock for its duration (an exclusive transaction on SQLite, an advisory lock on
PostgreSQL, ``GET_LOCK`` on MySQL) and finds the work done if another process
did it first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterator, Sequence
from typing import TextIO

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from oslo_db.sqlalchemy import engines
from sqlalchemy.engine import Connection, Engine

from naas.exceptions import NaasError
from naas_plugins.sql.database import configure_engine, sqlite_begin

__all__ = [
    "Revision",
    "SchemaOutOfDate",
    "alembic_config",
    "check_schema",
    "current",
    "ensure_schema",
    "head",
    "history",
    "stamp",
    "upgrade",
]

SCRIPT_LOCATION = "naas_plugins.sql:migrations"
# Any constant will do; it only has to be the same in every naas process.
_PG_ADVISORY_LOCK_KEY = 0x6E616173  # "naas"
_MYSQL_LOCK_NAME = "naas_schema_migration"
_MYSQL_LOCK_TIMEOUT = 300

Target = str | Engine


class SchemaOutOfDate(NaasError):
    """The database is not at the revision this naas needs, and automatic migration is off."""

    def __init__(self, database: str, revision: str | None, needed: str) -> None:
        self.revision = revision
        self.needed = needed
        at = f"at revision {revision}" if revision else "without a naas schema"
        super().__init__(
            f"The database {database} is {at}; this naas needs {needed}. Upgrade it with 'naas db upgrade', "
            "or set [database] auto_migrate = true."
        )


@dataclasses.dataclass(frozen=True)
class Revision:
    """One shipped migration."""

    revision: str
    down_revision: str | None
    description: str


def alembic_config(
    connection: Connection | None = None, *, url: str | None = None, output: TextIO | None = None
) -> Config:
    """An Alembic configuration for the shipped migrations.

    They run on ``connection`` if given; or, offline, write their SQL for the
    database at ``url`` (its dialect only: nothing connects) to ``output``.
    """
    config = Config(output_buffer=output)
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # the option is interpolated
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


def history() -> list[Revision]:
    """The shipped migrations, newest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [
        Revision(entry.revision, _single(entry.down_revision), (entry.doc or "").strip())
        for entry in script.walk_revisions()
    ]


def _single(down_revision: str | Sequence[str] | None) -> str | None:
    if down_revision is not None and not isinstance(down_revision, str):
        return ", ".join(down_revision)
    return down_revision


def upgrade(target: Target, revision: str = "head", *, sql_output: TextIO | None = None) -> None:
    """Upgrade the database at ``target`` (a URL or an engine) to ``revision``, creating the schema if needed.

    With ``sql_output``, nothing runs: the SQL of the migrations, from the
    empty database (or from ``FROM`` in a ``FROM:TO`` revision) is written
    there, for ``target``'s dialect (offline mode; ``target`` must be a URL).
    """
    if sql_output is not None:
        command.upgrade(alembic_config(url=_url(target), output=sql_output), revision, sql=True)
        return
    with _engine(target) as engine, _migration_lock(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


def stamp(target: Target, revision: str, *, sql_output: TextIO | None = None) -> None:
    """Record ``revision`` as the database's, running no migration (for a schema made by other means).

    With ``sql_output``, the SQL that would record it is written there instead.
    """
    if sql_output is not None:
        command.stamp(alembic_config(url=_url(target), output=sql_output), revision, sql=True)
        return
    with _engine(target) as engine, _migration_lock(engine) as connection:
        command.stamp(alembic_config(connection), revision)


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at :func:`head`; change nothing."""
    revision = current(engine)
    if revision != head():
        raise SchemaOutOfDate(engine.url.render_as_string(hide_password=True), revision, head())


def _url(target: Target) -> str:
    if isinstance(target, Engine):
        raise TypeError("offline (SQL) output needs a database URL, not an engine")
    return target


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
