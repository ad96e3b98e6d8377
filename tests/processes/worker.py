"""A worker process for the multi-process tests: ``python worker.py JOB URL ARGS-AS-JSON``.

Each run builds its own sql plugins on the database at URL (as a separate
naas process would), does one job, and prints its result as one JSON line on
stdout. Jobs:

* ``topologies``: ``{"projects": [...], "threads": N, "start_at": t, "seed": s}`` — N threads each
  ask for every project's topology (in its own random order) starting together at wall-clock time t;
  prints ``{"results": [[project, network_id, enabled], ...], "errors": [...]}``.
* ``hold``: ``{"project": p, "step": BuildStep}`` — builds p's topology and stops at that step,
  printing ``{"held": step}`` and then sleeping until killed.
* ``ports``: ``{"network_id": n, "start_at": t}`` — creates ports on n until the network is full;
  prints ``{"addresses": [...], "errors": [...], "final": "<exception class>: <message>"}``.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from typing import Any

import naas
from naas.context import RequestContext, admin_context
from naas.exceptions import IpAddressExhausted
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin


def _plugins(url: str) -> tuple[SqlCorePlugin, SqlL3Plugin]:
    core = SqlCorePlugin(url, auto_migrate=False)
    return core, SqlL3Plugin(core)


def _wait_until(start_at: float) -> None:
    while time.time() < start_at:
        time.sleep(0.001)


def topologies(url: str, projects: list[str], threads: int, start_at: float, seed: int) -> dict[str, Any]:
    core, l3 = _plugins(url)
    allocator = naas.AutoAllocator(core, l3)
    results: list[list[Any]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def ask(thread: int) -> None:
        order = list(projects)
        random.Random(seed * 1000 + thread).shuffle(order)
        _wait_until(start_at)
        for project in order:
            try:
                network_id = allocator.get_auto_allocated_topology(RequestContext(project), None)["id"]
                enabled = core.get_network(admin_context(), network_id).admin_state_up
            except Exception as error:
                with lock:
                    errors.append(f"{project}: {type(error).__name__}: {error}")
                continue
            with lock:
                results.append([project, network_id, enabled])

    workers = [threading.Thread(target=ask, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"results": results, "errors": errors}


def hold(url: str, project: str, step: str) -> None:
    core, l3 = _plugins(url)

    def stop_at(reached: str) -> None:
        if reached == step:
            print(json.dumps({"held": step}), flush=True)
            time.sleep(3600)

    naas.AutoAllocator(core, l3, build_hook=stop_at).get_auto_allocated_topology(RequestContext(project), None)
    print(json.dumps({"finished": True}), flush=True)


def ports(url: str, network_id: str, start_at: float) -> dict[str, Any]:
    core, _ = _plugins(url)
    context = RequestContext("port-filler")
    addresses: list[str] = []
    errors: list[str] = []
    _wait_until(start_at)
    while True:
        try:
            port = core.create_port(context, {"network_id": network_id})
        except IpAddressExhausted as error:
            return {"addresses": addresses, "errors": errors, "final": f"{type(error).__name__}: {error}"}
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
            if len(errors) > 50:
                return {"addresses": addresses, "errors": errors, "final": "too many errors"}
            continue
        addresses.extend(str(fixed_ip.ip_address) for fixed_ip in port.fixed_ips)


def main() -> None:
    job, url, arguments = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    if job == "hold":
        hold(url, **arguments)
        return
    result = {"topologies": topologies, "ports": ports}[job](url, **arguments)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
