"""The ``sql`` core plugin: the core rules over a database (SQLite, PostgreSQL, MySQL/MariaDB)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from oslo_config import cfg

from naas.backends import BackendChain
from naas.events import EventRegistry
from naas.rules import CoreRules
from naas_plugins.sql import migration
from naas_plugins.sql.database import Database, engine_options_from_conf
from naas_plugins.sql.storage import SqlStorage

__all__ = ["SqlCorePlugin"]


class SqlCorePlugin(CoreRules):
    """The core rules over :class:`~naas_plugins.sql.storage.SqlStorage`.

    ``connection`` is a database URL or an oslo.db transaction context
    (``enginefacade.transaction_context()``) the caller configured;
    ``engine_options`` are oslo.db engine options used with a URL. With
    ``auto_migrate`` (the default) the schema is created or upgraded to the
    newest revision when the plugin is built.
    """

    def __init__(
        self,
        connection: str | Any,
        events: EventRegistry | None = None,
        *,
        auto_migrate: bool = True,
        engine_options: Mapping[str, Any] | None = None,
        backends: BackendChain | None = None,
    ) -> None:
        self.database = Database(connection, engine_options=engine_options)
        if auto_migrate:
            with self.database.unavailable_as_naas_error():
                migration.ensure_schema(self.database.engine)
        super().__init__(SqlStorage(self.database), events, backends)

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, events: EventRegistry, backends: BackendChain | None = None) -> Self:
        """``[database] connection`` (oslo.db's options); unset: an SQLite file in ``state_path``.

        With ``[database] auto_migrate = false`` the schema is not touched, and a database not at the
        newest revision raises :class:`~naas_plugins.sql.migration.SchemaOutOfDate`.
        """
        url, options = engine_options_from_conf(conf)
        auto_migrate = conf.database.auto_migrate
        plugin = cls(url, events, auto_migrate=auto_migrate, engine_options=options, backends=backends)
        try:
            if not auto_migrate:
                migration.check_schema(plugin.database.engine)
            return plugin.apply_options(conf)
        except Exception:
            plugin.close()
            raise
