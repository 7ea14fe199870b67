"""The incident workflow of a session: its probes, recovery criteria, escalation timers and notes.

``attach_workflow`` gives a session an ``IncidentWorkflow`` (``session.workflow``) and registers
its evaluation as a drain step (``Session.add_evaluator``): after every drain the recovery board
scans the new samples, the escalation timers check their decision points, and source errors
become timeline entries (kind ``source``), all in the same ``SessionUpdate``. The probe sources
themselves are ordinary sources of the session (``build_probe_sources``): on a demo workspace
the simulation answers them, otherwise they go over the network.

``workflow_status`` renders the workflow for the ``status`` command (JSON and text). docs/
workflow.md describes the whole workflow for users.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console.criteria import RecoveryBoard
from console.durations import format_duration
from console.escalation import EscalationTimers
from console.health import HealthReport
from console.notes import add_note, correct_time, set_starred
from console.probes import NetworkProbeRunner, ProbeResult, ProbeRunner, ProbeSource
from console.session import Session
from console.sources import Source, SourceStatus
from console.timeline import TimelineEntry
from console.workspace import Workspace

#: Source states worth a timeline entry when a source enters or leaves them.
_TROUBLE = ("error", "unauthorized")


def build_probe_sources(
    workspace: Workspace, simulation: Source | None = None
) -> list[ProbeSource]:
    """One source per ``[[probes]]`` entry: answered by ``simulation`` (a ``DemoSimulation``)
    when given, else over the network with secrets from the keyring."""
    runner: ProbeRunner
    if simulation is not None:
        from console.probe_simulation import SimulatedProbeRunner
        from console.simulation import DemoSimulation

        assert isinstance(simulation, DemoSimulation)
        runner = SimulatedProbeRunner(simulation)
    else:
        runner = NetworkProbeRunner()
    return [ProbeSource(spec, runner) for spec in workspace.probes]


class IncidentWorkflow:
    """Probes' results, the recovery board, the escalation timers and notes of one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.board = RecoveryBoard(session.workspace)
        self.timers = EscalationTimers(
            session.workspace, session.clock.now, session.add_timeline_entry
        )
        self.probe_sources: dict[str, ProbeSource] = {
            source.spec.id: source for source in session.sources if isinstance(source, ProbeSource)
        }
        self._source_states: dict[str, SourceStatus] = {}
        self._step_errors: dict[str, str] = {}

    def evaluate(self, health: HealthReport) -> list[TimelineEntry]:
        """One drain step: source errors, criteria, timers. Returns the new timeline entries.

        A step that fails is reported on the timeline (once per distinct error) and skipped: it
        must never stop the drain that feeds the views and the flight recorder.
        """
        session, now = self.session, health.t
        entries: list[TimelineEntry] = []
        steps = (
            ("sources", lambda: self._source_entries(now)),
            (
                "recovery criteria",
                lambda: self.board.evaluate(session.store, health, now, session.stale_after()),
            ),
            ("escalation timers", lambda: self.timers.evaluate(now, self.board.is_met)),
        )
        for name, step in steps:
            try:
                entries += step()
            except Exception as exc:  # a fault barrier: report as data, keep draining
                message = f"{type(exc).__name__}: {exc}"
                if self._step_errors.get(name) != message:
                    self._step_errors[name] = message
                    text = f"evaluating the {name} failed: {message}"
                    entries.append(TimelineEntry(now, "source", text, {"source": "workflow"}))
        return entries

    def probe_results(self) -> dict[str, ProbeResult | None]:
        """The newest result of each probe (None before its first run), in workspace order."""
        return {pid: source.last_result for pid, source in self.probe_sources.items()}

    def probe_problem(self, probe_id: str) -> str:
        """Why a probe cannot run ("secret missing: …"), or "" when it runs."""
        source = self.probe_sources.get(probe_id)
        if source is None:
            return ""
        status = self.session.source_statuses.get(source.name)
        return status.message if status is not None and status.state in _TROUBLE else ""

    # notes: thin wrappers so a view needs only the workflow

    def add_note(
        self, text: str, *, t: float | None = None, starred: bool = False
    ) -> TimelineEntry:
        """Add a note to the timeline (``console.notes.add_note``)."""
        return add_note(self.session, text, t=t, starred=starred)

    def star_note(self, note_id: str, starred: bool = True) -> TimelineEntry:
        """Star or unstar a note."""
        return set_starred(self.session, note_id, starred)

    def correct_note_time(self, note_id: str, corrected_t: float) -> TimelineEntry:
        """Move a note to when it really happened; the original time is kept."""
        return correct_time(self.session, note_id, corrected_t)

    def _source_entries(self, now: float) -> list[TimelineEntry]:
        entries = []
        for name, status in self.session.source_statuses.items():
            before = self._source_states.get(name)
            self._source_states[name] = status
            unchanged = before is not None and before.state == status.state
            if unchanged and (status.state not in _TROUBLE or before.message == status.message):
                continue
            if status.state in _TROUBLE:
                text = f"source {name}: {status.state.upper()}: {status.message}"
            elif before is not None and before.state in _TROUBLE:
                text = f"source {name} works again"
            else:
                continue
            fields = {"source": name, "state": status.state, "message": status.message}
            entries.append(TimelineEntry(now, "source", text, fields))
        return entries


