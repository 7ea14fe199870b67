"""Opening a day-long snapshot for review: time to the first frame, and the cost of scrubbing.

The snapshot: 24 h of 60 series at one sample per second (5.18 M samples, ~120 MB), for eight
services of the demo's kinds, written once with the format's own writer into
``$TMPDIR/incident-console-bench/`` and reused by later runs.

- **First frame**: a fresh process runs ``incident-console open FILE`` (offscreen) and prints
  when the review window's first paint pass has finished; the median of several runs, from
  spawn. Baseline in the same run: the same for the recorded demo (an hour, 42 series).
- **Scrubbing**: in this process, the review window (1600×1000, offscreen) moves its cursor
  and repaints; milliseconds per move, median and p95, for (a) playback-sized steps inside the
  visible hour, (b) jumps anywhere in the day (the charts page and fetch new ranges) before
  and after the background worker has built the pyramids (at other places the second time),
  (c) a brisk drag along the day (a page every few moves) and a drag back and forth across the
  edge of the view (a page every move), and (d) with the whole day shown. Also the worst case:
  the whole day shown before any pyramid exists.

    .venv/bin/python -m benchmarks.bench_snapshot_open [--repeats N] [--moves N]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import FIRST_PAINT_HOOK, percentile, time_to_first_paint
from console.snapshot_format import (
    CLOSED_CLEAN,
    SnapshotWriter,
    render_workspace_toml,
    workspace_to_json,
)
from console.workspace import GoldenPathStep, Incident, Service, Workspace
from console.workspace_toml import demo_workspace_path, load_workspace

DAY_S = 86_400
T0 = 1_700_000_000.0
BENCH_FOLDER = Path(tempfile.gettempdir()) / "incident-console-bench"
DAY_FILE = BENCH_FOLDER / "day-60-series.incident"
DEMO_FILE = BENCH_FOLDER / "demo-1h.incident"
#: Cursor move per frame of the benchmark's drag (about ten strip pixels at 1600 px).
DRAG_STEP_S = 600.0

#: Child code: open the snapshot given as its argument for review, as ``incident-console open``
#: does, and print "painted" once the review window's first paint pass has finished.
FIRST_FRAME = (
    FIRST_PAINT_HOOK
    + """
import sys
from ui.app import application
app = application()
hook = _FirstPaint()
app.installEventFilter(hook)
from console.cli import main
main(["open", sys.argv[1]])
"""
)


def day_workspace() -> Workspace:
    """Eight services of the demo's kinds with 60 series: 4 Cloud Run × 11, 2 connectors × 5,
    2 Cloud SQL × 3; the demo's thresholds."""
    services = [
        Service("frontend", "Frontend", "cloud_run", "fe"),
        Service("auth", "Auth", "cloud_run", "auth", ("connector", "database")),
        Service("backend", "Backend", "cloud_run", "be", ("auth", "connector", "database")),
        Service("billing", "Billing", "cloud_run", "bill", ("connector_b", "database_b")),
        Service("connector", "VPC connector", "vpc_connector", "conn"),
        Service("connector_b", "VPC connector B", "vpc_connector", "conn-b"),
        Service("database", "Cloud SQL", "cloud_sql", "db"),
        Service("database_b", "Cloud SQL B", "cloud_sql", "db-b"),
    ]
    steps = tuple(GoldenPathStep(s, s.title()) for s in ("frontend", "auth", "backend"))
    thresholds = load_workspace(demo_workspace_path()).thresholds
    return Workspace(
        Incident("a day of sixty series"), {s.id: s for s in services}, steps, dict(thresholds)
    )


