"""The ``naas`` command as a user runs it: a new process per command, state kept in the SQLite default."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cliff.commandmanager import CommandManager

from naas.cli.main import COMMAND_NAMESPACE
from tests.cli.conftest import Run, requires_sql

TOPOLOGY_CREATE = ("network", "auto", "allocated", "topology", "create")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_help_lists_every_command(naas: Run, memory_config: Path) -> None:
    result = naas(memory_config, "--help")

    assert result.returncode == 0, result
    names = [name for name, _ in CommandManager(COMMAND_NAMESPACE)]
    assert len(names) > 40
    for name in names:
        assert name in result.stdout


def test_command_help(naas: Run, memory_config: Path) -> None:
    result = naas(memory_config, "network", "auto", "allocated", "topology", "create", "--help")

    assert result.returncode == 0, result
    assert "--check-resources" in result.stdout and "--or-show" in result.stdout


def test_json_output_parses(naas: Run, memory_config: Path) -> None:
    result = naas(memory_config, "bootstrap", "-f", "json")

    assert result.returncode == 0, result
    rows = json.loads(result.stdout)
    assert [row["Resource"] for row in rows] == ["network", "subnet", "subnet pool", "subnet pool"]


def test_the_installed_script_runs(naas: Run, memory_config: Path) -> None:
    script = Path(sys.executable).with_name("naas")
    if not script.exists():
        pytest.skip(f"no naas script next to {sys.executable}: naas is not installed in this environment")

    completed = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)

    assert completed.stdout.startswith("naas ")


def test_an_in_process_run_leaves_logging_as_it_found_it(cli: Run) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    cli("network", "show", "nosuch")

    assert (root.handlers, root.level) == (handlers, level)


@requires_sql
def test_bootstrap_then_get_me_a_network_twice_on_a_fresh_state_directory(
    naas: Run, sql_config: Path, tmp_path: Path
) -> None:
    assert not (tmp_path / "state").exists()

    bootstrap = naas(sql_config, "bootstrap")
    first = naas(sql_config, *TOPOLOGY_CREATE, "--project", "demo")
    second = naas(sql_config, *TOPOLOGY_CREATE, "--project", "demo")

    assert bootstrap.returncode == first.returncode == second.returncode == 0, (bootstrap, first, second)
    assert (tmp_path / "state" / "naas.sqlite").exists()
    assert first.stdout == second.stdout
    assert "| project_id           | demo " in first.stdout
    assert "| cidrs                | 10.0.0.0/26, fd00::/64 " in first.stdout
    assert naas(sql_config, "bootstrap").stdout == bootstrap.stdout


@requires_sql
def test_topology_show_on_sql_as_json_tree_and_picture(naas: Run, sql_config: Path, tmp_path: Path) -> None:
    naas(sql_config, "bootstrap")
    shown = json.loads(naas(sql_config, *TOPOLOGY_CREATE, "--project", "demo", "-f", "json").stdout)

    tree = naas(sql_config, "topology", "show", "--project", "demo")
    dot = naas(sql_config, "topology", "show", "--project", "demo", "--dot")

    assert tree.returncode == dot.returncode == 0
    assert f"network auto_allocated_network ({shown['id']})" in tree.stdout
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (Debian/Ubuntu package: graphviz)")
    picture = tmp_path / "demo.png"
    subprocess.run(["dot", "-Tpng", "-o", str(picture)], input=dot.stdout, text=True, check=True)
    assert picture.read_bytes().startswith(PNG_SIGNATURE)


@requires_sql
def test_db_upgrade_and_current(naas: Run, sql_config: Path, tmp_path: Path) -> None:
    before = json.loads(naas(sql_config, "db", "current", "-f", "json").stdout)
    upgraded = json.loads(naas(sql_config, "db", "upgrade", "-f", "json").stdout)
    after = json.loads(naas(sql_config, "db", "current", "-f", "json").stdout)

    assert before["database"] == f"sqlite:///{tmp_path / 'state' / 'naas.sqlite'}"
    assert before["current_revision"] is None
    assert upgraded["current_revision"] == upgraded["head_revision"] == after["current_revision"]
