"""Get-me-a-network on the sql plugins: latency, SQL statements, scale and multi-process throughput.

Prints, for each figure SPEC.md sets a target for:

* SQL statements issued to build (and to delete) one dual-stack topology
  (counted, so machine noise does not move them);
* on an SQLite file: median and 95th percentile of one request at the 1st,
  1,000th and N-th project, and the N-th / 1st ratio;
* on PostgreSQL (if it answers): median and 95th percentile of one request,
  and topologies per second built by 1, 4 and 8 worker processes.

Usage::

    python benchmarks/bench_sql.py [--projects 10000] [--window 100]
        [--postgresql postgresql+psycopg2://postgres@127.0.0.1/postgres] [--throughput-seconds 10]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

import naas
from naas.context import RequestContext, admin_context
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin


def deploy(core: SqlCorePlugin) -> None:
    admin = admin_context()
    public = core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
    core.create_subnet(admin, {"network_id": public.id, "cidr": "100.64.0.0/14"})
    for name, prefix, length in (("v4", "10.0.0.0/8", 26), ("v6", "fd00::/32", 64)):
        core.create_subnetpool(
            admin, {"name": name, "prefixes": [prefix], "default_prefixlen": length, "shared": True, "is_default": True}
        )


def allocator_on(url: str) -> tuple[naas.AutoAllocator, SqlCorePlugin]:
    core = SqlCorePlugin(url)
    return naas.AutoAllocator(core, SqlL3Plugin(core)), core


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(0.95 * (len(ordered) - 1))] * 1e3


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


class Counts:
    """Statements sent, and transactions begun, committed and rolled back, on an engine."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.begun = self.committed = self.rolled_back = 0

    def __len__(self) -> int:
        return len(self.statements)

    def transactions(self) -> str:
        return f"{self.begun} transactions ({self.committed} committed, {self.rolled_back} rolled back)"


@contextmanager
def counting_statements(core: SqlCorePlugin) -> Iterator[Counts]:
    counts = Counts()

    def statement(conn: Any, cursor: Any, text: str, *args: Any) -> None:
        counts.statements.append(text)

    def begin(conn: Any) -> None:
        counts.begun += 1

    def commit(conn: Any) -> None:
        counts.committed += 1

    def rollback(conn: Any) -> None:
        counts.rolled_back += 1

    engine = core.database.engine
    listeners = (("before_cursor_execute", statement), ("begin", begin), ("commit", commit), ("rollback", rollback))
    for name, listener in listeners:
        sa.event.listen(engine, name, listener)
    try:
        yield counts
    finally:
        for name, listener in listeners:
            sa.event.remove(engine, name, listener)


def statement_counts(url: str) -> None:
    allocator, core = allocator_on(url)
    deploy(core)
    allocator.get_auto_allocated_topology(RequestContext("warm-up"), None)  # caches, prepared metadata
    context = RequestContext("counted")
    with counting_statements(core) as build:
        allocator.get_auto_allocated_topology(context, None)
    with counting_statements(core) as again:
        allocator.get_auto_allocated_topology(context, None)
    with counting_statements(core) as dry_run:
        allocator.get_auto_allocated_topology(context, None, ["dry-run"])
    with counting_statements(core) as delete:
        allocator.delete_auto_allocated_topology(context, None)
    print("SQL statements (SQLite file), one dual-stack topology:")
    print(
        f"  build {len(build)} (target: 40 or fewer), existing {len(again)}, "
        f"dry-run {len(dry_run)}, delete {len(delete)}"
    )
    print(f"  build: {build.transactions()}; existing: {again.transactions()}; delete: {delete.transactions()}")
    core.close()


