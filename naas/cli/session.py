"""What every command works with: the configuration, the plugins, and the operator's context.

Each is built on first use, so ``naas help`` works with a broken
configuration and commands that touch no plugin (``db current``) load none.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence

from oslo_config import cfg
from oslo_log import log as oslo_log

from naas.auto_allocate import AutoAllocator
from naas.context import RequestContext, admin_context
from naas.loading import Plugins, load_plugins
from naas.opts import DEFAULT_SQLITE_FILE, register_opts

__all__ = ["PluginLoader", "Session", "load_config"]

PluginLoader = Callable[[cfg.ConfigOpts], Plugins]

# An operator's command should fail at once when the database is down, not retry
# for oslo.db's default of 10 attempts 10 s apart (oslo.db sleeps even after the
# last attempt); a config file may still set other values.
_CLI_DB_DEFAULTS = {"max_retries": 1, "retry_interval": 0}


def load_config(config_files: Sequence[str]) -> cfg.ConfigOpts:
    """Parse ``config_files``; with none, oslo.config's usual places (``/etc/naas/naas.conf`` ...).

    Given files are the whole configuration: the default ``naas.conf.d``
    directories are not read then, so a test or a script gets exactly what it
    names.
    """
    conf = cfg.ConfigOpts()
    register_opts(conf)
    oslo_log.register_options(conf)
    # The command's own output is on stdout; log messages never are (oslo.log's default without a log file).
    conf.set_default("use_stderr", True)
    for name, value in _CLI_DB_DEFAULTS.items():
        conf.set_default(name, value, group="database")
    if config_files:
        conf(args=[], project="naas", prog="naas", default_config_files=list(config_files), default_config_dirs=[])
    else:
        conf(args=[], project="naas", prog="naas")
    return conf


class Session:
    """The state one run of the command shares between its steps."""

    def __init__(self, config_files: Sequence[str], plugin_loader: PluginLoader = load_plugins) -> None:
        self.config_files = tuple(config_files)
        self.plugin_loader = plugin_loader
        # The command line is an operator's tool: it acts as an admin, for the
        # project a command names with --project.
        self.context: RequestContext = admin_context()

    @functools.cached_property
    def conf(self) -> cfg.ConfigOpts:
        return load_config(self.config_files)

    @functools.cached_property
    def plugins(self) -> Plugins:
        return self.plugin_loader(self.conf)

    @functools.cached_property
    def allocator(self) -> AutoAllocator:
        return AutoAllocator(self.plugins.core, self.plugins.l3)

    def database_url(self) -> str:
        """The database the sql plugins use: ``[database] connection``, else the SQLite file in ``state_path``."""
        connection: str | None = self.conf.database.connection
        if connection:
            return connection
        state_path = os.path.abspath(os.path.expanduser(self.conf.state_path))
        return "sqlite:///" + os.path.join(state_path, DEFAULT_SQLITE_FILE)

    def loaded_database_url(self) -> str | None:
        """The database URL if the configuration has been read, for error messages; never raises."""
        if "conf" not in self.__dict__:
            return None
        try:
            return self.database_url()
        except cfg.Error:
            return None
