"""Standard attributes on the wire: description, tags (and the /tags sub-resource), timestamps,
revision_number and If-Match: revision_number=N."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import MEMBER_A, MEMBER_B, Api, error_of

COLLECTIONS = [
    ("networks", "network"),
    ("subnetpools", "subnetpool"),
    ("routers", "router"),
]


def _make(api: Api, collection: str, resource: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"prefixes": ["10.20.0.0/16"]} if resource == "subnetpool" else {}
    return api.create(collection, resource, MEMBER_A, **body, **extra)


@pytest.mark.parametrize(("collection", "resource"), COLLECTIONS)
def test_every_resource_carries_the_standard_attributes(api: Api, collection: str, resource: str) -> None:
    created = _make(api, collection, resource, description="made by a test", tags=["red", "blue"])

    assert created["description"] == "made by a test"
    assert created["tags"] == ["blue", "red"]
    assert created["revision_number"] == 0
    assert created["created_at"].endswith("Z") and created["updated_at"].endswith("Z")


@pytest.mark.parametrize(("collection", "resource"), COLLECTIONS)
def test_if_match_names_the_revision_an_update_or_delete_expects(api: Api, collection: str, resource: str) -> None:
    created = _make(api, collection, resource, description="v0")
    url = f"/v2.0/{collection}/{created['id']}"

    updated = api.client.put_json(
        url, {resource: {"description": "v1"}}, headers={**MEMBER_A, "If-Match": "revision_number=0"}
    ).json[resource]
    stale = api.client.put_json(
        url, {resource: {"description": "v2"}}, headers={**MEMBER_A, "If-Match": "revision_number=0"}, status=412
    )
    stale_delete = api.client.delete(url, headers={**MEMBER_A, "If-Match": "revision_number=0"}, status=412)

    assert updated["description"] == "v1" and updated["revision_number"] == 1
    assert error_of(stale)["type"] == error_of(stale_delete)["type"] == "RevisionMismatch"
    assert api.client.get(url, headers=MEMBER_A).json[resource]["description"] == "v1"
    api.client.delete(url, headers={**MEMBER_A, "If-Match": "revision_number=1"}, status=204)


@pytest.mark.parametrize("header", ["1", "revision_number=", "revision_number=-1", "etag-ish", "revision_number=1x"])
def test_a_malformed_if_match_is_400_and_changes_nothing(api: Api, header: str) -> None:
    network = _make(api, "networks", "network", description="before")
    url = f"/v2.0/networks/{network['id']}"

    response = api.client.put_json(
        url, {"network": {"description": "after"}}, headers={**MEMBER_A, "If-Match": header}, status=400
    )

    assert "If-Match" in error_of(response)["message"]
    assert api.client.get(url, headers=MEMBER_A).json["network"]["description"] == "before"


def test_tag_filters(api: Api) -> None:
    for name, tags in (("red-blue", ["red", "blue"]), ("red", ["red"]), ("green", ["green"]), ("none", [])):
        _make(api, "networks", "network", name=name, tags=tags)

    def names(query: str) -> set[str]:
        return {item["name"] for item in api.client.get(f"/v2.0/networks?{query}", headers=MEMBER_A).json["networks"]}

    assert names("tags=red,blue") == {"red-blue"}
    assert names("tags=red") == {"red-blue", "red"}
    assert names("tags-any=blue,green") == {"red-blue", "green"}
    assert names("not-tags=red,blue") == {"red", "green", "none"}
    assert names("not-tags-any=red") == {"green", "none"}


def test_the_tags_sub_resource(api: Api) -> None:
    network = _make(api, "networks", "network", tags=["a"])
    url = f"/v2.0/networks/{network['id']}/tags"

    listed = api.client.get(url, headers=MEMBER_A).json
    added = api.client.put(f"{url}/b", headers=MEMBER_A)
    added_again = api.client.put(f"{url}/b", headers=MEMBER_A)
    present = api.client.get(f"{url}/b", headers=MEMBER_A)
    absent = api.client.get(f"{url}/zzz", headers=MEMBER_A, status=404)
    replaced = api.client.put_json(url, {"tags": ["x", "y"]}, headers=MEMBER_A).json
    removed = api.client.delete(f"{url}/x", headers=MEMBER_A)
    removed_missing = api.client.delete(f"{url}/x", headers=MEMBER_A, status=404)
    after_one = api.client.get(url, headers=MEMBER_A).json
    cleared = api.client.delete(url, headers=MEMBER_A)

    assert listed == {"tags": ["a"]}
    assert (added.status_int, added_again.status_int, present.status_int) == (201, 204, 204)
    assert error_of(absent)["type"] == error_of(removed_missing)["type"] == "TagNotFound"
    assert replaced == {"tags": ["x", "y"]}
    assert removed.status_int == 204 and after_one == {"tags": ["y"]}
    assert cleared.status_int == 204
    final = api.client.get(f"/v2.0/networks/{network['id']}", headers=MEMBER_A).json["network"]
    assert final["tags"] == [] and final["revision_number"] == 4


@pytest.mark.parametrize(
    "body", [b'{"tags": "red"}', b'{"tag": ["red"]}', b'["red"]', b'{"tags": ["a,b"]}', b'{"tags": [1]}']
)
def test_malformed_tag_replacements_are_400(api: Api, body: bytes) -> None:
    network = _make(api, "networks", "network", tags=["keep"])
    url = f"/v2.0/networks/{network['id']}/tags"

    api.client.put(url, body, content_type="application/json", headers=MEMBER_A, status=400)

    assert api.client.get(url, headers=MEMBER_A).json == {"tags": ["keep"]}


def test_another_projects_tags_are_not_found(api: Api) -> None:
    network = _make(api, "networks", "network", tags=["a"])

    response = api.client.put(f"/v2.0/networks/{network['id']}/tags/b", headers=MEMBER_B, status=404)

    assert error_of(response)["type"] == "NetworkNotFound"
    assert api.client.get(f"/v2.0/networks/{network['id']}/tags", headers=MEMBER_A).json == {"tags": ["a"]}


def test_floating_ip_description_and_tags_update_in_one_revision(api: Api) -> None:
    public = api.external_network()
    fip = api.create("floatingips", "floatingip", MEMBER_A, floating_network_id=public["id"])

    updated = api.client.put_json(
        f"/v2.0/floatingips/{fip['id']}",
        {"floatingip": {"description": "web", "tags": ["prod"]}},
        headers={**MEMBER_A, "If-Match": "revision_number=0"},
    ).json["floatingip"]

    assert (updated["description"], updated["tags"], updated["revision_number"]) == ("web", ["prod"], 1)
