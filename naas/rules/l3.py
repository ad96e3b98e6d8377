"""Neutron's L3 rules, written once: routers, gateways, interfaces and floating IPs, over a storage driver.

:class:`L3Rules` shares its core plugin's storage (and so its units of work):
a router and its gateway port, an interface and its port, a floating IP and its
port are written in one unit, so none can exist without the other, and no event
subscription is needed to keep them consistent. Its ports are made by the core
rules (``create_port_in`` ...) with an elevated context once this plugin has
applied the policy, with the device owners ``network:router_gateway``,
``network:router_interface`` and ``network:floatingip``; the core rules refuse
to delete or rewire such a port through the port API while its device exists.

A router's interfaces and gateway are not stored twice: they are its ports
(``device_id`` = the router), read with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Self, TypeVar

import netaddr
from oslo_config import cfg

from naas import policy
from naas.backends import BackendChain
from naas.context import RequestContext
from naas.events import Event, EventRegistry, ResourceType
from naas.exceptions import BadRequest, Conflict, IpAddressExhausted, NotAuthorized, NotFound
from naas.plugins.core import CorePlugin, Filters
from naas.plugins.l3 import L3Plugin
from naas.requests import (
    UNSET,
    FixedIPRequest,
    FloatingIPCreate,
    FloatingIPUpdate,
    GatewayRequest,
    InterfaceRequest,
    PortCreate,
    PortUpdate,
    RouterCreate,
    RouterUpdate,
    parse_filters,
    parse_id,
    to_id,
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
from naas.rules._dataplane import AfterCommit, desired_status, status_for
from naas.rules._standard import check_revision, created_attributes, parse_revision, revised
from naas.rules.core import CoreRules, by, in_use, list_query, new_id
from naas.storage import Transaction

__all__ = ["L3Rules"]

T = TypeVar("T")

_L3_PORT_OWNERS = (DEVICE_OWNER_ROUTER_INTERFACE, DEVICE_OWNER_ROUTER_GATEWAY, DEVICE_OWNER_FLOATINGIP)


@dataclasses.dataclass(frozen=True)
class _RouterState:
    """A router with its ports, as one read."""

    router: Router
    gateway: Port | None
    interfaces: tuple[Port, ...]

    def interface_subnet_ids(self) -> set[str]:
        return {fixed.subnet_id for port in self.interfaces for fixed in port.fixed_ips}


def _overlap(first: netaddr.IPNetwork, second: netaddr.IPNetwork) -> bool:
    return first.version == second.version and (first in second or second in first)


def _inside(address: netaddr.IPAddress | None, cidr: netaddr.IPNetwork) -> bool:
    return address is not None and address in cidr


def _parse_value(attribute: str, convert: Callable[[Any], T], value: Any) -> T:
    try:
        return convert(value)
    except ValueError as error:
        raise BadRequest("floatingip", attribute, str(error)) from None


class L3Rules(L3Plugin):
    """The L3 plugin's rules over the storage of a :class:`~naas.rules.CoreRules` core plugin."""

    def __init__(self, core_plugin: CoreRules, events: EventRegistry | None = None) -> None:
        if not isinstance(core_plugin, CoreRules):
            raise TypeError(
                f"{type(self).__name__} keeps its routers in its core plugin's storage, so it needs a core plugin "
                f"built on naas.rules.CoreRules (a bundled one), not {type(core_plugin).__name__}"
            )
        self.core_plugin: CorePlugin = core_plugin
        self.core = core_plugin
        self.events = events if events is not None else core_plugin.events

    @classmethod
    def from_config(
        cls,
        conf: cfg.ConfigOpts,
        *,
        core_plugin: CorePlugin,
        events: EventRegistry,
        backends: BackendChain | None = None,
    ) -> Self:
        """Build the plugin for ``core_plugin``; the backends are the core plugin's (the loader hands both the same)."""
        return cls(core_plugin=core_plugin, events=events)  # type: ignore[arg-type]

    def _write(self, work: Callable[[Transaction, AfterCommit], T]) -> T:
        return self.core.write(work)

    # Routers

    def create_router(self, context: RequestContext, router: RouterCreate | Mapping[str, Any]) -> Router:
        request = RouterCreate.parse(router)
        policy.check_admin_only(context, request)
        project_id = policy.owner_for(context, request.project_id, "router")
        created = Router(
            id=request.id or new_id(),
            project_id=project_id,
            name=request.name,
            admin_state_up=request.admin_state_up,
            status=status_for(request.admin_state_up),
            external_gateway_info=None,
            **created_attributes(request, self.core.clock),
        )

        def work(tx: Transaction, after: AfterCommit) -> Router:
            state = _RouterState(created, None, ())
            gateway = request.external_gateway_info
            if gateway is not None:
                self._check_gateway_network(tx, context, state, gateway.network_id)
            self.events.notify(ResourceType.ROUTER, Event.BEFORE_CREATE, context, created.id, request=request)
            result = created
            if gateway is not None:
                # The port first, so the router is written once, with its gateway.
                result = _with_gateway(
                    created, gateway.enable_snat, self._gateway_port(tx, context, created, gateway, after)
                )
            tx.add_router(result)
            self.core.dataplane.program(tx, after, None, result, request_id=context.request_id)
            after.publish(
                self.events,
                ResourceType.ROUTER,
                Event.AFTER_CREATE,
                context,
                created.id,
                request=request,
                result=result,
            )
            return result

        return self._write(work)

    def get_router(self, context: RequestContext, router_id: str) -> Router:
        return self.core.read(lambda tx: self._router_in(tx, context, router_id).router)

    def get_routers(self, context: RequestContext, filters: Filters | None = None) -> list[Router]:
        filters = parse_filters(Router, filters)
        routers = self.core.read(lambda tx: tx.routers(list_query(context, filters)))
        return filter_resources((r for r in routers if policy.is_visible(context, r)), Router, filters)

    def update_router(
        self,
        context: RequestContext,
        router_id: str,
        changes: RouterUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> Router:
        request = RouterUpdate.parse(changes)
        policy.check_admin_only(context, request)
        if_revision = parse_revision("router", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> Router:
            state = self._router_in(tx, context, router_id, for_update=True)
            current = state.router
            policy.check_modify(context, current, router_id)
            check_revision(current, if_revision)
            before = self.core.dataplane.state(tx, current)
            self.events.notify(
                ResourceType.ROUTER, Event.BEFORE_UPDATE, context, router_id, request=request, current=current
            )
            router = current
            if request.external_gateway_info is not UNSET:
                router = self._change_gateway(tx, context, state, request.external_gateway_info, after)
            updated = dataclasses.replace(
                router,
                name=current.name if request.name is UNSET else request.name,
                admin_state_up=current.admin_state_up if request.admin_state_up is UNSET else request.admin_state_up,
            )
            updated = dataclasses.replace(updated, status=desired_status(updated))
            updated = revised(current, updated, self.core.clock, request)
            tx.update_router(updated)
            self.core.dataplane.program(tx, after, current, updated, request_id=context.request_id, before_state=before)
            after.publish(
                self.events,
                ResourceType.ROUTER,
                Event.AFTER_UPDATE,
                context,
                router_id,
                request=request,
                current=current,
                result=updated,
            )
            return updated

        return self._write(work)

    def delete_router(self, context: RequestContext, router_id: str, *, if_revision: int | None = None) -> None:
        if_revision = parse_revision("router", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> None:
            state = self._router_in(tx, context, router_id, for_update=True)
            current = state.router
            policy.check_modify(context, current, router_id)
            check_revision(current, if_revision)
            if state.interfaces:
                raise in_use(context, "router", router_id, state.interfaces)
            self._check_no_floatingips_through(tx, context, state)
            before = self.core.dataplane.state(tx, current)
            self.events.notify(ResourceType.ROUTER, Event.BEFORE_DELETE, context, router_id, current=current)
            if state.gateway is not None:
                self.core.delete_port_in(tx, context.elevated(), state.gateway, after)
            tx.remove_router(router_id)
            self.core.dataplane.program(tx, after, current, None, request_id=context.request_id, before_state=before)
            after.publish(self.events, ResourceType.ROUTER, Event.AFTER_DELETE, context, router_id, current=current)

        self._write(work)

    # Interfaces

    def add_router_interface(
        self, context: RequestContext, router_id: str, interface: InterfaceRequest | Mapping[str, Any]
    ) -> RouterInterfaceInfo:
        request = InterfaceRequest.parse(interface)

        def work(tx: Transaction, after: AfterCommit) -> RouterInterfaceInfo:
            state = self._router_in(tx, context, router_id, for_update=True)
            policy.check_modify(context, state.router, router_id)
            before = self.core.dataplane.state(tx, state.router)
            if request.subnet_id is not None:
                info = self._attach_subnet(tx, context, state, request, request.subnet_id, after)
            else:
                assert request.port_id is not None  # InterfaceRequest.validate: exactly one of the two
                info = self._attach_port(tx, context, state, request, request.port_id, after)
            self._program_router(tx, after, context, state.router, before)
            after.publish(
                self.events,
                ResourceType.ROUTER_INTERFACE,
                Event.AFTER_CREATE,
                context,
                router_id,
                request=request,
                result=info,
            )
            return info

        return self._write(work)

    def remove_router_interface(
        self, context: RequestContext, router_id: str, interface: InterfaceRequest | Mapping[str, Any]
    ) -> RouterInterfaceInfo:
        request = InterfaceRequest.parse(interface)

        def work(tx: Transaction, after: AfterCommit) -> RouterInterfaceInfo:
            state = self._router_in(tx, context, router_id, for_update=True)
            policy.check_modify(context, state.router, router_id)
            port = _find_interface(state, request)
            before = self.core.dataplane.state(tx, state.router)
            attached = tuple(dict.fromkeys(fixed.subnet_id for fixed in port.fixed_ips))
            removed = (request.subnet_id,) if request.subnet_id is not None else attached
            self._check_no_floatingips_through(tx, context, state, port.id, removed)
            info = _interface_info(state.router, port, removed)
            self.events.notify(ResourceType.ROUTER_INTERFACE, Event.BEFORE_DELETE, context, router_id, request=request)
            admin = context.elevated()
            if len(removed) < len(attached):
                # Drop one subnet's address from an interface port that has others (Neutron does the same).
                remaining = tuple(
                    FixedIPRequest(subnet_id=fixed.subnet_id, ip_address=fixed.ip_address)
                    for fixed in port.fixed_ips
                    if fixed.subnet_id not in removed
                )
                self.core.update_port_in(tx, admin, port, PortUpdate(fixed_ips=remaining), after)
            else:
                self.core.delete_port_in(tx, admin, port, after)
            self._program_router(tx, after, context, state.router, before)
            after.publish(
                self.events,
                ResourceType.ROUTER_INTERFACE,
                Event.AFTER_DELETE,
                context,
                router_id,
                request=request,
                current=info,
            )
            return info

        return self._write(work)

    # Floating IPs

    def create_floatingip(
        self, context: RequestContext, floatingip: FloatingIPCreate | Mapping[str, Any]
    ) -> FloatingIP:
        request = FloatingIPCreate.parse(floatingip)
        policy.check_admin_only(context, request)
        project_id = policy.owner_for(context, request.project_id, "floatingip")
        network_id = request.floating_network_id
        floatingip_id = new_id()

        def work(tx: Transaction, after: AfterCommit) -> FloatingIP:
            network = self.core.network_in(tx, context, network_id)
            if not network.router_external:
                raise BadRequest(
                    "floatingip", "floating_network_id", f"Network {network_id} is not an external network"
                )
            association = None
            if request.port_id is not None:
                association = self._find_association(
                    tx, context, network_id, request.port_id, request.fixed_ip_address, floatingip_id
                )
            self.events.notify(ResourceType.FLOATINGIP, Event.BEFORE_CREATE, context, floatingip_id, request=request)
            port = self._create_floating_port(tx, context, network_id, project_id, floatingip_id, request, after)
            _check_still_there(tx, association)
            created = _associated(
                FloatingIP(
                    id=floatingip_id,
                    project_id=project_id,
                    floating_network_id=network_id,
                    floating_ip_address=port.fixed_ips[0].ip_address,
                    port_id=None,
                    fixed_ip_address=None,
                    router_id=None,
                    status=status_for(False),
                    **created_attributes(request, self.core.clock),
                ),
                association,
            )
            tx.add_floatingip(created)
            self.core.dataplane.program(tx, after, None, created, request_id=context.request_id)
            after.publish(
                self.events,
                ResourceType.FLOATINGIP,
                Event.AFTER_CREATE,
                context,
                floatingip_id,
                request=request,
                result=created,
            )
            return created

        return self._write(work)

    def get_floatingip(self, context: RequestContext, floatingip_id: str) -> FloatingIP:
        return self.core.read(lambda tx: self._floatingip_in(tx, context, floatingip_id))

    def get_floatingips(self, context: RequestContext, filters: Filters | None = None) -> list[FloatingIP]:
        filters = parse_filters(FloatingIP, filters)
        found = self.core.read(lambda tx: tx.floatingips(list_query(context, filters)))
        return filter_resources((f for f in found if policy.is_visible(context, f)), FloatingIP, filters)

    def update_floatingip(
        self,
        context: RequestContext,
        floatingip_id: str,
        changes: FloatingIPUpdate | Mapping[str, Any],
        *,
        if_revision: int | None = None,
    ) -> FloatingIP:
        request = FloatingIPUpdate.parse(changes)
        if_revision = parse_revision("floatingip", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> FloatingIP:
            current = self._floatingip_in(tx, context, floatingip_id, for_update=True)
            policy.check_modify(context, current, floatingip_id)
            check_revision(current, if_revision)
            association = None
            if isinstance(request.port_id, str):
                fixed_ip = request.fixed_ip_address if isinstance(request.fixed_ip_address, netaddr.IPAddress) else None
                association = self._find_association(
                    tx, context, current.floating_network_id, request.port_id, fixed_ip, floatingip_id
                )
            self.events.notify(
                ResourceType.FLOATINGIP, Event.BEFORE_UPDATE, context, floatingip_id, request=request, current=current
            )
            updated = current
            if request.port_id is None:
                updated = dataclasses.replace(current, port_id=None, fixed_ip_address=None, router_id=None)
            elif request.port_id is not UNSET:
                _check_still_there(tx, association)
                updated = _associated(current, association)
            updated = revised(
                current, dataclasses.replace(updated, status=desired_status(updated)), self.core.clock, request
            )
            tx.update_floatingip(updated)
            self.core.dataplane.program(tx, after, current, updated, request_id=context.request_id)
            after.publish(
                self.events,
                ResourceType.FLOATINGIP,
                Event.AFTER_UPDATE,
                context,
                floatingip_id,
                request=request,
                current=current,
                result=updated,
            )
            return updated

        return self._write(work)

    def associate_floatingip(
        self,
        context: RequestContext,
        floatingip_id: str,
        port_id: str,
        fixed_ip_address: str | None = None,
        *,
        if_revision: int | None = None,
    ) -> FloatingIP:
        # An update that names a port; unlike the update, None is no port here, not an unmapping.
        port_id = _parse_value("port_id", to_id, port_id)
        changes = {"port_id": port_id, "fixed_ip_address": fixed_ip_address}
        return self.update_floatingip(context, floatingip_id, changes, if_revision=if_revision)

    def disassociate_floatingip(
        self, context: RequestContext, floatingip_id: str, *, if_revision: int | None = None
    ) -> FloatingIP:
        if_revision = parse_revision("floatingip", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> FloatingIP:
            current = self._floatingip_in(tx, context, floatingip_id, for_update=True)
            policy.check_modify(context, current, floatingip_id)
            check_revision(current, if_revision)
            if current.port_id is None:
                return current
            return self.core.disassociate_in(tx, context, current, after)

        return self._write(work)

    def delete_floatingip(self, context: RequestContext, floatingip_id: str, *, if_revision: int | None = None) -> None:
        if_revision = parse_revision("floatingip", if_revision)

        def work(tx: Transaction, after: AfterCommit) -> None:
            current = self._floatingip_in(tx, context, floatingip_id, for_update=True)
            policy.check_modify(context, current, floatingip_id)
            check_revision(current, if_revision)
            self.events.notify(ResourceType.FLOATINGIP, Event.BEFORE_DELETE, context, floatingip_id, current=current)
            tx.remove_floatingip(floatingip_id)
            self.core.dataplane.program(tx, after, current, None, request_id=context.request_id)
            for port in tx.ports(by(device_id=floatingip_id)):
                if port.device_owner == DEVICE_OWNER_FLOATINGIP:
                    self.core.delete_port_in(tx, context.elevated(), port, after)
            after.publish(
                self.events, ResourceType.FLOATINGIP, Event.AFTER_DELETE, context, floatingip_id, current=current
            )

        self._write(work)

    def _program_router(
        self, tx: Transaction, after: AfterCommit, context: RequestContext, router: Router, before: Any
    ) -> None:
        """A change of a router's interfaces is a change of the router, for the backends."""
        if self.core.dataplane.active:
            current = tx.router(router.id)
            self.core.dataplane.program(tx, after, router, current, request_id=context.request_id, before_state=before)

    # Reads

    def _router_in(
        self, tx: Transaction, context: RequestContext, router_id: str, *, for_update: bool = False
    ) -> _RouterState:
        router_id = parse_id("router", router_id)
        router = tx.router(router_id, for_update=for_update)
        if router is None or not policy.is_visible(context, router):
            raise NotFound("router", router_id)
        ports = [port for port in tx.ports(by(device_id=router_id)) if port.device_id == router_id]
        gateway = next((p for p in ports if p.device_owner == DEVICE_OWNER_ROUTER_GATEWAY), None)
        interfaces = tuple(p for p in ports if p.device_owner == DEVICE_OWNER_ROUTER_INTERFACE)
        return _RouterState(router, gateway, interfaces)

    def _floatingip_in(
        self, tx: Transaction, context: RequestContext, floatingip_id: str, *, for_update: bool = False
    ) -> FloatingIP:
        floatingip_id = parse_id("floatingip", floatingip_id)
        floatingip = tx.floatingip(floatingip_id, for_update=for_update)
        if floatingip is None or not policy.is_visible(context, floatingip):
            raise NotFound("floatingip", floatingip_id)
        return floatingip

    @staticmethod
    def _subnets_of(tx: Transaction, fixed_ips: Iterable[FixedIP]) -> list[Subnet]:
        subnets = (tx.subnet(subnet_id) for subnet_id in dict.fromkeys(f.subnet_id for f in fixed_ips))
        return [subnet for subnet in subnets if subnet is not None]

    def _router_cidrs(self, tx: Transaction, state: _RouterState) -> list[netaddr.IPNetwork]:
        ports = [*([state.gateway] if state.gateway else []), *state.interfaces]
        return [subnet.cidr for port in ports for subnet in self._subnets_of(tx, port.fixed_ips)]

    # Checks

    def _check_gateway_network(
        self, tx: Transaction, context: RequestContext, state: _RouterState, network_id: str
    ) -> None:
        """The gateway network must be external, and its subnets must not overlap the router's interfaces."""
        network = self.core.network_in(tx, context, network_id)
        if not network.router_external:
            raise BadRequest("router", "external_gateway_info", f"Network {network_id} is not an external network")
        interface_cidrs = [s.cidr for port in state.interfaces for s in self._subnets_of(tx, port.fixed_ips)]
        if not interface_cidrs:
            return
        for subnet_id in network.subnets:
            subnet = tx.subnet(subnet_id)
            for cidr in interface_cidrs:
                if subnet is not None and _overlap(subnet.cidr, cidr):
                    raise BadRequest(
                        "router",
                        "external_gateway_info",
                        f"subnet {subnet.id} ({subnet.cidr}) of network {network_id} overlaps with {cidr}, "
                        f"an interface of router {state.router.id}",
                    )

    def _check_can_attach(
        self, tx: Transaction, state: _RouterState, subnets: Sequence[Subnet], attribute: str
    ) -> None:
        """One interface per subnet, and no two of the router's subnets (gateway included) may overlap."""
        router_id = state.router.id
        attached = state.interface_subnet_ids()
        router_cidrs = self._router_cidrs(tx, state)
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
        self,
        tx: Transaction,
        context: RequestContext,
        state: _RouterState,
        interface_port_id: str | None = None,
        subnet_ids: Iterable[str] | None = None,
    ) -> None:
        """Refuse while floating IPs reach fixed addresses through this router (on ``subnet_ids``, if given)."""
        router_id = state.router.id
        users = [f for f in tx.floatingips(by(router_id=router_id)) if f.router_id == router_id]
        if subnet_ids is not None:
            cidrs = [s.cidr for s in (tx.subnet(subnet_id) for subnet_id in subnet_ids) if s is not None]
            users = [f for f in users if any(_inside(f.fixed_ip_address, cidr) for cidr in cidrs)]
        if not users:
            return
        if interface_port_id is None:
            raise in_use(context, "router", router_id, users, what="floating IPs")
        raise in_use(context, "router_interface", interface_port_id, users, what="floating IPs")

    # Gateways

    def _gateway_port(
        self, tx: Transaction, context: RequestContext, router: Router, gateway: GatewayRequest, after: AfterCommit
    ) -> Port:
        """A new gateway port for ``router`` on ``gateway.network_id``."""
        try:
            return self.core.create_port_in(
                tx,
                context.elevated(),
                PortCreate(
                    network_id=gateway.network_id,
                    project_id=router.project_id,
                    device_owner=DEVICE_OWNER_ROUTER_GATEWAY,
                    device_id=router.id,
                    fixed_ips=gateway.external_fixed_ips,
                ),
                after,
            )
        except BadRequest as error:
            # The caller asked for a gateway, not a port: name what they sent.
            raise BadRequest("router", "external_gateway_info", f"{error.attribute}: {error.reason}") from error

    def _change_gateway(
        self,
        tx: Transaction,
        context: RequestContext,
        state: _RouterState,
        gateway: GatewayRequest | None,
        after: AfterCommit,
    ) -> Router:
        """Set, change or (None) remove the router's gateway port; the router as it is to be stored."""
        router = state.router
        old_port = state.gateway
        admin = context.elevated()
        if gateway is None:
            if old_port is None:
                return router
            self._check_no_floatingips_through(tx, context, state)
            self.core.delete_port_in(tx, admin, old_port, after)
            return _with_gateway(router, False, None)
        if old_port is not None and gateway.network_id == old_port.network_id:
            # Same external network: change SNAT and, if asked, the gateway port's addresses.
            port = old_port
            if gateway.external_fixed_ips is not None:
                try:
                    port = self.core.update_port_in(
                        tx, admin, old_port, PortUpdate(fixed_ips=gateway.external_fixed_ips), after
                    )
                except BadRequest as error:
                    raise BadRequest("router", "external_gateway_info", f"{error.attribute}: {error.reason}") from error
            return _with_gateway(router, gateway.enable_snat, port)
        if old_port is not None:
            # Floating IPs on the old network reach their ports through this gateway.
            self._check_no_floatingips_through(tx, context, state)
        self._check_gateway_network(tx, context, state, gateway.network_id)
        if old_port is not None:
            self.core.delete_port_in(tx, admin, old_port, after)
        return _with_gateway(router, gateway.enable_snat, self._gateway_port(tx, context, router, gateway, after))

    # Interfaces

    def _attach_subnet(
        self,
        tx: Transaction,
        context: RequestContext,
        state: _RouterState,
        request: InterfaceRequest,
        subnet_id: str,
        after: AfterCommit,
    ) -> RouterInterfaceInfo:
        """A new port on the subnet, holding its gateway address."""
        subnet = self.core.subnet_in(tx, context, subnet_id, for_update=True)
        network = self.core.network_in(tx, context, subnet.network_id)
        if not context.is_admin and network.project_id != context.project_id:
            raise NotAuthorized(f"Only the owner of network {network.id} or an admin may attach subnet {subnet_id}")
        if subnet.gateway_ip is None:
            raise BadRequest("router_interface", "subnet_id", f"Subnet {subnet_id} has no gateway IP")
        self._check_can_attach(tx, state, [subnet], "subnet_id")
        router = state.router
        self.events.notify(ResourceType.ROUTER_INTERFACE, Event.BEFORE_CREATE, context, router.id, request=request)
        port = self.core.create_port_in(
            tx,
            context.elevated(),
            PortCreate(
                network_id=subnet.network_id,
                project_id=router.project_id,
                device_owner=DEVICE_OWNER_ROUTER_INTERFACE,
                device_id=router.id,
                fixed_ips=(FixedIPRequest(subnet_id=subnet_id, ip_address=subnet.gateway_ip),),
            ),
            after,
        )
        return _interface_info(router, port, (subnet_id,))

    def _attach_port(
        self,
        tx: Transaction,
        context: RequestContext,
        state: _RouterState,
        request: InterfaceRequest,
        port_id: str,
        after: AfterCommit,
    ) -> RouterInterfaceInfo:
        """An unbound port with addresses becomes the router's interface on their subnets."""
        port = self.core.port_in(tx, context, port_id, for_update=True)
        if port.device_id or port.device_owner:
            owner = port.device_owner or "device"
            raise BadRequest("router_interface", "port_id", f"Port {port_id} is in use by {owner} {port.device_id}")
        if not port.fixed_ips:
            raise BadRequest("router_interface", "port_id", f"Port {port_id} has no IP address")
        subnets = self._subnets_of(tx, port.fixed_ips)
        self._check_can_attach(tx, state, subnets, "port_id")
        router = state.router
        self.events.notify(ResourceType.ROUTER_INTERFACE, Event.BEFORE_CREATE, context, router.id, request=request)
        updated = self.core.update_port_in(
            tx,
            context.elevated(),
            port,
            PortUpdate(device_owner=DEVICE_OWNER_ROUTER_INTERFACE, device_id=router.id),
            after,
        )
        return _interface_info(router, updated, tuple(s.id for s in subnets))

    # Floating IPs

    def _create_floating_port(
        self,
        tx: Transaction,
        context: RequestContext,
        network_id: str,
        project_id: str,
        floatingip_id: str,
        request: FloatingIPCreate,
        after: AfterCommit,
    ) -> Port:
        """The floating IP's port: the requested address, or one from the first IPv4 subnet with room."""
        admin = context.elevated()

        def create(fixed_ip: FixedIPRequest) -> Port:
            port_request = PortCreate(
                network_id=network_id,
                project_id=project_id,
                device_owner=DEVICE_OWNER_FLOATINGIP,
                device_id=floatingip_id,
                fixed_ips=(fixed_ip,),
            )
            return self.core.create_port_in(tx, admin, port_request, after)

        if request.floating_ip_address is not None:
            try:
                return create(FixedIPRequest(ip_address=request.floating_ip_address))
            except BadRequest as error:
                raise BadRequest("floatingip", "floating_ip_address", error.reason) from error
        network = tx.network(network_id)
        assert network is not None
        subnets = [s for s in self._subnets_of_network(tx, network.subnets) if s.ip_version == 4]
        if not subnets:
            raise BadRequest("floatingip", "floating_network_id", f"Network {network_id} has no IPv4 subnet")
        for subnet in subnets:
            if tx.count_free_addresses(subnet):
                return create(FixedIPRequest(subnet_id=subnet.id))
        raise IpAddressExhausted("network", network_id)

    @staticmethod
    def _subnets_of_network(tx: Transaction, subnet_ids: Iterable[str]) -> list[Subnet]:
        subnets = (tx.subnet(subnet_id) for subnet_id in subnet_ids)
        return [subnet for subnet in subnets if subnet is not None]

    def _find_association(
        self,
        tx: Transaction,
        context: RequestContext,
        network_id: str,
        port_id: str,
        fixed_ip_address: netaddr.IPAddress | None,
        floatingip_id: str,
    ) -> tuple[str, FixedIP, str]:
        """Check that floating IP ``floatingip_id`` of ``network_id`` may point at the port's address.

        Returns the port id, its fixed IP and the router between them.
        """
        port = self.core.port_in(tx, context, port_id, for_update=True)
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
        router_id = None
        for port_on_subnet in tx.ports(by(fixed_ips=fixed_ip.subnet_id)):
            if port_on_subnet.device_owner != DEVICE_OWNER_ROUTER_INTERFACE:
                continue
            router = tx.router(port_on_subnet.device_id)
            gateway = None if router is None else router.external_gateway_info
            if gateway is not None and gateway.network_id == network_id:
                router_id = port_on_subnet.device_id
                break
        if router_id is None:
            raise NotFound(
                "router",
                fixed_ip.subnet_id,
                f"External network {network_id} is not reachable from subnet {fixed_ip.subnet_id}.",
            )
        clash = next(
            (
                f.id
                for f in tx.floatingips(by(port_id=port_id))
                if f.id != floatingip_id
                and f.floating_network_id == network_id
                and f.port_id == port_id
                and f.fixed_ip_address == fixed_ip.ip_address
            ),
            None,
        )
        if clash is not None:
            raise Conflict(
                "floatingip",
                clash,
                f"Floating IP {clash} of network {network_id} already maps {fixed_ip.ip_address} of port {port_id}.",
            )
        return port_id, fixed_ip, router_id


def _with_gateway(router: Router, enable_snat: bool, port: Port | None) -> Router:
    """The router with ``port`` (None: no port) as its gateway."""
    info = None
    if port is not None:
        info = ExternalGatewayInfo(
            network_id=port.network_id, enable_snat=enable_snat, external_fixed_ips=port.fixed_ips
        )
    return dataclasses.replace(router, external_gateway_info=info)


def _associated(floatingip: FloatingIP, association: tuple[str, FixedIP, str] | None) -> FloatingIP:
    if association is None:
        return floatingip
    port_id, fixed_ip, router_id = association
    return dataclasses.replace(
        floatingip,
        port_id=port_id,
        fixed_ip_address=fixed_ip.ip_address,
        router_id=router_id,
        status=status_for(True),
    )


def _check_still_there(tx: Transaction, association: tuple[str, FixedIP, str] | None) -> None:
    """A ``BEFORE_*`` subscriber may have deleted the port being associated: then there is nothing to map."""
    if association is not None and tx.port(association[0]) is None:
        raise NotFound("port", association[0])


def _interface_info(router: Router, port: Port, subnet_ids: tuple[str, ...]) -> RouterInterfaceInfo:
    return RouterInterfaceInfo(
        id=router.id,
        project_id=router.project_id,
        network_id=port.network_id,
        port_id=port.id,
        subnet_id=subnet_ids[0],
        subnet_ids=subnet_ids,
    )


def _find_interface(state: _RouterState, request: InterfaceRequest) -> Port:
    router_id = state.router.id
    if request.port_id is not None:
        found = next((p for p in state.interfaces if p.id == request.port_id), None)
        where = f"port {request.port_id}"
    else:
        found = next((p for p in state.interfaces if any(f.subnet_id == request.subnet_id for f in p.fixed_ips)), None)
        where = f"subnet {request.subnet_id}"
    if found is None:
        raise NotFound("router_interface", router_id, f"Router {router_id} has no interface on {where}.")
    return found
