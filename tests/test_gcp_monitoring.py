"""The Cloud Monitoring source with the real client library against the fake MetricService.

What Google would compute (rates summed over revisions, percentiles of merged distributions,
instances by state), one call per query for all services, every page, incremental polls, and the
faults: empty results, points out of order and duplicated, NaN and missing values, UNAVAILABLE,
DEADLINE_EXCEEDED, PERMISSION_DENIED, RESOURCE_EXHAUSTED and a server that never answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from google.cloud import monitoring_v3

from console.gcp.clients import build_metric_client
from console.gcp.monitoring_source import ALIGNMENT_PERIOD_S, SETTLE_S, MonitoringSource
from console.resource_state import ConnectorState, ResourceStateCache
from console.sources import Batch
from tests.fakes.fake_monitoring import FakeMonitoring
from tests.fakes.scenario import CONNECTOR, REGION, incident_workspace, seed_monitoring

#: A whole minute, so windows are easy to count.
NOW = 1_764_000_000.0
#: The newest window a poll at NOW reports ends here (Monitoring's settling delay).
LAST = NOW - SETTLE_S
BACKFILL_WINDOWS = 10


@pytest.fixture
def fake() -> Iterator[FakeMonitoring]:
    with FakeMonitoring() as server:
        yield server


def connector_cache(max_instances: int = 10) -> ResourceStateCache:
    cache = ResourceStateCache()
    cache.update(
        {"connector": ConnectorState("connector", CONNECTOR, "READY", "e2-micro", 2, max_instances)}
    )
    return cache


@pytest.fixture
def make_source(fake: FakeMonitoring) -> Iterator:
    made: list[MonitoringSource] = []

    def make(
        *, extra_services: int = 0, cache: ResourceStateCache | None = None, **options: float
    ) -> MonitoringSource:
        workspace = incident_workspace(
            {"monitoring": f"http://{fake.address}"},
            extra_services=extra_services,
            backfill=f"{BACKFILL_WINDOWS}m",
        )
        settings = workspace.gcp
        assert settings is not None
        options = {"rpc_timeout_s": 2.0, "retry_deadline_s": 1.0, **options}
        source = MonitoringSource(
            workspace,
            settings,
            lambda: build_metric_client(settings.monitoring_endpoint, None),
            cache,
            **options,
        )
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


def latest(batch: Batch, service: str, metric: str) -> float:
    _, values = batch.samples[(service, metric)]
    return float(values[-1])


def exponential_bucket(value: float, growth: float = 1.4) -> tuple[float, float]:
    """The bounds of Google's exponential bucket (scale 1, growth 1.4) holding ``value``."""
    index = math.floor(math.log(value) / math.log(growth))
    return growth**index, growth ** (index + 1)


# -- what Google would compute -------------------------------------------------------------------


def test_values_are_what_google_computes(fake: FakeMonitoring, make_source) -> None:
    seed_monitoring(fake, NOW)
    source = make_source(cache=connector_cache())
    batch = source.poll(NOW)
    assert batch.status is not None and batch.status.state == "ok", batch.status
    # Backend: two revisions × 90 requests a minute, 18 of them 5xx: rates summed over revisions.
    assert latest(batch, "backend", "requests_per_s") == pytest.approx(3.0)
    assert latest(batch, "backend", "errors_5xx_per_s") == pytest.approx(0.6)
    assert latest(batch, "backend", "error_ratio") == pytest.approx(0.2)
    assert latest(batch, "auth", "error_ratio") == pytest.approx(0.15)
    assert latest(batch, "frontend", "errors_5xx_per_s") == 0.0
    # Every Backend request took 7.2 s: the percentile lies in the bucket holding 7200 ms.
    low, high = exponential_bucket(7200.0)
    for metric in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"):
        assert low <= latest(batch, "backend", metric) <= high, metric
    # Instances summed over revisions, by state; utilizations as means.
    assert latest(batch, "backend", "instances_active") == 46.0
    assert latest(batch, "backend", "instances_idle") == 2.0
    assert latest(batch, "backend", "cpu_utilization") == pytest.approx(0.42)
    assert latest(batch, "connector", "throughput_sent_bps") == pytest.approx(100_000.0)
    assert latest(batch, "connector", "throughput_received_bps") == pytest.approx(200_000.0)
    assert latest(batch, "connector", "instances") == 10.0
    # Saturation: 10 instances at 97 % CPU against the configured maximum of 10.
    assert latest(batch, "connector", "saturation") == pytest.approx(0.97)
    assert latest(batch, "database", "cpu_utilization") == pytest.approx(0.88)
    assert latest(batch, "database", "connections") == 95.0
    # One point per settled minute of the backfill, the newest at NOW - SETTLE_S.
    times, _ = batch.samples[("backend", "requests_per_s")]
    assert times[-1] == LAST
    assert np.all(np.diff(times) == ALIGNMENT_PERIOD_S) and len(times) == BACKFILL_WINDOWS


