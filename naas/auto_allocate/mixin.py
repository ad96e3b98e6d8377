"""Get me a network: hand a project a ready private network with a way out.

The algorithm follows Neutron's ``neutron/services/auto_allocate/db.py``
(validate the project, honour ``fields``, return an existing topology, find the
default external network, build network, subnets, router and interfaces, clean
up on failure), with the fixes listed in naas's SPEC: one builder per project
(losers wait instead of building and deleting a duplicate), no disabled network
ever returned, recovery after a builder died that removes only what that
build made, repair after a user deleted part of the topology, a dry-run that
names every missing requirement, and a delete that refuses before it touches
anything yet cannot be blocked by another project.

Only the public plugin contracts are used, so it works over any core and L3
plugins that pass the conformance suites.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from naas import policy
from naas.auto_allocate.store import TopologyRecord, TopologyStatus, TopologyStore, new_owner_token
from naas.context import RequestContext
from naas.exceptions import (
    AutoAllocationFailure,
    BadRequest,
    Conflict,
    InUse,
    IpAddressExhausted,
    NaasError,
    NotAuthorized,
    NotFound,
    SubnetPoolExhausted,
    SubnetPoolQuotaExceeded,
)
from naas.requests import InterfaceRequest, SubnetCreate, parse_fields, parse_project_id
from naas.resources import DEVICE_OWNER_ROUTER_INTERFACE, FloatingIP, Network, Port, Router, Subnet, SubnetPool

if TYPE_CHECKING:
    from naas.plugins.core import CorePlugin
    from naas.plugins.l3 import L3Plugin

__all__ = ["DRY_RUN", "AutoAllocatedTopologyMixin", "BuildStep"]

LOG = logging.getLogger(__name__)

_R = TypeVar("_R")

DRY_RUN = "dry-run"
"""The field that makes ``get_auto_allocated_topology`` check its requirements and build nothing."""
NETWORK_NAME = "auto_allocated_network"
ROUTER_NAME = "auto_allocated_router"
SUBNET_NAMES = {4: "auto_allocated_subnet_v4", 6: "auto_allocated_subnet_v6"}

NO_EXTERNAL_NETWORK = "No default router:external network"
NO_SUBNETPOOLS = "No default subnetpools defined"
PRIVATE_NETWORK_FAILED = "Unable to provide project private network"
CONNECTIVITY_FAILED = "Unable to provide external connectivity"

# Errors a misconfigured deployment or exhausted resources cause: reported as
# AutoAllocationFailure. Anything else is a bug or an outage and propagates as is.
_EXPECTED_NETWORK_ERRORS: tuple[type[Exception], ...] = (
    BadRequest,
    NotFound,
    SubnetPoolExhausted,
    SubnetPoolQuotaExceeded,
)
_EXPECTED_CONNECTIVITY_ERRORS: tuple[type[Exception], ...] = (BadRequest, NotFound, IpAddressExhausted)


class BuildStep:
    """Names of the points a build passes, for ``build_hook`` (fault injection, tracing)."""

    CLAIMED = "claimed"
    NETWORK_CREATED = "network_created"
    SUBNET_CREATED = "subnet_created"
    ROUTER_CREATED = "router_created"
    INTERFACE_ADDED = "interface_added"
    NETWORK_ENABLED = "network_enabled"


class _LostClaim(Exception):
    """Another request took over this build (it judged this one dead).

    ``unsaved`` is the record with the resource this request made but could
    not record, so that it can remove it itself.
    """

    def __init__(self, unsaved: TopologyRecord) -> None:
        super().__init__(unsaved.project_id)
        self.unsaved = unsaved


class AutoAllocatedTopologyMixin:
    """Get-me-a-network over explicitly given plugins.

    A class using the mixin sets, in its constructor:

    * ``core_plugin`` and ``l3_plugin``: the plugins to build with;
    * ``topology_store``: where records live (``core_plugin.get_topology_store()``
      shares the core plugin's storage);
    * optionally ``lease_seconds`` (how long a silent builder is trusted),
      ``wait_timeout`` (how long a request waits for another's build) and
      ``build_hook``, called with a :class:`BuildStep` name after each recorded
      step of a build.

    :class:`naas.auto_allocate.AutoAllocator` is the ready-made class.
    """

    core_plugin: CorePlugin
    l3_plugin: L3Plugin
    topology_store: TopologyStore
    lease_seconds: float = 30.0
    wait_timeout: float = 60.0
    build_hook: Callable[[str], None] | None = None

    # Public API

    def get_auto_allocated_topology(
        self, context: RequestContext, project_id: str | None, fields: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The project's topology, built on first request.

        Returns ``{"id": network_id, "project_id": p, "tenant_id": p}``; with
        ``fields=["dry-run"]`` only checks the requirements and returns
        ``{"id": "dry-run=pass", "project_id": p}``.

        Raises NotAuthorized (a non-admin asking for another project),
        BadRequest (fields other than dry-run), AutoAllocationFailure (a
        requirement is missing, or the build failed for an expected reason; its
        ``reasons`` name each), or the unexpected error itself after cleaning up.
        """
        project_id = self._validate_project(context, project_id)
        fields = parse_fields("auto_allocate", fields)
        if DRY_RUN in fields:
            self._check_requirements(context, project_id)
            return {"id": "dry-run=pass", "project_id": project_id}
        if fields:
            raise BadRequest("auto_allocate", "fields", "Unrecognized field")
        network_id = self._ensure_topology(context, project_id)
        return {"id": network_id, "project_id": project_id, "tenant_id": project_id}

    def delete_auto_allocated_topology(self, context: RequestContext, project_id: str | None) -> None:
        """Remove the project's router interfaces, router and network; nothing if it has none.

        Never creates anything. Before it changes anything, it refuses when the
        delete would take away something the project itself still uses, with
        InUse naming those resources (ids the caller may see, nothing else):

        * ports on the topology's network other than its router's interfaces
          (instances, another router's interface);
        * interfaces the topology did not make: its router's interfaces on
          other networks of the project (a network the user plugged in would
          silently lose its way out);
        * the project's floating IPs that reach their ports through the router.

        What *other* projects hang on the router never blocks the delete: the
        project could neither see nor remove it, so it could be locked out of
        its own topology for good (an admin may have attached another project's
        subnet; older versions let any project claim a router interface).
        Neutron lets a router's owner remove any interface of its router, and
        a user asking to delete their topology expects it gone, so the delete
        disassociates other projects' floating IPs that go through the router
        and removes its interfaces on networks the project does not own. Those
        projects keep their networks, ports and floating IPs; they lose only
        the way out through a router that is going away, which is logged.

        The one exception is another project's port on the topology's own
        network: only an admin can put one there, and it is an instance this
        delete will not cut off, as Neutron's would not. That refuses with a
        Conflict that counts such ports without naming them.

        Raises NotAuthorized (a non-admin asking for another project), InUse or
        Conflict as above.
        """
        project_id = self._validate_project(context, project_id)
        deadline = time.monotonic() + self.wait_timeout
        while True:
            record = self.topology_store.get(project_id)
            if record is None:
                return
            if record.status is not TopologyStatus.READY and not record.is_abandoned():
                self._wait(record, deadline)
                continue
            attachments = self._router_attachments(context, record)
            if record.status is TopologyStatus.READY:
                self._check_unused(context, record, attachments)
            owner = new_owner_token()
            claimed = self._swap(record, status=TopologyStatus.DELETING, owner=owner, lease_expires_at=self._lease())
            if claimed is None:
                continue
            try:
                self._remove_resources(context, claimed, attachments)
            except BaseException:
                # Whatever is left stays recorded; a later request repairs or deletes it.
                self._swap(claimed, status=TopologyStatus.READY, owner=None, lease_expires_at=0.0)
                raise
            self.topology_store.remove(claimed)
            return

    def remove_abandoned_topologies(self, context: RequestContext) -> list[str]:
        """Remove what builders that died (or whose lease ran out) left behind; admins only.

        The next request for such a project does the same on its own; this is
        the operator's way to clean up projects that never ask again. Returns
        the projects whose leftovers were removed.
        """
        if not context.is_admin:
            raise NotAuthorized("Only an admin may clean up other projects' topologies")
        cleaned = []
        for record in self.topology_store.list_abandoned():
            if self._clear_abandoned(context, record):
                cleaned.append(record.project_id)
        return cleaned

    # Steps 1 and 2: who asks, and for what

    @staticmethod
    def _validate_project(context: RequestContext, project_id: str | None) -> str:
        # Clients that pass no project build ".../None".
        if project_id is None or project_id == "None":
            return context.project_id
        project_id = parse_project_id("auto_allocate", project_id)
        if not context.is_admin and project_id != context.project_id:
            raise NotAuthorized()
        return project_id

    # Requirements (dry-run, and the fail-fast part of a build)

    def _check_requirements(self, context: RequestContext, project_id: str) -> None:
        """Raise AutoAllocationFailure naming every requirement the build would miss."""
        reasons: list[str] = []
        external = self._default_external_network(context)
        if external is None:
            reasons.append(NO_EXTERNAL_NETWORK)
        else:
            reasons.extend(self._gateway_problems(context, external))
        pools, pool_reasons = self._default_subnetpools(context)
        reasons.extend(pool_reasons)
        for pool in pools:
            try:
                self.core_plugin.check_subnetpool_room(context, pool.id, pool.default_prefixlen, project_id)
            except (SubnetPoolExhausted, SubnetPoolQuotaExceeded) as error:
                reasons.append(str(error).rstrip("."))
        if reasons:
            raise AutoAllocationFailure(reasons, project_id)

    def _default_external_network(self, context: RequestContext) -> Network | None:
        networks = self.core_plugin.get_networks(context.elevated(), {"router:external": True, "is_default": True})
        if len(networks) > 1:
            # Storage should make this impossible; say so rather than pick silently.
            LOG.error("Several default external networks: %s", ", ".join(n.id for n in networks))
        return networks[0] if networks else None

    def _gateway_problems(self, context: RequestContext, external: Network) -> list[str]:
        admin = context.elevated()
        subnets = self.core_plugin.get_subnets(admin, {"network_id": external.id})
        if not subnets:
            return [f"Default external network {external.id} has no subnet"]
        if any(self.core_plugin.count_free_addresses(admin, subnet.id) > 0 for subnet in subnets):
            return []
        return [f"Default external network {external.id} has no free address for a router gateway"]

    def _default_subnetpools(self, context: RequestContext) -> tuple[list[SubnetPool], list[str]]:
        """The default pools (IPv4 first) and the reasons some cannot be used by this caller."""
        pools: list[SubnetPool] = []
        reasons: list[str] = []
        for ip_version in (4, 6):
            pool = self.core_plugin.get_default_subnetpool(context.elevated(), ip_version)
            if pool is None:
                continue
            if policy.is_visible(context, pool):
                pools.append(pool)
            else:
                reasons.append(
                    f"Default IPv{ip_version} subnet pool {pool.id} is not visible to project {context.project_id}"
                )
        if not pools and not reasons:
            reasons.append(NO_SUBNETPOOLS)
        return pools, reasons

    # Step 3: an existing topology, possibly still being built elsewhere

    def _ensure_topology(self, context: RequestContext, project_id: str) -> str:
        deadline = time.monotonic() + self.wait_timeout
        while True:
            record = self.topology_store.get(project_id)
            if record is None:
                network_id = self._build_new(context, project_id)
            elif record.status is TopologyStatus.READY:
                network_id = self._check_or_repair(context, record)
            elif record.is_abandoned():
                # Whoever clears it, the next turn of the loop finds no record and builds.
                self._clear_abandoned(context, record)
                continue
            else:
                self._wait(record, deadline)
                continue
            if network_id is not None:
                return network_id

    def _wait(self, record: TopologyRecord, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Conflict(
                "auto_allocated_topology",
                record.project_id,
                f"The topology of project {record.project_id} is still {record.status.value} by another request; "
                "try again later.",
            )
        # Wake when the owner's lease runs out at the latest, to notice an owner that died silently.
        until_lease_ends = max(0.001, record.lease_expires_at - time.time())
        self.topology_store.wait_for_change(record.project_id, record.version, min(remaining, until_lease_ends))

    def _clear_abandoned(self, context: RequestContext, record: TopologyRecord) -> bool:
        """Remove what a dead builder (or deleter) made, and its record; False if another request got there first."""
        LOG.warning("Clearing the abandoned %s topology of project %s", record.status.value, record.project_id)
        claimed = self._swap(
            record, status=TopologyStatus.DELETING, owner=new_owner_token(), lease_expires_at=self._lease()
        )
        if claimed is None:
            return False
        # The record names every network and router the build made (their ids were recorded before
        # they were created), so nothing is looked up by name: a user's own resources that happen to
        # carry the reserved names are never touched.
        self._remove_resources(context, claimed)
        self.topology_store.remove(claimed)
        return True

    # Steps 4 to 6: build, recording each resource as it is made

    def _build_new(self, context: RequestContext, project_id: str) -> str | None:
        # Fail fast, before claiming anything, when the deployment lacks defaults.
        external = self._default_external_network(context)
        if external is None:
            raise AutoAllocationFailure(NO_EXTERNAL_NETWORK, project_id)
        pools, reasons = self._default_subnetpools(context)
        if reasons:
            raise AutoAllocationFailure(reasons, project_id)
        # The ids are chosen and recorded with the claim, before anything exists: recovery after a crash
        # removes exactly these, and the build writes the record only once more, when it is ready.
        record = TopologyRecord(
            project_id=project_id,
            status=TopologyStatus.BUILDING,
            owner=new_owner_token(),
            lease_expires_at=self._lease(),
            network_id=_new_id(),
            router_id=_new_id(),
        )
        if not self.topology_store.create(record):
            return None  # another request claimed it first: wait for it
        self._step(BuildStep.CLAIMED)
        return self._build(context, record, external, pools)

    def _build(
        self, context: RequestContext, record: TopologyRecord, external: Network, pools: Sequence[SubnetPool]
    ) -> str:
        try:
            record = self._build_private_network(context, record, pools)
            record = self._build_connectivity(context, record, external)
            assert record.network_id is not None
            self.core_plugin.update_network(context, record.network_id, {"admin_state_up": True})
            self._step(BuildStep.NETWORK_ENABLED)
            if self._swap(record, status=TopologyStatus.READY, owner=None, lease_expires_at=0.0) is None:
                raise _LostClaim(record)
            return record.network_id
        except _LostClaim as lost:
            # The request that took over removes what was recorded; this one
            # removes the same, plus what it made after losing the claim.
            LOG.warning("Another request took over the build of project %s", record.project_id)
            self._remove_resources(context, lost.unsaved)
            raise Conflict(
                "auto_allocated_topology", record.project_id, "The build was taken over by another request; try again."
            ) from None
        except BaseException:
            self._abandon_build(context, record.project_id, record.owner)
            raise

    def _abandon_build(self, context: RequestContext, project_id: str, owner: str | None) -> None:
        """Remove what this request built, then its record.

        If removal itself fails, the record stays (still naming the
        resources) and the original error propagates: once the lease runs out
        the next request for the project finishes the clean-up.
        """
        current = self.topology_store.get(project_id)
        if current is None or current.owner != owner:
            return
        try:
            self._remove_resources(context, current)
        except Exception:
            LOG.exception("Cleaning up the failed build of project %s failed; it will be retried", project_id)
            return
        self.topology_store.remove(current)

    def _build_private_network(
        self, context: RequestContext, record: TopologyRecord, pools: Sequence[SubnetPool]
    ) -> TopologyRecord:
        network_id = record.network_id
        assert network_id is not None, "the network id is recorded with the claim"
        try:
            network = self.core_plugin.create_network(
                context,
                {"id": network_id, "name": NETWORK_NAME, "project_id": record.project_id, "admin_state_up": False},
            )
            record = self._require_recorded_id(record, "network_id", network.id)
            self._step(BuildStep.NETWORK_CREATED)
            subnet_ids: list[str] = []
            for pool in pools:
                subnet_ids.append(self._create_subnet(context, record, network.id, pool).id)
                self._step(BuildStep.SUBNET_CREATED)
        except _EXPECTED_NETWORK_ERRORS as error:
            LOG.error("Unable to provide a private network to project %s: %s", record.project_id, error)
            raise AutoAllocationFailure([PRIVATE_NETWORK_FAILED, str(error).rstrip(".")], record.project_id) from error
        # Subnets go with their network on clean-up, so they need no record of their own yet.
        return dataclasses.replace(record, subnet_ids=tuple(subnet_ids))

    def _build_connectivity(self, context: RequestContext, record: TopologyRecord, external: Network) -> TopologyRecord:
        router_id = record.router_id
        assert router_id is not None, "the router id is recorded before the router is made"
        try:
            router = self.l3_plugin.create_router(
                context,
                {
                    "id": router_id,
                    "name": ROUTER_NAME,
                    "project_id": record.project_id,
                    "external_gateway_info": {"network_id": external.id},
                },
            )
            record = self._require_recorded_id(record, "router_id", router.id)
            self._step(BuildStep.ROUTER_CREATED)
            for subnet_id in record.subnet_ids:
                self.l3_plugin.add_router_interface(context, router.id, InterfaceRequest(subnet_id=subnet_id))
                self._step(BuildStep.INTERFACE_ADDED)
        except _EXPECTED_CONNECTIVITY_ERRORS as error:
            LOG.error("Unable to provide external connectivity to project %s: %s", record.project_id, error)
            raise AutoAllocationFailure([CONNECTIVITY_FAILED, str(error).rstrip(".")], record.project_id) from error
        return record

    # Tampering: a READY topology whose parts a user removed

    def _check_or_repair(self, context: RequestContext, record: TopologyRecord) -> str | None:
        assert record.network_id is not None
        problem = self._find_damage(context, record)
        if problem is None:
            return record.network_id
        LOG.warning("Repairing the topology of project %s: %s", record.project_id, problem)
        claimed = self._swap(
            record, status=TopologyStatus.BUILDING, owner=new_owner_token(), lease_expires_at=self._lease()
        )
        if claimed is None:
            return None
        if problem == "network":
            # Without its network nothing is worth keeping: start again.
            self._remove_resources(context, claimed)
            self.topology_store.remove(claimed)
            return None
        external = self._default_external_network(context)
        if external is None:
            self._swap(claimed, status=TopologyStatus.READY, owner=None, lease_expires_at=0.0)
            raise AutoAllocationFailure(NO_EXTERNAL_NETWORK, record.project_id)
        return self._repair_connectivity(context, claimed, external)

    def _find_damage(self, context: RequestContext, record: TopologyRecord) -> str | None:
        """None if the topology is whole, else which part is missing ("network", "subnet" or "router")."""
        assert record.network_id is not None
        try:
            network = self.core_plugin.get_network(context, record.network_id)
        except NotFound:
            return "network"
        router = self._router_or_none(context, record.router_id)
        if router is None or router.external_gateway_info is None:
            return "router"
        if set(record.subnet_ids) - set(network.subnets):
            return "subnet"  # the repair re-creates it from its default pool
        if not set(record.subnet_ids) <= self._attached_subnets(context, router.id):
            return "router"
        return None

    def _repair_connectivity(self, context: RequestContext, record: TopologyRecord, external: Network) -> str:
        """Give a topology whose network survived a subnet per default pool and a working router again."""
        assert record.network_id is not None
        network_id = record.network_id
        try:
            subnet_ids = self._restore_subnets(context, record)
            record = dataclasses.replace(record, subnet_ids=subnet_ids)
            router = self._router_or_none(context, record.router_id)
            if router is not None:
                if router.external_gateway_info is None:
                    self.l3_plugin.update_router(
                        context, router.id, {"external_gateway_info": {"network_id": external.id}}
                    )
                attached = self._attached_subnets(context, router.id)
                for subnet_id in subnet_ids:
                    if subnet_id not in attached:
                        self.l3_plugin.add_router_interface(context, router.id, InterfaceRequest(subnet_id=subnet_id))
            else:
                record = self._build_connectivity(context, self._record(record, router_id=_new_id()), external)
        except BaseException:
            # Leave it READY as it was found (minus what is gone): the next request tries again.
            current = self.topology_store.get(record.project_id)
            if current is not None and current.owner == record.owner:
                self._swap(current, status=TopologyStatus.READY, owner=None, lease_expires_at=0.0)
            raise
        if self._swap(record, status=TopologyStatus.READY, owner=None, lease_expires_at=0.0) is None:
            raise Conflict("auto_allocated_topology", record.project_id, "The repair was taken over; try again.")
        return network_id

    def _restore_subnets(self, context: RequestContext, record: TopologyRecord) -> tuple[str, ...]:
        """The network's subnets, after re-creating one from each default pool whose IP version it lacks.

        A user who deleted the IPv6 (or IPv4) subnet gets a dual-stack
        topology back, as a new request would build it. Raises
        AutoAllocationFailure when the network is left with no subnet.
        """
        assert record.network_id is not None
        subnets = self.core_plugin.get_subnets(context, {"network_id": record.network_id})
        present = {subnet.ip_version for subnet in subnets}
        subnet_ids = [subnet.id for subnet in subnets]
        pools, _ = self._default_subnetpools(context)
        try:
            for pool in pools:
                if pool.ip_version not in present:
                    LOG.warning(
                        "Re-creating the IPv%d subnet of project %s's topology", pool.ip_version, record.project_id
                    )
                    subnet_ids.append(self._create_subnet(context, record, record.network_id, pool).id)
        except _EXPECTED_NETWORK_ERRORS as error:
            raise AutoAllocationFailure([PRIVATE_NETWORK_FAILED, str(error).rstrip(".")], record.project_id) from error
        if not subnet_ids:
            raise AutoAllocationFailure(PRIVATE_NETWORK_FAILED, record.project_id)
        return tuple(subnet_ids)

    def _create_subnet(
        self, context: RequestContext, record: TopologyRecord, network_id: str, pool: SubnetPool
    ) -> Subnet:
        return self.core_plugin.create_subnet(
            context,
            SubnetCreate(
                network_id=network_id,
                name=SUBNET_NAMES[pool.ip_version],
                project_id=record.project_id,
                ip_version=pool.ip_version,
                subnetpool_id=pool.id,
            ),
        )

    def _router_or_none(self, context: RequestContext, router_id: str | None) -> Router | None:
        if router_id is None:
            return None
        try:
            return self.l3_plugin.get_router(context, router_id)
        except NotFound:
            return None

    def _attached_subnets(self, context: RequestContext, router_id: str) -> set[str]:
        ports = self.core_plugin.get_ports(
            context, {"device_id": router_id, "device_owner": DEVICE_OWNER_ROUTER_INTERFACE}
        )
        return {fixed_ip.subnet_id for port in ports for fixed_ip in port.fixed_ips}

    # Step 8: delete

    def _router_attachments(self, context: RequestContext, record: TopologyRecord) -> _Attachments:
        """What the topology's router is plugged into, sorted by who owns it (reads only)."""
        if record.router_id is None:
            return _Attachments()
        admin = context.elevated()
        interfaces = self.core_plugin.get_ports(
            admin, {"device_id": record.router_id, "device_owner": DEVICE_OWNER_ROUTER_INTERFACE}
        )
        elsewhere = [port for port in interfaces if port.network_id != record.network_id]
        if not elsewhere:
            # Floating IPs reach ports through an interface: only the topology's own network here,
            # whose ports the delete checks one by one.
            return _Attachments(own_interfaces=tuple(interfaces))
        network_owners = {
            network.id: network.project_id
            for network in self.core_plugin.get_networks(admin, {"id": sorted({p.network_id for p in elsewhere})})
        }
        floatingips = self.l3_plugin.get_floatingips(admin, {"router_id": record.router_id})
        return _Attachments(
            own_interfaces=tuple(port for port in interfaces if port.network_id == record.network_id),
            users_interfaces=tuple(
                port for port in elsewhere if network_owners.get(port.network_id) == record.project_id
            ),
            foreign_interfaces=tuple(
                port for port in elsewhere if network_owners.get(port.network_id) != record.project_id
            ),
            users_floatingips=tuple(fip for fip in floatingips if fip.project_id == record.project_id),
            foreign_floatingips=tuple(fip for fip in floatingips if fip.project_id != record.project_id),
        )

    def _check_unused(self, context: RequestContext, record: TopologyRecord, attachments: _Attachments) -> None:
        """Raise InUse (or Conflict) if the project still uses the topology (see the delete's contract)."""
        if record.network_id is not None:
            others = [
                port
                for port in self.core_plugin.get_ports(context.elevated(), {"network_id": record.network_id})
                if not (port.device_owner == DEVICE_OWNER_ROUTER_INTERFACE and port.device_id == record.router_id)
            ]
            _refuse_if_used(context, "network", record.network_id, others, "ports")
        if record.router_id is not None:
            _refuse_if_used(
                context, "router", record.router_id, attachments.users_interfaces, "interfaces it did not make"
            )
            _refuse_if_used(context, "router", record.router_id, attachments.users_floatingips, "floating IPs")

    def _remove_resources(
        self, context: RequestContext, record: TopologyRecord, attachments: _Attachments | None = None
    ) -> None:
        """Unplug the router, delete it, delete the network; each step tolerates "already gone".

        Only a network or router the record names *and* the project owns is
        touched. The router loses its interfaces on the topology's network
        and on other projects' networks (after other projects' floating IPs
        through it are disassociated); ``attachments`` are the delete's own
        reading of them, read afresh when not given.
        """
        admin = context.elevated()
        router = self._owned(self.l3_plugin.get_router, context, record.router_id, record.project_id)
        if router is not None:
            if attachments is None:
                attachments = self._router_attachments(context, record)
            for floatingip in attachments.foreign_floatingips:
                LOG.warning(
                    "Disassociating floating IP %s of project %s from the router of project %s's deleted topology",
                    floatingip.id,
                    floatingip.project_id,
                    record.project_id,
                )
                _ignore_not_found(self.l3_plugin.disassociate_floatingip, admin, floatingip.id)
            for port in attachments.foreign_interfaces:
                LOG.warning(
                    "Removing interface %s on network %s from the router of project %s's deleted topology",
                    port.id,
                    port.network_id,
                    record.project_id,
                )
                _ignore_not_found(
                    self.l3_plugin.remove_router_interface, admin, router.id, InterfaceRequest(port_id=port.id)
                )
            for port in attachments.own_interfaces:
                _ignore_not_found(
                    self.l3_plugin.remove_router_interface, context, router.id, InterfaceRequest(port_id=port.id)
                )
            _ignore_not_found(self.l3_plugin.delete_router, context, router.id)
        network = self._owned(self.core_plugin.get_network, context, record.network_id, record.project_id)
        if network is not None:
            _ignore_not_found(self.core_plugin.delete_network, context, network.id)

    @staticmethod
    def _owned(
        get: Callable[[RequestContext, str], _R], context: RequestContext, resource_id: str | None, project_id: str
    ) -> _R | None:
        """The resource ``resource_id`` if it exists and belongs to ``project_id``, else None."""
        if resource_id is None:
            return None
        try:
            resource = get(context.elevated(), resource_id)
        except NotFound:
            return None
        # An id the build chose but never got to use could name something else only if the create
        # was refused for it; never remove another project's resource.
        return resource if getattr(resource, "project_id", None) == project_id else None

    # Record keeping

    def _lease(self) -> float:
        return time.time() + self.lease_seconds

    def _swap(self, record: TopologyRecord, **changes: Any) -> TopologyRecord | None:
        """Compare-and-swap; the stored record, or None if someone else changed it first."""
        new = dataclasses.replace(record, version=record.version + 1, **changes)
        return new if self.topology_store.replace(record, new) else None

    def _record(self, record: TopologyRecord, **changes: Any) -> TopologyRecord:
        """Note progress (and renew the lease) under this request's claim."""
        stored = self._swap(record, lease_expires_at=self._lease(), **changes)
        if stored is None:
            raise _LostClaim(dataclasses.replace(record, **changes))
        return stored

    def _require_recorded_id(self, record: TopologyRecord, field: str, made_id: str) -> TopologyRecord:
        """Check the plugin created the resource under the id the record already names.

        A plugin that ignores the requested ``id`` breaks crash recovery, which
        finds what a build made by the recorded ids: record what it really
        made (so this build's clean-up removes it) and fail.
        """
        if getattr(record, field) == made_id:
            return record
        self._record(record, **{field: made_id})
        raise NaasError(
            f"The plugin created {field.removesuffix('_id')} {made_id} instead of the requested id "
            f"{getattr(record, field)}; get-me-a-network needs plugins that honour 'id' on create."
        )

    def _step(self, step: str) -> None:
        if self.build_hook is not None:
            self.build_hook(step)


@dataclasses.dataclass(frozen=True)
class _Attachments:
    """A topology router's interfaces and floating IPs, by owner.

    ``own_interfaces`` are on the topology's network; ``users_*`` belong to the
    topology's project (they block a delete); ``foreign_*`` to other projects
    (a delete detaches them).
    """

    own_interfaces: tuple[Port, ...] = ()
    users_interfaces: tuple[Port, ...] = ()
    foreign_interfaces: tuple[Port, ...] = ()
    users_floatingips: tuple[FloatingIP, ...] = ()
    foreign_floatingips: tuple[FloatingIP, ...] = ()


def _refuse_if_used(
    context: RequestContext, resource: str, resource_id: str, users: Sequence[Port | FloatingIP], what: str
) -> None:
    """Raise InUse naming the ``users`` the caller may see; Conflict counting them if it sees none."""
    if not users:
        return
    visible = [user.id for user in users if policy.is_visible(context, user)]
    if visible:
        raise InUse(resource, resource_id, visible, what=what)
    raise Conflict(
        resource,
        resource_id,
        f"{resource} {resource_id} is in use by {what} of other projects ({len(users)}); an admin must remove them.",
    )


def _new_id() -> str:
    return str(uuid.uuid4())


def _ignore_not_found(call: Callable[..., Any], *args: Any) -> None:
    try:
        call(*args)
    except NotFound:
        pass
