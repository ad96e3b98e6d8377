"""The set-up every L3 plugin conformance test shares."""

from __future__ import annotations

from naas.capabilities import CORE_CAPABILITIES, L3_CAPABILITIES, Capability, check_capabilities
from naas.context import RequestContext
from naas.plugins.core import CorePlugin
from naas.plugins.l3 import L3Plugin
from naas.resources import DEVICE_OWNER_ROUTER_GATEWAY, Port, Router
from naas.testing._base import ConformanceCase
from naas.testing.fixtures import NetworkSetup, StoredState, l3_state, make_contexts, make_external_network

__all__ = ["L3SuiteBase"]


class L3SuiteBase(ConformanceCase):
    """Builds the plugins under test, three callers and ``public``, the default external network (203.0.113.0/24).

    Tests of what the plugin classes do not declare in ``CAPABILITIES``
    (:mod:`naas.capabilities`) are skipped, naming the plugin and the capability;
    a capability both kinds of plugin may declare (IPv6, events, threads) is
    needed from both.
    """

    core: CorePlugin
    l3: L3Plugin
    admin: RequestContext
    project_a: RequestContext
    project_b: RequestContext
    public: NetworkSetup

    def make_plugins(self) -> tuple[CorePlugin, L3Plugin]:
        """Return new, empty instances of the core plugin and of the L3 plugin under test built on it.

        Called once per test. Use ``self.addCleanup`` for anything that must be released.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must define make_plugins(self) -> tuple[CorePlugin, L3Plugin], returning a "
            "new core plugin and the L3 plugin under test built on it"
        )

    def make_plugins_on_same_storage(self) -> tuple[CorePlugin, L3Plugin]:
        """Return a second core plugin and L3 plugin over the storage of those :meth:`make_plugins` returned.

        What another process configured alike would build (for the sql
        plugins: a second ``SqlCorePlugin`` on the same database URL). Called
        only when the core plugin declares ``Capability.SHARED_STORAGE``; use
        ``self.addCleanup`` for anything that must be released.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must define make_plugins_on_same_storage(self) -> tuple[CorePlugin, L3Plugin], "
            f"returning new plugins over the storage make_plugins() used, since {type(self.core).__name__} declares "
            "Capability.SHARED_STORAGE (leave it out of the plugin's capabilities if instances cannot share storage)"
        )

    def setUp(self) -> None:
        super().setUp()
        contexts = make_contexts()
        self.admin, self.project_a, self.project_b = contexts.admin, contexts.project_a, contexts.project_b
        core, l3 = self.make_plugins()
        if not isinstance(core, CorePlugin):
            self.fail(f"make_plugins() returned {core!r} as core plugin, which is not a naas.plugins.CorePlugin")
        if not isinstance(l3, L3Plugin):
            self.fail(f"make_plugins() returned {l3!r} as L3 plugin, which is not a naas.plugins.L3Plugin")
        self.core, self.l3 = core, l3
        # An undeclarable capability is an error before any test runs, not only in tests that ask for it.
        self.declared_capabilities()
        self.public = make_external_network(self.core, self.admin)

    def declared_capabilities(self) -> list[tuple[object, frozenset[Capability], frozenset[Capability]]]:
        return [
            (self.core, check_capabilities(type(self.core), CORE_CAPABILITIES), CORE_CAPABILITIES),
            (self.l3, check_capabilities(type(self.l3), L3_CAPABILITIES), L3_CAPABILITIES),
        ]

    def stored_state(self) -> StoredState:
        return l3_state(self.l3)

    def gateway_port(self, router: Router) -> Port:
        """The port holding the router's gateway address (found as an admin)."""
        self.assertIsNotNone(router.external_gateway_info, f"router {router.id} has no gateway")
        assert router.external_gateway_info is not None
        addresses = {fixed.ip_address for fixed in router.external_gateway_info.external_fixed_ips}
        ports = self.core.get_ports(self.admin, {"network_id": router.external_gateway_info.network_id})
        holding = [port for port in ports if addresses & {fixed.ip_address for fixed in port.fixed_ips}]
        self.assertEqual(1, len(holding), f"expected one port holding gateway addresses {addresses}, got {holding}")
        self.assertEqual(DEVICE_OWNER_ROUTER_GATEWAY, holding[0].device_owner)
        return holding[0]
