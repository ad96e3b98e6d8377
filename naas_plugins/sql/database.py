"""The one database facade of the sql plugins: an oslo.db transaction context per plugin set.

:class:`Database` owns an ``enginefacade.transaction_context()`` of its own (not
oslo.db's process-global facade), so an application or a test can build several
independent plugin sets, on different databases, in one process. The core and
the L3 plugin of one set share one :class:`Database`.

Transactions
------------
:meth:`Database.writer` and :meth:`Database.reader` open a transaction, or join
the one this thread already has open with this database: a ``BEFORE_*`` event
subscriber that reads (the L3 plugin's veto of router port deletion) or an L3
operation that works on ports runs in the transaction of the call that triggered
it. :meth:`Database.run` runs a function in a new writer transaction and
retries it, whole, on a deadlock or on a :class:`~oslo_db.exception.RetryRequest`
(a compare-and-swap that lost a race); a nested call is never retried on its
own, the outermost call is.

Backends
--------
* SQLite: WAL journal (readers do not block the writer), ``foreign_keys=ON``, a busy
  timeout, and ``BEGIN IMMEDIATE`` for writers: SQLite allows one writer at a time
  anyway, and taking the write lock at the start (waiting for it up to the busy
  timeout) serialises writers instead of failing the one that would otherwise try
  to upgrade a read lock.
* PostgreSQL: READ COMMITTED (its default); row locks (``SELECT ... FOR UPDATE``) on the
  free ranges and blocks being carved.
* MySQL / MariaDB: READ COMMITTED is set on every connection, so that a locking read
  and a plain read see the same, latest, data and InnoDB takes no gap locks.

Errors reach the plugins as oslo.db's exceptions (``DBDuplicateEntry``,
``DBDeadlock``, ``DBReferenceError``), never as a DB-API driver's.

Bounded waits
-------------
Every wait for the database is bounded by ``response_timeout`` (``[database]
response_timeout``, :data:`~naas.opts.DEFAULT_RESPONSE_TIMEOUT` seconds): the
SQLite busy timeout (another process's write lock) and pool timeout; on PostgreSQL
``connect_timeout``, ``lock_timeout``, ``statement_timeout``, TCP keepalives and
``tcp_user_timeout`` (added to the URL unless it sets them); on MySQL/MariaDB the
driver's connect, read and write timeouts and ``innodb_lock_wait_timeout``. (A
PostgreSQL server whose host still acknowledges packets but which stops answering
on a connection already open is not bounded: libpq has no read timeout.)

A database that cannot serve a call (unreachable, not answering in time, locked
by another process, read-only, full, damaged, or a connection lost) makes
:meth:`Database.writer`, :meth:`Database.reader` and :attr:`Database.engine`
raise one exception, :class:`naas.exceptions.ServiceUnavailable`, naming the
database and what is wrong with it, chained to the driver's error.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from oslo_config import cfg
from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import compiler as sa_compiler

from naas.exceptions import ServiceUnavailable
from naas.opts import DEFAULT_RESPONSE_TIMEOUT, DEFAULT_SQLITE_FILE, register_opts

__all__ = [
    "Database",
    "configure_engine",
    "engine_options_from_conf",
    "retry_request",
    "sqlite_begin",
    "sqlite_url_for_state_path",
]

T = TypeVar("T")

_SQLITE_SYNCHRONOUS_FULL: Final = 2
_SQLITE_POOL_SIZE: Final = 5
_SQLITE_POOL_OVERFLOW: Final = 60

# Which BEGIN the SQLite "begin" listener emits next in this thread ("IMMEDIATE", "EXCLUSIVE" or "").
_sqlite_begin = threading.local()


@contextlib.contextmanager
def sqlite_begin(mode: str) -> Iterator[None]:
    """Make the next transaction this thread begins on SQLite a ``BEGIN <mode>`` one."""
    _sqlite_begin.mode = mode
    try:
        yield
    finally:
        _sqlite_begin.mode = ""


# oslo.db [database] options passed on to the engine when the plugin is built from a config file.
_ENGINE_OPTIONS: Final = (
    "slave_connection",
    "sqlite_synchronous",
    "mysql_sql_mode",
    "mysql_wsrep_sync_wait",
    "connection_recycle_time",
    "connection_debug",
    "max_pool_size",
    "max_overflow",
    "pool_timeout",
    "connection_trace",
    "max_retries",
    "retry_interval",
    "connection_parameters",
)

# Defaults for a plugin built from a URL alone. They are given explicitly so that
# nothing is read from oslo.config's process-global CONF.
_DEFAULT_ENGINE_OPTIONS: Final[Mapping[str, Any]] = {
    "sqlite_fk": True,
    "sqlite_synchronous": True,
    "mysql_sql_mode": "TRADITIONAL",
    "connection_recycle_time": 3600,
    "connection_debug": 0,
    "connection_trace": False,
    # One connection attempt at start-up: a server that is down is reported within the response timeout.
    "max_retries": 1,
    "retry_interval": 1,
    "max_pool_size": 5,
    "max_overflow": 50,
    # oslo.db's time.sleep(0) on every connection check-in is for eventlet; with threads it only
    # costs a GIL round trip (~0.1 ms) per transaction.
    "thread_checkin": False,
}

TransactionContext = Any
"""An ``oslo_db.sqlalchemy.enginefacade`` transaction context manager (oslo.db is untyped)."""


def sqlite_url_for_state_path(state_path: str) -> str:
    """``sqlite:///<state_path>/naas.sqlite``, with ``~`` expanded and the directory created."""
    directory = os.path.abspath(os.path.expanduser(state_path))
    os.makedirs(directory, exist_ok=True)
    return f"sqlite:///{os.path.join(directory, DEFAULT_SQLITE_FILE)}"


