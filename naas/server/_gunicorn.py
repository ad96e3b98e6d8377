"""naas-server's process model: gunicorn's pre-fork master with threaded workers.

gunicorn's master binds the socket, forks ``[api] workers`` processes and
replaces any that die; each worker serves ``[api] threads`` requests at once
(gunicorn's ``gthread`` worker). On SIGTERM the master closes the listening
socket and tells the workers to stop: each stops accepting, finishes the
requests it has (at most ``[api] graceful_timeout`` seconds) and exits. SIGINT
and SIGQUIT stop at once.

The application is built in each worker after the fork (``preload_app`` is
off), so every worker opens its own database connections and backends, and
closes them when it exits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
from oslo_config import cfg

from naas.opts import API_GROUP

__all__ = ["GunicornServer", "bind_address"]

LOG = logging.getLogger(__name__)

AppFactory = Callable[[cfg.ConfigOpts], Any]


def bind_address(host: str, port: int) -> str:
    """gunicorn's spelling of a TCP address: ``host:port``, an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn configured from ``conf``'s ``[api]`` group, serving what ``app_factory(conf)`` builds in each worker.

    ``app_factory``'s result may have a ``close()``: the worker calls it when it exits.
    """

    def __init__(self, conf: cfg.ConfigOpts, app_factory: AppFactory) -> None:
        self.conf = conf
        self.app_factory = app_factory
        self._application: Any = None
        super().__init__(prog="naas-server")

    def settings(self) -> dict[str, Any]:
        """The gunicorn settings ``[api]`` (and ``[DEFAULT] debug``) stand for."""
        api = self.conf[API_GROUP]
        return {
            "bind": [bind_address(api.bind_host, api.bind_port)],
            "workers": api.workers,
            "worker_class": "gthread",
            "threads": api.threads,
            "graceful_timeout": api.graceful_timeout,
            "keepalive": api.keepalive_timeout,
            "accesslog": api.access_log or None,
            "access_log_format": api.access_log_format,
            "errorlog": "-",
            "loglevel": "debug" if self.conf.debug else "info",
            "preload_app": False,
            "proc_name": "naas-server",
            "worker_exit": self._worker_exit,
        }

    def load_config(self) -> None:
        for name, value in self.settings().items():
            self.cfg.set(name, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn 24+ opens a control socket in $HOME by default; naas-server is driven by signals.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        # In the worker, after the fork: its own plugins and connections.
        self._application = self.app_factory(self.conf)
        return self._application

    def _worker_exit(self, server: Any, worker: Any) -> None:
        close = getattr(self._application, "close", None)
        if close is None:
            return
        try:
            close()
        except Exception:
            LOG.exception("Closing the API's plugins in worker %s failed", getattr(worker, "pid", "?"))
