"""The ``naas`` application: global options, the command table, logging, and the exit status.

Commands are registered here, in code, rather than through entry points:
the table below is the whole command set, and starting the command does not
scan installed distributions for commands.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import sys
from collections.abc import Sequence
from typing import Any

from cliff import app, command, commandmanager

from naas.cli import auto_allocate, bootstrap, core, db, l3, topology
from naas.cli.session import PluginLoader, Session
from naas.loading import load_plugins

__all__ = ["COMMANDS", "NaasApp", "main"]

COMMANDS: dict[str, type[command.Command]] = {
    "bootstrap": bootstrap.Bootstrap,
    **auto_allocate.COMMANDS,
    **core.COMMANDS,
    **l3.COMMANDS,
    "topology show": topology.ShowTopology,
    **db.COMMANDS,
}

_DESCRIPTION = "Networking-as-a-Service: networks, routers and get-me-a-network, on the configured plugins."


class _OwnRecordsOnly(logging.Filter):
    """Let through the command's own messages only.

    The plugins log what they also raise; at the default verbosity the one
    error line is enough. ``-v`` or ``--debug`` shows everything.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == "naas.cli" or record.name.startswith("naas.cli.")


class NaasApp(app.App):
    """The ``naas`` command. ``plugin_loader`` replaces :func:`naas.load_plugins`, to embed or test it."""

    NAME = "naas"
    LOG = logging.getLogger("naas.cli")

    def __init__(self, plugin_loader: PluginLoader = load_plugins, **streams: Any) -> None:
        manager = commandmanager.CommandManager("naas.cli")
        for name, command_class in COMMANDS.items():
            manager.add_command(name, command_class)
        super().__init__(
            description=_DESCRIPTION,
            version=importlib.metadata.version("naas-networking"),
            command_manager=manager,
            deferred_help=True,
            **streams,
        )
        self.plugin_loader = plugin_loader
        self.session: Session | None = None
        self._handlers: list[logging.Handler] = []
        self._root_level = logging.getLogger().level

    def build_option_parser(
        self, description: str | None, version: str | None, argparse_kwargs: dict[str, Any] | None = None
    ) -> argparse.ArgumentParser:
        # cliff names the program after sys.argv[0], which is "main.py" under ``python -m naas.cli.main``.
        parser = super().build_option_parser(description, version, {**(argparse_kwargs or {}), "prog": self.NAME})
        for action in parser._actions:
            if isinstance(action, argparse._VersionAction):
                action.version = f"{self.NAME} {version}"
        parser.add_argument(
            "--config-file",
            dest="config_files",
            metavar="PATH",
            action="append",
            default=[],
            help="A configuration file (repeatable; later files override earlier ones). Default: "
            "oslo.config's search (~/.naas/naas.conf, ~/naas.conf, /etc/naas/naas.conf, /etc/naas.conf).",
        )
        return parser

    def initialize_app(self, argv: list[str]) -> None:
        self.session = Session(self.options.config_files, self.plugin_loader)

    def configure_logging(self) -> None:
        verbose = self.options.verbose_level
        console = logging.StreamHandler(self.stderr)
        console.setFormatter(logging.Formatter(self.CONSOLE_MESSAGE_FORMAT))
        console.setLevel({0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG))
        if verbose <= 1 and not self.options.debug:
            console.addFilter(_OwnRecordsOnly())
        self._handlers = [console]
        if self.options.log_file:
            log_file = logging.FileHandler(self.options.log_file)
            log_file.setFormatter(logging.Formatter(self.LOG_FILE_MESSAGE_FORMAT))
            log_file.setLevel(logging.DEBUG)
            self._handlers.append(log_file)
        root = logging.getLogger()
        for handler in self._handlers:
            root.addHandler(handler)
        root.setLevel(min(handler.level for handler in self._handlers))

    def run_subcommand(self, argv: list[str]) -> int:
        try:
            self.command_manager.find_command(argv)
        except ValueError:
            # cliff would print its suggestions on stdout; errors belong on stderr, on one line.
            self.stderr.write(f"naas: '{' '.join(argv)}' is not a naas command. See 'naas --help'.\n")
            return 2
        return super().run_subcommand(argv)

    def run(self, argv: list[str]) -> int:
        try:
            return super().run(argv)
        finally:
            # Leave the process's logging as it was, so that the app can run in-process (tests, embedding).
            root = logging.getLogger()
            for handler in self._handlers:
                root.removeHandler(handler)
                handler.close()
            root.setLevel(self._root_level)


def main(argv: Sequence[str] | None = None) -> int:
    return NaasApp().run(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
