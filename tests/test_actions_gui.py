"""The guarded actions in the window (``ui.actions_panel``, ``ui.plan_dialog``): all three actions
done with the keyboard alone, Execute disabled until the plan is ready, production's typed name,
Cancel before sending, Revert, the status graph's node menu, chart annotations, read-only windows
without any action, and the panel and dialog rendered to PNG.

Keys go to whatever widget has the focus, as they would for a person. The session runs on a
virtual clock and the bridge and runner are deterministic (synchronous) unless a test needs the
worker thread.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from console.actions import ActionEngine, ScaleConnector
from console.actions.executor import WallPacer
from console.clock import VirtualClock
from console.session import Session
from console.session_factory import build_session
from console.simulation import DemoSimulation
from console.workspace import Workspace
from ui.action_runner import ActionRunner
from ui.actions_panel import ActionsPanel
from ui.main_window import MainWindow
from ui.plan_dialog import PlanDialog
from ui.session_bridge import SessionBridge

OLD = "netra-backend-staging-00749-6tr"
NEW = "netra-backend-staging-00750-69k"

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def private_runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lock files go to this test's own runtime folder."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))


def open_window(qtbot, session: Session) -> MainWindow:
    bridge = SessionBridge(session, coalesce_ms=None)
    window = MainWindow(session, bridge)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


@pytest.fixture
def window(qtbot, demo_session: Session) -> Iterator[MainWindow]:
    window = open_window(qtbot, demo_session)
    yield window
    dialog = panel_of(window).dialog
    if dialog is not None and dialog.isVisible():
        dialog.reject()


def panel_of(window: MainWindow) -> ActionsPanel:
    panel = window.action_views.panel
    assert panel is not None
    return panel


def simulation(session: Session) -> DemoSimulation:
    source = session.sources[0]
    assert isinstance(source, DemoSimulation)
    return source


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(qtbot, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key press on whatever has the focus, like a person's."""
    qtbot.keyClick(focused(), key, modifier)


def type_text(qtbot, text: str) -> None:
    """Replace the focused field's text by typing (select all first)."""
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(focused(), text)


def current_dialog(qtbot, window: MainWindow) -> PlanDialog:
    panel = panel_of(window)
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
    dialog = panel.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def move_to_button(qtbot, window: MainWindow, service_id: str, command_name: str) -> None:
    """From the panel's first button, Down until ``(service, command)`` has the focus."""
    panel = panel_of(window)
    target = panel.buttons[(service_id, command_name)]
    for _ in range(len(panel.buttons)):
        if focused() is target:
            return
        press(qtbot, Qt.Key.Key_Down)
    assert focused() is target


def grab_is_not_blank(widget: QWidget, path: Path) -> QImage:
    assert widget.grab().save(str(path))
    image = QImage(str(path))
    assert image.width() > 300 and image.height() > 150
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 20, "the rendering looks blank"
    return image


# ---- all three actions, keyboard only -----------------------------------------------------------


