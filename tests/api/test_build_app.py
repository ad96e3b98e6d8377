"""build_app: the configured plugins loaded as the naas command loads them, owned and closed by the app."""

from __future__ import annotations

from pathlib import Path

import pytest
import webtest

import naas.api
from naas.auto_allocate import AutoAllocator
from naas.exceptions import PluginNotFound
from tests.api.conftest import MEMBER_A, make_conf


def test_build_app_serves_the_configured_sql_plugins(tmp_path: Path) -> None:
    conf = make_conf(tmp_path, extra=f"core_plugin = sql\nl3_plugin = sql\nstate_path = {tmp_path}\n")

    app = naas.api.build_app(conf)
    try:
        client = webtest.TestApp(app)
        created = client.post_json("/v2.0/networks", {"network": {"name": "kept"}}, headers=MEMBER_A, status=201)
    finally:
        app.close()
    reopened = naas.api.build_app(conf)
    try:
        listed = webtest.TestApp(reopened).get("/v2.0/networks", headers=MEMBER_A).json["networks"]
    finally:
        reopened.close()

    assert (tmp_path / "naas.sqlite").exists()
    assert [network["id"] for network in listed] == [created.json["network"]["id"]]


def test_build_app_fails_naming_a_plugin_that_is_not_installed(tmp_path: Path) -> None:
    conf = make_conf(tmp_path, extra="core_plugin = no-such-plugin\nl3_plugin = memory\n")

    with pytest.raises(PluginNotFound) as raised:
        naas.api.build_app(conf)

    assert raised.value.namespace == "naas.core_plugins" and raised.value.name == "no-such-plugin"


def test_close_closes_what_build_app_loaded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []
    real_loader = naas.api.load_auto_allocator

    def loader(conf: object) -> AutoAllocator:
        allocator = real_loader(conf)  # type: ignore[arg-type]
        monkeypatch.setattr(allocator, "close", lambda: closed.append("closed"))
        return allocator

    monkeypatch.setattr(naas.api, "load_auto_allocator", loader)
    app = naas.api.build_app(make_conf(tmp_path, extra="core_plugin = memory\nl3_plugin = memory\n"))

    app.close()
    app.close()

    assert closed == ["closed"]


def test_a_failure_after_loading_closes_the_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []
    real_loader = naas.api.load_auto_allocator

    def loader(conf: object) -> AutoAllocator:
        allocator = real_loader(conf)  # type: ignore[arg-type]
        monkeypatch.setattr(allocator, "close", lambda: closed.append("closed"))
        return allocator

    def broken_enforcer(conf: object) -> None:
        raise RuntimeError("policy file unreadable")

    monkeypatch.setattr(naas.api, "load_auto_allocator", loader)
    monkeypatch.setattr(naas.api, "make_enforcer", broken_enforcer)

    with pytest.raises(RuntimeError, match="policy file unreadable"):
        naas.api.build_app(make_conf(tmp_path, extra="core_plugin = memory\nl3_plugin = memory\n"))

    assert closed == ["closed"]
