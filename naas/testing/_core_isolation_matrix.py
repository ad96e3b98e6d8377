"""Conformance tests: the isolation matrix over networks, subnets, subnet pools and ports (see ``_matrix``)."""

from __future__ import annotations

from typing import Any

from naas.capabilities import Capability
from naas.exceptions import BadRequest, Conflict, NotAuthorized, NotFound
from naas.testing._base import requires
from naas.testing._core_base import CoreSuiteBase
from naas.testing._matrix import FOREIGN, NON_ADMINS, MatrixCallers, add_matrix_tests, cell
from naas.testing.fixtures import PROJECT_A_ID, NetworkSetup, make_network, make_port

__all__ = ["CoreIsolationMatrix"]


@add_matrix_tests
class CoreIsolationMatrix(MatrixCallers, CoreSuiteBase):
    def _owners_network(self) -> NetworkSetup:
        return make_network(self.core, self.project_a, ["10.10.0.0/24"])

    def _callers_network(self, actor: str) -> NetworkSetup:
        """A network the caller may use: its own for a foreign caller, the owner's for the owner and admins."""
        if actor in FOREIGN:
            return make_network(self.core, self.caller(actor), ["10.40.0.0/24"], name="callers")
        return self._owners_network()

    # Networks

    def cell_network_create(self, actor: str) -> None:
        """Create a network for the owner's project."""
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertRefused(NotAuthorized, self.core.create_network, context, {"project_id": PROJECT_A_ID})
        else:
            network = self.core.create_network(context, {"project_id": PROJECT_A_ID})
            self.assertEqual(network, self.core.get_network(self.project_a, network.id))

    def cell_network_get(self, actor: str) -> None:
        """Read the owner's network."""
        setup = self._owners_network()
        if actor in FOREIGN:
            self.assertNotFound("network", setup.id, self.core.get_network, self.caller(actor), setup.id)
        else:
            self.assertEqual(setup.network, self.core.get_network(self.caller(actor), setup.id))

    def cell_network_list(self, actor: str) -> None:
        """List networks, unfiltered and filtered by id, by project and by name."""
        setup = self._owners_network()
        self.assertListing(actor, setup.id, self.core.get_networks, [{"name": setup.network.name}])

    def cell_network_update(self, actor: str) -> None:
        """Rename the owner's network."""
        setup = self._owners_network()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("network", setup.id, self.core.update_network, context, setup.id, {"name": "taken"})
        else:
            self.assertEqual("renamed", self.core.update_network(context, setup.id, {"name": "renamed"}).name)
            self.assertEqual("renamed", self.core.get_network(self.project_a, setup.id).name)

    def cell_network_delete(self, actor: str) -> None:
        """Delete the owner's network."""
        setup = self._owners_network()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("network", setup.id, self.core.delete_network, context, setup.id)
        else:
            self.core.delete_network(context, setup.id)
            self.assertNotFound("network", setup.id, self.core.get_network, self.admin, setup.id)

    def cell_network_attach(self, actor: str) -> None:
        """Plug a port into the owner's network."""
        setup = self._owners_network()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("network", setup.id, self.core.create_port, context, {"network_id": setup.id})
        else:
            port = make_port(self.core, context, setup.id)
            self.assertEqual((setup.id, context.project_id), (port.network_id, port.project_id))

    # Subnets

    def cell_subnet_create(self, actor: str) -> None:
        """Add a subnet to the owner's network."""
        setup = self._owners_network()
        context = self.caller(actor)
        body = {"network_id": setup.id, "cidr": "10.20.0.0/24"}
        if actor in FOREIGN:
            self.assertNotFound("network", setup.id, self.core.create_subnet, context, body)
        else:
            subnet = self.core.create_subnet(context, body)
            self.assertIn(subnet.id, self.core.get_network(self.project_a, setup.id).subnets)

    def cell_subnet_get(self, actor: str) -> None:
        """Read the owner's subnet."""
        subnet = self._owners_network().subnet()
        if actor in FOREIGN:
            self.assertNotFound("subnet", subnet.id, self.core.get_subnet, self.caller(actor), subnet.id)
        else:
            self.assertEqual(subnet, self.core.get_subnet(self.caller(actor), subnet.id))

    def cell_subnet_list(self, actor: str) -> None:
        """List subnets, unfiltered and filtered by id, by project and by network."""
        setup = self._owners_network()
        self.assertListing(actor, setup.subnet().id, self.core.get_subnets, [{"network_id": setup.id}])

    def cell_subnet_update(self, actor: str) -> None:
        """Rename the owner's subnet."""
        subnet = self._owners_network().subnet()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("subnet", subnet.id, self.core.update_subnet, context, subnet.id, {"name": "taken"})
        else:
            self.assertEqual("renamed", self.core.update_subnet(context, subnet.id, {"name": "renamed"}).name)

    def cell_subnet_delete(self, actor: str) -> None:
        """Delete the owner's subnet."""
        subnet = self._owners_network().subnet()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("subnet", subnet.id, self.core.delete_subnet, context, subnet.id)
        else:
            self.core.delete_subnet(context, subnet.id)
            self.assertNotFound("subnet", subnet.id, self.core.get_subnet, self.admin, subnet.id)

    def cell_subnet_attach(self, actor: str) -> None:
        """Take an address on the owner's subnet for a port."""
        subnet = self._owners_network().subnet()
        context = self.caller(actor)
        network = self._callers_network(actor) if actor in FOREIGN else None
        body = {"network_id": network.id if network else subnet.network_id, "fixed_ips": [{"subnet_id": subnet.id}]}
        if actor in FOREIGN:
            self.assertRefused((NotFound, BadRequest), self.core.create_port, context, body)
        else:
            port = self.core.create_port(context, body)
            self.assertEqual([subnet.id], [fixed.subnet_id for fixed in port.fixed_ips])

    @cell(*NON_ADMINS)
    def cell_subnet_attach_gateway_address(self, actor: str) -> None:
        """Take the gateway address of the owner's shared subnet for a plain port (finding 3: never handed out)."""
        shared = make_network(self.core, self.admin, [], shared=True, project_id=PROJECT_A_ID)
        subnet = self.core.create_subnet(self.project_a, {"network_id": shared.id, "cidr": "10.50.0.0/24"})
        body = {"network_id": shared.id, "fixed_ips": [{"ip_address": str(subnet.gateway_ip)}]}
        self.assertRefused((BadRequest, Conflict, NotAuthorized), self.core.create_port, self.caller(actor), body)

    # Subnet pools

    def _owners_pool(self) -> Any:
        return self.core.create_subnetpool(self.project_a, {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 24})

    @requires(Capability.SUBNETPOOLS)
    def cell_subnetpool_create(self, actor: str) -> None:
        """Create a subnet pool for the owner's project."""
        context = self.caller(actor)
        body = {"prefixes": ["10.30.0.0/16"], "project_id": PROJECT_A_ID}
        if actor in FOREIGN:
            self.assertRefused(NotAuthorized, self.core.create_subnetpool, context, body)
        else:
            pool = self.core.create_subnetpool(context, body)
            self.assertEqual(pool, self.core.get_subnetpool(self.project_a, pool.id))

    @requires(Capability.SUBNETPOOLS)
    def cell_subnetpool_get(self, actor: str) -> None:
        """Read the owner's subnet pool."""
        pool = self._owners_pool()
        if actor in FOREIGN:
            self.assertNotFound("subnetpool", pool.id, self.core.get_subnetpool, self.caller(actor), pool.id)
        else:
            self.assertEqual(pool, self.core.get_subnetpool(self.caller(actor), pool.id))

    @requires(Capability.SUBNETPOOLS)
    def cell_subnetpool_list(self, actor: str) -> None:
        """List subnet pools, unfiltered and filtered by id, by project and by name."""
        pool = self._owners_pool()
        self.assertListing(actor, pool.id, self.core.get_subnetpools, [{"name": pool.name}])

    @requires(Capability.SUBNETPOOLS)
    def cell_subnetpool_update(self, actor: str) -> None:
        """Rename the owner's subnet pool."""
        pool = self._owners_pool()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("subnetpool", pool.id, self.core.update_subnetpool, context, pool.id, {"name": "taken"})
        else:
            self.assertEqual("renamed", self.core.update_subnetpool(context, pool.id, {"name": "renamed"}).name)

    @requires(Capability.SUBNETPOOLS)
    def cell_subnetpool_delete(self, actor: str) -> None:
        """Delete the owner's subnet pool."""
        pool = self._owners_pool()
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("subnetpool", pool.id, self.core.delete_subnetpool, context, pool.id)
        else:
            self.core.delete_subnetpool(context, pool.id)
            self.assertNotFound("subnetpool", pool.id, self.core.get_subnetpool, self.admin, pool.id)

    @requires(Capability.SUBNETPOOLS)
    def cell_subnetpool_attach(self, actor: str) -> None:
        """Allocate a subnet from the owner's subnet pool."""
        pool = self._owners_pool()
        network = self._callers_network(actor)
        context = self.caller(actor)
        body = {"network_id": network.id, "subnetpool_id": pool.id}
        if actor in FOREIGN:
            self.assertNotFound("subnetpool", pool.id, self.core.create_subnet, context, body)
        else:
            self.assertEqual(pool.id, self.core.create_subnet(context, body).subnetpool_id)

    # Ports

    def cell_port_create(self, actor: str) -> None:
        """Create a port for the owner's project on the owner's network."""
        setup = self._owners_network()
        context = self.caller(actor)
        body = {"network_id": setup.id, "project_id": PROJECT_A_ID}
        if actor in FOREIGN:
            self.assertRefused((NotFound, NotAuthorized), self.core.create_port, context, body)
        else:
            self.assertEqual(PROJECT_A_ID, self.core.create_port(context, body).project_id)

    def cell_port_get(self, actor: str) -> None:
        """Read the owner's port."""
        port = make_port(self.core, self.project_a, self._owners_network().id)
        if actor in FOREIGN:
            self.assertNotFound("port", port.id, self.core.get_port, self.caller(actor), port.id)
        else:
            self.assertEqual(port, self.core.get_port(self.caller(actor), port.id))

    def cell_port_list(self, actor: str) -> None:
        """List ports, unfiltered and filtered by id, by project, by network and by device."""
        setup = self._owners_network()
        port = make_port(self.core, self.project_a, setup.id, device_id="owners-instance")
        filters = [{"network_id": setup.id}, {"device_id": "owners-instance"}]
        self.assertListing(actor, port.id, self.core.get_ports, filters)

    def cell_port_update(self, actor: str) -> None:
        """Rename the owner's port."""
        port = make_port(self.core, self.project_a, self._owners_network().id)
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("port", port.id, self.core.update_port, context, port.id, {"name": "taken"})
        else:
            self.assertEqual("renamed", self.core.update_port(context, port.id, {"name": "renamed"}).name)

    def cell_port_delete(self, actor: str) -> None:
        """Delete the owner's port."""
        port = make_port(self.core, self.project_a, self._owners_network().id)
        context = self.caller(actor)
        if actor in FOREIGN:
            self.assertNotFound("port", port.id, self.core.delete_port, context, port.id)
        else:
            self.core.delete_port(context, port.id)
            self.assertNotFound("port", port.id, self.core.get_port, self.admin, port.id)
