"""What the flight recorder costs the live window: the GUI event loop's worst stall, with and
without the recorder attached.

Each run is a fresh process showing the demo's live window offscreen, exactly as ``run_gui``
does (``show_live_window``, the sources on their worker threads, a real clock), with or without
``ui.flight_recording.FlightRecording`` writing the autosave file into a temporary folder. A
5 ms timer on the GUI thread records the gaps between its ticks for ``--seconds`` after a
warm-up (the hour of history arriving at start is left out); the figure is the worst gap and
the 99th percentile. The same run without the recorder is the baseline.

    .venv/bin/python -m benchmarks.bench_gui_stall [--seconds N]
"""

from __future__ import annotations

import argparse
import tempfile

from benchmarks.harness import child_env, run_child

CHILD = """
import json, os, sys, time
from PySide6.QtCore import QTimer
from console.clock import SystemClock
from console.session_factory import build_session
from console.workspace_toml import demo_workspace_path, load_workspace
from ui.app import application, show_live_window
from ui.flight_recording import FlightRecording
from pathlib import Path

record, seconds, warmup, folder = sys.argv[1] == "on", float(sys.argv[2]), 3.0, sys.argv[3]
app = application()
session = build_session(load_workspace(demo_workspace_path()), SystemClock())
window, bridge = show_live_window(app, session)
recording = FlightRecording(window, session, enabled=record, folder=Path(folder))
gaps, state = [], {"last": None, "began": time.perf_counter()}

def tick():
    now = time.perf_counter()
    if state["last"] is not None and now - state["began"] > warmup:
        gaps.append(1000 * (now - state["last"]))
    state["last"] = now
    if now - state["began"] > warmup + seconds:
        app.quit()

timer = QTimer()
timer.setInterval(5)
timer.timeout.connect(tick)
timer.start()
app.exec()
bridge.stop()
status = recording.stop()
gaps.sort()
print(json.dumps({
    "worst_ms": gaps[-1], "p99_ms": gaps[int(0.99 * len(gaps))], "ticks": len(gaps),
    "commits": status.commits if status else 0,
    "samples": status.samples_committed if status else 0,
}))
"""


def stall(record: bool, seconds: float) -> dict:
    """One run in a fresh process; the worst gap and p99 between 5 ms ticks, in ms."""
    with tempfile.TemporaryDirectory() as folder:
        env = child_env(INCIDENT_CONSOLE_DATA_DIR=folder)
        mode = "on" if record else "off"
        return run_child(CHILD, mode, seconds, folder, timeout=seconds + 120, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run")
    seconds = parser.parse_args().seconds
    without = stall(False, seconds)
    with_recorder = stall(True, seconds)
    print(
        f"GUI stall, live demo window, {seconds:.0f} s: worst {with_recorder['worst_ms']:.1f} ms "
        f"(p99 {with_recorder['p99_ms']:.1f} ms) with the recorder "
        f"({with_recorder['commits']} commits, {with_recorder['samples']} samples), worst "
        f"{without['worst_ms']:.1f} ms (p99 {without['p99_ms']:.1f} ms) without"
    )


if __name__ == "__main__":
    main()
