"""A database that cannot serve: a clear ServiceUnavailable within [database] response_timeout, never a hang.

No test times anything: each asserts the error's type and message. The calls that
used to hang run in a thread given many response timeouts (:func:`bounded`): a hang
fails the test instead of stalling the suite.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from oslo_config import cfg

from naas import admin_context
from naas.cli.errors import describe_error
from naas.exceptions import PluginLoadError, ServiceUnavailable
from naas.loading import load_plugins
from naas.opts import register_opts
from naas_plugins.sql import SqlCorePlugin, migration

T = TypeVar("T")

RESPONSE_TIMEOUT = 2.0
# Generous: a bounded call returns within a few response timeouts even on a loaded machine.
HANG = 30 * RESPONSE_TIMEOUT


def bounded(call: Callable[[], T]) -> T:
    """``call()``'s result or exception; a test failure if it has not returned after :data:`HANG` seconds."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG)
    if thread.is_alive():
        pytest.fail(f"still waiting after {HANG} s: the database call is not bounded")
    if failure:
        raise failure[0]
    return outcome[0]


@pytest.fixture
def tarpit() -> Iterator[int]:
    """A TCP port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


@pytest.mark.parametrize("scheme", ["postgresql+psycopg2://postgres", "mysql+pymysql://root"])
def test_a_server_that_never_answers_gives_service_unavailable(tarpit: int, scheme: str) -> None:
    url = f"{scheme}@127.0.0.1:{tarpit}/naas"
    with pytest.raises(ServiceUnavailable) as caught:
        bounded(lambda: SqlCorePlugin(url, engine_options={"response_timeout": RESPONSE_TIMEOUT}))
    message = str(caught.value)
    assert f"127.0.0.1:{tarpit}/naas" in message
    assert "did not answer within 2 s, [database] response_timeout" in message
    assert caught.value.__cause__ is not None


def test_the_command_line_says_which_database_does_not_answer(tarpit: int) -> None:
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(args=[])
    conf.set_override("connection", f"postgresql+psycopg2://postgres:secret@127.0.0.1:{tarpit}/naas", "database")
    conf.set_override("response_timeout", RESPONSE_TIMEOUT, "database")
    conf.set_override("max_retries", 1, "database")
    with pytest.raises(PluginLoadError) as caught:
        bounded(lambda: load_plugins(conf))
    line = describe_error(caught.value)
    assert line.startswith(f"The database postgresql+psycopg2://postgres:***@127.0.0.1:{tarpit}/naas cannot serve")
    assert "did not answer within 2 s" in line
    assert "secret" not in line


@pytest.fixture
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{os.path.join(directory, 'naas.sqlite')}"
        migration.upgrade(url)
        yield url


def test_an_sqlite_file_locked_by_another_process_gives_service_unavailable(sqlite_url: str) -> None:
    core = SqlCorePlugin(sqlite_url, engine_options={"response_timeout": RESPONSE_TIMEOUT})
    try:
        core.create_network(admin_context(), {"name": "before"})
        # An operator's sqlite3 shell left in a write transaction.
        holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(ServiceUnavailable) as caught:
                bounded(lambda: core.create_network(admin_context(), {"name": "blocked"}))
            assert "is locked by another process (a write waited 2 s, [database] response_timeout)" in str(caught.value)
            assert sqlite_url.removeprefix("sqlite:///") in str(caught.value)
            # Reads go on: WAL readers do not wait for the writer.
            assert ["before"] == [network.name for network in core.get_networks(admin_context())]
        finally:
            holder.rollback()
            holder.close()
        core.create_network(admin_context(), {"name": "after"})
        assert ["before", "after"] == [network.name for network in core.get_networks(admin_context())]
    finally:
        core.close()


def test_an_empty_sqlite_file_is_not_taken_for_a_new_database(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    os.truncate(path, 0)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    os.utime(path, (0, 0))
    with pytest.raises(ServiceUnavailable) as caught:
        SqlCorePlugin(sqlite_url)
    assert str(caught.value) == (
        f"The SQLite database {path} cannot serve the request: the file is empty (0 bytes), so it holds none of "
        "naas's state; restore it from a backup, or delete it to start with a new database."
    )
    assert os.path.getsize(path) == 0


def test_a_damaged_sqlite_file_is_named_with_what_is_wrong(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    with open(path, "r+b") as database:
        database.seek(0)
        database.write(b"this is not a database header at all" * 3)
    with pytest.raises(ServiceUnavailable) as caught:
        SqlCorePlugin(sqlite_url)
    assert caught.value.backend == f"SQLite database {path}"
    assert "not an SQLite database" in caught.value.reason or "damaged" in caught.value.reason


def test_a_lost_connection_reaches_callers_as_service_unavailable() -> None:
    """A PostgreSQL connection killed under the pool: one documented naas error, not SQLAlchemy's."""
    from naas_plugins.sql.testing import require_backend, temporary_database

    with temporary_database(require_backend("postgresql")) as url:
        core = SqlCorePlugin(url, engine_options={"response_timeout": RESPONSE_TIMEOUT})
        try:
            core.create_network(admin_context(), {"name": "kept"})
            with core.database.engine.connect() as admin:
                import sqlalchemy as sa

                admin.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid != pg_backend_pid()"
                    )
                )
            with core.database.writer() as connection:
                import sqlalchemy as sa

                connection.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
        except ServiceUnavailable as error:
            assert "the connection was lost" in str(error)
            assert "database postgresql+psycopg2://postgres@127.0.0.1:5432/" in str(error)
        else:
            pytest.fail("a killed connection did not raise ServiceUnavailable")
        finally:
            core.close()


