"""naas: Networking-as-a-Service as a Python library.

The public surface is re-exported here; modules whose names start with ``_``
are internal. Plugin authors also use :mod:`naas.plugins` (the contracts),
:mod:`naas.requests`, :mod:`naas.resources`, :mod:`naas.ipam`,
:mod:`naas.policy` and :mod:`naas.testing` (the conformance suites).
"""

from naas.auto_allocate import AutoAllocatedTopologyMixin, AutoAllocator, load_auto_allocator
from naas.context import RequestContext, admin_context
from naas.events import Event, EventPayload, EventRegistry, ResourceType
from naas.loading import Plugins, load_plugins
from naas.plugins import CorePlugin, L3Plugin

__all__ = [
    "AutoAllocatedTopologyMixin",
    "AutoAllocator",
    "CorePlugin",
    "Event",
    "EventPayload",
    "EventRegistry",
    "L3Plugin",
    "Plugins",
    "RequestContext",
    "ResourceType",
    "admin_context",
    "load_auto_allocator",
    "load_plugins",
]
