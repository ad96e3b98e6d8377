"""The network backend contract and what its ``sync`` reports."""

from __future__ import annotations

import abc
import dataclasses
import enum
from typing import TYPE_CHECKING, ClassVar, Self

from naas.backends._capabilities import Capability
from naas.events import ResourceType

if TYPE_CHECKING:
    from oslo_config import cfg

    from naas.backends._changes import Change, DataplaneState

__all__ = ["NetworkBackend", "Repair", "RepairAction", "Status", "SyncFailure", "SyncReport"]


class Status(enum.StrEnum):
    """The ``status`` of networks, ports, routers and floating IPs."""

    BUILD = "BUILD"
    """Stored; the backends have not confirmed it yet."""
    ACTIVE = "ACTIVE"
    """Every backend realized it."""
    DOWN = "DOWN"
    """Realized, with ``admin_state_up`` false (or, for a floating IP, not associated)."""
    ERROR = "ERROR"
    """A backend failed to realize it; the next sync repairs it."""


class RepairAction(enum.StrEnum):
    """What a :class:`Repair` did (or would do) to the dataplane."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclasses.dataclass(frozen=True)
class Repair:
    """One thing sync changed (or, when reporting only, would change) in the dataplane.

    ``DELETED`` repairs name what the dataplane held but storage does not
    (a leftover of a delete whose postcommit failed).
    """

    resource_type: ResourceType
    resource_id: str
    action: RepairAction
    detail: str = ""

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.action.value} {self.resource_type.value} {self.resource_id}{detail}"


@dataclasses.dataclass(frozen=True)
class SyncFailure:
    """A resource that sync could not bring in line; it stays as it was in the dataplane."""

    resource_type: ResourceType
    resource_id: str
    error: Exception

    def __str__(self) -> str:
        return f"{self.resource_type.value} {self.resource_id}: {self.error}"


@dataclasses.dataclass(frozen=True)
class SyncReport:
    """What one backend's sync did: ``repairs`` made (or needed), and resources it ``failures`` to repair.

    Every resource not named in ``failures`` matches the stored state once
    sync returns (when repairing). An empty report means the dataplane
    already matched.
    """

    repairs: tuple[Repair, ...] = ()
    failures: tuple[SyncFailure, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.repairs or self.failures)


class NetworkBackend(abc.ABC):
    """Programs a dataplane (Linux, OVN, hardware) from the changes the rules store.

    A backend is loaded by name from ``[DEFAULT] backends`` (entry-point
    namespace ``naas.backends``, or ``package.module:Class``) and driven by a
    :class:`~naas.backends.BackendChain`. The rules own every decision; a
    backend only realizes what was decided, from the typed
    :class:`~naas.backends.Change` alone, never calling the plugins.

    ``CAPABILITIES`` (a frozenset of :class:`Capability`, on the class so the
    loader checks and logs it before building anything) says what it
    realizes. It receives the changes of the resource types it declares
    (``NETWORKS``, ``PORTS``, ``ROUTERS``, ``FLOATING_IPS``) and no others,
    and the chain refuses, before the backend is asked, a change that uses a
    feature (``DHCP``, ``GATEWAYS``, ``INTERFACES``, ``SNAT``, ``IPV6``) it
    does not declare.

    The calls, for each change:

    1. :meth:`precommit`, inside the plugin's unit of work, before anything is
       committed. Validate only: no I/O, no blocking, no change to the
       dataplane; a storage may retry the unit of work, so precommit may be
       called more than once for one change.
    2. :meth:`postcommit`, after the commit. Program the dataplane.
    3. :meth:`sync`, at start-up, after errors and on an operator's command
       (``naas backend sync``).

    Methods may be called from several threads at once; a backend that is not
    thread-safe serializes its calls itself.
    """

    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset()

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> Self:
        """Build the backend from the loaded configuration; the loader calls this.

        The default ignores ``conf``; backends with options (a controller's
        address) override it. Connecting may happen here or on first use.
        """
        return cls()

    def precommit(self, change: Change) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Refuse a change this backend cannot realize; runs inside the unit of work.

        Raise a :class:`~naas.exceptions.NaasError` (``BadRequest`` naming the
        attribute, ``Conflict``) to refuse: the unit of work rolls back and
        nothing is stored. Must not do I/O or touch the dataplane. The default
        accepts everything.
        """

    @abc.abstractmethod
    def postcommit(self, change: Change) -> None:
        """Make the dataplane hold ``change.after`` for this resource (remove it when ``after`` is None).

        Runs after the commit; may block. Idempotent: called twice with one
        change, or with a change whose effect is already in the dataplane (a
        retry, a sync that ran in between), the second call succeeds and
        changes nothing. ``change.before`` says what to remove, but the
        dataplane may not hold it (an earlier failure): converge to ``after``
        either way.

        Raise any exception on failure. The stored change is never undone: the
        rules set the resource's status to ERROR and :meth:`sync` repairs it.
        """

    @abc.abstractmethod
    def sync(self, state: DataplaneState, *, repair: bool = True) -> SyncReport:
        """Make the dataplane match ``state`` and report every difference found.

        ``state`` holds every stored resource of the types this backend
        declares. Resources the dataplane lacks or holds differently are
        created or updated; what it holds for resources not in ``state`` is
        deleted. With ``repair=False`` nothing is changed and the report says
        what would be. On an already-matching dataplane the report is empty.
        A resource that cannot be repaired goes in ``failures`` and the others
        are still repaired; raise only when nothing could be examined (the
        controller is unreachable).
        """

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Release what the backend holds (connections, helper processes). Idempotent."""
