"""An example third-party naas driver.

Select it in naas.conf with ``core_plugin = example`` and ``l3_plugin = example``
once this distribution is installed; its entry points live in its own
``setup.cfg``. It imports only naas's public API.
"""

from naas_example_driver.audit import AuditLog, AuditRecord
from naas_example_driver.plugins import ExampleCorePlugin, ExampleL3Plugin

__all__ = ["AuditLog", "AuditRecord", "ExampleCorePlugin", "ExampleL3Plugin"]
