"""The WSGI middleware naas-server puts around the API: proxies, CORS, request ids, the body size limit.

From the outside in::

    CORS -> HTTPProxyToWSGI -> RequestId -> NeutronErrors -> RequestBodySizeLimiter -> WholeBody -> the API

Each is oslo.middleware's, configured from the server's ``conf`` (``[cors]``,
``[oslo_middleware]``; HTTPProxyToWSGI is left out unless
``enable_proxy_headers_parsing`` is on), except :class:`NeutronErrors`: the middleware answer
their refusals (a body over ``max_request_body_size``: 413) as webob's
text or HTML pages, and clients read errors only from Neutron's JSON
(``{"NeutronError": {"type", "message", "detail"}}``), so it rewrites every
error response that is not already one, and :class:`WholeBody`: a body sent
without a Content-Length (chunked) is read to its end, through the size
limiter's reader, before the API sees the request, so that one over the limit
is a 413 too, and the API always sees a body of known length.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import webob
import webob.exc
from oslo_config import cfg
from oslo_middleware import cors, http_proxy_to_wsgi, request_id, sizelimit
from oslo_middleware import opts as middleware_opts

from naas.api import error_response

__all__ = ["NeutronErrors", "WholeBody", "register_middleware_opts", "wrap"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# What browsers may send and read, besides the CORS-safelisted headers.
_CORS_ALLOW_HEADERS = [
    "Content-Type",
    "If-Match",
    "X-Auth-Token",
    "X-Identity-Status",
    "X-Openstack-Request-Id",
    "X-Project-Id",
    "X-Roles",
    "X-Tenant-Id",
    "X-User-Id",
]
_CORS_EXPOSE_HEADERS = ["X-Openstack-Request-Id"]
_CORS_ALLOW_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS"]

_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def register_middleware_opts(conf: cfg.ConfigOpts) -> None:
    """Register the ``[cors]`` and ``[oslo_middleware]`` options the server reads, with its CORS defaults."""
    for group, group_opts in (
        *middleware_opts.list_opts_cors(),
        *middleware_opts.list_opts_sizelimit(),
        *middleware_opts.list_opts_http_proxy_to_wsgi(),
    ):
        conf.register_opts(list(group_opts), group=group)
    conf.set_default("allow_headers", _CORS_ALLOW_HEADERS, group="cors")
    conf.set_default("expose_headers", _CORS_EXPOSE_HEADERS, group="cors")
    conf.set_default("allow_methods", _CORS_ALLOW_METHODS, group="cors")


def wrap(app: WSGIApp, conf: cfg.ConfigOpts) -> WSGIApp:
    """``app`` inside naas-server's middleware, configured from ``conf``."""
    register_middleware_opts(conf)
    limit = conf.oslo_middleware.max_request_body_size
    too_large = f"Request body is larger than [oslo_middleware] max_request_body_size ({limit} bytes)."
    limited = sizelimit.RequestBodySizeLimiter(WholeBody(app), conf)
    with_ids = request_id.RequestId(NeutronErrors(limited, {413: too_large}))
    # The proxy-header middleware does nothing unless enabled (the option is not mutable): without it, a request
    # crosses one webob layer fewer.
    proxied = (
        http_proxy_to_wsgi.HTTPProxyToWSGI(with_ids, conf)
        if conf.oslo_middleware.enable_proxy_headers_parsing
        else with_ids
    )
    return cors.CORS(proxied, conf)


class WholeBody:
    """Read a body of unknown length (chunked) before the application: the reader's 413 comes from here.

    Inside ``oslo_middleware.sizelimit.RequestBodySizeLimiter``, the
    read stops with its 413 as soon as the body passes the limit; a body
    within it is handed on with its Content-Length.
    """

    METHODS = frozenset({"POST", "PUT", "PATCH"})

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = webob.Request(environ)
        if request.method in self.METHODS and request.content_length is None and request.is_body_readable:
            try:
                body = request.body_file.read()
            except webob.exc.HTTPException as error:
                return error(environ, start_response)  # type: ignore[no-any-return]
            request.body = body
        return self.application(environ, start_response)


class NeutronErrors:
    """Answer every error as a NeutronError: JSON with a ``type`` and the refusal's ``message``.

    An error response that already is one passes unchanged. Another (webob's
    page for an HTTP exception a middleware raised or returned) becomes
    ``{"NeutronError": {"type": "HTTP<Reason>", "message": <its text>, "detail": ""}}``
    with the same status and headers; ``messages`` gives the message of a
    status instead (the size limiter's own message lacks its limit).
    """

    def __init__(self, application: Callable[..., Iterable[bytes]], messages: dict[int, str] | None = None) -> None:
        self.application = application
        self.messages = dict(messages or {})

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = webob.Request(environ)
        try:
            response = request.get_response(self.application)
        except webob.exc.HTTPException as error:
            # Raised by a body reader the size limiter put in place, past the limit, in mid-read.
            response = request.get_response(error)
        if response.status_code >= 400 and not _is_neutron_error(response):
            response = _as_neutron_error(response, self.messages.get(response.status_code))
        return response(environ, start_response)  # type: ignore[no-any-return]


def _is_neutron_error(response: webob.Response) -> bool:
    if response.content_type != "application/json":
        return False
    try:
        body = json.loads(response.body)
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("NeutronError"), dict)


def _as_neutron_error(response: webob.Response, message: str | None) -> webob.Response:
    status = response.status_code
    reason = response.status.partition(" ")[2]
    exception_class = webob.exc.status_map.get(status)
    error_type = exception_class.__name__ if exception_class is not None else "HTTP" + reason.replace(" ", "")
    if message is None:
        message = _message_of(response, reason)
    rewritten = error_response(response.status, error_type, message)
    for name, value in response.headerlist:
        if name.lower() not in ("content-type", "content-length"):
            rewritten.headers.add(name, value)
    return rewritten


def _message_of(response: webob.Response, reason: str) -> str:
    """The text of an error page, without its status line; the reason phrase when it says nothing else."""
    text = response.text if response.charset else response.body.decode("utf-8", "replace")
    if response.content_type == "application/json":
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict) and isinstance(loaded.get("message"), str):
            text = loaded["message"]
    if response.content_type != "text/plain":
        # webob's HTML page, and the HTML line breaks it puts in its JSON message too.
        text = html.unescape(_TAGS.sub(" ", text))
    text = _SPACE.sub(" ", text).strip()
    # webob's HTML page says the status twice (title and heading); a text page once.
    for prefix in (f"{response.status_code} {reason}", reason) * 2:
        text = text.removeprefix(prefix).strip()
    return text or reason
