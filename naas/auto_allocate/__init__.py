"""Get me a network: the auto-allocated topology service."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from naas.auto_allocate.mixin import DRY_RUN, AutoAllocatedTopologyMixin, BuildStep
from naas.auto_allocate.store import (
    MemoryTopologyStore,
    TopologyRecord,
    TopologyStatus,
    TopologyStore,
)

if TYPE_CHECKING:
    from oslo_config import cfg

    from naas.plugins.core import CorePlugin
    from naas.plugins.l3 import L3Plugin

__all__ = [
    "DRY_RUN",
    "AutoAllocatedTopologyMixin",
    "AutoAllocator",
    "BuildStep",
    "MemoryTopologyStore",
    "TopologyRecord",
    "TopologyStatus",
    "TopologyStore",
    "load_auto_allocator",
]


class AutoAllocator(AutoAllocatedTopologyMixin):
    """Get-me-a-network over the given core and L3 plugins.

    ``topology_store`` defaults to the core plugin's own
    (:meth:`~naas.plugins.core.CorePlugin.get_topology_store`), so records live
    beside the resources they describe.
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
    ) -> None:
        self.core_plugin = core_plugin
        self.l3_plugin = l3_plugin
        self.topology_store = topology_store if topology_store is not None else core_plugin.get_topology_store()
        self.lease_seconds = lease_seconds
        self.wait_timeout = wait_timeout
        self.build_hook = build_hook


def load_auto_allocator(conf: cfg.ConfigOpts) -> AutoAllocator:
    """Load the configured plugins (see :func:`naas.load_plugins`) and build the service on them."""
    from naas.loading import load_plugins

    plugins = load_plugins(conf)
    return AutoAllocator(plugins.core, plugins.l3)
