"""The Google Cloud sources against the fake servers: calls per poll, GUI stalls, log latency.

1. **API calls per poll cycle**, 3 vs 30 Cloud Run services (plus the connector and Cloud SQL):
   ``ListTimeSeries`` calls counted at the fake for one incremental Monitoring poll, and the
   Logging and Cloud Run state calls of one cycle. Goal: Monitoring calls = number of metric
   queries, whatever the number of services.
2. **GUI event-loop stall with every fake RPC delayed by 2 s**: in a subprocess, the live main
   window on a ``[gcp]`` workspace whose four fakes answer every call after 2 s; the worst gap
   between 10 ms timer ticks, against a bare window in the same process. Goal: ≤ 50 ms.
3. **Log entry → log table**: the same window with prompt fakes; an entry published on the tail,
   the time until the log table shows it (10 entries). Goal: within 1 s.

    .venv/bin/python -m benchmarks.bench_gcp [--seconds N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.harness import TICK_GAPS_CODE, child_env, run_child, tick_gaps

ROOT = Path(__file__).resolve().parent.parent
DELAY_S = 2.0
TICK_MS = 10


def calls_per_cycle(extra_services: int) -> dict[str, int]:
    """Calls each API receives in one poll cycle after the backfill."""
    from console.gcp.session_sources import build_gcp_sources
    from tests.fakes.scenario import FakeCloud, incident_workspace, seed_incident

    now = 1_764_000_000.0
    with FakeCloud() as cloud:
        seed_incident(cloud, now + 60, extra_services=extra_services)
        sources = build_gcp_sources(
            incident_workspace(cloud.endpoints(), extra_services=extra_services)
        )
        try:
            for source in sources:
                source.poll(now)
            fakes = (cloud.monitoring, cloud.logging, cloud.run)
            for fake in fakes:
                fake.reset_counts()
            cloud.vpcaccess.calls.clear()
            for source in sources:
                if source.name == "logging":
                    source.use_tail = False  # type: ignore[attr-defined]
                source.poll(now + 60)
            monitoring = next(s for s in sources if s.name == "monitoring")
            return {
                "services": 5 + extra_services,
                "queries": len(monitoring.queries),  # type: ignore[attr-defined]
                "monitoring": cloud.monitoring.calls["ListTimeSeries"],
                "logging": cloud.logging.calls["ListLogEntries"],
                "run": sum(cloud.run.calls.values()),
                "vpcaccess": sum(cloud.vpcaccess.calls.values()),
            }
        finally:
            for source in sources:
                source.close()


CHILD = (
    r"""
import json, sys, time

from console.clock import SystemClock
from console.session_factory import build_session
from tests.fakes.fake_logging import run_request_entry
from tests.fakes.scenario import PROJECT, FakeCloud, incident_workspace, seed_incident
from ui.app import application, show_live_window

seconds, delay_s, tick_ms = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
app = application()
"""
    + TICK_GAPS_CODE
    + r"""
baseline = bare_window_gaps(2.0, seconds)

result = {"baseline": baseline}
with FakeCloud() as cloud:
    seed_incident(cloud, time.time())
    for fake in (cloud.monitoring, cloud.logging, cloud.run, cloud.vpcaccess):
        fake.faults.delay(delay_s)
    session = build_session(incident_workspace(cloud.endpoints()), SystemClock())
    window, bridge = show_live_window(app, session)
    run_for(1.0)
    result["delayed"] = gaps_while(seconds)
    result["delayed_calls"] = cloud.monitoring.calls["ListTimeSeries"]
    bridge.stop()
    window.close()

with FakeCloud() as cloud:
    seed_incident(cloud, time.time())
    session = build_session(incident_workspace(cloud.endpoints()), SystemClock())
    window, bridge = show_live_window(app, session)
    table = window.log_table
    waited = time.perf_counter()
    while cloud.logging.open_tails < 1 and time.perf_counter() - waited < 30:
        run_for(0.05)
    latencies = []
    for n in range(10):
        marker = f"bench line {n}"
        sent = time.perf_counter()
        cloud.logging.publish([run_request_entry(
            project=PROJECT, service="netra-backend-staging",
            revision="netra-backend-staging-00750-69k", status=503, latency_ms=100.0,
            t=time.time(), insert_id=f"bench-{n}", message=marker)])
        while time.perf_counter() - sent < 5:
            run_for(0.002)
            if table.model.rowCount() and table.model.entry(0).message == marker:
                latencies.append(time.perf_counter() - sent)
                break
    result["log_latencies"] = latencies
    bridge.stop()
    window.close()
print(json.dumps(result))
"""
)


def gui_figures(seconds: float = 15.0) -> dict:
    """Stall with 2 s RPCs vs a bare window, and tail → table latencies, in one subprocess."""
    env = child_env(GRPC_VERBOSITY="ERROR", PYTHONPATH=str(ROOT))
    result = run_child(
        CHILD, seconds, DELAY_S, TICK_MS, timeout=seconds * 3 + 180, env=env, cwd=ROOT
    )
    latencies = sorted(result["log_latencies"])
    if len(latencies) < 10:
        raise RuntimeError(f"only {len(latencies)} of 10 tailed entries reached the table")
    return {
        "baseline": tick_gaps(result["baseline"]),
        "delayed": tick_gaps(result["delayed"]),
        "delayed_calls": result["delayed_calls"],
        "log_median_ms": 1000 * latencies[len(latencies) // 2],
        "log_worst_ms": 1000 * latencies[-1],
    }


def run(seconds: float = 15.0) -> dict:
    """Every figure of this benchmark."""
    return {
        "calls": [calls_per_cycle(0), calls_per_cycle(27)],
        "gui": gui_figures(seconds),
    }


def describe(result: dict) -> list[str]:
    """Lines for people."""
    lines = []
    for calls in result["calls"]:
        lines.append(
            f"one poll cycle, {calls['services']} services: Monitoring {calls['monitoring']} calls "
            f"for {calls['queries']} queries, Logging {calls['logging']}, Cloud Run "
            f"{calls['run']}, VPC Access {calls['vpcaccess']}"
        )
    gui = result["gui"]
    lines.append(
        f"event loop with every RPC delayed {DELAY_S:g} s: worst gap "
        f"{gui['delayed']['worst_ms']:.0f} ms (p99 {gui['delayed']['p99_ms']:.0f}), bare window "
        f"{gui['baseline']['worst_ms']:.0f} ms (p99 {gui['baseline']['p99_ms']:.0f}); "
        f"{gui['delayed_calls']} Monitoring calls answered meanwhile (goal ≤ 50 ms)"
    )
    lines.append(
        f"tail → log table: median {gui['log_median_ms']:.0f} ms, worst "
        f"{gui['log_worst_ms']:.0f} ms over 10 entries (goal ≤ 1 s)"
    )
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per stall phase")
    started = time.perf_counter()
    for line in describe(run(parser.parse_args().seconds)):
        print(line)
    print(f"({time.perf_counter() - started:.0f} s)")
