"""Get-me-a-network on the memory plugins: how the cost of one request evolves with the number of projects.

Builds the topologies of N projects one after another and prints the median
and 95th percentile of one request around the 1st, the 1,000th and the
N-th project, and of one dry-run. Usage::

    python benchmarks/bench_auto_allocate.py [--projects 10000] [--window 100]

Target (SPEC): the N-th project's median within 1.5x of the 1st.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import naas
from naas.context import RequestContext, admin_context
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin


def deploy(core: MemoryCorePlugin) -> None:
    admin = admin_context()
    public = core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
    core.create_subnet(admin, {"network_id": public.id, "cidr": "100.64.0.0/14"})
    core.create_subnetpool(
        admin,
        {"name": "v4", "prefixes": ["10.0.0.0/8"], "default_prefixlen": 26, "shared": True, "is_default": True},
    )
    core.create_subnetpool(
        admin,
        {"name": "v6", "prefixes": ["fd00::/32"], "default_prefixlen": 64, "shared": True, "is_default": True},
    )


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(0.95 * (len(ordered) - 1))] * 1e3


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=100, help="requests per reported window")
    args = parser.parse_args()

    core = MemoryCorePlugin()
    l3 = MemoryL3Plugin(core)
    deploy(core)
    allocator = naas.AutoAllocator(core, l3)
    marks = {1: "1st", 1_000: "1,000th", args.projects: f"{args.projects:,}th"}
    windows = {mark: (max(1, mark - args.window // 2), max(1, mark - args.window // 2) + args.window) for mark in marks}
    samples: dict[int, list[float]] = {mark: [] for mark in marks}
    dry_runs: list[float] = []
    started = time.perf_counter()
    for number in range(1, args.projects + args.window // 2 + 1):
        context = RequestContext(f"project-{number}")
        elapsed = timed(lambda context=context: allocator.get_auto_allocated_topology(context, None))
        for mark, (low, high) in windows.items():
            if low <= number < high:
                samples[mark].append(elapsed)
        if number % 100 == 0:
            dry_runs.append(
                timed(lambda context=context: allocator.get_auto_allocated_topology(context, None, ["dry-run"]))
            )
    total = time.perf_counter() - started

    print(f"get me a network, memory plugins, {args.projects:,} projects built in {total:.1f} s")
    print(f"{'project':>12}  {'median ms':>10}  {'p95 ms':>8}  (window of {args.window} requests)")
    medians = {}
    for mark, label in marks.items():
        median, p95 = summary(samples[mark])
        medians[mark] = median
        print(f"{label:>12}  {median:10.3f}  {p95:8.3f}")
    median, p95 = summary(dry_runs)
    print(f"{'dry-run':>12}  {median:10.3f}  {p95:8.3f}  ({len(dry_runs)} dry-runs spread over the run)")
    ratio = medians[args.projects] / medians[1]
    verdict = "within" if ratio <= 1.5 else "NOT within"
    print(f"{marks[args.projects]} / 1st median: {ratio:.2f}x ({verdict} the 1.5x target)")


if __name__ == "__main__":
    main()
