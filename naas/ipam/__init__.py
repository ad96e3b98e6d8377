"""IP address management: pure, storage-agnostic rules and allocators on :mod:`netaddr`.

Every storage plugin uses these: :mod:`naas.ipam.prefixes` for subnet pools (prefix lists, prefix-length
bounds, quota units, and :class:`FreePrefixes`, the free space subnets are carved from) and
:mod:`naas.ipam.addresses` for subnets and ports (gateway, allocation pools, and :class:`FreeAddresses`, the
free space port addresses come from). The free space is exposed as plain int pairs so a plugin can keep it
in memory or in tables and rebuild the allocators from it. The allocators are not thread-safe: a plugin
serialises the operations on one pool or subnet.
"""

from naas.ipam._sorted import Range
from naas.ipam.addresses import (
    FreeAddresses,
    default_allocation_pools,
    default_gateway,
    validate_address_for_subnet,
    validate_allocation_pools,
    validate_gateway,
)
from naas.ipam.prefixes import (
    Block,
    FreePrefixes,
    check_cidr_in_pool,
    check_default_prefixlen_fits,
    check_prefixlen_in_bounds,
    check_special_purpose,
    compact_prefixes,
    prefix_quota_units,
    resolve_prefix_bounds,
)

__all__ = [
    "Block",
    "FreeAddresses",
    "FreePrefixes",
    "Range",
    "check_cidr_in_pool",
    "check_default_prefixlen_fits",
    "check_prefixlen_in_bounds",
    "check_special_purpose",
    "compact_prefixes",
    "default_allocation_pools",
    "default_gateway",
    "prefix_quota_units",
    "resolve_prefix_bounds",
    "validate_address_for_subnet",
    "validate_allocation_pools",
    "validate_gateway",
]