def test_scale_the_connector_with_the_keyboard_alone_and_revert_it(
    qtbot, window: MainWindow, demo_session: Session, tmp_path: Path
) -> None:
    press(qtbot, Qt.Key.Key_A)  # the Actions panel
    panel = panel_of(window)
    assert window.side_tabs.currentWidget() is panel
    assert focused() is panel.buttons[("connector", "scale-connector")]  # the root cause first
    press(qtbot, Qt.Key.Key_Return)
    dialog = current_dialog(qtbot, window)
    assert dialog.phase == "editing"
    assert focused() is dialog.fields["min_instances"]
    press(qtbot, Qt.Key.Key_Up)  # min 2 → 3
    press(qtbot, Qt.Key.Key_Tab)  # max stays 10
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is dialog.fields["machine_type"]
    press(qtbot, Qt.Key.Key_Down)  # e2-micro → e2-standard-4
    assert dialog.fields["machine_type"].currentText() == "e2-standard-4"
    assert not dialog.execute_button.isEnabled()  # nothing planned yet
    press(qtbot, Qt.Key.Key_Return)  # Plan
    assert dialog.phase == "planned"
    assert dialog.planned is not None and not dialog.planned.refused
    assert dialog.planned.plan.command == ScaleConnector("connector", 3, None, "e2-standard-4")
    assert "e2-standard-4" in dialog.plan_view.toPlainText()
    assert "gcloud compute networks vpc-access connectors update" in dialog.plan_view.toPlainText()
    assert dialog.execute_button.isEnabled() and focused() is dialog.execute_button
    grab_is_not_blank(dialog, tmp_path / "dialog-planned.png")
    press(qtbot, Qt.Key.Key_Return)  # Execute
    assert dialog.phase == "done"
    assert dialog.result is not None and dialog.result.ok, dialog.result
    assert dialog.outcome_label.text() == "✔ DONE"
    assert dialog.current_label.text().startswith("Now: min 3 · max 10 · e2-standard-4")
    settings = simulation(demo_session).connector_settings("connector")
    assert (settings.min_instances, settings.machine_type) == (3, "e2-standard-4")
    assert "Watching VPC connector, Auth, Backend" in dialog.watch_label.text()
    grab_is_not_blank(dialog, tmp_path / "dialog-done.png")

    assert focused() is dialog.revert_button
    press(qtbot, Qt.Key.Key_Space)  # Revert: the inverse is planned at once
    assert dialog.phase == "planned" and dialog.revert_of is not None
    assert dialog.title_label.text().startswith("Revert: ")
    assert [w.rule for w in dialog.planned.warnings] == ["connector-scale-in"]
    press(qtbot, Qt.Key.Key_Return)
    assert dialog.result is not None and dialog.result.ok
    settings = simulation(demo_session).connector_settings("connector")
    assert (settings.min_instances, settings.machine_type) == (2, "e2-micro")
    press(qtbot, Qt.Key.Key_Escape)
    assert not dialog.isVisible()

    window.bridge.drain_now()
    outcomes = [e.fields["outcome"] for e in demo_session.timeline if e.kind == "action"]
    assert outcomes == ["planned", "confirmed", "succeeded"] * 2
    # both changes are marked on the affected charts
    marked = {(sid, text) for sid, _t, text, _line in window.chart_grid.annotations}
    assert ("connector", "✔ scale-connector") in marked
    assert ("chat", "✔ ↶ scale-connector") in marked
    assert "✔" in panel.recent_entries()[0][2]


def test_route_traffic_with_the_keyboard_alone(
    qtbot, window: MainWindow, demo_session: Session
) -> None:
    press(qtbot, Qt.Key.Key_A)
    move_to_button(qtbot, window, "backend", "route-traffic")
    press(qtbot, Qt.Key.Key_Return)
    dialog = current_dialog(qtbot, window)
    assert focused() is dialog.latest_box
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is dialog.percent_boxes[OLD]
    type_text(qtbot, "0")
    press(qtbot, Qt.Key.Key_Tab)  # "All to 00749-6tr"
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is dialog.percent_boxes[NEW]
    type_text(qtbot, "100")
    assert dialog.total_label.text() == "total 100 %"
    press(qtbot, Qt.Key.Key_Return)  # Plan
    assert dialog.phase == "planned", dialog.plan_view.toPlainText()
    assert dialog.planned.dry_run is not None and dialog.planned.dry_run.ok
    assert "traffic to 00750-69k" in dialog.plan_view.toPlainText()
    press(qtbot, Qt.Key.Key_Return)  # Execute
    assert dialog.result is not None and dialog.result.ok, dialog.result
    traffic = {
        r.name: r.traffic_percent
        for r in simulation(demo_session).service_settings("backend").revisions
    }
    assert traffic == {OLD: 0, NEW: 100}
    press(qtbot, Qt.Key.Key_Escape)


def test_scale_a_service_with_the_keyboard_alone(
    qtbot, window: MainWindow, demo_session: Session
) -> None:
    press(qtbot, Qt.Key.Key_A)
    move_to_button(qtbot, window, "backend", "scale-service")
    press(qtbot, Qt.Key.Key_Space)
    dialog = current_dialog(qtbot, window)
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is dialog.fields["max_instances"]
    type_text(qtbot, "60")
    press(qtbot, Qt.Key.Key_Return)
    assert dialog.phase == "planned"
    assert dialog.planned.warnings == ()  # 60 is above the 46 instances running
    press(qtbot, Qt.Key.Key_Return)
    assert dialog.result is not None and dialog.result.ok
    assert simulation(demo_session).service_settings("backend").max_instances == 60
    press(qtbot, Qt.Key.Key_Escape)


