"""The memory plugins load by their aliases and share one event registry."""

from __future__ import annotations

from collections.abc import Callable

from oslo_config import cfg

from naas.loading import load_plugins
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin

# The shape of the config_from_file fixture of tests/conftest.py.
ConfigFromFile = Callable[[str], cfg.ConfigOpts]


def test_load_by_alias(config_from_file: ConfigFromFile) -> None:
    plugins = load_plugins(config_from_file("[DEFAULT]\ncore_plugin = memory\nl3_plugin = memory\n"))
    assert isinstance(plugins.core, MemoryCorePlugin)
    assert isinstance(plugins.l3, MemoryL3Plugin)
    assert plugins.l3.core_plugin is plugins.core
    assert plugins.core.events is plugins.l3.events is plugins.events
