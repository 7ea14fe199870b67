"""Recovery criteria: rules over series, probes and health, each held for a sustain period.

A criterion (``[[criteria]]``, model ``console.workspace.CriterionSpec``) is one of:

- a **series rule**: every named series compared with a limit (``auth.latency_p95_ms < 2 s``;
  ``< degraded`` uses each series' degraded threshold);
- a **probe rule**: every run of the probe passes (its ``probe_success`` ≥ 100 %);
- a **health rule**: the named services are ``ok`` (or ``not failing``) by the workspace's
  thresholds at every sample.

``RecoveryBoard.evaluate`` runs at the end of every session drain (``Session.add_evaluator``
through ``console.workflow``). It scans every sample that arrived since the previous evaluation,
so a breach between two drains is never missed, and keeps per criterion:

- **not yet measurable**: a series has no data, or none fresh enough (older than its source's
  delay and margin, a probe's interval plus its timeout); a health rule over a service that is
  ``unknown`` or ``stale``;
- **not met**, either *breached* (the condition is false now; ``since`` = when the current breach
  began) or *holding* (true since ``holding_since``, but not yet for ``sustain``; ``remaining_s``);
- **met**: the condition held without a single breaching sample for ``sustain``.

Any breaching sample restarts the sustain timer; losing fresh data does too. "Recovered" is
declared only when every criterion is met. Timeline entries (kind ``criterion``) mark a criterion
becoming met and a met criterion being lost; kind ``recovery`` marks recovery declared and lost.
All times come from the samples and the ``now`` it is given (the session clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from console.durations import format_duration
from console.health import HealthReport
from console.metrics import MetricSpec
from console.sources import SeriesKey
from console.store import SeriesStore
from console.timeline import TimelineEntry
from console.units import format_value
from console.workspace import CriterionSpec, Workspace

CriterionState = Literal["met", "not_met", "unmeasurable"]

#: Extra seconds beyond a probe's interval and timeout before its last result counts as stale.
PROBE_STALE_MARGIN_S = 15.0

_OPERATORS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


@dataclass(frozen=True)
class CriterionStatus:
    """Where one criterion stands at ``t``."""

    spec: CriterionSpec
    state: CriterionState
    t: float
    #: When the current state began: met since, breached since, holding since, unmeasurable since.
    since: float | None
    #: When the condition started holding without a breach (None unless holding or met).
    holding_since: float | None
    #: Sustain time still needed while holding; 0 when met; None otherwise.
    remaining_s: float | None
    #: What the numbers say, for people ("Auth latency p95 4.3 s, needs < 2.0 s").
    detail: str

    @property
    def holding(self) -> bool:
        """True when the condition holds now but the sustain period has not passed yet."""
        return self.state == "not_met" and self.holding_since is not None

    @property
    def word(self) -> str:
        """``MET``, ``HOLDING``, ``NOT MET`` or ``NOT YET MEASURABLE``."""
        if self.state == "met":
            return "MET"
        if self.state == "unmeasurable":
            return "NOT YET MEASURABLE"
        return "HOLDING" if self.holding else "NOT MET"


@dataclass(frozen=True)
class RecoveryVerdict:
    """Recovered or not: every criterion met, and since when."""

    recovered: bool
    met: int
    total: int
    since: float | None

    def text(self) -> str:
        """``RECOVERED`` or ``NOT RECOVERED: 2 of 5 criteria met``."""
        if not self.total:
            return "no recovery criteria declared"
        if self.recovered:
            return f"RECOVERED: all {self.total} criteria met"
        return f"NOT RECOVERED: {self.met} of {self.total} criteria met"


@dataclass(frozen=True)
class _Check:
    """One series and what each of its samples must satisfy."""

    key: SeriesKey
    label: str
    spec: MetricSpec
    comparison: str
    limit: float
    #: Seconds after which its newest sample is stale (None: judged by health instead).
    stale_after_s: float | None
    #: The probe's name when the series is a probe's.
    probe_name: str = ""

    def ok(self, values: np.ndarray) -> np.ndarray:
        """Which ``values`` satisfy the check; NaN (no measurement that second) is no breach."""
        with np.errstate(invalid="ignore"):
            good = _OPERATORS[self.comparison](values, self.limit)
        return good | np.isnan(values)

    def describe(self, value: float) -> str:
        """Why ``value`` breaches: ``Auth latency p95 12.4 s, needs < 2.0 s``."""
        if self.probe_name and self.spec.name == "probe_success":
            return f"{self.probe_name}: the last run failed"
        if self.probe_name and self.spec.name == "probe_events":
            needs = f"needs {self.comparison} {self.limit:g}"
            return f"{self.probe_name}: {value:g} events arrived, {needs}"
        return (
            f"{self.label} {format_value(value, self.spec.unit)}, needs {self.comparison} "
            f"{format_value(self.limit, self.spec.unit)}"
        )


class _Tracker:
    """The running state of one criterion between evaluations."""

    def __init__(self, spec: CriterionSpec, checks: list[_Check]) -> None:
        self.spec = spec
        self.checks = checks
        self.scanned: dict[SeriesKey, float] = {}
        self.state: CriterionState | None = None
        self.since: float | None = None
        self.holding_since: float | None = None
        self.breach_since: float | None = None
        self.status: CriterionStatus | None = None


class RecoveryBoard:
    """Every recovery criterion of a workspace, evaluated against the session's store.

    Not thread-safe: ``evaluate`` and the readers run on the session's draining thread (the GUI
    thread in the window).
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        probes = {probe.id: probe for probe in workspace.probes}
        self._trackers: list[_Tracker] = []
        for spec in workspace.criteria:
            self._trackers.append(_Tracker(spec, self._checks(spec, probes)))
        self._recovered_since: float | None = None
        self._evaluated = False

    def _checks(self, spec: CriterionSpec, probes: Mapping) -> list[_Check]:
        workspace = self.workspace
        checks: list[_Check] = []
        if spec.health is not None:
            for sid in spec.services:
                service = workspace.services[sid]
                for metric, metric_spec in service.metrics().items():
                    threshold = workspace.threshold(sid, metric)
                    if threshold is None:
                        continue
                    limit = threshold.degraded if spec.health == "ok" else threshold.failing
                    if limit is None and spec.health == "ok":
                        limit = threshold.failing
                    if limit is None:
                        continue
                    comparison = "<" if metric_spec.higher_is_worse else ">"
                    label = f"{service.name} {metric_spec.label.lower()}"
                    checks.append(
                        _Check((sid, metric), label, metric_spec, comparison, limit, None)
                    )
            return checks
        for key, limit in zip(spec.series, spec.limits, strict=True):
            owner, metric = key
            if owner in workspace.services:
                service = workspace.services[owner]
                metric_spec = service.metrics()[metric]
                label = f"{service.name} {metric_spec.label.lower()}"
                stale = None  # judged with the session's per-service limits at evaluation
            else:
                probe = probes[owner]
                metric_spec = probe.metrics()[metric]
                label = f"{probe.name} {metric_spec.label.lower()}"
                stale = probe.interval_s + probe.timeout_s + PROBE_STALE_MARGIN_S
            probe_name = "" if owner in workspace.services else probes[owner].name
            checks.append(
                _Check(key, label, metric_spec, spec.comparison, limit, stale, probe_name)
            )
        return checks

    # -- evaluation ------------------------------------------------------------------------------

    def evaluate(
        self,
        store: SeriesStore,
        health: HealthReport,
        now: float,
        stale_after: Mapping[str, float],
    ) -> list[TimelineEntry]:
        """Scan what arrived since the last call; returns the timeline entries of changes."""
        entries: list[TimelineEntry] = []
        for tracker in self._trackers:
            before = tracker.status
            status = self._evaluate_one(tracker, store, health, now, stale_after)
            tracker.status = status
            entry = _change_entry(before, status)
            if entry is not None:
                entries.append(entry)
        verdict_before = self._recovered_since is not None
        statuses = self.statuses()
        recovered = bool(statuses) and all(s.state == "met" for s in statuses)
        if recovered and not verdict_before:
            self._recovered_since = max((s.since or now) for s in statuses)
            entries.append(
                TimelineEntry(
                    self._recovered_since,
                    "recovery",
                    f"RECOVERED: all {len(statuses)} recovery criteria met",
                    {"recovered": True, "criteria": [s.spec.id for s in statuses]},
                )
            )
        elif not recovered and verdict_before:
            self._recovered_since = None
            lost = [s.spec.id for s in statuses if s.state != "met"]
            titles = "; ".join(s.spec.title for s in statuses if s.state != "met")
            entries.append(
                TimelineEntry(
                    now,
                    "recovery",
                    f"recovery lost: {titles}",
                    {"recovered": False, "criteria": lost},
                )
            )
        self._evaluated = True
        return entries

    def _evaluate_one(
        self,
        tracker: _Tracker,
        store: SeriesStore,
        health: HealthReport,
        now: float,
        stale_after: Mapping[str, float],
    ) -> CriterionStatus:
        spec = tracker.spec
        missing = self._unmeasurable_reason(tracker, store, health, now, stale_after)
        if missing:
            for check in tracker.checks:  # what arrived meanwhile is judged once data is fresh
                latest = store.latest(check.key)
                if latest is not None:
                    tracker.scanned[check.key] = latest[0]
            if tracker.state != "unmeasurable":
                tracker.state, tracker.since = "unmeasurable", now
            tracker.holding_since = tracker.breach_since = None
            return CriterionStatus(spec, "unmeasurable", now, tracker.since, None, None, missing)

        last_breach: float | None = None
        first_new: list[float] = []
        breaching_now: list[tuple[_Check, float, float]] = []  # check, value, run start
        for check in tracker.checks:
            ring = store.ring(check.key)
            if ring is None or not len(ring):
                continue  # a health rule's metric without data: health judged it measurable
            scanned = tracker.scanned.get(check.key)
            t, v = ring.window(-np.inf if scanned is None else np.nextafter(scanned, np.inf), now)
            if not len(t):
                latest = ring.latest()
                if latest is not None and not check.ok(np.array([latest[1]]))[0]:
                    breaching_now.append((check, latest[1], tracker.breach_since or latest[0]))
                continue
            tracker.scanned[check.key] = float(t[-1])
            first_new.append(float(t[0]))
            good = check.ok(v)
            bad = np.flatnonzero(~good)
            if len(bad):
                breach_t = float(t[bad[-1]])
                last_breach = breach_t if last_breach is None else max(last_breach, breach_t)
            if not good[-1]:
                oks = np.flatnonzero(good)
                run_start = float(t[oks[-1] + 1]) if len(oks) else float(t[0])
                breaching_now.append((check, float(v[-1]), run_start))

        if breaching_now:
            if tracker.breach_since is None or tracker.state != "not_met" or tracker.holding_since:
                tracker.breach_since = min(start for _, _, start in breaching_now)
            tracker.holding_since = None
            tracker.state, tracker.since = "not_met", tracker.breach_since
            worst = breaching_now[0]
            detail = worst[0].describe(worst[1])
            if len(breaching_now) > 1:
                detail += f" (+{len(breaching_now) - 1} more)"
            return CriterionStatus(spec, "not_met", now, tracker.since, None, None, detail)

        tracker.breach_since = None
        if last_breach is not None:
            tracker.holding_since = self._first_sample_after(tracker, store, last_breach, now)
        elif tracker.holding_since is None:
            tracker.holding_since = max(first_new) if first_new else now
        held = now - tracker.holding_since
        if held >= spec.sustain_s:
            met_at = tracker.holding_since + spec.sustain_s
            if tracker.state != "met":
                tracker.state, tracker.since = "met", met_at
            detail = f"held for {format_duration(held)}" if spec.sustain_s else "holds"
            return CriterionStatus(
                spec, "met", now, tracker.since, tracker.holding_since, 0.0, detail
            )
        tracker.state, tracker.since = "not_met", tracker.holding_since
        remaining = spec.sustain_s - held
        detail = (
            f"holding for {format_duration(held)} of {format_duration(spec.sustain_s)}; "
            f"{format_duration(remaining)} to go"
        )
        return CriterionStatus(
            spec, "not_met", now, tracker.since, tracker.holding_since, remaining, detail
        )

    @staticmethod
    def _first_sample_after(
        tracker: _Tracker, store: SeriesStore, breach_t: float, now: float
    ) -> float:
        """The first sample of any of the criterion's series after the last breach."""
        after: list[float] = []
        for check in tracker.checks:
            ring = store.ring(check.key)
            if ring is None:
                continue
            t, _ = ring.window(breach_t, now)
            later = t[t > breach_t]
            if len(later):
                after.append(float(later[0]))
        return min(after) if after else now

    def _unmeasurable_reason(
        self,
        tracker: _Tracker,
        store: SeriesStore,
        health: HealthReport,
        now: float,
        stale_after: Mapping[str, float],
    ) -> str:
        spec = tracker.spec
        if spec.health is not None:
            services = self.workspace.services
            blind = [
                services[sid].name
                for sid in spec.services
                if health.services[sid].status in ("unknown", "stale")
            ]
            return f"no fresh data for {', '.join(blind)}" if blind else ""
        for check in tracker.checks:
            latest = store.latest(check.key)
            if latest is None:
                return f"no data yet for {check.label}"
            limit = check.stale_after_s
            if limit is None:
                limit = stale_after.get(check.key[0], PROBE_STALE_MARGIN_S)
            if now - latest[0] > limit:
                age = format_duration(now - latest[0])
                return f"no fresh data for {check.label} (newest {age} old)"
        return ""

    # -- reading ---------------------------------------------------------------------------------

    def statuses(self) -> list[CriterionStatus]:
        """Every criterion's status as of the last evaluation, in workspace order."""
        return [t.status for t in self._trackers if t.status is not None]

    def status(self, criterion_id: str) -> CriterionStatus | None:
        """The status of one criterion, or None before the first evaluation."""
        for tracker in self._trackers:
            if tracker.spec.id == criterion_id:
                return tracker.status
        return None

    def is_met(self, criterion_id: str) -> bool:
        """True when the criterion is met as of the last evaluation."""
        status = self.status(criterion_id)
        return status is not None and status.state == "met"

    def verdict(self) -> RecoveryVerdict:
        """Recovered (every criterion met) or not, and how many are met."""
        statuses = self.statuses()
        met = sum(1 for s in statuses if s.state == "met")
        total = len(self._trackers)
        recovered = bool(total) and met == total
        return RecoveryVerdict(recovered, met, total, self._recovered_since if recovered else None)


def _change_entry(before: CriterionStatus | None, after: CriterionStatus) -> TimelineEntry | None:
    """An entry when a criterion becomes met, or a met one is lost."""
    fields = {
        "criterion": after.spec.id,
        "state": after.state,
        "detail": after.detail,
        "holding_since": after.holding_since,
    }
    if after.state == "met" and (before is None or before.state != "met"):
        return TimelineEntry(
            after.since or after.t, "criterion", f"✔ criterion met: {after.spec.title}", fields
        )
    if before is not None and before.state == "met" and after.state != "met":
        was = format_duration(after.t - (before.since or after.t))
        why = "breached" if after.state == "not_met" else "no longer measurable"
        return TimelineEntry(
            after.t,
            "criterion",
            f"✖ criterion {why} after {was} met: {after.spec.title} ({after.detail})",
            fields,
        )
    return None
