"""The backend conformance suite naas ships, run on the linux backend (as root)."""

from __future__ import annotations

import shutil
import tempfile
import unittest
from collections.abc import Sequence

from naas.backends import Change, DataplaneState, FloatingIPState, NetworkBackend
from naas.testing.backends import BackendConformance, change_for, sample_topology
from naas_plugins.linux import LinuxBackend
from naas_plugins.linux.testing import require_linux, unique_prefix
from tests.linux.helpers import assert_nothing_left


class TestLinuxBackendConformance(BackendConformance, unittest.TestCase):
    def setUp(self) -> None:
        require_linux()
        self.state_dir = tempfile.mkdtemp(prefix="naas-linux-")
        self.addCleanup(shutil.rmtree, self.state_dir, ignore_errors=True)

    def make_backend(self) -> LinuxBackend:
        backend = LinuxBackend(prefix=unique_prefix("c"), state_dir=self.state_dir)
        # Last in, first out: this runs after the suite's close(); it must leave nothing behind.
        self.addCleanup(assert_nothing_left, backend)
        self.addCleanup(backend.sync, DataplaneState())
        return backend

    def refused_changes(self, backend: NetworkBackend) -> Sequence[Change]:
        topology = sample_topology(type(backend).CAPABILITIES)
        fip = topology.state.floatingips[0].floatingip
        import dataclasses

        import netaddr

        v6 = dataclasses.replace(fip, floating_ip_address=netaddr.IPAddress("2001:db8:ffff::50"))
        return [change_for(None, FloatingIPState(v6))]
