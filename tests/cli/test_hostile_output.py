"""Finding 21: tenants' names with terminal escapes and newlines are printed escaped, in every output.

The library refuses such names now (issue 9, item 7), so the test writes them
behind the rules, straight into storage, as a database written by an older
naas or by hand would hold them; the command, run in a new process as an
operator would, must still print them harmlessly. JSON and YAML keep the real
string: their encoding escapes it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from naas.context import RequestContext, admin_context
from naas.loading import load_plugins
from naas.storage import Transaction
from tests.cli.conftest import Result, Run, requires_sql, write_config

pytestmark = requires_sql

HOSTILE = "evil\x1b[2J\x1b[31m\r\n└── router forged\u202e\x07"
ESCAPED = "evil\\x1b[2J\\x1b[31m\\r\\n└── router forged\\u202e\\x07"


def assert_harmless(result: Result) -> None:
    assert result.returncode == 0, result
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream and "\r" not in stream


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A project whose network, subnet, port and router carry the hostile name."""
    config = write_config(tmp_path / "sql.conf", f"[DEFAULT]\nstate_path = {tmp_path / 'state'}\n")
    from naas.cli.session import load_config

    plugins = load_plugins(load_config([str(config)]))
    try:
        tenant = RequestContext("tenant")
        network = plugins.core.create_network(tenant, {})
        subnet = plugins.core.create_subnet(tenant, {"network_id": network.id, "cidr": "10.1.0.0/24"})
        port = plugins.core.create_port(tenant, {"network_id": network.id, "device_owner": "compute:nova"})
        router = plugins.l3.create_router(tenant, {})
        plugins.l3.add_router_interface(tenant, router.id, {"subnet_id": subnet.id})
        renamed = [plugins.core.get_network(tenant, network.id), plugins.core.get_subnet(tenant, subnet.id)]
        renamed += [plugins.core.get_port(tenant, port.id), plugins.l3.get_router(tenant, router.id)]

        def rename(tx: Transaction) -> None:
            for resource in renamed:
                getattr(tx, f"update_{resource.RESOURCE}")(dataclasses.replace(resource, name=HOSTILE))

        plugins.core.storage.run(rename)  # type: ignore[attr-defined]
        assert plugins.core.get_networks(admin_context())[0].name == HOSTILE
    finally:
        plugins.close()
    return config


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ((), ESCAPED),
        (("-f", "value"), ESCAPED),
        (("-f", "csv"), ESCAPED.replace("\\", "\\\\")),  # CSV escapes the escapes' backslashes once more
        (("--long",), ESCAPED),
    ],
    ids=["table", "value", "csv", "long"],
)
def test_lists_escape_names(naas: Run, config: Path, output: tuple[str, ...], expected: str) -> None:
    result = naas(config, "network", "list", *output)

    assert_harmless(result)
    assert expected in result.stdout


@pytest.mark.parametrize("output", [(), ("-f", "shell"), ("-f", "value")], ids=["table", "shell", "value"])
def test_show_escapes_names(naas: Run, config: Path, output: tuple[str, ...]) -> None:
    listed = json.loads(naas(config, "router", "list", "-f", "json").stdout)

    result = naas(config, "router", "show", listed[0]["ID"], *output)

    assert_harmless(result)
    assert ESCAPED in result.stdout


def test_json_keeps_the_real_name(naas: Run, config: Path) -> None:
    result = naas(config, "port", "list", "--device-owner", "compute:nova", "-f", "json")

    assert_harmless(result)
    assert [row["Name"] for row in json.loads(result.stdout)] == [HOSTILE]


def test_topology_tree_and_dot_escape_names(naas: Run, config: Path) -> None:
    tree = naas(config, "topology", "show", "--project", "tenant")
    dot = naas(config, "topology", "show", "--project", "tenant", "--dot")

    assert_harmless(tree)
    assert_harmless(dot)
    # The forged tree line stays inside the router's own line.
    assert [line for line in tree.stdout.splitlines() if "router forged" in line] == [
        line for line in tree.stdout.splitlines() if ESCAPED in line
    ]
    assert len([line for line in tree.stdout.splitlines() if ESCAPED in line]) == 4  # router, network, subnet, port
    assert ESCAPED.replace("\\", "\\\\") in dot.stdout


def test_errors_quoting_a_name_escape_it(naas: Run, config: Path) -> None:
    result = naas(config, "network", "show", "x\x1b[2Jy")

    assert result.returncode == 1
    # The library refuses the name as a filter, and says so without echoing the escape.
    assert result.error_lines == [
        "Invalid network attribute 'name': a value holds the control character U+001B at position 1."
    ]
    assert "\x1b" not in result.stderr
