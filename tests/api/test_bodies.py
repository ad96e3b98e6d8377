"""Request bodies and error answers: what a malformed request gets, and that it stores nothing."""

from __future__ import annotations

import io
import json
import logging
import uuid
from pathlib import Path

import pytest
import webob

from naas.exceptions import ServiceUnavailable
from tests.api.conftest import ADMIN, MEMBER_A, Api, build_api, error_of, make_conf


def _network_count(api: Api) -> int:
    return len(api.client.get("/v2.0/networks").json["networks"])


def test_create_wraps_the_body_in_the_resource_key_and_answers_201(api: Api) -> None:
    response = api.client.post_json("/v2.0/networks", {"network": {"name": "net1"}}, headers=MEMBER_A, status=201)

    network = response.json["network"]
    assert network["name"] == "net1"
    assert network["project_id"] == network["tenant_id"] == "project-a"
    assert network["router:external"] is False
    uuid.UUID(network["id"])


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error_type", "message_part"),
    [
        (b"{not json", "application/json", 400, "HTTPBadRequest", "Malformed request body"),
        (b'{"network": {"mtu": NaN}}', "application/json", 400, "HTTPBadRequest", "Malformed request body"),
        (b"\xff\xfe", "application/json", 400, "HTTPBadRequest", "Malformed request body"),
        (b"[" * 100_000, "application/json", 400, "HTTPBadRequest", "Malformed request body"),
        (b"", "application/json", 400, "HTTPBadRequest", "no body"),
        (b'["network"]', "application/json", 400, "HTTPBadRequest", "JSON object"),
        (b'{"net": {}}', "application/json", 400, "HTTPBadRequest", "Unable to find 'network'"),
        (b'{"network": {}, "extra": 1}', "application/json", 400, "HTTPBadRequest", "Unable to find 'network'"),
        (b'{"network": "n"}', "application/json", 400, "HTTPBadRequest", "JSON object of attributes"),
        (b'{"networks": [{}]}', "application/json", 400, "HTTPBadRequest", "Bulk requests"),
        (b'{"network": {}}', "text/plain", 415, "HTTPUnsupportedMediaType", "Unsupported content type"),
        (b'{"network": {"colour": "red"}}', "application/json", 400, "InvalidInput", "'colour': unrecognized"),
        (b'{"network": {"mtu": "big"}}', "application/json", 400, "InvalidInput", "'mtu': must be an integer"),
    ],
)
def test_a_malformed_create_is_refused_and_stores_nothing(
    api: Api, body: bytes, content_type: str, status: int, error_type: str, message_part: str
) -> None:
    response = api.client.post("/v2.0/networks", body, content_type=content_type, headers=ADMIN, status=status)

    error = error_of(response)
    assert error["type"] == error_type
    assert message_part in error["message"]
    assert _network_count(api) == 0


def test_a_body_without_content_type_is_read_as_json(api: Api) -> None:
    response = api.client.request("/v2.0/networks", method="POST", body=b'{"network": {"name": "x"}}', status=201)

    assert "Content-Type" not in response.request.headers

    assert response.json["network"]["name"] == "x"


def test_a_malformed_update_changes_nothing(api: Api) -> None:
    network = api.create("networks", "network", name="before")

    response = api.client.put_json(
        f"/v2.0/networks/{network['id']}", {"network": {"name": "after", "colour": "red"}}, status=400
    )

    assert error_of(response)["type"] == "InvalidInput"
    assert api.client.get(f"/v2.0/networks/{network['id']}").json["network"]["name"] == "before"


@pytest.mark.parametrize("path_id", ["my-network", "1234", uuid.uuid4().hex, str(uuid.uuid4()).upper(), "x" * 300])
def test_an_id_that_is_no_uuid_is_404_not_400(api: Api, path_id: str) -> None:
    for method in ("get", "delete"):
        response = getattr(api.client, method)(f"/v2.0/networks/{path_id}", status=404)
        assert error_of(response)["type"] == "NetworkNotFound"
    response = api.client.put_json(f"/v2.0/networks/{path_id}", {"network": {"name": "n"}}, status=404)
    assert error_of(response)["type"] == "NetworkNotFound"


