"""Get me a network: the auto-allocated topology service."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from naas.auto_allocate.mixin import DRY_RUN, AutoAllocatedTopologyMixin, BuildStep
from naas.auto_allocate.store import (
    MemoryTopologyStore,
    OwnerToken,
    TopologyRecord,
    TopologyStatus,
    TopologyStore,
)

if TYPE_CHECKING:
    from oslo_config import cfg

    from naas.loading import Plugins
    from naas.plugins.core import CorePlugin
    from naas.plugins.l3 import L3Plugin

__all__ = [
    "DRY_RUN",
    "AutoAllocatedTopologyMixin",
    "AutoAllocator",
    "BuildStep",
    "MemoryTopologyStore",
    "OwnerToken",
    "TopologyRecord",
    "TopologyStatus",
    "TopologyStore",
    "load_auto_allocator",
]


class AutoAllocator(AutoAllocatedTopologyMixin):
    """Get-me-a-network over the given core and L3 plugins.

    ``topology_store`` defaults to the core plugin's own
    (:meth:`~naas.plugins.core.CorePlugin.get_topology_store`), so records live
    beside the resources they describe. ``plugins``, when given, is the loaded
    set the two plugins belong to, which the allocator then owns: :meth:`close`
    (or leaving a ``with`` block) closes it. Plugins handed over without it
    stay the caller's to close.
    """

    def __init__(
        self,
        core_plugin: CorePlugin,
        l3_plugin: L3Plugin,
        topology_store: TopologyStore | None = None,
        *,
        lease_seconds: float = AutoAllocatedTopologyMixin.lease_seconds,
        wait_timeout: float = AutoAllocatedTopologyMixin.wait_timeout,
        build_hook: Callable[[str], None] | None = None,
        plugins: Plugins | None = None,
    ) -> None:
        self.core_plugin = core_plugin
        self.l3_plugin = l3_plugin
        self.topology_store = topology_store if topology_store is not None else core_plugin.get_topology_store()
        self.lease_seconds = lease_seconds
        self.wait_timeout = wait_timeout
        self.build_hook = build_hook
        self.plugins = plugins

    def close(self) -> None:
        """Close the plugins this allocator owns (see ``plugins``); idempotent, nothing when it owns none."""
        if self.plugins is not None:
            self.plugins.close()

    def __enter__(self) -> AutoAllocator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def load_auto_allocator(conf: cfg.ConfigOpts) -> AutoAllocator:
    """Load the configured plugins (see :func:`naas.load_plugins`) and build the service on them.

    The allocator owns what was loaded: close it, or use it as a context manager.
    """
    from naas.loading import load_plugins

    plugins = load_plugins(conf)
    return AutoAllocator(plugins.core, plugins.l3, plugins=plugins)
