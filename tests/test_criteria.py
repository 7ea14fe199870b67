"""Recovery criteria: the demo's five during the incident and after the remediation, and the rules
of the sustain timer (any breach restarts it, even between two drains), fast-forwarded with the
virtual clock.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest

from console.clock import VirtualClock
from console.session import Session
from console.simulation import DemoSimulation
from console.sources import Batch, SeriesKey, SourceStatus
from console.workflow import attach_workflow
from console.workspace import Workspace
from console.workspace_toml import parse_workspace
from tests.conftest import DEMO_START

DEMO_CRITERIA = [
    "fast-endpoints",
    "login-to-ai",
    "websocket-events",
    "connector-capacity",
    "continuous-operation",
]


def advance(session: Session, clock: VirtualClock, seconds: float, step: float = 5.0) -> None:
    """Move the virtual clock on by ``seconds``, polling and draining every ``step``."""
    end = clock.now() + seconds
    while clock.now() < end:
        clock.advance(min(step, end - clock.now()))
        session.poll_sources()
        session.drain()


def simulation_of(session: Session) -> DemoSimulation:
    return next(s for s in session.sources if isinstance(s, DemoSimulation))


# -- the demo ------------------------------------------------------------------------------------


def test_the_demo_declares_the_seed_reports_five_criteria(demo_session: Session) -> None:
    board = demo_session.workflow.board  # type: ignore[union-attr]
    assert [s.spec.id for s in board.statuses()] == DEMO_CRITERIA
    sustain = {s.spec.id: s.spec.sustain_s for s in board.statuses()}
    assert sustain["continuous-operation"] == 30 * 60


def test_during_the_incident_no_criterion_is_met(
    demo_session: Session, demo_clock: VirtualClock
) -> None:
    advance(demo_session, demo_clock, 20 * 60, step=10)  # twenty minutes, nobody acts
    board = demo_session.workflow.board  # type: ignore[union-attr]
    states = {s.spec.id: s for s in board.statuses()}
    assert all(s.state == "not_met" for s in states.values()), {
        k: (s.state, s.detail) for k, s in states.items()
    }
    assert "needs < 2.0 s" in states["fast-endpoints"].detail
    assert "VPC connector saturation" in states["connector-capacity"].detail
    assert states["connector-capacity"].since is not None
    assert states["connector-capacity"].since < DEMO_START  # breached since inside the history
    verdict = board.verdict()
    assert not verdict.recovered and verdict.met == 0 and verdict.total == 5
    assert verdict.text() == "NOT RECOVERED: 0 of 5 criteria met"
    assert not [e for e in demo_session.timeline if e.kind in ("criterion", "recovery")]


def test_after_the_remediation_all_are_met_once_sustained(
    demo_session: Session, demo_clock: VirtualClock
) -> None:
    simulation = simulation_of(demo_session)
    now = demo_clock.now()
    simulation.route_traffic("backend", {"netra-backend-staging-00750-69k": 100}, at=now)
    simulation.scale_connector("connector", min_instances=3, machine_type="e2-standard-4", at=now)
    board = demo_session.workflow.board  # type: ignore[union-attr]

    advance(demo_session, demo_clock, 15 * 60)
    early = {s.spec.id: s for s in board.statuses()}
    assert not board.verdict().recovered
    operation = early["continuous-operation"]
    assert operation.holding and operation.state == "not_met"
    assert 0 < operation.remaining_s < 30 * 60  # type: ignore[operator]
    assert "to go" in operation.detail

    advance(demo_session, demo_clock, 35 * 60)
    statuses = board.statuses()
    assert [s.state for s in statuses] == ["met"] * 5, [(s.spec.id, s.detail) for s in statuses]
    verdict = board.verdict()
    assert verdict.recovered and verdict.text() == "RECOVERED: all 5 criteria met"
    assert verdict.since == max(s.since for s in statuses)  # type: ignore[type-var]
    met_entries = [e for e in demo_session.timeline if e.kind == "criterion"]
    assert sorted(e.fields["criterion"] for e in met_entries) == sorted(DEMO_CRITERIA)
    recovery = [e for e in demo_session.timeline if e.kind == "recovery"]
    assert len(recovery) == 1 and recovery[0].fields["recovered"] is True
    # each criterion became met exactly its sustain period after it started holding
    for status in statuses:
        assert status.since == pytest.approx(status.holding_since + status.spec.sustain_s, abs=1e-3)


def test_status_json_carries_criteria_timers_and_probes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "console", "status", "--demo", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    criteria = status["criteria"]
    assert criteria["recovered"] is False and criteria["total"] == 5
    assert [c["id"] for c in criteria["items"]] == DEMO_CRITERIA
    assert {c["state"] for c in criteria["items"]} == {"not_met"}
    assert status["timers"][0]["id"] == "gcp-support"
    assert status["timers"][0]["state"] == "idle"
    golden = status["probes"]["golden-path"]
    assert golden["ok"] is False and golden["stopped_at"]
    assert golden["expected_events"] == 5


# -- the sustain timer, on a hand-fed session ---------------------------------------------------

RULES = """
[incident]
title = "criteria test"

