"""``[DEFAULT] max_fixed_ips_per_port``: the plugins an operator configures apply it (finding 4)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from oslo_config import cfg

import naas
from naas import RequestContext, exceptions
from naas.requests import FIXED_IPS_LIST_LIMIT, MAX_FIXED_IPS_PER_PORT
from naas.rules import CoreRules

ConfigFromFile = Callable[[str], cfg.ConfigOpts]  # the conftest fixture config_from_file
TENANT = RequestContext("tenant")


@pytest.fixture(params=["memory", "sql"])
def configure(
    request: pytest.FixtureRequest, config_from_file: ConfigFromFile, tmp_path: Path
) -> Iterator[Callable[[str], naas.Plugins]]:
    """Plugins loaded as an operator's file names them, with ``extra`` lines in ``[DEFAULT]``."""
    loaded: list[naas.Plugins] = []

    def load(extra: str) -> naas.Plugins:
        conf = config_from_file(f"""
            [DEFAULT]
            core_plugin = {request.param}
            l3_plugin = {request.param}
            state_path = {tmp_path}
            {extra}
        """)
        plugins = naas.load_plugins(conf)
        loaded.append(plugins)
        return plugins

    yield load
    for plugins in loaded:
        plugins.close()


def _ask(plugins: naas.Plugins, count: int) -> naas.Port:
    network = plugins.core.create_network(TENANT, {"name": "n"})
    subnet = plugins.core.create_subnet(TENANT, {"network_id": network.id, "cidr": "10.0.0.0/24"})
    return plugins.core.create_port(TENANT, {"network_id": network.id, "fixed_ips": [{"subnet_id": subnet.id}] * count})


def test_the_default_is_neutrons(configure: Callable[[str], naas.Plugins]) -> None:
    plugins = configure("")

    assert isinstance(plugins.core, CoreRules)
    assert plugins.core.max_fixed_ips_per_port == MAX_FIXED_IPS_PER_PORT
    assert len(_ask(plugins, MAX_FIXED_IPS_PER_PORT).fixed_ips) == MAX_FIXED_IPS_PER_PORT


def test_a_lower_limit_refuses_a_port_and_a_router_gateway_past_it(configure: Callable[[str], naas.Plugins]) -> None:
    plugins = configure("max_fixed_ips_per_port = 2")
    admin = naas.admin_context()

    with pytest.raises(exceptions.BadRequest) as caught:
        _ask(plugins, 3)
    assert caught.value.attribute == "fixed_ips"
    assert "the limit is 2 a port" in caught.value.reason
    public = plugins.core.create_network(admin, {"router:external": True})
    subnet = plugins.core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24"})
    gateway = {"network_id": public.id, "external_fixed_ips": [{"subnet_id": subnet.id}] * 3}
    with pytest.raises(exceptions.BadRequest) as caught:
        plugins.l3.create_router(admin, {"external_gateway_info": gateway})
    assert caught.value.attribute == "external_gateway_info"
    assert "max_fixed_ips_per_port" in caught.value.reason
    assert plugins.core.get_ports(admin) == []
    assert plugins.l3.get_routers(admin) == []


def test_a_higher_limit_allows_more(configure: Callable[[str], naas.Plugins]) -> None:
    plugins = configure("max_fixed_ips_per_port = 8")

    assert len(_ask(plugins, 8).fixed_ips) == 8


def test_the_limit_cannot_exceed_what_a_request_may_list(configure: Callable[[str], naas.Plugins]) -> None:
    with pytest.raises(exceptions.PluginLoadError) as caught:
        configure(f"max_fixed_ips_per_port = {FIXED_IPS_LIST_LIMIT + 1}")

    assert "max_fixed_ips_per_port" in str(caught.value)
    assert f"less than or equal to {FIXED_IPS_LIST_LIMIT}" in str(caught.value)
