"""What callers ask plugins to create or change: typed, validated requests.

Each request is a frozen dataclass whose values are checked and converted when
it is built, so a plugin only ever sees well-formed input. Callers holding a
JSON-like body use ``parse``: it accepts the wire names (``router:external``,
``tenant_id``), rejects unknown attributes, and turns every malformed value into
a :class:`~naas.exceptions.BadRequest` that names the attribute and the reason.

Checks that need stored state (does the network exist, is the address free)
belong to the plugin; everything that can be decided from the request alone is
decided here, once, for every plugin.

Update requests leave untouched attributes as :data:`UNSET`; ``given()`` lists
the ones the caller gave.

Every input is bounded: texts by length and by what they may hold (no control
character, terminal escape or lone surrogate, which would reach a database
driver or an operator's terminal), numbers by range (non-finite floats
included), and every list by a documented maximum (``MAX_...`` below). Plugins
validate what they receive outside a request body with :func:`parse_id` (a
resource id), :func:`parse_filters` (list filters), :func:`parse_project_id` and
:func:`parse_fields`, so that no malformed value reaches storage.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Final, TypeVar

import netaddr
from oslo_utils import strutils

from naas.exceptions import BadRequest, NotFound
from naas.resources import FixedIP, parse_filters, unsafe_text_reason

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "MAX_ALLOCATION_POOLS",
    "MAX_FIXED_IPS_PER_PORT",
    "MAX_SUBNETPOOL_PREFIXES",
    "MAX_TAGS",
    "NAME_MAX_LENGTH",
    "TAG_MAX_LENGTH",
    "UNSET",
    "FixedIPPlan",
    "FixedIPRequest",
    "FloatingIPCreate",
    "FloatingIPUpdate",
    "GatewayRequest",
    "InterfaceRequest",
    "NetworkCreate",
    "NetworkUpdate",
    "PortCreate",
    "PortUpdate",
    "Request",
    "RouterCreate",
    "RouterUpdate",
    "SubnetCreate",
    "SubnetPoolCreate",
    "SubnetPoolUpdate",
    "SubnetUpdate",
    "Unset",
    "is_network_device_owner",
    "parse_fields",
    "parse_filters",
    "parse_id",
    "parse_project_id",
    "plan_fixed_ips",
]


class Unset(enum.Enum):
    """Marks an attribute the caller did not give."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
"""The value of every attribute an update request was not given."""

NAME_MAX_LENGTH: Final = 255
"""The longest name, description-like text (``device_id``, ``device_owner``) or project id: the column size."""

MAX_FIXED_IPS_PER_PORT: Final = 5
"""The most ``fixed_ips`` entries a port (or a router gateway's ``external_fixed_ips``) may ask for: Neutron's
default ``max_fixed_ips_per_port``. One request holds its network's lock while it takes them all."""

MAX_ALLOCATION_POOLS: Final = 256
"""The most allocation pools a subnet may have. Stored as one text column, this keeps the longest IPv6 list
(about 80 characters a pool) well inside MySQL's 64 KB ``TEXT``."""

MAX_SUBNETPOOL_PREFIXES: Final = 1000
"""The most prefixes a subnet pool may be given in one request, and hold once merged. Stored as one text
column, this keeps the longest IPv6 list (about 44 characters a prefix) inside MySQL's 64 KB ``TEXT``."""

DESCRIPTION_MAX_LENGTH: Final = 255
"""The longest ``description``: Neutron's ``DESCRIPTION_FIELD_SIZE``."""

TAG_MAX_LENGTH: Final = 255
"""The longest tag: Neutron's ``MAX_TAG_LEN``."""

MAX_TAGS: Final = 50
"""The most tags one resource may carry (Neutron's ``MAX_TAGS``). An update replaces the whole set."""

_TAG_FORBIDDEN: Final = (",", "/")

_MAC_RE = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
_SHOWN_LENGTH: Final = 64
_NETWORK_DEVICE_OWNER_PREFIX: Final = "network:"


def _shown(value: Any) -> str:
    """``value`` as it may appear in an error message: its repr (escapes made visible), cut short."""
    text = repr(value)
    return text if len(text) <= _SHOWN_LENGTH else f"{text[:_SHOWN_LENGTH]}... ({len(text)} characters)"


# Converters: take a raw value, return the typed one or raise ValueError(reason).


