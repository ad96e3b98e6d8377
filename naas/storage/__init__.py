"""Storage drivers: the narrow interface the rules keep their state behind (see :mod:`naas.storage.base`)."""

from naas.storage.base import ListQuery, Storage, StorageCapability, Transaction, random_mac_address

__all__ = ["ListQuery", "Storage", "StorageCapability", "Transaction", "random_mac_address"]
