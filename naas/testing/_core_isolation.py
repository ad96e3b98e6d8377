"""Conformance tests: what one project may see and change of another's, and what only admins may do."""

from __future__ import annotations

from naas.capabilities import Capability
from naas.exceptions import BadRequest, InUse, NotAuthorized, NotFound
from naas.resources import Port, SubnetPool
from naas.testing._base import requires
from naas.testing._core_base import CoreSuiteBase
from naas.testing.fixtures import (
    PROJECT_A_ID,
    PROJECT_B_ID,
    NetworkSetup,
    make_default_pools,
    make_external_network,
    make_network,
    make_port,
)

__all__ = ["IsolationTests"]


class IsolationTests(CoreSuiteBase):
    def _network_of_a(self) -> NetworkSetup:
        return make_network(self.core, self.project_a, ["10.10.0.0/24"])

    def _port_of_a(self) -> Port:
        return make_port(self.core, self.project_a, self._network_of_a().id)

    def _pool_of_a(self) -> SubnetPool:
        return self.core.create_subnetpool(self.project_a, {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 24})

    def _shared_network(self) -> NetworkSetup:
        return make_network(self.core, self.admin, ["172.16.0.0/24"], name="shared", shared=True)

    # Networks of another project

    def test_isolation_get_other_projects_network_raises_not_found(self) -> None:
        setup = self._network_of_a()
        self.assertNotFound("network", setup.id, self.core.get_network, self.project_b, setup.id)

    def test_isolation_network_list_excludes_other_projects(self) -> None:
        self._network_of_a()
        own = self.core.create_network(self.project_b, {})
        self.assertEqual([own.id], [network.id for network in self.core.get_networks(self.project_b)])

    def test_isolation_update_other_projects_network_raises_not_found(self) -> None:
        setup = self._network_of_a()
        self.assertNotFound("network", setup.id, self.core.update_network, self.project_b, setup.id, {"name": "x"})

    def test_isolation_delete_other_projects_network_raises_not_found(self) -> None:
        setup = self._network_of_a()
        self.assertNotFound("network", setup.id, self.core.delete_network, self.project_b, setup.id)

    def test_isolation_subnet_on_other_projects_network_raises_not_found(self) -> None:
        setup = self._network_of_a()
        self.assertNotFound(
            "network",
            setup.id,
            self.core.create_subnet,
            self.project_b,
            {"network_id": setup.id, "cidr": "10.99.0.0/24"},
        )

    def test_isolation_port_on_other_projects_network_raises_not_found(self) -> None:
        setup = self._network_of_a()
        self.assertNotFound("network", setup.id, self.core.create_port, self.project_b, {"network_id": setup.id})

    def test_isolation_port_on_an_external_network_that_is_not_shared_raises_not_authorized(self) -> None:
        public = make_external_network(self.core, self.admin)
        self.assertRefused(NotAuthorized, self.core.create_port, self.project_b, {"network_id": public.id})
        self.assertEqual([], self.core.get_ports(self.admin, {"network_id": public.id}))

    def test_isolation_port_on_another_projects_external_network_raises_not_authorized(self) -> None:
        theirs = make_external_network(
            self.core, self.admin, ["198.51.100.0/24"], is_default=False, project_id=PROJECT_A_ID
        )
        self.assertRefused(NotAuthorized, self.core.create_port, self.project_b, {"network_id": theirs.id})
        self.assertEqual(PROJECT_A_ID, make_port(self.core, self.project_a, theirs.id).project_id)

    # Subnets of another project

    def test_isolation_get_other_projects_subnet_raises_not_found(self) -> None:
        subnet = self._network_of_a().subnet()
        self.assertNotFound("subnet", subnet.id, self.core.get_subnet, self.project_b, subnet.id)

    def test_isolation_subnet_list_excludes_other_projects(self) -> None:
        self._network_of_a()
        self.assertEqual([], self.core.get_subnets(self.project_b))

    def test_isolation_update_other_projects_subnet_raises_not_found(self) -> None:
        subnet = self._network_of_a().subnet()
        self.assertNotFound("subnet", subnet.id, self.core.update_subnet, self.project_b, subnet.id, {"name": "x"})

    def test_isolation_delete_other_projects_subnet_raises_not_found(self) -> None:
        subnet = self._network_of_a().subnet()
        self.assertNotFound("subnet", subnet.id, self.core.delete_subnet, self.project_b, subnet.id)

    def test_isolation_port_with_other_projects_subnet_is_refused(self) -> None:
        subnet = self._network_of_a().subnet()
        own = self.core.create_network(self.project_b, {})
        self.assertRefused(
            (NotFound, BadRequest),
            self.core.create_port,
            self.project_b,
            {"network_id": own.id, "fixed_ips": [{"subnet_id": subnet.id}]},
        )

    # Ports of another project

    def test_isolation_get_other_projects_port_raises_not_found(self) -> None:
        port = self._port_of_a()
        self.assertNotFound("port", port.id, self.core.get_port, self.project_b, port.id)

    def test_isolation_port_list_excludes_other_projects(self) -> None:
        self._port_of_a()
        self.assertEqual([], self.core.get_ports(self.project_b))

    def test_isolation_update_other_projects_port_raises_not_found(self) -> None:
        port = self._port_of_a()
        self.assertNotFound("port", port.id, self.core.update_port, self.project_b, port.id, {"name": "x"})

    def test_isolation_delete_other_projects_port_raises_not_found(self) -> None:
        port = self._port_of_a()
        self.assertNotFound("port", port.id, self.core.delete_port, self.project_b, port.id)

    # Subnet pools of another project

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_get_other_projects_pool_raises_not_found(self) -> None:
        pool = self._pool_of_a()
        self.assertNotFound("subnetpool", pool.id, self.core.get_subnetpool, self.project_b, pool.id)

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_pool_list_excludes_other_projects(self) -> None:
        self._pool_of_a()
        self.assertEqual([], self.core.get_subnetpools(self.project_b))

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_update_other_projects_pool_raises_not_found(self) -> None:
        pool = self._pool_of_a()
        self.assertNotFound("subnetpool", pool.id, self.core.update_subnetpool, self.project_b, pool.id, {"name": "x"})

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_delete_other_projects_pool_raises_not_found(self) -> None:
        pool = self._pool_of_a()
        self.assertNotFound("subnetpool", pool.id, self.core.delete_subnetpool, self.project_b, pool.id)

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_subnet_from_other_projects_pool_raises_not_found(self) -> None:
        pool = self._pool_of_a()
        own = self.core.create_network(self.project_b, {})
        self.assertNotFound(
            "subnetpool",
            pool.id,
            self.core.create_subnet,
            self.project_b,
            {"network_id": own.id, "subnetpool_id": pool.id},
        )

    # Shared and external resources

    def test_isolation_shared_network_is_visible_and_listed(self) -> None:
        shared = self._shared_network()
        self.assertEqual(shared.network, self.core.get_network(self.project_b, shared.id))
        self.assertIn(shared.id, [network.id for network in self.core.get_networks(self.project_b)])

    def test_isolation_subnets_of_a_shared_network_are_visible(self) -> None:
        shared = self._shared_network()
        self.assertEqual(shared.subnet(), self.core.get_subnet(self.project_b, shared.subnet().id))
        self.assertIn(shared.subnet().id, [subnet.id for subnet in self.core.get_subnets(self.project_b)])

    def test_isolation_external_network_is_visible_and_listed(self) -> None:
        public = make_external_network(self.core, self.admin)
        self.assertEqual(public.network, self.core.get_network(self.project_b, public.id))
        self.assertEqual([public.id], [n.id for n in self.core.get_networks(self.project_b, {"router:external": True})])

    def test_isolation_subnets_of_an_external_network_are_visible(self) -> None:
        public = make_external_network(self.core, self.admin)
        self.assertEqual(public.subnet(), self.core.get_subnet(self.project_b, public.subnet().id))

    def test_isolation_port_on_a_shared_network(self) -> None:
        shared = self._shared_network()
        port = make_port(self.core, self.project_b, shared.id)
        self.assertEqual(PROJECT_B_ID, port.project_id)
        self.assertEqual([port.id], [p.id for p in self.core.get_ports(self.project_b)])

    def test_isolation_ports_of_others_on_a_shared_network_stay_hidden(self) -> None:
        shared = self._shared_network()
        port = make_port(self.core, self.project_a, shared.id)
        self.assertNotFound("port", port.id, self.core.get_port, self.project_b, port.id)
        self.assertEqual([], self.core.get_ports(self.project_b))

    def test_isolation_update_shared_network_of_another_project_raises_not_authorized(self) -> None:
        shared = self._shared_network()
        self.assertRefused(NotAuthorized, self.core.update_network, self.project_b, shared.id, {"name": "mine"})

    def test_isolation_shared_network_cannot_stop_being_shared_under_other_projects_ports(self) -> None:
        shared = make_network(self.core, self.admin, ["172.16.0.0/24"], shared=True, project_id=PROJECT_A_ID)
        make_port(self.core, self.project_a, shared.id)
        theirs = make_port(self.core, self.project_b, shared.id)
        error = self.assertRefused(InUse, self.core.update_network, self.admin, shared.id, {"shared": False})
        self.assertEqual(("network", shared.id), (error.resource, error.resource_id))
        self.assertTrue(self.core.get_network(self.project_b, shared.id).shared)
        self.core.delete_port(self.project_b, theirs.id)
        # The owner's own ports never hold the network shared.
        self.assertFalse(self.core.update_network(self.admin, shared.id, {"shared": False}).shared)
        self.assertNotFound("network", shared.id, self.core.get_network, self.project_b, shared.id)

    def test_isolation_delete_shared_network_of_another_project_raises_not_authorized(self) -> None:
        shared = self._shared_network()
        self.assertRefused(NotAuthorized, self.core.delete_network, self.project_b, shared.id)

    def test_isolation_subnet_on_shared_network_of_another_project_raises_not_authorized(self) -> None:
        shared = self._shared_network()
        self.assertRefused(
            NotAuthorized, self.core.create_subnet, self.project_b, {"network_id": shared.id, "cidr": "172.16.1.0/24"}
        )

    def test_isolation_delete_subnet_of_shared_network_of_another_project_raises_not_authorized(self) -> None:
        shared = self._shared_network()
        self.assertRefused(NotAuthorized, self.core.delete_subnet, self.project_b, shared.subnet().id)

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_shared_pool_is_visible_and_usable(self) -> None:
        pool = self.core.create_subnetpool(
            self.admin, {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 24, "shared": True}
        )
        self.assertEqual(pool, self.core.get_subnetpool(self.project_b, pool.id))
        self.assertEqual([pool.id], [p.id for p in self.core.get_subnetpools(self.project_b)])
        own = self.core.create_network(self.project_b, {})
        subnet = self.core.create_subnet(self.project_b, {"network_id": own.id, "subnetpool_id": pool.id})
        self.assertEqual((PROJECT_B_ID, pool.id), (subnet.project_id, subnet.subnetpool_id))

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_update_shared_pool_of_another_project_raises_not_authorized(self) -> None:
        pool = self.core.create_subnetpool(self.admin, {"prefixes": ["10.0.0.0/16"], "shared": True})
        self.assertRefused(NotAuthorized, self.core.update_subnetpool, self.project_b, pool.id, {"name": "mine"})

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_default_pool_is_visible_when_shared(self) -> None:
        pools = make_default_pools(self.core, self.admin, ipv6_prefixes=None)
        self.assertEqual(pools.ipv4, self.core.get_default_subnetpool(self.project_b, 4))

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_default_pool_that_is_not_shared_is_hidden(self) -> None:
        pools = make_default_pools(self.core, self.admin, ipv6_prefixes=None, shared=False)
        self.assertIsNone(self.core.get_default_subnetpool(self.project_b, 4))
        self.assertEqual(pools.ipv4, self.core.get_default_subnetpool(self.admin, 4))

    # Admin-only attributes

    def test_isolation_non_admin_cannot_create_external_network(self) -> None:
        self.assertRefused(NotAuthorized, self.core.create_network, self.project_a, {"router:external": True})

    def test_isolation_non_admin_cannot_create_default_external_network(self) -> None:
        self.assertRefused(
            NotAuthorized, self.core.create_network, self.project_a, {"router:external": True, "is_default": True}
        )

    def test_isolation_non_admin_cannot_create_shared_network(self) -> None:
        self.assertRefused(NotAuthorized, self.core.create_network, self.project_a, {"shared": True})

    def test_isolation_non_admin_cannot_make_own_network_external(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertRefused(
            NotAuthorized, self.core.update_network, self.project_a, network.id, {"router:external": True}
        )

    def test_isolation_non_admin_cannot_share_own_network(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertRefused(NotAuthorized, self.core.update_network, self.project_a, network.id, {"shared": True})

    def test_isolation_non_admin_cannot_make_a_network_the_default(self) -> None:
        public = make_external_network(self.core, self.admin, is_default=False)
        self.assertRefused(NotAuthorized, self.core.update_network, self.project_a, public.id, {"is_default": True})

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_non_admin_cannot_create_shared_pool(self) -> None:
        self.assertRefused(
            NotAuthorized, self.core.create_subnetpool, self.project_a, {"prefixes": ["10.0.0.0/16"], "shared": True}
        )

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_non_admin_cannot_create_default_pool(self) -> None:
        self.assertRefused(
            NotAuthorized,
            self.core.create_subnetpool,
            self.project_a,
            {"prefixes": ["10.0.0.0/16"], "is_default": True},
        )

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_non_admin_cannot_make_own_pool_the_default(self) -> None:
        pool = self._pool_of_a()
        self.assertRefused(NotAuthorized, self.core.update_subnetpool, self.project_a, pool.id, {"is_default": True})

    def test_isolation_non_admin_may_set_admin_only_attributes_to_their_defaults(self) -> None:
        network = self.core.create_network(self.project_a, {"shared": False, "router:external": False})
        self.assertEqual((False, False), (network.shared, network.router_external))

    # Creating for another project

    def test_isolation_non_admin_cannot_create_network_for_another_project(self) -> None:
        self.assertRefused(NotAuthorized, self.core.create_network, self.project_a, {"project_id": PROJECT_B_ID})

    def test_isolation_non_admin_may_name_its_own_project(self) -> None:
        network = self.core.create_network(self.project_a, {"project_id": PROJECT_A_ID})
        self.assertEqual(PROJECT_A_ID, network.project_id)

    def test_isolation_non_admin_cannot_create_subnet_for_another_project(self) -> None:
        network = self.core.create_network(self.project_a, {})
        self.assertRefused(
            NotAuthorized,
            self.core.create_subnet,
            self.project_a,
            {"network_id": network.id, "cidr": "10.10.0.0/24", "project_id": PROJECT_B_ID},
        )

    def test_isolation_non_admin_cannot_create_port_for_another_project(self) -> None:
        setup = self._network_of_a()
        self.assertRefused(
            NotAuthorized, self.core.create_port, self.project_a, {"network_id": setup.id, "project_id": PROJECT_B_ID}
        )

    @requires(Capability.SUBNETPOOLS)
    def test_isolation_non_admin_cannot_create_pool_for_another_project(self) -> None:
        self.assertRefused(
            NotAuthorized,
            self.core.create_subnetpool,
            self.project_a,
            {"prefixes": ["10.0.0.0/16"], "project_id": PROJECT_B_ID},
        )

    def test_isolation_admin_creates_for_another_project(self) -> None:
        network = self.core.create_network(self.admin, {"project_id": PROJECT_A_ID})
        self.assertEqual(PROJECT_A_ID, network.project_id)
        self.assertEqual(network, self.core.get_network(self.project_a, network.id))
        self.assertNotFound("network", network.id, self.core.get_network, self.project_b, network.id)

    def test_isolation_admin_sees_and_changes_every_project(self) -> None:
        setup = self._network_of_a()
        own = self.core.create_network(self.project_b, {})
        self.assertEqual({setup.id, own.id}, {network.id for network in self.core.get_networks(self.admin)})
        self.assertEqual("renamed", self.core.update_network(self.admin, setup.id, {"name": "renamed"}).name)
        self.core.delete_network(self.admin, own.id)
        self.assertEqual([], self.core.get_networks(self.project_b))
