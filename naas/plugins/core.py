"""The core plugin contract: networks, subnets, subnet pools, ports and their addresses.

A core plugin stores these resources and allocates their addresses and
prefixes (with :mod:`naas.ipam`). Every method takes the caller's
:class:`~naas.context.RequestContext` first and applies :mod:`naas.policy`.

Requests are given as the typed request (:mod:`naas.requests`) or as a mapping
keyed by wire names; an implementation turns a mapping into the request with
``parse`` before anything else, so malformed input is a
:class:`~naas.exceptions.BadRequest` naming the attribute and nothing is stored.

Transactions: each method is one atomic unit. When it raises, nothing it
did is kept (no resource, no address, no prefix); when it returns, all of it is
stored and visible to the next call from any thread (and, for plugins with
shared storage, any process). ``BEFORE_*`` events are published inside that
unit, before the first change, so a veto leaves nothing; ``AFTER_*`` events are
published after it has been committed.

Standard attributes: every resource has Neutron's ``description``, ``tags``,
``created_at``, ``updated_at`` and ``revision_number``
(:data:`naas.resources.STANDARD_ATTRIBUTES`). Create and update requests take
``description`` and ``tags`` (an update replaces the whole tag set). A resource
is created at revision 0, and every successful update adds one and moves
``updated_at``, even when no value changed. Every ``update_*`` and ``delete_*``
takes ``if_revision``: when it is given and the stored ``revision_number``
differs, the call raises :class:`~naas.exceptions.RevisionMismatch` (a
:class:`~naas.exceptions.PreconditionFailed`) and changes nothing; the check
is made in the same unit of work as the write. List filters take
``description``, ``revision_number`` and the tag filters ``tags``,
``tags-any``, ``not-tags`` and ``not-tags-any``.

Deletes are not idempotent: deleting what does not exist raises
:class:`~naas.exceptions.NotFound`, which callers cleaning up may ignore.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from oslo_config import cfg

from naas.auto_allocate.store import MemoryTopologyStore, TopologyStore
from naas.capabilities import CORE_CAPABILITIES, Capability
from naas.context import RequestContext
from naas.events import EventRegistry
from naas.exceptions import SubnetPoolExhausted, SubnetPoolQuotaExceeded
from naas.requests import (
    NetworkCreate,
    NetworkUpdate,
    PortCreate,
    PortUpdate,
    SubnetCreate,
    SubnetPoolCreate,
    SubnetPoolUpdate,
    SubnetUpdate,
)
from naas.resources import Network, Port, Subnet, SubnetPool

__all__ = ["CorePlugin", "Filters"]

_DEFAULT_STORE_LOCK = threading.Lock()

Filters = Mapping[str, Any]
"""Attribute wire name -> a value or an iterable of acceptable values (see ``naas.resources.filter_resources``)."""


class CorePlugin(abc.ABC):
    """Interface every core plugin implements."""

    #: What this plugin supports (see :mod:`naas.capabilities`): everything by default. A plugin
    #: declares less on its class, and the conformance suites skip the tests of what it leaves out.
    CAPABILITIES: ClassVar[frozenset[Capability]] = CORE_CAPABILITIES

    #: The lifecycle event registry this plugin publishes to.
    events: EventRegistry

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, events: EventRegistry) -> Self:
        """Build the plugin from the loaded configuration; the loader calls this.

        The default ignores ``conf``; plugins with options (a database URL)
        override it.
        """
        return cls(events=events)  # type: ignore[call-arg]

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Release what the plugin holds outside the process (database connections).

        Idempotent; the plugin stays usable. The default holds nothing.
        """

    # Networks

    @abc.abstractmethod
    def create_network(self, context: RequestContext, network: NetworkCreate | Mapping[str, Any]) -> Network:
        """Create a network.

        Raises BadRequest (malformed input; ``is_default`` without
        ``router:external``), NotAuthorized (admin-only attribute, or another
        project, for a non-admin), DefaultExternalNetworkExists (another network
        is already the default external network).
        """

    @abc.abstractmethod
    def get_network(self, context: RequestContext, network_id: str) -> Network:
        """The network; NotFound when it does not exist or the caller cannot see it."""

    @abc.abstractmethod
    def get_networks(self, context: RequestContext, filters: Filters | None = None) -> list[Network]:
        """The visible networks matching ``filters``, oldest first. BadRequest for an unknown filter key."""

    @abc.abstractmethod
    def update_network(
        self,
        context: RequestContext,
        network_id: str,
        changes: NetworkUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> Network:
        """Change a network's attributes.

        Setting ``is_default`` needs the network to be (or become) external.
        Raises BadRequest, NotFound, NotAuthorized, DefaultExternalNetworkExists,
        InUse (``router:external`` switched off while routers use it as gateway;
        ``shared`` switched off while other projects' ports are on it).
        """

    @abc.abstractmethod
    def delete_network(self, context: RequestContext, network_id: str, *, if_revision: int | None = None) -> None:
        """Delete a network and its subnets.

        Each subnet removed publishes its own ``BEFORE_DELETE`` and
        ``AFTER_DELETE`` events, as ``delete_subnet`` would. Raises NotFound,
        NotAuthorized, InUse naming every port still on the network (router
        interfaces and gateways included); InUse is raised before anything is
        deleted.
        """

    # Subnets

    @abc.abstractmethod
    def create_subnet(self, context: RequestContext, subnet: SubnetCreate | Mapping[str, Any]) -> Subnet:
        """Create a subnet on a network, with an explicit CIDR or a prefix from a pool.

        From a pool: ``prefixlen`` (default: the pool's ``default_prefixlen``) or
        a specific ``cidr`` inside the pool; the smallest free block that fits,
        lowest address first. The gateway defaults to the first address; the
        allocation pools default to the CIDR minus network, broadcast and gateway.

        Raises BadRequest (malformed input; prefix length outside the pool's
        bounds; CIDR overlapping another subnet of the network; gateway or
        allocation pool outside the CIDR), NotFound (network or pool),
        NotAuthorized (a network the caller does not own), SubnetPoolExhausted,
        SubnetPoolQuotaExceeded, Conflict (a specific CIDR that is taken).
        """

    @abc.abstractmethod
    def get_subnet(self, context: RequestContext, subnet_id: str) -> Subnet:
        """The subnet; NotFound when it does not exist or its network is not visible."""

    @abc.abstractmethod
    def get_subnets(self, context: RequestContext, filters: Filters | None = None) -> list[Subnet]:
        """The visible subnets matching ``filters``, oldest first."""

    @abc.abstractmethod
    def update_subnet(
        self,
        context: RequestContext,
        subnet_id: str,
        changes: SubnetUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> Subnet:
        """Change name, gateway, allocation pools or DHCP flag.

        Raises BadRequest (the new gateway or pools are invalid for the CIDR,
        or would exclude an address already in use), NotFound, NotAuthorized.
        """

    @abc.abstractmethod
    def delete_subnet(self, context: RequestContext, subnet_id: str, *, if_revision: int | None = None) -> None:
        """Delete a subnet and return its prefix to its pool.

        Raises NotFound, NotAuthorized, InUse naming the ports holding addresses on it.
        """

    # Subnet pools

    @abc.abstractmethod
    def create_subnetpool(
        self, context: RequestContext, subnetpool: SubnetPoolCreate | Mapping[str, Any]
    ) -> SubnetPool:
        """Create a subnet pool; prefixes are compacted.

        Raises BadRequest, NotAuthorized (``shared`` / ``is_default`` by a
        non-admin), DefaultSubnetPoolExists (a default for that IP version exists).
        """

    @abc.abstractmethod
    def get_subnetpool(self, context: RequestContext, subnetpool_id: str) -> SubnetPool:
        """The pool; NotFound when it does not exist or is not visible."""

    @abc.abstractmethod
    def get_subnetpools(self, context: RequestContext, filters: Filters | None = None) -> list[SubnetPool]:
        """The visible pools matching ``filters``, oldest first."""

    @abc.abstractmethod
    def get_default_subnetpool(self, context: RequestContext, ip_version: int) -> SubnetPool | None:
        """The default pool of ``ip_version`` if the caller can see it, else None."""

    @abc.abstractmethod
    def update_subnetpool(
        self,
        context: RequestContext,
        subnetpool_id: str,
        changes: SubnetPoolUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> SubnetPool:
        """Change a pool. Prefixes may only grow; bounds are re-validated.

        A ``min_prefixlen`` or ``max_prefixlen`` that leaves ``default_prefixlen``
        outside the new bounds is refused, never resolved by moving the default.
        Raises BadRequest (prefixes removed, other IP version, bounds),
        NotFound, NotAuthorized, DefaultSubnetPoolExists.
        """

    @abc.abstractmethod
    def delete_subnetpool(self, context: RequestContext, subnetpool_id: str, *, if_revision: int | None = None) -> None:
        """Delete a pool. Raises NotFound, NotAuthorized, InUse naming the subnets allocated from it."""

    # Ports

    @abc.abstractmethod
    def create_port(self, context: RequestContext, port: PortCreate | Mapping[str, Any]) -> Port:
        """Create a port and allocate its addresses.

        ``fixed_ips`` unset: one address from the network's IPv4 subnets and one
        from its IPv6 subnets, lowest free first, never the network, broadcast or
        gateway address, always inside the allocation pools. Entries name a
        subnet (any address) or an address (that one).

        Raises BadRequest (malformed input; an address outside its subnet; a
        subnet of another network), NotFound (network, subnet), NotAuthorized
        (for a non-admin: a network of another project that is not shared,
        external networks included), IpAddressAlreadyAllocated, IpAddressExhausted.
        """

    @abc.abstractmethod
    def get_port(self, context: RequestContext, port_id: str) -> Port:
        """The port; NotFound when it does not exist or is not visible."""

    @abc.abstractmethod
    def get_ports(self, context: RequestContext, filters: Filters | None = None) -> list[Port]:
        """The visible ports matching ``filters``, oldest first."""

    @abc.abstractmethod
    def update_port(
        self,
        context: RequestContext,
        port_id: str,
        changes: PortUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> Port:
        """Change a port; new ``fixed_ips`` replace the old ones, keeping addresses listed again.

        Raises as ``create_port``, plus NotFound for the port.
        """

    @abc.abstractmethod
    def delete_port(self, context: RequestContext, port_id: str, *, if_revision: int | None = None) -> None:
        """Delete a port and release its addresses.

        Raises NotFound, NotAuthorized; an event subscriber may veto (the L3
        plugin refuses to delete router ports this way, with InUse).
        """

    # Capacity questions, for an honest dry-run. The defaults answer from the
    # public methods above and cost time proportional to what is allocated;
    # plugins that keep free space indexed override them.

    def count_free_addresses(self, context: RequestContext, subnet_id: str) -> int:
        """How many addresses of the subnet's allocation pools are free.

        Raises NotFound for a subnet the caller cannot see.
        """
        subnet = self.get_subnet(context, subnet_id)
        used = {
            fixed_ip.ip_address
            for port in self.get_ports(context.elevated(), {"network_id": subnet.network_id})
            for fixed_ip in port.fixed_ips
            if fixed_ip.subnet_id == subnet_id
        }
        in_pools = sum(1 for address in used if any(address in pool for pool in subnet.allocation_pools))
        return sum(pool.size for pool in subnet.allocation_pools) - in_pools

    def check_subnetpool_room(
        self, context: RequestContext, subnetpool_id: str, prefixlen: int, project_id: str | None = None
    ) -> None:
        """Raise what allocating a /``prefixlen`` for ``project_id`` would raise, without allocating.

        Raises NotFound (pool not visible), SubnetPoolExhausted,
        SubnetPoolQuotaExceeded. Bounds are not checked here.
        """
        from naas.ipam import FreePrefixes, prefix_quota_units

        pool = self.get_subnetpool(context, subnetpool_id)
        subnets = self.get_subnets(context.elevated(), {"subnetpool_id": subnetpool_id})
        if pool.default_quota:
            owner = project_id or context.project_id
            used = sum(prefix_quota_units(pool.ip_version, s.cidr.prefixlen) for s in subnets if s.project_id == owner)
            if used + prefix_quota_units(pool.ip_version, prefixlen) > pool.default_quota:
                raise SubnetPoolQuotaExceeded(subnetpool_id, owner, pool.default_quota)
        free = FreePrefixes(subnetpool_id, pool.prefixes, [s.cidr for s in subnets])
        if not free.can_allocate(prefixlen):
            raise SubnetPoolExhausted(subnetpool_id, prefixlen)

    def get_topology_store(self) -> TopologyStore:
        """Where get-me-a-network keeps its records for this plugin's resources.

        Every call returns a store on the same records, so any number of
        :class:`~naas.auto_allocate.AutoAllocator` objects over this plugin
        agree on which topologies exist. The default keeps them in this
        process; a plugin declaring ``Capability.SHARED_STORAGE`` returns a
        store in that shared storage, so that get-me-a-network through any
        number of instances (and processes) builds one topology per project.
        """
        with _DEFAULT_STORE_LOCK:
            store: TopologyStore | None = self.__dict__.get("_naas_topology_store")
            if store is None:
                store = self.__dict__["_naas_topology_store"] = MemoryTopologyStore()
            return store
