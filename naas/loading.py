"""Loading the configured plugins: the one place where naas is wired together.

``core_plugin`` and ``l3_plugin`` name either an entry-point alias (in
``naas.core_plugins`` / ``naas.l3_plugins``) or a ``package.module:Class`` path;
so does each entry of the ordered lists ``backends`` (namespace
``naas.backends``, :class:`~naas.backends.NetworkBackend`) and ``observers``
(namespace ``naas.observers``, :class:`~naas.observers.Observer`).
stevedore's :class:`~stevedore.driver.DriverManager` loads aliases; it raises on
failure, unlike ``ExtensionManager``, which only logs. The class is checked
against its interface as soon as it is loaded (a backend's ``CAPABILITIES`` too),
so a wrong plugin fails at start-up with one
:class:`~naas.exceptions.PluginLoadError` that names the namespace, the name and
the cause, not on its first request. Every class is loaded and checked before
anything is built, and whatever was built is closed again if a later step fails.

The backends reach the plugins through ``from_config(..., backends=chain)``: a
plugin whose ``from_config`` takes a ``backends`` keyword (the bundled rules)
receives the :class:`~naas.backends.BackendChain`, empty when none is
configured; configuring backends under a plugin that takes none is an error,
since nothing would drive them. Observers are attached to the shared event
registry.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import importlib.metadata
import inspect
import logging
import types
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from oslo_config import cfg
from stevedore import driver, extension
from stevedore import exception as stevedore_exception

from naas.backends import BackendChain, NetworkBackend, check_capabilities
from naas.capabilities import check_capabilities as check_plugin_capabilities
from naas.events import EventRegistry
from naas.exceptions import PluginLoadError, PluginNotFound
from naas.observers import Observer, attach
from naas.opts import register_opts
from naas.plugins.core import CorePlugin
from naas.plugins.l3 import L3Plugin

__all__ = [
    "BACKENDS_NAMESPACE",
    "CORE_NAMESPACE",
    "L3_NAMESPACE",
    "OBSERVERS_NAMESPACE",
    "Plugins",
    "installed_aliases",
    "load_backend_class",
    "load_backends",
    "load_plugin_class",
    "load_plugins",
]

LOG = logging.getLogger(__name__)

CORE_NAMESPACE = "naas.core_plugins"
"""The entry-point namespace of core plugins (``[DEFAULT] core_plugin``)."""
L3_NAMESPACE = "naas.l3_plugins"
"""The entry-point namespace of L3 plugins (``[DEFAULT] l3_plugin``)."""
BACKENDS_NAMESPACE = "naas.backends"
"""The entry-point namespace of network backends (``[DEFAULT] backends``)."""
OBSERVERS_NAMESPACE = "naas.observers"
"""The entry-point namespace of observers (``[DEFAULT] observers``)."""

PluginT = TypeVar("PluginT")


@dataclasses.dataclass(frozen=True)
class Plugins:
    """A core plugin and the L3 plugin built on it, sharing one event registry, with their backends and observers.

    A context manager: leaving the ``with`` block calls :meth:`close`.
    """

    core: CorePlugin
    l3: L3Plugin
    events: EventRegistry
    backends: BackendChain = dataclasses.field(default_factory=BackendChain)
    observers: Mapping[str, Observer] = dataclasses.field(default_factory=lambda: types.MappingProxyType({}))

    def close(self) -> None:
        """Release what everything holds: the L3 plugin, the core plugin, the backends, then the observers.

        Idempotent. Every part is closed even when one fails; the first error
        is raised once all are closed.
        """
        closers: list[Callable[[], None]] = [self.l3.close, self.core.close, self.backends.close]
        closers.extend(observer.close for observer in reversed(list(self.observers.values())))
        _close_all(closers)

    def __enter__(self) -> Plugins:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _close_all(closers: list[Callable[[], None]]) -> None:
    first_error: Exception | None = None
    for close in closers:
        try:
            close()
        except Exception as error:
            LOG.exception("Closing %r failed", close)
            first_error = first_error or error
    if first_error is not None:
        raise first_error


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
    not implement ``interface``, or (a core or L3 plugin) declares an unknown
    capability (see :mod:`naas.capabilities`).
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
    if interface in (CorePlugin, L3Plugin):
        try:
            check_plugin_capabilities(plugin_class, getattr(interface, "CAPABILITIES", frozenset()))
        except TypeError as error:
            raise PluginLoadError(namespace, name, str(error)) from error
    return plugin_class


def load_backend_class(name: str) -> type[NetworkBackend]:
    """The backend class for ``name`` (alias in ``naas.backends`` or ``module:Class``), its capabilities checked.

    Raises what :func:`load_plugin_class` raises, and PluginLoadError when its
    ``CAPABILITIES`` is not a sound set of :class:`~naas.backends.Capability`.
    """
    backend_class = load_plugin_class(BACKENDS_NAMESPACE, name, NetworkBackend)  # type: ignore[type-abstract]
    try:
        check_capabilities(backend_class.CAPABILITIES)
    except ValueError as error:
        raise PluginLoadError(BACKENDS_NAMESPACE, name, f"{backend_class.__qualname__}.{error}") from None
    return backend_class


def _load_classes(
    namespace: str, option: str, names: list[str], load: Callable[[str], type[PluginT]]
) -> dict[str, type[PluginT]]:
    classes: dict[str, type[PluginT]] = {}
    for name in names:
        if name in classes:
            raise PluginLoadError(namespace, name, f"it is listed twice in [DEFAULT] {option}")
        classes[name] = load(name)
    return classes


def _load_observer_class(name: str) -> type[Observer]:
    return load_plugin_class(OBSERVERS_NAMESPACE, name, Observer)  # type: ignore[type-abstract]


def _build(namespace: str, name: str, build: Callable[[], PluginT]) -> PluginT:
    try:
        return build()
    except PluginLoadError:
        raise
    except Exception as error:
        raise PluginLoadError(namespace, name, f"building it failed: {error!r}") from error


def load_backends(conf: cfg.ConfigOpts) -> BackendChain:
    """Load and build the backends named in ``[DEFAULT] backends``, in order, as a chain (empty by default)."""
    register_opts(conf)
    return _build_backends(conf, _load_classes(BACKENDS_NAMESPACE, "backends", conf.backends, load_backend_class))


def _build_backends(conf: cfg.ConfigOpts, classes: Mapping[str, type[NetworkBackend]]) -> BackendChain:
    built: dict[str, NetworkBackend] = {}
    try:
        for name, backend_class in classes.items():
            built[name] = _build(BACKENDS_NAMESPACE, name, functools.partial(backend_class.from_config, conf))
            capabilities = ", ".join(sorted(capability.value for capability in backend_class.CAPABILITIES))
            LOG.info("Network backend %r realizes %s", name, capabilities)
    except BaseException:
        BackendChain(built).close()
        raise
    return BackendChain(built)


def _takes_backends(namespace: str, name: str, plugin_class: type[Any], backends: Mapping[str, object]) -> bool:
    """Whether the plugin's from_config takes ``backends``; PluginLoadError if it takes none but some are set."""
    parameters = inspect.signature(plugin_class.from_config).parameters.values()
    if any(p.name == "backends" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return True
    if backends:
        raise PluginLoadError(
            namespace,
            name,
            f"its from_config takes no 'backends', so nothing would drive [DEFAULT] backends = {', '.join(backends)}",
        )
    return False


def load_plugins(conf: cfg.ConfigOpts, events: EventRegistry | None = None) -> Plugins:
    """Load, build and wire the configured core and L3 plugins, backends and observers.

    ``conf`` is an oslo.config object that has parsed its files; naas's options
    are registered on it if they are not yet. Every class is loaded and checked
    first; then the backends are built, the core plugin, the L3 plugin and the
    observers, each observer attached to the shared registry. A failure at
    any step closes what was built and raises one PluginLoadError.
    """
    register_opts(conf)
    events = events if events is not None else EventRegistry()
    core_class = load_plugin_class(CORE_NAMESPACE, conf.core_plugin, CorePlugin)  # type: ignore[type-abstract]
    l3_class = load_plugin_class(L3_NAMESPACE, conf.l3_plugin, L3Plugin)  # type: ignore[type-abstract]
    backend_classes = _load_classes(BACKENDS_NAMESPACE, "backends", conf.backends, load_backend_class)
    observer_classes = _load_classes(OBSERVERS_NAMESPACE, "observers", conf.observers, _load_observer_class)
    core_takes_backends = _takes_backends(CORE_NAMESPACE, conf.core_plugin, core_class, backend_classes)
    l3_takes_backends = _takes_backends(L3_NAMESPACE, conf.l3_plugin, l3_class, backend_classes)
    with contextlib.ExitStack() as cleanup:
        chain = _build_backends(conf, backend_classes)
        cleanup.callback(chain.close)
        core_arguments: dict[str, Any] = {"backends": chain} if core_takes_backends else {}
        core = _build(
            CORE_NAMESPACE,
            conf.core_plugin,
            functools.partial(core_class.from_config, conf, events=events, **core_arguments),
        )
        cleanup.callback(core.close)
        l3_arguments: dict[str, Any] = {"backends": chain} if l3_takes_backends else {}
        l3 = _build(
            L3_NAMESPACE,
            conf.l3_plugin,
            functools.partial(l3_class.from_config, conf, core_plugin=core, events=events, **l3_arguments),
        )
        cleanup.callback(l3.close)
        observers: dict[str, Observer] = {}
        for name, observer_class in observer_classes.items():
            observer = _build(OBSERVERS_NAMESPACE, name, functools.partial(observer_class.from_config, conf))
            cleanup.callback(observer.close)
            try:
                cleanup.callback(attach(events, observer, name))
            except ValueError as error:
                raise PluginLoadError(OBSERVERS_NAMESPACE, name, str(error)) from error
            observers[name] = observer
        cleanup.pop_all()
    return Plugins(core=core, l3=l3, events=events, backends=chain, observers=types.MappingProxyType(observers))
