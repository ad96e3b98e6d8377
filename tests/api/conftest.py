"""An in-process API over memory plugins, driven with WebTest, and helpers to act as a project or the admin."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import webtest
from oslo_config import cfg

from naas.api import NaasApp, build_app_from_plugins
from naas.auto_allocate import AutoAllocator
from naas.events import EventRegistry
from naas.opts import register_opts
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin

PROJECT_A = "project-a"
PROJECT_B = "project-b"
ADMIN = {"X-Project-Id": "admin-project", "X-Roles": "admin,member"}
MEMBER_A = {"X-Project-Id": PROJECT_A, "X-Roles": "member"}
MEMBER_B = {"X-Project-Id": PROJECT_B, "X-Roles": "member"}


def make_conf(tmp_path: Path, auth_strategy: str = "noauth", extra: str = "") -> cfg.ConfigOpts:
    """A parsed configuration naming only what the test gives (no default files, no environment)."""
    path = tmp_path / "naas.conf"
    path.write_text(textwrap.dedent(f"[DEFAULT]\nauth_strategy = {auth_strategy}\n") + textwrap.dedent(extra))
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(["--config-file", str(path)], default_config_files=[], default_config_dirs=[], use_env=False)
    return conf


@dataclasses.dataclass
class Api:
    """The application under test, its plugins, and a WebTest client."""

    app: NaasApp
    core: MemoryCorePlugin
    l3: MemoryL3Plugin
    client: webtest.TestApp

    def create(
        self, collection: str, resource: str, headers: dict[str, str] | None = None, **body: Any
    ) -> dict[str, Any]:
        """POST a resource and return its wire form (asserting 201)."""
        response = self.client.post_json(f"/v2.0/{collection}", {resource: body}, headers=headers or {}, status=201)
        created: dict[str, Any] = response.json[resource]
        return created

    def external_network(self) -> dict[str, Any]:
        """The default external network with a subnet (as an admin), as get-me-a-network needs it."""
        network = self.create(
            "networks", "network", ADMIN, name="public", **{"router:external": True, "is_default": True}
        )
        self.create("subnets", "subnet", ADMIN, network_id=network["id"], cidr="203.0.113.0/24")
        return network

    def default_pools(self) -> None:
        """Default, shared IPv4 and IPv6 subnet pools."""
        for prefix, length in (("10.0.0.0/8", 26), ("fd00::/48", 64)):
            self.create(
                "subnetpools",
                "subnetpool",
                ADMIN,
                name=f"default-{length}",
                prefixes=[prefix],
                default_prefixlen=length,
                shared=True,
                is_default=True,
            )


def build_api(conf: cfg.ConfigOpts) -> Api:
    events = EventRegistry()
    core = MemoryCorePlugin(events=events)
    l3 = MemoryL3Plugin(core_plugin=core, events=events)
    app = build_app_from_plugins(core, l3, AutoAllocator(core, l3), conf)
    return Api(app=app, core=core, l3=l3, client=webtest.TestApp(app))


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The API with auth_strategy = noauth over fresh memory plugins."""
    built = build_api(make_conf(tmp_path))
    yield built
    built.app.close()


def error_of(response: webtest.TestResponse) -> dict[str, Any]:
    """The NeutronError of an error response, checking its shape."""
    assert response.content_type == "application/json"
    error: dict[str, Any] = response.json["NeutronError"]
    assert set(error) == {"type", "message", "detail"}
    return error
