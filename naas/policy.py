"""Who may see and change what: the tenant-isolation rules every plugin applies.

* An admin context sees and changes everything.
* Anyone else sees their own project's resources, plus shared networks,
  external networks (so routers can use them as gateways), the subnets of
  those networks, and shared subnet pools; they change only their own.
* Only admins create resources for another project, and only admins set the
  admin-only attributes (``router:external``, ``shared``, ``is_default``).

A resource the caller may not see is reported as :class:`~naas.exceptions.NotFound`, not
:class:`~naas.exceptions.NotAuthorized`, so its existence does not leak.
"""

from __future__ import annotations

from naas.context import RequestContext
from naas.exceptions import NotAuthorized, NotFound
from naas.requests import Request
from naas.resources import Network, Resource, SubnetPool

__all__ = ["check_admin_only", "check_modify", "check_owner", "check_visible", "is_visible", "owner_for"]


def owner_for(context: RequestContext, requested_project_id: str | None, resource: str) -> str:
    """The project a new resource belongs to; non-admins create only in their own."""
    if requested_project_id is None or requested_project_id == context.project_id:
        return context.project_id
    if not context.is_admin:
        raise NotAuthorized(f"Only an admin may create a {resource} for project {requested_project_id}")
    return requested_project_id


def check_admin_only(context: RequestContext, request: Request) -> None:
    """NotAuthorized, naming the attributes, if a non-admin gave an admin-only value in ``request``.

    Which values are admin-only is declared on the request's attributes (:func:`naas.requests.attribute`).
    """
    if context.is_admin:
        return
    names = request.admin_only_given()
    if names:
        raise NotAuthorized(f"Only an admin may set {', '.join(names)} on a {request.RESOURCE}")


def is_visible(context: RequestContext, resource: Resource) -> bool:
    """Whether the caller may see ``resource``: an admin, its owner, or anyone for a shared or external
    network and a shared subnet pool. A subnet or port of a shared network is checked through its network."""
    if context.is_admin or getattr(resource, "project_id", None) == context.project_id:
        return True
    if isinstance(resource, Network):
        return resource.shared or resource.router_external
    if isinstance(resource, SubnetPool):
        return resource.shared
    return False


def check_visible(context: RequestContext, resource: Resource, resource_id: str) -> None:
    """NotFound for ``resource_id`` unless :func:`is_visible`: what the caller may not see does not exist for it."""
    if not is_visible(context, resource):
        raise NotFound(resource.RESOURCE, resource_id)


def check_owner(context: RequestContext, resource: Resource, resource_id: str) -> None:
    """NotAuthorized unless the caller owns ``resource`` or is an admin.

    For resources seen through something else (a subnet of a shared network)
    the caller has already established visibility; this is the ownership half.
    """
    if not context.is_admin and getattr(resource, "project_id", None) != context.project_id:
        raise NotAuthorized(f"Only the owner or an admin may change {resource.RESOURCE} {resource_id}")


def check_modify(context: RequestContext, resource: Resource, resource_id: str) -> None:
    """Raise NotFound for what the caller cannot see, NotAuthorized for what it sees but does not own."""
    check_visible(context, resource, resource_id)
    check_owner(context, resource, resource_id)
