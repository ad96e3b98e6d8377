"""Version discovery at / and the extension list, as openstacksdk reads them."""

from __future__ import annotations

from tests.api.conftest import Api, error_of

REQUIRED_ALIASES = {
    "auto-allocated-topology",
    "external-net",
    "router",
    "subnet_allocation",
    "default-subnetpools",
    "standard-attr-description",
    "standard-attr-tag",
    "standard-attr-timestamp",
    "standard-attr-revisions",
    "revision-if-match",
}


def test_root_is_a_version_document_with_a_current_v2(api: Api) -> None:
    response = api.client.get("/", headers={"Accept": "application/json"})

    assert response.status_int == 200
    assert response.content_type == "application/json"
    (version,) = response.json["versions"]
    assert version["id"] == "v2.0"
    assert version["status"] == "CURRENT"
    assert version["links"] == [{"href": "http://localhost/v2.0/", "rel": "self"}]


def test_root_takes_only_get_and_head(api: Api) -> None:
    assert api.client.head("/").status_int == 200

    response = api.client.post("/", status=405)

    assert error_of(response)["type"] == "HTTPMethodNotAllowed"
    assert response.headers["Allow"] == "GET, HEAD"


def test_v2_index_lists_the_collections(api: Api) -> None:
    body = api.client.get("/v2.0/").json

    assert {entry["collection"] for entry in body["resources"]} == {
        "networks",
        "subnets",
        "subnetpools",
        "ports",
        "routers",
        "floatingips",
    }


def test_extensions_list_the_aliases_clients_look_for(api: Api) -> None:
    extensions = api.client.get("/v2.0/extensions").json["extensions"]

    assert REQUIRED_ALIASES <= {extension["alias"] for extension in extensions}
    for extension in extensions:
        assert set(extension) == {"alias", "name", "description", "updated", "links"}
        assert extension["name"] and extension["description"]


def test_one_extension_by_alias(api: Api) -> None:
    body = api.client.get("/v2.0/extensions/auto-allocated-topology").json

    assert body["extension"]["alias"] == "auto-allocated-topology"


def test_an_unknown_extension_is_404_so_clients_fall_back(api: Api) -> None:
    response = api.client.get("/v2.0/extensions/qos", status=404)

    assert error_of(response) == {
        "type": "ExtensionNotFound",
        "message": "Extension with alias qos does not exist.",
        "detail": "",
    }


def test_an_unknown_path_is_a_404_neutron_error(api: Api) -> None:
    for path in ("/v2.0/security-groups", "/v3/networks", "/v2.0/networks/x/y/z"):
        assert error_of(api.client.get(path, status=404))["type"] == "HTTPNotFound"


def test_a_wrong_method_on_a_known_path_is_405_with_allow(api: Api) -> None:
    response = api.client.post_json("/v2.0/extensions", {}, status=405)

    assert error_of(response)["type"] == "HTTPMethodNotAllowed"
    assert response.headers["Allow"] == "GET"


def test_json_suffix_and_trailing_slash_reach_the_same_collection(api: Api) -> None:
    network = api.create("networks", "network", name="n")

    assert api.client.get("/v2.0/networks.json").json["networks"][0]["id"] == network["id"]
    assert api.client.get("/v2.0/networks/").json["networks"][0]["id"] == network["id"]
    assert api.client.get(f"/v2.0/networks/{network['id']}.json").json["network"]["name"] == "n"
