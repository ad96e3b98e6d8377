"""What holds when separate processes share one database: one topology per project, crash recovery, no
duplicate address.

Every worker is a real process (``worker.py``) with its own plugins and
connections, so the only thing the workers share is the database: these tests
exercise the schema's constraints and the plugins' locking, not Python's GIL.
PostgreSQL and MariaDB are opportunistic (see ``naas_plugins.sql.testing``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

import naas
from naas.auto_allocate import BuildStep, TopologyStatus
from naas.context import RequestContext, admin_context
from naas.resources import DEVICE_OWNER_ROUTER_GATEWAY, DEVICE_OWNER_ROUTER_INTERFACE
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin
from naas_plugins.sql.testing import require_backend, temporary_database

WORKER = os.path.join(os.path.dirname(__file__), "worker.py")
ADMIN = admin_context()
BUILD_STEPS = [
    BuildStep.CLAIMED,
    BuildStep.NETWORK_CREATED,
    BuildStep.SUBNET_CREATED,
    BuildStep.ROUTER_CREATED,
    BuildStep.INTERFACE_ADDED,
    BuildStep.NETWORK_ENABLED,
]


@pytest.fixture(params=["postgresql", "mysql"])
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    try:
        server = require_backend(request.param)
    except Exception as error:
        if type(error).__name__ == "SkipTest":
            pytest.skip(str(error))
        raise
    with temporary_database(server) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'naas.sqlite'}"


class Deployment:
    """The sql plugins on ``url`` with a default external network and default IPv4 and IPv6 pools."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.core = SqlCorePlugin(url)
        self.l3 = SqlL3Plugin(self.core)
        self.external = self.core.create_network(ADMIN, {"name": "public", "router:external": True, "is_default": True})
        self.core.create_subnet(ADMIN, {"network_id": self.external.id, "cidr": "100.64.0.0/22"})
        self.pools = [
            self.core.create_subnetpool(
                ADMIN,
                {"name": name, "prefixes": [prefix], "default_prefixlen": length, "shared": True, "is_default": True},
            )
            for name, prefix, length in (("v4", "10.0.0.0/16", 26), ("v6", "fd00:1::/48", 64))
        ]
        self.allocator = naas.AutoAllocator(self.core, self.l3)

    def close(self) -> None:
        self.core.close()

    def assert_one_working_topology(self, project: str, network_id: str) -> None:
        owner = {"tenant_id": project}
        networks = self.core.get_networks(ADMIN, owner)
        assert [(n.id, n.admin_state_up) for n in networks] == [(network_id, True)]
        subnets = self.core.get_subnets(ADMIN, owner)
        assert sorted((s.subnetpool_id, s.network_id) for s in subnets) == sorted(
            (pool.id, network_id) for pool in self.pools
        )
        routers = self.l3.get_routers(ADMIN, owner)
        assert len(routers) == 1 and routers[0].external_gateway_info is not None
        ports = self.core.get_ports(ADMIN, owner)
        assert sorted(p.device_owner for p in ports) == sorted(
            [DEVICE_OWNER_ROUTER_GATEWAY] + [DEVICE_OWNER_ROUTER_INTERFACE] * len(self.pools)
        )
        assert all(p.device_id == routers[0].id for p in ports)
        record = self.allocator.topology_store.get(project)
        assert record is not None and record.status is TopologyStatus.READY and record.network_id == network_id

    def assert_no_orphans(self, projects: list[str]) -> None:
        """Nothing exists beyond the deployment and one topology per project."""
        networks = self.core.get_networks(ADMIN)
        assert len(networks) == 1 + len(projects)
        assert len(self.l3.get_routers(ADMIN)) == len(projects)
        assert len(self.core.get_ports(ADMIN)) == len(projects) * (1 + len(self.pools))
        for pool in self.pools:
            allocated = self.core.get_subnets(ADMIN, {"subnetpool_id": pool.id})
            assert len(allocated) == len(projects), f"pool {pool.name} holds {len(allocated)} prefixes"
        assert {n.project_id for n in networks} - {ADMIN.project_id} == set(projects)