def _checked_text(value: str, limit: int) -> str:
    if len(value) > limit:
        raise ValueError(f"is {len(value)} characters long, the limit is {limit}")
    reason = unsafe_text_reason(value)
    if reason is not None:
        raise ValueError(reason)
    return value


def to_name(value: Any) -> str:
    """A name or similar free text: a string of at most NAME_MAX_LENGTH printable characters."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return _checked_text(value, NAME_MAX_LENGTH)


def to_description(value: Any) -> str:
    """A ``description``: a string of at most DESCRIPTION_MAX_LENGTH printable characters (may be empty)."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {_shown(value)}")
    return _checked_text(value, DESCRIPTION_MAX_LENGTH)


def to_tags(value: Any) -> tuple[str, ...]:
    """A resource's whole tag set, sorted: at most MAX_TAGS distinct tags of 1..TAG_MAX_LENGTH printable characters.

    A tag holds no ``,`` (list filters and the wire separate tags with commas) and no ``/`` (a tag is a URL
    path segment of the tag API, ``/v2.0/networks/{id}/tags/{tag}``). A tag given twice is refused, as
    Neutron's ``list_of_unique_strings`` does.
    """
    tags = _bounded_list(value, MAX_TAGS, "tags (strings)")
    for tag in tags:
        if not isinstance(tag, str):
            raise ValueError(f"{_shown(tag)} is not a string; tags are strings")
        if not tag:
            raise ValueError("holds an empty tag; a tag has 1 to 255 characters")
        if len(tag) > TAG_MAX_LENGTH:
            raise ValueError(f"a tag is {len(tag)} characters long, the limit is {TAG_MAX_LENGTH}")
        reason = unsafe_text_reason(tag)
        if reason is not None:
            raise ValueError(f"tag {_shown(tag)} {reason}")
        for forbidden in _TAG_FORBIDDEN:
            if forbidden in tag:
                raise ValueError(f"tag {_shown(tag)} holds {forbidden!r}, which no tag may hold")
    duplicates = sorted({tag for tag in tags if tags.count(tag) > 1})
    if duplicates:
        raise ValueError(f"lists {_shown(duplicates[0])} more than once")
    return tuple(sorted(tags))


def to_bool(value: Any) -> bool:
    """What Neutron takes for a boolean: a bool, 0 or 1, or one of oslo.utils' strict spellings ("yes", "off" ...)."""
    if isinstance(value, (bool, int, str)):
        try:
            return bool(strutils.bool_from_string(value, strict=True))
        except ValueError:
            pass
    raise ValueError(f"must be a boolean (true/false, yes/no, on/off, 1/0), not {_shown(value)}")


def to_id(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a UUID string, not {_shown(value)}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"{_shown(value)} is not a UUID") from None


def to_project_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a non-empty string of at most {NAME_MAX_LENGTH} characters")
    return _checked_text(value, NAME_MAX_LENGTH)


def to_int_between(low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
            raise ValueError(f"must be an integer, not {_shown(value)}")
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"must be an integer, not {_shown(value)}") from None
        if isinstance(value, float) and value != number:
            raise ValueError(f"must be an integer, not {_shown(value)}")
        if not low <= number <= high:
            raise ValueError(f"{_shown(number)} is out of range {low}..{high}")
        return number

    return convert


def to_ip_version(value: Any) -> int:
    try:
        version = to_int_between(4, 6)(value)
    except ValueError:
        version = 0
    if version not in (4, 6):
        raise ValueError(f"must be 4 or 6, not {_shown(value)}")
    return version


def to_cidr(value: Any) -> netaddr.IPNetwork:
    if isinstance(value, netaddr.IPNetwork):
        value = str(value)
    if not isinstance(value, str) or "/" not in value:
        raise ValueError(f"{_shown(value)} is not a CIDR (expected address/prefixlen)")
    try:
        network = netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValueError(f"{_shown(value)} is not a valid CIDR") from None
    if network.ip != network.network:
        raise ValueError(f"{_shown(value)} has host bits set; did you mean {network.cidr}?")
    return network.cidr


