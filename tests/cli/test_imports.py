"""Imports run one way: the library never pulls in the command line, the command line never the sql plugins.

Each check imports a module in a fresh interpreter and reads ``sys.modules``
there, so what this process already imported cannot hide a wrong direction.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def modules_after_importing(*modules: str, then: str = "") -> set[str]:
    """The modules loaded after importing ``modules`` and running ``then``, in a new interpreter."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        f"{then}\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(completed.stdout))


def under(package: str, modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name == package or name.startswith(package + "."))


@pytest.mark.parametrize(
    ("library_module", "then"),
    [
        # What oslo-config-generator does: import the module, call list_opts.
        ("naas.opts", "sys.modules['naas.opts'].list_opts()"),
        ("naas.bootstrap", ""),
        ("naas", ""),
    ],
)
def test_the_library_imports_no_command_line(library_module: str, then: str) -> None:
    loaded = modules_after_importing(library_module, then=then)

    assert under("naas.cli", loaded) == []
    assert under("cliff", loaded) == []


def test_the_command_line_imports_no_bundled_plugin() -> None:
    every_cli_module = [
        "naas.cli.main",
        "naas.cli.auto_allocate",
        "naas.cli.bootstrap",
        "naas.cli.core",
        "naas.cli.l3",
        "naas.cli.topology",
    ]

    loaded = modules_after_importing(*every_cli_module)

    assert set(every_cli_module) <= loaded  # the check saw what it meant to
    assert under("naas_plugins", loaded) == []


def test_the_bundled_sql_commands_reach_the_command_line_through_its_namespace() -> None:
    from cliff.commandmanager import CommandManager

    from naas.cli.main import COMMAND_NAMESPACE

    registered = {name: entry_point.value for name, entry_point in CommandManager(COMMAND_NAMESPACE)}

    assert registered["db upgrade"] == "naas_plugins.sql.commands:Upgrade"
    assert registered["bootstrap"] == "naas.cli.bootstrap:Bootstrap"