def test_percentiles_merge_the_revisions_distributions(fake: FakeMonitoring, make_source) -> None:
    """One revision fast, one slow, as many requests each: p95 is the slow one's, p50 between."""
    for revision, latency in (
        ("netra-backend-staging-00749-6tr", 100.0),
        ("netra-backend-staging-00750-69k", 900.0),
    ):
        fake.add_series(
            "run.googleapis.com/request_latencies",
            "cloud_run_revision",
            {
                "service_name": "netra-backend-staging",
                "revision_name": revision,
                "location": REGION,
            },
            [(NOW - 150.0, [latency] * 50)],
            kind="DELTA",
            value_type="DISTRIBUTION",
        )
    batch = make_source().poll(NOW)
    low, high = exponential_bucket(900.0)
    assert low <= latest(batch, "backend", "latency_p95_ms") <= high
    assert latest(batch, "backend", "latency_p50_ms") <= exponential_bucket(100.0)[1]
    # The queries run concurrently, so find the latency requests by content, not position.
    latency_requests = [
        monitoring_v3.ListTimeSeriesRequest.pb(r)
        for r in fake.requests_of("ListTimeSeries")
        if "request_latencies" in r.filter
    ]
    reducers = {r.aggregation.cross_series_reducer for r in latency_requests}
    assert monitoring_v3.Aggregation.Reducer.REDUCE_PERCENTILE_50 in reducers
    assert monitoring_v3.Aggregation.Reducer.REDUCE_PERCENTILE_95 in reducers
    for request in latency_requests:
        assert request.aggregation.per_series_aligner == (
            monitoring_v3.Aggregation.Aligner.ALIGN_DELTA
        )
        assert list(request.aggregation.group_by_fields) == ["resource.label.service_name"]


def test_each_query_asks_for_every_service_with_the_right_aggregation(
    fake: FakeMonitoring, make_source
) -> None:
    source = make_source()
    source.poll(NOW)
    requests = [
        monitoring_v3.ListTimeSeriesRequest.pb(r) for r in fake.requests_of("ListTimeSeries")
    ]
    assert len(requests) == len(source.queries)
    by_type = {r.filter.split('"')[1]: r for r in requests}
    counts = by_type["run.googleapis.com/request_count"]
    assert counts.name == "projects/netra-staging"
    assert (
        'resource.label.service_name = one_of("netra-auth-service","netra-backend-staging",'
        '"netra-frontend-staging")' in counts.filter
    )
    assert f'resource.label.location = "{REGION}"' in counts.filter
    assert counts.aggregation.per_series_aligner == monitoring_v3.Aggregation.Aligner.ALIGN_RATE
    assert counts.aggregation.cross_series_reducer == monitoring_v3.Aggregation.Reducer.REDUCE_SUM
    assert list(counts.aggregation.group_by_fields) == [
        "resource.label.service_name",
        "metric.label.response_code_class",
    ]
    assert counts.aggregation.alignment_period.seconds == ALIGNMENT_PERIOD_S
    assert counts.interval.end_time.seconds == LAST
    assert counts.interval.start_time.seconds == LAST - BACKFILL_WINDOWS * 60
    sql = by_type["cloudsql.googleapis.com/database/cpu/utilization"]
    assert 'resource.label.database_id = one_of("netra-staging:netra-staging-db")' in sql.filter


