"""Health evaluation: thresholds, staleness, blocking along dependencies, golden path, root cause.

Pure functions, tested with tables of cases on a small hand-built workspace shaped like the demo.
"""

from __future__ import annotations

import pytest

from console.health import evaluate, metric_level
from console.workspace import GoldenPathStep, Incident, Service, Threshold, Workspace

NOW = 1_000_000.0

THRESHOLDS = {
    "latency_p95_ms": Threshold("latency_p95_ms", 1000.0, 2000.0),
    "error_ratio": Threshold("error_ratio", 0.01, 0.05),
    "saturation": Threshold("saturation", 0.8, 0.95),
    "cpu_utilization": Threshold("cpu_utilization", 0.8, 0.95),
    "probe_success": Threshold("probe_success", 0.99, 0.9),
}


def make_workspace() -> Workspace:
    services = [
        Service("frontend", "Frontend", "cloud_run", "fe"),
        Service("auth", "Auth", "cloud_run", "auth", ("connector", "database")),
        Service("backend", "Backend", "cloud_run", "be", ("auth", "connector", "database")),
        Service("websocket", "WebSocket", "synthetic", "ws", ("backend",)),
        Service("chat", "Chat AI", "synthetic", "chat", ("websocket",)),
        Service("connector", "VPC connector", "vpc_connector", "staging-connector"),
        Service(
            "database",
            "Cloud SQL",
            "cloud_sql",
            "db",
            thresholds={"cpu_utilization": Threshold("cpu_utilization", 0.9, 0.97)},
        ),
    ]
    steps = tuple(
        GoldenPathStep(s, s.title()) for s in ("frontend", "auth", "backend", "websocket", "chat")
    )
    return Workspace(
        Incident("test incident"), {s.id: s for s in services}, steps, dict(THRESHOLDS)
    )


HEALTHY = {
    ("frontend", "latency_p95_ms"): 200.0,
    ("frontend", "error_ratio"): 0.0,
    ("auth", "latency_p95_ms"): 300.0,
    ("auth", "error_ratio"): 0.0,
    ("backend", "latency_p95_ms"): 400.0,
    ("backend", "error_ratio"): 0.0,
    ("websocket", "probe_success"): 1.0,
    ("chat", "probe_success"): 1.0,
    ("connector", "saturation"): 0.4,
    ("database", "cpu_utilization"): 0.6,
}

INCIDENT = {
    **HEALTHY,
    ("auth", "latency_p95_ms"): 12_000.0,
    ("auth", "error_ratio"): 0.15,
    ("backend", "latency_p95_ms"): 13_000.0,
    ("backend", "error_ratio"): 0.02,
    ("websocket", "probe_success"): 0.3,
    ("chat", "probe_success"): 0.0,
    ("connector", "saturation"): 1.0,
    ("database", "cpu_utilization"): 0.88,
}


def readings(values: dict, age: float = 0.0) -> dict:
    return {key: (NOW - age, value) for key, value in values.items()}


@pytest.mark.parametrize(
    ("value", "higher_is_worse", "expected"),
    [
        (500.0, True, "ok"),
        (1000.0, True, "degraded"),
        (1999.0, True, "degraded"),
        (2000.0, True, "failing"),
        (float("nan"), True, "ok"),
        (1.0, False, "ok"),
        (0.95, False, "degraded"),
        (0.9, False, "failing"),
        (0.0, False, "failing"),
    ],
)
def test_metric_level(value: float, higher_is_worse: bool, expected: str) -> None:
    threshold = Threshold("x", 1000.0, 2000.0) if higher_is_worse else Threshold("x", 0.99, 0.9)
    assert metric_level(value, threshold, higher_is_worse) == expected


def test_only_failing_limit_given() -> None:
    assert metric_level(1500.0, Threshold("x", None, 2000.0)) == "ok"
    assert metric_level(2500.0, Threshold("x", None, 2000.0)) == "failing"


def test_healthy_system_is_all_ok_with_a_whole_golden_path() -> None:
    report = evaluate(make_workspace(), readings(HEALTHY), NOW)
    assert {h.status for h in report.services.values()} == {"ok"}
    assert report.first_broken is None
    assert report.root_cause is None
    assert not any(step.broken for step in report.golden_path)


