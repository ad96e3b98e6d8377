"""naas-server driven as a user drives Neutron: openstacksdk, the ``openstack`` command, and raw HTTP.

Every call of the wire reference (``shared/reference/networking-api-wire.md``)
runs against a real server process, on SQLite with one worker and on
PostgreSQL with four (see ``conftest.served``). Each test works in projects
of its own, so the tests share one server per storage.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import openstack
import pytest
import requests
from openstack import exceptions as sdk_exceptions

from tests.server.conftest import ServerProcess, client_environment, installed_command

REQUIRED_ALIASES = {
    "auto-allocated-topology",
    "external-net",
    "router",
    "subnet_allocation",
    "default-subnetpools",
}
REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TEN_MB = 10 * 1024 * 1024


def new_project() -> str:
    return f"project-{uuid.uuid4().hex[:12]}"


def connect(server: ServerProcess, project: str | None = None, roles: str = "member") -> Any:
    """An openstacksdk connection without Keystone; with ``project``, acting as that project (noauth headers)."""
    conn = openstack.connect(
        auth_type="none",
        network_endpoint_override=server.url + "/",
        load_yaml_config=False,
        load_envvars=False,
    )
    if project is not None:
        conn.session.additional_headers.update({"X-Project-Id": project, "X-Roles": roles})
    return conn


@pytest.fixture
def admin(served: ServerProcess) -> Iterator[Any]:
    conn = connect(served)
    yield conn
    conn.close()


@pytest.fixture
def project() -> str:
    return new_project()


@pytest.fixture
def member(served: ServerProcess, project: str) -> Iterator[Any]:
    conn = connect(served, project)
    yield conn
    conn.close()


def external_network(admin: Any) -> Any:
    (network,) = [n for n in admin.network.networks(is_router_external=True) if n.is_default]
    return network


def neutron_error(response: requests.Response) -> dict[str, str]:
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    error: dict[str, str] = response.json()["NeutronError"]
    assert error["type"] and error["message"], error
    return error


def names_stored(server: ServerProcess, name: str) -> list[str]:
    answer = requests.get(f"{server.url}/v2.0/networks", params={"name": name}, timeout=30)
    answer.raise_for_status()
    return [network["id"] for network in answer.json()["networks"]]


def openstack_cli(server: ServerProcess, tmp_path: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``openstack`` command, pointed at the server without Keystone, with no clouds.yaml of the caller's."""
    return subprocess.run(
        [
            installed_command("openstack", "pip install -e '.[test]'"),
            "--os-auth-type",
            "none",
            "--os-endpoint",
            server.url,
            *args,
        ],
        capture_output=True,
        text=True,
        env=client_environment(tmp_path),
        timeout=120,
        check=False,
    )


# Discovery and extensions


def test_extensions_list_the_aliases_clients_look_for(admin: Any) -> None:
    aliases = {extension.alias for extension in admin.network.extensions()}

    assert aliases >= REQUIRED_ALIASES
    found = admin.network.find_extension("auto-allocated-topology")
    assert found is not None and found.alias == "auto-allocated-topology"
    assert admin.network.find_extension("no-such-extension") is None


# Networks


def test_network_calls(admin: Any, member: Any, project: str) -> None:
    network = member.network.create_network(name="net-a")
    assert (network.name, network.project_id, network.is_admin_state_up) == ("net-a", project, True)

    assert member.network.get_network(network.id).name == "net-a"
    # find_network by name: the non-UUID path answers 404, then the SDK lists by name.
    assert member.network.find_network("net-a").id == network.id
    assert [n.id for n in member.network.networks(name="net-a")] == [network.id]
    assert network.id in [n.id for n in admin.network.networks(project_id=project)]

    updated = member.network.update_network(network, name="net-b", is_admin_state_up=False)
    assert (updated.name, updated.is_admin_state_up) == ("net-b", False)
    assert member.network.get_network(network.id).is_admin_state_up is False

    member.network.delete_network(network)
    with pytest.raises(sdk_exceptions.NotFoundException):
        member.network.get_network(network.id)
    member.network.delete_network(network)  # ignore_missing: a 404 is fine
    with pytest.raises(sdk_exceptions.NotFoundException):
        member.network.delete_network(network, ignore_missing=False)


