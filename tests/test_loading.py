"""naas.loading: plugins chosen by alias or path, wired together, and every way that fails.

Broken plugins live in ``tests/loading_fixtures``. Broken *aliases* come from a
throw-away distribution (a ``.dist-info`` directory in a temporary ``sys.path``
entry), which is exactly what ``pip install`` of a third-party driver leaves
behind, so stevedore finds them through its ordinary entry-point scan.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from oslo_config import cfg
from stevedore import exception as stevedore_exception
from stevedore import extension

from naas.auto_allocate import AutoAllocator, load_auto_allocator
from naas.context import RequestContext
from naas.events import Event, EventPayload, EventRegistry, ResourceType
from naas.exceptions import PluginLoadError, PluginNotFound
from naas.loading import (
    BACKENDS_NAMESPACE,
    CORE_NAMESPACE,
    L3_NAMESPACE,
    OBSERVERS_NAMESPACE,
    Plugins,
    installed_aliases,
    load_backend_class,
    load_plugin_class,
    load_plugins,
)
from naas.plugins import CorePlugin, L3Plugin
from naas.testing.backends import RecordingBackend
from naas_plugins.memory import MemoryCorePlugin, MemoryL3Plugin

# The fixtures' import name depends on how pytest put this file on sys.path.
FIXTURES = f"{__package__}.loading_fixtures" if __package__ else "loading_fixtures"
PLUGINS = f"{FIXTURES}.plugins"
IMPORT_FAILURE = "RuntimeError('vendor SDK: no controller address configured')"

ConfigFromFile = Callable[[str], cfg.ConfigOpts]  # the conftest fixture config_from_file
InstallDistribution = Callable[[str, Mapping[str, Mapping[str, str]]], None]


@pytest.fixture
def install_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InstallDistribution:
    """Make a distribution's entry points visible for this test only, as if it were pip-installed."""
    # stevedore keeps each namespace's entry points for the life of the process;
    # an empty cache per test makes it scan sys.path again and forget afterwards.
    monkeypatch.setattr(extension.ExtensionManager, "ENTRY_POINT_CACHE", {})

    def install(name: str, entry_points: Mapping[str, Mapping[str, str]]) -> None:
        site = tmp_path / f"site-{name}"
        dist_info = site / f"{name.replace('-', '_')}-1.0.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        sections = [
            "\n".join([f"[{group}]", *(f"{alias} = {target}" for alias, target in aliases.items())])
            for group, aliases in entry_points.items()
        ]
        (dist_info / "entry_points.txt").write_text("\n\n".join(sections) + "\n")
        monkeypatch.syspath_prepend(str(site))
        extension.ExtensionManager.ENTRY_POINT_CACHE.clear()
        importlib.invalidate_caches()

    return install


def load_error(namespace: str, name: str, interface: type[Any]) -> PluginLoadError:
    with pytest.raises(PluginLoadError) as caught:
        load_plugin_class(namespace, name, interface)
    return caught.value


def assert_names(error: PluginLoadError, namespace: str, name: str, reason: str) -> None:
    assert (error.namespace, error.name, error.reason) == (namespace, name, reason)
    assert str(error) == f"Cannot load plugin {name!r} from namespace {namespace!r}: {reason}"


MEMORY_BY_ALIAS = """
    [DEFAULT]
    core_plugin = memory
    l3_plugin = memory
"""
MEMORY_BY_PATH = """
    [DEFAULT]
    core_plugin = naas_plugins.memory:MemoryCorePlugin
    l3_plugin = naas_plugins.memory:MemoryL3Plugin
"""
MEMORY_MIXED = """
    [DEFAULT]
    core_plugin = memory
    l3_plugin = naas_plugins.memory:MemoryL3Plugin
"""


def record_events(registry: EventRegistry, resource: ResourceType) -> list[EventPayload]:
    seen: list[EventPayload] = []
    registry.subscribe(resource, Event.AFTER_CREATE, lambda _resource, _event, payload: seen.append(payload))
    return seen


