"""Contexts, builders and probes for testing naas plugins.

Everything here goes through the public plugin API only, so it works with any
core and L3 plugin; the conformance suites use it, and so can a driver's own
tests. Builders return the resources they created::

    contexts = make_contexts()
    public = make_external_network(core, contexts.admin)            # the default external network
    pools = make_default_pools(core, contexts.admin)                # shared default pools, IPv4 and IPv6
    private = make_network(core, contexts.project_a, ["10.10.0.0/24"])
    router = make_router(l3, contexts.project_a, external_network_id=public.id)

Probes: :func:`core_state` and :func:`l3_state` capture what a plugin stores
(to check that a failed call stored nothing), :func:`run_in_threads` starts
callables together behind a barrier, :func:`race_window` (with
:func:`plugin_packages`) widens the gap between a plugin's checks and its writes, :func:`recording` and :func:`vetoing`
observe and veto lifecycle events.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import FrameType
from typing import Any, Generic, TypeVar

import netaddr

from naas.context import RequestContext
from naas.events import Event, EventPayload, EventRegistry, ResourceType, Subscriber
from naas.plugins.core import CorePlugin
from naas.plugins.l3 import L3Plugin
from naas.resources import Network, Port, Resource, Router, RouterInterfaceInfo, Subnet, SubnetPool

__all__ = [
    "ADMIN_PROJECT_ID",
    "PROJECT_A_ID",
    "PROJECT_B_ID",
    "Contexts",
    "DefaultPools",
    "NetworkSetup",
    "RoutedNetwork",
    "StoredState",
    "ThreadOutcome",
    "addresses_of",
    "allocatable_addresses",
    "core_state",
    "l3_state",
    "make_contexts",
    "make_default_pools",
    "make_external_network",
    "make_network",
    "make_port",
    "make_routed_network",
    "make_router",
    "plugin_packages",
    "race_window",
    "recording",
    "run_in_threads",
    "vetoing",
    "yielding_between_lines",
]

ADMIN_PROJECT_ID = "admin-project"
"""The project of the admin context :func:`make_contexts` makes."""
PROJECT_A_ID = "project-a"
"""The project of the first ordinary context :func:`make_contexts` makes."""
PROJECT_B_ID = "project-b"
"""The project of the second ordinary context, the one that must not see the first's resources."""

T = TypeVar("T")


# Contexts


@dataclasses.dataclass(frozen=True)
class Contexts:
    """An admin and two ordinary projects, A and B, that must not see each other's resources."""

    admin: RequestContext
    project_a: RequestContext
    project_b: RequestContext


def make_contexts() -> Contexts:
    """Fresh contexts for :data:`ADMIN_PROJECT_ID` (admin), :data:`PROJECT_A_ID` and :data:`PROJECT_B_ID`."""
    return Contexts(
        admin=RequestContext(project_id=ADMIN_PROJECT_ID, is_admin=True),
        project_a=RequestContext(project_id=PROJECT_A_ID),
        project_b=RequestContext(project_id=PROJECT_B_ID),
    )


# Builders


@dataclasses.dataclass(frozen=True)
class NetworkSetup:
    """A network and the subnets created with it, in the order of their CIDRs."""

    network: Network
    subnets: tuple[Subnet, ...]

    @property
    def id(self) -> str:
        """The network's id."""
        return self.network.id

    def subnet(self, ip_version: int = 4) -> Subnet:
        """The first subnet of ``ip_version``; LookupError if there is none."""
        for subnet in self.subnets:
            if subnet.ip_version == ip_version:
                return subnet
        raise LookupError(f"network {self.network.id} has no IPv{ip_version} subnet")


def make_network(
    core: CorePlugin,
    context: RequestContext,
    cidrs: Iterable[str] = ("10.10.0.0/24",),
    *,
    name: str = "private",
    **attributes: Any,
) -> NetworkSetup:
    """Create a network with one subnet per CIDR (gateway on the first address, default pools).

    ``attributes`` are further network attributes by wire name (``shared``, ``router:external`` ...).
    """
    network = core.create_network(context, {"name": name, **attributes})
    subnets = tuple(
        core.create_subnet(context, {"network_id": network.id, "cidr": cidr, "name": f"{name}-{cidr}"})
        for cidr in cidrs
    )
    return NetworkSetup(network=core.get_network(context, network.id), subnets=subnets)


def make_external_network(
    core: CorePlugin,
    context: RequestContext,
    cidrs: Iterable[str] = ("203.0.113.0/24",),
    *,
    name: str = "public",
    is_default: bool = True,
    **attributes: Any,
) -> NetworkSetup:
    """Create an external network (``router:external``), the default one unless ``is_default=False``.

    ``context`` must be an admin's. Router gateways and floating IPs take their
    addresses from its subnets.
    """
    return make_network(
        core, context, cidrs, name=name, **{"router:external": True, "is_default": is_default, **attributes}
    )


