"""Health: per-service status from the latest readings, blocking along dependencies, the golden
path's first broken step and the root-cause candidate.

Everything here is a pure function of the workspace, a set of readings and a time, so the same
code serves the live session, the headless ``status`` command and (later) a review cursor.

Statuses: ``ok``, ``degraded``, ``failing`` (from thresholds), ``unknown`` (no data yet) and
``stale`` (data older than the source's known delay plus a margin). Separately, a service is
*blocked* when a dependency is failing or itself blocked; ``blocked_by`` names those dependencies.
The root-cause candidate is a failing service none of whose dependencies is failing; when there
are several, the one that blocks the most services comes first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from console.metrics import METRICS_BY_KIND
from console.sources import SeriesKey
from console.workspace import Threshold, Workspace

Status = Literal["ok", "degraded", "failing", "unknown", "stale"]
Level = Literal["ok", "degraded", "failing"]

_SEVERITY: dict[str, int] = {"ok": 0, "degraded": 1, "failing": 2}


def metric_level(value: float, threshold: Threshold, higher_is_worse: bool = True) -> Level:
    """Classify one value against its threshold. NaN counts as ``ok`` (no evidence of harm)."""
    if value != value:  # NaN
        return "ok"
    worse = (lambda v, limit: v >= limit) if higher_is_worse else (lambda v, limit: v <= limit)
    if threshold.failing is not None and worse(value, threshold.failing):
        return "failing"
    if threshold.degraded is not None and worse(value, threshold.degraded):
        return "degraded"
    return "ok"


@dataclass(frozen=True)
class MetricFinding:
    """One metric that degrades or fails its service, for the read-out ("latency p95 12.3 s")."""

    metric: str
    value: float
    level: Level
    limit: float


@dataclass(frozen=True)
class ServiceHealth:
    """The health of one service at one moment."""

    service: str
    status: Status
    #: Dependencies that are failing or blocked, in workspace order.
    blocked_by: tuple[str, ...] = ()
    #: The metrics that put the service in its status, worst first.
    findings: tuple[MetricFinding, ...] = ()
    #: Age in seconds of the newest reading of any metric, None without data.
    age_s: float | None = None

    @property
    def blocked(self) -> bool:
        """True when a dependency is failing or blocked."""
        return bool(self.blocked_by)

    @property
    def broken(self) -> bool:
        """True when the service cannot serve the journey: failing itself, or blocked."""
        return self.status == "failing" or self.blocked


@dataclass(frozen=True)
class GoldenPathStepHealth:
    """One golden-path step with the health of the service that carries it."""

    service: str
    label: str
    status: Status
    blocked_by: tuple[str, ...]

    @property
    def broken(self) -> bool:
        return self.status == "failing" or bool(self.blocked_by)


@dataclass(frozen=True)
class HealthReport:
    """Health of every service, the golden path and the root cause at time ``t``."""

    t: float
    services: dict[str, ServiceHealth]
    golden_path: tuple[GoldenPathStepHealth, ...]
    #: Service id of the first broken golden-path step, None when the path is whole.
    first_broken: str | None
    #: Failing services none of whose dependencies fail, the most blocking first.
    root_cause_candidates: tuple[str, ...]

    @property
    def root_cause(self) -> str | None:
        """The best root-cause candidate, or None."""
        return self.root_cause_candidates[0] if self.root_cause_candidates else None


Readings = Mapping[SeriesKey, tuple[float, float]]
"""Latest ``(timestamp, value)`` per series key."""


def service_status(
    workspace: Workspace,
    service_id: str,
    readings: Readings,
    now: float,
    stale_after_s: float,
) -> ServiceHealth:
    """The status of one service from its latest readings (without dependency blocking)."""
    service = workspace.services[service_id]
    newest: float | None = None
    fresh_findings: list[MetricFinding] = []
    fresh_count = 0
    for metric, spec in METRICS_BY_KIND[service.kind].items():
        reading = readings.get((service_id, metric))
        if reading is None:
            continue
        t, value = reading
        newest = t if newest is None else max(newest, t)
        if now - t > stale_after_s + spec.period_s:
            continue
        fresh_count += 1
        threshold = workspace.threshold(service_id, metric)
        if threshold is None:
            continue
        level = metric_level(value, threshold, spec.higher_is_worse)
        if level != "ok":
            limit = threshold.failing if level == "failing" else threshold.degraded
            assert limit is not None
            fresh_findings.append(MetricFinding(metric, value, level, limit))
    age = None if newest is None else max(0.0, now - newest)
    if newest is None:
        return ServiceHealth(service_id, "unknown")
    if fresh_count == 0:
        return ServiceHealth(service_id, "stale", age_s=age)
    fresh_findings.sort(key=lambda f: -_SEVERITY[f.level])
    status: Status = fresh_findings[0].level if fresh_findings else "ok"
    return ServiceHealth(service_id, status, findings=tuple(fresh_findings), age_s=age)


def dependency_order(workspace: Workspace) -> list[str]:
    """Service ids with every dependency before its dependents (the workspace has no cycles)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(sid: str) -> None:
        if sid in seen:
            return
        seen.add(sid)
        for dep in workspace.services[sid].depends_on:
            visit(dep)
        order.append(sid)

    for sid in workspace.services:
        visit(sid)
    return order


