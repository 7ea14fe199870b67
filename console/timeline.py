"""The incident timeline: one ordered record of what happened (status changes, actions, notes).

Entries travel like everything else: a producer puts them in a ``Batch`` (``Batch.timeline``) and
the session's ``drain`` appends them to ``Session.timeline`` and hands them to subscribers (the
flight recorder stores them, views show them). The session itself adds the health transitions
computed here by ``health_change_entries``.

Known kinds: ``recording``, ``status_change``, ``golden_path``, ``source``, ``action``, ``note``
and ``note_edit`` (``console.notes``), ``probe``, ``criterion``, ``recovery`` and ``timer`` (the
incident workflow, docs/workflow.md). ``fields`` holds structured, JSON-serialisable details
(an action's audit fields: who, what, before/after, result).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # health imports sources, which imports this module
    from console.health import HealthReport
    from console.workspace import Workspace


@dataclass(frozen=True)
class TimelineEntry:
    """One moment worth a line in the review."""

    t: float
    kind: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)


def health_change_entries(
    workspace: Workspace, before: HealthReport, after: HealthReport
) -> list[TimelineEntry]:
    """Entries for every service whose status changed and for a golden-path change."""
    services = workspace.services
    entries = []
    for sid, now_health in after.services.items():
        old = before.services.get(sid)
        old_status = old.status if old is not None else None
        if old_status == now_health.status:
            continue
        name = services[sid].name if sid in services else sid
        entries.append(
            TimelineEntry(
                after.t,
                "status_change",
                f"{name}: {old_status or 'none'} → {now_health.status}",
                {
                    "service": sid,
                    "from": old_status,
                    "to": now_health.status,
                    "blocked_by": list(now_health.blocked_by),
                },
            )
        )
    if before.first_broken != after.first_broken:
        broken = after.first_broken
        if broken is None:
            text = "golden path whole again"
        else:
            step = services[broken].name if broken in services else broken
            text = f"golden path broken at {step}"
        entries.append(
            TimelineEntry(
                after.t,
                "golden_path",
                text,
                {"from": before.first_broken, "to": broken, "root_cause": after.root_cause},
            )
        )
    return entries
