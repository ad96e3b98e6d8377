"""The example third-party driver, chosen the way an operator would: by alias, in a config file.

It is a separate distribution (examples/naas-example-driver); these tests skip
unless it is installed, since only installing it registers its entry points.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from oslo_config import cfg

from naas import RequestContext
from naas.loading import CORE_NAMESPACE, L3_NAMESPACE, installed_aliases, load_plugins

example_driver = pytest.importorskip(
    "naas_example_driver",
    reason="naas-example-driver is not installed; run: pip install -e examples/naas-example-driver",
)

ConfigFromFile = Callable[[str], cfg.ConfigOpts]  # the conftest fixture config_from_file

EXAMPLE_CONFIG = """
    [DEFAULT]
    core_plugin = example
    l3_plugin = example

    [example]
    audit_max_records = 3
"""


@pytest.mark.parametrize("namespace", [CORE_NAMESPACE, L3_NAMESPACE])
def test_the_example_registers_its_alias(namespace: str) -> None:
    assert "example" in installed_aliases(namespace)


def test_the_config_file_selects_the_example_plugins(config_from_file: ConfigFromFile) -> None:
    plugins = load_plugins(config_from_file(EXAMPLE_CONFIG))

    assert type(plugins.core) is example_driver.ExampleCorePlugin
    assert type(plugins.l3) is example_driver.ExampleL3Plugin
    assert plugins.l3.core_plugin is plugins.core
    assert plugins.core.events is plugins.l3.events is plugins.events


def test_the_loaded_example_audits_changes_with_its_configured_bound(config_from_file: ConfigFromFile) -> None:
    plugins = load_plugins(config_from_file(EXAMPLE_CONFIG))
    context = RequestContext(project_id="project-a")

    network = plugins.core.create_network(context, {"name": "net"})
    router = plugins.l3.create_router(context, {"name": "router"})

    assert isinstance(plugins.core, example_driver.ExampleCorePlugin)
    audit_log = plugins.core.audit_log
    assert audit_log.max_records == 3
    assert [record.resource_id for record in audit_log.records()] == [network.id, router.id]