# ---- guards in the dialog -----------------------------------------------------------------------


def test_a_refused_plan_keeps_execute_disabled_and_offers_the_suggestion(
    qtbot, window: MainWindow, demo_session: Session, tmp_path: Path
) -> None:
    panel = panel_of(window)
    dialog = panel.open_dialog("scale-connector", "connector", ScaleConnector("connector", 3, 15))
    assert dialog.phase == "planned" and dialog.planned.refused
    assert not dialog.execute_button.isEnabled()
    assert dialog.outcome_label.text() == "⊘ REFUSED"
    assert "above the API's limit of 10" in dialog.result_label.text()
    assert dialog.suggestion_button.isVisible()
    grab_is_not_blank(dialog, tmp_path / "dialog-refused.png")
    qtbot.waitUntil(dialog.isActiveWindow)
    assert focused() is dialog.suggestion_button
    press(qtbot, Qt.Key.Key_Space)  # use the suggestion: e2-standard-4, max 10
    assert dialog.planned is not None and not dialog.planned.refused
    assert dialog.fields["machine_type"].currentText() == "e2-standard-4"
    assert dialog.execute_button.isEnabled()
    assert simulation(demo_session).connector_settings("connector").machine_type == "e2-micro"


def test_execute_stays_disabled_while_planning_off_the_gui_thread(
    qtbot, demo_session: Session, tmp_path: Path
) -> None:
    engine = ActionEngine(demo_session, lock_dir=tmp_path)
    runner = ActionRunner()  # real worker threads
    bridge = SessionBridge(demo_session, coalesce_ms=None)
    dialog = PlanDialog(engine, runner, bridge, "scale-service", "backend")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.phase == "editing")
    dialog.fields["max_instances"].setValue(60)
    planned_on: list[str] = []
    original = engine.plan

    def plan_and_note_thread(*args, **kwargs):
        planned_on.append(threading.current_thread().name)
        return original(*args, **kwargs)

    engine.plan = plan_and_note_thread  # type: ignore[method-assign]
    with qtbot.waitSignal(dialog.phase_changed, check_params_cb=lambda p: p == "planned"):
        dialog.plan()
        assert dialog.phase == "planning"
        assert not dialog.execute_button.isEnabled()
    assert planned_on == ["action-job"]
    assert dialog.execute_button.isEnabled()
    dialog.reject()
    runner.wait()


def test_production_needs_the_resource_name_typed(
    qtbot, demo_workspace: Workspace, demo_clock: VirtualClock
) -> None:
    incident = dataclasses.replace(demo_workspace.incident, environment="production")
    session = build_session(dataclasses.replace(demo_workspace, incident=incident), demo_clock)
    session.poll_sources()
    session.drain()
    try:
        window = open_window(qtbot, session)
        press(qtbot, Qt.Key.Key_A)
        move_to_button(qtbot, window, "backend", "scale-service")
        press(qtbot, Qt.Key.Key_Return)
        dialog = current_dialog(qtbot, window)
        press(qtbot, Qt.Key.Key_Tab)
        type_text(qtbot, "60")
        press(qtbot, Qt.Key.Key_Return)
        assert dialog.phase == "planned"
        assert focused() is dialog.confirm_edit
        assert not dialog.execute_button.isEnabled()
        qtbot.keyClicks(focused(), "backend")
        press(qtbot, Qt.Key.Key_Return)
        assert dialog.result is None  # a wrong name does not execute
        type_text(qtbot, "netra-backend-staging")
        assert dialog.execute_button.isEnabled()
        press(qtbot, Qt.Key.Key_Return)
        assert dialog.result is not None and dialog.result.ok
        assert simulation(session).service_settings("backend").max_instances == 60
        dialog.reject()
    finally:
        session.stop()


