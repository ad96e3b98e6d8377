"""Conformance tests: concurrent calls from many threads on one plugin instance."""

from __future__ import annotations

import netaddr

from naas.capabilities import Capability
from naas.events import ResourceType
from naas.exceptions import DefaultExternalNetworkExists, DefaultSubnetPoolExists, IpAddressAlreadyAllocated
from naas.resources import Network, Port, Subnet, SubnetPool
from naas.testing._base import requires
from naas.testing._core_base import CoreSuiteBase
from naas.testing.fixtures import addresses_of, make_network, make_port, plugin_packages, race_window, run_in_threads

__all__ = ["ConcurrencyTests"]

THREADS = 16


class ConcurrencyTests(CoreSuiteBase):
    #: Seconds each racing call sleeps inside the plugin (see ``naas.testing.fixtures.race_window``).
    race_delay = 0.005

    def race_modules(self) -> tuple[str, ...]:
        """Packages whose every line yields to other threads during the races (the plugin's own, by default)."""
        return plugin_packages(self.core)

    @requires(Capability.THREADS)
    def test_concurrent_ports_on_one_subnet_get_distinct_addresses(self) -> None:
        """16 threads create a port on one /24 at once: every request succeeds, no address is handed out twice.

        The race is widened (``naas.testing.fixtures.race_window``): a subscriber
        on BEFORE_CREATE of PORT sleeps a few milliseconds inside each call,
        releasing the GIL, and every line of the plugin's code hands the GIL to
        another thread. A plugin that picks a free address and records it
        without holding a lock across both steps gives two ports the same
        address (or fails a request) here.
        """
        setup = make_network(self.core, self.project_a, ["10.10.0.0/24"])

        def create(index: int) -> Port:
            return make_port(self.core, self.project_a, setup.id, name=f"port-{index}")

        with race_window(self.core.events, ResourceType.PORT, delay=self.race_delay, modules=self.race_modules()):
            outcome = run_in_threads(THREADS, create)
        self.assertEqual({}, outcome.errors)
        addresses = [address for port in outcome.results.values() for address in addresses_of(port)]
        self.assertEqual(THREADS, len(addresses))
        self.assertEqual(len(addresses), len(set(addresses)), f"an address was handed out twice: {sorted(addresses)}")
        stored = self.core.get_ports(self.project_a, {"network_id": setup.id})
        self.assertEqual(sorted(addresses), sorted(address for port in stored for address in addresses_of(port)))

    @requires(Capability.THREADS)
    def test_concurrent_requests_for_one_address_give_it_to_exactly_one(self) -> None:
        """16 threads ask for the same address at once: one gets it, the others IpAddressAlreadyAllocated.

        Race widened as in the previous test; without a lock, several ports get the address.
        """
        setup = make_network(self.core, self.project_a, ["10.10.0.0/24"])

        def create(index: int) -> Port:
            return make_port(self.core, self.project_a, setup.id, fixed_ips=[{"ip_address": "10.10.0.50"}])

        with race_window(self.core.events, ResourceType.PORT, delay=self.race_delay, modules=self.race_modules()):
            outcome = run_in_threads(THREADS, create)
        self.assertEqual(1, len(outcome.results), f"errors: {outcome.errors}")
        for error in outcome.errors.values():
            self.assertIsInstance(error, IpAddressAlreadyAllocated)
        self.assertEqual(1, len(self.core.get_ports(self.project_a)))

    @requires(Capability.THREADS, Capability.SUBNETPOOLS)
    def test_concurrent_subnets_from_one_pool_do_not_overlap(self) -> None:
        """16 threads carve a /24 from one pool at once: all succeed and no two prefixes overlap.

        The race is widened as in the port test, with the sleeping subscriber on
        BEFORE_CREATE of SUBNET: without a lock across choosing a prefix and
        storing it, two subnets get overlapping prefixes.
        """
        pool = self.core.create_subnetpool(self.project_a, {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 24})

        def create(index: int) -> Subnet:
            network = self.core.create_network(self.project_a, {"name": f"net-{index}"})
            return self.core.create_subnet(self.project_a, {"network_id": network.id, "subnetpool_id": pool.id})

        with race_window(self.core.events, ResourceType.SUBNET, delay=self.race_delay, modules=self.race_modules()):
            outcome = run_in_threads(THREADS, create)
        self.assertEqual({}, outcome.errors)
        cidrs = [subnet.cidr for subnet in outcome.results.values()]
        self.assertEqual(THREADS, netaddr.IPSet(cidrs).size // 256, f"overlapping prefixes: {sorted(cidrs)}")

    @requires(Capability.THREADS)
    def test_concurrent_default_external_networks_yield_exactly_one(self) -> None:
        """16 admins create a default external network at once: one succeeds, the rest DefaultExternalNetworkExists.

        Race widened on BEFORE_CREATE of NETWORK: a plugin that checks "is there a
        default?" and stores the new one without a lock (or a storage constraint)
        across both steps ends up with several defaults.
        """

        def create(index: int) -> Network:
            return self.core.create_network(
                self.admin, {"name": f"public-{index}", "router:external": True, "is_default": True}
            )

        with race_window(self.core.events, ResourceType.NETWORK, delay=self.race_delay, modules=self.race_modules()):
            outcome = run_in_threads(THREADS, create)
        self.assertEqual(1, len(outcome.results), f"errors: {outcome.errors}")
        for error in outcome.errors.values():
            self.assertIsInstance(error, DefaultExternalNetworkExists)
        defaults = self.core.get_networks(self.admin, {"is_default": True})
        self.assertEqual([network.id for network in outcome.results.values()], [network.id for network in defaults])

    @requires(Capability.THREADS)
    def test_concurrent_updates_to_default_yield_exactly_one(self) -> None:
        """16 external networks are made the default at once: exactly one becomes it."""
        networks = [self.core.create_network(self.admin, {"router:external": True}) for _ in range(THREADS)]

        def make_default(index: int) -> Network:
            return self.core.update_network(self.admin, networks[index].id, {"is_default": True})

        with race_window(self.core.events, ResourceType.NETWORK, delay=self.race_delay, modules=self.race_modules()):
            outcome = run_in_threads(THREADS, make_default)
        self.assertEqual(1, len(outcome.results), f"errors: {outcome.errors}")
        for error in outcome.errors.values():
            self.assertIsInstance(error, DefaultExternalNetworkExists)
        self.assertEqual(1, len(self.core.get_networks(self.admin, {"is_default": True})))

    @requires(Capability.THREADS, Capability.SUBNETPOOLS)
    def test_concurrent_default_subnetpools_yield_exactly_one(self) -> None:
        """16 admins create a default IPv4 pool at once: one succeeds, the rest DefaultSubnetPoolExists."""

        def create(index: int) -> SubnetPool:
            return self.core.create_subnetpool(
                self.admin, {"prefixes": [f"10.{index}.0.0/16"], "is_default": True, "shared": True}
            )

        with race_window(self.core.events, ResourceType.SUBNETPOOL, delay=self.race_delay, modules=self.race_modules()):
            outcome = run_in_threads(THREADS, create)
        self.assertEqual(1, len(outcome.results), f"errors: {outcome.errors}")
        for error in outcome.errors.values():
            self.assertIsInstance(error, DefaultSubnetPoolExists)
        self.assertEqual(1, len(self.core.get_subnetpools(self.admin, {"is_default": True})))
