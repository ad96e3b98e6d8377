"""``naas bootstrap``: what get-me-a-network needs, created once, by :func:`naas.bootstrap.bootstrap`.

Each value comes from its flag, else from the ``[bootstrap]`` section of the
configuration, else from the documented default (:data:`naas.opts.bootstrap_opts`).
The table is the same on every run; what a run created is said on stderr.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from naas.bootstrap import BootstrapSettings, bootstrap
from naas.cli.base import NaasLister
from naas.cli.errors import CommandError
from naas.exceptions import BadRequest
from naas.opts import BOOTSTRAP_GROUP, bootstrap_opts
from naas.resources import Network, Resource, Subnet, SubnetPool

__all__ = ["Bootstrap"]

LOG = logging.getLogger(__name__)

_QUOTA_UNITS = {4: "addresses", 6: "/64s"}


def _row(resource: Resource) -> tuple[str, str, str, str]:
    if isinstance(resource, Network):
        return ("network", resource.name, resource.id, "external, default")
    if isinstance(resource, Subnet):
        return ("subnet", resource.name, resource.id, str(resource.cidr))
    if isinstance(resource, SubnetPool):
        prefixes = ", ".join(str(prefix) for prefix in resource.prefixes)
        details = [
            prefixes,
            f"/{resource.default_prefixlen} per project",
            f"/{resource.min_prefixlen} to /{resource.max_prefixlen} per request",
        ]
        if resource.default_quota:
            details.append(f"quota {resource.default_quota} {_QUOTA_UNITS[resource.ip_version]} per project")
        return ("subnet pool", resource.name, resource.id, ", ".join(details))
    raise TypeError(f"unexpected resource {resource!r}")


def _flag(option: str) -> str:
    return f"--{option.replace('_', '-')}"


def _flag_type(opt: cfg.Opt) -> Callable[[str], Any]:
    """The option's own conversion and bounds, for argparse (which needs a hashable, named callable)."""

    def convert(text: str) -> Any:
        return opt.type(text)

    convert.__name__ = type(opt.type).__name__.lower()  # argparse says "invalid integer value"
    return convert


class Bootstrap(NaasLister):
    """Create, if missing, the default external network and subnet and the default subnet pools.

    Idempotent: defaults that exist are kept and shown as they are. The pools
    bound what one request and one project may take (see the [bootstrap]
    options).
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
                _flag(opt.name),
                dest=opt.name,
                type=_flag_type(opt),
                metavar=opt.name.rsplit("_", 1)[-1].upper(),
                help=f"{opt.help} Default: {opt.default}, or [bootstrap] {opt.name} in the configuration.",
            )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        overrides = {opt.name: getattr(parsed_args, opt.name) for opt in bootstrap_opts}
        settings = BootstrapSettings.from_conf(self.session.conf, **overrides)
        try:
            result = bootstrap(self.session.plugins.core, self.session.context, settings)
        except BadRequest as error:
            if error.resource != BOOTSTRAP_GROUP:
                raise
            raise CommandError(f"{_flag(error.attribute)} / [bootstrap] {error.attribute}: {error.reason}") from error
        for resource in result.resources:
            if getattr(resource, "id", None) in result.created:
                kind, name, resource_id, _ = _row(resource)
                LOG.info("Created %s %s (%s)", kind, name, resource_id)
        return ("Resource", "Name", "ID", "Details"), [_row(resource) for resource in result.resources]
