"""The in-process L3 plugin: routers, gateways, interfaces and floating IPs, over any core plugin.

It keeps routers, their interfaces and floating IPs itself and asks its core
plugin, through the public :class:`~naas.plugins.core.CorePlugin` interface
only, for the ports they need: gateway (``network:router_gateway``), interface
(``network:router_interface``) and floating IP (``network:floatingip``) ports,
all created with an elevated context once this plugin has applied the policy.

Locking. Two locks, always taken in the order *operation lock → the core
plugin's own lock → state lock*, so no cycle can form:

* ``_operation_lock`` (re-entrant) serialises this plugin's changes and is held
  across the calls into the core plugin, so that a check ("no interface on that
  subnet yet") and the change it guards are one unit.
* ``_state_lock`` guards the records and is never held while calling the core
  plugin. The subscribers to the core's port events take only this one: a core
  plugin publishes ``BEFORE_*`` while holding its own lock, and a subscriber
  waiting for the operation lock could deadlock with an operation waiting for
  the core's lock.

Atomicity across the two plugins. A router or floating IP is recorded before
its port is created, so the veto on port deletion protects the port from the
moment it exists; if creating the port fails, the record is dropped again.
When a later step fails, the ports created so far are deleted. Ports this
plugin deletes or rewires itself are marked in ``_own_changes`` for the
duration of the call, so its own veto lets them through.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import netaddr

from naas import policy
from naas.context import RequestContext
from naas.events import Event, EventPayload, EventRegistry, ResourceType
from naas.exceptions import BadRequest, Conflict, InUse, IpAddressExhausted, NotAuthorized, NotFound
from naas.plugins.core import CorePlugin, Filters
from naas.plugins.l3 import L3Plugin
from naas.requests import (
    UNSET,
    FixedIPRequest,
    FloatingIPCreate,
    GatewayRequest,
    InterfaceRequest,
    PortCreate,
    PortUpdate,
    RouterCreate,
    RouterUpdate,
    to_id,
    to_ip,
)
from naas.resources import (
    DEVICE_OWNER_FLOATINGIP,
    DEVICE_OWNER_ROUTER_GATEWAY,
    DEVICE_OWNER_ROUTER_INTERFACE,
    ExternalGatewayInfo,
    FixedIP,
    FloatingIP,
    Port,
    Router,
    RouterInterfaceInfo,
    Subnet,
    filter_resources,
)
from naas_plugins.memory._listing import Index, sole_filter_value

__all__ = ["MemoryL3Plugin"]

ROUTER_STATUS = "ACTIVE"
FLOATINGIP_ACTIVE = "ACTIVE"
FLOATINGIP_DOWN = "DOWN"
_ROUTER_PORT_OWNERS = (DEVICE_OWNER_ROUTER_INTERFACE, DEVICE_OWNER_ROUTER_GATEWAY)
_L3_PORT_OWNERS = (*_ROUTER_PORT_OWNERS, DEVICE_OWNER_FLOATINGIP)

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class _Interface:
    port_id: str
    network_id: str
    subnet_ids: tuple[str, ...]
    cidrs: tuple[netaddr.IPNetwork, ...]


@dataclasses.dataclass
class _RouterRecord:
    router: Router
    gateway_port_id: str | None = None
    # CIDRs of the external subnets the gateway port has addresses on: interfaces may not overlap them.
    gateway_cidrs: tuple[netaddr.IPNetwork, ...] = ()
    interfaces: dict[str, _Interface] = dataclasses.field(default_factory=dict)  # by port id

    def cidrs(self) -> Iterator[netaddr.IPNetwork]:
        yield from self.gateway_cidrs
        for interface in self.interfaces.values():
            yield from interface.cidrs


@dataclasses.dataclass
class _FloatingIPRecord:
    floatingip: FloatingIP
    floating_port_id: str
    # The subnet of the fixed address: removing the router's interface there would strand the floating IP.
    fixed_subnet_id: str | None = None


@dataclasses.dataclass(frozen=True)
class _Association:
    """Where a floating IP points: a port's fixed address, reached through a router."""

    port_id: str
    fixed_ip: FixedIP
    router_id: str


def _new_id() -> str:
    return str(uuid.uuid4())


def _overlap(first: netaddr.IPNetwork, second: netaddr.IPNetwork) -> bool:
    return first.version == second.version and (first in second or second in first)


def _parse_value(attribute: str, convert: Callable[[Any], T], value: Any) -> T:
    try:
        return convert(value)
    except ValueError as error:
        raise BadRequest("floatingip", attribute, str(error)) from None


