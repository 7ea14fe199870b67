"""Memory over a long session: 24 hours of demo time, fast-forwarded, with the window refreshing.

A fresh subprocess runs the demo session on a virtual clock, polling the simulation every
simulated minute (60 one-second samples per series), draining, and refreshing the main window
(offscreen) as the GUI would. Peak RSS after the first hour is the baseline; the figure is how much
the peak grows from there to hour 24. Goal (issue: foundation): under 100 MB.
"""

from __future__ import annotations

import sys

from benchmarks.harness import PEAK_RSS_CODE, rss_growth, run_child

CHILD = (
    PEAK_RSS_CODE
    + r"""
import json, os, sys
from console.clock import VirtualClock
from console.session_factory import build_session
from console.workspace_toml import demo_workspace_path, load_workspace

hours, with_window = int(sys.argv[1]), sys.argv[2] == "window"
clock = VirtualClock(1_790_000_000.0)
session = build_session(load_workspace(demo_workspace_path()), clock)
window = None
if with_window:
    from ui.app import application
    from ui.main_window import MainWindow
    from ui.session_bridge import SessionBridge
    app = application()
    bridge = SessionBridge(session, coalesce_ms=None)
    window = MainWindow(session, bridge)
    window.resize(1600, 1000)
    window.show()
session.poll_sources()
samples = 0
peaks = {}
for minute in range(hours * 60):
    clock.advance(60)
    session.poll_sources()
    samples += session.drain().samples
    if window is not None:
        bridge.tick_now()
        app.processEvents()
    if (minute + 1) % 60 == 0:
        peaks[(minute + 1) // 60] = peak_rss_mb()
print(json.dumps({"peaks": peaks, "samples": samples, "store_mb": session.store.nbytes() / 2**20}))
"""
)


def run(hours: int = 24, with_window: bool = True) -> dict:
    """Peak RSS per simulated hour, and the growth after the first hour."""
    mode = "window" if with_window else "headless"
    return rss_growth(run_child(CHILD, hours, mode, timeout=1800))


if __name__ == "__main__":
    hours = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    for with_window in (False, True):
        r = run(hours, with_window)
        label = "window" if with_window else "headless"
        print(
            f"memory ({label}, {hours} h of demo time): peak RSS {r['first_hour_mb']:.0f} MB after "
            f"1 h, {r['last_hour_mb']:.0f} MB after {hours} h, growth {r['growth_mb']:+.1f} MB; "
            f"store {r['store_mb']:.0f} MB, {r['samples']:,} samples"
        )
