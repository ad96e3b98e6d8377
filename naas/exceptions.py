"""The exceptions naas raises.

Every error a plugin or the auto-allocation service raises on purpose is a
:class:`NaasError`. Callers catch one of the four categories, which map onto
the HTTP status a REST layer would answer with::

    NaasError
    ├── BadRequest                     400  malformed input; names the attribute
    ├── NotAuthorized                  403  the caller may not do this
    ├── NotFound                       404  names the resource type and id
    ├── Conflict                       409  the request clashes with the current state
    │   ├── InUse                           still used by other resources
    │   ├── IpAddressAlreadyAllocated
    │   ├── IpAddressExhausted              no free address on a subnet or network
    │   ├── SubnetPoolExhausted             no room at that prefix length
    │   ├── SubnetPoolQuotaExceeded
    │   ├── DefaultExists                   a second default
    │   │   ├── DefaultExternalNetworkExists
    │   │   └── DefaultSubnetPoolExists
    │   └── AutoAllocationFailure           get-me-a-network cannot be satisfied
    ├── PreconditionFailed             412  a condition the caller set does not hold
    │   └── RevisionMismatch                the resource is not at the revision the caller expected
    ├── ServiceUnavailable             503  the storage cannot serve the request now
    └── PluginLoadError                     a configured plugin cannot be loaded
        └── PluginNotFound                  no plugin under that name

Each exception keeps the facts in attributes (``resource``, ``resource_id``,
``attribute`` ...) so code can act on them without parsing the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "AutoAllocationFailure",
    "BadRequest",
    "Conflict",
    "DefaultExists",
    "DefaultExternalNetworkExists",
    "DefaultSubnetPoolExists",
    "InUse",
    "IpAddressAlreadyAllocated",
    "IpAddressExhausted",
    "NaasError",
    "NotAuthorized",
    "NotFound",
    "PluginLoadError",
    "PluginNotFound",
    "PreconditionFailed",
    "RevisionMismatch",
    "ServiceUnavailable",
    "SubnetPoolExhausted",
    "SubnetPoolQuotaExceeded",
]


class NaasError(Exception):
    """Root of every error naas raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take their facts, not the message, as arguments; rebuild from the attributes
        # so an error raised in a worker process arrives intact in its parent.
        return (_restore, (type(self), self.__dict__.copy()))


def _restore(kind: type[NaasError], state: dict[str, Any]) -> NaasError:
    error = kind.__new__(kind)
    Exception.__init__(error, state["message"])
    error.__dict__.update(state)
    return error


class BadRequest(NaasError):
    """Malformed input: ``attribute`` of ``resource`` is wrong because ``reason``."""

    def __init__(self, resource: str, attribute: str, reason: str) -> None:
        self.resource = resource
        self.attribute = attribute
        self.reason = reason
        super().__init__(f"Invalid {resource} attribute '{attribute}': {reason}.")


class NotAuthorized(NaasError):
    """The caller's context does not allow this operation."""

    def __init__(self, reason: str = "Not authorized") -> None:
        self.reason = reason
        super().__init__(f"{reason}.")


class NotFound(NaasError):
    """No ``resource`` with id ``resource_id`` is visible to the caller."""

    def __init__(self, resource: str, resource_id: str, message: str | None = None) -> None:
        self.resource = resource
        self.resource_id = resource_id
        super().__init__(message or f"{resource} {resource_id} could not be found.")


class Conflict(NaasError):
    """The request is valid but clashes with the current state of ``resource``."""

    def __init__(self, resource: str, resource_id: str | None, message: str) -> None:
        self.resource = resource
        self.resource_id = resource_id
        super().__init__(message)


class InUse(Conflict):
    """``resource`` cannot be changed or removed while ``users`` still use it."""

    def __init__(self, resource: str, resource_id: str, users: Iterable[str], what: str = "ports") -> None:
        self.users: tuple[str, ...] = tuple(users)
        super().__init__(
            resource,
            resource_id,
            f"{resource} {resource_id} is in use by {what}: {', '.join(self.users)}.",
        )


class IpAddressAlreadyAllocated(Conflict):
    """``ip_address``, asked for by the caller, is already held by another port on subnet ``subnet_id``."""

    def __init__(self, subnet_id: str, ip_address: str) -> None:
        self.ip_address = ip_address
        super().__init__("subnet", subnet_id, f"IP address {ip_address} is already allocated in subnet {subnet_id}.")


