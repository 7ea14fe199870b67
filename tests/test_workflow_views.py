"""The workflow in the window: the Recovery panel (C), the Timeline panel (T), notes (N), the
banner's escalation countdown and the notification at the decision point. Offscreen, on the
deterministic demo session (virtual clock, synchronous polls, deterministic bridge); the panels
and the banner are rendered to PNG as well.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QImage

from console.clock import VirtualClock
from console.probes import NetworkProbeRunner, ProbeSource
from console.session import Session
from console.simulation import DemoSimulation
from console.workflow import attach_workflow
from console.workspace import Workspace
from tests.conftest import DEMO_START
from tests.probe_servers import memory_keyring
from tests.shown_windows import offscreen_dialog, shown_main_window
from ui.main_window import MainWindow, shortcut_text
from ui.session_bridge import SessionBridge
from ui.workflow_views import WorkflowViews

pytestmark = pytest.mark.gui


@pytest.fixture
def bridge(demo_session: Session) -> SessionBridge:
    return SessionBridge(demo_session, coalesce_ms=None)


@pytest.fixture
def window(qtbot, demo_session: Session, bridge: SessionBridge) -> MainWindow:
    main = shown_main_window(qtbot, demo_session, bridge, (1600, 1000))
    bridge.tick_now()
    return main


def views_of(window: MainWindow) -> WorkflowViews:
    assert window.workflow_views is not None
    return window.workflow_views


def step(window: MainWindow, clock: VirtualClock, seconds: float, every: float = 30.0) -> None:
    """Advance the demo by ``seconds``: poll, and let the bridge drain and tick."""
    end = clock.now() + seconds
    while clock.now() < end:
        clock.advance(min(every, end - clock.now()))
        window.session.poll_sources()
        window.bridge.tick_now()


def test_recovery_and_timeline_panels_with_their_keys(qtbot, window: MainWindow) -> None:
    views = views_of(window)
    tabs = [window.side_tabs.tabText(i) for i in range(window.side_tabs.count())]
    assert "Recovery" in tabs and "Timeline" in tabs
    qtbot.keyClick(window, Qt.Key.Key_T)
    assert window.side_tabs.currentWidget() is views.timeline
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert window.side_tabs.currentWidget() is views.recovery
    keys = {shortcut_text(a): a.statusTip() for a in window.shortcut_actions()}
    assert keys["N"] == "Add a note to the incident timeline"
    assert keys["C"] == "Show the Recovery panel"


def test_the_board_shows_the_incident_unrecovered(window: MainWindow) -> None:
    recovery = views_of(window).recovery
    assert recovery.verdict_label.text() == "✖ NOT RECOVERED · 0 of 5 criteria met"
    assert list(recovery.cards) == [
        "fast-endpoints",
        "login-to-ai",
        "websocket-events",
        "connector-capacity",
        "continuous-operation",
    ]
    card = recovery.cards["connector-capacity"]
    assert card.title_label.text() == "✖ VPC connector capacity sufficient for the load"
    assert card.state_text.startswith("NOT MET for ")
    assert "VPC connector saturation 100%, needs < 80%" in card.state_text
    golden = recovery.probe_lines["golden-path"]
    assert golden.headline.text().startswith("✖ Login → AI response: fails at ")
    row = recovery.timer_rows["gcp-support"]
    assert row.state_label.text() == "○ NOT STARTED"
    assert row.start_button.isVisibleTo(recovery) and not row.cancel_button.isVisibleTo(recovery)


def test_after_the_remediation_the_board_turns_green(
    window: MainWindow, demo_clock: VirtualClock
) -> None:
    simulation = next(s for s in window.session.sources if isinstance(s, DemoSimulation))
    now = demo_clock.now()
    simulation.route_traffic("backend", {"netra-backend-staging-00750-69k": 100}, at=now)
    simulation.scale_connector("connector", min_instances=3, machine_type="e2-standard-4", at=now)
    step(window, demo_clock, 15 * 60)
    recovery = views_of(window).recovery
    assert recovery.verdict_label.text().startswith("◑ NOT RECOVERED YET · 4 of 5 met · ")
    holding = recovery.cards["continuous-operation"]
    assert holding.sustain_bar.isVisibleTo(recovery)
    assert holding.state_text.startswith("HOLDING ") and "to go" in holding.state_text
    step(window, demo_clock, 35 * 60)
    assert recovery.verdict_label.text().startswith("✔ RECOVERED · all 5 criteria met · since ")
    assert not holding.sustain_bar.isVisibleTo(recovery)


@offscreen_dialog
def test_n_adds_a_note_that_shows_starred_on_the_timeline(qtbot, window: MainWindow) -> None:
    views = views_of(window)
    qtbot.keyClick(window, Qt.Key.Key_N)
    dialog = views.note_dialog
    assert dialog is not None and dialog.isVisible()
    save = dialog.buttons.buttons()[0]
    assert not save.isEnabled()  # nothing to save yet
    qtbot.keyClicks(dialog.text_edit, "Escalated to GCP support, case 51234")
    dialog.star_box.setChecked(True)
    dialog.accept()
    window.bridge.drain_now()
    timeline = views.timeline
    top = timeline.entries_shown()[0]
    assert (top.kind, top.text, top.fields["starred"]) == (
        "note",
        "Escalated to GCP support, case 51234",
        True,
    )
    index = timeline.proxy.index(0, 1)
    assert index.data() == "★"
    assert index.data(Qt.ItemDataRole.FontRole).bold()


@offscreen_dialog
def test_stars_and_time_corrections_from_the_timeline(
    qtbot, window: MainWindow, demo_clock: VirtualClock
) -> None:
    views = views_of(window)
    workflow = window.session.workflow
    assert workflow is not None
    demo_clock.advance(300)
    workflow.add_note("Connector reached 10 instances")
    window.bridge.drain_now()
    timeline = views.timeline
    timeline.set_kind_filter("note")
    assert [e.kind for e in timeline.entries_shown()] == ["note"]
    qtbot.keyClick(window, Qt.Key.Key_T)
    timeline.table.selectRow(0)
    timeline.table.setFocus()
    assert timeline.star_button.isEnabled()
    qtbot.keyClick(timeline.table, Qt.Key.Key_S)
    window.bridge.drain_now()
    assert timeline.entries_shown()[0].fields["starred"] is True
    assert timeline.star_button.text() == "☆ Unstar (S)"  # the selection survived the rebuild

    dialog = timeline.correct_selected_time()
    assert dialog is not None
    dialog.time_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(DEMO_START - 600)))
    dialog.accept()
    window.bridge.drain_now()
    [note] = timeline.entries_shown()
    assert note.t == DEMO_START - 600 and note.fields["original_t"] == DEMO_START + 300
    assert timeline.proxy.index(0, 0).data().endswith(" ✱")
    assert "first logged at" in timeline.proxy.index(0, 2).data(Qt.ItemDataRole.ToolTipRole)
    timeline.starred_box.setChecked(True)
    assert len(timeline.entries_shown()) == 1
    timeline.set_kind_filter(None)
    timeline.starred_box.setChecked(False)
    timeline.search_edit.setText("golden path broken")
    assert all("golden path broken" in e.text for e in timeline.entries_shown())


@offscreen_dialog
def test_a_timer_counts_down_in_the_banner_and_notifies_when_due(
    window: MainWindow, demo_clock: VirtualClock, tmp_path: Path
) -> None:
    views = views_of(window)
    row = views.recovery.timer_rows["gcp-support"]
    countdown = window.banner.escalation_countdown
    assert not countdown.isVisible()
    row.start_button.click()
    window.bridge.tick_now()
    assert countdown.isVisible()
    assert countdown.text() == "⚑ Escalate to Google Cloud support in 2h 00m"
    step(window, demo_clock, 3600, every=300)
    assert countdown.text() == "⚑ Escalate to Google Cloud support in 1h 00m"
    assert views.notifier.shown == []
    step(window, demo_clock, 3600 + 60, every=300)
    assert countdown.text().startswith("⚠ DECIDE NOW: Escalate to Google Cloud support · due ")
    [(title, text)] = views.notifier.shown
    assert title == "Decision due: Escalate to Google Cloud support"
    assert text.startswith("⚠ DECISION DUE")
    assert "DECISION DUE" in row.state_label.text()
    window.grab().save(str(tmp_path / "window-due.png"))
    banner = window.banner.grab()
    assert banner.save(str(tmp_path / "banner.png"))
    assert not QImage(str(tmp_path / "banner.png")).isNull()

    dialog = row.ask("acknowledge")
    assert not dialog.buttons.buttons()[0].isEnabled()  # a reason is required
    dialog.reason_edit.setText("opened GCP support case 51234 (P1)")
    dialog.accept()
    window.bridge.tick_now()
    assert row.state_label.text() == "✔ ACKNOWLEDGED"
    assert not countdown.isVisible()
    last = [e for e in window.session.timeline if e.kind == "timer"][-1]
    assert last.text.endswith("(opened GCP support case 51234 (P1))")


@offscreen_dialog
def test_snooze_and_cancel_from_the_panel(window: MainWindow, demo_clock: VirtualClock) -> None:
    views = views_of(window)
    row = views.recovery.timer_rows["gcp-support"]
    row.start_button.click()
    dialog = row.ask("snooze")
    assert dialog.duration_edit.text() == "15m 00s"
    dialog.duration_edit.setText("30m")
    dialog.reason_edit.setText("waiting for the connector to finish scaling")
    dialog.accept()
    window.bridge.tick_now()
    timer = window.session.workflow.timers.get("gcp-support")  # type: ignore[union-attr]
    assert timer.deadline == pytest.approx(demo_clock.now() + 1800, abs=1e-3)
    assert window.banner.escalation_countdown.text().endswith("in 30m 00s")
    cancel = row.ask("cancel")
    cancel.reason_edit.setText("GCP support already engaged")
    cancel.accept()
    window.bridge.tick_now()
    assert row.state_label.text() == "■ CANCELLED"
    assert row.start_button.text() == "Start again"


@offscreen_dialog
def test_a_timer_started_by_hand_from_the_panel(window: MainWindow) -> None:
    recovery = views_of(window).recovery
    dialog = recovery.ask_new_timer()
    dialog.title_edit.setText("Call the DBA if Cloud SQL CPU stays above 85%")
    dialog.duration_edit.setText("45m")
    dialog.accept()
    window.bridge.tick_now()
    assert "custom-1" in recovery.timer_rows
    assert window.banner.escalation_countdown.text() == (
        "⚑ Call the DBA if Cloud SQL CPU stays above 85% in 45m 00s"
    )


def test_a_probe_without_its_secret_says_so(qtbot, demo_workspace: Workspace) -> None:
    workspace = replace(demo_workspace, simulation=None)
    spec = next(p for p in workspace.probes if p.id == "golden-path")
    spec = replace(spec, password="keyring:golden-path-probe")  # live, it needs its secret
    with memory_keyring():
        session = Session(
            workspace, VirtualClock(DEMO_START), [ProbeSource(spec, NetworkProbeRunner())]
        )
        attach_workflow(session)
        session.poll_sources()
        bridge = SessionBridge(session, coalesce_ms=None)
        window = MainWindow(session, bridge)
        qtbot.addWidget(window)
        bridge.tick_now()
    line = views_of(window).recovery.probe_lines["golden-path"]
    assert line.headline.text() == "⚠ Login → AI response: cannot run"
    assert line.detail.text().startswith("secret missing: secret 'golden-path-probe' is not in")
    assert window.sources_label.text().count("secret missing") == 1
    card = views_of(window).recovery.cards["login-to-ai"]
    assert card.state_text.startswith("NOT YET MEASURABLE: no data yet for Login → AI response")


def test_render_the_workflow_panels(qtbot, window: MainWindow, tmp_path: Path) -> None:
    views = views_of(window)
    window.session.workflow.timers.start("gcp-support")  # type: ignore[union-attr]
    window.bridge.tick_now()
    for name, widget in (("recovery", views.recovery), ("timeline", views.timeline)):
        window.side_tabs.setCurrentWidget(widget)
        qtbot.wait(0)
        path = tmp_path / f"{name}.png"
        assert widget.grab().save(str(path))
        image = QImage(str(path))
        assert image.width() > 200 and image.height() > 150
    assert window.banner.escalation_countdown.isVisible()
