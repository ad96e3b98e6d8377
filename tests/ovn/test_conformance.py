"""The backend conformance suite naas ships, on the ovn backend against a real northbound database."""

from __future__ import annotations

import dataclasses
import unittest
from collections.abc import Sequence

import pytest

from naas.backends import Change, NetworkBackend, PortState
from naas.testing.backends import BackendConformance, SampleTopology, change_for, sample_topology
from naas_plugins.ovn import OvnBackend
from naas_plugins.ovn.testing import ControlPlane
from tests.ovn.conftest import GATEWAY_CHASSIS, empty_northbound


class TestOvnBackendConformance(BackendConformance, unittest.TestCase):
    plane: ControlPlane

    @pytest.fixture(autouse=True)
    def _control_plane(self, control_plane: ControlPlane) -> None:
        self.plane = control_plane

    def make_backend(self) -> NetworkBackend:
        empty_northbound(self.plane)
        return OvnBackend(self.plane.nb_connection, timeout=30, gateway_chassis=[GATEWAY_CHASSIS])

    def refused_changes(self, backend: NetworkBackend) -> Sequence[Change]:
        # What an ovn backend configured without [ovn] gateway_chassis refuses: any router gateway.
        assert isinstance(backend, OvnBackend)
        backend.settings = dataclasses.replace(backend.settings, gateway_chassis=())
        (router,) = sample_topology(OvnBackend.CAPABILITIES).state.routers
        return [change_for(None, router)]

    def unrealizable_change(self, backend: NetworkBackend, topology: SampleTopology) -> Change | None:
        # The instance port, moved to a network no switch stands for: its switch port has nowhere to go.
        instance = topology.state.ports[0]
        lost = dataclasses.replace(
            instance.port, id="00000000-0000-4000-8000-0000000000ff", network_id="00000000-0000-4000-8000-0000000dead0"
        )
        return change_for(None, PortState(lost, instance.subnets))
