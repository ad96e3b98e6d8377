"""What any installation of naas must do: load the bundled plugins, bootstrap, get me a network.

Small on purpose: ``.ci/run`` also runs this module, from outside the checkout so
that the installed distribution is what gets imported, in a second environment
where every requirement sits at the lowest version ``setup.cfg`` declares. A
floor that is too low fails here.
"""

from __future__ import annotations

import json
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oslo_config import cfg

import naas
from naas.context import admin_context
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin
from naas_plugins.sql.testing import require_backend, temporary_database

COMMAND = Path(sysconfig.get_path("scripts")) / "naas"


def parse_config(path: Path, text: str) -> cfg.ConfigOpts:
    path.write_text(text)
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(path)], default_config_files=[], default_config_dirs=[], use_env=False)
    return conf


def run_naas(config: Path, *args: str) -> Any:
    """Run the installed ``naas`` command and return what it printed as JSON."""
    completed = subprocess.run(
        [str(COMMAND), "--config-file", str(config), *args, "-f", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


@pytest.mark.parametrize(
    ("alias", "core_class", "l3_class"),
    [("memory", MemoryCorePlugin, MemoryL3Plugin), ("sql", SqlCorePlugin, SqlL3Plugin)],
)
def test_the_bundled_plugins_load_by_their_alias(
    tmp_path: Path, alias: str, core_class: type[naas.CorePlugin], l3_class: type[naas.L3Plugin]
) -> None:
    conf = parse_config(
        tmp_path / "naas.conf", f"[DEFAULT]\ncore_plugin = {alias}\nl3_plugin = {alias}\nstate_path = {tmp_path}\n"
    )

    plugins = naas.load_plugins(conf)
    try:
        assert type(plugins.core) is core_class
        assert type(plugins.l3) is l3_class
        assert plugins.core.get_networks(admin_context()) == []
    finally:
        plugins.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database of each backend the smoke test covers; PostgreSQL is skipped when absent."""
    with temporary_database(require_backend(request.param), prefix="naas_smoke") as url:
        yield url


def test_bootstrap_then_get_me_a_network(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "naas.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n\n[database]\nconnection = {database_url}\n")

    defaults = run_naas(config, "bootstrap")
    first = run_naas(config, "network", "auto", "allocated", "topology", "create", "--project", "demo")
    again = run_naas(config, "network", "auto", "allocated", "topology", "create", "--project", "demo")

    assert first["external_network_id"] in json.dumps(defaults)  # the network bootstrap made is the one used
    assert first == again
    assert first["project_id"] == "demo"
    plugins = naas.load_plugins(parse_config(tmp_path / "library.conf", config.read_text()))
    try:
        admin = admin_context()
        network = plugins.core.get_network(admin, first["id"])
        (router,) = plugins.l3.get_routers(admin, {"project_id": "demo"})
        assert network.project_id == "demo"
        subnets = plugins.core.get_subnets(admin, {"network_id": network.id})
        assert sorted(str(subnet.cidr) for subnet in subnets) == sorted(first["cidrs"])
        assert router.external_gateway_info is not None
        assert router.external_gateway_info.network_id == first["external_network_id"]
    finally:
        plugins.close()
