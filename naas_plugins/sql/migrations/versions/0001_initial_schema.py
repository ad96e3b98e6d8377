"""The initial schema: networks, subnets, subnet pools, ports, routers, floating IPs, topologies.

Revision ID: 0001_initial_schema
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial_schema"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(36)
NAME = sa.String(255)
ADDRESS = sa.String(64)
HEX = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "networks",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("router_external", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("default_marker", sa.Boolean(), nullable=True),
        sa.Column("mtu", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_networks"),
        sa.UniqueConstraint("default_marker", name="uniq_networks0default_marker"),
    )
    op.create_index("ix_networks_project_id", "networks", ["project_id"])

    op.create_table(
        "subnetpools",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("ip_version", sa.SmallInteger(), nullable=False),
        sa.Column("prefixes", sa.Text(), nullable=False),
        sa.Column("default_prefixlen", sa.SmallInteger(), nullable=False),
        sa.Column("min_prefixlen", sa.SmallInteger(), nullable=False),
        sa.Column("max_prefixlen", sa.SmallInteger(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("default_marker", sa.Boolean(), nullable=True),
        sa.Column("default_quota", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subnetpools"),
        sa.UniqueConstraint("ip_version", "default_marker", name="uniq_subnetpools0ip_version0default_marker"),
    )
    op.create_index("ix_subnetpools_project_id", "subnetpools", ["project_id"])

    op.create_table(
        "subnetpool_free_blocks",
        sa.Column("subnetpool_id", ID, nullable=False),
        sa.Column("host_bits", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("network", HEX, nullable=False),
        sa.ForeignKeyConstraint(
            ["subnetpool_id"],
            ["subnetpools.id"],
            name="fk_subnetpool_free_blocks_subnetpool_id_subnetpools",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subnetpool_id", "host_bits", "network", name="pk_subnetpool_free_blocks"),
    )

    op.create_table(
        "subnets",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", NAME, nullable=False),
        sa.Column("network_id", ID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("ip_version", sa.SmallInteger(), nullable=False),
        sa.Column("cidr", ADDRESS, nullable=False),
        sa.Column("gateway_ip", ADDRESS, nullable=True),
        sa.Column("allocation_pools", sa.Text(), nullable=False),
        sa.Column("enable_dhcp", sa.Boolean(), nullable=False),
        sa.Column("subnetpool_id", ID, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["networks.id"], name="fk_subnets_network_id_networks"),
        sa.ForeignKeyConstraint(["subnetpool_id"], ["subnetpools.id"], name="fk_subnets_subnetpool_id_subnetpools"),
        sa.PrimaryKeyConstraint("id", name="pk_subnets"),
        sa.UniqueConstraint("subnetpool_id", "cidr", name="uniq_subnets0subnetpool_id0cidr"),
    )
    op.create_index("ix_subnets_project_id", "subnets", ["project_id"])
    op.create_index("ix_subnets_network_id", "subnets", ["network_id"])
    op.create_index("ix_subnets_subnetpool_id_project_id", "subnets", ["subnetpool_id", "project_id"])

    op.create_table(
        "subnet_free_ranges",
        sa.Column("subnet_id", ID, nullable=False),
        sa.Column("first", HEX, nullable=False),
        sa.Column("last", HEX, nullable=False),
        sa.ForeignKeyConstraint(
            ["subnet_id"], ["subnets.id"], name="fk_subnet_free_ranges_subnet_id_subnets", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("subnet_id", "first", name="pk_subnet_free_ranges"),
    )

    op.create_table(
        "ports",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", NAME, nullable=False),
        sa.Column("network_id", ID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("mac_address", sa.String(32), nullable=False),
        sa.Column("device_id", NAME, nullable=False),
        sa.Column("device_owner", NAME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["networks.id"], name="fk_ports_network_id_networks"),
        sa.PrimaryKeyConstraint("id", name="pk_ports"),
        sa.UniqueConstraint("network_id", "mac_address", name="uniq_ports0network_id0mac_address"),
    )
    op.create_index("ix_ports_project_id", "ports", ["project_id"])
    op.create_index("ix_ports_device_id", "ports", ["device_id"])

    op.create_table(
        "ip_allocations",
        sa.Column("subnet_id", ID, nullable=False),
        sa.Column("ip_address", ADDRESS, nullable=False),
        sa.Column("port_id", ID, nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["subnet_id"], ["subnets.id"], name="fk_ip_allocations_subnet_id_subnets"),
        sa.ForeignKeyConstraint(["port_id"], ["ports.id"], name="fk_ip_allocations_port_id_ports", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subnet_id", "ip_address", name="pk_ip_allocations"),
    )
    op.create_index("ix_ip_allocations_port_id", "ip_allocations", ["port_id"])

    op.create_table(
        "routers",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("gw_network_id", ID, nullable=True),
        sa.Column("gw_port_id", ID, nullable=True),
        sa.Column("enable_snat", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["gw_network_id"], ["networks.id"], name="fk_routers_gw_network_id_networks"),
        sa.ForeignKeyConstraint(["gw_port_id"], ["ports.id"], name="fk_routers_gw_port_id_ports"),
        sa.PrimaryKeyConstraint("id", name="pk_routers"),
    )
    op.create_index("ix_routers_project_id", "routers", ["project_id"])
    op.create_index("ix_routers_gw_port_id", "routers", ["gw_port_id"])

    op.create_table(
        "floatingips",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", NAME, nullable=False),
        sa.Column("floating_network_id", ID, nullable=False),
        sa.Column("floating_ip_address", ADDRESS, nullable=False),
        sa.Column("floating_port_id", ID, nullable=False),
        sa.Column("fixed_port_id", ID, nullable=True),
        sa.Column("fixed_ip_address", ADDRESS, nullable=True),
        sa.Column("router_id", ID, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["floating_network_id"], ["networks.id"], name="fk_floatingips_floating_network_id_networks"
        ),
        sa.ForeignKeyConstraint(
            ["floating_port_id"], ["ports.id"], name="fk_floatingips_floating_port_id_ports", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["fixed_port_id"], ["ports.id"], name="fk_floatingips_fixed_port_id_ports"),
        sa.ForeignKeyConstraint(["router_id"], ["routers.id"], name="fk_floatingips_router_id_routers"),
        sa.PrimaryKeyConstraint("id", name="pk_floatingips"),
        sa.UniqueConstraint("floating_network_id", "fixed_port_id", "fixed_ip_address", name="uq_floatingips_fixed_ip"),
    )
    op.create_index("ix_floatingips_project_id", "floatingips", ["project_id"])
    op.create_index("ix_floatingips_floating_port_id", "floatingips", ["floating_port_id"])
    op.create_index("ix_floatingips_fixed_port_id", "floatingips", ["fixed_port_id"])
    op.create_index("ix_floatingips_router_id", "floatingips", ["router_id"])

    op.create_table(
        "auto_allocated_topologies",
        sa.Column("project_id", NAME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", NAME, nullable=True),
        sa.Column("lease_expires_at", sa.Double(), nullable=False),
        sa.Column("network_id", ID, nullable=True),
        sa.Column("router_id", ID, nullable=True),
        sa.Column("subnet_ids", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name="pk_auto_allocated_topologies"),
    )
