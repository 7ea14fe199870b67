"""The review's Resources and Recovery tabs on a recording in which the remediation happens.

The recording is made by the console's own flight recorder while the real action pipeline scales
the connector and pins the backend's traffic on the demo simulation
(``tests.remediated_recording``). Engine tests: resource states are recorded when they change and
read back at a moment; a range save carries the state in force at its start; the recovery board
re-run over the recording agrees with what the live board wrote. Window tests: with the cursor
before and after the traffic pin and the connector scale, the Resources tab shows the before and
after states; the Recovery tab shows the criteria unmet before, holding during the sustain
periods and met after them; both follow the cursor back; neither has a button.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractButton

from console.criteria_history import criteria_history
from console.recorded_resources import RecordedResources, resource_from_record, resource_record
from console.resource_state import CloudRunServiceState, ConnectorState, RevisionState
from console.review import ReviewSession
from console.snapshot import detach_session, open_snapshot, save_snapshot
from console.snapshot_format import ResourceState as ResourceRecord
from tests.recordings import write_snapshot
from tests.remediated_recording import (
    NEW_REVISION,
    OLD_REVISION,
    RemediatedRecording,
    record_remediated_demo,
)
from tests.test_health import HEALTHY, make_workspace
from ui.review_window import ReviewWindow, open_review_window

#: The demo's criteria and their sustain periods.
SUSTAIN_S = {
    "fast-endpoints": 600,
    "login-to-ai": 300,
    "websocket-events": 300,
    "connector-capacity": 600,
    "continuous-operation": 1800,
}


@pytest.fixture(scope="module")
def remediated(tmp_path_factory: pytest.TempPathFactory) -> RemediatedRecording:
    folder = tmp_path_factory.mktemp("remediated")
    return record_remediated_demo(folder / "remediated.incident", folder / "locks")


# ---- resource states: recorded, read back, looked up ---------------------------------------


def test_a_state_survives_the_round_trip_through_a_record() -> None:
    service = CloudRunServiceState(
        "backend",
        "netra-backend-staging",
        (RevisionState(NEW_REVISION, 100, instances=12), RevisionState(OLD_REVISION, 0)),
        min_instances=1,
        max_instances=50,
        etag="abc",
        observed_at=1000.0,
    )
    connector = ConnectorState("connector", "staging-connector", "READY", "e2-micro", 2, 10)
    for state, now in ((service, 2000.0), (connector, 3000.0)):
        record = resource_record(state, now)
        assert record.t == (state.observed_at or now)
        back = resource_from_record(record)
        assert back == state and back.observed_at == record.t
    # A row of another shape (a hand-written fixture, an older console) is skipped, not an error.
    assert resource_from_record(ResourceRecord(1.0, "connector", "c", {"min": 2, "max": 3})) is None
    assert not RecordedResources([ResourceRecord(1.0, "connector", "c", {"min": 2})]).at(5.0)


def test_the_recorder_writes_each_change_and_the_review_reads_the_state_at_the_cursor(
    remediated: RemediatedRecording,
) -> None:
    with open_snapshot(remediated.path) as snapshot:
        session = ReviewSession(snapshot)
        recorded = session.recorded_resources
        connector_changes = recorded.changes("connector")
        # Once when recording started, once when the scale was verified: not every second.
        assert [c.machine_type for c in connector_changes] == ["e2-micro", "e2-standard-4"]
        assert len(recorded) < 60

        session.seek(remediated.scale_started - 1)
        before = session.resources
        assert isinstance(before["connector"], ConnectorState)
        assert (before["connector"].min_instances, before["connector"].machine_type) == (
            2,
            "e2-micro",
        )
        assert before["backend"].traffic() == [(OLD_REVISION, 50), (NEW_REVISION, 50)]

        update = session.seek(remediated.pin_finished + 1)
        after = session.resources
        assert update.resources_changed >= {"connector", "backend"}
        assert (after["connector"].min_instances, after["connector"].machine_type) == (
            3,
            "e2-standard-4",
        )
        assert after["backend"].traffic() == [(NEW_REVISION, 100)]
        assert after["connector"].observed_at <= remediated.scale_finished + 5

        # The backend's instance counts moved for minutes after the pin (rows were written),
        # but its configuration held since the pin: that is the "since" a review shows.
        assert len(recorded.changes("backend")) > 3
        session.seek(remediated.pin_finished + 600)
        backend = session.resources["backend"]
        assert backend.traffic() == [(NEW_REVISION, 100)]
        assert remediated.pin_started <= backend.observed_at <= remediated.pin_finished + 5

        # Back before the first state was read (the history delivered at the start): nothing.
        update = session.seek(session.time_range[0])
        assert session.resources == {}
        assert update.resources_changed == {"frontend", "auth", "backend", "connector"}


def test_a_range_save_carries_the_state_in_force_at_its_start(
    remediated: RemediatedRecording, tmp_path: Path
) -> None:
    start = remediated.pin_finished + 600  # long after the last change
    out = save_snapshot(remediated.path, tmp_path / "later.incident", start, None)
    with open_snapshot(out) as snapshot:
        session = ReviewSession(snapshot, at=start)
        assert session.resources["backend"].traffic() == [(NEW_REVISION, 100)]
        assert session.resources["connector"].machine_type == "e2-standard-4"


def test_a_save_from_memory_keeps_the_states_read_within_its_range(
    demo_session, demo_clock, tmp_path: Path
) -> None:
    demo_clock.advance(30)
    demo_session.poll_sources()
    demo_session.drain()
    now = demo_clock.now()
    whole = save_snapshot(detach_session(demo_session), tmp_path / "whole.incident")
    with open_snapshot(whole) as snapshot:
        resources = ReviewSession(snapshot).resources  # the cursor opens at the end
        assert resources["backend"].traffic() == [(OLD_REVISION, 50), (NEW_REVISION, 50)]
        assert resources["connector"].machine_type == "e2-micro"
    # A range that ends before the newest states were read: nothing is known for it.
    earlier = save_snapshot(demo_session, tmp_path / "earlier.incident", None, now - 60)
    with open_snapshot(earlier) as snapshot:
        assert snapshot.resource_states() == []


# ---- recovery criteria over the recording ---------------------------------------------------


def test_the_board_rerun_over_the_recording_agrees_with_the_live_board(
    remediated: RemediatedRecording,
) -> None:
    with open_snapshot(remediated.path) as snapshot:
        session = ReviewSession(snapshot)
        start, end = session.time_range
        history = criteria_history(snapshot, session.workspace, session.stale_after(), start, end)
        assert history.complete and history.step_s <= 2.0

        # In the hour of history before the console started, the probes had not run yet.
        early = {s.spec.id: s for s in history.at(start + 600).statuses}
        assert early["login-to-ai"].state == "unmeasurable"
        assert "no data yet" in early["login-to-ai"].detail

        before = history.at(remediated.scale_started - 1)
        assert [s.state for s in before.statuses] == ["not_met"] * 5
        assert not before.verdict.recovered and before.verdict.met == 0
        assert not any(s.holding for s in before.statuses)

        last = history.at(end)
        assert last.verdict.recovered and last.verdict.met == 5
        for status in last.statuses:
            assert status.since == pytest.approx(
                status.holding_since + SUSTAIN_S[status.spec.id], abs=1e-3
            )
            # the sustain period started after the remediation, not before
            assert status.holding_since > remediated.scale_started
            # ... and just before being met, the criterion was holding, not met
            just_before = history.at(status.since - 2)
            (same,) = [s for s in just_before.statuses if s.spec.id == status.spec.id]
            assert same.state == "not_met" and same.holding

        # What the live board wrote (kind "criterion") is what the re-run finds.
        live_met = {
            e.fields["criterion"]: e.t
            for e in session.recorded_timeline
            if e.kind == "criterion" and e.fields.get("state") == "met"
        }
        assert live_met.keys() == SUSTAIN_S.keys()
        for status in last.statuses:
            assert status.since == pytest.approx(live_met[status.spec.id], abs=history.step_s)


# ---- the review window ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def review(qapp, remediated: RemediatedRecording) -> Iterator[ReviewWindow]:
    window = open_review_window(remediated.path, deterministic=True)
    window.resize(1600, 1000)
    window.show()
    window.splitter.setSizes([560, 440])  # room for the side panels in the pictures
    window.start_background()  # inline: the strip, the criteria over the recording, pyramids
    yield window
    window.close()
    window.deleteLater()


def show_tab(window: ReviewWindow, key: Qt.Key, qtbot) -> None:
    """Bring a side tab to the front with its key, as a user would."""
    qtbot.keyClick(window, key)
    tabs = {Qt.Key.Key_R: "Resources", Qt.Key.Key_C: "Recovery", Qt.Key.Key_T: "Timeline"}
    assert window.side_tabs.tabText(window.side_tabs.currentIndex()) == tabs[key]


def render(window: ReviewWindow, path: Path) -> None:
    assert window.grab().save(str(path), "PNG")
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1600, 1000)


@pytest.mark.gui
def test_the_resources_tab_shows_the_state_before_and_after_the_remediation(
    qtbot, review: ReviewWindow, remediated: RemediatedRecording, tmp_path: Path
) -> None:
    show_tab(review, Qt.Key.Key_R, qtbot)
    panel = review.resource_panel
    assert review.side_tabs.currentWidget() is panel

    review.controller.seek(remediated.scale_started - 30)
    backend, connector = panel.cards["backend"], panel.cards["connector"]
    assert backend.bar.segments == [("00749-6tr 50%", 0.5), ("00750-69k 50%", 0.5)]
    assert "SPLIT · 2 revisions" in backend.title.text()
    assert "e2-micro" in connector.detail.text() and "min <b>2</b>" in connector.detail.text()
    assert "since " in connector.title.text()  # a recorded state says since when it held
    render(review, tmp_path / "resources-before.png")

    review.controller.seek(remediated.pin_finished + 60)
    assert backend.bar.segments == [("00750-69k 100%", 1.0)]
    assert "SPLIT" not in backend.title.text()
    assert "e2-standard-4" in connector.detail.text()
    assert "min <b>3</b>" in connector.detail.text()
    render(review, tmp_path / "resources-after.png")

    # The cursor moved back: the panel follows it (it is fed, it does not accumulate).
    review.controller.seek(remediated.scale_started - 30)
    assert "e2-micro" in connector.detail.text()
    assert len(backend.bar.segments) == 2

    # Before the first state was read: the cards go, and the panel says when it comes.
    start = review.review_session.time_range[0]
    review.controller.seek(start)
    assert not any(card.isVisible() for card in panel.cards.values())
    assert panel.empty.isVisible()
    assert "No resource state read yet at the cursor: the first was read at" in panel.empty.text()
    assert not panel.findChildren(QAbstractButton)  # read-only by construction


@pytest.mark.gui
def test_the_recovery_tab_shows_the_criteria_at_the_cursor(
    qtbot, review: ReviewWindow, remediated: RemediatedRecording, tmp_path: Path
) -> None:
    show_tab(review, Qt.Key.Key_C, qtbot)
    panel = review.recovery_panel
    assert review.side_tabs.currentWidget() is panel
    assert panel.history is not None and panel.history.complete

    review.controller.seek(remediated.scale_started - 30)
    texts = panel.board_texts()
    assert texts[0] == "✖ NOT RECOVERED · 0 of 5 criteria met"
    assert all(line.startswith("NOT MET for ") for line in texts[1:]), texts
    assert "VPC connector saturation" in panel.board_view.cards["connector-capacity"].state_text
    assert "no criterion or recovery entry by the cursor" in panel.live_label.text()
    render(review, tmp_path / "recovery-before.png")

    # Fifteen minutes on: four met, the thirty-minute one holding.
    review.controller.seek(remediated.pin_finished + 900)
    texts = panel.board_texts()
    assert texts[0].startswith("◑ NOT RECOVERED YET · 4 of 5 met · "), texts
    assert panel.board_view.cards["continuous-operation"].state_text.startswith("HOLDING ")
    assert panel.board_view.cards["continuous-operation"].sustain_bar.isVisible()
    assert "✔ criterion met" in panel.live_label.text()
    render(review, tmp_path / "recovery-holding.png")

    end = review.review_session.time_range[1]
    review.controller.seek(end)
    texts = panel.board_texts()
    assert texts[0].startswith("✔ RECOVERED · all 5 criteria met · since "), texts
    assert all(line.startswith("MET for ") for line in texts[1:]), texts
    assert "RECOVERED: all 5 recovery criteria met" in panel.live_label.text()
    render(review, tmp_path / "recovery-after.png")

    review.controller.seek(remediated.scale_started - 30)  # and back
    assert panel.board_texts()[0] == "✖ NOT RECOVERED · 0 of 5 criteria met"
    assert not panel.findChildren(QAbstractButton)


@pytest.mark.gui
def test_a_hidden_recovery_tab_catches_up_when_shown(
    qtbot, review: ReviewWindow, remediated: RemediatedRecording
) -> None:
    show_tab(review, Qt.Key.Key_T, qtbot)
    review.controller.seek(review.review_session.time_range[1])
    show_tab(review, Qt.Key.Key_C, qtbot)
    assert review.recovery_panel.board_texts()[0].startswith("✔ RECOVERED")
    show_tab(review, Qt.Key.Key_T, qtbot)
    review.controller.seek(remediated.scale_started - 30)
    show_tab(review, Qt.Key.Key_R, qtbot)
    assert "e2-micro" in review.resource_panel.cards["connector"].detail.text()
    show_tab(review, Qt.Key.Key_C, qtbot)
    assert review.recovery_panel.board_texts()[0].startswith("✖ NOT RECOVERED")


@pytest.mark.gui
def test_before_the_evaluation_the_tab_says_so_and_then_shows_the_board(
    qtbot, remediated: RemediatedRecording
) -> None:
    window = open_review_window(remediated.path, deterministic=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.side_tabs.setCurrentWidget(window.recovery_panel)  # (keys: tested above)
    panel = window.recovery_panel
    assert panel.board_texts() == ["Evaluating the recovery criteria over the recording…"]
    panel.show_progress(0.4)
    assert panel.board_texts() == ["Evaluating the recovery criteria over the recording… 40 %"]
    window.start_background()
    assert panel.board_texts()[0].startswith("✔ RECOVERED")  # the cursor opens at the end
    window.close()


@pytest.mark.gui
def test_a_recording_without_resource_states_or_criteria_says_so(qtbot, tmp_path: Path) -> None:
    t = 1_700_000_000.0 + np.arange(60, dtype=float)
    series = {key: (t, np.full(60, value)) for key, value in HEALTHY.items()}
    path = write_snapshot(tmp_path / "bare.incident", make_workspace(), series)
    window = open_review_window(path, deterministic=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.start_background()
    window.side_tabs.setCurrentWidget(window.resource_panel)
    assert "No resource state in this recording" in window.resource_panel.empty.text()
    window.side_tabs.setCurrentWidget(window.recovery_panel)  # (keys: tested above)
    assert window.recovery_panel.board_texts() == [
        "The recording's workspace declares no recovery criteria."
    ]
    window.close()


@pytest.mark.gui
def test_following_the_cursor_costs_the_panels_no_sql(
    qtbot, review: ReviewWindow, remediated: RemediatedRecording
) -> None:
    session = review.review_session
    statements: list[str] = []
    connection = session.snapshot._connection  # the review's one connection to the file
    moments = [remediated.scale_started + k * 97.0 for k in range(-20, 30)]
    try:
        connection.set_trace_callback(statements.append)
        for panel in (review.resource_panel, review.recovery_panel):
            review.side_tabs.setCurrentWidget(panel)
            for t in moments:
                review.resource_panel.show_resources(session.recorded_resources.at(t), t)
                review.recovery_panel.show_cursor(t)
    finally:
        connection.set_trace_callback(None)
    assert statements == []


@pytest.mark.gui
def test_a_failing_evaluation_is_reported_and_the_rest_of_the_background_still_runs(
    qtbot, remediated: RemediatedRecording, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.review_window

    def broken(*args, **kwargs):
        raise ZeroDivisionError("injected fault")

    monkeypatch.setattr(ui.review_window, "criteria_history", broken)
    window = open_review_window(remediated.path, deterministic=True)
    qtbot.addWidget(window)
    window.show()
    window.side_tabs.setCurrentWidget(window.recovery_panel)
    window.start_background()
    assert window.recovery_panel.board_texts() == [
        "✖ The recovery criteria could not be evaluated over this recording: "
        "ZeroDivisionError: injected fault"
    ]
    assert window.history is not None  # the strip came before
    store = window.review_session.review_store
    assert all(store.has_pyramid(key) for key in store.recorded_keys())  # and the pyramids after
    window.close()


@pytest.mark.gui
def test_on_the_worker_thread_the_evaluation_arrives_and_the_tab_follows(
    qtbot, remediated: RemediatedRecording
) -> None:
    window = open_review_window(remediated.path, at=remediated.scale_started - 30)
    qtbot.addWidget(window)
    window.show()
    window.side_tabs.setCurrentWidget(window.recovery_panel)
    panel = window.recovery_panel
    with qtbot.waitSignal(window.background.criteria_ready, timeout=120_000):
        window.start_background()  # a real worker thread; the GUI thread keeps turning
    qtbot.waitUntil(lambda: panel.history is not None)
    assert panel.board_texts()[0] == "✖ NOT RECOVERED · 0 of 5 criteria met"
    window.close()  # stops the worker (it may still be building pyramids)