def test_the_cloud_layer_creates_and_deletes_by_name(member: Any, project: str) -> None:
    created = member.create_network("cloud-net")
    assert created["project_id"] == project

    assert member.get_network("cloud-net")["id"] == created["id"]
    assert member.delete_network("cloud-net") is True
    assert member.get_network("cloud-net") is None


# Subnets and subnet pools


def test_subnet_and_subnet_pool_calls(admin: Any, member: Any, project: str) -> None:
    network = member.network.create_network(name="net-s")
    subnet = member.network.create_subnet(
        network_id=network.id, ip_version=4, cidr="192.168.10.0/24", name="by-cidr", gateway_ip="192.168.10.1"
    )
    assert (str(subnet.cidr), subnet.gateway_ip, subnet.is_dhcp_enabled) == ("192.168.10.0/24", "192.168.10.1", True)
    assert subnet.allocation_pools == [{"start": "192.168.10.2", "end": "192.168.10.254"}]

    with pytest.raises(sdk_exceptions.BadRequestException) as overlap:
        member.network.create_subnet(network_id=network.id, ip_version=4, cidr="192.168.10.128/25")
    assert "192.168.10" in str(overlap.value.details)

    pool = member.network.create_subnet_pool(
        name="pool-a", prefixes=["10.250.0.0/16"], default_prefix_length=24, minimum_prefix_length=20
    )
    assert (pool.default_prefix_length, pool.ip_version, pool.is_shared) == (24, 4, False)
    assert member.network.get_subnet_pool(pool.id).name == "pool-a"
    assert pool.id in [p.id for p in member.network.subnet_pools(ip_version=4)]
    assert member.network.update_subnet_pool(pool, name="pool-b").name == "pool-b"

    from_pool = member.network.create_subnet(
        network_id=network.id, ip_version=4, subnet_pool_id=pool.id, prefix_length=26, name="from-pool"
    )
    assert str(from_pool.cidr) == "10.250.0.0/26"
    from_default = member.network.create_subnet(
        network_id=network.id, ip_version=4, use_default_subnet_pool=True, name="from-default"
    )
    (default_v4,) = [p for p in admin.network.subnet_pools(is_default=True) if p.ip_version == 4]
    assert from_default.subnet_pool_id == default_v4.id

    listed = {s.id for s in member.network.subnets(network_id=network.id)}
    assert listed == {subnet.id, from_pool.id, from_default.id}
    assert [s.id for s in member.network.subnets(network_id=network.id, cidr="192.168.10.0/24")] == [subnet.id]
    assert member.network.update_subnet(subnet, name="renamed").name == "renamed"
    assert member.network.get_subnet(subnet.id).name == "renamed"

    for each in (subnet, from_pool, from_default):
        member.network.delete_subnet(each)
    member.network.delete_subnet_pool(pool)
    with pytest.raises(sdk_exceptions.NotFoundException):
        member.network.get_subnet_pool(pool.id)
    assert list(member.network.subnets(network_id=network.id)) == []
    member.network.delete_network(network)


# Ports


def test_port_calls(member: Any, project: str) -> None:
    network = member.network.create_network(name="net-p")
    subnet = member.network.create_subnet(network_id=network.id, ip_version=4, cidr="192.168.20.0/24")

    port = member.network.create_port(
        network_id=network.id,
        fixed_ips=[{"subnet_id": subnet.id, "ip_address": "192.168.20.50"}],
        name="vm-port",
        device_id="vm-1",
        device_owner="compute:nova",
    )
    assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "192.168.20.50"}]
    assert (port.project_id, port.device_owner) == (project, "compute:nova")

    with pytest.raises(sdk_exceptions.ConflictException) as taken:
        member.network.create_port(
            network_id=network.id, fixed_ips=[{"subnet_id": subnet.id, "ip_address": "192.168.20.50"}]
        )
    assert "192.168.20.50" in str(taken.value.details)
    with pytest.raises(sdk_exceptions.BadRequestException) as outside:
        member.network.create_port(
            network_id=network.id, fixed_ips=[{"subnet_id": subnet.id, "ip_address": "10.9.9.9"}]
        )
    assert "10.9.9.9" in str(outside.value.details)

    assert [p.id for p in member.network.ports(network_id=network.id, device_id="vm-1")] == [port.id]
    assert member.network.update_port(port, name="renamed").name == "renamed"
    assert member.network.get_port(port.id).name == "renamed"
    member.network.delete_port(port)
    assert list(member.network.ports(network_id=network.id)) == []

    with pytest.raises(sdk_exceptions.NotFoundException):
        member.network.create_port(network_id=str(uuid.uuid4()))
    member.network.delete_network(network)