@dataclasses.dataclass(frozen=True)
class DefaultPools:
    """The subnet pools :func:`make_default_pools` created, by IP version (None when not asked for)."""

    ipv4: SubnetPool | None
    ipv6: SubnetPool | None

    def pools(self) -> tuple[SubnetPool, ...]:
        """The pools that were made, IPv4 first."""
        return tuple(pool for pool in (self.ipv4, self.ipv6) if pool is not None)


def make_default_pools(
    core: CorePlugin,
    context: RequestContext,
    *,
    ipv4_prefixes: Sequence[str] | None = ("10.0.0.0/16",),
    ipv4_prefixlen: int = 24,
    ipv6_prefixes: Sequence[str] | None = ("fd00::/48",),
    ipv6_prefixlen: int = 64,
    shared: bool = True,
    is_default: bool = True,
    default_quota: int | None = None,
) -> DefaultPools:
    """Create the subnet pools "get me a network" carves project subnets from.

    By default one shared default pool per IP version, handing out /24s and /64s.
    Pass ``ipv4_prefixes=None`` or ``ipv6_prefixes=None`` to leave that version out.
    ``context`` must be an admin's when ``shared`` or ``is_default`` is true.
    """

    def create(version: int, prefixes: Sequence[str] | None, prefixlen: int) -> SubnetPool | None:
        if prefixes is None:
            return None
        return core.create_subnetpool(
            context,
            {
                "name": f"default-ipv{version}",
                "prefixes": list(prefixes),
                "default_prefixlen": prefixlen,
                "shared": shared,
                "is_default": is_default,
                "default_quota": default_quota,
            },
        )

    return DefaultPools(
        ipv4=create(4, ipv4_prefixes, ipv4_prefixlen),
        ipv6=create(6, ipv6_prefixes, ipv6_prefixlen),
    )


def make_port(core: CorePlugin, context: RequestContext, network_id: str, **attributes: Any) -> Port:
    """Create a port on ``network_id``; ``attributes`` by wire name (``fixed_ips``, ``device_owner`` ...)."""
    return core.create_port(context, {"network_id": network_id, **attributes})


def make_router(
    l3: L3Plugin,
    context: RequestContext,
    *,
    external_network_id: str | None = None,
    name: str = "router",
    **attributes: Any,
) -> Router:
    """Create a router, with its gateway on ``external_network_id`` when given."""
    body: dict[str, Any] = {"name": name, **attributes}
    if external_network_id is not None:
        body["external_gateway_info"] = {"network_id": external_network_id}
    return l3.create_router(context, body)


@dataclasses.dataclass(frozen=True)
class RoutedNetwork:
    """A private network whose subnets are all attached to a router with an external gateway."""

    network: NetworkSetup
    router: Router
    interfaces: tuple[RouterInterfaceInfo, ...]


def make_routed_network(
    core: CorePlugin,
    l3: L3Plugin,
    context: RequestContext,
    external_network_id: str,
    cidrs: Iterable[str] = ("10.20.0.0/24",),
    *,
    name: str = "routed",
) -> RoutedNetwork:
    """Create a network, a router with its gateway on ``external_network_id``, and an interface per subnet.

    Ports on the network can then be reached through floating IPs from the external network.
    """
    network = make_network(core, context, cidrs, name=name)
    router = make_router(l3, context, external_network_id=external_network_id, name=f"{name}-router")
    interfaces = tuple(
        l3.add_router_interface(context, router.id, {"subnet_id": subnet.id}) for subnet in network.subnets
    )
    return RoutedNetwork(network=network, router=router, interfaces=interfaces)


# Addresses


def addresses_of(port: Port, ip_version: int | None = None) -> list[netaddr.IPAddress]:
    """The port's fixed addresses, of ``ip_version`` only if given."""
    return [ip.ip_address for ip in port.fixed_ips if ip_version is None or ip.ip_address.version == ip_version]


def allocatable_addresses(subnet: Subnet) -> netaddr.IPSet:
    """The addresses a plugin may hand out on ``subnet``: its allocation pools minus the gateway."""
    addresses = netaddr.IPSet()
    for pool in subnet.allocation_pools:
        addresses.update(netaddr.IPSet(pool.cidrs()))
    if subnet.gateway_ip is not None:
        addresses.remove(subnet.gateway_ip)
    return addresses


# State probes

StoredState = dict[str, list[dict[str, Any]]]
"""Resource collection name -> the wire form of every stored resource, ordered by id."""


def _by_id(resources: Iterable[Resource]) -> list[dict[str, Any]]:
    return sorted((resource.to_dict() for resource in resources), key=lambda body: str(body.get("id")))


def core_state(core: CorePlugin) -> StoredState:
    """Every network, subnet, subnet pool and port the core plugin stores, as an admin sees them."""
    admin = RequestContext(project_id=ADMIN_PROJECT_ID, is_admin=True)
    return {
        "networks": _by_id(core.get_networks(admin)),
        "subnets": _by_id(core.get_subnets(admin)),
        "subnetpools": _by_id(core.get_subnetpools(admin)),
        "ports": _by_id(core.get_ports(admin)),
    }


