"""naas_plugins.ovn.testing: without OVN a test skips with the reason, unless NAAS_TEST_REQUIRE_BACKENDS names ovn."""

from __future__ import annotations

import unittest
from pathlib import Path

import pytest

from naas_plugins.ovn.testing import REQUIRE_ENVIRONMENT_VARIABLE, OvnUnavailable, require_ovn
from naas_plugins.sql.testing import required_backends


def test_without_the_programs_a_test_skips_naming_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(REQUIRE_ENVIRONMENT_VARIABLE, "postgresql")
    with pytest.raises(unittest.SkipTest) as skipped:
        require_ovn()
    assert "OVN unavailable: missing the program ovsdb-server" in str(skipped.value)
    assert "ovn-northd" in str(skipped.value) and "apt-get install ovn-central" in str(skipped.value)


def test_when_ovn_is_required_its_absence_fails_the_test(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(REQUIRE_ENVIRONMENT_VARIABLE, "postgresql, OVN")
    with pytest.raises(OvnUnavailable) as failed:
        require_ovn()
    assert isinstance(failed.value, AssertionError)  # a failure, not a skip
    assert REQUIRE_ENVIRONMENT_VARIABLE in str(failed.value)


def test_the_sql_helpers_accept_ovn_in_the_same_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENVIRONMENT_VARIABLE, "postgresql,mysql,linux,ovn")
    # Accepted, not an unknown name; the sql helpers answer for their own databases only.
    assert required_backends() == frozenset({"postgresql", "mysql"})
