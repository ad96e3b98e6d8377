"""naas.exceptions: messages a person can act on, facts in attributes, and the category tree.

Also keeps every public module's ``__all__`` honest, and checks that the names
the SPEC promises users are exported where it says.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import naas
import naas_plugins
from naas import exceptions
from naas.exceptions import (
    AutoAllocationFailure,
    BadRequest,
    Conflict,
    DefaultExists,
    DefaultExternalNetworkExists,
    DefaultSubnetPoolExists,
    InUse,
    IpAddressAlreadyAllocated,
    IpAddressExhausted,
    NaasError,
    NotAuthorized,
    NotFound,
    PluginLoadError,
    PluginNotFound,
    PreconditionFailed,
    RevisionMismatch,
    ServiceUnavailable,
    SubnetPoolExhausted,
    SubnetPoolQuotaExceeded,
)


@pytest.mark.parametrize(
    ("error", "message", "attributes"),
    [
        (
            BadRequest("subnet", "cidr", "'10.0.0.0' is not a CIDR"),
            "Invalid subnet attribute 'cidr': '10.0.0.0' is not a CIDR.",
            {"resource": "subnet", "attribute": "cidr", "reason": "'10.0.0.0' is not a CIDR"},
        ),
        (NotAuthorized(), "Not authorized.", {"reason": "Not authorized"}),
        (
            NotAuthorized("Only an admin may set shared on a network"),
            "Only an admin may set shared on a network.",
            {"reason": "Only an admin may set shared on a network"},
        ),
        (
            NotFound("network", "n-1"),
            "network n-1 could not be found.",
            {"resource": "network", "resource_id": "n-1"},
        ),
        (
            NotFound("router_interface", "r-1", "Router r-1 has no interface on subnet s-1."),
            "Router r-1 has no interface on subnet s-1.",
            {"resource": "router_interface", "resource_id": "r-1"},
        ),
        (
            Conflict("subnet", "s-1", "CIDR 10.0.0.0/24 is taken."),
            "CIDR 10.0.0.0/24 is taken.",
            {"resource": "subnet", "resource_id": "s-1"},
        ),
        (
            InUse("network", "n-1", ["p-1", "p-2"]),
            "network n-1 is in use by ports: p-1, p-2.",
            {"resource": "network", "resource_id": "n-1", "users": ("p-1", "p-2")},
        ),
        (
            InUse("subnetpool", "sp-1", iter(["s-1"]), what="subnets"),
            "subnetpool sp-1 is in use by subnets: s-1.",
            {"resource": "subnetpool", "resource_id": "sp-1", "users": ("s-1",)},
        ),
        (
            IpAddressAlreadyAllocated("s-1", "10.0.0.5"),
            "IP address 10.0.0.5 is already allocated in subnet s-1.",
            {"resource": "subnet", "resource_id": "s-1", "ip_address": "10.0.0.5"},
        ),
        (
            IpAddressExhausted("network", "n-1"),
            "No more IP addresses available on network n-1.",
            {"resource": "network", "resource_id": "n-1"},
        ),
        (
            SubnetPoolExhausted("sp-1", 24),
            "Subnet pool sp-1 has no free prefix of length /24.",
            {"resource": "subnetpool", "resource_id": "sp-1", "prefixlen": 24},
        ),
        (
            SubnetPoolQuotaExceeded("sp-1", "project-a", 512),
            "Project project-a would exceed its quota of 512 address units in subnet pool sp-1.",
            {"resource": "subnetpool", "resource_id": "sp-1", "project_id": "project-a", "quota": 512},
        ),
        (
            DefaultExternalNetworkExists("n-1"),
            "A default external network already exists: n-1.",
            {"resource": "network", "resource_id": "n-1", "existing_id": "n-1"},
        ),
        (
            DefaultSubnetPoolExists("sp-6", 6),
            "A default subnet pool for IPv6 already exists: sp-6.",
            {"resource": "subnetpool", "resource_id": "sp-6", "existing_id": "sp-6", "ip_version": 6},
        ),
        (
            AutoAllocationFailure("No default router:external network"),
            "Deployment error: No default router:external network.",
            {
                "resource": "auto_allocated_topology",
                "resource_id": None,
                "reasons": ("No default router:external network",),
            },
        ),
        (
            AutoAllocationFailure(["No default router:external network", "No default subnetpools"], "project-a"),
            "Deployment error: No default router:external network; No default subnetpools.",
            {
                "resource": "auto_allocated_topology",
                "resource_id": "project-a",
                "reasons": ("No default router:external network", "No default subnetpools"),
            },
        ),
        (
            PluginLoadError("naas.core_plugins", "vendor", "building it failed: OSError()"),
            "Cannot load plugin 'vendor' from namespace 'naas.core_plugins': building it failed: OSError()",
            {"namespace": "naas.core_plugins", "name": "vendor", "reason": "building it failed: OSError()"},
        ),
        (
            PluginNotFound("naas.l3_plugins", "vendr", ["vendor", "sql", "memory"]),
            "Cannot load plugin 'vendr' from namespace 'naas.l3_plugins': "
            "no such plugin; installed aliases: memory, sql, vendor",
            {
                "namespace": "naas.l3_plugins",
                "name": "vendr",
                "installed": ("memory", "sql", "vendor"),
                "reason": "no such plugin; installed aliases: memory, sql, vendor",
            },
        ),
        (
            RevisionMismatch("port", "p-1", expected=3, actual=4),
            "port p-1 is at revision 4, not 3 as required; read it again and retry with its current revision_number.",
            {"resource": "port", "resource_id": "p-1", "expected": 3, "actual": 4},
        ),
        (
            ServiceUnavailable("SQLite database /srv/naas.sqlite", "the disk is full"),
            "The SQLite database /srv/naas.sqlite cannot serve the request: the disk is full.",
            {"backend": "SQLite database /srv/naas.sqlite", "reason": "the disk is full"},
        ),
        (
            PluginNotFound("naas.core_plugins", "memory", []),
            "Cannot load plugin 'memory' from namespace 'naas.core_plugins': no such plugin; installed aliases: none",
            {"installed": ()},
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, NaasError) else None,
)
def test_message_and_attributes(error: NaasError, message: str, attributes: dict[str, object]) -> None:
    assert str(error) == message
    assert error.message == message
    assert error.args == (message,)
    assert {name: getattr(error, name) for name in attributes} == attributes


@pytest.mark.parametrize(
    ("error_class", "category"),
    [
        (BadRequest, NaasError),
        (NotAuthorized, NaasError),
        (NotFound, NaasError),
        (Conflict, NaasError),
        (InUse, Conflict),
        (IpAddressAlreadyAllocated, Conflict),
        (IpAddressExhausted, Conflict),
        (SubnetPoolExhausted, Conflict),
        (SubnetPoolQuotaExceeded, Conflict),
        (DefaultExists, Conflict),
        (DefaultExternalNetworkExists, DefaultExists),
        (DefaultSubnetPoolExists, DefaultExists),
        (AutoAllocationFailure, Conflict),
        (PluginLoadError, NaasError),
        (PluginNotFound, PluginLoadError),
        (RevisionMismatch, PreconditionFailed),
        (PreconditionFailed, NaasError),
    ],
)
def test_each_error_sits_under_its_category(error_class: type[NaasError], category: type[NaasError]) -> None:
    assert error_class.__mro__[1] is category
    assert issubclass(error_class, NaasError)
    assert issubclass(NaasError, Exception)


# The four categories a caller (or a REST layer) dispatches on are disjoint, and
# loading failures are none of them: they happen before any request.
CATEGORIES = (BadRequest, NotAuthorized, NotFound, Conflict, PreconditionFailed, ServiceUnavailable, PluginLoadError)


@pytest.mark.parametrize("name", exceptions.__all__)
def test_every_error_is_in_exactly_one_category(name: str) -> None:
    error_class = getattr(exceptions, name)
    if error_class is NaasError:
        return
    assert sum(issubclass(error_class, category) for category in CATEGORIES) == 1


# __all__ honesty


# Alembic's migration scripts are run by alembic, never imported by users.
NOT_AN_API = ("naas_plugins.sql.migrations",)


def public_modules() -> list[str]:
    """Every module of naas and naas_plugins whose dotted name has no ``_``-prefixed part."""
    names = []
    for package in (naas, naas_plugins):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            if not any(part.startswith("_") for part in info.name.split(".")) and not info.name.startswith(NOT_AN_API):
                names.append(info.name)
    return sorted(names)


def test_the_public_modules_are_found() -> None:
    assert {"naas", "naas.exceptions", "naas.loading", "naas.plugins", "naas_plugins.memory"} <= set(public_modules())


@pytest.mark.parametrize("module_name", public_modules())
def test_every_name_in_all_exists_once(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module_name} has no __all__"

    assert sorted(set(exported)) == sorted(exported), f"{module_name}.__all__ lists a name twice"
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == [], f"{module_name}.__all__ names what it does not define: {missing}"


# The names the SPEC's "Names that users rely on" table promises, by module.
PROMISED = {
    "naas": {
        "RequestContext",
        "admin_context",
        "load_plugins",
        "Plugins",
        "CorePlugin",
        "L3Plugin",
        "EventRegistry",
        "AutoAllocatedTopologyMixin",
    },
    "naas.exceptions": {
        "NaasError",
        "BadRequest",
        "NotFound",
        "Conflict",
        "NotAuthorized",
        "AutoAllocationFailure",
        "DefaultExternalNetworkExists",
        "PluginNotFound",
        "PluginLoadError",
    },
    "naas.plugins": {"CorePlugin", "L3Plugin"},
    "naas.loading": {"load_plugins", "load_plugin_class", "CORE_NAMESPACE", "L3_NAMESPACE"},
    "naas.opts": {"list_opts", "register_opts"},
    "naas.testing": {"CorePluginConformance", "L3PluginConformance"},
    "naas_plugins.memory": {"MemoryCorePlugin", "MemoryL3Plugin"},
}


@pytest.mark.parametrize("module_name", sorted(PROMISED))
def test_the_promised_names_are_exported(module_name: str) -> None:
    module = importlib.import_module(module_name)

    assert PROMISED[module_name] - set(module.__all__) == set()


def test_the_loading_namespaces_are_the_documented_ones() -> None:
    from naas import loading

    assert (loading.CORE_NAMESPACE, loading.L3_NAMESPACE) == ("naas.core_plugins", "naas.l3_plugins")


@pytest.mark.parametrize("name", sorted(naas.__all__))
def test_the_package_re_exports_the_same_objects(name: str) -> None:
    # naas.X must be the very object its home module defines, not a copy or a wrapper.
    exported = getattr(naas, name)
    home = importlib.import_module(exported.__module__)
    assert getattr(home, name) is exported
