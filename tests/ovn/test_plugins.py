"""Through the plugins: after every change the northbound database holds exactly the rows it should.

The rules (over the memory storage) drive the ovn backend, as an application
configured with ``backends = ovn`` would; after each call the whole
northbound database is read back with ``ovn-nbctl`` and compared with the
rows expected from what naas stored: switches and their ports (addresses,
port security, DHCP options), DHCP options, routers, router ports, gateway
chassis, routes and NAT. After everything is deleted, no row is left.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from naas import RequestContext, admin_context
from naas.backends import BackendChain
from naas.resources import Network, Port, Subnet
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.ovn import OvnBackend
from naas_plugins.ovn._rows import dhcp_server_mac
from naas_plugins.ovn.testing import ControlPlane
from tests.ovn.conftest import GATEWAY_CHASSIS, PHYSICAL_NETWORK, naas_rows, northbound


@dataclasses.dataclass
class Deployment:
    ovn: ControlPlane
    backend: OvnBackend
    core: MemoryCorePlugin
    l3: MemoryL3Plugin


@pytest.fixture
def deployment(ovn: ControlPlane) -> Iterator[Deployment]:
    backend = OvnBackend(ovn.nb_connection, timeout=30, gateway_chassis=[GATEWAY_CHASSIS])
    core = MemoryCorePlugin(backends=BackendChain({"ovn": backend}))
    try:
        yield Deployment(ovn, backend, core, MemoryL3Plugin(core))
    finally:
        core.close()
        backend.close()


def switch(network: Network) -> str:
    return f"naas-{network.id}"


def addresses(port: Port) -> list[str]:
    return [" ".join([port.mac_address, *(str(fixed.ip_address) for fixed in port.fixed_ips)])]


def localnet() -> dict[str, Any]:
    return {
        "type": "localnet",
        "addresses": ["unknown"],
        "port_security": [],
        "options": {"network_name": PHYSICAL_NETWORK},
        "enabled": [],
        "dhcpv4": None,
        "dhcpv6": None,
    }


def instance_port(port: Port, v4: Subnet | None, v6: Subnet | None) -> dict[str, Any]:
    return {
        "type": "",
        "addresses": addresses(port),
        "port_security": addresses(port),
        "options": {},
        "enabled": [port.admin_state_up],
        "dhcpv4": None if v4 is None else str(v4.cidr),
        "dhcpv6": None if v6 is None else str(v6.cidr),
    }


def router_type_port(port: Port, *, gateway: bool = False) -> dict[str, Any]:
    options = {"router-port": f"lrp-{port.id}"}
    if gateway:
        options["nat-addresses"] = "router"
    return {
        "type": "router",
        "addresses": ["router"],
        "port_security": [],
        "options": options,
        "enabled": [True],
        "dhcpv4": None,
        "dhcpv6": None,
    }


def dhcp_v4(subnet: Subnet) -> dict[str, str]:
    return {
        "server_id": str(subnet.gateway_ip),
        "server_mac": dhcp_server_mac(subnet.id),
        "lease_time": "43200",
        "mtu": "1500",
        "router": str(subnet.gateway_ip),
    }


def networks(port: Port, *subnets: Subnet) -> list[str]:
    prefix = {subnet.id: subnet.cidr.prefixlen for subnet in subnets}
    return sorted(f"{fixed.ip_address}/{prefix[fixed.subnet_id]}" for fixed in port.fixed_ips)


def test_after_each_change_the_northbound_holds_exactly_the_stored_topology(deployment: Deployment) -> None:
    core, l3, ovn = deployment.core, deployment.l3, deployment.ovn
    admin, project = admin_context(), RequestContext("p")

    public = core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
    public_subnet = core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24", "enable_dhcp": False})
    expected: dict[str, Any] = {
        "switches": {switch(public): {"ports": {f"provnet-{public.id}": localnet()}}},
        "dhcp": {},
        "routers": {},
    }
    assert northbound(ovn) == expected

    private = core.create_network(project, {"name": "private"})
    v4 = core.create_subnet(project, {"network_id": private.id, "cidr": "10.1.0.0/24"})
    v6 = core.create_subnet(project, {"network_id": private.id, "cidr": "fd00:1::/64", "ip_version": 6})
    expected["switches"][switch(private)] = {"ports": {}}
    expected["dhcp"] = {"10.1.0.0/24": dhcp_v4(v4), "fd00:1::/64": {"server_id": dhcp_server_mac(v6.id)}}
    assert northbound(ovn) == expected

    vm = core.create_port(project, {"network_id": private.id, "name": "vm"})
    assert len(vm.fixed_ips) == 2
    expected["switches"][switch(private)]["ports"][vm.id] = instance_port(vm, v4, v6)
    assert northbound(ovn) == expected

    router = l3.create_router(project, {"name": "r", "external_gateway_info": {"network_id": public.id}})
    assert router.external_gateway_info is not None
    (gateway_port,) = core.get_ports(admin, {"device_id": router.id})
    (gateway_ip,) = (fixed.ip_address for fixed in gateway_port.fixed_ips)
    expected["switches"][switch(public)]["ports"][gateway_port.id] = router_type_port(gateway_port, gateway=True)
    expected["routers"][f"naas-{router.id}"] = {
        "enabled": [True],
        "ports": {
            f"lrp-{gateway_port.id}": {
                "mac": gateway_port.mac_address,
                "networks": [f"{gateway_ip}/24"],
                "ipv6_ra_configs": {},
                "gateway_chassis": [(GATEWAY_CHASSIS, 1)],
            }
        },
        "nat": [],
        "routes": [("0.0.0.0/0", str(public_subnet.gateway_ip))],
    }
    assert northbound(ovn) == expected

    for subnet in (v4, v6):
        interface = l3.add_router_interface(project, router.id, {"subnet_id": subnet.id})
        port = core.get_port(project, interface.port_id)
        expected["switches"][switch(private)]["ports"][port.id] = router_type_port(port)
        expected["routers"][f"naas-{router.id}"]["ports"][f"lrp-{port.id}"] = {
            "mac": port.mac_address,
            "networks": networks(port, subnet),
            "ipv6_ra_configs": {"address_mode": "dhcpv6_stateful", "send_periodic": "true"}
            if subnet.ip_version == 6
            else {},
            "gateway_chassis": [],
        }
    expected["routers"][f"naas-{router.id}"]["nat"] = [("snat", str(gateway_ip), "10.1.0.0/24", [])]
    assert northbound(ovn) == expected

    fip = l3.create_floatingip(project, {"floating_network_id": public.id, "port_id": vm.id})
    vm_v4 = next(str(fixed.ip_address) for fixed in vm.fixed_ips if fixed.subnet_id == v4.id)
    expected["routers"][f"naas-{router.id}"]["nat"].append(
        ("dnat_and_snat", str(fip.floating_ip_address), vm_v4, [vm.id])
    )
    expected["routers"][f"naas-{router.id}"]["nat"].sort()
    # The floating IP's own port on the external network has no switch port: its NAT row carries the address.
    assert northbound(ovn) == expected

    core.update_port(project, vm.id, {"admin_state_up": False})
    expected["switches"][switch(private)]["ports"][vm.id]["enabled"] = [False]
    l3.update_router(admin, router.id, {"external_gateway_info": {"network_id": public.id, "enable_snat": False}})
    expected["routers"][f"naas-{router.id}"]["nat"] = [("dnat_and_snat", str(fip.floating_ip_address), vm_v4, [vm.id])]
    assert northbound(ovn) == expected

    l3.disassociate_floatingip(project, fip.id)
    expected["routers"][f"naas-{router.id}"]["nat"] = []
    assert northbound(ovn) == expected
    assert deployment.core.dataplane.sync(repair=False).repairs == ()

    l3.delete_floatingip(project, fip.id)
    for subnet in (v4, v6):
        l3.remove_router_interface(project, router.id, {"subnet_id": subnet.id})
    l3.delete_router(project, router.id)
    core.delete_port(project, vm.id)
    core.delete_network(project, private.id)
    core.delete_network(admin, public.id)
    assert northbound(ovn) == {"switches": {}, "dhcp": {}, "routers": {}}
    assert naas_rows(ovn) == []


def test_reads_write_nothing_and_a_repeated_change_writes_nothing(deployment: Deployment) -> None:
    core, backend = deployment.core, deployment.backend
    admin = admin_context()
    network = core.create_network(admin, {"name": "n"})
    core.create_subnet(admin, {"network_id": network.id, "cidr": "10.2.0.0/24"})
    before = backend.northbound.transactions

    core.get_network(admin, network.id)
    core.get_networks(admin)
    core.get_ports(admin)
    core.dataplane.sync(repair=False)
    core.dataplane.sync()
    assert backend.northbound.transactions == before

    core.update_network(admin, network.id, {"name": "renamed"})
    assert backend.northbound.transactions == before + 1


def test_a_plugin_call_that_changes_several_resources_sends_one_transaction(deployment: Deployment) -> None:
    core, l3, backend = deployment.core, deployment.l3, deployment.backend
    admin = admin_context()
    public = core.create_network(admin, {"router:external": True})
    core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24", "enable_dhcp": False})
    private = core.create_network(admin, {"name": "private"})
    subnet = core.create_subnet(admin, {"network_id": private.id, "cidr": "10.3.0.0/24"})
    before = backend.northbound.transactions

    router = l3.create_router(admin, {"name": "r", "external_gateway_info": {"network_id": public.id}})
    assert backend.northbound.transactions == before + 1  # the gateway port and the router
    l3.add_router_interface(admin, router.id, {"subnet_id": subnet.id})
    assert backend.northbound.transactions == before + 2  # the interface port and the router

    held = northbound(deployment.ovn)
    assert set(held["routers"][f"naas-{router.id}"]["ports"]) == {
        f"lrp-{port.id}" for port in core.get_ports(admin, {"device_id": [router.id]})
    }
    assert core.dataplane.sync(repair=False).repairs == ()


def test_a_failure_in_one_change_of_a_plugin_call_leaves_only_its_resource_in_error(deployment: Deployment) -> None:
    core, l3, ovn = deployment.core, deployment.l3, deployment.ovn
    admin = admin_context()
    public = core.create_network(admin, {"router:external": True})
    core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24", "enable_dhcp": False})
    # The external switch disappears behind naas's back: the gateway port cannot be written, the router can.
    ovn.nbctl("ls-del", f"naas-{public.id}")

    router = l3.create_router(admin, {"name": "r", "external_gateway_info": {"network_id": public.id}})

    (gateway_port,) = core.get_ports(admin, {"device_id": [router.id]})
    assert (router.status, l3.get_router(admin, router.id).status) == ("ACTIVE", "ACTIVE")
    assert gateway_port.status == "ERROR"
    assert f"naas-{router.id}" in northbound(ovn)["routers"]
    core.dataplane.sync()
    assert core.get_port(admin, gateway_port.id).status == "ACTIVE"
    assert core.dataplane.sync(repair=False).repairs == ()


def test_a_failed_transaction_leaves_the_resource_in_error_and_the_next_sync_realizes_it(
    deployment: Deployment,
) -> None:
    core, ovn = deployment.core, deployment.ovn
    admin = admin_context()
    network = core.create_network(admin, {"name": "n"})
    # The switch disappears behind naas's back: a port on it cannot be written.
    ovn.nbctl("ls-del", f"naas-{network.id}")

    port = core.create_port(admin, {"network_id": network.id, "name": "vm"})

    assert port.status == "ERROR"
    assert core.get_port(admin, port.id).status == "ERROR"
    assert port.id not in northbound(ovn)["switches"].get(f"naas-{network.id}", {"ports": {}})["ports"]

    report = core.dataplane.sync()

    assert {(repair.resource_type.value, repair.resource_id, repair.action.value) for _, repair in report.repairs} == {
        ("network", network.id, "created"),
        ("port", port.id, "created"),
    }
    assert core.get_port(admin, port.id).status == "ACTIVE"
    assert list(northbound(ovn)["switches"][f"naas-{network.id}"]["ports"]) == [port.id]
    assert core.dataplane.sync(repair=False).repairs == ()


def test_a_northbound_that_stops_answering_leaves_error_until_a_sync_after_it_is_back(ovn: ControlPlane) -> None:
    backend = OvnBackend(ovn.nb_connection, timeout=2, gateway_chassis=[GATEWAY_CHASSIS])
    core = MemoryCorePlugin(backends=BackendChain({"ovn": backend}))
    admin = admin_context()
    try:
        network = core.create_network(admin, {"name": "before"})
        nb_server = ovn.pids["ovnnb_db"]
        os.kill(nb_server, signal.SIGSTOP)
        try:
            updated = core.update_network(admin, network.id, {"name": "after"})
        finally:
            os.kill(nb_server, signal.SIGCONT)
        # Whether the transaction still landed once the server resumed cannot be known: ERROR until a sync says.
        assert updated.status == "ERROR"
        assert core.get_network(admin, network.id).status == "ERROR"
        core.dataplane.sync()
        assert core.get_network(admin, network.id).status == "ACTIVE"
        assert "after" in ovn.nbctl("get", "Logical_Switch", f"naas-{network.id}", "external_ids:naas\\:network_name")
    finally:
        core.close()
        backend.close()


def test_a_northbound_that_does_not_answer_a_batch_fails_all_of_it_without_retrying_each(ovn: ControlPlane) -> None:
    backend = OvnBackend(ovn.nb_connection, timeout=2, gateway_chassis=[GATEWAY_CHASSIS])
    core = MemoryCorePlugin(backends=BackendChain({"ovn": backend}))
    l3 = MemoryL3Plugin(core)
    admin = admin_context()
    try:
        public = core.create_network(admin, {"router:external": True})
        core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24", "enable_dhcp": False})
        sent = backend.northbound.transactions
        nb_server = ovn.pids["ovnnb_db"]
        os.kill(nb_server, signal.SIGSTOP)
        try:
            router = l3.create_router(admin, {"name": "r", "external_gateway_info": {"network_id": public.id}})
        finally:
            os.kill(nb_server, signal.SIGCONT)
        # Whether it landed cannot be known: the router and its gateway port are both ERROR, after one attempt.
        assert backend.northbound.transactions == sent + 1
        (gateway_port,) = core.get_ports(admin, {"device_id": [router.id]})
        assert (router.status, gateway_port.status) == ("ERROR", "ERROR")
        core.dataplane.sync()
        assert (l3.get_router(admin, router.id).status, core.get_port(admin, gateway_port.id).status) == (
            "ACTIVE",
            "ACTIVE",
        )
    finally:
        core.close()
        backend.close()


def test_a_gateway_without_gateway_chassis_is_refused_and_nothing_is_stored(ovn: ControlPlane) -> None:
    backend = OvnBackend(ovn.nb_connection, timeout=30)
    core = MemoryCorePlugin(backends=BackendChain({"ovn": backend}))
    l3 = MemoryL3Plugin(core)
    admin = admin_context()
    try:
        public = core.create_network(admin, {"router:external": True})
        core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24"})
        from naas.exceptions import BadRequest

        with pytest.raises(BadRequest) as refused:
            l3.create_router(admin, {"name": "r", "external_gateway_info": {"network_id": public.id}})
        assert "external_gateway_info" in str(refused.value) and "[ovn] gateway_chassis" in str(refused.value)
        assert l3.get_routers(admin) == []
        assert northbound(ovn)["routers"] == {}
    finally:
        core.close()
        backend.close()
