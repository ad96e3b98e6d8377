"""Neutron's core rules, written once: networks, subnets, subnet pools, ports, over any storage driver.

:class:`CoreRules` is the :class:`~naas.plugins.core.CorePlugin` every bundled
core plugin is: it parses requests, applies :mod:`naas.policy`, runs the
checks, decides which addresses and prefixes a change takes, publishes the
events and writes, all through a :class:`~naas.storage.Storage`. A storage
driver keeps the state; it decides nothing.

Each public method is one unit of work (``Storage.run``), in this order: the
request is parsed and checked against what is stored (read ``for_update`` where
a concurrent change would invalidate the check), ``BEFORE_*`` is published, the
changes are written; ``AFTER_*`` is published once the unit has committed. A
storage may run a unit again after a lost race, so a ``BEFORE_*`` subscriber
may be told of one change more than once; ``AFTER_*`` is published once.

The methods ending in ``_in`` do the work inside a unit the caller opened; the
L3 rules (:mod:`naas.rules.l3`), which share the storage, call them to create
and delete their ports in the same unit as their routers and floating IPs.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Self, TypeVar

import netaddr
from oslo_config import cfg

from naas import policy
from naas.auto_allocate.store import TopologyStore
from naas.backends import BackendChain, Status
from naas.context import RequestContext
from naas.events import Event, EventRegistry, ResourceType
from naas.exceptions import (
    BadRequest,
    DefaultExternalNetworkExists,
    DefaultSubnetPoolExists,
    InUse,
    IpAddressExhausted,
    NotAuthorized,
    NotFound,
    SubnetPoolExhausted,
    SubnetPoolQuotaExceeded,
)
from naas.ipam import (
    check_cidr_in_pool,
    check_default_prefixlen_fits,
    check_prefixlen_in_bounds,
    check_special_purpose,
    default_allocation_pools,
    default_gateway,
    prefix_quota_units,
    resolve_prefix_bounds,
    validate_address_for_subnet,
    validate_allocation_pools,
    validate_gateway,
)
from naas.plugins.core import CorePlugin, Filters
from naas.requests import (
    UNSET,
    FixedIPRequest,
    NetworkCreate,
    NetworkUpdate,
    PortCreate,
    PortUpdate,
    SubnetCreate,
    SubnetPoolCreate,
    SubnetPoolUpdate,
    SubnetUpdate,
    Unset,
    parse_filters,
    parse_id,
    parse_project_id,
    plan_fixed_ips,
)
from naas.resources import (
    DEVICE_OWNER_FLOATINGIP,
    DEVICE_OWNER_ROUTER_GATEWAY,
    DEVICE_OWNER_ROUTER_INTERFACE,
    TAG_FILTERS,
    FixedIP,
    FloatingIP,
    Network,
    Port,
    Resource,
    Subnet,
    SubnetPool,
    filter_resources,
    filter_values,
)
from naas.rules._dataplane import AfterCommit, Dataplane, desired_status, status_for
from naas.rules._standard import Clock, check_revision, created_attributes, parse_revision, revised, utc_now
from naas.storage import ListQuery, Storage, Transaction

__all__ = ["AfterCommit", "CoreRules", "by", "in_use", "list_query", "new_id"]

T = TypeVar("T")
R = TypeVar("R", bound=Resource)

# Ports that tie an external network to routers: it cannot stop being external while they exist.
_EXTERNAL_USERS = (DEVICE_OWNER_ROUTER_GATEWAY, DEVICE_OWNER_FLOATINGIP)
_ROUTER_PORT_OWNERS = (DEVICE_OWNER_ROUTER_INTERFACE, DEVICE_OWNER_ROUTER_GATEWAY)


def new_id() -> str:
    """A new resource id: a random UUID, as text."""
    return str(uuid.uuid4())


def list_query(context: RequestContext, filters: Filters | None, **extra: str) -> ListQuery:
    """The storage's hint for a list call: the filters as filter spellings, and who is asking.

    Tag filters (``tags-any`` ...) are no attribute a storage could narrow on: the rules apply them alone.
    """
    spelled = {key: frozenset(filter_values(value)) for key, value in (filters or {}).items() if key not in TAG_FILTERS}
    spelled.update({key: frozenset([value]) for key, value in extra.items()})
    return ListQuery(spelled, None if context.is_admin else context.project_id)


def by(**filters: str) -> ListQuery:
    """An unrestricted list query on exact values (the rules' own lookups)."""
    return ListQuery({key: frozenset([value]) for key, value in filters.items()})


def _in_ranges(address: netaddr.IPAddress, ranges: Iterable[netaddr.IPRange]) -> bool:
    return any(address in pool for pool in ranges)


class CoreRules(CorePlugin):
    """The core plugin's rules over a storage driver; the bundled ``memory`` and ``sql`` plugins are this."""

    def __init__(
        self, storage: Storage, events: EventRegistry | None = None, backends: BackendChain | None = None
    ) -> None:
        self.storage = storage
        self.events = events if events is not None else EventRegistry()
        #: Where ``created_at`` and ``updated_at`` come from (the L3 rules read it too); tests may replace it.
        self.clock: Clock = utc_now
        #: The network backends this plugin's changes are programmed on (none: storage only).
        self.dataplane = Dataplane(storage, backends)

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, events: EventRegistry, backends: BackendChain | None = None) -> Self:
        """Build the plugin with the configured backends (the loader passes the chain it built)."""
        return cls(events=events, backends=backends)  # type: ignore[call-arg]

    def close(self) -> None:
        self.storage.close()

    def get_topology_store(self) -> TopologyStore:
        return self.storage.topology_store()

    # Units of work

    def write(self, work: Callable[[Transaction, AfterCommit], T]) -> T:
        """Run ``work`` as one unit of work, then publish its events and program its changes on the backends.

        A backend that fails to program a change leaves the change stored and
        the resource's status ``ERROR``; the result says so.
        """

        def attempt(transaction: Transaction) -> tuple[T, AfterCommit]:
            after = AfterCommit()  # a retried attempt starts again from nothing
            return work(transaction, after), after

        result, after = self.storage.run(attempt)
        for publish in after.events:
            publish()
        failed = self.dataplane.realize(after.changes)
        resource_id = getattr(result, "id", None)
        if isinstance(result, Resource) and (ResourceType(result.RESOURCE), resource_id) in failed:
            errored: Any = dataclasses.replace(result, status=Status.ERROR.value)  # type: ignore[call-arg]
            return errored  # type: ignore[no-any-return]
        return result

    def read(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` as one read-only unit of work and return its result; it publishes nothing."""
        return self.storage.run(work, write=False)

    # Networks

    def create_network(self, context: RequestContext, network: NetworkCreate | Mapping[str, Any]) -> Network:
        request = NetworkCreate.parse(network)
        policy.check_admin_only(context, request)
        project_id = policy.owner_for(context, request.project_id, "network")
        created = Network(
            id=request.id or new_id(),
            project_id=project_id,
            name=request.name,
            admin_state_up=request.admin_state_up,
            shared=request.shared,
            router_external=request.router_external,
            is_default=request.is_default,
            mtu=request.mtu,
            status=status_for(request.admin_state_up),
            subnets=(),
            **created_attributes(request, self.clock),
        )

        def work(tx: Transaction, after: AfterCommit) -> Network:
            if created.is_default:
                default = tx.default_network()
                if default is not None:
                    raise DefaultExternalNetworkExists(default.id)
            self.events.notify(ResourceType.NETWORK, Event.BEFORE_CREATE, context, created.id, request=request)
            tx.add_network(created)
            self.dataplane.program(tx, after, None, created, request_id=context.request_id)
            after.publish(
                self.events,
                ResourceType.NETWORK,
                Event.AFTER_CREATE,
                context,
                created.id,
                request=request,
                result=created,
            )
            return created

        return self.write(work)

    def get_network(self, context: RequestContext, network_id: str) -> Network:
        return self.read(lambda tx: self.network_in(tx, context, network_id))

    def get_networks(self, context: RequestContext, filters: Filters | None = None) -> list[Network]:
        filters = parse_filters(Network, filters)
        query = list_query(context, filters)

        def work(tx: Transaction) -> list[Network]:
            if query.sole("is_default") == "true":
                # Get-me-a-network asks for the default external network on every build.
                default = tx.default_network()
                return [] if default is None else [default]
            return tx.networks(query)

        return _visible(context, self.read(work), Network, filters)

    def update_network(
        self,
        context: RequestContext,
        network_id: str,
        changes: NetworkUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> Network:
        request = NetworkUpdate.parse(changes)
        policy.check_admin_only(context, request)
        if_revision = parse_revision("network", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> Network:
            current = self.network_in(tx, context, network_id, for_update=True)
            policy.check_modify(context, current, network_id)
            check_revision(current, if_revision)
            external = current.router_external if request.router_external is UNSET else request.router_external
            shared = current.shared if request.shared is UNSET else request.shared
            if request.is_default is UNSET:
                # A network that stops being external stops being the default with it.
                is_default = current.is_default and external
            else:
                is_default = request.is_default
                if is_default and not external:
                    raise BadRequest(
                        "network", "is_default", "only an external network (router:external) can be the default"
                    )
            if is_default and not current.is_default:
                default = tx.default_network()
                if default is not None and default.id != network_id:
                    raise DefaultExternalNetworkExists(default.id)
            ports = None
            if (current.router_external and not external) or (current.shared and not shared):
                ports = tx.ports(by(network_id=network_id))
            if current.router_external and not external:
                users = [p for p in ports or () if p.device_owner in _EXTERNAL_USERS]
                if users:
                    raise in_use(context, "network", network_id, users, what="router gateway and floating IP ports")
            if current.shared and not shared:
                users = [p for p in ports or () if p.project_id != current.project_id]
                if users:
                    raise in_use(context, "network", network_id, users, what="ports of other projects")
            updated = dataclasses.replace(
                current,
                name=current.name if request.name is UNSET else request.name,
                admin_state_up=current.admin_state_up if request.admin_state_up is UNSET else request.admin_state_up,
                shared=shared,
                router_external=external,
                is_default=is_default,
            )
            updated = revised(
                current, dataclasses.replace(updated, status=desired_status(updated)), self.clock, request
            )
            self.events.notify(
                ResourceType.NETWORK, Event.BEFORE_UPDATE, context, network_id, request=request, current=current
            )
            tx.update_network(updated)
            self.dataplane.program(tx, after, current, updated, request_id=context.request_id)
            after.publish(
                self.events,
                ResourceType.NETWORK,
                Event.AFTER_UPDATE,
                context,
                network_id,
                request=request,
                current=current,
                result=updated,
            )
            return updated

        return self.write(work)

    def delete_network(self, context: RequestContext, network_id: str, *, if_revision: int | None = None) -> None:
        if_revision = parse_revision("network", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> None:
            current = self.network_in(tx, context, network_id, for_update=True)
            policy.check_modify(context, current, network_id)
            check_revision(current, if_revision)
            ports = tx.ports(by(network_id=network_id))
            if ports:
                raise in_use(context, "network", network_id, ports)
            subnets = [self._subnet_row(tx, subnet_id) for subnet_id in current.subnets]
            before = self.dataplane.state(tx, current)
            for subnet in subnets:
                self.events.notify(ResourceType.SUBNET, Event.BEFORE_DELETE, context, subnet.id, current=subnet)
            self.events.notify(ResourceType.NETWORK, Event.BEFORE_DELETE, context, network_id, current=current)
            for subnet in subnets:
                self._remove_subnet_in(tx, subnet)
                after.publish(self.events, ResourceType.SUBNET, Event.AFTER_DELETE, context, subnet.id, current=subnet)
            tx.remove_network(network_id)
            self.dataplane.program(tx, after, current, None, request_id=context.request_id, before_state=before)
            after.publish(self.events, ResourceType.NETWORK, Event.AFTER_DELETE, context, network_id, current=current)

        self.write(work)

    def network_in(
        self, tx: Transaction, context: RequestContext, network_id: str, *, for_update: bool = False
    ) -> Network:
        """The network if the caller may see it; NotFound otherwise (BadRequest for an id that is no text)."""
        network_id = parse_id("network", network_id)
        network = tx.network(network_id, for_update=for_update)
        if network is None or not policy.is_visible(context, network):
            raise NotFound("network", network_id)
        return network

    # Subnets

    def create_subnet(self, context: RequestContext, subnet: SubnetCreate | Mapping[str, Any]) -> Subnet:
        request = SubnetCreate.parse(subnet)
        project_id = policy.owner_for(context, request.project_id, "subnet")

        def work(tx: Transaction, after: AfterCommit) -> Subnet:
            network = self.network_in(tx, context, request.network_id, for_update=True)
            policy.check_modify(context, network, request.network_id)
            pool = self._pool_for_subnet(tx, context, request)
            subnet_id = new_id()
            self.events.notify(ResourceType.SUBNET, Event.BEFORE_CREATE, context, subnet_id, request=request)
            if pool is None:
                assert request.cidr is not None  # SubnetCreate.validate: no pool means a cidr
                cidr = request.cidr
            else:
                cidr = self._take_prefix(tx, pool, request, project_id)
            self._check_no_overlap(tx, network, cidr)
            gateway = _gateway_for(cidr, request.gateway_ip)
            if request.allocation_pools is None:
                allocation_pools = default_allocation_pools(cidr, gateway)
            else:
                allocation_pools = validate_allocation_pools(cidr, request.allocation_pools, gateway)
            created = Subnet(
                id=subnet_id,
                project_id=project_id,
                network_id=request.network_id,
                name=request.name,
                ip_version=cidr.version,
                cidr=cidr,
                gateway_ip=gateway,
                allocation_pools=tuple(allocation_pools),
                subnetpool_id=None if pool is None else pool.id,
                enable_dhcp=request.enable_dhcp,
                **created_attributes(request, self.clock),
            )
            tx.add_subnet(created)
            self._program_network(tx, after, context, network)
            after.publish(
                self.events,
                ResourceType.SUBNET,
                Event.AFTER_CREATE,
                context,
                subnet_id,
                request=request,
                result=created,
            )
            return created

        return self.write(work)

    def get_subnet(self, context: RequestContext, subnet_id: str) -> Subnet:
        return self.read(lambda tx: self.subnet_in(tx, context, subnet_id))

    def get_subnets(self, context: RequestContext, filters: Filters | None = None) -> list[Subnet]:
        filters = parse_filters(Subnet, filters)

        def work(tx: Transaction) -> list[Subnet]:
            subnets = tx.subnets(list_query(context, filters))
            if context.is_admin:
                return subnets
            networks: dict[str, Network | None] = {}
            return [subnet for subnet in subnets if self._subnet_is_visible(tx, context, subnet, networks)]

        return filter_resources(self.read(work), Subnet, filters)

    def update_subnet(
        self,
        context: RequestContext,
        subnet_id: str,
        changes: SubnetUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> Subnet:
        request = SubnetUpdate.parse(changes)
        if_revision = parse_revision("subnet", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> Subnet:
            current = self.subnet_in(tx, context, subnet_id, for_update=True)
            policy.check_owner(context, current, subnet_id)
            check_revision(current, if_revision)
            if request.enable_dhcp is True and not current.enable_dhcp:
                check_special_purpose("subnet", "enable_dhcp", current.cidr, allow_link_local=False)
            holders = self._holders(tx, current)
            gateway = current.gateway_ip
            if request.gateway_ip is not UNSET and request.gateway_ip != current.gateway_ip:
                gateway = _check_new_gateway(current, holders, request.gateway_ip, request.allocation_pools is UNSET)
            pools = current.allocation_pools
            if request.allocation_pools is not UNSET:
                pools = tuple(validate_allocation_pools(current.cidr, request.allocation_pools, gateway))
                _check_pools_keep_addresses(current, holders, pools)
            updated = dataclasses.replace(
                current,
                name=current.name if request.name is UNSET else request.name,
                gateway_ip=gateway,
                allocation_pools=pools,
                enable_dhcp=current.enable_dhcp if request.enable_dhcp is UNSET else request.enable_dhcp,
            )
            updated = revised(current, updated, self.clock, request)
            self.events.notify(
                ResourceType.SUBNET, Event.BEFORE_UPDATE, context, subnet_id, request=request, current=current
            )
            network = tx.network(current.network_id)
            before = None if network is None else self.dataplane.state(tx, network)
            tx.update_subnet(updated)
            self._program_network(tx, after, context, network, before)
            after.publish(
                self.events,
                ResourceType.SUBNET,
                Event.AFTER_UPDATE,
                context,
                subnet_id,
                request=request,
                current=current,
                result=updated,
            )
            return updated

        return self.write(work)

    def delete_subnet(self, context: RequestContext, subnet_id: str, *, if_revision: int | None = None) -> None:
        if_revision = parse_revision("subnet", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> None:
            current = self.subnet_in(tx, context, subnet_id, for_update=True)
            policy.check_owner(context, current, subnet_id)
            check_revision(current, if_revision)
            holders = self._holders(tx, current)
            if holders:
                raise in_use(context, "subnet", subnet_id, {port.id: port for port in holders.values()}.values())
            self.events.notify(ResourceType.SUBNET, Event.BEFORE_DELETE, context, subnet_id, current=current)
            network = tx.network(current.network_id)
            before = None if network is None else self.dataplane.state(tx, network)
            self._remove_subnet_in(tx, current)
            self._program_network(tx, after, context, network, before)
            after.publish(self.events, ResourceType.SUBNET, Event.AFTER_DELETE, context, subnet_id, current=current)

        self.write(work)

    def subnet_in(
        self, tx: Transaction, context: RequestContext, subnet_id: str, *, for_update: bool = False
    ) -> Subnet:
        """The subnet if the caller may see it (its own, or on a network it sees); NotFound otherwise."""
        subnet_id = parse_id("subnet", subnet_id)
        subnet = tx.subnet(subnet_id, for_update=for_update)
        if subnet is None or not self._subnet_is_visible(tx, context, subnet, {}):
            raise NotFound("subnet", subnet_id)
        return subnet

    def _subnet_is_visible(
        self, tx: Transaction, context: RequestContext, subnet: Subnet, networks: dict[str, Network | None]
    ) -> bool:
        # A subnet is seen with its network: shared and external networks show their subnets to everyone.
        if policy.is_visible(context, subnet):
            return True
        if subnet.network_id not in networks:
            networks[subnet.network_id] = tx.network(subnet.network_id)
        network = networks[subnet.network_id]
        return network is not None and policy.is_visible(context, network)

    def _program_network(
        self,
        tx: Transaction,
        after: AfterCommit,
        context: RequestContext,
        network: Network | None,
        before: Any = None,
    ) -> None:
        """A change of a network's subnets is a change of the network, for the backends."""
        if network is not None and self.dataplane.active:
            current = tx.network(network.id)
            self.dataplane.program(tx, after, network, current, request_id=context.request_id, before_state=before)

    @staticmethod
    def _subnet_row(tx: Transaction, subnet_id: str) -> Subnet:
        subnet = tx.subnet(subnet_id)
        assert subnet is not None, f"storage lost subnet {subnet_id}"
        return subnet

    def _remove_subnet_in(self, tx: Transaction, subnet: Subnet) -> None:
        """Remove a subnet that holds no address and give its prefix back to its pool."""
        tx.remove_subnet(subnet.id)
        if subnet.subnetpool_id is not None:
            pool = tx.subnetpool(subnet.subnetpool_id)
            if pool is not None:
                tx.give_back_prefix(pool, subnet.cidr)

    @staticmethod
    def _holders(tx: Transaction, subnet: Subnet) -> dict[netaddr.IPAddress, Port]:
        """Which port holds each address of the subnet."""
        return {
            fixed_ip.ip_address: port
            for port in tx.ports(by(fixed_ips=subnet.id))
            for fixed_ip in port.fixed_ips
            if fixed_ip.subnet_id == subnet.id
        }

    def _check_no_overlap(self, tx: Transaction, network: Network, cidr: netaddr.IPNetwork) -> None:
        for subnet_id in network.subnets:
            other = self._subnet_row(tx, subnet_id).cidr
            if other.version == cidr.version and (cidr in other or other in cidr):
                raise BadRequest(
                    "subnet", "cidr", f"{cidr} overlaps with {other} of subnet {subnet_id} on the same network"
                )

    # Subnet pools

    def create_subnetpool(
        self, context: RequestContext, subnetpool: SubnetPoolCreate | Mapping[str, Any]
    ) -> SubnetPool:
        request = SubnetPoolCreate.parse(subnetpool)
        policy.check_admin_only(context, request)
        project_id = policy.owner_for(context, request.project_id, "subnetpool")
        # SubnetPoolCreate.validate has resolved the bounds.
        assert request.min_prefixlen is not None and request.max_prefixlen is not None
        assert request.default_prefixlen is not None
        created = SubnetPool(
            id=new_id(),
            project_id=project_id,
            name=request.name,
            ip_version=request.ip_version,
            prefixes=request.prefixes,
            default_prefixlen=request.default_prefixlen,
            min_prefixlen=request.min_prefixlen,
            max_prefixlen=request.max_prefixlen,
            shared=request.shared,
            is_default=request.is_default,
            default_quota=request.default_quota,
            **created_attributes(request, self.clock),
        )

        def work(tx: Transaction, after: AfterCommit) -> SubnetPool:
            if created.is_default:
                _check_no_default_pool(tx, created.ip_version, None)
            self.events.notify(ResourceType.SUBNETPOOL, Event.BEFORE_CREATE, context, created.id, request=request)
            tx.add_subnetpool(created)
            after.publish(
                self.events,
                ResourceType.SUBNETPOOL,
                Event.AFTER_CREATE,
                context,
                created.id,
                request=request,
                result=created,
            )
            return created

        return self.write(work)

    def get_subnetpool(self, context: RequestContext, subnetpool_id: str) -> SubnetPool:
        return self.read(lambda tx: self.subnetpool_in(tx, context, subnetpool_id))

    def get_subnetpools(self, context: RequestContext, filters: Filters | None = None) -> list[SubnetPool]:
        filters = parse_filters(SubnetPool, filters)
        pools = self.read(lambda tx: tx.subnetpools(list_query(context, filters)))
        return _visible(context, pools, SubnetPool, filters)

    def get_default_subnetpool(self, context: RequestContext, ip_version: int) -> SubnetPool | None:
        if isinstance(ip_version, bool) or ip_version not in (4, 6):
            raise BadRequest("subnetpool", "ip_version", f"{ip_version!r} is neither 4 nor 6")
        default = self.read(lambda tx: tx.default_subnetpool(ip_version))
        if default is None or not policy.is_visible(context, default):
            return None
        return default

    def update_subnetpool(
        self,
        context: RequestContext,
        subnetpool_id: str,
        changes: SubnetPoolUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> SubnetPool:
        request = SubnetPoolUpdate.parse(changes)
        policy.check_admin_only(context, request)
        if_revision = parse_revision("subnetpool", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> SubnetPool:
            current = self.subnetpool_in(tx, context, subnetpool_id, for_update=True)
            policy.check_modify(context, current, subnetpool_id)
            check_revision(current, if_revision)
            prefixes = current.prefixes
            if request.prefixes is not UNSET:
                prefixes = _grown_prefixes(current, request.prefixes)
            low, high, default = resolve_prefix_bounds(
                current.ip_version,
                current.min_prefixlen if request.min_prefixlen is UNSET else request.min_prefixlen,
                current.max_prefixlen if request.max_prefixlen is UNSET else request.max_prefixlen,
                current.default_prefixlen if request.default_prefixlen is UNSET else request.default_prefixlen,
            )
            if request.default_prefixlen is not UNSET:
                check_default_prefixlen_fits(prefixes, default)
            is_default = current.is_default if request.is_default is UNSET else request.is_default
            if is_default and not current.is_default:
                _check_no_default_pool(tx, current.ip_version, subnetpool_id)
            updated = dataclasses.replace(
                current,
                name=current.name if request.name is UNSET else request.name,
                prefixes=prefixes,
                min_prefixlen=low,
                max_prefixlen=high,
                default_prefixlen=default,
                is_default=is_default,
                default_quota=current.default_quota if request.default_quota is UNSET else request.default_quota,
            )
            updated = revised(current, updated, self.clock, request)
            self.events.notify(
                ResourceType.SUBNETPOOL, Event.BEFORE_UPDATE, context, subnetpool_id, request=request, current=current
            )
            tx.update_subnetpool(updated)
            after.publish(
                self.events,
                ResourceType.SUBNETPOOL,
                Event.AFTER_UPDATE,
                context,
                subnetpool_id,
                request=request,
                current=current,
                result=updated,
            )
            return updated

        return self.write(work)

    def delete_subnetpool(self, context: RequestContext, subnetpool_id: str, *, if_revision: int | None = None) -> None:
        if_revision = parse_revision("subnetpool", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> None:
            current = self.subnetpool_in(tx, context, subnetpool_id, for_update=True)
            policy.check_modify(context, current, subnetpool_id)
            check_revision(current, if_revision)
            subnets = tx.subnets(by(subnetpool_id=subnetpool_id))
            if subnets:
                raise in_use(context, "subnetpool", subnetpool_id, subnets, what="subnets")
            self.events.notify(ResourceType.SUBNETPOOL, Event.BEFORE_DELETE, context, subnetpool_id, current=current)
            tx.remove_subnetpool(subnetpool_id)
            after.publish(
                self.events, ResourceType.SUBNETPOOL, Event.AFTER_DELETE, context, subnetpool_id, current=current
            )

        self.write(work)

    def subnetpool_in(
        self, tx: Transaction, context: RequestContext, subnetpool_id: str, *, for_update: bool = False
    ) -> SubnetPool:
        """The subnet pool if the caller may see it (its own, or shared); NotFound otherwise."""
        subnetpool_id = parse_id("subnetpool", subnetpool_id)
        pool = tx.subnetpool(subnetpool_id, for_update=for_update)
        if pool is None or not policy.is_visible(context, pool):
            raise NotFound("subnetpool", subnetpool_id)
        return pool

    def _pool_for_subnet(self, tx: Transaction, context: RequestContext, request: SubnetCreate) -> SubnetPool | None:
        """The pool a new subnet comes from (checked against the request's IP version), or None."""
        if request.subnetpool_id is not None:
            # Locked: allocations from one pool take turns, so concurrent ones stay lowest-first without
            # losing compare-and-swaps over the same free block.
            pool = self.subnetpool_in(tx, context, request.subnetpool_id, for_update=True)
        elif request.use_default_subnetpool:
            assert request.ip_version is not None  # SubnetCreate.validate
            default = tx.default_subnetpool(request.ip_version)
            if default is None or not policy.is_visible(context, default):
                raise BadRequest(
                    "subnet", "use_default_subnetpool", f"No default subnet pool for IPv{request.ip_version}"
                )
            pool = self.subnetpool_in(tx, context, default.id, for_update=True)
        else:
            return None
        version = pool.ip_version
        if request.cidr is not None and request.cidr.version != version:
            raise BadRequest("subnet", "cidr", f"{request.cidr} is not IPv{version} like subnet pool {pool.id}")
        if request.ip_version is not None and request.ip_version != version:
            raise BadRequest("subnet", "ip_version", f"subnet pool {pool.id} is IPv{version}")
        if isinstance(request.gateway_ip, netaddr.IPAddress) and request.gateway_ip.version != version:
            raise BadRequest("subnet", "gateway_ip", f"{request.gateway_ip} is not IPv{version} like the subnet pool")
        return pool

    def _take_prefix(
        self, tx: Transaction, pool: SubnetPool, request: SubnetCreate, project_id: str
    ) -> netaddr.IPNetwork:
        """Take the subnet's prefix from the pool: the requested cidr, or any block of the requested length."""
        cidr = request.cidr
        if cidr is None and isinstance(request.gateway_ip, netaddr.IPAddress):
            # As in Neutron, a gateway without a cidr asks for the block around that gateway.
            prefixlen = pool.default_prefixlen if request.prefixlen is None else request.prefixlen
            cidr = netaddr.IPNetwork(f"{request.gateway_ip}/{prefixlen}").cidr
        if cidr is not None:
            prefixlen = cidr.prefixlen
        else:
            prefixlen = pool.default_prefixlen if request.prefixlen is None else request.prefixlen
        if cidr is not None:
            check_cidr_in_pool(cidr, pool.prefixes, pool.id)
        check_prefixlen_in_bounds(prefixlen, pool.min_prefixlen, pool.max_prefixlen)
        self._check_quota(tx, pool, project_id, prefixlen)
        return tx.take_prefix(pool, prefixlen) if cidr is None else tx.take_cidr(pool, cidr)

    @staticmethod
    def _check_quota(tx: Transaction, pool: SubnetPool, project_id: str, prefixlen: int) -> None:
        """Refuse a prefix that would take the project over the pool's quota (0 or None: no quota, as in Neutron).

        Unlike Neutron, which counts the pool owner's subnets, the project the subnet is for is counted.
        """
        if not pool.default_quota:
            return
        # One quota check at a time per pool, so that two requests cannot both fit under it.
        tx.subnetpool(pool.id, for_update=True)
        subnets = tx.subnets(by(subnetpool_id=pool.id, project_id=project_id))
        used = sum(
            prefix_quota_units(pool.ip_version, s.cidr.prefixlen)
            for s in subnets
            if s.subnetpool_id == pool.id and s.project_id == project_id
        )
        if used + prefix_quota_units(pool.ip_version, prefixlen) > pool.default_quota:
            raise SubnetPoolQuotaExceeded(pool.id, project_id, pool.default_quota)

    # Ports

    def create_port(self, context: RequestContext, port: PortCreate | Mapping[str, Any]) -> Port:
        request = PortCreate.parse(port)
        policy.check_admin_only(context, request)
        return self.write(lambda tx, after: self.create_port_in(tx, context, request, after))

    def create_port_in(
        self, tx: Transaction, context: RequestContext, request: PortCreate, after: AfterCommit, port_id: str = ""
    ) -> Port:
        """Create a port inside the caller's unit of work."""
        project_id = policy.owner_for(context, request.project_id, "port")
        # Not locked: addresses are taken by compare-and-swap, and the port's reference to the network
        # keeps a concurrent delete from removing it under the new port.
        network = self.network_in(tx, context, request.network_id)
        if not (context.is_admin or network.shared or network.project_id == context.project_id):
            raise NotAuthorized(f"Only the owner or an admin may create ports on network {network.id}")
        port_id = port_id or new_id()
        self.events.notify(ResourceType.PORT, Event.BEFORE_CREATE, context, port_id, request=request)
        if request.fixed_ips is None:
            fixed_ips = self._take_automatic(tx, network)
        else:
            fixed_ips = self._take_requested(tx, context, network, request.fixed_ips, (), request.device_owner)
        created = Port(
            id=port_id,
            project_id=project_id,
            network_id=request.network_id,
            name=request.name,
            admin_state_up=request.admin_state_up,
            mac_address=request.mac_address or tx.new_mac_address(network.id),
            device_id=request.device_id,
            device_owner=request.device_owner,
            fixed_ips=fixed_ips,
            status=status_for(request.admin_state_up),
            **created_attributes(request, self.clock),
        )
        tx.add_port(created)
        self.dataplane.program(tx, after, None, created, request_id=context.request_id)
        after.publish(
            self.events, ResourceType.PORT, Event.AFTER_CREATE, context, port_id, request=request, result=created
        )
        return created

    def get_port(self, context: RequestContext, port_id: str) -> Port:
        return self.read(lambda tx: self.port_in(tx, context, port_id))

    def get_ports(self, context: RequestContext, filters: Filters | None = None) -> list[Port]:
        filters = parse_filters(Port, filters)
        ports = self.read(lambda tx: tx.ports(list_query(context, filters)))
        return _visible(context, ports, Port, filters)

    def update_port(
        self,
        context: RequestContext,
        port_id: str,
        changes: PortUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> Port:
        request = PortUpdate.parse(changes)
        policy.check_admin_only(context, request)
        if_revision = parse_revision("port", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> Port:
            current = self.port_in(tx, context, port_id, for_update=True)
            policy.check_modify(context, current, port_id)
            check_revision(current, if_revision)
            if _rewires(current, request):
                self._check_not_l3_owned(tx, current)
            return self.update_port_in(tx, context, current, request, after)

        return self.write(work)

    def update_port_in(
        self, tx: Transaction, context: RequestContext, current: Port, request: PortUpdate, after: AfterCommit
    ) -> Port:
        """Apply ``request`` to the stored port ``current`` inside the caller's unit of work."""
        self.events.notify(
            ResourceType.PORT, Event.BEFORE_UPDATE, context, current.id, request=request, current=current
        )
        fixed_ips = current.fixed_ips
        if request.fixed_ips is not UNSET:
            network = tx.network(current.network_id)
            assert network is not None
            device_owner = current.device_owner if request.device_owner is UNSET else request.device_owner
            fixed_ips = self._take_requested(tx, context, network, request.fixed_ips, current.fixed_ips, device_owner)
        updated = dataclasses.replace(
            current,
            name=current.name if request.name is UNSET else request.name,
            admin_state_up=current.admin_state_up if request.admin_state_up is UNSET else request.admin_state_up,
            device_id=current.device_id if request.device_id is UNSET else request.device_id,
            device_owner=current.device_owner if request.device_owner is UNSET else request.device_owner,
            fixed_ips=fixed_ips,
        )
        updated = revised(current, dataclasses.replace(updated, status=desired_status(updated)), self.clock, request)
        tx.update_port(updated)
        self.dataplane.program(tx, after, current, updated, request_id=context.request_id)
        after.publish(
            self.events,
            ResourceType.PORT,
            Event.AFTER_UPDATE,
            context,
            current.id,
            request=request,
            current=current,
            result=updated,
        )
        return updated

    def delete_port(self, context: RequestContext, port_id: str, *, if_revision: int | None = None) -> None:
        if_revision = parse_revision("port", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> None:
            current = self.port_in(tx, context, port_id, for_update=True)
            policy.check_modify(context, current, port_id)
            check_revision(current, if_revision)
            self._check_not_l3_owned(tx, current)
            self.delete_port_in(tx, context, current, after)

        self.write(work)

    def delete_port_in(self, tx: Transaction, context: RequestContext, port: Port, after: AfterCommit) -> None:
        """Delete ``port`` inside the caller's unit of work; floating IPs mapped to it point nowhere after."""
        self.events.notify(ResourceType.PORT, Event.BEFORE_DELETE, context, port.id, current=port)
        # Floating IPs mapped to the port let go of it first: they refer to it until then.
        mapped = AfterCommit()
        for floatingip in tx.floatingips(by(port_id=port.id)):
            if floatingip.port_id == port.id:
                self.disassociate_in(tx, context, floatingip, mapped, announce_before=False)
        before = self.dataplane.state(tx, port)
        tx.remove_port(port.id)
        for fixed_ip in port.fixed_ips:
            subnet = tx.subnet(fixed_ip.subnet_id)
            if subnet is not None:
                tx.give_back_address(subnet, fixed_ip.ip_address)
        self.dataplane.program(tx, after, port, None, request_id=context.request_id, before_state=before)
        after.publish(self.events, ResourceType.PORT, Event.AFTER_DELETE, context, port.id, current=port)
        after.extend(mapped)

    def disassociate_in(
        self,
        tx: Transaction,
        context: RequestContext,
        floatingip: FloatingIP,
        after: AfterCommit,
        *,
        announce_before: bool = True,
    ) -> FloatingIP:
        """Point the floating IP nowhere (its internal port is going, or its owner asked)."""
        request = {"port_id": None}
        if announce_before:
            self.events.notify(
                ResourceType.FLOATINGIP,
                Event.BEFORE_UPDATE,
                context,
                floatingip.id,
                request=request,
                current=floatingip,
            )
        updated = dataclasses.replace(floatingip, port_id=None, fixed_ip_address=None, router_id=None)
        updated = revised(floatingip, dataclasses.replace(updated, status=desired_status(updated)), self.clock)
        tx.update_floatingip(updated)
        self.dataplane.program(tx, after, floatingip, updated, request_id=context.request_id)
        after.publish(
            self.events,
            ResourceType.FLOATINGIP,
            Event.AFTER_UPDATE,
            context,
            floatingip.id,
            request=request,
            current=floatingip,
            result=updated,
        )
        return updated

    def port_in(self, tx: Transaction, context: RequestContext, port_id: str, *, for_update: bool = False) -> Port:
        """The port if the caller may see it; NotFound otherwise."""
        port_id = parse_id("port", port_id)
        port = tx.port(port_id, for_update=for_update)
        if port is None or not policy.is_visible(context, port):
            raise NotFound("port", port_id)
        return port

    @staticmethod
    def _check_not_l3_owned(tx: Transaction, port: Port) -> None:
        """Router and floating IP ports change only through the L3 plugin while their device exists."""
        if port.device_owner in _ROUTER_PORT_OWNERS and tx.router(port.device_id) is not None:
            raise InUse("port", port.id, [port.device_id], what="router")
        if port.device_owner == DEVICE_OWNER_FLOATINGIP and tx.floatingip(port.device_id) is not None:
            raise InUse("port", port.id, [port.device_id], what="floating IP")

    # Port addresses

    def _take_automatic(self, tx: Transaction, network: Network) -> tuple[FixedIP, ...]:
        """One address per IP version the network has subnets of, from the first subnet with room."""
        subnets = [self._subnet_row(tx, subnet_id) for subnet_id in network.subnets]
        fixed_ips = []
        for version in (4, 6):
            candidates = [subnet for subnet in subnets if subnet.ip_version == version]
            for subnet in candidates:
                try:
                    fixed_ips.append(FixedIP(subnet_id=subnet.id, ip_address=tx.take_address(subnet, None)))
                    break
                except IpAddressExhausted:
                    continue
            else:
                if candidates:
                    raise IpAddressExhausted("network", network.id)
        return tuple(fixed_ips)

    def _take_requested(
        self,
        tx: Transaction,
        context: RequestContext,
        network: Network,
        wanted: Sequence[FixedIPRequest],
        current: Sequence[FixedIP],
        device_owner: str,
    ) -> tuple[FixedIP, ...]:
        """The addresses ``wanted`` asks for, in its order, keeping those of ``current`` it asks for again.

        An entry keeps a current address when it names it, or names only its
        subnet; the current addresses no entry keeps are given back. Entries
        naming an address are served first, so an "any address" entry cannot take it.
        A subnet's gateway address goes to a plain port only on a private network
        of the caller's (to be attached to a router next) or for an admin: on a
        shared or external network a plain port holding it would capture other
        projects' traffic (finding 3). Router interfaces may always hold it.
        """
        plan = plan_fixed_ips(wanted, current)
        results = list(plan.kept)
        for fixed_ip in plan.released:
            tx.give_back_address(self._subnet_row(tx, fixed_ip.subnet_id), fixed_ip.ip_address)
        for index in plan.order:
            if results[index] is None:
                entry = wanted[index]
                subnet = self._subnet_for_entry(tx, network, entry)
                address = entry.ip_address
                if address is not None:
                    address = validate_address_for_subnet(subnet.cidr, address)
                    if address == subnet.gateway_ip and not _may_hold_gateway(context, network, device_owner):
                        raise BadRequest(
                            "port",
                            "fixed_ips",
                            f"{address} is the gateway address of subnet {subnet.id}: "
                            "on a shared or external network only a router interface may hold it",
                        )
                results[index] = FixedIP(subnet_id=subnet.id, ip_address=tx.take_address(subnet, address))
        return tuple(fixed for fixed in results if fixed is not None)

    def _subnet_for_entry(self, tx: Transaction, network: Network, entry: FixedIPRequest) -> Subnet:
        if entry.subnet_id is not None:
            subnet = tx.subnet(entry.subnet_id)
            if subnet is None:
                raise NotFound("subnet", entry.subnet_id)
            if subnet.network_id != network.id:
                raise BadRequest("port", "fixed_ips", f"subnet {entry.subnet_id} is not on network {network.id}")
            return subnet
        assert entry.ip_address is not None  # FixedIPRequest.validate
        for subnet_id in network.subnets:
            subnet = self._subnet_row(tx, subnet_id)
            if entry.ip_address in subnet.cidr:
                return subnet
        raise BadRequest("port", "fixed_ips", f"{entry.ip_address} is in no subnet of network {network.id}")

    # Capacity questions, answered from the storage's free space rather than by listing what is allocated.

    def count_free_addresses(self, context: RequestContext, subnet_id: str) -> int:
        def work(tx: Transaction) -> int:
            return tx.count_free_addresses(self.subnet_in(tx, context, subnet_id))

        return self.read(work)

    def check_subnetpool_room(
        self, context: RequestContext, subnetpool_id: str, prefixlen: int, project_id: str | None = None
    ) -> None:
        if project_id is not None:
            project_id = parse_project_id("subnet", project_id)

        def work(tx: Transaction) -> None:
            pool = self.subnetpool_in(tx, context, subnetpool_id)
            self._check_quota(tx, pool, project_id or context.project_id, prefixlen)
            if not tx.has_room(pool, prefixlen):
                raise SubnetPoolExhausted(subnetpool_id, prefixlen)

        self.read(work)


# Rules that need no storage


def _may_hold_gateway(context: RequestContext, network: Network, device_owner: str) -> bool:
    if context.is_admin or device_owner == DEVICE_OWNER_ROUTER_INTERFACE:
        return True
    private = not (network.shared or network.router_external)
    return private and network.project_id == context.project_id


def _visible(context: RequestContext, resources: Iterable[R], kind: type[R], filters: Filters | None) -> list[R]:
    """Visibility and filters applied exactly, whatever the storage's own comparisons returned."""
    return filter_resources((r for r in resources if policy.is_visible(context, r)), kind, filters)


def in_use(
    context: RequestContext, resource: str, resource_id: str, users: Iterable[Resource], what: str = "ports"
) -> InUse:
    """InUse naming only the users the caller may see; the others are counted, not named."""
    users = list(users)
    named = [user.id for user in users if policy.is_visible(context, user)]  # type: ignore[attr-defined]
    hidden = len(users) - len(named)
    if hidden:
        named.append(f"{hidden} of other projects")
    return InUse(resource, resource_id, named, what=what)


def _check_no_default_pool(tx: Transaction, ip_version: int, subnetpool_id: str | None) -> None:
    default = tx.default_subnetpool(ip_version)
    if default is not None and default.id != subnetpool_id:
        raise DefaultSubnetPoolExists(default.id, ip_version)


def _gateway_for(cidr: netaddr.IPNetwork, requested: netaddr.IPAddress | Unset | None) -> netaddr.IPAddress | None:
    """UNSET: the default gateway; None: no gateway; an address: that one, if it can be the gateway."""
    if requested is UNSET:
        return default_gateway(cidr)
    if requested is None:
        return None
    return validate_gateway(cidr, requested)


def _grown_prefixes(pool: SubnetPool, prefixes: tuple[netaddr.IPNetwork, ...]) -> tuple[netaddr.IPNetwork, ...]:
    """The pool's new prefixes, which must be of its IP version and hold every old one."""
    if prefixes[0].version != pool.ip_version:
        raise BadRequest("subnetpool", "prefixes", f"subnet pool {pool.id} is IPv{pool.ip_version}")
    lost = netaddr.IPSet(pool.prefixes) - netaddr.IPSet(prefixes)
    if lost:
        listing = ", ".join(str(cidr) for cidr in lost.iter_cidrs())
        raise BadRequest("subnetpool", "prefixes", f"prefixes can only be added, not removed: {listing}")
    return prefixes


def _check_new_gateway(
    subnet: Subnet,
    holders: Mapping[netaddr.IPAddress, Port],
    gateway: netaddr.IPAddress | None,
    keeps_pools: bool,
) -> netaddr.IPAddress | None:
    """Validate a changed gateway: inside the subnet, outside the pools, not another device's address.

    ``keeps_pools``: the update leaves the allocation pools as they are, so
    they are checked here (new pools are checked against the gateway later).
    """
    if gateway is None:
        return None
    gateway = validate_gateway(subnet.cidr, gateway)
    if keeps_pools and _in_ranges(gateway, subnet.allocation_pools):
        raise BadRequest(
            "subnet", "gateway_ip", f"{gateway} is inside the allocation pools; change allocation_pools with it"
        )
    holder = holders.get(gateway)
    # A router port may hold it: that is how a router becomes the gateway of a subnet it was plugged into.
    if holder is not None and holder.device_owner != DEVICE_OWNER_ROUTER_INTERFACE:
        raise BadRequest("subnet", "gateway_ip", f"{gateway} is in use by port {holder.id}")
    return gateway


def _check_pools_keep_addresses(
    subnet: Subnet, holders: Mapping[netaddr.IPAddress, Port], pools: Sequence[netaddr.IPRange]
) -> None:
    """New pools must keep every address allocated from the old pools.

    Addresses outside the old pools were asked for explicitly (a router's
    gateway address, for one) and stay valid wherever the pools go.
    """
    for address, port in holders.items():
        if _in_ranges(address, subnet.allocation_pools) and not _in_ranges(address, pools):
            raise BadRequest(
                "subnet",
                "allocation_pools",
                f"{address} is in use by port {port.id} and would fall outside the allocation pools",
            )


def _rewires(port: Port, request: PortUpdate) -> bool:
    """Whether a port update changes what the port is attached to or its addresses."""
    return (
        request.fixed_ips is not UNSET
        or (request.device_owner is not UNSET and request.device_owner != port.device_owner)
        or (request.device_id is not UNSET and request.device_id != port.device_id)
    )
