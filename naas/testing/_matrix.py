"""The tenant-isolation matrix: every resource and action, run as five callers.

A project is hostile until proven otherwise, and a project id that differs
from the owner's only in case or in a trailing space is another project: a
storage that compares ids loosely (a case-insensitive collation) must not let
it see or touch the owner's resources. Each cell is one test,
``test_isolation_matrix_<resource>_<action>_as_<caller>``, so a failure names
exactly what leaked.

The callers:

* ``owner``: the project owning the resource (:data:`~naas.testing.PROJECT_A_ID`);
* ``other``: another project (:data:`~naas.testing.PROJECT_B_ID`);
* ``owner_upper_case``: the owner's id in upper case, another project;
* ``owner_trailing_space``: the owner's id with a trailing space, another project;
* ``admin``: an admin of a third project.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from naas.context import RequestContext
from naas.resources import Resource
from naas.testing._base import ConformanceCase
from naas.testing.fixtures import PROJECT_A_ID

__all__ = ["ACTORS", "FOREIGN", "NON_ADMINS", "MatrixCallers", "add_matrix_tests", "cell"]

OWNER: Final = "owner"
OTHER: Final = "other"
OWNER_UPPER_CASE: Final = "owner_upper_case"
OWNER_TRAILING_SPACE: Final = "owner_trailing_space"
ADMIN: Final = "admin"

ACTORS: Final = (OWNER, OTHER, OWNER_UPPER_CASE, OWNER_TRAILING_SPACE, ADMIN)
FOREIGN: Final = frozenset({OTHER, OWNER_UPPER_CASE, OWNER_TRAILING_SPACE})
"""The callers that are not the owner and not admins: refused everything of the owner's."""
NON_ADMINS: Final = (OWNER, OTHER, OWNER_UPPER_CASE, OWNER_TRAILING_SPACE)

CellT = TypeVar("CellT", bound=Callable[..., None])


def foreign_context(actor: str) -> RequestContext | None:
    """The context of a caller spelled like the owner, or None for the callers the suite builds itself."""
    if actor == OWNER_UPPER_CASE:
        return RequestContext(project_id=PROJECT_A_ID.upper())
    if actor == OWNER_TRAILING_SPACE:
        return RequestContext(project_id=f"{PROJECT_A_ID} ")
    return None


class MatrixCallers(ConformanceCase):
    """What the core and L3 matrices share: the five callers and the listing check."""

    admin: RequestContext
    project_a: RequestContext
    project_b: RequestContext

    def caller(self, actor: str) -> RequestContext:
        return foreign_context(actor) or {OWNER: self.project_a, OTHER: self.project_b, ADMIN: self.admin}[actor]

    def assertListing(
        self,
        actor: str,
        resource_id: str,
        lister: Callable[[RequestContext, Mapping[str, Any] | None], Sequence[Resource]],
        extra_filters: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """The owner and admins find the resource in every listing.

        The foreign callers find it in none, nor anything else of the owner's project.
        """
        context = self.caller(actor)
        for filters in ({}, {"id": resource_id}, {"project_id": PROJECT_A_ID}, *extra_filters):
            listed = lister(context, filters or None)
            ids = [getattr(item, "id", None) for item in listed]
            shown = f"listing as {context.project_id!r} filtered by {filters}"
            if actor in FOREIGN:
                self.assertNotIn(resource_id, ids, f"{shown} shows the owner's {resource_id}")
                owners = {getattr(item, "project_id", None) for item in listed}
                self.assertNotIn(PROJECT_A_ID, owners, f"{shown} shows resources of {PROJECT_A_ID!r}: {listed}")
            else:
                self.assertIn(resource_id, ids, f"{shown} misses {resource_id}")


def cell(*actors: str) -> Callable[[CellT], CellT]:
    """Mark a ``cell_<resource>_<action>(self, actor)`` method as applying to ``actors`` (default: all five)."""

    def mark(method: CellT) -> CellT:
        method.matrix_actors = actors or ACTORS  # type: ignore[attr-defined]
        return method

    return mark


def add_matrix_tests(cls: type[Any]) -> type[Any]:
    """Add one test per caller for each ``cell_*`` method of ``cls``."""
    for name, method in list(vars(cls).items()):
        if name.startswith("cell_"):
            for actor in getattr(method, "matrix_actors", ACTORS):
                test = _cell_test(method, actor)
                test.__name__ = test.__qualname__ = f"test_isolation_matrix_{name.removeprefix('cell_')}_as_{actor}"
                setattr(cls, test.__name__, test)
    return cls


def _cell_test(method: Callable[[Any, str], None], actor: str) -> Callable[[Any], None]:
    def test(self: Any) -> None:
        method(self, actor)

    test.__doc__ = f"{(method.__doc__ or '').strip()} (as {actor})"
    return test
