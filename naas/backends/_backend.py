"""The network backend contract and what its ``sync`` reports."""

from __future__ import annotations

import abc
import dataclasses
import enum
from typing import TYPE_CHECKING, ClassVar, Self

from naas.backends._capabilities import Capability
from naas.events import ResourceType

if TYPE_CHECKING:
    from collections.abc import Sequence

    from oslo_config import cfg

    from naas.backends._changes import Change, DataplaneState

__all__ = ["ChangeFailure", "NetworkBackend", "Repair", "RepairAction", "Status", "SyncFailure", "SyncReport"]


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
class ChangeFailure:
    """A change of a batch (:meth:`NetworkBackend.postcommit_all`) that the backend failed to program, and why."""

    change: Change
    error: Exception

    def __str__(self) -> str:
        return f"{self.change.describe()}: {self.error}"


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
    2. :meth:`postcommit_all`, after the commit, with every change of the
       unit of work at once (one plugin call: a router with its gateway is a
       port change and a router change). Program the dataplane. The default
       calls :meth:`postcommit` for each change in order; a backend that can
       program several changes at once (one controller transaction) overrides
       it.
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

    def postcommit_all(self, changes: Sequence[Change]) -> Sequence[ChangeFailure]:
        """Program every change of one unit of work, in order; return those that failed, each with its error.

        ``changes`` are the changes of the types this backend declares, in the
        order the unit of work made them (a port before the router that uses
        it); one resource may appear more than once. The same rules as
        :meth:`postcommit` hold for each change (idempotent, converge to
        ``after``, never undo). Every change is attempted, whatever happened
        to the ones before it, and a failure is attributed to the change that
        caused it, not to the whole batch: a backend that writes the batch at
        once and sees it refused retries change by change (or otherwise finds
        the culprit) before answering, since the rules set ERROR on exactly
        the resources of the returned changes and ACTIVE on the others. Each
        returned :class:`ChangeFailure` holds one of the given ``Change``
        objects itself. Raising instead counts as every change failing.

        The default calls :meth:`postcommit` for each change, in order, and
        collects what raised; a backend need not override it.
        """
        failures = []
        for change in changes:
            try:
                self.postcommit(change)
            except Exception as error:
                failures.append(ChangeFailure(change, error))
        return failures

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
