"""``network auto allocated topology create`` and ``delete``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from naas.context import admin_context
from naas.loading import Plugins
from tests.cli.conftest import Run

CREATE = ("network", "auto", "allocated", "topology", "create")
DELETE = ("network", "auto", "allocated", "topology", "delete")


def topology(cli: Run, *args: str) -> dict[str, Any]:
    result = cli(*CREATE, *args, "-f", "json")
    assert result.returncode == 0, result
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


@pytest.fixture
def bootstrapped(cli: Run) -> None:
    assert cli("bootstrap").returncode == 0


@pytest.mark.usefixtures("bootstrapped")
def test_create_shows_the_topology_with_id_and_project_first(cli: Run, plugins: Plugins) -> None:
    shown = topology(cli, "--project", "demo")

    assert list(shown)[:2] == ["id", "project_id"]
    admin = admin_context()
    network = plugins.core.get_network(admin, shown["id"])
    (router,) = plugins.l3.get_routers(admin, {"project_id": "demo"})
    (external,) = plugins.core.get_networks(admin, {"router:external": True})
    assert router.external_gateway_info is not None
    assert shown == {
        "id": network.id,
        "project_id": "demo",
        "network_name": "auto_allocated_network",
        "cidrs": ["10.0.0.0/26", "fd00::/64"],
        "router_id": router.id,
        "external_network_id": external.id,
        "external_gateway_ips": [str(router.external_gateway_info.external_fixed_ips[0].ip_address)],
    }


@pytest.mark.usefixtures("bootstrapped")
def test_create_again_prints_the_same_table(cli: Run) -> None:
    first = cli(*CREATE, "--project", "demo")
    second = cli(*CREATE, "--project", "demo", "--or-show")

    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    assert first.stdout.splitlines()[3].split("|")[1].strip() == "id"


@pytest.mark.usefixtures("bootstrapped")
def test_without_project_the_topology_is_the_admin_projects(cli: Run) -> None:
    assert topology(cli)["project_id"] == "admin"


@pytest.mark.usefixtures("bootstrapped")
def test_check_resources_builds_nothing(cli: Run, plugins: Plugins) -> None:
    assert topology(cli, "--project", "demo", "--check-resources") == {"id": "dry-run=pass", "project_id": "demo"}
    assert plugins.l3.get_routers(admin_context()) == []


@pytest.mark.usefixtures("bootstrapped")
def test_delete_removes_the_topology(cli: Run, plugins: Plugins) -> None:
    first = topology(cli, "--project", "demo")

    result = cli(*DELETE, "--project", "demo")

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    admin = admin_context()
    assert plugins.core.get_networks(admin, {"project_id": "demo"}) == []
    assert plugins.l3.get_routers(admin) == []
    assert topology(cli, "--project", "demo")["id"] != first["id"]


@pytest.mark.usefixtures("bootstrapped")
def test_delete_refuses_while_an_instance_uses_the_network(cli: Run, plugins: Plugins) -> None:
    shown = topology(cli, "--project", "demo")
    port = json.loads(cli("port", "create", "vm", "--network", shown["id"], "--project", "demo", "-f", "json").stdout)

    result = cli(*DELETE, "--project", "demo")

    assert result.returncode == 1
    assert result.error_lines == [f"network {shown['id']} is in use by ports: {port['id']}."]
    assert plugins.core.get_network(admin_context(), shown["id"])


def test_delete_without_a_topology_does_nothing(cli: Run) -> None:
    result = cli(*DELETE, "--project", "nobody")

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.usefixtures("bootstrapped")
@pytest.mark.parametrize("command", [CREATE, DELETE])
def test_project_none_is_a_usage_error_not_the_admin_project(
    cli: Run, plugins: Plugins, command: tuple[str, ...]
) -> None:
    """Finding 20: the library reads "None" as the caller's project (Neutron's clients send it); an operator
    typing it meant some project, not the admin one."""
    result = cli(*command, "--project", "None")

    assert result.returncode == 2
    assert "--project: 'None' names no project" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # argparse's usage line and the error, no traceback
    assert plugins.l3.get_routers(admin_context()) == []
