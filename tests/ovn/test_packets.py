"""Real packets, as root: the rows naas writes carry traffic between network namespaces.

One chassis (ovs-vswitchd on the userspace datapath and ovn-controller, in
the test's own temporary directory, with its own bridges) is also the
gateway chassis. Instances A (10.1.0.0/24, with a floating IP) and B
(10.2.0.0/24) are namespaces on its integration bridge; an outside host is a
namespace on its external bridge, at the external subnet's gateway address.
A pings B through the logical router; B's traffic reaches the outside host
from the router's gateway address (SNAT), A's from its floating IP; the
outside host reaches A at its floating IP. Afterwards no namespace, link or
process of the test remains.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from naas import RequestContext, admin_context
from naas.backends import BackendChain
from naas.resources import FloatingIP, Port
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.ovn import OvnBackend
from naas_plugins.ovn.testing import Chassis, ControlPlane, require_ovn
from tests.ovn.conftest import GATEWAY_CHASSIS, PHYSICAL_NETWORK

OUTSIDE_IP = "203.0.113.1"
OUTSIDE_MAC = "02:00:00:00:00:01"
PREFIX = f"nv{os.getpid() % 10000}"
# Prints the source address of the first ICMP echo request the namespace receives. ICMP rather than UDP: on the
# userspace datapath a veth's offloaded UDP checksum is not completed after NAT, and there may be no ethtool here.
_RECEIVE = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n"
    "s.settimeout(float(sys.argv[1]))\n"
    "while True:\n"
    "    packet, peer = s.recvfrom(2048)\n"
    "    header = (packet[0] & 0x0F) * 4\n"
    "    if packet[header] == 8:\n"
    "        print(peer[0], flush=True)\n"
    "        break\n"
)


@dataclasses.dataclass
class Site:
    chassis: Chassis
    a: Port
    b: Port
    gateway_ip: str
    fip: FloatingIP
    namespaces: dict[str, str]

    def ping(self, source: str, destination: str) -> bool:
        """Whether ``source`` gets an answer from ``destination`` within about ten seconds (ARP and flows settle)."""
        for _ in range(10):
            done = self.chassis.netns(self.namespaces[source], "ping", "-c", "1", "-W", "1", destination)
            if done.returncode == 0:
                return True
        return False

    def seen_source(self, sender: str, receiver: str, destination: str) -> str:
        """The source address ``receiver`` sees on the pings ``sender`` sends to ``destination``."""
        listening = subprocess.Popen(
            ["ip", "netns", "exec", self.namespaces[receiver], sys.executable, "-c", _RECEIVE, "15"],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.3)  # the listener's socket is open before the first echo request leaves
        self.ping(sender, destination)
        out, _ = listening.communicate(timeout=30)
        return out.strip()


def _our_links() -> set[str]:
    listing = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0].split("@")[0] for line in listing.splitlines() if line.startswith(PREFIX)}


def _our_namespaces() -> set[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in listing.splitlines() if line.startswith(PREFIX)}


@pytest.fixture
def site() -> Iterator[Site]:
    require_ovn(chassis=True)
    assert not _our_links() and not _our_namespaces()
    with ControlPlane.started() as plane:
        chassis = Chassis(plane, name=GATEWAY_CHASSIS, prefix=PREFIX, physical_network=PHYSICAL_NETWORK)
        backend = OvnBackend(plane.nb_connection, timeout=30, gateway_chassis=[GATEWAY_CHASSIS])
        core = MemoryCorePlugin(backends=BackendChain({"ovn": backend}))
        l3 = MemoryL3Plugin(core)
        pids: list[int] = []
        try:
            chassis.start()
            pids = [*plane.pids.values(), *chassis.pids.values()]
            admin, project = admin_context(), RequestContext("p")
            public = core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
            core.create_subnet(
                admin,
                {"network_id": public.id, "cidr": "203.0.113.0/24", "gateway_ip": OUTSIDE_IP, "enable_dhcp": False},
            )
            ports = []
            for number in (1, 2):
                network = core.create_network(project, {"name": f"net{number}"})
                core.create_subnet(project, {"network_id": network.id, "cidr": f"10.{number}.0.0/24"})
                ports.append(core.create_port(project, {"network_id": network.id, "name": f"vm{number}"}))
            a, b = ports
            router = l3.create_router(project, {"name": "r", "external_gateway_info": {"network_id": public.id}})
            for port in ports:
                l3.add_router_interface(project, router.id, {"subnet_id": port.fixed_ips[0].subnet_id})
            fip = l3.create_floatingip(project, {"floating_network_id": public.id, "port_id": a.id})
            (gateway,) = core.get_ports(admin, {"device_id": router.id, "network_id": public.id})
            namespaces = {}
            for short, port in (("a", a), ("b", b)):
                address = port.fixed_ips[0].ip_address
                network_prefix = f"{address}/24"
                gateway_address = str(address).rsplit(".", 1)[0] + ".1"
                namespaces[short] = chassis.plug(short, port.id, port.mac_address, network_prefix, gateway_address)
            namespaces["out"] = chassis.plug_external("out", OUTSIDE_MAC, f"{OUTSIDE_IP}/24")
            plane.nbctl("--timeout=60", "--wait=hv", "sync")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if all(plane.nbctl("lsp-get-up", port.id).strip() == "up" for port in ports):
                    break
                time.sleep(0.2)
            yield Site(chassis, a, b, str(gateway.fixed_ips[0].ip_address), fip, namespaces)
        finally:
            core.close()
            backend.close()
            chassis.stop()
    assert not _our_namespaces(), "a namespace of the test was left behind"
    assert not _our_links(), "a link of the test was left behind"
    assert not [pid for pid in pids if os.path.exists(f"/proc/{pid}") and _running(pid)], "a process was left behind"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_packets_flow_through_the_router_snat_and_the_floating_ip(site: Site) -> None:
    b_ip = str(site.b.fixed_ips[0].ip_address)
    a_ip = str(site.a.fixed_ips[0].ip_address)

    assert site.ping("a", b_ip), "A does not reach B through the logical router"
    assert site.ping("b", a_ip), "B does not reach A through the logical router"
    assert site.ping("b", OUTSIDE_IP), "B does not reach the outside host"
    assert site.seen_source("b", "out", OUTSIDE_IP) == site.gateway_ip  # SNAT to the router's gateway address
    assert site.seen_source("a", "out", OUTSIDE_IP) == str(site.fip.floating_ip_address)  # A leaves as its FIP
    assert site.ping("out", str(site.fip.floating_ip_address)), "the outside host does not reach A's floating IP"
    assert site.seen_source("out", "a", str(site.fip.floating_ip_address)) == OUTSIDE_IP  # DNAT, source kept