@pytest.mark.parametrize("config", [MEMORY_BY_ALIAS, MEMORY_BY_PATH, MEMORY_MIXED], ids=["alias", "path", "mixed"])
def test_memory_plugins_are_loaded_from_a_config_file_and_wired(config_from_file: ConfigFromFile, config: str) -> None:
    plugins = load_plugins(config_from_file(config))

    assert type(plugins.core) is MemoryCorePlugin
    assert type(plugins.l3) is MemoryL3Plugin
    assert plugins.l3.core_plugin is plugins.core
    assert plugins.core.events is plugins.events
    assert plugins.l3.events is plugins.events


def test_loaded_plugins_publish_to_the_shared_registry(config_from_file: ConfigFromFile) -> None:
    plugins = load_plugins(config_from_file(MEMORY_BY_ALIAS))
    networks = record_events(plugins.events, ResourceType.NETWORK)
    routers = record_events(plugins.events, ResourceType.ROUTER)
    context = RequestContext(project_id="project-a")

    network = plugins.core.create_network(context, {"name": "net"})
    router = plugins.l3.create_router(context, {"name": "router"})

    assert [payload.result.id for payload in networks] == [network.id]
    assert [payload.result.id for payload in routers] == [router.id]


def test_a_registry_given_to_the_loader_is_the_one_the_plugins_share(config_from_file: ConfigFromFile) -> None:
    registry = EventRegistry()

    plugins = load_plugins(config_from_file(MEMORY_BY_ALIAS), events=registry)

    assert plugins.events is registry
    assert plugins.core.events is registry
    assert plugins.l3.events is registry


def test_two_loads_give_independent_plugin_sets(config_from_file: ConfigFromFile) -> None:
    conf = config_from_file(MEMORY_BY_ALIAS)
    first, second = load_plugins(conf), load_plugins(conf)
    second_networks = record_events(second.events, ResourceType.NETWORK)
    context = RequestContext(project_id="project-a")

    network = first.core.create_network(context, {"name": "only-in-first"})

    assert first.core is not second.core
    assert first.l3 is not second.l3
    assert first.events is not second.events
    assert second.l3.core_plugin is second.core
    assert [n.id for n in first.core.get_networks(context)] == [network.id]
    assert second.core.get_networks(context) == []
    assert second_networks == []


def test_the_loader_builds_plugins_with_the_configuration_it_was_given(config_from_file: ConfigFromFile) -> None:
    conf = config_from_file(f"""
        [DEFAULT]
        core_plugin = {PLUGINS}:ConfiguredCorePlugin
        l3_plugin = {PLUGINS}:StubL3Plugin
    """)

    plugins = load_plugins(conf)

    assert isinstance(plugins, Plugins)
    assert plugins.core.conf is conf  # type: ignore[attr-defined]
    assert plugins.l3.core_plugin is plugins.core


@pytest.mark.parametrize(
    ("namespace", "name", "interface", "expected"),
    [
        (CORE_NAMESPACE, "memory", CorePlugin, MemoryCorePlugin),
        (L3_NAMESPACE, "memory", L3Plugin, MemoryL3Plugin),
        (CORE_NAMESPACE, "naas_plugins.memory:MemoryCorePlugin", CorePlugin, MemoryCorePlugin),
        (L3_NAMESPACE, "naas_plugins.memory:MemoryL3Plugin", L3Plugin, MemoryL3Plugin),
    ],
)
def test_load_plugin_class_returns_the_class_itself(
    namespace: str, name: str, interface: type[Any], expected: type[Any]
) -> None:
    assert load_plugin_class(namespace, name, interface) is expected


@pytest.mark.parametrize("namespace", [CORE_NAMESPACE, L3_NAMESPACE])
def test_installed_aliases_lists_the_bundled_plugins(namespace: str) -> None:
    aliases = installed_aliases(namespace)

    assert {"memory", "sql"} <= set(aliases)
    assert aliases == sorted(set(aliases))


