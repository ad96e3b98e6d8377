"""naas.backends: typed changes, the backend chain, and the conformance suite over the recording backend."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import unittest
from collections.abc import Sequence
from typing import Any, ClassVar

import netaddr
import pytest

from naas.backends import (
    ROUTING,
    SWITCHING,
    BackendChain,
    BackendFailure,
    Capability,
    Change,
    ChangeFailure,
    DataplaneState,
    FloatingIPChange,
    NetworkBackend,
    NetworkChange,
    NetworkState,
    Operation,
    PortChange,
    PortState,
    Repair,
    RepairAction,
    RouterChange,
    RouterInterface,
    RouterState,
    SyncFailure,
    SyncReport,
    check_capabilities,
)
from naas.events import ResourceType
from naas.exceptions import BadRequest, Conflict
from naas.testing.backends import (
    BackendConformance,
    PostcommitFailure,
    RecordingBackend,
    change_for,
    forbid_io,
    sample_topology,
)

FULL = RecordingBackend.CAPABILITIES
TOPOLOGY = sample_topology(FULL)
NETWORK, PRIVATE = TOPOLOGY.state.networks
INSTANCE = TOPOLOGY.state.ports[0]
(ROUTER,) = TOPOLOGY.state.routers
(FLOATINGIP,) = TOPOLOGY.state.floatingips


class SwitchingRecorder(RecordingBackend):
    """Layer 2 only, IPv4 only, no DHCP."""

    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset({Capability.NETWORKS, Capability.PORTS})


class RoutingRecorder(RecordingBackend):
    """Routers with interfaces and gateways, no SNAT, no floating IPs, no IPv6."""

    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.ROUTERS, Capability.GATEWAYS, Capability.INTERFACES}
    )


# The conformance suite passes on the recording backend, whatever it declares


class TestRecordingBackendConformance(BackendConformance, unittest.TestCase):
    def make_backend(self) -> RecordingBackend:
        return RecordingBackend()

    def refused_changes(self, backend: NetworkBackend) -> Sequence[Change]:
        assert isinstance(backend, RecordingBackend)
        backend.refuse_precommit(PRIVATE.resource_id, BadRequest("network", "mtu", "too large for this dataplane"))
        return [change_for(None, PRIVATE), change_for(PRIVATE, None)]


class TestSwitchingRecorderConformance(BackendConformance, unittest.TestCase):
    def make_backend(self) -> RecordingBackend:
        return SwitchingRecorder()


class TestRoutingRecorderConformance(BackendConformance, unittest.TestCase):
    def make_backend(self) -> RecordingBackend:
        return RoutingRecorder()


# The suite catches backends that break the contract


class LyingBackend(RecordingBackend):
    """Always says the dataplane matches."""

    def sync(self, state: DataplaneState, *, repair: bool = True) -> SyncReport:
        return SyncReport()


class DiffBasedBackend(RecordingBackend):
    """Applies an update only over what it holds: a missed create is never caught up."""

    def postcommit(self, change: Change) -> None:
        if change.operation is Operation.UPDATE and (change.resource_type, change.resource_id) not in self.dataplane:
            return
        super().postcommit(change)


class ReadsFilesInPrecommit(RecordingBackend):
    def precommit(self, change: Change) -> None:
        with open("/etc/hostname") as config:
            config.read()


class RefusesWithAPlainError(RecordingBackend):
    def precommit(self, change: Change) -> None:
        raise RuntimeError("no")


class DeclaresStrings(RecordingBackend):
    CAPABILITIES = frozenset({"networks"})  # type: ignore[arg-type, assignment]


def run_suite_test(backend_class: type[RecordingBackend], test_name: str) -> unittest.TestResult:
    class Suite(BackendConformance, unittest.TestCase):
        def make_backend(self) -> RecordingBackend:
            return backend_class()

        def refused_changes(self, backend: NetworkBackend) -> Sequence[Change]:
            return [change_for(None, PRIVATE)]

    result = unittest.TestResult()
    Suite(test_name).run(result)
    return result


@pytest.mark.parametrize(
    ("backend_class", "test_name"),
    [
        (LyingBackend, "test_sync_after_a_missed_router_create_creates_it"),
        (LyingBackend, "test_sync_after_a_missed_port_delete_deletes_it"),
        (DiffBasedBackend, "test_postcommit_of_an_update_converges_when_the_create_was_missed"),
        (ReadsFilesInPrecommit, "test_precommit_accepts_the_sample_topology_without_io_or_dataplane_change"),
        (RefusesWithAPlainError, "test_precommit_refuses_with_naas_errors_without_io_or_dataplane_change"),
        (DeclaresStrings, "test_capabilities_are_a_sound_set_of_capability_members"),
    ],
)
def test_the_suite_fails_a_backend_that_breaks_the_contract(
    backend_class: type[RecordingBackend], test_name: str
) -> None:
    result = run_suite_test(backend_class, test_name)

    assert result.testsRun == 1
    assert len(result.failures) + len(result.errors) == 1, result.skipped


def test_the_suite_passes_the_same_tests_on_the_recording_backend() -> None:
    for test_name in (
        "test_sync_after_a_missed_router_create_creates_it",
        "test_capabilities_are_a_sound_set_of_capability_members",
    ):
        result = run_suite_test(RecordingBackend, test_name)
        assert (result.testsRun, result.failures, result.errors, result.skipped) == (1, [], [], [])


def test_the_suite_skips_what_a_backend_does_not_declare_and_says_why() -> None:
    result = run_suite_test(SwitchingRecorder, "test_sync_after_a_missed_router_create_creates_it")

    assert [reason for _, reason in result.skipped] == ["SwitchingRecorder does not declare Capability.ROUTERS"]


def test_forbid_io_refuses_sockets_and_processes_and_restores_them() -> None:
    import socket
    import subprocess

    with forbid_io("the test"), pytest.raises(AssertionError, match=r"the test did I/O: it called socket\.socket"):
        socket.socket()
    with forbid_io(), pytest.raises(AssertionError, match=r"subprocess\.Popen"):
        subprocess.Popen(["true"])

    with socket.socket() as usable:
        assert usable.fileno() >= 0


# Capabilities


def test_switching_and_routing_are_sound_declarations() -> None:
    assert check_capabilities(SWITCHING) is SWITCHING
    assert check_capabilities(ROUTING | {Capability.IPV6}) == ROUTING | {Capability.IPV6}


@pytest.mark.parametrize(
    ("declared", "reason"),
    [
        ({Capability.NETWORKS}, "CAPABILITIES must be a frozenset of naas.backends.Capability, not {<Capability."),
        (frozenset({"networks"}), "CAPABILITIES holds 'networks', which are not naas.backends.Capability members"),
        (frozenset(), "CAPABILITIES names no resource to realize; give at least one of floating_ips, networks,"),
        (frozenset({Capability.NETWORKS, Capability.DHCP}), "CAPABILITIES declares dhcp without ports"),
        (frozenset({Capability.ROUTERS, Capability.SNAT}), "CAPABILITIES declares snat without gateways"),
        (frozenset({Capability.FLOATING_IPS}), "CAPABILITIES declares floating_ips without gateways"),
    ],
)
def test_an_unsound_declaration_says_what_is_wrong(declared: Any, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_capabilities(declared)

    assert str(caught.value).startswith(reason)


# Changes and states


def test_a_change_knows_its_operation_type_and_resource() -> None:
    create = change_for(None, ROUTER, request_id="req-1")
    update = change_for(ROUTER, dataclasses.replace(ROUTER, interfaces=()))
    delete = change_for(ROUTER, None)

    assert [type(c) for c in (create, update, delete)] == [RouterChange] * 3
    assert [c.operation for c in (create, update, delete)] == [Operation.CREATE, Operation.UPDATE, Operation.DELETE]
    assert {c.resource_type for c in (create, update, delete)} == {ResourceType.ROUTER}
    assert delete.resource is ROUTER.router
    assert create.describe() == f"create router {ROUTER.resource_id}"


def test_a_router_state_carries_what_a_dataplane_programs() -> None:
    gateway = ROUTER.gateway
    assert gateway is not None
    assert gateway.enable_snat is True
    assert [str(f.ip_address) for f in gateway.external_fixed_ips] == ["203.0.113.10", "2001:db8:ffff::a"]
    assert [str(s.gateway_ip) for s in gateway.external_subnets] == ["203.0.113.1", "2001:db8:ffff::1"]
    assert [(str(i.subnet.cidr), str(i.ip_address)) for i in ROUTER.interfaces] == [
        ("10.0.1.0/24", "10.0.1.1"),
        ("2001:db8:1::/64", "2001:db8:1::1"),
    ]
    fip = FLOATINGIP.floatingip
    assert (str(fip.floating_ip_address), str(fip.fixed_ip_address), fip.router_id) == (
        "203.0.113.50",
        "10.0.1.10",
        ROUTER.resource_id,
    )


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: NetworkChange(before=None, after=None), ValueError, "NetworkChange needs a state before or after"),
        (lambda: NetworkChange(before=None, after=INSTANCE), TypeError, "NetworkChange takes NetworkState, not Port"),  # type: ignore[arg-type]
        (lambda: Change(before=None, after=PRIVATE), TypeError, "build a NetworkChange, PortChange"),
        (lambda: NetworkChange(before=NETWORK, after=PRIVATE), ValueError, "NetworkChange: before is"),
        (
            lambda: NetworkState(dataclasses.replace(PRIVATE.network, subnets=()), PRIVATE.subnets),
            ValueError,
            "do not match its subnet ids",
        ),
        (lambda: PortState(INSTANCE.port, ()), ValueError, "is not given"),
        (
            lambda: RouterInterface(
                "p", "fa:16:3e:00:00:01", PRIVATE.resource_id, PRIVATE.subnets[0], netaddr.IPAddress("10.9.9.9")
            ),
            ValueError,
            "10.9.9.9 is not in 10.0.1.0/24",
        ),
        (lambda: RouterState(ROUTER.router, None, ()), ValueError, "gateway given without external_gateway_info"),
        (lambda: DataplaneState(networks=(PRIVATE, PRIVATE)), ValueError, "holds " + PRIVATE.resource_id + " twice"),
    ],
)
def test_inconsistent_states_and_changes_are_refused_when_built(
    build: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(")):
        build()


def test_restricting_a_state_keeps_only_the_declared_resource_types() -> None:
    restricted = TOPOLOGY.state.restricted_to(SwitchingRecorder.CAPABILITIES)

    assert [item.RESOURCE_TYPE for item in restricted] == [ResourceType.NETWORK] * 2 + [ResourceType.PORT] * 5


# The chain


def chain_of(**backends: NetworkBackend) -> BackendChain:
    return BackendChain(backends)


def test_a_backend_failing_postcommit_is_reported_with_the_resource_and_the_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, failing, last = RecordingBackend(), RecordingBackend(), RecordingBackend()
    error = PostcommitFailure("switch 3 did not answer")
    failing.fail_postcommit(ROUTER.resource_id, error)
    chain = chain_of(first=first, failing=failing, last=last)
    change = change_for(None, ROUTER)

    with caplog.at_level(logging.WARNING, "naas.backends"):
        report = chain.postcommit(change)

    assert report.failed
    assert report.failures == (
        BackendFailure("failing", error, ResourceType.ROUTER, ROUTER.resource_id, Operation.CREATE),
    )
    assert str(report.failures[0]) == (
        f"network backend 'failing' failed to create router {ROUTER.resource_id}: switch 3 did not answer"
    )
    assert [record.getMessage() for record in caplog.records] == [f"{report.failures[0]}; the next sync repairs it"]
    # The others were still programmed; the failing one holds nothing for the router.
    assert (ResourceType.ROUTER, ROUTER.resource_id) in first.dataplane
    assert (ResourceType.ROUTER, ROUTER.resource_id) in last.dataplane
    assert failing.dataplane == {}


def test_a_successful_postcommit_reports_no_failure() -> None:
    backend = RecordingBackend()

    report = chain_of(recorder=backend).postcommit(change_for(None, NETWORK))

    assert not report.failed
    assert backend.postcommits == [report.change]


def test_sync_repairs_what_a_failed_postcommit_left_and_marks_it_realized() -> None:
    healthy, failing = RecordingBackend(), RecordingBackend()
    failing.fail_postcommit(ROUTER.resource_id)
    chain = chain_of(healthy=healthy, failing=failing)
    for change in TOPOLOGY.creates:
        chain.postcommit(change)
    failing.heal()

    needed = chain.sync(TOPOLOGY.state, repair=False)
    repaired = chain.sync(TOPOLOGY.state)
    after = chain.sync(TOPOLOGY.state, repair=False)

    router_created = ("failing", Repair(ResourceType.ROUTER, ROUTER.resource_id, RepairAction.CREATED))
    assert needed.repairs == (router_created,)
    assert not needed.realized(ResourceType.ROUTER, ROUTER.resource_id)
    assert needed.realized(ResourceType.NETWORK, NETWORK.resource_id)
    assert repaired.repairs == (router_created,)
    assert repaired.realized(ResourceType.ROUTER, ROUTER.resource_id)
    assert not after
    assert after.repairs == ()


class UnreachableBackend(RecordingBackend):
    CAPABILITIES: ClassVar[frozenset[Capability]] = ROUTING

    def sync(self, state: DataplaneState, *, repair: bool = True) -> SyncReport:
        raise ConnectionRefusedError(111, "controller at 192.0.2.1:6641 refused the connection")


class OneStubbornPort(RecordingBackend):
    def sync(self, state: DataplaneState, *, repair: bool = True) -> SyncReport:
        report = super().sync(state, repair=repair)
        return SyncReport(report.repairs, (SyncFailure(ResourceType.PORT, INSTANCE.resource_id, OSError("busy")),))


def test_sync_reports_a_backend_that_cannot_sync_and_still_runs_the_others() -> None:
    switching, routing = SwitchingRecorder(), UnreachableBackend()
    chain = chain_of(switching=switching, routing=routing)

    report = chain.sync(TOPOLOGY.state)

    (failure,) = report.failures
    assert (failure.backend, failure.resource_type, type(failure.error)) == ("routing", None, ConnectionRefusedError)
    assert str(failure).startswith("network backend 'routing' failed to sync: ")
    assert len(switching.dataplane) == 7
    # What the unreachable backend handles is not realized; what only the other handles is.
    assert not report.realized(ResourceType.ROUTER, ROUTER.resource_id)
    assert report.realized(ResourceType.NETWORK, NETWORK.resource_id)


def test_a_resource_a_backend_could_not_repair_is_not_realized_and_the_others_are() -> None:
    report = chain_of(stubborn=OneStubbornPort()).sync(TOPOLOGY.state)

    assert [str(failure) for failure in report.failures] == [
        f"network backend 'stubborn' failed to sync port {INSTANCE.resource_id}: busy"
    ]
    assert not report.realized(ResourceType.PORT, INSTANCE.resource_id)
    assert report.realized(ResourceType.PORT, TOPOLOGY.state.ports[1].resource_id)


def test_each_backend_receives_only_the_resource_types_it_declares() -> None:
    switching, routing = SwitchingRecorder(), RoutingRecorder()
    chain = chain_of(switching=switching, routing=routing)
    topology = sample_topology((SWITCHING | ROUTING) - {Capability.SNAT, Capability.FLOATING_IPS, Capability.DHCP})

    for change in topology.creates:
        chain.precommit(change)
        chain.postcommit(change)
    chain.sync(topology.state)

    assert {change.resource_type for change in switching.postcommits} == {ResourceType.NETWORK, ResourceType.PORT}
    assert {change.resource_type for change in routing.postcommits} == {ResourceType.ROUTER}
    assert {key[0] for key in routing.dataplane} == {ResourceType.ROUTER}
    assert chain.capabilities == SwitchingRecorder.CAPABILITIES | RoutingRecorder.CAPABILITIES


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            change_for(None, PRIVATE),
            "Invalid subnet attribute 'enable_dhcp': network backend 'switching' does not provide dhcp.",
        ),
        (
            change_for(None, ROUTER),
            "Invalid router attribute 'enable_snat': network backend 'routing' does not provide snat.",
        ),
        (
            change_for(
                None, dataclasses.replace(INSTANCE, port=dataclasses.replace(INSTANCE.port, admin_state_up=False))
            ),
            "Invalid port attribute 'fixed_ips': network backend 'switching' does not provide ipv6.",
        ),
    ],
)
def test_precommit_refuses_a_feature_a_receiving_backend_lacks_before_asking_any(change: Change, message: str) -> None:
    switching, routing = SwitchingRecorder(), RoutingRecorder()
    chain = chain_of(switching=switching, routing=routing)

    with pytest.raises(BadRequest) as caught:
        chain.precommit(change)

    assert str(caught.value) == message
    assert (switching.precommits, routing.precommits) == ([], [])


def test_precommit_passes_the_first_backend_refusal_through_unchanged() -> None:
    refusing, later = RecordingBackend(), RecordingBackend()
    refusal = Conflict("network", PRIVATE.resource_id, "VLAN pool exhausted")
    refusing.refuse_precommit(PRIVATE.resource_id, refusal)

    with pytest.raises(Conflict) as caught:
        chain_of(refusing=refusing, later=later).precommit(change_for(None, PRIVATE))

    assert caught.value is refusal
    assert later.precommits == []


def test_a_delete_needs_no_feature_of_the_backends() -> None:
    switching = SwitchingRecorder()

    chain_of(switching=switching).precommit(change_for(PRIVATE, None))

    assert [change.operation for change in switching.precommits] == [Operation.DELETE]


def test_an_empty_chain_accepts_everything_and_does_nothing() -> None:
    chain = BackendChain()

    for change in TOPOLOGY.creates:
        chain.precommit(change)
        assert not chain.postcommit(change).failed
    report = chain.sync(TOPOLOGY.state)

    assert (len(chain), report.repairs, report.failures, chain.capabilities) == (0, (), (), frozenset())
    assert report.realized(ResourceType.ROUTER, ROUTER.resource_id)


def test_a_chain_refuses_a_backend_with_an_unsound_declaration() -> None:
    with pytest.raises(ValueError, match="network backend 'strings': CAPABILITIES holds 'networks'"):
        chain_of(strings=DeclaresStrings())


class FailsToClose(RecordingBackend):
    def close(self) -> None:
        super().close()
        raise OSError("socket already gone")


def test_close_closes_every_backend_last_first_even_when_one_fails(caplog: pytest.LogCaptureFixture) -> None:
    first, failing = RecordingBackend(), FailsToClose()

    chain_of(first=first, failing=failing).close()

    assert (first.closed, failing.closed) == (1, 1)
    assert "Closing network backend 'failing' failed" in caplog.text


def test_postcommit_changes_carry_the_request_id_to_the_backend() -> None:
    backend = RecordingBackend()

    chain_of(recorder=backend).postcommit(FloatingIPChange(before=None, after=FLOATINGIP, request_id="req-42"))
    chain_of(recorder=backend).postcommit(PortChange(before=INSTANCE, after=None))

    assert [(c.request_id, c.operation) for c in backend.postcommits] == [
        ("req-42", Operation.CREATE),
        (None, Operation.DELETE),
    ]


# Postcommit of a unit of work's changes at once


class PostcommitOnly(NetworkBackend):
    """Implements only what a backend must; inherits the default postcommit_all."""

    CAPABILITIES = RecordingBackend.CAPABILITIES

    def __init__(self, fail: str | None = None) -> None:
        self.programmed: list[str] = []
        self.fail = fail

    def postcommit(self, change: Change) -> None:
        if change.resource_id == self.fail:
            raise PostcommitFailure(f"no room for {change.resource_id}")
        self.programmed.append(change.describe())

    def sync(self, state: DataplaneState, *, repair: bool = True) -> SyncReport:
        return SyncReport()


def test_the_default_postcommit_all_calls_postcommit_for_each_change_in_order_and_goes_on_after_a_failure() -> None:
    changes = TOPOLOGY.creates
    one_by_one, batched = PostcommitOnly(fail=INSTANCE.resource_id), PostcommitOnly(fail=INSTANCE.resource_id)
    for change in changes:
        with contextlib.suppress(PostcommitFailure):
            one_by_one.postcommit(change)

    failures = batched.postcommit_all(changes)

    assert batched.programmed == one_by_one.programmed == [c.describe() for c in changes if c.after is not INSTANCE]
    assert [(failure.change, str(failure.error)) for failure in failures] == [
        (changes[2], f"no room for {INSTANCE.resource_id}")
    ]
    assert failures[0].change is changes[2]
    assert str(failures[0]) == f"create port {INSTANCE.resource_id}: no room for {INSTANCE.resource_id}"
    assert PostcommitOnly().postcommit_all([]) == []


def test_a_batch_reports_each_change_in_order_with_only_the_failed_one_failed() -> None:
    healthy, failing = RecordingBackend(), RecordingBackend()
    failing.fail_postcommit(INSTANCE.resource_id)
    changes = TOPOLOGY.creates

    reports = chain_of(healthy=healthy, failing=failing).postcommit_all(changes)

    assert [report.change for report in reports] == changes
    assert [report.change.resource_id for report in reports if report.failed] == [INSTANCE.resource_id]
    (failed,) = [report for report in reports if report.failed]
    assert [(f.backend, f.resource_id, f.operation) for f in failed.failures] == [
        ("failing", INSTANCE.resource_id, Operation.CREATE)
    ]
    assert healthy.batches == failing.batches == [tuple(changes)]
    assert len(failing.dataplane) == len(changes) - 1


def test_each_backend_receives_one_batch_of_the_types_it_declares_in_order() -> None:
    switching, routing = SwitchingRecorder(), RoutingRecorder()
    changes = [change_for(None, NETWORK), change_for(None, ROUTER), change_for(None, INSTANCE)]

    chain_of(switching=switching, routing=routing).postcommit_all(changes)

    assert switching.batches == [(changes[0], changes[2])]
    assert routing.batches == [(changes[1],)]


class RaisingBatch(RecordingBackend):
    def postcommit_all(self, changes: Sequence[Change]) -> Sequence[ChangeFailure]:
        raise RuntimeError("controller gone")


class AnswersWithAStranger(RecordingBackend):
    def postcommit_all(self, changes: Sequence[Change]) -> Sequence[ChangeFailure]:
        super().postcommit_all(changes)
        return [ChangeFailure(change_for(None, FLOATINGIP), RuntimeError("not one of yours"))]


@pytest.mark.parametrize(
    ("backend_class", "message"),
    [(RaisingBatch, "controller gone"), (AnswersWithAStranger, "not a naas.backends.ChangeFailure of a change")],
)
def test_a_backend_that_breaks_the_batch_contract_fails_every_change_it_received_and_the_others_still_run(
    backend_class: type[RecordingBackend], message: str
) -> None:
    broken, healthy = backend_class(), RecordingBackend()
    changes = [change_for(None, NETWORK), change_for(None, INSTANCE)]

    reports = chain_of(broken=broken, healthy=healthy).postcommit_all(changes)

    assert all(report.failed for report in reports)
    assert [[(f.backend, message in str(f.error)) for f in report.failures] for report in reports] == [
        [("broken", True)],
        [("broken", True)],
    ]
    assert len(healthy.dataplane) == 2


def test_the_chain_postcommit_of_one_change_is_a_batch_of_one() -> None:
    backend = RecordingBackend()

    report = chain_of(recorder=backend).postcommit(change_for(None, NETWORK))

    assert backend.batches == [(report.change,)]
    assert not report.failed


class FailingRecorderConformance(BackendConformance, unittest.TestCase):
    """The batch test of the suite, on a backend told which change to fail."""

    def make_backend(self) -> RecordingBackend:
        return RecordingBackend()

    def unrealizable_change(self, backend: NetworkBackend, topology: Any) -> Change | None:
        assert isinstance(backend, RecordingBackend)
        backend.fail_postcommit("00000000-0000-4000-8000-0000000000ff")
        lost = dataclasses.replace(INSTANCE.port, id="00000000-0000-4000-8000-0000000000ff")
        return change_for(None, PortState(lost, INSTANCE.subnets))


class BlamesTheWholeBatch(RecordingBackend):
    def postcommit_all(self, changes: Sequence[Change]) -> Sequence[ChangeFailure]:
        failures = super().postcommit_all(changes)
        return [ChangeFailure(change, failures[0].error) for change in changes] if failures else []


class StopsAtTheFirstFailure(RecordingBackend):
    def postcommit_all(self, changes: Sequence[Change]) -> Sequence[ChangeFailure]:
        for change in changes:
            try:
                self.postcommit(change)
            except PostcommitFailure as error:
                return [ChangeFailure(change, error)]
        return []


@pytest.mark.parametrize("backend_class", [RecordingBackend, BlamesTheWholeBatch, StopsAtTheFirstFailure])
def test_the_suite_checks_a_batch_failure_is_pinned_on_its_change(backend_class: type[RecordingBackend]) -> None:
    class Suite(FailingRecorderConformance):
        def make_backend(self) -> RecordingBackend:
            return backend_class()

    result = unittest.TestResult()
    Suite("test_postcommit_all_reports_only_the_change_that_failed_and_realizes_the_others").run(result)

    assert (result.testsRun, len(result.skipped)) == (1, 0)
    assert result.wasSuccessful() is (backend_class is RecordingBackend), result.failures
