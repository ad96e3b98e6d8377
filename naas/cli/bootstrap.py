"""``naas bootstrap``: what get-me-a-network needs, created once.

The default external network (with a subnet for router gateways and floating
IPs) and the default IPv4 and IPv6 subnet pools, shared by every project.
Defaults that already exist are kept as they are, whatever the flags say, so
running the command again changes nothing and prints the same table. Each
value comes from its flag, else from the ``[bootstrap]`` section of the
configuration, else from the documented default (:mod:`naas.cli.opts`).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from oslo_config import cfg

from naas.cli.base import NaasLister
from naas.cli.errors import CommandError
from naas.cli.opts import BOOTSTRAP_GROUP, bootstrap_opts
from naas.context import RequestContext
from naas.exceptions import BadRequest, Conflict
from naas.ipam import resolve_prefix_bounds
from naas.plugins.core import CorePlugin
from naas.requests import SubnetPoolCreate, to_cidr
from naas.resources import Network, Resource, Subnet, SubnetPool

__all__ = ["Bootstrap", "BootstrapSettings", "ensure_defaults"]

LOG = logging.getLogger(__name__)

POOL_NAMES = {4: "shared-default-subnetpool-v4", 6: "shared-default-subnetpool-v6"}

ResourceT = TypeVar("ResourceT", bound=Resource)


@dataclasses.dataclass(frozen=True)
class BootstrapSettings:
    external_network_name: str
    external_cidr: str
    v4_pool_prefix: str
    v4_prefixlen: int
    v6_pool_prefix: str
    v6_prefixlen: int
    ipv6: bool

    def pools(self) -> list[tuple[int, str, int]]:
        """(IP version, prefix, default prefix length) of each pool to ensure."""
        pools = [(4, self.v4_pool_prefix, self.v4_prefixlen)]
        if self.ipv6:
            pools.append((6, self.v6_pool_prefix, self.v6_prefixlen))
        return pools


def _create_or_find(
    what: str, find: Callable[[], Sequence[ResourceT]], create: Callable[[], ResourceT]
) -> list[ResourceT]:
    """What ``find`` finds, else what ``create`` makes; a concurrent bootstrap that got there first is fine."""
    found = list(find())
    if found:
        return found
    try:
        created = create()
    except (Conflict, BadRequest):
        # Another bootstrap may have created it between the look-up and now
        # (a second default, an overlapping CIDR): then use that one.
        found = list(find())
        if found:
            return found
        raise
    LOG.info("Created %s %s", what, getattr(created, "id", ""))
    return [created]


def _pool_request(ip_version: int, prefix: str, prefixlen: int) -> SubnetPoolCreate:
    """The default pool of ``ip_version``, as a request: built, and so checked, before anything is created."""
    default_min, _, _ = resolve_prefix_bounds(ip_version)
    # Said first: a prefix of the other version also fails the prefix-length checks, less to the point.
    if _prefix_version(prefix) not in (None, ip_version):
        option = f"v{ip_version}_pool_prefix"
        raise CommandError(
            f"--{option.replace('_', '-')} / [bootstrap] {option}: {prefix} is not an IPv{ip_version} prefix"
        )
    request = SubnetPoolCreate.parse(
        {
            "name": POOL_NAMES[ip_version],
            "prefixes": [prefix],
            "default_prefixlen": prefixlen,
            # A per-project subnet larger than the usual minimum (a /56 in IPv6) must stay allowed.
            "min_prefixlen": min(default_min, prefixlen),
            "shared": True,
            "is_default": True,
        }
    )
    return request


def _prefix_version(prefix: str) -> int | None:
    """The IP version of ``prefix``, or None if it is no CIDR (the request says why)."""
    try:
        return int(to_cidr(prefix).version)
    except ValueError:
        return None


def _check_cidr(cidr: str) -> None:
    try:
        to_cidr(cidr)
    except ValueError as error:
        raise CommandError(f"--external-cidr / [bootstrap] external_cidr: {error}") from None


def ensure_defaults(core: CorePlugin, context: RequestContext, settings: BootstrapSettings) -> list[Resource]:
    """Create what is missing; return the default external network, its subnets and the default pools."""
    _check_cidr(settings.external_cidr)
    pool_requests = [_pool_request(*pool) for pool in settings.pools()]
    (external,) = _create_or_find(
        "default external network",
        lambda: core.get_networks(context, {"router:external": True, "is_default": True})[:1],
        lambda: core.create_network(
            context, {"name": settings.external_network_name, "router:external": True, "is_default": True}
        ),
    )
    subnets = _create_or_find(
        "external subnet",
        lambda: core.get_subnets(context, {"network_id": external.id}),
        lambda: core.create_subnet(
            context,
            {"network_id": external.id, "name": f"{external.name}-subnet", "cidr": settings.external_cidr},
        ),
    )
    resources: list[Resource] = [external, *subnets]
    for request in pool_requests:
        resources += _ensure_pool(core, context, request)
    if not settings.ipv6:
        # Not created here, but get-me-a-network will use it: show it.
        resources += _default_pool(core, context, 6)
    return resources


def _default_pool(core: CorePlugin, context: RequestContext, ip_version: int) -> list[SubnetPool]:
    pool = core.get_default_subnetpool(context, ip_version)
    return [pool] if pool is not None else []


def _ensure_pool(core: CorePlugin, context: RequestContext, request: SubnetPoolCreate) -> list[SubnetPool]:
    return _create_or_find(
        f"default IPv{request.ip_version} subnet pool",
        lambda: _default_pool(core, context, request.ip_version),
        lambda: core.create_subnetpool(context, request),
    )


def _row(resource: Resource) -> tuple[str, str, str, str]:
    if isinstance(resource, Network):
        return ("network", resource.name, resource.id, "external, default")
    if isinstance(resource, Subnet):
        return ("subnet", resource.name, resource.id, str(resource.cidr))
    if isinstance(resource, SubnetPool):
        prefixes = ", ".join(str(prefix) for prefix in resource.prefixes)
        return ("subnet pool", resource.name, resource.id, f"{prefixes}, /{resource.default_prefixlen} per project")
    raise TypeError(f"unexpected resource {resource!r}")


def _flag_type(opt: cfg.Opt) -> Callable[[str], Any]:
    """The option's own conversion and bounds, for argparse (which needs a hashable, named callable)."""

    def convert(text: str) -> Any:
        return opt.type(text)

    convert.__name__ = type(opt.type).__name__.lower()  # argparse says "invalid integer value"
    return convert