def test_an_id_with_a_control_character_is_not_echoed(api: Api) -> None:
    response = api.client.get("/v2.0/ports/%1b%5b31m", status=404)

    error = error_of(response)
    assert error["type"] == "PortNotFound"
    assert "\x1b" not in error["message"]


def test_an_unknown_uuid_is_404_naming_the_resource(api: Api) -> None:
    missing = str(uuid.uuid4())

    response = api.client.get(f"/v2.0/subnetpools/{missing}", status=404)

    assert error_of(response) == {
        "type": "SubnetPoolNotFound",
        "message": f"subnetpool {missing} could not be found.",
        "detail": "",
    }


def test_a_conflict_is_409_with_neutrons_type(api: Api) -> None:
    network = api.create("networks", "network", name="n")
    subnet = api.create("subnets", "subnet", network_id=network["id"], cidr="10.1.0.0/24")
    api.create("ports", "port", network_id=network["id"], fixed_ips=[{"ip_address": "10.1.0.5"}])

    taken = api.client.post_json(
        "/v2.0/ports", {"port": {"network_id": network["id"], "fixed_ips": [{"ip_address": "10.1.0.5"}]}}, status=409
    )
    in_use = api.client.delete(f"/v2.0/networks/{network['id']}", status=409)

    assert error_of(taken)["type"] == "IpAddressAlreadyAllocated"
    assert error_of(in_use)["type"] == "NetworkInUse"
    assert api.client.get(f"/v2.0/subnets/{subnet['id']}").status_int == 200


def test_an_unexpected_error_is_a_500_that_leaks_nothing_and_is_logged(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret connection string postgresql://user:pw@db")

    monkeypatch.setattr(api.core, "get_networks", broken)

    with caplog.at_level(logging.ERROR, logger="naas.api._faults"):
        response = api.client.get("/v2.0/networks", extra_environ={"openstack.request_id": "req-42"}, status=500)

    error = error_of(response)
    assert error["type"] == "HTTPInternalServerError"
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert "req-42" in error["message"]
    assert any("req-42" in record.getMessage() and record.exc_info for record in caplog.records)


def test_storage_unavailable_is_503(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(*args: object, **kwargs: object) -> None:
        raise ServiceUnavailable("database sqlite:///x", "it is locked")

    monkeypatch.setattr(api.core, "create_network", unavailable)

    response = api.client.post_json("/v2.0/networks", {"network": {}}, status=503)

    assert error_of(response)["type"] == "ServiceUnavailable"


def test_a_body_over_the_size_limit_is_413_and_stores_nothing(tmp_path: Path) -> None:
    api = build_api(make_conf(tmp_path, extra="[oslo_middleware]\nmax_request_body_size = 64\n"))
    big = {"network": {"name": "n" * 100}}

    response = api.client.post_json("/v2.0/networks", big, status=413)
    fits = api.client.post_json("/v2.0/networks", {"network": {"name": "n"}}, status=201)

    assert error_of(response)["type"] == "HTTPRequestEntityTooLarge"
    assert [network["id"] for network in api.client.get("/v2.0/networks").json["networks"]] == [
        fits.json["network"]["id"]
    ]


def test_a_chunked_body_over_the_limit_is_413(tmp_path: Path) -> None:
    api = build_api(make_conf(tmp_path, extra="[oslo_middleware]\nmax_request_body_size = 64\n"))
    body = json.dumps({"network": {"name": "n" * 100}}).encode()
    environ = {"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True, "CONTENT_TYPE": "application/json"}

    response = webob.Request.blank("/v2.0/networks", method="POST", environ=environ)
    response.environ.pop("CONTENT_LENGTH", None)
    answered = response.get_response(api.app)

    assert answered.status_int == 413
    assert api.client.get("/v2.0/networks").json["networks"] == []
