"""naas's behaviour suites over the example plugins: the rules over the JSON-file storage, as an operator selects them.

The plugins are loaded by alias from a config file, so these tests also prove
the entry points this distribution registers. ``unittest.TestCase`` is the
base: its failures read cleanly under pytest and ``python -m unittest`` alike.
What the plugins support is declared on the plugin classes (``CAPABILITIES``),
not here: they declare everything, shared storage included, and the second
pair of plugins the L3 suite asks for is built from the same file.
"""

from __future__ import annotations

import os
import tempfile
import unittest

from naas_example_driver import ExampleCorePlugin, ExampleL3Plugin, JsonFileStorage
from oslo_config import cfg

import naas
import naas.testing
from naas.exceptions import PluginLoadError

CONFIG = """
[DEFAULT]
core_plugin = example
l3_plugin = example

[example]
state_file = {state_file}
"""


# The suites check behaviour, not the disk: on a tmpfs the storage's fsyncs cost nothing, which makes the
# suites about three times faster. The storage's own tests (test_storage.py) use an ordinary directory.
STATE_ROOT = "/dev/shm" if os.path.isdir("/dev/shm") else None


def load_from_config_file(directory: str) -> naas.Plugins:
    """The plugins a process configured with ``directory``'s naas.conf builds (its state file is in ``directory``)."""
    path = os.path.join(directory, "naas.conf")
    if not os.path.exists(path):
        with open(path, "w") as config_file:
            config_file.write(CONFIG.format(state_file=os.path.join(directory, "state.json")))
    conf = cfg.ConfigOpts()
    conf(args=["--config-file", path], default_config_files=[], default_config_dirs=[], use_env=False)
    plugins = naas.load_plugins(conf)
    assert isinstance(plugins.core, ExampleCorePlugin) and isinstance(plugins.l3, ExampleL3Plugin)
    assert isinstance(plugins.core.storage, JsonFileStorage)
    return plugins


class InAStateDirectory(unittest.TestCase):
    """Each set of plugins a test asks for gets a new directory for its config file and state file."""

    def new_state_directory(self) -> str:
        directory = tempfile.TemporaryDirectory(dir=STATE_ROOT)
        self.addCleanup(directory.cleanup)
        self.state_directory = directory.name
        return directory.name

    def load(self, directory: str) -> naas.Plugins:
        plugins = load_from_config_file(directory)
        self.addCleanup(plugins.close)
        return plugins


class ExampleCorePluginConformance(naas.testing.CorePluginConformance, InAStateDirectory):
    def make_core_plugin(self) -> naas.CorePlugin:
        return self.load(self.new_state_directory()).core


class ExampleL3PluginConformance(naas.testing.L3PluginConformance, InAStateDirectory):
    def make_plugins(self) -> tuple[naas.CorePlugin, naas.L3Plugin]:
        plugins = self.load(self.new_state_directory())
        return plugins.core, plugins.l3

    def make_plugins_on_same_storage(self) -> tuple[naas.CorePlugin, naas.L3Plugin]:
        """Another pair loaded from the last pair's config file, as a second process would."""
        plugins = self.load(self.state_directory)
        return plugins.core, plugins.l3


class ExampleAutoAllocationConformance(naas.testing.AutoAllocationConformance, InAStateDirectory):
    def make_plugins(self) -> tuple[naas.CorePlugin, naas.L3Plugin]:
        plugins = self.load(self.new_state_directory())
        return plugins.core, plugins.l3


class TestLoadingErrors(unittest.TestCase):
    def load_with(self, example_group: str) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "naas.conf")
            with open(path, "w") as config_file:
                config_file.write("[DEFAULT]\ncore_plugin = example\nl3_plugin = example\n[example]\n" + example_group)
            conf = cfg.ConfigOpts()
            conf(args=["--config-file", path], default_config_files=[], default_config_dirs=[], use_env=False)
            naas.load_plugins(conf)

    def test_a_missing_state_file_option_is_named(self) -> None:
        with self.assertRaises(PluginLoadError) as caught:
            self.load_with("")
        self.assertIn("[example] state_file is not set", str(caught.exception))

    def test_a_state_file_in_a_missing_directory_is_named(self) -> None:
        with self.assertRaises(PluginLoadError) as caught:
            self.load_with("state_file = /nonexistent/naas/state.json\n")
        self.assertIn("directory /nonexistent/naas does not exist", str(caught.exception))
