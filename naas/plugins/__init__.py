"""The plugin contracts: one interface per role."""

from naas.plugins.core import CorePlugin, Filters
from naas.plugins.l3 import L3Plugin

__all__ = ["CorePlugin", "Filters", "L3Plugin"]
