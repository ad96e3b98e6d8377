"""The six collections of the Networking API v2.0 and how each maps onto the plugin methods.

A :class:`Collection` holds the wire names (resource key, collection name), the
resource type (for sorting and filter checks) and five calls on the plugins:
create, show (get), list (get_all), update, delete. Everything else (bodies, policy, paging) is
the same for all of them and lives in :mod:`naas.api._app`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from naas.context import RequestContext
from naas.plugins import CorePlugin, L3Plugin
from naas.resources import FloatingIP, Network, Port, Resource, Router, Subnet, SubnetPool

__all__ = ["Collection", "make_collections"]

Body = Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Collection:
    """One collection: names, type, and the plugin calls behind its five operations."""

    resource: str
    collection: str
    resource_type: type[Resource]
    create: Callable[[RequestContext, Body], Resource]
    get: Callable[[RequestContext, str], Resource]
    get_all: Callable[[RequestContext, Mapping[str, Any]], list[Any]]
    update: Callable[[RequestContext, str, Body, int | None], Resource]
    delete: Callable[[RequestContext, str, int | None], None]

    def sortable(self) -> list[str]:
        """The wire names a list may be sorted on: the scalar attributes."""
        scalar = ("str", "int", "bool", "netaddr.IPNetwork", "netaddr.IPAddress")
        names = []
        for field in dataclasses.fields(self.resource_type):
            kind = str(field.type).split(" | ")[0]
            if kind in scalar:
                names.append(self.resource_type.WIRE_NAMES.get(field.name, field.name))
        return names


def _collection(plugin: Any, resource: str, collection: str, resource_type: type[Resource]) -> Collection:
    # The plugin's methods are looked up on each call, so a plugin (or a test) may replace them.
    return Collection(
        resource,
        collection,
        resource_type,
        create=lambda context, body: getattr(plugin, f"create_{resource}")(context, body),
        get=lambda context, resource_id: getattr(plugin, f"get_{resource}")(context, resource_id),
        get_all=lambda context, filters: getattr(plugin, f"get_{collection}")(context, filters),
        update=lambda context, resource_id, body, revision: getattr(plugin, f"update_{resource}")(
            context, resource_id, body, if_revision=revision
        ),
        delete=lambda context, resource_id, revision: getattr(plugin, f"delete_{resource}")(
            context, resource_id, if_revision=revision
        ),
    )


def make_collections(core: CorePlugin, l3: L3Plugin) -> dict[str, Collection]:
    """The collections served over ``core`` and ``l3``, by collection name."""
    collections = [
        _collection(core, "network", "networks", Network),
        _collection(core, "subnet", "subnets", Subnet),
        _collection(core, "subnetpool", "subnetpools", SubnetPool),
        _collection(core, "port", "ports", Port),
        _collection(l3, "router", "routers", Router),
        _collection(l3, "floatingip", "floatingips", FloatingIP),
    ]
    return {collection.collection: collection for collection in collections}