def to_ip(value: Any) -> netaddr.IPAddress:
    if isinstance(value, netaddr.IPAddress):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{_shown(value)} is not an IP address")
    try:
        return netaddr.IPAddress(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValueError(f"{_shown(value)} is not a valid IP address") from None


def optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def to_mac(value: Any) -> str:
    """A unicast MAC address, lower case. All zeros, broadcast and multicast addresses are no port's."""
    if not isinstance(value, str) or not _MAC_RE.match(value.lower()):
        raise ValueError(f"{_shown(value)} is not a MAC address like fa:16:3e:00:00:01")
    mac = value.lower()
    if mac == "00:00:00:00:00:00":
        raise ValueError(f"{mac} is the all-zero MAC address, which no port can have")
    if mac == "ff:ff:ff:ff:ff:ff":
        raise ValueError(f"{mac} is the broadcast MAC address, which no port can have")
    if int(mac[:2], 16) & 1:
        raise ValueError(f"{mac} is a multicast MAC address (the low bit of its first octet is set)")
    return mac


def _bounded_list(value: Any, limit: int, what: str) -> tuple[Any, ...]:
    """The entries of a list-valued attribute, refusing a text, a mapping or more than ``limit`` entries."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValueError(f"must be a list of {what}")
    # One past the limit is enough to refuse, without reading a huge list or an endless iterator.
    entries = tuple(itertools.islice(value, limit + 1))
    if len(entries) > limit:
        raise ValueError(f"has more than {limit} entries, the limit is {limit}")
    return entries


def to_allocation_pools(value: Any) -> tuple[netaddr.IPRange, ...]:
    pools = []
    for pool in _bounded_list(value, MAX_ALLOCATION_POOLS, "{'start': ..., 'end': ...}"):
        if isinstance(pool, netaddr.IPRange):
            pools.append(pool)
            continue
        if not isinstance(pool, Mapping) or set(pool) != {"start", "end"}:
            raise ValueError(f"{_shown(pool)} is not of the form {{'start': ..., 'end': ...}}")
        start, end = to_ip(pool["start"]), to_ip(pool["end"])
        if start.version != end.version or start > end:
            raise ValueError(f"pool {start}-{end} does not run from a lower to a higher address")
        pools.append(netaddr.IPRange(start, end))
    return tuple(pools)


def to_prefixes(value: Any) -> tuple[netaddr.IPNetwork, ...]:
    return tuple(to_cidr(item) for item in _bounded_list(value, MAX_SUBNETPOOL_PREFIXES, "CIDRs"))


def is_network_device_owner(device_owner: Any) -> bool:
    """Whether ``device_owner`` names network infrastructure (``network:...``), which only naas or an admin sets."""
    return isinstance(device_owner, str) and device_owner.startswith(_NETWORK_DEVICE_OWNER_PREFIX)


RequestT = TypeVar("RequestT", bound="Request")


def attribute(
    convert: Callable[[Any], Any] | None = None,
    *,
    default: Any = dataclasses.MISSING,
    wire: str | None = None,
    admin_only: bool | Callable[[Any], bool] = False,
) -> Any:
    """Declare a request attribute: its converter, default and wire name.

    ``admin_only``: True if only an admin may give it a value other than its default; or a predicate
    saying which (converted) values only an admin may give. :meth:`Request.admin_only_given` reads it, and
    :func:`naas.policy.check_admin_only` refuses those values to everybody else.
    """
    metadata = {"convert": convert, "wire": wire, "admin_only": admin_only}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Request:
    """Base of every request; see the module docstring."""

    RESOURCE: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            convert = field.metadata.get("convert")
            if value is UNSET or convert is None:
                continue
            try:
                converted = convert(value)
            except BadRequest as error:
                if error.resource == self.RESOURCE:
                    raise
                # An entry of a nested request (fixed_ips, external_gateway_info) was malformed:
                # name the attribute the caller sent, and the entry's attribute in the reason.
                raise BadRequest(
                    self.RESOURCE, self.wire_name(field.name), f"{error.attribute}: {error.reason}"
                ) from error
            except (ValueError, TypeError) as error:
                raise BadRequest(self.RESOURCE, self.wire_name(field.name), str(error)) from None
            object.__setattr__(self, field.name, converted)
        self.validate()

    def validate(self) -> None:
        """Checks that involve several attributes; raise BadRequest."""

    @classmethod
    def wire_name(cls, name: str) -> str:
        """The wire name of attribute ``name`` (itself when it has no other)."""
        for field in dataclasses.fields(cls):
            if field.name == name:
                return str(field.metadata.get("wire") or name)
        return name

    @classmethod
    def parse(cls: type[RequestT], body: RequestT | Mapping[str, Any]) -> RequestT:
        """Build the request from a body keyed by wire names, or return it as is."""
        if isinstance(body, cls):
            return body
        if not isinstance(body, Mapping):
            raise BadRequest(cls.RESOURCE, "body", f"expected a mapping of attributes, not {type(body).__name__}")
        by_wire = {cls.wire_name(f.name): f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in body.items():
            if key == "tenant_id" and "project_id" in by_wire:
                if "project_id" in body and body["project_id"] != value:
                    raise BadRequest(cls.RESOURCE, "tenant_id", "differs from project_id")
                key = "project_id"
            field = by_wire.get(key)
            if field is None:
                printable = isinstance(key, str) and len(key) <= NAME_MAX_LENGTH and unsafe_text_reason(key) is None
                raise BadRequest(cls.RESOURCE, key if printable else _shown(key), "unrecognized attribute")
            kwargs[field.name] = value
        for wire, field in by_wire.items():
            required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
            if required and field.name not in kwargs:
                raise BadRequest(cls.RESOURCE, wire, "is required")
        return cls(**kwargs)

    def given(self) -> dict[str, Any]:
        """The attributes that are set (not UNSET), by Python name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) is not UNSET}

    def admin_only_given(self) -> list[str]:
        """Wire names of the admin-only values given, nested ones as ``outer.inner``.

        Which values are admin-only is declared with :func:`naas.requests.attribute`.
        """
        names = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is UNSET:
                continue
            wire = self.wire_name(field.name)
            admin_only = field.metadata.get("admin_only")
            if callable(admin_only):
                restricted = admin_only(value)
            else:
                restricted = bool(admin_only) and value != field.default
            if restricted:
                names.append(wire)
            if isinstance(value, Request):
                names.extend(f"{wire}.{name}" for name in value.admin_only_given())
        return names