def test_cancel_before_sending_stops_the_action(
    qtbot, demo_session: Session, tmp_path: Path
) -> None:
    # A real wait (a long grace period on the wall clock, on a worker thread): Cancel wakes it.
    engine = ActionEngine(
        demo_session, lock_dir=tmp_path, pacer=WallPacer(demo_session.clock.now), grace_s=60.0
    )
    runner = ActionRunner()
    bridge = SessionBridge(demo_session, coalesce_ms=None)
    dialog = PlanDialog(engine, runner, bridge, "scale-connector", "connector")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.phase == "editing")
    dialog.fields["min_instances"].setValue(3)
    with qtbot.waitSignal(dialog.phase_changed, check_params_cb=lambda p: p == "planned"):
        dialog.plan()
    dialog.execute()
    qtbot.waitUntil(lambda: dialog.progress_label.text().startswith("Sending in"))
    assert dialog.cancel_button.isEnabled() and not dialog.close_button.isEnabled()
    with qtbot.waitSignal(dialog.action_finished) as finished:
        qtbot.keyClick(dialog.cancel_button, Qt.Key.Key_Space)
    assert finished.args[0].outcome == "cancelled"
    assert dialog.outcome_label.text() == "■ CANCELLED"
    assert simulation(demo_session).connector_settings("connector").min_instances == 2
    dialog.reject()
    assert runner.wait()


def test_closing_a_planned_dialog_records_the_attempt_as_cancelled(
    qtbot, window: MainWindow, demo_session: Session
) -> None:
    dialog = panel_of(window).open_dialog("scale-service", "backend")
    dialog.fields["max_instances"].setValue(60)
    dialog.plan()
    attempt = dialog.planned.id
    qtbot.waitUntil(dialog.isActiveWindow)
    press(qtbot, Qt.Key.Key_Escape)
    window.bridge.drain_now()
    outcomes = [
        e.fields["outcome"]
        for e in demo_session.timeline
        if e.kind == "action" and e.fields["action_id"] == attempt
    ]
    assert outcomes == ["planned", "cancelled"]
    marked = [text for sid, _t, text, _l in window.chart_grid.annotations if sid == "backend"]
    assert set(marked) == {"■ cancelled"}
    assert len(marked) == len([c for c in window.chart_grid.charts if c.service == "backend"])


# ---- the panel, the node menu, read-only --------------------------------------------------------


def test_the_panel_shows_each_resources_settings(window: MainWindow, tmp_path: Path) -> None:
    panel = panel_of(window)
    window.side_tabs.setCurrentWidget(panel)
    assert list(panel.cards) == ["connector", "auth", "backend", "frontend"]
    assert panel.cards["connector"].settings_label.text() == (
        "min 2 · max 10 · e2-micro · 10 running"
    )
    assert panel.cards["backend"].settings_label.text() == (
        "min 0 · max 100 · 00749-6tr 50% · 00750-69k 50% · 46 running"
    )
    assert set(panel.buttons) == {
        ("connector", "scale-connector"),
        ("auth", "scale-service"),
        ("auth", "route-traffic"),
        ("backend", "scale-service"),
        ("backend", "route-traffic"),
        ("frontend", "scale-service"),
        ("frontend", "route-traffic"),
    }
    grab_is_not_blank(panel, tmp_path / "panel.png")
    grab_is_not_blank(window, tmp_path / "window.png")


def test_the_node_menu_offers_the_same_actions(qtbot, window: MainWindow) -> None:
    graph = window.status_graph
    menu = graph.node_menu("connector")
    assert menu is not None
    assert [a.text() for a in menu.actions()] == ["Scale connector…"]
    backend = graph.node_menu("backend")
    assert [a.text() for a in backend.actions()] == [
        "Scale service…",
        "Route traffic…",
        "Send all traffic to the latest revision…",
    ]
    assert graph.node_menu("database") is None  # nothing to do on Cloud SQL
    backend.actions()[2].trigger()
    dialog = current_dialog(qtbot, window)
    assert dialog.phase == "planned"  # prefilled and planned at once
    assert dialog.planned.plan.after["traffic"] == {"LATEST": 100}
    dialog.reject()


def test_a_read_only_window_has_no_actions_at_all(
    qtbot, demo_workspace: Workspace, demo_clock: VirtualClock
) -> None:
    session = build_session(demo_workspace, demo_clock, read_only=True)
    session.poll_sources()
    session.drain()
    try:
        window = open_window(qtbot, session)
        assert window.action_views.panel is None
        titles = [window.side_tabs.tabText(i) for i in range(window.side_tabs.count())]
        assert "Actions" not in titles
        assert "Actions" not in [a.text() for a in window.shortcut_actions()]
        assert window.status_graph.node_menu("connector") is None
        assert not window.findChildren(ActionsPanel)
    finally:
        session.stop()
