"""The set-up every L3 plugin conformance test shares."""

from __future__ import annotations

from typing import ClassVar

from naas.context import RequestContext
from naas.plugins.core import CorePlugin
from naas.plugins.l3 import L3Plugin
from naas.resources import DEVICE_OWNER_ROUTER_GATEWAY, Port, Router
from naas.testing._base import ConformanceCase
from naas.testing.fixtures import NetworkSetup, StoredState, l3_state, make_contexts, make_external_network

__all__ = ["L3SuiteBase"]


class L3SuiteBase(ConformanceCase):
    """Builds the plugins under test, three callers and ``public``, the default external network (203.0.113.0/24).

    Capability flags (set to False in the test class to skip those tests):
    """

    #: Floating IPs.
    supports_floatingips: ClassVar[bool] = True
    #: IPv6 router interfaces.
    supports_ipv6: ClassVar[bool] = True
    #: Publishing router, interface and floating IP lifecycle events to ``l3.events``.
    supports_events: ClassVar[bool] = True
    #: Concurrent calls from several threads on one plugin instance.
    supports_threads: ClassVar[bool] = True

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
        self.public = make_external_network(self.core, self.admin)

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
