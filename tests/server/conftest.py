"""A real naas-server on 127.0.0.1, started as an operator would and stopped by its pid.

``served`` (module scope) is one server per storage the suite runs on: the
embedded SQLite file with one worker, and PostgreSQL with four (skipped when
no server answers, failed when ``NAAS_TEST_REQUIRE_BACKENDS`` names
postgresql). Every server is started with ``naas-server --config-file``, its
defaults bootstrapped first, and stopped with SIGTERM; whatever process of it
is still alive afterwards is killed by pid and fails the test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from oslo_config import cfg

from naas.bootstrap import BootstrapSettings, bootstrap
from naas.context import admin_context
from naas.loading import Plugins, load_plugins
from naas.opts import register_opts
from naas_plugins.sql.testing import require_backend, temporary_database

HERE = Path(__file__).resolve().parent
START_LIMIT_SECONDS = 90
STOP_LIMIT_SECONDS = 90

# (storage, workers) of each server the suite runs against.
STORAGES = {"sqlite": 1, "postgresql": 4}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def installed_command(name: str, install: str) -> str:
    """The path of command ``name``, from this interpreter's environment first, then PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"the {name} command is not installed ({install})")
    return found


def server_command() -> str:
    return installed_command("naas-server", "pip install -e .")


def client_environment(home: Path) -> dict[str, str]:
    """The environment of a client process: no OS_* variable or clouds.yaml of the caller's leaks in."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OS_")}
    env["HOME"] = str(home)
    return env


@dataclasses.dataclass
class ServerProcess:
    """One running naas-server: its master process, its URL and the files it writes."""

    process: subprocess.Popen[bytes]
    url: str
    directory: Path
    config_file: Path
    database_url: str
    workers: int

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def probe_dir(self) -> Path:
        return self.directory / "probe"

    @property
    def access_log(self) -> Path:
        return self.directory / "access.log"

    @property
    def output(self) -> str:
        return (self.directory / "server.log").read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        try:
            return [child.pid for child in psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def conf(self) -> cfg.ConfigOpts:
        """The server's configuration, parsed in the test process (to open its storage after it stopped)."""
        conf = cfg.ConfigOpts()
        register_opts(conf)
        conf(["--config-file", str(self.config_file)], default_config_files=[], default_config_dirs=[])
        return conf

    def plugins(self) -> Plugins:
        """The server's storage seen through plugins of the test process's own (no backends, no observers)."""
        conf = self.conf()
        conf.set_override("backends", [])
        conf.set_override("observers", [])
        return load_plugins(conf)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the master and wait for it; kill by pid whatever is left. Returns the master's exit status."""
        processes = self.worker_pids()
        if self.process.poll() is None:
            os.kill(self.pid, sig)
        try:
            status = self.process.wait(timeout=STOP_LIMIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"naas-server {self.pid} did not stop within {STOP_LIMIT_SECONDS} s of signal {sig}")
        survivors = _wait_gone(processes, 10)
        if survivors:
            for pid in survivors:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            pytest.fail(f"naas-server workers {survivors} outlived their master")
        return status

    def kill(self) -> None:
        """SIGKILL the master and its workers, by pid (the fixtures' last resort)."""
        pids = self.worker_pids()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_LIMIT_SECONDS)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _wait_gone(pids, 10)


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def write_config(
    directory: Path, database_url: str, *, workers: int, port: int, extra: str = "", core_plugin: str = "sql"
) -> Path:
    config_file = directory / "naas.conf"
    config_file.write_text(
        textwrap.dedent(f"""\
            [DEFAULT]
            auth_strategy = noauth
            core_plugin = {core_plugin}
            l3_plugin = {core_plugin}
            state_path = {directory / "state"}

            [database]
            connection = {database_url}

            [api]
            bind_host = 127.0.0.1
            bind_port = {port}
            workers = {workers}
            threads = 8
            graceful_timeout = 60
            access_log = {directory / "access.log"}
        """)
        + textwrap.dedent(extra)
    )
    return config_file


def bootstrap_defaults(config_file: Path) -> None:
    """What ``naas bootstrap`` does, against the server's storage, before the server starts."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(["--config-file", str(config_file)], default_config_files=[], default_config_dirs=[])
    conf.set_override("backends", [])
    conf.set_override("observers", [])
    with load_plugins(conf) as plugins:
        bootstrap(plugins.core, admin_context(), BootstrapSettings.from_conf(conf))


def launch(directory: Path, config_file: Path) -> subprocess.Popen[bytes]:
    (directory / "probe").mkdir(exist_ok=True)
    env = client_environment(directory)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env["NAAS_PROBE_DIR"] = str(directory / "probe")
    log = open(directory / "server.log", "ab")  # the child keeps its own descriptor
    try:
        return subprocess.Popen(
            [server_command(), "--config-file", str(config_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=directory,
        )
    finally:
        log.close()


def start_server(
    directory: Path, database_url: str, *, workers: int, extra: str = "", do_bootstrap: bool = True
) -> ServerProcess:
    """Bootstrap the defaults, start naas-server, and wait until it answers (or fail with its output)."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config_file = write_config(directory, database_url, workers=workers, port=port, extra=extra)
    if do_bootstrap:
        bootstrap_defaults(config_file)
    process = launch(directory, config_file)
    server = ServerProcess(process, f"http://127.0.0.1:{port}", directory, config_file, database_url, workers)
    try:
        wait_until_serving(server)
    except BaseException:
        server.kill()
        raise
    return server


def wait_until_serving(server: ServerProcess) -> None:
    deadline = time.monotonic() + START_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"naas-server exited with {server.process.returncode}:\n{server.output}")
        try:
            answer = requests.get(server.url + "/", timeout=5)
        except requests.ConnectionError:
            time.sleep(0.1)
            continue
        if answer.status_code < 500 and len(server.worker_pids()) >= server.workers:
            return
        time.sleep(0.1)
    pytest.fail(f"naas-server did not answer within {START_LIMIT_SECONDS} s:\n{server.output}")


@contextlib.contextmanager
def storage_url(storage: str, directory: Path) -> Iterator[str]:
    """A fresh database of ``storage``: an SQLite file in ``directory``, or a new PostgreSQL database."""
    if storage == "sqlite":
        yield f"sqlite:///{directory / 'naas.sqlite'}"
        return
    with temporary_database(require_backend(storage), prefix="naas_server") as url:
        yield url


@contextlib.contextmanager
def running_server(
    storage: str, directory: Path, *, workers: int | None = None, extra: str = ""
) -> Iterator[ServerProcess]:
    directory.mkdir(parents=True, exist_ok=True)
    with storage_url(storage, directory) as url:
        server = start_server(directory, url, workers=workers or STORAGES[storage], extra=extra)
        try:
            yield server
        finally:
            if server.process.poll() is None:
                server.stop()
            else:
                server.kill()


@pytest.fixture(scope="module", params=sorted(STORAGES, key=lambda name: name != "sqlite"))
def served(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A naas-server shared by a module's tests: SQLite with one worker, PostgreSQL with four."""
    storage = request.param
    directory = tmp_path_factory.mktemp(f"server-{storage}")
    extra = """
        [cors]
        allowed_origin = https://dashboard.example.test

        [oslo_middleware]
        enable_proxy_headers_parsing = true
    """
    with running_server(storage, directory, extra=extra) as server:
        yield server