def run_worker(job: str, url: str, **arguments: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, job, url, json.dumps(arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def result_of(process: subprocess.Popen[str], timeout: float = 240) -> dict[str, Any]:
    stdout, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"worker failed:\n{stderr}"
    return dict(json.loads(stdout.strip().splitlines()[-1]))


def test_many_processes_build_one_topology_per_project(server_url: str) -> None:
    """8 processes x 8 threads ask at once for the topologies of the same 20 new projects."""
    deployment = Deployment(server_url)
    projects = [f"project-{n:02d}" for n in range(20)]
    start_at = time.time() + 5  # every process imported and connected before they all start
    workers = [
        run_worker("topologies", server_url, projects=projects, threads=8, start_at=start_at, seed=seed)
        for seed in range(8)
    ]
    outcomes = [result_of(worker) for worker in workers]

    assert [error for outcome in outcomes for error in outcome["errors"]] == []
    answers: dict[str, set[str]] = {}
    for outcome in outcomes:
        for project, network_id, enabled in outcome["results"]:
            assert enabled, f"{project} was handed a disabled network"
            answers.setdefault(project, set()).add(network_id)
    assert sorted(answers) == projects
    assert all(len(ids) == 1 for ids in answers.values()), answers
    assert sum(len(outcome["results"]) for outcome in outcomes) == 8 * 8 * 20
    for project, ids in answers.items():
        deployment.assert_one_working_topology(project, next(iter(ids)))
    deployment.assert_no_orphans(projects)
    deployment.close()


def _kill_at_each_step(url: str) -> None:
    deployment = Deployment(url)
    projects = []
    for step in BUILD_STEPS:
        project = f"killed-at-{step}"
        worker = run_worker("hold", url, project=project, step=step)
        assert worker.stdout is not None
        line = worker.stdout.readline()
        assert json.loads(line) == {"held": step}, worker.stderr.read() if worker.stderr else line
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        record = deployment.allocator.topology_store.get(project)
        assert record is not None and record.status is TopologyStatus.BUILDING

        network_id = deployment.allocator.get_auto_allocated_topology(RequestContext(project), None)["id"]
        projects.append(project)
        deployment.assert_one_working_topology(project, network_id)
        deployment.assert_no_orphans(projects)
    deployment.close()


def test_a_build_killed_at_any_step_leaves_nothing_behind(server_url: str) -> None:
    """SIGKILL the builder at each step in turn; another process then gets one working topology."""
    _kill_at_each_step(server_url)


def test_a_build_killed_at_any_step_leaves_nothing_behind_on_sqlite(sqlite_url: str) -> None:
    _kill_at_each_step(sqlite_url)


def test_processes_filling_a_subnet_never_share_an_address(server_url: str) -> None:
    """16 processes create ports on one /24 until it is full."""
    deployment = Deployment(server_url)
    network = deployment.core.create_network(ADMIN, {"name": "crowded", "project_id": "port-filler"})
    subnet = deployment.core.create_subnet(ADMIN, {"network_id": network.id, "cidr": "192.0.2.0/24"})
    start_at = time.time() + 5
    workers = [run_worker("ports", server_url, network_id=network.id, start_at=start_at) for _ in range(16)]
    outcomes = [result_of(worker) for worker in workers]

    assert [error for outcome in outcomes for error in outcome["errors"]] == []
    addresses = [address for outcome in outcomes for address in outcome["addresses"]]
    assert len(addresses) == len(set(addresses)), "an address was handed out twice"
    usable = sum(pool.size for pool in subnet.allocation_pools)
    assert len(addresses) == usable == 253
    assert str(subnet.gateway_ip) not in addresses
    for outcome in outcomes:
        assert outcome["final"] == f"IpAddressExhausted: No more IP addresses available on network {network.id}."
    deployment.close()
