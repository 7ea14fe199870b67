"""Which charts each kind of service gets, and how chart values are written.

This is the pure description behind the chart grid (``ui.chart_grid``): chart titles, the
canonical metrics each chart plots (``console.metrics``), short curve labels, the unit of the
chart's axis and how its Y range starts. It also holds the tick labels of a value axis
(fractions as %, large latencies in seconds, byte rates in kB/s or MB/s) and the Y-range
hysteresis rule, so the wall and the review mode can share them. Read-outs of single values use
``console.units.format_value``. No Qt here.

Every canonical metric of a kind appears on exactly one of that kind's charts; the tests check it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from console.metrics import METRICS_BY_KIND, ServiceKind, Unit


@dataclass(frozen=True)
class CurveSpec:
    """One curve of a chart: the canonical metric it plots and its short legend label."""

    metric: str
    label: str


@dataclass(frozen=True)
class ChartSpec:
    """One chart of a service row.

    ``unit`` is the unit shared by every curve of the chart. The Y axis always starts at 0; its
    top is at least ``min_top`` (so a flat line near zero is not magnified noise) or exactly
    ``fixed_top`` when set (utilizations: 0–100 %), growing beyond it only if data does.
    """

    title: str
    unit: Unit
    curves: tuple[CurveSpec, ...]
    min_top: float = 1.0
    fixed_top: float | None = None

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics plotted, in curve order."""
        return tuple(curve.metric for curve in self.curves)


def _chart(title: str, unit: Unit, *curves: tuple[str, str], **options: float) -> ChartSpec:
    return ChartSpec(title, unit, tuple(CurveSpec(m, label) for m, label in curves), **options)


#: Cloud Run and Cloud SQL both report CPU and memory utilization; one chart serves both.
_CPU_MEMORY = _chart(
    "CPU / memory",
    "fraction",
    ("cpu_utilization", "CPU"),
    ("memory_utilization", "mem"),
    fixed_top=1.0,
)

CHARTS_BY_KIND: dict[ServiceKind, tuple[ChartSpec, ...]] = {
    "cloud_run": (
        _chart(
            "Latency",
            "ms",
            ("latency_p50_ms", "p50"),
            ("latency_p95_ms", "p95"),
            ("latency_p99_ms", "p99"),
            min_top=100.0,
        ),
        _chart(
            "Requests / 5xx",
            "per_s",
            ("requests_per_s", "req"),
            ("errors_5xx_per_s", "5xx"),
            min_top=1.0,
        ),
        _chart("Error ratio", "fraction", ("error_ratio", "5xx share"), min_top=0.01),
        _chart("5xx / min (logs)", "count", ("errors_5xx_per_min_logs", "5xx/min"), min_top=5.0),
        _chart(
            "Instances",
            "count",
            ("instances_active", "active"),
            ("instances_idle", "idle"),
            min_top=2.0,
        ),
        _CPU_MEMORY,
    ),
    "vpc_connector": (
        _chart(
            "Saturation / CPU",
            "fraction",
            ("saturation", "saturation"),
            ("cpu_utilization", "CPU"),
            fixed_top=1.0,
        ),
        _chart("Instances", "count", ("instances", "instances"), min_top=2.0),
        _chart(
            "Throughput",
            "bytes_per_s",
            ("throughput_sent_bps", "sent"),
            ("throughput_received_bps", "recv"),
            min_top=1000.0,
        ),
    ),
    "cloud_sql": (
        _CPU_MEMORY,
        _chart("Connections", "count", ("connections", "connections"), min_top=10.0),
    ),
    "synthetic": (
        _chart("Probe success", "fraction", ("probe_success", "success"), fixed_top=1.0),
        _chart("Probe latency", "ms", ("probe_latency_ms", "latency"), min_top=100.0),
    ),
}


def charts_for(kind: ServiceKind) -> tuple[ChartSpec, ...]:
    """The charts a service of ``kind`` shows, left to right."""
    return CHARTS_BY_KIND[kind]


def unplotted_metrics(kind: ServiceKind) -> set[str]:
    """Canonical metrics of ``kind`` that no chart plots (empty when the description is whole)."""
    plotted = {m for chart in CHARTS_BY_KIND[kind] for m in chart.metrics}
    return set(METRICS_BY_KIND[kind]) - plotted


