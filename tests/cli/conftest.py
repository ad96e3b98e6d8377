"""Fixtures for the tests of the ``naas`` command.

Two ways to run it: :func:`naas` starts it as a subprocess, exactly as a user
would (``python -m naas.cli.main``), with ``HOME`` pointing into the test's
temporary directory so nothing touches the user's files; :func:`cli` runs it
in this process on plugins the test holds (the memory plugins, and the sql
plugins on an SQLite file in the test's directory), so a test can chain many
commands over one state quickly and check what they stored.
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from naas.cli.main import NaasApp
from naas.loading import Plugins
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin


def _sql_plugins_available() -> bool:
    try:
        import naas_plugins.sql as sql
    except ImportError:
        return False
    return hasattr(sql, "SqlCorePlugin") and hasattr(sql, "SqlL3Plugin")


requires_sql = pytest.mark.skipif(
    not _sql_plugins_available(), reason="the sql plugins (naas_plugins.sql) are not available yet"
)


@dataclasses.dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


Run = Callable[..., Result]


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def sql_config(tmp_path: Path) -> Path:
    """The default plugins (sql) on an SQLite file in a fresh state directory."""
    return write_config(tmp_path / "sql.conf", f"[DEFAULT]\nstate_path = {tmp_path / 'state'}\n")


@pytest.fixture
def memory_config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "memory.conf",
        f"[DEFAULT]\ncore_plugin = memory\nl3_plugin = memory\nstate_path = {tmp_path / 'state'}\n",
    )


@pytest.fixture
def naas(tmp_path: Path) -> Run:
    """``naas(config, *args, extra_env=None)``: run the command in a new process with that config file."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}

    def run(config: Path | None, *args: str, extra_env: dict[str, str] | None = None) -> Result:
        options = ["--config-file", str(config)] if config is not None else []
        completed = subprocess.run(
            [sys.executable, "-m", "naas.cli.main", *options, *args],
            capture_output=True,
            text=True,
            env={**env, **(extra_env or {})},
            cwd=tmp_path,
            timeout=300,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    return run


@pytest.fixture(params=["memory", pytest.param("sql", marks=requires_sql)])
def plugins(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Plugins]:
    """Fresh plugins of each bundled kind: the commands must behave the same on both."""
    if request.param == "memory":
        memory_core = MemoryCorePlugin()
        yield Plugins(core=memory_core, l3=MemoryL3Plugin(memory_core), events=memory_core.events)
        return
    from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin

    sql_core = SqlCorePlugin(f"sqlite:///{tmp_path / 'cli.sqlite'}")
    try:
        yield Plugins(core=sql_core, l3=SqlL3Plugin(sql_core), events=sql_core.events)
    finally:
        sql_core.close()


@pytest.fixture
def cli(plugins: Plugins, memory_config: Path) -> Run:
    """``cli(*args, config=None)``: run the command in this process on the test's memory plugins."""

    def run(*args: str, config: Path | None = None) -> Result:
        stdout, stderr = io.StringIO(), io.StringIO()
        app = NaasApp(plugin_loader=lambda conf: plugins, stdout=stdout, stderr=stderr)
        try:
            returncode = app.run(["--config-file", str(config or memory_config), *args])
        except SystemExit as usage_error:  # argparse's way out; main() lets the interpreter turn it into the status
            returncode = int(usage_error.code or 0)
        return Result(returncode, stdout.getvalue(), stderr.getvalue())

    return run
