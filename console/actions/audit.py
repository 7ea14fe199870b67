"""The audit trail of actions: one timeline entry per step of every attempt.

Every attempt gets an ``action_id``; each of its outcomes (``planned``, ``refused``, ``confirmed``,
``cancelled``, ``busy``, ``conflict``, ``succeeded``, ``failed``, and ``watched`` for the verdict
of the watch afterwards) becomes a timeline entry of kind ``action``
(``Session.add_timeline_entry``), which the flight recorder stores with the incident. ``fields``
(documented in docs/actions.md) say who (local user and cloud identity), what (command, resource,
arguments, gcloud equivalent), before/after, the checks and the result; the entry's ``t`` says when.
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Any

from console.actions.commands import command_as_dict, describe_command

if TYPE_CHECKING:
    from console.actions.pipeline import PlannedAction
    from console.session import Session
    from console.timeline import TimelineEntry

#: The timeline kind of every audit entry.
AUDIT_KIND = "action"
#: The outcomes that end an attempt (each attempt ends in exactly one of them).
FINAL_OUTCOMES = ("refused", "cancelled", "busy", "conflict", "succeeded", "failed")
#: How each outcome opens its timeline line.
OUTCOME_SYMBOLS = {
    "planned": "◇",
    "refused": "⊘",
    "confirmed": "▶",
    "cancelled": "■",
    "busy": "⧗",
    "conflict": "↺",
    "succeeded": "✔",
    "failed": "✖",
    "watched": "◉",
}


def local_user() -> str:
    """Who sits at this console (the operating system's user name)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (some containers)
        return os.environ.get("USER") or os.environ.get("USERNAME") or f"uid {os.getuid()}"


def audit_fields(
    planned: PlannedAction,
    outcome: str,
    *,
    who: dict[str, str],
    result: str,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The structured record of one outcome of one attempt (JSON-ready)."""
    plan = planned.plan
    fields: dict[str, Any] = {
        "action_id": planned.id,
        "outcome": outcome,
        "command": command_as_dict(plan.command),
        "description": describe_command(plan.command),
        "resource": plan.target.service_id,
        "resource_name": plan.target.resource,
        "resource_kind": plan.target.kind,
        "project": plan.target.project,
        "region": plan.target.region,
        "environment": plan.target.environment,
        "who": dict(who),
        "before": plan.before.settings(),
        "planned_after": plan.after,
        "after": after,
        "changes": [c.text() for c in plan.changed_fields],
        "checks": [c.as_dict() for c in planned.checks],
        "dry_run": planned.dry_run.message if planned.dry_run else None,
        "gcloud": plan.gcloud,
        "affected": list(plan.blast_radius.services),
        "golden_path_steps": list(plan.blast_radius.steps),
        "etag": plan.etag,
        "revert_of": planned.revert_of,
        "result": result,
    }
    if extra:
        fields.update(extra)
    return fields


def audit_text(planned: PlannedAction, outcome: str, result: str) -> str:
    """The timeline line: ``✔ scale-connector staging-connector succeeded: min 2 → 3 …``."""
    plan = planned.plan
    symbol = OUTCOME_SYMBOLS.get(outcome, "•")
    what = f"{plan.command.name} {plan.target.resource}"
    if planned.revert_of:
        what = f"revert ({what})"
    return f"{symbol} {what} {outcome}: {result}"


def record(
    session: Session,
    planned: PlannedAction,
    outcome: str,
    *,
    who: dict[str, str],
    result: str,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    t: float | None = None,
) -> TimelineEntry:
    """Put one audit entry on the session's timeline (thread-safe)."""
    fields = audit_fields(planned, outcome, who=who, result=result, after=after, extra=extra)
    return session.add_timeline_entry(AUDIT_KIND, audit_text(planned, outcome, result), fields, t)
