"""Who is asking: the caller's credentials from the request, for oslo.policy and for the library's context.

``[DEFAULT] auth_strategy``:

* ``keystone``: keystonemiddleware's ``auth_token`` (configured in
  ``[keystone_authtoken]``) checks the ``X-Auth-Token`` and replaces the
  identity headers with the token's (``X-Project-Id``, ``X-User-Id``,
  ``X-Roles``); a request it did not confirm never reaches the API.
* ``noauth``: nothing is checked. The caller states who it is with the same
  headers (``X-Project-Id`` or ``X-Tenant-Id``, ``X-User-Id``, ``X-Roles`` as a
  comma-separated list). A request stating none of them is the admin, so that an
  operator's ``curl`` or an openstacksdk connection with ``auth_type=none`` works;
  such a server must only be reachable by those trusted to be admins.

The credentials are oslo.context's (:meth:`oslo_context.context.RequestContext.from_environ`),
so the request id set by oslo.middleware's ``RequestId`` (``openstack.request_id``)
is the library context's request id too.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Hashable
from typing import Any, Final

from oslo_context import context as oslo_context

from naas.api._faults import ApiError
from naas.api.policies import freeze_credentials
from naas.context import RequestContext

__all__ = ["AUTH_STRATEGIES", "Caller", "caller_from_environ"]

AUTH_STRATEGIES: Final = ("noauth", "keystone")
NOAUTH_ADMIN_PROJECT: Final = "admin"
"""The project an identity-less noauth request acts for (as :func:`naas.context.admin_context`)."""

_IDENTITY_HEADERS: Final = ("HTTP_X_PROJECT_ID", "HTTP_X_TENANT_ID", "HTTP_X_TENANT", "HTTP_X_ROLES", "HTTP_X_ROLE")
_IDENTITY_HEADERS_USER: Final = ("HTTP_X_USER_ID", "HTTP_X_USER")


@dataclasses.dataclass(frozen=True)
class Caller:
    """The caller: oslo.policy's credentials, and the project and request id for the library's context."""

    credentials: dict[str, Any]
    project_id: str
    request_id: str

    @functools.cached_property
    def credentials_key(self) -> Hashable | None:
        """The credentials as the policy enforcer remembers decisions by (computed once per request)."""
        return freeze_credentials(self.credentials)

    def context(self, is_admin: bool) -> RequestContext:
        """The library's context for this caller; ``is_admin`` is what ``context_is_admin`` said."""
        return RequestContext(project_id=self.project_id, is_admin=is_admin, request_id=self.request_id)


def caller_from_environ(environ: dict[str, Any], auth_strategy: str) -> Caller:
    """The caller of the request in ``environ``; ApiError 401 when its identity is incomplete."""
    if auth_strategy == "noauth" and not any(environ.get(name) for name in _IDENTITY_HEADERS + _IDENTITY_HEADERS_USER):
        context = oslo_context.RequestContext.from_environ(
            environ, project_id=NOAUTH_ADMIN_PROJECT, roles=["admin"], is_admin=True
        )
    else:
        if auth_strategy == "keystone" and environ.get("HTTP_X_IDENTITY_STATUS") != "Confirmed":
            raise ApiError(401, "HTTPUnauthorized", "Authentication required: the token was not confirmed.")
        context = oslo_context.RequestContext.from_environ(environ)
        if not context.project_id:
            raise ApiError(
                401,
                "HTTPUnauthorized",
                "The request names no project: a project-scoped token (or X-Project-Id under noauth) is required.",
            )
    project_id = str(context.project_id)
    credentials = dict(context.to_policy_values())
    credentials["tenant_id"] = project_id
    return Caller(credentials=credentials, project_id=project_id, request_id=context.request_id)
