"""Neutron's rules, written once over a storage driver: :class:`CoreRules` and :class:`L3Rules`."""

from naas.rules.core import CoreRules
from naas.rules.l3 import L3Rules

__all__ = ["CoreRules", "L3Rules"]
