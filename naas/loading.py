"""Loading the configured plugins: the one place where naas is wired together.

``core_plugin`` and ``l3_plugin`` name either an entry-point alias (in
``naas.core_plugins`` / ``naas.l3_plugins``) or a ``package.module:Class`` path.
stevedore's :class:`~stevedore.driver.DriverManager` loads aliases; it raises on
failure, unlike ``ExtensionManager``, which only logs. The class is checked
against its interface as soon as it is loaded, so a wrong plugin fails at
start-up with one :class:`~naas.exceptions.PluginLoadError` that names the
namespace, the name and the cause, not on its first request.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import inspect
from typing import Any, TypeVar

from oslo_config import cfg
from stevedore import driver, extension
from stevedore import exception as stevedore_exception

from naas.capabilities import check_capabilities
from naas.events import EventRegistry
from naas.exceptions import PluginLoadError, PluginNotFound
from naas.opts import register_opts
from naas.plugins.core import CorePlugin
from naas.plugins.l3 import L3Plugin

__all__ = [
    "CORE_NAMESPACE",
    "L3_NAMESPACE",
    "Plugins",
    "installed_aliases",
    "load_plugin_class",
    "load_plugins",
]

CORE_NAMESPACE = "naas.core_plugins"
L3_NAMESPACE = "naas.l3_plugins"

PluginT = TypeVar("PluginT")


@dataclasses.dataclass(frozen=True)
class Plugins:
    """A core plugin and the L3 plugin built on it, sharing one event registry."""

    core: CorePlugin
    l3: L3Plugin
    events: EventRegistry

    def close(self) -> None:
        """Release what both plugins hold (database connections), the L3 plugin first."""
        self.l3.close()
        self.core.close()


def installed_aliases(namespace: str) -> list[str]:
    """The aliases registered in ``namespace`` by installed distributions."""
    # stevedore's view, not importlib's: DriverManager looks aliases up in stevedore's cache.
    return sorted(extension.ExtensionManager.make_test_instance([], namespace=namespace).entry_points_names())


def _import_path(namespace: str, path: str) -> Any:
    module_name, _, attribute_path = path.partition(":")
    if not module_name or not attribute_path:
        raise PluginLoadError(namespace, path, "expected 'package.module:Class'")
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name == error.name or module_name.startswith(f"{error.name}.")):
            raise PluginLoadError(namespace, path, f"no module named {error.name!r}") from error
        raise PluginLoadError(namespace, path, f"importing {module_name!r} failed: {error!r}") from error
    except Exception as error:
        raise PluginLoadError(namespace, path, f"importing {module_name!r} failed: {error!r}") from error
    for part in attribute_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as error:
            raise PluginLoadError(
                namespace, path, f"module {module_name!r} has no attribute {attribute_path!r}"
            ) from error
    return target


def _load_alias(namespace: str, name: str) -> Any:
    try:
        manager = driver.DriverManager(
            namespace,
            name,
            invoke_on_load=False,
            on_load_failure_callback=_reraise,
            on_missing_entrypoints_callback=None,
        )
    except stevedore_exception.NoMatches as error:
        raise PluginNotFound(namespace, name, installed_aliases(namespace)) from error
    except stevedore_exception.MultipleMatches as error:
        raise PluginLoadError(namespace, name, f"several distributions register this alias: {error}") from error
    except PluginLoadError:
        raise
    except Exception as error:
        raise PluginLoadError(namespace, name, f"its entry point failed to import: {error!r}") from error
    return manager.driver


def _reraise(manager: Any, entrypoint: Any, error: BaseException) -> None:
    # DriverManager would otherwise log the import error and report "no matches".
    raise error


def load_plugin_class(namespace: str, name: str, interface: type[PluginT]) -> type[PluginT]:
    """The plugin class for ``name`` (alias or ``module:Class``), checked against ``interface``.

    Raises PluginNotFound when no alias matches and ``name`` is no path, and
    PluginLoadError (chaining the cause) when the import fails, the class does
    not implement ``interface``, or it declares an unknown capability.
    """
    if not name:
        raise PluginNotFound(namespace, name, installed_aliases(namespace))
    plugin_class = _import_path(namespace, name) if ":" in name else _load_alias(namespace, name)
    if not inspect.isclass(plugin_class) or not issubclass(plugin_class, interface):
        raise PluginLoadError(
            namespace, name, f"{plugin_class!r} is not a subclass of {interface.__module__}.{interface.__qualname__}"
        )
    missing = sorted(getattr(plugin_class, "__abstractmethods__", ()))
    if missing:
        raise PluginLoadError(namespace, name, f"{plugin_class.__qualname__} does not implement {', '.join(missing)}")
    try:
        check_capabilities(plugin_class, getattr(interface, "CAPABILITIES", frozenset()))
    except TypeError as error:
        raise PluginLoadError(namespace, name, str(error)) from error
    return plugin_class


def load_plugins(conf: cfg.ConfigOpts, events: EventRegistry | None = None) -> Plugins:
    """Load, build and wire the configured core and L3 plugins.

    ``conf`` is an oslo.config object that has parsed its files; naas's options
    are registered on it if they are not yet.
    """
    register_opts(conf)
    events = events if events is not None else EventRegistry()
    core_class = load_plugin_class(CORE_NAMESPACE, conf.core_plugin, CorePlugin)  # type: ignore[type-abstract]
    l3_class = load_plugin_class(L3_NAMESPACE, conf.l3_plugin, L3Plugin)  # type: ignore[type-abstract]
    try:
        core = core_class.from_config(conf, events=events)
    except PluginLoadError:
        raise
    except Exception as error:
        raise PluginLoadError(CORE_NAMESPACE, conf.core_plugin, f"building it failed: {error!r}") from error
    try:
        l3 = l3_class.from_config(conf, core_plugin=core, events=events)
    except PluginLoadError:
        raise
    except Exception as error:
        raise PluginLoadError(L3_NAMESPACE, conf.l3_plugin, f"building it failed: {error!r}") from error
    return Plugins(core=core, l3=l3, events=events)
