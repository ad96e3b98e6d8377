"""Plugins that each break one rule of the contract, and a way to run one suite test against them.

A conformance test is only worth having if a plugin that breaks its rule fails
it. ``test_mutations`` runs each of the suites' tests below against a bundled
plugin (it must pass) and against the mutant (it must fail).

The mutants break their rule through the public plugin contract, or (for
unsharing, which the rules check deep inside ``update_network``) by writing the
change through the public storage interface, as a driver that skipped the rule
would; none overrides a private method, so a rewrite of the rules cannot make a
mutant behave by accident. If one ever did, its mutation test would fail: the
suite test would pass on it.
"""

from __future__ import annotations

import dataclasses
import unittest
from collections.abc import Mapping
from typing import Any

from naas.auto_allocate import TopologyStore
from naas.capabilities import Capability
from naas.context import RequestContext
from naas.events import Event, EventRegistry, ResourceType
from naas.plugins import CorePlugin
from naas.requests import NetworkUpdate, PortCreate, SubnetPoolUpdate
from naas.resources import Network, Port, SubnetPool
from naas.rules.core import AfterCommit
from naas.storage import Transaction
from naas_plugins.memory import MemoryCorePlugin
from naas_plugins.sql import SqlCorePlugin


class PlugsIntoAnyVisibleNetwork(MemoryCorePlugin):
    """Lets a non-admin create ports on any network it can see, external ones of other projects included."""

    def create_port(self, context: RequestContext, port: PortCreate | Mapping[str, Any]) -> Port:
        return super().create_port(context.elevated(), port)


class KeepsOtherProjectsPortsWhenUnsharing(MemoryCorePlugin):
    """Lets an admin stop sharing a network while other projects' ports are on it."""

    def update_network(
        self, context: RequestContext, network_id: str, changes: NetworkUpdate | Mapping[str, Any]
    ) -> Network:
        if not (context.is_admin and isinstance(changes, Mapping) and dict(changes) == {"shared": False}):
            return super().update_network(context, network_id, changes)

        def unshare(transaction: Transaction, after: AfterCommit) -> Network:
            current = transaction.network(network_id, for_update=True)
            assert current is not None, network_id
            updated = dataclasses.replace(current, shared=False)
            transaction.update_network(updated)
            return updated

        return self.write(unshare)


class _DropsSubnetEvents:
    """An event registry stand-in that publishes everything but subnet events."""

    def __init__(self, events: EventRegistry) -> None:
        self._events = events

    def notify(self, resource: ResourceType, event: Event, *args: Any, **kwargs: Any) -> None:
        if resource is not ResourceType.SUBNET:
            self._events.notify(resource, event, *args, **kwargs)


class DeletesSubnetsSilentlyWithTheirNetwork(MemoryCorePlugin):
    """Publishes no subnet events when deleting a network removes its subnets."""

    def delete_network(self, context: RequestContext, network_id: str) -> None:
        events = self.events
        self.events = _DropsSubnetEvents(events)  # type: ignore[assignment]
        try:
            super().delete_network(context, network_id)
        finally:
            self.events = events


class RaisesTheDefaultWithTheBounds(MemoryCorePlugin):
    """Moves ``default_prefixlen`` into new bounds instead of refusing them."""

    def update_subnetpool(
        self, context: RequestContext, subnetpool_id: str, changes: SubnetPoolUpdate | Mapping[str, Any]
    ) -> SubnetPool:
        wanted = dict(changes) if isinstance(changes, Mapping) else {}
        if "default_prefixlen" not in wanted and {"min_prefixlen", "max_prefixlen"} & set(wanted):
            pool = self.get_subnetpool(context, subnetpool_id)
            lowest = wanted.get("min_prefixlen", pool.min_prefixlen)
            highest = wanted.get("max_prefixlen", pool.max_prefixlen)
            wanted["default_prefixlen"] = min(max(pool.default_prefixlen, lowest), highest)
        return super().update_subnetpool(context, subnetpool_id, wanted or changes)


class ComparesProjectIdsLoosely(MemoryCorePlugin):
    """Lists networks as a case-insensitive collation that ignores trailing spaces would (finding 1)."""

    def get_networks(self, context: RequestContext, filters: Mapping[str, Any] | None = None) -> list[Network]:
        caller = context.project_id.rstrip(" ").casefold()
        return [
            network
            for network in super().get_networks(context.elevated(), filters)
            if context.is_admin
            or network.shared
            or network.router_external
            or network.project_id.rstrip(" ").casefold() == caller
        ]


class InProcessOnly(MemoryCorePlugin):
    """Declares what a plugin whose instances cannot share a storage declares."""

    CAPABILITIES = CorePlugin.CAPABILITIES - {Capability.SHARED_STORAGE}


class KeepsMemoryTopologiesInTheInstance(MemoryCorePlugin):
    """Shares resources through its storage but keeps get-me-a-network's records in the instance."""

    def get_topology_store(self) -> TopologyStore:
        return CorePlugin.get_topology_store(self)


class KeepsTopologiesInItsProcess(SqlCorePlugin):
    """Stores resources in the database but get-me-a-network's records in this instance (the default store)."""

    def get_topology_store(self) -> TopologyStore:
        return CorePlugin.get_topology_store(self)


def run_one(case_class: type[unittest.TestCase], test_name: str) -> unittest.TestResult:
    """Run one test of a suite with unittest's own runner (class fixtures included), as ``python -m unittest`` would."""
    result = unittest.TestResult()
    unittest.TestSuite([case_class(test_name)]).run(result)
    return result


def outcome(result: unittest.TestResult) -> str:
    """``passed``, ``failed``, ``error`` or ``skipped``, with the message of what went wrong."""
    if result.errors:
        return f"error: {result.errors[0][1]}"
    if result.failures:
        return f"failed: {result.failures[0][1]}"
    if result.skipped:
        return f"skipped: {result.skipped[0][1]}"
    return "passed" if result.testsRun == 1 else f"ran {result.testsRun} tests"
