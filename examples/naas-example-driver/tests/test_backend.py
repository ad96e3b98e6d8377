"""The MTU-limited backend: naas's backend conformance suite, and its limit refusing changes from a config file."""

from __future__ import annotations

import dataclasses
import textwrap
import unittest
from collections.abc import Sequence
from pathlib import Path

import pytest
from naas_example_driver import MtuLimitedBackend
from oslo_config import cfg

import naas
from naas import admin_context
from naas.backends import Change, NetworkBackend, NetworkState
from naas.exceptions import BadRequest
from naas.testing.backends import BackendConformance, change_for, sample_topology

ADMIN = admin_context()


class MtuLimitedBackendConformance(BackendConformance, unittest.TestCase):
    def make_backend(self) -> NetworkBackend:
        return MtuLimitedBackend(max_mtu=1500)

    def refused_changes(self, backend: NetworkBackend) -> Sequence[Change]:
        creates = sample_topology(type(backend).CAPABILITIES).creates
        network = next(change.after for change in creates if isinstance(change.after, NetworkState))
        jumbo = dataclasses.replace(network, network=dataclasses.replace(network.network, mtu=1501))
        return [change_for(None, jumbo), change_for(network, jumbo)]


def test_selected_in_the_config_file_it_refuses_a_network_above_its_mtu(tmp_path: Path) -> None:
    path = tmp_path / "naas.conf"
    path.write_text(
        textwrap.dedent(f"""
        [DEFAULT]
        core_plugin = example
        l3_plugin = example
        backends = example

        [example]
        state_file = {tmp_path / "state.json"}
        backend_max_mtu = 1500
        """)
    )
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(path)], default_config_files=[], default_config_dirs=[], use_env=False)
    with naas.load_plugins(conf) as plugins:
        backend = plugins.backends.backends["example"]
        assert isinstance(backend, MtuLimitedBackend) and backend.max_mtu == 1500

        with pytest.raises(BadRequest) as refused:
            plugins.core.create_network(ADMIN, {"name": "jumbo", "mtu": 9000})
        network = plugins.core.create_network(ADMIN, {"name": "standard", "mtu": 1500})

        assert "mtu" in str(refused.value) and "1500" in str(refused.value)
        assert [n.name for n in plugins.core.get_networks(ADMIN)] == ["standard"]
        assert network.status == "ACTIVE"
        assert {resource_id for _, resource_id in backend.dataplane} == {network.id}
