"""The ``memory`` plugins: naas's rules over an in-process storage driver.

For embedding, examples and fast tests; nothing survives the process. Select
them with ``core_plugin = memory`` and ``l3_plugin = memory``, or build them
directly::

    core = MemoryCorePlugin()
    l3 = MemoryL3Plugin(core)  # shares core's storage and publishes to core.events too

Both are :mod:`naas.rules` over :class:`~naas_plugins.memory.storage.MemoryStorage`;
this package holds no rule of its own.
"""

from naas_plugins.memory.core import MemoryCorePlugin
from naas_plugins.memory.l3 import MemoryL3Plugin
from naas_plugins.memory.storage import MemoryStorage

__all__ = ["MemoryCorePlugin", "MemoryL3Plugin", "MemoryStorage"]
