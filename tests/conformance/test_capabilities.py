"""Capabilities are declared on the plugin class; the suites read them, and a typo is an error, never ignored."""

from __future__ import annotations

import re
import sys
import types
import unittest
from collections.abc import Iterator
from typing import Any

import pytest

from naas.capabilities import CORE_CAPABILITIES, L3_CAPABILITIES, Capability, check_capabilities
from naas.exceptions import PluginLoadError
from naas.loading import CORE_NAMESPACE, load_plugin_class
from naas.plugins import CorePlugin, L3Plugin
from naas.testing import CorePluginConformance, L3PluginConformance
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin

from .mutants import outcome, run_one


class WithoutQuotas(MemoryCorePlugin):
    CAPABILITIES = MemoryCorePlugin.CAPABILITIES - {Capability.SUBNETPOOL_QUOTAS}


class WithoutIPv6Routing(MemoryL3Plugin):
    CAPABILITIES = L3Plugin.CAPABILITIES - {Capability.IPV6}


class MisspeltAsString(MemoryCorePlugin):
    CAPABILITIES = frozenset({"subnetpol_quotas"})  # type: ignore[assignment]


class DeclaresFloatingIPsOnACore(MemoryCorePlugin):
    CAPABILITIES = CORE_CAPABILITIES | {Capability.FLOATINGIPS}


def core_suite(plugin_class: type[CorePlugin]) -> type[unittest.TestCase]:
    class CoreSuite(CorePluginConformance, unittest.TestCase):
        __test__ = False

        def make_core_plugin(self) -> CorePlugin:
            return plugin_class()  # type: ignore[call-arg]

    return CoreSuite


def l3_suite(l3_class: type[MemoryL3Plugin]) -> type[unittest.TestCase]:
    class L3Suite(L3PluginConformance, unittest.TestCase):
        __test__ = False

        def make_plugins(self) -> tuple[CorePlugin, L3Plugin]:
            core = MemoryCorePlugin()
            return core, l3_class(core)

    return L3Suite


def test_the_interfaces_declare_their_whole_contract() -> None:
    assert CorePlugin.CAPABILITIES == CORE_CAPABILITIES
    assert L3Plugin.CAPABILITIES == L3_CAPABILITIES


def test_the_bundled_plugins_declare_what_they_support() -> None:
    assert check_capabilities(MemoryCorePlugin, CORE_CAPABILITIES) == CORE_CAPABILITIES
    assert check_capabilities(SqlCorePlugin, CORE_CAPABILITIES) == CORE_CAPABILITIES
    assert check_capabilities(MemoryL3Plugin, L3_CAPABILITIES) == L3_CAPABILITIES
    assert check_capabilities(SqlL3Plugin, L3_CAPABILITIES) == L3_CAPABILITIES


def test_a_test_of_what_the_plugin_leaves_out_is_skipped_naming_plugin_and_capability() -> None:
    quota_test = "test_subnetpool_quota_counts_the_requesting_project_only"
    assert outcome(run_one(core_suite(WithoutQuotas), quota_test)) == (
        "skipped: WithoutQuotas does not declare Capability.SUBNETPOOL_QUOTAS"
    )
    assert outcome(run_one(core_suite(MemoryCorePlugin), quota_test)) == "passed"
    assert (
        outcome(run_one(core_suite(WithoutQuotas), "test_subnet_from_pool_gets_default_prefixlen_lowest_first"))
        == "passed"
    )


def test_a_capability_both_plugins_may_declare_is_needed_from_both() -> None:
    ipv6_interface = "test_interface_on_ipv6_subnet"
    assert outcome(run_one(l3_suite(WithoutIPv6Routing), ipv6_interface)) == (
        "skipped: WithoutIPv6Routing does not declare Capability.IPV6"
    )
    assert outcome(run_one(l3_suite(MemoryL3Plugin), ipv6_interface)) == "passed"


def test_a_misspelt_member_fails_when_the_class_is_defined() -> None:
    with pytest.raises(AttributeError, match="SUBNETPOL_QUOTAS"):

        class Misspelt(MemoryCorePlugin):
            CAPABILITIES = CorePlugin.CAPABILITIES - {Capability.SUBNETPOL_QUOTAS}  # type: ignore[attr-defined]


def test_a_flag_on_the_test_case_fails_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="sets supports_subnetpol_quotas: the suites no longer read flags"):

        class OldStyle(CorePluginConformance, unittest.TestCase):
            supports_subnetpol_quotas = False


@pytest.mark.parametrize(
    ("plugin_class", "message"),
    [
        (
            MisspeltAsString,
            r"holds 'subnetpol_quotas', which is no .*Capability \(did you mean .*SUBNETPOOL_QUOTAS\?\)",
        ),
        (DeclaresFloatingIPsOnACore, r"holds Capability.FLOATINGIPS, which this kind of plugin cannot declare"),
    ],
)
def test_an_undeclarable_entry_fails_every_suite_test_before_it_runs(
    plugin_class: type[CorePlugin], message: str
) -> None:
    result = outcome(run_one(core_suite(plugin_class), "test_network_create_gives_a_uuid"))
    assert result.startswith("error:"), result
    assert re.search(message, result), result


@pytest.fixture
def plugin_module() -> Iterator[types.ModuleType]:
    module = types.ModuleType("naas_capability_fixture")
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


@pytest.mark.parametrize("declared", [frozenset({"subnetpol_quotas"}), {Capability.FLOATINGIPS}, ("ipv6",)])
def test_the_loader_refuses_an_undeclarable_entry(plugin_module: types.ModuleType, declared: Any) -> None:
    plugin_module.Plugin = type(
        "Plugin", (MemoryCorePlugin,), {"CAPABILITIES": declared, "__module__": plugin_module.__name__}
    )
    with pytest.raises(PluginLoadError) as caught:
        load_plugin_class(CORE_NAMESPACE, "naas_capability_fixture:Plugin", CorePlugin)  # type: ignore[type-abstract]
    assert "naas_capability_fixture.Plugin.CAPABILITIES" in caught.value.reason
    assert load_plugin_class(CORE_NAMESPACE, "memory", CorePlugin) is MemoryCorePlugin  # type: ignore[type-abstract]
