"""What the linux backend's tests share: instances in namespaces, DHCP clients, reachability, leftovers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

from pyroute2 import netns  # type: ignore[import-untyped]

from naas_plugins.linux import LinuxBackend

ROOT_SNAPSHOT: dict[str, dict[str, str] | None] = {"before": None}
"""The root namespace as the session found it (taken by conftest before the first test)."""


def namespaces_of(backend: LinuxBackend) -> set[str]:
    return {name for name in netns.listnetns() if name.startswith(backend.names.prefix)}


def dnsmasq_pids_of(backend: LinuxBackend) -> set[int]:
    """Every running dnsmasq whose configuration lies in the backend's state directory."""
    found = set()
    marker = str(backend.state_dir).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if b"dnsmasq" in cmdline and marker in cmdline:
            found.add(int(entry))
    return found


def assert_nothing_left(backend: LinuxBackend) -> None:
    """No namespace, bridge, veth, nft table (they live in the namespaces) or dnsmasq of the installation."""
    assert namespaces_of(backend) == set(), f"namespaces left: {namespaces_of(backend)}"
    assert dnsmasq_pids_of(backend) == set(), f"dnsmasq left: {dnsmasq_pids_of(backend)}"
    dhcp_dir = backend.state_dir / "dhcp"
    assert not dhcp_dir.exists() or not any(dhcp_dir.iterdir()), f"DHCP files left: {list(dhcp_dir.iterdir())}"


def run(namespace: str, *argv: str, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", namespace, *argv], capture_output=True, text=True, check=check, timeout=timeout
    )


REACHABLE_ATTEMPTS = 3


def reachable(namespace: str, address: str) -> bool:
    """One of up to 3 pings from ``namespace`` to ``address``, each waiting a second, is answered.

    Several tries, not one: a neighbour entry that an expected failure just before left FAILED can
    answer the first echo with an error on a loaded machine; "not reachable" means no answer to any.
    """
    flag = "-6" if ":" in address else "-4"
    for attempt in range(REACHABLE_ATTEMPTS):
        if attempt:
            time.sleep(0.2)
        if run(namespace, "ping", flag, "-c1", "-W1", "-n", "-q", address, check=False).returncode == 0:
            return True
    return False


_DHCLIENT_SCRIPT = """\
#!/bin/sh
# Configure only the interface: never the host's resolv.conf.
case "$reason" in
BOUND|RENEW|REBIND|REBOOT)
    ip -4 addr flush dev "$interface"
    ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
    if [ -n "$new_routers" ]; then ip route replace default via "${new_routers%% *}" dev "$interface"; fi
    ;;
esac
exit 0
"""


def dhcp(namespace: str, workdir: Path, ifname: str = "eth0") -> str:
    """Run one DHCP exchange in ``namespace`` (dhclient -1, then stopped by its pid); the address it got."""
    script = workdir / "dhclient-script"
    if not script.exists():
        script.write_text(_DHCLIENT_SCRIPT)
        script.chmod(0o755)
    pidfile = workdir / f"dhclient-{namespace}.pid"
    leases = workdir / f"dhclient-{namespace}.leases"
    with contextlib.suppress(FileNotFoundError):
        leases.unlink()
    try:
        run(namespace, "dhclient", "-1", "-sf", str(script), "-pf", str(pidfile), "-lf", str(leases), ifname)
    finally:
        # dhclient stays in the background once bound; the namespace is the test's, so all it runs is ours.
        kill_processes_in(namespace)
    output = run(namespace, "ip", "-4", "-o", "addr", "show", "dev", ifname).stdout
    return output.split()[3].split("/")[0]


def kill_processes_in(namespace: str) -> None:
    """SIGKILL, by pid, every process running in ``namespace`` (one the test made), and wait for them."""
    pids = netns.ns_pids().get(namespace, [])
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        for _ in range(200):
            if not Path(f"/proc/{pid}").exists():
                break
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    break
            time.sleep(0.005)


_WHOAMI = textwrap.dedent(
    """
    import socket, sys
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("0.0.0.0", int(sys.argv[1])))
    print("ready", flush=True)
    while True:
        data, peer = server.recvfrom(100)
        server.sendto(peer[0].encode(), peer)
    """
)


@contextlib.contextmanager
def whoami_server(namespace: str, port: int = 9999) -> Iterator[None]:
    """A UDP server in ``namespace`` answering each datagram with the address it came from; stopped by pid."""
    process = subprocess.Popen(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", _WHOAMI, str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield
    finally:
        process.kill()
        process.wait()


_ASK = textwrap.dedent(
    """
    import socket, sys
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(2)
    client.sendto(b"?", (sys.argv[1], int(sys.argv[2])))
    print(client.recvfrom(100)[0].decode())
    """
)


def source_seen_by(namespace: str, server: str, port: int = 9999) -> str | None:
    """The source address the whoami server at ``server`` saw for a datagram from ``namespace`` (None: no answer)."""
    result = run(namespace, sys.executable, "-c", _ASK, server, str(port), check=False)
    return result.stdout.strip() if result.returncode == 0 else None


@contextlib.contextmanager
def instance_namespace(name: str) -> Iterator[str]:
    """A namespace standing for an instance (loopback up); removed with whatever it holds."""
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        kill_processes_in(name)
        subprocess.run(["ip", "netns", "del", name], check=False)
