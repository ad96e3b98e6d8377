"""openstacksdk against the application served over HTTP on 127.0.0.1 (a thread of this process).

The client is configured as the wire reference says naas's users configure it:
``auth_type='none'`` and the unversioned root as the network endpoint. Acting as
a project is ``session.additional_headers`` (noauth trusts X-Project-Id).
"""

from __future__ import annotations

import socketserver
import threading
import wsgiref.simple_server
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openstack
import openstack.connection
import pytest
from openstack import exceptions as sdk_exceptions

from tests.api.conftest import PROJECT_A, Api, build_api, make_conf


class _ThreadingServer(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    daemon_threads = True


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Api, str]]:
    api = build_api(make_conf(tmp_path))
    server = wsgiref.simple_server.make_server(
        "127.0.0.1", 0, api.app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield api, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        api.app.close()


def _connect(url: str, project_id: str | None = None) -> openstack.connection.Connection:
    connection = openstack.connect(
        auth_type="none", network_endpoint_override=url, load_yaml_config=False, load_envvars=False
    )
    if project_id is not None:
        connection.session.additional_headers.update({"X-Project-Id": project_id, "X-Roles": "member"})
    return connection


def _bootstrap(admin: openstack.connection.Connection) -> Any:
    public = admin.network.create_network(name="public", is_router_external=True, is_default=True)
    admin.network.create_subnet(network_id=public.id, ip_version=4, cidr="203.0.113.0/24")
    for prefix, length in (("10.0.0.0/8", 26), ("fd00::/48", 64)):
        admin.network.create_subnet_pool(
            name=f"default-{length}", prefixes=[prefix], default_prefix_length=length, is_default=True, is_shared=True
        )
    return public


def test_get_me_a_network_through_openstacksdk(served: tuple[Api, str]) -> None:
    _, url = served
    admin = _connect(url)
    _bootstrap(admin)
    member = _connect(url, PROJECT_A)

    checked = member.network.validate_auto_allocated_topology(PROJECT_A)
    topology = member.network.get_auto_allocated_topology(PROJECT_A)
    again = member.network.get_auto_allocated_topology(PROJECT_A)
    network = member.network.get_network(topology.id)
    member.network.delete_auto_allocated_topology(PROJECT_A, ignore_missing=False)

    assert checked.dry_run == "pass"
    assert topology.project_id == PROJECT_A and again.id == topology.id
    assert network.name == "auto_allocated_network" and len(network.subnet_ids) == 2
    with pytest.raises(sdk_exceptions.NotFoundException):
        member.network.get_network(topology.id)


def test_sdk_errors_carry_the_neutron_message(served: tuple[Api, str]) -> None:
    _, url = served
    member = _connect(url, PROJECT_A)

    with pytest.raises(sdk_exceptions.ConflictException) as conflict:
        member.network.get_auto_allocated_topology(PROJECT_A)
    with pytest.raises(sdk_exceptions.ForbiddenException):
        member.network.create_network(name="x", is_shared=True)
    with pytest.raises(sdk_exceptions.ForbiddenException):
        member.network.get_auto_allocated_topology("project-b")
    with pytest.raises(sdk_exceptions.BadRequestException) as bad:
        member.network.create_subnet(network_id=member.network.create_network(name="n").id, cidr="10.0.0.0/33")

    assert "No default router:external network" in str(conflict.value)
    assert "cidr" in str(bad.value)


def test_find_by_name_falls_back_from_the_404_on_a_non_uuid(served: tuple[Api, str]) -> None:
    _, url = served
    member = _connect(url, PROJECT_A)
    created = member.network.create_network(name="by-name")

    found = member.network.find_network("by-name")
    missing = member.network.find_network("nothing-called-this")

    assert found is not None and found.id == created.id
    assert missing is None


def test_lists_filters_and_pages_through_links(served: tuple[Api, str]) -> None:
    _, url = served
    member = _connect(url, PROJECT_A)
    for index in range(7):
        member.network.create_network(name=f"net-{index}", is_admin_state_up=index % 2 == 0)

    paged = [network.name for network in member.network.networks(limit=3, sort_key="name", sort_dir="desc")]
    down = {network.name for network in member.network.networks(is_admin_state_up=False)}

    assert paged == [f"net-{index}" for index in range(6, -1, -1)]
    assert down == {"net-1", "net-3", "net-5"}


def test_router_interface_floating_ip_and_revision_through_the_sdk(served: tuple[Api, str]) -> None:
    _, url = served
    public = _bootstrap(_connect(url))
    member = _connect(url, PROJECT_A)
    network = member.network.create_network(name="n")
    subnet = member.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.30.0.0/24")
    router = member.network.create_router(name="r", external_gateway_info={"network_id": public.id})
    member.network.add_interface_to_router(router, subnet_id=subnet.id)
    port = member.network.create_port(network_id=network.id)

    fip = member.network.create_ip(floating_network_id=public.id, port_id=port.id)
    associated = (fip.port_id, fip.router_id)
    stale = member.network.update_network(network, description="first")
    with pytest.raises(sdk_exceptions.PreconditionFailedException):
        member.network.update_network(network, description="second", if_revision=0)
    disassociated = member.network.update_ip(fip, port_id=None)
    member.network.delete_ip(fip, ignore_missing=False)
    member.network.remove_interface_from_router(router, subnet_id=subnet.id)
    member.network.delete_router(router, ignore_missing=False)

    assert associated == (port.id, router.id)
    assert disassociated.port_id is None
    assert stale.revision_number == 1
    assert member.network.get_network(network.id).description == "first"
    assert list(member.network.routers()) == []