# -- calls and pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("extra_services", [0, 27])
def test_one_call_per_query_whatever_the_number_of_services(
    fake: FakeMonitoring, make_source, extra_services: int
) -> None:
    """3 and 30 Cloud Run services: the same number of calls, each naming all of them."""
    seed_monitoring(fake, NOW, minutes=12, extra_services=extra_services)
    source = make_source(extra_services=extra_services)
    batch = source.poll(NOW)
    assert fake.calls["ListTimeSeries"] == len(source.queries) == 15
    run_services = 3 + extra_services
    assert sum(1 for sid, metric in batch.samples if metric == "requests_per_s") == run_services
    for request in fake.requests_of("ListTimeSeries"):
        if "run.googleapis.com" in request.filter:
            assert request.filter.count('"extra-svc-') == extra_services


def test_every_page_is_followed(fake: FakeMonitoring, make_source) -> None:
    seed_monitoring(fake, NOW, minutes=12, extra_services=7)
    whole = make_source(extra_services=7).poll(NOW)
    fake.reset_counts()
    fake.max_page_size = 1
    source = make_source(extra_services=7)
    paged = source.poll(NOW)
    assert fake.calls["ListTimeSeries"] == source.calls > len(source.queries) * 5
    assert paged.samples.keys() == whole.samples.keys()
    for key, (times, values) in whole.samples.items():
        assert np.array_equal(paged.samples[key][0], times), key
        assert np.allclose(paged.samples[key][1], values), key


# -- awkward data --------------------------------------------------------------------------------


def test_empty_results_give_zero_requests_and_no_latency(fake: FakeMonitoring, make_source) -> None:
    batch = make_source().poll(NOW)
    assert batch.status is not None and batch.status.state == "ok"
    times, values = batch.samples[("frontend", "requests_per_s")]
    assert len(times) == BACKFILL_WINDOWS and np.all(values == 0.0)
    assert np.all(batch.samples[("frontend", "error_ratio")][1] == 0.0)
    assert ("frontend", "latency_p95_ms") not in batch.samples
    assert ("database", "cpu_utilization") not in batch.samples


def test_points_out_of_order_and_duplicated_are_sorted_and_deduplicated(
    fake: FakeMonitoring, make_source
) -> None:
    seed_monitoring(fake, NOW, minutes=12)
    clean = make_source(cache=connector_cache()).poll(NOW)
    fake.shuffle_points = True
    fake.duplicate_points = True
    messy = make_source(cache=connector_cache()).poll(NOW)
    assert messy.samples.keys() == clean.samples.keys()
    for key, (times, values) in messy.samples.items():
        assert np.all(np.diff(times) > 0), key
        assert np.array_equal(times, clean.samples[key][0]), key
        assert np.allclose(values, clean.samples[key][1]), key


def test_nan_and_missing_values_are_dropped_not_zeroed(fake: FakeMonitoring, make_source) -> None:
    minutes = [NOW - 60.0 * i - 150.0 for i in range(6)]  # windows ending LAST, LAST-60, ...
    values: list[float | None] = [0.5, math.nan, 0.7, None, 0.9, 0.6]
    fake.add_series(
        "cloudsql.googleapis.com/database/cpu/utilization",
        "cloudsql_database",
        {"database_id": "netra-staging:netra-staging-db"},
        list(zip(minutes, values, strict=True)),
    )
    batch = make_source().poll(NOW)
    times, got = batch.samples[("database", "cpu_utilization")]
    assert np.all(np.isfinite(got))
    kept = {t: v for t, v in zip(times.tolist(), got.tolist(), strict=True)}
    expected = {LAST - 60.0 * i: v for i, v in enumerate(values) if v is not None and v == v}
    assert kept == pytest.approx(expected)


# -- polling -------------------------------------------------------------------------------------


def test_later_polls_ask_only_for_the_new_window(fake: FakeMonitoring, make_source) -> None:
    seed_monitoring(fake, NOW + 60.0, minutes=14)
    source = make_source()
    source.poll(NOW)
    fake.reset_counts()
    batch = source.poll(NOW + ALIGNMENT_PERIOD_S)
    assert fake.calls["ListTimeSeries"] == len(source.queries)
    for request in fake.requests_of("ListTimeSeries"):
        pb = monitoring_v3.ListTimeSeriesRequest.pb(request)
        assert pb.interval.start_time.seconds == LAST
        assert pb.interval.end_time.seconds == LAST + ALIGNMENT_PERIOD_S
    times, values = batch.samples[("backend", "requests_per_s")]
    assert times.tolist() == [LAST + ALIGNMENT_PERIOD_S] and values[0] == pytest.approx(3.0)
    fake.reset_counts()
    source.poll(NOW + ALIGNMENT_PERIOD_S + 10.0)  # no whole new window yet: nothing to ask
    assert fake.calls["ListTimeSeries"] == 0


