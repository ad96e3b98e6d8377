"""The issue's scenario, packets and all: DHCP, routing, SNAT, floating IPs, dual stack, deletion."""

from __future__ import annotations

import subprocess

from naas.backends import DataplaneState
from tests.linux import helpers
from tests.linux.conftest import OUTSIDE_HOST, Lab


def test_two_networks_a_router_a_gateway_and_a_floating_ip(lab: Lab) -> None:
    core, l3, context = lab.core, lab.l3, lab.context
    external = lab.external_network()
    outside = lab.outside_host(external)
    net_a = lab.network("a", "10.1.0.0/24", v6="2001:db8:a::/64")
    net_b = lab.network("b", "10.2.0.0/24", v6="2001:db8:b::/64")
    vm_a, port_a = lab.instance("a", net_a)
    vm_b, port_b = lab.instance("b", net_b)
    address_a = str(next(f.ip_address for f in port_a.fixed_ips if f.ip_address.version == 4))
    address_b = str(next(f.ip_address for f in port_b.fixed_ips if f.ip_address.version == 4))
    v6_b = str(next(f.ip_address for f in port_b.fixed_ips if f.ip_address.version == 6))

    # DHCP hands each instance exactly its port's address
    assert lab.dhcp(vm_a) == address_a
    assert lab.dhcp(vm_b) == address_b
    assert not helpers.reachable(vm_a, address_b)

    # A router joins the subnets: both IP versions are routed
    router = l3.create_router(context, {"name": "r", "project_id": "p1"})
    for network in (net_a, net_b):
        for subnet_id in network.subnets:
            l3.add_router_interface(context, router.id, {"subnet_id": subnet_id})
    assert helpers.reachable(vm_a, address_b)
    assert helpers.reachable(vm_a, v6_b)
    assert not helpers.reachable(vm_a, OUTSIDE_HOST)

    # A gateway: A reaches the outside host, which sees the router's external address
    router = l3.update_router(context, router.id, {"external_gateway_info": {"network_id": external.id}})
    assert router.external_gateway_info is not None
    router_external = str(router.external_gateway_info.external_fixed_ips[0].ip_address)
    assert helpers.reachable(vm_a, OUTSIDE_HOST)
    with helpers.whoami_server(outside):
        assert helpers.source_seen_by(vm_a, OUTSIDE_HOST) == router_external
        assert helpers.source_seen_by(vm_b, OUTSIDE_HOST) == router_external

        # A floating IP: A is reachable at it, and its traffic shows it
        fip = l3.create_floatingip(context, {"floating_network_id": external.id, "project_id": "p1"})
        floating = str(fip.floating_ip_address)
        assert not helpers.reachable(outside, floating)
        l3.associate_floatingip(context, fip.id, port_a.id)
        assert helpers.reachable(outside, floating)
        assert helpers.source_seen_by(vm_a, OUTSIDE_HOST) == floating
        assert helpers.source_seen_by(vm_b, OUTSIDE_HOST) == router_external

        # Disassociated: neither any more
        l3.disassociate_floatingip(context, fip.id)
        assert helpers.source_seen_by(vm_a, OUTSIDE_HOST) == router_external
    subprocess.run(["ip", "-n", outside, "neigh", "flush", "all"], check=True)
    assert not helpers.reachable(outside, floating)

    # Removing B's interfaces cuts A from B
    for subnet_id in net_b.subnets:
        l3.remove_router_interface(context, router.id, {"subnet_id": subnet_id})
    assert not helpers.reachable(vm_a, address_b)
    assert helpers.reachable(vm_a, OUTSIDE_HOST)

    # Every status says the backend realized it
    for port in (port_a, port_b):
        assert core.get_port(context, port.id).status == "ACTIVE"
    assert l3.get_router(context, router.id).status == "ACTIVE"

    # Deleting everything leaves nothing of the installation
    l3.delete_floatingip(context, fip.id)
    for subnet_id in net_a.subnets:
        l3.remove_router_interface(context, router.id, {"subnet_id": subnet_id})
    l3.delete_router(context, router.id)
    for port in core.get_ports(context):
        core.delete_port(context, port.id)
    for network in (net_a, net_b, external):
        core.delete_network(context, network.id)
    for namespace in list(lab.instances):
        helpers.kill_processes_in(namespace)
        subprocess.run(["ip", "netns", "del", namespace], check=True)
        lab.instances.remove(namespace)
    helpers.assert_nothing_left(lab.backend)
    assert lab.backend.sync(DataplaneState()).repairs == ()
