"""Alembic migrations of the sql plugins' schema; run them with :mod:`naas_plugins.sql.migration`."""
