"""The Cloud Logging source with the real client library against the fake LoggingServiceV2.

Listing (backfill, pages, catch-up), the live tail (entries within a poll, a stream dropping
mid-way, a refused tail falling back to listing, suppression notices, a tail that never answers)
and the per-minute 5xx counts (only whole, fully listed minutes; never a false zero), plus
UNAVAILABLE, PERMISSION_DENIED and RESOURCE_EXHAUSTED on the list.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import pytest
from google.cloud.logging_v2.types import ListLogEntriesRequest

from console.gcp.clients import build_logging_client
from console.gcp.logging_source import INGEST_LAG_S, LIST_EVERY_FALLBACK_S, LoggingSource
from console.sources import Batch
from tests.fakes.fake_logging import FakeLogging, app_log_entry, run_request_entry
from tests.fakes.scenario import PROJECT, REGION, failing_request_entries, incident_workspace

#: A whole minute; list-only tests run on this virtual time (the fake filters by timestamp).
NOW = 1_764_000_000.0


@pytest.fixture
def fake() -> Iterator[FakeLogging]:
    with FakeLogging() as server:
        yield server


@pytest.fixture
def make_source(fake: FakeLogging) -> Iterator:
    made: list[LoggingSource] = []

    def make(**options: object) -> LoggingSource:
        workspace = incident_workspace({"logging": f"http://{fake.address}"})
        settings = workspace.gcp
        assert settings is not None
        options = {"rpc_timeout_s": 2.0, "retry_deadline_s": 0.6, "poll_wait_s": 0.05, **options}
        source = LoggingSource(
            workspace,
            settings,
            lambda: build_logging_client(settings.logging_endpoint, None),
            **options,  # type: ignore[arg-type]
        )
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


def entry(service: str, status: int, t: float, insert_id: str, **fields: object) -> object:
    revision = f"{service}-00750-69k"
    return run_request_entry(
        project=PROJECT,
        service=service,
        revision=revision,
        status=status,
        latency_ms=float(fields.pop("latency_ms", 7200.0)),  # type: ignore[arg-type]
        t=t,
        insert_id=insert_id,
        **fields,  # type: ignore[arg-type]
    )


def counts(batch: Batch, service: str) -> dict[float, float]:
    times, values = batch.samples.get((service, "errors_5xx_per_min_logs"), ([], []))
    return dict(zip(list(times), list(values), strict=True))


# -- listing -------------------------------------------------------------------------------------


def test_backfill_lists_the_failing_requests_of_the_workspaces_services(
    fake: FakeLogging, make_source
) -> None:
    fake.add_entries(
        [
            entry("netra-backend-staging", 503, NOW - 100.0, "b1", message="upstream timeout"),
            entry("netra-backend-staging", 200, NOW - 90.0, "ok1"),
            entry("some-other-service", 500, NOW - 80.0, "other1"),
            app_log_entry(
                project=PROJECT,
                service="netra-auth-service",
                revision="netra-auth-service-00412-q2w",
                severity="ERROR",
                message="Cloud SQL socket timeout after 10 s",
                t=NOW - 70.0,
                insert_id="a1",
            ),
            entry("netra-backend-staging", 503, NOW - 5.0, "too-new"),  # not ingested yet
        ]
    )
    source = make_source(tail=False)
    batch = source.poll(NOW)
    assert batch.status is not None and batch.status.state == "ok", batch.status
    assert [(e.service, e.status, e.severity) for e in batch.logs] == [
        ("backend", 503, "ERROR"),
        ("auth", None, "ERROR"),
    ]
    backend, auth = batch.logs
    assert backend.revision == "netra-backend-staging-00750-69k"
    assert backend.latency_ms == pytest.approx(7200.0)
    assert backend.message == "upstream timeout" and backend.t == pytest.approx(
        NOW - 100.0, abs=1e-3
    )
    assert auth.message == "Cloud SQL socket timeout after 10 s"
    (request,) = fake.requests_of("ListLogEntries")
    pb = ListLogEntriesRequest.pb(request)
    assert list(pb.resource_names) == [f"projects/{PROJECT}"]
    assert (
        'resource.labels.service_name = ("netra-auth-service" OR "netra-backend-staging" OR '
        '"netra-frontend-staging")' in pb.filter
    )
    assert f'resource.labels.location = "{REGION}"' in pb.filter
    assert "(httpRequest.status >= 500 OR severity >= ERROR)" in pb.filter
    assert pb.order_by == "timestamp desc"


def test_every_page_is_read_and_a_repeated_line_is_kept_once(
    fake: FakeLogging, make_source
) -> None:
    fake.add_entries(failing_request_entries(NOW - INGEST_LAG_S - 1.0, minutes=3))  # 81 lines
    fake.max_page_size = 9
    source = make_source(tail=False)
    first = source.poll(NOW)
    assert len(first.logs) == 81
    assert source.list_calls == fake.calls["ListLogEntries"] == 9
    again = source.poll(NOW + LIST_EVERY_FALLBACK_S)  # the overlap lists the newest again
    assert again.logs == []


def test_minute_counts_come_from_fully_listed_minutes_only(fake: FakeLogging, make_source) -> None:
    fake.add_entries(
        [entry("netra-backend-staging", 503, NOW - 250.0 + i, f"m4-{i}") for i in range(3)]
        + [entry("netra-auth-service", 502, NOW - 110.0, "m2-0")]
        + [entry("netra-backend-staging", 504, NOW - 55.0, "m1-0")]  # in an unfinished minute
    )
    batch = make_source(tail=False, backfill_s=300.0).poll(NOW)
    # Listed [NOW-310, NOW-10]: whole minutes end at NOW-240 … NOW-60; zeros are real zeros.
    assert counts(batch, "backend") == {
        NOW - 240.0: 3.0,
        NOW - 180.0: 0.0,
        NOW - 120.0: 0.0,
        NOW - 60.0: 0.0,
    }
    assert counts(batch, "auth")[NOW - 60.0] == 1.0


def test_a_minute_the_list_could_not_read_whole_gets_no_count(
    fake: FakeLogging, make_source
) -> None:
    fake.add_entries(
        [entry("netra-backend-staging", 503, NOW - 250.0 + i, f"old-{i}") for i in range(40)]
    )
    fake.max_page_size = 10
    source = make_source(tail=False, backfill_s=300.0)
    source.max_pages = 2  # only the newest 20 lines: the list is cut short
    batch = source.poll(NOW)
    assert len(batch.logs) == 20
    # The newest 20 lines reach back to NOW-230: the minute ending NOW-180 (which had 30 lines)
    # was read in part, so it gets no count at all: neither a false 20 nor a false zero.
    assert counts(batch, "backend") == {NOW - 120.0: 0.0, NOW - 60.0: 0.0}


# -- list faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "state", "words"),
    [
        ("UNAVAILABLE", "error", "unavailable"),
        ("PERMISSION_DENIED", "unauthorized", "roles/logging.viewer"),
        ("RESOURCE_EXHAUSTED", "quota", "backing off"),
    ],
)
def test_list_faults_become_the_status_and_listing_resumes(
    fake: FakeLogging, make_source, code: str, state: str, words: str
) -> None:
    fake.add_entries([entry("netra-backend-staging", 503, NOW - 30.0, "x1")])
    source = make_source(tail=False)
    fake.faults.fail("ListLogEntries", code, times=-1, message="fake fault")
    batch = source.poll(NOW)
    assert batch.status is not None and batch.status.state == state
    assert words in batch.status.message
    assert not batch.logs
    fake.faults.clear()
    later = source.poll(NOW + 600.0)  # after any back-off
    assert later.status is not None and later.status.state == "ok"
    assert [e.status for e in later.logs] == [503]


def test_a_list_that_never_answers_times_out(fake: FakeLogging, make_source) -> None:
    fake.faults.hang("ListLogEntries")
    batch = make_source(tail=False, rpc_timeout_s=0.3, retry_deadline_s=0.5).poll(NOW)
    assert batch.status is not None and batch.status.state == "error"
    assert "deadline exceeded" in batch.status.message
    fake.faults.release()


# -- the tail ------------------------------------------------------------------------------------


def start_tailing(source: LoggingSource, fake: FakeLogging, now: float) -> None:
    """Backfill, open the tail and wait until the fake holds the stream."""
    source.poll(now)
    source.poll(now)
    assert fake.wait_for_tails(1), "the tail stream did not open"
    source.poll_wait_s = 10.0  # from here a poll returns as soon as tailed entries arrive


def test_a_tailed_entry_arrives_at_the_next_poll(fake: FakeLogging, make_source) -> None:
    now = time.time()
    source = make_source()
    start_tailing(source, fake, now)
    (tail_request,) = fake.requests_of("TailLogEntries")
    assert tail_request.filter == source.filter
    fake.publish(
        [
            entry("netra-backend-staging", 503, now, "live-1", message="connector saturated"),
            entry("netra-backend-staging", 200, now, "live-ok"),  # not a failure: not tailed
        ]
    )
    batch = source.poll(now + 1.0)
    assert [(e.service, e.status, e.message) for e in batch.logs] == [
        ("backend", 503, "connector saturated")
    ]
    assert batch.status is not None and batch.status.message.startswith("tailing")


def test_a_tail_dropping_mid_way_reconnects_and_the_gap_is_listed(
    fake: FakeLogging, make_source
) -> None:
    now = time.time()
    source = make_source()
    start_tailing(source, fake, now)
    fake.publish([entry("netra-auth-service", 503, now - INGEST_LAG_S - 5, "before")])
    assert [e.status for e in source.poll(now + 1.0).logs] == [503]
    assert fake.drop_tails(grpc.StatusCode.UNAVAILABLE, "connection reset") == 1
    # Lines written while the stream was down reach the logs by listing, not by the tail.
    fake.add_entries([entry("netra-auth-service", 503, now - INGEST_LAG_S - 2, "in-the-gap")])
    batch = source.poll(now + 2.0)
    (notice,) = [e for e in batch.logs if not e.service]
    assert "live tail dropped" in notice.message and "connection reset" in notice.message
    lines = [e.t for e in batch.logs if e.service]
    assert lines == [pytest.approx(now - INGEST_LAG_S - 2, abs=1e-3)]  # listed once, no duplicates
    assert fake.wait_for_tails(1), "the tail did not reconnect"
    fake.publish([entry("netra-auth-service", 503, now + 3.0, "after")])
    after = source.poll(now + 3.0)
    assert [e.t for e in after.logs] == [pytest.approx(now + 3.0, abs=1e-3)]
    assert fake.calls["TailLogEntries"] == 2


def test_a_refused_tail_falls_back_to_listing(fake: FakeLogging, make_source) -> None:
    now = time.time()
    fake.faults.fail("TailLogEntries", "PERMISSION_DENIED", times=-1, message="tail denied")
    source = make_source()
    source.poll(now)
    source.poll_wait_s = 10.0
    batch = source.poll(now)  # starts the tail; the refusal arrives within the wait
    assert batch.status is not None and batch.status.state == "ok"
    assert "tail unavailable" in batch.status.message
    assert "roles/logging.viewer" in batch.status.message
    assert f"listing every {LIST_EVERY_FALLBACK_S:g} s" in batch.status.message
    fake.add_entries([entry("netra-backend-staging", 503, now - INGEST_LAG_S, "listed")])
    source.poll_wait_s = 0.05
    listed = source.poll(now + LIST_EVERY_FALLBACK_S)
    assert [e.status for e in listed.logs] == [503]
    assert fake.calls["TailLogEntries"] == 1  # not retried before TAIL_RETRY_S


def test_suppressed_entries_are_shown_not_hidden(fake: FakeLogging, make_source) -> None:
    now = time.time()
    source = make_source()
    start_tailing(source, fake, now)
    fake.suppress(37)
    batch = source.poll(now + 1.0)
    (notice,) = batch.logs
    assert notice.service == "" and notice.severity == "NOTICE"
    assert "suppressed 37 entries" in notice.message and "rate_limit" in notice.message
    assert batch.status is not None
    assert "37 entries suppressed by the tail" in batch.status.message


def test_a_tail_that_never_answers_does_not_hold_up_the_source(
    fake: FakeLogging, make_source
) -> None:
    now = time.time()
    fake.faults.hang("TailLogEntries")
    fake.add_entries([entry("netra-backend-staging", 503, now - 60.0, "listed")])
    source = make_source()
    first = source.poll(now)
    assert [e.status for e in first.logs] == [503]
    second = source.poll(now + 1.0)  # the tail hangs on its own thread
    assert second.status is not None and second.status.state == "ok"
    tail = source._tail
    assert tail is not None and tail.alive
    source.close()
    tail.thread.join(10)
    assert not tail.thread.is_alive()
    fake.faults.release()
