"""Escalation timers: "if connector capacity has not improved 2 h after scaling, escalate".

A timer is declared in the workspace (``[[escalation]]``, model ``EscalationSpec``) or started by
hand with a title and a duration. It starts by hand, when the session opens
(``started_by = "open"``) or when an action runs (``started_by = "ScaleConnector"``: the actions
code calls ``start_timers_for_action``). It counts down on the session clock; at the decision
point (evaluated at every session drain) it becomes **due** and writes a timeline entry (the
window turns that into a desktop notification), unless its ``unless`` criterion is met then, in
which case it **resolves** itself ("no escalation needed"). A running or due timer can be
**acknowledged** (the decision is taken), **snoozed** (a new deadline) or **cancelled**, each
with a reason, each on the timeline (kind ``timer``; ``fields.event`` says which).

States: ``idle`` (declared, not started), ``running``, ``due``, ``acknowledged``, ``cancelled``,
``resolved``. A finished timer can be started again. Commands may come from any thread (the GUI,
an action's worker); one lock guards the state. Timeline entries of commands are queued with
``Session.add_timeline_entry``; those of the decision point are returned to the drain.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from console.durations import format_duration
from console.timeline import TimelineEntry
from console.workspace import EscalationSpec, Workspace

if TYPE_CHECKING:
    from console.session import Session

TimerState = Literal["idle", "running", "due", "acknowledged", "cancelled", "resolved"]
#: States in which a timer counts or waits for a decision.
ACTIVE_STATES: tuple[TimerState, ...] = ("running", "due")

AddEntry = Callable[..., TimelineEntry]


class TimerError(Exception):
    """A command that does not fit the timer's state, or bad input (no reason, no duration)."""


@dataclass(frozen=True)
class EscalationTimer:
    """One timer as it stands (an immutable copy: views read it without locks)."""

    id: str
    title: str
    detail: str
    after_s: float
    snooze_s: float
    started_by: str
    unless: str | None
    state: TimerState = "idle"
    started_at: float | None = None
    deadline: float | None = None
    #: Why it ended or was last snoozed (acknowledged, cancelled, snoozed), or what resolved it.
    reason: str = ""
    snoozes: int = 0
    #: When it last changed state.
    changed_at: float | None = None

    def remaining_s(self, now: float) -> float | None:
        """Seconds to the decision point (negative once past it), None unless running or due."""
        if self.state not in ACTIVE_STATES or self.deadline is None:
            return None
        return self.deadline - now

    def countdown_text(self, now: float) -> str:
        """``in 1h 52m`` or ``due 3m 05s ago``."""
        remaining = self.remaining_s(now)
        if remaining is None:
            return ""
        if remaining > 0:
            return f"in {format_duration(remaining)}"
        return f"due {format_duration(-remaining)} ago" if remaining < -1 else "due now"

    @classmethod
    def from_spec(cls, spec: EscalationSpec) -> EscalationTimer:
        return cls(
            spec.id,
            spec.title,
            spec.detail,
            spec.after_s,
            spec.snooze_s,
            spec.started_by,
            spec.unless,
        )