def propagate_blocking(
    workspace: Workspace, own: Mapping[str, ServiceHealth]
) -> dict[str, ServiceHealth]:
    """Add ``blocked_by`` to each service: dependencies that are failing or blocked themselves."""
    result: dict[str, ServiceHealth] = {}
    for sid in dependency_order(workspace):
        health = own[sid]
        blockers = tuple(dep for dep in workspace.services[sid].depends_on if result[dep].broken)
        result[sid] = ServiceHealth(sid, health.status, blockers, health.findings, health.age_s)
    return {sid: result[sid] for sid in workspace.services}


def root_cause_candidates(
    workspace: Workspace, services: Mapping[str, ServiceHealth]
) -> tuple[str, ...]:
    """Failing services with no failing dependency, ordered by how many services they block."""
    candidates = [
        sid
        for sid, health in services.items()
        if health.status == "failing"
        and not any(services[d].status == "failing" for d in workspace.services[sid].depends_on)
    ]

    def reach(sid: str) -> int:
        seen: set[str] = set()
        stack = [sid]
        while stack:
            for dependent in workspace.dependents_of(stack.pop()):
                if dependent not in seen and services[dependent].broken:
                    seen.add(dependent)
                    stack.append(dependent)
        return len(seen)

    order = list(workspace.services)
    candidates.sort(key=lambda sid: (-reach(sid), order.index(sid)))
    return tuple(candidates)


def evaluate(
    workspace: Workspace,
    readings: Readings,
    now: float,
    stale_after_s: Mapping[str, float] | float = 30.0,
) -> HealthReport:
    """The full health report at ``now``.

    ``stale_after_s`` is either one age limit for every service or one per service id (the
    session derives it from each source's expected delay plus a margin).
    """

    def limit(sid: str) -> float:
        if isinstance(stale_after_s, Mapping):
            return float(stale_after_s.get(sid, 30.0))
        return float(stale_after_s)

    own = {
        sid: service_status(workspace, sid, readings, now, limit(sid)) for sid in workspace.services
    }
    services = propagate_blocking(workspace, own)
    steps = tuple(
        GoldenPathStepHealth(
            step.service,
            step.label,
            services[step.service].status,
            services[step.service].blocked_by,
        )
        for step in workspace.golden_path
    )
    first_broken = next((s.service for s in steps if s.broken), None)
    return HealthReport(
        now, services, steps, first_broken, root_cause_candidates(workspace, services)
    )