def _nested(kind: type[RequestT]) -> Callable[[Any], RequestT]:
    return kind.parse


def _nested_list(kind: type[RequestT], limit: int) -> Callable[[Any], tuple[RequestT, ...]]:
    def convert(value: Any) -> tuple[RequestT, ...]:
        return tuple(kind.parse(item) for item in _bounded_list(value, limit, f"{kind.RESOURCE} entries"))

    return convert


@dataclasses.dataclass(frozen=True)
class NetworkCreate(Request):
    """A network. ``id``: the id it gets, given by the caller (get-me-a-network records it before creating)."""

    RESOURCE: ClassVar[str] = "network"

    id: str | None = attribute(optional(to_id), default=None)
    name: str = attribute(to_name, default="")
    project_id: str | None = attribute(optional(to_project_id), default=None)
    admin_state_up: bool = attribute(to_bool, default=True)
    shared: bool = attribute(to_bool, default=False, admin_only=True)
    router_external: bool = attribute(to_bool, default=False, wire="router:external", admin_only=True)
    is_default: bool = attribute(to_bool, default=False, admin_only=True)
    mtu: int = attribute(to_int_between(68, 65535), default=1500)
    description: str = attribute(to_description, default="")
    tags: tuple[str, ...] = attribute(to_tags, default=())

    def validate(self) -> None:
        if self.is_default and not self.router_external:
            raise BadRequest("network", "is_default", "only an external network (router:external) can be the default")


@dataclasses.dataclass(frozen=True)
class NetworkUpdate(Request):
    RESOURCE: ClassVar[str] = "network"

    name: str | Unset = attribute(to_name, default=UNSET)
    admin_state_up: bool | Unset = attribute(to_bool, default=UNSET)
    shared: bool | Unset = attribute(to_bool, default=UNSET, admin_only=True)
    router_external: bool | Unset = attribute(to_bool, default=UNSET, wire="router:external", admin_only=True)
    is_default: bool | Unset = attribute(to_bool, default=UNSET, admin_only=True)
    description: str | Unset = attribute(to_description, default=UNSET)
    tags: tuple[str, ...] | Unset = attribute(to_tags, default=UNSET)


