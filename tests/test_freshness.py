"""``console.freshness``: how old the data is, what is stale, which source fails and since when,
and the sentences a banner says about it. Headless, on a virtual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.clock import VirtualClock
from console.freshness import FreshnessWatch, clock_text, freshness_alerts
from console.session import Session
from console.sources import Batch, SourceStatus
from console.workspace import Workspace
from tests.conftest import CONNECTOR_DOWN, ScriptedSource


class SwitchableSource(ScriptedSource):
    """The scripted source, silenced or given a status by the test."""

    def __init__(self) -> None:
        super().__init__(CONNECTOR_DOWN)
        self.silent = False
        self.status: SourceStatus | None = None

    def poll(self, now: float) -> Batch:
        if self.status is not None:
            return Batch(self.name, status=self.status)
        if self.silent:
            return Batch(self.name, status=SourceStatus(self.name, "ok"))
        return super().poll(now)


@pytest.fixture
def source() -> SwitchableSource:
    return SwitchableSource()


@pytest.fixture
def session(
    demo_workspace: Workspace, demo_clock: VirtualClock, source: SwitchableSource
) -> Iterator[Session]:
    session = Session(demo_workspace, demo_clock, [source], read_only=True)
    yield session
    session.stop()


def advance(session: Session, clock: VirtualClock, seconds: float) -> None:
    clock.advance(seconds)
    session.poll_sources()
    session.drain()


def test_before_any_data_the_source_is_waiting(session: Session) -> None:
    report = FreshnessWatch(session).assess()
    assert report.newest_t is None and report.data_age_s is None
    assert report.waiting == ("scripted",)
    assert not report.live
    alerts = freshness_alerts(report, session.workspace)
    assert [a.kind for a in alerts] == ["waiting"]
    assert alerts[0].headline == "? NO DATA YET · waiting for scripted"


def test_fresh_data_is_live(session: Session, demo_clock: VirtualClock) -> None:
    advance(session, demo_clock, 0)
    advance(session, demo_clock, 3)
    report = FreshnessWatch(session).assess()
    assert report.live
    assert report.data_age_s == 0
    assert freshness_alerts(report, session.workspace) == []


def test_data_older_than_the_limit_is_stale_with_the_time_of_the_last_good_data(
    session: Session, demo_clock: VirtualClock, source: SwitchableSource
) -> None:
    advance(session, demo_clock, 0)
    last_good = demo_clock.now()
    source.silent = True
    watch = FreshnessWatch(session)
    advance(session, demo_clock, 15)
    assert watch.assess().stale_services == ()  # exactly at the limit is still fresh
    advance(session, demo_clock, 1)
    report = watch.assess()
    assert report.stale_services == tuple(session.workspace.services)
    assert report.last_good_t == last_good
    assert report.data_age_s == 16
    (alert,) = freshness_alerts(report, session.workspace)
    assert alert.kind == "stale"
    assert alert.headline == (
        f"◷ STALE · no new data since {clock_text(last_good, demo_clock.now())} (16s ago)"
    )
    assert alert.detail.startswith("NOT LIVE: every service (new data expected within 15s)")


def test_the_stale_limit_is_the_sessions(session: Session, demo_clock: VirtualClock) -> None:
    advance(session, demo_clock, 0)
    report = FreshnessWatch(session).assess()
    assert {s.limit_s for s in report.services.values()} == set(session.stale_after().values())


def test_a_source_problem_keeps_the_time_it_began(
    session: Session, demo_clock: VirtualClock, source: SwitchableSource
) -> None:
    advance(session, demo_clock, 0)
    watch = FreshnessWatch(session)
    source.status = SourceStatus("scripted", "unauthorized", "PermissionDenied: 403 caller lacks")
    advance(session, demo_clock, 1)
    began = demo_clock.now()
    watch.assess()
    source.status = SourceStatus("scripted", "unauthorized", "PermissionDenied: 403 (retry 2)")
    advance(session, demo_clock, 5)
    report = watch.assess()
    (problem,) = report.problems
    assert problem.since == began
    assert problem.message.endswith("(retry 2)")
    alert = freshness_alerts(report, session.workspace)[0]
    assert alert.headline == "✖ NOT AUTHORIZED · scripted: PermissionDenied: 403 (retry 2)"
    assert alert.detail == f"since {clock_text(began, demo_clock.now())} (5s) · retrying by itself"

    source.status = None
    advance(session, demo_clock, 1)
    assert watch.assess().problems == ()
    source.status = SourceStatus("scripted", "error", "again")
    advance(session, demo_clock, 1)
    assert watch.assess().problems[0].since == demo_clock.now()  # a new problem, a new start


def test_clock_text_adds_the_date_for_another_day() -> None:
    now = 1_764_000_000.0
    assert len(clock_text(now - 60, now)) == 8  # HH:MM:SS
    assert len(clock_text(now - 3 * 86400, now)) > 8  # with the day
