"""Fixtures of the linux backend's tests: a lab (plugins over the backend, instances, an outside host).

Every test gets its own installation prefix, so tests (and xdist workers, and
the host's own installation) never share a kernel object; each test removes
what it made and checks that nothing of its installation is left.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from naas.backends import BackendChain, DataplaneState, PortState
from naas.context import admin_context
from naas.resources import Network, Port, Subnet
from naas_plugins.linux import LinuxBackend
from naas_plugins.linux.testing import require_linux, unique_prefix
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from tests.linux import helpers
from tests.linux.root_namespace import snapshot

OUTSIDE_CIDR = "203.0.113.0/24"
OUTSIDE_HOST = "203.0.113.1"
"""The outside host's address: the external subnet's gateway, so routers' default routes point at it."""


@pytest.fixture(scope="session", autouse=True)
def root_namespace_before() -> None:
    """Record the host's root namespace before the first linux test (test_zz_root_namespace.py compares)."""
    if helpers.ROOT_SNAPSHOT["before"] is None:
        helpers.ROOT_SNAPSHOT["before"] = snapshot()


@dataclasses.dataclass
class Lab:
    """naas's memory plugins over a linux backend, and the namespaces standing for instances."""

    backend: LinuxBackend
    core: MemoryCorePlugin
    l3: MemoryL3Plugin
    workdir: Path
    instances: list[str] = dataclasses.field(default_factory=list)
    context: Any = dataclasses.field(default_factory=admin_context)

    @property
    def prefix(self) -> str:
        return self.backend.names.prefix

    def network(self, name: str, cidr: str, *, v6: str | None = None, project: str = "p1", **extra: Any) -> Network:
        network = self.core.create_network(self.context, {"name": name, "project_id": project, **extra})
        self.core.create_subnet(
            self.context, {"network_id": network.id, "ip_version": 4, "cidr": cidr, "project_id": project}
        )
        if v6 is not None:
            self.core.create_subnet(
                self.context, {"network_id": network.id, "ip_version": 6, "cidr": v6, "project_id": project}
            )
        return self.core.get_network(self.context, network.id)

    def external_network(self) -> Network:
        network = self.core.create_network(self.context, {"name": "public", "router:external": True})
        self.core.create_subnet(
            self.context,
            {
                "network_id": network.id,
                "ip_version": 4,
                "cidr": OUTSIDE_CIDR,
                "gateway_ip": OUTSIDE_HOST,
                "enable_dhcp": False,
            },
        )
        return self.core.get_network(self.context, network.id)

    def subnet(self, network: Network, version: int = 4) -> Subnet:
        return next(
            subnet
            for subnet in (self.core.get_subnet(self.context, sid) for sid in network.subnets)
            if subnet.ip_version == version
        )

    def port_state(self, port: Port) -> PortState:
        subnets = tuple(self.core.get_subnet(self.context, f.subnet_id) for f in dict.fromkeys(port.fixed_ips))
        return PortState(port, tuple({s.id: s for s in subnets}.values()))

    def instance(self, name: str, network: Network, **port: Any) -> tuple[str, Port]:
        """A namespace plugged into a new port on ``network`` (its IPv4 address still to be got by DHCP)."""
        created = self.core.create_port(
            self.context,
            {"network_id": network.id, "device_owner": "compute:nova", "project_id": network.project_id, **port},
        )
        namespace = f"{self.prefix}i-{name}"
        subprocess.run(["ip", "netns", "add", namespace], check=True)
        self.instances.append(namespace)
        subprocess.run(["ip", "-n", namespace, "link", "set", "lo", "up"], check=True)
        self.backend.plug(self.port_state(created), namespace)
        return namespace, created

    def outside_host(self, external: Network) -> str:
        """The outside host: a namespace on the external network at OUTSIDE_HOST, with no route beyond it."""
        subnet = self.subnet(external)
        namespace, _ = self.instance(
            "outside", external, fixed_ips=[{"subnet_id": subnet.id, "ip_address": OUTSIDE_HOST}]
        )
        # plug() configures it already unless the subnet has DHCP (bootstrap's does): the host is static either way.
        subprocess.run(["ip", "-n", namespace, "addr", "replace", f"{OUTSIDE_HOST}/24", "dev", "eth0"], check=True)
        return namespace

    def dhcp(self, namespace: str) -> str:
        return helpers.dhcp(namespace, self.workdir)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    require_linux("ping", "dhclient")
    backend = LinuxBackend(prefix=unique_prefix("s"), state_dir=str(tmp_path / "state"))
    core = MemoryCorePlugin(backends=BackendChain({"linux": backend}))
    l3 = MemoryL3Plugin(core)
    built = Lab(backend, core, l3, tmp_path)
    try:
        yield built
    finally:
        for namespace in built.instances:
            helpers.kill_processes_in(namespace)
            subprocess.run(["ip", "netns", "del", namespace], check=False)
        backend.sync(DataplaneState())
        backend.close()
        helpers.assert_nothing_left(backend)