def test_saturation_waits_for_the_connectors_maximum(fake: FakeMonitoring, make_source) -> None:
    seed_monitoring(fake, NOW + 60.0, minutes=14)
    cache = ResourceStateCache()
    source = make_source(cache=cache)
    first = source.poll(NOW)
    assert ("connector", "instances") in first.samples
    assert ("connector", "saturation") not in first.samples
    limits = ConnectorState("connector", CONNECTOR, "READY", "e2-micro", 2, 8)
    cache.update({"connector": limits})
    second = source.poll(NOW + ALIGNMENT_PERIOD_S)
    times, values = second.samples[("connector", "saturation")]
    assert len(times) == BACKFILL_WINDOWS + 1  # the backfill's windows too, once known
    assert np.allclose(values, 1.0)  # 10 instances × 97 % against a maximum of 8: capped at 100 %


# -- faults --------------------------------------------------------------------------------------


def test_unavailable_is_an_error_and_the_next_poll_catches_up(
    fake: FakeMonitoring, make_source
) -> None:
    seed_monitoring(fake, NOW + 120.0, minutes=16)
    source = make_source(retry_deadline_s=0.6)
    assert source.poll(NOW).status.state == "ok"  # type: ignore[union-attr]
    fake.reset_counts()
    fake.faults.fail("ListTimeSeries", "UNAVAILABLE", times=-1, message="backend restarting")
    batch = source.poll(NOW + 60.0)
    assert batch.status is not None and batch.status.state == "error"
    assert "unavailable" in batch.status.message and "backend restarting" in batch.status.message
    assert not batch.samples
    assert fake.calls["ListTimeSeries"] >= 2  # retried, within the bounded deadline
    fake.faults.clear()
    later = source.poll(NOW + 120.0)
    assert later.status is not None and later.status.state == "ok"
    times, _ = later.samples[("backend", "requests_per_s")]
    assert times.tolist() == [LAST + 60.0, LAST + 120.0]  # the missed window is caught up


def test_deadline_exceeded_is_an_error(fake: FakeMonitoring, make_source) -> None:
    fake.faults.delay(1.5, "ListTimeSeries")
    batch = make_source(rpc_timeout_s=0.2, retry_deadline_s=0.5).poll(NOW)
    assert batch.status is not None and batch.status.state == "error"
    assert "deadline exceeded" in batch.status.message


def test_permission_denied_names_the_role_to_grant(fake: FakeMonitoring, make_source) -> None:
    fake.faults.fail(
        "ListTimeSeries",
        "PERMISSION_DENIED",
        message="Permission monitoring.timeSeries.list denied on resource projects/netra-staging",
    )
    batch = make_source().poll(NOW)
    assert batch.status is not None and batch.status.state == "unauthorized"
    assert "roles/monitoring.viewer" in batch.status.message
    assert "monitoring.timeSeries.list" in batch.status.message
    assert fake.calls["ListTimeSeries"] == 1  # a permission error is not retried


def test_quota_exhausted_backs_off(fake: FakeMonitoring, make_source) -> None:
    source = make_source()
    fake.faults.fail("ListTimeSeries", "RESOURCE_EXHAUSTED", message="Quota exceeded")
    batch = source.poll(NOW)
    assert batch.status is not None and batch.status.state == "quota"
    assert fake.calls["ListTimeSeries"] == 1
    during = source.poll(NOW + 30.0)
    assert during.status is not None and during.status.state == "quota"
    assert "next try in 30 s" in during.status.message
    assert fake.calls["ListTimeSeries"] == 1  # no call while backing off
    after = source.poll(NOW + 61.0)
    assert after.status is not None and after.status.state == "ok"
    assert fake.calls["ListTimeSeries"] == 1 + len(source.queries)


def test_a_server_that_never_answers_times_out(fake: FakeMonitoring, make_source) -> None:
    fake.faults.hang("ListTimeSeries")
    batch = make_source(rpc_timeout_s=0.3, retry_deadline_s=0.5).poll(NOW)
    assert batch.status is not None and batch.status.state == "error"
    assert "deadline exceeded" in batch.status.message
    fake.faults.release()
