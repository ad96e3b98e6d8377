"""GET and DELETE /v2.0/auto-allocated-topology/{project_id}: build, dry-run, errors, policy."""

from __future__ import annotations

from tests.api.conftest import ADMIN, MEMBER_A, MEMBER_B, PROJECT_A, PROJECT_B, Api, error_of

URL = "/v2.0/auto-allocated-topology"


def _ready(api: Api) -> None:
    api.external_network()
    api.default_pools()


def test_get_builds_the_topology_once_and_answers_its_network(api: Api) -> None:
    _ready(api)

    first = api.client.get(f"{URL}/{PROJECT_A}", headers=MEMBER_A).json["auto_allocated_topology"]
    again = api.client.get(f"{URL}/{PROJECT_A}", headers=MEMBER_A).json["auto_allocated_topology"]

    assert first == again
    assert first["project_id"] == first["tenant_id"] == PROJECT_A
    network = api.client.get(f"/v2.0/networks/{first['id']}", headers=MEMBER_A).json["network"]
    assert network["name"] == "auto_allocated_network" and network["admin_state_up"] is True
    assert len(network["subnets"]) == 2
    routers = api.client.get("/v2.0/routers", headers=MEMBER_A).json["routers"]
    assert [router["name"] for router in routers] == ["auto_allocated_router"]


def test_dry_run_checks_without_building(api: Api) -> None:
    _ready(api)

    body = api.client.get(f"{URL}/{PROJECT_A}?fields=dry-run", headers=MEMBER_A).json["auto_allocated_topology"]

    assert body == {"id": "dry-run=pass", "project_id": PROJECT_A, "tenant_id": PROJECT_A, "dry_run": "pass"}
    assert api.client.get("/v2.0/networks", headers=MEMBER_A).json["networks"][0]["router:external"] is True
    assert api.client.get("/v2.0/routers", headers=MEMBER_A).json["routers"] == []


def test_missing_requirements_are_409_auto_allocation_failure(api: Api) -> None:
    dry_run = api.client.get(f"{URL}/{PROJECT_A}?fields=dry-run", headers=MEMBER_A, status=409)
    build = api.client.get(f"{URL}/{PROJECT_A}", headers=MEMBER_A, status=409)

    for response in (dry_run, build):
        error = error_of(response)
        assert error["type"] == "AutoAllocationFailure"
        assert error["message"].startswith("Deployment error:")
        assert "default router:external network" in error["message"]
    assert api.client.get("/v2.0/networks", headers=ADMIN).json["networks"] == []


def test_other_fields_are_400(api: Api) -> None:
    _ready(api)

    response = api.client.get(f"{URL}/{PROJECT_A}?fields=id", headers=MEMBER_A, status=400)

    assert "Unrecognized field" in error_of(response)["message"]


def test_a_member_cannot_ask_for_another_project(api: Api) -> None:
    _ready(api)

    get = api.client.get(f"{URL}/{PROJECT_B}", headers=MEMBER_A, status=403)
    delete = api.client.delete(f"{URL}/{PROJECT_B}", headers=MEMBER_A, status=403)
    by_admin = api.client.get(f"{URL}/{PROJECT_B}", headers=ADMIN).json["auto_allocated_topology"]

    assert error_of(get)["type"] == error_of(delete)["type"] == "PolicyNotAuthorized"
    assert by_admin["project_id"] == PROJECT_B
    assert len(api.client.get("/v2.0/routers", headers=MEMBER_B).json["routers"]) == 1


def test_none_stands_for_the_callers_project(api: Api) -> None:
    _ready(api)

    body = api.client.get(f"{URL}/None", headers=MEMBER_A).json["auto_allocated_topology"]

    assert body["project_id"] == PROJECT_A


def test_delete_removes_the_topology_and_is_204_when_there_is_none(api: Api) -> None:
    _ready(api)
    network_id = api.client.get(f"{URL}/{PROJECT_A}", headers=MEMBER_A).json["auto_allocated_topology"]["id"]

    deleted = api.client.delete(f"{URL}/{PROJECT_A}", headers=MEMBER_A)
    nothing = api.client.delete(f"{URL}/{PROJECT_A}", headers=MEMBER_A)

    assert deleted.status_int == nothing.status_int == 204
    assert error_of(api.client.get(f"/v2.0/networks/{network_id}", headers=MEMBER_A, status=404))
    assert api.client.get("/v2.0/routers", headers=MEMBER_A).json["routers"] == []


def test_delete_refuses_while_an_instance_port_is_on_the_network(api: Api) -> None:
    _ready(api)
    network_id = api.client.get(f"{URL}/{PROJECT_A}", headers=MEMBER_A).json["auto_allocated_topology"]["id"]
    port = api.create("ports", "port", MEMBER_A, network_id=network_id, device_owner="compute:nova")

    response = api.client.delete(f"{URL}/{PROJECT_A}", headers=MEMBER_A, status=409)

    assert error_of(response)["type"] == "NetworkInUse"
    assert port["id"] in error_of(response)["message"]
    assert api.client.get(f"/v2.0/networks/{network_id}", headers=MEMBER_A).status_int == 200
