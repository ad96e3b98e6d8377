"""naas's conformance suites, run over the example plugins: what every naas driver must pass.

The plugins are selected the way an operator selects them, by alias in a
config file, so these tests also prove the entry points this distribution
registers.
"""

from __future__ import annotations

import os
import tempfile

import testtools
from naas_example_driver import ExampleCorePlugin, ExampleL3Plugin
from oslo_config import cfg

import naas
import naas.testing

CONFIG = """
[DEFAULT]
core_plugin = example
l3_plugin = example
"""


def load_from_config_file() -> naas.Plugins:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "naas.conf")
        with open(path, "w") as config_file:
            config_file.write(CONFIG)
        conf = cfg.ConfigOpts()
        conf(args=["--config-file", path], default_config_files=[])
        plugins = naas.load_plugins(conf)
    assert isinstance(plugins.core, ExampleCorePlugin) and isinstance(plugins.l3, ExampleL3Plugin)
    return plugins


class ExampleCorePluginConformance(naas.testing.CorePluginConformance, testtools.TestCase):
    def make_core_plugin(self) -> naas.CorePlugin:
        return load_from_config_file().core


class ExampleL3PluginConformance(naas.testing.L3PluginConformance, testtools.TestCase):
    def make_plugins(self) -> tuple[naas.CorePlugin, naas.L3Plugin]:
        plugins = load_from_config_file()
        return plugins.core, plugins.l3


class ExampleAutoAllocationConformance(naas.testing.AutoAllocationConformance, testtools.TestCase):
    def make_plugins(self) -> tuple[naas.CorePlugin, naas.L3Plugin]:
        plugins = load_from_config_file()
        return plugins.core, plugins.l3