def engine_options_from_conf(conf: cfg.ConfigOpts) -> tuple[str, dict[str, Any]]:
    """The database URL and engine options of a parsed naas configuration.

    ``[database] connection`` unset means an SQLite file in ``[DEFAULT] state_path``.
    """
    register_opts(conf)
    url = conf.database.connection or sqlite_url_for_state_path(conf.state_path)
    options = {name: conf.database[name] for name in _ENGINE_OPTIONS if name in conf.database}
    options["response_timeout"] = conf.database.response_timeout
    return url, {name: value for name, value in options.items() if value is not None}


def _with_timeouts(url: sa.engine.URL, response_timeout: float) -> sa.engine.URL:
    """``url`` with the drivers' timeouts for ``response_timeout`` added (those it sets itself win)."""
    seconds = max(1, math.ceil(response_timeout))
    added: dict[str, str] = {}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg2", "psycopg"):
        milliseconds = int(response_timeout * 1000)
        # libpq rounds connect_timeout below 2 s up to 2 s. Keepalives and tcp_user_timeout end a
        # connection whose packets go unanswered (a dead host, a firewall dropping them).
        added = {
            "connect_timeout": str(max(2, seconds)),
            "options": f"-c lock_timeout={milliseconds} -c statement_timeout={milliseconds}",
            "keepalives": "1",
            "keepalives_idle": str(seconds),
            "keepalives_interval": str(max(1, seconds // 3)),
            "keepalives_count": "3",
            "tcp_user_timeout": str(milliseconds),
        }
    elif url.get_backend_name() == "mysql" and url.get_driver_name() in ("pymysql", "mysqldb"):
        # One second more for reads than innodb_lock_wait_timeout, so that a lock wait is reported by the
        # server as what it is, not cut short by the driver as a server that stopped answering.
        added = {"connect_timeout": str(seconds), "read_timeout": str(seconds + 1), "write_timeout": str(seconds)}
    return url.update_query_dict({name: value for name, value in added.items() if name not in url.query})


def configure_engine(engine: Engine, response_timeout: float = DEFAULT_RESPONSE_TIMEOUT) -> None:
    """Add naas's per-backend connection settings to an engine oslo.db has built.

    Called by the transaction context when it creates its engines, and by
    :mod:`naas_plugins.sql.migration` for the engines it builds itself.
    ``response_timeout`` bounds lock waits (see the module docstring).
    """
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, response_timeout)
    elif engine.dialect.name == "mysql":
        lock_wait = max(1, math.ceil(response_timeout))

        def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
            _mysql_session(dbapi_connection, lock_wait)

        sa.event.listen(engine, "connect", on_connect)
        # SQLAlchemy's MySQL compiler links a nested join to the inner Join object rather than to its
        # tables, so its cartesian-product linter flags joins whose ON clause compares a column with a
        # parameter only (the pool joined to a new subnet's network). The same statements are linted
        # on SQLite and PostgreSQL, where the linter gets this right.
        engine.dialect.compiler_linting = sa_compiler.NO_LINTING
        # oslo.db tested a connection before this listener existed; drop it from the pool so
        # that every connection in use has been through the listener.
        engine.dispose()


def _mysql_session(dbapi_connection: Any, lock_wait_seconds: int) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {lock_wait_seconds}")
    finally:
        cursor.close()


def _configure_sqlite(engine: Engine, response_timeout: float) -> None:
    in_memory = engine.url.database in (None, "", ":memory:")
    read_only = "mode=ro" in (engine.url.database or "")

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # oslo.db has already switched off pysqlite's own BEGIN handling and set foreign_keys=ON.
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(response_timeout * 1000)}")
        if not in_memory and not read_only:
            # WAL is persistent in the file: switch once, not on every connection.
            (journal_mode,) = dbapi_connection.execute("PRAGMA journal_mode").fetchone()
            if journal_mode.lower() != "wal":
                dbapi_connection.execute("PRAGMA journal_mode = WAL")
            (synchronous,) = dbapi_connection.execute("PRAGMA synchronous").fetchone()
            if synchronous == _SQLITE_SYNCHRONOUS_FULL:
                # NORMAL is safe in WAL mode (no corruption on a crash) and saves an fsync per commit;
                # OFF (oslo.db's sqlite_synchronous=False) is left as the operator chose.
                dbapi_connection.execute("PRAGMA synchronous = NORMAL")

    def on_begin(connection: Connection) -> None:
        if "in_transaction" in connection.info:
            return
        mode = getattr(_sqlite_begin, "mode", "")
        _sqlite_begin.mode = ""
        try:
            # Emitted on the DB-API connection, like the implicit BEGIN of the other drivers.
            connection.connection.dbapi_connection.execute(f"BEGIN {mode}".strip())  # type: ignore[union-attr]
        except Exception as error:
            # Only a lock held past the busy timeout makes BEGIN fail: a deadlock, as oslo.db calls it,
            # which Database.run retries. (Raised here, the driver's error would bypass oslo.db's filters.)
            raise db_exc.DBDeadlock(error) from error
        connection.info["in_transaction"] = True

    if not in_memory and isinstance(engine.pool, sa.pool.NullPool):
        # oslo.db gives SQLite files a NullPool: a new connection per transaction, which re-reads the
        # schema, re-runs the pragmas and, being the last to close, checkpoints the WAL every time
        # (80 % of the time of a get-me-a-network). Pooled connections avoid all three; SQLAlchemy
        # opens SQLite files with check_same_thread=False, so any thread may use them.
        old_pool = engine.pool
        engine.pool = sa.pool.QueuePool(
            old_pool._creator,
            pool_size=_SQLITE_POOL_SIZE,
            max_overflow=_SQLITE_POOL_OVERFLOW,
            timeout=response_timeout,
            recycle=old_pool._recycle,
            reset_on_return=old_pool._reset_on_return,
            _dispatch=old_pool.dispatch,
            dialect=old_pool._dialect,
        )
        old_pool.dispose()
    # oslo.db emits a deferred BEGIN for every transaction; ours replaces it (IMMEDIATE for writers).
    for listener in list(engine.dispatch.begin):
        if getattr(listener, "__name__", "") == "_sqlite_emit_begin":
            sa.event.remove(engine, "begin", listener)
    sa.event.listen(engine, "connect", on_connect)
    sa.event.listen(engine, "begin", on_begin, insert=True)