@pytest.fixture
def read_only_state() -> Iterator[str]:
    """A directory holding a naas database, then made read-only (a read-only mount, or permissions)."""
    import subprocess

    with tempfile.TemporaryDirectory() as parent:
        directory = os.path.join(parent, "state")
        os.mkdir(directory)
        mounted = False
        if os.geteuid() == 0:
            # Root writes through permissions: only a read-only file system stops it.
            mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", directory]).returncode == 0
            if not mounted:
                pytest.skip("running as root without the right to mount a read-only file system")
        url = f"sqlite:///{os.path.join(directory, 'naas.sqlite')}"
        try:
            core = SqlCorePlugin(url)
            core.create_network(admin_context(), {"name": "kept"})
            core.close()
            if mounted:
                subprocess.run(["mount", "-o", "remount,ro", directory], check=True)
            else:
                os.chmod(os.path.join(directory, "naas.sqlite"), 0o444)
                os.chmod(directory, 0o555)
            yield url
        finally:
            if mounted:
                subprocess.run(["umount", directory], check=True)
            else:
                os.chmod(directory, 0o755)


def test_a_read_only_state_directory_is_read_and_refuses_writes_by_name(read_only_state: str) -> None:
    core = SqlCorePlugin(read_only_state)
    try:
        assert ["kept"] == [network.name for network in core.get_networks(admin_context())]
        with pytest.raises(ServiceUnavailable) as caught:
            core.create_network(admin_context(), {"name": "refused"})
        assert caught.value.backend == f"SQLite database {read_only_state.removeprefix('sqlite:///')}"
        assert caught.value.reason.startswith("the file or its directory is read-only")
        assert ["kept"] == [network.name for network in core.get_networks(admin_context())]
    finally:
        core.close()


def test_a_full_disk_is_named_and_changes_nothing() -> None:
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("filling a small file system needs the right to mount one")
    with tempfile.TemporaryDirectory() as directory:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", directory]).returncode != 0:
            pytest.skip("no right to mount a small file system")
        try:
            url = f"sqlite:///{os.path.join(directory, 'naas.sqlite')}"
            core = SqlCorePlugin(url)
            try:
                with open(os.path.join(directory, "filler"), "wb", buffering=0) as filler:
                    with pytest.raises(OSError):
                        while True:
                            filler.write(b"x" * 4096)
                names = [network.name for network in core.get_networks(admin_context())]
                with pytest.raises(ServiceUnavailable) as caught:
                    for _ in range(1000):
                        core.create_network(admin_context(), {"name": "n" * 200})
                        names.append("n" * 200)
                assert caught.value.reason.startswith("the disk is full")
                assert names == [network.name for network in core.get_networks(admin_context())]
            finally:
                core.close()
        finally:
            subprocess.run(["umount", "-l", directory], check=True)


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_a_row_locked_by_another_session_gives_service_unavailable(backend: str) -> None:
    """An operator's SQL shell holding a lock: the call gives up after the response timeout."""
    import sqlalchemy as sa

    from naas_plugins.sql.testing import require_backend, temporary_database

    with temporary_database(require_backend(backend)) as url:
        core = SqlCorePlugin(url, engine_options={"response_timeout": RESPONSE_TIMEOUT})
        holder = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            network = core.create_network(admin_context(), {"name": "before"})
            with holder.connect() as shell, shell.begin():
                shell.execute(sa.text("SELECT id FROM networks WHERE id = :id FOR UPDATE"), {"id": network.id})
                with pytest.raises(ServiceUnavailable) as caught:
                    bounded(lambda: core.update_network(admin_context(), network.id, {"name": "blocked"}))
            assert "a lock or statement waited longer than 2 s, [database] response_timeout" in str(caught.value)
            assert "before" == core.get_network(admin_context(), network.id).name
        finally:
            holder.dispose()
            core.close()
