"""Ingest: samples applied to the store per second by ``Session.drain``, against the bare store.

The demo session (its simulation and probe sources, on a virtual clock, no threads) is polled
once a simulated second; each poll's batches are queued and drained as the GUI's bridge would,
and only the drains are timed: applying samples to the store, re-evaluating health, the
workflow evaluators and notifying subscribers. The baseline appends the very same batches'
samples straight into a ``SeriesStore`` (the ring buffers alone) in the same run.

    .venv/bin/python -m benchmarks.bench_ingest [--steps N]
"""

from __future__ import annotations

import argparse
import time

from console.clock import VirtualClock
from console.session_factory import build_session
from console.source_runner import SourceRunner
from console.sources import Batch
from console.store import SeriesStore
from console.workspace_toml import demo_workspace_path, load_workspace

T0 = 1_790_000_000.0


def recorded_batches(steps: int) -> tuple[list[list[Batch]], object]:
    """The demo's batches, one list per simulated second, and the session that produced them."""
    clock = VirtualClock(T0)
    session = build_session(load_workspace(demo_workspace_path()), clock)
    session.poll_sources()
    session.drain()  # the hour of history
    per_step = []
    for _ in range(steps):
        clock.advance(1.0)
        now = clock.now()
        per_step.append([SourceRunner.poll_safely(source, now) for source in session.sources])
    session.stop()
    return per_step, clock


def run(steps: int = 1200) -> dict[str, float]:
    """Samples per second through ``Session.drain`` and through the bare store."""
    per_step, _ = recorded_batches(steps)
    clock = VirtualClock(T0)
    session = build_session(load_workspace(demo_workspace_path()), clock)
    session.poll_sources()
    session.drain()
    samples = 0
    drain_s = 0.0
    for batches in per_step:
        clock.advance(1.0)
        for batch in batches:
            session.submit(batch)
        started = time.perf_counter()
        samples += session.drain().samples
        drain_s += time.perf_counter() - started
    session.stop()

    store = SeriesStore()
    stored = 0
    started = time.perf_counter()
    for batches in per_step:
        for batch in batches:
            for key, (t, v) in batch.samples.items():
                stored += store.append(key, t, v)
    store_s = time.perf_counter() - started
    return {
        "samples": samples,
        "drains": len(per_step),
        "session_per_s": samples / drain_s,
        "store_per_s": stored / store_s,
        "drain_ms": 1000 * drain_s / len(per_step),
    }


def describe(result: dict[str, float]) -> str:
    """One line."""
    return (
        f"ingest: {result['session_per_s']:,.0f} samples/s through Session.drain "
        f"({result['drain_ms']:.2f} ms per 1 s drain of the demo), bare store "
        f"{result['store_per_s']:,.0f} samples/s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1200, help="simulated seconds to drain")
    print(describe(run(parser.parse_args().steps)))
