"""What get-me-a-network asks of plugins beyond the conformance suites: honouring ``id`` on create."""

from __future__ import annotations

from typing import Any

import testtools

from naas import AutoAllocator, RequestContext, admin_context
from naas.exceptions import NaasError
from naas.plugins import CorePlugin
from naas.resources import Network, Router
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin


class _CoreIgnoringIds(MemoryCorePlugin):
    def create_network(self, context: RequestContext, network: Any) -> Network:
        return super().create_network(context, {k: v for k, v in dict(network).items() if k != "id"})


class _L3IgnoringIds(MemoryL3Plugin):
    def create_router(self, context: RequestContext, router: Any) -> Router:
        return super().create_router(context, {k: v for k, v in dict(router).items() if k != "id"})


class TestPluginsThatIgnoreTheRequestedId(testtools.TestCase):
    """Crash recovery finds what a build made by the ids recorded before creating: a plugin must use them."""

    def _deploy(self, core: CorePlugin) -> None:
        admin = admin_context()
        public = core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
        core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24"})
        core.create_subnetpool(
            admin, {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 26, "shared": True, "is_default": True}
        )

    def test_the_build_fails_loudly_and_leaves_nothing(self) -> None:
        for core_class, l3_class, kind in (
            (_CoreIgnoringIds, MemoryL3Plugin, "network"),
            (MemoryCorePlugin, _L3IgnoringIds, "router"),
        ):
            with self.subTest(kind=kind):
                core = core_class()
                l3 = l3_class(core)
                self._deploy(core)
                allocator = AutoAllocator(core, l3)
                error = self.assertRaises(
                    NaasError, allocator.get_auto_allocated_topology, RequestContext("project-a"), None
                )
                self.assertIn(f"created {kind} ", str(error))
                self.assertIn("honour 'id'", str(error))
                owned = {"tenant_id": "project-a"}
                self.assertEqual([], core.get_networks(admin_context(), owned))
                self.assertEqual([], l3.get_routers(admin_context(), owned))
                self.assertEqual([], core.get_ports(admin_context(), owned))
                self.assertIsNone(allocator.topology_store.get("project-a"))
