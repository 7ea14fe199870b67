"""The main window, its shortcuts and status bar; the session bridge; the app's entry points.

Everything runs offscreen on the deterministic demo session, except the bridge's threaded test,
which waits for signals (never sleeps), and the ``run_gui`` tests, which drive the config-error
dialog with a zero-delay timer.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from console.clock import VirtualClock
from console.session import Session, SessionUpdate
from console.sources import Batch
from console.workspace import Workspace
from tests.conftest import CONNECTOR_DOWN, ScriptedSource
from tests.shown_windows import offscreen_dialog, shown_main_window
from ui.app import render_screenshot, run_gui
from ui.error_dialog import ask_to_open_demo, config_error_box
from ui.main_window import MainWindow
from ui.session_bridge import SessionBridge

pytestmark = pytest.mark.gui


@pytest.fixture
def bridge(demo_session: Session) -> SessionBridge:
    return SessionBridge(demo_session, coalesce_ms=None)


@pytest.fixture
def window(qtbot, demo_session: Session, bridge: SessionBridge) -> MainWindow:
    return shown_main_window(qtbot, demo_session, bridge, (1280, 800))


def one_sample(key: tuple[str, str], t: float, value: float) -> Batch:
    batch = Batch("test")
    batch.add(key, np.array([t]), np.array([value]))
    return batch


# -- main window ------------------------------------------------------------------------------


def test_window_arranges_banner_graph_findings_and_charts(window: MainWindow) -> None:
    assert window.banner.isVisible()
    assert window.status_graph.isVisible()
    assert window.findings.isVisible()
    assert window.chart_grid.isVisible()
    assert "Incident Console" in window.windowTitle()


def test_number_keys_switch_the_chart_range(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_1)
    assert window.chart_grid.range_s == 15 * 60
    assert window.range_actions[900.0].isChecked()
    qtbot.keyClick(window, Qt.Key.Key_3)
    assert window.chart_grid.range_s == 6 * 3600
    qtbot.keyClick(window, Qt.Key.Key_2)
    assert window.chart_grid.range_s == 3600
    assert window.range_actions[3600.0].isChecked()


def test_space_pauses_and_resumes(qtbot, window: MainWindow) -> None:
    assert window.chart_grid.is_live
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.chart_grid.is_live
    assert window.live_action.text() == "❚❚ PAUSED"
    assert not window.live_action.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.chart_grid.is_live
    assert window.live_action.text() == "● LIVE"


def test_toolbar_follows_a_pause_started_in_the_charts(window: MainWindow) -> None:
    window.chart_grid.set_live(False)  # what dragging a chart does
    assert window.live_action.text() == "❚❚ PAUSED"


@offscreen_dialog
def test_f1_shows_the_shortcuts_and_tooltips_name_them(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.help_dialog
    assert dialog is not None and dialog.isVisible()
    keys = [keys for keys, _ in dialog.rows]
    assert keys[:3] == ["1", "2", "3"]
    assert "Space" in keys and "F11" in keys and "Ctrl+Q" in keys
    assert any("F1" in k and "?" in k for k in keys)
    dialog.close()
    assert "(Space)" in window.live_action.toolTip()
    assert "(1)" in window.range_actions[900.0].toolTip()


@offscreen_dialog
def test_question_mark_also_shows_the_shortcuts(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window, "?")
    assert window.help_dialog is not None and window.help_dialog.isVisible()
    window.help_dialog.close()


def test_f11_toggles_full_screen(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.isFullScreen()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert not window.isFullScreen()


def test_ctrl_q_closes_the_window(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_status_bar_shows_sources_and_data_age(
    window: MainWindow, demo_session: Session, bridge: SessionBridge, demo_clock: VirtualClock
) -> None:
    assert "simulation: ok" in window.sources_label.text()
    demo_clock.advance(10)
    bridge.tick_now()
    assert window.data_age_label.text() == "newest data 10s old"


def test_data_age_warns_when_data_goes_stale(
    window: MainWindow, bridge: SessionBridge, demo_clock: VirtualClock
) -> None:
    demo_clock.advance(600)  # no poll: every series is ten minutes old
    bridge.tick_now()
    assert window.data_age_label.text() == "◷ newest data 10m 00s old · 7 STALE"


def test_a_tick_moves_the_banner_clock(
    window: MainWindow, bridge: SessionBridge, demo_clock: VirtualClock
) -> None:
    before = window.banner.elapsed_label.text()
    demo_clock.advance(65)
    bridge.tick_now()
    assert window.banner.elapsed_label.text() != before


# -- the session bridge -------------------------------------------------------------------------


def test_bridge_coalesces_submitted_batches_into_one_drain(
    qtbot, demo_session: Session, bridge: SessionBridge, demo_clock: VirtualClock
) -> None:
    drains: list[SessionUpdate] = []
    demo_session.subscribe(drains.append)
    t = demo_clock.now() + 1
    keys = [("frontend", "latency_p95_ms"), ("auth", "latency_p95_ms"), ("connector", "saturation")]
    for key in keys:
        demo_session.submit(one_sample(key, t, 1.0))
    assert bridge.drain_pending
    with qtbot.waitSignal(bridge.updated) as blocker:
        bridge.drain_now()
    assert len(drains) == 1
    assert set(keys) <= blocker.args[0].changed_keys
    assert not bridge.drain_pending


def test_bridge_timer_drains_once_for_a_burst(qtbot, demo_session: Session) -> None:
    bridge = SessionBridge(demo_session, coalesce_ms=40)
    t = demo_session.clock.now() + 1
    for i in range(5):
        demo_session.submit(one_sample(("frontend", "requests_per_s"), t + i, float(i)))
    with qtbot.waitSignal(bridge.updated, timeout=5000) as blocker:
        pass
    assert bridge.drain_count == 1
    assert blocker.args[0].samples == 5


def test_sources_poll_on_workers_and_the_gui_thread_drains(
    qtbot, demo_workspace: Workspace
) -> None:
    poll_threads: set[str] = set()

    class RecordingSource(ScriptedSource):
        def poll(self, now: float) -> Batch:
            poll_threads.add(threading.current_thread().name)
            return super().poll(now)

    clock = VirtualClock(1_764_000_000.0)
    session = Session(demo_workspace, clock, [RecordingSource(CONNECTOR_DOWN)])
    bridge = SessionBridge(session)
    drain_threads: list[threading.Thread] = []
    session.subscribe(lambda update: drain_threads.append(threading.current_thread()))
    try:
        with qtbot.waitSignal(bridge.updated, timeout=5000):
            bridge.start()
        assert session.running
    finally:
        bridge.stop()
    assert not session.running
    assert poll_threads and threading.main_thread().name not in poll_threads
    assert drain_threads and all(t is threading.main_thread() for t in drain_threads)
    bridge.start()  # after stop, a late start (queued behind a quick quit) does nothing
    assert not session.running


# -- app entry points ---------------------------------------------------------------------------


def test_render_screenshot_writes_a_png_of_the_requested_size(
    demo_workspace: Workspace, tmp_path: Path
) -> None:
    output = tmp_path / "main.png"
    render_screenshot(demo_workspace, output, (1280, 800))
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(output))
    assert (image.width(), image.height()) == (1280, 800)
    colours = {image.pixelColor(x, y).name() for x in range(0, 1280, 40) for y in (60, 400, 700)}
    assert len(colours) > 3, "the screenshot is blank"


def test_render_screenshot_says_when_it_cannot_write(
    demo_workspace: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(OSError, match="does not exist"):
        render_screenshot(demo_workspace, tmp_path / "missing" / "main.png")


def click_when_shown(button_text: str) -> None:
    """Press ``button_text`` on the modal box that is about to open (from inside its loop)."""

    def press() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        button = next(b for b in box.buttons() if b.text() == button_text)
        button.click()

    QTimer.singleShot(0, press)


@offscreen_dialog
def test_config_error_box_lists_the_problems(qtbot) -> None:
    problems = "incident.toml:3: environment: 'prod' is not one of staging, production"
    box = config_error_box(problems)
    qtbot.addWidget(box)
    assert problems in box.informativeText()
    assert {b.text() for b in box.buttons()} == {"Open the demo", "Quit"}


@offscreen_dialog
@pytest.mark.parametrize(("button", "expected"), [("Open the demo", True), ("Quit", False)])
def test_ask_to_open_demo_returns_the_choice(qtbot, button: str, expected: bool) -> None:
    click_when_shown(button)
    assert ask_to_open_demo("incident.toml:1: bad") is expected


@offscreen_dialog
def test_run_gui_with_a_config_error_declined_returns_2(qtbot) -> None:
    click_when_shown("Quit")
    assert run_gui(None, config_error="incident.toml:1: bad") == 2


def test_run_gui_with_a_config_error_accepted_opens_the_demo(qtbot) -> None:
    shown: list[str] = []

    def accept_and_quit_soon(problems: str) -> bool:
        shown.append(problems)
        QTimer.singleShot(0, QApplication.quit)
        return True

    code = run_gui(None, config_error="incident.toml:1: bad", ask_open_demo=accept_and_quit_soon)
    assert code == 0
    assert shown == ["incident.toml:1: bad"]
