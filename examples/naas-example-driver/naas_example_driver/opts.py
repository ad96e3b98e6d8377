"""The example driver's options, in its own ``[example]`` group.

A driver registers its options when the loader builds it (in ``from_config``),
never at import time, and lists them for ``oslo-config-generator --namespace
naas_example_driver``.
"""

from __future__ import annotations

from oslo_config import cfg

__all__ = ["DEFAULT_AUDIT_MAX_RECORDS", "GROUP", "example_opts", "list_opts", "register_opts"]

GROUP = "example"
DEFAULT_AUDIT_MAX_RECORDS = 10000

example_opts = [
    cfg.IntOpt(
        "audit_max_records",
        default=DEFAULT_AUDIT_MAX_RECORDS,
        min=1,
        help="How many audit records the example plugins keep in memory; the oldest are dropped first.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the ``[example]`` options on ``conf`` (idempotent)."""
    conf.register_opts(example_opts, group=GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """The options by group, for ``oslo-config-generator``."""
    return [(GROUP, list(example_opts))]
