"""Get-me-a-network with the ovn backend, against a private OVN control plane (NB and SB; no root).

Prints:

- the OVSDB transactions one project's topology costs, next to the plugin
  calls that built it and the backend changes they made (target: one per
  plugin call, none on a read);
- the median and 95th percentile of one request around the 1st and the
  N-th project (target: within 1.5x);
- one sync of all N topologies when nothing differs: the backend's own
  comparison, and the whole ``naas backend sync`` path including reading
  storage (target: under 2 s), and the transactions it sent (0).

Usage::

    python benchmarks/bench_ovn.py [--projects 1000] [--window 50] [--with-northd]

ovn-northd is left out by default: it measures OVN, not naas. With it,
ovn-northd 23.03 compiling 1,000 routers that share one external network
took minutes of full recomputes and grew past 10 GB on a 2-core machine, and
its CPU use slows the requests themselves; use ``--with-northd`` with a few
hundred projects.

Needs ovn-central's programs and ovsdbapp (``pip install -e '.[ovn]'``).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

import naas
from naas.backends import BackendChain
from naas.context import RequestContext, admin_context
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.ovn import OvnBackend
from naas_plugins.ovn.testing import ControlPlane

_WRITES = ("create_", "update_", "delete_", "add_", "remove_", "associate_", "disassociate_")


def deploy(core: MemoryCorePlugin) -> None:
    admin = admin_context()
    public = core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
    core.create_subnet(admin, {"network_id": public.id, "cidr": "100.64.0.0/14", "enable_dhcp": False})
    for name, prefix, length in (("v4", "10.0.0.0/8", 26), ("v6", "fd00::/32", 64)):
        core.create_subnetpool(
            admin, {"name": name, "prefixes": [prefix], "default_prefixlen": length, "shared": True, "is_default": True}
        )


class Calls:
    """Counts the write calls made on the plugins (not those one plugin makes on the other) and the backend changes."""

    def __init__(self, core: Any, l3: Any, backend: OvnBackend) -> None:
        self.plugin_writes = 0
        self.changes = 0
        self._depth = 0
        for plugin in (core, l3):
            for name in dir(type(plugin)):
                if name.startswith(_WRITES) and callable(getattr(plugin, name)):
                    setattr(plugin, name, self._counting(getattr(plugin, name)))
        postcommit_all = backend.postcommit_all

        @functools.wraps(postcommit_all)
        def counted_changes(changes: Any) -> Any:
            self.changes += len(changes)
            return postcommit_all(changes)

        backend.postcommit_all = counted_changes  # type: ignore[method-assign]

    def _counting(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if self._depth == 0:
                self.plugin_writes += 1
            self._depth += 1
            try:
                return method(*args, **kwargs)
            finally:
                self._depth -= 1

        return counted


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(0.95 * (len(ordered) - 1))] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--window", type=int, default=50, help="requests per reported window")
    parser.add_argument("--with-northd", action="store_true", help="run ovn-northd too, and wait for it at the end")
    args = parser.parse_args()

    with ControlPlane.started(northd=args.with_northd) as plane:
        backend = OvnBackend(plane.nb_connection, timeout=60, gateway_chassis=["bench-gw"])
        core = MemoryCorePlugin(backends=BackendChain({"ovn": backend}))
        l3 = MemoryL3Plugin(core)
        deploy(core)
        allocator = naas.AutoAllocator(core, l3)
        calls = Calls(core, l3, backend)
        northbound = backend.northbound

        first = RequestContext("project-1")
        before = (northbound.transactions, calls.plugin_writes, calls.changes)
        allocator.get_auto_allocated_topology(first, None)
        transactions, writes, changes = (
            now - then
            for now, then in zip((northbound.transactions, calls.plugin_writes, calls.changes), before, strict=True)
        )
        before_reads = northbound.transactions
        allocator.get_auto_allocated_topology(first, None)  # exists: a read
        allocator.get_auto_allocated_topology(first, None, ["dry-run"])
        core.get_networks(first)
        l3.get_routers(first)
        reads = northbound.transactions - before_reads

        print(f"ovn backend on {plane.nb_connection} ({'with' if args.with_northd else 'without'} ovn-northd)")
        print(
            f"one dual-stack topology: {transactions} OVSDB transactions for {writes} plugin write calls "
            f"({transactions / writes:.2f} per call) carrying {changes} backend changes (a router's gateway or "
            f"interface is a port change and a router change, written together); {reads} for 4 reads"
        )

        marks = {1: "1st", args.projects: f"{args.projects:,}th"}
        windows = {
            mark: (max(2, mark - args.window // 2), max(2, mark - args.window // 2) + args.window) for mark in marks
        }
        samples: dict[int, list[float]] = {mark: [] for mark in marks}
        cpu: dict[int, list[float]] = {mark: [] for mark in marks}
        started = time.perf_counter()
        last = max(high for _, high in windows.values())
        for number in range(2, last):
            context = RequestContext(f"project-{number}")
            start, start_cpu = time.perf_counter(), time.process_time()
            allocator.get_auto_allocated_topology(context, None)
            elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
            for mark, (low, high) in windows.items():
                if low <= number < high:
                    samples[mark].append(elapsed)
                    cpu[mark].append(elapsed_cpu)
        built = time.perf_counter() - started
        print(f"{last - 1:,} topologies built in {built:.1f} s")
        print(
            f"{'project':>12}  {'median ms':>10}  {'p95 ms':>8}  {'naas CPU ms':>11}  (window of {args.window} "
            "requests; naas CPU: this process's CPU time, median, without the servers' and other processes' load)"
        )
        medians = {}
        for mark, label in marks.items():
            median, p95 = summary(samples[mark])
            medians[mark] = median
            print(f"{label:>12}  {median:10.2f}  {p95:8.2f}  {summary(cpu[mark])[0]:11.2f}")
        ratio = medians[args.projects] / medians[1]
        print(f"{marks[args.projects]} / 1st median: {ratio:.2f}x ({'within' if ratio <= 1.5 else 'NOT within'} 1.5x)")

        if args.with_northd:
            start = time.perf_counter()
            plane.wait_for_northd(timeout=1800)
            print(f"ovn-northd caught up {time.perf_counter() - start:.2f} s after the last request")

        sent = northbound.transactions
        state_start = time.perf_counter()
        from naas.rules._dataplane import _stored_state

        state = core.storage.run(_stored_state, write=False)
        read = time.perf_counter() - state_start
        start = time.perf_counter()
        report = backend.sync(state, repair=False)
        compare = time.perf_counter() - start
        start = time.perf_counter()
        whole = core.dataplane.sync()
        whole_seconds = time.perf_counter() - start
        assert not report.repairs and not whole.repairs and not whole.failures, (report, whole)
        rows = sum(len(northbound.owned(owner)) for owner in northbound.owners())
        print(
            f"sync of {last - 1:,} topologies ({len(state.networks):,} networks, {len(state.ports):,} ports, "
            f"{len(state.routers):,} routers; {rows:,} naas rows in the NB), nothing to change:"
        )
        print(f"  backend comparison {compare:.2f} s (storage read {read:.2f} s)")
        print(f"  whole sync (storage read, comparison, repair=True) {whole_seconds:.2f} s")
        print(
            f"  {'within' if whole_seconds < 2 else 'NOT within'} the 2 s target; "
            f"{northbound.transactions - sent} OVSDB transactions sent"
        )
        core.close()
        backend.close()


if __name__ == "__main__":
    main()
