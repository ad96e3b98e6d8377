"""The ``ovn`` network backend: naas's networks, ports, routers and floating IPs as OVN northbound rows.

Select it with ``[DEFAULT] backends = ovn`` and point ``[ovn] ovn_nb_connection``
at the northbound database; see :class:`OvnBackend` for the contract and
:mod:`naas_plugins.ovn._rows` for the mapping, which is ML2/OVN's. Needs
``ovsdbapp`` (``pip install 'naas-networking[ovn]'``).
"""

from naas_plugins.ovn.backend import OvnBackend

__all__ = ["OvnBackend"]
