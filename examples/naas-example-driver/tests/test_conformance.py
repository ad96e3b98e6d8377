"""naas's conformance suites, run over the example plugins: what every naas driver must pass.

The plugins are selected the way an operator selects them, by alias in a
config file, so these tests also prove the entry points this distribution
registers. ``unittest.TestCase`` is the base: its failures read cleanly under
pytest and ``python -m unittest`` alike. What the plugins support is declared
on the plugin classes (``CAPABILITIES``), not here.
"""

from __future__ import annotations

import os
import tempfile
import unittest

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


# Cells of naas's isolation matrix that the memory plugins this example extends fail until naas fixes
# findings 2 and 3 of its 2026-12-01 hostile-input report; a fixed one shows up as an unexpected success.
NON_ADMIN_CALLERS = ("owner", "other", "owner_upper_case", "owner_trailing_space")
KNOWN_CORE_FAILURES = {
    f"test_isolation_matrix_subnet_attach_gateway_address_as_{caller}": "naas finding 3" for caller in NON_ADMIN_CALLERS
}
KNOWN_L3_FAILURES = {
    f"test_isolation_matrix_router_attach_by_device_owner_as_{caller}": "naas finding 2" for caller in NON_ADMIN_CALLERS
}


class ExampleCorePluginConformance(naas.testing.CorePluginConformance, unittest.TestCase):
    expected_failures = KNOWN_CORE_FAILURES

    def make_core_plugin(self) -> naas.CorePlugin:
        return load_from_config_file().core


class ExampleL3PluginConformance(naas.testing.L3PluginConformance, unittest.TestCase):
    expected_failures = KNOWN_L3_FAILURES

    def make_plugins(self) -> tuple[naas.CorePlugin, naas.L3Plugin]:
        plugins = load_from_config_file()
        return plugins.core, plugins.l3


class ExampleAutoAllocationConformance(naas.testing.AutoAllocationConformance, unittest.TestCase):
    def make_plugins(self) -> tuple[naas.CorePlugin, naas.L3Plugin]:
        plugins = load_from_config_file()
        return plugins.core, plugins.l3