class Bootstrap(NaasLister):
    """Create, if missing, the default external network and subnet and the default subnet pools.

    Idempotent: defaults that exist are kept and shown as they are.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        # One flag per [bootstrap] option, described by the option itself. Flags default to None so
        # that an unset flag falls back to the configuration.
        for opt in bootstrap_opts:
            if opt.name == "ipv6":
                parser.add_argument(
                    "--no-ipv6",
                    dest="ipv6",
                    action="store_false",
                    default=None,
                    help="Create no IPv6 subnet pool (or set [bootstrap] ipv6 = false).",
                )
                continue
            parser.add_argument(
                f"--{opt.name.replace('_', '-')}",
                dest=opt.name,
                type=_flag_type(opt),
                metavar=opt.name.rsplit("_", 1)[-1].upper(),
                help=f"{opt.help} Default: {opt.default}, or [bootstrap] {opt.name} in the configuration.",
            )
        return parser

    def settings(self, parsed_args: argparse.Namespace) -> BootstrapSettings:
        configured = self.session.conf[BOOTSTRAP_GROUP]
        values: dict[str, Any] = {}
        for field in dataclasses.fields(BootstrapSettings):
            flag = getattr(parsed_args, field.name)
            values[field.name] = flag if flag is not None else configured[field.name]
        return BootstrapSettings(**values)

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        resources = ensure_defaults(self.session.plugins.core, self.session.context, self.settings(parsed_args))
        return ("Resource", "Name", "ID", "Details"), [_row(resource) for resource in resources]
