"""``naas port plug`` / ``naas port unplug`` and ``naas backend sync`` on the linux backend, run as operators do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from naas.backends import DataplaneState
from naas_plugins.linux import LinuxBackend
from naas_plugins.linux.testing import require_linux, unique_prefix
from tests.linux import helpers
from tests.linux.conftest import OUTSIDE_CIDR, OUTSIDE_HOST


class Naas:
    """Runs ``naas`` in a new process on one configuration: sql plugins on SQLite, the linux backend."""

    def __init__(self, tmp_path: Path, prefix: str) -> None:
        self.tmp_path = tmp_path
        self.state_dir = tmp_path / "linux"
        self.config = tmp_path / "naas.conf"
        self.config.write_text(
            f"[DEFAULT]\nstate_path = {tmp_path / 'state'}\nbackends = linux\n"
            f"[linux]\nprefix = {prefix}\nstate_dir = {self.state_dir}\n"
            f"[bootstrap]\nexternal_cidr = {OUTSIDE_CIDR}\n"
        )
        self.env = {**os.environ, "HOME": str(tmp_path)}

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "naas.cli.main", "--config-file", str(self.config), *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.tmp_path,
            timeout=120,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-f", "json").stdout)


@pytest.fixture
def naas(tmp_path: Path) -> Iterator[tuple[Naas, LinuxBackend]]:
    require_linux("ping", "dhclient")
    prefix = unique_prefix("k")
    command = Naas(tmp_path, prefix)
    backend = LinuxBackend(prefix=prefix, state_dir=str(command.state_dir))
    namespaces = [f"{prefix}i-vm", f"{prefix}i-outside"]
    for namespace in namespaces:
        subprocess.run(["ip", "netns", "add", namespace], check=True)
        subprocess.run(["ip", "-n", namespace, "link", "set", "lo", "up"], check=True)
    try:
        yield command, backend
    finally:
        for namespace in namespaces:
            helpers.kill_processes_in(namespace)
            subprocess.run(["ip", "netns", "del", namespace], check=False)
        backend.sync(DataplaneState())
        helpers.assert_nothing_left(backend)


def test_plug_dhcp_tamper_sync_unplug_through_the_command(naas: tuple[Naas, LinuxBackend], tmp_path: Path) -> None:
    run, backend = naas
    prefix = backend.names.prefix
    vm, outside = f"{prefix}i-vm", f"{prefix}i-outside"
    run("bootstrap")
    topology = run.json("network", "auto", "allocated", "topology", "create", "--project", "demo")
    network_id = topology["id"]
    external = run.json("network", "list", "--external")[0]["ID"]
    run.json("port", "create", "--network", external, "--fixed-ip", f"ip-address={OUTSIDE_HOST}", "outside")
    plugged = run.json("port", "plug", "outside", "--netns", outside)
    assert plugged["netns"] == outside and plugged["ifname"] == "eth0"
    subprocess.run(["ip", "-n", outside, "addr", "replace", f"{OUTSIDE_HOST}/24", "dev", "eth0"], check=True)
    port = run.json("port", "create", "--network", network_id, "--project", "demo", "vm")
    run("port", "plug", "vm", "--netns", vm, "--ifname", "ens3")
    link = subprocess.run(["ip", "-n", vm, "-j", "link", "show", "ens3"], capture_output=True, text=True, check=True)
    (shown,) = json.loads(link.stdout)
    assert shown["address"] == port["mac_address"] and "UP" in shown["flags"]
    v4 = next(f["ip_address"] for f in port["fixed_ips"] if ":" not in f["ip_address"])
    assert helpers.dhcp(vm, tmp_path, "ens3") == v4
    assert helpers.reachable(vm, OUTSIDE_HOST)

    # Plugging twice is refused with the reason.
    again = run("port", "plug", "vm", "--netns", vm, check=False)
    assert again.returncode == 1 and "plugged already" in again.stderr

    # An operator deletes the project network's bridge; one 'naas backend sync' repairs it.
    bridge = backend.names.bridge(network_id)
    subprocess.run(["ip", "-n", backend.names.switch_namespace, "link", "del", bridge], check=True)
    assert not helpers.reachable(vm, OUTSIDE_HOST)
    report = run.json("backend", "sync", "--report")
    needed = {(row["Resource type"], row["Resource ID"]): row["Action"] for row in report}
    assert needed[("network", network_id)] == "updated", report
    repaired = run.json("backend", "sync")
    assert {(row["Resource type"], row["Resource ID"]): row["Action"] for row in repaired} == needed
    assert helpers.reachable(vm, OUTSIDE_HOST)
    assert run.json("backend", "sync") == []

    # Unplugged, the instance has no interface left; plugged again, it gets its address again.
    run("port", "unplug", "vm")
    assert "ens3" not in subprocess.run(["ip", "-n", vm, "link"], capture_output=True, text=True).stdout
    run("port", "plug", "vm", "--netns", vm)
    assert helpers.dhcp(vm, tmp_path) == v4
