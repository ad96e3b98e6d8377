"""Base classes and helpers every ``naas`` command shares, naas's own and those other packages add.

A command derives from one of :class:`NaasCommand`, :class:`NaasLister` or
:class:`NaasShowOne`: they reach the :class:`~naas.cli.session.Session` of the
running application (configuration, plugins, admin context), turn any failure
into one :class:`~naas.cli.errors.CommandError` line, which cliff prints on
stderr (with the traceback only under ``--debug``), and escape tenant text on
output (:mod:`naas.cli.output`). Register a command in the ``naas.cli``
entry-point namespace, underscores for spaces::

    [options.entry_points]
    naas.cli =
        vendor_sync = vendor_driver.cli:Sync      # naas vendor sync
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn, TextIO

from cliff import command, lister, show

from naas.cli.errors import CommandError, UsageError, describe_error
from naas.cli.output import displayed, for_formatter, show_dict
from naas.cli.session import Session

__all__ = [
    "NaasCommand",
    "NaasLister",
    "NaasShowOne",
    "add_project_option",
    "add_switch",
    "displayed",
    "parse_key_values",
    "show_dict",
]


class NaasCommand(command.Command):
    """A command that runs in the naas application; its failures are one line."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        # argparse prints the whole usage before a usage error; one line and a pointer to --help is enough.
        # (Documentation tools build parsers with no application: they keep argparse's own error.)
        if self.app is not None:
            parser.error = functools.partial(_usage_error, parser, self.app.stderr)  # type: ignore[method-assign]
        return parser

    @property
    def session(self) -> Session:
        session = getattr(self.app, "session", None)
        if not isinstance(session, Session):
            raise CommandError("naas commands run inside the naas application, which sets up their session")
        return session

    def run(self, parsed_args: argparse.Namespace) -> int:
        try:
            return super().run(parsed_args)
        except UsageError as error:
            self.app.stderr.write(f"{self.cmd_name_for_messages()}: error: {error}\n")
            return 2
        except CommandError:
            raise
        except Exception as error:
            session = getattr(self.app, "session", None)
            database_url = session.loaded_database_url() if isinstance(session, Session) else None
            raise CommandError(describe_error(error, database_url)) from error

    def cmd_name_for_messages(self) -> str:
        return f"naas {self.cmd_name}" if self.cmd_name else "naas"


def _usage_error(parser: argparse.ArgumentParser, stderr: TextIO, message: str) -> NoReturn:
    stderr.write(f"{parser.prog}: error: {message} (see '{parser.prog} --help')\n")
    raise SystemExit(2)


def _check_columns(parsed_args: argparse.Namespace, column_names: Sequence[str]) -> None:
    """Refuse a ``-c`` naming no column, as a usage error; cliff would call it a ValueError."""

    def normalized(name: str) -> str:
        return name.lower().strip().replace(" ", "_")

    known = {normalized(name) for name in column_names}
    unknown = [name for name in parsed_args.columns or () if normalized(name) not in known]
    if unknown:
        raise UsageError(
            f"-c {unknown[0]}: no such column; the columns are: {', '.join(column_names)}"
            if len(unknown) == 1
            else f"-c {', '.join(unknown)}: no such columns; the columns are: {', '.join(column_names)}"
        )


class NaasLister(NaasCommand, lister.Lister):
    """A command printing rows (``-f table|json|yaml|value|csv``, ``-c COLUMN``)."""

    def produce_output(
        self, parsed_args: argparse.Namespace, column_names: Sequence[str], data: Iterable[Sequence[Any]]
    ) -> int:
        _check_columns(parsed_args, column_names)
        rows = [tuple(for_formatter(value, parsed_args.formatter) for value in row) for row in data]
        return super().produce_output(parsed_args, column_names, rows)


class NaasShowOne(NaasCommand, show.ShowOne):
    """A command printing one record (``-f table|json|yaml|value|shell``, ``-c COLUMN``)."""

    def produce_output(self, parsed_args: argparse.Namespace, column_names: Sequence[str], data: Sequence[Any]) -> int:
        _check_columns(parsed_args, column_names)
        values = tuple(for_formatter(value, parsed_args.formatter) for value in data)
        return super().produce_output(parsed_args, column_names, values)


def add_project_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--project", metavar="PROJECT", help=help_text)


def add_switch(parser: argparse.ArgumentParser, dest: str, on: tuple[str, str], off: tuple[str, str]) -> None:
    """A pair of opposite flags, as the openstack client has them (``--share`` / ``--no-share``).

    ``on`` and ``off`` are (flag, help). ``dest`` is True, False, or None when
    neither flag is given (leave the attribute as it is, or to its default).
    """
    pair = parser.add_mutually_exclusive_group()
    pair.add_argument(on[0], dest=dest, action="store_true", default=None, help=on[1])
    pair.add_argument(off[0], dest=dest, action="store_false", default=None, help=off[1])


def parse_key_values(text: str, option: str, allowed: Iterable[str]) -> dict[str, str]:
    """Parse ``key=value,key=value`` (as in ``--fixed-ip subnet=S,ip-address=A``), checking the keys.

    Meant as an argparse ``type``: a malformed value is argparse's usage error.
    """
    allowed = tuple(allowed)
    pairs: dict[str, str] = {}
    for item in text.split(","):
        key, separator, value = item.partition("=")
        key = key.strip()
        if not separator or key not in allowed or not value.strip():
            raise argparse.ArgumentTypeError(
                f"{option} expects {','.join(f'{name}=VALUE' for name in allowed)}, not {text!r}"
            )
        pairs[key] = value.strip()
    return pairs
