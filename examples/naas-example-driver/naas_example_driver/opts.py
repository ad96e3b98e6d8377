"""The example's options, in its own ``[example]`` group.

Each part registers the options it reads when the loader builds it (in
``from_config``), never at import time; :func:`list_opts` lists them all for
``oslo-config-generator --namespace naas_example_driver``.
"""

from __future__ import annotations

from oslo_config import cfg

__all__ = [
    "DEFAULT_AUDIT_MAX_RECORDS",
    "DEFAULT_BACKEND_MAX_MTU",
    "GROUP",
    "example_opts",
    "list_opts",
    "register_opts",
]

GROUP = "example"
DEFAULT_AUDIT_MAX_RECORDS = 10000
DEFAULT_BACKEND_MAX_MTU = 9000

example_opts = [
    cfg.StrOpt(
        "state_file",
        help="The JSON file the example core and L3 plugins keep all of naas's state in (required with "
        "core_plugin = example). Every process configured with the same file shares that state; its "
        "directory must exist and the lock file <state_file>.lock is created next to it.",
    ),
    cfg.IntOpt(
        "audit_max_records",
        default=DEFAULT_AUDIT_MAX_RECORDS,
        min=1,
        help="How many records the example-audit observer keeps in memory; the oldest are dropped first.",
    ),
    cfg.IntOpt(
        "backend_max_mtu",
        default=DEFAULT_BACKEND_MAX_MTU,
        min=68,
        help="The largest network MTU the example backend's dataplane carries; it refuses larger ones.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the ``[example]`` options on ``conf`` (idempotent)."""
    conf.register_opts(example_opts, group=GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """The options by group, for ``oslo-config-generator``."""
    return [(GROUP, list(example_opts))]
