"""naas-server's process life: start-up checks, what the master does before forking, and a graceful stop under load."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from naas.context import admin_context
from naas.loading import Plugins
from naas.resources import DEVICE_OWNER_ROUTER_INTERFACE
from tests.server.conftest import (
    STORAGES,
    ServerProcess,
    client_environment,
    free_port,
    launch,
    running_server,
    server_command,
    wait_until_serving,
    write_config,
)
from tests.server.naas_server_probe import read_events

PROBES = """
    [DEFAULT]
    backends = naas_server_probe:ProbeBackend
    observers = naas_server_probe:ProbeObserver
"""
CLIENTS = 16
REQUESTS_PER_CLIENT = 400  # a bound: the clients stop when the server does, long before this
WAIT_LIMIT_SECONDS = 120


def run_server_to_exit(directory: Path, config_file: Path) -> subprocess.CompletedProcess[str]:
    """naas-server expected to refuse to start: its exit status and output."""
    env = client_environment(directory)
    return subprocess.run(
        [server_command(), "--config-file", str(config_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT_LIMIT_SECONDS,
        check=False,
    )


def test_more_workers_than_the_storage_shares_are_refused(tmp_path: Path) -> None:
    port = free_port()
    config_file = write_config(tmp_path, "sqlite://", workers=2, port=port, core_plugin="memory")

    result = run_server_to_exit(tmp_path, config_file)

    assert result.returncode == 1
    assert "[api] workers = 2" in result.stderr
    assert "naas_plugins.memory.core.MemoryCorePlugin" in result.stderr
    assert "Set workers = 1" in result.stderr
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_memory_plugins_serve_with_one_worker(tmp_path: Path) -> None:
    port = free_port()
    config_file = write_config(tmp_path, "sqlite://", workers=1, port=port, core_plugin="memory")
    process = launch(tmp_path, config_file)
    server = ServerProcess(process, f"http://127.0.0.1:{port}", tmp_path, config_file, "sqlite://", 1)
    try:
        wait_until_serving(server)
        created = requests.post(f"{server.url}/v2.0/networks", json={"network": {"name": "in-memory"}}, timeout=30)
        assert created.status_code == 201, created.text
        listed = requests.get(f"{server.url}/v2.0/networks", params={"name": "in-memory"}, timeout=30)
        assert [n["id"] for n in listed.json()["networks"]] == [created.json()["network"]["id"]]
    finally:
        assert server.stop() == 0


def test_a_mistyped_option_is_warned_about(tmp_path: Path) -> None:
    port = free_port()
    config_file = write_config(tmp_path, "sqlite://", workers=1, port=port, core_plugin="memory")
    config_file.write_text(config_file.read_text().replace("workers = 1", "workers = 1\nwokers = 4"))

    server = ServerProcess(launch(tmp_path, config_file), f"http://127.0.0.1:{port}", tmp_path, config_file, "", 1)
    try:
        wait_until_serving(server)
    finally:
        assert server.stop() == 0
    assert f"{config_file}: [api] wokers is not a known option (mistyped?)" in server.output


def test_a_plugin_that_cannot_be_loaded_stops_the_start(tmp_path: Path) -> None:
    config_file = write_config(tmp_path, f"sqlite:///{tmp_path / 'naas.sqlite'}", workers=1, port=free_port())
    config_file.write_text(config_file.read_text() + "\n[DEFAULT]\nbackends = no_such_backend\n")

    result = run_server_to_exit(tmp_path, config_file)

    assert result.returncode == 1
    assert "naas.backends" in result.stderr and "no_such_backend" in result.stderr


def test_the_master_syncs_backends_once_before_forking_and_each_worker_builds_its_own(tmp_path: Path) -> None:
    with running_server("sqlite", tmp_path, workers=2, extra=PROBES) as server:
        workers = sorted(server.worker_pids())
        created = requests.post(f"{server.url}/v2.0/networks", json={"network": {"name": "watched"}}, timeout=30)
        assert created.status_code == 201, created.text
        status = server.stop()
    assert status == 0

    events = read_events(server.probe_dir)
    master = [event for event in events if event["pid"] == server.pid]
    assert [event["kind"] for event in master if event["kind"].startswith("backend")] == [
        "backend_built",
        "backend_synced",
        "backend_closed",
    ]
    assert [event["kind"] for event in master if event["kind"].startswith("observer")] == [
        "observer_built",
        "observer_closed",
    ]
    (synced,) = [event for event in events if event["kind"] == "backend_synced"]
    assert synced["networks"] >= 1  # the bootstrapped external network was in the state synced
    # Everything the master opened was closed before the first worker built its own.
    master_closed = max(i for i, event in enumerate(events) if event["pid"] == server.pid)
    first_worker = min(i for i, event in enumerate(events) if event["pid"] != server.pid)
    assert master_closed < first_worker

    by_worker = {pid: [e["kind"] for e in events if e["pid"] == pid] for pid in workers}
    for pid, kinds in by_worker.items():
        assert kinds.count("backend_built") == 1 and kinds.count("observer_built") == 1, (pid, kinds)
        assert "backend_synced" not in kinds
        assert kinds[-2:] in (["backend_closed", "observer_closed"], ["observer_closed", "backend_closed"]), kinds
    assert all(event["ppid"] == server.pid for event in events if event["pid"] in workers)
    observed = [event for event in events if event["kind"] == "observed"]
    assert len(observed) == 1 and observed[0]["pid"] in workers


# SIGTERM under load


class LoadClient(threading.Thread):
    """Creates networks (even clients) or gets new projects a network (odd ones) until the server is gone."""

    def __init__(self, url: str, number: int) -> None:
        super().__init__(name=f"load-client-{number}", daemon=True)
        self.url = url
        self.number = number
        # (what: network name or project, HTTP status or None when no answer came, the body)
        self.outcomes: list[tuple[str, int | None, dict[str, Any]]] = []

    @property
    def creates_networks(self) -> bool:
        return self.number % 2 == 0

    def run(self) -> None:
        with requests.Session() as session:
            for attempt in range(REQUESTS_PER_CLIENT):
                key = f"load-{self.number}-{attempt}-{uuid.uuid4().hex[:6]}"
                try:
                    if self.creates_networks:
                        answer = session.post(f"{self.url}/v2.0/networks", json={"network": {"name": key}}, timeout=60)
                    else:
                        answer = session.get(f"{self.url}/v2.0/auto-allocated-topology/{key}", timeout=60)
                except requests.RequestException:
                    self.outcomes.append((key, None, {}))
                    return
                body = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
                self.outcomes.append((key, answer.status_code, body))


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def assert_whole_topology(plugins: Plugins, project: str, network_id: str | None = None) -> None:
    context = admin_context()
    (network,) = plugins.core.get_networks(context, {"project_id": project})
    assert network.admin_state_up, f"{project}: its network is still disabled"
    if network_id is not None:
        assert network.id == network_id
    subnets = plugins.core.get_subnets(context, {"network_id": network.id})
    assert sorted(subnet.ip_version for subnet in subnets) == [4, 6], project
    (router,) = plugins.l3.get_routers(context, {"project_id": project})
    assert router.external_gateway_info is not None, f"{project}: its router has no gateway"
    interfaces = plugins.core.get_ports(
        context, {"device_id": router.id, "device_owner": DEVICE_OWNER_ROUTER_INTERFACE}
    )
    assert sorted(fixed.subnet_id for port in interfaces for fixed in port.fixed_ips) == sorted(s.id for s in subnets)


@pytest.mark.parametrize("storage", sorted(STORAGES, key=lambda name: name != "sqlite"))
def test_sigterm_lets_requests_in_flight_finish_and_leaves_nothing_half_done(storage: str, tmp_path: Path) -> None:
    with running_server(storage, tmp_path, extra=PROBES) as server:
        clients = [LoadClient(server.url, number) for number in range(CLIENTS)]
        for client in clients:
            client.start()
        wait_for(lambda: sum(len(c.outcomes) for c in clients) >= 4 * CLIENTS, "the clients' first answers")

        # One request the test knows is in flight: the probe backend holds it inside its unit of work.
        held: dict[str, Any] = {}
        holder = threading.Thread(
            target=lambda: held.update(
                answer=requests.post(f"{server.url}/v2.0/networks", json={"network": {"name": "hold-1"}}, timeout=120)
            ),
            daemon=True,
        )
        holder.start()
        wait_for((server.probe_dir / "held").exists, "the held request to reach the backend")
        workers = server.worker_pids()
        status = stop_while_held(server)
        holder.join(WAIT_LIMIT_SECONDS)
        for client in clients:
            client.join(WAIT_LIMIT_SECONDS)
            assert not client.is_alive(), f"{client.name} did not stop with the server"

        assert status == 0
        assert workers and all(pid not in server.worker_pids() for pid in workers)
        answer = held["answer"]
        assert answer.status_code == 201, answer.text  # accepted before SIGTERM, answered after it
        outcomes = [outcome for client in clients for outcome in client.outcomes]
        answered = [outcome for outcome in outcomes if outcome[1] is not None]
        assert all(200 <= code < 300 for _, code, _ in answered), {code for _, code, _ in answered}
        with server.plugins() as plugins:  # the server's storage, still there after the server stopped
            assert_stored(plugins, clients, answer.json()["network"]["id"])


def stop_while_held(server: ServerProcess) -> int:
    """SIGTERM the master while the held request is in flight, let the request go, and wait for the exit."""
    os.kill(server.pid, signal.SIGTERM)
    wait_for(lambda: "Handling signal: term" in server.output, "the master to handle SIGTERM")
    time.sleep(0.5)  # not a measurement: gives the master time to pass SIGTERM on to its workers
    (server.probe_dir / "release").write_text("go")
    return server.stop()


def assert_stored(plugins: Plugins, clients: list[LoadClient], held_network_id: str) -> None:
    context = admin_context()
    assert plugins.core.get_network(context, held_network_id).name == "hold-1"
    stored_names = {network.name for network in plugins.core.get_networks(context, {})}
    for client in clients:
        for key, code, body in client.outcomes:
            succeeded = code is not None and 200 <= code < 300
            if client.creates_networks:
                if succeeded:
                    assert plugins.core.get_network(context, body["network"]["id"]).name == key
                elif code is not None:
                    assert key not in stored_names, f"{key} was refused with {code} but stored"
            elif succeeded:
                assert_whole_topology(plugins, key, body["auto_allocated_topology"]["id"])
            elif plugins.core.get_networks(context, {"project_id": key}):
                # Unanswered: it may have been built, but then wholly.
                assert_whole_topology(plugins, key)
    gotten = sum(1 for c in clients for _, code, _ in c.outcomes if code is not None and 200 <= code < 300)
    assert gotten >= 4 * CLIENTS // 2