# -- text ------------------------------------------------------------------------------------

_BYTE_PREFIXES = ((1e9, "GB/s"), (1e6, "MB/s"), (1e3, "kB/s"), (1.0, "B/s"))


def _decimals_for(spacing: float) -> int:
    """Decimals needed to tell ticks ``spacing`` apart (0 for 1, 5, 20; 1 for 0.5; 2 for 0.25)."""
    if spacing <= 0 or not math.isfinite(spacing):
        return 0
    for decimals in range(4):
        scaled = spacing * 10**decimals
        if abs(scaled - round(scaled)) < 1e-6 * max(1.0, scaled):
            return decimals
    return 4


def axis_tick_labels(values: Sequence[float], spacing: float, unit: Unit) -> list[str]:
    """Tick labels for a value axis, in one scale per axis (all ticks in s, or all in ms)."""
    if not values:
        return []
    top = max(abs(v) for v in values)
    if unit == "fraction":
        decimals = _decimals_for(spacing * 100)
        return [f"{v * 100:.{decimals}f}%" for v in values]
    if unit == "ms" and top >= 1000:
        decimals = _decimals_for(spacing / 1000)
        return [f"{v / 1000:.{decimals}f} s" if v else "0" for v in values]
    if unit == "bytes_per_s":
        scale, suffix = next(((s, p) for s, p in _BYTE_PREFIXES if top >= s), (1.0, "B/s"))
        decimals = _decimals_for(spacing / scale)
        return [f"{v / scale:.{decimals}f} {suffix}" if v else "0" for v in values]
    decimals = _decimals_for(spacing)
    suffix = " ms" if unit == "ms" else ""
    return [f"{v:.{decimals}f}{suffix}" if v else "0" for v in values]


#: Time-axis tick steps (seconds), finest first: 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12, 24 h.
TIME_TICK_STEPS_S: tuple[float, ...] = (
    60.0,
    120.0,
    300.0,
    600.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    10800.0,
    21600.0,
    43200.0,
    86400.0,
)


def time_ticks(
    t0: float, t1: float, width_px: float, utc_offset_s: float = 0.0, min_spacing_px: float = 50.0
) -> tuple[float, list[float]]:
    """Tick step and tick times for a time axis from ``t0`` to ``t1`` drawn ``width_px`` wide.

    Ticks fall on round local times (every 15 min at :00, :15, :30, :45) at least
    ``min_spacing_px`` apart; ``utc_offset_s`` is the local zone's offset east of UTC.
    """
    if width_px <= 0 or t1 <= t0:
        return TIME_TICK_STEPS_S[0], []
    wanted = (t1 - t0) * min_spacing_px / width_px
    step = next((s for s in TIME_TICK_STEPS_S if s >= wanted), TIME_TICK_STEPS_S[-1])
    first = math.ceil((t0 + utc_offset_s) / step) * step - utc_offset_s
    count = math.floor((t1 - first) / step) + 1
    return step, [first + i * step for i in range(max(0, count))]


# -- Y range ---------------------------------------------------------------------------------

_NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)

#: Headroom above the data when the range is chosen, so the top curve does not touch the frame.
Y_HEADROOM = 1.1
#: The range shrinks only when everything shown falls below this share of it.
Y_SHRINK_BELOW = 0.5


def nice_ceiling(value: float) -> float:
    """The smallest "round" number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ) ≥ ``value``."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    base = 10.0**exponent
    for step in _NICE_STEPS:
        candidate = step * base
        if candidate >= value * (1 - 1e-9):
            return candidate
    return 10.0 * base


def next_y_top(spec: ChartSpec, current_top: float | None, needed: float) -> float:
    """The Y-axis top after seeing ``needed`` (the largest value that must be visible).

    Hysteresis keeps the axis (and its tick labels) still: it grows at once when data exceeds it,
    and shrinks only when everything falls under ``Y_SHRINK_BELOW`` of it.
    """
    if needed != needed:  # NaN: nothing visible
        needed = 0.0
    if spec.fixed_top is not None and needed <= spec.fixed_top:
        return spec.fixed_top
    target = nice_ceiling(max(needed, spec.min_top) * Y_HEADROOM)
    if current_top is None:
        return target
    if needed > current_top or max(needed, spec.min_top) < Y_SHRINK_BELOW * current_top:
        return target
    return current_top
