"""naas's configuration options, for oslo.config and ``oslo-config-generator --namespace naas``."""

from __future__ import annotations

import os

from oslo_config import cfg
from oslo_db import options as db_options

__all__ = [
    "DEFAULT_RESPONSE_TIMEOUT",
    "DEFAULT_SQLITE_FILE",
    "core_opts",
    "database_opts",
    "list_opts",
    "register_opts",
]

DEFAULT_SQLITE_FILE = "naas.sqlite"
DEFAULT_RESPONSE_TIMEOUT = 10.0

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
]


database_opts = [
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


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register naas's options, and oslo.db's [database] group with naas's additions, on ``conf`` (idempotent)."""
    conf.register_opts(core_opts)
    db_options.set_defaults(conf)
    conf.register_opts(database_opts, group="database")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """The options by group, for ``oslo-config-generator``: the library's, then the ``naas`` command's."""
    from naas.cli import opts as cli_opts

    return [
        ("DEFAULT", list(core_opts)),
        ("database", [*db_options.database_opts, *database_opts]),
        *cli_opts.list_opts(),
    ]