class IpAddressExhausted(Conflict):
    """No free address on ``resource`` (a subnet or a network)."""

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(resource, resource_id, f"No more IP addresses available on {resource} {resource_id}.")


class SubnetPoolExhausted(Conflict):
    """Subnet pool ``subnetpool_id`` has no free block of length ``prefixlen`` left."""

    def __init__(self, subnetpool_id: str, prefixlen: int) -> None:
        self.prefixlen = prefixlen
        super().__init__(
            "subnetpool",
            subnetpool_id,
            f"Subnet pool {subnetpool_id} has no free prefix of length /{prefixlen}.",
        )


class SubnetPoolQuotaExceeded(Conflict):
    """The allocation would take ``project_id`` past its ``quota`` of address units in the pool."""

    def __init__(self, subnetpool_id: str, project_id: str, quota: int) -> None:
        self.project_id = project_id
        self.quota = quota
        super().__init__(
            "subnetpool",
            subnetpool_id,
            f"Project {project_id} would exceed its quota of {quota} address units in subnet pool {subnetpool_id}.",
        )


class DefaultExists(Conflict):
    """A second default of a kind that allows only one."""

    def __init__(self, resource: str, existing_id: str, message: str) -> None:
        self.existing_id = existing_id
        super().__init__(resource, existing_id, message)


class DefaultExternalNetworkExists(DefaultExists):
    """Another network, ``existing_id``, already is the default external network."""

    def __init__(self, existing_id: str) -> None:
        super().__init__("network", existing_id, f"A default external network already exists: {existing_id}.")


class DefaultSubnetPoolExists(DefaultExists):
    """Another pool, ``existing_id``, already is the default subnet pool for ``ip_version``."""

    def __init__(self, existing_id: str, ip_version: int) -> None:
        self.ip_version = ip_version
        super().__init__(
            "subnetpool",
            existing_id,
            f"A default subnet pool for IPv{ip_version} already exists: {existing_id}.",
        )


class AutoAllocationFailure(Conflict):
    """Get-me-a-network cannot be satisfied; ``reasons`` lists every cause found."""

    def __init__(self, reasons: str | Sequence[str], project_id: str | None = None) -> None:
        self.reasons: tuple[str, ...] = (reasons,) if isinstance(reasons, str) else tuple(reasons)
        super().__init__("auto_allocated_topology", project_id, f"Deployment error: {'; '.join(self.reasons)}.")


class PreconditionFailed(NaasError):
    """A condition the caller attached to the request (``if_revision``) does not hold; nothing was changed."""

    def __init__(self, resource: str, resource_id: str, message: str) -> None:
        self.resource = resource
        self.resource_id = resource_id
        super().__init__(message)


class RevisionMismatch(PreconditionFailed):
    """``resource`` ``resource_id`` is at revision ``actual``, not ``expected`` as the caller required."""

    def __init__(self, resource: str, resource_id: str, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            resource,
            resource_id,
            f"{resource} {resource_id} is at revision {actual}, not {expected} as required; "
            "read it again and retry with its current revision_number.",
        )


class ServiceUnavailable(NaasError):
    """The storage cannot serve the request now; a REST layer answers 503 Service Unavailable.

    Raised instead of the database driver's error when the database is unreachable,
    does not answer within the configured bound (``[database] response_timeout``), is
    locked by another process, is read-only, full, empty or damaged, or a connection
    was lost. ``backend`` names it (a database URL without its password, or an SQLite
    file) and ``reason`` says what is wrong with it. The original error is chained
    (``__cause__``). The call may be retried later; whether a change was made when a
    connection was lost during its commit cannot be known.
    """

    def __init__(self, backend: str, reason: str) -> None:
        self.backend = backend
        self.reason = reason
        super().__init__(f"The {backend} cannot serve the request: {reason}.")


class PluginLoadError(NaasError):
    """A configured plugin could not be imported, built or validated."""

    def __init__(self, namespace: str, name: str, reason: str) -> None:
        self.namespace = namespace
        self.name = name
        self.reason = reason
        super().__init__(f"Cannot load plugin {name!r} from namespace {namespace!r}: {reason}")


class PluginNotFound(PluginLoadError):
    """No entry point and no importable ``module:Class`` under ``name``."""

    def __init__(self, namespace: str, name: str, installed: Iterable[str]) -> None:
        self.installed: tuple[str, ...] = tuple(sorted(installed))
        listing = ", ".join(self.installed) or "none"
        super().__init__(namespace, name, f"no such plugin; installed aliases: {listing}")
