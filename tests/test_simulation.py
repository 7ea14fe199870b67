"""Tests of the demo simulation (``console.simulation``): determinism, schedule independence,
the seed incident's numbers, the API limits of its controls, recovery after the documented
remediation, bounded memory and logs. Virtual time only: no sleeps, no Qt, no wall clock.
"""

from __future__ import annotations

import threading
import tracemalloc

import numpy as np
import pytest

from console.health import Readings, evaluate
from console.metrics import METRICS_BY_KIND
from console.simulation import DemoSimulation, SimulatedApiError
from console.simulation_model import MAX_LOGS_PER_SECOND, ONSET_LEAD_S
from console.sources import Batch
from console.workspace import Workspace
from console.workspace_toml import demo_workspace_path, load_workspace

#: 2025-06-15 15:06:40 UTC: an afternoon, close to the model's daily load peak.
START = 1_750_000_000.0
OLD_REVISION = "netra-backend-staging-00749-6tr"
NEW_REVISION = "netra-backend-staging-00750-69k"
HOUR = 3600.0


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    return load_workspace(demo_workspace_path())


def values(batch: Batch, service: str, metric: str, since: float, until: float) -> np.ndarray:
    """The samples of one series with ``since <= t <= until``."""
    ts, vs = batch.samples[(service, metric)]
    return vs[(ts >= since) & (ts <= until)]


def readings_at(batch: Batch, t: float) -> Readings:
    """The latest reading at or before ``t`` of every series, as the session would hold it."""
    readings = {}
    for key, (ts, vs) in batch.samples.items():
        i = int(np.searchsorted(ts, t, side="right")) - 1
        if i >= 0:
            readings[key] = (float(ts[i]), float(vs[i]))
    return readings


def statuses_at(workspace: Workspace, batch: Batch, t: float) -> dict[str, str]:
    """Each service's own status at ``t`` by the workspace thresholds."""
    report = evaluate(workspace, readings_at(batch, t), t, stale_after_s=30.0)
    return {sid: health.status for sid, health in report.services.items()}


def incident_sim(workspace: Workspace, start: float = START, seed: int | None = None):
    """A simulation and its first batch (the history ending at ``start``)."""
    sim = DemoSimulation(workspace, start, seed)
    return sim, sim.poll(start)


# ---- the Source contract ---------------------------------------------------------------------


def test_first_poll_returns_the_history_of_every_canonical_metric(workspace: Workspace) -> None:
    sim, batch = incident_sim(workspace, START + 0.7)
    history = int(workspace.simulation.history_s)
    expected = {
        (sid, metric)
        for sid, service in workspace.services.items()
        for metric in METRICS_BY_KIND[service.kind]
    }
    assert set(batch.samples) == expected
    for key, (ts, vs) in batch.samples.items():
        assert ts.dtype == np.float64 and vs.dtype == np.float64, key
        assert np.all(np.isfinite(vs)), key
        if key[1] == "errors_5xx_per_min_logs":  # one count per whole minute, at its end
            assert np.all(np.diff(ts) == 60.0) and np.all(ts % 60 == 0), key
            assert len(ts) >= history // 60 - 1 and ts[-1] <= START, key
            continue
        assert len(ts) == history, key
        assert ts[-1] == START  # floor(start)
        assert np.all(np.diff(ts) == 1.0), key
    assert batch.status is not None
    assert (batch.status.name, batch.status.state, batch.status.message) == (
        "simulation",
        "ok",
        "demo simulation",
    )
    assert batch.status.expected_delay_s == 0.0
    assert (sim.name, sim.interval_s, sim.expected_delay_s) == ("simulation", 1.0, 0.0)


