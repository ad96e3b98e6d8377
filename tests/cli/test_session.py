"""The configuration the command reads."""

from __future__ import annotations

from pathlib import Path

from naas.cli.session import load_config


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
