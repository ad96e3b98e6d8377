"""naas.server's middleware in-process: NeutronError bodies, the size limit on bodies of unknown length, the stack."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import webob
import webob.exc
from oslo_config import cfg

from naas.server import NeutronErrors, register_middleware_opts
from naas.server._middleware import WholeBody, wrap


def answering(response: webob.Response) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return response(environ, start_response)  # type: ignore[no-any-return]

    return app


def neutron_error(response: webob.Response) -> dict[str, str]:
    assert response.content_type == "application/json"
    error: dict[str, str] = json.loads(response.body)["NeutronError"]
    return error


@pytest.mark.parametrize("accept", ["text/html", "text/plain", "application/json", "*/*"])
def test_a_webob_error_page_becomes_a_neutron_error_whatever_the_client_accepts(accept: str) -> None:
    page = webob.exc.HTTPConflict(detail="Only one, please.", headers={"Retry-After": "3"})
    app = NeutronErrors(answering(page))

    response = webob.Request.blank("/x", headers={"Accept": accept}).get_response(app)

    assert response.status_code == 409
    error = neutron_error(response)
    assert error["type"] == "HTTPConflict"
    assert error["message"].endswith("Only one, please.")
    assert "409" not in error["message"] and "<" not in error["message"]
    assert response.headers["Retry-After"] == "3"


def test_a_neutron_error_passes_unchanged() -> None:
    body = {"NeutronError": {"type": "NetworkNotFound", "message": "Network x could not be found.", "detail": ""}}
    original = webob.Response(status=404, json_body=body)

    response = webob.Request.blank("/x").get_response(NeutronErrors(answering(original)))

    assert (response.status_code, json.loads(response.body)) == (404, body)


def test_successes_and_given_messages() -> None:
    ok = webob.Response(status=200, body=b"plain", content_type="text/plain")
    assert webob.Request.blank("/").get_response(NeutronErrors(answering(ok))).body == b"plain"

    refused = NeutronErrors(answering(webob.exc.HTTPRequestEntityTooLarge()), {413: "Too big: 10 bytes at most."})
    error = neutron_error(webob.Request.blank("/").get_response(refused))
    assert error == {"type": "HTTPRequestEntityTooLarge", "message": "Too big: 10 bytes at most.", "detail": ""}


def test_an_http_exception_raised_by_the_application_is_answered() -> None:
    def raising(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise webob.exc.HTTPRequestEntityTooLarge(explanation="Body too large.")

    response = webob.Request.blank("/", method="POST").get_response(NeutronErrors(raising))

    assert response.status_code == 413
    assert "Body too large." in neutron_error(response)["message"]


def chunked(body: bytes, method: str = "POST") -> webob.Request:
    """A request whose body has no Content-Length, as gunicorn passes a chunked upload."""
    request = webob.Request.blank("/v2.0/networks", method=method)
    request.environ["wsgi.input"] = io.BytesIO(body)
    request.environ.pop("CONTENT_LENGTH", None)
    request.environ["wsgi.input_terminated"] = True
    return request


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    request = webob.Request(environ)
    seen = {"content_length": request.content_length, "body": request.body.decode()}
    return webob.Response(json_body=seen)(environ, start_response)  # type: ignore[no-any-return]


def test_whole_body_hands_on_a_chunked_body_with_its_length() -> None:
    response = chunked(b'{"network": {}}').get_response(WholeBody(echo))

    assert json.loads(response.body) == {"content_length": 15, "body": '{"network": {}}'}


def server_conf(**overrides: Any) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    register_middleware_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    for name, value in overrides.items():
        conf.set_override(name, value, group="oslo_middleware")
    return conf


@pytest.mark.parametrize("length_known", [True, False])
def test_the_stack_refuses_a_body_over_the_limit_before_the_application(length_known: bool) -> None:
    reached: list[str] = []

    def api(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        reached.append(webob.Request(environ).body.decode())
        return webob.Response(status=201)(environ, start_response)  # type: ignore[no-any-return]

    app = wrap(api, server_conf(max_request_body_size=64))
    body = b"x" * 65
    request = webob.Request.blank("/v2.0/networks", method="POST", body=body) if length_known else chunked(body)

    response = request.get_response(app)

    assert response.status_code == 413
    assert neutron_error(response)["message"] == (
        "Request body is larger than [oslo_middleware] max_request_body_size (64 bytes)."
    )
    assert response.headers["X-Openstack-Request-Id"].startswith("req-")
    assert reached == []
    within = webob.Request.blank("/v2.0/networks", method="POST", body=b"y" * 64).get_response(app)
    assert within.status_code == 201 and reached == ["y" * 64]


@pytest.mark.parametrize("enabled", [True, False])
def test_proxy_headers_are_read_only_when_enabled(enabled: bool) -> None:
    def url(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return webob.Response(json_body={"url": webob.Request(environ).host_url})(environ, start_response)  # type: ignore[no-any-return]

    app = wrap(url, server_conf(enable_proxy_headers_parsing=enabled))
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "naas.example.test"}

    response = webob.Request.blank("/v2.0", headers=headers).get_response(app)

    assert json.loads(response.body)["url"] == ("https://naas.example.test" if enabled else "http://localhost")
    assert response.headers["X-Openstack-Request-Id"].startswith("req-")
