"""Finding 8 for real: a request from another PID namespace, on the same host name, waits for a live builder.

Containers with host networking share the host name (and the kernel) but not
the PID namespace. The contender here runs under ``unshare --pid --fork``, so
the builder's pid does not exist where it looks; it must not take that as the
builder's death and tear its build down.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from typing import Any

import pytest

from naas import AutoAllocator, RequestContext, admin_context
from naas.auto_allocate import BuildStep
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin

CONTENDER = """
import json, sys
from naas import AutoAllocator, RequestContext
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin
core = SqlCorePlugin(sys.argv[1], auto_migrate=False)
allocator = AutoAllocator(core, SqlL3Plugin(core))
print(json.dumps({"asking": True}), flush=True)
print(json.dumps(allocator.get_auto_allocated_topology(RequestContext("project-a"), None)), flush=True)
"""


def _unshare() -> str:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    if subprocess.run([unshare, "--pid", "--fork", "true"], capture_output=True).returncode != 0:
        pytest.skip("this user may not create PID namespaces")
    return unshare


def test_a_builder_in_another_pid_namespace_is_not_declared_dead(tmp_path: Any) -> None:
    unshare = _unshare()
    url = f"sqlite:///{tmp_path / 'naas.sqlite'}"
    core = SqlCorePlugin(url)
    l3 = SqlL3Plugin(core)
    admin = admin_context()
    public = core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
    core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24"})
    core.create_subnetpool(
        admin, {"prefixes": ["10.128.0.0/16"], "default_prefixlen": 26, "shared": True, "is_default": True}
    )

    holding, release = threading.Event(), threading.Event()

    def slow_but_alive(step: str) -> None:
        if step == BuildStep.NETWORK_CREATED:
            holding.set()
            release.wait(60)

    builder = AutoAllocator(core, l3, lease_seconds=120, build_hook=slow_but_alive)
    outcome: list[Any] = []

    def build() -> None:
        try:
            outcome.append(builder.get_auto_allocated_topology(RequestContext("project-a"), None))
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=build)
    thread.start()
    try:
        assert holding.wait(30), "the builder never reached its slow step"
        contender = subprocess.Popen(
            [unshare, "--pid", "--fork", sys.executable, "-c", CONTENDER, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert contender.stdout is not None
        assert json.loads(contender.stdout.readline() or "null") == {"asking": True}, contender.stderr
        # Give the contender the time it needed to misjudge the builder (under a second in the finding).
        try:
            contender.wait(3)
        except subprocess.TimeoutExpired:
            pass
    finally:
        release.set()
        thread.join(60)
    stdout, stderr = contender.communicate(timeout=120)
    assert contender.returncode == 0, stderr
    answer = json.loads(stdout.strip().splitlines()[-1])

    assert len(outcome) == 1 and isinstance(outcome[0], dict), outcome
    assert outcome[0]["id"] == answer["id"]
    networks = core.get_networks(admin, {"tenant_id": "project-a"})
    assert [(n.id, n.admin_state_up) for n in networks] == [(answer["id"], True)]
    core.close()
