"""The storage driver contract: what the rules need from whatever keeps naas's state.

naas's rules (:mod:`naas.rules`) decide everything: who may do what, which
checks a change passes, which addresses and prefixes it takes, which events it
publishes and in which order it writes. A storage driver only keeps state and
enforces the few invariants two concurrent writers could otherwise both pass.
It never checks a policy, never refuses a change because something is "in use"
and never publishes an event.

The unit of work
----------------
Every plugin call is one :class:`Transaction`, run by :meth:`Storage.run`::

    network = storage.run(lambda tx: tx.network(network_id))

A storage may run ``work`` more than once (after a deadlock, a lost
compare-and-swap, a serialisation failure): ``work`` must have no effect
outside the transaction, and the rules publish their ``AFTER_*`` events only
once ``run`` has returned. When ``work`` raises, nothing it wrote is kept.
Reads inside a transaction see its own writes.

``for_update=True`` on a read says "this transaction's outcome depends on
that row": a storage with concurrent writers serialises the transactions that
read one aggregate for update (a row lock, a lock held for the transaction, a
version check at commit), so a check made on it still holds when the
transaction commits.

Aggregates, not tables
----------------------
Reads return whole resources as the rules use them: a network with its subnet
ids, a port with its fixed IPs, a router with its gateway. A SQL storage
answers each with one query (joins), so a plugin call costs a handful of
statements.

Invariants the storage enforces
-------------------------------
Raised from the write that would break them, as these :mod:`naas.exceptions`:

* one default external network: :class:`~naas.exceptions.DefaultExternalNetworkExists`;
* one default subnet pool per IP version: :class:`~naas.exceptions.DefaultSubnetPoolExists`;
* one holder per address of a subnet: :class:`~naas.exceptions.IpAddressAlreadyAllocated`;
* one MAC address per network, and no id twice: :class:`~naas.exceptions.Conflict`;
* no prefix handed out twice by a pool: :meth:`Transaction.take_prefix` raises
  :class:`~naas.exceptions.SubnetPoolExhausted` or ``Conflict``;
* one topology record per project: :class:`~naas.auto_allocate.store.TopologyStore`.

Lists
-----
List reads take a :class:`ListQuery`. A storage *may* use it to narrow what it
returns and must return every resource that matches it (more is allowed): the
rules apply visibility and every filter again, exactly, in Python, so a
storage whose comparisons are looser (a case-insensitive collation) cannot leak
one project's resources to another.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import enum
import random
from collections.abc import Callable, Mapping
from typing import ClassVar, TypeVar

import netaddr

from naas.auto_allocate.store import TopologyStore
from naas.resources import FloatingIP, Network, Port, Router, Subnet, SubnetPool

__all__ = ["ListQuery", "Storage", "StorageCapability", "Transaction", "random_mac_address"]

T = TypeVar("T")


MAC_PREFIX = "fa:16:3e"
"""The OUI prefix of the MAC addresses naas makes up (the one Neutron uses)."""
"""The OUI of generated MAC addresses, the one Neutron uses."""


def random_mac_address() -> str:
    """A random MAC address under :data:`~naas.storage.base.MAC_PREFIX`, for :meth:`Transaction.new_mac_address`."""
    suffix = random.getrandbits(24).to_bytes(3, "big")
    return ":".join([MAC_PREFIX, *(f"{byte:02x}" for byte in suffix)])


class StorageCapability(enum.Enum):
    """What a storage declares about itself (``Storage.capabilities``)."""

    #: Several processes (or hosts) may use the same state at once; invariants hold across them.
    SHARED_BETWEEN_PROCESSES = "shared_between_processes"
    #: What was committed survives the process.
    DURABLE = "durable"


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """What a list read asks for: a hint a storage may use to narrow its answer.

    ``filters`` maps an attribute's wire name to the set of acceptable values,
    each spelled as :func:`naas.resources.filter_key` spells them (strings;
    ``"true"``/``"false"`` for booleans). ``visible_to`` is the project of a
    non-admin caller, None for an admin.
    """

    filters: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    visible_to: str | None = None

    def sole(self, *keys: str) -> str | None:
        """The one value accepted for the first of ``keys`` that is filtered on, if exactly one."""
        for key in keys:
            values = self.filters.get(key)
            if values is not None:
                return next(iter(values)) if len(values) == 1 else None
        return None


class Transaction(abc.ABC):
    """One unit of work on a storage: reads, writes and free-space primitives.

    Every read returns None (one resource) or an empty list when nothing
    matches. Adding a resource whose id is taken raises
    :class:`~naas.exceptions.Conflict` naming it (callers may choose ids); an
    update or removal of an id that does not exist is a bug in the rules and may
    raise anything. Resources are frozen dataclasses: a storage returns them
    equal to what it was given (addresses and prefixes as the same netaddr
    values), whatever form it keeps them in.
    """

    # Networks

    @abc.abstractmethod
    def network(self, network_id: str, *, for_update: bool = False) -> Network | None:
        """The network, its ``subnets`` the ids of its subnets, oldest first."""

    @abc.abstractmethod
    def networks(self, query: ListQuery) -> list[Network]:
        """Networks that may match ``query``, oldest first."""

    @abc.abstractmethod
    def default_network(self) -> Network | None:
        """The network whose ``is_default`` is true, if any."""

    @abc.abstractmethod
    def add_network(self, network: Network) -> None:
        """Store a new network (its ``subnets`` is empty). Raises DefaultExternalNetworkExists."""

    @abc.abstractmethod
    def update_network(self, network: Network) -> None:
        """Replace the stored network's attributes; ``subnets`` is the storage's own. Raises
        DefaultExternalNetworkExists."""

    @abc.abstractmethod
    def remove_network(self, network_id: str) -> None:
        """Remove a network that no longer has subnets or ports."""

    # Subnets

    @abc.abstractmethod
    def subnet(self, subnet_id: str, *, for_update: bool = False) -> Subnet | None:
        """The subnet."""

    @abc.abstractmethod
    def subnets(self, query: ListQuery) -> list[Subnet]:
        """Subnets that may match ``query``, oldest first."""

    @abc.abstractmethod
    def add_subnet(self, subnet: Subnet) -> None:
        """Store a new subnet (listed last among its network's subnets); every address of its allocation
        pools is free."""

    @abc.abstractmethod
    def update_subnet(self, subnet: Subnet) -> None:
        """Replace the subnet's attributes. When the allocation pools change, the free addresses become the
        new pools minus every address ports hold on the subnet."""

    @abc.abstractmethod
    def remove_subnet(self, subnet_id: str) -> None:
        """Remove a subnet that no port holds an address on (its prefix is given back separately)."""

    # Subnet pools

    @abc.abstractmethod
    def subnetpool(self, subnetpool_id: str, *, for_update: bool = False) -> SubnetPool | None:
        """The subnet pool."""

    @abc.abstractmethod
    def subnetpools(self, query: ListQuery) -> list[SubnetPool]:
        """Subnet pools that may match ``query``, oldest first."""

    @abc.abstractmethod
    def default_subnetpool(self, ip_version: int) -> SubnetPool | None:
        """The default pool of ``ip_version``, if any."""

    @abc.abstractmethod
    def add_subnetpool(self, subnetpool: SubnetPool) -> None:
        """Store a new pool; all of its prefixes are free. Raises DefaultSubnetPoolExists."""

    @abc.abstractmethod
    def update_subnetpool(self, subnetpool: SubnetPool) -> None:
        """Replace the pool's attributes; prefixes only ever grow, and what they gain is free. Raises
        DefaultSubnetPoolExists."""

    @abc.abstractmethod
    def remove_subnetpool(self, subnetpool_id: str) -> None:
        """Remove a pool no subnet was allocated from."""

    # Ports

    @abc.abstractmethod
    def new_mac_address(self, network_id: str) -> str:
        """A MAC address for a new port of the network that no port of it has (see :func:`random_mac_address`)."""

    @abc.abstractmethod
    def port(self, port_id: str, *, for_update: bool = False) -> Port | None:
        """The port with its fixed IPs."""

    @abc.abstractmethod
    def ports(self, query: ListQuery) -> list[Port]:
        """Ports that may match ``query``, oldest first. ``network_id``, ``device_id`` and ``fixed_ips``
        (``subnet_id=...``) filters are the ones the rules rely on being cheap."""

    @abc.abstractmethod
    def add_port(self, port: Port) -> None:
        """Store a new port holding its ``fixed_ips`` (already taken with :meth:`take_address`).

        Raises Conflict (its MAC address is on another port of the network),
        IpAddressAlreadyAllocated (another port holds one of its addresses).
        """

    @abc.abstractmethod
    def update_port(self, port: Port) -> None:
        """Replace the port; it now holds exactly ``port.fixed_ips``. Raises as :meth:`add_port`."""

    @abc.abstractmethod
    def remove_port(self, port_id: str) -> None:
        """Remove the port; the addresses it held are given back separately."""

    # Free space of subnets and pools

    @abc.abstractmethod
    def take_address(self, subnet: Subnet, address: netaddr.IPAddress | None) -> netaddr.IPAddress:
        """Take ``address``, or (None) the lowest free address of the subnet's allocation pools.

        An address outside the pools (but inside the subnet) may be taken once.
        Raises IpAddressExhausted (no free address), IpAddressAlreadyAllocated.
        """

    @abc.abstractmethod
    def give_back_address(self, subnet: Subnet, address: netaddr.IPAddress) -> None:
        """Make a taken address free again."""

    @abc.abstractmethod
    def count_free_addresses(self, subnet: Subnet) -> int:
        """How many addresses of the subnet's allocation pools are free."""

    @abc.abstractmethod
    def take_prefix(self, subnetpool: SubnetPool, prefixlen: int) -> netaddr.IPNetwork:
        """Take the smallest free block that holds a /``prefixlen``, lowest address first.

        Raises SubnetPoolExhausted.
        """

    @abc.abstractmethod
    def take_cidr(self, subnetpool: SubnetPool, cidr: netaddr.IPNetwork) -> netaddr.IPNetwork:
        """Take exactly ``cidr`` from the pool. Raises Conflict when any of it is taken or outside the pool."""

    @abc.abstractmethod
    def give_back_prefix(self, subnetpool: SubnetPool, cidr: netaddr.IPNetwork) -> None:
        """Make a taken prefix free again."""

    @abc.abstractmethod
    def has_room(self, subnetpool: SubnetPool, prefixlen: int) -> bool:
        """Whether :meth:`take_prefix` would succeed for ``prefixlen``."""

    # Routers

    @abc.abstractmethod
    def router(self, router_id: str, *, for_update: bool = False) -> Router | None:
        """The router, with its gateway as last stored."""

    @abc.abstractmethod
    def routers(self, query: ListQuery) -> list[Router]:
        """Routers that may match ``query``, oldest first."""

    @abc.abstractmethod
    def add_router(self, router: Router) -> None:
        """Store a new router."""

    @abc.abstractmethod
    def update_router(self, router: Router) -> None:
        """Replace the router."""

    @abc.abstractmethod
    def remove_router(self, router_id: str) -> None:
        """Remove the router."""

    # Floating IPs

    @abc.abstractmethod
    def floatingip(self, floatingip_id: str, *, for_update: bool = False) -> FloatingIP | None:
        """The floating IP."""

    @abc.abstractmethod
    def floatingips(self, query: ListQuery) -> list[FloatingIP]:
        """Floating IPs that may match ``query``, oldest first (``port_id``, ``router_id`` and
        ``floating_network_id`` filters are the ones the rules rely on being cheap)."""

    @abc.abstractmethod
    def add_floatingip(self, floatingip: FloatingIP) -> None:
        """Store a new floating IP. Raises Conflict when another floating IP of the same external network
        maps the same port and fixed address."""

    @abc.abstractmethod
    def update_floatingip(self, floatingip: FloatingIP) -> None:
        """Replace the floating IP. Raises Conflict as :meth:`add_floatingip`."""

    @abc.abstractmethod
    def remove_floatingip(self, floatingip_id: str) -> None:
        """Remove the floating IP."""


class Storage(abc.ABC):
    """A storage driver: where the rules keep every resource and get-me-a-network's records."""

    #: What this storage guarantees beyond the contract; see :class:`StorageCapability`.
    capabilities: ClassVar[frozenset[StorageCapability]] = frozenset()

    @abc.abstractmethod
    def transaction(self, *, write: bool) -> contextlib.AbstractContextManager[Transaction]:
        """One unit of work: committed when the block ends, rolled back when it raises.

        ``write=False`` promises that nothing is written, which a storage may
        use to run it as a cheaper read-only transaction.
        """

    def run(self, work: Callable[[Transaction], T], *, write: bool = True) -> T:
        """Run ``work`` in one transaction and return its result.

        A storage may run ``work`` again, in a new transaction, when the first
        attempt failed in a way that a retry can mend (a deadlock, a lost
        race); this default runs it once.
        """
        with self.transaction(write=write) as transaction:
            return work(transaction)

    @abc.abstractmethod
    def topology_store(self) -> TopologyStore:
        """Get-me-a-network's records, kept with the resources they name (the same store every call)."""

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Release what the storage holds outside the process. Idempotent; the default holds nothing."""
