"""The set-up every core plugin conformance test shares."""

from __future__ import annotations

from naas.capabilities import CORE_CAPABILITIES, Capability, check_capabilities
from naas.context import RequestContext
from naas.plugins.core import CorePlugin
from naas.testing._base import ConformanceCase
from naas.testing.fixtures import StoredState, core_state, make_contexts

__all__ = ["CoreSuiteBase"]


class CoreSuiteBase(ConformanceCase):
    """Builds the plugin under test and three callers: ``admin``, ``project_a`` and ``project_b``.

    Tests of what the plugin class does not declare in ``CAPABILITIES``
    (:mod:`naas.capabilities`) are skipped, naming the capability.
    """

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
        # An undeclarable capability is an error before any test runs, not only in tests that ask for it.
        self.declared_capabilities()

    def declared_capabilities(self) -> list[tuple[object, frozenset[Capability], frozenset[Capability]]]:
        return [(self.core, check_capabilities(type(self.core), CORE_CAPABILITIES), CORE_CAPABILITIES)]

    def stored_state(self) -> StoredState:
        return core_state(self.core)
