"""oslo.policy in front of the library: Neutron-like defaults, and a policy file that overrides them."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from naas.api import policies
from naas.exceptions import BadRequest
from tests.api.conftest import ADMIN, MEMBER_A, MEMBER_B, Api, build_api, error_of, make_conf


def test_a_member_creates_in_its_own_project_only(api: Api) -> None:
    own = api.create("networks", "network", MEMBER_A, name="mine")
    other = api.client.post_json(
        "/v2.0/networks", {"network": {"project_id": "project-b"}}, headers=MEMBER_A, status=403
    )
    for_b = api.create("networks", "network", ADMIN, project_id="project-b")

    assert own["project_id"] == "project-a"
    assert error_of(other)["type"] == "PolicyNotAuthorized"
    assert "create_network" in error_of(other)["message"]
    assert for_b["project_id"] == "project-b"


@pytest.mark.parametrize(
    ("collection", "resource", "body", "rule"),
    [
        ("networks", "network", {"shared": True}, "create_network:shared"),
        ("networks", "network", {"router:external": True}, "create_network:router:external"),
        ("subnetpools", "subnetpool", {"prefixes": ["10.9.0.0/16"], "shared": True}, "create_subnetpool:shared"),
        (
            "subnetpools",
            "subnetpool",
            {"prefixes": ["10.9.0.0/16"], "is_default": True},
            "create_subnetpool:is_default",
        ),
    ],
)
def test_admin_only_attributes_are_refused_to_members(
    api: Api, collection: str, resource: str, body: dict[str, Any], rule: str
) -> None:
    response = api.client.post_json(f"/v2.0/{collection}", {resource: body}, headers=MEMBER_A, status=403)

    assert rule in error_of(response)["message"]
    assert api.client.get(f"/v2.0/{collection}", headers=ADMIN).json[collection] == []
    assert api.client.post_json(f"/v2.0/{collection}", {resource: body}, headers=ADMIN, status=201)


def test_gateway_snat_and_addresses_and_floating_address_are_admin_only(api: Api) -> None:
    public = api.external_network()
    gateway = {"network_id": public["id"], "enable_snat": False}

    snat = api.client.post_json(
        "/v2.0/routers", {"router": {"external_gateway_info": gateway}}, headers=MEMBER_A, status=403
    )
    fip = api.client.post_json(
        "/v2.0/floatingips",
        {"floatingip": {"floating_network_id": public["id"], "floating_ip_address": "203.0.113.50"}},
        headers=MEMBER_A,
        status=403,
    )
    owner = api.client.post_json(
        "/v2.0/ports",
        {"port": {"network_id": public["id"], "device_owner": "network:router_gateway"}},
        headers=MEMBER_A,
        status=403,
    )

    assert "create_router:external_gateway_info:enable_snat" in error_of(snat)["message"]
    assert "create_floatingip:floating_ip_address" in error_of(fip)["message"]
    assert "create_port:device_owner" in error_of(owner)["message"]
    assert api.client.get("/v2.0/routers", headers=ADMIN).json["routers"] == []


def test_an_ordinary_device_owner_is_anyones(api: Api) -> None:
    network = api.create("networks", "network", MEMBER_A, name="n")

    port = api.create("ports", "port", MEMBER_A, network_id=network["id"], device_owner="compute:nova")

    assert port["device_owner"] == "compute:nova"


def test_another_projects_resources_are_not_found_and_cannot_be_changed(api: Api) -> None:
    network = api.create("networks", "network", MEMBER_A, name="a-net")
    url = f"/v2.0/networks/{network['id']}"

    shown = api.client.get(url, headers=MEMBER_B, status=404)
    changed = api.client.put_json(url, {"network": {"name": "taken"}}, headers=MEMBER_B, status=404)
    deleted = api.client.delete(url, headers=MEMBER_B, status=404)

    assert {error_of(r)["type"] for r in (shown, changed, deleted)} == {"NetworkNotFound"}
    assert api.client.get("/v2.0/networks", headers=MEMBER_B).json["networks"] == []
    assert api.client.get(url, headers=MEMBER_A).json["network"]["name"] == "a-net"


def test_members_see_shared_and_external_networks_and_their_subnets(api: Api) -> None:
    public = api.external_network()
    shared = api.create("networks", "network", ADMIN, name="shared", shared=True)
    api.create("subnets", "subnet", ADMIN, network_id=shared["id"], cidr="10.10.0.0/24")
    api.create("networks", "network", ADMIN, name="private")

    names = {item["name"] for item in api.client.get("/v2.0/networks", headers=MEMBER_A).json["networks"]}
    subnets = api.client.get("/v2.0/subnets", headers=MEMBER_A).json["subnets"]
    everything = api.client.get("/v2.0/networks", headers=ADMIN).json["networks"]

    assert names == {"public", "shared"}
    assert {subnet["network_id"] for subnet in subnets} == {public["id"], shared["id"]}
    assert len(everything) == 3
    refused = api.client.put_json(
        f"/v2.0/networks/{shared['id']}", {"network": {"name": "x"}}, headers=MEMBER_A, status=403
    )
    assert error_of(refused)["type"] == "PolicyNotAuthorized"


def test_updating_an_admin_only_attribute_is_refused(api: Api) -> None:
    network = api.create("networks", "network", MEMBER_A, name="n")

    response = api.client.put_json(
        f"/v2.0/networks/{network['id']}", {"network": {"shared": True}}, headers=MEMBER_A, status=403
    )

    assert "update_network:shared" in error_of(response)["message"]
    assert api.client.get(f"/v2.0/networks/{network['id']}", headers=MEMBER_A).json["network"]["shared"] is False


def test_router_interfaces_need_the_routers_owner(api: Api) -> None:
    router = api.create("routers", "router", MEMBER_A, name="r")
    network = api.create("networks", "network", MEMBER_B, name="n")
    subnet = api.create("subnets", "subnet", MEMBER_B, network_id=network["id"], cidr="10.11.0.0/24")

    response = api.client.put_json(
        f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]}, headers=MEMBER_B, status=404
    )

    assert error_of(response)["type"] == "RouterNotFound"


def _policy_api(tmp_path: Path, rules: str) -> Api:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(rules)
    return build_api(make_conf(tmp_path, extra=f"[oslo_policy]\npolicy_file = {policy_file}\n"))


def test_a_policy_file_makes_network_creation_admin_only(tmp_path: Path) -> None:
    api = _policy_api(tmp_path, '"create_network": "rule:admin_only"\n')

    refused = api.client.post_json("/v2.0/networks", {"network": {"name": "n"}}, headers=MEMBER_A, status=403)
    allowed = api.client.post_json("/v2.0/networks", {"network": {"name": "n"}}, headers=ADMIN, status=201)
    pool = api.client.post_json("/v2.0/subnetpools", {"subnetpool": {"prefixes": ["10.0.0.0/8"]}}, headers=MEMBER_A)

    assert "create_network" in error_of(refused)["message"]
    assert allowed.json["network"]["name"] == "n"
    assert pool.status_int == 201


def test_a_policy_file_hides_what_get_refuses(tmp_path: Path) -> None:
    api = _policy_api(tmp_path, '"get_network": "rule:admin_only"\n')
    network = api.create("networks", "network", MEMBER_A, name="n")

    listed = api.client.get("/v2.0/networks", headers=MEMBER_A).json["networks"]
    shown = api.client.get(f"/v2.0/networks/{network['id']}", headers=MEMBER_A, status=404)
    deleted = api.client.delete(f"/v2.0/networks/{network['id']}", headers=MEMBER_A, status=404)

    assert listed == []
    assert error_of(shown)["type"] == error_of(deleted)["type"] == "NetworkNotFound"
    assert len(api.client.get("/v2.0/networks", headers=ADMIN).json["networks"]) == 1


def test_a_policy_file_names_who_is_admin_and_the_library_follows(tmp_path: Path) -> None:
    api = _policy_api(tmp_path, '"context_is_admin": "role:cloud-operator"\n')
    operator = {"X-Project-Id": "ops", "X-Roles": "cloud-operator"}

    external = api.client.post_json(
        "/v2.0/networks", {"network": {"router:external": True}}, headers=operator, status=201
    )
    old_admin = api.client.post_json(
        "/v2.0/networks", {"network": {"router:external": True}}, headers=ADMIN, status=403
    )

    assert external.json["network"]["router:external"] is True
    assert error_of(old_admin)["type"] == "PolicyNotAuthorized"


def test_a_policy_file_cannot_open_what_the_library_isolates(tmp_path: Path) -> None:
    api = _policy_api(tmp_path, '"get_network": ""\n"update_network": ""\n"create_network:shared": ""\n')
    network = api.create("networks", "network", MEMBER_A, name="n")

    seen_by_b = api.client.get(f"/v2.0/networks/{network['id']}", headers=MEMBER_B, status=404)
    shared_by_member = api.client.post_json(
        "/v2.0/networks", {"network": {"shared": True}}, headers=MEMBER_B, status=403
    )

    assert error_of(seen_by_b)["type"] == "NetworkNotFound"
    assert error_of(shared_by_member)["type"] == "PolicyNotAuthorized"


def test_every_rule_the_api_checks_is_registered() -> None:
    names = {rule.name for rule in policies.list_rules()}

    for resource in policies.COLLECTIONS:
        assert {f"{action}_{resource}" for action in ("create", "get", "update", "delete")} <= names
        for action, attributes in policies.ADMIN_ONLY_ATTRIBUTES.get(resource, {}).items():
            assert {f"{action}_{resource}:{attribute}" for attribute in attributes} <= names
    assert {"add_router_interface", "remove_router_interface", "get_auto_allocated_topology"} <= names
    assert "delete_auto_allocated_topology" in names


def test_the_sample_generator_writes_naas_defaults(tmp_path: Path) -> None:
    output = tmp_path / f"policy-{uuid.uuid4().hex}.yaml"
    generator = Path(sys.executable).with_name("oslopolicy-sample-generator")

    subprocess.run([str(generator), "--namespace", "naas", "--output-file", str(output)], check=True, timeout=120)

    text = output.read_text()
    assert '#"create_network:shared": "rule:admin_only"' in text
    assert '#"get_auto_allocated_topology": "rule:admin_or_owner"' in text
    assert "# Show a network" in text


def test_the_enforcer_entry_point_builds_an_enforcer_with_the_defaults() -> None:
    enforcer = policies.get_enforcer()
    enforcer.load_rules()

    assert "create_network:router:external" in enforcer.rules


def test_a_malformed_policy_file_fails_the_start_not_a_request(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"create_network": [unclosed\n')

    with pytest.raises(BadRequest) as raised:
        build_api(make_conf(tmp_path, extra=f"[oslo_policy]\npolicy_file = {policy_file}\n"))

    assert (raised.value.resource, raised.value.attribute) == ("oslo_policy", "policy_file")
    assert str(policy_file) in raised.value.reason
