"""How a benchmark measures in a fresh Python process, and how it sums up what it measured.

- ``child_env`` / ``run_child``: run ``python -c CODE ARGS…`` offscreen (unless a Qt platform is
  set) and read the JSON object the child prints on its last line.
- ``FIRST_PAINT_HOOK`` / ``time_to_first_paint``: code a child starts with to print "painted"
  once the first paint pass of its window has finished, and the seconds from spawn to that line.
- ``PEAK_RSS_CODE`` / ``rss_growth``: a child's ``peak_rss_mb()`` (VmHWM), and the growth of the
  peaks it reports per simulated hour from the first hour to the last.
- ``TICK_GAPS_CODE`` / ``tick_gaps``: a child's ``run_for`` and ``gaps_while`` (the gaps between
  the ticks of a timer on the GUI thread), and their worst and p99; ``percentile``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Child code: ``_FirstPaint`` (an application event filter) prints "painted" and ends the process
#: once the window's first paint pass has finished.
FIRST_PAINT_HOOK = """
import os
from PySide6.QtCore import QEvent, QObject, QTimer
class _FirstPaint(QObject):
    # The first paint event starts the window's first paint pass; a zero timer fires once that
    # pass (every widget of the window) has finished.
    seen = False
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            QTimer.singleShot(0, self.done)
        return False
    def done(self):
        print("painted", flush=True)
        os._exit(0)
"""

#: Child code: ``peak_rss_mb()``, the process's peak resident memory so far (Linux VmHWM), in MB.
PEAK_RSS_CODE = """
def peak_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
"""


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment for a child: Qt offscreen unless a platform is set, ``extra``."""
    platform = os.environ.get("QT_QPA_PLATFORM", "offscreen")
    return {**os.environ, "QT_QPA_PLATFORM": platform, **extra}


def run_child(
    code: str,
    *args: object,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """Run ``python -c code args…`` and return the JSON object on the last line it printed.

    Raises ``RuntimeError`` with the end of its stderr when it fails, and
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds.
    """
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        env=child_env() if env is None else env,
        cwd=cwd,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the child exited with {result.returncode}: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def time_to_first_paint(code: str, *args: object, timeout: float = 120.0) -> float:
    """Seconds from spawning ``python -c code args…`` (which prints "painted", e.g. through
    ``FIRST_PAINT_HOOK``) to that line."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.wait(timeout=timeout)
    if line.strip() != "painted":
        raise RuntimeError(f"the process ended before painting (exit {proc.returncode})")
    return elapsed


def rss_growth(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` (with ``peaks``: peak RSS in MB by simulated hour) plus ``first_hour_mb``,
    ``last_hour_mb`` and ``growth_mb`` from the one to the other."""
    peaks = {int(hour): mb for hour, mb in result["peaks"].items()}
    first, last = peaks[1], peaks[max(peaks)]
    return {**result, "first_hour_mb": first, "last_hour_mb": last, "growth_mb": last - first}


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value at rank ``fraction`` (0…1) of ``values`` sorted, the nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def tick_gaps(gaps: Sequence[float]) -> dict[str, float]:
    """The worst and p99 gap (ms) between timer ticks given in seconds, and how many there were."""
    return {
        "worst_ms": 1000 * max(gaps),
        "p99_ms": 1000 * percentile(gaps, 0.99),
        "ticks": len(gaps),
    }


#: Child code, run once ``app`` (the QApplication) and ``tick_ms`` are set: ``run_for(duration,
#: tick=None)`` runs the event loop for ``duration`` s, calling ``tick`` every ``tick_ms`` ms
#: meanwhile; ``gaps_while(duration)`` returns the seconds between those ticks (the stalls);
#: ``bare_window_gaps(settle, duration)`` the same over a bare shown window (the baseline).
TICK_GAPS_CODE = """
import time
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QWidget


def run_for(duration, tick=None):
    # A local event loop, not app.exec()/app.quit(): in Qt 6 quitting the application first
    # closes every window, so the next phase would measure a closed (torn-down) window.
    timer = QTimer()
    timer.setInterval(tick_ms)
    if tick is not None:
        timer.timeout.connect(tick)
        timer.start()
    loop = QEventLoop()
    QTimer.singleShot(int(duration * 1000), loop.quit)
    loop.exec()
    timer.stop()


def gaps_while(duration):
    gaps, last = [], [None]

    def tick():
        now = time.perf_counter()
        if last[0] is not None:
            gaps.append(now - last[0])
        last[0] = now

    run_for(duration, tick)
    return gaps


def bare_window_gaps(settle, duration):
    bare = QWidget()
    bare.resize(1600, 1000)
    bare.show()
    run_for(settle)
    gaps = gaps_while(duration)
    bare.close()
    return gaps
"""
