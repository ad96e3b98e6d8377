"""The ``naas`` application: global options, the command table, logging, and the exit status.

Commands come from the ``naas.cli`` entry-point namespace, as the openstack
client's do: naas registers its own there (see ``setup.cfg``), and any
installed distribution may add more (a driver's ``naas vendor sync``), their
names with underscores for spaces. An unknown command is answered with the
nearest known ones.

Logging goes through oslo.log, configured by ``naas.conf`` (``debug``,
``log_file``, ``log_dir``, ``log_config_append``, ``use_syslog`` ...). The
console is the command's own: its messages, and everything at ``-v`` /
``--debug`` or with ``debug = true``. A setting ``naas.conf`` has that no
option reads (a mistyped name) is warned about, naming the file, the section
and the option.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import logging
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from cliff import app, command, commandmanager
from oslo_config import cfg
from oslo_log import log as oslo_log

from naas.cli.session import PluginLoader, Session
from naas.loading import load_plugins
from naas.opts import UnknownOption, unknown_options

__all__ = ["COMMAND_NAMESPACE", "NaasApp", "main", "nearest_commands"]

COMMAND_NAMESPACE = "naas.cli"
"""The entry-point namespace of ``naas`` commands: ``vendor_sync = vendor.cli:Sync`` is ``naas vendor sync``."""

_DESCRIPTION = "Networking-as-a-Service: networks, routers and get-me-a-network, on the configured plugins."
_SUGGESTIONS = 5


def _version() -> str:
    # Whatever the distribution is called, it is the one that installed this package.
    for distribution in importlib.metadata.packages_distributions().get("naas", []):
        return importlib.metadata.version(distribution)
    return "unknown"


def nearest_commands(words: Sequence[str], names: Iterable[str]) -> list[str]:
    """The command names nearest to what was typed (``words``, options excluded), best first.

    A typed prefix of commands (``network``) gives the commands it begins;
    otherwise the names most alike, with as many words as were typed.
    """
    typed = " ".join(words)
    names = sorted(names, key=lambda name: (len(name.split()), name))
    begun = [name for name in names if name.startswith(typed + " ")]
    if begun:
        return begun[:_SUGGESTIONS]
    ratios = {name: difflib.SequenceMatcher(None, " ".join(words[: len(name.split())]), name).ratio() for name in names}
    best = max(ratios.values(), default=0.0)
    # The names almost as alike as the best one, and alike enough to be what was meant.
    close = [name for name in names if ratios[name] >= max(best - 0.1, 0.75)]
    return sorted(close, key=lambda name: -ratios[name])[:_SUGGESTIONS]


class _OwnRecordsOnly(logging.Filter):
    """Let through the command's own messages only.

    The plugins log what they also raise; at the default verbosity the one
    error line is enough. ``-v``, ``--debug`` or ``debug = true`` shows everything.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == "naas.cli" or record.name.startswith("naas.cli.")


def _is_console(handler: logging.Handler) -> bool:
    return (
        isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and handler.stream in (sys.stdout, sys.stderr)
    )


