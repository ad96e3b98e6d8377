"""The ``naas-server`` command: read the configuration, prepare in the master, then serve."""

from __future__ import annotations

import logging
import sys

from oslo_config import cfg
from oslo_log import log as oslo_log

from naas.exceptions import NaasError
from naas.opts import API_GROUP, register_opts, unknown_options
from naas.server._gunicorn import GunicornServer, bind_address
from naas.server._middleware import register_middleware_opts
from naas.server._startup import prepare

__all__ = ["load_server_config", "run"]

LOG = logging.getLogger("naas.server")


def load_server_config(argv: list[str]) -> cfg.ConfigOpts:
    """Parse ``argv`` (``--config-file``, ``--config-dir``, oslo.log's options) with every server option registered.

    Without ``--config-file``, oslo.config's usual places are read
    (``~/.naas/naas.conf``, ``/etc/naas/naas.conf`` ...), as by the ``naas`` command.
    """
    conf = cfg.ConfigOpts()
    register_opts(conf)
    register_middleware_opts(conf)
    oslo_log.register_options(conf)
    conf.set_default("use_stderr", True)
    conf(args=argv, project="naas", prog="naas-server")
    return conf


def run(argv: list[str] | None = None) -> int:
    """Start naas-server with the command line ``argv`` (default: ``sys.argv[1:]``); returns only on failure."""
    try:
        conf = load_server_config(sys.argv[1:] if argv is None else argv)
    except cfg.Error as error:
        print(f"naas-server: {error}", file=sys.stderr)
        return 2
    oslo_log.setup(conf, "naas")
    api = conf[API_GROUP]
    try:
        report = prepare(conf)
    except NaasError as error:
        print(f"naas-server: {error}", file=sys.stderr)
        return 1
    # After the plugins registered their options; sections no one registered yet (the API's
    # [keystone_authtoken], [oslo_policy]) are left alone.
    for unknown in unknown_options(conf, whole_sections=False):
        LOG.warning("%s", unknown)
    LOG.info(
        "Serving the Networking API on http://%s/ with %d worker(s) of %d thread(s): core %s, L3 %s, "
        "backends %s, observers %s",
        bind_address(api.bind_host, api.bind_port),
        api.workers,
        api.threads,
        report.core_plugin,
        report.l3_plugin,
        list(report.backends) or "none",
        list(report.observers) or "none",
    )
    from naas.server import build_wsgi_app

    GunicornServer(conf, build_wsgi_app).run()
    return 0
