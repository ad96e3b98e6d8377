"""The openstack client's conventions, each option run as a user runs it: a new process per command.

``--share/--no-share``, ``--enable/--disable``, ``--external/--internal``,
``--default/--no-default``, ``--dhcp/--no-dhcp``; ``set`` and ``unset`` for
every resource; ``--long`` with the openstack client's columns. State is kept
in the sql plugins' SQLite file between the processes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Result, Run, requires_sql

pytestmark = requires_sql


class Naas:
    """``naas`` on one configuration, in a new process per command."""

    def __init__(self, naas: Run, config: Path) -> None:
        self.naas, self.config = naas, config

    def __call__(self, *args: str) -> Result:
        return self.naas(self.config, *args)

    def json(self, *args: str) -> Any:
        result = self(*args, "-f", "json")
        assert (result.returncode, result.stderr) == (0, ""), result
        return json.loads(result.stdout)

    def quiet(self, *args: str) -> None:
        """A command that prints nothing on success (set, unset)."""
        result = self(*args)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), result

    def names(self, *args: str) -> list[str]:
        return [row["Name"] for row in self.json(*args)]


@pytest.fixture
def run(naas: Run, sql_config: Path) -> Naas:
    return Naas(naas, sql_config)


def test_network_switches_on_create_set_unset_and_list(run: Naas) -> None:
    blue = run.json("network", "create", "blue", "--project", "demo", "--share", "--disable", "--mtu", "1400")
    public = run.json("network", "create", "public", "--external", "--default")

    assert (blue["shared"], blue["admin_state_up"], blue["router:external"], blue["mtu"]) == (True, False, False, 1400)
    assert (public["shared"], public["admin_state_up"], public["router:external"], public["is_default"]) == (
        False,
        True,
        True,
        True,
    )
    assert run.names("network", "list", "--share") == ["blue"]
    assert run.names("network", "list", "--no-share", "--external", "--enable") == ["public"]
    assert run.names("network", "list", "--internal", "--disable") == ["blue"]

    run.quiet("network", "set", "blue", "--name", "green", "--no-share", "--enable")
    run.quiet("network", "set", "public", "--no-default", "--internal")
    run.quiet("network", "unset", "green", "--name")

    green, public = run.json("network", "show", blue["id"]), run.json("network", "show", "public")
    assert (green["name"], green["shared"], green["admin_state_up"]) == ("", False, True)
    assert (public["router:external"], public["is_default"]) == (False, False)


def test_network_list_columns_as_the_openstack_client_prints_them(run: Naas) -> None:
    run.json("network", "create", "blue", "--project", "demo", "--disable")

    short = run.json("network", "list")
    long = run.json("network", "list", "--long")
    table = run("network", "list", "--long", "-c", "Name", "-c", "State", "-c", "Router Type")

    assert list(short[0]) == ["ID", "Name", "Subnets"]
    assert list(long[0]) == ["ID", "Name", "Status", "Project", "State", "Shared", "Subnets", "Router Type", "Tags"]
    assert (long[0]["Project"], long[0]["State"], long[0]["Router Type"]) == ("demo", False, False)
    assert "| blue | DOWN  | Internal    |" in table.stdout.splitlines()


def test_subnet_dhcp_set_and_unset(run: Naas) -> None:
    run.json("network", "create", "blue")
    subnet = run.json(
        "subnet",
        "create",
        "s4",
        "--network",
        "blue",
        "--subnet-range",
        "10.1.0.0/24",
        "--no-dhcp",
        "--allocation-pool",
        "start=10.1.0.10,end=10.1.0.20",
    )
    assert subnet["enable_dhcp"] is False
    assert run.names("subnet", "list", "--no-dhcp") == ["s4"]
    assert run.names("subnet", "list", "--dhcp") == []

    run.quiet(
        "subnet",
        "set",
        "s4",
        "--dhcp",
        "--name",
        "s",
        "--gateway",
        "none",
        "--allocation-pool",
        "start=10.1.0.30,end=10.1.0.40",
    )
    changed = run.json("subnet", "show", "s")
    assert (changed["enable_dhcp"], changed["gateway_ip"]) == (True, None)
    assert changed["allocation_pools"] == [
        {"start": "10.1.0.10", "end": "10.1.0.20"},
        {"start": "10.1.0.30", "end": "10.1.0.40"},
    ]

    run.quiet("subnet", "unset", "s", "--allocation-pool", "start=10.1.0.10,end=10.1.0.20")
    missing = run("subnet", "unset", "s", "--allocation-pool", "start=10.1.0.50,end=10.1.0.60")

    assert run.json("subnet", "show", "s")["allocation_pools"] == [{"start": "10.1.0.30", "end": "10.1.0.40"}]
    assert missing.returncode == 1
    assert missing.error_lines == [f"Subnet {subnet['id']} has no allocation pool start=10.1.0.50,end=10.1.0.60"]
    long = run.json("subnet", "list", "--long")
    assert list(long[0]) == [
        "ID",
        "Name",
        "Network",
        "Subnet",
        "Project",
        "DHCP",
        "Allocation Pools",
        "IP Version",
        "Gateway",
        "Tags",
    ]


def test_subnet_pool_switches_set_and_unset(run: Naas) -> None:
    pool = run.json(
        "subnet",
        "pool",
        "create",
        "p",
        "--pool-prefix",
        "10.8.0.0/16",
        "--share",
        "--default",
        "--default-quota",
        "512",
    )
    private = run.json("subnet", "pool", "create", "q", "--pool-prefix", "10.9.0.0/16", "--no-share", "--no-default")

    assert (pool["shared"], pool["is_default"], pool["default_quota"]) == (True, True, 512)
    assert (private["shared"], private["is_default"]) == (False, False)
    assert run.names("subnet", "pool", "list", "--share") == ["p"]
    assert run.names("subnet", "pool", "list", "--no-default") == ["q"]

    run.quiet(
        "subnet",
        "pool",
        "set",
        "p",
        "--no-default",
        "--pool-prefix",
        "10.10.0.0/16",
        "--min-prefix-length",
        "20",
        "--default-prefix-length",
        "24",
    )
    run.quiet("subnet", "pool", "unset", "p", "--default-quota")

    changed = run.json("subnet", "pool", "show", "p")
    assert (changed["is_default"], changed["min_prefixlen"], changed["default_prefixlen"]) == (False, 20, 24)
    assert changed["default_quota"] is None
    assert changed["prefixes"] == ["10.8.0.0/16", "10.10.0.0/16"]
    assert list(run.json("subnet", "pool", "list", "--long")[0]) == [
        "ID",
        "Name",
        "Prefixes",
        "Default Prefix Length",
        "Default Subnet Pool",
        "Shared",
        "Tags",
    ]


def test_port_and_router_switches_set_and_unset(run: Naas) -> None:
    run.json("network", "create", "blue")
    run.json("subnet", "create", "s4", "--network", "blue", "--subnet-range", "10.1.0.0/24")
    port = run.json("port", "create", "vm", "--network", "blue", "--disable", "--fixed-ip", "ip-address=10.1.0.5")
    router = run.json("router", "create", "edge", "--disable")
    assert (port["admin_state_up"], router["admin_state_up"]) == (False, False)

    run.quiet("port", "set", "vm", "--enable", "--fixed-ip", "ip-address=10.1.0.6", "--device-owner", "compute:nova")
    run.quiet("port", "unset", "vm", "--fixed-ip", "ip-address=10.1.0.5")
    run.quiet("router", "set", "edge", "--enable", "--name", "core")
    run.quiet("router", "unset", "core", "--name")

    port = run.json("port", "show", "vm")
    assert (port["admin_state_up"], port["device_owner"]) == (True, "compute:nova")
    assert [fixed_ip["ip_address"] for fixed_ip in port["fixed_ips"]] == ["10.1.0.6"]
    (listed_router,) = run.json("router", "list", "--long")
    assert (listed_router["Name"], listed_router["State"]) == ("", True)
    assert list(listed_router) == ["ID", "Name", "Status", "State", "Project", "External gateway info", "Tags"]
    assert list(run.json("port", "list", "--long")[0])[-3:] == ["Device Owner", "Project", "Tags"]
    floating_header = run("floating", "ip", "list", "--long", "-f", "csv").stdout.splitlines()[0]
    assert floating_header.endswith('"Project","Router","Status","Description","Tags"')


def test_an_unknown_column_is_a_usage_error(run: Naas) -> None:
    run.json("network", "create", "blue")

    listed = run("network", "list", "-c", "nope")
    shown = run("network", "show", "blue", "-c", "name", "-c", "nope", "-c", "bogus")

    assert (listed.returncode, listed.stdout) == (2, "")
    assert listed.error_lines == [
        "naas network list: error: -c nope: no such column; the columns are: ID, Name, Subnets"
    ]
    assert shown.returncode == 2
    (line,) = shown.error_lines
    assert line.startswith("naas network show: error: -c nope, bogus: no such columns; the columns are: ")
    assert "--debug" not in line


def test_topology_show_takes_no_formatter_and_draws_dot_on_request(run: Naas) -> None:
    assert run("bootstrap").returncode == 0

    misuse = run("topology", "show", "-f", "json")
    dot = run("topology", "show", "--dot")

    assert misuse.returncode == 2
    assert misuse.error_lines == [
        "naas topology show: error: unrecognized arguments: -f json (see 'naas topology show --help')"
    ]
    assert dot.returncode == 0 and dot.stdout.startswith('digraph "naas topology of project admin" {')


def test_the_remaining_set_unset_and_filter_options(run: Naas) -> None:
    run.json("network", "create", "public", "--external", "--default")
    run.json("subnet", "create", "public-subnet", "--network", "public", "--subnet-range", "203.0.113.0/24")
    run.json("network", "create", "blue")
    run.json("subnet", "create", "s4", "--network", "blue", "--subnet-range", "10.1.0.0/24")
    run.json("network", "create", "green")
    run.json("subnet", "create", "s5", "--network", "green", "--subnet-range", "10.2.0.0/24")
    run.json("router", "create", "edge", "--external-gateway", "public")
    run.quiet("router", "add", "subnet", "edge", "s4")
    run.json("subnet", "pool", "create", "p", "--pool-prefix", "10.8.0.0/16")
    vm = run.json("port", "create", "vm", "--network", "blue", "--device", "instance-1")
    port = run.json("port", "create", "down", "--network", "blue", "--disable")
    run.json("router", "create", "off", "--disable")
    floating = run.json("floating", "ip", "create", "public", "--port", "vm")

    run.quiet("subnet", "set", "s5", "--no-allocation-pool", "--allocation-pool", "start=10.2.0.100,end=10.2.0.110")
    run.quiet("subnet", "unset", "s5", "--name")
    run.quiet("subnet", "pool", "set", "p", "--max-prefix-length", "28", "--default-quota", "1024", "--name", "q")
    run.quiet("subnet", "pool", "unset", "q", "--name")
    run.quiet("port", "set", "down", "--no-fixed-ip", "--device", "instance-2", "--name", "down2")
    run.quiet("port", "unset", "down2", "--name")

    subnet = run.json("subnet", "list", "--network", "green", "--long")[0]
    assert (subnet["Name"], subnet["Allocation Pools"]) == ("", [{"start": "10.2.0.100", "end": "10.2.0.110"}])
    pool = run.json("subnet", "pool", "list", "--long")[0]
    assert pool["Name"] == ""
    pool = run.json("subnet", "pool", "show", pool["ID"])
    assert (pool["max_prefixlen"], pool["default_quota"]) == (28, 1024)
    port = run.json("port", "show", port["id"])
    assert (port["name"], port["device_id"], port["fixed_ips"]) == ("", "instance-2", [])
    assert vm["device_id"] == "instance-1"
    assert run.names("port", "list", "--disable") == [""]
    assert run.names("router", "list", "--disable") == ["off"]
    assert run.names("router", "list", "--enable") == ["edge"]
    by_network = run.json("floating", "ip", "list", "--network", "public")
    by_port = run.json("floating", "ip", "list", "--port", "vm")
    elsewhere = run.json("floating", "ip", "list", "--port", port["id"])
    assert [row["ID"] for row in by_network] == [row["ID"] for row in by_port] == [floating["id"]]
    assert elsewhere == []
