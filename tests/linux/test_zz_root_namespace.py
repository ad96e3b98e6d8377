"""Runs after the other linux tests (by name): the host's root namespace is as the first linux test found it."""

from __future__ import annotations

from naas_plugins.linux.testing import require_linux
from tests.linux import helpers
from tests.linux.root_namespace import snapshot


def test_the_root_namespace_is_unchanged_by_the_linux_tests() -> None:
    require_linux()
    before = helpers.ROOT_SNAPSHOT["before"]
    assert before is not None, "the session fixture took no snapshot"
    after = snapshot()
    for what in before:
        assert after[what] == before[what], f"the root namespace's {what} changed during the linux tests"
