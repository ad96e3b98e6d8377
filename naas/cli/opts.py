"""Options of the ``naas`` command: what ``naas bootstrap`` creates when no flag says otherwise.

Kept apart from the commands so that ``oslo-config-generator`` and the
documentation can list them without importing cliff.
"""

from __future__ import annotations

from oslo_config import cfg

__all__ = ["BOOTSTRAP_GROUP", "bootstrap_opts", "list_opts", "register_cli_opts"]

BOOTSTRAP_GROUP = "bootstrap"

bootstrap_opts = [
    cfg.StrOpt(
        "external_network_name",
        default="public",
        help="Name of the default external network 'naas bootstrap' creates when there is none.",
    ),
    cfg.StrOpt(
        "external_cidr",
        default="203.0.113.0/24",
        help="CIDR of the default external network's subnet; router gateways and floating IPs take "
        "their addresses from it. The default is a documentation range (RFC 5737): set a routable one.",
    ),
    cfg.StrOpt(
        "v4_pool_prefix",
        default="10.0.0.0/8",
        help="Prefix of the default IPv4 subnet pool that project subnets are carved from.",
    ),
    cfg.IntOpt(
        "v4_prefixlen",
        default=26,
        min=1,
        max=32,
        help="Prefix length of the IPv4 subnet each project gets (the pool's default_prefixlen).",
    ),
    cfg.StrOpt(
        "v6_pool_prefix",
        default="fd00::/48",
        help="Prefix of the default IPv6 subnet pool that project subnets are carved from.",
    ),
    cfg.IntOpt(
        "v6_prefixlen",
        default=64,
        min=1,
        max=128,
        help="Prefix length of the IPv6 subnet each project gets (the pool's default_prefixlen).",
    ),
    cfg.BoolOpt(
        "ipv6",
        default=True,
        help="Whether 'naas bootstrap' creates the default IPv6 subnet pool, giving projects dual-stack networks.",
    ),
]


def register_cli_opts(conf: cfg.ConfigOpts) -> None:
    """Register the command's options on ``conf`` (idempotent)."""
    conf.register_opts(bootstrap_opts, group=BOOTSTRAP_GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """The command's options by group, for ``oslo-config-generator`` and the documentation."""
    return [(BOOTSTRAP_GROUP, list(bootstrap_opts))]