@pytest.mark.parametrize(
    "name",
    ["nonexistent", "Memory", "naas_plugins.memory.MemoryCorePlugin"],
    ids=["unknown", "wrong-case", "dotted-path-without-colon"],
)
def test_an_unknown_alias_names_the_namespace_the_name_and_what_is_installed(name: str) -> None:
    error = load_error(CORE_NAMESPACE, name, CorePlugin)

    assert isinstance(error, PluginNotFound)
    assert "memory" in error.installed
    assert list(error.installed) == installed_aliases(CORE_NAMESPACE)
    assert_names(error, CORE_NAMESPACE, name, f"no such plugin; installed aliases: {', '.join(error.installed)}")
    assert isinstance(error.__cause__, stevedore_exception.NoMatches)


def test_an_empty_name_is_not_found_without_asking_stevedore() -> None:
    error = load_error(L3_NAMESPACE, "", L3Plugin)

    assert isinstance(error, PluginNotFound)
    assert "memory" in error.installed
    assert error.__cause__ is None


def test_installed_aliases_include_third_party_distributions(install_distribution: InstallDistribution) -> None:
    install_distribution("naas-vendor", {CORE_NAMESPACE: {"vendor": f"{PLUGINS}:StubCorePlugin"}})

    error = load_error(CORE_NAMESPACE, "nonexistent", CorePlugin)

    assert isinstance(error, PluginNotFound)
    assert {"memory", "vendor"} <= set(error.installed)
    assert error.reason == f"no such plugin; installed aliases: {', '.join(error.installed)}"


@pytest.mark.parametrize(
    ("path", "reason", "cause"),
    [
        (f"{FIXTURES}.absent:Plugin", f"no module named '{FIXTURES}.absent'", ModuleNotFoundError),
        ("naas_tests_absent_package.driver:Plugin", "no module named 'naas_tests_absent_package'", ModuleNotFoundError),
        (
            f"{FIXTURES}.raises_on_import:Plugin",
            f"importing '{FIXTURES}.raises_on_import' failed: {IMPORT_FAILURE}",
            RuntimeError,
        ),
        (
            f"{FIXTURES}.imports_missing_dependency:Plugin",
            f"importing '{FIXTURES}.imports_missing_dependency' failed: "
            "ModuleNotFoundError(\"No module named 'naas_tests_absent_vendor_sdk'\")",
            ModuleNotFoundError,
        ),
        (
            # The missing dependency's name is a prefix of the plugin module's name.
            f"{FIXTURES}.vendor_driver:Plugin",
            f"importing '{FIXTURES}.vendor_driver' failed: "
            f"ModuleNotFoundError(\"No module named '{FIXTURES}.vendor'\")",
            ModuleNotFoundError,
        ),
        (f"{PLUGINS}:Absent", f"module '{PLUGINS}' has no attribute 'Absent'", AttributeError),
        (
            f"{PLUGINS}:StubCorePlugin.absent",
            f"module '{PLUGINS}' has no attribute 'StubCorePlugin.absent'",
            AttributeError,
        ),
    ],
    ids=[
        "module-absent",
        "package-absent",
        "module-raises",
        "dependency-absent",
        "dependency-with-prefix-name-absent",
        "attribute-absent",
        "nested-attribute-absent",
    ],
)
def test_a_path_that_cannot_be_imported_chains_the_cause(path: str, reason: str, cause: type[Exception]) -> None:
    error = load_error(CORE_NAMESPACE, path, CorePlugin)

    assert not isinstance(error, PluginNotFound)
    assert_names(error, CORE_NAMESPACE, path, reason)
    assert type(error.__cause__) is cause


@pytest.mark.parametrize("path", [":StubCorePlugin", f"{PLUGINS}:", ":"])
def test_a_path_missing_its_module_or_class_says_what_form_is_expected(path: str) -> None:
    error = load_error(CORE_NAMESPACE, path, CorePlugin)

    assert not isinstance(error, PluginNotFound)
    assert_names(error, CORE_NAMESPACE, path, "expected 'package.module:Class'")
    assert error.__cause__ is None


