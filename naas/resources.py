"""The resources plugins return: frozen, typed values.

Addresses and prefixes are :mod:`netaddr` objects. ``to_dict()`` gives the
Networking API v2.0 wire form (``router:external``, ``tenant_id`` ...), which a
REST layer or the command line prints; ``fields`` keeps only the named keys.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Final, TypeVar

import netaddr

from naas.exceptions import BadRequest

__all__ = [
    "DEVICE_OWNER_FLOATINGIP",
    "DEVICE_OWNER_ROUTER_GATEWAY",
    "DEVICE_OWNER_ROUTER_INTERFACE",
    "MAX_FILTER_TEXT_LENGTH",
    "MAX_FILTER_VALUES",
    "STANDARD_ATTRIBUTES",
    "TAG_FILTERS",
    "ExternalGatewayInfo",
    "FixedIP",
    "FloatingIP",
    "Network",
    "Port",
    "Resource",
    "Router",
    "RouterInterfaceInfo",
    "Subnet",
    "SubnetPool",
    "filter_key",
    "filter_resources",
    "filter_values",
    "format_timestamp",
    "parse_filters",
    "unsafe_text_reason",
]

DEVICE_OWNER_ROUTER_INTERFACE = "network:router_interface"
"""``device_owner`` of the port a router interface holds on a subnet."""
DEVICE_OWNER_ROUTER_GATEWAY = "network:router_gateway"
"""``device_owner`` of the port a router's external gateway holds on the external network."""
DEVICE_OWNER_FLOATINGIP = "network:floatingip"
"""``device_owner`` of the port holding a floating IP's address on the external network."""


STANDARD_ATTRIBUTES: Final = ("description", "tags", "created_at", "updated_at", "revision_number")
"""Neutron's standard attributes, which every top-level resource (network, subnet, subnet pool, port, router,
floating IP) has: a free-text ``description``, its ``tags`` (sorted, no duplicates), when it was created and
last updated (UTC, ISO 8601 to the second: ``2026-12-01T17:00:00Z``), and ``revision_number``, 0 when created
and one more after every update the rules write, which callers give back as ``if_revision`` to update or
delete only what they last read."""

TAG_FILTERS: Final = ("tags", "tags-any", "not-tags", "not-tags-any")
"""Neutron's tag filters: the resource has every tag listed, at least one, not every one, none of them."""


def format_timestamp(moment: datetime.datetime) -> str:
    """``moment`` as the standard attributes spell a time: UTC, to the second, ``2026-12-01T17:00:00Z``."""
    if moment.tzinfo is None:
        raise ValueError("a timestamp needs a time zone; naive datetimes are ambiguous")
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _wire(value: Any) -> Any:
    if isinstance(value, (netaddr.IPAddress, netaddr.IPNetwork)):
        return str(value)
    if isinstance(value, netaddr.IPRange):
        return {"start": str(value[0]), "end": str(value[-1])}
    if isinstance(value, Resource):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_wire(item) for item in value]
    return value


