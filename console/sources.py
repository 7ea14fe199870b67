"""The protocol every data source speaks, and the ``Batch`` it delivers.

A source (the simulation, Cloud Monitoring, Cloud Logging, probes, a snapshot replay) is asked
to ``poll(now)`` and answers with a ``Batch``: new samples per series, log entries and its own
status. It never touches the store; the session applies batches. Sources may block (an RPC with
a timeout) because they run on worker threads (``console.source_runner``), or synchronously in
tests and headless commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from console.resource_state import ResourceState
from console.timeline import TimelineEntry

SeriesKey = tuple[str, str]
"""``(service_id, metric)``: the name of one series in the store."""

SourceState = Literal["starting", "ok", "error", "unauthorized", "quota", "stopped"]


@dataclass(frozen=True)
class SourceStatus:
    """What a source says about itself: delivering, failing (and why), or stopped."""

    name: str
    state: SourceState
    message: str = ""
    #: How late this source's data normally is (Cloud Monitoring: up to 240 s; simulation: ~0).
    expected_delay_s: float = 0.0


@dataclass(frozen=True)
class LogEntry:
    """One log line worth a commander's attention (a failing request, an error)."""

    t: float
    service: str
    severity: str
    message: str
    status: int | None = None
    latency_ms: float | None = None
    revision: str = ""


@dataclass
class Batch:
    """New data from one source, applied to the store in one step.

    ``samples`` maps a series key to ``(timestamps, values)``: two float64 arrays of equal length,
    timestamps in seconds since the epoch and ascending.
    """

    source: str
    samples: dict[SeriesKey, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    logs: list[LogEntry] = field(default_factory=list)
    status: SourceStatus | None = None
    timeline: list[TimelineEntry] = field(default_factory=list)
    #: The newest state of cloud resources by service id (revisions, traffic, connector limits).
    resources: dict[str, ResourceState] = field(default_factory=dict)

    def add(self, key: SeriesKey, timestamps: np.ndarray, values: np.ndarray) -> None:
        """Add samples for ``key``, appending to any already in this batch."""
        ts = np.asarray(timestamps, dtype=np.float64)
        vs = np.asarray(values, dtype=np.float64)
        if ts.shape != vs.shape or ts.ndim != 1:
            raise ValueError(f"{key}: timestamps and values must be 1-D arrays of equal length")
        if key in self.samples:
            old_ts, old_vs = self.samples[key]
            ts, vs = np.concatenate([old_ts, ts]), np.concatenate([old_vs, vs])
        self.samples[key] = (ts, vs)

    def sample_count(self) -> int:
        """How many samples this batch carries over all series."""
        return sum(len(ts) for ts, _ in self.samples.values())

    def is_empty(self) -> bool:
        """True when the batch carries no samples, logs, timeline entries, resources or status."""
        return not (self.samples or self.logs or self.timeline or self.resources) and (
            self.status is None
        )


class Source(Protocol):
    """A data source. ``poll`` may block for at most its own timeouts."""

    name: str
    #: Seconds between polls when run by a worker thread.
    interval_s: float
    #: How late this source's data normally is; older data than that (plus margin) is stale.
    expected_delay_s: float

    def poll(self, now: float) -> Batch:
        """Return everything new up to ``now``. Errors are reported in ``Batch.status``."""
        ...

    def close(self) -> None:
        """Release connections; called once when the session stops."""
        ...
