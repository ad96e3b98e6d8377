"""The ovn backend as an operator runs it: ``backends = ovn`` in naas.conf, the ``naas`` command.

Get me a network puts the project's topology in the northbound database and
it traces through; ``naas backend sync`` finds exactly the rows deleted or
changed by hand and a stray naas-owned switch, and repairs them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from oslo_config import cfg

from naas import RequestContext
from naas.loading import load_plugins
from naas_plugins.ovn.testing import ControlPlane
from tests.ovn.conftest import GATEWAY_CHASSIS, northbound, table


@pytest.fixture
def config(tmp_path: Path, ovn: ControlPlane) -> Path:
    path = tmp_path / "naas.conf"
    path.write_text(
        f"[DEFAULT]\nstate_path = {tmp_path / 'state'}\nbackends = ovn\n\n"
        f"[ovn]\novn_nb_connection = {ovn.nb_connection}\ngateway_chassis = {GATEWAY_CHASSIS}\n"
        "ovsdb_connection_timeout = 30\n"
    )
    return path


def naas(config: Path, *args: str, json_output: bool = True) -> Any:
    """Run ``naas --config-file config ARGS -f json`` in a new process; its parsed JSON output."""
    done = subprocess.run(
        [sys.executable, "-m", "naas.cli.main", "--config-file", str(config), *args, *(["-f", "json"] * json_output)],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(config.parent)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def get_me_a_network(config: Path, project: str) -> str:
    naas(config, "bootstrap")
    created = naas(config, "network", "auto", "allocated", "topology", "create", "--project", project)
    network_id: str = created["id"]
    return network_id


def test_get_me_a_network_puts_the_topology_in_the_northbound_and_it_traces_through(
    config: Path, ovn: ControlPlane
) -> None:
    network_id = get_me_a_network(config, "demo")

    conf = cfg.ConfigOpts()
    conf(["--config-file", str(config)], default_config_files=[], default_config_dirs=[], use_env=False)
    plugins = load_plugins(conf)
    try:
        demo = RequestContext("demo")
        network = plugins.core.get_network(demo, network_id)
        (router,) = plugins.l3.get_routers(demo)
        subnets = {subnet.ip_version: subnet for subnet in plugins.core.get_subnets(demo, {"network_id": network_id})}
        instance = plugins.core.create_port(demo, {"network_id": network_id, "name": "instance"})
        router_ports = plugins.core.get_ports(demo, {"device_id": router.id})
        assert router.external_gateway_info is not None
        external = plugins.core.get_subnets(demo, {"network_id": router.external_gateway_info.network_id})
    finally:
        plugins.close()

    held = northbound(ovn)
    switch = held["switches"][f"naas-{network.id}"]
    interfaces = [port for port in router_ports if port.network_id == network.id]
    assert set(switch["ports"]) == {instance.id, *(port.id for port in interfaces)}
    assert switch["ports"][instance.id]["dhcpv4"] == str(subnets[4].cidr)
    assert switch["ports"][instance.id]["dhcpv6"] == str(subnets[6].cidr)
    # naas bootstrap's external subnet has DHCP on, like any subnet by default.
    assert set(held["dhcp"]) == {str(subnets[4].cidr), str(subnets[6].cidr), *(str(s.cidr) for s in external)}
    lr = held["routers"][f"naas-{router.id}"]
    assert set(lr["ports"]) == {f"lrp-{port.id}" for port in router_ports}
    (gateway,) = (port for port in router_ports if port.network_id != network.id)
    gateway_ip = str(gateway.fixed_ips[0].ip_address)
    assert lr["ports"][f"lrp-{gateway.id}"]["gateway_chassis"] == [(GATEWAY_CHASSIS, 1)]
    assert lr["nat"] == [("snat", gateway_ip, str(subnets[4].cidr), [])]

    ovn.wait_for_northd()
    (interface_v4,) = (port for port in interfaces if port.fixed_ips[0].ip_address.version == 4)
    instance_v4 = next(fixed.ip_address for fixed in instance.fixed_ips if fixed.ip_address.version == 4)
    mac_binding_for_the_outside(ovn, router.id, gateway.id)
    trace = ovn._run(
        [
            "ovn-trace", "--db", ovn.sb_connection, "--minimal", "--no-friendly-names", "--ct=new",
            f"naas-{network.id}",
            f'inport == "{instance.id}" && eth.src == {instance.mac_address} && eth.dst == {interface_v4.mac_address}'
            f" && ip4.src == {instance_v4} && ip4.dst == 198.51.100.7 && ip.ttl == 64 && icmp4.type == 8",
        ]
    )  # fmt: skip
    assert re.search(rf"ct_snat\w*\(ip4\.src={re.escape(gateway_ip)}\)", trace), trace
    assert f'output("provnet-{gateway.network_id}");' in trace

    naas(config, "port", "delete", instance.id, json_output=False)
    naas(config, "network", "auto", "allocated", "topology", "delete", "--project", "demo", json_output=False)
    held = northbound(ovn)
    # Only the deployment's external network is left.
    assert held == {
        "switches": {f"naas-{gateway.network_id}": {"ports": {f"provnet-{gateway.network_id}": ANY}}},
        "dhcp": {str(s.cidr): ANY for s in external},
        "routers": {},
    }


def mac_binding_for_the_outside(ovn: ControlPlane, router_id: str, gateway_port_id: str) -> None:
    """Tell the router the MAC of the external subnet's gateway, as ARP would, so a trace goes past it."""
    datapath = ovn.sbctl(
        "--bare", "--columns=_uuid", "find", "Datapath_Binding", f"external_ids:name=naas-{router_id}"
    ).strip()
    route = table(ovn, "Logical_Router_Static_Route")
    (nexthop,) = {row["nexthop"] for row in route.values() if row["ip_prefix"] == "0.0.0.0/0"}
    ovn.sbctl(
        "create", "MAC_Binding", f"logical_port=lrp-{gateway_port_id}", f"ip={nexthop}",
        'mac="02:00:00:00:00:01"', f"datapath={datapath}",
    )  # fmt: skip


