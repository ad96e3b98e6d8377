"""Building the sql plugins from a configuration file, and what they do to an SQLite database."""

from __future__ import annotations

import os
from pathlib import Path

import fixtures
import sqlalchemy as sa
import testtools
from oslo_config import cfg
from oslo_db.sqlalchemy import enginefacade

from naas import admin_context
from naas.events import EventRegistry
from naas.exceptions import PluginLoadError
from naas.loading import load_plugins
from naas.opts import DEFAULT_RESPONSE_TIMEOUT, register_opts
from naas_plugins.memory import MemoryCorePlugin
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin, migration


def _config(tmp: Path, text: str) -> cfg.ConfigOpts:
    path = tmp / "naas.conf"
    path.write_text(text)
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(path)], default_config_files=[], default_config_dirs=[], use_env=False)
    register_opts(conf)
    return conf


class TestConfiguration(testtools.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmp = Path(self.useFixture(fixtures.TempDir()).path)

    def _plugin(self, conf: cfg.ConfigOpts) -> SqlCorePlugin:
        core = SqlCorePlugin.from_config(conf, events=EventRegistry())
        self.addCleanup(core.close)
        return core

    def test_without_a_connection_the_database_is_an_sqlite_file_in_state_path(self) -> None:
        # "~" is the user's home: point it somewhere harmless.
        self.useFixture(fixtures.EnvironmentVariable("HOME", str(self.tmp / "home")))
        conf = _config(self.tmp, "[DEFAULT]\nstate_path = ~/state/naas\n")
        core = self._plugin(conf)
        database = self.tmp / "home" / "state" / "naas" / "naas.sqlite"
        self.assertTrue(database.is_file(), f"{database} was not created")
        self.assertEqual(f"sqlite:///{database}", core.database.url)
        self.assertEqual(migration.head(), migration.current(f"sqlite:///{database}"))
        core.create_network(admin_context(), {"name": "kept"})
        self.assertEqual(["kept"], [n.name for n in self._plugin(conf).get_networks(admin_context())])

    def test_a_connection_in_the_database_group_is_used(self) -> None:
        url = f"sqlite:///{self.tmp / 'elsewhere.sqlite'}"
        core = self._plugin(
            _config(self.tmp, f"[DEFAULT]\nstate_path = {self.tmp / 'unused'}\n[database]\nconnection = {url}\n")
        )
        self.assertEqual(url, core.database.url)
        self.assertTrue((self.tmp / "elsewhere.sqlite").is_file())
        self.assertFalse((self.tmp / "unused").exists())

    def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(self) -> None:
        core = self._plugin(_config(self.tmp, f"[DEFAULT]\nstate_path = {self.tmp}\n"))
        with core.database.reader() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
        self.assertEqual(
            {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": int(DEFAULT_RESPONSE_TIMEOUT * 1000)}, pragmas
        )

    def test_sqlite_enforces_foreign_keys(self) -> None:
        core = self._plugin(_config(self.tmp, f"[DEFAULT]\nstate_path = {self.tmp}\n"))
        from oslo_db import exception as db_exc

        from naas_plugins.sql._rows import SUBNETS

        def orphan() -> None:
            with core.database.writer() as connection:
                connection.execute(
                    sa.insert(SUBNETS).values(
                        id="s",
                        project_id="p",
                        network_id="missing",
                        name="",
                        ip_version=4,
                        cidr="10.0.0.0/24",
                        allocation_pools="",
                        enable_dhcp=True,
                        created_at=1,
                    )
                )

        self.assertRaises(db_exc.DBReferenceError, orphan)

    def test_the_loader_builds_both_sql_plugins_on_one_database(self) -> None:
        conf = _config(self.tmp, f"[DEFAULT]\ncore_plugin = sql\nl3_plugin = sql\nstate_path = {self.tmp}\n")
        plugins = load_plugins(conf)
        self.addCleanup(plugins.core.close)  # type: ignore[attr-defined]
        self.assertIsInstance(plugins.core, SqlCorePlugin)
        self.assertIsInstance(plugins.l3, SqlL3Plugin)
        self.assertIs(plugins.core.database, plugins.l3.database)  # type: ignore[attr-defined]
        self.assertIs(plugins.events, plugins.l3.events)

    def test_the_sql_l3_plugin_refuses_another_core_plugin(self) -> None:
        conf = _config(self.tmp, f"[DEFAULT]\nstate_path = {self.tmp}\n")
        error = self.assertRaises(
            TypeError, SqlL3Plugin.from_config, conf, core_plugin=MemoryCorePlugin(), events=EventRegistry()
        )
        self.assertIn("SqlCorePlugin", str(error))
        self.assertIn("MemoryCorePlugin", str(error))

    def test_the_loader_reports_the_sql_l3_plugin_over_another_core_plugin(self) -> None:
        conf = _config(self.tmp, f"[DEFAULT]\ncore_plugin = memory\nl3_plugin = sql\nstate_path = {self.tmp}\n")
        error = self.assertRaises(PluginLoadError, load_plugins, conf)
        self.assertEqual(("naas.l3_plugins", "sql"), (error.namespace, error.name))
        self.assertIsInstance(error.__cause__, TypeError)

    def test_a_connection_that_is_no_url_names_the_option_and_never_the_text(self) -> None:
        """Finding 17: SQLAlchemy's "Could not parse SQLAlchemy URL" blamed the plugin and no setting."""
        conf = _config(self.tmp, f"[DEFAULT]\nstate_path = {self.tmp}\n[database]\nconnection = naas:s3cret@db\n")
        error = self.assertRaises(ValueError, SqlCorePlugin.from_config, conf, events=EventRegistry())
        self.assertIn("[database] connection is not a database URL", str(error))
        self.assertNotIn("s3cret", str(error))
        self.assertEqual(["naas.conf"], [path.name for path in self.tmp.iterdir()])  # no database file made

    def test_a_transaction_context_can_be_given_instead_of_a_url(self) -> None:
        context = enginefacade.transaction_context()
        context.configure(connection=f"sqlite:///{self.tmp / 'given.sqlite'}", sqlite_fk=True)
        core = SqlCorePlugin(context)
        self.addCleanup(core.close)
        self.assertIs(context, core.database.transaction_context)
        core.create_network(admin_context(), {"name": "net"})
        self.assertEqual(["net"], [n.name for n in core.get_networks(admin_context())])

    def test_plugin_sets_in_one_process_keep_to_their_own_databases(self) -> None:
        first = self._plugin(_config(self.tmp, f"[DEFAULT]\nstate_path = {self.tmp / 'one'}\n"))
        second = self._plugin(_config(self.tmp, f"[DEFAULT]\nstate_path = {self.tmp / 'two'}\n"))
        first.create_network(admin_context(), {"name": "first"})
        self.assertEqual([], second.get_networks(admin_context()))
        self.assertTrue(os.path.exists(self.tmp / "two" / "naas.sqlite"))
