"""The ``[ovn]`` options of the ovn backend.

They are registered when the loader builds the backend (in ``from_config``),
never at import time; :func:`list_opts` lists them for
``oslo-config-generator --namespace naas_plugins.ovn``. ``ovn_nb_connection``
and ``ovsdb_connection_timeout`` are spelled as Neutron's ML2/OVN spells them,
so an operator's existing values carry over.
"""

from __future__ import annotations

from oslo_config import cfg

__all__ = ["DEFAULT_NB_CONNECTION", "GROUP", "list_opts", "ovn_opts", "register_opts"]

GROUP = "ovn"
DEFAULT_NB_CONNECTION = "tcp:127.0.0.1:6641"
"""Neutron's default: an ovsdb-server for the northbound database on this host, port 6641."""

ovn_opts = [
    cfg.StrOpt(
        "ovn_nb_connection",
        default=DEFAULT_NB_CONNECTION,
        help="The OVN northbound database, as OVSDB names a remote: 'tcp:IP:PORT', 'unix:PATH' "
        "(for example unix:/var/run/ovn/ovnnb_db.sock). SSL remotes are not supported yet.",
    ),
    cfg.FloatOpt(
        "ovsdb_connection_timeout",
        default=180.0,
        min=1.0,
        help="Seconds to wait for the northbound database: to connect and read it at start-up, and for "
        "each transaction's answer. Past it the change fails and its resource is left in ERROR for "
        "'naas backend sync'.",
    ),
    cfg.ListOpt(
        "gateway_chassis",
        default=[],
        help="The chassis (their OVS external_ids:system-id) that host routers' gateway ports, highest "
        "priority first. A router with an external gateway needs at least one: the ovn backend refuses "
        "a gateway while this is empty.",
    ),
    cfg.StrOpt(
        "external_physical_network",
        default="physnet",
        help="The physical network name (a key of ovn-bridge-mappings on the gateway chassis) that the "
        "localnet port of every router:external network's switch is bound to.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the ``[ovn]`` options on ``conf`` (idempotent)."""
    conf.register_opts(ovn_opts, group=GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """The options by group, for ``oslo-config-generator``."""
    return [(GROUP, list(ovn_opts))]