def attach_workflow(session: Session) -> IncidentWorkflow:
    """Give ``session`` its workflow (``session.workflow``), evaluated at every drain."""
    workflow = IncidentWorkflow(session)
    session.workflow = workflow
    session.add_evaluator(workflow.evaluate)
    return workflow


# -- the ``status`` command --------------------------------------------------------------------


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def workflow_status(session: Session) -> dict[str, Any]:
    """``criteria``, ``timers`` and ``probes`` of a drained session, JSON-ready (docs/cli.md)."""
    workflow = session.workflow
    if workflow is None:
        return {}
    now = session.clock.now()
    verdict = workflow.board.verdict()
    criteria = [
        {
            "id": s.spec.id,
            "title": s.spec.title,
            "state": s.state,
            "holding": s.holding,
            "since": _iso(s.since),
            "remaining_s": None if s.remaining_s is None else round(s.remaining_s, 1),
            "sustain_s": s.spec.sustain_s,
            "detail": s.detail,
        }
        for s in workflow.board.statuses()
    ]
    timers = [
        {
            "id": t.id,
            "title": t.title,
            "state": t.state,
            "started_by": t.started_by,
            "started_at": _iso(t.started_at),
            "deadline": _iso(t.deadline),
            "remaining_s": None if t.remaining_s(now) is None else round(t.remaining_s(now), 1),
            "reason": t.reason,
        }
        for t in workflow.timers.timers()
    ]
    probes: dict[str, Any] = {}
    for probe_id, result in workflow.probe_results().items():
        entry: dict[str, Any] = {"problem": workflow.probe_problem(probe_id)}
        if result is not None:
            entry.update(result.timeline_fields())
            entry["t"] = _iso(result.t)
        probes[probe_id] = entry
    return {
        "criteria": {
            "recovered": verdict.recovered,
            "met": verdict.met,
            "total": verdict.total,
            "since": _iso(verdict.since),
            "items": criteria,
        },
        "timers": timers,
        "probes": probes,
    }


def format_workflow_text(status: dict[str, Any]) -> list[str]:
    """Terminal lines for the ``criteria``, ``probes`` and ``timers`` of ``workflow_status``."""
    lines: list[str] = []
    criteria = status.get("criteria")
    if criteria and criteria["total"]:
        if criteria["recovered"]:
            lines.append(f"Recovery: RECOVERED (all {criteria['total']} criteria met)")
        else:
            lines.append(
                f"Recovery: NOT RECOVERED ({criteria['met']} of {criteria['total']} criteria met)"
            )
        words = {"met": "MET", "not_met": "NOT MET", "unmeasurable": "NO DATA"}
        for item in criteria["items"]:
            word = "HOLDING" if item["holding"] else words[item["state"]]
            lines.append(f"  {word:<9} {item['title']}: {item['detail']}")
    probes = status.get("probes") or {}
    if probes:
        lines.append("Probes:")
        for probe_id, probe in probes.items():
            if probe.get("problem"):
                text = f"cannot run: {probe['problem']}"
            elif "ok" not in probe:
                text = "not run yet"
            elif probe["ok"]:
                text = f"passes ({probe['duration_ms'] / 1000:.1f} s)"
            else:
                where = f" at {probe['stopped_at']}" if probe["stopped_at"] else ""
                text = f"FAILS{where}: {probe['reason']}"
            lines.append(f"  {probe_id:<18}{text}")
    timers = [t for t in status.get("timers") or [] if t["state"] != "idle"]
    if timers:
        lines.append("Escalation timers:")
        for timer in timers:
            remaining = timer["remaining_s"]
            when = ""
            if remaining is not None:
                when = (
                    f" in {format_duration(remaining)}"
                    if remaining > 0
                    else f" DUE {format_duration(-remaining)} ago"
                )
            lines.append(f"  {timer['state'].upper():<13}{timer['title']}{when}")
    return lines
