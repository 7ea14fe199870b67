"""The review window on a recorded demo: read-only, the cursor moves health back in time, play
advances on explicit ticks, logs and timeline follow, Ctrl+S saves an equal snapshot, the
strip seeks, the screenshot path renders.

Offscreen and deterministic: the window's player has no timer (``deterministic=True``) and the
background work runs inline; the save runs on its worker thread and is awaited with
``qtbot.waitSignal`` (never a sleep).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from console.simulation_model import ONSET_LEAD_S
from console.snapshot import open_snapshot
from tests.recordings import RECORDING_START, record_demo
from ui.review_window import ReviewWindow, open_review_window, render_review_screenshot
from ui.snapshot_saving import SaveRange, SaveSnapshotDialog

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def demo_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_demo(tmp_path_factory.mktemp("review") / "demo.incident", duration_s=300)


class SaveChoice:
    """Answers the save dialogs: the range at ``index`` of those offered, into ``path``."""

    def __init__(self, path: Path, index: int = 0) -> None:
        self.path = path
        self.index = index
        self.offered: list[SaveRange] = []

    def __call__(
        self,
        parent: QWidget,
        ranges: Sequence[SaveRange],
        bounds: tuple[float, float],
        suggested: Path,
    ) -> tuple[SaveRange, Path]:
        self.offered = list(ranges)
        assert suggested.suffix == ".incident"
        return ranges[self.index], self.path


@pytest.fixture
def chooser(tmp_path: Path) -> SaveChoice:
    return SaveChoice(tmp_path / "saved.incident")


@pytest.fixture
def review(qtbot, demo_recording: Path, chooser: SaveChoice) -> Iterator[ReviewWindow]:
    window = open_review_window(demo_recording, deterministic=True, choose_save_target=chooser)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    yield window
    window.close()


def test_opens_read_only_without_executor_or_recorder(review: ReviewWindow) -> None:
    session = review.review_session
    assert session.read_only and not hasattr(session, "executor")
    assert session.sources == []
    assert not review.live_action.isVisible() and not review.live_action.isEnabled()
    assert review.live_action.shortcuts() == []
    assert "REVIEW" in review.windowTitle() and "demo.incident" in review.windowTitle()
    assert not hasattr(review, "flight_recording")
    assert not review.chart_grid.is_live
    # The file is opened read-only, and nothing is recording beside it.
    assert sorted(p.name for p in session.snapshot.path.parent.iterdir()) == ["demo.incident"]
    assert review.controller.cursor == session.time_range[1]


def test_the_cursor_moves_health_back_in_time(review: ReviewWindow) -> None:
    start, end = review.review_session.time_range
    assert "BROKEN at Login (Auth)" in review.banner.verdict_label.text()
    assert review.banner.chips[1].emphasised
    assert any("VPC connector" in text for text in review.findings.texts())
    review.controller.seek(start)
    assert review.banner.verdict_label.text() == "✔ GOLDEN PATH WHOLE"
    assert not any(chip.emphasised for chip in review.banner.chips)
    assert review.findings.texts() == []
    assert review.chart_grid.cursor_time == start
    assert review.review_bar.cursor_text == review.review_bar.time_label.text()
    x0, x1 = review.chart_grid.x_range
    assert x0 <= start <= x1  # the charts paged back to show the cursor
    review.controller.seek(end)
    assert "BROKEN at Login (Auth)" in review.banner.verdict_label.text()


def test_play_advances_on_explicit_ticks_and_stops_at_the_end(review: ReviewWindow) -> None:
    controller, player = review.controller, review.review_bar.player
    start, end = review.review_session.time_range
    controller.seek(start)
    player.set_speed(10)
    controller.toggle_play()
    assert player.playing and review.review_bar.play_button.text() == "❚❚ Pause"
    player.advance(0.5)  # half a real second at 10×
    assert controller.cursor == pytest.approx(start + 5, abs=1e-3)
    player.faster()
    assert player.speed == 30
    player.advance(1.0)
    assert controller.cursor == pytest.approx(start + 35, abs=1e-3)
    controller.seek(end - 10)
    player.advance(1.0)
    assert controller.cursor == end and not player.playing
    controller.toggle_play()  # from the very end: starts again from the beginning
    assert player.playing and controller.cursor == start
    controller.toggle_play()
    assert not player.playing


def test_keys_step_play_and_jump(qtbot, review: ReviewWindow) -> None:
    controller = review.controller
    start, end = review.review_session.time_range
    qtbot.keyClick(review, Qt.Key.Key_Home)
    assert controller.cursor == start
    qtbot.keyClick(review, Qt.Key.Key_Right)
    assert controller.cursor == start + 10
    qtbot.keyClick(review, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert controller.cursor == start + 70
    qtbot.keyClick(review, Qt.Key.Key_Left)
    assert controller.cursor == start + 60
    qtbot.keyClick(review, Qt.Key.Key_Space)
    assert review.review_bar.player.playing
    qtbot.keyClick(review, Qt.Key.Key_Space)
    assert not review.review_bar.player.playing
    qtbot.keyClick(review, Qt.Key.Key_End)
    assert controller.cursor == end
    qtbot.keyClick(review, Qt.Key.Key_P)  # to the previous timeline entry
    earlier = [e.t for e in review.review_session.recorded_timeline if e.t < end]
    assert controller.cursor == max(earlier)
    assert review.timeline_panel.current_entry() is not None
    # The help (F1) lists the review's keys with the window's own.
    listed = [review_action.text() for review_action in review.shortcut_actions()]
    for name in ("Play / pause", "Back 10 s", "Whole recording", "Save snapshot…"):
        assert name in listed


def test_logs_and_timeline_follow_the_cursor(review: ReviewWindow) -> None:
    session = review.review_session
    start = session.time_range[0]
    timeline, logs = review.timeline_panel, review.log_panel
    review.side_tabs.setCurrentWidget(logs)  # a hidden Logs tab catches up when shown
    total = len(timeline.entries)
    assert timeline.past_count() == total
    assert timeline.current_entry().text == "recording stopped"
    review.controller.seek(start)
    assert timeline.past_count() == 0 and timeline.current_entry() is None
    assert logs.rows() == [] and "none recorded" in logs.caption.text()
    recorded = float(session.snapshot.meta["created_at"])
    review.controller.seek(recorded + 30)
    assert 0 < timeline.past_count() < total
    assert all(e.t <= recorded + 30 for e in timeline._shown[: timeline.past_count()])
    rows = logs.rows()
    assert rows and len(rows) <= 200
    assert all(e.t <= recorded + 30 for e in logs.entries)
    newest = max(logs.entries, key=lambda e: e.t)
    assert rows[0][0] == time.strftime("%H:%M:%S", time.localtime(newest.t))  # newest first
    timeline.set_kind_filter("golden_path")
    assert all("golden path" in text for text in timeline.texts())


def test_double_clicking_a_timeline_entry_moves_the_cursor(qtbot, review: ReviewWindow) -> None:
    timeline = review.timeline_panel
    target = timeline.entries[1]
    review.side_tabs.setCurrentWidget(timeline)
    item = timeline.list_widget.item(1)
    timeline.list_widget.scrollToItem(item)
    rect = timeline.list_widget.visualItemRect(item)
    viewport = timeline.list_widget.viewport()
    # A real double click: press and release, then the double-click event.
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert review.controller.cursor == target.t


def test_clicking_the_strip_seeks(qtbot, review: ReviewWindow) -> None:
    strip = review.review_bar.strip
    start, end = review.review_session.time_range
    x = int(strip._x(start + (end - start) / 2))
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x, strip.height() // 2))
    qtbot.waitUntil(lambda: abs(review.controller.cursor - (start + end) / 2) < (end - start) / 50)


def test_background_history_colours_the_strip_and_sets_the_incident_start(
    review: ReviewWindow,
) -> None:
    review.start_background()  # deterministic: inline
    history = review.history
    assert history is not None and history.complete
    assert review.review_bar.strip.spans[0].state == "whole"
    assert review.review_bar.strip.spans[-1].state == "broken"
    onset = RECORDING_START - ONSET_LEAD_S
    started = float(review.review_session.snapshot.meta["incident_started_at"])
    assert onset <= started < RECORDING_START
    assert review.banner.opened_at == started
    store = review.review_session.review_store
    assert all(store.has_pyramid(k) for k in store.recorded_keys())


def test_whole_recording_and_range_keys_keep_the_cursor_in_view(
    qtbot, review: ReviewWindow
) -> None:
    start, end = review.review_session.time_range
    qtbot.keyClick(review, Qt.Key.Key_0)
    x0, x1 = review.chart_grid.x_range
    assert x0 <= start and end <= x1
    review.controller.seek(start + 120)
    qtbot.keyClick(review, Qt.Key.Key_1)  # 15 min
    x0, x1 = review.chart_grid.x_range
    assert x1 - x0 == pytest.approx(900) and x0 <= start + 120 <= x1


def test_ctrl_s_saves_an_equal_snapshot(
    qtbot, review: ReviewWindow, chooser: SaveChoice, demo_recording: Path
) -> None:
    saver = review.save_action.saver
    with qtbot.waitSignal(saver.finished, timeout=60_000) as saved:
        qtbot.keyClick(review, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert saved.args == [chooser.path]
    assert chooser.offered[0].t0 is None and "whole recording" in chooser.offered[0].label
    assert review.save_action.last_saved == chooser.path
    assert "Saved" in review.statusBar().currentMessage()
    with open_snapshot(demo_recording) as original, open_snapshot(chooser.path) as copy:
        assert copy.series_keys() == original.series_keys()
        for key in original.series_keys():
            for a, b in zip(original.series(key), copy.series(key), strict=True):
                np.testing.assert_array_equal(a, b)
        assert copy.logs() == original.logs()
        assert copy.timeline() == original.timeline()
        assert copy.time_range == original.time_range
        assert copy.workspace == original.workspace
        assert copy.meta["saved_from"] == "demo.incident"


def test_ctrl_s_saves_the_visible_range(qtbot, review: ReviewWindow, chooser: SaveChoice) -> None:
    chooser.index = 1
    start, _ = review.review_session.time_range
    review.controller.show_time_range(start + 600, start + 1200)
    with qtbot.waitSignal(review.save_action.saver.finished, timeout=60_000):
        review.save_action.trigger()
    assert "visible chart range" in chooser.offered[1].label
    with open_snapshot(chooser.path) as copy:
        low, high = copy.time_range
        assert start + 600 <= low and high <= start + 1200


def test_the_save_dialog_offers_ranges_and_a_custom_one(qtbot) -> None:
    ranges = [SaveRange("whole"), SaveRange("visible", 100.0, 200.0)]
    dialog = SaveSnapshotDialog(ranges, (1_700_000_000.0, 1_700_003_600.0))
    qtbot.addWidget(dialog)
    assert dialog.chosen() == ranges[0]
    dialog.select(1)
    assert dialog.chosen() == ranges[1]
    dialog.set_custom(1_700_000_600.0, 1_700_001_200.0)
    chosen = dialog.chosen()
    assert (chosen.t0, chosen.t1) == (1_700_000_600.0, 1_700_001_200.0)
    dialog.set_custom(1_700_001_200.0, 1_700_000_600.0)
    dialog.accept()
    assert "end must be after the start" in dialog.problem_label.text()
    assert dialog.result() == 0  # not accepted


def test_the_review_screenshot_renders_the_cursor(tmp_path: Path, demo_recording: Path) -> None:
    output = tmp_path / "review.png"
    with open_snapshot(demo_recording) as snapshot:
        start = snapshot.time_range[0]
    render_review_screenshot(demo_recording, output, (1200, 800), at=start + 60)
    image = QImage(str(output))
    assert (image.width(), image.height()) == (1200, 800)
    assert sorted(p.name for p in demo_recording.parent.iterdir()) == ["demo.incident"]


def test_recorded_actions_mark_the_charts_wherever_the_cursor_starts(qtbot, tmp_path: Path) -> None:
    from console.timeline import TimelineEntry
    from tests.recordings import write_snapshot
    from tests.test_health import HEALTHY, make_workspace

    t0 = 1_700_000_000.0
    t = t0 + np.arange(600, dtype=float)
    series = {key: (t, np.full(600, value)) for key, value in HEALTHY.items()}
    action = TimelineEntry(
        t0 + 400,
        "action",
        "✔ scale-connector staging-connector succeeded",
        {
            "action_id": "a1",
            "outcome": "succeeded",
            "command": {"command": "scale-connector"},
            "affected": ["connector", "auth"],
            "before": {"max_instances": 3},
            "after": {"max_instances": 10},
        },
    )
    path = write_snapshot(tmp_path / "acted.incident", make_workspace(), series, [action])
    window = open_review_window(path, at=t0 + 10, deterministic=True)
    qtbot.addWidget(window)
    assert window.controller.cursor == t0 + 10  # before the action
    marked = {(service, when) for service, when, *_ in window.chart_grid.annotations}
    assert marked == {("connector", t0 + 400), ("auth", t0 + 400)}
    assert window.review_bar.strip.marks[0].kind == "action"
    window.controller.seek(t0 + 500)  # passing it draws nothing twice
    assert len(window.chart_grid.annotations) == len(
        [c for c in window.chart_grid.charts if c.service in ("connector", "auth")]
    )


def test_a_hidden_logs_tab_catches_up_when_shown(review: ReviewWindow) -> None:
    session = review.review_session
    review.side_tabs.setCurrentWidget(review.findings)
    review.controller.seek(session.time_range[0])
    before = review.log_panel.rows()
    recorded = float(session.snapshot.meta["created_at"])
    review.controller.seek(recorded + 30)
    assert review.log_panel.rows() == before  # hidden: not re-read
    review.side_tabs.setCurrentWidget(review.log_panel)
    assert review.log_panel.rows() and all(e.t <= recorded + 30 for e in review.log_panel.entries)
