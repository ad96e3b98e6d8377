"""Network backends: what programs a dataplane from the changes the rules store.

Three roles meet here:

- a **backend** (:class:`NetworkBackend`) declares its :class:`Capability`
  set and implements ``precommit``, ``postcommit``, ``sync`` and ``close``
  (and may override ``postcommit_all`` to program a unit of work's changes at
  once);
- the **chain** (:class:`BackendChain`), built by :func:`naas.loading.load_plugins`
  from ``[DEFAULT] backends``, calls the configured backends in order;
- the **rules** (the core and L3 plugins written over a storage driver) call
  the chain; nothing else does.

What the rules call, for each network, port, router or floating IP they
change (subnets are part of their network; gateways and interfaces part of
their router)::

    chain: BackendChain                    # handed to the plugin's from_config(..., backends=chain)

    with storage.unit_of_work():           # the storage may retry the whole unit
        ...                                # checks and writes
        change = RouterChange(before=old_state, after=new_state, request_id=context.request_id)
        chain.precommit(change)            # raises a NaasError -> roll back, store nothing
        changes.append(change)             # ... one per resource the unit changes
    reports = chain.postcommit_all(changes)  # after the commit, all at once; never raises for a backend
    for report in reports:
        if report.failed:
            store status Status.ERROR on report.change.resource_id  (not for a delete: the row is gone)
        else:
            store Status.ACTIVE (or Status.DOWN when admin_state_up is false)

    # naas backend sync, start-up, after errors:
    result = chain.sync(DataplaneState(networks=..., ports=..., routers=..., floatingips=...), repair=True)
    for each stored resource in ERROR or BUILD: if result.realized(type, id): store ACTIVE/DOWN

- :meth:`BackendChain.precommit` ``(change: Change) -> None`` raises
  :class:`~naas.exceptions.BadRequest` (a backend receiving the change lacks
  a feature it uses, such as DHCP, SNAT or IPv6) or a backend's own
  ``NaasError``. No I/O.
- :meth:`BackendChain.postcommit_all` ``(changes: Sequence[Change]) ->
  tuple[PostcommitReport, ...]``, one report per change, in order: each
  backend receives its changes in one :meth:`NetworkBackend.postcommit_all`
  call, and every backend is called even after one fails;
  :meth:`BackendChain.postcommit` ``(change) -> PostcommitReport`` is the
  same for one change;
  ``report.failures`` is a tuple of :class:`BackendFailure` (``backend``,
  ``resource_type``, ``resource_id``, ``operation``, ``error``).
- :meth:`BackendChain.sync` ``(state: DataplaneState, *, repair: bool = True)
  -> ChainSyncReport``: ``repairs`` (backend name, :class:`Repair`),
  ``failures``, ``realized(resource_type, resource_id)``. With
  ``repair=False`` nothing changes and the report says what would.
- :meth:`BackendChain.close` ``() -> None``.

A change is a :class:`NetworkChange`, :class:`PortChange`,
:class:`RouterChange` or :class:`FloatingIPChange`, each holding typed states
(:class:`NetworkState`, :class:`PortState`, :class:`RouterState` with
:class:`RouterGateway` and :class:`RouterInterface`,
:class:`FloatingIPState`) that carry everything a dataplane needs. A delete
has ``after=None``, a create ``before=None``.

Backend authors test with :class:`naas.testing.backends.BackendConformance`
and can start from :class:`naas.testing.backends.RecordingBackend`.
"""

from naas.backends._backend import (
    ChangeFailure,
    NetworkBackend,
    Repair,
    RepairAction,
    Status,
    SyncFailure,
    SyncReport,
)
from naas.backends._capabilities import ROUTING, SWITCHING, Capability, check_capabilities
from naas.backends._chain import BackendChain, BackendFailure, ChainSyncReport, PostcommitReport, required_features
from naas.backends._changes import (
    Change,
    DataplaneState,
    FloatingIPChange,
    FloatingIPState,
    NetworkChange,
    NetworkState,
    Operation,
    PortChange,
    PortState,
    ResourceState,
    RouterChange,
    RouterGateway,
    RouterInterface,
    RouterState,
)

__all__ = [
    "ROUTING",
    "SWITCHING",
    "BackendChain",
    "BackendFailure",
    "Capability",
    "ChainSyncReport",
    "Change",
    "ChangeFailure",
    "DataplaneState",
    "FloatingIPChange",
    "FloatingIPState",
    "NetworkBackend",
    "NetworkChange",
    "NetworkState",
    "Operation",
    "PortChange",
    "PortState",
    "PostcommitReport",
    "Repair",
    "RepairAction",
    "ResourceState",
    "RouterChange",
    "RouterGateway",
    "RouterInterface",
    "RouterState",
    "Status",
    "SyncFailure",
    "SyncReport",
    "check_capabilities",
    "required_features",
]

# Public classes say they live here, so messages and the API reference name them as users import them.
for _public in (
    BackendChain,
    BackendFailure,
    Capability,
    ChainSyncReport,
    Change,
    ChangeFailure,
    DataplaneState,
    FloatingIPChange,
    FloatingIPState,
    NetworkBackend,
    NetworkChange,
    NetworkState,
    Operation,
    PortChange,
    PortState,
    PostcommitReport,
    Repair,
    RepairAction,
    RouterChange,
    RouterGateway,
    RouterInterface,
    RouterState,
    Status,
    SyncFailure,
    SyncReport,
):
    _public.__module__ = __name__
del _public
