"""Conformance tests: concurrent L3 calls from many threads on one plugin instance."""

from __future__ import annotations

from naas.capabilities import Capability
from naas.events import ResourceType
from naas.exceptions import BadRequest, IpAddressAlreadyAllocated
from naas.resources import FloatingIP, Router, RouterInterfaceInfo
from naas.testing._base import requires
from naas.testing._l3_base import L3SuiteBase
from naas.testing.fixtures import make_network, make_router, plugin_packages, race_window, run_in_threads

__all__ = ["L3ConcurrencyTests"]

THREADS = 16


class L3ConcurrencyTests(L3SuiteBase):
    #: Seconds each racing call sleeps inside the plugin (see ``naas.testing.fixtures.race_window``).
    race_delay = 0.005

    def race_modules(self) -> tuple[str, ...]:
        """Packages whose every line yields to other threads during the races (the plugins' own, by default)."""
        return plugin_packages(self.core, self.l3)

    @requires(Capability.THREADS)
    def test_concurrent_router_gateways_get_distinct_addresses(self) -> None:
        """16 threads create a router with a gateway on one external network at once: all succeed, no address twice.

        The gateway port is created through the core plugin, so the sleeping
        subscriber of ``race_window`` sits on BEFORE_CREATE of PORT; every line of
        the plugins' code also yields to other threads. Without locking, two
        gateways get one address.
        """

        def create(index: int) -> Router:
            return make_router(self.l3, self.project_a, external_network_id=self.public.id, name=f"r{index}")

        with race_window(self.core.events, ResourceType.PORT, delay=self.race_delay, modules=self.race_modules()):
            outcome = run_in_threads(THREADS, create)
        self.assertEqual({}, outcome.errors)
        addresses = [
            fixed.ip_address
            for router in outcome.results.values()
            if router.external_gateway_info is not None
            for fixed in router.external_gateway_info.external_fixed_ips
        ]
        self.assertEqual(THREADS, len(set(addresses)), f"gateway addresses: {sorted(addresses)}")

    @requires(Capability.THREADS, Capability.FLOATINGIPS)
    def test_concurrent_floatingips_get_distinct_addresses(self) -> None:
        """16 threads allocate a floating IP on one external network at once: all succeed, no address twice."""

        def create(index: int) -> FloatingIP:
            return self.l3.create_floatingip(self.project_a, {"floating_network_id": self.public.id})

        with race_window(self.l3.events, ResourceType.FLOATINGIP, delay=self.race_delay, modules=self.race_modules()):
            outcome = run_in_threads(THREADS, create)
        self.assertEqual({}, outcome.errors)
        addresses = {fip.floating_ip_address for fip in outcome.results.values()}
        self.assertEqual(THREADS, len(addresses))

    @requires(Capability.THREADS)
    def test_concurrent_interfaces_on_one_subnet_yield_exactly_one(self) -> None:
        """16 threads attach one router to one subnet at once: exactly one interface results."""
        router = make_router(self.l3, self.project_a)
        setup = make_network(self.core, self.project_a)

        def add(index: int) -> RouterInterfaceInfo:
            return self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})

        with race_window(
            self.l3.events, ResourceType.ROUTER_INTERFACE, delay=self.race_delay, modules=self.race_modules()
        ):
            outcome = run_in_threads(THREADS, add)
        self.assertEqual(1, len(outcome.results), f"errors: {outcome.errors}")
        for error in outcome.errors.values():
            self.assertIsInstance(error, (BadRequest, IpAddressAlreadyAllocated))
        interfaces = self.core.get_ports(self.admin, {"network_id": setup.id})
        self.assertEqual(1, len(interfaces))
