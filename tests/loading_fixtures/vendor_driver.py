"""A plugin module whose missing dependency's name is a prefix of its own name.

The loader must still blame the dependency, not report this module as absent.
"""

from .vendor import client  # type: ignore[import-not-found]  # noqa: F401
