"""naas.server.prepare and the gunicorn settings, in-process: what the master checks and does before forking."""

from __future__ import annotations

from pathlib import Path

import pytest
from oslo_config import cfg
from oslo_log import log as oslo_log

from naas.backends import RepairAction
from naas.context import admin_context
from naas.loading import Plugins, load_plugins
from naas.opts import register_opts
from naas.server import StartupError, prepare, register_middleware_opts, shared_between_processes
from naas.server._gunicorn import GunicornServer, bind_address
from naas.testing.backends import RecordingBackend

RECORDING = "naas.testing.backends:RecordingBackend"


def conf_for(
    tmp_path: Path, *, core: str = "sql", workers: int = 1, backends: list[str] | None = None
) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    register_opts(conf)
    register_middleware_opts(conf)
    oslo_log.register_options(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    conf.set_override("core_plugin", core)
    conf.set_override("l3_plugin", core)
    conf.set_override("connection", f"sqlite:///{tmp_path / 'naas.sqlite'}", group="database")
    conf.set_override("workers", workers, group="api")
    conf.set_override("backends", backends or [])
    return conf


def test_the_sql_storage_is_shared_and_the_memory_storage_is_not(tmp_path: Path) -> None:
    with load_plugins(conf_for(tmp_path)) as sql:
        assert shared_between_processes(sql)
    with load_plugins(conf_for(tmp_path, core="memory")) as memory:
        assert not shared_between_processes(memory)


def test_several_workers_on_a_storage_of_each_process_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StartupError) as refused:
        prepare(conf_for(tmp_path, core="memory", workers=3))

    assert "[api] workers = 3" in str(refused.value)
    assert "MemoryCorePlugin" in str(refused.value)
    report = prepare(conf_for(tmp_path, core="memory", workers=1))
    assert report.core_plugin == "naas_plugins.memory.core.MemoryCorePlugin" and report.sync is None


def test_prepare_syncs_the_backends_once_and_closes_everything(tmp_path: Path) -> None:
    loaded: list[Plugins] = []

    def loader(conf: cfg.ConfigOpts) -> Plugins:
        plugins = load_plugins(conf)
        loaded.append(plugins)
        return plugins

    with load_plugins(conf_for(tmp_path)) as seeding:
        network = seeding.core.create_network(admin_context(), {"name": "stored"})

    report = prepare(conf_for(tmp_path, workers=2, backends=[RECORDING]), plugin_loader=loader)

    (plugins,) = loaded
    backend = plugins.backends.backends[RECORDING]
    assert isinstance(backend, RecordingBackend)
    assert report.sync is not None and report.backends == (RECORDING,)
    assert [(r.resource_id, r.action) for _, r in report.sync.repairs] == [(network.id, RepairAction.CREATED)]
    assert len(backend.syncs) == 1
    assert backend.closed == 1  # closed with the plugins, before any worker is forked


def test_gunicorn_settings_follow_the_api_options(tmp_path: Path) -> None:
    conf = conf_for(tmp_path, workers=4)
    conf.set_override("bind_host", "::1", group="api")
    conf.set_override("bind_port", 9797, group="api")
    conf.set_override("graceful_timeout", 7, group="api")
    conf.set_override("access_log", "", group="api")

    server = GunicornServer(conf, lambda conf: None)
    settings = server.settings()

    assert settings["bind"] == ["[::1]:9797"]
    assert (settings["workers"], settings["worker_class"], settings["threads"]) == (4, "gthread", 8)
    assert (settings["graceful_timeout"], settings["accesslog"], settings["preload_app"]) == (7, None, False)
    assert server.cfg.workers == 4 and server.cfg.graceful_timeout == 7
    assert bind_address("127.0.0.1", 9696) == "127.0.0.1:9696"
