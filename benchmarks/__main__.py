"""Run every benchmark and print one table: ``.venv/bin/python -m benchmarks [--quick]``.

Each figure is measured against a baseline in the same run (the bare Qt floor, the first hour,
the session without the recorder), because these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys

from benchmarks import bench_cold_start, bench_memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (6 h memory soak)")
    quick = parser.parse_args().quick
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rows: list[tuple[str, str, str, str]] = []

    start = bench_cold_start.run(repeats=3 if quick else 5)
    rows.append(
        (
            "cold start to first full paint",
            f"{start['console_s']:.2f} s",
            f"bare Qt+pyqtgraph floor {start['floor_s']:.2f} s",
            f"{start['ratio']:.2f}x (goal ≤ 1.5 s)",
        )
    )
    hours = 6 if quick else 24
    for with_window in (False, True):
        mem = bench_memory.run(hours, with_window)
        rows.append(
            (
                f"peak RSS, {hours} h demo, {'window' if with_window else 'headless'}",
                f"{mem['last_hour_mb']:.0f} MB",
                f"after 1 h {mem['first_hour_mb']:.0f} MB",
                f"{mem['growth_mb']:+.1f} MB (goal < +100 MB)",
            )
        )
    recorder = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_recorder", "--steps", "1500" if quick else "3000"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    python = platform.python_version()
    print(f"machine: {platform.machine()} · {os.cpu_count()} cores · Python {python}")
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("benchmark", "measured", "baseline (same run)", "result")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print(recorder)


if __name__ == "__main__":
    main()