# Routers and floating IPs


def test_router_and_floating_ip_calls(admin: Any, member: Any, project: str) -> None:
    external = external_network(admin)
    network = member.network.create_network(name="net-r")
    subnet = member.network.create_subnet(network_id=network.id, ip_version=4, cidr="192.168.30.0/24")
    router = member.network.create_router(name="r", external_gateway_info={"network_id": external.id})
    gateway = router.external_gateway_info
    assert gateway["network_id"] == external.id and gateway["external_fixed_ips"]

    added = member.network.add_interface_to_router(router, subnet=subnet.id)
    assert (added["subnet_id"], added["network_id"]) == (subnet.id, network.id)
    with pytest.raises(sdk_exceptions.ConflictException):
        member.network.delete_router(router)

    instance = member.network.create_port(network_id=network.id, device_owner="compute:nova", device_id="vm-9")
    floating = member.network.create_ip(floating_network_id=external.id, port_id=instance.id)
    assert (floating.port_id, floating.router_id) == (instance.id, router.id)
    assert floating.fixed_ip_address == instance.fixed_ips[0]["ip_address"]
    assert [f.id for f in member.network.ips(port_id=instance.id)] == [floating.id]
    assert member.network.get_ip(floating.id).floating_ip_address == floating.floating_ip_address

    unmapped = member.network.update_ip(floating, port_id=None)
    assert unmapped.port_id is None
    remapped = member.network.update_ip(floating, port_id=instance.id)
    assert remapped.port_id == instance.id

    with pytest.raises(sdk_exceptions.ConflictException):
        member.network.remove_interface_from_router(router, subnet=subnet.id)  # the floating IP needs it
    member.network.delete_ip(floating)
    removed = member.network.remove_interface_from_router(router, subnet=subnet.id)
    assert removed["subnet_id"] == subnet.id

    port = member.network.create_port(network_id=network.id, fixed_ips=[{"subnet_id": subnet.id}])
    assert member.network.add_interface_to_router(router, port=port.id)["port_id"] == port.id
    assert [r.id for r in member.network.routers(name="r")] == [router.id]
    member.network.remove_interface_from_router(router, port=port.id)
    with pytest.raises(sdk_exceptions.NotFoundException):
        member.network.get_port(port.id)  # Neutron deletes the interface port, even one added by port_id

    cleared = member.network.update_router(router, external_gateway_info={})
    assert not cleared.external_gateway_info
    assert member.network.get_router(router.id).name == "r"
    member.network.delete_router(router)
    member.network.delete_port(instance)
    member.network.delete_network(network)
    assert list(member.network.routers()) == []


# Get me a network


def assert_topology(admin: Any, project: str, network_id: str) -> None:
    network = admin.network.get_network(network_id)
    assert (network.project_id, network.is_admin_state_up) == (project, True)
    assert sorted(s.ip_version for s in admin.network.subnets(network_id=network_id)) == [4, 6]
    (router,) = admin.network.routers(project_id=project)
    assert router.external_gateway_info["network_id"] == external_network(admin).id


def test_get_me_a_network_through_the_sdk(admin: Any, project: str) -> None:
    dry_run = admin.network.validate_auto_allocated_topology(project)
    assert dry_run.dry_run == "pass" or dry_run.id == "dry-run=pass"

    topology = admin.network.get_auto_allocated_topology(project)
    assert topology.project_id == project
    assert_topology(admin, project, topology.id)
    assert admin.network.get_auto_allocated_topology(project).id == topology.id

    admin.network.delete_auto_allocated_topology(project, ignore_missing=False)
    assert list(admin.network.networks(project_id=project)) == []
    assert list(admin.network.routers(project_id=project)) == []


