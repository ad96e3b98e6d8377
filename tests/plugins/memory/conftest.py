"""Fixtures for the memory plugins' own tests: fresh plugins, contexts, and a small deployment."""

from __future__ import annotations

import dataclasses

import pytest

from naas.context import RequestContext, admin_context
from naas.resources import Network, Subnet, SubnetPool
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin


@pytest.fixture
def core() -> MemoryCorePlugin:
    return MemoryCorePlugin()


@pytest.fixture
def l3(core: MemoryCorePlugin) -> MemoryL3Plugin:
    return MemoryL3Plugin(core)


@pytest.fixture
def admin() -> RequestContext:
    return admin_context()


@pytest.fixture
def alice() -> RequestContext:
    return RequestContext(project_id="alice")


@pytest.fixture
def bob() -> RequestContext:
    return RequestContext(project_id="bob")


@dataclasses.dataclass(frozen=True)
class Deployment:
    """What an operator sets up before projects ask for networks."""

    pool_v4: SubnetPool
    pool_v6: SubnetPool
    external: Network
    external_subnet: Subnet


@pytest.fixture
def deployment(core: MemoryCorePlugin, admin: RequestContext) -> Deployment:
    pool_v4 = core.create_subnetpool(
        admin, {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 24, "shared": True, "is_default": True}
    )
    pool_v6 = core.create_subnetpool(
        admin, {"prefixes": ["fd00::/48"], "default_prefixlen": 64, "shared": True, "is_default": True}
    )
    external = core.create_network(admin, {"name": "public", "router:external": True, "is_default": True})
    external_subnet = core.create_subnet(admin, {"network_id": external.id, "cidr": "172.24.4.0/24"})
    return Deployment(pool_v4, pool_v6, external, external_subnet)