def sqlite_scale(url: str, projects: int, window: int) -> None:
    allocator, core = allocator_on(url)
    deploy(core)
    marks = {1: "1st", 1_000: "1,000th", projects: f"{projects:,}th"}
    windows = {mark: (max(1, mark - window // 2), max(1, mark - window // 2) + window) for mark in marks}
    samples: dict[int, list[float]] = {mark: [] for mark in marks}
    deletes: list[float] = []
    started = time.perf_counter()
    for number in range(1, projects + window // 2 + 1):
        context = RequestContext(f"project-{number}")
        elapsed = timed(lambda context=context: allocator.get_auto_allocated_topology(context, None))
        for mark, (low, high) in windows.items():
            if low <= number < high:
                samples[mark].append(elapsed)
    total = time.perf_counter() - started
    for number in range(1, window + 1):
        context = RequestContext(f"project-{number}")
        deletes.append(timed(lambda context=context: allocator.delete_auto_allocated_topology(context, None)))
    print(f"get me a network, sql plugins on an SQLite file: {projects:,} projects built in {total:.1f} s")
    print(f"{'project':>12}  {'median ms':>10}  {'p95 ms':>8}  (window of {window} requests)")
    medians = {}
    for mark, label in marks.items():
        median, p95 = summary(samples[mark])
        medians[mark] = median
        print(f"{label:>12}  {median:10.2f}  {p95:8.2f}")
    median, p95 = summary(deletes)
    print(f"{'delete':>12}  {median:10.2f}  {p95:8.2f}")
    ratio = medians[projects] / medians[1]
    print(f"median of the 1st: {medians[1]:.2f} ms ({'under' if medians[1] < 10 else 'NOT under'} the 10 ms target)")
    print(f"{marks[projects]} / 1st median: {ratio:.2f}x ({'within' if ratio <= 1.5 else 'NOT within'} 1.5x)")
    core.close()


def _throughput_worker(url: str, worker: int, seconds: float, start_at: float, results: Any) -> None:
    allocator, core = allocator_on(url)
    while time.time() < start_at:
        time.sleep(0.001)
    built = 0
    deadline = start_at + seconds
    while time.time() < deadline:
        allocator.get_auto_allocated_topology(RequestContext(f"w{worker}-{built}-{uuid.uuid4().hex[:6]}"), None)
        built += 1
    results.put(built)
    core.close()


def postgresql_figures(server_url: str, seconds: float, requests: int) -> None:
    from naas_plugins.sql.testing import temporary_database

    with temporary_database(server_url) as url:
        allocator, core = allocator_on(url)
        deploy(core)
        samples = [
            timed(lambda n=n: allocator.get_auto_allocated_topology(RequestContext(f"latency-{n}"), None))
            for n in range(requests)
        ]
        median, p95 = summary(samples)
        print(
            f"get me a network, sql plugins on PostgreSQL: median {median:.2f} ms, p95 {p95:.2f} ms "
            f"({requests} requests)"
        )
        core.close()
        rates = {}
        context = multiprocessing.get_context("spawn")
        for workers in (1, 4, 8):
            results = context.Queue()
            start_at = time.time() + 3.0  # every worker connected and warmed up before the clock starts
            processes = [
                context.Process(target=_throughput_worker, args=(url, n, seconds, start_at, results))
                for n in range(workers)
            ]
            for process in processes:
                process.start()
            built = sum(results.get() for _ in processes)
            for process in processes:
                process.join()
            rates[workers] = built / seconds
            print(f"  {workers} worker process(es): {rates[workers]:.1f} topologies/s")
        ratio = rates[4] / rates[1]
        print(f"  4 workers / 1 worker: {ratio:.2f}x (target: at least 1.8x on this 2-core machine)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--postgresql", default="postgresql+psycopg2://postgres@127.0.0.1/postgres")
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--latency-requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        statement_counts(f"sqlite:///{os.path.join(directory, 'count.sqlite')}")
        sqlite_scale(f"sqlite:///{os.path.join(directory, 'scale.sqlite')}", args.projects, args.window)
    try:
        postgresql_figures(args.postgresql, args.throughput_seconds, args.latency_requests)
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL figures skipped: the server did not answer ({error.orig})")


if __name__ == "__main__":
    main()
