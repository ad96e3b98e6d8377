"""Tests of naas_plugins.memory.l3: routers, interfaces and floating IPs over the memory core plugin."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from naas import exceptions
from naas.context import RequestContext
from naas.events import Event, EventPayload, EventRegistry, ResourceType
from naas.resources import Network, Port, Subnet
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin

from .conftest import Deployment


def private_network(core: MemoryCorePlugin, context: RequestContext) -> tuple[Network, Subnet]:
    network = core.create_network(context, {"name": "private"})
    subnet = core.create_subnet(context, {"network_id": network.id, "use_default_subnetpool": True, "ip_version": 4})
    return network, subnet


def router_with_gateway(l3: MemoryL3Plugin, context: RequestContext, deployment: Deployment) -> Any:
    return l3.create_router(context, {"name": "r", "external_gateway_info": {"network_id": deployment.external.id}})


class TestRouters:
    def test_events_default_to_the_core_registry(self, core: MemoryCorePlugin, l3: MemoryL3Plugin) -> None:
        assert l3.events is core.events
        assert MemoryL3Plugin(core, EventRegistry()).events is not core.events

    def test_gateway_port(
        self,
        core: MemoryCorePlugin,
        l3: MemoryL3Plugin,
        alice: RequestContext,
        admin: RequestContext,
        deployment: Deployment,
    ) -> None:
        router = router_with_gateway(l3, alice, deployment)
        assert router.status == "ACTIVE" and router.project_id == "alice"
        info = router.external_gateway_info
        assert info.network_id == deployment.external.id and info.enable_snat
        (port,) = core.get_ports(admin, {"device_id": router.id})
        assert (port.device_owner, port.project_id, port.fixed_ips) == (
            "network:router_gateway",
            "alice",
            info.external_fixed_ips,
        )
        assert str(info.external_fixed_ips[0].ip_address) == "172.24.4.2"

    def test_gateway_must_be_external(self, core: MemoryCorePlugin, l3: MemoryL3Plugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        with pytest.raises(exceptions.BadRequest) as caught:
            l3.create_router(alice, {"external_gateway_info": {"network_id": network.id}})
        assert caught.value.attribute == "external_gateway_info"
        assert f"Network {network.id} is not an external network" in str(caught.value)
        assert l3.get_routers(alice) == []

    def test_failed_gateway_port_leaves_no_router(
        self,
        core: MemoryCorePlugin,
        l3: MemoryL3Plugin,
        alice: RequestContext,
        admin: RequestContext,
        deployment: Deployment,
    ) -> None:
        core.update_subnet(admin, deployment.external_subnet.id, {"allocation_pools": []})
        with pytest.raises(exceptions.IpAddressExhausted):
            router_with_gateway(l3, alice, deployment)
        assert l3.get_routers(alice) == []

    def test_gateway_port_cannot_be_deleted_behind_the_router(
        self,
        core: MemoryCorePlugin,
        l3: MemoryL3Plugin,
        alice: RequestContext,
        admin: RequestContext,
        deployment: Deployment,
    ) -> None:
        router = router_with_gateway(l3, alice, deployment)
        (port,) = core.get_ports(admin, {"device_id": router.id})
        with pytest.raises(exceptions.InUse):
            core.delete_port(alice, port.id)
        with pytest.raises(exceptions.InUse):
            core.update_port(admin, port.id, {"device_id": ""})
        core.update_port(admin, port.id, {"name": "renaming is harmless"})
        l3.delete_router(alice, router.id)
        assert core.get_ports(admin, {"device_id": router.id}) == []

    def test_update_gateway(
        self,
        core: MemoryCorePlugin,
        l3: MemoryL3Plugin,
        alice: RequestContext,
        admin: RequestContext,
        deployment: Deployment,
    ) -> None:
        router = l3.create_router(alice, {})
        assert router.external_gateway_info is None
        with_gateway = l3.update_router(
            alice, router.id, {"external_gateway_info": {"network_id": deployment.external.id}}
        )
        assert with_gateway.external_gateway_info is not None
        # Turning SNAT off and picking the address are an admin's (Neutron's default policy).
        moved = l3.update_router(
            admin,
            router.id,
            {
                "external_gateway_info": {
                    "network_id": deployment.external.id,
                    "enable_snat": False,
                    "external_fixed_ips": [{"ip_address": "172.24.4.100"}],
                }
            },
        )
        assert moved.external_gateway_info is not None and not moved.external_gateway_info.enable_snat
        assert str(moved.external_gateway_info.external_fixed_ips[0].ip_address) == "172.24.4.100"
        cleared = l3.update_router(alice, router.id, {"external_gateway_info": None, "name": "quiet"})
        assert cleared.external_gateway_info is None and cleared.name == "quiet"
        assert core.get_ports(admin, {"device_id": router.id}) == []

    def test_delete_refuses_while_interfaces_remain(
        self, core: MemoryCorePlugin, l3: MemoryL3Plugin, alice: RequestContext, deployment: Deployment
    ) -> None:
        router = router_with_gateway(l3, alice, deployment)
        _, subnet = private_network(core, alice)
        info = l3.add_router_interface(alice, router.id, {"subnet_id": subnet.id})
        with pytest.raises(exceptions.InUse) as caught:
            l3.delete_router(alice, router.id)
        assert caught.value.users == (info.port_id,)
        assert l3.get_router(alice, router.id).external_gateway_info is not None

    def test_visibility(self, l3: MemoryL3Plugin, alice: RequestContext, bob: RequestContext) -> None:
        router = l3.create_router(alice, {})
        with pytest.raises(exceptions.NotFound):
            l3.get_router(bob, router.id)
        with pytest.raises(exceptions.NotFound):
            l3.delete_router(bob, router.id)
        assert l3.get_routers(bob) == []


class TestInterfaces:
    def test_by_subnet(
        self, core: MemoryCorePlugin, l3: MemoryL3Plugin, alice: RequestContext, deployment: Deployment
    ) -> None:
        router = router_with_gateway(l3, alice, deployment)
        network, subnet = private_network(core, alice)
        info = l3.add_router_interface(alice, router.id, {"subnet_id": subnet.id})
        assert (info.id, info.network_id, info.subnet_id, info.subnet_ids) == (
            router.id,
            network.id,
            subnet.id,
            (subnet.id,),
        )
        port = core.get_port(alice, info.port_id)
        assert (port.device_owner, port.device_id) == ("network:router_interface", router.id)
        assert port.fixed_ips[0].ip_address == subnet.gateway_ip
        with pytest.raises(exceptions.InUse):
            core.delete_port(alice, port.id)
        with pytest.raises(exceptions.BadRequest):
            l3.add_router_interface(alice, router.id, {"subnet_id": subnet.id})
        removed = l3.remove_router_interface(alice, router.id, {"subnet_id": subnet.id})
        assert removed == info
        with pytest.raises(exceptions.NotFound) as caught:
            l3.remove_router_interface(alice, router.id, {"subnet_id": subnet.id})
        assert f"Router {router.id} has no interface on subnet {subnet.id}" in str(caught.value)
        core.delete_network(alice, network.id)

    def test_subnet_without_gateway(self, core: MemoryCorePlugin, l3: MemoryL3Plugin, alice: RequestContext) -> None:
        router = l3.create_router(alice, {})
        network = core.create_network(alice, {})
        subnet = core.create_subnet(alice, {"network_id": network.id, "cidr": "10.9.0.0/24", "gateway_ip": None})
        with pytest.raises(exceptions.BadRequest):
            l3.add_router_interface(alice, router.id, {"subnet_id": subnet.id})

    def test_overlap_refused(
        self, core: MemoryCorePlugin, l3: MemoryL3Plugin, alice: RequestContext, deployment: Deployment
    ) -> None:
        router = router_with_gateway(l3, alice, deployment)
        first = core.create_subnet(alice, {"network_id": core.create_network(alice, {}).id, "cidr": "10.9.0.0/24"})
        second = core.create_subnet(alice, {"network_id": core.create_network(alice, {}).id, "cidr": "10.9.0.0/25"})
        clash = core.create_subnet(alice, {"network_id": core.create_network(alice, {}).id, "cidr": "172.24.4.0/28"})
        l3.add_router_interface(alice, router.id, {"subnet_id": first.id})
        for subnet in (second, clash):
            with pytest.raises(exceptions.BadRequest):
                l3.add_router_interface(alice, router.id, {"subnet_id": subnet.id})

    def test_only_own_networks(
        self, core: MemoryCorePlugin, l3: MemoryL3Plugin, alice: RequestContext, admin: RequestContext
    ) -> None:
        shared = core.create_network(admin, {"shared": True})
        subnet = core.create_subnet(admin, {"network_id": shared.id, "cidr": "10.9.0.0/24"})
        router = l3.create_router(alice, {})
        with pytest.raises(exceptions.NotAuthorized):
            l3.add_router_interface(alice, router.id, {"subnet_id": subnet.id})

    def test_by_port(
        self, core: MemoryCorePlugin, l3: MemoryL3Plugin, alice: RequestContext, deployment: Deployment
    ) -> None:
        router = router_with_gateway(l3, alice, deployment)
        network, subnet = private_network(core, alice)
        port = core.create_port(alice, {"network_id": network.id})
        info = l3.add_router_interface(alice, router.id, {"port_id": port.id})
        assert (info.port_id, info.subnet_ids) == (port.id, (subnet.id,))
        assert core.get_port(alice, port.id).device_owner == "network:router_interface"
        with pytest.raises(exceptions.BadRequest):
            l3.add_router_interface(alice, l3.create_router(alice, {}).id, {"port_id": port.id})
        l3.remove_router_interface(alice, router.id, {"port_id": port.id})
        with pytest.raises(exceptions.NotFound):
            core.get_port(alice, port.id)

    def test_remove_one_subnet_of_a_dual_stack_port(
        self, core: MemoryCorePlugin, l3: MemoryL3Plugin, alice: RequestContext, deployment: Deployment
    ) -> None:
        router = l3.create_router(alice, {})
        network, v4 = private_network(core, alice)
        v6 = core.create_subnet(alice, {"network_id": network.id, "use_default_subnetpool": True, "ip_version": 6})
        port = core.create_port(alice, {"network_id": network.id})
        l3.add_router_interface(alice, router.id, {"port_id": port.id})
        removed = l3.remove_router_interface(alice, router.id, {"subnet_id": v4.id})
        assert removed.subnet_ids == (v4.id,)
        assert [f.subnet_id for f in core.get_port(alice, port.id).fixed_ips] == [v6.id]
        l3.remove_router_interface(alice, router.id, {"subnet_id": v6.id})
        l3.delete_router(alice, router.id)

    def test_exactly_one_of_subnet_and_port(self, l3: MemoryL3Plugin, alice: RequestContext) -> None:
        router = l3.create_router(alice, {})
        with pytest.raises(exceptions.BadRequest):
            l3.add_router_interface(alice, router.id, {})


class TestFloatingIPs:
    @pytest.fixture
    def topology(
        self, core: MemoryCorePlugin, l3: MemoryL3Plugin, alice: RequestContext, deployment: Deployment
    ) -> tuple[Any, Subnet, Port]:
        router = router_with_gateway(l3, alice, deployment)
        network, subnet = private_network(core, alice)
        l3.add_router_interface(alice, router.id, {"subnet_id": subnet.id})
        return router, subnet, core.create_port(alice, {"network_id": network.id})

    def test_create_associate_disassociate(
        self,
        core: MemoryCorePlugin,
        l3: MemoryL3Plugin,
        alice: RequestContext,
        admin: RequestContext,
        deployment: Deployment,
        topology: tuple[Any, Subnet, Port],
    ) -> None:
        router, _, vm = topology
        fip = l3.create_floatingip(alice, {"floating_network_id": deployment.external.id})
        assert (fip.status, fip.port_id, str(fip.floating_ip_address)) == ("DOWN", None, "172.24.4.3")
        (port,) = core.get_ports(admin, {"device_id": fip.id})
        assert port.device_owner == "network:floatingip"
        associated = l3.associate_floatingip(alice, fip.id, vm.id)
        assert (associated.status, associated.port_id, associated.router_id) == ("ACTIVE", vm.id, router.id)
        assert associated.fixed_ip_address == vm.fixed_ips[0].ip_address
        with pytest.raises(exceptions.Conflict):
            l3.create_floatingip(alice, {"floating_network_id": deployment.external.id, "port_id": vm.id})
        assert len(core.get_ports(admin, {"device_owner": "network:floatingip"})) == 1
        with pytest.raises(exceptions.InUse):
            core.delete_port(admin, port.id)
        assert l3.disassociate_floatingip(alice, fip.id).status == "DOWN"
        assert l3.disassociate_floatingip(alice, fip.id).port_id is None
        l3.delete_floatingip(alice, fip.id)
        assert core.get_ports(admin, {"device_owner": "network:floatingip"}) == []

    def test_floating_network_must_be_external(
        self, core: MemoryCorePlugin, l3: MemoryL3Plugin, alice: RequestContext
    ) -> None:
        network = core.create_network(alice, {})
        with pytest.raises(exceptions.BadRequest):
            l3.create_floatingip(alice, {"floating_network_id": network.id})

    def test_unreachable(
        self,
        core: MemoryCorePlugin,
        l3: MemoryL3Plugin,
        alice: RequestContext,
        admin: RequestContext,
        deployment: Deployment,
    ) -> None:
        network, subnet = private_network(core, alice)
        port = core.create_port(alice, {"network_id": network.id})
        with pytest.raises(exceptions.NotFound) as caught:
            l3.create_floatingip(alice, {"floating_network_id": deployment.external.id, "port_id": port.id})
        assert f"External network {deployment.external.id} is not reachable from subnet {subnet.id}" in str(
            caught.value
        )
        assert core.get_ports(admin, {"device_owner": "network:floatingip"}) == []

    def test_interface_and_router_in_use_by_floating_ip(
        self,
        core: MemoryCorePlugin,
        l3: MemoryL3Plugin,
        alice: RequestContext,
        deployment: Deployment,
        topology: tuple[Any, Subnet, Port],
    ) -> None:
        router, subnet, vm = topology
        fip = l3.create_floatingip(alice, {"floating_network_id": deployment.external.id, "port_id": vm.id})
        with pytest.raises(exceptions.InUse):
            l3.remove_router_interface(alice, router.id, {"subnet_id": subnet.id})
        with pytest.raises(exceptions.InUse):
            l3.update_router(alice, router.id, {"external_gateway_info": None})
        core.delete_port(alice, vm.id)
        assert l3.get_floatingip(alice, fip.id).status == "DOWN"
        l3.remove_router_interface(alice, router.id, {"subnet_id": subnet.id})
        l3.delete_router(alice, router.id)

    def test_failed_association_leaves_no_port(
        self,
        core: MemoryCorePlugin,
        l3: MemoryL3Plugin,
        alice: RequestContext,
        admin: RequestContext,
        deployment: Deployment,
        topology: tuple[Any, Subnet, Port],
    ) -> None:
        _, _, vm = topology

        def delete_vm_port(resource: ResourceType, event: Event, payload: EventPayload) -> None:
            # The internal port disappears while the floating IP's port is being created.
            if payload.request.device_owner == "network:floatingip":
                core.delete_port(admin, vm.id)

        core.events.subscribe(ResourceType.PORT, Event.BEFORE_CREATE, delete_vm_port)
        with pytest.raises(exceptions.NotFound):
            l3.create_floatingip(alice, {"floating_network_id": deployment.external.id, "port_id": vm.id})
        assert core.get_ports(admin, {"device_owner": "network:floatingip"}) == []
        assert l3.get_floatingips(alice) == []

    def test_bad_association_input(
        self, l3: MemoryL3Plugin, alice: RequestContext, deployment: Deployment, topology: tuple[Any, Subnet, Port]
    ) -> None:
        fip = l3.create_floatingip(alice, {"floating_network_id": deployment.external.id})
        with pytest.raises(exceptions.BadRequest) as caught:
            l3.associate_floatingip(alice, fip.id, "not-a-uuid")
        assert caught.value.attribute == "port_id"
        with pytest.raises(exceptions.BadRequest) as caught:
            l3.associate_floatingip(alice, fip.id, topology[2].id, "10.0.0.99")
        assert caught.value.attribute == "fixed_ip_address"
        assert l3.get_floatingip(alice, fip.id) == fip


def test_concurrent_topologies(
    core: MemoryCorePlugin, l3: MemoryL3Plugin, admin: RequestContext, deployment: Deployment
) -> None:
    """Threads building and tearing down topologies at once neither deadlock nor collide."""
    errors: list[BaseException] = []

    def build_and_delete(project: str) -> None:
        context = RequestContext(project_id=project)
        try:
            for _ in range(5):
                network, subnet = private_network(core, context)
                router = router_with_gateway(l3, context, deployment)
                l3.add_router_interface(context, router.id, {"subnet_id": subnet.id})
                port = core.create_port(context, {"network_id": network.id})
                with pytest.raises(exceptions.InUse):
                    core.delete_network(context, network.id)
                core.delete_port(context, port.id)
                l3.remove_router_interface(context, router.id, {"subnet_id": subnet.id})
                l3.delete_router(context, router.id)
                core.delete_network(context, network.id)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=build_and_delete, args=(f"project-{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert core.get_ports(admin) == [] and l3.get_routers(admin) == []
