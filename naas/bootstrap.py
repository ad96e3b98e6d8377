"""What get-me-a-network needs, created once: the default external network and the default subnet pools.

::

    from naas.bootstrap import BootstrapSettings, bootstrap

    result = bootstrap(plugins.core, admin_context(), BootstrapSettings.from_conf(conf))
    result.external_network.id, [pool.name for pool in result.subnet_pools], result.created

:func:`bootstrap` is idempotent: a default that exists already is kept as it
is, whatever the settings say, and reported as found; a second run creates
nothing and returns the same resources. Several runs at once are safe: the
storage admits one default of each kind, and a run that loses the race uses
the winner's.

The default pools are bounded so that no project can drain them, in one
request or in several: each request takes between ``min_prefixlen`` and
``max_prefixlen``, and a project holds at most ``default_quota`` address units
(addresses for IPv4, /64 subnets for IPv6) from each pool. The defaults
(IPv4: a /26 per project, /22 to /29 per request, 2048 addresses per project;
IPv6: a /64, /60 to /64, sixteen /64s) let ``10.0.0.0/8`` serve 8,192 projects
and ``fd00::/48`` 4,096 projects even if each takes its whole quota.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from oslo_config import cfg

from naas.context import RequestContext
from naas.exceptions import BadRequest, Conflict
from naas.ipam import prefix_quota_units
from naas.opts import BOOTSTRAP_GROUP, register_opts
from naas.plugins.core import CorePlugin
from naas.requests import SubnetPoolCreate, to_cidr
from naas.resources import Network, Resource, Subnet, SubnetPool

__all__ = ["POOL_NAMES", "BootstrapResult", "BootstrapSettings", "bootstrap"]

LOG = logging.getLogger(__name__)

POOL_NAMES = {4: "shared-default-subnetpool-v4", 6: "shared-default-subnetpool-v6"}
"""The names of the default pools :func:`bootstrap` creates, by IP version."""

ResourceT = TypeVar("ResourceT", bound=Resource)


@dataclasses.dataclass(frozen=True)
class BootstrapSettings:
    """What :func:`bootstrap` creates when it is missing; the fields are the ``[bootstrap]`` options.

    A ``*_quota`` of 0 means no quota.
    """

    external_network_name: str = "public"
    external_cidr: str = "203.0.113.0/24"
    v4_pool_prefix: str = "10.0.0.0/8"
    v4_prefixlen: int = 26
    v4_min_prefixlen: int = 22
    v4_max_prefixlen: int = 29
    v4_quota: int = 2048
    v6_pool_prefix: str = "fd00::/48"
    v6_prefixlen: int = 64
    v6_min_prefixlen: int = 60
    v6_max_prefixlen: int = 64
    v6_quota: int = 16
    ipv6: bool = True

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, **overrides: Any) -> BootstrapSettings:
        """The ``[bootstrap]`` options of ``conf``, with ``overrides`` (those not None) taking precedence."""
        register_opts(conf)
        configured = conf[BOOTSTRAP_GROUP]
        values = {field.name: configured[field.name] for field in dataclasses.fields(cls)}
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)

    def pool_requests(self) -> list[SubnetPoolCreate]:
        """The default pools to ensure, IPv4 first, as checked requests.

        Raises BadRequest("bootstrap", option, reason) naming the ``[bootstrap]``
        option at fault, before anything is created.
        """
        versions = (4, 6) if self.ipv6 else (4,)
        return [self._pool_request(ip_version) for ip_version in versions]

    def _pool_request(self, ip_version: int) -> SubnetPoolCreate:
        options = {
            "prefixes": f"v{ip_version}_pool_prefix",
            "default_prefixlen": f"v{ip_version}_prefixlen",
            "min_prefixlen": f"v{ip_version}_min_prefixlen",
            "max_prefixlen": f"v{ip_version}_max_prefixlen",
            "default_quota": f"v{ip_version}_quota",
        }
        prefix: str = getattr(self, options["prefixes"])
        prefixlen: int = getattr(self, options["default_prefixlen"])
        quota: int = getattr(self, options["default_quota"])
        # Said first: a prefix of the other version also fails the prefix-length checks, less to the point.
        if _prefix_version(prefix) not in (None, ip_version):
            raise BadRequest(BOOTSTRAP_GROUP, options["prefixes"], f"{prefix} is not an IPv{ip_version} prefix")
        try:
            # The bounds and the quota always admit one per-project subnet, so that get-me-a-network works.
            request = SubnetPoolCreate.parse(
                {
                    "name": POOL_NAMES[ip_version],
                    "prefixes": [prefix],
                    "default_prefixlen": prefixlen,
                    "min_prefixlen": min(getattr(self, options["min_prefixlen"]), prefixlen),
                    "max_prefixlen": max(getattr(self, options["max_prefixlen"]), prefixlen),
                    "default_quota": max(quota, prefix_quota_units(ip_version, prefixlen)) if quota else None,
                    "shared": True,
                    "is_default": True,
                }
            )
        except BadRequest as error:
            option = options.get(error.attribute, options["default_prefixlen"])
            raise BadRequest(BOOTSTRAP_GROUP, option, error.reason) from error
        return request

    def check_external_cidr(self) -> None:
        """Raise BadRequest("bootstrap", "external_cidr", reason) unless ``external_cidr`` is a CIDR."""
        try:
            to_cidr(self.external_cidr)
        except ValueError as error:
            raise BadRequest(BOOTSTRAP_GROUP, "external_cidr", str(error)) from None


@dataclasses.dataclass(frozen=True)
class BootstrapResult:
    """The defaults after :func:`bootstrap`: created by this call (their ids in ``created``) or found."""

    external_network: Network
    external_subnets: tuple[Subnet, ...]
    subnet_pools: tuple[SubnetPool, ...]
    created: frozenset[str]

    @property
    def resources(self) -> list[Resource]:
        """Every default, in a stable order: the network, its subnets, the pools (IPv4 first)."""
        return [self.external_network, *self.external_subnets, *self.subnet_pools]


def _prefix_version(prefix: str) -> int | None:
    """The IP version of ``prefix``, or None if it is no CIDR (parsing the request says why)."""
    try:
        return int(to_cidr(prefix).version)
    except (ValueError, BadRequest):
        return None


def bootstrap(core: CorePlugin, context: RequestContext, settings: BootstrapSettings) -> BootstrapResult:
    """Create, where missing, the default external network, a subnet on it and the default subnet pools.

    ``context`` must be an admin's (the defaults are admin-only attributes).
    Every setting is checked before anything is created: a bad one raises
    BadRequest("bootstrap", option, reason). With ``settings.ipv6`` false no
    IPv6 pool is created, but an existing default IPv6 pool is returned, since
    get-me-a-network will use it. Errors of the core plugin propagate.
    """
    settings.check_external_cidr()
    pool_requests = settings.pool_requests()
    created: set[str] = set()
    (external,) = _create_or_find(
        "default external network",
        lambda: core.get_networks(context, {"router:external": True, "is_default": True})[:1],
        lambda: core.create_network(
            context, {"name": settings.external_network_name, "router:external": True, "is_default": True}
        ),
        created,
    )
    subnets = _create_or_find(
        "external subnet",
        lambda: core.get_subnets(context, {"network_id": external.id}),
        lambda: core.create_subnet(
            context, {"network_id": external.id, "name": f"{external.name}-subnet", "cidr": settings.external_cidr}
        ),
        created,
    )
    if created:
        external = core.get_network(context, external.id)  # as it is now, with the subnet just added
    pools: list[SubnetPool] = []
    for request in pool_requests:
        pools += _create_or_find(
            f"default IPv{request.ip_version} subnet pool",
            functools.partial(_default_pool, core, context, request.ip_version),
            functools.partial(core.create_subnetpool, context, request),
            created,
        )
    if not settings.ipv6:
        pools += _default_pool(core, context, 6)
    return BootstrapResult(external, tuple(subnets), tuple(pools), frozenset(created))


def _default_pool(core: CorePlugin, context: RequestContext, ip_version: int) -> list[SubnetPool]:
    pool = core.get_default_subnetpool(context, ip_version)
    return [pool] if pool is not None else []


def _create_or_find(
    what: str, find: Callable[[], Sequence[ResourceT]], create: Callable[[], ResourceT], created: set[str]
) -> list[ResourceT]:
    """What ``find`` finds, else what ``create`` makes; a concurrent bootstrap that got there first is fine."""
    found = list(find())
    if found:
        return found
    try:
        resource = create()
    except (Conflict, BadRequest):
        # Another bootstrap may have created it between the look-up and now
        # (a second default, an overlapping CIDR): then use that one.
        found = list(find())
        if found:
            return found
        raise
    resource_id = str(getattr(resource, "id"))  # noqa: B009 - every resource has an id; Resource does not declare it
    LOG.info("Created %s %s", what, resource_id)
    created.add(resource_id)
    return [resource]
