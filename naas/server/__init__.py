"""``naas-server``: the Networking API v2.0 over HTTP, for openstacksdk, the ``openstack`` command and Nova.

::

    naas-server --config-file /etc/naas/naas.conf

starts gunicorn's pre-fork master on ``[api] bind_host:bind_port`` (default
``127.0.0.1:9696``). Before it forks it loads the configured plugins, backends
and observers once (the sql plugins create or upgrade their schema then),
refuses ``[api] workers`` above one on a storage that is not shared between
processes, runs a backend sync, and closes them all. Each of the ``workers``
processes then builds its own application with :func:`build_wsgi_app`: the API
of ``naas.api.build_app`` inside oslo.middleware's CORS, proxy-header
(``[oslo_middleware] enable_proxy_headers_parsing``), request id
(``X-Openstack-Request-Id``) and body size limit (``[oslo_middleware]
max_request_body_size``: a larger body is a 413 NeutronError).

SIGTERM stops gracefully: no new connection is accepted and the requests in
flight finish (for at most ``[api] graceful_timeout`` seconds). Each request
is written to the access log (``[api] access_log``) with its request id.

The parts, for an application that embeds the API in a server of its own:
:func:`build_wsgi_app` (the WSGI callable with the middleware) and
:func:`prepare` (the start-up checks and backend sync).
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from naas.server._middleware import NeutronErrors, register_middleware_opts, wrap
from naas.server._startup import StartupError, StartupReport, prepare, shared_between_processes

__all__ = [
    "NeutronErrors",
    "ServerApp",
    "StartupError",
    "StartupReport",
    "build_wsgi_app",
    "main",
    "prepare",
    "register_middleware_opts",
    "shared_between_processes",
]


class ServerApp:
    """The API inside naas-server's middleware: a WSGI callable whose :meth:`close` releases the API's plugins."""

    def __init__(self, api: Any, conf: cfg.ConfigOpts) -> None:
        self.api = api
        self.wsgi = wrap(api, conf)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.wsgi(environ, start_response)

    def close(self) -> None:
        """Close the API's plugins, if it holds any (``api.close()``)."""
        close = getattr(self.api, "close", None)
        if close is not None:
            close()


def build_wsgi_app(conf: cfg.ConfigOpts) -> ServerApp:
    """The WSGI application naas-server serves: ``naas.api.build_app`` inside the middleware.

    Loads the configured plugins (in the calling process: call it after any fork).
    """
    from naas.api import build_app  # the API loads plugins and policy; imported when a server is built

    register_middleware_opts(conf)
    return ServerApp(build_app(conf), conf)


def main(argv: list[str] | None = None) -> int:
    """The ``naas-server`` console script."""
    from naas.server._main import run

    return run(argv)