class _Scope:
    """The object oslo.db's enginefacade keeps its per-thread transaction state on.

    One per :class:`Database`, so that calls made in one thread while a
    transaction is open join it.
    """

    def __init__(self) -> None:
        # Set up front: enginefacade would otherwise create it lazily, racing between threads.
        self._enginefacade_context = threading.local()


class _Depth(threading.local):
    writer: int = 0
    reader: int = 0
    connection: Connection | None = None


class Database:
    """A database and its oslo.db transaction context; shared by one core and one L3 plugin.

    ``connection`` is a database URL or an oslo.db transaction context
    (``enginefacade.transaction_context()``) the caller configured. With a URL,
    ``engine_options`` are oslo.db engine options (``max_pool_size``,
    ``sqlite_synchronous`` ...) overriding naas's defaults.
    """

    def __init__(
        self, connection: str | TransactionContext, *, engine_options: Mapping[str, Any] | None = None
    ) -> None:
        options = {**_DEFAULT_ENGINE_OPTIONS, **(engine_options or {})}
        self.response_timeout: float = float(options.pop("response_timeout", DEFAULT_RESPONSE_TIMEOUT))
        self.url: str | None
        if isinstance(connection, str):
            try:
                url = sa.engine.make_url(connection)
            except sa.exc.ArgumentError:
                # Not SQLAlchemy's words, which blame no setting, nor the text, which may hold a password.
                raise ValueError(
                    "[database] connection is not a database URL: expected dialect+driver://user@host/database "
                    "(such as postgresql+psycopg2://naas@db.example.org/naas) or sqlite:////path/to/file"
                ) from None
            self.url = connection
            if url.get_backend_name() == "sqlite":
                # oslo.db gives SQLite files a NullPool, which takes no pool_timeout.
                options.pop("pool_timeout", None)
                _check_sqlite_file(url)
                url = _read_only_if_unwritable(url)
            self.transaction_context = enginefacade.transaction_context()
            self.transaction_context.configure(
                connection=_with_timeouts(url, self.response_timeout).render_as_string(hide_password=False), **options
            )
        else:
            self.transaction_context = connection
            self.url = None
        self.name = _describe(connection)
        """What errors call the database: its URL without the password, or an SQLite file's path."""

        def configure(engine: Engine) -> None:
            configure_engine(engine, self.response_timeout)

        if self.transaction_context.is_started:
            configure(self.transaction_context.writer.get_engine())
        else:
            self.transaction_context.append_on_engine_create(configure)
        self._scope = _Scope()
        self._depth = _Depth()
        self._retry = oslo_db_api.wrap_db_retry(
            max_retries=25,
            retry_interval=0.002,
            inc_retry_interval=True,
            max_retry_interval=0.25,
            retry_on_deadlock=True,
            jitter=True,
            exception_checker=_is_retriable,
        )

    @property
    def engine(self) -> Engine:
        """The writer engine (starting the transaction context if needed). Raises ServiceUnavailable."""
        with self.unavailable_as_naas_error():
            engine: Engine = self.transaction_context.writer.get_engine()
        return engine

    @contextlib.contextmanager
    def unavailable_as_naas_error(self) -> Iterator[None]:
        """Turn a database that cannot serve the block into :class:`~naas.exceptions.ServiceUnavailable`."""
        try:
            yield
        except Exception as error:
            if not _is_database_error(error):
                raise
            unavailable = _unavailable(error, self.name, self.response_timeout)
            if unavailable is None:
                raise
            raise unavailable from error

    @property
    def dialect(self) -> str:
        """``sqlite``, ``postgresql`` or ``mysql``."""
        return str(self.engine.dialect.name)

    @property
    def locks_rows(self) -> bool:
        """Whether ``SELECT ... FOR UPDATE`` takes row locks here (not on SQLite, whose writers are serialised)."""
        return self.dialect != "sqlite"

    def close(self) -> None:
        """Close the pooled connections (the plugins stay usable; new connections are made on demand)."""
        self.transaction_context.dispose_pool()

    @contextlib.contextmanager
    def writer(self) -> Iterator[Connection]:
        """A writer transaction, committed when the block ends, rolled back when it raises.

        Joins the writer transaction this thread already has open, if any.
        """
        if self._depth.reader and not self._depth.writer:
            raise TypeError("a writer transaction cannot start inside a reader transaction")
        # Take SQLite's write lock now, before the first read (see the module docstring).
        begin = sqlite_begin("IMMEDIATE") if self._depth.writer == 0 else contextlib.nullcontext()
        with (
            self.unavailable_as_naas_error(),
            begin,
            self.transaction_context.writer.connection.using(self._scope) as connection,
        ):
            self._depth.writer += 1
            outer, self._depth.connection = self._depth.connection, connection
            try:
                yield connection
            finally:
                self._depth.writer -= 1
                self._depth.connection = outer

    @contextlib.contextmanager
    def reader(self) -> Iterator[Connection]:
        """A read-only transaction (one snapshot on SQLite), or the transaction already open."""
        with (
            self.unavailable_as_naas_error(),
            self.transaction_context.reader.connection.using(self._scope) as connection,
        ):
            self._depth.reader += 1
            outer, self._depth.connection = self._depth.connection, connection
            try:
                yield connection
            finally:
                self._depth.reader -= 1
                self._depth.connection = outer

    @property
    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open on this database."""
        return self._depth.connection is not None

    def run(self, work: Callable[[], T]) -> T:
        """Call ``work`` (which opens its own :meth:`writer`), retrying it on a deadlock or a lost race.

        Nested in an open transaction, ``work`` runs once: only the outermost call can retry.
        """
        if self.in_transaction:
            return work()
        retried: Callable[[], T] = self._retry(work)
        return retried()


def _describe(connection: str | TransactionContext) -> str:
    if not isinstance(connection, str):
        return "the configured database"
    url = sa.engine.make_url(connection)
    if url.get_backend_name() == "sqlite":
        return f"SQLite database {url.database or ':memory:'}"
    return f"database {url.render_as_string(hide_password=True)}"


def _check_sqlite_file(url: sa.engine.URL) -> None:
    """Refuse an SQLite file that is empty (0 bytes) and has been for a while: not a database being created.

    SQLite would take it for a new database and naas would forget, silently, all it had
    allocated; a file naas is creating right now is written within milliseconds.
    """
    path = url.database
    if not path or path == ":memory:" or url.query.get("mode") == "memory":
        return
    try:
        status = os.stat(path)
    except OSError:
        return
    if status.st_size == 0 and time.time() - status.st_mtime > _EMPTY_FILE_GRACE_SECONDS:
        raise ServiceUnavailable(
            f"SQLite database {path}",
            "the file is empty (0 bytes), so it holds none of naas's state; restore it from a backup, "
            "or delete it to start with a new database",
        )


def _read_only_if_unwritable(url: sa.engine.URL) -> sa.engine.URL:
    """``url`` opened read-only when the file or its directory cannot be written (a read-only copy or mount).

    WAL needs to create ``-shm`` next to the file; read-only, SQLite reads an
    existing WAL through its ``-shm``, or, with neither there (every writer closed
    cleanly), the file alone as immutable. Reads work; a write fails with
    "attempt to write a readonly database" (a ServiceUnavailable naming the file).
    """
    path = url.database
    if not path or path == ":memory:" or url.query or path.startswith("file:") or not os.path.exists(path):
        return url
    directory = os.path.dirname(os.path.abspath(path))
    if os.access(directory, os.W_OK) and os.access(path, os.W_OK):
        return url
    immutable = "" if os.path.exists(f"{path}-wal") else "&immutable=1"
    return url.set(database=f"file:{os.path.abspath(path)}?mode=ro{immutable}", query={"uri": "true"})


# PostgreSQL SQLSTATEs (lock_not_available, query_canceled: a lock_timeout or statement_timeout ran out)
# and MySQL/MariaDB error codes (lock wait timeout, max_statement_time, lost or failed connections).
_PG_TIMEOUTS: Final = frozenset({"55P03", "57014"})
_MYSQL_TIMEOUTS: Final = frozenset({1205, 1969, 3024})
_MYSQL_UNREACHABLE: Final = frozenset({2002, 2003, 2005})
_MYSQL_CONNECTION: Final = frozenset({2006, 2013, 2055})
# What SQLite says, and what it means for the file.
_SQLITE_PROBLEMS: Final = (
    ("database is locked", "it is locked by another process (a write waited {timeout})"),
    ("readonly database", "the file or its directory is read-only"),
    ("database or disk is full", "the disk is full"),
    ("disk image is malformed", "the file is damaged (not a valid SQLite database)"),
    ("file is not a database", "the file is not an SQLite database"),
    ("unable to open database file", "the file cannot be opened (missing directory or no permission)"),
    ("disk i/o error", "the disk reports an I/O error"),
)
_EMPTY_FILE_GRACE_SECONDS: Final = 10.0
_DRIVER_MODULES: Final = frozenset({"sqlite3", "psycopg2", "psycopg", "pymysql", "MySQLdb"})


def _is_database_error(error: BaseException) -> bool:
    """oslo.db's, SQLAlchemy's, or a DB-API driver's (raised raw from a connect-time listener) error."""
    if isinstance(error, (db_exc.DBError, sa_exc.SQLAlchemyError)):
        return True
    return type(error).__module__.partition(".")[0] in _DRIVER_MODULES


