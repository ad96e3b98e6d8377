"""naas.policy: tenant isolation, admin-only attributes, and NotFound rather than leaking existence."""

from __future__ import annotations

import dataclasses
from typing import Any

import netaddr
import pytest

from naas import policy
from naas.context import RequestContext, admin_context
from naas.exceptions import BadRequest, NotAuthorized, NotFound
from naas.requests import NetworkCreate, NetworkUpdate, Request, SubnetPoolCreate
from naas.resources import FixedIP, Network, Resource, Router, SubnetPool

OWNER = RequestContext(project_id="project-a")
OTHER = RequestContext(project_id="project-b")
ADMIN = admin_context()

NETWORK = Network(
    id="n-1",
    project_id="project-a",
    name="net",
    admin_state_up=True,
    shared=False,
    router_external=False,
    is_default=False,
    mtu=1500,
    status="ACTIVE",
    subnets=(),
)
SHARED_NETWORK = dataclasses.replace(NETWORK, id="n-shared", shared=True)
EXTERNAL_NETWORK = dataclasses.replace(NETWORK, id="n-ext", router_external=True)
POOL = SubnetPool(
    id="sp-1",
    project_id="project-a",
    name="pool",
    ip_version=4,
    prefixes=(netaddr.IPNetwork("10.0.0.0/8"),),
    default_prefixlen=24,
    min_prefixlen=8,
    max_prefixlen=32,
    shared=False,
    is_default=False,
    default_quota=None,
)
SHARED_POOL = dataclasses.replace(POOL, id="sp-shared", shared=True)
ROUTER = Router(
    id="r-1", project_id="project-a", name="r", admin_state_up=True, status="ACTIVE", external_gateway_info=None
)


def test_the_admin_context_helper() -> None:
    assert (ADMIN.project_id, ADMIN.is_admin) == ("admin", True)
    assert admin_context("ops").project_id == "ops"


def test_elevated_keeps_project_and_request_id() -> None:
    elevated = OWNER.elevated()

    assert (elevated.project_id, elevated.is_admin, elevated.request_id) == ("project-a", True, OWNER.request_id)
    assert OWNER.is_admin is False


def test_each_context_gets_its_own_request_id() -> None:
    assert OWNER.request_id.startswith("req-")
    assert RequestContext(project_id="project-a").request_id != OWNER.request_id


@pytest.mark.parametrize("project_id", ["", None, 7, "p" * 256, "a\x00b", "\ud800", "\x1b[2J"])
def test_a_context_needs_a_project(project_id: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        RequestContext(project_id=project_id)

    assert (caught.value.resource, caught.value.attribute) == ("context", "project_id")


@pytest.mark.parametrize(
    ("context", "requested", "owner"),
    [
        (OWNER, None, "project-a"),
        (OWNER, "project-a", "project-a"),
        (ADMIN, None, "admin"),
        (ADMIN, "project-b", "project-b"),
    ],
)
def test_owner_for(context: RequestContext, requested: str | None, owner: str) -> None:
    assert policy.owner_for(context, requested, "network") == owner


def test_only_an_admin_creates_for_another_project() -> None:
    with pytest.raises(NotAuthorized) as caught:
        policy.owner_for(OWNER, "project-b", "router")

    assert caught.value.reason == "Only an admin may create a router for project project-b"
    assert str(caught.value) == "Only an admin may create a router for project project-b."


@pytest.mark.parametrize(
    "request_",
    [NetworkCreate(), NetworkCreate(name="n", shared=False), NetworkUpdate(name="n")],
    ids=["defaults", "explicit-default", "update-without-admin-attributes"],
)
def test_a_user_may_send_requests_without_admin_only_attributes(request_: Request) -> None:
    policy.check_admin_only(OWNER, request_)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (NetworkCreate(shared=True), "Only an admin may set shared on a network."),
        (
            NetworkCreate(router_external=True, is_default=True),
            "Only an admin may set router:external, is_default on a network.",
        ),
        (NetworkUpdate(router_external=False), "Only an admin may set router:external on a network."),
        (
            SubnetPoolCreate(prefixes=["10.0.0.0/8"], shared=True),  # type: ignore[arg-type]
            "Only an admin may set shared on a subnetpool.",
        ),
    ],
)
def test_admin_only_attributes_are_refused_to_users_and_allowed_to_admins(request_: Request, message: str) -> None:
    with pytest.raises(NotAuthorized) as caught:
        policy.check_admin_only(OWNER, request_)

    assert str(caught.value) == message
    policy.check_admin_only(ADMIN, request_)


@pytest.mark.parametrize(
    ("context", "resource", "visible"),
    [
        (OWNER, NETWORK, True),
        (OTHER, NETWORK, False),
        (ADMIN, NETWORK, True),
        (OTHER, SHARED_NETWORK, True),
        # External networks are visible so that any project's router can use them as its gateway.
        (OTHER, EXTERNAL_NETWORK, True),
        (OWNER, POOL, True),
        (OTHER, POOL, False),
        (OTHER, SHARED_POOL, True),
        (OTHER, ROUTER, False),
        (OWNER, ROUTER, True),
        (ADMIN, ROUTER, True),
        # Ownerless values (a fixed IP) are never visible on their own to a user.
        (OWNER, FixedIP("s-1", netaddr.IPAddress("10.0.0.5")), False),
    ],
)
def test_is_visible(context: RequestContext, resource: Resource, visible: bool) -> None:
    assert policy.is_visible(context, resource) is visible


def test_what_a_user_cannot_see_is_not_found_not_forbidden() -> None:
    with pytest.raises(NotFound) as caught:
        policy.check_visible(OTHER, ROUTER, "r-1")

    assert (caught.value.resource, caught.value.resource_id) == ("router", "r-1")
    assert str(caught.value) == "router r-1 could not be found."


@pytest.mark.parametrize(("context", "resource"), [(OWNER, ROUTER), (OTHER, SHARED_NETWORK)])
def test_check_visible_passes_what_the_caller_can_see(context: RequestContext, resource: Resource) -> None:
    policy.check_visible(context, resource, "x")


@pytest.mark.parametrize(("context", "resource"), [(OWNER, NETWORK), (ADMIN, NETWORK), (ADMIN, SHARED_POOL)])
def test_owners_and_admins_may_modify(context: RequestContext, resource: Resource) -> None:
    policy.check_modify(context, resource, "x")


@pytest.mark.parametrize("resource", [SHARED_NETWORK, EXTERNAL_NETWORK, SHARED_POOL], ids=lambda r: r.id)
def test_seeing_a_shared_resource_does_not_allow_changing_it(resource: Resource) -> None:
    resource_id = resource.id  # type: ignore[attr-defined]

    with pytest.raises(NotAuthorized) as caught:
        policy.check_modify(OTHER, resource, resource_id)

    assert str(caught.value) == f"Only the owner or an admin may change {resource.RESOURCE} {resource_id}."


def test_modifying_what_the_caller_cannot_see_is_not_found() -> None:
    with pytest.raises(NotFound) as caught:
        policy.check_modify(OTHER, NETWORK, "n-1")

    assert str(caught.value) == "network n-1 could not be found."
