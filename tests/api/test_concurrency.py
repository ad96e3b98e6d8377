"""Concurrent HTTP requests for one project's topology: one topology, every caller gets its network.

The race window is real: the first build is held after its first recorded step
until every other request is inside get-me-a-network, then released.
"""

from __future__ import annotations

import json
import threading
import urllib.request
import wsgiref.simple_server
from pathlib import Path
from typing import Any

import webtest

from naas.api import build_app_from_plugins
from naas.auto_allocate import AutoAllocator
from naas.events import EventRegistry
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from tests.api.conftest import ADMIN, PROJECT_A, Api, make_conf
from tests.api.test_openstacksdk import _QuietHandler, _ThreadingServer

CALLERS = 8


def test_concurrent_requests_share_one_topology(tmp_path: Path) -> None:
    events = EventRegistry()
    core = MemoryCorePlugin(events=events)
    l3 = MemoryL3Plugin(core_plugin=core, events=events)
    entered = threading.Semaphore(0)
    release = threading.Event()
    held: list[str] = []

    def hold_first_build(step: str) -> None:
        if not held:
            held.append(step)
            for _ in range(CALLERS - 1):
                assert entered.acquire(timeout=30), "the other requests never reached get-me-a-network"
            release.set()

    allocator = AutoAllocator(core, l3, build_hook=hold_first_build)
    real_get = allocator.get_auto_allocated_topology

    def counted_get(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if held:  # the first build is held: this request arrives during it
            entered.release()
        return real_get(*args, **kwargs)

    allocator.get_auto_allocated_topology = counted_get  # type: ignore[method-assign]
    app = build_app_from_plugins(core, l3, allocator, make_conf(tmp_path))
    api = Api(app=app, core=core, l3=l3, client=webtest.TestApp(app))
    api.external_network()
    api.default_pools()
    server = wsgiref.simple_server.make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v2.0/auto-allocated-topology/{PROJECT_A}"
    answers: list[dict[str, Any]] = []
    failures: list[BaseException] = []

    def ask() -> None:
        request = urllib.request.Request(url, headers={"X-Project-Id": PROJECT_A})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers.append(json.load(response)["auto_allocated_topology"])
        except BaseException as error:  # reported below, with every other outcome
            failures.append(error)

    try:
        first = threading.Thread(target=ask)
        first.start()
        others = [threading.Thread(target=ask) for _ in range(CALLERS - 1)]
        while not held and first.is_alive():
            first.join(timeout=0.01)
        for thread in others:
            thread.start()
        for thread in [first, *others]:
            thread.join(timeout=120)
    finally:
        server.shutdown()
        server.server_close()

    assert failures == []
    assert release.is_set()
    assert len(answers) == CALLERS and len({answer["id"] for answer in answers}) == 1
    routers = api.client.get("/v2.0/routers", headers=ADMIN).json["routers"]
    networks = api.client.get("/v2.0/networks?router:external=False", headers=ADMIN).json["networks"]
    assert len(routers) == 1 and [network["id"] for network in networks] == [answers[0]["id"]]
