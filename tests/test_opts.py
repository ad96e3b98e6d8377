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

    assert list(listed) == ["DEFAULT", "database", "bootstrap", "api"]
    assert listed["DEFAULT"] == [
        "core_plugin",
        "l3_plugin",
        "state_path",
        "backends",
        "observers",
        "max_fixed_ips_per_port",
        "auth_strategy",
    ]
    # oslo.db's own options come from oslo.db's namespace; naas lists only the one it adds to the group.
    assert listed["database"] == ["auto_migrate", "response_timeout"]


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
        "max_fixed_ips_per_port",
        "auth_strategy",
    ]


def test_defaults() -> None:
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[], use_env=False)

    assert (conf.core_plugin, conf.l3_plugin) == ("sql", "sql")
    assert conf.state_path == "~/.local/state/naas"
    assert (conf.backends, conf.observers) == ([], [])
    assert conf.database.connection is None
    assert conf.database.auto_migrate is True
    assert conf.max_fixed_ips_per_port == 5  # Neutron's default


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
        backends = linux, vendor.backend:Fabric
        observers = audit
        max_fixed_ips_per_port = 2

        [database]
        connection = {database}
        auto_migrate = false
    """)

    opts.register_opts(conf)

    assert conf.core_plugin == "memory"
    assert conf.l3_plugin == "vendor_driver.l3:VendorL3Plugin"
    assert conf.state_path == str(tmp_path)
    assert conf.database.connection == database
    assert (conf.backends, conf.observers) == (["linux", "vendor.backend:Fabric"], ["audit"])
    assert conf.database.auto_migrate is False
    assert conf.max_fixed_ips_per_port == 2


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
        "#backends =",
        "#observers =",
        "[database]",
        "#auto_migrate = true",
        "[bootstrap]",
        "#v4_quota = 2048",
    ],
)
def test_the_sample_documents_the_options_users_set(line: str) -> None:
    assert line in SAMPLE.read_text().splitlines()


def test_the_sample_holds_no_option_of_oslo_db() -> None:
    # oslo.db's options, and their help, change with its version; the sample must not.
    from oslo_db import options as db_options

    sample = SAMPLE.read_text()

    for opt in db_options.database_opts:
        assert f"#{opt.dest} =" not in sample


def test_the_documentation_names_every_oslo_db_option_naas_honours() -> None:
    from naas_plugins.sql.database import _ENGINE_OPTIONS

    documented = (SAMPLE.parent.parent / "doc" / "source" / "configuration.rst").read_text()

    for name in ("connection", *_ENGINE_OPTIONS):
        assert f"``{name}``" in documented, name


class TestUnknownOptions:
    def conf(self, config_from_file: ConfigFromFile, text: str) -> cfg.ConfigOpts:
        conf = config_from_file(text)
        opts.register_opts(conf)
        return conf

    def test_a_mistyped_name_is_reported_with_its_file_and_section(self, config_from_file: ConfigFromFile) -> None:
        conf = self.conf(
            config_from_file,
            """
            [DEFAULT]
            core_plugin = memory
            core_plugn = sql

            [database]
            conection = sqlite://

            [bootstrap]
            v4_quota = 64
            """,
        )

        found = opts.unknown_options(conf)

        (path,) = conf.config_file
        assert [(item.path, item.section, item.option) for item in found] == [
            (path, "DEFAULT", "core_plugn"),
            (path, "database", "conection"),
        ]
        assert str(found[0]) == f"{path}: [DEFAULT] core_plugn is not a known option (mistyped?)"

    def test_sections_of_groups_no_one_registered(self, config_from_file: ConfigFromFile) -> None:
        conf = self.conf(config_from_file, "[databse]\nconnection = sqlite://\n")

        assert opts.unknown_options(conf, whole_sections=False) == []
        (found,) = opts.unknown_options(conf)
        assert (found.section, found.option) == ("databse", None)
        assert str(found).endswith(": section [databse] is not used by naas or its loaded plugins")

    def test_deprecated_names_of_registered_options_are_known(self, config_from_file: ConfigFromFile) -> None:
        conf = self.conf(config_from_file, "[bootstrap]\nold_name = 1\nnewer_name = 2\n")
        conf.register_opt(cfg.StrOpt("new_name", deprecated_name="old_name"), group="bootstrap")

        found = opts.unknown_options(conf)

        assert [(item.section, item.option) for item in found] == [("bootstrap", "newer_name")]
