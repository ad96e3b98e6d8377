"""Plugin wrappers for failure and race tests.

:class:`PluginProxy` stands in front of any core or L3 plugin and forwards
every call. :class:`FaultInjector` makes the N-th forwarded call (counting
across all the proxies it watches) raise instead of running, so a test can
fail each step of a multi-step operation in turn. :class:`Delay` sleeps inside
every call, which releases the GIL and widens race windows that threads would
otherwise never hit.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["CallRecord", "Delay", "FaultInjector", "PluginProxy"]


@dataclasses.dataclass(frozen=True)
class CallRecord:
    """One call seen by a proxy: which plugin (its label) and which method."""

    plugin: str
    method: str

    def __str__(self) -> str:
        return f"{self.plugin}.{self.method}"


Interceptor = Callable[[CallRecord], None]


class PluginProxy:
    """Forwards attribute access to ``plugin``; public methods go through ``interceptor`` first.

    The proxy is not a subclass of the plugin's interface on purpose: code
    under test must only call methods, never check types.
    """

    def __init__(self, plugin: Any, label: str, interceptor: Interceptor) -> None:
        self._plugin = plugin
        self._label = label
        self._interceptor = interceptor

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._plugin, name)
        if name.startswith("_") or not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self._interceptor(CallRecord(self._label, name))
            return target(*args, **kwargs)

        return call


class FaultInjector:
    """Counts the calls of the proxies it makes and fails the ``fail_at``-th (1-based).

    With ``fail_at`` None it only records, which tells a test how many calls an
    operation makes. ``error`` builds the exception from the call record.
    """

    def __init__(self, fail_at: int | None = None, error: Callable[[CallRecord], BaseException] | None = None) -> None:
        self.fail_at = fail_at
        self.error = error or (lambda record: RuntimeError(f"injected fault in {record}"))
        self.calls: list[CallRecord] = []
        self.failed: CallRecord | None = None
        self._lock = threading.Lock()

    def wrap(self, plugin: Any, label: str) -> Any:
        """A proxy of ``plugin`` whose calls this injector counts (as ``label``) and may fail."""
        return PluginProxy(plugin, label, self._intercept)

    def _intercept(self, record: CallRecord) -> None:
        with self._lock:
            self.calls.append(record)
            fail = self.failed is None and len(self.calls) == self.fail_at
            if fail:
                self.failed = record
        if fail:
            raise self.error(record)


class Delay:
    """Sleeps ``seconds`` inside every call of the proxies it makes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def wrap(self, plugin: Any, label: str) -> Any:
        """A proxy of ``plugin`` (calls recorded as ``label``) that sleeps before each call."""
        return PluginProxy(plugin, label, lambda record: time.sleep(self.seconds))
