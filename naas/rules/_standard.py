"""Neutron's standard attributes, kept by the rules for every storage alike.

``created_at`` and ``updated_at`` are set, and ``revision_number`` counted, here
and nowhere else: a storage keeps what it is given. Every update the rules write
(a user's, and the ones they make on a user's behalf, such as a floating IP let
go of when its port is deleted) moves ``updated_at`` and adds one to
``revision_number``, whether or not any other attribute changed, as Neutron's
revision plugin does for every row an update touches. The ``status`` the
dataplane bookkeeping sets after a backend failed is not counted.

``if_revision`` is checked on the row read ``for_update`` in the unit of work that
writes, so no other writer can slip between the check and the write.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any, TypeVar

from naas.exceptions import BadRequest, RevisionMismatch
from naas.requests import UNSET
from naas.resources import Resource, format_timestamp

__all__ = ["Clock", "check_revision", "created_attributes", "parse_revision", "revised", "utc_now"]

R = TypeVar("R", bound=Resource)

Clock = Callable[[], datetime.datetime]
"""What the rules read the time from: an aware datetime (tests give one they move by hand)."""


def utc_now() -> datetime.datetime:
    """The current time, in UTC: the default :data:`Clock`."""
    return datetime.datetime.now(datetime.UTC)


def parse_revision(resource: str, if_revision: Any) -> int | None:
    """Check an ``if_revision`` argument: None (no precondition) or a revision number, an int of at least 0."""
    if if_revision is None:
        return None
    if isinstance(if_revision, bool) or not isinstance(if_revision, int):
        raise BadRequest(resource, "if_revision", f"must be an integer revision_number, not {if_revision!r:.64}")
    if if_revision < 0:
        raise BadRequest(resource, "if_revision", f"{if_revision} is below 0, the first revision_number")
    return if_revision


def check_revision(current: Resource, if_revision: int | None) -> None:
    """Raise RevisionMismatch when the caller required a revision ``current`` is not at."""
    actual = getattr(current, "revision_number")  # noqa: B009 - Resource itself has no standard attributes
    if if_revision is not None and if_revision != actual:
        raise RevisionMismatch(current.RESOURCE, getattr(current, "id"), if_revision, actual)  # noqa: B009


def created_attributes(request: Any, clock: Clock) -> dict[str, Any]:
    """The standard attributes of a resource ``request`` creates: revision 0, created and updated now."""
    now = format_timestamp(clock())
    return {
        "description": request.description,
        "tags": request.tags,
        "created_at": now,
        "updated_at": now,
        "revision_number": 0,
    }


def revised(current: R, updated: R, clock: Clock, request: Any = None) -> R:
    """``updated`` as the next revision of ``current``, with the description and tags ``request`` gives."""
    changes: dict[str, Any] = {
        "revision_number": getattr(current, "revision_number") + 1,  # noqa: B009
        "updated_at": format_timestamp(clock()),
    }
    for name in ("description", "tags"):
        value = getattr(request, name, UNSET)
        if value is not UNSET:
            changes[name] = value
    return dataclasses.replace(updated, **changes)
