"""The request context passed first to every plugin call."""

from __future__ import annotations

import dataclasses
import uuid

from naas.exceptions import BadRequest
from naas.requests import to_project_id

__all__ = ["RequestContext", "admin_context"]


def _new_request_id() -> str:
    return f"req-{uuid.uuid4()}"


@dataclasses.dataclass(frozen=True)
class RequestContext:
    """Who is asking.

    ``project_id`` is the caller's project; ``is_admin`` lets the caller see and
    change every project's resources and set admin-only attributes
    (``router:external``, ``shared``, ``is_default``, a ``network:`` device owner,
    a gateway's ``enable_snat`` and ``external_fixed_ips``, a floating IP's address:
    see :func:`naas.requests.attribute`). ``request_id`` ties log lines of one
    request together.

    Raises :class:`~naas.exceptions.BadRequest` on ``project_id`` unless it is a
    non-empty string of at most 255 printable characters (it is stored with
    every resource and printed by the command line), and on ``is_admin`` unless
    that is a bool (a truthy string such as "false" must not make an admin).
    """

    project_id: str
    is_admin: bool = False
    request_id: str = dataclasses.field(default_factory=_new_request_id)

    def __post_init__(self) -> None:
        try:
            to_project_id(self.project_id)
        except ValueError as error:
            raise BadRequest("context", "project_id", str(error)) from None
        if not isinstance(self.is_admin, bool):
            raise BadRequest("context", "is_admin", f"must be a bool, not {type(self.is_admin).__name__}")

    def elevated(self) -> RequestContext:
        """The same request, with admin rights (for work done on the caller's behalf)."""
        return dataclasses.replace(self, is_admin=True)


def admin_context(project_id: str = "admin") -> RequestContext:
    """A context with admin rights, for operators' tools and bootstrap code."""
    return RequestContext(project_id=project_id, is_admin=True)
