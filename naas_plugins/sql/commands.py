"""``naas db ...``: the sql plugins' schema migrations, as ``neutron-db-manage`` users expect them.

The sql plugins add these commands to ``naas`` through the ``naas.cli``
entry-point namespace, as any installed package may; ``naas`` itself does not
know the sql plugins. They act on the database the sql plugins use
(``[database] connection``, else the SQLite file in ``state_path``),
whichever plugins are configured, so an operator can prepare a database before
switching to it.

* ``naas db current``: the database's revision and the newest shipped one;
* ``naas db upgrade [REVISION] [--sql]``: to ``REVISION`` (default ``head``), or
  print the SQL instead (offline: nothing connects);
* ``naas db stamp REVISION [--sql]``: record a revision without running anything;
* ``naas db history``: the shipped revisions, newest first.

The plugins also migrate on first use unless ``[database] auto_migrate`` is
false; these commands are for upgrades done ahead of time.
"""

from __future__ import annotations

import argparse
from typing import Any

from naas.cli.base import NaasLister, NaasShowOne
from naas.cli.errors import masked_url
from naas_plugins.sql import migration
from naas_plugins.sql.database import engine_options_from_conf

__all__ = ["CurrentRevision", "History", "Stamp", "Upgrade"]

_REPORT_COLUMNS = ("database", "current_revision", "head_revision")


class _DatabaseCommand(NaasShowOne):
    def database_url(self) -> str:
        url, _ = engine_options_from_conf(self.session.conf)
        return url

    def report(self, url: str) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        return _REPORT_COLUMNS, (masked_url(url), migration.current(url), migration.head())

    def produce_output(self, parsed_args: argparse.Namespace, column_names: Any, data: Any) -> int:
        if getattr(parsed_args, "sql", False):
            return 0  # the SQL printed was the output
        return super().produce_output(parsed_args, column_names, data)


class CurrentRevision(_DatabaseCommand):
    """Show the revision the database is at and the newest one this naas ships."""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        return self.report(self.database_url())


def _add_sql_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sql",
        action="store_true",
        help="Print the SQL on stdout instead of running it (offline: the database is not connected to).",
    )


class Upgrade(_DatabaseCommand):
    """Upgrade the database schema to a revision (default: the newest), creating it if the database is empty."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "revision",
            metavar="REVISION",
            nargs="?",
            default="head",
            help="The target revision (see 'naas db history'); default: head. With --sql, FROM:TO starts at FROM.",
        )
        _add_sql_option(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        url = self.database_url()
        if parsed_args.sql:
            migration.upgrade(url, parsed_args.revision, sql_output=self.app.stdout)
            return (), ()
        migration.upgrade(url, parsed_args.revision)
        return self.report(url)


class Stamp(_DatabaseCommand):
    """Record a revision as the database's without running any migration (for a schema made by other means)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("revision", metavar="REVISION", help="The revision to record (see 'naas db history').")
        _add_sql_option(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        url = self.database_url()
        if parsed_args.sql:
            migration.stamp(url, parsed_args.revision, sql_output=self.app.stdout)
            return (), ()
        migration.stamp(url, parsed_args.revision)
        return self.report(url)


class History(NaasLister):
    """List the schema revisions this naas ships, newest first."""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        head = migration.head()
        rows = [
            (entry.revision, entry.down_revision, entry.revision == head, entry.description)
            for entry in migration.history()
        ]
        return ("Revision", "Down Revision", "Head", "Description"), rows
