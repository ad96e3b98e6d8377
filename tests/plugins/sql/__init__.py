"""Tests of the sql plugins, on SQLite and, when their servers answer, PostgreSQL and MySQL/MariaDB."""
