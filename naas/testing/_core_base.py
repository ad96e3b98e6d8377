"""The set-up every core plugin conformance test shares."""

from __future__ import annotations

from typing import ClassVar

from naas.context import RequestContext
from naas.plugins.core import CorePlugin
from naas.testing._base import ConformanceCase
from naas.testing.fixtures import StoredState, core_state, make_contexts

__all__ = ["CoreSuiteBase"]


class CoreSuiteBase(ConformanceCase):
    """Builds the plugin under test and three callers: ``admin``, ``project_a`` and ``project_b``.

    Capability flags (set to False in the test class to skip those tests):
    """

    #: IPv6 subnets, pools and addresses.
    supports_ipv6: ClassVar[bool] = True
    #: Subnet pools and subnets allocated from them.
    supports_subnetpools: ClassVar[bool] = True
    #: ``default_quota`` on subnet pools.
    supports_subnetpool_quotas: ClassVar[bool] = True
    #: Publishing lifecycle events to ``plugin.events`` (see ``naas.events``).
    supports_events: ClassVar[bool] = True
    #: Concurrent calls from several threads on one plugin instance.
    supports_threads: ClassVar[bool] = True

    core: CorePlugin
    admin: RequestContext
    project_a: RequestContext
    project_b: RequestContext

    def make_core_plugin(self) -> CorePlugin:
        """Return a new, empty instance of the core plugin under test; called once per test.

        Use ``self.addCleanup`` for anything that must be released (a database).
        """
        raise NotImplementedError(
            f"{type(self).__name__} must define make_core_plugin(self) -> naas.plugins.CorePlugin, "
            "returning a new, empty instance of the core plugin under test"
        )

    def setUp(self) -> None:
        super().setUp()
        contexts = make_contexts()
        self.admin, self.project_a, self.project_b = contexts.admin, contexts.project_a, contexts.project_b
        core = self.make_core_plugin()
        if not isinstance(core, CorePlugin):
            self.fail(f"make_core_plugin() returned {core!r}, which is not a naas.plugins.CorePlugin")
        self.core = core

    def stored_state(self) -> StoredState:
        return core_state(self.core)
