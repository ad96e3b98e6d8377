"""``naas topology show``: the tree and the Graphviz graph."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from naas.cli.topology import ProjectTopology, render_dot
from naas.resources import Network
from tests.cli.conftest import Run

requires_graphviz = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed (Debian/Ubuntu package: graphviz)"
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def ok(cli: Run, *args: str) -> Any:
    result = cli(*args, "-f", "json")
    assert result.returncode == 0, result
    return json.loads(result.stdout)


@pytest.fixture
def project(cli: Run) -> dict[str, Any]:
    """Project demo: its auto-allocated topology, a second routed network with an instance, an isolated network."""
    assert cli("bootstrap").returncode == 0
    ids: dict[str, Any] = {
        "topology": ok(cli, "network", "auto", "allocated", "topology", "create", "--project", "demo")
    }
    ids["lab"] = ok(cli, "network", "create", "lab", "--project", "demo")
    ids["lab-subnet"] = ok(
        cli,
        "subnet",
        "create",
        "lab-subnet",
        "--network",
        "lab",
        "--subnet-range",
        "192.168.7.0/24",
        "--project",
        "demo",
    )
    ids["vm"] = ok(
        cli, "port", "create", "vm", "--network", "lab", "--project", "demo", "--device-owner", "compute:nova"
    )
    ids["inner"] = ok(cli, "router", "create", "inner", "--project", "demo")
    assert cli("router", "add", "subnet", "inner", "lab-subnet").returncode == 0
    ids["quiet"] = ok(cli, "network", "create", "quiet", "--project", "demo")
    ids["subnets"] = {row["Name"]: row["ID"] for row in ok(cli, "subnet", "list", "--project", "demo")}
    return ids


def test_tree(cli: Run, project: dict[str, Any]) -> None:
    topology = project["topology"]
    subnets = project["subnets"]

    result = cli("topology", "show", "--project", "demo")

    assert result.returncode == 0, result
    assert result.stdout.splitlines() == [
        "project demo",
        f"├── external network public ({topology['external_network_id']}): default, 203.0.113.0/24",
        f"│   └── router auto_allocated_router ({topology['router_id']}): gateway 203.0.113.2",
        f"│       └── network auto_allocated_network ({topology['id']})",
        f"│           ├── subnet auto_allocated_subnet_v4 ({subnets['auto_allocated_subnet_v4']}): "
        "10.0.0.0/26, router at 10.0.0.1",
        f"│           └── subnet auto_allocated_subnet_v6 ({subnets['auto_allocated_subnet_v6']}): "
        "fd00::/64, router at fd00::1",
        f"├── router inner ({project['inner']['id']})",
        f"│   └── network lab ({project['lab']['id']})",
        f"│       ├── subnet lab-subnet ({subnets['lab-subnet']}): 192.168.7.0/24, router at 192.168.7.1",
        f"│       └── port vm ({project['vm']['id']}): 192.168.7.2",
        f"└── network quiet ({project['quiet']['id']})",
    ]


def test_tree_of_an_empty_project(cli: Run) -> None:
    result = cli("topology", "show", "--project", "nobody")

    assert result.stdout == "project nobody\n└── (no networks or routers)\n"


def test_dot_names_every_resource_and_connection(cli: Run, project: dict[str, Any]) -> None:
    topology = project["topology"]

    result = cli("topology", "show", "--project", "demo", "--dot")

    assert result.returncode == 0, result
    dot = result.stdout
    assert dot.startswith('digraph "naas topology of project demo" {\n') and dot.endswith("}\n")
    external, router, network = topology["external_network_id"], topology["router_id"], topology["id"]
    assert f'"network:{external}" -> "router:{router}" [label="203.0.113.2"];' in dot
    assert f'"router:{router}" -> "network:{network}" [label="10.0.0.1\\nfd00::1"];' in dot
    assert f'"network:{project["lab"]["id"]}" -> "port:{project["vm"]["id"]}";' in dot
    assert f'"network:{project["quiet"]["id"]}" [shape=box, style="rounded", label="quiet"];' in dot


@requires_graphviz
def test_dot_renders_to_png(cli: Run, project: dict[str, Any], tmp_path: Path) -> None:
    dot = cli("topology", "show", "--project", "demo", "--dot").stdout
    picture = tmp_path / "demo.png"

    subprocess.run(["dot", "-Tpng", "-o", str(picture)], input=dot, text=True, check=True, capture_output=True)

    assert picture.read_bytes().startswith(PNG_SIGNATURE)


def _network(name: str) -> Network:
    return Network(
        id="6d1b5d4e-0000-4000-8000-000000000001",
        project_id='p"1',
        name=name,
        admin_state_up=True,
        shared=False,
        router_external=False,
        is_default=False,
        mtu=1500,
        status="ACTIVE",
        subnets=(),
    )


@requires_graphviz
def test_dot_quotes_names_graphviz_would_misread(tmp_path: Path) -> None:
    name = 'say "hi" \\ {x} -> y;'
    topology = ProjectTopology('p"1', (_network(name),), (), (), (), ())

    dot = render_dot(topology)

    assert 'label="say \\"hi\\" \\\\ {x} -> y;"' in dot
    rendered = subprocess.run(["dot", "-Tplain"], input=dot, text=True, check=True, capture_output=True).stdout
    assert 'say "hi"' in rendered.replace('\\"', '"')