def _action_key(name: str) -> str:
    """``ScaleConnector``, ``scale_connector`` and ``scale-connector`` compare equal."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


class EscalationTimers:
    """The session's escalation timers: declared ones and those started by hand."""

    def __init__(self, workspace: Workspace, now: Callable[[], float], add_entry: AddEntry) -> None:
        self._now = now
        self._add_entry = add_entry
        self._lock = threading.Lock()
        self._timers: dict[str, EscalationTimer] = {
            spec.id: EscalationTimer.from_spec(spec) for spec in workspace.escalations
        }
        self._custom = 0
        for timer in list(self._timers.values()):
            if timer.started_by == "open":
                self.start(timer.id, by="open")

    # -- reading ---------------------------------------------------------------------------------

    def timers(self) -> list[EscalationTimer]:
        """Every timer, declared ones first, in order."""
        with self._lock:
            return list(self._timers.values())

    def get(self, timer_id: str) -> EscalationTimer:
        """One timer; raises ``TimerError`` for an unknown id."""
        with self._lock:
            return self._get(timer_id)

    def next_decision(self) -> EscalationTimer | None:
        """The active timer whose decision point comes first (a due one before any running)."""
        active = [t for t in self.timers() if t.state in ACTIVE_STATES and t.deadline is not None]
        return min(active, key=lambda t: t.deadline) if active else None  # type: ignore[arg-type,return-value]

    # -- commands (any thread) -------------------------------------------------------------------

    def start(
        self, timer_id: str, *, reason: str = "", by: str = "hand", at: float | None = None
    ) -> EscalationTimer:
        """Start (or restart) a declared or custom timer: the decision point is ``after_s`` on."""
        now = self._now() if at is None else at
        with self._lock:
            timer = self._get(timer_id)
            restarted = timer.state in ACTIVE_STATES
            timer = self._set(
                timer,
                state="running",
                started_at=now,
                deadline=now + timer.after_s,
                reason=reason,
                snoozes=0,
                changed_at=now,
            )
        verb = "restarted" if restarted else "started"
        who = {"hand": "by hand", "open": "when the console opened"}.get(by, f"by {by}")
        text = f"⚑ timer {verb} {who}: {timer.title}, decision in {format_duration(timer.after_s)}"
        if reason:
            text += f" ({reason})"
        self._entry(now, text, timer, "started", by=by, reason=reason)
        return timer

    def start_custom(
        self, title: str, after_s: float, *, detail: str = "", reason: str = ""
    ) -> EscalationTimer:
        """Start a timer that is not in the workspace (by hand: a title and a duration)."""
        title = title.strip()
        if not title:
            raise TimerError("a timer needs a title (what to decide)")
        if not after_s > 0:
            raise TimerError("a timer needs a duration greater than zero")
        with self._lock:
            self._custom += 1
            timer_id = f"custom-{self._custom}"
            self._timers[timer_id] = EscalationTimer(
                timer_id, title, detail.strip(), float(after_s), 900.0, "hand", None
            )
        return self.start(timer_id, reason=reason)

    def start_for_action(self, action: str, *, at: float | None = None) -> list[EscalationTimer]:
        """Start every timer declared ``started_by`` this action (e.g. ``ScaleConnector``)."""
        key = _action_key(action)
        wanted = [t.id for t in self.timers() if _action_key(t.started_by) == key]
        return [self.start(tid, by=action, at=at) for tid in wanted]

    def acknowledge(self, timer_id: str, reason: str) -> EscalationTimer:
        """The decision is taken (e.g. "escalated: GCP case 12345"); the timer ends."""
        return self._finish(timer_id, "acknowledged", reason, "acknowledge", "✔ timer acknowledged")

    def cancel(self, timer_id: str, reason: str) -> EscalationTimer:
        """The timer is no longer needed; it ends without a decision."""
        return self._finish(timer_id, "cancelled", reason, "cancel", "■ timer cancelled")

    def snooze(
        self, timer_id: str, reason: str, duration_s: float | None = None
    ) -> EscalationTimer:
        """Push the decision point to ``duration_s`` (default: the timer's snooze) from now."""
        reason = _required_reason(reason, "snooze")
        now = self._now()
        with self._lock:
            timer = self._get(timer_id)
            _require_active(timer, "snooze")
            duration = timer.snooze_s if duration_s is None else float(duration_s)
            if not duration > 0:
                raise TimerError("snooze for a duration greater than zero")
            timer = self._set(
                timer,
                state="running",
                deadline=now + duration,
                reason=reason,
                snoozes=timer.snoozes + 1,
                changed_at=now,
            )
        text = f"❚❚ timer snoozed for {format_duration(duration)}: {timer.title} ({reason})"
        self._entry(now, text, timer, "snoozed", reason=reason, duration_s=duration)
        return timer

    # -- the decision point (the draining thread) --------------------------------------------------

    def evaluate(self, now: float, criterion_met: Callable[[str], bool]) -> list[TimelineEntry]:
        """Timers whose decision point has passed become due (or resolve): their entries."""
        entries: list[TimelineEntry] = []
        with self._lock:
            for timer in list(self._timers.values()):
                if timer.state != "running" or timer.deadline is None or now < timer.deadline:
                    continue
                if timer.unless is not None and criterion_met(timer.unless):
                    reason = f"criterion {timer.unless} is met"
                    timer = self._set(timer, state="resolved", reason=reason, changed_at=now)
                    text = f"✔ no escalation needed: {timer.title} ({reason})"
                    event = "resolved"
                else:
                    timer = self._set(timer, state="due", changed_at=now)
                    text = f"⚠ DECISION DUE: {timer.title}"
                    if timer.detail:
                        text += f": {timer.detail}"
                    event = "due"
                entries.append(
                    TimelineEntry(timer.deadline or now, "timer", text, _fields(timer, event))
                )
        return entries

    # -- internals -------------------------------------------------------------------------------

    def _get(self, timer_id: str) -> EscalationTimer:
        try:
            return self._timers[timer_id]
        except KeyError:
            known = ", ".join(self._timers) or "none"
            raise TimerError(f"no escalation timer {timer_id!r} (timers: {known})") from None

    def _set(self, timer: EscalationTimer, **changes: Any) -> EscalationTimer:
        timer = dataclasses.replace(timer, **changes)
        self._timers[timer.id] = timer
        return timer

    def _finish(
        self, timer_id: str, state: TimerState, reason: str, verb: str, headline: str
    ) -> EscalationTimer:
        reason = _required_reason(reason, verb)
        now = self._now()
        with self._lock:
            timer = self._get(timer_id)
            _require_active(timer, verb)
            timer = self._set(timer, state=state, reason=reason, changed_at=now)
        self._entry(now, f"{headline}: {timer.title} ({reason})", timer, state, reason=reason)
        return timer

    def _entry(self, t: float, text: str, timer: EscalationTimer, event: str, **extra: Any) -> None:
        self._add_entry("timer", text, {**_fields(timer, event), **extra}, t=t)


def _fields(timer: EscalationTimer, event: str) -> dict[str, Any]:
    return {
        "timer": timer.id,
        "event": event,
        "title": timer.title,
        "state": timer.state,
        "started_at": timer.started_at,
        "deadline": timer.deadline,
    }


def _required_reason(reason: str, what: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise TimerError(f"say why you {what} the timer (the reason goes on the timeline)")
    return reason


def _require_active(timer: EscalationTimer, what: str) -> None:
    if timer.state not in ACTIVE_STATES:
        raise TimerError(f"cannot {what} {timer.title!r}: it is {timer.state}, not running or due")


def start_timers_for_action(
    session: Session, action: str, *, at: float | None = None
) -> list[EscalationTimer]:
    """Start the session's timers declared ``started_by = action``; for the actions code.

    ``action`` is the command's name (``"ScaleConnector"``; ``"scale_connector"`` works too).
    Returns the timers started (none when the session has no workflow or no such timer).
    """
    workflow = session.workflow
    if workflow is None:
        return []
    return workflow.timers.start_for_action(action, at=at)
