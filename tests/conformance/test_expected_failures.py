"""``expected_failures`` on a test case: known failures run as such, a fixed one is reported, a typo is an error."""

from __future__ import annotations

import unittest

import pytest

from naas.plugins import CorePlugin
from naas.testing import CorePluginConformance
from naas_plugins.memory import MemoryCorePlugin

from .mutants import PlugsIntoAnyVisibleNetwork, run_one

BROKEN_RULE = "test_isolation_port_on_an_external_network_that_is_not_shared_raises_not_authorized"


def suite_expecting(plugin_class: type[MemoryCorePlugin], names: dict[str, str]) -> type[unittest.TestCase]:
    class Suite(CorePluginConformance, unittest.TestCase):
        __test__ = False
        expected_failures = names

        def make_core_plugin(self) -> CorePlugin:
            return plugin_class()

    return Suite


def test_a_known_failure_runs_as_an_expected_failure() -> None:
    result = run_one(
        suite_expecting(PlugsIntoAnyVisibleNetwork, {BROKEN_RULE: "the mutant plugs anywhere"}), BROKEN_RULE
    )
    assert (len(result.expectedFailures), result.failures, result.errors) == (1, [], [])
    assert "expected it to raise NotAuthorized" in result.expectedFailures[0][1]


def test_a_known_failure_that_passes_is_reported_as_an_unexpected_success() -> None:
    result = run_one(suite_expecting(MemoryCorePlugin, {BROKEN_RULE: "fixed since"}), BROKEN_RULE)
    assert len(result.unexpectedSuccesses) == 1 and not result.wasSuccessful()


def test_the_other_tests_of_the_suite_are_unaffected() -> None:
    suite = suite_expecting(PlugsIntoAnyVisibleNetwork, {BROKEN_RULE: "the mutant plugs anywhere"})
    result = run_one(suite, "test_isolation_port_on_another_projects_external_network_raises_not_authorized")
    assert len(result.failures) == 1 and not result.expectedFailures


def test_a_name_that_is_no_test_of_the_suite_fails_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="names 'test_isolation_port_on_an_external_netwrok', which is no test"):
        suite_expecting(MemoryCorePlugin, {"test_isolation_port_on_an_external_netwrok": "typo"})
