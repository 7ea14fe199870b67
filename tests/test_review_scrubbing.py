"""Scrubbing a recording (``ui/review_window.py`` driving ``ui/chart_grid.py``) stays cheap without
changing what is drawn: a fast drag shows its latest position and drops the rest, paging back
to a range just left reads nothing and draws what a fresh read would, and rows scrolled out of
sight are brought up to date before they come back into sight.

The recording is the demo's (an hour of history, five minutes more) made by the console's own
recorder; the charts show 15 minutes, so moving the cursor pages them.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from tests.recordings import record_demo
from ui.review_window import ReviewWindow, open_review_window

pytestmark = pytest.mark.gui

VIEW_S = 900.0


@pytest.fixture(scope="module")
def demo_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_demo(tmp_path_factory.mktemp("scrub") / "demo.incident", duration_s=300)


def _open(qtbot, path: Path, deterministic: bool = True) -> ReviewWindow:
    window = open_review_window(path, deterministic=deterministic)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.set_chart_range(VIEW_S)
    for _ in range(3):  # the layout settles
        QApplication.processEvents()
    return window


@pytest.fixture
def review(qtbot, demo_recording: Path) -> Iterator[ReviewWindow]:
    window = _open(qtbot, demo_recording)
    yield window
    window.close()


def _in_sight(window: ReviewWindow) -> list:
    grid = window.chart_grid
    band = grid._band_in_sight()
    assert band is not None
    return [chart for chart in grid.charts if grid._in_band(chart, band)]


def _covers_view(window: ReviewWindow, chart) -> bool:
    """The chart holds data read for the view (its span, at the view's resolution)."""
    x0, x1 = window.chart_grid.x_range
    span = chart.fetched_span
    return (
        span is not None
        and span[0] <= x0
        and x1 <= span[1]
        and 0.67 < (x1 - x0) / chart.fetched_view_width < 1.5
    )


def _assert_drawn_as_a_fresh_read(window: ReviewWindow, charts: list) -> None:
    store = window.review_session.review_store
    for chart in charts:
        span = chart.fetched_span
        for curve in chart.curves:
            fresh_t, fresh_v = store.window(curve.key, span[0], span[1], curve.max_points)
            assert np.array_equal(curve.item.xData, fresh_t)
            assert np.array_equal(curve.item.yData, fresh_v, equal_nan=True)


def test_a_fast_drag_shows_the_latest_position_and_drops_the_rest(
    qtbot, demo_recording: Path
) -> None:
    window = _open(qtbot, demo_recording, deterministic=False)  # throttled, as in use
    controller = window.controller
    start, _ = window.review_session.time_range
    moves: list[float] = []
    controller.cursor_moved.connect(moves.append)
    # A burst of mouse moves that arrived while the last frame was still being drawn.
    targets = [start + 600 + 20 * i for i in range(50)]
    for t in targets:
        controller.request_seek(t)
    assert moves == []  # nothing queued up behind the mouse: one pending position
    qtbot.waitUntil(lambda: len(moves) > 0)
    qtbot.waitUntil(lambda: not controller._throttle_timer.isActive())
    assert moves == [targets[-1]]
    assert window.chart_grid.cursor_time == targets[-1]
    window.close()


def test_paging_back_to_a_range_just_left_reads_nothing(review: ReviewWindow) -> None:
    controller = review.controller
    grid = review.chart_grid
    store = review.review_session.review_store
    start, _ = review.review_session.time_range
    controller.seek(start + 600)
    QApplication.processEvents()
    first = grid.x_range
    controller.seek(start + 600 + 2 * VIEW_S)  # pages forward
    QApplication.processEvents()
    assert grid.x_range != first
    reads = dict(store.reads)
    calls = grid.set_data_calls

    controller.seek(start + 600)  # pages back into the range read first
    QApplication.processEvents()

    charts = _in_sight(review)
    assert all(_covers_view(review, chart) for chart in charts)
    assert grid.set_data_calls > calls  # the curves got the remembered data…
    assert store.reads == reads  # …without a read
    _assert_drawn_as_a_fresh_read(review, charts)
    assert grid.cursor_time == start + 600


def test_rows_out_of_sight_are_brought_up_to_date_when_scrolled_into_sight(
    review: ReviewWindow,
) -> None:
    grid = review.chart_grid
    start, _ = review.review_session.time_range
    review.controller.seek(start + 600 + 2 * VIEW_S)  # a page: new ranges everywhere
    in_sight = _in_sight(review)
    out_of_sight = [chart for chart in grid.charts if chart not in in_sight]
    assert out_of_sight, "the window should be too short for every row"
    assert all(_covers_view(review, chart) for chart in in_sight)
    assert not any(_covers_view(review, chart) for chart in out_of_sight)

    scroll = grid._scroll.verticalScrollBar()
    scroll.setValue(scroll.maximum())  # what the wheel does

    now_in_sight = _in_sight(review)
    assert set(map(id, now_in_sight)) & set(map(id, out_of_sight))
    assert all(_covers_view(review, chart) for chart in now_in_sight)  # before any paint
    _assert_drawn_as_a_fresh_read(review, now_in_sight)
