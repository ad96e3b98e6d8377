"""What the standard-attribute tests of both suites share: a clock the test moves, and the checks."""

from __future__ import annotations

import datetime
import re
from typing import Any

from naas.resources import Resource

__all__ = ["TIMESTAMP", "ManualClock", "set_clock"]

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
"""How ``created_at`` and ``updated_at`` are spelled: UTC, to the second, as Neutron prints them."""


class ManualClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, start: datetime.datetime) -> None:
        self.now = start

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


def set_clock(plugin: Any, clock: ManualClock) -> bool:
    """Make ``plugin`` read the time from ``clock``, if it lets a test do that (``naas.rules.CoreRules.clock``)."""
    if not hasattr(plugin, "clock"):
        return False
    plugin.clock = clock
    return True


def standard(resource: Resource) -> tuple[Any, ...]:
    """A resource's standard attributes, in :data:`naas.resources.STANDARD_ATTRIBUTES` order."""
    return tuple(
        getattr(resource, name) for name in ("description", "tags", "created_at", "updated_at", "revision_number")
    )