@dataclasses.dataclass(frozen=True)
class FixedIPRequest(Request):
    """One wanted address: any from ``subnet_id``, or exactly ``ip_address``."""

    RESOURCE: ClassVar[str] = "fixed_ips"

    subnet_id: str | None = attribute(optional(to_id), default=None)
    ip_address: netaddr.IPAddress | None = attribute(optional(to_ip), default=None)

    def validate(self) -> None:
        if self.subnet_id is None and self.ip_address is None:
            raise BadRequest(self.RESOURCE, "subnet_id", "each entry needs a subnet_id, an ip_address or both")


@dataclasses.dataclass(frozen=True)
class SubnetCreate(Request):
    """A subnet: an explicit ``cidr``, or a prefix from ``subnetpool_id`` / the default pool.

    ``gateway_ip`` UNSET means "the first address"; ``None`` means no gateway.
    ``allocation_pools`` None means "the whole CIDR but the gateway".
    """

    RESOURCE: ClassVar[str] = "subnet"

    network_id: str = attribute(to_id)
    ip_version: int | None = attribute(optional(to_ip_version), default=None)
    cidr: netaddr.IPNetwork | None = attribute(optional(to_cidr), default=None)
    prefixlen: int | None = attribute(optional(to_int_between(0, 128)), default=None)
    subnetpool_id: str | None = attribute(optional(to_id), default=None)
    use_default_subnetpool: bool = attribute(to_bool, default=False)
    gateway_ip: netaddr.IPAddress | Unset | None = attribute(optional(to_ip), default=UNSET)
    allocation_pools: tuple[netaddr.IPRange, ...] | None = attribute(optional(to_allocation_pools), default=None)
    name: str = attribute(to_name, default="")
    project_id: str | None = attribute(optional(to_project_id), default=None)
    enable_dhcp: bool = attribute(to_bool, default=True)
    description: str = attribute(to_description, default="")
    tags: tuple[str, ...] = attribute(to_tags, default=())

    def validate(self) -> None:
        if self.subnetpool_id is not None and self.use_default_subnetpool:
            raise BadRequest("subnet", "use_default_subnetpool", "cannot be combined with subnetpool_id")
        from_pool = self.subnetpool_id is not None or self.use_default_subnetpool
        if self.cidr is None and not from_pool:
            raise BadRequest("subnet", "cidr", "is required unless the subnet comes from a subnet pool")
        if self.cidr is not None and self.prefixlen is not None:
            raise BadRequest("subnet", "prefixlen", "cannot be combined with cidr")
        if self.cidr is not None:
            from naas.ipam import check_special_purpose

            check_special_purpose("subnet", "cidr", self.cidr, allow_link_local=not self.enable_dhcp)
            if self.ip_version is not None and self.ip_version != self.cidr.version:
                raise BadRequest(
                    "subnet", "ip_version", f"is {self.ip_version} but cidr {self.cidr} is IPv{self.cidr.version}"
                )
            object.__setattr__(self, "ip_version", self.cidr.version)
        elif self.use_default_subnetpool and self.ip_version is None:
            raise BadRequest("subnet", "ip_version", "is required with use_default_subnetpool")
        if self.prefixlen is not None and self.ip_version == 4 and self.prefixlen > 32:
            raise BadRequest("subnet", "prefixlen", f"{self.prefixlen} is longer than an IPv4 prefix can be")
        version = self.ip_version
        if version is not None:
            if isinstance(self.gateway_ip, netaddr.IPAddress) and self.gateway_ip.version != version:
                raise BadRequest("subnet", "gateway_ip", f"{self.gateway_ip} is not an IPv{version} address")
            for pool in self.allocation_pools or ():
                if pool.version != version:
                    raise BadRequest("subnet", "allocation_pools", f"pool {pool} is not IPv{version}")


@dataclasses.dataclass(frozen=True)
class SubnetUpdate(Request):
    RESOURCE: ClassVar[str] = "subnet"

    name: str | Unset = attribute(to_name, default=UNSET)
    gateway_ip: netaddr.IPAddress | Unset | None = attribute(optional(to_ip), default=UNSET)
    allocation_pools: tuple[netaddr.IPRange, ...] | Unset = attribute(to_allocation_pools, default=UNSET)
    enable_dhcp: bool | Unset = attribute(to_bool, default=UNSET)
    description: str | Unset = attribute(to_description, default=UNSET)
    tags: tuple[str, ...] | Unset = attribute(to_tags, default=UNSET)


