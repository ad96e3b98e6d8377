"""Failures: a step that fails leaves the resource in ERROR for sync to repair, and nothing leaks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from naas.backends import DataplaneState, SyncReport
from naas.exceptions import BadRequest, Conflict, NotFound
from naas.testing.backends import sample_topology
from naas_plugins.linux import LinuxBackend
from naas_plugins.linux._dhcp import DhcpServers
from naas_plugins.linux._kernel import Kernel, KernelError, Namespace
from naas_plugins.linux.testing import require_linux, unique_prefix
from tests.linux import helpers
from tests.linux.conftest import Lab

# Every kind of step the backend takes, by the method that takes it.
STEPS = [
    (Kernel, "create_namespace"),
    (Kernel, "set_sysctls"),
    (Kernel, "nft"),
    (Namespace, "add_bridge"),
    (Namespace, "add_veth"),
    (Namespace, "set_link"),
    (Namespace, "add_address"),
    (Namespace, "replace_default_route"),
    (DhcpServers, "start"),
]


@pytest.mark.parametrize(("owner", "method"), STEPS, ids=[f"{o.__name__}.{m}" for o, m in STEPS])
def test_a_fault_at_any_step_is_repaired_by_the_next_sync_and_leaks_nothing(
    owner: type, method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_linux()
    backend = LinuxBackend(prefix=unique_prefix("f"), state_dir=str(tmp_path))
    topology = sample_topology(LinuxBackend.CAPABILITIES)
    original = getattr(owner, method)
    calls = []

    def failing_once(*args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) == 1:
            raise KernelError(f"injected failure of {method}")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, method, failing_once)
    try:
        failed = []
        for change in topology.creates:
            try:
                backend.postcommit(change)
            except KernelError:
                failed.append(change.resource_id)
        assert failed, f"{method} was never called"
        monkeypatch.undo()
        report = backend.sync(topology.state)
        assert report.failures == ()
        assert {repair.resource_id for repair in report.repairs} >= {failed[0]}
        assert backend.sync(topology.state, repair=False) == SyncReport()
    finally:
        monkeypatch.undo()
        backend.sync(DataplaneState())
        helpers.assert_nothing_left(backend)


def test_a_network_whose_dhcp_server_cannot_start_is_in_error_until_a_sync_succeeds(lab: Lab) -> None:
    lab.backend.dhcp.dnsmasq = "/nonexistent/dnsmasq"
    network = lab.network("a", "10.1.0.0/24")
    assert lab.core.get_network(lab.context, network.id).status == "ERROR"
    report = lab.core.dataplane.sync()
    assert [failure.resource_id for failure in report.failures] == [network.id]
    assert "dnsmasq" in str(report.failures[0].error)
    assert lab.core.get_network(lab.context, network.id).status == "ERROR"

    lab.backend.dhcp.dnsmasq = "dnsmasq"
    report = lab.core.dataplane.sync()
    assert report.failures == ()
    assert lab.core.get_network(lab.context, network.id).status == "ACTIVE"
    vm, port = lab.instance("a", network)
    assert lab.dhcp(vm) == str(port.fixed_ips[0].ip_address)


def test_plugging_is_refused_with_the_reason(lab: Lab) -> None:
    network = lab.network("a", "10.1.0.0/24")
    vm, port = lab.instance("a", network)
    state = lab.port_state(port)
    with pytest.raises(Conflict, match="plugged already"):
        lab.backend.plug(state, vm, "eth1")
    with pytest.raises(NotFound, match="does not exist"):
        lab.backend.plug(state, f"{lab.prefix}i-nowhere")
    with pytest.raises(BadRequest, match="ifname"):
        lab.backend.plug(state, vm, "a-name-longer-than-15")
    other = lab.core.create_port(lab.context, {"network_id": network.id, "project_id": "p1"})
    with pytest.raises(Conflict, match="already has an interface eth0"):
        lab.backend.plug(lab.port_state(other), vm)
    # Unplugging twice is harmless; the port waits to be plugged again.
    lab.backend.unplug(state)
    lab.backend.unplug(state)
    assert "eth0" not in subprocess.run(["ip", "-n", vm, "link"], capture_output=True, text=True).stdout
    lab.backend.plug(state, vm)
    assert lab.dhcp(vm) == str(port.fixed_ips[0].ip_address)


_APPLICATION = """
import os, signal, sys, tempfile
from naas.backends import DataplaneState
from naas.testing.backends import sample_topology
from naas_plugins.linux import LinuxBackend

owner = os.getpid()
marker, prefix = sys.argv[1], sys.argv[2]


def stop(signum, frame):
    raise SystemExit(1)


signal.signal(signal.SIGTERM, stop)  # an application's own handler, which pyroute2's helpers inherit
backend = LinuxBackend(prefix=prefix, state_dir=tempfile.mkdtemp())
try:
    for change in sample_topology(LinuxBackend.CAPABILITIES).creates:
        backend.postcommit(change)
finally:
    if os.getpid() != owner:
        with open(marker, "a") as unwound:
            unwound.write(f"helper {os.getpid()} ran the application's cleanup\\n")
    backend.sync(DataplaneState())
"""


def test_pyroute2_helpers_never_run_the_applications_sigterm_handler(tmp_path: Path) -> None:
    """The trap of the reference: a forked helper unwinding the application's stack (here: a deadlock)."""
    require_linux()
    marker = tmp_path / "unwound"
    prefix = unique_prefix("g")
    try:
        result = subprocess.run(
            [sys.executable, "-c", _APPLICATION, str(marker), prefix],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=Path(__file__).parents[2],
        )
    finally:
        leftover = LinuxBackend(prefix=prefix, state_dir=str(tmp_path / "cleanup"))
        leftover.sync(DataplaneState())
    assert result.returncode == 0, result.stderr
    assert not marker.exists(), marker.read_text()
