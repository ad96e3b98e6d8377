"""An audit log of every stored change: a naas observer, attached by the loader.

Selected with ``observers = example-audit``; it receives the ``AFTER_*``
events of every resource type (the :class:`~naas.observers.Observer`
default), so it records changes that were stored, never ones that were
refused or failed. It only watches: whatever it raised would be logged and
dropped by naas, and the change would stand.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import logging
import threading
from typing import Self

from oslo_config import cfg

from naas import Event, EventPayload, ResourceType
from naas.observers import Observer
from naas_example_driver import opts

__all__ = ["AuditLog", "AuditRecord"]

LOG = logging.getLogger(__name__)

# How a log line names each event an observer receives.
_VERBS = {Event.AFTER_CREATE: "created", Event.AFTER_UPDATE: "updated", Event.AFTER_DELETE: "deleted"}


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


class AuditLog(Observer):
    """The most recent ``max_records`` stored changes, oldest first, each also logged at INFO."""

    def __init__(self, max_records: int | None = opts.DEFAULT_AUDIT_MAX_RECORDS) -> None:
        self._lock = threading.Lock()
        self._records: collections.deque[AuditRecord] = collections.deque(maxlen=max_records)

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> Self:
        opts.register_opts(conf)
        return cls(max_records=conf[opts.GROUP].audit_max_records)

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

    def observe(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
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
            _VERBS.get(event, event.value),
            record.project_id,
            " as admin" if record.is_admin else "",
            record.request_id,
        )
