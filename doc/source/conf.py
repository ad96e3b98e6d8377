"""Sphinx configuration for naas's documentation.

Build it, nitpicky and warnings as errors, with::

    python -m sphinx -n -W --keep-going -b html doc/source doc/build/html
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.nodes import make_refnode

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

nitpicky = True
# Other projects' names: with no intersphinx inventory reachable offline they
# cannot resolve, so they are listed here, each one, rather than ignored wholesale.
nitpick_ignore = [
    ("py:class", "collections.abc.Callable"),
    ("py:class", "collections.abc.Hashable"),
    ("py:class", "collections.abc.Iterable"),
    ("py:class", "collections.abc.Iterator"),
    ("py:class", "collections.abc.Mapping"),
    ("py:class", "collections.abc.Sequence"),
    ("py:class", "netaddr.IPRange"),
    ("py:class", "netaddr.ip.IPAddress"),
    ("py:class", "netaddr.ip.IPNetwork"),
    ("py:class", "netaddr.ip.IPRange"),
    ("py:mod", "netaddr"),
    ("py:class", "oslo_config.cfg.ConfigOpts"),
    ("py:class", "cfg.ConfigOpts"),
    ("py:class", "oslo_config.cfg.Opt"),
    ("py:class", "netaddr.IPAddress"),
    ("py:class", "netaddr.ip.sets.IPSet"),
    ("py:class", "stevedore.driver.DriverManager"),
    ("py:class", "threading.Barrier"),
    ("py:class", "contextlib.AbstractContextManager"),
    ("py:class", "oslo_policy.policy.Enforcer"),
    ("py:class", "oslo_policy.policy.RuleDefault"),
    ("py:class", "webob.response.Response"),
    ("py:class", "datetime.datetime"),
    # Private type aliases in annotations: each parameter's description says what it accepts.
    ("py:class", "CidrInput"),
    ("py:class", "AddressInput"),
    ("py:class", "ResourceState"),
    ("py:class", "ApiApplication"),
    ("py:class", "WsgiApp"),
    ("py:class", "Interceptor"),
]
# Type variables and parameter specifications in generic signatures are not objects a page can
# document (autodoc spells a ParamSpec's P.args as "~P" and "typing.~P").
nitpick_ignore_regex = [
    ("py:class", r"naas\.[\w.]+\.(T|RequestT|ResourceT|PluginT|ErrorT|ResultT)"),
    ("py:class", r"~P"),
    ("py:obj", r"typing\.~P"),
]

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []


def _import_target(target: str) -> object | None:
    """The object a dotted name denotes, or None when it does not import."""
    parts = target.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if not hasattr(found, attribute):
                return None
            found = getattr(found, attribute)
        return found
    return None


def _unbound(found: object) -> object:
    """The function behind a bound method: each attribute access makes a new bound method."""
    return getattr(found, "__func__", found)


def _resolve_reexport(app: Sphinx, env: Any, node: Any, contnode: nodes.Element) -> nodes.Element | None:
    """Link a name to where it is documented when it is spelled another way.

    Annotations name a class by the module that defines it
    (``naas.auto_allocate.store.TopologyRecord``) and the guides by the package
    that re-exports it (``naas.RequestContext``); the reference documents each
    once, under its public module. A reference resolves when a documented name
    with the same last component is the very same object.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    wanted = _import_target(target)
    # A short name in a docstring is relative to the class and module it appears in.
    for scope in (node.get("py:class"), node.get("py:module")):
        if wanted is None and scope:
            module = node.get("py:module") if scope == node.get("py:class") else None
            qualified = ".".join(part for part in (module, scope, target) if part)
            wanted = _import_target(qualified)
    if wanted is None:
        return None
    short = target.rsplit(".", 1)[-1]
    domain = env.get_domain("py")
    for name, _dispname, objtype, docname, anchor, _priority in domain.get_objects():
        if objtype == "module" or name.rsplit(".", 1)[-1] != short or name == target:
            continue
        if _unbound(_import_target(name)) is _unbound(wanted):
            return make_refnode(app.builder, node["refdoc"], docname, anchor, contnode, name)
    return None


def setup(app: Sphinx) -> None:
    app.connect("missing-reference", _resolve_reexport)
