"""Get me a network on the linux backend, and two projects with one CIDR side by side."""

from __future__ import annotations

from naas.auto_allocate import AutoAllocator
from naas.bootstrap import BootstrapSettings, bootstrap
from naas.context import RequestContext
from tests.linux import helpers
from tests.linux.conftest import OUTSIDE_CIDR, OUTSIDE_HOST, Lab


def test_get_me_a_network_then_an_instance_gets_dhcp_and_reaches_the_outside_host(lab: Lab) -> None:
    bootstrap(lab.core, lab.context, BootstrapSettings(external_cidr=OUTSIDE_CIDR))
    (external,) = lab.core.get_networks(lab.context, {"router:external": True})
    outside = lab.outside_host(external)
    project = RequestContext(project_id="demo", is_admin=False)
    allocator = AutoAllocator(lab.core, lab.l3)

    topology = allocator.get_auto_allocated_topology(project, "demo")

    # When the call returns the dataplane holds the whole topology: sync finds nothing to do.
    report = lab.core.dataplane.sync(repair=False)
    assert report.repairs == () and report.failures == ()
    (router,) = lab.l3.get_routers(lab.context, {"project_id": "demo"})
    assert router.status == "ACTIVE"
    namespace = lab.backend.names.router_namespace(router.id)
    assert namespace in helpers.namespaces_of(lab.backend)
    links = helpers.run(namespace, "ip", "-o", "link").stdout
    assert links.count(": qr-") == 2 and links.count(": qg-") == 1, links
    table = helpers.run(namespace, "nft", "list", "table", "ip", lab.backend.names.nft_table).stdout
    assert f'comment "snat {lab.subnet(lab.core.get_network(lab.context, topology["id"])).cidr} to' in table, table
    assert router.external_gateway_info is not None and router.external_gateway_info.enable_snat
    network = lab.core.get_network(lab.context, topology["id"])
    assert network.status == "ACTIVE"
    assert len(network.subnets) == 2, "a dual-stack topology: one IPv4 and one IPv6 subnet"

    vm, port = lab.instance("vm", network)
    v4 = str(next(f.ip_address for f in port.fixed_ips if f.ip_address.version == 4))
    assert lab.dhcp(vm) == v4
    assert helpers.reachable(vm, OUTSIDE_HOST)
    router_external = str(router.external_gateway_info.external_fixed_ips[0].ip_address)
    with helpers.whoami_server(outside):
        assert helpers.source_seen_by(vm, OUTSIDE_HOST) == router_external
    # The IPv6 subnet is routed: the instance's static address reaches its router's gateway address.
    v6_gateway = str(lab.subnet(network, 6).gateway_ip)
    assert helpers.reachable(vm, v6_gateway)


def test_two_projects_with_the_same_cidr_work_side_by_side_and_cannot_reach_each_other(lab: Lab) -> None:
    external = lab.external_network()
    outside = lab.outside_host(external)
    seen = {}
    instances = {}
    for project, host in (("p1", "10.0.0.10"), ("p2", "10.0.0.20")):
        network = lab.network(f"net-{project}", "10.0.0.0/24", project=project)
        subnet = lab.subnet(network)
        router = lab.l3.create_router(
            lab.context,
            {"name": f"r-{project}", "project_id": project, "external_gateway_info": {"network_id": external.id}},
        )
        lab.l3.add_router_interface(lab.context, router.id, {"subnet_id": subnet.id})
        vm, _ = lab.instance(project, network, fixed_ips=[{"subnet_id": subnet.id, "ip_address": host}])
        assert lab.dhcp(vm) == host
        instances[project] = (vm, host)
        router = lab.l3.get_router(lab.context, router.id)
        assert router.external_gateway_info is not None
        seen[project] = str(router.external_gateway_info.external_fixed_ips[0].ip_address)
    with helpers.whoami_server(outside):
        for project, (vm, _) in instances.items():
            assert helpers.source_seen_by(vm, OUTSIDE_HOST) == seen[project]
    assert seen["p1"] != seen["p2"]
    (vm1, host1), (vm2, host2) = instances["p1"], instances["p2"]
    assert not helpers.reachable(vm1, host2)
    assert not helpers.reachable(vm2, host1)
