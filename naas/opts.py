"""naas's configuration options, for oslo.config and ``oslo-config-generator --namespace naas``.

:func:`list_opts` lists naas's own options only. The ``[database]`` group is
oslo.db's: its options come from oslo.db's own generator namespace
(``--namespace oslo.db``), and naas adds one option of its own to the group,
``auto_migrate``. Logging options are oslo.log's (``--namespace oslo.log``).
So the committed ``etc/naas.conf.sample`` does not change when oslo.db or
oslo.log does.

:func:`unknown_options` finds the settings of a configuration file that no
registered option reads: a mistyped option name.

This module imports neither the command line nor any plugin: applications,
plugins and the command all read their options from here.
"""

from __future__ import annotations

import dataclasses
import glob
import os

from oslo_config import cfg
from oslo_db import options as db_options

from naas.requests import FIXED_IPS_LIST_LIMIT, MAX_FIXED_IPS_PER_PORT

__all__ = [
    "API_GROUP",
    "BOOTSTRAP_GROUP",
    "DATABASE_GROUP",
    "DEFAULT_RESPONSE_TIMEOUT",
    "DEFAULT_SQLITE_FILE",
    "UnknownOption",
    "api_opts",
    "bootstrap_opts",
    "core_opts",
    "database_opts",
    "list_opts",
    "register_opts",
    "server_opts",
    "unknown_options",
]

DEFAULT_SQLITE_FILE = "naas.sqlite"
"""The SQLite file, in ``[DEFAULT] state_path``, used when ``[database] connection`` is unset."""
DEFAULT_RESPONSE_TIMEOUT = 10.0
"""The default of ``[database] response_timeout``, in seconds."""
DATABASE_GROUP = "database"
"""The option group naas shares with oslo.db."""
BOOTSTRAP_GROUP = "bootstrap"
"""The option group of ``naas bootstrap``'s settings."""
API_GROUP = "api"
"""The option group of ``naas-server``, the Networking API over HTTP."""

#: The ``[DEFAULT]`` options: which plugins, backends and observers, where state lives, and the rules' limits.
core_opts = [
    cfg.StrOpt(
        "core_plugin",
        default="sql",
        help="The core plugin (networks, subnets, subnet pools, ports): an alias in the "
        "naas.core_plugins entry-point namespace, such as 'sql' or 'memory', or a "
        "'package.module:Class' path.",
    ),
    cfg.StrOpt(
        "l3_plugin",
        default="sql",
        help="The L3 plugin (routers, gateways, interfaces, floating IPs): an alias in the "
        "naas.l3_plugins entry-point namespace, such as 'sql' or 'memory', or a "
        "'package.module:Class' path. It is handed the core plugin.",
    ),
    cfg.StrOpt(
        "state_path",
        default=os.path.join("~", ".local", "state", "naas"),
        help="Directory for naas's local state. With [database] connection unset, the sql "
        f"plugins keep an SQLite database here ({DEFAULT_SQLITE_FILE}).",
    ),
    cfg.ListOpt(
        "backends",
        default=[],
        help="Ordered network backends (aliases in naas.backends or module:Class paths) that program a dataplane.",
    ),
    cfg.ListOpt(
        "observers",
        default=[],
        help="Observers (aliases in naas.observers or module:Class paths) told of every change.",
    ),
    cfg.IntOpt(
        "max_fixed_ips_per_port",
        default=MAX_FIXED_IPS_PER_PORT,
        min=1,
        max=FIXED_IPS_LIST_LIMIT,
        help="The most addresses (fixed_ips) one port, or one router's gateway, may have; Neutron's option of "
        "the same name. A request asking for more is refused before any address is taken.",
    ),
]