class MemoryL3Plugin(L3Plugin):
    """A complete, thread-safe L3 plugin whose state lives in this process only.

    It subscribes to the core plugin's port events when built: it vetoes
    deleting or rewiring the ports of its routers and floating IPs, and
    disassociates floating IPs whose internal port is deleted.
    """

    def __init__(self, core_plugin: CorePlugin, events: EventRegistry | None = None) -> None:
        self.core_plugin = core_plugin
        self.events = events if events is not None else core_plugin.events
        self._operation_lock = threading.RLock()
        self._state_lock = threading.RLock()
        self._routers: dict[str, _RouterRecord] = {}
        self._floatingips: dict[str, _FloatingIPRecord] = {}
        self._router_ids_by_project = Index()
        # Floating IP ids whose port is being created: the port is theirs before the record exists.
        self._pending_floatingips: set[str] = set()
        self._own_changes: set[str] = set()
        # The port events come from the core plugin, whichever registry this plugin publishes to.
        core_events = core_plugin.events
        core_events.subscribe(ResourceType.PORT, Event.BEFORE_DELETE, self._veto_port_change)
        core_events.subscribe(ResourceType.PORT, Event.BEFORE_UPDATE, self._veto_port_change)
        core_events.subscribe(ResourceType.PORT, Event.AFTER_DELETE, self._disassociate_deleted_port)

    # Routers

    def create_router(self, context: RequestContext, router: RouterCreate | Mapping[str, Any]) -> Router:
        request = RouterCreate.parse(router)
        policy.check_admin_only(context, request)
        project_id = policy.owner_for(context, request.project_id, "router")
        gateway = request.external_gateway_info
        record = _RouterRecord(
            Router(
                id=_new_id(),
                project_id=project_id,
                name=request.name,
                admin_state_up=request.admin_state_up,
                status=ROUTER_STATUS,
                external_gateway_info=None,
            )
        )
        router_id = record.router.id
        with self._operation_lock:
            if gateway is not None:
                self._check_gateway_network(context, record, gateway.network_id)
            self.events.notify(ResourceType.ROUTER, Event.BEFORE_CREATE, context, router_id, request=request)
            self._store_router(record)
            try:
                if gateway is not None:
                    port, cidrs = self._create_gateway_port(context, record.router, gateway)
                    self._record_gateway(record, gateway.enable_snat, port, cidrs)
            except BaseException:
                self._forget_router(record)
                raise
            created = record.router
        self.events.notify(ResourceType.ROUTER, Event.AFTER_CREATE, context, router_id, request=request, result=created)
        return created

    def get_router(self, context: RequestContext, router_id: str) -> Router:
        return self._visible_router(context, router_id).router

    def get_routers(self, context: RequestContext, filters: Filters | None = None) -> list[Router]:
        project_id = sole_filter_value(filters, "project_id", "tenant_id")
        with self._state_lock:
            ids = self._routers if project_id is None else self._router_ids_by_project.get(project_id)
            routers = (self._routers[router_id].router for router_id in ids)
            visible = [router for router in routers if policy.is_visible(context, router)]
        return filter_resources(visible, Router, filters)

    def update_router(
        self, context: RequestContext, router_id: str, changes: RouterUpdate | Mapping[str, Any]
    ) -> Router:
        request = RouterUpdate.parse(changes)
        policy.check_admin_only(context, request)
        with self._operation_lock:
            record = self._visible_router(context, router_id)
            current = record.router
            policy.check_modify(context, current, router_id)
            self.events.notify(
                ResourceType.ROUTER, Event.BEFORE_UPDATE, context, router_id, request=request, current=current
            )
            if request.external_gateway_info is not UNSET:
                self._change_gateway(context, record, request.external_gateway_info)
            with self._state_lock:
                record.router = dataclasses.replace(
                    record.router,
                    name=current.name if request.name is UNSET else request.name,
                    admin_state_up=current.admin_state_up
                    if request.admin_state_up is UNSET
                    else request.admin_state_up,
                )
                updated = record.router
        self.events.notify(
            ResourceType.ROUTER,
            Event.AFTER_UPDATE,
            context,
            router_id,
            request=request,
            current=current,
            result=updated,
        )
        return updated

    def delete_router(self, context: RequestContext, router_id: str) -> None:
        with self._operation_lock:
            record = self._visible_router(context, router_id)
            current = record.router
            policy.check_modify(context, current, router_id)
            if record.interfaces:
                raise InUse("router", router_id, record.interfaces)
            self._check_no_floatingips_through(record)
            self.events.notify(ResourceType.ROUTER, Event.BEFORE_DELETE, context, router_id, current=current)
            if record.gateway_port_id is not None:
                self._delete_own_port(context, record.gateway_port_id)
            self._forget_router(record)
        self.events.notify(ResourceType.ROUTER, Event.AFTER_DELETE, context, router_id, current=current)

    # Interfaces

    def add_router_interface(
        self, context: RequestContext, router_id: str, interface: InterfaceRequest | Mapping[str, Any]
    ) -> RouterInterfaceInfo:
        request = InterfaceRequest.parse(interface)
        with self._operation_lock:
            record = self._visible_router(context, router_id)
            policy.check_modify(context, record.router, router_id)
            if request.subnet_id is not None:
                info = self._attach_subnet(context, record, request, request.subnet_id)
            else:
                assert request.port_id is not None  # InterfaceRequest.validate: exactly one of the two
                info = self._attach_port(context, record, request, request.port_id)
        self.events.notify(
            ResourceType.ROUTER_INTERFACE, Event.AFTER_CREATE, context, router_id, request=request, result=info
        )
        return info

    def remove_router_interface(
        self, context: RequestContext, router_id: str, interface: InterfaceRequest | Mapping[str, Any]
    ) -> RouterInterfaceInfo:
        request = InterfaceRequest.parse(interface)
        with self._operation_lock:
            record = self._visible_router(context, router_id)
            policy.check_modify(context, record.router, router_id)
            attached = self._find_interface(record, request)
            removed = (request.subnet_id,) if request.subnet_id is not None else attached.subnet_ids
            self._check_no_floatingips_through(record, attached.port_id, removed)
            info = self._interface_info(record.router, dataclasses.replace(attached, subnet_ids=removed))
            self.events.notify(ResourceType.ROUTER_INTERFACE, Event.BEFORE_DELETE, context, router_id, request=request)
            if len(removed) < len(attached.subnet_ids):
                self._detach_subnet_from_port(context, record, attached, removed[0])
            else:
                self._delete_own_port(context, attached.port_id)
                with self._state_lock:
                    del record.interfaces[attached.port_id]
        self.events.notify(
            ResourceType.ROUTER_INTERFACE, Event.AFTER_DELETE, context, router_id, request=request, current=info
        )
        return info

    # Floating IPs

    def create_floatingip(
        self, context: RequestContext, floatingip: FloatingIPCreate | Mapping[str, Any]
    ) -> FloatingIP:
        request = FloatingIPCreate.parse(floatingip)
        project_id = policy.owner_for(context, request.project_id, "floatingip")
        network_id = request.floating_network_id
        floatingip_id = _new_id()
        with self._operation_lock:
            network = self.core_plugin.get_network(context, network_id)
            if not network.router_external:
                raise BadRequest(
                    "floatingip", "floating_network_id", f"Network {network_id} is not an external network"
                )
            association = None
            if request.port_id is not None:
                association = self._find_association(
                    context, network_id, request.port_id, request.fixed_ip_address, floatingip_id
                )
            self.events.notify(ResourceType.FLOATINGIP, Event.BEFORE_CREATE, context, floatingip_id, request=request)
            # Reserved until recorded, so the veto protects the port from the moment it exists.
            with self._reserved_floatingip(floatingip_id):
                port = self._create_floating_port(context, network_id, project_id, floatingip_id, request)
                record = self._store_floatingip(floatingip_id, project_id, port)
            try:
                self._apply_association(context, record, association)
            except BaseException:
                self._delete_own_port(context, port.id)
                with self._state_lock:
                    del self._floatingips[floatingip_id]
                raise
            created = record.floatingip
        self.events.notify(
            ResourceType.FLOATINGIP, Event.AFTER_CREATE, context, floatingip_id, request=request, result=created
        )
        return created

    def get_floatingip(self, context: RequestContext, floatingip_id: str) -> FloatingIP:
        return self._visible_floatingip(context, floatingip_id).floatingip

    def get_floatingips(self, context: RequestContext, filters: Filters | None = None) -> list[FloatingIP]:
        with self._state_lock:
            visible = [r.floatingip for r in self._floatingips.values() if policy.is_visible(context, r.floatingip)]
        return filter_resources(visible, FloatingIP, filters)

    def associate_floatingip(
        self, context: RequestContext, floatingip_id: str, port_id: str, fixed_ip_address: str | None = None
    ) -> FloatingIP:
        port_id = _parse_value("port_id", to_id, port_id)
        fixed_ip = None if fixed_ip_address is None else _parse_value("fixed_ip_address", to_ip, fixed_ip_address)
        with self._operation_lock:
            record = self._visible_floatingip(context, floatingip_id)
            current = record.floatingip
            policy.check_modify(context, current, floatingip_id)
            association = self._find_association(context, current.floating_network_id, port_id, fixed_ip, floatingip_id)
            request = {"port_id": port_id, "fixed_ip_address": fixed_ip_address}
            self.events.notify(
                ResourceType.FLOATINGIP, Event.BEFORE_UPDATE, context, floatingip_id, request=request, current=current
            )
            self._apply_association(context, record, association)
            updated = record.floatingip
        self.events.notify(
            ResourceType.FLOATINGIP,
            Event.AFTER_UPDATE,
            context,
            floatingip_id,
            request=request,
            current=current,
            result=updated,
        )
        return updated

    def disassociate_floatingip(self, context: RequestContext, floatingip_id: str) -> FloatingIP:
        with self._operation_lock:
            record = self._visible_floatingip(context, floatingip_id)
            current = record.floatingip
            policy.check_modify(context, current, floatingip_id)
            if current.port_id is None:
                return current
            request = {"port_id": None}
            self.events.notify(
                ResourceType.FLOATINGIP, Event.BEFORE_UPDATE, context, floatingip_id, request=request, current=current
            )
            self._apply_association(context, record, None)
            updated = record.floatingip
        self.events.notify(
            ResourceType.FLOATINGIP,
            Event.AFTER_UPDATE,
            context,
            floatingip_id,
            request=request,
            current=current,
            result=updated,
        )
        return updated

    def delete_floatingip(self, context: RequestContext, floatingip_id: str) -> None:
        with self._operation_lock:
            record = self._visible_floatingip(context, floatingip_id)
            current = record.floatingip
            policy.check_modify(context, current, floatingip_id)
            self.events.notify(ResourceType.FLOATINGIP, Event.BEFORE_DELETE, context, floatingip_id, current=current)
            self._delete_own_port(context, record.floating_port_id)
            with self._state_lock:
                del self._floatingips[floatingip_id]
        self.events.notify(ResourceType.FLOATINGIP, Event.AFTER_DELETE, context, floatingip_id, current=current)

    # Core plugin event subscribers: they take only the state lock (see the module docstring).

    def _veto_port_change(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        """Refuse to delete or rewire a port that one of our routers or floating IPs still owns."""
        port = payload.current
        if not isinstance(port, Port) or port.device_owner not in _L3_PORT_OWNERS:
            return
        if event is Event.BEFORE_UPDATE and not _rewires(port, payload.request):
            return
        with self._state_lock:
            if port.id in self._own_changes:
                return
            if port.device_owner in _ROUTER_PORT_OWNERS and port.device_id in self._routers:
                raise InUse("port", port.id, [port.device_id], what="router")
            if port.device_owner == DEVICE_OWNER_FLOATINGIP and (
                port.device_id in self._floatingips or port.device_id in self._pending_floatingips
            ):
                raise InUse("port", port.id, [port.device_id], what="floating IP")

    def _disassociate_deleted_port(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        """A floating IP whose internal port is gone points nowhere: disassociate it."""
        port = payload.current
        if not isinstance(port, Port):
            return
        changed = []
        with self._state_lock:
            for record in self._floatingips.values():
                if record.floatingip.port_id == port.id:
                    current = record.floatingip
                    self._set_association(record, None)
                    changed.append((current, record.floatingip))
        for current, updated in changed:
            self.events.notify(
                ResourceType.FLOATINGIP,
                Event.AFTER_UPDATE,
                payload.context,
                updated.id,
                request={"port_id": None},
                current=current,
                result=updated,
            )

    # Records

    def _store_router(self, record: _RouterRecord) -> None:
        with self._state_lock:
            self._routers[record.router.id] = record
            self._router_ids_by_project.add(record.router.project_id, record.router.id)

    def _forget_router(self, record: _RouterRecord) -> None:
        with self._state_lock:
            del self._routers[record.router.id]
            self._router_ids_by_project.remove(record.router.project_id, record.router.id)

    def _store_floatingip(self, floatingip_id: str, project_id: str, port: Port) -> _FloatingIPRecord:
        """Record a new, unassociated floating IP holding the address of its ``port``."""
        floatingip = FloatingIP(
            id=floatingip_id,
            project_id=project_id,
            floating_network_id=port.network_id,
            floating_ip_address=port.fixed_ips[0].ip_address,
            port_id=None,
            fixed_ip_address=None,
            router_id=None,
            status=FLOATINGIP_DOWN,
        )
        record = _FloatingIPRecord(floatingip, floating_port_id=port.id)
        with self._state_lock:
            self._floatingips[floatingip_id] = record
        return record

    # Lookups

    def _visible_router(self, context: RequestContext, router_id: str) -> _RouterRecord:
        with self._state_lock:
            record = self._routers.get(router_id)
        if record is None or not policy.is_visible(context, record.router):
            raise NotFound("router", router_id)
        return record

    def _visible_floatingip(self, context: RequestContext, floatingip_id: str) -> _FloatingIPRecord:
        with self._state_lock:
            record = self._floatingips.get(floatingip_id)
        if record is None or not policy.is_visible(context, record.floatingip):
            raise NotFound("floatingip", floatingip_id)
        return record

    def _subnets_of(self, context: RequestContext, fixed_ips: Iterable[FixedIP]) -> list[Subnet]:
        admin = context.elevated()
        subnet_ids = dict.fromkeys(fixed_ip.subnet_id for fixed_ip in fixed_ips)
        return [self.core_plugin.get_subnet(admin, subnet_id) for subnet_id in subnet_ids]

    @staticmethod
    def _interface_info(router: Router, interface: _Interface) -> RouterInterfaceInfo:
        return RouterInterfaceInfo(
            id=router.id,
            project_id=router.project_id,
            network_id=interface.network_id,
            port_id=interface.port_id,
            subnet_id=interface.subnet_ids[0],
            subnet_ids=interface.subnet_ids,
        )

    def _find_interface(self, record: _RouterRecord, request: InterfaceRequest) -> _Interface:
        router_id = record.router.id
        with self._state_lock:
            interfaces = list(record.interfaces.values())
        if request.port_id is not None:
            found = next((i for i in interfaces if i.port_id == request.port_id), None)
            where = f"port {request.port_id}"
        else:
            found = next((i for i in interfaces if request.subnet_id in i.subnet_ids), None)
            where = f"subnet {request.subnet_id}"
        if found is None:
            raise NotFound("router_interface", router_id, f"Router {router_id} has no interface on {where}.")
        return found

    # Checks

    def _check_gateway_network(self, context: RequestContext, record: _RouterRecord, network_id: str) -> None:
        """The gateway network must be external, and its subnets must not overlap the router's interfaces."""
        network = self.core_plugin.get_network(context, network_id)
        if not network.router_external:
            raise BadRequest("router", "external_gateway_info", f"Network {network_id} is not an external network")
        with self._state_lock:
            interface_cidrs = [cidr for i in record.interfaces.values() for cidr in i.cidrs]
        if not interface_cidrs:
            return
        for subnet in self.core_plugin.get_subnets(context.elevated(), {"network_id": network_id}):
            for cidr in interface_cidrs:
                if _overlap(subnet.cidr, cidr):
                    raise BadRequest(
                        "router",
                        "external_gateway_info",
                        f"subnet {subnet.id} ({subnet.cidr}) of network {network_id} overlaps with {cidr}, "
                        f"an interface of router {record.router.id}",
                    )

    def _check_can_attach(self, record: _RouterRecord, subnets: Sequence[Subnet], attribute: str) -> None:
        """One interface per subnet, and no two of the router's subnets (gateway included) may overlap."""
        router_id = record.router.id
        with self._state_lock:
            attached = {subnet_id for i in record.interfaces.values() for subnet_id in i.subnet_ids}
            router_cidrs = list(record.cidrs())
        for subnet in subnets:
            if subnet.id in attached:
                raise BadRequest(
                    "router_interface", attribute, f"Router {router_id} already has a port on subnet {subnet.id}"
                )
            for cidr in router_cidrs:
                if _overlap(subnet.cidr, cidr):
                    raise BadRequest(
                        "router_interface",
                        attribute,
                        f"cidr {subnet.cidr} of subnet {subnet.id} overlaps with {cidr} on router {router_id}",
                    )

    def _check_no_floatingips_through(
        self, record: _RouterRecord, interface_port_id: str | None = None, subnet_ids: Iterable[str] | None = None
    ) -> None:
        """Refuse while floating IPs reach fixed addresses through this router (on ``subnet_ids``, if given)."""
        router_id = record.router.id
        wanted = None if subnet_ids is None else set(subnet_ids)
        with self._state_lock:
            users = [
                r.floatingip.id
                for r in self._floatingips.values()
                if r.floatingip.router_id == router_id and (wanted is None or r.fixed_subnet_id in wanted)
            ]
        if not users:
            return
        if interface_port_id is None:
            raise InUse("router", router_id, users, what="floating IPs")
        raise InUse("router_interface", interface_port_id, users, what="floating IPs")

    # Gateways

    def _create_gateway_port(
        self, context: RequestContext, router: Router, gateway: GatewayRequest
    ) -> tuple[Port, tuple[netaddr.IPNetwork, ...]]:
        """The gateway port of ``router`` and the CIDRs of its subnets; nothing is left if this fails."""
        try:
            port = self.core_plugin.create_port(
                context.elevated(),
                PortCreate(
                    network_id=gateway.network_id,
                    project_id=router.project_id,
                    device_owner=DEVICE_OWNER_ROUTER_GATEWAY,
                    device_id=router.id,
                    fixed_ips=gateway.external_fixed_ips,
                ),
            )
        except BadRequest as error:
            # The caller asked for a gateway, not a port: name what they sent.
            raise BadRequest("router", "external_gateway_info", f"{error.attribute}: {error.reason}") from error
        with self._cleanup_on_error(context, port.id):
            cidrs = tuple(subnet.cidr for subnet in self._subnets_of(context, port.fixed_ips))
        return port, cidrs

    def _record_gateway(
        self, record: _RouterRecord, enable_snat: bool, port: Port | None, cidrs: tuple[netaddr.IPNetwork, ...]
    ) -> None:
        info = None
        if port is not None:
            info = ExternalGatewayInfo(
                network_id=port.network_id, enable_snat=enable_snat, external_fixed_ips=port.fixed_ips
            )
        with self._state_lock:
            record.gateway_port_id = None if port is None else port.id
            record.gateway_cidrs = cidrs
            record.router = dataclasses.replace(record.router, external_gateway_info=info)

    def _change_gateway(self, context: RequestContext, record: _RouterRecord, gateway: GatewayRequest | None) -> None:
        """Set, change or (None) remove the router's gateway."""
        current = record.router.external_gateway_info
        old_port_id = record.gateway_port_id
        if gateway is None:
            if old_port_id is not None:
                self._check_no_floatingips_through(record)
                self._delete_own_port(context, old_port_id)
                self._record_gateway(record, False, None, ())
            return
        if current is not None and old_port_id is not None and gateway.network_id == current.network_id:
            self._update_gateway_in_place(context, record, old_port_id, gateway)
            return
        if current is not None:
            # Floating IPs on the old network reach their ports through this gateway.
            self._check_no_floatingips_through(record)
        self._check_gateway_network(context, record, gateway.network_id)
        port, cidrs = self._create_gateway_port(context, record.router, gateway)
        if old_port_id is not None:
            with self._cleanup_on_error(context, port.id):
                self._delete_own_port(context, old_port_id)
        self._record_gateway(record, gateway.enable_snat, port, cidrs)

    def _update_gateway_in_place(
        self, context: RequestContext, record: _RouterRecord, port_id: str, gateway: GatewayRequest
    ) -> None:
        """Same external network: change SNAT and, if asked, the gateway port's addresses."""
        if gateway.external_fixed_ips is None:
            port = self.core_plugin.get_port(context.elevated(), port_id)
            cidrs = record.gateway_cidrs
        else:
            with self._own_change(port_id):
                port = self.core_plugin.update_port(
                    context.elevated(), port_id, PortUpdate(fixed_ips=gateway.external_fixed_ips)
                )
            cidrs = tuple(subnet.cidr for subnet in self._subnets_of(context, port.fixed_ips))
        self._record_gateway(record, gateway.enable_snat, port, cidrs)

    # Interfaces

    def _attach_subnet(
        self, context: RequestContext, record: _RouterRecord, request: InterfaceRequest, subnet_id: str
    ) -> RouterInterfaceInfo:
        """A new port on the subnet, holding its gateway address."""
        subnet = self.core_plugin.get_subnet(context, subnet_id)
        network = self.core_plugin.get_network(context, subnet.network_id)
        if not context.is_admin and network.project_id != context.project_id:
            raise NotAuthorized(f"Only the owner of network {network.id} or an admin may attach subnet {subnet_id}")
        if subnet.gateway_ip is None:
            raise BadRequest("router_interface", "subnet_id", f"Subnet {subnet_id} has no gateway IP")
        self._check_can_attach(record, [subnet], "subnet_id")
        router = record.router
        self.events.notify(ResourceType.ROUTER_INTERFACE, Event.BEFORE_CREATE, context, router.id, request=request)
        port = self.core_plugin.create_port(
            context.elevated(),
            PortCreate(
                network_id=subnet.network_id,
                project_id=router.project_id,
                device_owner=DEVICE_OWNER_ROUTER_INTERFACE,
                device_id=router.id,
                fixed_ips=(FixedIPRequest(subnet_id=subnet_id, ip_address=subnet.gateway_ip),),
            ),
        )
        return self._record_interface(record, _Interface(port.id, subnet.network_id, (subnet_id,), (subnet.cidr,)))

    def _attach_port(
        self, context: RequestContext, record: _RouterRecord, request: InterfaceRequest, port_id: str
    ) -> RouterInterfaceInfo:
        """An unbound port with addresses becomes the router's interface on their subnets."""
        port = self.core_plugin.get_port(context, port_id)
        if port.device_id or port.device_owner:
            owner = port.device_owner or "device"
            raise BadRequest("router_interface", "port_id", f"Port {port_id} is in use by {owner} {port.device_id}")
        if not port.fixed_ips:
            raise BadRequest("router_interface", "port_id", f"Port {port_id} has no IP address")
        subnets = self._subnets_of(context, port.fixed_ips)
        self._check_can_attach(record, subnets, "port_id")
        router = record.router
        self.events.notify(ResourceType.ROUTER_INTERFACE, Event.BEFORE_CREATE, context, router.id, request=request)
        self.core_plugin.update_port(
            context.elevated(),
            port_id,
            PortUpdate(device_owner=DEVICE_OWNER_ROUTER_INTERFACE, device_id=router.id),
        )
        interface = _Interface(port_id, port.network_id, tuple(s.id for s in subnets), tuple(s.cidr for s in subnets))
        return self._record_interface(record, interface)

    def _record_interface(self, record: _RouterRecord, interface: _Interface) -> RouterInterfaceInfo:
        with self._state_lock:
            record.interfaces[interface.port_id] = interface
        return self._interface_info(record.router, interface)

    def _detach_subnet_from_port(
        self, context: RequestContext, record: _RouterRecord, interface: _Interface, subnet_id: str
    ) -> None:
        """Drop one subnet's address from an interface port that has others (Neutron does the same)."""
        admin = context.elevated()
        port = self.core_plugin.get_port(admin, interface.port_id)
        remaining = tuple(
            FixedIPRequest(subnet_id=fixed.subnet_id, ip_address=fixed.ip_address)
            for fixed in port.fixed_ips
            if fixed.subnet_id != subnet_id
        )
        with self._own_change(interface.port_id):
            self.core_plugin.update_port(admin, interface.port_id, PortUpdate(fixed_ips=remaining))
        kept = [index for index, kept_id in enumerate(interface.subnet_ids) if kept_id != subnet_id]
        with self._state_lock:
            record.interfaces[interface.port_id] = dataclasses.replace(
                interface,
                subnet_ids=tuple(interface.subnet_ids[index] for index in kept),
                cidrs=tuple(interface.cidrs[index] for index in kept),
            )

    # Floating IPs

    def _create_floating_port(
        self,
        context: RequestContext,
        network_id: str,
        project_id: str,
        floatingip_id: str,
        request: FloatingIPCreate,
    ) -> Port:
        """The floating IP's port: the requested address, or one from the first IPv4 subnet with room."""
        admin = context.elevated()

        def create(fixed_ip: FixedIPRequest) -> Port:
            return self.core_plugin.create_port(
                admin,
                PortCreate(
                    network_id=network_id,
                    project_id=project_id,
                    device_owner=DEVICE_OWNER_FLOATINGIP,
                    device_id=floatingip_id,
                    fixed_ips=(fixed_ip,),
                ),
            )

        if request.floating_ip_address is not None:
            try:
                return create(FixedIPRequest(ip_address=request.floating_ip_address))
            except BadRequest as error:
                raise BadRequest("floatingip", "floating_ip_address", error.reason) from error
        subnets = self.core_plugin.get_subnets(admin, {"network_id": network_id, "ip_version": 4})
        if not subnets:
            raise BadRequest("floatingip", "floating_network_id", f"Network {network_id} has no IPv4 subnet")
        for subnet in subnets:
            try:
                return create(FixedIPRequest(subnet_id=subnet.id))
            except IpAddressExhausted:
                continue
        raise IpAddressExhausted("network", network_id)

    def _find_association(
        self,
        context: RequestContext,
        network_id: str,
        port_id: str,
        fixed_ip_address: netaddr.IPAddress | None,
        floatingip_id: str,
    ) -> _Association:
        """Check that floating IP ``floatingip_id`` of ``network_id`` may point at the port's address."""
        port = self.core_plugin.get_port(context, port_id)
        if port.device_owner in _L3_PORT_OWNERS:
            raise BadRequest("floatingip", "port_id", f"Port {port_id} is a {port.device_owner} port")
        if fixed_ip_address is None:
            fixed_ip = next((f for f in port.fixed_ips if f.ip_address.version == 4), None)
            if fixed_ip is None:
                raise BadRequest("floatingip", "port_id", f"Port {port_id} has no IPv4 address")
        else:
            fixed_ip = next((f for f in port.fixed_ips if f.ip_address == fixed_ip_address), None)
            if fixed_ip is None or fixed_ip_address.version != 4:
                raise BadRequest(
                    "floatingip", "fixed_ip_address", f"Port {port_id} has no IPv4 address {fixed_ip_address}"
                )
        with self._state_lock:
            router_id = next(
                (
                    r.router.id
                    for r in self._routers.values()
                    if r.router.external_gateway_info is not None
                    and r.router.external_gateway_info.network_id == network_id
                    and any(fixed_ip.subnet_id in i.subnet_ids for i in r.interfaces.values())
                ),
                None,
            )
            clash = next(
                (
                    r.floatingip.id
                    for r in self._floatingips.values()
                    if r.floatingip.id != floatingip_id
                    and r.floatingip.floating_network_id == network_id
                    and r.floatingip.port_id == port_id
                    and r.floatingip.fixed_ip_address == fixed_ip.ip_address
                ),
                None,
            )
        if router_id is None:
            raise NotFound(
                "router",
                fixed_ip.subnet_id,
                f"External network {network_id} is not reachable from subnet {fixed_ip.subnet_id}.",
            )
        if clash is not None:
            raise Conflict(
                "floatingip",
                clash,
                f"Floating IP {clash} of network {network_id} already maps {fixed_ip.ip_address} of port {port_id}.",
            )
        return _Association(port_id, fixed_ip, router_id)

    def _set_association(self, record: _FloatingIPRecord, association: _Association | None) -> None:
        """Point the record at ``association`` (None: nowhere); the caller holds the state lock."""
        record.fixed_subnet_id = None if association is None else association.fixed_ip.subnet_id
        record.floatingip = dataclasses.replace(
            record.floatingip,
            port_id=None if association is None else association.port_id,
            fixed_ip_address=None if association is None else association.fixed_ip.ip_address,
            router_id=None if association is None else association.router_id,
            status=FLOATINGIP_DOWN if association is None else FLOATINGIP_ACTIVE,
        )

    def _apply_association(
        self, context: RequestContext, record: _FloatingIPRecord, association: _Association | None
    ) -> None:
        with self._state_lock:
            previous = (record.floatingip, record.fixed_subnet_id)
            self._set_association(record, association)
        if association is None:
            return
        # The port may have been deleted since it was looked up, and its AFTER_DELETE may have
        # come before the record above: check again now that a later deletion will find the record.
        try:
            self.core_plugin.get_port(context.elevated(), association.port_id)
        except NotFound:
            with self._state_lock:
                record.floatingip, record.fixed_subnet_id = previous
            raise

    # Helpers

    def _delete_own_port(self, context: RequestContext, port_id: str) -> None:
        """Delete a port this plugin owns, past its own veto; one already gone is fine."""
        with self._own_change(port_id), contextlib.suppress(NotFound):
            self.core_plugin.delete_port(context.elevated(), port_id)

    @contextlib.contextmanager
    def _own_change(self, port_id: str) -> Iterator[None]:
        with self._state_lock:
            self._own_changes.add(port_id)
        try:
            yield
        finally:
            with self._state_lock:
                self._own_changes.discard(port_id)

    @contextlib.contextmanager
    def _reserved_floatingip(self, floatingip_id: str) -> Iterator[None]:
        with self._state_lock:
            self._pending_floatingips.add(floatingip_id)
        try:
            yield
        finally:
            with self._state_lock:
                self._pending_floatingips.discard(floatingip_id)

    @contextlib.contextmanager
    def _cleanup_on_error(self, context: RequestContext, port_id: str) -> Iterator[None]:
        """Delete the port just created for a change if the rest of the change fails."""
        try:
            yield
        except BaseException:
            self._delete_own_port(context, port_id)
            raise


def _rewires(port: Port, request: Any) -> bool:
    """Whether a port update changes what the port is attached to or its addresses."""
    if not isinstance(request, PortUpdate):
        return True  # a core plugin that does not say what changes: assume the worst
    return (
        request.fixed_ips is not UNSET
        or (request.device_owner is not UNSET and request.device_owner != port.device_owner)
        or (request.device_id is not UNSET and request.device_id != port.device_id)
    )
