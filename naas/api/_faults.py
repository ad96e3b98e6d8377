"""Errors on the wire: ``{"NeutronError": {"type", "message", "detail"}}`` with Neutron's status codes.

naas's exception categories map onto statuses (see :mod:`naas.exceptions`);
``type`` is the name Neutron gives the same error where it has one
(``NetworkNotFound``, ``SubnetInUse``, ``IpAddressAlreadyAllocated`` ...) so that
clients matching on it keep working. An exception naas did not raise on purpose
is logged with its traceback and answered with a 500 that says nothing about it.
"""

from __future__ import annotations

import json
import logging
from typing import Final

import webob

from naas import exceptions

__all__ = ["ApiError", "error_response", "response_for_exception"]

LOG = logging.getLogger(__name__)

_NAMES: Final = {
    "network": "Network",
    "subnet": "Subnet",
    "subnetpool": "SubnetPool",
    "port": "Port",
    "router": "Router",
    "floatingip": "FloatingIP",
}

# Most specific first: the first class the error is an instance of decides its status.
_STATUSES: Final[tuple[tuple[type[exceptions.NaasError], int], ...]] = (
    (exceptions.BadRequest, 400),
    (exceptions.NotAuthorized, 403),
    (exceptions.NotFound, 404),
    (exceptions.Conflict, 409),
    (exceptions.PreconditionFailed, 412),
    (exceptions.ServiceUnavailable, 503),
)


class ApiError(Exception):
    """An error the HTTP layer itself finds (malformed body, unknown path, policy): status, type, message."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


def error_response(status: int | str, error_type: str, message: str, detail: str = "") -> webob.Response:
    """A NeutronError response; ``message`` is what clients show (openstacksdk reads it).

    ``status`` is a code, or a whole status line to keep its reason phrase.
    """
    body = {"NeutronError": {"type": error_type, "message": message, "detail": detail}}
    return webob.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json", charset="utf-8"
    )


def _status_of(error: exceptions.NaasError) -> int | None:
    for category, status in _STATUSES:
        if isinstance(error, category):
            return status
    return None


def _type_of(error: exceptions.NaasError) -> str:
    resource = _NAMES.get(str(getattr(error, "resource", "")), "")
    if type(error) is exceptions.NotFound:
        return f"{resource}NotFound" if resource else "NotFound"
    if type(error) is exceptions.InUse:
        return f"{resource}InUse" if resource else "InUse"
    if type(error) is exceptions.BadRequest:
        return "InvalidInput"
    if type(error) is exceptions.NotAuthorized:
        return "PolicyNotAuthorized"
    return type(error).__name__


def response_for_exception(error: BaseException, request_id: str | None = None) -> webob.Response:
    """The response for ``error``: its status and NeutronError, or a 500 naming only the request id."""
    if isinstance(error, ApiError):
        return error_response(error.status, error.error_type, error.message)
    if isinstance(error, exceptions.NaasError):
        status = _status_of(error)
        if status is not None:
            if status == 503:
                LOG.warning("Request %s: %s", request_id, error)
            return error_response(status, _type_of(error), error.message)
    LOG.error("Request %s failed unexpectedly", request_id, exc_info=error)
    suffix = f" (request {request_id})" if request_id else ""
    return error_response(500, "HTTPInternalServerError", f"Request failed: internal server error{suffix}.")