def _to_pool_prefixes(value: Any) -> tuple[netaddr.IPNetwork, ...]:
    from naas.ipam import check_special_purpose, compact_prefixes

    prefixes = to_prefixes(value)
    for prefix in prefixes:
        # A pool's prefixes become subnets, with DHCP by default: none may be special-purpose or link-local.
        check_special_purpose("subnetpool", "prefixes", prefix, allow_link_local=False)
    return tuple(compact_prefixes(prefixes))


@dataclasses.dataclass(frozen=True)
class SubnetPoolCreate(Request):
    """A subnet pool. Unset prefix lengths get Neutron's defaults (min 8 / 64, max 32 / 128, default = min)."""

    RESOURCE: ClassVar[str] = "subnetpool"

    prefixes: tuple[netaddr.IPNetwork, ...] = attribute(_to_pool_prefixes)
    name: str = attribute(to_name, default="")
    project_id: str | None = attribute(optional(to_project_id), default=None)
    default_prefixlen: int | None = attribute(optional(to_int_between(0, 128)), default=None)
    min_prefixlen: int | None = attribute(optional(to_int_between(0, 128)), default=None)
    max_prefixlen: int | None = attribute(optional(to_int_between(0, 128)), default=None)
    shared: bool = attribute(to_bool, default=False, admin_only=True)
    is_default: bool = attribute(to_bool, default=False, admin_only=True)
    default_quota: int | None = attribute(optional(to_int_between(0, 2**63 - 1)), default=None)
    description: str = attribute(to_description, default="")
    tags: tuple[str, ...] = attribute(to_tags, default=())

    @property
    def ip_version(self) -> int:
        """The IP version of the pool's prefixes (4 or 6); the prefixes are checked to share one."""
        return int(self.prefixes[0].version)

    def validate(self) -> None:
        from naas.ipam import check_default_prefixlen_fits, resolve_prefix_bounds

        low, high, default = resolve_prefix_bounds(
            self.ip_version, self.min_prefixlen, self.max_prefixlen, self.default_prefixlen
        )
        # Only a default the caller chose: Neutron's implied one (min_prefixlen, /8 or /64) is kept as it is.
        if self.default_prefixlen is not None:
            check_default_prefixlen_fits(self.prefixes, default)
        object.__setattr__(self, "min_prefixlen", low)
        object.__setattr__(self, "max_prefixlen", high)
        object.__setattr__(self, "default_prefixlen", default)


@dataclasses.dataclass(frozen=True)
class SubnetPoolUpdate(Request):
    """Prefixes may only grow; prefix-length bounds are re-checked against the stored pool by the plugin."""

    RESOURCE: ClassVar[str] = "subnetpool"

    name: str | Unset = attribute(to_name, default=UNSET)
    prefixes: tuple[netaddr.IPNetwork, ...] | Unset = attribute(_to_pool_prefixes, default=UNSET)
    default_prefixlen: int | Unset = attribute(to_int_between(0, 128), default=UNSET)
    min_prefixlen: int | Unset = attribute(to_int_between(0, 128), default=UNSET)
    max_prefixlen: int | Unset = attribute(to_int_between(0, 128), default=UNSET)
    is_default: bool | Unset = attribute(to_bool, default=UNSET, admin_only=True)
    default_quota: int | Unset | None = attribute(optional(to_int_between(0, 2**63 - 1)), default=UNSET)
    description: str | Unset = attribute(to_description, default=UNSET)
    tags: tuple[str, ...] | Unset = attribute(to_tags, default=UNSET)


@dataclasses.dataclass(frozen=True)
class PortCreate(Request):
    """A port. ``fixed_ips`` None: one address per IP version; ``()``: none."""

    RESOURCE: ClassVar[str] = "port"

    network_id: str = attribute(to_id)
    name: str = attribute(to_name, default="")
    project_id: str | None = attribute(optional(to_project_id), default=None)
    admin_state_up: bool = attribute(to_bool, default=True)
    mac_address: str | None = attribute(optional(to_mac), default=None)
    device_id: str = attribute(to_name, default="")
    device_owner: str = attribute(to_name, default="", admin_only=is_network_device_owner)
    fixed_ips: tuple[FixedIPRequest, ...] | None = attribute(
        optional(_nested_list(FixedIPRequest, MAX_FIXED_IPS_PER_PORT)), default=None
    )
    description: str = attribute(to_description, default="")
    tags: tuple[str, ...] = attribute(to_tags, default=())


