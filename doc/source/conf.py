"""Sphinx configuration for naas's documentation.

Build it, warnings as errors, with::

    python -m sphinx -W --keep-going -b html doc/source doc/build/html
"""

from __future__ import annotations

import importlib.metadata

project = "naas"
author = "the naas authors"
copyright = "the naas authors; Apache License 2.0"
release = importlib.metadata.version("naas-networking")
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "oslo_config.sphinxext",
    "cliff.sphinxext",
]

# Contract signatures as written, not with every annotation resolved into the page.
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}

# No network during a build: links to other projects' docs stay plain text.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []
