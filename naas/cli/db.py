"""``naas db upgrade`` and ``naas db current``: the sql plugins' schema migrations.

They act on the database the sql plugins use (``[database] connection``, else
the SQLite file in ``state_path``), whichever plugins are configured, so an
operator can prepare a database before switching to it. The sql plugins also
migrate a fresh database on first use; these commands are for upgrades done
ahead of time, and for checking where a database stands.
"""

from __future__ import annotations

import argparse
from types import ModuleType
from typing import Any

from cliff import command

from naas.cli.base import NaasShowOne
from naas.cli.errors import CommandError, masked_url

__all__ = ["COMMANDS"]


def _sql_module(name: str) -> ModuleType:
    import importlib

    try:
        return importlib.import_module(f"naas_plugins.sql.{name}")
    except ModuleNotFoundError as error:
        if error.name and f"naas_plugins.sql.{name}".startswith(error.name):
            raise CommandError(f"The sql plugins are not installed: no module {error.name!r}") from error
        raise


class DatabaseCommand(NaasShowOne):
    """Report the schema revision of the sql plugins' database."""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        migration = _sql_module("migration")
        url, _ = _sql_module("database").engine_options_from_conf(self.session.conf)
        self.change(migration, url)
        current = migration.current(url)
        head = migration.head()
        return ("database", "current_revision", "head_revision"), (masked_url(url), current, head)

    def change(self, migration: ModuleType, url: str) -> None:
        """What the command does to the database before reporting; nothing by default."""


class CurrentRevision(DatabaseCommand):
    """Show the revision the database is at and the newest one this naas ships."""


class Upgrade(DatabaseCommand):
    """Upgrade the database schema to the newest revision (creating it if the database is empty)."""

    def change(self, migration: ModuleType, url: str) -> None:
        migration.upgrade(url)


COMMANDS: dict[str, type[command.Command]] = {"db current": CurrentRevision, "db upgrade": Upgrade}
