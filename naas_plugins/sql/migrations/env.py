"""Alembic environment of the sql plugins.

Run through :func:`naas_plugins.sql.migration.upgrade`, which hands over an open
connection in ``config.attributes["connection"]``; with the ``alembic`` command
line, ``sqlalchemy.url`` in the Alembic config names the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from naas_plugins.sql.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic runs this file with its context set up; a tool that merely imports every module finds
# no context (alembic.context has no ``config`` then) and nothing to run.
if hasattr(context, "config"):
    if context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()
