"""Escalation timers: started by an action, by hand or on open; due at the decision point (or not
needed when the ``unless`` criterion is met); acknowledged, snoozed or cancelled with a reason;
all on the timeline. Time is the virtual clock's.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from console.clock import VirtualClock
from console.escalation import EscalationTimers, TimerError, start_timers_for_action
from console.session import Session
from console.session_factory import build_session
from console.simulation import DemoSimulation
from console.workspace import EscalationSpec, Workspace
from tests.conftest import DEMO_START

TWO_HOURS = 2 * 3600.0


def advance(session: Session, clock: VirtualClock, seconds: float, step: float = 30.0) -> None:
    end = clock.now() + seconds
    while clock.now() < end:
        clock.advance(min(step, end - clock.now()))
        session.poll_sources()
        session.drain()


def timer_entries(session: Session) -> list:
    return [e for e in session.timeline if e.kind == "timer"]


def test_the_demo_timer_waits_for_the_scaling_action(demo_session: Session) -> None:
    timers = demo_session.workflow.timers  # type: ignore[union-attr]
    [timer] = timers.timers()
    assert (timer.id, timer.state, timer.started_by) == ("gcp-support", "idle", "ScaleConnector")
    assert timer.after_s == TWO_HOURS and timer.unless == "connector-capacity"
    assert timers.next_decision() is None


def test_an_action_starts_it_and_the_decision_point_is_due_two_hours_later(
    demo_session: Session, demo_clock: VirtualClock
) -> None:
    started = start_timers_for_action(demo_session, "scale_connector")  # any spelling
    assert [t.id for t in started] == ["gcp-support"]
    demo_session.drain()
    first = timer_entries(demo_session)[-1]
    assert first.fields["event"] == "started" and first.fields["by"] == "scale_connector"
    assert "decision in 2h 00m" in first.text
    timers = demo_session.workflow.timers  # type: ignore[union-attr]
    timer = timers.next_decision()
    assert timer is not None and timer.deadline == DEMO_START + TWO_HOURS
    assert timer.countdown_text(DEMO_START + 600) == "in 1h 50m"

    advance(demo_session, demo_clock, TWO_HOURS - 60)
    assert timers.get("gcp-support").state == "running"
    advance(demo_session, demo_clock, 90)
    due = timers.get("gcp-support")
    assert due.state == "due"  # connector capacity never improved: nobody scaled for real
    entry = timer_entries(demo_session)[-1]
    assert entry.fields["event"] == "due" and entry.t == DEMO_START + TWO_HOURS
    assert entry.text.startswith("⚠ DECISION DUE: Escalate to Google Cloud support: connector")
    assert due.countdown_text(demo_clock.now()) == "due 30s ago"


def test_it_is_not_needed_when_capacity_recovered_by_the_decision_point(
    demo_session: Session, demo_clock: VirtualClock
) -> None:
    simulation = next(s for s in demo_session.sources if isinstance(s, DemoSimulation))
    now = demo_clock.now()
    simulation.scale_connector("connector", min_instances=3, machine_type="e2-standard-4", at=now)
    simulation.route_traffic("backend", {"netra-backend-staging-00750-69k": 100}, at=now)
    start_timers_for_action(demo_session, "ScaleConnector", at=now)
    advance(demo_session, demo_clock, TWO_HOURS + 30, step=60)
    timer = demo_session.workflow.timers.get("gcp-support")  # type: ignore[union-attr]
    assert timer.state == "resolved"
    assert timer.reason == "criterion connector-capacity is met"
    assert timer_entries(demo_session)[-1].text.startswith("✔ no escalation needed")


@pytest.fixture
def due_session(demo_session: Session, demo_clock: VirtualClock) -> Session:
    start_timers_for_action(demo_session, "ScaleConnector")
    advance(demo_session, demo_clock, TWO_HOURS + 30, step=120)
    assert demo_session.workflow.timers.get("gcp-support").state == "due"  # type: ignore[union-attr]
    return demo_session


def test_acknowledge_with_a_reason_ends_it(due_session: Session) -> None:
    timers = due_session.workflow.timers  # type: ignore[union-attr]
    with pytest.raises(TimerError, match="say why"):
        timers.acknowledge("gcp-support", "   ")
    timer = timers.acknowledge("gcp-support", "escalated: GCP case 51234")
    assert timer.state == "acknowledged" and timer.reason == "escalated: GCP case 51234"
    due_session.drain()
    entry = timer_entries(due_session)[-1]
    assert entry.text == (
        "✔ timer acknowledged: Escalate to Google Cloud support (escalated: GCP case 51234)"
    )
    assert entry.fields["event"] == "acknowledged"
    with pytest.raises(TimerError, match="it is acknowledged"):
        timers.snooze("gcp-support", "too late")
    assert timers.next_decision() is None


def test_snooze_moves_the_decision_point_and_it_comes_due_again(
    due_session: Session, demo_clock: VirtualClock
) -> None:
    timers = due_session.workflow.timers  # type: ignore[union-attr]
    timer = timers.snooze("gcp-support", "connector still adding instances")
    assert timer.state == "running" and timer.snoozes == 1
    assert timer.deadline == pytest.approx(demo_clock.now() + 15 * 60, abs=1e-3)
    due_session.drain()
    assert timer_entries(due_session)[-1].text.startswith("❚❚ timer snoozed for 15m 00s")
    timers.snooze("gcp-support", "waiting for the on-call", duration_s=600)
    assert timers.get("gcp-support").deadline == pytest.approx(demo_clock.now() + 600, abs=1e-3)
    advance(due_session, demo_clock, 630)
    assert timers.get("gcp-support").state == "due"
    assert [e.fields["event"] for e in timer_entries(due_session)].count("due") == 2


def test_cancel_with_a_reason_and_it_never_comes_due(
    due_session: Session, demo_clock: VirtualClock
) -> None:
    timers = due_session.workflow.timers  # type: ignore[union-attr]
    with pytest.raises(TimerError, match="say why"):
        timers.cancel("gcp-support", "")
    timers.cancel("gcp-support", "GCP support already engaged by the platform team")
    advance(due_session, demo_clock, TWO_HOURS)
    events = [e.fields["event"] for e in timer_entries(due_session)]
    assert events[-1] == "cancelled" and events.count("due") == 1
    timers.start("gcp-support", reason="scaling again")  # a finished timer can start again
    assert timers.get("gcp-support").state == "running"


def test_a_timer_started_by_hand(demo_session: Session, demo_clock: VirtualClock) -> None:
    timers = demo_session.workflow.timers  # type: ignore[union-attr]
    with pytest.raises(TimerError, match="title"):
        timers.start_custom("  ", 600)
    with pytest.raises(TimerError, match="duration"):
        timers.start_custom("Call the DBA", 0)
    timer = timers.start_custom("Call the DBA if Cloud SQL CPU stays high", 600, reason="88% CPU")
    assert timer.state == "running" and timer.started_by == "hand"
    assert timers.next_decision() == timer  # the nearest decision point
    advance(demo_session, demo_clock, 630)
    assert timers.get(timer.id).state == "due"
    texts = [e.text for e in timer_entries(demo_session)]
    assert texts[0].startswith("⚑ timer started by hand: Call the DBA if Cloud SQL CPU stays high")
    assert texts[0].endswith("(88% CPU)")


def test_timers_declared_to_start_on_open_do(demo_workspace: Workspace) -> None:
    spec = EscalationSpec("review", "Review the plan with the team", 1800.0, started_by="open")
    workspace = replace(demo_workspace, escalations=(spec,))
    session = build_session(workspace, VirtualClock(DEMO_START))
    try:
        timer = session.workflow.timers.get("review")  # type: ignore[union-attr]
        assert timer.state == "running" and timer.deadline == DEMO_START + 1800
        session.drain()
        assert timer_entries(session)[0].text.startswith("⚑ timer started when the console opened")
    finally:
        session.stop()


def test_commands_from_another_thread_reach_the_timeline(
    demo_session: Session,
) -> None:
    done = threading.Event()
    result: list = []

    def action_worker() -> None:
        result.extend(start_timers_for_action(demo_session, "ScaleConnector"))
        done.set()

    threading.Thread(target=action_worker).start()
    assert done.wait(10)
    demo_session.drain()
    assert result and timer_entries(demo_session)[-1].fields["event"] == "started"


def test_unknown_timers_and_sessions_without_a_workflow() -> None:
    timers = EscalationTimers(
        replace_workspace_without_timers(), VirtualClock(DEMO_START).now, lambda *a, **k: None
    )
    with pytest.raises(TimerError, match="no escalation timer 'nope'"):
        timers.get("nope")
    assert timers.start_for_action("ScaleConnector") == []


def replace_workspace_without_timers() -> Workspace:
    from console.workspace_toml import demo_workspace_path, load_workspace

    return replace(load_workspace(demo_workspace_path()), escalations=())