class NaasApp(app.App):
    """The ``naas`` command.

    ``plugin_loader`` replaces :func:`naas.load_plugins`, and ``command_manager``
    the commands of the ``naas.cli`` namespace, to embed or test it.
    """

    NAME = "naas"
    LOG = logging.getLogger("naas.cli")

    def __init__(
        self,
        plugin_loader: PluginLoader = load_plugins,
        command_manager: commandmanager.CommandManager | None = None,
        **streams: Any,
    ) -> None:
        self.naas_version = _version()
        super().__init__(
            description=_DESCRIPTION,
            version=self.naas_version,
            command_manager=command_manager or commandmanager.CommandManager(COMMAND_NAMESPACE),
            deferred_help=True,
            **streams,
        )
        self.plugin_loader = plugin_loader
        self.session: Session | None = None
        self._console: logging.Handler | None = None
        self._reported: set[UnknownOption] = set()
        # What run() puts back, so that the app can run in-process (tests, embedding).
        root = logging.getLogger()
        self._saved_logging = (list(root.handlers), root.level, sys.excepthook)

    def build_option_parser(
        self, description: str | None, version: str | None, argparse_kwargs: dict[str, Any] | None = None
    ) -> argparse.ArgumentParser:
        # cliff names the program after sys.argv[0], which is "main.py" under ``python -m naas.cli.main``.
        parser = super().build_option_parser(description, version, {**(argparse_kwargs or {}), "prog": self.NAME})
        for action in parser._actions:
            if isinstance(action, argparse._VersionAction):
                action.version = f"{self.NAME} {version}"
            if "--log-file" in action.option_strings:
                action.help = "Log to this file (overrides log_file in the configuration)."
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

    def configure_logging(self) -> None:
        """The console, from the command line alone; :meth:`initialize_app` adds what ``naas.conf`` asks."""
        self._console = logging.StreamHandler(self.stderr)
        self._console.setFormatter(logging.Formatter(self.CONSOLE_MESSAGE_FORMAT))
        self._set_console_level(debug=False)
        root = logging.getLogger()
        root.addHandler(self._console)
        root.setLevel(self._console.level)

    def _set_console_level(self, debug: bool) -> None:
        assert self._console is not None
        verbose = self.options.verbose_level
        self._console.setLevel(
            logging.DEBUG if debug else {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
        )
        self._console.filters.clear()
        if verbose <= 1 and not (debug or self.options.debug):
            self._console.addFilter(_OwnRecordsOnly())

    def initialize_app(self, argv: list[str]) -> None:
        self.session = Session(self.options.config_files, self.plugin_loader)
        try:
            conf = self.session.conf
        except cfg.Error:
            return  # the command reports the broken configuration when it reads it
        self._configure_oslo_log(conf)
        self.LOG.debug("Configuration read from: %s", ", ".join(conf.config_file) or "no file, the defaults")
        self._warn_unknown(unknown_options(conf, whole_sections=False))

    def _configure_oslo_log(self, conf: cfg.ConfigOpts) -> None:
        if self.options.log_file:
            conf.set_override("log_file", self.options.log_file)
        self._set_console_level(debug=conf.debug)
        root = logging.getLogger()
        destinations = conf.log_config_append or conf.log_file or conf.log_dir or conf.use_syslog or conf.use_journal
        if destinations:
            oslo_log.setup(conf, "naas", self.naas_version)
            # Failures are the command's to report, on one line: not oslo.log's excepthook.
            sys.excepthook = self._saved_logging[2]
            if not conf.log_config_append:
                for handler in [handler for handler in root.handlers if _is_console(handler)]:
                    root.removeHandler(handler)  # oslo.log's own console; the command has its own
            for handler in root.handlers:
                if handler.level == logging.NOTSET:
                    handler.setLevel(root.level)
        assert self._console is not None
        root.addHandler(self._console)
        root.setLevel(min(root.level if destinations else logging.CRITICAL, self._console.level))

    def _warn_unknown(self, found: Iterable[UnknownOption]) -> None:
        for unknown in found:
            if unknown not in self._reported:
                self._reported.add(unknown)
                self.LOG.warning("%s", unknown)

    def clean_up(self, cmd: command.Command, result: int, err: BaseException | None) -> None:
        session = self.session
        # Once plugins are loaded, every group is registered: report the settings no one read.
        if session is not None and "plugins" in session.__dict__:
            self._warn_unknown(unknown_options(session.conf))

    def run_subcommand(self, argv: list[str]) -> int:
        try:
            self.command_manager.find_command(argv)
        except ValueError:
            # cliff would print its suggestions on stdout; errors belong on stderr, on one line.
            first_option = next((index for index, word in enumerate(argv) if word.startswith("-")), len(argv))
            nearest = nearest_commands(argv[:first_option], (name for name, _ in self.command_manager))
            hint = f" Did you mean {', '.join(repr(name) for name in nearest)}?" if nearest else ""
            self.stderr.write(f"naas: '{' '.join(argv)}' is not a naas command.{hint} See 'naas --help'.\n")
            return 2
        return super().run_subcommand(argv)

    def run(self, argv: list[str]) -> int:
        try:
            return super().run(argv)
        finally:
            root = logging.getLogger()
            handlers, level, excepthook = self._saved_logging
            for handler in list(root.handlers):
                if handler not in handlers:
                    root.removeHandler(handler)
                    handler.close()
            for handler in handlers:
                if handler not in root.handlers:
                    root.addHandler(handler)
            root.setLevel(level)
            sys.excepthook = excepthook


def main(argv: Sequence[str] | None = None) -> int:
    return NaasApp().run(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
