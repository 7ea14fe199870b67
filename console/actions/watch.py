"""After an action: did it help? Compare the affected services' key metrics with the minutes before.

An ``ActionWatch`` starts when an action succeeds and lasts ``window_s``. ``report(store, now)``
compares, per affected service and key metric (Cloud Run: p95 latency and error ratio; connector:
saturation; Cloud SQL: CPU; probes: success), the mean of the ``baseline_s`` before the action
with the mean of the newest minute. A change counts when it is larger than both a relative margin
(10 %) and an absolute one per unit (50 ms, 2 percentage points, one instance), so noise reads as
"no change". The verdict: ``worse`` if any key metric got worse, else ``improved`` if any got
better, else ``no change``; ``watching`` until the window is over; ``no data`` without samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from console.metrics import Unit, metric_spec
from console.store import SeriesStore
from console.units import format_value
from console.workspace import Workspace

#: The metrics that say whether a service got better, by kind.
KEY_METRICS: dict[str, tuple[str, ...]] = {
    "cloud_run": ("latency_p95_ms", "error_ratio"),
    "vpc_connector": ("saturation",),
    "cloud_sql": ("cpu_utilization",),
    "synthetic": ("probe_success",),
}
#: Default length of the watch after an action, and of the baseline before it.
DEFAULT_WATCH_S = 300.0
DEFAULT_BASELINE_S = 300.0
#: The "after" value is the mean over the newest this-many seconds.
RECENT_S = 60.0
RELATIVE_MARGIN = 0.10
ABSOLUTE_MARGIN: dict[Unit, float] = {
    "ms": 50.0,
    "fraction": 0.02,
    "count": 1.0,
    "per_s": 0.05,
    "bytes_per_s": 1e5,
}


@dataclass(frozen=True)
class MetricChange:
    """One key metric of one service, before the action and now."""

    service: str
    metric: str
    label: str
    unit: Unit
    before: float
    after: float
    verdict: str  # "improved", "no change", "worse"

    def text(self, names: dict[str, str]) -> str:
        """``Backend latency p95 6.2 s → 310 ms``."""
        before = format_value(self.before, self.unit)
        after = format_value(self.after, self.unit)
        return f"{names.get(self.service, self.service)} {self.label.lower()} {before} → {after}"


@dataclass(frozen=True)
class WatchReport:
    """How the affected services compare with before the action, so far or at the end."""

    verdict: str  # "watching", "improved", "no change", "worse", "no data"
    changes: tuple[MetricChange, ...]
    elapsed_s: float
    window_s: float
    finished: bool

    @property
    def remaining_s(self) -> float:
        """Seconds left in the watch window."""
        return max(0.0, self.window_s - self.elapsed_s)

    def summary(self, names: dict[str, str], limit: int = 4) -> str:
        """The verdict with the changes that matter most (worse first)."""
        ranked = sorted(
            self.changes, key=lambda c: {"worse": 0, "improved": 1, "no change": 2}[c.verdict]
        )
        parts = [c.text(names) for c in ranked if c.verdict != "no change"][:limit]
        verdict = self.verdict.upper() if self.verdict == "worse" else self.verdict
        return f"{verdict}: {'; '.join(parts)}" if parts else verdict


def _mean(store: SeriesStore, key: tuple[str, str], t0: float, t1: float) -> float | None:
    _, values = store.window(key, t0, t1)
    values = values[~np.isnan(values)] if len(values) else values
    return float(values.mean()) if len(values) else None


def compare_metric(
    service: str,
    metric: str,
    unit: Unit,
    label: str,
    higher_is_worse: bool,
    before: float,
    after: float,
) -> MetricChange:
    """Whether ``after`` is better, worse or the same as ``before`` beyond the noise margins."""
    margin = max(RELATIVE_MARGIN * abs(before), ABSOLUTE_MARGIN.get(unit, 0.0))
    delta = after - before
    if abs(delta) <= margin:
        verdict = "no change"
    elif (delta > 0) == higher_is_worse:
        verdict = "worse"
    else:
        verdict = "improved"
    return MetricChange(service, metric, label, unit, before, after, verdict)


@dataclass
class ActionWatch:
    """The watch after one action: which services, from when, for how long."""

    action_id: str
    services: tuple[str, ...]
    started_at: float
    window_s: float = DEFAULT_WATCH_S
    baseline_s: float = DEFAULT_BASELINE_S
    final: WatchReport | None = field(default=None)

    def report(self, workspace: Workspace, store: SeriesStore, now: float) -> WatchReport:
        """The comparison at ``now`` (final once the window is over; then it stays the same)."""
        if self.final is not None:
            return self.final
        elapsed = max(0.0, now - self.started_at)
        finished = elapsed >= self.window_s
        end = min(now, self.started_at + self.window_s)
        changes: list[MetricChange] = []
        for sid in self.services:
            service = workspace.services.get(sid)
            if service is None:
                continue
            for metric in KEY_METRICS.get(service.kind, ()):
                spec = metric_spec(service.kind, metric)
                if spec is None:
                    continue
                key = (sid, metric)
                before = _mean(store, key, self.started_at - self.baseline_s, self.started_at)
                after = _mean(store, key, max(self.started_at, end - RECENT_S), end)
                if before is None or after is None:
                    continue
                changes.append(
                    compare_metric(
                        sid, metric, spec.unit, spec.label, spec.higher_is_worse, before, after
                    )
                )
        verdicts = {c.verdict for c in changes}
        if not changes:
            verdict = "no data"
        elif not finished:
            verdict = "watching"
        elif "worse" in verdicts:
            verdict = "worse"
        elif "improved" in verdicts:
            verdict = "improved"
        else:
            verdict = "no change"
        report = WatchReport(verdict, tuple(changes), elapsed, self.window_s, finished)
        if finished:
            self.final = report
        return report
