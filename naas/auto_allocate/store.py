"""Where get-me-a-network records each project's topology.

A record exists from the moment a request *intends* to build a project's
topology, before anything is created, and names each resource before it is
created. That gives three guarantees, in one process or across many sharing a
database:

* one builder per project: creating the record is the claim, and only the
  request whose ``create`` succeeded builds; the others wait for the record to
  become ``ready`` and return its network, so a loser never consumes a prefix;
* nothing is leaked for good, and nothing else is taken: a builder writes the
  id of each network and router into the record *before* creating it, so a
  builder that dies leaves a ``building`` record naming everything it made;
  whoever finds that record abandoned (its lease ran out, or its owner is
  known dead) removes exactly those resources and builds afresh;
* no lost updates: every change is a compare-and-swap on ``version``.

A store is storage only; the rules live in
:class:`naas.auto_allocate.AutoAllocatedTopologyMixin`.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import functools
import os
import socket
import threading
import time
import uuid
from typing import ClassVar

__all__ = [
    "MemoryTopologyStore",
    "OwnerToken",
    "TopologyRecord",
    "TopologyStatus",
    "TopologyStore",
    "new_owner_token",
    "owner_is_dead",
]


class TopologyStatus(enum.StrEnum):
    """Where a project's topology stands: being built, ready, or being deleted."""

    BUILDING = "building"  # a request is creating (or repairing) the resources
    READY = "ready"  # the network is enabled and connected
    DELETING = "deleting"  # a request is removing the resources


@dataclasses.dataclass(frozen=True)
class TopologyRecord:
    """One project's topology, as far as it has been built.

    ``owner`` identifies the request building or deleting it
    (see :class:`OwnerToken`); ``lease_expires_at`` is a wall-clock time after
    which another request may assume the owner died. ``network_id`` and
    ``router_id`` are written *before* the resources are created, under ids the
    builder chose, so they name exactly what the build made or may have made. ``subnet_ids`` are known
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
        """True when the lease ran out, or the owner is known dead (:meth:`OwnerToken.is_dead`)."""
        if self.status is TopologyStatus.READY or self.owner is None:
            return False
        now = time.time() if now is None else now
        return self.lease_expires_at < now or owner_is_dead(self.owner)


@dataclasses.dataclass(frozen=True)
class OwnerToken:
    """Who holds a record: enough to tell, on the same machine, that the holder's process is gone.

    A process id means something only inside one PID namespace of one running
    kernel. Containers with host networking share the host name, and every
    container on a machine shares the kernel's boot id, but each has its own
    PID namespace; so a pid is checked only when the token's boot id *and* PID
    namespace are this process's. Anywhere else (another host, another
    container, a token that cannot be read) only the lease decides.
    """

    host: str
    boot_id: str  # the kernel's boot id, "" where the system does not expose one
    pid_namespace: str  # the PID namespace's inode number, "" where unknown
    pid: int
    nonce: str

    _FIELDS: ClassVar[int] = 5
    _HOST_LENGTH: ClassVar[int] = 64  # Linux's HOST_NAME_MAX; keeps tokens within the stores' columns

    @classmethod
    def current(cls) -> OwnerToken:
        """A new token for the calling process, unique per call."""
        host = socket.gethostname().replace(":", "_")[: cls._HOST_LENGTH]
        return cls(host, _boot_id(), _pid_namespace(), os.getpid(), uuid.uuid4().hex)

    @classmethod
    def parse(cls, text: str) -> OwnerToken | None:
        """The token ``str(token)`` wrote, or None for anything else (an older format, say)."""
        parts = text.split(":")
        if len(parts) != cls._FIELDS or not parts[3].isdigit():
            return None
        host, boot_id, pid_namespace, pid, nonce = parts
        return cls(host, boot_id, pid_namespace, int(pid), nonce)

    def __str__(self) -> str:
        return f"{self.host}:{self.boot_id}:{self.pid_namespace}:{self.pid}:{self.nonce}"

    def is_dead(self) -> bool:
        """True only when the holder shares this process's kernel boot and PID namespace and its pid is gone."""
        here_boot, here_namespace = _boot_id(), _pid_namespace()
        if not here_boot or not here_namespace:
            return False
        if (self.boot_id, self.pid_namespace) != (here_boot, here_namespace):
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except (PermissionError, OverflowError):
            return False
        return False


@functools.cache
def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as boot_id:
            return boot_id.read().strip()
    except OSError:
        return ""


@functools.cache
def _pid_namespace() -> str:
    # A process keeps its PID namespace for life (unshare and setns change only its children's).
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def new_owner_token() -> str:
    """A new owner token for the calling process (see :class:`OwnerToken`)."""
    return str(OwnerToken.current())


def owner_is_dead(owner: str) -> bool:
    """True only if ``owner`` is known dead (see :meth:`OwnerToken.is_dead`); otherwise its lease decides."""
    token = OwnerToken.parse(owner)
    return token is not None and token.is_dead()


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
