"""The command's own options: ``[bootstrap]``."""

from __future__ import annotations

from pathlib import Path

from naas.cli.opts import list_opts

from naas.cli.session import load_config


def test_bootstrap_defaults_are_the_documented_ones() -> None:
    ((group, opts),) = list_opts()

    assert group == "bootstrap"
    assert {opt.name: opt.default for opt in opts} == {
        "external_network_name": "public",
        "external_cidr": "203.0.113.0/24",
        "v4_pool_prefix": "10.0.0.0/8",
        "v4_prefixlen": 26,
        "v6_pool_prefix": "fd00::/48",
        "v6_prefixlen": 64,
        "ipv6": True,
    }


def test_given_files_are_the_whole_configuration(tmp_path: Path) -> None:
    first = tmp_path / "first.conf"
    first.write_text("[DEFAULT]\ncore_plugin = memory\nstate_path = /first\n[bootstrap]\nipv6 = false\n")
    second = tmp_path / "second.conf"
    second.write_text("[DEFAULT]\nstate_path = /second\n")

    conf = load_config([str(first), str(second)])

    assert (conf.core_plugin, conf.l3_plugin, conf.state_path) == ("memory", "sql", "/second")
    assert conf.bootstrap.ipv6 is False
    # An operator's command fails fast on a dead database rather than retrying for minutes.
    assert (conf.database.max_retries, conf.database.retry_interval) == (1, 0)
