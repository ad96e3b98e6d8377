"""[DEFAULT] auth_strategy: noauth trusts identity headers; keystone checks tokens with auth_token.

The keystone tests use keystonemiddleware's own AuthTokenFixture: tokens are
known to the fixture instead of a Keystone, everything else is auth_token's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import webtest
from keystonemiddleware.fixture import AuthTokenFixture
from oslo_config import cfg

from naas.api import build_app_from_plugins
from naas.auto_allocate import AutoAllocator
from naas.context import RequestContext, admin_context
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from tests.api.conftest import Api, build_api, error_of, make_conf


def test_noauth_request_without_identity_acts_as_the_admin(api: Api) -> None:
    network = api.create("networks", "network", name="public", **{"router:external": True})

    assert network["project_id"] == "admin"


def test_noauth_takes_the_project_from_x_project_id_or_x_tenant_id(api: Api) -> None:
    by_project = api.create("networks", "network", {"X-Project-Id": "p1"}, name="a")
    by_tenant = api.create("networks", "network", {"X-Tenant-Id": "p2", "X-User-Id": "u"}, name="b")

    assert (by_project["project_id"], by_tenant["project_id"]) == ("p1", "p2")
    listed = api.client.get("/v2.0/networks", headers={"X-Project-Id": "p1"}).json["networks"]
    assert [item["name"] for item in listed] == ["a"]


def test_noauth_roles_decide_admin(api: Api) -> None:
    member = api.client.post_json(
        "/v2.0/networks", {"network": {"shared": True}}, headers={"X-Project-Id": "p1", "X-Roles": "member"}, status=403
    )
    admin = api.client.post_json(
        "/v2.0/networks", {"network": {"shared": True}}, headers={"X-Project-Id": "p1", "X-Roles": "reader, admin"}
    )

    assert error_of(member)["type"] == "PolicyNotAuthorized"
    assert admin.json["network"]["shared"] is True


def test_noauth_identity_without_a_project_is_401(api: Api) -> None:
    response = api.client.get("/v2.0/networks", headers={"X-User-Id": "someone", "X-Roles": "member"}, status=401)

    assert error_of(response)["type"] == "HTTPUnauthorized"


def test_noauth_project_with_a_control_character_is_400(api: Api) -> None:
    response = api.client.get("/v2.0/networks", headers={"X-Project-Id": "p\x1b[1m"}, status=400)

    assert error_of(response)["type"] == "InvalidInput"


def test_an_unknown_auth_strategy_is_refused_naming_the_option(tmp_path: Path) -> None:
    conf = make_conf(tmp_path, auth_strategy="none-at-all")
    core = MemoryCorePlugin()
    l3 = MemoryL3Plugin(core_plugin=core)

    with pytest.raises(cfg.Error) as raised:
        build_app_from_plugins(core, l3, AutoAllocator(core, l3), conf)

    assert "auth_strategy" in str(raised.value) and "none-at-all" in str(raised.value)


@pytest.fixture
def keystone(tmp_path: Path) -> Iterator[tuple[Api, AuthTokenFixture]]:
    fixture = AuthTokenFixture()
    fixture.setUp()
    conf = make_conf(
        tmp_path,
        auth_strategy="keystone",
        extra="[keystone_authtoken]\nwww_authenticate_uri = http://127.0.0.1:5000/\nauth_type = password\nauth_url = http://127.0.0.1:5000/\n",
    )
    api = build_api(conf)
    # WebTest's WSGI lint objects to auth_token setting a removed header to None in the environ.
    api.client = webtest.TestApp(api.app, lint=False)
    yield api, fixture
    fixture.cleanUp()


def test_keystone_discovery_needs_no_token(keystone: tuple[Api, AuthTokenFixture]) -> None:
    api, _ = keystone

    assert api.client.get("/").json["versions"][0]["id"] == "v2.0"


def test_keystone_without_or_with_a_bad_token_is_401(keystone: tuple[Api, AuthTokenFixture]) -> None:
    api, _ = keystone

    missing = api.client.get("/v2.0/networks", status=401)
    unknown = api.client.get("/v2.0/networks", headers={"X-Auth-Token": "forged"}, status=401)
    forged_identity = api.client.post_json(
        "/v2.0/networks", {"network": {}}, headers={"X-Project-Id": "p", "X-Roles": "admin"}, status=401
    )

    assert missing.headers["WWW-Authenticate"].startswith("Keystone uri=")
    assert unknown.status_int == forged_identity.status_int == 401
    assert api.core.get_networks(admin_context()) == []


def test_keystone_token_decides_project_and_roles(keystone: tuple[Api, AuthTokenFixture]) -> None:
    api, fixture = keystone
    member, admin = "token-of-a-member", "token-of-an-admin"
    fixture.add_token_data(token_id=member, project_id="proj-token", user_id="u1", role_list=["member"])
    fixture.add_token_data(token_id=admin, project_id="ops", user_id="u2", role_list=["admin"])

    own = api.client.post_json(
        "/v2.0/networks",
        {"network": {"name": "n"}},
        # A header naming another project is replaced by the token's identity.
        headers={"X-Auth-Token": member, "X-Project-Id": "someone-else", "X-Roles": "admin"},
        status=201,
    ).json["network"]
    refused = api.client.post_json(
        "/v2.0/networks", {"network": {"shared": True}}, headers={"X-Auth-Token": member}, status=403
    )
    allowed = api.client.post_json(
        "/v2.0/networks", {"network": {"shared": True}}, headers={"X-Auth-Token": admin}, status=201
    )

    assert own["project_id"] == "proj-token"
    assert error_of(refused)["type"] == "PolicyNotAuthorized"
    assert allowed.json["network"]["project_id"] == "ops"


def test_keystone_token_without_a_project_is_refused(keystone: tuple[Api, AuthTokenFixture]) -> None:
    api, fixture = keystone
    unscoped = "unscoped-token"
    fixture.add_token_data(token_id=unscoped, user_id="u3", role_list=["member"])

    response = api.client.get("/v2.0/networks", headers={"X-Auth-Token": unscoped}, status=401)

    assert error_of(response)["type"] == "HTTPUnauthorized"


def test_the_request_id_of_oslo_middleware_is_the_library_contexts(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str, bool]] = []
    real_create = api.core.create_network

    def recording_create(context: RequestContext, body: object) -> object:
        seen.append((context.request_id, context.project_id, context.is_admin))
        return real_create(context, body)  # type: ignore[arg-type]

    monkeypatch.setattr(api.core, "create_network", recording_create)

    api.client.post_json(
        "/v2.0/networks",
        {"network": {}},
        headers={"X-Project-Id": "p1"},
        extra_environ={"openstack.request_id": "req-0f6a"},
        status=201,
    )

    assert seen == [("req-0f6a", "p1", False)]


def test_keystone_with_delayed_decision_still_refuses_an_unconfirmed_token(tmp_path: Path) -> None:
    fixture = AuthTokenFixture()
    fixture.setUp()
    try:
        conf = make_conf(
            tmp_path,
            auth_strategy="keystone",
            extra="[keystone_authtoken]\nauth_type = password\nauth_url = http://127.0.0.1:5000/\n"
            "delay_auth_decision = true\n",
        )
        api = build_api(conf)
        client = webtest.TestApp(api.app, lint=False)

        response = client.get("/v2.0/networks", headers={"X-Auth-Token": "forged", "X-Project-Id": "p"}, status=401)
    finally:
        fixture.cleanUp()

    assert error_of(response)["type"] == "HTTPUnauthorized"
