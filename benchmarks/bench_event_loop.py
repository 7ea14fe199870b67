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

from benchmarks.harness import TICK_GAPS_CODE, run_child, tick_gaps

#: Seconds after showing the window before gaps count (first paint, history, first drains).
WARMUP_S = 3.0
TICK_MS = 10

CHILD = (
    r"""
import json, sys

from console.clock import SystemClock
from console.session_factory import build_session
from console.workspace_toml import demo_workspace_path, load_workspace
from ui.app import application, show_live_window

seconds, warmup, tick_ms = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
app = application()
"""
    + TICK_GAPS_CODE
    + r"""
baseline = bare_window_gaps(warmup, seconds)

session = build_session(load_workspace(demo_workspace_path()), SystemClock())
window, bridge = show_live_window(app, session)
run_for(warmup)
drains_before = bridge.drain_count
redraws_before = window.chart_grid.set_data_calls
live = gaps_while(seconds)
drains = bridge.drain_count - drains_before
redraws = window.chart_grid.set_data_calls - redraws_before
bridge.stop()
print(json.dumps({"baseline": baseline, "live": live, "drains": drains, "redraws": redraws}))
"""
)


def run(seconds: float = 20.0) -> dict[str, dict[str, float]]:
    """Worst and p99 tick gaps, bare window vs the live demo window, in one subprocess."""
    result = run_child(CHILD, seconds, WARMUP_S, TICK_MS, timeout=seconds * 2 + 120)
    if result["drains"] == 0 or result["redraws"] == 0:
        raise RuntimeError(f"the live window did not drain and redraw: {result}")
    return {
        "baseline": tick_gaps(result["baseline"]),
        "live": tick_gaps(result["live"]),
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
