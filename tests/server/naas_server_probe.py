"""A network backend and an observer that let the server tests see inside a naas-server process.

Configured by path (``backends = naas_server_probe:ProbeBackend``,
``observers = naas_server_probe:ProbeObserver``) with this directory on
``PYTHONPATH``; both write JSON lines to ``$NAAS_PROBE_DIR/events.jsonl``:
which process built, synced and closed them. The backend also holds the
precommit of a network whose name starts with ``hold-`` (inside the unit of
work, before anything is committed) until the file ``$NAAS_PROBE_DIR/release``
exists, after writing ``$NAAS_PROBE_DIR/held``: a request the test knows is in
flight.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from naas.backends import Change, DataplaneState, NetworkChange, SyncReport
from naas.events import Event, EventPayload, ResourceType
from naas.observers import Observer
from naas.testing.backends import RecordingBackend

HOLD_PREFIX = "hold-"
HOLD_LIMIT_SECONDS = 60


def probe_dir() -> Path:
    return Path(os.environ["NAAS_PROBE_DIR"])


def record(kind: str, **fields: Any) -> None:
    line = json.dumps({"kind": kind, "pid": os.getpid(), "ppid": os.getppid(), **fields}) + "\n"
    # One write of one line in append mode: lines of several processes never interleave.
    with open(probe_dir() / "events.jsonl", "a") as events:
        events.write(line)


def read_events(directory: Path) -> list[dict[str, Any]]:
    path = directory / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


class ProbeBackend(RecordingBackend):
    def __init__(self) -> None:
        super().__init__()
        record("backend_built")

    def precommit(self, change: Change) -> None:
        super().precommit(change)
        after = change.after
        if isinstance(change, NetworkChange) and after is not None and change.before is None:
            if after.network.name.startswith(HOLD_PREFIX):
                self._hold(after.network.name)

    def _hold(self, name: str) -> None:
        directory = probe_dir()
        (directory / "held").write_text(name)
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while not (directory / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        record("released", name=name)

    def sync(self, state: DataplaneState, *, repair: bool = True) -> SyncReport:
        report = super().sync(state, repair=repair)
        record("backend_synced", networks=len(state.networks), repairs=len(report.repairs))
        return report

    def close(self) -> None:
        super().close()
        record("backend_closed")


class ProbeObserver(Observer):
    def __init__(self) -> None:
        record("observer_built")

    def subscriptions(self) -> list[tuple[ResourceType, Event]]:
        return [(ResourceType.NETWORK, Event.AFTER_CREATE)]

    def observe(self, resource: ResourceType, event: Event, payload: EventPayload) -> None:
        record("observed", resource=resource.value, event=event.value)

    def close(self) -> None:
        record("observer_closed")