def test_get_me_a_network_with_the_openstack_command(served: ServerProcess, admin: Any, tmp_path: Any) -> None:
    project = new_project()
    topology = ["network", "auto", "allocated", "topology"]

    checked = openstack_cli(
        served, tmp_path, *topology, "create", "--project", project, "--check-resources", "-f", "json"
    )
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["dry_run"] == "pass"
    assert list(admin.network.networks(project_id=project)) == []  # a dry run builds nothing

    created = openstack_cli(served, tmp_path, *topology, "create", "--project", project, "-f", "json")
    assert created.returncode == 0, created.stderr
    shown = json.loads(created.stdout)
    assert shown["project_id"] == project
    assert_topology(admin, project, shown["id"])
    again = openstack_cli(served, tmp_path, *topology, "create", "--project", project, "-f", "json")
    assert json.loads(again.stdout)["id"] == shown["id"]

    deleted = openstack_cli(served, tmp_path, *topology, "delete", "--project", project)
    assert deleted.returncode == 0, deleted.stderr
    assert list(admin.network.networks(project_id=project)) == []


def test_the_openstack_command_shows_naas_errors(served: ServerProcess, tmp_path: Any) -> None:
    missing = str(uuid.uuid4())
    shown = openstack_cli(served, tmp_path, "network", "show", missing)

    assert shown.returncode != 0
    assert missing in shown.stderr


# Errors and isolation


def test_sdk_errors_carry_naas_messages(served: ServerProcess, member: Any) -> None:
    missing = str(uuid.uuid4())
    raw = neutron_error(requests.get(f"{served.url}/v2.0/networks/{missing}", timeout=30))

    with pytest.raises(sdk_exceptions.NotFoundException) as error:
        member.network.get_network(missing)

    assert error.value.status_code == 404
    assert error.value.details == raw["message"]
    assert missing in raw["message"]


def test_another_projects_resources_are_not_found(served: ServerProcess, member: Any) -> None:
    network = member.network.create_network(name="private")
    other = connect(served, new_project())

    with pytest.raises(sdk_exceptions.NotFoundException):
        other.network.get_network(network.id)
    assert network.id not in [n.id for n in other.network.networks()]
    with pytest.raises(sdk_exceptions.NotFoundException):
        other.network.update_network(network.id, name="taken")
    with pytest.raises(sdk_exceptions.NotFoundException):
        other.network.delete_network(network.id, ignore_missing=False)
    with pytest.raises(sdk_exceptions.NotFoundException):
        other.network.create_subnet(network_id=network.id, ip_version=4, cidr="192.168.40.0/24")
    assert member.network.get_network(network.id).name == "private"


def test_admin_only_actions_are_forbidden_to_members(served: ServerProcess, member: Any, project: str) -> None:
    with pytest.raises(sdk_exceptions.ForbiddenException):
        member.network.create_network(name="ext", is_router_external=True)
    with pytest.raises(sdk_exceptions.ForbiddenException):
        member.network.get_auto_allocated_topology(new_project())
    assert list(member.network.networks(name="ext")) == []


# Bad requests: the right status, a NeutronError, and nothing stored


def post_network(server: ServerProcess, body: bytes, content_type: str = "application/json") -> requests.Response:
    return requests.post(f"{server.url}/v2.0/networks", data=body, headers={"Content-Type": content_type}, timeout=60)


@pytest.mark.parametrize(
    ("case", "status"),
    [("malformed-json", 400), ("wrong-content-type", 415), ("unknown-attribute", 400), ("ten-mb-body", 413)],
)
def test_bad_bodies_are_refused_and_store_nothing(served: ServerProcess, case: str, status: int) -> None:
    name = f"bad-{case}-{uuid.uuid4().hex[:8]}"
    valid = json.dumps({"network": {"name": name}}).encode()
    if case == "malformed-json":
        response = post_network(served, valid[:-2])
    elif case == "wrong-content-type":
        response = post_network(served, valid, content_type="text/plain")
    elif case == "unknown-attribute":
        response = post_network(served, json.dumps({"network": {"name": name, "colour": "red"}}).encode())
    else:
        response = post_network(served, json.dumps({"network": {"name": name, "description": "x" * TEN_MB}}).encode())

    assert response.status_code == status, response.text[:300]
    error = neutron_error(response)
    if case == "unknown-attribute":
        assert "colour" in error["message"]
    if case == "ten-mb-body":
        assert "max_request_body_size" in error["message"]
    assert REQUEST_ID.match(response.headers["X-Openstack-Request-Id"])
    assert names_stored(served, name) == []


