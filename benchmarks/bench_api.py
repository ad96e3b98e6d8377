"""naas-server under load on 127.0.0.1: requests per second and latency, 1 vs 4 workers, HTTP's overhead.

Starts naas-server (noauth, sql plugins on a fresh PostgreSQL database) with 1
and then 4 workers, under each ``[api] threads`` setting of ``--threads``
(1: each worker process serves one request at a time; 8: the default), and
for each server runs two bounded load phases of ``--seconds`` each with
``--clients`` concurrent clients (spread over 4 client processes, so the
clients' own interpreter lock does not cap the rate):

* ``GET /v2.0/networks?limit=100`` on a database holding ``--networks`` networks;
* get-me-a-network, ``GET /v2.0/auto-allocated-topology/<new project>``, each
  request for a project never seen before (a full dual-stack build).

Prints requests/s, p50 and p99 latency per phase, and the CPU time each
request cost the naas-server processes, PostgreSQL (all its processes: other
users of the server count too; one that exits during a phase is missed) and
the load clients: on a machine shared with other work the rates move with its
load, the CPU per request much less. For each threads setting it prints the
4-worker / 1-worker ratio (target: at least 1.8x on 2 cores) beside what the
cores allow: when one worker already keeps a core busy, four can add only
what PostgreSQL and the clients leave of the other.

Then, on the 1-worker server, one client at a time: the p50 of ``GET
/v2.0/networks/<id>`` over HTTP, of the same request through the WSGI
application in this process, and of the library call it ends in
(``core.get_network``); HTTP's overhead is the HTTP p50 minus each
(target: under 1 ms).

Everything stays on 127.0.0.1 and every loop is bounded in time and count.

Usage::

    python benchmarks/bench_api.py [--postgresql postgresql+psycopg2://postgres@127.0.0.1/postgres]
        [--seconds 10] [--clients 32] [--networks 100] [--overhead-requests 1000] [--threads 1,8]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import webob
from oslo_config import cfg

from naas.bootstrap import BootstrapSettings, bootstrap
from naas.context import admin_context
from naas.loading import load_plugins
from naas.opts import register_opts
from naas_plugins.sql.testing import require_backend, temporary_database

CLIENT_PROCESSES = 4
START_LIMIT_SECONDS = 90
REQUEST_LIMIT_PER_CLIENT = 200_000  # a bound besides the time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def configure(directory: Path, database_url: str, workers: int, port: int, threads: int) -> Path:
    config_file = directory / f"naas-{workers}.conf"
    config_file.write_text(
        textwrap.dedent(f"""\
            [DEFAULT]
            auth_strategy = noauth
            state_path = {directory}

            [database]
            connection = {database_url}

            [api]
            bind_host = 127.0.0.1
            bind_port = {port}
            workers = {workers}
            threads = {threads}
            access_log =

            [bootstrap]
            # Room for every router gateway the get-me-a-network phase builds (the default /24 has 253).
            external_cidr = 100.64.0.0/14
        """)
    )
    return config_file


def parsed(config_file: Path) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(["--config-file", str(config_file)], default_config_files=[], default_config_dirs=[])
    return conf


def seed(config_file: Path, networks: int) -> str:
    """Bootstrap the defaults and create ``networks`` networks (admin); returns one network's id."""
    conf = parsed(config_file)
    with load_plugins(conf) as plugins:
        context = admin_context()
        bootstrap(plugins.core, context, BootstrapSettings.from_conf(conf))
        created = [plugins.core.create_network(context, {"name": f"bench-{n}"}) for n in range(networks)]
    return created[0].id


