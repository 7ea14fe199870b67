"""The war-room wall left alone: memory over 8 hours of demo time, and CPU at steady state.

Two figures, each measured in a fresh subprocess (offscreen, 1920×1080):

- **Memory**: the wall on the read-only demo session, fast-forwarded on a virtual clock. Every
  simulated minute the simulation is polled (60 one-second samples per series), the bridge
  ticks, one page rotates in (so every page is drawn over and over) and the window repaints.
  Peak RSS after the first hour is the baseline; the figure is how much it grows to the last
  hour. Goal (issue 6): under 50 MB.
- **CPU**: the wall as ``incident-console --wall`` runs it (a system clock, the simulation on
  its worker thread delivering every second, the 1 s tick, rotation every 20 s), for a fixed
  wall-clock time after a warm-up. The child reports the CPU seconds it used in that window
  (``resource.getrusage``); the figure is that as a share of one core. Goal: under 5 %.

Run alone: ``.venv/bin/python -m benchmarks.bench_wall [--hours 8] [--seconds 60]``.
"""

from __future__ import annotations

import argparse

from benchmarks.harness import PEAK_RSS_CODE, rss_growth, run_child

MEMORY_CHILD = (
    PEAK_RSS_CODE
    + r"""
import json, sys
from console.clock import VirtualClock
from console.session_factory import build_session
from console.workspace_toml import demo_workspace_path, load_workspace
from ui.app import application
from ui.session_bridge import SessionBridge
from ui.wall import WallWindow

hours = int(sys.argv[1])
clock = VirtualClock(1_790_000_000.0)
rotation_clock = VirtualClock(0.0)
session = build_session(load_workspace(demo_workspace_path()), clock, read_only=True)
app = application()
bridge = SessionBridge(session, coalesce_ms=None)
wall = WallWindow(session, bridge, rotate_s=20, monotonic=rotation_clock.now)
wall.resize(1920, 1080)
wall.show()
session.poll_sources()
peaks, pages_shown = {}, set()
for minute in range(hours * 60):
    clock.advance(60)
    rotation_clock.advance(60)
    session.poll_sources()
    bridge.tick_now()
    app.processEvents()
    pages_shown.add(wall.page_index)
    if (minute + 1) % 60 == 0:
        peaks[(minute + 1) // 60] = peak_rss_mb()
wall.close()
print(json.dumps({"peaks": peaks, "pages": len(pages_shown), "alerts": wall.alert_headlines}))
"""
)

CPU_CHILD = r"""
import json, resource, sys, time
from PySide6.QtCore import QTimer
from console.clock import SystemClock
from console.session_factory import build_session
from console.workspace_toml import demo_workspace_path, load_workspace
from ui.app import application
from ui.session_bridge import SessionBridge
from ui.wall import WallWindow

warmup_s, measure_s = float(sys.argv[1]), float(sys.argv[2])

def cpu_s():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

app = application()
session = build_session(load_workspace(demo_workspace_path()), SystemClock(), read_only=True)
bridge = SessionBridge(session)
wall = WallWindow(session, bridge, rotate_s=20)
wall.resize(1920, 1080)  # offscreen has no real screen to fill; this is the wall's size
wall.show()
QTimer.singleShot(0, bridge.start)
marks = {}

def start_measuring():
    marks["start"] = (time.monotonic(), cpu_s(), bridge.drain_count)

def stop():
    marks["stop"] = (time.monotonic(), cpu_s(), bridge.drain_count)
    app.quit()

QTimer.singleShot(int(warmup_s * 1000), start_measuring)
QTimer.singleShot(int((warmup_s + measure_s) * 1000), stop)
app.exec()
bridge.stop()
(t0, c0, d0), (t1, c1, d1) = marks["start"], marks["stop"]
print(json.dumps({
    "wall_s": t1 - t0, "cpu_s": c1 - c0, "drains": d1 - d0,
    "pages_seen": wall.page_index, "alerts": wall.alert_headlines,
}))
"""


def run_memory(hours: int = 8) -> dict:
    """Peak RSS per simulated hour of the wall, and the growth after the first hour."""
    return rss_growth(run_child(MEMORY_CHILD, hours, timeout=3600))


def run_cpu(seconds: float = 60.0, warmup_s: float = 10.0) -> dict:
    """CPU used by a live wall over ``seconds`` of wall-clock time, as a share of one core."""
    result = run_child(CPU_CHILD, warmup_s, seconds, timeout=warmup_s + seconds + 120)
    result["percent_of_core"] = 100.0 * result["cpu_s"] / result["wall_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=8, help="simulated hours of the soak")
    parser.add_argument("--seconds", type=float, default=60.0, help="wall-clock CPU run")
    args = parser.parse_args()
    memory = run_memory(args.hours)
    print(
        f"wall memory: peak RSS {memory['first_hour_mb']:.0f} MB after 1 h, "
        f"{memory['last_hour_mb']:.0f} MB after {args.hours} h "
        f"({memory['growth_mb']:+.1f} MB, goal < +50 MB); {memory['pages']} pages drawn"
    )
    cpu = run_cpu(args.seconds)
    print(
        f"wall CPU: {cpu['cpu_s']:.2f} s over {cpu['wall_s']:.0f} s of live 1 Hz updates = "
        f"{cpu['percent_of_core']:.1f}% of one core (goal < 5%); {cpu['drains']} drains"
    )


if __name__ == "__main__":
    main()
