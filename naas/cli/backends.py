"""``naas backend sync``: make the network backends' dataplanes match what is stored.

Run at start-up, after a backend failed (resources in ``ERROR``), or whenever
an operator doubts a dataplane. Each row is one repair a backend made (or,
with ``--report``, would make); a backend that failed is said on stderr and the
command exits 1. Resources that every backend realizes again leave ``ERROR``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from naas.cli.base import NaasLister
from naas.cli.errors import CommandError
from naas.cli.output import escape_text
from naas.rules import CoreRules

__all__ = ["SyncBackends"]


class SyncBackends(NaasLister):
    """Make every configured network backend match storage (``--report``: only say how they differ)."""

    _failed = False

    def run(self, parsed_args: argparse.Namespace) -> int:
        status = super().run(parsed_args)
        return 1 if status == 0 and self._failed else status

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "--report",
            action="store_true",
            help="Change nothing; list the repairs each backend would make.",
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        plugins = self.session.plugins
        core = plugins.core
        if not isinstance(core, CoreRules):
            raise CommandError(
                f"the core plugin {type(core).__module__}.{type(core).__qualname__} programs no network backends "
                "of naas's: it is a whole plugin that owns its dataplane"
            )
        if not len(plugins.backends):
            raise CommandError("no network backend is configured ([DEFAULT] backends is empty): nothing to sync")
        report = core.dataplane.sync(repair=not parsed_args.report)
        for failure in report.failures:
            print(f"naas backend sync: {escape_text(str(failure))}", file=sys.stderr)
        self._failed = bool(report.failures)
        rows = [
            (backend, repair.resource_type.value, repair.resource_id, repair.action.value, repair.detail or "")
            for backend, repair in report.repairs
        ]
        return ("Backend", "Resource type", "Resource ID", "Action", "Detail"), rows
