"""Every failure is one line on stderr and a non-zero exit status, never a traceback unless --debug."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from naas.cli.errors import describe_error
from naas.exceptions import BadRequest, PluginLoadError
from tests.cli.conftest import Result, Run, requires_sql, write_config

UNREACHABLE_URLS = {
    # oslo.db does not recognise libpq's wording: SQLAlchemy's own error reaches the command.
    "postgresql": "postgresql+psycopg2://nobody:secret@127.0.0.1:1/naas",
    # oslo.db translates this one into DBConnectionError.
    "mysql": "mysql+pymysql://nobody:secret@127.0.0.1:1/naas",
}


def assert_one_line_error(result: Result, message: str, returncode: int = 1) -> None:
    assert result.returncode == returncode, result
    assert result.error_lines == [message], result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_bad_input_is_the_bad_request_message(naas: Run, memory_config: Path) -> None:
    result = naas(memory_config, "subnet", "pool", "create", "--pool-prefix", "10.0.0.0/33", "pool")

    assert_one_line_error(result, "Invalid subnetpool attribute 'prefixes': '10.0.0.0/33' is not a valid CIDR.")


def test_bad_combination_is_the_bad_request_message(naas: Run, memory_config: Path) -> None:
    result = naas(memory_config, "network", "create", "--default", "lonely")

    assert_one_line_error(
        result,
        "Invalid network attribute 'is_default': only an external network (router:external) can be the default.",
    )


def test_missing_default_is_the_auto_allocation_failure(naas: Run, memory_config: Path) -> None:
    result = naas(memory_config, "network", "auto", "allocated", "topology", "create", "--project", "demo")

    assert_one_line_error(result, "Deployment error: No default router:external network.")


def test_dry_run_names_every_missing_requirement(naas: Run, memory_config: Path) -> None:
    result = naas(
        memory_config, "network", "auto", "allocated", "topology", "create", "--project", "demo", "--check-resources"
    )

    assert_one_line_error(
        result, "Deployment error: No default router:external network; No default subnetpools defined."
    )


def test_wrong_plugin_name_names_namespace_name_and_what_is_installed(naas: Run, tmp_path: Path) -> None:
    config = write_config(tmp_path / "wrong.conf", f"[DEFAULT]\ncore_plugin = nosuch\nstate_path = {tmp_path}\n")

    result = naas(config, "network", "list")

    assert result.returncode == 1
    (line,) = result.error_lines
    assert line.startswith("Cannot load plugin 'nosuch' from namespace 'naas.core_plugins': no such plugin;")
    assert "installed aliases:" in line and "memory" in line and "sql" in line
    assert "Traceback" not in result.stderr


def test_not_found(naas: Run, memory_config: Path) -> None:
    result = naas(memory_config, "network", "show", "nosuch")

    assert_one_line_error(result, "No network with a name or ID of 'nosuch' exists.")


def test_not_found_by_id(naas: Run, memory_config: Path) -> None:
    missing = "3c9f3f52-4d8b-4b8e-9a55-5b2f1f0c1e11"

    result = naas(memory_config, "router", "delete", missing)

    assert_one_line_error(result, f"No router with a name or ID of '{missing}' exists.")


def test_unknown_command(naas: Run, memory_config: Path) -> None:
    result = naas(memory_config, "frobnicate", "everything")

    assert_one_line_error(result, "naas: 'frobnicate everything' is not a naas command. See 'naas --help'.", 2)


def test_missing_config_file(naas: Run, tmp_path: Path) -> None:
    result = naas(tmp_path / "absent.conf", "network", "list")

    assert_one_line_error(result, f"Failed to find some config files: {tmp_path / 'absent.conf'}")


def test_debug_shows_the_traceback(naas: Run, memory_config: Path) -> None:
    result = naas(memory_config, "--debug", "network", "show", "nosuch")

    assert result.returncode == 1
    assert result.error_lines[0] == "No network with a name or ID of 'nosuch' exists."
    assert "Traceback (most recent call last)" in result.stderr
    assert "naas.exceptions.NotFound" in result.stderr


@requires_sql
@pytest.mark.parametrize("backend", sorted(UNREACHABLE_URLS))
@pytest.mark.parametrize("command", [("network", "list"), ("db", "current")])
def test_unreachable_database(naas: Run, tmp_path: Path, backend: str, command: tuple[str, ...]) -> None:
    url = UNREACHABLE_URLS[backend]
    config = write_config(
        tmp_path / "unreachable.conf", f"[DEFAULT]\nstate_path = {tmp_path}\n[database]\nconnection = {url}\n"
    )

    started = time.monotonic()
    result = naas(config, *command)

    assert result.returncode == 1
    (line,) = result.error_lines
    masked = url.replace(":secret", ":***")
    assert line.startswith(f"The database {masked} cannot serve the request: it could not be reached ("), line
    assert "refused" in line
    assert "secret" not in result.stderr
    assert "Traceback" not in result.stderr
    # No retrying for minutes: the command's defaults make one attempt.
    assert time.monotonic() - started < 8


class TestDescribeError:
    """The translation itself, for failures the bundled plugins cannot easily be made to raise."""

    def test_a_connection_failure_oslo_db_did_not_translate(self) -> None:
        from sqlalchemy import exc

        error = exc.OperationalError(None, None, Exception("connection to server failed: Connection refused\nhint"))

        assert describe_error(error, "mysql+pymysql://root:pw@db/naas") == (
            "The database mysql+pymysql://root:***@db/naas cannot serve the request: "
            "it could not be reached (connection to server failed: Connection refused)."
        )

    def test_a_connection_failure_found_along_the_causes(self) -> None:
        from oslo_db import exception as db_exception

        try:
            try:
                raise db_exception.DBConnectionError(Exception("timed out"))
            except db_exception.DBConnectionError as error:
                raise PluginLoadError("naas.core_plugins", "sql", f"building it failed: {error!r}") from error
        except PluginLoadError as wrapped:
            assert (
                describe_error(wrapped) == "The database cannot serve the request: it could not be reached (timed out)."
            )

    def test_a_failed_statement_is_a_database_error_not_an_outage(self) -> None:
        from oslo_db import exception as db_exception
        from sqlalchemy import exc

        inner = exc.OperationalError("SELECT 1", {}, Exception("database is locked"))

        assert describe_error(db_exception.DBError(inner)) == "Database error: database is locked"

    def test_a_bug_names_its_type_and_how_to_see_more(self) -> None:
        assert describe_error(KeyError("x")) == "KeyError: 'x' (run with --debug for the traceback)"

    def test_messages_are_kept_on_one_line(self) -> None:
        assert describe_error(BadRequest("port", "name", "is\nwrong")) == "Invalid port attribute 'name': is wrong."
