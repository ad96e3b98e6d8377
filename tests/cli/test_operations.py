"""Operating ``naas`` as oslo services are operated, each case a new process as an operator runs it.

Commands from other distributions, suggestions for a mistyped command,
logging through oslo.log from ``naas.conf``, warnings for mistyped options,
``naas db`` with revisions, history, stamp and offline SQL, ``auto_migrate``,
and bootstrap's bounded pools from ``[bootstrap]``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.conftest import Run, requires_sql, write_config

FIXTURE_DISTRIBUTION = Path(__file__).resolve().parent / "fixture_distribution"


def test_an_installed_distribution_adds_a_subcommand(naas: Run, memory_config: Path) -> None:
    installed = {"PYTHONPATH": str(FIXTURE_DISTRIBUTION)}

    counted = naas(memory_config, "fixture", "network", "count", "-f", "json", extra_env=installed)
    listed = naas(memory_config, "--help", extra_env=installed)
    without = naas(memory_config, "fixture", "network", "count")

    assert (counted.returncode, counted.stderr) == (0, ""), counted
    assert json.loads(counted.stdout) == {"networks": 0}
    assert "fixture network count" in listed.stdout
    assert "Count the networks" in listed.stdout
    assert without.returncode == 2  # not installed there: not a command


def test_an_unknown_command_suggests_the_nearest(naas: Run, memory_config: Path) -> None:
    typo = naas(memory_config, "netwrk", "list")
    partial = naas(memory_config, "subnet", "pool")

    assert typo.returncode == partial.returncode == 2
    assert typo.error_lines == [
        "naas: 'netwrk list' is not a naas command. Did you mean 'network list'? See 'naas --help'."
    ]
    assert partial.error_lines == [
        "naas: 'subnet pool' is not a naas command. Did you mean 'subnet pool create', 'subnet pool delete', "
        "'subnet pool list', 'subnet pool set', 'subnet pool show'? See 'naas --help'."
    ]


def test_a_mistyped_option_is_warned_about_naming_file_section_and_option(naas: Run, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "typo.conf",
        f"[DEFAULT]\ncore_plugin = memory\nl3_plugin = memory\nstate_path = {tmp_path}\nobservers_list = audit\n"
        "[bootstrap]\nv4_quoat = 10\n[bootstarp]\nipv6 = false\n",
    )

    result = naas(config, "network", "list", "-f", "json")

    assert (result.returncode, json.loads(result.stdout)) == (0, [])
    assert result.error_lines == [
        f"{config}: [DEFAULT] observers_list is not a known option (mistyped?)",
        f"{config}: [bootstrap] v4_quoat is not a known option (mistyped?)",
        f"{config}: section [bootstarp] is not used by naas or its loaded plugins",
    ]


def test_logging_to_a_file_with_debug_from_the_configuration(naas: Run, tmp_path: Path) -> None:
    log_file = tmp_path / "naas.log"
    config = write_config(
        tmp_path / "logging.conf",
        f"[DEFAULT]\ncore_plugin = memory\nl3_plugin = memory\ndebug = true\nlog_file = {log_file}\n",
    )

    result = naas(config, "bootstrap", "-f", "value", "-c", "Name")

    assert result.returncode == 0, result
    logged = log_file.read_text()
    # oslo.log's format: the level, the logger, the message; debug = true lets the plugins' DEBUG lines in.
    assert " INFO naas.bootstrap [-] Created default external network " in logged
    assert f" DEBUG naas.cli [-] Configuration read from: {config}" in logged
    # The console is the command's own: debug = true shows everything there too.
    assert any("Created default external network" in line for line in result.error_lines)


def test_log_file_flag_overrides_and_info_is_the_default_level(naas: Run, tmp_path: Path) -> None:
    configured, flagged = tmp_path / "configured.log", tmp_path / "flagged.log"
    config = write_config(
        tmp_path / "logging.conf", f"[DEFAULT]\ncore_plugin = memory\nl3_plugin = memory\nlog_file = {configured}\n"
    )

    result = naas(config, "--log-file", str(flagged), "bootstrap")

    assert result.returncode == 0, result
    assert not configured.exists()
    logged = flagged.read_text()
    assert "Created default external network" in logged and " DEBUG " not in logged
    assert [line for line in result.error_lines if line.startswith("Created network public")]  # the console's own


def test_log_config_append_hands_logging_to_a_logging_config_file(naas: Run, tmp_path: Path) -> None:
    log_file = tmp_path / "custom.log"
    logging_ini = write_config(
        tmp_path / "logging.ini",
        "[loggers]\nkeys = root\n[handlers]\nkeys = file\n[formatters]\nkeys = plain\n"
        "[logger_root]\nlevel = INFO\nhandlers = file\n"
        f"[handler_file]\nclass = FileHandler\nformatter = plain\nargs = ({str(log_file)!r},)\n"
        "[formatter_plain]\nformat = CUSTOM %(name)s: %(message)s\n",
    )
    config = write_config(
        tmp_path / "naas.conf",
        f"[DEFAULT]\ncore_plugin = memory\nl3_plugin = memory\nlog_config_append = {logging_ini}\n",
    )

    result = naas(config, "bootstrap")

    assert result.returncode == 0, result
    assert "CUSTOM naas.bootstrap: Created default external network" in log_file.read_text()


@requires_sql
def test_db_upgrade_to_a_revision_history_and_stamp(naas: Run, sql_config: Path) -> None:
    history = json.loads(naas(sql_config, "db", "history", "-f", "json").stdout)
    (first, *_) = reversed(history)
    head = history[0]["Revision"]

    upgraded = json.loads(naas(sql_config, "db", "upgrade", first["Revision"], "-f", "json").stdout)
    stamped = json.loads(naas(sql_config, "db", "stamp", "base", "-f", "json").stdout)
    restamped = json.loads(naas(sql_config, "db", "stamp", "head", "-f", "json").stdout)
    unknown = naas(sql_config, "db", "upgrade", "nosuch")

    assert first["Down Revision"] is None and history[0]["Head"] is True
    assert upgraded["current_revision"] == first["Revision"]
    assert stamped["current_revision"] is None
    assert restamped["current_revision"] == head
    assert unknown.returncode == 1 and len(unknown.error_lines) == 1
    assert "nosuch" in unknown.error_lines[0]


@requires_sql
def test_db_upgrade_sql_prints_the_migration_and_touches_nothing(naas: Run, sql_config: Path, tmp_path: Path) -> None:
    offline = naas(sql_config, "db", "upgrade", "--sql")
    stamp = naas(sql_config, "db", "stamp", "head", "--sql")

    assert offline.returncode == 0, offline
    assert "CREATE TABLE networks" in offline.stdout
    assert "INSERT INTO alembic_version" in offline.stdout
    assert "UPDATE alembic_version" in stamp.stdout or "INSERT INTO alembic_version" in stamp.stdout
    database = tmp_path / "state" / "naas.sqlite"
    tables = sqlite3.connect(database).execute("SELECT name FROM sqlite_master").fetchall() if database.exists() else []
    assert tables == []


@requires_sql
def test_auto_migrate_off_refuses_an_old_database_until_db_upgrade(naas: Run, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "manual.conf", f"[DEFAULT]\nstate_path = {tmp_path}\n[database]\nauto_migrate = false\n"
    )

    refused = naas(config, "network", "list")
    upgraded = naas(config, "db", "upgrade")
    listed = naas(config, "network", "list", "-f", "json")

    assert refused.returncode == 1
    (line,) = refused.error_lines
    assert "without a naas schema" in line and "naas db upgrade" in line
    assert upgraded.returncode == 0
    assert (listed.returncode, json.loads(listed.stdout)) == (0, [])


def test_bootstrap_pool_bounds_and_quotas_from_the_configuration(naas: Run, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "bounded.conf",
        "[DEFAULT]\ncore_plugin = memory\nl3_plugin = memory\n[bootstrap]\n"
        "v4_min_prefixlen = 24\nv4_max_prefixlen = 28\nv4_quota = 256\n"
        "v6_min_prefixlen = 62\nv6_max_prefixlen = 80\nv6_quota = 4\n",
    )

    result = naas(config, "bootstrap", "-f", "json", "--v4-quota", "512")

    assert result.returncode == 0, result
    pools = [row["Details"] for row in json.loads(result.stdout) if row["Resource"] == "subnet pool"]
    assert pools == [
        "10.0.0.0/8, /26 per project, /24 to /28 per request, quota 512 addresses per project",
        "fd00::/48, /64 per project, /62 to /80 per request, quota 4 /64s per project",
    ]
