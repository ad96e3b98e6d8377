"""The example third-party driver, chosen the way an operator would: by alias, in a config file.

It is a separate distribution (examples/naas-example-driver); these tests skip
unless it is installed, since only installing it registers its entry points.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from oslo_config import cfg

from naas import RequestContext
from naas.loading import (
    BACKENDS_NAMESPACE,
    CORE_NAMESPACE,
    L3_NAMESPACE,
    OBSERVERS_NAMESPACE,
    installed_aliases,
    load_plugins,
)

example_driver = pytest.importorskip(
    "naas_example_driver",
    reason="naas-example-driver is not installed; run: pip install -e examples/naas-example-driver",
)

ConfigFromFile = Callable[[str], cfg.ConfigOpts]  # the conftest fixture config_from_file

EXAMPLE_CONFIG = """
    [DEFAULT]
    core_plugin = example
    l3_plugin = example
    observers = example-audit
    backends = example

    [example]
    state_file = {state_file}
    audit_max_records = 3
"""


@pytest.mark.parametrize(
    ("namespace", "alias"),
    [
        (CORE_NAMESPACE, "example"),
        (L3_NAMESPACE, "example"),
        (OBSERVERS_NAMESPACE, "example-audit"),
        (BACKENDS_NAMESPACE, "example"),
    ],
)
def test_the_example_registers_its_aliases(namespace: str, alias: str) -> None:
    assert alias in installed_aliases(namespace)


def test_the_config_file_selects_the_example_at_every_level(config_from_file: ConfigFromFile, tmp_path: Path) -> None:
    with load_plugins(config_from_file(EXAMPLE_CONFIG.format(state_file=tmp_path / "state.json"))) as plugins:
        assert type(plugins.core) is example_driver.ExampleCorePlugin
        assert type(plugins.l3) is example_driver.ExampleL3Plugin
        assert plugins.l3.core_plugin is plugins.core
        assert plugins.core.events is plugins.l3.events is plugins.events
        assert type(plugins.observers["example-audit"]) is example_driver.AuditLog
        assert type(plugins.backends.backends["example"]) is example_driver.MtuLimitedBackend


def test_the_loaded_example_keeps_its_state_in_the_file_and_audits_changes(
    config_from_file: ConfigFromFile, tmp_path: Path
) -> None:
    config = EXAMPLE_CONFIG.format(state_file=tmp_path / "state.json")
    context = RequestContext(project_id="project-a")
    with load_plugins(config_from_file(config)) as plugins:
        network = plugins.core.create_network(context, {"name": "net"})
        router = plugins.l3.create_router(context, {"name": "router"})
        audit_log = plugins.observers["example-audit"]

        assert isinstance(audit_log, example_driver.AuditLog)
        assert audit_log.max_records == 3
        assert [record.resource_id for record in audit_log.records()] == [network.id, router.id]

    with load_plugins(config_from_file(config)) as reloaded:
        assert reloaded.core.get_network(context, network.id) == network
        assert reloaded.l3.get_router(context, router.id) == router
