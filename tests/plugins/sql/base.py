"""What the sql plugin tests share: a database per test class, clean for every test.

A test class names its ``backend``; the same tests run on the others by
subclassing with another ``backend`` (``sqlite`` always runs; ``postgresql`` and
``mysql`` are skipped when their server does not answer, see
:mod:`naas_plugins.sql.testing`).
"""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy as sa
import testtools

from naas.events import EventRegistry
from naas_plugins.sql import SqlCorePlugin, SqlL3Plugin
from naas_plugins.sql.testing import BackendDatabase


class BackendFixture:
    """Mix in before a ``TestCase``: ``self.fresh_url()`` is an empty, migrated database of ``backend``."""

    backend: ClassVar[str] = "sqlite"
    _database: ClassVar[BackendDatabase]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()  # type: ignore[misc]
        database = BackendDatabase(cls.backend)
        database.start()
        cls._database = database

    @classmethod
    def tearDownClass(cls) -> None:
        cls._database.stop()
        super().tearDownClass()  # type: ignore[misc]

    def fresh_url(self) -> str:
        return self._database.fresh_url()

    def make_sql_plugins(self, url: str | None = None) -> tuple[SqlCorePlugin, SqlL3Plugin]:
        """A core plugin on a clean database (or ``url``) and the L3 plugin on it; closed after the test."""
        core = SqlCorePlugin(url or self.fresh_url(), EventRegistry(), auto_migrate=False)
        self.addCleanup(core.close)  # type: ignore[attr-defined]
        return core, SqlL3Plugin(core)


class BackendTestCase(BackendFixture, testtools.TestCase):
    """A test case on a clean database of ``backend`` per test."""


class StatementCounter:
    """Counts the statements an engine sends (``before_cursor_execute``; BEGIN and COMMIT are not among them)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[str] = []
        self._engine = engine
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, connection: object, cursor: object, statement: str, *args: object) -> None:
        self.statements.append(statement)

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)

    def close(self) -> None:
        sa.event.remove(self._engine, "before_cursor_execute", self._count)
