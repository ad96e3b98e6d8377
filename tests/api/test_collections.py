"""The six collections: create, show, list (filters, fields, sorting, paging), update, delete; router
interfaces; floating IP association."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import pytest

from tests.api.conftest import ADMIN, MEMBER_A, Api, error_of


def _names(body: dict[str, Any], collection: str) -> list[str]:
    return [item["name"] for item in body[collection]]


@pytest.fixture
def five_networks(api: Api) -> list[dict[str, Any]]:
    names = ["delta", "alpha", "echo", "charlie", "bravo"]
    return [
        api.create("networks", "network", name=name, admin_state_up=(index % 2 == 0))
        for index, name in enumerate(names)
    ]


def test_network_lifecycle(api: Api) -> None:
    network = api.create("networks", "network", name="n", mtu=1400)

    shown = api.client.get(f"/v2.0/networks/{network['id']}").json["network"]
    updated = api.client.put_json(f"/v2.0/networks/{network['id']}", {"network": {"name": "m"}}).json["network"]
    deleted = api.client.delete(f"/v2.0/networks/{network['id']}")

    assert shown == network
    assert updated["name"] == "m" and updated["mtu"] == 1400
    assert deleted.status_int == 204 and deleted.body == b""
    assert error_of(api.client.get(f"/v2.0/networks/{network['id']}", status=404))["type"] == "NetworkNotFound"


def test_a_repeated_filter_key_accepts_any_of_its_values(api: Api, five_networks: list[dict[str, Any]]) -> None:
    body = api.client.get("/v2.0/networks?name=alpha&name=echo&name=nothing").json

    assert sorted(_names(body, "networks")) == ["alpha", "echo"]


def test_filters_on_booleans_and_wire_names(api: Api, five_networks: list[dict[str, Any]]) -> None:
    down = api.client.get("/v2.0/networks?admin_state_up=False").json
    external = api.client.get("/v2.0/networks?router:external=True").json
    combined = api.client.get("/v2.0/networks?admin_state_up=True&name=delta&name=alpha").json

    assert sorted(_names(down, "networks")) == ["alpha", "charlie"]
    assert external["networks"] == []
    assert _names(combined, "networks") == ["delta"]


def test_an_unknown_filter_is_400_naming_it(api: Api) -> None:
    response = api.client.get("/v2.0/networks?colour=red", status=400)

    error = error_of(response)
    assert error["type"] == "InvalidInput"
    assert "'colour'" in error["message"]


def test_fields_keeps_only_the_named_keys(api: Api, five_networks: list[dict[str, Any]]) -> None:
    listed = api.client.get("/v2.0/networks?fields=id&fields=name").json["networks"]
    shown = api.client.get(f"/v2.0/networks/{five_networks[0]['id']}?fields=name,mtu").json["network"]

    assert all(set(item) == {"id", "name"} for item in listed) and len(listed) == 5
    assert shown == {"name": "delta", "mtu": 1500}


def test_sorting_by_one_or_more_keys(api: Api, five_networks: list[dict[str, Any]]) -> None:
    ascending = api.client.get("/v2.0/networks?sort_key=name").json
    descending = api.client.get("/v2.0/networks?sort_key=name&sort_dir=desc").json
    two_keys = api.client.get("/v2.0/networks?sort_key=admin_state_up&sort_dir=desc&sort_key=name&sort_dir=asc").json

    assert _names(ascending, "networks") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert _names(descending, "networks") == ["echo", "delta", "charlie", "bravo", "alpha"]
    assert _names(two_keys, "networks") == ["bravo", "delta", "echo", "alpha", "charlie"]


@pytest.mark.parametrize(
    "query",
    ["sort_key=subnets", "sort_key=nothing", "sort_key=name&sort_dir=up", "sort_dir=asc", "limit=-1", "limit=x"],
)
def test_malformed_sorting_or_paging_is_400(api: Api, query: str) -> None:
    assert error_of(api.client.get(f"/v2.0/networks?{query}", status=400))["type"] == "HTTPBadRequest"


def test_pages_follow_next_links_to_the_end_and_previous_links_back(
    api: Api, five_networks: list[dict[str, Any]]
) -> None:
    seen: list[str] = []
    pages = 0
    url: str | None = "/v2.0/networks?limit=2&sort_key=name"
    last_body: dict[str, Any] = {}
    while url is not None:
        last_body = api.client.get(url).json
        pages += 1
        seen += _names(last_body, "networks")
        links = {link["rel"]: link["href"] for link in last_body.get("networks_links", [])}
        url = links.get("next")
    assert seen == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert pages == 3
    previous = {link["rel"]: link["href"] for link in last_body["networks_links"]}["previous"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(previous).query)
    assert query["page_reverse"] == ["True"] and query["limit"] == ["2"]
    assert _names(api.client.get(previous).json, "networks") == ["charlie", "delta"]


def test_a_full_list_has_no_links(api: Api, five_networks: list[dict[str, Any]]) -> None:
    assert "networks_links" not in api.client.get("/v2.0/networks?limit=5").json
    assert "networks_links" not in api.client.get("/v2.0/networks").json


def test_a_marker_that_is_no_visible_id_is_404(api: Api, five_networks: list[dict[str, Any]]) -> None:
    response = api.client.get(f"/v2.0/networks?limit=1&marker={uuid.uuid4()}", status=404)

    assert error_of(response)["type"] == "MarkerNotFound"


def test_subnet_and_subnetpool_lifecycle(api: Api) -> None:
    network = api.create("networks", "network", name="n")
    pool = api.create("subnetpools", "subnetpool", name="p", prefixes=["10.8.0.0/16"], default_prefixlen=24)
    subnet = api.create("subnets", "subnet", network_id=network["id"], subnetpool_id=pool["id"], ip_version=4)

    by_pool = api.client.get(f"/v2.0/subnets?subnetpool_id={pool['id']}").json["subnets"]
    renamed = api.client.put_json(f"/v2.0/subnets/{subnet['id']}", {"subnet": {"name": "s"}}).json["subnet"]
    pool_in_use = api.client.delete(f"/v2.0/subnetpools/{pool['id']}", status=409)
    api.client.delete(f"/v2.0/subnets/{subnet['id']}", status=204)
    api.client.delete(f"/v2.0/subnetpools/{pool['id']}", status=204)

    assert subnet["cidr"] == "10.8.0.0/24" and subnet["gateway_ip"] == "10.8.0.1"
    assert [item["id"] for item in by_pool] == [subnet["id"]]
    assert renamed["name"] == "s"
    assert error_of(pool_in_use)["type"] == "SubnetPoolInUse"


def test_ports_filter_on_fixed_ips_as_openstacksdk_sends_it(api: Api) -> None:
    network = api.create("networks", "network", name="n")
    subnet = api.create("subnets", "subnet", network_id=network["id"], cidr="10.2.0.0/24")
    port = api.create("ports", "port", network_id=network["id"], fixed_ips=[{"ip_address": "10.2.0.7"}])
    api.create("ports", "port", network_id=network["id"])

    by_address = api.client.get("/v2.0/ports?fixed_ips=ip_address%3D10.2.0.7").json["ports"]
    by_subnet = api.client.get(f"/v2.0/ports?fixed_ips=subnet_id%3D{subnet['id']}").json["ports"]

    assert [item["id"] for item in by_address] == [port["id"]]
    assert len(by_subnet) == 2


def test_router_interfaces_by_subnet_and_by_port(api: Api) -> None:
    network = api.create("networks", "network", name="n")
    subnet = api.create("subnets", "subnet", network_id=network["id"], cidr="10.3.0.0/24")
    other = api.create("subnets", "subnet", network_id=network["id"], cidr="10.4.0.0/24")
    port = api.create("ports", "port", network_id=network["id"], fixed_ips=[{"subnet_id": other["id"]}])
    router = api.create("routers", "router", name="r")
    base = f"/v2.0/routers/{router['id']}"

    by_subnet = api.client.put_json(f"{base}/add_router_interface", {"subnet_id": subnet["id"]}).json
    by_port = api.client.put_json(f"{base}/add_router_interface", {"port_id": port["id"]}).json
    router_in_use = api.client.delete(base, status=409)
    removed = api.client.put_json(f"{base}/remove_router_interface", {"subnet_id": subnet["id"]}).json
    api.client.put_json(f"{base}/remove_router_interface", {"port_id": port["id"]})
    gone = api.client.put_json(f"{base}/remove_router_interface", {"subnet_id": subnet["id"]}, status=404)

    assert by_subnet["id"] == router["id"] and by_subnet["subnet_id"] == subnet["id"]
    assert set(by_subnet) >= {"id", "tenant_id", "project_id", "port_id", "network_id", "subnet_id", "subnet_ids"}
    assert by_port["port_id"] == port["id"]
    assert error_of(router_in_use)["type"] == "RouterInUse"
    assert removed["port_id"] == by_subnet["port_id"]
    assert error_of(gone)["type"] in {"RouterNotFound", "NotFound", "RouterInterfaceNotFoundForSubnet"}
    api.client.delete(base, status=204)


@pytest.mark.parametrize("body", [b"", b"[1]", b'{"subnet_id": "x", "port_id": "y"}', b"{}"])
def test_a_malformed_interface_request_is_400(api: Api, body: bytes) -> None:
    router = api.create("routers", "router", name="r")

    response = api.client.put(
        f"/v2.0/routers/{router['id']}/add_router_interface", body, content_type="application/json", status=400
    )

    assert error_of(response)["type"] in {"HTTPBadRequest", "InvalidInput"}


def test_router_gateway_set_and_cleared_with_an_empty_object(api: Api) -> None:
    public = api.external_network()
    router = api.create("routers", "router", name="r", external_gateway_info={"network_id": public["id"]})
    url = f"/v2.0/routers/{router['id']}"

    cleared = api.client.put_json(url, {"router": {"external_gateway_info": {}}}).json["router"]
    restored = api.client.put_json(url, {"router": {"external_gateway_info": {"network_id": public["id"]}}}).json
    cleared_by_null = api.client.put_json(url, {"router": {"external_gateway_info": None}}).json["router"]

    assert router["external_gateway_info"]["network_id"] == public["id"]
    assert cleared["external_gateway_info"] is None
    assert restored["router"]["external_gateway_info"]["network_id"] == public["id"]
    assert cleared_by_null["external_gateway_info"] is None


def test_floating_ip_create_associate_disassociate_delete(api: Api) -> None:
    public = api.external_network()
    network = api.create("networks", "network", name="n", headers=MEMBER_A)
    subnet = api.create("subnets", "subnet", MEMBER_A, network_id=network["id"], cidr="10.5.0.0/24")
    router = api.create("routers", "router", MEMBER_A, name="r", external_gateway_info={"network_id": public["id"]})
    api.client.put_json(
        f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]}, headers=MEMBER_A
    )
    port = api.create("ports", "port", MEMBER_A, network_id=network["id"])
    fip = api.create("floatingips", "floatingip", MEMBER_A, floating_network_id=public["id"])
    url = f"/v2.0/floatingips/{fip['id']}"

    associated = api.client.put_json(url, {"floatingip": {"port_id": port["id"]}}, headers=MEMBER_A).json
    by_port = api.client.get(f"/v2.0/floatingips?port_id={port['id']}", headers=MEMBER_A).json["floatingips"]
    disassociated = api.client.put_json(url, {"floatingip": {"port_id": None}}, headers=MEMBER_A).json
    unknown = api.client.put_json(url, {"floatingip": {"router_id": router["id"]}}, headers=MEMBER_A, status=400)
    api.client.delete(url, headers=MEMBER_A, status=204)

    assert fip["floating_network_id"] == public["id"] and fip["port_id"] is None
    assert associated["floatingip"]["port_id"] == port["id"]
    assert associated["floatingip"]["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert associated["floatingip"]["router_id"] == router["id"]
    assert [item["id"] for item in by_port] == [fip["id"]]
    assert disassociated["floatingip"]["port_id"] is None
    assert "router_id" in error_of(unknown)["message"]
    assert api.client.get("/v2.0/floatingips", headers=ADMIN).json["floatingips"] == []


def test_subnetpools_filter_on_is_default_as_openstacksdk_sends_it(api: Api) -> None:
    api.default_pools()
    api.create("subnetpools", "subnetpool", name="other", prefixes=["192.168.0.0/16"])

    defaults = api.client.get("/v2.0/subnetpools?is_default=True&ip_version=4").json["subnetpools"]
    not_default = api.client.get("/v2.0/subnetpools?is_default=False").json["subnetpools"]

    assert [pool["name"] for pool in defaults] == ["default-26"]
    assert [pool["name"] for pool in not_default] == ["other"]
