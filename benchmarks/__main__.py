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

from benchmarks import (
    bench_chart_grid,
    bench_cold_start,
    bench_event_loop,
    bench_gcp,
    bench_ingest,
    bench_memory,
    bench_wall,
)


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
            f"{start['ratio']:.2f}x (goal ≤ 1.25x)",
        )
    )
    for grid in bench_chart_grid.run(updates=30 if quick else 60):
        rows.append(
            (
                f"chart grid update, {grid.range_s / 3600:g} h visible, "
                f"{grid.charts} charts/{grid.curves} curves",
                f"{grid.console_median:.1f} ms (p95 {grid.console_p95:.1f})",
                f"plain pyqtgraph {grid.plain_median:.1f} ms (p95 {grid.plain_p95:.1f})",
                f"{grid.ratio:.2f}x"
                + (" (goal ≤ 0.33x)" if grid.range_s == bench_chart_grid.RANGES_S[0] else ""),
            )
        )
    loop = bench_event_loop.run(seconds=10 if quick else 20)
    rows.append(
        (
            "event loop: worst gap, 10 ms timer, demo live",
            f"{loop['live']['worst_ms']:.0f} ms (p99 {loop['live']['p99_ms']:.0f})",
            f"bare window {loop['baseline']['worst_ms']:.0f} ms "
            f"(p99 {loop['baseline']['p99_ms']:.0f})",
            "goal ≤ 50 ms",
        )
    )
    ingest = bench_ingest.run(steps=600 if quick else 1200)
    rows.append(
        (
            "ingest through Session.drain (demo)",
            f"{ingest['session_per_s']:,.0f} samples/s",
            f"bare store {ingest['store_per_s']:,.0f} samples/s",
            f"{ingest['drain_ms']:.2f} ms per 1 s drain",
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
    wall_hours = 3 if quick else 8
    wall = bench_wall.run_memory(wall_hours)
    rows.append(
        (
            f"wall: peak RSS, {wall_hours} h demo",
            f"{wall['last_hour_mb']:.0f} MB",
            f"after 1 h {wall['first_hour_mb']:.0f} MB",
            f"{wall['growth_mb']:+.1f} MB (goal < +50 MB)",
        )
    )
    wall_cpu = bench_wall.run_cpu(seconds=30 if quick else 60)
    rows.append(
        (
            "wall: CPU, live 1 Hz updates",
            f"{wall_cpu['percent_of_core']:.1f}% of a core",
            f"{wall_cpu['cpu_s']:.2f} s CPU in {wall_cpu['wall_s']:.0f} s",
            "goal < 5%",
        )
    )
    gcp = bench_gcp.run(seconds=10 if quick else 15)
    for calls in gcp["calls"]:
        rows.append(
            (
                f"Google APIs: calls per poll cycle, {calls['services']} services",
                f"{calls['monitoring']} ListTimeSeries",
                f"{calls['queries']} metric queries",
                f"Logging {calls['logging']}, Run {calls['run']}, VPC {calls['vpcaccess']}",
            )
        )
    gcp_gui = gcp["gui"]
    rows.append(
        (
            f"event loop: worst gap, every Google RPC delayed {bench_gcp.DELAY_S:g} s",
            f"{gcp_gui['delayed']['worst_ms']:.0f} ms (p99 {gcp_gui['delayed']['p99_ms']:.0f})",
            f"bare window {gcp_gui['baseline']['worst_ms']:.0f} ms",
            "goal ≤ 50 ms",
        )
    )
    rows.append(
        (
            "log entry on the tail → log table",
            f"median {gcp_gui['log_median_ms']:.0f} ms",
            f"worst {gcp_gui['log_worst_ms']:.0f} ms of 10",
            "goal ≤ 1 s",
        )
    )
    recorder = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_recorder", "--steps", "1500" if quick else "3000"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    recorder_stall, snapshot_open = (
        subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}", *arguments],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for name, arguments in (
            ("bench_gui_stall", ["--seconds", "10" if quick else "20"]),
            ("bench_snapshot_open", ["--repeats", "2" if quick else "3"]),
        )
    )

    python = platform.python_version()
    print(f"machine: {platform.machine()} · {os.cpu_count()} cores · Python {python}")
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("benchmark", "measured", "baseline (same run)", "result")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print(recorder)
    print(recorder_stall)
    print(snapshot_open)


if __name__ == "__main__":
    main()