#: The ``[DEFAULT]`` options of the HTTP API (:mod:`naas.api`) that are not the server's own.
api_opts = [
    cfg.StrOpt(
        "auth_strategy",
        default="keystone",
        choices=[
            ("keystone", "keystonemiddleware's auth_token checks every request's token ([keystone_authtoken])"),
            (
                "noauth",
                "no check: the X-Project-Id, X-User-Id and X-Roles headers are trusted, and a request "
                "without them acts as the admin; for tests and trusted networks only",
            ),
        ],
        help="How the HTTP API authenticates its callers.",
    ),
]

#: The options naas adds to oslo.db's ``[database]`` group.
database_opts = [
    cfg.BoolOpt(
        "auto_migrate",
        default=True,
        help="Whether the sql plugins create or upgrade the database schema to the newest revision when "
        "they start. With false they refuse to start on a database that is not at the newest revision; "
        "upgrade it with 'naas db upgrade'.",
    ),
    cfg.FloatOpt(
        "response_timeout",
        default=DEFAULT_RESPONSE_TIMEOUT,
        min=1.0,
        help="naas's bound, in seconds, on each wait of the sql plugins for the database: to connect, "
        "for a server's answer (PostgreSQL: connect_timeout, lock_timeout and statement_timeout; "
        "MySQL/MariaDB: connect, read and write timeouts and innodb_lock_wait_timeout), and for "
        "another process's write lock on an SQLite file. Past it a call fails with "
        "naas.exceptions.ServiceUnavailable instead of waiting.",
    ),
]

#: The ``[bootstrap]`` options: what ``naas bootstrap`` creates.
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
    cfg.IntOpt(
        "v4_min_prefixlen",
        default=22,
        min=1,
        max=32,
        help="Shortest prefix (largest subnet) one request may take from the default IPv4 pool; "
        "widened to v4_prefixlen if that is shorter.",
    ),
    cfg.IntOpt(
        "v4_max_prefixlen",
        default=29,
        min=1,
        max=32,
        help="Longest prefix (smallest subnet) one request may take from the default IPv4 pool; "
        "widened to v4_prefixlen if that is longer.",
    ),
    cfg.IntOpt(
        "v4_quota",
        default=2048,
        min=0,
        help="Addresses one project may hold in subnets from the default IPv4 pool (the pool's "
        "default_quota; 0: no quota). Raised to one v4_prefixlen subnet if smaller.",
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
    cfg.IntOpt(
        "v6_min_prefixlen",
        default=60,
        min=1,
        max=128,
        help="Shortest prefix (largest subnet) one request may take from the default IPv6 pool; "
        "widened to v6_prefixlen if that is shorter.",
    ),
    cfg.IntOpt(
        "v6_max_prefixlen",
        default=64,
        min=1,
        max=128,
        help="Longest prefix (smallest subnet) one request may take from the default IPv6 pool; "
        "widened to v6_prefixlen if that is longer.",
    ),
    cfg.IntOpt(
        "v6_quota",
        default=16,
        min=0,
        help="/64 subnets' worth of addresses one project may hold in subnets from the default IPv6 pool "
        "(the pool's default_quota; 0: no quota). Raised to one v6_prefixlen subnet if smaller.",
    ),
    cfg.BoolOpt(
        "ipv6",
        default=True,
        help="Whether 'naas bootstrap' creates the default IPv6 subnet pool, giving projects dual-stack networks.",
    ),
]


