"""Cold start: process start to the main window's first paint, against the bare Qt floor.

The floor is the bare PySide6 + pyqtgraph figure of FACTS.md: a process that imports them, shows
32 plain ``PlotWidget``s of 2 curves × 3,600 points and stops when its first paint has finished.
The console's run goes through the same ``ui.app.show_live_window`` that ``run_gui`` uses, on the
demo. Each is a fresh subprocess, timed
from spawn to a line it prints from a paint-event filter; the median of several runs is reported.
Goal (issue: foundation): ≤ 1.5 s absolute; (issue: performance): ≤ 1.25× the floor.
"""

from __future__ import annotations

import statistics

from benchmarks.harness import FIRST_PAINT_HOOK, time_to_first_paint

FLOOR = (
    FIRST_PAINT_HOOK
    + """
import numpy as np
from PySide6.QtWidgets import QApplication, QGridLayout, QWidget
import pyqtgraph as pg
app = QApplication([])
window = QWidget()
grid = QGridLayout(window)
t = np.arange(3600.0)
for i in range(32):
    plot = pg.PlotWidget()
    plot.plot(t, np.sin(t / 300 + i))
    plot.plot(t, np.cos(t / 300 + i))
    grid.addWidget(plot, i // 4, i % 4)
hook = _FirstPaint()
app.installEventFilter(hook)
window.resize(1600, 1000)
window.show()
app.exec()
"""
)

CONSOLE = (
    FIRST_PAINT_HOOK
    + """
from console.clock import SystemClock
from console.session_factory import build_session
from console.workspace_toml import demo_workspace_path, load_workspace
from ui.app import application, show_live_window
app = application()
session = build_session(load_workspace(demo_workspace_path()), SystemClock())
hook = _FirstPaint()
app.installEventFilter(hook)
window, bridge = show_live_window(app, session)
app.exec()
"""
)


def run(repeats: int = 5) -> dict[str, float]:
    """Median first-paint times of the floor and the console, interleaved to share the noise."""
    time_to_first_paint(FLOOR)  # warm the file cache for both
    floor, console = [], []
    for _ in range(repeats):
        floor.append(time_to_first_paint(FLOOR))
        console.append(time_to_first_paint(CONSOLE))
    floor_s, console_s = statistics.median(floor), statistics.median(console)
    return {"floor_s": floor_s, "console_s": console_s, "ratio": console_s / floor_s}


if __name__ == "__main__":
    result = run()
    print(
        f"cold start: console {result['console_s']:.2f} s, floor {result['floor_s']:.2f} s, "
        f"ratio {result['ratio']:.2f}"
    )
