"""Two processes sharing one state file build one topology per project.

Each worker is a separate (forked) process with its own plugins over the
same file, so the only thing they share is the file and its lock. Each write
transaction of the workers sleeps between loading the document and
committing it, so the two processes' claims on a project overlap unless the
file lock serialises them.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

from naas_example_driver import ExampleCorePlugin, ExampleL3Plugin, JsonFileStorage

import naas
from naas import RequestContext, admin_context
from naas.testing.fixtures import make_default_pools, make_external_network

PROJECTS = [f"project-{n}" for n in range(4)]
ADMIN = admin_context()
# Long enough for the other process to load the same document before this one commits.
RACE_WINDOW_SECONDS = 0.02


def _slow_load(storage: JsonFileStorage) -> Any:
    document = _original_load(storage)
    time.sleep(RACE_WINDOW_SECONDS)
    return document


_original_load = JsonFileStorage._load


def ask_for_topologies(state_file: str, start_at: float, results: Any) -> None:
    """A worker: get-me-a-network for every project, from the same moment as the other worker."""
    JsonFileStorage._load = _slow_load  # type: ignore[method-assign,assignment]  # only in this child process
    core = ExampleCorePlugin(state_file)
    allocator = naas.AutoAllocator(core, ExampleL3Plugin(core))
    time.sleep(max(0.0, start_at - time.time()))
    try:
        answers = {
            project: allocator.get_auto_allocated_topology(RequestContext(project), None)["id"] for project in PROJECTS
        }
    except Exception as error:  # reported to the test, which fails on it at once
        results.put(repr(error))
    else:
        results.put(answers)


def test_two_processes_build_one_topology_per_project(tmp_path: Path) -> None:
    state_file = str(tmp_path / "state.json")
    core = ExampleCorePlugin(state_file)
    l3 = ExampleL3Plugin(core)
    make_external_network(core, ADMIN)
    make_default_pools(core, ADMIN, ipv6_prefixes=None)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 0.5
    workers = [context.Process(target=ask_for_topologies, args=(state_file, start_at, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    answers = [results.get(timeout=60) for _ in workers]
    assert all(isinstance(answer, dict) for answer in answers), answers
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0

    assert answers[0] == answers[1]
    assert sorted(answers[0]) == PROJECTS
    for project, network_id in answers[0].items():
        networks = core.get_networks(ADMIN, {"project_id": project})
        assert [network.id for network in networks] == [network_id]
        assert len(l3.get_routers(ADMIN, {"project_id": project})) == 1
        assert len(core.get_subnets(ADMIN, {"project_id": project})) == 1
    record_ids = {core.get_topology_store().get(project).network_id for project in PROJECTS}  # type: ignore[union-attr]
    assert record_ids == set(answers[0].values())
