"""A list request's query string: filters, ``fields``, sorting and pagination, as Neutron reads them.

Every key that is not ``fields``, ``sort_key``, ``sort_dir``, ``limit``,
``marker`` or ``page_reverse`` filters; a key given several times accepts any of
its values. The plugin checks the filter keys (an unknown one is a 400 naming
it). Sorting and pagination happen here, over what the plugin returned: ``sort_key``
and ``sort_dir`` pair up in order, ``id`` always breaks ties, and ``marker`` is
the id of the last resource of the previous page (the first one with
``page_reverse=True``).
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Final

import webob
from oslo_utils import strutils

from naas.api._faults import ApiError
from naas.resources import MAX_FILTER_VALUES

__all__ = ["ListQuery", "page_links", "paginate", "parse_list_query", "sort_resources"]

_CONTROL_KEYS: Final = frozenset({"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"})
_MAX_LIMIT: Final = 10_000


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """What a list request asked for, checked."""

    filters: dict[str, list[str]]
    fields: tuple[str, ...]
    sort: tuple[tuple[str, bool], ...]  # (wire name, ascending)
    limit: int | None
    marker: str | None
    page_reverse: bool


def _bad(message: str) -> ApiError:
    return ApiError(400, "HTTPBadRequest", message)


def parse_fields(params: webob.multidict.MultiDict) -> tuple[str, ...]:
    """The ``fields`` asked for (repeated, or comma-separated as some clients send them), without blanks."""
    names: list[str] = []
    for value in params.getall("fields"):
        names.extend(name.strip() for name in value.split(",") if name.strip())
    return tuple(dict.fromkeys(names))


def parse_list_query(params: webob.multidict.MultiDict, sortable: Sequence[str]) -> ListQuery:
    """Check a list request's query; ApiError 400 naming the parameter when one is malformed."""
    filters: dict[str, list[str]] = {}
    for key, value in params.items():
        if key in _CONTROL_KEYS:
            continue
        values = filters.setdefault(key, [])
        if len(values) >= MAX_FILTER_VALUES:
            raise _bad(f"Filter {key!r} lists more than {MAX_FILTER_VALUES} values.")
        values.append(value)
    keys = params.getall("sort_key")
    directions = params.getall("sort_dir")
    if len(directions) > len(keys):
        raise _bad("Each sort_dir needs a sort_key before it.")
    sort: list[tuple[str, bool]] = []
    for index, key in enumerate(keys):
        if key not in sortable:
            raise _bad(f"Cannot sort on {key!r}; sortable attributes: {', '.join(sortable)}.")
        direction = directions[index] if index < len(directions) else "asc"
        if direction not in ("asc", "desc"):
            raise _bad(f"sort_dir must be 'asc' or 'desc', not {direction!r}.")
        sort.append((key, direction == "asc"))
    return ListQuery(
        filters=filters,
        fields=parse_fields(params),
        sort=tuple(sort),
        limit=_limit(params.get("limit")),
        marker=params.get("marker") or None,
        page_reverse=_flag(params.get("page_reverse"), "page_reverse"),
    )


def _limit(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()):
        raise _bad(f"limit must be a non-negative integer, not {value[:64]!r}.")
    limit = int(value)
    if limit > _MAX_LIMIT:
        raise _bad(f"limit {limit} is larger than {_MAX_LIMIT}.")
    return limit or None  # Neutron: limit=0 means no limit


def _flag(value: str | None, name: str) -> bool:
    if value is None:
        return False
    try:
        return bool(strutils.bool_from_string(value, strict=True))
    except ValueError:
        raise _bad(f"{name} must be a boolean, not {value[:64]!r}.") from None


def _sort_value(value: Any) -> tuple[int, Any]:
    # None first, then numbers, then text: a column holding None or mixed spellings still sorts.
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float):
        return (1, value)
    return (2, str(value))


def sort_resources(
    bodies: list[dict[str, Any]], sort: Sequence[tuple[str, bool]], paginated: bool
) -> list[dict[str, Any]]:
    """``bodies`` sorted by ``sort`` (stable; the plugin's oldest-first order otherwise), ``id`` last when paging."""
    keys = list(sort)
    if paginated and not any(key == "id" for key, _ in keys):
        keys.append(("id", keys[-1][1] if keys else True))
    ordered = list(bodies)
    for key, ascending in reversed(keys):
        ordered.sort(key=lambda body: _sort_value(body.get(key)), reverse=not ascending)
    return ordered


def paginate(
    bodies: list[dict[str, Any]], query: ListQuery, collection: str
) -> tuple[list[dict[str, Any]], bool, bool]:
    """The page ``query`` asks for, and whether there are resources after it and before it."""
    start, end = 0, len(bodies)
    if query.marker is not None:
        position = next((index for index, body in enumerate(bodies) if body.get("id") == query.marker), None)
        if position is None:
            raise ApiError(404, "MarkerNotFound", f"Marker {query.marker[:64]!r} is no visible {collection} id.")
        if query.page_reverse:
            end = position
        else:
            start = position + 1
    if query.limit is not None:
        if query.page_reverse:
            start = max(start, end - query.limit)
        else:
            end = min(end, start + query.limit)
    return bodies[start:end], end < len(bodies), start > 0


def page_links(
    request: webob.Request, collection: str, page: Sequence[Mapping[str, Any]], query: ListQuery, more: bool, less: bool
) -> list[dict[str, str]]:
    """Neutron's ``<collection>_links``: ``next`` when more follow the page, ``previous`` when some precede it."""
    if query.limit is None or not page:
        return []
    base = [(key, value) for key, value in request.GET.items() if key not in ("marker", "page_reverse")]
    links = []
    if more:
        params = [*base, ("marker", str(page[-1]["id"]))]
        links.append({"rel": "next", "href": f"{request.path_url}?{urllib.parse.urlencode(params)}"})
    if less:
        params = [*base, ("marker", str(page[0]["id"])), ("page_reverse", "True")]
        links.append({"rel": "previous", "href": f"{request.path_url}?{urllib.parse.urlencode(params)}"})
    return links