@pytest.mark.parametrize(
    ("namespace", "path", "interface", "reason"),
    [
        (
            CORE_NAMESPACE,
            f"{PLUGINS}:NotAPlugin",
            CorePlugin,
            f"<class '{PLUGINS}.NotAPlugin'> is not a subclass of naas.plugins.core.CorePlugin",
        ),
        (
            CORE_NAMESPACE,
            f"{PLUGINS}:StubL3Plugin",
            CorePlugin,
            f"<class '{PLUGINS}.StubL3Plugin'> is not a subclass of naas.plugins.core.CorePlugin",
        ),
        (
            L3_NAMESPACE,
            f"{PLUGINS}:StubCorePlugin",
            L3Plugin,
            f"<class '{PLUGINS}.StubCorePlugin'> is not a subclass of naas.plugins.l3.L3Plugin",
        ),
        (
            CORE_NAMESPACE,
            f"{PLUGINS}:IncompleteCorePlugin",
            CorePlugin,
            "IncompleteCorePlugin does not implement delete_port, get_ports, update_subnetpool",
        ),
    ],
    ids=["unrelated-class", "l3-plugin-as-core", "core-plugin-as-l3", "abstract-methods-left"],
)
def test_a_class_that_does_not_implement_its_interface_is_refused_at_load_time(
    namespace: str, path: str, interface: type[Any], reason: str
) -> None:
    error = load_error(namespace, path, interface)

    assert_names(error, namespace, path, reason)


def test_a_callable_that_is_not_a_class_is_refused_without_being_called() -> None:
    error = load_error(CORE_NAMESPACE, f"{PLUGINS}:plugin_factory", CorePlugin)

    assert error.reason.startswith("<function plugin_factory at 0x")
    assert error.reason.endswith("> is not a subclass of naas.plugins.core.CorePlugin")


BROKEN_DISTRIBUTION = {
    CORE_NAMESPACE: {
        "broken": f"{FIXTURES}.raises_on_import:Plugin",
        "typo": f"{PLUGINS}:Absent",
        "wrong-role": f"{PLUGINS}:StubL3Plugin",
        "incomplete": f"{PLUGINS}:IncompleteCorePlugin",
        "stub": f"{PLUGINS}:StubCorePlugin",
    },
    L3_NAMESPACE: {
        "broken": f"{FIXTURES}.raises_on_import:Plugin",
        "stub": f"{PLUGINS}:StubL3Plugin",
    },
}


@pytest.mark.parametrize(
    ("namespace", "alias", "reason", "cause"),
    [
        (CORE_NAMESPACE, "broken", f"its entry point failed to import: {IMPORT_FAILURE}", RuntimeError),
        (L3_NAMESPACE, "broken", f"its entry point failed to import: {IMPORT_FAILURE}", RuntimeError),
        (
            CORE_NAMESPACE,
            "typo",
            f"its entry point failed to import: AttributeError(\"module '{PLUGINS}' has no attribute 'Absent'\")",
            AttributeError,
        ),
    ],
)
def test_an_alias_whose_entry_point_fails_to_import_chains_the_cause(
    install_distribution: InstallDistribution, namespace: str, alias: str, reason: str, cause: type[Exception]
) -> None:
    install_distribution("naas-broken-driver", BROKEN_DISTRIBUTION)

    error = load_error(namespace, alias, CorePlugin if namespace == CORE_NAMESPACE else L3Plugin)

    assert not isinstance(error, PluginNotFound)
    assert_names(error, namespace, alias, reason)
    assert type(error.__cause__) is cause


@pytest.mark.parametrize(
    ("alias", "reason"),
    [
        ("wrong-role", f"<class '{PLUGINS}.StubL3Plugin'> is not a subclass of naas.plugins.core.CorePlugin"),
        ("incomplete", "IncompleteCorePlugin does not implement delete_port, get_ports, update_subnetpool"),
    ],
)
def test_an_alias_is_checked_against_its_interface(
    install_distribution: InstallDistribution, alias: str, reason: str
) -> None:
    install_distribution("naas-broken-driver", BROKEN_DISTRIBUTION)

    assert_names(load_error(CORE_NAMESPACE, alias, CorePlugin), CORE_NAMESPACE, alias, reason)


