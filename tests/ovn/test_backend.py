"""The ovn backend on its own: concurrent writers, late changes, sync that repairs what it can, configuration."""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
from typing import Any

import pytest
from oslo_config import cfg

from naas.backends import DataplaneState, NetworkState, PortState, RepairAction
from naas.events import ResourceType
from naas.exceptions import ServiceUnavailable
from naas.loading import load_backends
from naas.resources import DEVICE_OWNER_ROUTER_INTERFACE, FixedIP, Port
from naas.testing.backends import change_for, sample_topology
from naas_plugins.ovn import OvnBackend
from naas_plugins.ovn.testing import ControlPlane
from tests.ovn.conftest import GATEWAY_CHASSIS, northbound

TOPOLOGY = sample_topology(OvnBackend.CAPABILITIES)
EXTERNAL, PRIVATE = TOPOLOGY.state.networks
WRITERS = 2
PORTS_EACH = 20


def _port(number: int, writer: int) -> PortState:
    subnet = PRIVATE.subnets[0]
    port = Port(
        id=f"00000000-0000-4000-9{writer:03d}-{number:012d}",
        project_id="p",
        network_id=PRIVATE.network.id,
        name=f"writer-{writer}-{number}",
        admin_state_up=True,
        mac_address=f"fa:16:3e:{writer:02x}:00:{number:02x}",
        device_id="",
        device_owner="compute:nova",
        fixed_ips=(FixedIP(subnet.id, subnet.cidr[100 + writer * PORTS_EACH + number]),),
        status="ACTIVE",
    )
    return PortState(port, (subnet,))


def _write_ports(nb_connection: str, writer: int, barrier: Any) -> None:
    """In another process: the same shared ports as every writer, then ports of its own, all at once."""
    backend = OvnBackend(nb_connection, timeout=60, gateway_chassis=[GATEWAY_CHASSIS])
    try:
        barrier.wait(timeout=60)
        for number in range(PORTS_EACH):
            backend.postcommit(change_for(None, _port(number, 0)))  # every writer creates these same ports
            backend.postcommit(change_for(None, _port(number, writer)))
    finally:
        backend.close()


def test_several_processes_writing_into_one_switch_at_once_lose_nothing(ovn: ControlPlane) -> None:
    backend = OvnBackend(ovn.nb_connection, timeout=60, gateway_chassis=[GATEWAY_CHASSIS])
    try:
        backend.postcommit(change_for(None, PRIVATE))
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(WRITERS)
        writers = [
            context.Process(target=_write_ports, args=(ovn.nb_connection, writer, barrier))
            for writer in range(1, WRITERS + 1)
        ]
        for process in writers:
            process.start()
        for process in writers:
            process.join(timeout=120)
        assert [process.exitcode for process in writers] == [0] * WRITERS

        ports = [_port(number, writer) for writer in range(WRITERS + 1) for number in range(PORTS_EACH)]
        held = northbound(ovn)["switches"][f"naas-{PRIVATE.network.id}"]["ports"]
        assert sorted(held) == sorted(port.resource_id for port in ports)
        assert backend.sync(DataplaneState(networks=(PRIVATE,), ports=tuple(ports)), repair=False).repairs == ()
        switch_ports = ovn.nbctl("--bare", "--columns=name", "list", "Logical_Switch_Port").split()
        assert len(switch_ports) == len(set(switch_ports)) == len(ports)
    finally:
        backend.close()


