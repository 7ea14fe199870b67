"""The facts of a post-incident report, gathered from a snapshot (no Qt, no HTML).

``gather_facts(session)`` reads a ``ReviewSession`` (a snapshot under review) and returns
``PostIncidentFacts``: what was recorded and when, the golden path's outage window (sampled with
``console.review.health_history`` and located to the second), the services affected and the
root-cause candidates, the timeline (notes with their edits folded in by
``console.notes.fold_timeline``), the actions with their before/after, the recovery criteria met
or lost and when, and the logs per service. ``ui/incident_report.py`` renders them as HTML.

Actions and criteria are read generically from the timeline: an ``action`` entry's ``fields``
are shown as they are, with ``before``/``after`` (or ``planned_after``) paired when both are
mappings; ``criterion``/``criteria``/``recovery`` entries are the criteria's story.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.review import (
    HealthHistory,
    ReviewSession,
    health_history,
    services_affected,
)
from console.timeline import TimelineEntry

#: Timeline kinds that tell the recovery criteria's story.
CRITERIA_KINDS = frozenset({"criterion", "criteria", "recovery"})
#: Golden-path samples over the recording for the report (each change is then located to 1 s).
REPORT_SAMPLES = 2000


@dataclass(frozen=True)
class FieldChange:
    """One setting an action changed: its value before and after."""

    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ActionRecord:
    """One ``action`` timeline entry, with its before/after paired when the fields have them."""

    entry: TimelineEntry
    changes: tuple[FieldChange, ...]
    #: The remaining fields, shown as they are.
    other_fields: dict[str, Any]

    @property
    def outcome(self) -> str:
        return str(self.entry.fields.get("outcome", ""))


@dataclass(frozen=True)
class ServiceImpact:
    """A service and the worst it got over the recording."""

    service: str
    name: str
    worst: str


@dataclass(frozen=True)
class PostIncidentFacts:
    """Everything a post-incident report says, as data."""

    title: str
    environment: str
    location: str
    file_name: str
    app_version: str
    format_version: int
    closed_cleanly: bool
    start: float
    end: float
    incident_started_at: float | None
    history: HealthHistory
    #: The golden path's outage window: first break to the end of the last one, None if whole.
    outage: tuple[float, float] | None
    #: True when the path was still broken at the end of the recording.
    broken_at_end: bool
    broken_total_s: float
    #: Display names of the steps at which the path broke, in order of first break.
    broken_steps: tuple[str, ...]
    #: Root-cause candidates with about how long each was the best one, longest first.
    root_causes: tuple[tuple[str, float], ...]
    affected: tuple[ServiceImpact, ...]
    timeline: tuple[TimelineEntry, ...]
    actions: tuple[ActionRecord, ...]
    criteria: tuple[TimelineEntry, ...]
    notes: tuple[TimelineEntry, ...]
    logs_per_service: dict[str, int] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.end - self.start


def action_record(entry: TimelineEntry) -> ActionRecord:
    """Pair an action entry's ``before`` with its ``after`` (else ``planned_after``)."""
    fields = dict(entry.fields)
    before = fields.get("before")
    after = fields.get("after")
    if not isinstance(after, Mapping):
        after = fields.get("planned_after")
    changes: list[FieldChange] = []
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for name in [*before, *(k for k in after if k not in before)]:
            changes.append(FieldChange(str(name), before.get(name), after.get(name)))
        for used in ("before", "after", "planned_after"):
            fields.pop(used, None)
    return ActionRecord(entry, tuple(changes), fields)


def gather_facts(session: ReviewSession, *, max_samples: int = REPORT_SAMPLES) -> PostIncidentFacts:
    """The facts of ``session``'s recording (evaluates health over it: seconds for a day)."""
    snapshot = session.snapshot
    workspace = session.workspace
    start, end = session.time_range
    history = health_history(session, start, end, max_samples=max_samples, refine_to_s=1.0)
    names = {sid: s.name for sid, s in workspace.services.items()}
    broken = history.broken_spans()
    steps: list[str] = []
    labels = {step.service: step.label for step in workspace.golden_path}
    for span in broken:
        if span.first_broken is None:
            continue
        name = names.get(span.first_broken, span.first_broken)
        label = labels.get(span.first_broken, name)
        text = name if label == name else f"{label} ({name})"
        if text not in steps:
            steps.append(text)
    affected = tuple(
        ServiceImpact(sid, names[sid], history.worst[sid])
        for sid in services_affected(history, list(workspace.services))
    )
    timeline = tuple(session.recorded_timeline)  # note edits already folded in
    started = snapshot.meta.get("incident_started_at")
    incident = workspace.incident
    location = " · ".join(
        part
        for part in (
            incident.reference,
            f"project {incident.project}" if incident.project else "",
            incident.region,
        )
        if part
    )
    return PostIncidentFacts(
        title=incident.title,
        environment=incident.environment,
        location=location,
        file_name=snapshot.path.name,
        app_version=snapshot.app_version,
        format_version=snapshot.format_version,
        closed_cleanly=snapshot.closed_cleanly,
        start=start,
        end=end,
        incident_started_at=float(started) if started is not None else incident.started_at,
        history=history,
        outage=history.outage_window(),
        broken_at_end=bool(history.spans) and history.spans[-1].state == "broken",
        broken_total_s=sum(s.duration_s for s in broken),
        broken_steps=tuple(steps),
        root_causes=tuple(
            (names.get(sid, sid), seconds)
            for sid, seconds in sorted(history.root_cause_s.items(), key=lambda kv: -kv[1])
        ),
        affected=affected,
        timeline=timeline,
        actions=tuple(action_record(e) for e in timeline if e.kind == "action"),
        criteria=tuple(e for e in timeline if e.kind in CRITERIA_KINDS),
        notes=tuple(e for e in timeline if e.kind == "note"),
        logs_per_service=dict(Counter(names.get(e.service, e.service) for e in snapshot.logs())),
    )
