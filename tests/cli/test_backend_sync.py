"""``naas backend sync``: a change whose postcommit failed stays stored, in ERROR, until a sync realizes it.

The failure happens in one process (an application using the library with a
backend that fails), the sync in another (an operator's ``naas backend sync``
on the same state directory), as they would in a deployment.
"""

from __future__ import annotations

import json
from pathlib import Path

from naas.backends import BackendChain
from naas.context import admin_context
from naas.testing.backends import RecordingBackend
from naas_plugins.sql import SqlCorePlugin
from naas_plugins.sql.database import sqlite_url_for_state_path
from tests.cli.conftest import Run, requires_sql, write_config

pytestmark = requires_sql

RECORDING = "naas.testing.backends:RecordingBackend"


def test_a_network_left_in_error_is_active_again_after_a_sync(naas: Run, tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = write_config(tmp_path / "naas.conf", f"[DEFAULT]\nstate_path = {state}\nbackends = {RECORDING}\n")
    assert naas(config, "bootstrap").returncode == 0
    failing = RecordingBackend()
    core = SqlCorePlugin(sqlite_url_for_state_path(str(state)), backends=BackendChain({"recording": failing}))
    try:
        network = core.create_network(admin_context(), {"name": "before"})
        failing.fail_postcommit(network.id)
        updated = core.update_network(admin_context(), network.id, {"name": "after"})
    finally:
        core.close()
    assert (updated.name, updated.status) == ("after", "ERROR")

    shown = json.loads(naas(config, "network", "show", network.id, "-f", "json").stdout)
    assert (shown["name"], shown["status"]) == ("after", "ERROR")

    report = naas(config, "backend", "sync", "--report", "-f", "json")
    assert report.returncode == 0, report
    # The operator's process holds a new, empty recording dataplane: everything stored needs creating.
    assert {"network", network.id, "created"} <= {value for row in json.loads(report.stdout) for value in row.values()}
    shown = json.loads(naas(config, "network", "show", network.id, "-f", "json").stdout)
    assert shown["status"] == "ERROR"  # reporting repairs nothing

    synced = naas(config, "backend", "sync", "-f", "json")
    assert synced.returncode == 0, synced
    assert network.id in [row["Resource ID"] for row in json.loads(synced.stdout)]
    shown = json.loads(naas(config, "network", "show", network.id, "-f", "json").stdout)
    assert (shown["name"], shown["status"]) == ("after", "ACTIVE")


def test_without_backends_there_is_nothing_to_sync(naas: Run, sql_config: Path) -> None:
    result = naas(sql_config, "backend", "sync")

    assert result.returncode == 1
    assert result.error_lines == ["no network backend is configured ([DEFAULT] backends is empty): nothing to sync"]
