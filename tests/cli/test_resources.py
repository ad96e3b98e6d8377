"""List, show, create and delete for every resource type, names resolved as the openstack client does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from naas.context import admin_context
from naas.loading import Plugins
from tests.cli.conftest import Run


def ok(cli: Run, *args: str) -> Any:
    """Run a command that prints JSON (``-f json`` is added) and return what it printed."""
    result = cli(*args, "-f", "json")
    assert result.returncode == 0, result
    return json.loads(result.stdout)


def quiet(cli: Run, *args: str) -> None:
    """Run a command that prints nothing on success."""
    result = cli(*args)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), result


def fails(cli: Run, *args: str) -> str:
    result = cli(*args)
    assert result.returncode == 1, result
    (line,) = result.error_lines
    return line


@pytest.fixture
def external(cli: Run) -> dict[str, Any]:
    network: dict[str, Any] = ok(cli, "network", "create", "public", "--external", "--default")
    ok(cli, "subnet", "create", "public-subnet", "--network", "public", "--subnet-range", "203.0.113.0/24")
    return network


def test_network_create_show_list_delete(cli: Run, plugins: Plugins) -> None:
    created = ok(cli, "network", "create", "blue", "--project", "demo", "--share")

    assert (created["name"], created["project_id"], created["shared"], created["router:external"]) == (
        "blue",
        "demo",
        True,
        False,
    )
    assert ok(cli, "network", "show", "blue") == created
    assert ok(cli, "network", "show", created["id"]) == created
    assert ok(cli, "network", "list") == [{"ID": created["id"], "Name": "blue", "Subnets": []}]

    quiet(cli, "network", "delete", "blue")

    assert plugins.core.get_networks(admin_context()) == []


def test_list_filters(cli: Run, external: dict[str, Any]) -> None:
    ok(cli, "network", "create", "blue", "--project", "demo")
    ok(cli, "network", "create", "red", "--project", "other")

    def names(*args: str) -> list[str]:
        return [row["Name"] for row in ok(cli, "network", "list", *args)]

    assert names() == ["public", "blue", "red"]
    assert names("--external") == ["public"]
    assert names("--internal") == ["blue", "red"]
    assert names("--project", "demo") == ["blue"]


def test_columns_are_chosen_by_header(cli: Run) -> None:
    ok(cli, "network", "create", "blue")

    table = cli("network", "list", "--long", "-c", "Name", "-c", "router_type", "-c", "STATE")
    values = cli("network", "list", "--long", "-f", "value", "-c", "Name", "-c", "router_type", "-c", "STATE")

    # As the openstack client prints them: words in a table, the booleans themselves for scripts.
    assert "| blue | UP    | Internal    |" in table.stdout.splitlines()
    assert values.stdout == "blue True False\n"


def test_subnets_from_a_range_and_from_a_pool(cli: Run) -> None:
    ok(cli, "network", "create", "blue", "--project", "demo")
    ok(cli, "subnet", "pool", "create", "pool", "--pool-prefix", "10.8.0.0/16", "--default-prefix-length", "24")

    ranged = ok(
        cli,
        "subnet",
        "create",
        "ranged",
        "--network",
        "blue",
        "--subnet-range",
        "192.168.1.0/24",
        "--gateway",
        "none",
        "--allocation-pool",
        "start=192.168.1.10,end=192.168.1.20",
        "--project",
        "demo",
    )
    pooled = ok(
        cli,
        "subnet",
        "create",
        "pooled",
        "--network",
        "blue",
        "--subnet-pool",
        "pool",
        "--prefix-length",
        "26",
        "--project",
        "demo",
    )

    assert (ranged["cidr"], ranged["gateway_ip"], ranged["allocation_pools"]) == (
        "192.168.1.0/24",
        None,
        [{"start": "192.168.1.10", "end": "192.168.1.20"}],
    )
    assert (pooled["cidr"], pooled["gateway_ip"], pooled["ip_version"]) == ("10.8.0.0/26", "10.8.0.1", 4)
    listed = ok(cli, "subnet", "list", "--network", "blue")
    assert [(row["Name"], row["Subnet"]) for row in listed] == [("ranged", "192.168.1.0/24"), ("pooled", "10.8.0.0/26")]


def test_subnet_pool_create_and_show(cli: Run) -> None:
    pool = ok(
        cli,
        "subnet",
        "pool",
        "create",
        "v6",
        "--pool-prefix",
        "fd00:1::/48",
        "--pool-prefix",
        "fd00:2::/48",
        "--default-prefix-length",
        "64",
        "--share",
        "--default",
    )

    assert (pool["prefixes"], pool["ip_version"], pool["is_default"], pool["shared"]) == (
        ["fd00:1::/48", "fd00:2::/48"],
        6,
        True,
        True,
    )
    assert ok(cli, "subnet", "pool", "show", "v6") == pool
    assert ok(cli, "subnet", "pool", "list", "-c", "Name", "-c", "Prefixes") == [
        {"Name": "v6", "Prefixes": ["fd00:1::/48", "fd00:2::/48"]}
    ]


def test_port_with_fixed_ips_by_subnet_name(cli: Run) -> None:
    ok(cli, "network", "create", "blue")
    ok(cli, "subnet", "create", "s4", "--network", "blue", "--subnet-range", "192.168.1.0/24")
    subnet = ok(cli, "subnet", "show", "s4")

    port = ok(cli, "port", "create", "vm", "--network", "blue", "--fixed-ip", "subnet=s4,ip-address=192.168.1.50")
    bare = ok(cli, "port", "create", "bare", "--network", "blue", "--no-fixed-ip")

    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "192.168.1.50"}]
    assert bare["fixed_ips"] == []
    table = cli("port", "list", "--network", "blue", "-c", "Name", "-c", "Fixed IP Addresses")
    assert f"subnet_id='{subnet['id']}', ip_address='192.168.1.50'" in table.stdout


def test_an_ambiguous_name_lists_the_candidates(cli: Run) -> None:
    first = ok(cli, "network", "create", "twin", "--project", "a")
    second = ok(cli, "network", "create", "twin", "--project", "b")

    assert fails(cli, "network", "show", "twin") == (
        f"More than one network exists with the name 'twin' ({first['id']}, {second['id']}); give an ID."
    )
    assert ok(cli, "network", "show", second["id"])["project_id"] == "b"


def test_deleting_several_reports_every_failure_and_deletes_the_rest(cli: Run, plugins: Plugins) -> None:
    ok(cli, "network", "create", "blue")
    ok(cli, "network", "create", "red")

    line = fails(cli, "network", "delete", "blue", "nosuch", "red", "gone")

    assert line == (
        "Failed to delete 2 of 4 networks: nosuch: No network with a name or ID of 'nosuch' exists; "
        "gone: No network with a name or ID of 'gone' exists"
    )
    assert plugins.core.get_networks(admin_context()) == []


def test_a_conflict_is_reported_and_changes_nothing(cli: Run, plugins: Plugins) -> None:
    ok(cli, "network", "create", "blue")
    ok(cli, "subnet", "create", "s4", "--network", "blue", "--subnet-range", "192.168.1.0/24")
    port = ok(cli, "port", "create", "vm", "--network", "blue")

    line = fails(cli, "subnet", "delete", "s4")

    assert port["id"] in line
    assert len(plugins.core.get_subnets(admin_context())) == 1


def test_router_interfaces_and_gateway(cli: Run, external: dict[str, Any]) -> None:
    ok(cli, "network", "create", "blue", "--project", "demo")
    ok(cli, "subnet", "create", "s4", "--network", "blue", "--subnet-range", "192.168.1.0/24", "--project", "demo")
    router = ok(cli, "router", "create", "edge", "--project", "demo", "--external-gateway", "public")
    assert router["external_gateway_info"]["network_id"] == external["id"]

    quiet(cli, "router", "add", "subnet", "edge", "s4")
    interfaces = ok(cli, "port", "list", "--device-owner", "network:router_interface")
    assert [port["Fixed IP Addresses"][0]["ip_address"] for port in interfaces] == ["192.168.1.1"]

    quiet(cli, "router", "remove", "subnet", "edge", "s4")
    assert ok(cli, "port", "list", "--device-owner", "network:router_interface") == []

    port = ok(cli, "port", "create", "uplink", "--network", "blue", "--project", "demo")
    quiet(cli, "router", "add", "port", "edge", "uplink")
    assert ok(cli, "port", "show", port["id"])["device_owner"] == "network:router_interface"
    quiet(cli, "router", "remove", "port", "edge", port["id"])

    quiet(cli, "router", "unset", "--external-gateway", "edge")
    assert ok(cli, "router", "show", "edge")["external_gateway_info"] is None
    quiet(cli, "router", "set", "edge", "--external-gateway", "public", "--disable-snat", "--name", "edge2")
    changed = ok(cli, "router", "show", "edge2")
    assert (changed["external_gateway_info"]["network_id"], changed["external_gateway_info"]["enable_snat"]) == (
        external["id"],
        False,
    )
    assert [row["Name"] for row in ok(cli, "router", "list")] == ["edge2"]


def test_router_set_refuses_gateway_options_without_a_gateway(cli: Run) -> None:
    ok(cli, "router", "create", "edge")

    assert fails(cli, "router", "set", "edge", "--disable-snat") == (
        "--fixed-ip, --enable-snat and --disable-snat need --external-gateway"
    )


def test_floating_ips(cli: Run, external: dict[str, Any]) -> None:
    ok(cli, "network", "create", "blue", "--project", "demo")
    ok(cli, "subnet", "create", "s4", "--network", "blue", "--subnet-range", "192.168.1.0/24", "--project", "demo")
    ok(cli, "router", "create", "edge", "--project", "demo", "--external-gateway", "public")
    quiet(cli, "router", "add", "subnet", "edge", "s4")
    vm = ok(cli, "port", "create", "vm", "--network", "blue", "--project", "demo")

    floating = ok(cli, "floating", "ip", "create", "public", "--project", "demo")
    address = floating["floating_ip_address"]
    assert floating["floating_network_id"] == external["id"]
    assert ok(cli, "floating", "ip", "show", address) == floating

    quiet(cli, "floating", "ip", "set", address, "--port", "vm")
    associated = ok(cli, "floating", "ip", "show", address)
    assert (associated["port_id"], associated["fixed_ip_address"]) == (vm["id"], "192.168.1.2")
    listed = ok(cli, "floating", "ip", "list")
    assert [(row["Floating IP Address"], row["Port"]) for row in listed] == [(address, vm["id"])]

    quiet(cli, "floating", "ip", "unset", address, "--port")
    assert ok(cli, "floating", "ip", "show", address)["port_id"] is None

    quiet(cli, "floating", "ip", "delete", address)
    assert ok(cli, "floating", "ip", "list") == []


def test_a_bad_key_value_option_is_a_usage_error(cli: Run) -> None:
    result = cli("port", "create", "vm", "--network", "blue", "--fixed-ip", "vlan=3")

    assert result.returncode == 2
    assert result.error_lines == [
        "naas port create: error: argument --fixed-ip: --fixed-ip expects subnet=VALUE,ip-address=VALUE, "
        "not 'vlan=3' (see 'naas port create --help')"
    ]
