"""The request context passed first to every plugin call."""

from __future__ import annotations

import dataclasses
import uuid

__all__ = ["RequestContext", "admin_context"]


def _new_request_id() -> str:
    return f"req-{uuid.uuid4()}"


@dataclasses.dataclass(frozen=True)
class RequestContext:
    """Who is asking.

    ``project_id`` is the caller's project; ``is_admin`` lets the caller see and
    change every project's resources and set admin-only attributes
    (``router:external``, ``shared``, ``is_default``). ``request_id`` ties log lines
    of one request together.
    """

    project_id: str
    is_admin: bool = False
    request_id: str = dataclasses.field(default_factory=_new_request_id)

    def __post_init__(self) -> None:
        if not isinstance(self.project_id, str) or not self.project_id:
            raise ValueError("RequestContext.project_id must be a non-empty string")

    def elevated(self) -> RequestContext:
        """The same request, with admin rights (for work done on the caller's behalf)."""
        return dataclasses.replace(self, is_admin=True)


def admin_context(project_id: str = "admin") -> RequestContext:
    """A context with admin rights, for operators' tools and bootstrap code."""
    return RequestContext(project_id=project_id, is_admin=True)