@dataclasses.dataclass(frozen=True)
class PortUpdate(Request):
    RESOURCE: ClassVar[str] = "port"

    name: str | Unset = attribute(to_name, default=UNSET)
    admin_state_up: bool | Unset = attribute(to_bool, default=UNSET)
    device_id: str | Unset = attribute(to_name, default=UNSET)
    device_owner: str | Unset = attribute(to_name, default=UNSET, admin_only=is_network_device_owner)
    fixed_ips: tuple[FixedIPRequest, ...] | Unset = attribute(
        _nested_list(FixedIPRequest, MAX_FIXED_IPS_PER_PORT), default=UNSET
    )
    description: str | Unset = attribute(to_description, default=UNSET)
    tags: tuple[str, ...] | Unset = attribute(to_tags, default=UNSET)


@dataclasses.dataclass(frozen=True)
class GatewayRequest(Request):
    """A router's gateway. Only an admin turns SNAT off or picks the addresses, as in Neutron's default policy."""

    RESOURCE: ClassVar[str] = "external_gateway_info"

    network_id: str = attribute(to_id)
    enable_snat: bool = attribute(to_bool, default=True, admin_only=True)
    external_fixed_ips: tuple[FixedIPRequest, ...] | None = attribute(
        optional(_nested_list(FixedIPRequest, MAX_FIXED_IPS_PER_PORT)), default=None, admin_only=True
    )


@dataclasses.dataclass(frozen=True)
class RouterCreate(Request):
    """A router. ``id``: the id it gets, given by the caller (get-me-a-network records it before creating)."""

    RESOURCE: ClassVar[str] = "router"

    id: str | None = attribute(optional(to_id), default=None)
    name: str = attribute(to_name, default="")
    project_id: str | None = attribute(optional(to_project_id), default=None)
    admin_state_up: bool = attribute(to_bool, default=True)
    external_gateway_info: GatewayRequest | None = attribute(optional(_nested(GatewayRequest)), default=None)
    description: str = attribute(to_description, default="")
    tags: tuple[str, ...] = attribute(to_tags, default=())


@dataclasses.dataclass(frozen=True)
class RouterUpdate(Request):
    """``external_gateway_info=None`` removes the gateway."""

    RESOURCE: ClassVar[str] = "router"

    name: str | Unset = attribute(to_name, default=UNSET)
    admin_state_up: bool | Unset = attribute(to_bool, default=UNSET)
    external_gateway_info: GatewayRequest | Unset | None = attribute(optional(_nested(GatewayRequest)), default=UNSET)
    description: str | Unset = attribute(to_description, default=UNSET)
    tags: tuple[str, ...] | Unset = attribute(to_tags, default=UNSET)


@dataclasses.dataclass(frozen=True)
class InterfaceRequest(Request):
    """A router interface, by subnet (a new port on the subnet's gateway) or by an existing port."""

    RESOURCE: ClassVar[str] = "router_interface"

    subnet_id: str | None = attribute(optional(to_id), default=None)
    port_id: str | None = attribute(optional(to_id), default=None)

    def validate(self) -> None:
        if (self.subnet_id is None) == (self.port_id is None):
            raise BadRequest("router_interface", "subnet_id", "give exactly one of subnet_id and port_id")


@dataclasses.dataclass(frozen=True)
class FloatingIPCreate(Request):
    """A floating IP. Only an admin picks its address (``floating_ip_address``), as in Neutron's default policy."""

    RESOURCE: ClassVar[str] = "floatingip"

    floating_network_id: str = attribute(to_id)
    project_id: str | None = attribute(optional(to_project_id), default=None)
    floating_ip_address: netaddr.IPAddress | None = attribute(optional(to_ip), default=None, admin_only=True)
    port_id: str | None = attribute(optional(to_id), default=None)
    fixed_ip_address: netaddr.IPAddress | None = attribute(optional(to_ip), default=None)
    description: str = attribute(to_description, default="")
    tags: tuple[str, ...] = attribute(to_tags, default=())

    def validate(self) -> None:
        if self.fixed_ip_address is not None and self.port_id is None:
            raise BadRequest("floatingip", "fixed_ip_address", "needs a port_id")