def test_a_broken_alias_does_not_stop_other_aliases_of_its_namespace_loading(
    install_distribution: InstallDistribution,
) -> None:
    install_distribution("naas-broken-driver", BROKEN_DISTRIBUTION)

    # mypy refuses abstract classes for type[T] parameters (python/mypy#4717); the loader needs exactly those.
    assert load_plugin_class(CORE_NAMESPACE, "memory", CorePlugin) is MemoryCorePlugin  # type: ignore[type-abstract]
    assert load_plugin_class(CORE_NAMESPACE, "stub", CorePlugin).__name__ == "StubCorePlugin"  # type: ignore[type-abstract]


def test_an_alias_registered_by_two_distributions_is_refused(install_distribution: InstallDistribution) -> None:
    install_distribution("naas-driver-one", {CORE_NAMESPACE: {"twice": f"{PLUGINS}:StubCorePlugin"}})
    install_distribution("naas-driver-two", {CORE_NAMESPACE: {"twice": f"{PLUGINS}:ConfiguredCorePlugin"}})

    error = load_error(CORE_NAMESPACE, "twice", CorePlugin)

    assert error.reason.startswith("several distributions register this alias: ")
    assert {"StubCorePlugin", "ConfiguredCorePlugin"} <= set(error.reason.replace(",", " ").split())
    assert type(error.__cause__) is stevedore_exception.MultipleMatches


def test_a_broken_alias_in_the_config_file_fails_load_plugins(
    install_distribution: InstallDistribution, config_from_file: ConfigFromFile
) -> None:
    install_distribution("naas-broken-driver", BROKEN_DISTRIBUTION)
    conf = config_from_file("""
        [DEFAULT]
        core_plugin = memory
        l3_plugin = broken
    """)

    with pytest.raises(PluginLoadError) as caught:
        load_plugins(conf)

    assert_names(caught.value, L3_NAMESPACE, "broken", f"its entry point failed to import: {IMPORT_FAILURE}")


def test_third_party_aliases_from_a_config_file_are_loaded_and_wired(
    install_distribution: InstallDistribution, config_from_file: ConfigFromFile
) -> None:
    install_distribution("naas-broken-driver", BROKEN_DISTRIBUTION)

    plugins = load_plugins(
        config_from_file("""
        [DEFAULT]
        core_plugin = stub
        l3_plugin = stub
    """)
    )

    assert (type(plugins.core).__name__, type(plugins.l3).__name__) == ("StubCorePlugin", "StubL3Plugin")
    assert plugins.l3.core_plugin is plugins.core


def load_plugins_error(config_from_file: ConfigFromFile, core_plugin: str, l3_plugin: str) -> PluginLoadError:
    conf = config_from_file(f"""
        [DEFAULT]
        core_plugin = {core_plugin}
        l3_plugin = {l3_plugin}
    """)
    with pytest.raises(PluginLoadError) as caught:
        load_plugins(conf)
    return caught.value


def test_a_core_plugin_that_cannot_be_built_chains_the_cause(config_from_file: ConfigFromFile) -> None:
    core_plugin = f"{PLUGINS}:UnreachableCorePlugin"

    error = load_plugins_error(config_from_file, core_plugin, f"{PLUGINS}:StubL3Plugin")

    assert_names(
        error,
        CORE_NAMESPACE,
        core_plugin,
        "building it failed: ConnectionRefusedError(111, 'backend at 192.0.2.1:6640 refused the connection')",
    )
    assert type(error.__cause__) is ConnectionRefusedError


def test_an_l3_plugin_refusing_its_core_plugin_chains_the_type_error(config_from_file: ConfigFromFile) -> None:
    l3_plugin = f"{PLUGINS}:MismatchedL3Plugin"

    error = load_plugins_error(config_from_file, f"{PLUGINS}:StubCorePlugin", l3_plugin)

    assert_names(
        error,
        L3_NAMESPACE,
        l3_plugin,
        "building it failed: TypeError('needs UnreachableCorePlugin, not StubCorePlugin')",
    )
    assert type(error.__cause__) is TypeError


