"""One sync repairs what an operator (or a crash) broke, and a sync with nothing to do changes nothing."""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from naas.backends import RouterChange
from naas.events import ResourceType
from naas.resources import FloatingIP, Network, Port, Router
from naas_plugins.linux import LinuxBackend
from tests.linux import helpers
from tests.linux.conftest import OUTSIDE_HOST, Lab


@dataclasses.dataclass
class Topology:
    """The scenario's topology, built, with the checks that must all pass while the dataplane is sound."""

    lab: Lab
    external: Network
    net_a: Network
    net_b: Network
    outside: str
    vm_a: str
    vm_b: str
    port_a: Port
    port_b: Port
    router: Router
    fip: FloatingIP

    @property
    def address_a(self) -> str:
        return str(self.port_a.fixed_ips[0].ip_address)

    @property
    def address_b(self) -> str:
        return str(self.port_b.fixed_ips[0].ip_address)

    @property
    def router_external(self) -> str:
        info = self.lab.l3.get_router(self.lab.context, self.router.id).external_gateway_info
        assert info is not None
        return str(info.external_fixed_ips[0].ip_address)

    @property
    def router_namespace(self) -> str:
        return self.lab.backend.names.router_namespace(self.router.id)

    def failing_checks(self) -> list[str]:
        """The names of the reachability checks that fail now (an empty list: all pass)."""
        failing = []
        if not helpers.reachable(self.vm_a, self.address_b):
            failing.append("A reaches B")
        if not helpers.reachable(self.outside, str(self.fip.floating_ip_address)):
            failing.append("the outside host reaches A's floating IP")
        with helpers.whoami_server(self.outside):
            if helpers.source_seen_by(self.vm_a, OUTSIDE_HOST) != str(self.fip.floating_ip_address):
                failing.append("A's traffic shows its floating IP")
            if helpers.source_seen_by(self.vm_b, OUTSIDE_HOST) != self.router_external:
                failing.append("B's traffic shows the router's address")
        return failing


def build(lab: Lab) -> Topology:
    external = lab.external_network()
    outside = lab.outside_host(external)
    net_a = lab.network("a", "10.1.0.0/24")
    net_b = lab.network("b", "10.2.0.0/24")
    vm_a, port_a = lab.instance("a", net_a)
    vm_b, port_b = lab.instance("b", net_b)
    assert lab.dhcp(vm_a) == str(port_a.fixed_ips[0].ip_address)
    assert lab.dhcp(vm_b) == str(port_b.fixed_ips[0].ip_address)
    router = lab.l3.create_router(
        lab.context, {"name": "r", "project_id": "p1", "external_gateway_info": {"network_id": external.id}}
    )
    for network in (net_a, net_b):
        lab.l3.add_router_interface(lab.context, router.id, {"subnet_id": network.subnets[0]})
    fip = lab.l3.create_floatingip(
        lab.context, {"floating_network_id": external.id, "project_id": "p1", "port_id": port_a.id}
    )
    topology = Topology(lab, external, net_a, net_b, outside, vm_a, vm_b, port_a, port_b, router, fip)
    assert topology.failing_checks() == []
    return topology


def kernel_objects(lab: Lab) -> dict[str, object]:
    """Every interface (name → ifindex) of every namespace of the installation and of its instances, and the
    dnsmasq pids: what a sync with nothing to change must leave exactly as it was."""
    found: dict[str, object] = {}
    for namespace in sorted(helpers.namespaces_of(lab.backend)):
        output = subprocess.run(["ip", "-n", namespace, "-o", "link"], capture_output=True, text=True, check=True)
        found[namespace] = sorted(line.split(":")[0] + line.split(":")[1] for line in output.stdout.splitlines())
    found["dnsmasq"] = sorted(helpers.dnsmasq_pids_of(lab.backend))
    return found


def test_a_sync_with_nothing_to_change_changes_nothing(lab: Lab) -> None:
    build(lab)
    before = kernel_objects(lab)
    assert len(before["dnsmasq"]) == 2  # type: ignore[arg-type]
    report = lab.core.dataplane.sync()
    assert (report.repairs, report.failures) == ((), ())
    assert kernel_objects(lab) == before


def _delete_bridge(topology: Topology) -> str:
    backend = topology.lab.backend
    subprocess.run(
        ["ip", "-n", backend.names.switch_namespace, "link", "del", backend.names.bridge(topology.net_a.id)],
        check=True,
    )
    return topology.net_a.id


def _flush_nft_table(topology: Topology) -> str:
    table = topology.lab.backend.names.nft_table
    helpers.run(topology.router_namespace, "nft", "flush", "table", "ip", table)
    return topology.router.id


