"""An example third-party naas distribution, one part for each level a driver plugs in at.

* a **storage driver**: :class:`JsonFileStorage`, all state in one JSON file
  shared between processes, exposed as :class:`ExampleCorePlugin` and
  :class:`ExampleL3Plugin` (``core_plugin = example``, ``l3_plugin = example``);
* an **observer**: :class:`AuditLog` (``observers = example-audit``);
* a **network backend**: :class:`MtuLimitedBackend` (``backends = example``).

Its entry points live in its own ``setup.cfg``. It imports only naas's public API.
"""

from naas_example_driver.audit import AuditLog, AuditRecord
from naas_example_driver.backend import MtuLimitedBackend
from naas_example_driver.plugins import ExampleCorePlugin, ExampleL3Plugin
from naas_example_driver.storage import JsonFileStorage

__all__ = ["AuditLog", "AuditRecord", "ExampleCorePlugin", "ExampleL3Plugin", "JsonFileStorage", "MtuLimitedBackend"]