def test_both_classes_are_checked_before_either_plugin_is_built(config_from_file: ConfigFromFile) -> None:
    # Building this core plugin would fail; the wrong L3 class must be reported first.
    error = load_plugins_error(config_from_file, f"{PLUGINS}:UnreachableCorePlugin", f"{PLUGINS}:NotAPlugin")

    assert (error.namespace, error.name) == (L3_NAMESPACE, f"{PLUGINS}:NotAPlugin")
    assert error.__cause__ is None


def test_a_wrong_plugin_in_either_option_names_that_option_s_namespace(config_from_file: ConfigFromFile) -> None:
    error = load_plugins_error(config_from_file, "memory", "no-such-l3")

    assert isinstance(error, PluginNotFound)
    assert (error.namespace, error.name) == (L3_NAMESPACE, "no-such-l3")
    assert "memory" in error.installed


def test_plugins_close_releases_database_connections_and_plugins_stay_usable(
    config_from_file: Any, tmp_path: Path
) -> None:
    plugins = load_plugins(config_from_file(f"[DEFAULT]\nstate_path = {tmp_path}\n"))
    admin = RequestContext("admin", is_admin=True)
    plugins.core.create_network(admin, {"name": "before"})
    pool = plugins.core.database.engine.pool  # type: ignore[attr-defined]
    assert pool.checkedin() > 0
    plugins.close()
    assert plugins.core.database.engine.pool.checkedin() == 0  # type: ignore[attr-defined]
    plugins.core.create_network(admin, {"name": "after"})
    assert [n.name for n in plugins.core.get_networks(admin)] == ["before", "after"]
    plugins.close()


# Backends and observers


DATAPLANE = f"{FIXTURES}.dataplane"
RECORDING = "naas.testing.backends:RecordingBackend"
RULES = f"""
    [DEFAULT]
    core_plugin = {DATAPLANE}:RulesCorePlugin
    l3_plugin = {DATAPLANE}:RulesL3Plugin
"""


@pytest.fixture
def built() -> list[str]:
    """What the dataplane fixtures built and closed during the test, in order."""
    record: list[str] = importlib.import_module(DATAPLANE).BUILT
    record.clear()
    return record


def rules_config(config_from_file: ConfigFromFile, extra: str) -> cfg.ConfigOpts:
    return config_from_file(RULES + textwrap.indent(textwrap.dedent(extra), "    "))


def test_no_backends_and_no_observers_by_default(config_from_file: ConfigFromFile) -> None:
    with load_plugins(config_from_file(MEMORY_BY_ALIAS)) as plugins:
        assert (len(plugins.backends), dict(plugins.observers)) == (0, {})


def test_backends_are_built_in_order_and_handed_to_plugins_that_take_them(config_from_file: ConfigFromFile) -> None:
    conf = rules_config(config_from_file, f"backends = {RECORDING}, {DATAPLANE}:SecondRecorder")

    with load_plugins(conf) as plugins:
        assert list(plugins.backends.backends) == [RECORDING, f"{DATAPLANE}:SecondRecorder"]
        assert [type(b).__name__ for b in plugins.backends.backends.values()] == ["RecordingBackend", "SecondRecorder"]
        assert plugins.core.backends is plugins.backends  # type: ignore[attr-defined]
        assert plugins.l3.backends is plugins.backends  # type: ignore[attr-defined]


def test_plugins_that_take_backends_get_an_empty_chain_when_none_is_configured(
    config_from_file: ConfigFromFile,
) -> None:
    with load_plugins(config_from_file(RULES)) as plugins:
        assert plugins.core.backends is plugins.backends  # type: ignore[attr-defined]
        assert len(plugins.backends) == 0


