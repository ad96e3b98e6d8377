"""A network backend whose dataplane carries networks up to a fixed MTU.

It is naas's :class:`~naas.testing.backends.RecordingBackend` (a dataplane kept
in a dict) plus the one thing a real dataplane adds at this level: a limit of
its own, checked in precommit, so a network it could not realize is refused
before anything is stored, rather than stored and left in ``ERROR``.
"""

from __future__ import annotations

from typing import Self

from oslo_config import cfg

from naas.backends import Change, NetworkState
from naas.exceptions import BadRequest
from naas.testing.backends import RecordingBackend
from naas_example_driver import opts

__all__ = ["MtuLimitedBackend"]


class MtuLimitedBackend(RecordingBackend):
    """Realizes everything in memory, and refuses networks whose MTU is above ``max_mtu``."""

    def __init__(self, max_mtu: int = opts.DEFAULT_BACKEND_MAX_MTU) -> None:
        super().__init__()
        self.max_mtu = max_mtu

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> Self:
        opts.register_opts(conf)
        return cls(max_mtu=conf[opts.GROUP].backend_max_mtu)

    def precommit(self, change: Change) -> None:
        """Refuse, with BadRequest naming ``mtu``, a network larger than this dataplane carries."""
        if isinstance(change.after, NetworkState) and change.after.network.mtu > self.max_mtu:
            network = change.after.network
            raise BadRequest(
                "network", "mtu", f"MTU {network.mtu} of network {network.id} is above this dataplane's {self.max_mtu}"
            )
        super().precommit(change)