[[services]]
id = "api"
kind = "cloud_run"
resource = "api"

[[services]]
id = "connector"
kind = "vpc_connector"
resource = "staging-connector"

[golden_path]
steps = ["api"]

[thresholds]
latency_p95_ms = { degraded = "1 s", failing = "2 s" }
saturation = { degraded = "80%", failing = "95%" }

[[criteria]]
id = "fast"
title = "API under 2 s"
series = ["api.latency_p95_ms"]
require = "< 2 s"
sustain = "5m"

[[criteria]]
id = "capacity"
title = "Connector below its degraded threshold"
series = ["connector.saturation"]
require = "< degraded"

[[criteria]]
id = "calm"
title = "No service failing for 10 minutes"
services = ["api", "connector"]
require = "not failing"
sustain = "10m"
"""


class Feed:
    """One sample per second for each series: a steady value, with exceptions at given times."""

    name = "feed"
    interval_s = 1.0
    expected_delay_s = 0.0

    def __init__(self, values: dict[SeriesKey, float]) -> None:
        self.values = dict(values)
        self.spikes: dict[float, dict[SeriesKey, float]] = {}
        self.silent: set[SeriesKey] = set()
        self._last: float | None = None

    def poll(self, now: float) -> Batch:
        end = math.floor(now)
        start = end if self._last is None else self._last + 1
        self._last = end
        batch = Batch(self.name, status=SourceStatus(self.name, "ok"))
        times = np.arange(start, end + 1, dtype=np.float64)
        for key, value in self.values.items():
            if key in self.silent or not len(times):
                continue
            values = np.array([self.spikes.get(t, {}).get(key, value) for t in times])
            batch.add(key, times, values)
        return batch

    def close(self) -> None:
        pass


@pytest.fixture
def rules() -> Workspace:
    return parse_workspace(RULES)


@pytest.fixture
def fed(rules: Workspace) -> Iterator[tuple[Session, VirtualClock, Feed]]:
    clock = VirtualClock(DEMO_START)
    feed = Feed({("api", "latency_p95_ms"): 300.0, ("connector", "saturation"): 0.5})
    session = Session(rules, clock, [feed])
    attach_workflow(session)
    session.poll_sources()
    session.drain()
    yield session, clock, feed
    session.stop()


def state(session: Session, criterion: str):
    status = session.workflow.board.status(criterion)  # type: ignore[union-attr]
    assert status is not None
    return status


def test_a_criterion_holds_then_is_met_after_its_sustain_period(fed) -> None:
    session, clock, _ = fed
    first = state(session, "fast")
    assert first.holding and first.remaining_s == pytest.approx(300.0)
    assert state(session, "capacity").state == "met"  # no sustain: met at once
    advance(session, clock, 299, step=1)
    assert state(session, "fast").holding
    assert state(session, "fast").remaining_s == pytest.approx(1.0)
    advance(session, clock, 1, step=1)
    met = state(session, "fast")
    assert met.state == "met" and met.since == DEMO_START + 300
    entries = [e for e in session.timeline if e.kind == "criterion"]
    assert [e.fields["criterion"] for e in entries] == ["capacity", "fast"]
    assert entries[-1].t == DEMO_START + 300


def test_any_breach_restarts_the_sustain_timer(fed) -> None:
    session, clock, feed = fed
    advance(session, clock, 240, step=1)
    assert state(session, "fast").remaining_s == pytest.approx(60.0)
    feed.spikes[DEMO_START + 241] = {("api", "latency_p95_ms"): 2400.0}
    advance(session, clock, 1, step=1)
    breached = state(session, "fast")
    assert breached.state == "not_met" and not breached.holding
    assert breached.since == DEMO_START + 241
    assert "api latency p95 2.4 s, needs < 2.0 s" in breached.detail
    advance(session, clock, 1, step=1)
    restarted = state(session, "fast")
    assert restarted.holding and restarted.holding_since == DEMO_START + 242
    assert restarted.remaining_s == pytest.approx(300.0)
    advance(session, clock, 300, step=1)
    assert state(session, "fast").state == "met"


def test_a_breach_between_two_drains_is_not_missed(fed) -> None:
    session, clock, feed = fed
    advance(session, clock, 200, step=60)
    feed.spikes[DEMO_START + 230] = {("api", "latency_p95_ms"): 5000.0}
    advance(session, clock, 60, step=60)  # one drain; the spike is already over by then
    status = state(session, "fast")
    assert status.holding and status.holding_since == DEMO_START + 231
    assert status.remaining_s == pytest.approx(300 - (clock.now() - (DEMO_START + 231)), abs=1e-3)


def test_losing_a_met_criterion_is_on_the_timeline(fed) -> None:
    session, clock, feed = fed
    advance(session, clock, 10, step=1)
    feed.values[("connector", "saturation")] = 0.85  # above degraded (80%)
    advance(session, clock, 1, step=1)
    capacity = state(session, "capacity")
    assert capacity.state == "not_met"
    assert "needs < 80%" in capacity.detail
    lost = [e for e in session.timeline if e.kind == "criterion"][-1]
    assert lost.text.startswith("✖ criterion breached after 11s met: Connector below")


def test_health_rule_not_failing_ignores_degradation_but_not_failure(fed) -> None:
    session, clock, feed = fed
    feed.values[("api", "latency_p95_ms")] = 1500.0  # degraded, not failing
    advance(session, clock, 600, step=10)
    assert state(session, "calm").state == "met"
    feed.values[("api", "latency_p95_ms")] = 2500.0  # failing
    advance(session, clock, 1, step=1)
    assert state(session, "calm").state == "not_met"


def test_no_data_or_stale_data_is_not_yet_measurable(fed) -> None:
    session, clock, feed = fed
    feed.silent.add(("connector", "saturation"))
    advance(session, clock, 60, step=5)
    capacity = state(session, "capacity")
    assert capacity.state == "unmeasurable" and capacity.word == "NOT YET MEASURABLE"
    assert capacity.detail.startswith("no fresh data for connector saturation")
    assert state(session, "calm").state == "unmeasurable"
    assert not session.workflow.board.verdict().recovered  # type: ignore[union-attr]
    feed.silent.clear()
    advance(session, clock, 1, step=1)
    assert state(session, "capacity").state == "met"


def test_a_probe_that_cannot_run_leaves_its_criterion_unmeasurable(
    demo_workspace: Workspace,
) -> None:
    from dataclasses import replace

    from console.probes import NetworkProbeRunner, ProbeSource
    from tests.probe_servers import memory_keyring

    workspace = replace(demo_workspace, simulation=None)
    spec = next(p for p in workspace.probes if p.id == "golden-path")
    spec = replace(spec, password="keyring:golden-path-probe")  # live, it needs its secret
    clock = VirtualClock(DEMO_START)
    with memory_keyring():  # empty: the password is not there
        session = Session(workspace, clock, [ProbeSource(spec, NetworkProbeRunner())])
        workflow = attach_workflow(session)
        session.poll_sources()
        session.drain()
    status = workflow.board.status("login-to-ai")
    assert status is not None and status.state == "unmeasurable"
    assert workflow.probe_problem("golden-path").startswith("secret missing: ")
    sources = [e for e in session.timeline if e.kind == "source"]
    assert sources and "secret missing" in sources[0].text


def test_a_failing_evaluation_is_reported_and_never_stops_the_drain(
    fed, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, clock, _ = fed
    workflow = session.workflow
    assert workflow is not None

    def broken(*args: object) -> list:
        raise ZeroDivisionError("injected fault")

    monkeypatch.setattr(workflow.board, "evaluate", broken)
    for _ in range(3):
        clock.advance(1)
        session.poll_sources()
        update = session.drain()
        assert update.changed_keys  # the samples still arrive (views, the flight recorder)
    reported = [e for e in session.timeline if e.fields.get("source") == "workflow"]
    assert [e.text for e in reported] == [
        "evaluating the recovery criteria failed: ZeroDivisionError: injected fault"
    ]