@pytest.mark.parametrize(
    ("option", "namespace", "valid"),
    [("backends", BACKENDS_NAMESPACE, RECORDING), ("observers", OBSERVERS_NAMESPACE, f"{DATAPLANE}:AuditObserver")],
)
def test_a_bad_alias_gives_the_same_one_line_error_as_a_bad_plugin_name(
    config_from_file: ConfigFromFile, option: str, namespace: str, valid: str
) -> None:
    plugin_error = load_plugins_error(config_from_file, "no-such-driver", "memory")
    with pytest.raises(PluginLoadError) as caught:
        load_plugins(rules_config(config_from_file, f"{option} = {valid}, no-such-driver"))
    error = caught.value

    assert isinstance(error, PluginNotFound)
    assert str(error) == str(plugin_error).replace(CORE_NAMESPACE, namespace).replace(
        ", ".join(plugin_error.installed) or "none", ", ".join(installed_aliases(namespace)) or "none"
    )
    assert "\n" not in str(error)
    assert_names(
        error, namespace, "no-such-driver", f"no such plugin; installed aliases: {', '.join(error.installed) or 'none'}"
    )
    assert isinstance(error.__cause__, stevedore_exception.NoMatches)


def test_a_bad_backend_alias_lists_the_installed_backends(
    install_distribution: InstallDistribution, config_from_file: ConfigFromFile
) -> None:
    install_distribution("naas-vendor-dataplane", {BACKENDS_NAMESPACE: {"vendor": RECORDING}})

    with pytest.raises(PluginNotFound) as caught:
        load_plugins(rules_config(config_from_file, "backends = vendr"))

    # Whatever else this environment installs (the example driver's backend) is listed too.
    installed = tuple(sorted(entry.name for entry in importlib.metadata.entry_points(group=BACKENDS_NAMESPACE)))
    assert "vendor" in installed
    assert caught.value.installed == installed
    assert str(caught.value) == (
        f"Cannot load plugin 'vendr' from namespace '{BACKENDS_NAMESPACE}': no such plugin; "
        f"installed aliases: {', '.join(installed)}"
    )


def test_an_installed_backend_alias_is_loaded(
    install_distribution: InstallDistribution, config_from_file: ConfigFromFile
) -> None:
    install_distribution("naas-vendor-dataplane", {BACKENDS_NAMESPACE: {"vendor": RECORDING}})

    with load_plugins(rules_config(config_from_file, "backends = vendor")) as plugins:
        assert type(plugins.backends.backends["vendor"]) is RecordingBackend


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (
            f"{DATAPLANE}:StringCapabilities",
            "StringCapabilities.CAPABILITIES holds 'dhcp', 'networks', which are not naas.backends.Capability members",
        ),
        (f"{DATAPLANE}:DhcpWithoutPorts", "DhcpWithoutPorts.CAPABILITIES declares dhcp without ports"),
        (
            f"{DATAPLANE}:AuditObserver",
            f"<class '{DATAPLANE}.AuditObserver'> is not a subclass of naas.backends.NetworkBackend",
        ),
    ],
    ids=["strings", "dhcp-without-ports", "an-observer"],
)
def test_a_backend_class_is_checked_at_load_time(name: str, reason: str) -> None:
    with pytest.raises(PluginLoadError) as caught:
        load_backend_class(name)

    assert_names(caught.value, BACKENDS_NAMESPACE, name, reason)


def test_a_name_listed_twice_is_refused(config_from_file: ConfigFromFile) -> None:
    with pytest.raises(PluginLoadError) as caught:
        load_plugins(rules_config(config_from_file, f"backends = {RECORDING}, {RECORDING}"))

    assert_names(caught.value, BACKENDS_NAMESPACE, RECORDING, "it is listed twice in [DEFAULT] backends")


def test_backends_under_plugins_that_cannot_drive_them_are_refused_before_anything_is_built(
    config_from_file: ConfigFromFile, built: list[str]
) -> None:
    conf = config_from_file(f"""
        [DEFAULT]
        core_plugin = {PLUGINS}:StubCorePlugin
        l3_plugin = {PLUGINS}:StubL3Plugin
        backends = {DATAPLANE}:NamedRecorder
    """)

    with pytest.raises(PluginLoadError) as caught:
        load_plugins(conf)

    assert_names(
        caught.value,
        CORE_NAMESPACE,
        f"{PLUGINS}:StubCorePlugin",
        f"its from_config takes no 'backends', so nothing would drive [DEFAULT] backends = {DATAPLANE}:NamedRecorder",
    )
    assert built == []


