"""What naas-server does once, in the master process, before it forks its workers.

:func:`prepare` loads the configured plugins, backends and observers (which
also creates or upgrades the sql plugins' schema, once rather than in every
worker), refuses a worker count the storage cannot serve, runs a backend sync,
and closes everything again: no connection or helper process crosses the fork.
Each worker then loads its own plugins (:func:`naas.server.build_wsgi_app`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from oslo_config import cfg

from naas.backends import ChainSyncReport
from naas.capabilities import Capability
from naas.exceptions import NaasError
from naas.loading import Plugins, load_plugins
from naas.opts import API_GROUP, register_opts
from naas.rules import CoreRules
from naas.storage import StorageCapability

__all__ = ["StartupError", "StartupReport", "prepare", "shared_between_processes"]

LOG = logging.getLogger(__name__)


class StartupError(NaasError):
    """naas-server cannot start with this configuration; the message says which option and why."""


@dataclasses.dataclass(frozen=True)
class StartupReport:
    """What :func:`prepare` found: the plugins' classes, and the backend sync's report (None: no backend)."""

    core_plugin: str
    l3_plugin: str
    backends: tuple[str, ...]
    observers: tuple[str, ...]
    sync: ChainSyncReport | None


def _class_name(instance: object) -> str:
    return f"{type(instance).__module__}.{type(instance).__qualname__}"


def shared_between_processes(plugins: Plugins) -> bool:
    """Whether several processes, each with its own plugins from this configuration, see one state.

    The rules over a storage driver ask the storage
    (``StorageCapability.SHARED_BETWEEN_PROCESSES``); a whole plugin is asked
    for ``Capability.SHARED_STORAGE``.
    """
    core = plugins.core
    if isinstance(core, CoreRules):
        return StorageCapability.SHARED_BETWEEN_PROCESSES in core.storage.capabilities
    return Capability.SHARED_STORAGE in type(core).CAPABILITIES


def prepare(conf: cfg.ConfigOpts, plugin_loader: Callable[[cfg.ConfigOpts], Plugins] = load_plugins) -> StartupReport:
    """Check ``conf`` against the plugins it loads and sync the backends; close the plugins again.

    Raises :class:`StartupError` when ``[api] workers`` is more than one and
    the core plugin's storage is not shared between processes (each worker
    would hold a state of its own), and the loader's
    :class:`~naas.exceptions.PluginLoadError` or the storage's
    :class:`~naas.exceptions.ServiceUnavailable` as they are. A backend that
    fails to sync some resources does not stop the start: the failures are
    logged and the resources stay ``ERROR`` until a later sync realizes them.
    """
    register_opts(conf)
    workers: int = conf[API_GROUP].workers
    with plugin_loader(conf) as plugins:
        if workers > 1 and not shared_between_processes(plugins):
            raise StartupError(
                f"[{API_GROUP}] workers = {workers}, but the core plugin {_class_name(plugins.core)} keeps its "
                "state in each process: every worker would serve a different copy. Set workers = 1, or use "
                "a storage shared between processes (core_plugin = sql with [database] connection on "
                "PostgreSQL or MySQL/MariaDB)."
            )
        report = _sync(plugins)
        return StartupReport(
            core_plugin=_class_name(plugins.core),
            l3_plugin=_class_name(plugins.l3),
            backends=tuple(plugins.backends.backends),
            observers=tuple(plugins.observers),
            sync=report,
        )


def _sync(plugins: Plugins) -> ChainSyncReport | None:
    if not len(plugins.backends):
        return None
    core = plugins.core
    if not isinstance(core, CoreRules):
        # The loader refuses backends under a plugin that takes none; a whole plugin that takes them syncs itself.
        LOG.info("Core plugin %s drives its own backends: no sync at start-up", _class_name(core))
        return None
    report = core.dataplane.sync(repair=True)
    for backend, repair in report.repairs:
        LOG.info(
            "Backend sync: %s %s %s %s %s",
            backend,
            repair.action.value,
            repair.resource_type.value,
            repair.resource_id,
            repair.detail or "",
        )
    for failure in report.failures:
        LOG.error("Backend sync failed: %s", failure)
    LOG.info("Backend sync at start-up: %d repairs, %d failures", len(report.repairs), len(report.failures))
    return report
