"""The bad-input findings of the 2026-12-01 adversarial test, each replayed as the attack it was.

Every case asserts the error class, the attribute it names, and that nothing was stored: an admin listing
of every resource is the same before and after. Request parsing and the rules' boundary checks (ids,
filters, admin-only values, a requested id) are shared by every bundled plugin, so each case runs over the
memory plugin and the sql plugin on SQLite (``world``); the ones that crashed a database driver or reach
the storage (NUL, lone surrogates, non-finite numbers, over-long project ids, ids, filters, requested ids)
also on PostgreSQL and MariaDB (``any_world``, skipped where the server does not answer).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from naas import AutoAllocator, exceptions
from naas.context import RequestContext, admin_context
from naas.plugins.core import CorePlugin
from naas.plugins.l3 import L3Plugin
from naas.requests import FIXED_IPS_LIST_LIMIT, MAX_ALLOCATION_POOLS, MAX_FIXED_IPS_PER_PORT, MAX_SUBNETPOOL_PREFIXES
from naas.resources import MAX_FILTER_VALUES
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin
from naas_plugins.sql.testing import BackendDatabase

ADMIN = admin_context()
TENANT = RequestContext("tenant")
UNSAFE_TEXTS = {
    "NUL": "a\x00b",
    "lone surrogate": "\ud800",
    "terminal escape": "\x1b[2J\x1b[31mowned",
    "newline": "a\r\nb",
    "bidi override": "abc\u202edcb",
}


class World:
    """Plugins with what an attacker finds in a deployment: an external network, a tenant network and subnet."""

    def __init__(self, core: CorePlugin, l3: L3Plugin) -> None:
        self.core, self.l3 = core, l3
        self.public = core.create_network(ADMIN, {"name": "public", "router:external": True, "is_default": True})
        core.create_subnet(ADMIN, {"network_id": self.public.id, "cidr": "203.0.113.0/24"})
        self.network = core.create_network(TENANT, {"name": "mine"})
        self.subnet = core.create_subnet(TENANT, {"network_id": self.network.id, "cidr": "10.0.0.0/16"})
        self.pool = core.create_subnetpool(TENANT, {"prefixes": ["172.16.0.0/16"], "default_prefixlen": 24})

    def stored(self) -> dict[str, Any]:
        """Everything stored, as an admin lists it."""
        core, l3 = self.core, self.l3
        return {
            "networks": [item.to_dict() for item in core.get_networks(ADMIN)],
            "subnets": [item.to_dict() for item in core.get_subnets(ADMIN)],
            "subnetpools": [item.to_dict() for item in core.get_subnetpools(ADMIN)],
            "ports": [item.to_dict() for item in core.get_ports(ADMIN)],
            "routers": [item.to_dict() for item in l3.get_routers(ADMIN)],
            "floatingips": [item.to_dict() for item in l3.get_floatingips(ADMIN)],
            "free": core.count_free_addresses(ADMIN, self.subnet.id),
        }

    def refused(
        self, error_type: type[exceptions.NaasError], call: Callable[..., Any], *args: Any
    ) -> exceptions.NaasError:
        """Run the attack; it must raise ``error_type`` and leave everything stored as it was."""
        before = self.stored()
        with pytest.raises(error_type) as caught:
            call(*args)
        assert self.stored() == before
        return caught.value

    def bad_request(self, resource: str, attribute: str, call: Callable[..., Any], *args: Any) -> str:
        """The attack is a BadRequest naming ``resource`` and ``attribute``, and stores nothing; its reason."""
        error = self.refused(exceptions.BadRequest, call, *args)
        assert isinstance(error, exceptions.BadRequest)
        assert (error.resource, error.attribute) == (resource, attribute)
        # The message may be printed: it holds no raw control character.
        assert not any(ord(character) < 0x20 or 0x7F <= ord(character) < 0xA0 for character in str(error))
        return error.reason


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, BackendDatabase]]:
    """One migrated database per server backend, started when a test first asks for it."""
    started: dict[str, BackendDatabase] = {}
    yield started
    for database in started.values():
        database.stop()


def _make_world(backend: str, tmp_path: Path, servers: dict[str, BackendDatabase]) -> Iterator[World]:
    if backend == "memory":
        memory_core = MemoryCorePlugin()
        yield World(memory_core, MemoryL3Plugin(memory_core))
        return
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'naas.sqlite'}"
    else:
        if backend not in servers:
            database = BackendDatabase(backend)
            database.start()  # skips (or fails, if required) when the server does not answer
            servers[backend] = database
        url = servers[backend].fresh_url()
    core = SqlCorePlugin(url)
    try:
        yield World(core, SqlL3Plugin(core))
    finally:
        core.close()


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path, servers: dict[str, BackendDatabase]) -> Iterator[World]:
    """Each plugin that shares the path under test (request parsing)."""
    yield from _make_world(request.param, tmp_path, servers)


@pytest.fixture(params=["memory", "sqlite", "postgresql", "mysql"])
def any_world(request: pytest.FixtureRequest, tmp_path: Path, servers: dict[str, BackendDatabase]) -> Iterator[World]:
    """As ``world``, and the sql plugin on the servers whose drivers the input used to crash."""
    yield from _make_world(request.param, tmp_path, servers)


# Finding 4: no limit on fixed_ips per port


def test_finding_4_a_port_asking_for_more_fixed_ips_than_the_limit_is_refused(any_world: World) -> None:
    entries = [{"subnet_id": any_world.subnet.id}] * 50_000

    reason = any_world.bad_request(
        "port",
        "fixed_ips",
        any_world.core.create_port,
        TENANT,
        {"network_id": any_world.network.id, "fixed_ips": entries},
    )

    assert str(FIXED_IPS_LIST_LIMIT) in reason


def test_finding_4_more_than_max_fixed_ips_per_port_is_refused_before_any_address_is_taken(any_world: World) -> None:
    entries = [{"subnet_id": any_world.subnet.id}] * (MAX_FIXED_IPS_PER_PORT + 1)

    reason = any_world.bad_request(
        "port",
        "fixed_ips",
        any_world.core.create_port,
        TENANT,
        {"network_id": any_world.network.id, "fixed_ips": entries},
    )

    assert f"the limit is {MAX_FIXED_IPS_PER_PORT} a port (max_fixed_ips_per_port)" in reason


def test_finding_4_the_limit_itself_is_allowed(world: World) -> None:
    entries = [{"subnet_id": world.subnet.id}] * MAX_FIXED_IPS_PER_PORT

    port = world.core.create_port(TENANT, {"network_id": world.network.id, "fixed_ips": entries})

    assert len(port.fixed_ips) == MAX_FIXED_IPS_PER_PORT


def test_finding_4_a_port_update_is_bounded_too(world: World) -> None:
    port = world.core.create_port(TENANT, {"network_id": world.network.id})
    entries = [{"subnet_id": world.subnet.id}] * (MAX_FIXED_IPS_PER_PORT + 1)

    world.bad_request("port", "fixed_ips", world.core.update_port, TENANT, port.id, {"fixed_ips": entries})


def test_finding_12_a_pool_with_more_prefixes_than_the_limit_is_refused(any_world: World) -> None:
    prefixes = [f"10.{i // 256}.{i % 256}.0/24" for i in range(0, 2 * (MAX_SUBNETPOOL_PREFIXES + 1), 2)]

    any_world.bad_request("subnetpool", "prefixes", any_world.core.create_subnetpool, TENANT, {"prefixes": prefixes})


def test_finding_12_a_subnet_with_more_allocation_pools_than_the_limit_is_refused(any_world: World) -> None:
    pools = [{"start": f"10.1.{i}.1", "end": f"10.1.{i}.2"} for i in range(MAX_ALLOCATION_POOLS + 1)]
    body = {"network_id": any_world.network.id, "cidr": "10.1.0.0/16", "allocation_pools": pools}

    any_world.bad_request("subnet", "allocation_pools", any_world.core.create_subnet, TENANT, body)


def test_finding_12_an_update_with_too_many_allocation_pools_is_refused(world: World) -> None:
    pools = [{"start": f"10.0.{i}.1", "end": f"10.0.{i}.2"} for i in range(MAX_ALLOCATION_POOLS + 1)]

    world.bad_request(
        "subnet", "allocation_pools", world.core.update_subnet, TENANT, world.subnet.id, {"allocation_pools": pools}
    )


# Finding 9: non-finite numbers


@pytest.mark.parametrize("number", ["1e400", "-1e400", "Infinity", "NaN"])
@pytest.mark.parametrize(
    ("call", "attribute"),
    [("network", "mtu"), ("subnetpool", "default_prefixlen"), ("subnetpool", "default_quota")],
)
def test_finding_9_a_non_finite_number_is_a_bad_request_on_its_attribute(
    any_world: World, number: str, call: str, attribute: str
) -> None:
    body = json.loads(f'{{"{attribute}": {number}}}')
    if call == "network":
        any_world.bad_request("network", attribute, any_world.core.create_network, TENANT, body)
    else:
        body["prefixes"] = ["192.168.0.0/16"]
        any_world.bad_request("subnetpool", attribute, any_world.core.create_subnetpool, TENANT, body)


@pytest.mark.parametrize("number", ["1e400", "Infinity", "1e30"])
def test_finding_9_a_non_finite_prefixlen_on_a_subnet_is_refused(world: World, number: str) -> None:
    body = json.loads(f'{{"prefixlen": {number}}}')
    body.update({"network_id": world.network.id, "subnetpool_id": world.pool.id})

    world.bad_request("subnet", "prefixlen", world.core.create_subnet, TENANT, body)


def test_finding_9_a_boolean_where_an_integer_is_expected_is_refused(world: World) -> None:
    world.bad_request("network", "mtu", world.core.create_network, TENANT, {"mtu": True})


# Findings 10 and 21: NUL, lone surrogates, control characters, terminal escapes


@pytest.mark.parametrize("text", UNSAFE_TEXTS.values(), ids=UNSAFE_TEXTS.keys())
def test_finding_10_unsafe_text_in_a_name_is_refused(any_world: World, text: str) -> None:
    reason = any_world.bad_request("network", "name", any_world.core.create_network, TENANT, {"name": text})

    assert reason.startswith("holds ")


@pytest.mark.parametrize("text", UNSAFE_TEXTS.values(), ids=UNSAFE_TEXTS.keys())
def test_finding_10_unsafe_text_in_a_port_device_id_or_owner_is_refused(any_world: World, text: str) -> None:
    for attribute in ("device_id", "device_owner", "name"):
        any_world.bad_request(
            "port", attribute, any_world.core.create_port, TENANT, {"network_id": any_world.network.id, attribute: text}
        )


@pytest.mark.parametrize("text", UNSAFE_TEXTS.values(), ids=UNSAFE_TEXTS.keys())
def test_finding_10_unsafe_text_in_a_rename_is_refused(world: World, text: str) -> None:
    world.bad_request("network", "name", world.core.update_network, TENANT, world.network.id, {"name": text})
    world.bad_request("router", "name", world.l3.create_router, TENANT, {"name": text})


@pytest.mark.parametrize("text", UNSAFE_TEXTS.values(), ids=UNSAFE_TEXTS.keys())
def test_finding_12_unsafe_text_in_a_project_id_is_refused(any_world: World, text: str) -> None:
    any_world.bad_request("network", "project_id", any_world.core.create_network, ADMIN, {"project_id": text})


@pytest.mark.parametrize("project_id", ["p" * 256, ["p"], 7, ""])
def test_finding_12_an_over_long_or_non_string_project_id_is_refused(any_world: World, project_id: Any) -> None:
    any_world.bad_request("network", "project_id", any_world.core.create_network, ADMIN, {"project_id": project_id})


@pytest.mark.parametrize("project_id", ["p" * 256, "a\x00b", "\ud800"])
def test_finding_12_a_context_with_an_unusable_project_id_cannot_be_made(project_id: str) -> None:
    with pytest.raises(exceptions.BadRequest) as caught:
        RequestContext(project_id)

    assert (caught.value.resource, caught.value.attribute) == ("context", "project_id")


def test_a_context_is_admin_only_by_a_real_bool() -> None:
    with pytest.raises(exceptions.BadRequest) as caught:
        RequestContext("p", is_admin="false")  # type: ignore[arg-type]

    assert caught.value.attribute == "is_admin"


def test_an_unknown_attribute_with_an_escape_in_its_name_is_named_escaped(world: World) -> None:
    world.bad_request("network", "'\\x1b[2J'", world.core.create_network, TENANT, {"\x1b[2J": 1})


# Finding 19 (and 10): wrong types and unusable ids at the plugin boundary


@pytest.mark.parametrize("value", [[str(uuid.uuid4())], 12, None, {"id": "x"}, "x\x00", "\ud800", "i" * 256])
def test_finding_19_an_id_of_the_wrong_type_or_unusable_text_is_a_bad_request(any_world: World, value: Any) -> None:
    for resource, call in (
        ("network", any_world.core.get_network),
        ("subnet", any_world.core.get_subnet),
        ("subnetpool", any_world.core.get_subnetpool),
        ("port", any_world.core.get_port),
        ("router", any_world.l3.get_router),
        ("floatingip", any_world.l3.get_floatingip),
        ("network", any_world.core.delete_network),
        ("router", any_world.l3.delete_router),
    ):
        any_world.bad_request(resource, "id", call, TENANT, value)
    any_world.bad_request("network", "id", any_world.core.update_network, TENANT, value, {"name": "x"})


@pytest.mark.parametrize("value", ["nope", str(uuid.uuid4()), "A" * 36])
def test_an_unknown_id_is_not_found(any_world: World, value: str) -> None:
    error = any_world.refused(exceptions.NotFound, any_world.core.get_network, TENANT, value)

    assert isinstance(error, exceptions.NotFound)
    assert (error.resource, error.resource_id) == ("network", value)


def test_an_id_in_another_spelling_is_not_found(any_world: World) -> None:
    any_world.refused(exceptions.NotFound, any_world.core.get_network, TENANT, any_world.network.id.upper())


@pytest.mark.parametrize("filters", [[("name", "x")], "name=x", 7])
def test_finding_19_filters_that_are_not_a_mapping_are_a_bad_request(any_world: World, filters: Any) -> None:
    for resource, call in (("network", any_world.core.get_networks), ("router", any_world.l3.get_routers)):
        any_world.bad_request(resource, "filters", call, TENANT, filters)


@pytest.mark.parametrize(
    ("filters", "reason_start"),
    [
        ({"name": "a\x00b"}, "a value holds the control character U+0000"),
        ({"name": ["ok", "\ud800"]}, "a value holds a lone surrogate U+D800"),
        ({"name": "n" * 256}, "a value is 256 characters long"),
        ({"name": [["nested"]]}, "filter values are strings"),
        ({"name": 1.5}, "filter values are strings"),
        ({"mtu": "1500; drop"}, "'1500; drop' is not a 64-bit integer"),
        ({"mtu": 2**70}, "1180591620717411303424 is out of range"),
        ({"mtu": True}, "must be an integer"),
        ({"name": [str(i) for i in range(MAX_FILTER_VALUES + 1)]}, f"lists more than {MAX_FILTER_VALUES} values"),
    ],
)
def test_finding_10_malformed_filter_values_are_a_bad_request_naming_the_key(
    any_world: World, filters: dict[str, Any], reason_start: str
) -> None:
    (key,) = filters

    reason = any_world.bad_request("network", key, any_world.core.get_networks, TENANT, filters)

    assert reason.startswith(reason_start)


def test_filters_still_accept_lists_iterators_and_integers(world: World) -> None:
    assert [n.id for n in world.core.get_networks(TENANT, {"name": iter(["mine", "other"])})] == [world.network.id]
    assert [n.id for n in world.core.get_networks(TENANT, {"mtu": "1500", "name": "mine"})] == [world.network.id]


# Finding 14: special-purpose CIDRs and MAC addresses


@pytest.mark.parametrize(
    ("cidr", "named"),
    [
        ("0.0.0.0/0", "prefix length 0"),
        ("::/0", "prefix length 0"),
        ("224.0.0.0/4", "multicast"),
        ("239.1.0.0/16", "multicast"),
        ("ff00::/8", "multicast"),
        ("127.0.0.0/8", "loopback"),
        ("::1/128", "loopback"),
        ("::ffff:10.5.0.0/120", "IPv4-mapped"),
        ("255.255.255.255/32", "limited broadcast"),
        ("0.0.0.0/8", "this network"),
        ("96.0.0.0/3", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("fe80::/64", "link-local"),
    ],
)
def test_finding_14_a_special_purpose_subnet_is_refused_with_its_reason(world: World, cidr: str, named: str) -> None:
    other = world.core.create_network(TENANT, {"name": "other"})

    reason = world.bad_request(
        "subnet", "cidr", world.core.create_subnet, TENANT, {"network_id": other.id, "cidr": cidr}
    )

    assert named in reason


def test_finding_14_link_local_is_allowed_without_dhcp(world: World) -> None:
    subnet = world.core.create_subnet(
        TENANT, {"network_id": world.network.id, "cidr": "169.254.0.0/24", "enable_dhcp": False}
    )

    assert str(subnet.cidr) == "169.254.0.0/24"


def test_finding_14_dhcp_cannot_be_turned_on_for_a_link_local_subnet(any_world: World) -> None:
    subnet = any_world.core.create_subnet(
        TENANT, {"network_id": any_world.network.id, "cidr": "fe80::/64", "enable_dhcp": False}
    )

    any_world.bad_request("subnet", "enable_dhcp", any_world.core.update_subnet, TENANT, subnet.id, {"enable_dhcp": 1})


@pytest.mark.parametrize("prefix", ["::/0", "0.0.0.0/0", "127.0.0.0/16", "ff00::/12", "169.254.0.0/16"])
def test_finding_14_a_special_purpose_pool_prefix_is_refused(world: World, prefix: str) -> None:
    world.bad_request("subnetpool", "prefixes", world.core.create_subnetpool, TENANT, {"prefixes": [prefix]})


@pytest.mark.parametrize(
    ("mac", "named"),
    [
        ("00:00:00:00:00:00", "all-zero"),
        ("ff:ff:ff:ff:ff:ff", "broadcast"),
        ("FF:FF:FF:FF:FF:FF", "broadcast"),
        ("01:00:5e:00:00:01", "multicast"),
        ("33:33:00:00:00:01", "multicast"),
    ],
)
def test_finding_15_a_mac_address_no_port_can_have_is_refused(world: World, mac: str, named: str) -> None:
    reason = world.bad_request(
        "port", "mac_address", world.core.create_port, TENANT, {"network_id": world.network.id, "mac_address": mac}
    )

    assert named in reason


# Finding 15: other inputs accepted or classified oddly


def test_finding_15_a_pool_default_shorter_than_every_prefix_is_refused(world: World) -> None:
    body = {"prefixes": ["10.0.0.0/16"], "default_prefixlen": 8}

    reason = world.bad_request("subnetpool", "default_prefixlen", world.core.create_subnetpool, TENANT, body)

    assert reason == "/8 is shorter than every prefix of the pool (the largest is a /16)"


def test_finding_15_a_pool_default_that_one_prefix_can_hold_is_accepted(world: World) -> None:
    pool = world.core.create_subnetpool(
        TENANT, {"prefixes": ["10.0.0.0/16", "192.168.0.0/24"], "default_prefixlen": 16, "min_prefixlen": 16}
    )

    assert pool.default_prefixlen == 16


def test_finding_15_a_pool_default_cannot_be_updated_past_every_prefix(any_world: World) -> None:
    pool = any_world.core.create_subnetpool(TENANT, {"prefixes": ["10.9.0.0/16"], "default_prefixlen": 24})

    any_world.bad_request(
        "subnetpool", "default_prefixlen", any_world.core.update_subnetpool, TENANT, pool.id, {"default_prefixlen": 8}
    )


def test_finding_15_a_cidr_outside_the_pool_is_a_bad_request_on_cidr(any_world: World) -> None:
    other = any_world.core.create_network(TENANT, {"name": "other"})
    body = {"network_id": other.id, "subnetpool_id": any_world.pool.id, "cidr": "192.168.7.0/24"}

    reason = any_world.bad_request("subnet", "cidr", any_world.core.create_subnet, TENANT, body)

    assert reason == f"192.168.7.0/24 is outside the prefixes of subnet pool {any_world.pool.id} (172.16.0.0/16)"


def test_finding_15_a_taken_cidr_inside_the_pool_is_still_a_conflict(any_world: World) -> None:
    first = any_world.core.create_network(TENANT, {"name": "first"})
    second = any_world.core.create_network(TENANT, {"name": "second"})
    body = {"subnetpool_id": any_world.pool.id, "cidr": "172.16.3.0/24"}
    any_world.core.create_subnet(TENANT, {"network_id": first.id, **body})

    any_world.refused(exceptions.Conflict, any_world.core.create_subnet, TENANT, {"network_id": second.id, **body})


# Finding 3 (admin-only part) and finding 2 (device owners)


def test_finding_3_a_tenant_cannot_pick_its_router_gateway_address(world: World) -> None:
    gateway = {"network_id": world.public.id, "external_fixed_ips": [{"ip_address": "203.0.113.254"}]}

    error = world.refused(exceptions.NotAuthorized, world.l3.create_router, TENANT, {"external_gateway_info": gateway})

    assert "external_gateway_info.external_fixed_ips" in str(error)


def test_finding_3_a_tenant_cannot_turn_snat_off(world: World) -> None:
    gateway = {"network_id": world.public.id, "enable_snat": False}
    router = world.l3.create_router(TENANT, {"name": "r"})

    for call, args in (
        (world.l3.create_router, ({"external_gateway_info": gateway},)),
        (world.l3.update_router, (router.id, {"external_gateway_info": gateway})),
    ):
        error = world.refused(exceptions.NotAuthorized, call, TENANT, *args)
        assert "external_gateway_info.enable_snat" in str(error)


def test_finding_3_an_admin_may_set_the_gateway_attributes(world: World) -> None:
    gateway = {
        "network_id": world.public.id,
        "enable_snat": "no",
        "external_fixed_ips": [{"ip_address": "203.0.113.254"}],
    }

    router = world.l3.create_router(ADMIN, {"external_gateway_info": gateway, "project_id": "tenant"})

    assert router.external_gateway_info is not None
    assert router.external_gateway_info.enable_snat is False
    assert str(router.external_gateway_info.external_fixed_ips[0].ip_address) == "203.0.113.254"


def test_finding_3_a_tenant_cannot_pick_its_floating_ip_address(any_world: World) -> None:
    body = {"floating_network_id": any_world.public.id, "floating_ip_address": "203.0.113.1"}

    error = any_world.refused(exceptions.NotAuthorized, any_world.l3.create_floatingip, TENANT, body)

    assert "floating_ip_address" in str(error)
    chosen = {**body, "floating_ip_address": "203.0.113.7"}
    assert str(any_world.l3.create_floatingip(ADMIN, chosen).floating_ip_address) == "203.0.113.7"
    # The external subnet's gateway (the upstream router) is no floating IP's, not even an admin's.
    any_world.bad_request("floatingip", "floating_ip_address", any_world.l3.create_floatingip, ADMIN, body)


@pytest.mark.parametrize("owner", ["network:router_interface", "network:router_gateway", "network:dhcp"])
def test_finding_2_a_tenant_cannot_give_its_port_a_network_device_owner(any_world: World, owner: str) -> None:
    port = any_world.core.create_port(TENANT, {"network_id": any_world.network.id})

    any_world.refused(
        exceptions.NotAuthorized,
        any_world.core.create_port,
        TENANT,
        {"network_id": any_world.network.id, "device_owner": owner, "device_id": str(uuid.uuid4())},
    )
    any_world.refused(exceptions.NotAuthorized, any_world.core.update_port, TENANT, port.id, {"device_owner": owner})


def test_finding_2_naas_itself_still_makes_router_ports_for_a_tenant(any_world: World) -> None:
    router = any_world.l3.create_router(TENANT, {"external_gateway_info": {"network_id": any_world.public.id}})

    any_world.l3.add_router_interface(TENANT, router.id, {"subnet_id": any_world.subnet.id})

    owners = sorted(port.device_owner for port in any_world.core.get_ports(ADMIN, {"device_id": router.id}))
    assert owners == ["network:router_gateway", "network:router_interface"]


def test_finding_2_an_admin_may_set_a_network_device_owner(any_world: World) -> None:
    port = any_world.core.create_port(
        ADMIN, {"network_id": any_world.network.id, "device_owner": "network:dhcp", "project_id": "tenant"}
    )

    assert port.device_owner == "network:dhcp"


# Issue 10: booleans as Neutron takes them


@pytest.mark.parametrize(("spelling", "value"), [("yes", True), ("1", True), (1, True), ("off", False), (0, False)])
def test_booleans_accept_neutrons_spellings(world: World, spelling: Any, value: bool) -> None:
    network = world.core.create_network(TENANT, {"name": "b", "admin_state_up": spelling})

    assert network.admin_state_up is value


@pytest.mark.parametrize("spelling", ["maybe", 2, 1.0, None, ["true"]])
def test_booleans_refuse_anything_else(world: World, spelling: Any) -> None:
    world.bad_request("network", "admin_state_up", world.core.create_network, TENANT, {"admin_state_up": spelling})


# A caller-chosen id (for get-me-a-network to record before it creates)


def test_a_network_and_a_router_get_the_id_asked_for(any_world: World) -> None:
    network_id, router_id = str(uuid.uuid4()), str(uuid.uuid4())

    network = any_world.core.create_network(TENANT, {"id": network_id, "name": "chosen"})
    router = any_world.l3.create_router(
        TENANT, {"id": router_id, "external_gateway_info": {"network_id": any_world.public.id}}
    )

    assert (network.id, router.id) == (network_id, router_id)
    assert any_world.core.get_network(TENANT, network_id) == network
    assert any_world.l3.get_router(TENANT, router_id) == router


def test_an_id_already_in_use_is_a_conflict_naming_it(any_world: World) -> None:
    router = any_world.l3.create_router(ADMIN, {"name": "theirs", "project_id": "other"})

    network_error = any_world.refused(
        exceptions.Conflict, any_world.core.create_network, TENANT, {"id": any_world.public.id}
    )
    router_error = any_world.refused(
        exceptions.Conflict,
        any_world.l3.create_router,
        TENANT,
        {"id": router.id, "external_gateway_info": {"network_id": any_world.public.id}},
    )

    assert isinstance(network_error, exceptions.Conflict) and isinstance(router_error, exceptions.Conflict)
    assert (network_error.resource, network_error.resource_id) == ("network", any_world.public.id)
    assert (router_error.resource, router_error.resource_id) == ("router", router.id)


@pytest.mark.parametrize("value", ["not-a-uuid", 7, "a\x00"])
def test_a_malformed_requested_id_is_a_bad_request(world: World, value: Any) -> None:
    world.bad_request("network", "id", world.core.create_network, TENANT, {"id": value})
    world.bad_request("router", "id", world.l3.create_router, TENANT, {"id": value})


# Findings 12, 15 and 19 at get-me-a-network's boundary


@pytest.mark.parametrize(
    ("project_id", "fields", "attribute"),
    [
        ("p" * 256, None, "project_id"),
        (["x"], None, "project_id"),
        ("a\x00b", None, "project_id"),
        (7, None, "project_id"),
        ("tenant", "dry-run", "fields"),
        ("tenant", [["dry-run"]], "fields"),
    ],
)
def test_finding_12_get_me_a_network_refuses_a_malformed_project_or_fields(
    any_world: World, project_id: Any, fields: Any, attribute: str
) -> None:
    allocator = AutoAllocator(any_world.core, any_world.l3)

    any_world.bad_request("auto_allocate", attribute, allocator.get_auto_allocated_topology, ADMIN, project_id, fields)
    any_world.bad_request("auto_allocate", "project_id", allocator.delete_auto_allocated_topology, ADMIN, ["x"])