def test_the_seed_incident() -> None:
    report = evaluate(make_workspace(), readings(INCIDENT), NOW)
    status = {sid: h.status for sid, h in report.services.items()}
    assert status == {
        "frontend": "ok",
        "auth": "failing",
        "backend": "failing",
        "websocket": "failing",
        "chat": "failing",
        "connector": "failing",
        "database": "ok",  # its own override: degraded only from 90%
    }
    assert report.services["auth"].blocked_by == ("connector",)
    assert report.services["backend"].blocked_by == ("auth", "connector")
    assert report.services["chat"].blocked_by == ("websocket",)
    assert report.first_broken == "auth"
    assert report.root_cause == "connector"
    assert report.root_cause_candidates == ("connector",)
    findings = report.services["auth"].findings
    assert {f.metric for f in findings} == {"latency_p95_ms", "error_ratio"}
    assert all(f.level == "failing" for f in findings)
    latency = next(f for f in findings if f.metric == "latency_p95_ms")
    assert (latency.value, latency.limit) == (12_000.0, 2000.0)


@pytest.mark.parametrize(
    ("overrides", "service", "status", "blocked_by"),
    [
        # a dependency that fails blocks, even when the dependent's own numbers look fine
        ({("connector", "saturation"): 0.99}, "auth", "ok", ("connector",)),
        # blocking is transitive: websocket is blocked by backend, which is blocked by auth
        ({("auth", "error_ratio"): 0.5}, "websocket", "ok", ("backend",)),
        # a degraded dependency does not block
        ({("connector", "saturation"): 0.85}, "auth", "ok", ()),
        ({("connector", "saturation"): 0.85}, "connector", "degraded", ()),
        # lower-is-worse metric
        ({("chat", "probe_success"): 0.5}, "chat", "failing", ()),
    ],
)
def test_blocking_table(overrides: dict, service: str, status: str, blocked_by: tuple) -> None:
    report = evaluate(make_workspace(), readings({**HEALTHY, **overrides}), NOW)
    assert report.services[service].status == status
    assert report.services[service].blocked_by == blocked_by


def test_blocked_step_breaks_the_golden_path_even_without_its_own_failure() -> None:
    report = evaluate(
        make_workspace(), readings({**HEALTHY, ("connector", "saturation"): 1.0}), NOW
    )
    assert report.first_broken == "auth"
    assert report.root_cause == "connector"


def test_no_data_is_unknown_and_old_data_is_stale() -> None:
    values = dict(HEALTHY)
    del values[("chat", "probe_success")]
    fresh = readings(values)
    fresh[("frontend", "latency_p95_ms")] = (NOW - 600.0, 200.0)
    fresh[("frontend", "error_ratio")] = (NOW - 600.0, 0.0)
    report = evaluate(make_workspace(), fresh, NOW, stale_after_s=30.0)
    assert report.services["chat"].status == "unknown"
    assert report.services["frontend"].status == "stale"
    assert report.services["frontend"].age_s == pytest.approx(600.0)
    assert report.services["auth"].status == "ok"


def test_stale_limits_per_service() -> None:
    # Monitoring-fed services may be minutes old without being stale; probe-fed ones may not.
    report = evaluate(
        make_workspace(),
        readings(HEALTHY, age=200.0),
        NOW,
        stale_after_s={sid: 300.0 if sid != "chat" else 30.0 for sid in make_workspace().services},
    )
    assert report.services["auth"].status == "ok"
    assert report.services["chat"].status == "stale"


def test_stale_metric_is_ignored_while_others_are_fresh() -> None:
    values = readings(HEALTHY)
    values[("auth", "latency_p95_ms")] = (NOW - 999.0, 50_000.0)  # old spike no longer counts
    report = evaluate(make_workspace(), values, NOW, stale_after_s=30.0)
    assert report.services["auth"].status == "ok"


def test_several_root_causes_ranked_by_how_much_they_block() -> None:
    values = {
        **HEALTHY,
        ("database", "cpu_utilization"): 0.99,  # blocks auth and backend and everything after
        ("frontend", "error_ratio"): 0.2,  # fails, blocks nothing
    }
    report = evaluate(make_workspace(), readings(values), NOW)
    assert report.root_cause_candidates == ("database", "frontend")
    assert report.first_broken == "frontend"
