"""The ``memory`` plugins: complete, thread-safe core and L3 plugins keeping their state in this process.

For embedding, examples and fast tests; nothing survives the process. Select
them with ``core_plugin = memory`` and ``l3_plugin = memory``, or build them
directly::

    core = MemoryCorePlugin()
    l3 = MemoryL3Plugin(core)  # publishes to core.events too
"""

from naas_plugins.memory.core import MemoryCorePlugin
from naas_plugins.memory.l3 import MemoryL3Plugin

__all__ = ["MemoryCorePlugin", "MemoryL3Plugin"]
