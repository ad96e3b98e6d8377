"""The storage conformance suite over the JSON-file storage, and what a file adds: durability and sharing."""

from __future__ import annotations

import os
import tempfile
import unittest

from naas_example_driver import JsonFileStorage

from naas.storage import Storage
from naas.testing.storage import StorageConformance


class JsonFileStorageConformance(StorageConformance, unittest.TestCase):
    def make_storage(self) -> Storage:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        return JsonFileStorage(os.path.join(directory.name, "state.json"))

    def make_shared_storage(self, storage: Storage) -> Storage:
        assert isinstance(storage, JsonFileStorage)
        return JsonFileStorage(storage.path)