def l3_state(l3: L3Plugin) -> StoredState:
    """:func:`core_state` of the L3 plugin's core plugin, plus every router and floating IP."""
    admin = RequestContext(project_id=ADMIN_PROJECT_ID, is_admin=True)
    return {
        **core_state(l3.core_plugin),
        "routers": _by_id(l3.get_routers(admin)),
        "floatingips": _by_id(l3.get_floatingips(admin)),
    }


# Concurrency


@dataclasses.dataclass(frozen=True)
class ThreadOutcome(Generic[T]):
    """What each thread of :func:`run_in_threads` returned or raised, by thread index."""

    results: dict[int, T]
    errors: dict[int, BaseException]


def run_in_threads(count: int, target: Callable[[int], T], *, timeout: float = 60.0) -> ThreadOutcome[T]:
    """Call ``target(index)`` in ``count`` threads that start together (a :class:`threading.Barrier`).

    Returns once all have finished. Raises AssertionError if some thread is
    still running after ``timeout`` seconds (a deadlock in the plugin).
    """
    barrier = threading.Barrier(count)
    results: dict[int, T] = {}
    errors: dict[int, BaseException] = {}

    def run(index: int) -> None:
        try:
            barrier.wait(timeout)
            results[index] = target(index)
        except BaseException as error:
            errors[index] = error

    threads = [threading.Thread(target=run, args=(index,), name=f"naas-conformance-{index}") for index in range(count)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        raise AssertionError(f"{len(stuck)} of {count} threads still running after {timeout} s: {', '.join(stuck)}")
    return ThreadOutcome(results=results, errors=errors)


def plugin_packages(*plugins: object) -> tuple[str, ...]:
    """The top-level packages the plugins' classes come from, plus ``naas.ipam`` (which plugins allocate with)."""
    packages = {type(plugin).__module__.partition(".")[0] for plugin in plugins}
    return (*sorted(packages), "naas.ipam")


@contextlib.contextmanager
def yielding_between_lines(modules: Sequence[str]) -> Iterator[None]:
    """In threads started inside the block, hand the GIL to another thread before every line of ``modules``.

    ``modules`` are module names or package prefixes. Any "check, then act"
    sequence in that code that is not protected by a lock is then interleaved
    with the other threads, nearly every time instead of rarely.
    """
    prefixes = tuple(modules)

    def watched(name: str) -> bool:
        return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)

    def on_line(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if event == "line":
            time.sleep(0)  # releases the GIL: other threads run here
        return on_line

    def on_call(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        return on_line if watched(frame.f_globals.get("__name__", "")) else None

    previous = threading.gettrace()  # a coverage tracer, say: restored afterwards
    threading.settrace(on_call)
    try:
        yield
    finally:
        threading.settrace(previous)


@contextlib.contextmanager
def race_window(
    events: EventRegistry,
    resource: ResourceType,
    event: Event = Event.BEFORE_CREATE,
    *,
    delay: float = 0.005,
    modules: Sequence[str] = (),
    switch_interval: float = 1e-6,
) -> Iterator[None]:
    """Make races in a plugin likely instead of rare, in threads started inside the block.

    Three things widen the gap between a plugin's "is it free?" check and its
    write, so that a plugin without proper locking hands the same address or
    prefix to two callers:

    * a subscriber on ``(resource, event)`` that sleeps ``delay`` seconds inside
      each call, releasing the GIL in the middle of the operation;
    * :func:`yielding_between_lines` over ``modules`` (see :func:`plugin_packages`),
      which switches threads before every line of the plugin's own code;
    * a tiny interpreter switch interval, so threads also interleave elsewhere.
    """

    def pause(resource: ResourceType, event: Event, payload: EventPayload) -> None:
        time.sleep(delay)

    previous = sys.getswitchinterval()
    events.subscribe(resource, event, pause)
    sys.setswitchinterval(switch_interval)
    try:
        with yielding_between_lines(modules):
            yield
    finally:
        sys.setswitchinterval(previous)
        events.unsubscribe(resource, event, pause)


# Events


@contextlib.contextmanager
def recording(
    events: EventRegistry, resource: ResourceType, *kinds: Event
) -> Iterator[list[tuple[Event, EventPayload]]]:
    """Record, in order, the ``(event, payload)`` of every ``kinds`` event published for ``resource``."""
    calls: list[tuple[Event, EventPayload]] = []

    def record(resource: ResourceType, event: Event, payload: EventPayload) -> None:
        calls.append((event, payload))

    subscribed: list[tuple[Event, Subscriber]] = []
    for kind in kinds:
        events.subscribe(resource, kind, record)
        subscribed.append((kind, record))
    try:
        yield calls
    finally:
        for kind, subscriber in subscribed:
            events.unsubscribe(resource, kind, subscriber)


@contextlib.contextmanager
def vetoing(events: EventRegistry, resource: ResourceType, event: Event, error: BaseException) -> Iterator[None]:
    """Raise ``error`` from a subscriber on ``(resource, event)`` for the duration of the block."""

    def veto(resource: ResourceType, event: Event, payload: EventPayload) -> None:
        raise error

    events.subscribe(resource, event, veto)
    try:
        yield
    finally:
        events.unsubscribe(resource, event, veto)
