"""naas.bootstrap: the defaults get-me-a-network needs, created once, bounded so no project can drain them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from naas.auto_allocate import AutoAllocator
from naas.bootstrap import BootstrapSettings, bootstrap
from naas.context import RequestContext, admin_context
from naas.exceptions import BadRequest, SubnetPoolQuotaExceeded
from naas.loading import Plugins
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin


@pytest.fixture
def plugins() -> Iterator[Plugins]:
    core = MemoryCorePlugin()
    yield Plugins(core=core, l3=MemoryL3Plugin(core), events=core.events)


def test_creates_the_defaults_and_says_what_it_created(plugins: Plugins) -> None:
    result = bootstrap(plugins.core, admin_context(), BootstrapSettings())

    assert result.external_network.router_external and result.external_network.is_default
    assert [str(subnet.cidr) for subnet in result.external_subnets] == ["203.0.113.0/24"]
    assert [(pool.ip_version, [str(p) for p in pool.prefixes]) for pool in result.subnet_pools] == [
        (4, ["10.0.0.0/8"]),
        (6, ["fd00::/48"]),
    ]
    assert result.created == {resource.id for resource in result.resources}  # type: ignore[attr-defined]


def test_a_second_run_finds_everything_and_creates_nothing(plugins: Plugins) -> None:
    first = bootstrap(plugins.core, admin_context(), BootstrapSettings())

    second = bootstrap(plugins.core, admin_context(), BootstrapSettings(external_network_name="other"))

    assert second.resources == first.resources
    assert second.created == frozenset()
    assert len(plugins.core.get_networks(admin_context())) == 1


def test_the_default_pools_carry_bounds_and_a_quota(plugins: Plugins) -> None:
    result = bootstrap(plugins.core, admin_context(), BootstrapSettings())

    assert [(p.default_prefixlen, p.min_prefixlen, p.max_prefixlen, p.default_quota) for p in result.subnet_pools] == [
        (26, 22, 29, 2048),
        (64, 60, 64, 16),
    ]


def _subnet_from_default_pool(plugins: Plugins, project: RequestContext, prefixlen: int) -> None:
    network = plugins.core.create_network(project, {"name": f"grab-{prefixlen}"})
    plugins.core.create_subnet(
        project,
        {"network_id": network.id, "use_default_subnetpool": True, "ip_version": 4, "prefixlen": prefixlen},
    )


def test_one_project_cannot_drain_the_default_pool(plugins: Plugins) -> None:
    # Finding 5: with Neutron's defaults one request took the whole 10.0.0.0/8.
    bootstrap(plugins.core, admin_context(), BootstrapSettings())
    greedy = RequestContext("greedy")

    with pytest.raises(BadRequest) as too_large:
        _subnet_from_default_pool(plugins, greedy, 8)
    for _ in range(2):
        _subnet_from_default_pool(plugins, greedy, 22)  # two /22s: its whole quota of 2048 addresses
    with pytest.raises(SubnetPoolQuotaExceeded):
        _subnet_from_default_pool(plugins, greedy, 29)

    assert too_large.value.attribute == "prefixlen"
    held = [str(s.cidr) for s in plugins.core.get_subnets(admin_context(), {"project_id": "greedy"})]
    assert held == ["10.0.0.0/22", "10.0.4.0/22"]
    topology = AutoAllocator(plugins.core, plugins.l3).get_auto_allocated_topology(RequestContext("anyone"), None)
    assert plugins.core.get_network(admin_context(), topology["id"]).project_id == "anyone"


def test_bounds_and_quota_widen_to_admit_the_per_project_subnet(plugins: Plugins) -> None:
    settings = BootstrapSettings(v4_prefixlen=20, v4_min_prefixlen=22, v4_quota=1024, ipv6=False)

    (pool,) = bootstrap(plugins.core, admin_context(), settings).subnet_pools

    assert (pool.default_prefixlen, pool.min_prefixlen, pool.default_quota) == (20, 20, 4096)


def test_a_quota_of_zero_means_none(plugins: Plugins) -> None:
    (pool,) = bootstrap(plugins.core, admin_context(), BootstrapSettings(v4_quota=0, ipv6=False)).subnet_pools

    assert pool.default_quota is None


@pytest.mark.parametrize(
    ("settings", "option", "reason"),
    [
        (BootstrapSettings(v4_pool_prefix="fd00::/48"), "v4_pool_prefix", "fd00::/48 is not an IPv4 prefix"),
        (
            BootstrapSettings(v6_pool_prefix="bogus"),
            "v6_pool_prefix",
            "'bogus' is not a CIDR (expected address/prefixlen)",
        ),
        (BootstrapSettings(v4_prefixlen=40), "v4_prefixlen", None),
        (BootstrapSettings(external_cidr="203.0.113.1/24"), "external_cidr", None),
    ],
)
def test_a_bad_setting_names_its_option_and_creates_nothing(
    plugins: Plugins, settings: BootstrapSettings, option: str, reason: str | None
) -> None:
    with pytest.raises(BadRequest) as refused:
        bootstrap(plugins.core, admin_context(), settings)

    assert (refused.value.resource, refused.value.attribute) == ("bootstrap", option)
    if reason is not None:
        assert refused.value.reason == reason
    assert plugins.core.get_networks(admin_context()) == []
    assert plugins.core.get_subnetpools(admin_context()) == []