def test_a_chunked_body_over_the_limit_is_refused_and_stores_nothing(served: ServerProcess) -> None:
    name = f"bad-chunked-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"network": {"name": name, "description": "x" * TEN_MB}}).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while the body is read
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    response = requests.post(
        f"{served.url}/v2.0/networks", data=chunks(), headers={"Content-Type": "application/json"}, timeout=60
    )

    assert response.status_code == 413, response.text[:300]
    assert neutron_error(response)
    assert names_stored(served, name) == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_non_uuid_id_in_a_path_is_not_found(served: ServerProcess, method: str) -> None:
    body = json.dumps({"network": {"name": "renamed"}}).encode() if method == "PUT" else None

    response = requests.request(
        method,
        f"{served.url}/v2.0/networks/not-a-uuid",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )

    assert response.status_code == 404
    assert neutron_error(response)
    assert names_stored(served, "renamed") == []


def test_a_stale_if_match_changes_nothing(served: ServerProcess, member: Any) -> None:
    network = member.network.create_network(name="rev")
    if network.revision_number is None:
        pytest.skip("networks carry no revision_number in this tree (standard attributes not merged)")
    stale = network.revision_number  # read first: the SDK updates the object it is given in place
    current = member.network.update_network(network.id, is_admin_state_up=False)
    assert current.revision_number > stale

    response = requests.put(
        f"{served.url}/v2.0/networks/{network.id}",
        data=json.dumps({"network": {"name": "lost-update"}}),
        headers={"Content-Type": "application/json", "If-Match": f"revision_number={stale}"},
        timeout=30,
    )

    assert response.status_code == 412
    assert neutron_error(response)
    after = member.network.get_network(network.id)
    assert (after.name, after.revision_number) == ("rev", current.revision_number)
    with pytest.raises(sdk_exceptions.PreconditionFailedException):
        member.network.update_network(network.id, name="lost-update", if_revision=stale)


# What the server adds: request ids, the access log, proxies, CORS


def test_each_response_carries_a_request_id_that_the_access_log_records(served: ServerProcess) -> None:
    answers = [requests.get(f"{served.url}/v2.0/networks", params={"limit": 1}, timeout=30) for _ in range(3)]
    ids = [answer.headers["X-Openstack-Request-Id"] for answer in answers]

    assert all(REQUEST_ID.match(request_id) for request_id in ids)
    assert len(set(ids)) == 3
    deadline = time.monotonic() + 30  # the worker writes its log line once the response is sent
    while not all(request_id in served.access_log.read_text() for request_id in ids):
        assert time.monotonic() < deadline, "the access log lacks the request ids"
        time.sleep(0.05)
    line = next(line for line in served.access_log.read_text().splitlines() if ids[0] in line)
    assert '"GET /v2.0/networks?limit=1 HTTP/1.1" status: 200' in line


def test_proxy_headers_set_the_urls_the_server_gives(served: ServerProcess) -> None:
    answer = requests.get(
        served.url + "/",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "naas.example.test"},
        timeout=30,
    )

    (version,) = answer.json()["versions"]
    assert version["links"][0]["href"] == "https://naas.example.test/v2.0/"


def test_cors_answers_the_configured_origin_only(served: ServerProcess) -> None:
    allowed = "https://dashboard.example.test"
    preflight = requests.options(
        f"{served.url}/v2.0/networks",
        headers={
            "Origin": allowed,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-Auth-Token, Content-Type",
        },
        timeout=30,
    )
    assert preflight.headers.get("Access-Control-Allow-Origin") == allowed
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]

    simple = requests.get(f"{served.url}/v2.0/networks", headers={"Origin": allowed}, timeout=30)
    assert simple.headers.get("Access-Control-Allow-Origin") == allowed
    assert "X-Openstack-Request-Id" in simple.headers["Access-Control-Expose-Headers"]

    stranger = requests.get(f"{served.url}/v2.0/networks", headers={"Origin": "https://evil.example.test"}, timeout=30)
    assert "Access-Control-Allow-Origin" not in stranger.headers
