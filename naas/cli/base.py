"""Base classes and helpers every ``naas`` command shares.

Each command class derives from one of :class:`NaasCommand`,
:class:`NaasLister` or :class:`NaasShowOne`: they reach the
:class:`~naas.cli.session.Session` of the running application and turn any
failure into one :class:`~naas.cli.errors.CommandError` line, which cliff
prints on stderr (with the traceback only under ``--debug``).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn, TextIO

from cliff import command, lister, show
from cliff.columns import FormattableColumn

from naas.cli.errors import CommandError, describe_error
from naas.cli.session import Session

__all__ = [
    "NaasCommand",
    "NaasLister",
    "NaasShowOne",
    "add_project_option",
    "displayed",
    "parse_key_values",
    "show_dict",
]


class NaasCommand(command.Command):
    """A command that runs in the naas application; its failures are one line."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        # argparse prints the whole usage before a usage error; one line and a pointer to --help is enough.
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
        except CommandError:
            raise
        except Exception as error:
            session = getattr(self.app, "session", None)
            database_url = session.loaded_database_url() if isinstance(session, Session) else None
            raise CommandError(describe_error(error, database_url)) from error


def _usage_error(parser: argparse.ArgumentParser, stderr: TextIO, message: str) -> NoReturn:
    stderr.write(f"{parser.prog}: error: {message} (see '{parser.prog} --help')\n")
    raise SystemExit(2)


class NaasLister(NaasCommand, lister.Lister):
    """A command printing rows (``-f table|json|yaml|value|csv``, ``-c COLUMN``)."""


class NaasShowOne(NaasCommand, show.ShowOne):
    """A command printing one record (``-f table|json|yaml|value|shell``, ``-c COLUMN``)."""


def add_project_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--project", metavar="PROJECT", help=help_text)


def _human(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return ", ".join(f"{key}='{_human(item)}'" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        separator = "\n" if any(isinstance(item, Mapping) for item in value) else ", "
        return separator.join(_human(item) for item in value)
    return str(value)


class StructuredColumn(FormattableColumn[Any]):
    """A list or mapping: readable text in a table, the structure itself in JSON and YAML."""

    def human_readable(self) -> str:
        return _human(self._value)


def displayed(value: Any) -> Any:
    """``value`` ready for a cliff formatter."""
    if isinstance(value, (list, tuple, Mapping)):
        return StructuredColumn(value)
    return value


def show_dict(body: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """A ShowOne result from a wire-form dict, keys sorted as the openstack client sorts them."""
    keys = tuple(sorted(body))
    return keys, tuple(displayed(body[key]) for key in keys)


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