def test_later_polls_return_only_new_seconds_up_to_floor_of_now(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    batch = sim.poll(START + 10.9)
    ts, _ = batch.samples[("backend", "latency_p95_ms")]
    assert ts.tolist() == [START + i for i in range(1, 11)]
    assert sim.poll(START + 10.95).sample_count() == 0  # nothing new within the same second
    assert sim.poll(START + 11.0).samples[("auth", "error_ratio")][0].tolist() == [START + 11]


def test_close_stops_the_source(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    sim.close()
    batch = sim.poll(START + 60)
    assert batch.sample_count() == 0
    assert batch.status is not None and batch.status.state == "stopped"


# ---- determinism -----------------------------------------------------------------------------


def test_same_seed_and_start_give_identical_samples(workspace: Workspace) -> None:
    a = DemoSimulation(workspace, START).poll(START + 600)
    b = DemoSimulation(workspace, START).poll(START + 600)
    assert a.samples.keys() == b.samples.keys()
    for key in a.samples:
        assert a.samples[key][1].tobytes() == b.samples[key][1].tobytes(), key
    assert a.logs == b.logs


def test_a_different_seed_gives_different_samples(workspace: Workspace) -> None:
    a = DemoSimulation(workspace, START, seed=1).poll(START)
    b = DemoSimulation(workspace, START, seed=2).poll(START)
    differing = [k for k in a.samples if a.samples[k][1].tobytes() != b.samples[k][1].tobytes()]
    assert len(differing) > len(a.samples) // 2
    # ... but the same story: both are in the incident at start.
    for batch in (a, b):
        assert values(batch, "connector", "saturation", START, START)[0] >= 0.95


def test_seed_defaults_to_the_workspace_seed(workspace: Workspace) -> None:
    default = DemoSimulation(workspace, START).poll(START)
    explicit = DemoSimulation(workspace, START, seed=workspace.simulation.seed).poll(START)
    key = ("auth", "latency_p95_ms")
    assert default.samples[key][1].tobytes() == explicit.samples[key][1].tobytes()


def _concatenated(batches: list[Batch]) -> dict:
    keys = batches[0].samples.keys()
    return {
        key: (
            np.concatenate([b.samples[key][0] for b in batches if key in b.samples]),
            np.concatenate([b.samples[key][1] for b in batches if key in b.samples]),
        )
        for key in keys
    }


@pytest.mark.parametrize("step_s", [1.0, 37.0])
def test_samples_do_not_depend_on_the_poll_schedule(workspace: Workspace, step_s: float) -> None:
    start = START + 0.25
    end = start + 2 * HOUR
    whole = DemoSimulation(workspace, start).poll(end)

    stepped_sim = DemoSimulation(workspace, start)
    batches = [stepped_sim.poll(start)]
    now = start
    while now < end:
        now = min(end, now + step_s)
        batches.append(stepped_sim.poll(now))
    stepped = _concatenated(batches)

    assert stepped.keys() == whole.samples.keys()
    for key, (ts, vs) in whole.samples.items():
        assert ts.tobytes() == stepped[key][0].tobytes(), key
        assert vs.tobytes() == stepped[key][1].tobytes(), key
    assert [entry for b in batches for entry in b.logs] == whole.logs


def test_controls_at_the_same_times_give_the_same_samples_whatever_the_schedule(
    workspace: Workspace,
) -> None:
    def run(step_s: float) -> dict:
        sim = DemoSimulation(workspace, START)
        batches = [sim.poll(START)]
        sim.route_traffic("backend", {NEW_REVISION: 100}, at=START + 300)  # queued ahead
        now = START
        while now < START + 1800:
            now += step_s
            batches.append(sim.poll(now))
            if now == START + 600:
                sim.scale_connector("connector", machine_type="e2-standard-4", at=now)
        return _concatenated(batches)

    coarse, fine = run(300.0), run(20.0)
    for key in coarse:
        assert coarse[key][1].tobytes() == fine[key][1].tobytes(), key


# ---- the incident at start -------------------------------------------------------------------


def test_incident_numbers_at_start_match_the_report(workspace: Workspace) -> None:
    _, batch = incident_sim(workspace)
    last_5_min = (START - 300, START)

    def mean(service: str, metric: str) -> float:
        return float(values(batch, service, metric, *last_5_min).mean())

    assert 3500 < mean("auth", "latency_p50_ms") < 6000
    assert mean("auth", "latency_p95_ms") > 2000
    assert 9000 < mean("auth", "latency_p95_ms") < 15000
    assert 0.08 < mean("auth", "error_ratio") < 0.25
    assert 6 <= mean("auth", "instances_active") <= 10
    assert mean("backend", "latency_p95_ms") > 2000
    assert 4500 < mean("backend", "latency_p50_ms") < 8000
    assert 10000 < mean("backend", "latency_p95_ms") < 16000
    assert 0.2 < mean("backend", "requests_per_s") < 0.32
    assert abs(mean("backend", "instances_active") - 46) <= 2
    assert 1 <= mean("backend", "instances_idle") <= 6
    assert mean("frontend", "latency_p95_ms") < 1000
    assert values(batch, "frontend", "errors_5xx_per_s", *last_5_min).max() == 0.0
    assert 2 <= mean("frontend", "instances_active") <= 4
    assert 6 < mean("frontend", "requests_per_s") < 10
    assert values(batch, "connector", "saturation", *last_5_min).min() >= 0.95
    assert values(batch, "connector", "instances", *last_5_min).tolist() == [10.0] * 301
    assert mean("connector", "cpu_utilization") > 0.85
    assert 1e7 < mean("connector", "throughput_received_bps") < 1e8
    assert 0.85 <= mean("database", "cpu_utilization") <= 0.92
    assert 0.6 < mean("database", "memory_utilization") < 0.8
    assert mean("chat", "probe_success") < 0.1
    assert mean("websocket", "probe_success") < 0.9
    assert mean("websocket", "probe_latency_ms") > 2000


def test_backend_503s_per_hour_are_near_the_reported_fourteen(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    batch = sim.poll(START + HOUR)
    per_second = values(batch, "backend", "errors_5xx_per_s", START + 1, START + HOUR)
    # A trailing 60-second rate sampled every second sums to the count over the hour.
    assert 5 <= per_second.sum() <= 40
    backend_503_logs = [e for e in batch.logs if e.service == "backend"]
    assert 5 <= len(backend_503_logs) <= 40


@pytest.mark.parametrize("hour_utc", [2, 8, 14, 20])
def test_at_any_time_of_day_the_start_is_the_incident(workspace: Workspace, hour_utc: int) -> None:
    start = 1_749_945_600.0 + hour_utc * HOUR  # 2025-06-15 at hour_utc:00 UTC
    _, batch = incident_sim(workspace, start)
    statuses = statuses_at(workspace, batch, start)
    assert statuses == {
        "frontend": "ok",
        "auth": "failing",
        "backend": "failing",
        "websocket": "failing",
        "chat": "failing",
        "connector": "failing",
        "database": "degraded",
    }
    report = evaluate(workspace, readings_at(batch, start), start)
    assert report.first_broken == "auth"
    assert report.root_cause == "connector"


def test_the_history_shows_a_healthy_hour_then_the_onset(workspace: Workspace) -> None:
    sim, batch = incident_sim(workspace)
    before = START - 60 * 60 + 1
    assert set(statuses_at(workspace, batch, before).values()) == {"ok"}
    onset = START - ONSET_LEAD_S
    assert sim.onset_at == onset
    # Before the onset the backend runs one revision's worth of instances on a connector with room.
    assert values(batch, "backend", "instances_active", before, onset - 1).max() <= 27
    assert values(batch, "connector", "instances", before, onset - 1).max() < 10
    assert values(batch, "connector", "saturation", before, onset - 1).max() < 0.8
    assert values(batch, "backend", "errors_5xx_per_s", before, onset).max() == 0.0
    # After it, the new revision's instances arrive and the connector scales to its max.
    assert values(batch, "backend", "instances_active", onset + 300, START).min() >= 44
    assert values(batch, "connector", "instances", onset + 300, START).min() == 10
    # The golden path broke within minutes of the deploy, inside the history.
    assert onset < sim.incident_started_at < onset + 10 * 60
    just_before = sim.incident_started_at - 1
    assert statuses_at(workspace, batch, just_before)["connector"] != "failing"
    broke = sim.incident_started_at
    report = evaluate(workspace, readings_at(batch, broke), broke)
    assert report.first_broken is not None


def test_the_backend_shows_two_revisions_sharing_traffic(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    settings = sim.service_settings("backend")
    assert [(r.name, r.traffic_percent) for r in settings.revisions] == [
        (OLD_REVISION, 50),
        (NEW_REVISION, 50),
    ]
    assert all(r.ready for r in settings.revisions)
    assert abs(sum(r.instances for r in settings.revisions) - 46) <= 2
    connector = sim.connector_settings("connector")
    assert (connector.min_instances, connector.max_instances, connector.machine_type) == (
        2,
        10,
        "e2-micro",
    )
    assert connector.instances == 10


# ---- the API's limits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"min_instances": 3, "max_instances": 15}, "between 3 and 10"),  # the seed's own plan
        ({"min_instances": 1}, "at least 2"),
        ({"max_instances": 2}, "between 3 and 10"),
        ({"min_instances": 5, "max_instances": 5}, "lower than max"),
        ({"min_instances": 10}, "lower than max"),  # the existing max is 10
        ({"machine_type": "n1-standard-1"}, "machine_type"),
        ({}, "nothing to update"),
        ({"max_instances": 7.5}, "not an integer"),
    ],
)
def test_connector_changes_outside_the_api_limits_are_refused(
    workspace: Workspace, changes: dict, fragment: str
) -> None:
    sim, _ = incident_sim(workspace)
    with pytest.raises(SimulatedApiError) as refused:
        sim.scale_connector("connector", at=START, **changes)
    assert refused.value.code == "INVALID_ARGUMENT"
    assert fragment in str(refused.value)
    # A refused change changes nothing.
    assert sim.connector_settings("connector").max_instances == 10
    assert sim.connector_settings("connector").machine_type == "e2-micro"


@pytest.mark.parametrize(
    ("split", "fragment"),
    [
        ({NEW_REVISION: 60, OLD_REVISION: 30}, "add up to 100"),
        ({NEW_REVISION: 101}, "between 0 and 100"),
        ({"netra-backend-staging-00751-zzz": 100}, "does not exist"),
        ({}, "at least one"),
        ({NEW_REVISION: "100"}, "not an integer"),
    ],
)
def test_traffic_splits_the_api_would_refuse_are_refused(
    workspace: Workspace, split: dict, fragment: str
) -> None:
    sim, _ = incident_sim(workspace)
    with pytest.raises(SimulatedApiError) as refused:
        sim.route_traffic("backend", split, at=START)
    assert fragment in str(refused.value)
    assert [r.traffic_percent for r in sim.service_settings("backend").revisions] == [50, 50]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"max_instances": 0}, "between 1 and 1000"),
        ({"min_instances": -1}, ">= 0"),
        ({"min_instances": 5, "max_instances": 4}, "must not exceed"),
        ({}, "nothing to update"),
    ],
)
def test_service_scaling_the_api_would_refuse_is_refused(
    workspace: Workspace, changes: dict, fragment: str
) -> None:
    sim, _ = incident_sim(workspace)
    with pytest.raises(SimulatedApiError, match=fragment):
        sim.scale_service("backend", at=START, **changes)


