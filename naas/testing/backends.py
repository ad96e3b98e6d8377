"""What network backend authors test with: a recording backend and the backend conformance suite.

A backend proves itself by combining :class:`BackendConformance` with a
``TestCase`` and saying how to build it on an empty dataplane::

    import unittest
    from naas.testing.backends import BackendConformance

    class TestMyBackend(BackendConformance, unittest.TestCase):
        def make_backend(self):
            return MyBackend(controller=self.start_test_controller())

The suite reads the backend's ``CAPABILITIES`` and builds a sample topology
using only what it declares (no IPv6 subnets without ``IPV6``, no router
without ``ROUTERS`` ...); tests of undeclared resource types are skipped with
the capability named in the reason. It checks what the rules rely on:

- ``CAPABILITIES`` is a sound frozenset of :class:`~naas.backends.Capability`;
- ``precommit`` accepts a sound topology, refuses (when the test case lists
  them in :meth:`BackendConformance.refused_changes`) with a
  :class:`~naas.exceptions.NaasError`, does no I/O (:func:`forbid_io`) and
  changes nothing in the dataplane;
- ``postcommit`` realizes each change, is idempotent, and converges to the
  change's ``after`` whatever the dataplane held (a missed create, a delete of
  what is not there);
- ``postcommit_all`` realizes a batch as ``postcommit`` of each change in
  order would, and (when the test case gives one in
  :meth:`BackendConformance.unrealizable_change`) reports a failing change of
  a batch, and only it, while realizing the others;
- ``sync`` on a dataplane that already matches reports nothing; after a
  postcommit that never happened (a failure, a crash between commit and
  postcommit) it reports exactly the repair needed (``CREATED``, ``UPDATED``,
  ``DELETED`` naming the resource), with ``repair=False`` changes nothing, and
  with ``repair=True`` converges, so the next sync reports nothing.

Whether the dataplane matches is asked of the backend itself through
``sync(state, repair=False)``; the tests that skip one postcommit make sure a
backend cannot pass by always answering "nothing to do".

:class:`RecordingBackend` realizes everything in memory and records every
call; tests of the rules tell it to refuse a precommit or fail a postcommit
for chosen resources. It is not registered under ``naas.backends``: select it
in a configuration file by path, ``naas.testing.backends:RecordingBackend``.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import io
import os
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import netaddr

from naas.backends import (
    ROUTING,
    SWITCHING,
    Capability,
    Change,
    ChangeFailure,
    DataplaneState,
    FloatingIPChange,
    FloatingIPState,
    NetworkBackend,
    NetworkChange,
    NetworkState,
    PortChange,
    PortState,
    Repair,
    RepairAction,
    ResourceState,
    RouterChange,
    RouterGateway,
    RouterInterface,
    RouterState,
    SyncReport,
    check_capabilities,
)
from naas.events import ResourceType
from naas.exceptions import NaasError
from naas.resources import (
    DEVICE_OWNER_FLOATINGIP,
    DEVICE_OWNER_ROUTER_GATEWAY,
    DEVICE_OWNER_ROUTER_INTERFACE,
    ExternalGatewayInfo,
    FixedIP,
    FloatingIP,
    Network,
    Port,
    Router,
    Subnet,
)

if TYPE_CHECKING:
    from unittest import TestCase as _TestCaseBase
else:
    _TestCaseBase = object

__all__ = [
    "BackendConformance",
    "PostcommitFailure",
    "RecordingBackend",
    "SampleTopology",
    "change_for",
    "forbid_io",
    "sample_topology",
]

_CHANGE_CLASSES: dict[type[Any], type[Change]] = {
    NetworkState: NetworkChange,
    PortState: PortChange,
    RouterState: RouterChange,
    FloatingIPState: FloatingIPChange,
}
_RESOURCE_FIELD: dict[type[Any], str] = {
    NetworkState: "network",
    PortState: "port",
    RouterState: "router",
    FloatingIPState: "floatingip",
}


def change_for(before: ResourceState | None, after: ResourceState | None, request_id: str | None = None) -> Change:
    """The change of the right class for two states of one resource (either may be None, not both)."""
    state = after if after is not None else before
    if state is None:
        raise ValueError("change_for needs a state before or after the change")
    change_class: Any = _CHANGE_CLASSES[type(state)]
    change: Change = change_class(before=before, after=after, request_id=request_id)
    return change


class PostcommitFailure(RuntimeError):
    """What :class:`RecordingBackend` raises in postcommit for a resource it was told to fail."""


class RecordingBackend(NetworkBackend):
    """A backend whose dataplane is a dict: it records every call and can be told to refuse or fail.

    ``precommits`` and ``postcommits`` list every change received, in order
    (failed postcommits included); ``batches`` every batch
    :meth:`postcommit_all` received (it programs them one by one, as the
    default does); ``syncs`` every report returned;
    ``dataplane`` maps ``(resource type, id)`` to the state it holds, with
    each resource's ``status`` blanked (a status is storage's, not the
    dataplane's). Thread-safe.
    """

    CAPABILITIES: ClassVar[frozenset[Capability]] = SWITCHING | ROUTING | {Capability.IPV6}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.precommits: list[Change] = []
        self.postcommits: list[Change] = []
        self.batches: list[tuple[Change, ...]] = []
        self.syncs: list[SyncReport] = []
        self.dataplane: dict[tuple[ResourceType, str], ResourceState] = {}
        self.closed = 0
        self._refusals: dict[str, NaasError] = {}
        self._failures: dict[str, Exception] = {}

    def refuse_precommit(self, resource_id: str, error: NaasError) -> None:
        """From now on, refuse every change of ``resource_id`` in precommit with ``error``."""
        with self._lock:
            self._refusals[resource_id] = error

    def fail_postcommit(self, resource_id: str, error: Exception | None = None) -> None:
        """From now on, raise ``error`` (a :class:`PostcommitFailure` by default) in postcommit of ``resource_id``."""
        with self._lock:
            self._failures[resource_id] = error or PostcommitFailure(f"told to fail postcommit of {resource_id}")

    def heal(self, resource_id: str | None = None) -> None:
        """Stop failing postcommit for ``resource_id`` (for every resource when None)."""
        with self._lock:
            if resource_id is None:
                self._failures.clear()
            else:
                self._failures.pop(resource_id, None)

    def precommit(self, change: Change) -> None:
        with self._lock:
            self.precommits.append(change)
            refusal = self._refusals.get(change.resource_id)
        if refusal is not None:
            raise refusal

    def postcommit(self, change: Change) -> None:
        with self._lock:
            self.postcommits.append(change)
            failure = self._failures.get(change.resource_id)
            if failure is not None:
                raise failure
            key = (change.resource_type, change.resource_id)
            if change.after is None:
                self.dataplane.pop(key, None)
            else:
                self.dataplane[key] = _as_programmed(change.after)

    def postcommit_all(self, changes: Sequence[Change]) -> Sequence[ChangeFailure]:
        with self._lock:
            self.batches.append(tuple(changes))
        return super().postcommit_all(changes)

    def sync(self, state: DataplaneState, *, repair: bool = True) -> SyncReport:
        wanted = {(item.RESOURCE_TYPE, item.resource_id): _as_programmed(item) for item in state}
        with self._lock:
            repairs = []
            for (resource_type, resource_id), item in wanted.items():
                held = self.dataplane.get((resource_type, resource_id))
                if held is None:
                    repairs.append(Repair(resource_type, resource_id, RepairAction.CREATED))
                elif held != item:
                    repairs.append(Repair(resource_type, resource_id, RepairAction.UPDATED, _differences(held, item)))
            for resource_type, resource_id in sorted(set(self.dataplane) - set(wanted)):
                repairs.append(Repair(resource_type, resource_id, RepairAction.DELETED))
            if repair:
                self.dataplane = dict(wanted)
            report = SyncReport(tuple(repairs))
            self.syncs.append(report)
        return report

    def close(self) -> None:
        with self._lock:
            self.closed += 1


def _as_programmed(state: ResourceState) -> ResourceState:
    field = _RESOURCE_FIELD[type(state)]
    resource = getattr(state, field)
    return dataclasses.replace(state, **{field: dataclasses.replace(resource, status="")})


def _differences(held: ResourceState, wanted: ResourceState) -> str:
    changed = [f.name for f in dataclasses.fields(held) if getattr(held, f.name) != getattr(wanted, f.name)]
    return "differs in " + ", ".join(changed)


# A sample topology, built from a backend's capabilities


def _uuid(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def _mac(number: int) -> str:
    return f"fa:16:3e:00:00:{number:02x}"


@dataclasses.dataclass(frozen=True)
class SampleTopology:
    """A consistent topology and the order to create it in (networks, ports, routers, floating IPs).

    ``state`` is the stored state once everything exists; ``creates`` the
    create changes in build order.
    """

    state: DataplaneState

    @property
    def creates(self) -> list[Change]:
        """One create :class:`~naas.backends.Change` per resource of ``state``, in its order."""
        return [change_for(None, item) for item in self.state]


_PROJECT = "project-sample"


def _network(number: int, name: str, subnets: Sequence[Subnet], *, external: bool = False) -> NetworkState:
    network = Network(
        id=_uuid(number),
        project_id=_PROJECT,
        name=name,
        admin_state_up=True,
        shared=False,
        router_external=external,
        is_default=external,
        mtu=1500,
        status="ACTIVE",
        subnets=tuple(subnet.id for subnet in subnets),
    )
    return NetworkState(network, tuple(subnets))


def _subnet(number: int, network_number: int, cidr: str, *, dhcp: bool) -> Subnet:
    prefix = netaddr.IPNetwork(cidr)
    return Subnet(
        id=_uuid(number),
        project_id=_PROJECT,
        network_id=_uuid(network_number),
        name=f"subnet-{number}",
        ip_version=prefix.version,
        cidr=prefix,
        gateway_ip=netaddr.IPAddress(prefix.first + 1, prefix.version),
        allocation_pools=(netaddr.IPRange(prefix.first + 2, prefix.last - (1 if prefix.version == 4 else 0)),),
        subnetpool_id=None,
        enable_dhcp=dhcp,
    )


def _port(
    number: int, subnets: Sequence[Subnet], host: int, *, owner: str, device_id: str, use_gateway: bool = False
) -> PortState:
    fixed_ips = tuple(
        FixedIP(
            subnet.id,
            subnet.gateway_ip if use_gateway and subnet.gateway_ip is not None else subnet.cidr[host],
        )
        for subnet in subnets
    )
    port = Port(
        id=_uuid(number),
        project_id=_PROJECT,
        network_id=subnets[0].network_id,
        name=f"port-{number}",
        admin_state_up=True,
        mac_address=_mac(number % 256),
        device_id=device_id,
        device_owner=owner,
        fixed_ips=fixed_ips,
        status="ACTIVE",
    )
    return PortState(port, tuple(subnets))


def sample_topology(capabilities: frozenset[Capability]) -> SampleTopology:
    """A project's topology that needs nothing beyond ``capabilities``.

    An external network and a private one (IPv4, plus IPv6 with ``IPV6``;
    DHCP on the private subnets with ``DHCP``), an instance port, and, with
    ``ROUTERS``, a router whose gateway (``GATEWAYS``; SNAT with ``SNAT``) and
    interfaces (``INTERFACES``) have their own ports, and a floating IP for the
    instance (``FLOATING_IPS``). Only the resource types ``capabilities``
    include are in the result.
    """
    ipv6 = Capability.IPV6 in capabilities
    dhcp = Capability.DHCP in capabilities
    external_subnets = [_subnet(11, 10, "203.0.113.0/24", dhcp=False)]
    private_subnets = [_subnet(21, 20, "10.0.1.0/24", dhcp=dhcp)]
    if ipv6:
        external_subnets.append(_subnet(12, 10, "2001:db8:ffff::/64", dhcp=False))
        private_subnets.append(_subnet(22, 20, "2001:db8:1::/64", dhcp=dhcp))
    networks = [
        _network(10, "sample-external", external_subnets, external=True),
        _network(20, "sample-private", private_subnets),
    ]
    instance = _port(30, private_subnets, 10, owner="compute:nova", device_id=_uuid(39))
    ports = [instance]
    routers: list[RouterState] = []
    floatingips: list[FloatingIPState] = []
    router_id = _uuid(40)
    gateway: RouterGateway | None = None
    interfaces: list[RouterInterface] = []
    if Capability.GATEWAYS in capabilities:
        gateway_port = _port(41, external_subnets, 10, owner=DEVICE_OWNER_ROUTER_GATEWAY, device_id=router_id)
        ports.append(gateway_port)
        gateway = RouterGateway(
            network_id=networks[0].network.id,
            port_id=gateway_port.port.id,
            mac_address=gateway_port.port.mac_address,
            enable_snat=Capability.SNAT in capabilities,
            external_fixed_ips=gateway_port.port.fixed_ips,
            external_subnets=tuple(external_subnets),
        )
    if Capability.INTERFACES in capabilities:
        for offset, subnet in enumerate(private_subnets):
            interface_port = _port(
                42 + offset,
                [subnet],
                1,
                owner=DEVICE_OWNER_ROUTER_INTERFACE,
                device_id=router_id,
                use_gateway=True,
            )
            ports.append(interface_port)
            (fixed_ip,) = interface_port.port.fixed_ips
            interfaces.append(
                RouterInterface(
                    port_id=interface_port.port.id,
                    mac_address=interface_port.port.mac_address,
                    network_id=subnet.network_id,
                    subnet=subnet,
                    ip_address=fixed_ip.ip_address,
                )
            )
    router = Router(
        id=router_id,
        project_id=_PROJECT,
        name="sample-router",
        admin_state_up=True,
        status="ACTIVE",
        external_gateway_info=None
        if gateway is None
        else ExternalGatewayInfo(gateway.network_id, gateway.enable_snat, gateway.external_fixed_ips),
    )
    routers.append(RouterState(router, gateway, tuple(interfaces)))
    if Capability.FLOATING_IPS in capabilities:
        floating_port = _port(51, external_subnets[:1], 50, owner=DEVICE_OWNER_FLOATINGIP, device_id=_uuid(50))
        ports.append(floating_port)
        floatingips.append(
            FloatingIPState(
                FloatingIP(
                    id=_uuid(50),
                    project_id=_PROJECT,
                    floating_network_id=networks[0].network.id,
                    floating_ip_address=floating_port.port.fixed_ips[0].ip_address,
                    port_id=instance.port.id,
                    fixed_ip_address=instance.port.fixed_ips[0].ip_address,
                    router_id=router_id,
                    status="ACTIVE",
                )
            )
        )
    whole = DataplaneState(tuple(networks), tuple(ports), tuple(routers), tuple(floatingips))
    return SampleTopology(whole.restricted_to(capabilities))


def _updated(state: ResourceState) -> ResourceState:
    """The same resource after an update a dataplane must realize."""
    if isinstance(state, NetworkState):
        # Like its other subnets, so a dataplane that holds only DHCP subnets has something to realize.
        added = _subnet(29, 20, "10.0.9.0/24", dhcp=any(subnet.enable_dhcp for subnet in state.subnets))
        added = dataclasses.replace(added, network_id=state.network.id)
        network = dataclasses.replace(state.network, subnets=(*state.network.subnets, added.id))
        return NetworkState(network, (*state.subnets, added))
    if isinstance(state, PortState):
        return PortState(dataclasses.replace(state.port, admin_state_up=not state.port.admin_state_up), state.subnets)
    if isinstance(state, RouterState):
        if state.interfaces:
            return RouterState(state.router, state.gateway, state.interfaces[1:])
        if state.gateway is not None:
            return RouterState(dataclasses.replace(state.router, external_gateway_info=None), None, ())
        return RouterState(dataclasses.replace(state.router, admin_state_up=not state.router.admin_state_up))
    fip = state.floatingip
    return FloatingIPState(dataclasses.replace(fip, port_id=None, fixed_ip_address=None, router_id=None))


def _replace_in(state: DataplaneState, new: ResourceState | None, old: ResourceState) -> DataplaneState:
    """``state`` with ``old`` replaced by ``new`` (or removed when ``new`` is None)."""
    field = {NetworkState: "networks", PortState: "ports", RouterState: "routers", FloatingIPState: "floatingips"}[
        type(old)
    ]
    items = [new if item == old else item for item in getattr(state, field)]
    kept: dict[str, Any] = {field: tuple(item for item in items if item is not None)}
    return dataclasses.replace(state, **kept)


# Refusing I/O


@contextlib.contextmanager
def forbid_io(what: str = "precommit") -> Iterator[None]:
    """Within the block, opening a file, a socket or a process raises AssertionError naming ``what``.

    Best effort: it replaces the standard library's entry points (``open``,
    ``os.open``, ``socket.socket``, ``subprocess.Popen`` ...), which every
    Python client library goes through; a C extension doing its own I/O is
    not caught. Process-wide while it lasts, so only for tests.
    """

    def refusing(name: str) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"{what} did I/O: it called {name}")

        return refuse

    targets: list[tuple[Any, str]] = [
        (builtins, "open"),
        (io, "open"),
        (os, "open"),
        (os, "system"),
        (os, "popen"),
        (os, "fork"),
        (socket, "socket"),
        (socket, "create_connection"),
        (socket, "getaddrinfo"),
        (subprocess, "Popen"),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name in targets]
    try:
        for owner, name, _ in saved:
            setattr(owner, name, refusing(f"{getattr(owner, '__name__', owner)}.{name}"))
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


# The conformance suite

_TYPE_CAPABILITY = {
    ResourceType.NETWORK: Capability.NETWORKS,
    ResourceType.PORT: Capability.PORTS,
    ResourceType.ROUTER: Capability.ROUTERS,
    ResourceType.FLOATINGIP: Capability.FLOATING_IPS,
}


class BackendConformance(_TestCaseBase):
    """Mix into a ``TestCase`` and define :meth:`make_backend`; see the module docstring."""

    def make_backend(self) -> NetworkBackend:
        """A new backend on an empty dataplane; the suite closes it after the test."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_backend()")

    def refused_changes(self, backend: NetworkBackend) -> Sequence[Change]:
        """Changes ``backend`` must refuse in precommit (its own limits); none by default, and that test is skipped."""
        return ()

    def unrealizable_change(self, backend: NetworkBackend, topology: SampleTopology) -> Change | None:
        """A change ``backend`` must fail in postcommit, whatever it holds of ``topology``.

        For example a port on a network no topology has. None by default, and
        the test of failures in a batch is skipped.
        """
        return None

    # Helpers

    def _backend(self) -> NetworkBackend:
        backend = self.make_backend()
        self.addCleanup(backend.close)
        return backend

    def _topology(self, backend: NetworkBackend) -> SampleTopology:
        return sample_topology(type(backend).CAPABILITIES)

    def _require(self, backend: NetworkBackend, resource_type: ResourceType) -> None:
        capability = _TYPE_CAPABILITY[resource_type]
        if capability not in type(backend).CAPABILITIES:
            self.skipTest(f"{type(backend).__name__} does not declare Capability.{capability.name}")

    def _postcommit_all(self, backend: NetworkBackend, changes: Sequence[Change]) -> None:
        for change in changes:
            backend.postcommit(change)

    def assertMatches(self, backend: NetworkBackend, state: DataplaneState) -> None:
        """The dataplane matches ``state``: sync, reporting only, finds nothing to do."""
        report = backend.sync(state, repair=False)
        self.assertEqual(SyncReport(), report, "the dataplane does not match the stored state")

    def assertRepairs(
        self, backend: NetworkBackend, state: DataplaneState, resource: ResourceState, action: RepairAction
    ) -> None:
        """Sync reports the one needed repair, changes nothing when only reporting, and converges when repairing."""
        expected = (resource.RESOURCE_TYPE, resource.resource_id, action)
        reported = backend.sync(state, repair=False)
        self.assertEqual((), reported.failures)
        self.assertIn(expected, [(r.resource_type, r.resource_id, r.action) for r in reported.repairs])
        self.assertEqual(reported, backend.sync(state, repair=False), "sync with repair=False changed the dataplane")
        repaired = backend.sync(state)
        self.assertEqual((), repaired.failures)
        self.assertIn(expected, [(r.resource_type, r.resource_id, r.action) for r in repaired.repairs])
        self.assertMatches(backend, state)

    def _subject(self, topology: SampleTopology, resource_type: ResourceType) -> ResourceState:
        """The resource of that type a test misses a postcommit of: the instance port, else the last one built."""
        matching = [item for item in topology.state if item.RESOURCE_TYPE == resource_type]
        return matching[0] if resource_type is ResourceType.PORT else matching[-1]

    def _without(self, state: DataplaneState, removed: ResourceState) -> DataplaneState:
        """``state`` without ``removed`` and what cannot exist without it, as storage would hold it."""
        for item in [item for item in state if _depends(item, removed)]:
            state = _replace_in(state, None, item)
        return _replace_in(state, None, removed)

    # Capabilities

    def test_capabilities_are_a_sound_set_of_capability_members(self) -> None:
        backend = self._backend()
        declared = type(backend).CAPABILITIES
        self.assertIs(declared, check_capabilities(declared))
        self.assertTrue(all(isinstance(capability, Capability) for capability in declared))
        self.assertEqual(declared, backend.CAPABILITIES, "CAPABILITIES must be declared on the class")

    # Precommit

    def test_precommit_accepts_the_sample_topology_without_io_or_dataplane_change(self) -> None:
        backend = self._backend()
        topology = self._topology(backend)
        with forbid_io():
            for change in topology.creates:
                backend.precommit(change)
        self.assertMatches(backend, DataplaneState())

    def test_precommit_refuses_with_naas_errors_without_io_or_dataplane_change(self) -> None:
        backend = self._backend()
        refused = list(self.refused_changes(backend))
        if not refused:
            self.skipTest(f"{type(self).__name__}.refused_changes() lists no change the backend refuses")
        for change in refused:
            with self.subTest(change=change.describe()):
                with forbid_io(), self.assertRaises(NaasError):
                    backend.precommit(change)
        self.assertMatches(backend, DataplaneState())

    # Postcommit

    def test_postcommit_realizes_the_topology(self) -> None:
        backend = self._backend()
        topology = self._topology(backend)
        self._postcommit_all(backend, topology.creates)
        self.assertMatches(backend, topology.state)

    def test_postcommit_is_idempotent(self) -> None:
        backend = self._backend()
        topology = self._topology(backend)
        self._postcommit_all(backend, topology.creates)
        self._postcommit_all(backend, topology.creates)
        self.assertMatches(backend, topology.state)

    def test_postcommit_of_an_update_converges_when_the_create_was_missed(self) -> None:
        backend = self._backend()
        topology = self._topology(backend)
        *earlier, last = list(topology.state)
        self._postcommit_all(backend, [change_for(None, item) for item in earlier])
        updated = _updated(last)
        backend.postcommit(change_for(last, updated))
        self.assertMatches(backend, _replace_in(topology.state, updated, last))

    def test_postcommit_of_a_delete_of_what_the_dataplane_lacks_succeeds(self) -> None:
        backend = self._backend()
        topology = self._topology(backend)
        *earlier, last = list(topology.state)
        self._postcommit_all(backend, [change_for(None, item) for item in earlier])
        backend.postcommit(change_for(last, None))
        backend.postcommit(change_for(last, None))
        self.assertMatches(backend, _replace_in(topology.state, None, last))

    def test_postcommit_then_delete_in_reverse_order_empties_the_dataplane(self) -> None:
        backend = self._backend()
        topology = self._topology(backend)
        self._postcommit_all(backend, topology.creates)
        self._postcommit_all(backend, [change_for(item, None) for item in reversed(list(topology.state))])
        self.assertMatches(backend, DataplaneState())

    # Postcommit of a unit of work's changes at once

    def test_postcommit_all_realizes_the_topology_as_postcommit_of_each_change_does(self) -> None:
        one_by_one, batched = self._backend(), self._backend()
        topology = self._topology(batched)
        self._postcommit_all(one_by_one, topology.creates)
        self.assertEqual([], list(batched.postcommit_all(topology.creates)))
        self.assertMatches(batched, topology.state)
        self.assertEqual([], list(batched.postcommit_all(topology.creates)), "a repeated batch failed")
        self.assertEqual(one_by_one.sync(topology.state, repair=False), batched.sync(topology.state, repair=False))

    def test_postcommit_all_applies_its_changes_in_order(self) -> None:
        backend = self._backend()
        topology = self._topology(backend)
        deletes = [change_for(item, None) for item in reversed(list(topology.state))]
        self.assertEqual([], list(backend.postcommit_all([*topology.creates, *deletes])))
        self.assertMatches(backend, DataplaneState())
        last = list(topology.state)[-1]
        updated = _updated(last)
        batch = [*topology.creates, change_for(last, updated)]
        self.assertEqual([], list(backend.postcommit_all(batch)))
        self.assertMatches(backend, _replace_in(topology.state, updated, last))

    def test_postcommit_all_of_no_change_changes_nothing(self) -> None:
        backend = self._backend()
        self.assertEqual([], list(backend.postcommit_all([])))
        self.assertMatches(backend, DataplaneState())

    def test_postcommit_all_reports_only_the_change_that_failed_and_realizes_the_others(self) -> None:
        backend = self._backend()
        topology = self._topology(backend)
        unrealizable = self.unrealizable_change(backend, topology)
        if unrealizable is None:
            self.skipTest(f"{type(self).__name__}.unrealizable_change() gives no change the backend must fail")
        first, *others = topology.creates
        failures = list(backend.postcommit_all([first, unrealizable, *others]))
        self.assertEqual([unrealizable.describe()], [failure.change.describe() for failure in failures])
        self.assertIs(unrealizable, failures[0].change, "a failure must hold the change it was given")
        self.assertIsInstance(failures[0].error, Exception)
        self.assertMatches(backend, topology.state)

    # Sync

    def test_sync_on_a_matching_dataplane_reports_nothing(self) -> None:
        backend = self._backend()
        topology = self._topology(backend)
        self._postcommit_all(backend, topology.creates)
        self.assertEqual(SyncReport(), backend.sync(topology.state))
        self.assertEqual(SyncReport(), backend.sync(topology.state))

    def test_sync_of_an_empty_dataplane_to_an_empty_state_reports_nothing(self) -> None:
        backend = self._backend()
        self.assertEqual(SyncReport(), backend.sync(DataplaneState()))

    def _check_missed_create(self, resource_type: ResourceType) -> None:
        """A crash after the commit: the postcommits from that resource's on never happened."""
        backend = self._backend()
        self._require(backend, resource_type)
        topology = self._topology(backend)
        missed = self._subject(topology, resource_type)
        built = list(topology.state)
        self._postcommit_all(backend, [change_for(None, item) for item in built[: built.index(missed)]])
        self.assertRepairs(backend, topology.state, missed, RepairAction.CREATED)

    def _check_missed_update(self, resource_type: ResourceType) -> None:
        backend = self._backend()
        self._require(backend, resource_type)
        topology = self._topology(backend)
        self._postcommit_all(backend, topology.creates)
        before = self._subject(topology, resource_type)
        after = _updated(before)
        state = _replace_in(topology.state, after, before)
        if isinstance(before, RouterState) and isinstance(after, RouterState):
            kept = {interface.port_id for interface in after.interfaces}
            for port in [port for port in state.ports if port.port.device_id == before.resource_id]:
                if port.port.device_owner == DEVICE_OWNER_ROUTER_INTERFACE and port.resource_id not in kept:
                    state = self._without(state, port)
        self.assertRepairs(backend, state, after, RepairAction.UPDATED)

    def _check_missed_delete(self, resource_type: ResourceType) -> None:
        backend = self._backend()
        self._require(backend, resource_type)
        topology = self._topology(backend)
        self._postcommit_all(backend, topology.creates)
        deleted = self._subject(topology, resource_type)
        self.assertRepairs(backend, self._without(topology.state, deleted), deleted, RepairAction.DELETED)

    def test_sync_after_a_missed_network_create_creates_it(self) -> None:
        self._check_missed_create(ResourceType.NETWORK)

    def test_sync_after_a_missed_port_create_creates_it(self) -> None:
        self._check_missed_create(ResourceType.PORT)

    def test_sync_after_a_missed_router_create_creates_it(self) -> None:
        self._check_missed_create(ResourceType.ROUTER)

    def test_sync_after_a_missed_floatingip_create_creates_it(self) -> None:
        self._check_missed_create(ResourceType.FLOATINGIP)

    def test_sync_after_a_missed_network_update_updates_it(self) -> None:
        self._check_missed_update(ResourceType.NETWORK)

    def test_sync_after_a_missed_port_update_updates_it(self) -> None:
        self._check_missed_update(ResourceType.PORT)

    def test_sync_after_a_missed_router_update_updates_it(self) -> None:
        self._check_missed_update(ResourceType.ROUTER)

    def test_sync_after_a_missed_floatingip_update_updates_it(self) -> None:
        self._check_missed_update(ResourceType.FLOATINGIP)

    def test_sync_after_a_missed_port_delete_deletes_it(self) -> None:
        self._check_missed_delete(ResourceType.PORT)

    def test_sync_after_a_missed_router_delete_deletes_it(self) -> None:
        self._check_missed_delete(ResourceType.ROUTER)

    def test_sync_after_a_missed_floatingip_delete_deletes_it(self) -> None:
        self._check_missed_delete(ResourceType.FLOATINGIP)


def _depends(item: ResourceState, deleted: ResourceState) -> bool:
    """Whether ``item`` goes with ``deleted``: a floating IP on it, a port it owns (a router's, a floating IP's)."""
    if isinstance(item, FloatingIPState):
        fip = item.floatingip
        return deleted.resource_id in (fip.router_id, fip.port_id)
    if isinstance(item, PortState):
        return item.port.device_id == deleted.resource_id
    return False
