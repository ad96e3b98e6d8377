"""The linux backend's options, in the ``[linux]`` group.

They are registered by :meth:`LinuxBackend.from_config
<naas_plugins.linux.LinuxBackend.from_config>` (never at import time) and
listed for ``oslo-config-generator --namespace naas_plugins.linux`` by :func:`list_opts`.
"""

from __future__ import annotations

import os
import re
from typing import Final

from oslo_config import cfg

__all__ = ["DEFAULT_PREFIX", "GROUP", "PREFIX_PATTERN", "linux_opts", "list_opts", "register_opts"]

GROUP: Final = "linux"
DEFAULT_PREFIX: Final = "naas-"
PREFIX_PATTERN: Final = re.compile(r"[a-z][a-z0-9]{0,11}-")
"""A prefix is a lowercase letter, up to 11 more letters or digits, and one final dash: no prefix can then
start another's names (``naas-`` never matches ``naas-r-...`` of an installation called ``naas-r-``)."""

linux_opts = [
    cfg.StrOpt(
        "prefix",
        default=DEFAULT_PREFIX,
        regex=PREFIX_PATTERN.pattern + "$",
        help="Starts the name of every network namespace, nftables table and state directory this installation "
        "creates, so that two installations on one host never touch each other's objects: a lowercase letter, "
        "up to 11 letters or digits, and a final dash.",
    ),
    cfg.StrOpt(
        "state_dir",
        help="Directory of the DHCP servers' configuration, host files, leases and pid files (one subdirectory "
        "per installation prefix). Default: 'linux' in [DEFAULT] state_path.",
    ),
    cfg.StrOpt("dnsmasq", default="dnsmasq", help="The dnsmasq program (a name looked up in PATH, or a path)."),
    cfg.StrOpt("nft", default="nft", help="The nft program (a name looked up in PATH, or a path)."),
    cfg.StrOpt("ip", default="ip", help="The ip program of iproute2, used to run programs inside a namespace."),
    cfg.IntOpt(
        "dhcp_lease_seconds",
        default=86400,
        min=120,
        help="Lease time dnsmasq grants; an instance keeps its address as long as its port does either way.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the ``[linux]`` options on ``conf`` (idempotent)."""
    conf.register_opts(linux_opts, group=GROUP)


def default_state_dir(conf: cfg.ConfigOpts) -> str:
    """``[linux] state_dir``, else ``linux`` under ``[DEFAULT] state_path``."""
    if conf[GROUP].state_dir:
        return str(os.path.expanduser(conf[GROUP].state_dir))
    state_path = conf.state_path if "state_path" in conf else os.path.join("~", ".local", "state", "naas")
    return os.path.join(os.path.expanduser(state_path), "linux")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """The ``[linux]`` options, for ``oslo-config-generator --namespace naas_plugins.linux``."""
    return [(GROUP, list(linux_opts))]
