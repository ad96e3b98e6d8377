"""The six collections of the Networking API v2.0 and how each maps onto the plugin methods.

A :class:`Collection` holds the wire names (resource key, collection name), the
resource type (for sorting and filter checks) and five calls on the plugins:
create, show, list, update, delete. Everything else (bodies, policy, paging) is
the same for all of them and lives in :mod:`naas.api._app`.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from naas.context import RequestContext
from naas.exceptions import BadRequest
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
    list: Callable[[RequestContext, Mapping[str, Any]], builtins.list[Any]]
    update: Callable[[RequestContext, str, Body, int | None], Resource]
    delete: Callable[[RequestContext, str, int | None], None]

    def sortable(self) -> builtins.list[str]:
        """The wire names a list may be sorted on: the scalar attributes."""
        scalar = ("str", "int", "bool", "netaddr.IPNetwork", "netaddr.IPAddress")
        names = []
        for field in dataclasses.fields(self.resource_type):
            kind = str(field.type).split(" | ")[0]
            if kind in scalar:
                names.append(self.resource_type.WIRE_NAMES.get(field.name, field.name))
        return names


def _revision(if_revision: int | None) -> dict[str, int]:
    return {} if if_revision is None else {"if_revision": if_revision}


def _update_floatingip(l3: L3Plugin, context: RequestContext, floatingip_id: str, body: Body, **revision: int) -> Any:
    unknown = sorted(set(body) - {"port_id", "fixed_ip_address"})
    if unknown:
        raise BadRequest("floatingip", unknown[0], "unrecognized attribute")
    if "port_id" not in body:
        if "fixed_ip_address" in body:
            raise BadRequest("floatingip", "fixed_ip_address", "needs a port_id")
        return l3.get_floatingip(context, floatingip_id)
    if body["port_id"] is None:
        return l3.disassociate_floatingip(context, floatingip_id)
    return l3.associate_floatingip(context, floatingip_id, body["port_id"], body.get("fixed_ip_address"))


def make_collections(core: CorePlugin, l3: L3Plugin) -> dict[str, Collection]:
    """The collections served over ``core`` and ``l3``, by collection name."""
    collections = [
        Collection(
            "network",
            "networks",
            Network,
            core.create_network,
            core.get_network,
            core.get_networks,
            lambda c, i, b, r: core.update_network(c, i, b, **_revision(r)),
            lambda c, i, r: core.delete_network(c, i, **_revision(r)),
        ),
        Collection(
            "subnet",
            "subnets",
            Subnet,
            core.create_subnet,
            core.get_subnet,
            core.get_subnets,
            lambda c, i, b, r: core.update_subnet(c, i, b, **_revision(r)),
            lambda c, i, r: core.delete_subnet(c, i, **_revision(r)),
        ),
        Collection(
            "subnetpool",
            "subnetpools",
            SubnetPool,
            core.create_subnetpool,
            core.get_subnetpool,
            core.get_subnetpools,
            lambda c, i, b, r: core.update_subnetpool(c, i, b, **_revision(r)),
            lambda c, i, r: core.delete_subnetpool(c, i, **_revision(r)),
        ),
        Collection(
            "port",
            "ports",
            Port,
            core.create_port,
            core.get_port,
            core.get_ports,
            lambda c, i, b, r: core.update_port(c, i, b, **_revision(r)),
            lambda c, i, r: core.delete_port(c, i, **_revision(r)),
        ),
        Collection(
            "router",
            "routers",
            Router,
            l3.create_router,
            l3.get_router,
            l3.get_routers,
            lambda c, i, b, r: l3.update_router(c, i, b, **_revision(r)),
            lambda c, i, r: l3.delete_router(c, i, **_revision(r)),
        ),
        Collection(
            "floatingip",
            "floatingips",
            FloatingIP,
            l3.create_floatingip,
            l3.get_floatingip,
            l3.get_floatingips,
            lambda c, i, b, r: _update_floatingip(l3, c, i, b, **_revision(r)),
            lambda c, i, r: l3.delete_floatingip(c, i, **_revision(r)),
        ),
    ]
    return {collection.collection: collection for collection in collections}
