"""naas.opts: the options, their registration, and the committed sample config file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from oslo_config import cfg

from naas import opts

ConfigFromFile = Callable[[str], cfg.ConfigOpts]  # the conftest fixture config_from_file
SAMPLE = Path(__file__).resolve().parent.parent / "etc" / "naas.conf.sample"
REGENERATE = "oslo-config-generator --namespace naas --output-file etc/naas.conf.sample"


def test_list_opts_groups_and_names() -> None:
    listed = {group: [opt.name for opt in group_opts] for group, group_opts in opts.list_opts()}

    assert list(listed) == ["DEFAULT", "database", "bootstrap"]
    assert listed["DEFAULT"] == ["core_plugin", "l3_plugin", "state_path", "backends", "observers"]
    assert "connection" in listed["database"]


def test_list_opts_returns_fresh_lists() -> None:
    # The generator and other callers may mutate what they get; naas's own list must not change.
    listed = opts.list_opts()
    listed[0][1].clear()

    assert [opt.name for opt in opts.list_opts()[0][1]] == [
        "core_plugin",
        "l3_plugin",
        "state_path",
        "backends",
        "observers",
    ]


def test_defaults() -> None:
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[], use_env=False)

    assert (conf.core_plugin, conf.l3_plugin) == ("sql", "sql")
    assert conf.state_path == "~/.local/state/naas"
    assert conf.database.connection is None


def test_register_opts_is_idempotent() -> None:
    conf = cfg.ConfigOpts()

    opts.register_opts(conf)
    opts.register_opts(conf)

    assert {"core_plugin", "l3_plugin", "state_path", "database"} <= set(conf)


def test_a_config_file_sets_every_option(config_from_file: ConfigFromFile, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/naas.sqlite"
    conf = config_from_file(f"""
        [DEFAULT]
        core_plugin = memory
        l3_plugin = vendor_driver.l3:VendorL3Plugin
        state_path = {tmp_path}

        [database]
        connection = {database}
    """)

    opts.register_opts(conf)

    assert conf.core_plugin == "memory"
    assert conf.l3_plugin == "vendor_driver.l3:VendorL3Plugin"
    assert conf.state_path == str(tmp_path)
    assert conf.database.connection == database


def regenerate(output: Path) -> subprocess.CompletedProcess[str]:
    # The documented command, in a fresh interpreter, so the oslo.config.opts
    # entry point in setup.cfg is what finds naas's options.
    return subprocess.run(
        [sys.executable, "-m", "oslo_config.generator", "--namespace", "naas", "--output-file", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_committed_sample_config_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "naas.conf.sample"

    result = regenerate(fresh)

    assert result.returncode == 0, result.stderr
    assert fresh.read_text() == SAMPLE.read_text(), f"etc/naas.conf.sample is stale; run: {REGENERATE}"


@pytest.mark.parametrize(
    "line",
    [
        "[DEFAULT]",
        "#core_plugin = sql",
        "#l3_plugin = sql",
        "#state_path = ~/.local/state/naas",
        "[database]",
        "#connection = <None>",
    ],
)
def test_the_sample_documents_the_options_users_set(line: str) -> None:
    assert line in SAMPLE.read_text().splitlines()