def test_threads_sharing_one_backend_lose_nothing(ovn: ControlPlane) -> None:
    backend = OvnBackend(ovn.nb_connection, timeout=60, gateway_chassis=[GATEWAY_CHASSIS])
    try:
        backend.postcommit(change_for(None, PRIVATE))
        threads = [
            threading.Thread(
                target=lambda w=writer: [backend.postcommit(change_for(None, _port(n, w))) for n in range(PORTS_EACH)]
            )
            for writer in range(1, 4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        held = northbound(ovn)["switches"][f"naas-{PRIVATE.network.id}"]["ports"]
        assert len(held) == 3 * PORTS_EACH
    finally:
        backend.close()


def _revision(state: NetworkState, name: str, number: int) -> NetworkState:
    return NetworkState(dataclasses.replace(state.network, name=name, revision_number=number), state.subnets)


def test_a_late_postcommit_of_an_older_revision_does_not_overwrite_a_newer_one(ovn: ControlPlane) -> None:
    backend = OvnBackend(ovn.nb_connection, timeout=30)
    try:
        older, newer = _revision(PRIVATE, "older", 4), _revision(PRIVATE, "newer", 5)
        backend.postcommit(change_for(None, newer))
        backend.postcommit(change_for(None, older))  # arrives late, e.g. from a slower process
        switch = f"naas-{PRIVATE.network.id}"
        assert ovn.nbctl("get", "Logical_Switch", switch, "external_ids:naas\\:network_name").strip() == "newer"
        assert ovn.nbctl("get", "Logical_Switch", switch, "external_ids:naas\\:revision_number").strip() == '"5"'
        # A sync, which reads storage, still makes the database match whatever storage holds.
        assert backend.sync(DataplaneState(networks=(older,))).repairs[0].action == RepairAction.UPDATED
        assert ovn.nbctl("get", "Logical_Switch", switch, "external_ids:naas\\:network_name").strip() == "older"
    finally:
        backend.close()


def test_a_row_an_earlier_naas_marked_with_a_digest_is_overwritten(ovn: ControlPlane) -> None:
    backend = OvnBackend(ovn.nb_connection, timeout=30)
    try:
        backend.postcommit(change_for(None, PRIVATE))
        switch = f"naas-{PRIVATE.network.id}"
        ovn.nbctl("set", "Logical_Switch", switch, 'external_ids:"naas:revision_number"="h0123456789ab"')
        backend.postcommit(change_for(PRIVATE, _revision(PRIVATE, "renamed", 0)))
        assert ovn.nbctl("get", "Logical_Switch", switch, "external_ids:naas\\:network_name").strip() == "renamed"
        assert ovn.nbctl("get", "Logical_Switch", switch, "external_ids:naas\\:revision_number").strip() == '"0"'
    finally:
        backend.close()


def test_one_batch_holding_two_changes_of_one_resource_ends_at_the_later(ovn: ControlPlane) -> None:
    backend = OvnBackend(ovn.nb_connection, timeout=30)
    try:
        first, second = _revision(PRIVATE, "first", 0), _revision(PRIVATE, "second", 1)
        sent = backend.northbound.transactions
        assert backend.postcommit_all([change_for(None, first), change_for(first, second)]) == []
        assert backend.northbound.transactions == sent + 1
        switch = f"naas-{PRIVATE.network.id}"
        assert ovn.nbctl("get", "Logical_Switch", switch, "external_ids:naas\\:network_name").strip() == "second"
        assert backend.sync(DataplaneState(networks=(second,)), repair=False).repairs == ()
    finally:
        backend.close()


def test_sync_repairs_every_resource_it_can_and_reports_the_one_it_cannot(ovn: ControlPlane) -> None:
    backend = OvnBackend(ovn.nb_connection, timeout=30, gateway_chassis=[GATEWAY_CHASSIS])
    try:
        instance = TOPOLOGY.state.ports[0]
        orphan = _port(1, 7)
        orphan = PortState(
            dataclasses.replace(orphan.port, network_id="00000000-0000-4000-8000-00000000dead"), orphan.subnets
        )
        state = DataplaneState(networks=(PRIVATE,), ports=(instance, orphan))

        report = backend.sync(state)

        assert [(f.resource_type, f.resource_id) for f in report.failures] == [(ResourceType.PORT, orphan.resource_id)]
        assert "does not hold" in str(report.failures[0].error)
        assert {r.resource_id for r in report.repairs} == {PRIVATE.resource_id, instance.resource_id}
        assert list(northbound(ovn)["switches"][f"naas-{PRIVATE.network.id}"]["ports"]) == [instance.resource_id]
    finally:
        backend.close()


def test_router_interface_ports_and_removed_interfaces_leave_no_router_port_behind(ovn: ControlPlane) -> None:
    backend = OvnBackend(ovn.nb_connection, timeout=30, gateway_chassis=[GATEWAY_CHASSIS])
    try:
        for change in TOPOLOGY.creates:
            backend.postcommit(change)
        (router,) = TOPOLOGY.state.routers
        interface_ports = [p for p in TOPOLOGY.state.ports if p.port.device_owner == DEVICE_OWNER_ROUTER_INTERFACE]
        without = dataclasses.replace(router, interfaces=())
        backend.postcommit(change_for(router, without))
        for port in interface_ports:
            backend.postcommit(change_for(port, None))
        held = northbound(ovn)
        assert set(held["routers"][f"naas-{router.resource_id}"]["ports"]) == {f"lrp-{router.gateway.port_id}"}
        assert held["routers"][f"naas-{router.resource_id}"]["nat"] == [
            ("dnat_and_snat", "203.0.113.50", "10.0.1.10", [TOPOLOGY.state.ports[0].resource_id])
        ]
    finally:
        backend.close()


def test_the_backend_is_built_from_the_ovn_options(ovn: ControlPlane, tmp_path: Any) -> None:
    path = tmp_path / "naas.conf"
    path.write_text(
        f"[DEFAULT]\nbackends = ovn\n[ovn]\novn_nb_connection = {ovn.nb_connection}\n"
        "gateway_chassis = gw-a, gw-b\nexternal_physical_network = datacentre\novsdb_connection_timeout = 7\n"
    )
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(path)], default_config_files=[], default_config_dirs=[], use_env=False)
    chain = load_backends(conf)
    try:
        backend = chain.backends["ovn"]
        assert isinstance(backend, OvnBackend)
        assert backend.settings.gateway_chassis == ("gw-a", "gw-b")
        assert backend.settings.physical_network == "datacentre"
        assert backend.northbound.timeout == 7
        for change in TOPOLOGY.creates:
            backend.postcommit(change)
        (router,) = TOPOLOGY.state.routers
        assert router.gateway is not None
        gateway_port = northbound(ovn)["routers"][f"naas-{router.resource_id}"]["ports"][
            f"lrp-{router.gateway.port_id}"
        ]
        assert gateway_port["gateway_chassis"] == [("gw-a", 2), ("gw-b", 1)]
        localnet = northbound(ovn)["switches"][f"naas-{EXTERNAL.network.id}"]["ports"][f"provnet-{EXTERNAL.network.id}"]
        assert localnet["options"] == {"network_name": "datacentre"}
    finally:
        chain.close()


def test_an_unreachable_northbound_is_service_unavailable_naming_it(tmp_path: Any) -> None:
    remote = f"unix:{tmp_path / 'nothing.sock'}"
    with pytest.raises(ServiceUnavailable) as unavailable:
        OvnBackend(remote, timeout=2)
    assert remote in str(unavailable.value)
