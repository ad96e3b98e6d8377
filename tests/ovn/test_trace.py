"""Logical reachability, traced by ``ovn-trace`` through the flows ovn-northd compiled from naas's rows.

Instance A is on 10.1.0.0/24, B on 10.2.0.0/24, both networks on one
router whose gateway is on the external network 203.0.113.0/24; A has a
floating IP. A reaches B only through the router; what A sends outside
leaves with the router's external address (SNAT); what the outside sends to
the floating IP reaches A (DNAT).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest

from naas import RequestContext, admin_context
from naas.backends import BackendChain
from naas.resources import FloatingIP, Network, Port, Router
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.ovn import OvnBackend
from naas_plugins.ovn.testing import ControlPlane
from tests.ovn.conftest import GATEWAY_CHASSIS

OUTSIDE_MAC = "02:00:00:00:00:01"
OUTSIDE_IP = "203.0.113.1"  # the external subnet's gateway: the router's default route
FAR_AWAY = "198.51.100.7"


@dataclasses.dataclass
class Topology:
    ovn: ControlPlane
    core: MemoryCorePlugin
    l3: MemoryL3Plugin
    public: Network
    net1: Network
    net2: Network
    a: Port
    b: Port
    router: Router
    router_ports: dict[str, Port]  # network id -> the router's port there
    fip: FloatingIP

    def trace(self, network: Network, microflow: str) -> str:
        """``ovn-trace --minimal``: the actions applied, ``output("<port>")`` where the packet leaves."""
        return self.ovn._run(
            [
                "ovn-trace",
                "--db",
                self.ovn.sb_connection,
                "--minimal",
                "--no-friendly-names",
                "--ct=new",
                f"naas-{network.id}",
                microflow,
            ]
        )

    def from_a(self, eth_dst: str, ip_dst: str) -> str:
        a_ip = self.a.fixed_ips[0].ip_address
        return self.trace(
            self.net1,
            f'inport == "{self.a.id}" && eth.src == {self.a.mac_address} && eth.dst == {eth_dst} && '
            f"ip4.src == {a_ip} && ip4.dst == {ip_dst} && ip.ttl == 64 && icmp4.type == 8",
        )


@pytest.fixture
def topology(ovn: ControlPlane) -> Iterator[Topology]:
    backend = OvnBackend(ovn.nb_connection, timeout=30, gateway_chassis=[GATEWAY_CHASSIS])
    core = MemoryCorePlugin(backends=BackendChain({"ovn": backend}))
    l3 = MemoryL3Plugin(core)
    admin, project = admin_context(), RequestContext("p")
    try:
        public = core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
        core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24", "enable_dhcp": False})
        networks = []
        for number in (1, 2):
            network = core.create_network(project, {"name": f"net{number}"})
            core.create_subnet(project, {"network_id": network.id, "cidr": f"10.{number}.0.0/24"})
            networks.append(core.get_network(project, network.id))
        net1, net2 = networks
        a = core.create_port(project, {"network_id": net1.id, "name": "a"})
        b = core.create_port(project, {"network_id": net2.id, "name": "b"})
        router = l3.create_router(project, {"name": "r", "external_gateway_info": {"network_id": public.id}})
        for network in networks:
            (subnet_id,) = network.subnets
            l3.add_router_interface(project, router.id, {"subnet_id": subnet_id})
        fip = l3.create_floatingip(project, {"floating_network_id": public.id, "port_id": a.id})
        router_ports = {port.network_id: port for port in core.get_ports(admin, {"device_id": router.id})}
        # The outside host's MAC, as ARP would learn it, so the trace goes past address resolution.
        ovn.wait_for_northd()
        datapath = ovn.sbctl(
            "--bare", "--columns=_uuid", "find", "Datapath_Binding", f"external_ids:name=naas-{router.id}"
        )
        ovn.sbctl(
            "create", "MAC_Binding", f"logical_port=lrp-{router_ports[public.id].id}", f"ip={OUTSIDE_IP}",
            f'mac="{OUTSIDE_MAC}"', f"datapath={datapath.strip()}",
        )  # fmt: skip
        yield Topology(ovn, core, l3, public, net1, net2, a, b, router, router_ports, fip)
    finally:
        core.close()
        backend.close()


def test_a_reaches_b_across_subnets_through_the_router(topology: Topology) -> None:
    b_ip = str(topology.b.fixed_ips[0].ip_address)
    router_mac = topology.router_ports[topology.net1.id].mac_address

    trace = topology.from_a(router_mac, b_ip)

    assert "ip.ttl--;" in trace
    assert f"eth.src = {topology.router_ports[topology.net2.id].mac_address};" in trace
    assert f"eth.dst = {topology.b.mac_address};" in trace
    assert f'output("{topology.b.id}");' in trace


def test_a_does_not_reach_b_without_the_router(topology: Topology) -> None:
    b_ip = str(topology.b.fixed_ips[0].ip_address)

    # Straight to B's MAC: B is on another switch, so nothing delivers it.
    assert f'output("{topology.b.id}")' not in topology.from_a(topology.b.mac_address, b_ip)

    (subnet_id,) = topology.net2.subnets
    topology.l3.remove_router_interface(RequestContext("p"), topology.router.id, {"subnet_id": subnet_id})
    topology.ovn.wait_for_northd()
    # With the router's interface on B's subnet gone, the router has no way there either.
    trace = topology.from_a(topology.router_ports[topology.net1.id].mac_address, b_ip)
    assert f'output("{topology.b.id}")' not in trace


def test_traffic_to_the_external_network_is_snatted_to_the_gateway_address(topology: Topology) -> None:
    gateway = topology.router_ports[topology.public.id]
    (gateway_ip,) = (str(fixed.ip_address) for fixed in gateway.fixed_ips)
    # A has a floating IP, which would take precedence over the router's SNAT: use B.
    b_ip = topology.b.fixed_ips[0].ip_address
    trace = topology.trace(
        topology.net2,
        f'inport == "{topology.b.id}" && eth.src == {topology.b.mac_address} && '
        f"eth.dst == {topology.router_ports[topology.net2.id].mac_address} && "
        f"ip4.src == {b_ip} && ip4.dst == {FAR_AWAY} && ip.ttl == 64 && icmp4.type == 8",
    )

    # ovn-trace 23.03 spells the action ct_snatin_czone, newer ones ct_snat_in_czone.
    assert re.search(rf"ct_snat\w*\(ip4\.src={re.escape(gateway_ip)}\)", trace), trace
    assert f"eth.dst = {OUTSIDE_MAC};" in trace
    assert f'output("provnet-{topology.public.id}");' in trace


def test_the_floating_ip_is_dnatted_to_a(topology: Topology) -> None:
    gateway = topology.router_ports[topology.public.id]
    a_ip = topology.a.fixed_ips[0].ip_address

    trace = topology.trace(
        topology.public,
        f'inport == "provnet-{topology.public.id}" && eth.src == {OUTSIDE_MAC} && eth.dst == {gateway.mac_address} && '
        f"ip4.src == {OUTSIDE_IP} && ip4.dst == {topology.fip.floating_ip_address} && ip.ttl == 64 && "
        "icmp4.type == 8",
    )

    assert re.search(rf"ct_dnat\w*\(ip4\.dst={re.escape(str(a_ip))}\)", trace), trace
    assert f'output("{topology.a.id}");' in trace

    topology.l3.disassociate_floatingip(RequestContext("p"), topology.fip.id)
    topology.ovn.wait_for_northd()
    trace = topology.trace(
        topology.public,
        f'inport == "provnet-{topology.public.id}" && eth.src == {OUTSIDE_MAC} && eth.dst == {gateway.mac_address} && '
        f"ip4.src == {OUTSIDE_IP} && ip4.dst == {topology.fip.floating_ip_address} && ip.ttl == 64 && "
        "icmp4.type == 8",
    )
    assert f'output("{topology.a.id}")' not in trace