@dataclasses.dataclass(frozen=True)
class FloatingIPUpdate(Request):
    """A change of a floating IP: ``port_id`` maps it to a port (None unmaps it), as ``PUT /floatingips/{id}``."""

    RESOURCE: ClassVar[str] = "floatingip"

    port_id: str | Unset | None = attribute(optional(to_id), default=UNSET)
    fixed_ip_address: netaddr.IPAddress | Unset | None = attribute(optional(to_ip), default=UNSET)
    description: str | Unset = attribute(to_description, default=UNSET)
    tags: tuple[str, ...] | Unset = attribute(to_tags, default=UNSET)

    def validate(self) -> None:
        if self.fixed_ip_address not in (UNSET, None) and self.port_id in (UNSET, None):
            raise BadRequest("floatingip", "fixed_ip_address", "needs a port_id")


def parse_id(resource: str, value: Any) -> str:
    """Check the id of an existing ``resource`` given to a get, update or delete; return it unchanged.

    Every naas id is a UUID in its canonical spelling, so anything else names no resource: a string that is
    not one is :class:`~naas.exceptions.NotFound` without asking storage. A value that is no string at all,
    or a string too long or holding a control character or lone surrogate (which would reach the database
    driver or a terminal), is :class:`~naas.exceptions.BadRequest` on ``id``. Plugins call it first in every
    method taking an id.
    """
    if not isinstance(value, str):
        raise BadRequest(resource, "id", f"must be a UUID string, not {type(value).__name__}")
    try:
        checked = _checked_text(value, NAME_MAX_LENGTH)
    except ValueError as error:
        raise BadRequest(resource, "id", str(error)) from None
    try:
        canonical = str(uuid.UUID(checked))
    except ValueError:
        canonical = None
    if canonical != checked:
        raise NotFound(resource, checked)
    return checked


def parse_project_id(resource: str, value: Any) -> str:
    """Check a project id given outside a request body (get-me-a-network's ``project_id``); return it.

    Raises :class:`~naas.exceptions.BadRequest` on ``project_id`` for a value that is not a non-empty string
    of at most :data:`NAME_MAX_LENGTH` printable characters.
    """
    try:
        return to_project_id(value)
    except ValueError as error:
        raise BadRequest(resource, "project_id", str(error)) from None


def parse_fields(resource: str, fields: Any) -> tuple[str, ...]:
    """Check a ``fields`` argument: None or a list of attribute names (not one bare string); return a tuple.

    Raises :class:`~naas.exceptions.BadRequest` on ``fields`` otherwise. Which names are known is the
    caller's to check.
    """
    if fields is None:
        return ()
    try:
        names = _bounded_list(fields, NAME_MAX_LENGTH, "attribute names")
        return tuple(to_name(name) for name in names)
    except ValueError as error:
        raise BadRequest(resource, "fields", str(error)) from None


@dataclasses.dataclass(frozen=True)
class FixedIPPlan:
    """How a port's new ``fixed_ips`` map onto the addresses it has (see :func:`plan_fixed_ips`).

    ``order`` is the order to serve the entries in (those naming an address
    first, so that an "any address" entry cannot take it); ``kept[i]`` is the
    current address entry ``i`` keeps, or None if it needs a new one;
    ``released`` are the current addresses no entry keeps.
    """

    order: tuple[int, ...]
    kept: tuple[FixedIP | None, ...]
    released: tuple[FixedIP, ...]


def plan_fixed_ips(wanted: Sequence[FixedIPRequest], current: Sequence[FixedIP]) -> FixedIPPlan:
    """Match the entries of a port update against the port's addresses, for every plugin alike.

    An entry keeps a current address when it names it, or names only its subnet.
    """
    order = tuple(sorted(range(len(wanted)), key=lambda index: wanted[index].ip_address is None))
    kept: list[FixedIP | None] = [None] * len(wanted)
    unclaimed = list(current)
    for index in order:
        entry = wanted[index]
        match = next(
            (
                fixed
                for fixed in unclaimed
                if (entry.subnet_id is None or entry.subnet_id == fixed.subnet_id)
                and (entry.ip_address is None or entry.ip_address == fixed.ip_address)
            ),
            None,
        )
        if match is not None:
            unclaimed.remove(match)
            kept[index] = match
    return FixedIPPlan(order=order, kept=tuple(kept), released=tuple(unclaimed))
