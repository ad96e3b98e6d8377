"""How IPAM allocation cost depends on how full a subnet or a subnet pool already is.

Run: ``python benchmarks/bench_ipam.py``. Prints figures; asserts nothing about time.

What is measured: the median wall time (``time.perf_counter``) of ONE allocation call, over many
repetitions. After each timed call the address or prefix is released again, outside the timed region, so
every repetition starts from the same state (no drift). Filled states are made of randomly scattered
allocations, so the free space is as fragmented as it gets: for a 90 %-full /16 that is thousands of
separate free ranges.

- port address, lowest free: ``FreeAddresses.allocate()`` in an empty /16 vs. a 90 %-full one;
- port address, specific: ``FreeAddresses.allocate_address(ip)`` for a random free ``ip``, same two subnets;
- subnet from a pool: ``FreePrefixes.allocate(24)`` from 10.0.0.0/8 holding 0 vs. 20,000 prefixes
  (20,000 random /24s, then 20,000 random prefixes of lengths /20 to /28), taken with ``allocate_cidr``.
"""

from __future__ import annotations

import functools
import gc
import random
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

import netaddr

from naas import exceptions
from naas.ipam import FreeAddresses, FreePrefixes, default_allocation_pools

REPETITIONS = 20_000
SEED = 20240611
T = TypeVar("T")


def median_seconds(allocate: Callable[[], T], release: Callable[[T], None]) -> float:
    """Median time of ``allocate()``; each result is released untimed so the state never drifts."""
    samples = []
    gc.disable()
    try:
        for _ in range(REPETITIONS):
            start = time.perf_counter()
            allocated = allocate()
            samples.append(time.perf_counter() - start)
            release(allocated)
    finally:
        gc.enable()
    return statistics.median(samples)


def scattered_subnet(fill: float, rng: random.Random) -> FreeAddresses:
    """10.0.0.0/16 with a random ``fill`` fraction of its allocation pool taken."""
    cidr = "10.0.0.0/16"
    pools = default_allocation_pools(cidr, "10.0.0.1")
    usable = [value for pool in pools for value in range(pool.first, pool.last + 1)]
    taken = [netaddr.IPAddress(value) for value in rng.sample(usable, int(len(usable) * fill))]
    return FreeAddresses("bench-subnet", cidr, pools, taken)


def scattered_pool(prefixlens: list[int], rng: random.Random) -> FreePrefixes:
    """10.0.0.0/8 with one prefix per entry of ``prefixlens`` taken at a random free spot."""
    prefixes = FreePrefixes("bench-pool", ["10.0.0.0/8"])
    for prefixlen in prefixlens:
        while True:
            try:
                prefixes.allocate_cidr(netaddr.IPNetwork((0x0A000000 + rng.randrange(1 << 24), prefixlen)))
                break
            except exceptions.Conflict:
                continue  # that spot is taken: draw another
    return prefixes


def allocate_random_free(addresses: FreeAddresses, rng: random.Random) -> Callable[[], netaddr.IPAddress]:
    """A call that takes a random address that is free when the call is made (picked beforehand, untimed)."""
    free = [value for first, last in addresses.to_ranges() for value in range(first, last + 1)]
    picks = iter([netaddr.IPAddress(value) for value in rng.choices(free, k=REPETITIONS)])
    return lambda: addresses.allocate_address(next(picks))


def report(title: str, medians: dict[str, float]) -> None:
    """Print each median, and for each filled state its ratio to the "empty" one."""
    print(title)
    for name, median in medians.items():
        line = f"  {name:<16} {median * 1e6:7.2f} us"
        if name != "empty":
            ratio = median / medians["empty"]
            line += f"   full/empty {ratio:.2f}: {'within 2x' if ratio <= 2 else 'NOT within 2x'}"
        print(line)


def main() -> None:
    rng = random.Random(SEED)
    print(f"median of {REPETITIONS:,} timed calls each; every result released again, untimed\n")

    started = time.perf_counter()
    subnets = {"empty": scattered_subnet(0.0, rng), "90% full": scattered_subnet(0.9, rng)}
    full = subnets["90% full"]
    print(
        f"built the 90%-full /16 in {time.perf_counter() - started:.2f} s: "
        f"{full.free_count:,} free addresses in {len(full.to_ranges()):,} separate ranges\n"
    )
    report(
        "one port address in a /16, lowest free: FreeAddresses.allocate()",
        {name: median_seconds(s.allocate, s.release) for name, s in subnets.items()},
    )
    report(
        "one port address in a /16, a random free one: FreeAddresses.allocate_address(ip)",
        {name: median_seconds(allocate_random_free(s, rng), s.release) for name, s in subnets.items()},
    )

    started = time.perf_counter()
    pools = {
        "empty": scattered_pool([], rng),
        "20,000 /24s": scattered_pool([24] * 20_000, rng),
        "20,000 /22-/28": scattered_pool([rng.randint(22, 28) for _ in range(20_000)], rng),
    }
    elapsed = time.perf_counter() - started
    blocks = ", ".join(f"{name}: {len(p.to_blocks()):,}" for name, p in pools.items())
    print(f"\nbuilt the pools with allocate_cidr in {elapsed:.2f} s; free blocks {blocks}\n")
    report(
        "a /24 from a 10.0.0.0/8 pool holding 0 or 20,000 prefixes: FreePrefixes.allocate(24)",
        {name: median_seconds(functools.partial(p.allocate, 24), p.release) for name, p in pools.items()},
    )


if __name__ == "__main__":
    main()