def test_a_backend_that_cannot_be_built_closes_those_built_before_it(
    config_from_file: ConfigFromFile, built: list[str]
) -> None:
    name = f"{DATAPLANE}:UnbuildableBackend"
    conf = rules_config(config_from_file, f"backends = {DATAPLANE}:NamedRecorder, {name}")

    with pytest.raises(PluginLoadError) as caught:
        load_plugins(conf)

    assert_names(
        caught.value,
        BACKENDS_NAMESPACE,
        name,
        "building it failed: ConnectionRefusedError(111, "
        "'OVN northbound database at 192.0.2.1:6641 refused the connection')",
    )
    assert type(caught.value.__cause__) is ConnectionRefusedError
    assert built == ["built NamedRecorder", "closed NamedRecorder"]


def test_an_l3_plugin_that_cannot_be_built_closes_the_core_plugin_and_the_backends(
    config_from_file: ConfigFromFile, built: list[str]
) -> None:
    conf = config_from_file(f"""
        [DEFAULT]
        core_plugin = {DATAPLANE}:RulesCorePlugin
        l3_plugin = {DATAPLANE}:UnbuildableL3Plugin
        backends = {DATAPLANE}:NamedRecorder, {DATAPLANE}:SecondRecorder
        observers = {DATAPLANE}:AuditObserver
    """)

    with pytest.raises(PluginLoadError) as caught:
        load_plugins(conf)

    assert (caught.value.namespace, caught.value.reason) == (
        L3_NAMESPACE,
        "building it failed: RuntimeError('no L3 agent')",
    )
    assert built == [
        "built NamedRecorder",
        "built SecondRecorder",
        "closed RulesCorePlugin",
        "closed SecondRecorder",
        "closed NamedRecorder",
    ]


def test_plugins_as_a_context_manager_close_plugins_backends_then_observers(
    config_from_file: ConfigFromFile, built: list[str]
) -> None:
    conf = rules_config(
        config_from_file,
        f"""
        backends = {DATAPLANE}:NamedRecorder, {DATAPLANE}:SecondRecorder
        observers = {DATAPLANE}:AuditObserver
        """,
    )

    with load_plugins(conf) as plugins:
        network = plugins.core.create_network(RequestContext("project-a"), {"name": "net"})
        assert built == ["built NamedRecorder", "built SecondRecorder"]

    assert built[2:] == [
        "closed RulesCorePlugin",
        "closed SecondRecorder",
        "closed NamedRecorder",
        "closed AuditObserver",
    ]
    assert plugins.core.get_network(RequestContext("project-a"), network.id) == network


class FailsToClose(MemoryL3Plugin):
    def close(self) -> None:
        raise OSError("already gone")


def test_closing_plugins_closes_everything_even_when_one_part_fails(built: list[str]) -> None:
    core = MemoryCorePlugin()
    observer = importlib.import_module(DATAPLANE).AuditObserver()
    plugins = Plugins(core=core, l3=FailsToClose(core), events=core.events, observers={"audit": observer})

    with pytest.raises(OSError, match="already gone"):
        plugins.close()

    assert observer.closed == 1


def test_load_auto_allocator_keeps_the_plugins_it_loaded_and_closes_them(
    config_from_file: ConfigFromFile, built: list[str]
) -> None:
    conf = config_from_file(f"""
        [DEFAULT]
        core_plugin = {DATAPLANE}:RulesCorePlugin
        l3_plugin = {DATAPLANE}:RulesL3Plugin
        observers = {DATAPLANE}:AuditObserver
    """)

    with load_auto_allocator(conf) as allocator:
        assert allocator.plugins is not None
        assert allocator.core_plugin is allocator.plugins.core
        assert allocator.l3_plugin is allocator.plugins.l3
        assert built == []

    assert built == ["closed RulesCorePlugin", "closed AuditObserver"]


def test_an_allocator_given_plugins_leaves_closing_them_to_the_caller(built: list[str]) -> None:
    core = importlib.import_module(DATAPLANE).RulesCorePlugin()

    with AutoAllocator(core, MemoryL3Plugin(core)) as allocator:
        assert allocator.plugins is None

    assert built == []
