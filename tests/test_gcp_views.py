"""The log table and the resources panel, on the demo and on the fakes; the window stays
responsive while every Google API hangs, and shows the faults.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QElapsedTimer, QTimer

from console.clock import SystemClock, VirtualClock
from console.resource_state import CloudRunServiceState, ConnectorState, RevisionState
from console.session import Session, SessionUpdate
from console.session_factory import build_session
from console.sources import Batch, LogEntry
from tests.fakes.fake_logging import run_request_entry
from tests.fakes.scenario import PROJECT, FakeCloud, incident_workspace, seed_incident
from ui.log_table import LogTable
from ui.main_window import MainWindow
from ui.resource_panel import ResourcePanel, card_order
from ui.session_bridge import SessionBridge

pytestmark = pytest.mark.gui

T0 = 1_764_000_000.0


def log(t: float, service: str, status: int | None, message: str, **fields: object) -> LogEntry:
    return LogEntry(
        t=T0 + t,
        service=service,
        severity=str(fields.get("severity", "ERROR")),
        message=message,
        status=status,
        latency_ms=7200.0 if status else None,
        revision=str(fields.get("revision", "netra-backend-staging-00750-69k")),
    )


@pytest.fixture
def table(qtbot, demo_workspace) -> LogTable:
    session = Session(demo_workspace, VirtualClock(T0))
    widget = LogTable(session, capacity=5)
    qtbot.addWidget(widget)
    return widget


def feed(table: LogTable, *entries: LogEntry) -> None:
    table.on_session_update(SessionUpdate(new_logs=list(entries)))


# -- the log table -------------------------------------------------------------------------------


def test_the_log_table_shows_lines_newest_first_with_every_column(table: LogTable) -> None:
    feed(table, log(1, "backend", 503, "upstream timeout"), log(5, "auth", 503, "socket timeout"))
    feed(table, log(3, "backend", 502, "bad gateway"))  # older than the newest: sorted in
    rows = table.shown_rows()
    assert [row[5] for row in rows] == ["socket timeout", "bad gateway", "upstream timeout"]
    time_text, service, revision, status, latency, _ = rows[1]
    assert (service, revision, status, latency) == ("Backend", "00750-69k", "502", "7.2 s")
    assert len(time_text) == 8 and time_text.count(":") == 2


def test_the_log_table_is_bounded(table: LogTable) -> None:
    feed(table, *(log(i, "backend", 503, f"line {i}") for i in range(8)))
    rows = table.shown_rows()
    assert [row[5] for row in rows] == ["line 7", "line 6", "line 5", "line 4", "line 3"]
    assert table.count_label.text() == "5 lines · the newest 5 are kept"


def test_filters_by_service_severity_and_text_but_never_hide_notices(table: LogTable) -> None:
    feed(
        table,
        log(1, "backend", 503, "connector saturated"),
        log(2, "auth", 503, "socket timeout"),
        log(3, "auth", None, "retrying login", severity="WARNING"),
        log(4, "", None, "Cloud Logging suppressed 37 entries", severity="NOTICE"),
    )
    table.set_filters(service="auth")
    assert [r[5] for r in table.shown_rows()] == [
        "Cloud Logging suppressed 37 entries",
        "retrying login",
        "socket timeout",
    ]
    table.set_filters(service="auth", min_level=500)
    assert [r[5] for r in table.shown_rows()] == [
        "Cloud Logging suppressed 37 entries",
        "socket timeout",
    ]
    table.set_filters(text="SATURATED")
    assert [r[5] for r in table.shown_rows()] == ["connector saturated"]
    assert table.count_label.text() == "1 of 4 lines shown · the newest 5 are kept"
    table.set_filters()
    assert len(table.shown_rows()) == 4


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_new_lines_do_not_move_the_rows_being_read(qtbot, demo_workspace) -> None:
    session = Session(demo_workspace, VirtualClock(T0))
    table = LogTable(session)
    qtbot.addWidget(table)
    table.resize(500, 300)
    table.show()
    qtbot.waitExposed(table)
    feed(table, *(log(i, "backend", 503, f"line {i}") for i in range(200)))
    bar = table.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum() // 2)
    assert bar.value() > 0
    first_visible = table.view.indexAt(table.view.rect().topLeft()).row()
    before = table.shown_rows()[first_visible]
    feed(table, *(log(300 + i, "backend", 503, f"new {i}") for i in range(3)))
    after_row = table.view.indexAt(table.view.rect().topLeft()).row()
    assert table.shown_rows()[after_row] == before


def test_the_demos_log_lines_are_in_the_window(qtbot, demo_session: Session) -> None:
    bridge = SessionBridge(demo_session, coalesce_ms=None)
    window = MainWindow(demo_session, bridge)
    qtbot.addWidget(window)
    assert window.log_table is not None
    rows = window.log_table.shown_rows()
    assert rows and len(rows) == min(len(demo_session.logs), window.log_table.model.capacity)
    assert {row[1] for row in rows} <= {"Auth", "Backend"}
    assert all(row[3] == "503" for row in rows)


# -- the resources panel -------------------------------------------------------------------------


def test_the_demo_shows_the_backends_split_at_a_glance(qtbot, demo_session: Session) -> None:
    panel = ResourcePanel(demo_session)
    qtbot.addWidget(panel)
    backend = demo_session.resources["backend"]
    assert isinstance(backend, CloudRunServiceState) and backend.split
    card = panel.cards["backend"]
    assert "SPLIT · 2 revisions" in card.title.text()
    assert card.bar.segments == [("00749-6tr 50%", 0.5), ("00750-69k 50%", 0.5)]
    assert "service min <b>0</b> max <b>100</b>" in card.detail.text()
    connector = panel.cards["connector"]
    assert "AT MAX" in connector.title.text()
    assert connector.bar.segments == [("10 of max 10 instances", 1.0)]
    # What needs a look comes first: the split service and the connector at its maximum.
    assert card_order(demo_session.workspace.services, demo_session.resources)[:2] == [
        "backend",
        "connector",
    ]


def test_the_panel_follows_a_change(qtbot, demo_workspace) -> None:
    session = Session(demo_workspace, VirtualClock(T0))
    panel = ResourcePanel(session)
    qtbot.addWidget(panel)
    assert panel.empty.isVisibleTo(panel)
    revisions = (RevisionState("netra-backend-staging-00750-69k", 100, min_instances=1),)
    batch = Batch(
        "cloud-run",
        resources={
            "backend": CloudRunServiceState(
                "backend", "netra-backend-staging", revisions, 1, 50, observed_at=T0
            ),
            "connector": ConnectorState(
                "connector", "staging-connector", "UPDATING", "e2-micro", 2, 10, observed_at=T0
            ),
        },
    )
    session.submit(batch)
    update = session.drain()
    assert update.resources_changed == {"backend", "connector"}
    panel.on_session_update(update)
    assert not panel.empty.isVisibleTo(panel)
    assert panel.cards["backend"].bar.segments == [("00750-69k 100%", 1.0)]
    assert "SPLIT" not in panel.cards["backend"].title.text()
    assert "UPDATING" in panel.cards["connector"].title.text()
    session.submit(batch)  # the same state read again is not a change
    assert session.drain().resources_changed == set()


# -- on the fakes, with worker threads -----------------------------------------------------------


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    with FakeCloud() as fakes:
        yield fakes


def live_window(qtbot, cloud: FakeCloud) -> tuple[MainWindow, SessionBridge]:
    session = build_session(incident_workspace(cloud.endpoints()), SystemClock())
    bridge = SessionBridge(session)
    window = MainWindow(session, bridge)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    bridge.start()
    return window, bridge


def test_a_tailed_log_line_reaches_the_table(qtbot, cloud: FakeCloud) -> None:
    now = time.time()
    seed_incident(cloud, now)
    window, bridge = live_window(qtbot, cloud)
    try:
        table = window.log_table
        assert table is not None
        qtbot.waitUntil(lambda: cloud.logging.open_tails == 1, timeout=20_000)
        cloud.logging.publish(
            [
                run_request_entry(
                    project=PROJECT,
                    service="netra-backend-staging",
                    revision="netra-backend-staging-00750-69k",
                    status=503,
                    latency_ms=9100.0,
                    t=time.time(),
                    insert_id="live-503",
                    message="live: connector saturated",
                )
            ]
        )
        qtbot.waitUntil(
            lambda: any(row[5] == "live: connector saturated" for row in table.shown_rows()),
            timeout=10_000,
        )
        assert table.shown_rows()[0][5] == "live: connector saturated"  # newest first
        panel = window.resource_panel
        assert panel is not None
        qtbot.waitUntil(lambda: "backend" in panel.cards, timeout=10_000)
        assert "SPLIT" in panel.cards["backend"].title.text()
        # The connector API does not say how many instances run; Monitoring's count does.
        qtbot.waitUntil(
            lambda: (
                "connector" in panel.cards and "AT MAX" in panel.cards["connector"].title.text()
            ),
            timeout=10_000,
        )
    finally:
        bridge.stop()


def test_the_window_stays_responsive_while_every_api_hangs(qtbot, cloud: FakeCloud) -> None:
    for fake in (cloud.monitoring, cloud.logging, cloud.run, cloud.vpcaccess):
        fake.faults.hang()
    window, bridge = live_window(qtbot, cloud)
    ticks = []
    timer = QTimer()
    timer.setInterval(20)
    clock = QElapsedTimer()
    clock.start()
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    timer.start()
    try:
        qtbot.waitUntil(lambda: cloud.monitoring.calls["ListTimeSeries"] >= 1, timeout=10_000)
        qtbot.waitUntil(lambda: len(ticks) >= 25, timeout=10_000)  # the event loop keeps turning
        assert window.isVisible()
        # The calls time out (10 s) and the fault is shown, the sources keep trying.
        qtbot.waitUntil(lambda: "ERROR" in window.sources_label.text(), timeout=60_000)
        assert "deadline exceeded" in window.sources_label.text()
    finally:
        timer.stop()
        for fake in (cloud.monitoring, cloud.logging, cloud.run, cloud.vpcaccess):
            fake.faults.release()
        bridge.stop()
