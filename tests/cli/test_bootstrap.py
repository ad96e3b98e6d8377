"""``naas bootstrap``: creates what get-me-a-network needs, once."""

from __future__ import annotations

import json
from pathlib import Path

from naas.context import admin_context
from naas.loading import Plugins
from tests.cli.conftest import Run, write_config

V4_DETAILS = "10.0.0.0/8, /26 per project, /22 to /29 per request, quota 2048 addresses per project"
V6_DETAILS = "fd00::/48, /64 per project, /60 to /64 per request, quota 16 /64s per project"


def bootstrap_rows(cli: Run, *args: str) -> list[dict[str, str]]:
    result = cli("bootstrap", "-f", "json", *args)
    assert result.returncode == 0, result
    rows: list[dict[str, str]] = json.loads(result.stdout)
    return rows


def test_with_no_flags_creates_the_documented_defaults(cli: Run, plugins: Plugins) -> None:
    rows = bootstrap_rows(cli)

    assert [(row["Resource"], row["Name"], row["Details"]) for row in rows] == [
        ("network", "public", "external, default"),
        ("subnet", "public-subnet", "203.0.113.0/24"),
        ("subnet pool", "shared-default-subnetpool-v4", V4_DETAILS),
        ("subnet pool", "shared-default-subnetpool-v6", V6_DETAILS),
    ]
    admin = admin_context()
    (external,) = plugins.core.get_networks(admin, {"router:external": True, "is_default": True})
    assert external.id == rows[0]["ID"]
    for ip_version in (4, 6):
        pool = plugins.core.get_default_subnetpool(admin, ip_version)
        assert pool is not None and pool.shared


def test_running_twice_changes_nothing_and_prints_the_same(cli: Run, plugins: Plugins) -> None:
    first = cli("bootstrap")
    second = cli("bootstrap")

    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    assert len(plugins.core.get_networks(admin_context())) == 1
    assert len(plugins.core.get_subnetpools(admin_context())) == 2
    # What was created is said on stderr, so stdout stays the same from run to run.
    assert f"Created network public ({plugins.core.get_networks(admin_context())[0].id})" in first.stderr
    assert second.stderr == ""


def test_flags(cli: Run) -> None:
    rows = bootstrap_rows(
        cli,
        "--external-network-name",
        "internet",
        "--external-cidr",
        "198.51.100.0/24",
        "--v4-pool-prefix",
        "172.16.0.0/12",
        "--v4-prefixlen",
        "24",
        "--no-ipv6",
    )

    assert [(row["Name"], row["Details"]) for row in rows] == [
        ("internet", "external, default"),
        ("internet-subnet", "198.51.100.0/24"),
        (
            "shared-default-subnetpool-v4",
            "172.16.0.0/12, /24 per project, /22 to /29 per request, quota 2048 addresses per project",
        ),
    ]


def test_config_options_apply_when_no_flag_is_given(cli: Run, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "bootstrap.conf",
        "[bootstrap]\nexternal_network_name = outside\nv6_prefixlen = 56\nv6_pool_prefix = fd12::/40\n",
    )

    rows = cli("bootstrap", "-f", "value", "-c", "Name", "-c", "Details", config=config)

    assert rows.returncode == 0, rows
    assert rows.stdout.splitlines() == [
        "outside external, default",
        "outside-subnet 203.0.113.0/24",
        f"shared-default-subnetpool-v4 {V4_DETAILS}",
        # The bounds and the quota widen to admit one /56, the per-project subnet.
        "shared-default-subnetpool-v6 fd12::/40, /56 per project, /56 to /64 per request, quota 256 /64s per project",
    ]


def test_existing_defaults_are_kept_whatever_the_flags(cli: Run) -> None:
    first = bootstrap_rows(cli)

    again = bootstrap_rows(cli, "--external-network-name", "other", "--v4-pool-prefix", "192.168.0.0/16")

    assert again == first


def test_a_missing_subnet_is_added_to_an_existing_default_network(cli: Run, plugins: Plugins) -> None:
    admin = admin_context()
    network = plugins.core.create_network(admin, {"name": "ext", "router:external": True, "is_default": True})

    rows = bootstrap_rows(cli)

    assert rows[0]["ID"] == network.id
    assert [subnet.network_id for subnet in plugins.core.get_subnets(admin)] == [network.id]


def test_a_prefix_of_the_wrong_ip_version_is_refused_before_anything_is_created(cli: Run, plugins: Plugins) -> None:
    result = cli("bootstrap", "--v4-pool-prefix", "fd00::/48")

    assert result.returncode == 1
    assert result.stderr == "--v4-pool-prefix / [bootstrap] v4_pool_prefix: fd00::/48 is not an IPv4 prefix\n"
    assert plugins.core.get_networks(admin_context()) == []


def test_a_bad_pool_prefix_is_refused_before_anything_is_created(cli: Run, plugins: Plugins) -> None:
    result = cli("bootstrap", "--v4-pool-prefix", "10.0.0.0/33")

    assert result.returncode == 1
    assert result.error_lines == ["--v4-pool-prefix / [bootstrap] v4_pool_prefix: '10.0.0.0/33' is not a valid CIDR"]
    assert plugins.core.get_networks(admin_context()) == []


def test_flags_are_checked_as_the_options_are(cli: Run) -> None:
    result = cli("bootstrap", "--v4-prefixlen", "33")

    assert result.returncode == 2
    assert result.error_lines == [
        "naas bootstrap: error: argument --v4-prefixlen: invalid integer value: '33' (see 'naas bootstrap --help')"
    ]


def test_a_bad_external_cidr_is_refused(cli: Run) -> None:
    result = cli("bootstrap", "--external-cidr", "203.0.113.1/24")

    assert result.returncode == 1
    assert result.error_lines == [
        "--external-cidr / [bootstrap] external_cidr: '203.0.113.1/24' has host bits set; did you mean 203.0.113.0/24?"
    ]
