"""The example core and L3 plugins: naas's rules over :class:`~naas_example_driver.storage.JsonFileStorage`.

This is all a storage driver's plugins are: the rules, written once in
:mod:`naas.rules`, built over another storage. They hold no rule of their own.
"""

from __future__ import annotations

import os
from typing import Self

from oslo_config import cfg

from naas import EventRegistry
from naas.backends import BackendChain
from naas.rules import CoreRules, L3Rules
from naas_example_driver import opts
from naas_example_driver.storage import JsonFileStorage

__all__ = ["ExampleCorePlugin", "ExampleL3Plugin"]


class ExampleCorePlugin(CoreRules):
    """The core rules over the JSON document ``state_file``; processes configured with one file share it."""

    def __init__(
        self,
        state_file: str | os.PathLike[str],
        events: EventRegistry | None = None,
        backends: BackendChain | None = None,
    ) -> None:
        super().__init__(JsonFileStorage(state_file), events, backends)

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, *, events: EventRegistry, backends: BackendChain | None = None) -> Self:
        """Build over ``[example] state_file``. Raises ValueError when it is not set or its directory is missing."""
        opts.register_opts(conf)
        state_file = conf[opts.GROUP].state_file
        if not state_file:
            raise ValueError("[example] state_file is not set: name the JSON file to keep naas's state in")
        directory = os.path.dirname(os.path.abspath(state_file))
        if not os.path.isdir(directory):
            raise ValueError(f"[example] state_file = {state_file}: directory {directory} does not exist")
        return cls(state_file, events=events, backends=backends).apply_options(conf)


class ExampleL3Plugin(L3Rules):
    """The L3 rules, keeping routers and floating IPs in the example core plugin's state file."""