@dataclasses.dataclass(frozen=True)
class Resource:
    """Common behaviour of every resource: wire form and attribute lookup."""

    RESOURCE: ClassVar[str] = ""
    # Python attribute name -> wire name, where they differ.
    WIRE_NAMES: ClassVar[Mapping[str, str]] = {}

    def __post_init__(self) -> None:
        tags = getattr(self, "tags", None)
        if tags is not None:
            # One spelling of a tag set, whatever order a storage keeps it in: equal resources compare equal.
            object.__setattr__(self, "tags", tuple(sorted(set(tags))))

    @classmethod
    def wire_to_attribute(cls) -> dict[str, str]:
        """Wire name -> attribute name, for every attribute (``tenant_id`` too, as ``project_id``)."""
        names = {f.name: f.name for f in dataclasses.fields(cls)}
        names.update({wire: attr for attr, wire in cls.WIRE_NAMES.items()})
        if "project_id" in names:
            names["tenant_id"] = "project_id"
        return names

    def to_dict(self, fields: Sequence[str] | None = None) -> dict[str, Any]:
        """The Networking API wire form: wire names, plain JSON values; only ``fields`` when given."""
        body = {self.WIRE_NAMES.get(f.name, f.name): _wire(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if "project_id" in body:
            body["tenant_id"] = body["project_id"]
        if fields:
            return {key: value for key, value in body.items() if key in fields}
        return body


@dataclasses.dataclass(frozen=True)
class Network(Resource):
    RESOURCE: ClassVar[str] = "network"
    WIRE_NAMES: ClassVar[Mapping[str, str]] = {"router_external": "router:external"}

    id: str
    project_id: str
    name: str
    admin_state_up: bool
    shared: bool
    router_external: bool
    is_default: bool
    mtu: int
    status: str
    subnets: tuple[str, ...]
    description: str = ""
    tags: tuple[str, ...] = ()
    created_at: str = ""
    updated_at: str = ""
    revision_number: int = 0


@dataclasses.dataclass(frozen=True)
class Subnet(Resource):
    RESOURCE: ClassVar[str] = "subnet"

    id: str
    project_id: str
    network_id: str
    name: str
    ip_version: int
    cidr: netaddr.IPNetwork
    gateway_ip: netaddr.IPAddress | None
    allocation_pools: tuple[netaddr.IPRange, ...]
    subnetpool_id: str | None
    enable_dhcp: bool
    description: str = ""
    tags: tuple[str, ...] = ()
    created_at: str = ""
    updated_at: str = ""
    revision_number: int = 0


@dataclasses.dataclass(frozen=True)
class SubnetPool(Resource):
    RESOURCE: ClassVar[str] = "subnetpool"

    id: str
    project_id: str
    name: str
    ip_version: int
    prefixes: tuple[netaddr.IPNetwork, ...]
    default_prefixlen: int
    min_prefixlen: int
    max_prefixlen: int
    shared: bool
    is_default: bool
    default_quota: int | None
    description: str = ""
    tags: tuple[str, ...] = ()
    created_at: str = ""
    updated_at: str = ""
    revision_number: int = 0


@dataclasses.dataclass(frozen=True)
class FixedIP(Resource):
    RESOURCE: ClassVar[str] = "fixed_ip"

    subnet_id: str
    ip_address: netaddr.IPAddress


@dataclasses.dataclass(frozen=True)
class Port(Resource):
    RESOURCE: ClassVar[str] = "port"

    id: str
    project_id: str
    network_id: str
    name: str
    admin_state_up: bool
    mac_address: str
    device_id: str
    device_owner: str
    fixed_ips: tuple[FixedIP, ...]
    status: str
    description: str = ""
    tags: tuple[str, ...] = ()
    created_at: str = ""
    updated_at: str = ""
    revision_number: int = 0


@dataclasses.dataclass(frozen=True)
class ExternalGatewayInfo(Resource):
    RESOURCE: ClassVar[str] = "external_gateway_info"

    network_id: str
    enable_snat: bool
    external_fixed_ips: tuple[FixedIP, ...]


@dataclasses.dataclass(frozen=True)
class Router(Resource):
    RESOURCE: ClassVar[str] = "router"

    id: str
    project_id: str
    name: str
    admin_state_up: bool
    status: str
    external_gateway_info: ExternalGatewayInfo | None
    description: str = ""
    tags: tuple[str, ...] = ()
    created_at: str = ""
    updated_at: str = ""
    revision_number: int = 0


@dataclasses.dataclass(frozen=True)
class RouterInterfaceInfo(Resource):
    """What adding or removing a router interface reports."""

    RESOURCE: ClassVar[str] = "router_interface"

    id: str  # the router
    project_id: str
    network_id: str
    port_id: str
    subnet_id: str
    subnet_ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class FloatingIP(Resource):
    RESOURCE: ClassVar[str] = "floatingip"

    id: str
    project_id: str
    floating_network_id: str
    floating_ip_address: netaddr.IPAddress
    port_id: str | None
    fixed_ip_address: netaddr.IPAddress | None
    router_id: str | None
    status: str
    description: str = ""
    tags: tuple[str, ...] = ()
    created_at: str = ""
    updated_at: str = ""
    revision_number: int = 0


ResourceT = TypeVar("ResourceT", bound=Resource)


def filter_key(value: Any) -> str:
    """One comparable spelling for a value: bools as 'true'/'false', addresses as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(_wire(value))
    return text.lower() if text.lower() in ("true", "false") else text


def _candidate_keys(value: Any) -> list[str]:
    if isinstance(value, tuple):
        keys: list[str] = []
        for element in value:
            keys.extend(_candidate_keys(element))
        return keys
    if isinstance(value, Resource):
        # A fixed IP matches on its subnet id or on its address.
        return [filter_key(getattr(value, f.name)) for f in dataclasses.fields(value)]
    return [filter_key(value)]


def filter_values(values: Any) -> set[str]:
    """The set of spellings a filter accepts: one value or an iterable of them, each as :func:`filter_key`."""
    # A network is iterable too, but as a filter value it is one value, not the addresses in it.
    if isinstance(values, (str, bytes, bool, int, netaddr.IPNetwork)) or not isinstance(values, Iterable):
        values = [values]
    return {filter_key(value) for value in values}


MAX_FILTER_VALUES: Final = 1000
"""The most values one filter key may list: each becomes a bind parameter of a SQL ``IN``, and databases cap
those (SQLite at 32,766, PostgreSQL at 65,535 per statement)."""

MAX_FILTER_TEXT_LENGTH: Final = 255
"""The longest text a filter value may be: no stored attribute that can be filtered on is longer."""

_FILTER_INTEGER_BOUND: Final = 2**63
# Characters that must never be stored or printed: C0 and C1 controls (NUL and ESC among them), DEL, the
# line and paragraph separators, the bidirectional overrides that reorder what a terminal shows, and lone
# surrogates (valid JSON escapes that are not characters, and no database driver accepts).
_UNSAFE_CHARACTER: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def unsafe_text_reason(text: str) -> str | None:
    """Why ``text`` may not be stored or printed (it holds a control character or a lone surrogate), or None.

    The reason names the first offending character by its code point and position, never the character itself,
    so it is safe to print.
    """
    found = _UNSAFE_CHARACTER.search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "the control character"
    return f"holds {kind} U+{code:04X} at position {found.start()}"


def _integer_attributes(resource_type: type[Resource]) -> frozenset[str]:
    # Annotations are strings here (``from __future__ import annotations``): "int" and "int | None".
    return frozenset(
        field.name for field in dataclasses.fields(resource_type) if str(field.type).split(" ")[0] == "int"
    )


def _filter_value_problem(value: Any, integer: bool) -> str | None:
    """Why ``value`` cannot be one value of a filter, or None."""
    if isinstance(value, (netaddr.IPAddress, netaddr.IPNetwork)) or value is None:
        return None
    if isinstance(value, bool):
        return "must be an integer, not a boolean" if integer else None
    if isinstance(value, int):
        if not -_FILTER_INTEGER_BOUND <= value < _FILTER_INTEGER_BOUND:
            return f"{value} is out of range of a 64-bit integer"
        return None
    if not isinstance(value, str):
        return f"filter values are strings, numbers or booleans, not {type(value).__name__}"
    if len(value) > MAX_FILTER_TEXT_LENGTH:
        return f"a value is {len(value)} characters long, the limit is {MAX_FILTER_TEXT_LENGTH}"
    reason = unsafe_text_reason(value)
    if reason is not None:
        return f"a value {reason}"
    if integer:
        digits = value.removeprefix("-")
        decimal = digits.isascii() and digits.isdigit()
        if not decimal or not -_FILTER_INTEGER_BOUND <= int(value) < _FILTER_INTEGER_BOUND:
            return f"{value!r} is not a 64-bit integer"
    return None


def _tag_filter(resource: str, key: str, values: Any) -> tuple[str, ...]:
    """The tags a tag filter lists: a list of tags, or tags separated by commas as on the wire (or both)."""
    if isinstance(values, str) or not isinstance(values, Iterable) or isinstance(values, (bytes, Mapping)):
        values = (values,)
    tags: list[str] = []
    for value in itertools.islice(values, MAX_FILTER_VALUES + 1):
        if not isinstance(value, str):
            raise BadRequest(resource, key, f"tags are strings, not {type(value).__name__}")
        problem = _filter_value_problem(value, integer=False)
        if problem is not None:
            raise BadRequest(resource, key, problem)
        tags.extend(tag for tag in value.split(",") if tag)
    if len(tags) > MAX_FILTER_VALUES:
        raise BadRequest(resource, key, f"lists more than {MAX_FILTER_VALUES} values")
    if not tags:
        raise BadRequest(resource, key, "lists no tag")
    return tuple(dict.fromkeys(tags))


def _tags_match(key: str, wanted: frozenset[str], tags: Iterable[str]) -> bool:
    held = wanted.intersection(tags)
    if key == "tags":
        return held == wanted
    if key == "tags-any":
        return bool(held)
    if key == "not-tags":
        return held != wanted
    return not held  # not-tags-any


def parse_filters(resource_type: type[Resource], filters: Any) -> dict[str, Any]:
    """Check list filters for ``resource_type`` before any storage sees them; return them as a new dict.

    ``filters`` is None or a mapping from an attribute's wire name to one value or an iterable of at most
    :data:`~naas.resources.MAX_FILTER_VALUES` values; the result maps each key to a tuple of its values (so an
    iterator may be given, and an address or network is one value, not the addresses in it). A value is a
    string (at most :data:`~naas.resources.MAX_FILTER_TEXT_LENGTH` characters, no control character or lone
    surrogate), a bool, an int that fits in 64 bits, None, or a netaddr address or network. An integer
    attribute (``mtu``, ``ip_version`` ...) takes ints or their decimal spelling only.

    The tag filters of :data:`~naas.resources.TAG_FILTERS` (``tags``: has every tag listed; ``tags-any``: at
    least one; ``not-tags``: not every one; ``not-tags-any``: none of them) take a list of tags, or tags
    separated by commas as on the wire (``"red,blue"``); the result lists the tags one by one.

    Raises :class:`~naas.exceptions.BadRequest` naming the resource and the key (``filters`` when it is
    not a mapping at all) and the reason. Plugins call it at the start of every ``get_<resources>``;
    :func:`~naas.resources.filter_resources` calls it too.
    """
    resource = resource_type.RESOURCE
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise BadRequest(resource, "filters", f"must be a mapping of attribute to values, not {type(filters).__name__}")
    attributes = resource_type.wire_to_attribute()
    integers = _integer_attributes(resource_type)
    checked: dict[str, Any] = {}
    for key, values in filters.items():
        if not isinstance(key, str):
            raise BadRequest(resource, "filters", f"keys are attribute names, not {type(key).__name__}")
        if key in TAG_FILTERS and "tags" in attributes:
            checked[key] = _tag_filter(resource, key, values)
            continue
        if key not in attributes:
            reason = unsafe_text_reason(key)
            if reason is not None or len(key) > MAX_FILTER_TEXT_LENGTH:
                raise BadRequest(resource, "filters", f"a key {reason or 'is too long'}")
            raise BadRequest(resource, key, "is not an attribute that can be filtered on")
        scalar = isinstance(values, (str, bytes, Mapping, netaddr.IPAddress, netaddr.IPNetwork))
        if scalar or not isinstance(values, Iterable):
            listed: tuple[Any, ...] = (values,)
        else:
            # One past the limit is enough to refuse, without reading an endless iterator to its end.
            listed = tuple(itertools.islice(values, MAX_FILTER_VALUES + 1))
            if len(listed) > MAX_FILTER_VALUES:
                raise BadRequest(resource, key, f"lists more than {MAX_FILTER_VALUES} values")
        integer = attributes[key] in integers
        for value in listed:
            problem = _filter_value_problem(value, integer)
            if problem is not None:
                raise BadRequest(resource, key, problem)
        checked[key] = listed
    return checked


def filter_resources(
    resources: Iterable[ResourceT], resource_type: type[ResourceT], filters: Mapping[str, Any] | None
) -> list[ResourceT]:
    """Keep the resources matching every filter.

    ``filters`` maps an attribute's wire name (``router:external``,
    ``tenant_id`` ...) to one acceptable value or an iterable of them: values of one
    key are alternatives, keys must all match. An unknown key is a
    :class:`~naas.exceptions.BadRequest` naming it. For list-valued attributes
    (``subnets``, ``fixed_ips`` ...) a resource matches when any element matches.
    Malformed filters raise BadRequest as :func:`parse_filters` says.
    """
    checked = parse_filters(resource_type, filters)
    if not checked:
        return list(resources)
    attributes = resource_type.wire_to_attribute()
    tag_filters = [(key, frozenset(values)) for key, values in checked.items() if key in TAG_FILTERS]
    wanted = [(attributes[key], filter_values(values)) for key, values in checked.items() if key not in TAG_FILTERS]

    def matches(item: ResourceT) -> bool:
        for key, tags in tag_filters:
            if not _tags_match(key, tags, getattr(item, "tags", ())):
                return False
        for attribute, accepted in wanted:
            if not accepted.intersection(_candidate_keys(getattr(item, attribute))):
                return False
        return True

    return [item for item in resources if matches(item)]
