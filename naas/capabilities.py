"""What a plugin declares it supports, on its own class.

A plugin class lists its capabilities in ``CAPABILITIES``, a frozenset of
:class:`Capability` members::

    class MyCorePlugin(naas.plugins.CorePlugin):
        CAPABILITIES = naas.plugins.CorePlugin.CAPABILITIES - {Capability.SUBNETPOOL_QUOTAS}

The interfaces declare everything their contract covers
(:data:`CORE_CAPABILITIES`, :data:`L3_CAPABILITIES`), so a plugin that says
nothing is held to all of it. The conformance suites in :mod:`naas.testing`
read the declaration and skip, naming the capability, the tests of what a
plugin leaves out. Because members are enum attributes, a misspelt one
(``Capability.SUBNETPOL_QUOTAS``) fails when the class is defined; anything
that is not a member of the interface's set (a string, another interface's
capability) fails in :func:`check_capabilities`, which the loader and the suites
call.
"""

from __future__ import annotations

import difflib
import enum
from typing import Final

__all__ = ["CORE_CAPABILITIES", "L3_CAPABILITIES", "Capability", "check_capabilities"]


class Capability(enum.Enum):
    """One optional part of a plugin contract."""

    #: IPv6 subnets, pools, addresses and router interfaces.
    IPV6 = "ipv6"
    #: Subnet pools, and subnets allocated from them.
    SUBNETPOOLS = "subnetpools"
    #: ``default_quota`` on subnet pools.
    SUBNETPOOL_QUOTAS = "subnetpool_quotas"
    #: Floating IPs.
    FLOATINGIPS = "floatingips"
    #: Lifecycle events published to the plugin's ``events`` registry (see :mod:`naas.events`).
    EVENTS = "events"
    #: Concurrent calls from several threads on one plugin instance.
    THREADS = "threads"
    #: Several plugin instances (in one process or many) built over one storage see the same
    #: resources and the same get-me-a-network records (``get_topology_store``).
    SHARED_STORAGE = "shared_storage"


CORE_CAPABILITIES: Final = frozenset(
    {
        Capability.IPV6,
        Capability.SUBNETPOOLS,
        Capability.SUBNETPOOL_QUOTAS,
        Capability.EVENTS,
        Capability.THREADS,
        Capability.SHARED_STORAGE,
    }
)
"""What a core plugin may declare; :class:`naas.plugins.CorePlugin` declares all of it."""

L3_CAPABILITIES: Final = frozenset({Capability.IPV6, Capability.FLOATINGIPS, Capability.EVENTS, Capability.THREADS})
"""What an L3 plugin may declare; :class:`naas.plugins.L3Plugin` declares all of it."""


def check_capabilities(plugin_class: type, allowed: frozenset[Capability]) -> frozenset[Capability]:
    """``plugin_class.CAPABILITIES``, checked: a set of :class:`Capability` members, each in ``allowed``.

    Raises TypeError naming the class and the offending entry (with the member
    it most likely meant) when the declaration is not a set, holds anything but
    a member, or holds a member of another kind of plugin.
    """
    declared = getattr(plugin_class, "CAPABILITIES", None)
    name = f"{plugin_class.__module__}.{plugin_class.__qualname__}"
    if not isinstance(declared, (set, frozenset)):
        raise TypeError(f"{name}.CAPABILITIES must be a frozenset of naas.capabilities.Capability, not {declared!r}")
    for entry in declared:
        if not isinstance(entry, Capability):
            raise TypeError(
                f"{name}.CAPABILITIES holds {entry!r}, which is no naas.capabilities.Capability{_hint(entry)}"
            )
        if entry not in allowed:
            known = ", ".join(sorted(f"Capability.{member.name}" for member in allowed))
            raise TypeError(
                f"{name}.CAPABILITIES holds {entry}, which this kind of plugin cannot declare; known: {known}"
            )
    return frozenset(declared)


def _hint(entry: object) -> str:
    spelled = str(entry).upper().removeprefix("SUPPORTS_").removeprefix("CAPABILITY.")
    close = difflib.get_close_matches(spelled, [member.name for member in Capability], n=1)
    return f" (did you mean Capability.{close[0]}?)" if close else ""