@contextmanager
def naas_server(config_file: Path, port: int, workers: int) -> Iterator[tuple[str, int]]:
    command = shutil.which("naas-server", path=str(Path(sys.executable).parent)) or "naas-server"
    log = open(config_file.with_suffix(".log"), "wb")
    process = subprocess.Popen([command, "--config-file", str(config_file)], stdout=log, stderr=subprocess.STDOUT)
    url = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_LIMIT_SECONDS
        while True:
            if process.poll() is not None:
                raise SystemExit(f"naas-server exited: see {log.name}")
            if time.monotonic() > deadline:
                raise SystemExit(f"naas-server did not answer within {START_LIMIT_SECONDS} s: see {log.name}")
            try:
                status = get(url, "/")[0]
            except OSError:
                status = 0
            if status == 200 and len(psutil.Process(process.pid).children()) >= workers:
                break
            time.sleep(0.1)
        yield url, process.pid
    finally:
        children = [child.pid for child in psutil.Process(process.pid).children(recursive=True)]
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        for pid in children:
            if psutil.pid_exists(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()


def get(address: str, path: str, connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    own = connection is None
    connection = connection or http.client.HTTPConnection(address, timeout=60)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        if own:
            connection.close()


class LoadConnection:
    """GET requests over one kept-alive HTTP/1.1 connection, with as little client work as possible.

    The load clients share the machine's 2 cores with the server and PostgreSQL: http.client's parsing
    (about 0.3 ms of CPU per request) would take a share of them from the server being measured.
    Reads responses with a Content-Length (the API's), as a client of any kind would see them.
    """

    def __init__(self, address: str) -> None:
        host, port = address.rsplit(":", 1)
        self.address = (host, int(port))
        self.host = host.encode()
        self.socket: socket.socket | None = None
        self.buffer = b""

    def get(self, path: str) -> int:
        """The status of ``GET path``; raises OSError or ValueError when the connection fails."""
        if self.socket is None:
            self.socket = socket.create_connection(self.address, timeout=60)
            self.buffer = b""
        self.socket.sendall(
            b"GET %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n\r\n" % (path.encode(), self.host)
        )
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._receive()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        headers = head.lower()
        start = headers.find(b"\r\ncontent-length:")
        if start < 0:
            raise ValueError("a response without Content-Length")
        length = int(headers[start + 17 : headers.find(b"\r\n", start + 17) % (len(headers) + 1)])
        while len(rest) < length:
            rest += self._receive()
        self.buffer = rest[length:]
        if b"\r\nconnection: close" in headers:
            self.close()
        return int(head[9:12])

    def _receive(self) -> bytes:
        assert self.socket is not None
        chunk = self.socket.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
            self.socket = None


def client_process(address: str, kind: str, threads: int, seconds: float, results: Any) -> None:
    """``threads`` clients sending requests back to back for ``seconds``; puts (latencies, errors, CPU seconds)
    on ``results``."""
    cpu_at_start = time.process_time()  # after the imports of this spawned process
    latencies: list[float] = []
    errors: collections.Counter[int] = collections.Counter()  # failed requests by status (0: no answer)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        connection = LoadConnection(address)
        own: list[float] = []
        failed: collections.Counter[int] = collections.Counter()
        for _ in range(REQUEST_LIMIT_PER_CLIENT):
            if time.monotonic() >= stop_at:
                break
            path = "/v2.0/networks?limit=100" if kind == "list" else f"/v2.0/auto-allocated-topology/{uuid.uuid4()}"
            start = time.perf_counter()
            try:
                status = connection.get(path)
            except (OSError, ValueError):
                connection.close()
                status = 0
            if status == 200:
                own.append(time.perf_counter() - start)
            else:
                failed[status] += 1
        connection.close()
        with lock:
            latencies.extend(own)
            errors.update(failed)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put((latencies, dict(errors), time.process_time() - cpu_at_start))


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User and system CPU time of the processes still running."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def server_processes(pid: int) -> list[psutil.Process]:
    master = psutil.Process(pid)
    return [master, *master.children(recursive=True)]


def postgres_cpu_seconds() -> dict[int, float]:
    """CPU seconds of each running postgres process, by pid."""
    seconds = {}
    for process in psutil.process_iter(["name", "cpu_times"]):
        times = process.info["cpu_times"]
        if process.info["name"] == "postgres" and times is not None:
            seconds[process.pid] = times.user + times.system
    return seconds


def postgres_cpu_since(before: dict[int, float]) -> float:
    """PostgreSQL's CPU seconds since ``before``: of the processes running now (one that exited meanwhile is missed,
    so this is a lower bound)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in postgres_cpu_seconds().items())


def load(address: str, kind: str, clients: int, seconds: float, server_pid: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    share, extra = divmod(clients, CLIENT_PROCESSES)
    processes = [
        context.Process(target=client_process, args=(address, kind, share + (1 if n < extra else 0), seconds, results))
        for n in range(CLIENT_PROCESSES)
    ]
    server = server_processes(server_pid)
    server_cpu, postgres_before = cpu_seconds(server), postgres_cpu_seconds()
    started = time.monotonic()
    for process in processes:
        process.start()
    latencies: list[float] = []
    errors: collections.Counter[int] = collections.Counter()
    client_cpu = 0.0
    for _ in processes:
        own, failed, cpu = results.get(timeout=seconds + 300)
        latencies.extend(own)
        errors.update(failed)
        client_cpu += cpu
    for process in processes:
        process.join(timeout=60)
    elapsed = time.monotonic() - started
    server_cpu, postgres_cpu = cpu_seconds(server) - server_cpu, postgres_cpu_since(postgres_before)
    per_request = 1e3 / max(len(latencies), 1)
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1e3 if latencies else float("nan"),
        "p99": latencies[int(0.99 * (len(latencies) - 1))] * 1e3 if latencies else float("nan"),
        "requests": len(latencies),
        "errors": sum(errors.values()),
        "statuses": ", ".join(f"{count} x {status or 'no answer'}" for status, count in sorted(errors.items())),
        "elapsed": elapsed,
        "server_cpu_ms": server_cpu * per_request,
        "postgres_cpu_ms": postgres_cpu * per_request,
        "client_cpu_ms": client_cpu * per_request,
    }


def interleaved_p50s(calls: dict[str, Callable[[], object]], count: int) -> dict[str, float]:
    """The p50 of each call, in ms, sampled in turns so that the machine's load weighs on each alike."""
    for _ in range(min(50, count)):
        for call in calls.values():
            call()  # warm-up: connections, caches
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(count):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(taken) * 1e3 for name, taken in samples.items()}


def overhead(address: str, config_file: Path, network_id: str, count: int) -> dict[str, float]:
    from naas.server import build_wsgi_app

    path = f"/v2.0/networks/{network_id}"
    connection = http.client.HTTPConnection(address, timeout=60)
    root_connection = http.client.HTTPConnection(address, timeout=60)
    conf = parsed(config_file)
    app = build_wsgi_app(conf)
    plugins = load_plugins(parsed(config_file))
    context = admin_context()

    def over_http() -> None:
        status, body = get(address, path, connection)
        assert status == 200, status
        json.loads(body)

    def in_process_wsgi() -> None:
        response = webob.Request.blank(path, headers={"Accept": "application/json"}).get_response(app)
        assert response.status_code == 200, response.status
        json.loads(response.body)

    def root_over_http() -> None:
        status, body = get(address, "/", root_connection)
        assert status == 200, status
        json.loads(body)

    def root_in_process() -> None:
        response = webob.Request.blank("/", headers={"Accept": "application/json"}).get_response(app)
        assert response.status_code == 200, response.status
        json.loads(response.body)

    try:
        return interleaved_p50s(
            {
                "http": over_http,
                "wsgi": in_process_wsgi,
                "library": lambda: plugins.core.get_network(context, network_id),
                "root_http": root_over_http,
                "root_wsgi": root_in_process,
            },
            count,
        )
    finally:
        connection.close()
        root_connection.close()
        app.close()
        plugins.close()


KINDS = (("list", "GET /v2.0/networks?limit=100"), ("gman", "get me a network (new)"))


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", default="postgresql+psycopg2://postgres@127.0.0.1/postgres")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--networks", type=int, default=100)
    parser.add_argument("--overhead-requests", type=int, default=1000)
    parser.add_argument(
        "--threads",
        default="1,8",
        help="the [api] threads settings to compare 1 and 4 workers under (comma-separated; 8 is the default)",
    )
    args = parser.parse_args()
    thread_settings = [int(value) for value in args.threads.split(",")]
    os.environ.setdefault("NAAS_TEST_POSTGRESQL_URL", args.postgresql)
    server_url = require_backend("postgresql")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}")
    figures: dict[tuple[int, int, str], dict[str, Any]] = {}
    overheads: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="naas-bench-api-") as directory:
        for threads in thread_settings:
            for workers in (1, 4):
                with temporary_database(server_url, prefix="naas_bench_api") as database_url:
                    port = free_port()
                    config_file = configure(Path(directory), database_url, workers, port, threads)
                    network_id = seed(config_file, args.networks)
                    with naas_server(config_file, port, workers) as (address, server_pid):
                        for kind, label in KINDS:
                            phase = figures[(threads, workers, kind)] = load(
                                address, kind, args.clients, args.seconds, server_pid
                            )
                            failed = f": {phase['statuses']}" if phase["errors"] else ""
                            print(
                                f"PostgreSQL, {workers} worker(s) x {threads} thread(s), {args.clients} clients, "
                                f"{label}: {phase['rps']:.0f} req/s, p50 {phase['p50']:.1f} ms, "
                                f"p99 {phase['p99']:.1f} ms "
                                f"({phase['requests']} ok, {phase['errors']} failed{failed}); "
                                f"CPU per request: naas-server {phase['server_cpu_ms']:.1f} ms, "
                                f"postgres {phase['postgres_cpu_ms']:.1f} ms, "
                                f"load clients {phase['client_cpu_ms']:.1f} ms; load average {os.getloadavg()[0]:.2f}"
                            )
                        if workers == 1 and threads == thread_settings[-1]:
                            overheads = overhead(address, config_file, network_id, args.overhead_requests)
    cores = os.cpu_count() or 1
    for threads in thread_settings:
        for kind, label in KINDS:
            one, four = figures[(threads, 1, kind)], figures[(threads, 4, kind)]
            ratio = four["rps"] / one["rps"] if one["rps"] else float("nan")
            # When one worker already keeps a core busy (threads overlapping the database waits), four can
            # add only what is left of the other cores after PostgreSQL's and the clients' share.
            cpu = four["server_cpu_ms"] + four["postgres_cpu_ms"] + four["client_cpu_ms"]
            capacity = cores * 1e3 / cpu if cpu else float("nan")
            print(
                f"4 workers vs 1, {threads} thread(s) each, {label}: {ratio:.2f}x (target >= 1.8x on 2 cores: "
                f"{verdict(ratio >= 1.8)}). One worker kept {one['rps'] * one['server_cpu_ms'] / 1e3:.2f} core(s) "
                f"busy in naas-server; at four workers' CPU per request (naas-server, PostgreSQL and clients: "
                f"{cpu:.1f} ms) {cores} cores serve about {capacity:.0f} req/s, "
                f"{capacity / one['rps'] if one['rps'] else float('nan'):.2f}x one worker's rate"
            )
    over_wsgi = overheads["http"] - overheads["wsgi"]
    over_library = overheads["http"] - overheads["library"]
    print(
        f"GET /v2.0/networks/<id>, one client, p50: HTTP {overheads['http']:.3f} ms, in-process WSGI "
        f"{overheads['wsgi']:.3f} ms, library call {overheads['library']:.3f} ms; HTTP over in-process WSGI "
        f"{over_wsgi:.3f} ms ({verdict(over_wsgi < 1)}), over the library call {over_library:.3f} ms "
        f"({verdict(over_library < 1)}) (target < 1 ms)"
    )
    root_overhead = overheads["root_http"] - overheads["root_wsgi"]
    print(
        f"GET / (version discovery: no storage, no policy), one client, p50: HTTP {overheads['root_http']:.3f} ms, "
        f"in-process WSGI {overheads['root_wsgi']:.3f} ms; HTTP's own overhead {root_overhead:.3f} ms "
        f"({verdict(root_overhead < 1)}) (target < 1 ms)"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