def _delete_nft_table(topology: Topology) -> str:
    table = topology.lab.backend.names.nft_table
    helpers.run(topology.router_namespace, "nft", "delete", "table", "ip", table)
    return topology.router.id


def _stop_dnsmasq(topology: Topology) -> str:
    backend = topology.lab.backend
    pid = backend.dhcp.pid(topology.net_a.id, backend.names.dhcp_namespace(topology.net_a.id))
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return topology.net_a.id


def _forwarding_off(topology: Topology) -> str:
    helpers.run(topology.router_namespace, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0")
    return topology.router.id


def _delete_router_namespace(topology: Topology) -> str:
    subprocess.run(["ip", "netns", "del", topology.router_namespace], check=True)
    return topology.router.id


TAMPERINGS: dict[str, Callable[[Topology], str]] = {
    "bridge deleted": _delete_bridge,
    "nft table flushed": _flush_nft_table,
    "nft table deleted": _delete_nft_table,
    "dnsmasq stopped": _stop_dnsmasq,
    "router forwarding off": _forwarding_off,
    "router namespace deleted": _delete_router_namespace,
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_one_sync_repairs_a_tampering(lab: Lab, tampering: str) -> None:
    topology = build(lab)
    damaged = TAMPERINGS[tampering](topology)

    needed = lab.core.dataplane.sync(repair=False)
    assert damaged in {repair.resource_id for _, repair in needed.repairs}, needed.repairs
    if tampering == "dnsmasq stopped":
        assert lab.backend.dhcp.pid(damaged, lab.backend.names.dhcp_namespace(damaged)) is None
    else:
        assert topology.failing_checks() != [], "the tampering broke nothing that the checks see"

    report = lab.core.dataplane.sync()
    assert report.failures == ()
    assert damaged in {repair.resource_id for _, repair in report.repairs}
    assert topology.failing_checks() == []
    # DHCP answers again (after "dnsmasq stopped" too) with A's own address.
    assert lab.dhcp(topology.vm_a) == topology.address_a
    again = lab.core.dataplane.sync()
    assert (again.repairs, again.failures) == ((), ())


_CHILD = textwrap.dedent(
    """
    import os, pickle, signal, sys
    from naas_plugins.linux import LinuxBackend
    from naas_plugins.linux._kernel import Namespace

    prefix, state_dir, change = pickle.loads(sys.stdin.buffer.read())
    backend = LinuxBackend(prefix=prefix, state_dir=state_dir)

    def dying(self, *args, **kwargs):
        # The new interface's veth pair exists, on the bridge; its address is next: die here.
        os.kill(os.getpid(), signal.SIGKILL)

    Namespace.add_address = dying
    backend.postcommit(change)
    """
)


def test_a_sigkill_in_the_middle_of_a_router_change_then_one_sync_repairs_it(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    topology = build(lab)
    lab.l3.remove_router_interface(lab.context, topology.router.id, {"subnet_id": topology.net_b.subnets[0]})
    assert not helpers.reachable(topology.vm_a, topology.address_b)
    # This process's postcommit fails (the router goes to ERROR) and hands the change to a process killed midway.
    missed: list[RouterChange] = []
    postcommit = LinuxBackend.postcommit

    def failing(self: LinuxBackend, change: object) -> None:
        if isinstance(change, RouterChange):
            missed.append(change)
            raise RuntimeError("injected: the process died before realizing this router change")
        postcommit(self, change)  # type: ignore[arg-type]

    monkeypatch.setattr(LinuxBackend, "postcommit", failing)
    lab.l3.add_router_interface(lab.context, topology.router.id, {"subnet_id": topology.net_b.subnets[0]})
    monkeypatch.undo()
    assert lab.l3.get_router(lab.context, topology.router.id).status == "ERROR"
    (change,) = missed
    child = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=pickle.dumps((lab.backend.names.prefix, str(Path(lab.backend.state_dir).parent), change)),
        capture_output=True,
        cwd=Path(__file__).parents[2],
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert not helpers.reachable(topology.vm_a, topology.address_b), "the killed change finished after all"
    # Half done: the interface exists, its address does not.
    (needed,) = [r for _, r in lab.core.dataplane.sync(repair=False).repairs if r.resource_id == topology.router.id]
    gateway_of_b = lab.subnet(topology.net_b).gateway_ip
    assert f"lacks {gateway_of_b}/24" in needed.detail and "missing" not in needed.detail, needed.detail

    report = lab.core.dataplane.sync()
    assert report.failures == ()
    assert (ResourceType.ROUTER, topology.router.id) in {(r.resource_type, r.resource_id) for _, r in report.repairs}
    assert lab.l3.get_router(lab.context, topology.router.id).status == "ACTIVE"
    assert topology.failing_checks() == []
