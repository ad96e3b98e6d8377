"""Where get-me-a-network records each project's topology.

A record exists from the moment a request *intends* to build a project's
topology, before anything is created, and lists the resources as they are
created. That gives three guarantees, in one process or across many sharing a
database:

* one builder per project: creating the record is the claim, and only the
  request whose ``create`` succeeded builds; the others wait for the record to
  become ``ready`` and return its network, so a loser never consumes a prefix;
* nothing is leaked for good: a builder that dies leaves a ``building`` record
  naming what it had made, and whoever finds that record with its owner gone
  removes those resources and builds afresh;
* no lost updates: every change is a compare-and-swap on ``version``.

A store is storage only; the rules live in
:class:`naas.auto_allocate.AutoAllocatedTopologyMixin`.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import os
import socket
import threading
import time
import uuid

__all__ = [
    "MemoryTopologyStore",
    "TopologyRecord",
    "TopologyStatus",
    "TopologyStore",
    "new_owner_token",
    "owner_is_dead",
]


class TopologyStatus(enum.StrEnum):
    BUILDING = "building"  # a request is creating (or repairing) the resources
    READY = "ready"  # the network is enabled and connected
    DELETING = "deleting"  # a request is removing the resources


@dataclasses.dataclass(frozen=True)
class TopologyRecord:
    """One project's topology, as far as it has been built.

    ``owner`` identifies the request building or deleting it
    (see :func:`new_owner_token`); ``lease_expires_at`` is a wall-clock time after
    which another request may assume the owner died. ``subnet_ids`` are known
    once the network's subnets exist; clean-up also asks the network for them.
    """

    project_id: str
    status: TopologyStatus
    owner: str | None = None
    lease_expires_at: float = 0.0
    network_id: str | None = None
    router_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    version: int = 1

    def is_abandoned(self, now: float | None = None) -> bool:
        """True when the owner is known dead or its lease ran out."""
        if self.status is TopologyStatus.READY or self.owner is None:
            return False
        now = time.time() if now is None else now
        return self.lease_expires_at < now or owner_is_dead(self.owner)


def new_owner_token() -> str:
    """``host:pid:random``: unique per request, and enough to tell a dead local owner at once."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


def owner_is_dead(owner: str) -> bool:
    """True if ``owner`` ran on this host in a process that no longer exists.

    Owners on other hosts are never declared dead here; their lease decides.
    """
    host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class TopologyStore(abc.ABC):
    """Storage for :class:`TopologyRecord`, one per project, with compare-and-swap updates."""

    @abc.abstractmethod
    def get(self, project_id: str) -> TopologyRecord | None:
        """The project's record, or None."""

    @abc.abstractmethod
    def create(self, record: TopologyRecord) -> bool:
        """Insert ``record``; False (and no change) if the project already has one."""

    @abc.abstractmethod
    def replace(self, expected: TopologyRecord, new: TopologyRecord) -> bool:
        """Store ``new`` (with ``version`` = expected.version + 1) if the stored record
        still has ``expected.version``; False, and no change, otherwise."""

    @abc.abstractmethod
    def remove(self, expected: TopologyRecord) -> bool:
        """Delete the record if it still has ``expected.version``; False otherwise."""

    @abc.abstractmethod
    def wait_for_change(self, project_id: str, seen_version: int | None, timeout: float) -> None:
        """Return when the project's record may differ from ``seen_version``, or after ``timeout`` seconds."""

    @abc.abstractmethod
    def list_abandoned(self) -> list[TopologyRecord]:
        """Records whose owner died or whose lease ran out (for an operator's clean-up command)."""


class MemoryTopologyStore(TopologyStore):
    """In-process store; waiting is a condition variable, so waiters wake at once."""

    def __init__(self) -> None:
        self._records: dict[str, TopologyRecord] = {}
        self._changed = threading.Condition()

    def get(self, project_id: str) -> TopologyRecord | None:
        with self._changed:
            return self._records.get(project_id)

    def create(self, record: TopologyRecord) -> bool:
        with self._changed:
            if record.project_id in self._records:
                return False
            self._records[record.project_id] = record
            self._changed.notify_all()
            return True

    def replace(self, expected: TopologyRecord, new: TopologyRecord) -> bool:
        with self._changed:
            current = self._records.get(expected.project_id)
            if current is None or current.version != expected.version:
                return False
            self._records[expected.project_id] = dataclasses.replace(new, version=expected.version + 1)
            self._changed.notify_all()
            return True

    def remove(self, expected: TopologyRecord) -> bool:
        with self._changed:
            current = self._records.get(expected.project_id)
            if current is None or current.version != expected.version:
                return False
            del self._records[expected.project_id]
            self._changed.notify_all()
            return True

    def wait_for_change(self, project_id: str, seen_version: int | None, timeout: float) -> None:
        def changed() -> bool:
            current = self._records.get(project_id)
            return (current.version if current else None) != seen_version

        with self._changed:
            self._changed.wait_for(changed, timeout)

    def list_abandoned(self) -> list[TopologyRecord]:
        with self._changed:
            records = list(self._records.values())
        return [record for record in records if record.is_abandoned()]