def test_backend_sync_reports_exactly_what_was_changed_by_hand_and_repairs_it(config: Path, ovn: ControlPlane) -> None:
    network_id = get_me_a_network(config, "demo")
    routers = naas(config, "router", "list")
    (router_id,) = [router["ID"] for router in routers]
    ports = naas(config, "port", "list")
    assert naas(config, "backend", "sync", "--report") == []
    before = northbound(ovn)
    switch_ports = before["switches"][f"naas-{network_id}"]["ports"]
    interface_port = next(port_id for port_id, port in switch_ports.items() if port["type"] == "router")
    assert interface_port in [port["ID"] for port in ports]
    (snat,) = before["routers"][f"naas-{router_id}"]["nat"]
    dhcp_v4 = next(row_id for row_id, row in table(ovn, "DHCP_Options").items() if row["cidr"] == snat[2])
    stray = str(uuid.uuid4())

    ovn.nbctl("lsp-del", interface_port)  # a row deleted by hand
    ovn.nbctl("lr-nat-del", f"naas-{router_id}", "snat", snat[2])  # another
    ovn.nbctl("set", "DHCP_Options", dhcp_v4, "options:lease_time=60")  # a row changed by hand
    ovn.nbctl(
        "ls-add",
        f"naas-{stray}",
        "--",
        "set",
        "Logical_Switch",
        f"naas-{stray}",
        f"external_ids:naas\\:owner=network:{stray}",
    )  # a switch naas owns but does not store

    expected = {
        ("port", interface_port, "created", f"missing Logical_Switch_Port {interface_port}"),
        ("router", router_id, "updated", f"missing NAT snat {snat[1]} {snat[2]}"),
        ("network", network_id, "updated", f"DHCP_Options {snat[2]} (subnet "),
        ("network", stray, "deleted", f"extra Logical_Switch naas-{stray}"),
    }

    def found(rows: list[dict[str, str]]) -> set[tuple[str, str, str, str]]:
        return {
            (row["Resource type"], row["Resource ID"], row["Action"], _prefix(row["Detail"], expected)) for row in rows
        }

    reported = naas(config, "backend", "sync", "--report")
    assert found(reported) == expected
    assert [row["Backend"] for row in reported] == ["ovn"] * 4
    assert northbound(ovn) != before  # reporting repairs nothing

    assert found(naas(config, "backend", "sync")) == expected

    assert naas(config, "backend", "sync", "--report") == []
    assert northbound(ovn) == before


def _prefix(detail: str, expected: set[tuple[str, str, str, str]]) -> str:
    """The expected detail that ``detail`` starts with (the DHCP row's subnet id is not known up front)."""
    for *_, start in expected:
        if detail.startswith(start):
            return start
    return detail
