"""The extensions ``GET /v2.0/extensions`` lists: the Neutron aliases whose behaviour naas serves.

Clients find features by alias (Nova's "get me a network" checks
``auto-allocated-topology``); an alias is listed only when the API behaves as
Neutron's extension of that name does.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["EXTENSIONS"]

_UPDATED: Final = "2026-12-01T00:00:00-00:00"

_DESCRIPTIONS: Final = {
    "auto-allocated-topology": ("Auto Allocated Topology Services", "Auto Allocated Topology Services."),
    "default-subnetpools": ("Default Subnetpools", "Provides ability to mark and use a subnetpool as the default."),
    "external-net": ("Neutron external network", "Adds external network attribute to network resource."),
    "router": (
        "Neutron L3 Router",
        "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via "
        "a NAT gateway.",
    ),
    "subnet_allocation": ("Subnet Allocation", "Enables allocation of subnets from a subnet pool."),
    "project-id": ("project_id field enabled", "Extension that indicates that project_id field is enabled."),
    "pagination": ("Pagination support", "Extension that indicates that pagination is enabled."),
    "sorting": ("Sorting support", "Extension that indicates that sorting is enabled."),
    "filter-validation": ("Filter parameters validation", "Provides validation on filter parameters."),
    "standard-attr-description": ("standard-attr-description", "Extension to add descriptions to standard attributes."),
    "standard-attr-tag": (
        "Tag support for resources with standard attribute: network, subnet, subnetpool, port, router, floatingip",
        "Enables to set tag on resources with standard attribute.",
    ),
    "standard-attr-timestamp": (
        "Resource timestamps",
        "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.",
    ),
    "standard-attr-revisions": (
        "Resource revision numbers",
        "This extension will display the revision number of neutron resources.",
    ),
    "revision-if-match": (
        "If-Match constraints based on revision_number",
        "Extension indicating that If-Match based on revision_number is supported.",
    ),
}


def _extension(alias: str, name: str, description: str) -> Mapping[str, Any]:
    return types.MappingProxyType(
        {"alias": alias, "name": name, "description": description, "updated": _UPDATED, "links": []}
    )


EXTENSIONS: Final[Mapping[str, Mapping[str, Any]]] = types.MappingProxyType(
    {alias: _extension(alias, name, description) for alias, (name, description) in sorted(_DESCRIPTIONS.items())}
)
"""Alias -> the extension's wire form (``alias``, ``name``, ``description``, ``updated``, ``links``)."""
