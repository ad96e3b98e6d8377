"""A builder process killed in the middle of get-me-a-network: the next request, in another process, finds
its record in the database, removes what it had built and builds afresh (SPEC, "Crashes")."""

from __future__ import annotations

import multiprocessing
import os

from naas import RequestContext, admin_context
from naas.auto_allocate import AutoAllocator, BuildStep, TopologyStatus
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin

from .base import BackendTestCase

STEPS = (BuildStep.CLAIMED, BuildStep.NETWORK_CREATED, BuildStep.SUBNET_CREATED, BuildStep.ROUTER_CREATED)


def _die_at(url: str, step: str) -> None:
    """Run in a child process: build project-a's topology and exit abruptly when ``step`` is reached."""

    def hook(reached: str) -> None:
        if reached == step:
            os._exit(17)  # no clean-up, no commit of anything still open: a crash

    core = SqlCorePlugin(url, auto_migrate=False)
    allocator = AutoAllocator(core, SqlL3Plugin(core), lease_seconds=60, build_hook=hook)
    allocator.get_auto_allocated_topology(RequestContext("project-a"), None)


class TestCrashRecoverySQLite(BackendTestCase):
    def test_a_build_killed_at_any_step_is_cleaned_up_by_the_next_request(self) -> None:
        url = self.fresh_url()
        core, l3 = self.make_sql_plugins(url)
        admin = admin_context()
        public = core.create_network(admin, {"router:external": True, "is_default": True})
        core.create_subnet(admin, {"network_id": public.id, "cidr": "203.0.113.0/24"})
        pools = [
            core.create_subnetpool(
                admin, {"prefixes": [prefix], "default_prefixlen": length, "shared": True, "is_default": True}
            )
            for prefix, length in (("10.128.0.0/16", 26), ("fd00:128::/48", 64))
        ]
        allocator = AutoAllocator(core, l3)
        store = core.get_topology_store()
        spawn = multiprocessing.get_context("spawn")
        for step in STEPS:
            with self.subTest(step=step):
                child = spawn.Process(target=_die_at, args=(url, step))
                child.start()
                child.join(60)
                self.assertEqual(17, child.exitcode)
                record = store.get("project-a")
                assert record is not None
                self.assertEqual(TopologyStatus.BUILDING, record.status)
                # Its owner's process is gone: abandoned now, though its lease has a minute to run.
                self.assertTrue(record.is_abandoned())

                network_id = allocator.get_auto_allocated_topology(RequestContext("project-a"), None)["id"]

                owned = {"tenant_id": "project-a"}
                self.assertEqual([network_id], [n.id for n in core.get_networks(admin, owned)])
                self.assertEqual(1, len(l3.get_routers(admin, owned)))
                for pool in pools:
                    self.assertEqual(1, len(core.get_subnets(admin, {"subnetpool_id": pool.id})), step)
                allocator.delete_auto_allocated_topology(RequestContext("project-a"), None)
                self.assertEqual([], core.get_networks(admin, owned))


class TestCrashRecoveryPostgreSQL(TestCrashRecoverySQLite):
    backend = "postgresql"


class TestCrashRecoveryMySQL(TestCrashRecoverySQLite):
    backend = "mysql"
