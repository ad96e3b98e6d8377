"""The ``sql`` plugins: core and L3 plugins keeping their state in a database through oslo.db.

SQLite, PostgreSQL and MySQL/MariaDB are supported. Select them with
``core_plugin = sql`` and ``l3_plugin = sql`` and name the database in
``[database] connection`` (unset: an SQLite file in ``state_path``), or build them
directly::

    core = SqlCorePlugin("postgresql+psycopg2://naas:secret@db/naas")
    l3 = SqlL3Plugin(core)  # same database, same transactions, core.events

The schema is created or upgraded when the core plugin is built
(``auto_migrate=False`` leaves that to :func:`naas_plugins.sql.migration.upgrade`).
"""

from naas_plugins.sql.core import SqlCorePlugin
from naas_plugins.sql.l3 import SqlL3Plugin
from naas_plugins.sql.store import SqlTopologyStore

__all__ = ["SqlCorePlugin", "SqlL3Plugin", "SqlTopologyStore"]