def test_unknown_resources_are_not_found(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    for call in (
        lambda: sim.connector_settings("database"),
        lambda: sim.scale_connector("no-such-connector", max_instances=5, at=START),
        lambda: sim.service_settings("connector"),
        lambda: sim.route_traffic("chat", {"x": 100}, at=START),
        lambda: sim.scale_service("nope", max_instances=5, at=START),
    ):
        with pytest.raises(SimulatedApiError) as refused:
            call()
        assert refused.value.code == "NOT_FOUND"


def test_accepted_changes_are_reported_back(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    settings = sim.scale_connector(
        "connector", min_instances=3, machine_type="e2-standard-4", at=START
    )
    assert (settings.min_instances, settings.max_instances, settings.machine_type) == (
        3,
        10,
        "e2-standard-4",
    )
    assert settings.instances == 10  # connectors do not scale in
    assert sim.connector_settings("connector") == settings
    scaled = sim.scale_service("backend", max_instances=40, at=START)
    assert (scaled.min_instances, scaled.max_instances) == (0, 40)
    sim.route_traffic("backend", {NEW_REVISION: 100}, at=START)
    traffic = {r.name: r.traffic_percent for r in sim.service_settings("backend").revisions}
    assert traffic == {OLD_REVISION: 0, NEW_REVISION: 100}


# ---- remediation -----------------------------------------------------------------------------


def remediated(workspace: Workspace, *, pin: bool, scale: bool, minutes: float) -> Batch:
    """The incident after the chosen remediation at START, fast-forwarded ``minutes``."""
    sim, _ = incident_sim(workspace)
    if pin:
        sim.route_traffic("backend", {NEW_REVISION: 100}, at=START)
    if scale:
        sim.scale_connector("connector", min_instances=3, machine_type="e2-standard-4", at=START)
    return sim.poll(START + minutes * 60)


def test_the_documented_remediation_brings_everything_back(workspace: Workspace) -> None:
    batch = remediated(workspace, pin=True, scale=True, minutes=60)
    at_15_min = START + 15 * 60
    assert set(statuses_at(workspace, batch, at_15_min).values()) == {"ok"}
    window = (at_15_min, START + 60 * 60)
    assert values(batch, "auth", "latency_p95_ms", *window).max() < 1000
    assert values(batch, "backend", "latency_p95_ms", *window).max() < 1000
    assert 100 < values(batch, "auth", "latency_p50_ms", *window).mean() < 300
    assert 100 < values(batch, "backend", "latency_p50_ms", *window).mean() < 300
    assert values(batch, "auth", "error_ratio", *window).max() == 0.0
    assert values(batch, "backend", "error_ratio", *window).max() == 0.0
    assert values(batch, "connector", "saturation", *window).max() < 0.8
    assert values(batch, "websocket", "probe_success", *window).min() >= 0.99
    assert values(batch, "chat", "probe_success", *window).min() >= 0.99
    assert 0.55 <= values(batch, "database", "cpu_utilization", *window).mean() <= 0.65
    assert values(batch, "database", "cpu_utilization", *window).max() < 0.8
    assert values(batch, "backend", "instances_active", *window).max() <= 27
    # ... and it stays so for the rest of the hour.
    assert set(statuses_at(workspace, batch, START + 60 * 60).values()) == {"ok"}


def test_recovery_takes_minutes_not_seconds(workspace: Workspace) -> None:
    batch = remediated(workspace, pin=True, scale=True, minutes=20)
    one_minute_in = statuses_at(workspace, batch, START + 60)
    assert one_minute_in["backend"] == "failing"  # the backlog and the old instances linger
    assert values(batch, "chat", "probe_success", START + 60, START + 120).max() < 0.99
    assert set(statuses_at(workspace, batch, START + 15 * 60).values()) == {"ok"}


def test_pinning_traffic_alone_helps_only_partly(workspace: Workspace) -> None:
    nothing = remediated(workspace, pin=False, scale=False, minutes=45)
    pinned = remediated(workspace, pin=True, scale=False, minutes=45)
    window = (START + 30 * 60, START + 45 * 60)
    for service in ("auth", "backend"):
        assert (
            values(pinned, service, "latency_p95_ms", *window).mean()
            < values(nothing, service, "latency_p95_ms", *window).mean() / 3
        )
    statuses = statuses_at(workspace, pinned, START + 45 * 60)
    assert statuses["auth"] in ("degraded", "failing")
    assert statuses["backend"] in ("degraded", "failing")
    assert statuses["connector"] in ("degraded", "failing")  # still near its e2-micro max
    assert values(pinned, "backend", "instances_active", *window).max() <= 27


def test_scaling_the_connector_alone_helps(workspace: Workspace) -> None:
    batch = remediated(workspace, pin=False, scale=True, minutes=45)
    window = (START + 15 * 60, START + 45 * 60)
    assert values(batch, "connector", "saturation", *window).max() < 0.8
    assert values(batch, "auth", "latency_p95_ms", *window).max() < 1000
    assert values(batch, "backend", "latency_p95_ms", *window).max() < 1000
    # The two revisions still hold their 46 instances and more database connections than after
    # the full remediation.
    assert values(batch, "backend", "instances_active", *window).min() >= 44
    both = remediated(workspace, pin=True, scale=True, minutes=45)
    assert (
        values(batch, "database", "connections", *window).mean()
        > values(both, "database", "connections", *window).mean() + 30
    )


def test_without_action_the_incident_goes_on_for_hours(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    batch = sim.poll(START + 2 * HOUR)
    for minutes in range(10, 121, 10):
        statuses = statuses_at(workspace, batch, START + minutes * 60)
        assert statuses["frontend"] == "ok"
        for service in ("auth", "backend", "websocket", "chat", "connector"):
            assert statuses[service] == "failing", (minutes, service)
        assert statuses["database"] in ("degraded", "failing")
    assert values(batch, "backend", "errors_5xx_per_s", START + HOUR, START + 2 * HOUR).sum() >= 5


def test_a_drained_revision_sheds_its_instances_over_minutes(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    sim.route_traffic("backend", {NEW_REVISION: 100}, at=START)
    sim.poll(START + 30)
    old = sim.service_settings("backend").revisions[0]
    assert old.traffic_percent == 0 and old.instances >= 15
    sim.poll(START + 5 * 60)
    assert sim.service_settings("backend").revisions[0].instances == 0


def test_a_new_machine_type_replaces_instances_gradually(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    sim.scale_connector("connector", machine_type="e2-standard-4", at=START)
    batch = sim.poll(START + 10 * 60)
    saturation = values(batch, "connector", "saturation", START + 1, START + 10 * 60)
    # One e2-micro instance is replaced per ~30 s: capacity grows over minutes, not at once.
    assert saturation[:25].min() >= 0.95
    assert 0.3 < saturation[60] < 0.95
    assert saturation[-60:].max() < 0.4
    assert values(batch, "connector", "instances", START + 1, START + 600).max() == 10


def test_a_change_scheduled_ahead_waits_for_its_time(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    sim.route_traffic("backend", {NEW_REVISION: 100}, at=START + 600)
    sim.poll(START + 590)
    assert sim.service_settings("backend").revisions[0].instances >= 22
    sim.poll(START + 900)
    assert sim.service_settings("backend").revisions[0].instances == 0


def test_too_low_a_service_max_makes_requests_queue(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    sim.route_traffic("backend", {NEW_REVISION: 100}, at=START)
    sim.scale_connector("connector", min_instances=3, machine_type="e2-standard-4", at=START)
    sim.poll(START + 20 * 60)
    sim.scale_service("backend", max_instances=10, at=START + 20 * 60)
    capped = sim.poll(START + 30 * 60)
    window = (START + 25 * 60, START + 30 * 60)
    assert values(capped, "backend", "instances_active", *window).max() == 10
    assert values(capped, "backend", "latency_p95_ms", *window).max() < 1000  # enough still
    sim.scale_service("backend", max_instances=3, at=START + 30 * 60)
    starved = sim.poll(START + 40 * 60)
    window = (START + 35 * 60, START + 40 * 60)
    assert values(starved, "backend", "instances_active", *window).max() == 3
    assert values(starved, "backend", "latency_p95_ms", *window).mean() > 2000


# ---- logs ------------------------------------------------------------------------------------


def test_503s_are_logged_with_sensible_fields(workspace: Workspace) -> None:
    sim, history = incident_sim(workspace)
    batch = sim.poll(START + HOUR)
    logs = batch.logs
    assert logs, "the incident produces 503s"
    assert {e.service for e in logs} == {"auth", "backend"}
    for entry in logs:
        assert START < entry.t <= START + HOUR
        assert entry.status == 503 and entry.severity == "ERROR"
        assert entry.latency_ms is not None and 5_000 <= entry.latency_ms <= 25_000
        if entry.service == "backend":
            assert entry.revision in (OLD_REVISION, NEW_REVISION)
        else:
            assert entry.revision.startswith("netra-auth-service-")
    messages = {e.message.split("10.8.0.")[0] for e in logs}
    assert "upstream request timeout" in messages
    assert "Cloud SQL connection failed: socket timeout" in messages
    assert "connection to " in messages  # "connection to 10.8.0.x via VPC connector timed out"
    backend_revisions = {e.revision for e in logs if e.service == "backend"}
    assert backend_revisions == {OLD_REVISION, NEW_REVISION}
    assert history.logs and all(e.t <= START for e in history.logs)


def test_logs_match_the_error_metrics_and_stay_bounded(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    day = sim.poll(START + 24 * HOUR)  # a day fast-forwarded in one poll (about a second)
    ts, _ = day.samples[("backend", "latency_p95_ms")]
    assert ts.size == 24 * 3600 and np.all(np.diff(ts) == 1.0)
    errors = values(day, "auth", "errors_5xx_per_s", START + 1, START + 24 * HOUR).sum()
    errors += values(day, "backend", "errors_5xx_per_s", START + 1, START + 24 * HOUR).sum()
    # One entry per 503 (at most MAX_LOGS_PER_SECOND per service per second); the trailing
    # 60-second rate only blurs the day's two ends.
    assert abs(len(day.logs) - errors) <= 0.05 * errors + 30
    assert len(day.logs) < 50_000
    per_second: dict[tuple[str, int], int] = {}
    for entry in day.logs:
        key = (entry.service, int(np.ceil(entry.t)))
        per_second[key] = per_second.get(key, 0) + 1
    assert max(per_second.values()) <= MAX_LOGS_PER_SECOND


def test_no_503_logs_once_healthy(workspace: Workspace) -> None:
    batch = remediated(workspace, pin=True, scale=True, minutes=60)
    assert not [e for e in batch.logs if e.t > START + 15 * 60]


# ---- cost and memory -------------------------------------------------------------------------


@pytest.mark.slow
def test_memory_does_not_grow_with_simulated_time(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    sim.poll(START + HOUR)
    sizes_after_1h = sim.buffer_sizes()
    for hour in range(2, 7):
        sim.poll(START + hour * HOUR)
    assert sim.buffer_sizes() == sizes_after_1h
    assert sizes_after_1h["pending_history"] == 0
    assert sizes_after_1h["events"] == 0

    tracemalloc.start()
    try:
        sim.poll(START + 7 * HOUR)
        held_after_7h = tracemalloc.get_traced_memory()[0]
        for hour in range(8, 11):
            sim.poll(START + hour * HOUR)
        held_after_10h = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held_after_10h - held_after_7h < 512 * 1024


# ---- threads ---------------------------------------------------------------------------------


def test_controls_from_another_thread_while_polling(workspace: Workspace) -> None:
    sim, _ = incident_sim(workspace)
    errors: list[BaseException] = []
    polled: list[int] = []

    def poll_for_ten_minutes() -> None:
        try:
            for second in range(1, 601):
                polled.append(sim.poll(START + second).sample_count())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=poll_for_ten_minutes)
    worker.start()
    for _ in range(200):
        sim.connector_settings("connector")
        sim.service_settings("backend")
    sim.route_traffic("backend", {NEW_REVISION: 100}, at=START + 300)
    worker.join(timeout=60)
    assert not worker.is_alive() and not errors
    keys = sim.poll(START + 601).samples
    per_minute = sum(1 for _, metric in keys if metric == "errors_5xx_per_min_logs")
    per_second = len(keys) - per_minute
    assert per_minute == 0  # no minute ended in that second
    minute_series = sum(1 for s in workspace.services.values() if s.kind == "cloud_run")
    assert sum(polled) == 600 * per_second + 10 * minute_series
