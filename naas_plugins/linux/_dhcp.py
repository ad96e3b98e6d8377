"""One dnsmasq per network, in the network's DHCP namespace, serving exactly its ports' fixed addresses.

As Neutron's DHCP agent does, dnsmasq answers only the MAC → address pairs
naas stored (a static range per subnet, one host file per port in a hosts
directory); it never hands out an address of its own choosing. Its files live
in ``<state_dir>/<network id>/``: ``dnsmasq.conf``, ``hosts/<port id>``,
``dnsmasq.pid``, ``leases``, ``dnsmasq.log``. A changed host file is read on
SIGHUP; a changed configuration restarts the server. Processes are found and
stopped by their pid file, and a pid is trusted only while that process still
runs dnsmasq with this network's configuration inside the DHCP namespace.

dnsmasq listens on an interface whose only IPv4 address is
:data:`SERVER_ADDRESS` (a link-local /32, since naas reserves no address of
the subnet for DHCP) and serves the subnets through ``shared-network``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from naas.resources import Port, Subnet
from naas_plugins.linux._kernel import KernelError

__all__ = ["SERVER_ADDRESS", "DhcpServers", "host_lines"]

SERVER_ADDRESS: Final = "169.254.169.254"


def host_lines(port: Port, subnets: Iterable[Subnet]) -> str:
    """The host file of ``port``: one ``MAC,address`` line per IPv4 fixed IP on a DHCP subnet ("" for none)."""
    dhcp = {subnet.id for subnet in subnets if subnet.enable_dhcp and subnet.ip_version == 4}
    lines = [
        f"{port.mac_address},{fixed.ip_address}\n"
        for fixed in port.fixed_ips
        if fixed.subnet_id in dhcp and fixed.ip_address.version == 4
    ]
    return "".join(lines)


class DhcpServers:
    """The dnsmasq processes and files of one installation."""

    def __init__(self, state_dir: str, *, ip: str, dnsmasq: str, lease_seconds: int) -> None:
        self.state_dir = Path(state_dir)
        self.ip = ip
        self.dnsmasq = dnsmasq
        self.lease_seconds = lease_seconds

    def directory(self, network_id: str) -> Path:
        return self.state_dir / network_id

    def networks(self) -> set[str]:
        """The networks that have a directory here."""
        if not self.state_dir.is_dir():
            return set()
        return {entry.name for entry in self.state_dir.iterdir() if entry.is_dir()}

    def configuration(self, network_id: str, interface: str, subnets: Iterable[Subnet]) -> str:
        """The dnsmasq configuration serving ``subnets`` (the IPv4 DHCP subnets of the network) on ``interface``."""
        directory = self.directory(network_id)
        lines = [
            f"# naas network {network_id}",
            f"interface={interface}",
            "bind-interfaces",
            "except-interface=lo",
            "port=0",
            "no-hosts",
            "no-resolv",
            "user=root",
            "dhcp-authoritative",
            "log-dhcp",
            f"log-facility={directory / 'dnsmasq.log'}",
            f"pid-file={directory / 'dnsmasq.pid'}",
            f"dhcp-leasefile={directory / 'leases'}",
            f"dhcp-hostsdir={directory / 'hosts'}",
        ]
        for subnet in sorted(subnets, key=lambda subnet: subnet.id):
            tag = f"subnet-{subnet.id[:8]}"
            lines.append(f"shared-network={interface},{subnet.cidr.network}")
            lines.append(
                f"dhcp-range=set:{tag},{subnet.cidr.network},static,{subnet.cidr.netmask},{self.lease_seconds}s"
            )
            if subnet.gateway_ip is not None:
                lines.append(f"dhcp-option=tag:{tag},option:router,{subnet.gateway_ip}")
        return "\n".join(lines) + "\n"

    def written_configuration(self, network_id: str) -> str | None:
        try:
            return (self.directory(network_id) / "dnsmasq.conf").read_text()
        except FileNotFoundError:
            return None

    def pid(self, network_id: str, namespace: str) -> int | None:
        """The pid of this network's running dnsmasq, or None (no pid file, dead, or another process)."""
        directory = self.directory(network_id)
        try:
            pid = int((directory / "dnsmasq.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            process_namespace = os.stat(f"/proc/{pid}/ns/net")
            expected_namespace = os.stat(f"/run/netns/{namespace}")
        except (OSError, ValueError):
            return None
        if f"--conf-file={directory / 'dnsmasq.conf'}".encode() not in cmdline:
            return None
        if os.path.samestat(process_namespace, expected_namespace) is False:
            return None
        return pid

    def start(self, network_id: str, namespace: str, configuration: str) -> None:
        """Write ``configuration`` and (re)start dnsmasq with it inside ``namespace``."""
        directory = self.directory(network_id)
        (directory / "hosts").mkdir(parents=True, exist_ok=True)
        self.stop(network_id, namespace)
        (directory / "dnsmasq.conf").write_text(configuration)
        command = [self.ip, "netns", "exec", namespace, self.dnsmasq, f"--conf-file={directory / 'dnsmasq.conf'}"]
        try:
            # dnsmasq forks into the background once it is serving; its pid is in the pid file.
            result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise KernelError(f"start dnsmasq for network {network_id}: {error}") from error
        if result.returncode != 0:
            raise KernelError(
                f"start dnsmasq for network {network_id} exited {result.returncode}: {result.stderr.strip()}"
            )
        if self.pid(network_id, namespace) is None:
            raise KernelError(f"dnsmasq for network {network_id} did not stay up; see {directory / 'dnsmasq.log'}")

    def reload(self, network_id: str, namespace: str) -> None:
        """Make the running dnsmasq (if any) read its host files again."""
        pid = self.pid(network_id, namespace)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGHUP)

    def stop(self, network_id: str, namespace: str) -> None:
        """Stop this network's dnsmasq, by its pid file, and wait until it is gone."""
        pid = self.pid(network_id, namespace)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
                break
            time.sleep(0.01)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            (self.directory(network_id) / "dnsmasq.pid").unlink()

    def remove(self, network_id: str, namespace: str) -> None:
        """Stop the server and remove every file of the network."""
        self.stop(network_id, namespace)
        shutil.rmtree(self.directory(network_id), ignore_errors=True)

    def host_file(self, network_id: str, port_id: str) -> Path:
        return self.directory(network_id) / "hosts" / port_id

    def read_host_file(self, network_id: str, port_id: str) -> str:
        try:
            return self.host_file(network_id, port_id).read_text()
        except FileNotFoundError:
            return ""

    def write_host_file(self, network_id: str, port_id: str, content: str) -> None:
        """Write (or, for "", remove) the port's host file."""
        path = self.host_file(network_id, port_id)
        if content:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{port_id}.tmp")
            temporary.write_text(content)
            temporary.replace(path)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def host_files(self) -> dict[str, set[str]]:
        """Network id → the port ids with a host file."""
        found: dict[str, set[str]] = {}
        for network_id in self.networks():
            hosts = self.directory(network_id) / "hosts"
            if hosts.is_dir():
                found[network_id] = {entry.name for entry in hosts.iterdir() if not entry.name.startswith(".")}
        return found


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
    except OSError:
        return True