def write_day_snapshot(path: Path) -> Path:
    """Write the day-long snapshot (a few seconds; skipped when it exists)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    workspace = day_workspace()
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    connection = sqlite3.connect(partial, isolation_level=None)
    writer = SnapshotWriter(connection)
    writer.create({"app_version": "bench", "closed": CLOSED_CLEAN, "title": "benchmark day"})
    writer.begin()
    writer.write_workspace(render_workspace_toml(workspace), workspace_to_json(workspace))
    rng = np.random.default_rng(24)
    t = T0 + np.arange(DAY_S, dtype=float)
    for service in workspace.services.values():
        for metric in service.metrics():
            walk = np.cumsum(rng.normal(0, 1, DAY_S))
            walk = (walk - walk.min()) / max(1e-9, np.ptp(walk))
            scale = (
                2000.0
                if metric.endswith("_ms")
                else 1.0
                if "ratio" in metric or ("utilization" in metric or metric in ("saturation",))
                else 50.0
            )
            values = walk * scale * 0.8
            values[rng.integers(0, DAY_S, 20)] = scale * 1.5  # spikes that must stay visible
            writer.append_samples((service.id, metric), t, values)
    writer.commit()
    connection.close()
    os.replace(partial, path)
    return path


def write_demo_snapshot(path: Path) -> Path:
    """The recorded demo (its hour of history and five minutes), for the baseline."""
    if path.exists():
        return path
    from console.clock import VirtualClock
    from console.session_factory import build_session
    from console.snapshot_commands import run_recording

    path.parent.mkdir(parents=True, exist_ok=True)
    session = build_session(load_workspace(demo_workspace_path()), VirtualClock(T0))
    try:
        run_recording(session, path, 300, speed=0)
    finally:
        session.stop()
    return path


def first_frame_s(path: Path, repeats: int) -> float:
    """Median seconds from spawning ``incident-console open`` to its first painted frame."""
    return statistics.median(
        time_to_first_paint(FIRST_FRAME, path, timeout=300) for _ in range(repeats)
    )


def _percentiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), percentile(samples, 0.95)


def scrub_costs(path: Path, moves: int) -> dict[str, tuple[float, float]]:
    """Milliseconds per cursor move (median, p95) in the review window, offscreen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt

    from ui.app import application
    from ui.review_window import open_review_window

    app = application()
    window = open_review_window(path, deterministic=True)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.resize(1600, 1000)
    window.show()
    for _ in range(4):
        app.processEvents()
    controller = window.controller
    start, end = window.review_session.time_range

    def timed(targets: list[float]) -> tuple[float, float]:
        costs = []
        for target in targets:
            began = time.perf_counter()
            controller.seek(target)
            app.processEvents()  # the repaint
            costs.append(1000 * (time.perf_counter() - began))
        return _percentiles(costs)

    rng = random.Random(5)
    results = {}
    controller.seek(end - 3000)
    results["play (10 s steps, 1 h view)"] = timed([end - 3000 + 10 * i for i in range(moves)])
    jumps = [rng.uniform(start, end) for _ in range(moves)]
    results["jumps anywhere, before the pyramids (SQL aggregates)"] = timed(jumps)
    window.start_background()  # inline here: the golden-path history, then every pyramid
    # Other places than before: nothing the charts remember from the first jumps is reused.
    results["jumps anywhere, pyramids built"] = timed(
        [rng.uniform(start, end) for _ in range(moves)]
    )
    # A brisk drag along the strip: ~10 strip pixels (10 min) a frame, a page every ~5 moves.
    results["drag, 10 min a frame"] = timed([start + 3600 + DRAG_STEP_S * i for i in range(moves)])
    # Dragging back and forth across the edge of the view: every move pages.
    edge = start + 12 * 3600
    results["drag back and forth across a page edge"] = timed(
        [edge + (1 if i % 2 else -1) * 0.6 * window.chart_grid.range_s for i in range(moves)]
    )
    began = time.perf_counter()
    controller.fit_recording()
    app.processEvents()
    results["whole day shown (ms)"] = (1000 * (time.perf_counter() - began),) * 2
    results["scrub with the whole day shown"] = timed(
        [rng.uniform(start, end) for _ in range(moves)]
    )
    window.close()
    return results


def whole_day_without_pyramids_ms(path: Path) -> float:
    """Showing the whole day before the background worker has built any pyramid (the read
    builds them itself): the worst case, right after opening."""
    from console.review import ReviewSession
    from console.snapshot import open_snapshot

    with open_snapshot(path) as snapshot:
        store = ReviewSession(snapshot).review_store
        began = time.perf_counter()
        for key in store.recorded_keys():
            store.window(key, T0, T0 + DAY_S, 800)
        return 1000 * (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per figure")
    parser.add_argument("--moves", type=int, default=150, help="cursor moves per scrub figure")
    args = parser.parse_args()
    started = time.perf_counter()
    day = write_day_snapshot(DAY_FILE)
    written = time.perf_counter() - started
    demo = write_demo_snapshot(DEMO_FILE)
    day_s = first_frame_s(day, args.repeats)
    demo_s = first_frame_s(demo, args.repeats)
    size = day.stat().st_size / 1e6
    made = f", written in {written:.0f} s" if written > 1 else ""
    print(
        f"snapshot open: 24 h x 60 series at 1 s ({size:.0f} MB{made}): first frame "
        f"{day_s:.2f} s from spawn (goal ≤ 2 s); the 1 h demo recording {demo_s:.2f} s "
        f"(ratio {day_s / demo_s:.2f})"
    )
    for name, (median, p95) in scrub_costs(day, args.moves).items():
        if name.endswith("(ms)"):
            print(f"  {name.removesuffix(' (ms)')}: {median:.0f} ms")
        else:
            print(f"  scrub, {name}: median {median:.1f} ms, p95 {p95:.1f} ms per move")
    print(
        f"  whole day before any pyramid (60 built on demand): "
        f"{whole_day_without_pyramids_ms(day):.0f} ms; goal for a move: ≤ 33 ms (30 frames/s)"
    )


if __name__ == "__main__":
    main()
