"""The Networking API v2.0 over HTTP, as a WSGI application.

::

    from naas.api import build_app

    app = build_app(conf)        # loads the configured plugins, as the naas command does
    ...                          # serve app with any WSGI server (naas-server does)
    app.close()                  # releases the plugins

What it serves, with Neutron's wire format (bodies wrapped in the resource key,
errors as ``{"NeutronError": {"type", "message", "detail"}}``):

* ``GET /``: version discovery, without authentication;
* ``/v2.0/extensions`` and ``/v2.0/extensions/{alias}``;
* ``/v2.0/{networks,subnets,subnetpools,ports,routers,floatingips}`` and
  ``.../{id}``: list (filters, ``fields``, ``sort_key``/``sort_dir``,
  ``limit``/``marker`` with ``<collection>_links``), create, show, update, delete;
* ``.../{id}/tags`` and ``.../{id}/tags/{tag}``;
* ``PUT /v2.0/routers/{id}/add_router_interface`` and ``remove_router_interface``;
* ``GET`` (``?fields=dry-run`` to check only) and ``DELETE``
  ``/v2.0/auto-allocated-topology/{project_id}``.

Authentication is ``[DEFAULT] auth_strategy`` (``keystone``: keystonemiddleware's
``auth_token`` from ``[keystone_authtoken]``; ``noauth``: identity headers are
trusted); authorization is oslo.policy with the
defaults of :mod:`naas.api.policies`, in front of the library's own isolation.

This module builds the application only; the server process (workers, request
ids, size limits, proxies, CORS, access log) is ``naas-server``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from oslo_config import cfg
from oslo_middleware import opts as oslo_middleware_opts

from naas.api._app import ApiApplication, VersionsApplication
from naas.api._auth import AUTH_STRATEGIES
from naas.api._faults import error_response
from naas.api.policies import make_enforcer
from naas.auto_allocate import AutoAllocatedTopologyMixin, load_auto_allocator
from naas.exceptions import BadRequest
from naas.opts import register_opts
from naas.plugins import CorePlugin, L3Plugin

__all__ = ["NaasApp", "build_app", "build_app_from_plugins", "error_response"]

# [oslo_middleware] max_request_body_size: the one limit naas-server's sizelimit middleware enforces too.
((_, _SIZE_LIMIT_OPTS),) = oslo_middleware_opts.list_opts_sizelimit()

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class NaasApp:
    """The WSGI application: ``/`` is version discovery, everything else the authenticated API.

    ``api`` is the API application behind authentication (without the version
    document), for tests and for the server to inspect. :meth:`close` runs ``on_close``
    (closing plugins that :func:`build_app` loaded); idempotent.
    """

    def __init__(self, api: ApiApplication, protected: WsgiApp, on_close: Callable[[], None] | None = None) -> None:
        self.api = api
        self._protected = protected
        self._versions = VersionsApplication()
        self._on_close = on_close

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in ("", "/"):
            return self._versions(environ, start_response)
        return self._protected(environ, start_response)

    def close(self) -> None:
        """Release the plugins this application loaded itself; nothing for plugins handed to it."""
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()


def build_app_from_plugins(
    core: CorePlugin,
    l3: L3Plugin,
    allocator: AutoAllocatedTopologyMixin,
    conf: cfg.ConfigOpts,
    *,
    on_close: Callable[[], None] | None = None,
) -> NaasApp:
    """The application over the given plugins, with ``conf``'s auth strategy and policy.

    ``conf`` must have parsed its files; naas's options are registered on it if
    they are not yet (``[keystone_authtoken]`` and ``[oslo_policy]`` are
    registered by keystonemiddleware and oslo.policy; ``[oslo_middleware]
    max_request_body_size`` bounds request bodies, 413 beyond it). The policy
    file, if any, is read now. The plugins stay the caller's to close, unless
    ``on_close`` does it.

    Raises BadRequest naming ``auth_strategy`` for an unknown strategy, or
    ``policy_file`` (and the file) for a policy file that cannot be parsed.
    """
    register_opts(conf)
    strategy = conf.auth_strategy
    if strategy not in AUTH_STRATEGIES:
        raise BadRequest("DEFAULT", "auth_strategy", f"must be one of {', '.join(AUTH_STRATEGIES)}, not {strategy!r}")
    conf.register_opts(_SIZE_LIMIT_OPTS, group="oslo_middleware")
    enforcer = make_enforcer(conf)
    # Read the policy file now: a malformed one fails the start, not every request.
    try:
        enforcer.load_rules()
    except Exception as error:
        path = enforcer.policy_path or conf.oslo_policy.policy_file
        raise BadRequest("oslo_policy", "policy_file", f"{path} cannot be used: {error}") from error
    api = ApiApplication(
        core, l3, allocator, enforcer, strategy, max_body_size=conf.oslo_middleware.max_request_body_size
    )
    protected: WsgiApp = api
    if strategy == "keystone":
        from keystonemiddleware import auth_token

        protected = auth_token.AuthProtocol(api, {"oslo_config_config": conf})
    return NaasApp(api, protected, on_close)


def build_app(conf: cfg.ConfigOpts) -> NaasApp:
    """Load the configured plugins, backends and observers (:func:`naas.auto_allocate.load_auto_allocator`,
    as the ``naas`` command does) and build the application over them.

    Raises what loading raises (:class:`~naas.exceptions.PluginLoadError`) and
    what :func:`build_app_from_plugins` raises; on failure nothing stays open.
    The application owns the plugins: :meth:`NaasApp.close` closes them.
    """
    register_opts(conf)
    allocator = load_auto_allocator(conf)
    try:
        return build_app_from_plugins(
            allocator.core_plugin, allocator.l3_plugin, allocator, conf, on_close=allocator.close
        )
    except BaseException:
        allocator.close()
        raise
