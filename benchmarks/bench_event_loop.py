"""Event-loop stall: the worst gap between 10 ms timer ticks on the GUI thread, live demo running.

A fresh subprocess shows the demo's main window through ``ui.app.show_live_window`` (the path
``run_gui`` takes: the sources poll on their worker threads, the bridge drains and ticks once a
second, the charts refresh), waits ``WARMUP_S`` for the first paint and the history to settle,
then records the gaps between the ticks of a 10 ms ``QTimer`` for ``--seconds``. The baseline,
in the same subprocess and just before, is the same timer over a bare shown window (what the
machine and Qt alone give). Goal (issue: performance): worst gap ≤ 50 ms.

The fake Google servers with 2 s latency are measured by ``bench_gcp`` where they exist; this
one runs the demo simulation.

    .venv/bin/python -m benchmarks.bench_event_loop [--seconds N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

#: Seconds after showing the window before gaps count (first paint, history, first drains).
WARMUP_S = 3.0
TICK_MS = 10

CHILD = r"""
import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from console.clock import SystemClock
from console.session_factory import build_session
from console.workspace_toml import demo_workspace_path, load_workspace
from ui.app import application, show_live_window

seconds, warmup, tick_ms = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
app = application()


def gaps_while(duration):
    gaps, last = [], [None]
    timer = QTimer()
    timer.setInterval(tick_ms)

    def tick():
        now = time.perf_counter()
        if last[0] is not None:
            gaps.append(now - last[0])
        last[0] = now

    timer.timeout.connect(tick)
    timer.start()
    QTimer.singleShot(int(duration * 1000), app.quit)
    app.exec()
    timer.stop()
    return gaps


def settle(duration):
    QTimer.singleShot(int(duration * 1000), app.quit)
    app.exec()


bare = QWidget()
bare.resize(1600, 1000)
bare.show()
settle(warmup)
baseline = gaps_while(seconds)
bare.close()

session = build_session(load_workspace(demo_workspace_path()), SystemClock())
window, bridge = show_live_window(app, session)
settle(warmup)
drains_before = bridge.drain_count
redraws_before = window.chart_grid.set_data_calls
live = gaps_while(seconds)
drains = bridge.drain_count - drains_before
redraws = window.chart_grid.set_data_calls - redraws_before
bridge.stop()
print(json.dumps({"baseline": baseline, "live": live, "drains": drains, "redraws": redraws}))
"""


def _summary(gaps: list[float]) -> dict[str, float]:
    ordered = sorted(gaps)
    return {
        "worst_ms": 1000 * ordered[-1],
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "ticks": len(ordered),
    }


def run(seconds: float = 20.0) -> dict[str, dict[str, float]]:
    """Worst and p99 tick gaps, bare window vs the live demo window, in one subprocess."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(seconds), str(WARMUP_S), str(TICK_MS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=seconds * 2 + 120,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if result["drains"] == 0 or result["redraws"] == 0:
        raise RuntimeError(f"the live window did not drain and redraw: {result}")
    return {
        "baseline": _summary(result["baseline"]),
        "live": _summary(result["live"]),
        "drains": result["drains"],
        "redraws": result["redraws"],
    }


def describe(result: dict) -> str:
    """One line."""
    live, base = result["live"], result["baseline"]
    return (
        f"event loop: worst gap between {TICK_MS} ms ticks {live['worst_ms']:.0f} ms "
        f"(p99 {live['p99_ms']:.0f} ms) with the demo live ({result['drains']} drains, "
        f"{result['redraws']} curve redraws), "
        f"bare window {base['worst_ms']:.0f} ms (p99 {base['p99_ms']:.0f} ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds measured per phase")
    print(describe(run(parser.parse_args().seconds)))
