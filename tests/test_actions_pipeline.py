"""The action pipeline (``console.actions.pipeline``) on the demo simulation, with a virtual clock:
plan → checks → dry run → confirm → execute → verify → watch → audit → revert; conflicts, one
action in flight per resource (also from a second process), cancel, read-only sessions, and the
demo brought back to healthy through the documented remediation.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from console.actions import (
    ActionEngine,
    ReadOnlySessionError,
    RouteTraffic,
    ScaleConnector,
    ScaleService,
    attach_executor,
    executor_of,
)
from console.actions.limits import load_connector_limits
from console.actions.locks import ResourceLock, lock_key
from console.actions.pipeline import ActionNotAllowedError, ConfirmationError
from console.actions.simulation_executor import SimulationExecutor
from console.clock import VirtualClock
from console.session import Session
from console.session_factory import build_session
from console.simulation import DemoSimulation
from console.workspace import Workspace

OLD = "netra-backend-staging-00749-6tr"
NEW = "netra-backend-staging-00750-69k"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def engine(demo_session: Session, tmp_path: Path) -> ActionEngine:
    return ActionEngine(demo_session, lock_dir=tmp_path / "locks", user="alice")


def simulation(session: Session) -> DemoSimulation:
    source = session.sources[0]
    assert isinstance(source, DemoSimulation)
    return source


def audit(session: Session, action_id: str) -> list[dict]:
    """The audit entries of one attempt, oldest first (after draining)."""
    session.drain()
    return [
        {"t": e.t, "text": e.text, **e.fields}
        for e in session.timeline
        if e.kind == "action" and e.fields.get("action_id") == action_id
    ]


def run_confirmed(engine: ActionEngine, command, **kwargs):
    planned = engine.plan(command)
    assert not planned.refused, planned.refusals
    engine.confirm(planned, confirmed=True)
    return engine.execute(planned, **kwargs)


# ---- read-only sessions -------------------------------------------------------------------------


def test_a_read_only_session_has_no_executor_at_all(
    demo_workspace: Workspace, demo_clock: VirtualClock
) -> None:
    session = build_session(demo_workspace, demo_clock, read_only=True)
    try:
        assert not hasattr(session, "executor")  # absent, not disabled
        with pytest.raises(ReadOnlySessionError, match="read-only"):
            executor_of(session)
        with pytest.raises(ReadOnlySessionError, match="nothing was sent"):
            ActionEngine(session)
        simulation_source = simulation(session)
        with pytest.raises(ReadOnlySessionError):
            attach_executor(session, SimulationExecutor(simulation_source, demo_clock.now))
        assert not hasattr(session, "executor")
    finally:
        session.stop()


def test_read_only_in_the_workspace_also_means_no_executor(
    demo_workspace: Workspace, demo_clock: VirtualClock
) -> None:
    incident = dataclasses.replace(demo_workspace.incident, read_only=True)
    workspace = dataclasses.replace(demo_workspace, incident=incident)
    session = build_session(workspace, demo_clock)
    try:
        assert not hasattr(session, "executor")
        with pytest.raises(ReadOnlySessionError, match="read_only = true"):
            executor_of(session)
    finally:
        session.stop()


def test_a_writable_demo_session_gets_the_simulation_executor(demo_session: Session) -> None:
    assert isinstance(executor_of(demo_session), SimulationExecutor)


# ---- the documented remediation -----------------------------------------------------------------


def test_the_documented_remediation_brings_the_demo_back_to_healthy(
    demo_session: Session, engine: ActionEngine, demo_clock: VirtualClock
) -> None:
    session = demo_session
    assert session.health.first_broken == "auth"
    # The seed's own command is refused before anything is sent, with a way out ...
    refused = engine.plan(ScaleConnector("staging-connector", min_instances=3, max_instances=15))
    assert refused.refused
    assert refused.refusals[0].rule == "connector-max-instances"
    assert simulation(session).connector_settings("connector").max_instances == 10
    # ... which is what the remediation then does, through the same pipeline.
    suggestion = refused.suggestion
    assert suggestion == ScaleConnector("connector", 3, None, "e2-standard-4")
    scaled = run_confirmed(engine, suggestion)
    assert scaled.outcome == "succeeded", scaled.message
    pinned = run_confirmed(engine, RouteTraffic("netra-backend-staging", (("00750-69k", 100),)))
    assert pinned.outcome == "succeeded", pinned.message

    for _ in range(15):  # fast-forward 15 simulated minutes
        demo_clock.advance(60)
        session.poll_sources()
        session.drain()
    statuses = {sid: h.status for sid, h in session.health.services.items()}
    assert set(statuses.values()) == {"ok"}, statuses
    assert session.health.first_broken is None  # the golden path is whole
    assert all(not step.broken for step in session.health.golden_path)
    settings = simulation(session).connector_settings("connector")
    assert (settings.min_instances, settings.machine_type) == (3, "e2-standard-4")
    # Both watches ended and said so on the timeline.
    verdicts = [
        e.fields["verdict"]
        for e in session.timeline
        if e.kind == "action" and e.fields.get("outcome") == "watched"
    ]
    assert verdicts == ["improved", "improved"]
    assert engine.watch_report(scaled.action_id).verdict == "improved"


# ---- a success, step by step --------------------------------------------------------------------


def test_a_success_is_verified_audited_and_watched(
    demo_session: Session, engine: ActionEngine
) -> None:
    progress: list[tuple[str, bool]] = []
    result = run_confirmed(
        engine,
        ScaleConnector("connector", 3, None, "e2-standard-4"),
        progress=lambda text, cancellable: progress.append((text, cancellable)),
    )
    assert result.ok and result.revertible
    assert result.after == {
        "min_instances": 3,
        "max_instances": 10,
        "machine_type": "e2-standard-4",
    }
    assert result.finished_at - result.started_at == pytest.approx(20.0)  # the operation's delay
    assert "Verified: staging-connector is now min 3 · max 10 · e2-standard-4" in result.message
    # cancellable only until the request is sent
    assert progress[0] == ("Checking that nothing changed since the plan…", True)
    sent = progress.index(("Sending the change…", False))
    assert all(not cancellable for _, cancellable in progress[sent:])

    entries = audit(demo_session, result.action_id)
    assert [e["outcome"] for e in entries] == ["planned", "confirmed", "succeeded"]
    done = entries[-1]
    assert done["who"] == {"user": "alice", "cloud_identity": "demo simulation (no cloud account)"}
    assert done["before"] == {"min_instances": 2, "max_instances": 10, "machine_type": "e2-micro"}
    assert done["after"] == result.after
    assert done["command"] == {
        "command": "scale-connector",
        "resource": "connector",
        "min_instances": 3,
        "machine_type": "e2-standard-4",
    }
    assert done["affected"] == ["connector", "auth", "backend", "websocket", "chat"]
    assert done["gcloud"].startswith("gcloud compute networks vpc-access connectors update")
    assert done["duration_s"] == pytest.approx(20.0)
    assert done["t"] == result.finished_at
    assert entries[0]["t"] == result.started_at  # planned, confirmed and sent at once
    assert done["text"].startswith("✔ scale-connector staging-connector succeeded:")


def test_a_cloud_run_dry_run_refusal_blocks_and_nothing_changes(
    demo_session: Session, engine: ActionEngine
) -> None:
    # No pre-flight rule knows Cloud Run's quota of 1000; the server's dry run does.
    planned = engine.plan(ScaleService("backend", max_instances=5000))
    assert planned.refused
    assert planned.refusals[0].rule == "server-dry-run"
    assert "between 1 and 1000" in planned.refusals[0].message
    assert simulation(demo_session).service_settings("backend").max_instances == 100
    with pytest.raises(ActionNotAllowedError):
        engine.confirm(planned, confirmed=True)
    outcomes = [e["outcome"] for e in audit(demo_session, planned.id)]
    assert outcomes == ["planned", "refused"]


def test_a_cloud_run_dry_run_that_passes_changes_nothing(
    demo_session: Session, engine: ActionEngine
) -> None:
    planned = engine.plan(RouteTraffic("backend", (("00750-69k", 100),)))
    assert planned.dry_run is not None and planned.dry_run.supported and planned.dry_run.ok
    revisions = simulation(demo_session).service_settings("backend").revisions
    assert {r.name: r.traffic_percent for r in revisions} == {OLD: 50, NEW: 50}


def test_executing_an_unconfirmed_or_refused_plan_is_not_possible(engine: ActionEngine) -> None:
    planned = engine.plan(ScaleService("backend", max_instances=60))
    with pytest.raises(ConfirmationError):
        engine.execute(planned)
    refused = engine.plan(ScaleService("backend", min_instances=9, max_instances=3))
    with pytest.raises(ActionNotAllowedError):
        engine.execute(refused)
    engine.confirm(planned, confirmed=True)
    assert engine.execute(planned).ok
    with pytest.raises(ActionNotAllowedError, match="already ended"):
        engine.execute(planned)  # a plan is used once: plan again


def test_production_needs_the_resource_name_typed(
    demo_workspace: Workspace, demo_clock: VirtualClock, tmp_path: Path
) -> None:
    incident = dataclasses.replace(demo_workspace.incident, environment="production")
    session = build_session(dataclasses.replace(demo_workspace, incident=incident), demo_clock)
    try:
        engine = ActionEngine(session, lock_dir=tmp_path)
        planned = engine.plan(ScaleService("backend", max_instances=60))
        assert planned.needs_typed_name and planned.confirm_name == "netra-backend-staging"
        with pytest.raises(ConfirmationError, match="type the resource name"):
            engine.confirm(planned, confirmed=True)
        with pytest.raises(ConfirmationError, match="got 'backend'"):
            engine.confirm(planned, typed_name="backend")
        assert not planned.confirmed
        engine.confirm(planned, typed_name="netra-backend-staging")
        assert engine.execute(planned).ok
    finally:
        session.stop()


# ---- conflicts, one in flight, cancel, failure --------------------------------------------------


def test_a_change_by_someone_else_stops_the_action_and_a_new_plan_sees_it(
    demo_session: Session, engine: ActionEngine, demo_clock: VirtualClock
) -> None:
    planned = engine.plan(ScaleService("backend", max_instances=60))
    engine.confirm(planned, confirmed=True)
    # Someone else changes the service between the plan and the execution.
    simulation(demo_session).scale_service("backend", max_instances=80, at=demo_clock.now())
    result = engine.execute(planned)
    assert result.outcome == "conflict"
    assert "changed since the plan" in result.message and "max 80" in result.message
    assert simulation(demo_session).service_settings("backend").max_instances == 80  # kept
    replanned = engine.plan(ScaleService("backend", max_instances=60))
    assert [c.text() for c in replanned.plan.changed_fields] == ["max instances: 80 → 60"]
    assert [e["outcome"] for e in audit(demo_session, planned.id)] == [
        "planned",
        "confirmed",
        "conflict",
    ]


def test_a_second_attempt_on_the_same_resource_is_already_in_progress(
    demo_session: Session, engine: ActionEngine, tmp_path: Path
) -> None:
    key = lock_key("demo", "netra-staging", "vpc_connector", "staging-connector")
    holder = ResourceLock(
        key, {"user": "bob", "action": "scale-connector connector"}, tmp_path / "locks"
    )
    with holder:
        planned = engine.plan(ScaleConnector("connector", min_instances=3))
        engine.confirm(planned, confirmed=True)
        result = engine.execute(planned)
    assert result.outcome == "busy"
    assert result.message.startswith("already in progress: scale-connector connector by bob")
    assert simulation(demo_session).connector_settings("connector").min_instances == 2
    # another resource is not blocked, and once released the same one works again
    assert run_confirmed(engine, ScaleService("backend", max_instances=60)).ok
    assert run_confirmed(engine, ScaleConnector("connector", min_instances=3)).ok


def test_an_action_in_flight_in_another_process_blocks_this_one(
    demo_session: Session, engine: ActionEngine, tmp_path: Path
) -> None:
    lock_dir = tmp_path / "locks"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from console.actions.locks import ResourceLock, lock_key\n"
        "key = lock_key('demo', 'netra-staging', 'cloud_run', 'netra-backend-staging')\n"
        "lock = ResourceLock(key, {'user': 'carol', 'action': 'route-traffic backend'},"
        f" Path({str(lock_dir)!r}))\n"
        "lock.acquire()\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
        "lock.release()\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        planned = engine.plan(RouteTraffic("backend", (("00750-69k", 100),)))
        engine.confirm(planned, confirmed=True)
        result = engine.execute(planned)
        assert result.outcome == "busy"
        assert "by carol" in result.message and f"process {other.pid}" in result.message
        assert {
            r.name: r.traffic_percent
            for r in simulation(demo_session).service_settings("backend").revisions
        } == {OLD: 50, NEW: 50}
    finally:
        assert other.stdin is not None
        other.stdin.close()
        other.wait(timeout=30)
    assert run_confirmed(engine, RouteTraffic("backend", (("00750-69k", 100),))).ok


def test_cancel_before_the_request_is_sent_changes_nothing(
    demo_session: Session, tmp_path: Path
) -> None:
    engine = ActionEngine(demo_session, lock_dir=tmp_path, grace_s=3.0)
    cancel = threading.Event()

    def progress(text: str, cancellable: bool) -> None:
        if text.startswith("Sending in"):
            assert cancellable
            cancel.set()  # the operator presses Cancel during the grace period

    planned = engine.plan(ScaleConnector("connector", min_instances=3))
    engine.confirm(planned, confirmed=True)
    result = engine.execute(planned, progress=progress, cancel=cancel)
    assert result.outcome == "cancelled"
    assert result.message == "cancelled before anything was sent"
    assert simulation(demo_session).connector_settings("connector").min_instances == 2
    assert [e["outcome"] for e in audit(demo_session, planned.id)][-1] == "cancelled"


def test_abandoning_a_plan_is_audited_as_cancelled(
    demo_session: Session, engine: ActionEngine
) -> None:
    planned = engine.plan(ScaleService("backend", max_instances=60))
    result = engine.cancel(planned, "the dialog was closed before confirming")
    assert result.outcome == "cancelled"
    entries = audit(demo_session, planned.id)
    assert [e["outcome"] for e in entries] == ["planned", "cancelled"]
    assert entries[-1]["result"] == "the dialog was closed before confirming"


def test_an_api_refusal_after_the_checks_fails_cleanly_and_says_the_state(
    demo_session: Session, tmp_path: Path
) -> None:
    # Limits data that has drifted from the API: the check lets 15 through, Google refuses it.
    stale = tmp_path / "limits.toml"
    stale.write_text(
        "min_instances_floor = 2\nmax_instances_range = [3, 20]\n"
        "[machine_types]\ne2-micro = { mbps_per_instance = 100 }\n"
    )
    engine = ActionEngine(demo_session, lock_dir=tmp_path, limits=load_connector_limits(stale))
    result = run_confirmed(engine, ScaleConnector("connector", max_instances=15))
    assert result.outcome == "failed"
    assert "INVALID_ARGUMENT" in result.message
    assert "staging-connector is unchanged: min 2 · max 10 · e2-micro" in result.message
    assert result.after == {"min_instances": 2, "max_instances": 10, "machine_type": "e2-micro"}
    entries = audit(demo_session, result.action_id)
    assert entries[-1]["outcome"] == "failed"
    assert "is unchanged" in entries[-1]["text"]


# ---- revert -------------------------------------------------------------------------------------


def test_revert_puts_back_the_recorded_before_state(
    demo_session: Session, engine: ActionEngine
) -> None:
    done = run_confirmed(engine, ScaleConnector("connector", 3, None, "e2-standard-4"))
    command = engine.revert_command(done)
    assert command == ScaleConnector("connector", 2, None, "e2-micro")
    planned = engine.plan_revert(done)
    assert planned.revert_of == done.action_id
    # the inverse goes through the same checks: lowering a connector warns
    assert [w.rule for w in planned.warnings] == ["connector-scale-in"]
    engine.confirm(planned, confirmed=True)
    undone = engine.execute(planned)
    assert undone.ok
    settings = simulation(demo_session).connector_settings("connector")
    assert (settings.min_instances, settings.machine_type) == (2, "e2-micro")
    entry = audit(demo_session, planned.id)[-1]
    assert entry["revert_of"] == done.action_id
    assert entry["text"].startswith("✔ revert (scale-connector staging-connector) succeeded")


def test_traffic_to_latest_and_reverted_to_the_split(
    demo_session: Session, engine: ActionEngine
) -> None:
    to_latest = run_confirmed(engine, RouteTraffic("backend", to_latest=True))
    assert to_latest.ok, to_latest.message
    assert to_latest.after["traffic"] == {"LATEST": 100}
    back = engine.revert_command(to_latest)
    assert back == RouteTraffic("backend", ((OLD, 50), (NEW, 50)))
    reverted = run_confirmed(engine, back)
    assert reverted.ok
    assert reverted.after["traffic"] == {OLD: 50, NEW: 50}
    assert engine.revert_command(reverted) == RouteTraffic("backend", to_latest=True)


def test_only_a_success_can_be_reverted(engine: ActionEngine) -> None:
    planned = engine.plan(ScaleService("backend", max_instances=60))
    cancelled = engine.cancel(planned)
    with pytest.raises(ActionNotAllowedError):
        engine.revert_command(cancelled)


# ---- watch --------------------------------------------------------------------------------------


def test_the_watch_reports_worse_when_an_action_hurts(
    demo_session: Session, engine: ActionEngine, demo_clock: VirtualClock
) -> None:
    # Once the demo has recovered, capping the backend far below what it needs makes requests
    # queue behind its few instances.
    assert run_confirmed(engine, ScaleConnector("connector", 3, None, "e2-standard-4")).ok
    assert run_confirmed(engine, RouteTraffic("backend", (("00750-69k", 100),))).ok
    for _ in range(15):
        demo_clock.advance(60)
        demo_session.poll_sources()
        demo_session.drain()
    result = run_confirmed(engine, ScaleService("backend", max_instances=3))
    assert result.ok
    report = engine.watch_report(result.action_id)
    assert report is not None and report.verdict == "watching" and not report.finished
    for _ in range(6):
        demo_clock.advance(60)
        demo_session.poll_sources()
        demo_session.drain()
    report = engine.watch_report(result.action_id)
    assert report.finished and report.verdict == "worse"
    assert any(c.verdict == "worse" and c.service == "backend" for c in report.changes)
    assert engine.active_watches() == []


# ---- escalation ---------------------------------------------------------------------------------


def test_scaling_the_connector_starts_the_escalation_timer_it_names(
    demo_session: Session, engine: ActionEngine
) -> None:
    """demo.toml: "escalate to Google Cloud support" starts when the connector is scaled."""
    workflow = demo_session.workflow
    assert workflow is not None
    assert [t.state for t in workflow.timers.timers()] == ["idle"]
    refused = engine.plan(ScaleConnector("connector", min_instances=3, max_instances=15))
    assert refused.refused
    assert run_confirmed(engine, ScaleService("backend", max_instances=60)).ok
    assert [t.state for t in workflow.timers.timers()] == ["idle"]  # not by other actions
    result = run_confirmed(engine, ScaleConnector("connector", 3, None, "e2-standard-4"))
    assert result.ok
    assert [t.state for t in workflow.timers.timers()] == ["running"]
    demo_session.drain()
    started = [e for e in demo_session.timeline if e.kind == "timer"]
    assert len(started) == 1 and "started by scale-connector" in started[0].text