#: The ``[api]`` options: how ``naas-server`` serves the Networking API.
server_opts = [
    cfg.HostAddressOpt(
        "bind_host",
        default="127.0.0.1",
        help="Address naas-server listens on. The default serves this host only; '0.0.0.0' or '::' "
        "serve every interface (with auth_strategy = noauth, only to callers trusted as admins).",
    ),
    cfg.PortOpt("bind_port", default=9696, help="TCP port naas-server listens on (Neutron's is 9696)."),
    cfg.IntOpt(
        "workers",
        default=1,
        min=1,
        help="Worker processes serving requests, forked after start-up. More than one needs a storage "
        "shared between processes (the sql plugins; not the memory plugins).",
    ),
    cfg.IntOpt(
        "threads",
        default=8,
        min=1,
        help="Requests each worker process serves at once, one thread each.",
    ),
    cfg.IntOpt(
        "graceful_timeout",
        default=30,
        min=0,
        help="Seconds naas-server, told to stop (SIGTERM), lets the requests in flight finish; "
        "workers still busy after that are killed.",
    ),
    cfg.IntOpt(
        "keepalive_timeout",
        default=5,
        min=0,
        help="Seconds an idle HTTP/1.1 keep-alive connection is kept open (0: close after each response).",
    ),
    cfg.StrOpt(
        "access_log",
        default="-",
        help="Where each request is logged: a file path, '-' for standard output, or empty for no access log.",
    ),
    cfg.StrOpt(
        "access_log_format",
        default='%(h)s "%(r)s" status: %(s)s len: %(B)s time: %(M)sms request_id: %({x-openstack-request-id}o)s',
        help="gunicorn's access log format; %({x-openstack-request-id}o)s is the request id the caller sees.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register naas's options and oslo.db's ``[database]`` group on ``conf`` (idempotent)."""
    conf.register_opts(core_opts)
    conf.register_opts(api_opts)
    db_options.set_defaults(conf)
    conf.register_opts(database_opts, group=DATABASE_GROUP)
    conf.register_opts(bootstrap_opts, group=BOOTSTRAP_GROUP)
    conf.register_opts(server_opts, group=API_GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """naas's own options by group, for ``oslo-config-generator --namespace naas`` and the documentation."""
    return [
        ("DEFAULT", [*core_opts, *api_opts]),
        (DATABASE_GROUP, list(database_opts)),
        (BOOTSTRAP_GROUP, list(bootstrap_opts)),
        (API_GROUP, list(server_opts)),
    ]


@dataclasses.dataclass(frozen=True)
class UnknownOption:
    """A setting in a configuration file that no registered option reads.

    ``option`` is None when the whole section belongs to no registered group.
    """

    path: str
    section: str
    option: str | None

    def __str__(self) -> str:
        if self.option is None:
            return f"{self.path}: section [{self.section}] is not used by naas or its loaded plugins"
        return f"{self.path}: [{self.section}] {self.option} is not a known option (mistyped?)"


def _files_read(conf: cfg.ConfigOpts) -> list[str]:
    files = [os.path.abspath(path) for path in conf.config_file or ()]
    for directory in conf.config_dir or ():
        files += sorted(glob.glob(os.path.join(os.path.abspath(directory), "*.conf")))
    return [path for path in files if os.path.isfile(path)]


def _known_names(conf: cfg.ConfigOpts, group: str) -> set[str] | None:
    """The option names of ``group`` and their deprecated names; None if no such group is registered."""
    if group == "DEFAULT":
        opts = conf._opts  # the DEFAULT group's options; oslo.config offers no public view of them
    elif group in conf:
        opts = conf[group]._group._opts
    else:
        return None
    names: set[str] = set()
    for entry in opts.values():
        opt = entry["opt"]
        names.add(opt.dest)
        names.update(deprecated.name for deprecated in opt.deprecated_opts if deprecated.name)
    return names


def unknown_options(conf: cfg.ConfigOpts, *, whole_sections: bool = True) -> list[UnknownOption]:
    """The settings of the files ``conf`` read that no option registered on ``conf`` reads.

    Options are checked in the sections of registered groups (``DEFAULT``
    included). With ``whole_sections``, a section of a group no one registered
    is reported too; leave it out while plugins that register their own groups
    may still be loaded. What :command:`oslo-config-validator` checks against a
    sample, this checks against what the running process registered.
    """
    found: list[UnknownOption] = []
    for path in _files_read(conf):
        sections: dict[str, dict[str, list[str]]] = {}
        cfg.ConfigParser(path, sections).parse()
        for section, settings in sections.items():
            known = _known_names(conf, section)
            if known is None:
                if whole_sections:
                    found.append(UnknownOption(path, section, None))
                continue
            found += [UnknownOption(path, section, name) for name in settings if name not in known]
    return found
