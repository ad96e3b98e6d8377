"""A driver whose plugin breaks a rule sees one clean failure, under plain pytest and under ``python -m unittest``.

The driver's test module is written as the driver guide shows it
(``unittest.TestCase`` as the base), run in a separate interpreter, and its
output read: the suite's message about the rule, and no unrelated traceback
(testtools' representation, an exception raised while handling another) before it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DRIVER_TESTS = textwrap.dedent(
    """
    import unittest

    import naas.testing
    from naas.exceptions import NotFound
    from naas_plugins.memory import MemoryCorePlugin


    class PlugsIntoExternalNetworks(MemoryCorePlugin):
        def create_port(self, context, port):
            return super().create_port(context.elevated(), port)


    class HidesExternalNetworks(MemoryCorePlugin):
        def create_port(self, context, port):
            raise NotFound("network", dict(port)["network_id"])


    class TestPlugsIntoExternalNetworks(naas.testing.CorePluginConformance, unittest.TestCase):
        def make_core_plugin(self):
            return PlugsIntoExternalNetworks()


    class TestHidesExternalNetworks(naas.testing.CorePluginConformance, unittest.TestCase):
        def make_core_plugin(self):
            return HidesExternalNetworks()
    """
)

TEST_NAME = "test_isolation_port_on_an_external_network_that_is_not_shared_raises_not_authorized"

CASES = [
    pytest.param("TestPlugsIntoExternalNetworks", "returned Port(", "expected it to raise NotAuthorized", id="returns"),
    pytest.param("TestHidesExternalNetworks", "raised NotFound (", "expected NotAuthorized", id="raises-another-error"),
]

UNRELATED = ("Incompatible Exception Representation", "_StringException", "During handling of the above exception")


def run(tmp_path: Path, *command: str) -> str:
    (tmp_path / "test_driver.py").write_text(DRIVER_TESTS)
    finished = subprocess.run(
        [sys.executable, *command], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert finished.returncode == 1, finished.stdout + finished.stderr
    return finished.stdout + finished.stderr


def assert_clean(output: str, *messages: str) -> None:
    assert all(message in output for message in messages), output
    assert not [text for text in UNRELATED if text in output], output


@pytest.mark.parametrize(("case", "what", "expected"), CASES)
def test_one_clean_failure_under_pytest(tmp_path: Path, case: str, what: str, expected: str) -> None:
    output = run(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"test_driver.py::{case}::{TEST_NAME}")
    assert_clean(output, what, expected)
    assert "1 failed" in output and "AssertionError" in output, output


@pytest.mark.parametrize(("case", "what", "expected"), CASES)
def test_one_clean_failure_under_unittest(tmp_path: Path, case: str, what: str, expected: str) -> None:
    output = run(tmp_path, "-m", "unittest", f"test_driver.{case}.{TEST_NAME}")
    assert_clean(output, what, expected)
    assert "FAILED (failures=1)" in output, output
