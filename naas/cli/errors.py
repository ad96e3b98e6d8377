"""Failures, as one line an operator can act on.

The command line never shows a traceback unless asked (``--debug``): every
error a command meets is reduced here to one line. A database that cannot serve
(:class:`~naas.exceptions.ServiceUnavailable`, which names the database and what
is wrong with it) and other database errors are looked for first along the chain
of causes, because the loader wraps an outage at start-up in a
:class:`~naas.exceptions.PluginLoadError` whose own message would bury it.
"""

from __future__ import annotations

from collections.abc import Iterator

from oslo_config import cfg
from oslo_db import exception as db_exception

from naas.cli.output import escape_text
from naas.exceptions import NaasError, ServiceUnavailable

__all__ = ["CommandError", "UsageError", "describe_error", "masked_url", "one_line"]


class CommandError(Exception):
    """A failure of the command line itself (an ambiguous name, a missing feature), already worded for the user."""


class UsageError(CommandError):
    """A mistake in the command line that argparse could not see (``-c`` naming no column): exit status 2."""


def one_line(text: str) -> str:
    """``text`` with its lines joined and non-printable characters escaped: a message is one harmless line.

    Messages quote what users and tenants typed (a name in ``NotFound``), which may hold a terminal escape.
    """
    return escape_text(" ".join(line.strip() for line in text.splitlines() if line.strip()))


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _database_reason(error: BaseException) -> str:
    # oslo.db wraps SQLAlchemy's error, which wraps the driver's: the driver says what happened.
    inner: object = getattr(error, "inner_exception", None) or error
    driver_error = getattr(inner, "orig", None) or inner
    lines = str(driver_error).strip().splitlines()
    return lines[0].strip() if lines else type(driver_error).__name__


def masked_url(url: str) -> str:
    """``url`` with its password hidden, for messages and output."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the configured database"


def _is_connection_failure(error: BaseException) -> bool:
    if isinstance(error, db_exception.DBConnectionError):
        return True
    # oslo.db translates connection failures by matching the drivers' messages, and misses some
    # (libpq 14 and later word them differently): an OperationalError raised before any statement
    # ran is a failure to connect.
    from sqlalchemy import exc as sqlalchemy_exception

    return isinstance(error, sqlalchemy_exception.OperationalError) and error.statement is None


def describe_error(error: BaseException, database_url: str | None = None) -> str:
    """One line saying what went wrong; ``database_url`` names the database in connection errors."""
    causes = list(_causes(error))
    for cause in causes:
        if isinstance(cause, ServiceUnavailable):
            return one_line(str(cause))
    for cause in causes:
        if _is_connection_failure(cause):
            # Worded as the sql plugins' ServiceUnavailable, for errors met outside them (naas db ...).
            where = f"database {masked_url(database_url)}" if database_url else "database"
            reason = _database_reason(cause)
            return one_line(f"The {where} cannot serve the request: it could not be reached ({reason}).")
    if isinstance(error, (NaasError, CommandError, cfg.Error)):
        return one_line(str(error))
    for cause in causes:
        if isinstance(cause, db_exception.DBError):
            return one_line(f"Database error: {_database_reason(cause)}")
    # A bug, not a user's mistake: name its type, and say how to see where it happened.
    return one_line(f"{type(error).__name__}: {error} (run with --debug for the traceback)")
