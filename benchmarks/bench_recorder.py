"""What the flight recorder costs the ingest path: drain time with and without it attached.

A synthetic source delivers the demo's shape (42 series, one sample per second each, a log line
now and then) from precomputed batches, so the figure is the session's ingest (apply, health,
notify) plus the recorder's gathering on the draining thread; the writer thread's SQLite work is
reported separately as the time to flush what was gathered. Prints one line, runs in seconds:

    .venv/bin/python benchmarks/bench_recorder.py [--steps N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from console.clock import VirtualClock
from console.recorder import FlightRecorder
from console.session import Session
from console.sources import Batch, LogEntry, SourceStatus
from console.workspace import GoldenPathStep, Incident, Service, Workspace

T0 = 1_700_000_000.0


def demo_shaped_workspace() -> Workspace:
    """Seven services of the demo's kinds: 3 Cloud Run, 1 connector, 1 Cloud SQL, 2 probes."""
    services = [
        Service("frontend", "Frontend", "cloud_run", "fe"),
        Service("auth", "Auth", "cloud_run", "auth", ("connector", "database")),
        Service("backend", "Backend", "cloud_run", "be", ("auth",)),
        Service("websocket", "WebSocket", "synthetic", "ws", ("backend",)),
        Service("chat", "Chat AI", "synthetic", "chat", ("websocket",)),
        Service("connector", "VPC connector", "vpc_connector", "conn"),
        Service("database", "Cloud SQL", "cloud_sql", "db"),
    ]
    steps = tuple(GoldenPathStep(s.id, s.name) for s in services[:5])
    return Workspace(Incident("benchmark"), {s.id: s for s in services}, steps)


class PrecomputedSource:
    """Every series of the workspace, one sample per poll, values drawn once up front."""

    name = "bench"
    interval_s = 1.0
    expected_delay_s = 0.0

    def __init__(self, workspace: Workspace, steps: int) -> None:
        self.keys = [(s.id, m) for s in workspace.services.values() for m in s.metrics()]
        self.values = np.random.default_rng(1).random((steps + 1, len(self.keys)))
        self.polls = 0

    def poll(self, now: float) -> Batch:
        row = self.values[self.polls % len(self.values)]
        self.polls += 1
        batch = Batch(self.name, status=SourceStatus(self.name, "ok"))
        t = np.array([now])
        for i, key in enumerate(self.keys):
            batch.add(key, t, row[i : i + 1])
        if self.polls % 5 == 0:
            batch.logs.append(LogEntry(now, "auth", "ERROR", "upstream connect timeout", 503))
        return batch

    def close(self) -> None:
        pass


def ingest_seconds(steps: int, recorder_path: Path | None) -> tuple[float, float, int]:
    """Seconds spent in poll+drain for ``steps`` steps, flush seconds, series count."""
    workspace = demo_shaped_workspace()
    clock = VirtualClock(T0)
    source = PrecomputedSource(workspace, steps)
    session = Session(workspace, clock, [source])
    recorder = FlightRecorder(session, recorder_path) if recorder_path is not None else None
    if recorder is not None:
        recorder.start()
    started = time.perf_counter()
    for _ in range(steps):
        clock.advance(1.0)
        session.poll_sources()
        session.drain()
    ingest = time.perf_counter() - started
    flush = 0.0
    if recorder is not None:
        started = time.perf_counter()
        assert recorder.close().state == "closed", recorder.error
        flush = time.perf_counter() - started
    return ingest, flush, len(source.keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="simulated seconds to ingest")
    steps = parser.parse_args().steps
    with tempfile.TemporaryDirectory() as folder:
        ingest_seconds(200, Path(folder) / "warmup.incident")  # imports, caches
        without, _, series = ingest_seconds(steps, None)
        with_recorder, flush, _ = ingest_seconds(steps, Path(folder) / "bench.incident")
        size = (Path(folder) / "bench.incident").stat().st_size
    per_step = 1000 * without / steps
    print(
        f"recorder: {steps} steps x {series} series: ingest {per_step:.3f} ms/step without, "
        f"{1000 * with_recorder / steps:.3f} ms/step with the recorder attached "
        f"(ratio {with_recorder / without:.2f}); writer backlog flushed in {flush:.2f} s; "
        f"file {size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