def _driver_error(error: BaseException) -> BaseException:
    """The DB-API driver's error inside oslo.db's and SQLAlchemy's wrappers."""
    inner: BaseException = getattr(error, "inner_exception", None) or error
    return getattr(inner, "orig", None) or inner


def _unavailable(error: BaseException, name: str, response_timeout: float) -> ServiceUnavailable | None:
    """The ServiceUnavailable a database error means, or None if it is not about the database's availability."""
    if isinstance(error, (db_exc.DBDuplicateEntry, db_exc.DBReferenceError, db_exc.RetryRequest)):
        return None
    driver = _driver_error(error)
    args: tuple[Any, ...] = getattr(driver, "args", ())
    mysql_code = args[0] if len(args) == 2 and isinstance(args[0], int) else None
    # A MySQL driver's error is (code, message): the message is what a person reads.
    text = " ".join(str(args[1] if mysql_code is not None else driver).split()) or type(driver).__name__
    timeout = f"{response_timeout:g} s, [database] response_timeout"
    if name.startswith("SQLite") and isinstance(driver, Exception):
        lowered = text.lower()
        for clue, meaning in _SQLITE_PROBLEMS:
            if clue in lowered:
                return ServiceUnavailable(name, f"{meaning.format(timeout=timeout)} ({text})")
    code = getattr(driver, "pgcode", None)
    if code in _PG_TIMEOUTS:
        return ServiceUnavailable(name, f"a lock or statement waited longer than {timeout} ({text})")
    if mysql_code in _MYSQL_TIMEOUTS:
        return ServiceUnavailable(name, f"a lock or statement waited longer than {timeout} ({text})")
    if isinstance(error, db_exc.DBDeadlock):
        return None
    if "timeout expired" in text or "timed out" in text:
        return ServiceUnavailable(name, f"the server did not answer within {timeout} ({text})")
    if isinstance(error, sa_exc.TimeoutError):
        return ServiceUnavailable(name, f"no pooled connection became free within {timeout} ({text})")
    # libpq's own failures (no server, no answer, a connection closed) carry no SQLSTATE.
    libpq_failure = hasattr(driver, "pgcode") and code is None and type(driver).__name__ == "OperationalError"
    failed = (
        isinstance(error, db_exc.DBConnectionError)
        or mysql_code in _MYSQL_UNREACHABLE | _MYSQL_CONNECTION
        or libpq_failure
        or (isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated)
    )
    if not failed:
        return None
    # A failure before any statement ran is one to connect.
    statement = getattr(getattr(error, "inner_exception", None) or error, "statement", None)
    if statement is None or mysql_code in _MYSQL_UNREACHABLE:
        return ServiceUnavailable(name, f"it could not be reached ({text})")
    return ServiceUnavailable(name, f"the connection was lost ({text})")


def _is_retriable(error: BaseException) -> bool:
    # A foreign key that no longer holds means a concurrent delete or insert got in between a
    # check and a write; the retry re-runs the checks and reports the NotFound / InUse they find.
    return isinstance(error, db_exc.DBReferenceError)


def retry_request(reason: str) -> db_exc.RetryRequest:
    """The exception a lost compare-and-swap raises to have :meth:`Database.run` retry the whole call."""
    return db_exc.RetryRequest(_LostRace(reason))


class _LostRace(Exception):
    """A compare-and-swap found the row changed; raised to the caller only if every retry lost."""
