"""What needs no root: names, options, precommit, the test kit's skip-or-fail rule."""

from __future__ import annotations

import unittest
import uuid
from pathlib import Path

import netaddr
import pytest
from oslo_config import cfg

from naas.backends import FloatingIPState
from naas.exceptions import BadRequest
from naas.testing.backends import change_for, forbid_io, sample_topology
from naas_plugins.linux import LinuxBackend, opts, testing
from naas_plugins.linux._names import IFNAME_MAX, Names, alias, parse_alias


def test_every_interface_name_fits_the_kernel_limit_and_differs_per_id() -> None:
    names = Names("naas-")
    ids = [str(uuid.uuid4()) for _ in range(200)] + [f"00000000-0000-4000-8000-{n:012d}" for n in range(200)]
    makers = [
        names.bridge,
        names.port_switch_end,
        names.port_instance_end,
        names.interface_switch_end,
        names.gateway_switch_end,
        names.dhcp_switch_end,
        names.router_interface,
        names.router_gateway,
        names.dhcp_interface,
    ]
    for make in makers:
        made = {make(resource_id) for resource_id in ids}
        assert len(made) == len(ids), f"{make.__name__} gives two ids one name"
        assert max(len(name) for name in made) <= IFNAME_MAX
    every = [make(ids[0]) for make in makers]
    assert len(set(every)) == len(every), "two kinds of interface share a name"


def test_namespaces_and_tables_carry_the_prefix() -> None:
    names = Names("lab7-")
    router_id = str(uuid.uuid4())
    assert names.switch_namespace == "lab7-switch"
    assert names.router_namespace(router_id) == f"lab7-r-{router_id}"
    assert names.dhcp_namespace(router_id).startswith("lab7-d-")
    assert names.nft_table == "lab7_nat"


def test_aliases_name_their_resource() -> None:
    assert parse_alias(alias("port", "abc")) == ("port", "abc")
    assert parse_alias("someone else's") is None
    assert parse_alias(None) is None


@pytest.mark.parametrize("prefix", ["", "naas", "Naas-", "a-b-", "1abc-", "abcdefghijklm-", "naas_"])
def test_a_prefix_that_could_clash_or_break_names_is_refused(prefix: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="prefix"):
        LinuxBackend(prefix=prefix, state_dir=str(tmp_path))


def test_from_config_reads_the_linux_options(tmp_path: Path) -> None:
    conf = cfg.ConfigOpts()
    config = tmp_path / "naas.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[linux]\nprefix = lab-\ndnsmasq = /opt/dnsmasq\n")
    conf(["--config-file", str(config)], default_config_files=[], default_config_dirs=[], use_env=False)
    conf.register_opts([cfg.StrOpt("state_path")])
    backend = LinuxBackend.from_config(conf)
    assert backend.names.prefix == "lab-"
    assert backend.state_dir == tmp_path / "linux" / "lab"
    assert backend.dhcp.dnsmasq == "/opt/dnsmasq"
    assert [group for group, _ in opts.list_opts()] == ["linux"]


def test_a_prefix_option_that_could_clash_is_refused_when_read(tmp_path: Path) -> None:
    conf = cfg.ConfigOpts()
    config = tmp_path / "naas.conf"
    config.write_text("[linux]\nprefix = two-dashes-\n")
    conf(["--config-file", str(config)], default_config_files=[], default_config_dirs=[], use_env=False)
    with pytest.raises(ValueError, match="prefix"):
        LinuxBackend.from_config(conf)


def test_precommit_refuses_an_ipv6_floating_ip_without_io(tmp_path: Path) -> None:
    backend = LinuxBackend(state_dir=str(tmp_path))
    topology = sample_topology(LinuxBackend.CAPABILITIES)
    fip = topology.state.floatingips[0].floatingip
    v6 = FloatingIPState(
        fip.__class__(**{**fip.__dict__, "floating_ip_address": netaddr.IPAddress("2001:db8:ffff::50")})
    )
    with forbid_io(), pytest.raises(BadRequest) as refused:
        backend.precommit(change_for(None, v6))
    assert refused.value.attribute == "floating_ip_address"  # type: ignore[attr-defined]
    with forbid_io():
        for change in topology.creates:
            backend.precommit(change)


def test_the_test_kit_skips_or_fails_as_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(testing, "linux_problem", lambda *programs: "no namespaces here")
    monkeypatch.setenv("NAAS_TEST_REQUIRE_BACKENDS", "postgresql")
    with pytest.raises(unittest.SkipTest, match="no namespaces here"):
        testing.require_linux()
    monkeypatch.setenv("NAAS_TEST_REQUIRE_BACKENDS", "postgresql, Linux")
    with pytest.raises(testing.LinuxUnavailable, match="NAAS_TEST_REQUIRE_BACKENDS"):
        testing.require_linux()


def test_unique_prefixes_are_valid_and_distinct() -> None:
    prefixes = {testing.unique_prefix("x") for _ in range(1000)}
    assert len(prefixes) == 1000
    assert all(opts.PREFIX_PATTERN.fullmatch(prefix) for prefix in prefixes)
