"""Finding 16: an InUse error names only what the caller may see; other projects' users are counted, not named."""

from __future__ import annotations

import testtools

from naas import RequestContext, admin_context
from naas.exceptions import InUse
from naas.rules import CoreRules
from naas_plugins.memory import MemoryCorePlugin
from naas_plugins.sql import SqlCorePlugin
from tests.plugins.sql.base import BackendFixture


class InUseNamesTests:
    def make_core(self) -> CoreRules:
        raise NotImplementedError

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.core = self.make_core()
        self.owner, self.other = RequestContext("owner"), RequestContext("other")
        self.network = self.core.create_network(admin_context(), {"project_id": "owner", "shared": True})
        self.subnet = self.core.create_subnet(self.owner, {"network_id": self.network.id, "cidr": "10.0.0.0/24"})
        self.own_port = self.core.create_port(self.owner, {"network_id": self.network.id})
        self.foreign_port = self.core.create_port(self.other, {"network_id": self.network.id})

    def test_deleting_a_network_names_the_callers_ports_and_counts_the_others(self) -> None:
        error = self.assertRaises(InUse, self.core.delete_network, self.owner, self.network.id)  # type: ignore[attr-defined]
        self.assertEqual((self.own_port.id, "1 of other projects"), error.users)  # type: ignore[attr-defined]
        self.assertNotIn(self.foreign_port.id, str(error))  # type: ignore[attr-defined]

    def test_unsharing_names_no_other_projects_port(self) -> None:
        error = self.assertRaises(  # type: ignore[attr-defined]
            InUse, self.core.update_network, admin_context(), self.network.id, {"shared": False}
        )
        # An admin may see every project's ports, so it is told which.
        self.assertEqual((self.foreign_port.id,), error.users)  # type: ignore[attr-defined]

    def test_deleting_a_subnet_counts_other_projects_addresses(self) -> None:
        error = self.assertRaises(InUse, self.core.delete_subnet, self.owner, self.subnet.id)  # type: ignore[attr-defined]
        self.assertNotIn(self.foreign_port.id, str(error))  # type: ignore[attr-defined]
        self.assertIn("1 of other projects", error.users)  # type: ignore[attr-defined]


class TestInUseNamesMemory(InUseNamesTests, testtools.TestCase):
    def make_core(self) -> CoreRules:
        return MemoryCorePlugin()


class TestInUseNamesSqlite(BackendFixture, InUseNamesTests, testtools.TestCase):
    def make_core(self) -> CoreRules:
        core = SqlCorePlugin(self.fresh_url(), auto_migrate=False)
        self.addCleanup(core.close)
        return core
