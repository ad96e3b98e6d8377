"""Checks that the free-space tables hold exactly what :mod:`naas.ipam` computes from the allocations."""

from __future__ import annotations

import netaddr
import sqlalchemy as sa

from naas import admin_context
from naas.ipam import FreeAddresses, FreePrefixes
from naas_plugins.sql import SqlCorePlugin
from naas_plugins.sql._ipam import BLOCKS, RANGES
from naas_plugins.sql.models import from_hex


def free_space_problems(core: SqlCorePlugin) -> list[str]:
    """What differs between the stored free ranges and blocks and those recomputed from scratch."""
    admin = admin_context()
    problems = []
    ports = core.get_ports(admin)
    with core.database.reader() as connection:
        ranges = connection.execute(sa.select(RANGES)).all()
        blocks = connection.execute(sa.select(BLOCKS)).all()
    for subnet in core.get_subnets(admin):
        taken = [fixed.ip_address for port in ports for fixed in port.fixed_ips if fixed.subnet_id == subnet.id]
        expected = FreeAddresses(subnet.id, subnet.cidr, subnet.allocation_pools, taken).to_ranges()
        stored = [(from_hex(row.first), from_hex(row.last)) for row in ranges if row.subnet_id == subnet.id]
        # Ranges freed side by side by concurrent transactions may stay split: compare the addresses.
        normalised = FreeAddresses.from_ranges(subnet.id, subnet.cidr, subnet.allocation_pools, stored).to_ranges()
        if normalised != expected:
            problems.append(f"subnet {subnet.cidr}: stored free ranges {stored}, expected {expected}")
    for pool in core.get_subnetpools(admin):
        width = 32 if pool.ip_version == 4 else 128
        allocated = [s.cidr for s in core.get_subnets(admin, {"subnetpool_id": pool.id})]
        expected_blocks = FreePrefixes(pool.id, pool.prefixes, allocated).to_blocks()
        stored_blocks = sorted(
            (from_hex(row.network), width - row.host_bits) for row in blocks if row.subnetpool_id == pool.id
        )
        if stored_blocks != expected_blocks:
            problems.append(
                f"pool {pool.prefixes}: stored free blocks "
                f"{[str(netaddr.IPNetwork((n, p), version=pool.ip_version)) for n, p in stored_blocks]}, expected "
                f"{[str(netaddr.IPNetwork((n, p), version=pool.ip_version)) for n, p in expected_blocks]}"
            )
    return problems
