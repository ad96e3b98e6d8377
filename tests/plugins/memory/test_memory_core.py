"""Tests of naas_plugins.memory.core: the behaviour particular to the in-process core plugin.

The shared conformance suites in naas.testing cover the contract at large; these pin down the
rules this plugin implements itself: policy, defaults, atomicity, events and address bookkeeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import netaddr
import pytest

from naas import exceptions
from naas.context import RequestContext
from naas.events import Event, EventPayload, ResourceType
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin

from .conftest import Deployment


def addresses(port: Any) -> list[str]:
    return [str(fixed.ip_address) for fixed in port.fixed_ips]


def veto(resource: ResourceType, event: Event, payload: EventPayload) -> None:
    raise exceptions.Conflict(resource.value, payload.resource_id, "vetoed")


class TestNetworks:
    def test_bad_input_names_the_attribute_and_stores_nothing(
        self, core: MemoryCorePlugin, alice: RequestContext
    ) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            core.create_network(alice, {"name": "x" * 256})
        assert caught.value.attribute == "name"
        assert core.get_networks(alice) == []

    def test_non_admin_cannot_set_admin_only_attributes(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        with pytest.raises(exceptions.NotAuthorized):
            core.create_network(alice, {"router:external": True})

    def test_one_default_external_network(
        self, core: MemoryCorePlugin, admin: RequestContext, deployment: Deployment
    ) -> None:
        with pytest.raises(exceptions.DefaultExternalNetworkExists) as caught:
            core.create_network(admin, {"router:external": True, "is_default": True})
        assert caught.value.existing_id == deployment.external.id
        other = core.create_network(admin, {"router:external": True})
        with pytest.raises(exceptions.DefaultExternalNetworkExists):
            core.update_network(admin, other.id, {"is_default": True})

    def test_is_default_alone_on_an_external_network(self, core: MemoryCorePlugin, admin: RequestContext) -> None:
        # Neutron bug 2134387: the client sends only is_default for a network that is already external.
        network = core.create_network(admin, {"router:external": True})
        assert core.update_network(admin, network.id, {"is_default": True}).is_default

    def test_is_default_needs_an_external_network(self, core: MemoryCorePlugin, admin: RequestContext) -> None:
        network = core.create_network(admin, {})
        with pytest.raises(exceptions.BadRequest) as caught:
            core.update_network(admin, network.id, {"is_default": True})
        assert caught.value.attribute == "is_default"

    def test_leaving_external_drops_default(
        self, core: MemoryCorePlugin, admin: RequestContext, deployment: Deployment
    ) -> None:
        updated = core.update_network(admin, deployment.external.id, {"router:external": False})
        assert not updated.router_external and not updated.is_default

    def test_cannot_stop_being_external_under_a_gateway(
        self, core: MemoryCorePlugin, l3: MemoryL3Plugin, admin: RequestContext, deployment: Deployment
    ) -> None:
        router = l3.create_router(admin, {"external_gateway_info": {"network_id": deployment.external.id}})
        (gateway,) = core.get_ports(admin, {"device_id": router.id})
        with pytest.raises(exceptions.InUse) as caught:
            core.update_network(admin, deployment.external.id, {"router:external": False})
        assert caught.value.users == (gateway.id,)

    def test_visibility(
        self, core: MemoryCorePlugin, alice: RequestContext, bob: RequestContext, deployment: Deployment
    ) -> None:
        mine = core.create_network(alice, {"name": "mine"})
        core.create_network(bob, {"name": "bobs"})
        assert [n.id for n in core.get_networks(alice)] == [deployment.external.id, mine.id]
        with pytest.raises(exceptions.NotFound):
            core.get_network(bob, mine.id)
        with pytest.raises(exceptions.NotAuthorized):
            core.update_network(alice, deployment.external.id, {"name": "mine now"})
        assert core.get_subnet(alice, deployment.external_subnet.id) == deployment.external_subnet

    def test_filters(self, core: MemoryCorePlugin, alice: RequestContext, deployment: Deployment) -> None:
        assert [n.id for n in core.get_networks(alice, {"router:external": True})] == [deployment.external.id]
        with pytest.raises(exceptions.BadRequest):
            core.get_networks(alice, {"colour": "blue"})

    def test_delete_refuses_with_every_port_then_removes_subnets(
        self, core: MemoryCorePlugin, alice: RequestContext, deployment: Deployment
    ) -> None:
        network = core.create_network(alice, {})
        subnet = core.create_subnet(alice, {"network_id": network.id, "use_default_subnetpool": True, "ip_version": 4})
        ports = [core.create_port(alice, {"network_id": network.id}) for _ in range(2)]
        with pytest.raises(exceptions.InUse) as caught:
            core.delete_network(alice, network.id)
        assert caught.value.users == tuple(port.id for port in ports)
        assert core.get_subnet(alice, subnet.id) == subnet
        for port in ports:
            core.delete_port(alice, port.id)
        core.delete_network(alice, network.id)
        with pytest.raises(exceptions.NotFound):
            core.get_subnet(alice, subnet.id)
        # The prefix went back to the pool: the next subnet gets it again.
        again = core.create_network(alice, {})
        assert core.create_subnet(alice, {"network_id": again.id, "subnetpool_id": deployment.pool_v4.id}).cidr == (
            subnet.cidr
        )


class TestSubnets:
    def test_from_default_pools(self, core: MemoryCorePlugin, alice: RequestContext, deployment: Deployment) -> None:
        network = core.create_network(alice, {})
        v4 = core.create_subnet(alice, {"network_id": network.id, "use_default_subnetpool": True, "ip_version": 4})
        v6 = core.create_subnet(alice, {"network_id": network.id, "use_default_subnetpool": True, "ip_version": 6})
        assert (str(v4.cidr), str(v4.gateway_ip), v4.subnetpool_id) == (
            "10.0.0.0/24",
            "10.0.0.1",
            deployment.pool_v4.id,
        )
        assert v4.allocation_pools == (netaddr.IPRange("10.0.0.2", "10.0.0.254"),)
        assert str(v6.cidr) == "fd00::/64"
        assert core.get_network(alice, network.id).subnets == (v4.id, v6.id)

    def test_no_default_pool(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        with pytest.raises(exceptions.BadRequest) as caught:
            core.create_subnet(alice, {"network_id": network.id, "use_default_subnetpool": True, "ip_version": 4})
        assert caught.value.attribute == "use_default_subnetpool"
        assert "No default subnet pool for IPv4" in str(caught.value)

    def test_prefixlen_bounds_and_version(
        self, core: MemoryCorePlugin, alice: RequestContext, deployment: Deployment
    ) -> None:
        network = core.create_network(alice, {})
        with pytest.raises(exceptions.BadRequest) as caught:
            core.create_subnet(
                alice, {"network_id": network.id, "subnetpool_id": deployment.pool_v4.id, "prefixlen": 7}
            )
        assert caught.value.attribute == "prefixlen"
        with pytest.raises(exceptions.BadRequest) as caught:
            core.create_subnet(
                alice, {"network_id": network.id, "subnetpool_id": deployment.pool_v4.id, "ip_version": 6}
            )
        assert caught.value.attribute == "ip_version"

    def test_specific_cidr_from_pool_must_be_free(
        self, core: MemoryCorePlugin, alice: RequestContext, bob: RequestContext, deployment: Deployment
    ) -> None:
        pool = deployment.pool_v4.id
        core.create_subnet(alice, {"network_id": core.create_network(alice, {}).id, "subnetpool_id": pool})
        other = core.create_network(bob, {})
        with pytest.raises(exceptions.Conflict):
            core.create_subnet(bob, {"network_id": other.id, "subnetpool_id": pool, "cidr": "10.0.0.0/24"})
        assert core.get_network(bob, other.id).subnets == ()

    def test_quota_counts_the_requesting_project(
        self, core: MemoryCorePlugin, admin: RequestContext, alice: RequestContext, bob: RequestContext
    ) -> None:
        pool = core.create_subnetpool(
            admin, {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 24, "shared": True, "default_quota": 256}
        )
        alice_net, bob_net = core.create_network(alice, {}), core.create_network(bob, {})
        core.create_subnet(alice, {"network_id": alice_net.id, "subnetpool_id": pool.id})
        with pytest.raises(exceptions.SubnetPoolQuotaExceeded):
            core.create_subnet(alice, {"network_id": alice_net.id, "subnetpool_id": pool.id, "prefixlen": 28})
        core.create_subnet(bob, {"network_id": bob_net.id, "subnetpool_id": pool.id})

    def test_exhausted_pool(self, core: MemoryCorePlugin, admin: RequestContext, alice: RequestContext) -> None:
        pool = core.create_subnetpool(admin, {"prefixes": ["10.0.0.0/24"], "default_prefixlen": 25, "shared": True})
        network = core.create_network(alice, {})
        core.create_subnet(alice, {"network_id": network.id, "subnetpool_id": pool.id})
        core.create_subnet(alice, {"network_id": core.create_network(alice, {}).id, "subnetpool_id": pool.id})
        with pytest.raises(exceptions.SubnetPoolExhausted):
            core.create_subnet(alice, {"network_id": core.create_network(alice, {}).id, "subnetpool_id": pool.id})

    def test_overlap_on_one_network_is_refused_and_releases_the_prefix(
        self, core: MemoryCorePlugin, alice: RequestContext, deployment: Deployment
    ) -> None:
        network = core.create_network(alice, {})
        core.create_subnet(alice, {"network_id": network.id, "cidr": "10.0.0.0/23"})
        with pytest.raises(exceptions.BadRequest) as caught:
            core.create_subnet(alice, {"network_id": network.id, "subnetpool_id": deployment.pool_v4.id})
        assert caught.value.attribute == "cidr"
        # The pool prefix taken before the overlap was found is free again.
        other = core.create_network(alice, {})
        subnet = core.create_subnet(alice, {"network_id": other.id, "subnetpool_id": deployment.pool_v4.id})
        assert str(subnet.cidr) == "10.0.0.0/24"

    def test_only_on_own_networks(self, core: MemoryCorePlugin, alice: RequestContext, deployment: Deployment) -> None:
        with pytest.raises(exceptions.NotAuthorized):
            core.create_subnet(alice, {"network_id": deployment.external.id, "cidr": "192.168.0.0/24"})

    def test_gateway_choices(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        none = core.create_subnet(alice, {"network_id": network.id, "cidr": "10.1.0.0/24", "gateway_ip": None})
        assert none.gateway_ip is None
        assert none.allocation_pools == (netaddr.IPRange("10.1.0.1", "10.1.0.254"),)
        with pytest.raises(exceptions.BadRequest) as caught:
            core.create_subnet(alice, {"network_id": network.id, "cidr": "10.2.0.0/24", "gateway_ip": "10.3.0.1"})
        assert caught.value.attribute == "gateway_ip"

    def test_delete_in_use(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        subnet = core.create_subnet(alice, {"network_id": network.id, "cidr": "10.1.0.0/24"})
        port = core.create_port(alice, {"network_id": network.id})
        with pytest.raises(exceptions.InUse) as caught:
            core.delete_subnet(alice, subnet.id)
        assert caught.value.users == (port.id,)
        core.delete_port(alice, port.id)
        core.delete_subnet(alice, subnet.id)
        assert core.get_network(alice, network.id).subnets == ()

    def test_update_pools_must_keep_addresses_in_use(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        subnet = core.create_subnet(alice, {"network_id": network.id, "cidr": "10.1.0.0/24"})
        core.create_port(alice, {"network_id": network.id})  # 10.1.0.2
        with pytest.raises(exceptions.BadRequest) as caught:
            core.update_subnet(alice, subnet.id, {"allocation_pools": [{"start": "10.1.0.10", "end": "10.1.0.20"}]})
        assert caught.value.attribute == "allocation_pools"
        core.update_subnet(alice, subnet.id, {"allocation_pools": [{"start": "10.1.0.2", "end": "10.1.0.3"}]})
        assert addresses(core.create_port(alice, {"network_id": network.id})) == ["10.1.0.3"]
        with pytest.raises(exceptions.IpAddressExhausted):
            core.create_port(alice, {"network_id": network.id})

    def test_update_gateway(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        subnet = core.create_subnet(
            alice,
            {
                "network_id": network.id,
                "cidr": "10.1.0.0/24",
                "allocation_pools": [{"start": "10.1.0.100", "end": "10.1.0.200"}],
            },
        )
        port = core.create_port(alice, {"network_id": network.id, "fixed_ips": [{"ip_address": "10.1.0.5"}]})
        with pytest.raises(exceptions.BadRequest):
            core.update_subnet(alice, subnet.id, {"gateway_ip": "10.1.0.5"})  # held by a port
        with pytest.raises(exceptions.BadRequest):
            core.update_subnet(alice, subnet.id, {"gateway_ip": "10.1.0.150"})  # inside the pools
        assert str(core.update_subnet(alice, subnet.id, {"gateway_ip": "10.1.0.6"}).gateway_ip) == "10.1.0.6"
        assert core.get_port(alice, port.id) == port


class TestSubnetPools:
    def test_one_default_per_version(
        self, core: MemoryCorePlugin, admin: RequestContext, deployment: Deployment
    ) -> None:
        with pytest.raises(exceptions.DefaultSubnetPoolExists):
            core.create_subnetpool(admin, {"prefixes": ["192.168.0.0/16"], "is_default": True})
        other = core.create_subnetpool(admin, {"prefixes": ["192.168.0.0/16"]})
        with pytest.raises(exceptions.DefaultSubnetPoolExists):
            core.update_subnetpool(admin, other.id, {"is_default": True})

    def test_prefixes_only_grow(self, core: MemoryCorePlugin, admin: RequestContext, alice: RequestContext) -> None:
        pool = core.create_subnetpool(admin, {"prefixes": ["10.0.0.0/24"], "default_prefixlen": 24, "shared": True})
        with pytest.raises(exceptions.BadRequest) as caught:
            core.update_subnetpool(admin, pool.id, {"prefixes": ["10.0.1.0/24"]})
        assert caught.value.attribute == "prefixes"
        with pytest.raises(exceptions.BadRequest):
            core.update_subnetpool(admin, pool.id, {"prefixes": ["fd00::/64"]})
        network = core.create_network(alice, {})
        core.create_subnet(alice, {"network_id": network.id, "subnetpool_id": pool.id})
        grown = core.update_subnetpool(admin, pool.id, {"prefixes": ["10.0.0.0/24", "10.0.1.0/24"]})
        assert [str(p) for p in grown.prefixes] == ["10.0.0.0/23"]
        second = core.create_subnet(alice, {"network_id": core.create_network(alice, {}).id, "subnetpool_id": pool.id})
        assert str(second.cidr) == "10.0.1.0/24"

    def test_bounds_revalidated(self, core: MemoryCorePlugin, admin: RequestContext, deployment: Deployment) -> None:
        with pytest.raises(exceptions.BadRequest) as caught:
            core.update_subnetpool(admin, deployment.pool_v4.id, {"min_prefixlen": 25})
        assert caught.value.attribute == "default_prefixlen"

    def test_delete_in_use(
        self, core: MemoryCorePlugin, admin: RequestContext, alice: RequestContext, deployment: Deployment
    ) -> None:
        network = core.create_network(alice, {})
        subnet = core.create_subnet(alice, {"network_id": network.id, "subnetpool_id": deployment.pool_v4.id})
        with pytest.raises(exceptions.InUse) as caught:
            core.delete_subnetpool(admin, deployment.pool_v4.id)
        assert caught.value.users == (subnet.id,)

    def test_default_pool_only_if_visible(
        self, core: MemoryCorePlugin, admin: RequestContext, alice: RequestContext
    ) -> None:
        pool = core.create_subnetpool(admin, {"prefixes": ["10.0.0.0/8"], "is_default": True})
        assert core.get_default_subnetpool(admin, 4) == pool
        assert core.get_default_subnetpool(alice, 4) is None
        assert core.get_default_subnetpool(admin, 6) is None


class TestPorts:
    def test_one_address_per_version_next_subnet_on_exhaustion(
        self, core: MemoryCorePlugin, alice: RequestContext
    ) -> None:
        network = core.create_network(alice, {})
        small = core.create_subnet(alice, {"network_id": network.id, "cidr": "10.1.0.0/30"})
        large = core.create_subnet(alice, {"network_id": network.id, "cidr": "10.2.0.0/24"})
        v6 = core.create_subnet(alice, {"network_id": network.id, "cidr": "fd00::/64"})
        first = core.create_port(alice, {"network_id": network.id})
        second = core.create_port(alice, {"network_id": network.id})
        assert [f.subnet_id for f in first.fixed_ips] == [small.id, v6.id]
        assert addresses(first) == ["10.1.0.2", "fd00::2"]
        assert [f.subnet_id for f in second.fixed_ips] == [large.id, v6.id]
        assert first.mac_address.startswith("fa:16:3e:") and first.mac_address != second.mac_address
        assert first.status == "ACTIVE"

    def test_network_exhausted(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        core.create_subnet(alice, {"network_id": network.id, "cidr": "10.1.0.0/30"})
        core.create_subnet(alice, {"network_id": network.id, "cidr": "fd00::/64"})
        core.create_port(alice, {"network_id": network.id})
        with pytest.raises(exceptions.IpAddressExhausted) as caught:
            core.create_port(alice, {"network_id": network.id})
        assert caught.value.resource == "network"
        # The IPv6 address taken before IPv4 ran out was given back.
        assert len(core.get_ports(alice)) == 1
        port = core.create_port(
            alice, {"network_id": network.id, "fixed_ips": [{"subnet_id": network_subnet(core, alice, network.id, 6)}]}
        )
        assert addresses(port) == ["fd00::3"]

    def test_no_subnets_no_addresses(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        assert core.create_port(alice, {"network_id": network.id}).fixed_ips == ()

    def test_requested_addresses(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        subnet = core.create_subnet(alice, {"network_id": network.id, "cidr": "10.1.0.0/24"})
        port = core.create_port(
            alice, {"network_id": network.id, "fixed_ips": [{"subnet_id": subnet.id}, {"ip_address": "10.1.0.2"}]}
        )
        # The named address is served first, so "any" does not take it.
        assert addresses(port) == ["10.1.0.3", "10.1.0.2"]
        with pytest.raises(exceptions.IpAddressAlreadyAllocated):
            core.create_port(alice, {"network_id": network.id, "fixed_ips": [{"ip_address": "10.1.0.2"}]})
        with pytest.raises(exceptions.BadRequest) as caught:
            core.create_port(alice, {"network_id": network.id, "fixed_ips": [{"ip_address": "10.9.0.2"}]})
        assert caught.value.attribute == "fixed_ips"
        other = core.create_network(alice, {})
        with pytest.raises(exceptions.BadRequest):
            core.create_port(alice, {"network_id": other.id, "fixed_ips": [{"subnet_id": subnet.id}]})

    def test_failed_create_releases_what_it_took(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        subnet = core.create_subnet(alice, {"network_id": network.id, "cidr": "10.1.0.0/24"})
        core.create_port(alice, {"network_id": network.id, "fixed_ips": [{"ip_address": "10.1.0.9"}]})
        with pytest.raises(exceptions.IpAddressAlreadyAllocated):
            core.create_port(
                alice, {"network_id": network.id, "fixed_ips": [{"ip_address": "10.1.0.8"}, {"ip_address": "10.1.0.9"}]}
            )
        port = core.create_port(alice, {"network_id": network.id, "fixed_ips": [{"ip_address": "10.1.0.8"}]})
        assert port.fixed_ips[0].subnet_id == subnet.id

    def test_update_fixed_ips_keeps_replaces_and_is_atomic(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        subnet = core.create_subnet(alice, {"network_id": network.id, "cidr": "10.1.0.0/24"})
        port = core.create_port(alice, {"network_id": network.id})  # 10.1.0.2
        blocker = core.create_port(alice, {"network_id": network.id})  # 10.1.0.3
        kept = core.update_port(alice, port.id, {"fixed_ips": [{"subnet_id": subnet.id}, {"ip_address": "10.1.0.50"}]})
        assert addresses(kept) == ["10.1.0.2", "10.1.0.50"]
        with pytest.raises(exceptions.IpAddressAlreadyAllocated):
            core.update_port(alice, port.id, {"fixed_ips": [{"ip_address": "10.1.0.60"}, {"ip_address": "10.1.0.3"}]})
        assert core.get_port(alice, port.id) == kept
        replaced = core.update_port(alice, port.id, {"fixed_ips": [{"ip_address": "10.1.0.60"}]})
        assert addresses(replaced) == ["10.1.0.60"]
        assert addresses(core.create_port(alice, {"network_id": network.id})) == ["10.1.0.2"]
        assert blocker.id in {p.id for p in core.get_ports(alice)}

    def test_ports_on_others_external_network_need_admin(
        self, core: MemoryCorePlugin, alice: RequestContext, deployment: Deployment
    ) -> None:
        with pytest.raises(exceptions.NotAuthorized):
            core.create_port(alice, {"network_id": deployment.external.id})

    def test_bad_input_stores_nothing(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        with pytest.raises(exceptions.BadRequest) as caught:
            core.create_port(alice, {"network_id": network.id, "fixed_ips": [{"ip_address": "nonsense"}]})
        assert (caught.value.resource, caught.value.attribute) == ("port", "fixed_ips")
        assert core.get_ports(alice) == []


def network_subnet(core: MemoryCorePlugin, context: RequestContext, network_id: str, version: int) -> str:
    return core.get_subnets(context, {"network_id": network_id, "ip_version": version})[0].id


class TestEvents:
    def test_before_veto_changes_nothing(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        core.create_subnet(alice, {"network_id": network.id, "cidr": "10.1.0.0/24"})
        core.events.subscribe(ResourceType.PORT, Event.BEFORE_CREATE, veto)
        with pytest.raises(exceptions.Conflict):
            core.create_port(alice, {"network_id": network.id})
        core.events.unsubscribe(ResourceType.PORT, Event.BEFORE_CREATE, veto)
        assert addresses(core.create_port(alice, {"network_id": network.id})) == ["10.1.0.2"]

    def test_before_delete_veto_keeps_the_port(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        network = core.create_network(alice, {})
        port = core.create_port(alice, {"network_id": network.id})
        core.events.subscribe(ResourceType.PORT, Event.BEFORE_DELETE, veto)
        with pytest.raises(exceptions.Conflict):
            core.delete_port(alice, port.id)
        assert core.get_port(alice, port.id) == port

    def test_after_events_carry_the_result(self, core: MemoryCorePlugin, alice: RequestContext) -> None:
        seen: list[tuple[Event, Any]] = []
        record: Callable[[ResourceType, Event, EventPayload], None] = lambda r, e, p: seen.append((e, p.result))  # noqa: E731
        for event in (Event.AFTER_CREATE, Event.AFTER_UPDATE):
            core.events.subscribe(ResourceType.NETWORK, event, record)
        network = core.create_network(alice, {})
        renamed = core.update_network(alice, network.id, {"name": "renamed"})
        assert seen == [(Event.AFTER_CREATE, network), (Event.AFTER_UPDATE, renamed)]


def test_concurrent_ports_get_distinct_addresses(core: MemoryCorePlugin, alice: RequestContext) -> None:
    network = core.create_network(alice, {})
    core.create_subnet(alice, {"network_id": network.id, "cidr": "10.1.0.0/24"})
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(20):
                port = core.create_port(alice, {"network_id": network.id})
                results.append(addresses(port)[0])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == len(set(results)) == 160
