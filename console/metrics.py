"""Canonical metric names, their units and which kind of service reports them.

Every source (the simulation, Cloud Monitoring, probes) writes series under these names, so the
store, health rules and charts never need to know where a number came from. Utilizations and
ratios are fractions 0–1, latencies milliseconds, rates per second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ServiceKind = Literal["cloud_run", "vpc_connector", "cloud_sql", "synthetic"]
SERVICE_KINDS: tuple[ServiceKind, ...] = ("cloud_run", "vpc_connector", "cloud_sql", "synthetic")

Unit = Literal["per_s", "fraction", "ms", "count", "bytes_per_s"]

#: How each unit is written in a workspace threshold and on a chart axis.
UNIT_LABELS: dict[Unit, str] = {
    "per_s": "/s",
    "fraction": "%",
    "ms": "ms",
    "count": "",
    "bytes_per_s": "B/s",
}


@dataclass(frozen=True)
class MetricSpec:
    """One canonical metric: its name, unit, a human label and whether higher is worse."""

    name: str
    unit: Unit
    label: str
    higher_is_worse: bool = True
    #: Seconds between two samples of a metric reported per period (a count per minute: 60):
    #: data that old is on time, so it adds to the stale limit.
    period_s: float = 0.0


def _specs(*specs: MetricSpec) -> dict[str, MetricSpec]:
    return {spec.name: spec for spec in specs}


METRICS_BY_KIND: dict[ServiceKind, dict[str, MetricSpec]] = {
    "cloud_run": _specs(
        MetricSpec("requests_per_s", "per_s", "Requests", higher_is_worse=False),
        MetricSpec("errors_5xx_per_s", "per_s", "5xx errors"),
        # Counted from the failing requests' log lines: seconds late instead of Monitoring's
        # minutes, a lower bound when the log tail suppresses entries.
        MetricSpec("errors_5xx_per_min_logs", "count", "5xx per min (logs)", period_s=60.0),
        MetricSpec("error_ratio", "fraction", "Error ratio"),
        MetricSpec("latency_p50_ms", "ms", "Latency p50"),
        MetricSpec("latency_p95_ms", "ms", "Latency p95"),
        MetricSpec("latency_p99_ms", "ms", "Latency p99"),
        MetricSpec("instances_active", "count", "Active instances"),
        MetricSpec("instances_idle", "count", "Idle instances", higher_is_worse=False),
        MetricSpec("cpu_utilization", "fraction", "CPU"),
        MetricSpec("memory_utilization", "fraction", "Memory"),
    ),
    "vpc_connector": _specs(
        MetricSpec("throughput_sent_bps", "bytes_per_s", "Sent", higher_is_worse=False),
        MetricSpec("throughput_received_bps", "bytes_per_s", "Received", higher_is_worse=False),
        MetricSpec("instances", "count", "Instances", higher_is_worse=False),
        MetricSpec("cpu_utilization", "fraction", "CPU"),
        MetricSpec("saturation", "fraction", "Saturation"),
    ),
    "cloud_sql": _specs(
        MetricSpec("cpu_utilization", "fraction", "CPU"),
        MetricSpec("memory_utilization", "fraction", "Memory"),
        MetricSpec("connections", "count", "Connections"),
    ),
    "synthetic": _specs(
        MetricSpec("probe_success", "fraction", "Probe success", higher_is_worse=False),
        MetricSpec("probe_latency_ms", "ms", "Probe latency"),
    ),
}


def metric_spec(kind: ServiceKind, metric: str) -> MetricSpec | None:
    """The spec of ``metric`` for a service of ``kind``, or None if that kind does not report it."""
    return METRICS_BY_KIND.get(kind, {}).get(metric)


def all_metric_names() -> set[str]:
    """Every canonical metric name of every kind."""
    return {name for specs in METRICS_BY_KIND.values() for name in specs}
