"""An audit log of every change, fed by naas's lifecycle events.

It subscribes to the ``AFTER_*`` events of every resource type, so it records
changes that were stored, never ones a ``BEFORE_*`` subscriber vetoed or that
failed. It only listens: an ``AFTER_*`` subscriber cannot undo a change, and
if it raised, the registry would log and swallow the error.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import logging
import threading

from naas import Event, EventPayload, EventRegistry, ResourceType

__all__ = ["AFTER_EVENTS", "AuditLog", "AuditRecord"]

LOG = logging.getLogger(__name__)

# The events the log subscribes to, and how a log line names each.
_VERBS = {Event.AFTER_CREATE: "created", Event.AFTER_UPDATE: "updated", Event.AFTER_DELETE: "deleted"}
AFTER_EVENTS = tuple(_VERBS)


@dataclasses.dataclass(frozen=True)
class AuditRecord:
    """One stored change: who (project, admin, request), what (resource, event, id) and when (UTC)."""

    at: datetime.datetime
    request_id: str
    project_id: str
    is_admin: bool
    resource: ResourceType
    event: Event
    resource_id: str | None


class AuditLog:
    """The most recent ``max_records`` changes published on ``events``, oldest first."""

    def __init__(self, events: EventRegistry, max_records: int | None = None) -> None:
        self._events = events
        self._lock = threading.Lock()
        self._records: collections.deque[AuditRecord] = collections.deque(maxlen=max_records)
        for resource in ResourceType:
            for event in AFTER_EVENTS:
                events.subscribe(resource, event, self._record)

    @property
    def max_records(self) -> int | None:
        return self._records.maxlen

    def records(self, *, project_id: str | None = None, resource: ResourceType | None = None) -> list[AuditRecord]:
        """The kept records, oldest first, optionally only one project's or one resource type's."""
        with self._lock:
            kept = list(self._records)
        return [
            record
            for record in kept
            if (project_id is None or record.project_id == project_id)
            and (resource is None or record.resource is resource)
        ]

    def close(self) -> None:
        """Stop recording; the records kept so far stay readable."""
        for resource in ResourceType:
            for event in AFTER_EVENTS:
                self._events.unsubscribe(resource, event, self._record)

    def _record(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        result_id = getattr(payload.result, "id", None)
        record = AuditRecord(
            at=datetime.datetime.now(datetime.UTC),
            request_id=payload.context.request_id,
            project_id=payload.context.project_id,
            is_admin=payload.context.is_admin,
            resource=resource,
            event=event,
            resource_id=payload.resource_id if payload.resource_id is not None else result_id,
        )
        with self._lock:
            self._records.append(record)
        LOG.info(
            "%s %s %s by project %s%s (%s)",
            resource.value,
            record.resource_id,
            _VERBS[event],
            record.project_id,
            " as admin" if record.is_admin else "",
            record.request_id,
        )
