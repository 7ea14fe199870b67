"""What keeps a page of the review charts cheap changes nothing drawn: the value axes' image
cache (``ui.chart_grid.AxisImageCache``) draws exactly what the axes draw without it and stays
within its size; charts out of sight stop following the shared X range and catch up (range
and crosshair) as soon as they come into sight, before they paint.

The recording is the demo's (an hour of history, five minutes more) made by the console's own
recorder, opened in the review window; the charts show 15 minutes, so moving the cursor pages
them and their Y ranges change and come back.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from tests.recordings import record_demo
from tests.shown_windows import show_for_test
from ui.chart_grid import AxisImageCache
from ui.review_window import ReviewWindow, open_review_window

pytestmark = pytest.mark.gui

VIEW_S = 900.0
#: Times are epoch seconds (~1.8e9): approx's default relative tolerance would be half an hour.
TIME_TOLERANCE_S = 1e-3


@pytest.fixture(scope="module")
def demo_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_demo(tmp_path_factory.mktemp("paging") / "demo.incident", duration_s=300)


@pytest.fixture
def review(qtbot, demo_recording: Path) -> Iterator[ReviewWindow]:
    window = open_review_window(demo_recording, deterministic=True)
    show_for_test(qtbot, window, (1400, 900))
    window.set_chart_range(VIEW_S)
    _settle()
    yield window
    window.close()


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def _page_around(window: ReviewWindow) -> float:
    """Page the charts over the recording and back; returns where the cursor ends."""
    start, end = window.review_session.time_range
    controller = window.controller
    for fraction in (0.1, 0.9, 0.3, 0.7, 0.5, 0.1, 0.9):
        controller.seek(start + fraction * (end - start))
        QApplication.processEvents()
    controller.seek(start + 0.3 * (end - start))
    _settle()
    return controller.cursor


def _charts_image(window: ReviewWindow) -> QImage:
    return window.chart_grid.grab().toImage()


def _set_cache(window: ReviewWindow, cache: AxisImageCache | None) -> None:
    """Give every value axis ``cache`` (None: draw as pyqtgraph does) and repaint them."""
    for chart in window.chart_grid.charts:
        axis = chart.plot.getAxis("left")
        axis.image_cache = cache
        axis.update()  # drops Qt's own item cache of the axis
    _settle()


def test_axes_drawn_from_images_are_pixel_identical(review: ReviewWindow) -> None:
    cache = review.chart_grid.axis_images
    _page_around(review)
    assert cache.hits > 0, "paging back to ranges shown before reuses their axis images"
    hits_before = cache.hits
    review.chart_grid.charts[0].plot.getAxis("left").update()
    _settle()
    assert cache.hits > hits_before  # this very image comes from the cache
    with_images = _charts_image(review)

    _set_cache(review, None)
    without_images = _charts_image(review)
    assert with_images.size() == without_images.size()
    assert with_images == without_images

    _set_cache(review, cache)  # and back: drawn from the images again, still the same
    assert _charts_image(review) == without_images


def test_a_range_shown_before_lays_out_no_ticks(review: ReviewWindow) -> None:
    cache = review.chart_grid.axis_images
    start, end = review.review_session.time_range
    review.controller.seek(start + 0.2 * (end - start))
    _settle()
    review.controller.seek(start + 0.8 * (end - start))
    _settle()
    misses = cache.misses
    review.controller.seek(start + 0.2 * (end - start))  # a page shown a moment ago
    _settle()
    assert cache.misses == misses
    assert cache.hits > 0


def test_the_cache_keeps_at_most_its_capacity(review: ReviewWindow) -> None:
    small = AxisImageCache(capacity=3)
    _set_cache(review, small)
    _page_around(review)
    assert small.misses > 3
    assert len(small) == 3
    small.clear()
    assert len(small) == 0


def test_charts_out_of_sight_catch_up_with_the_x_range_when_scrolled_into_sight(
    review: ReviewWindow,
) -> None:
    grid = review.chart_grid
    start, end = review.review_session.time_range
    review.controller.seek(start + 0.2 * (end - start))
    _settle()
    grid.refresh(review.controller.cursor)  # the rows out of sight stop following
    # A page: the shared X range moves on, then the charts in sight are refreshed.
    review.controller.show_time_range(start + 0.7 * (end - start), start + 0.9 * (end - start))
    in_sight = review.chart_grid.charts_in_sight()
    out_of_sight = [chart for chart in grid.charts if chart not in in_sight]
    assert out_of_sight, "the window should be too short for every row"
    shared = grid.x_range
    assert shared == pytest.approx(
        (start + 0.7 * (end - start), start + 0.9 * (end - start)), abs=TIME_TOLERANCE_S
    )
    for chart in in_sight:
        assert tuple(chart.view_box.viewRange()[0]) == pytest.approx(shared, abs=TIME_TOLERANCE_S)
        assert chart.crosshair.value() == review.controller.cursor
    # Out of sight, nothing followed the page (that is the saving).
    assert all(chart.view_box.linksBlocked for chart in out_of_sight)
    assert any(
        tuple(c.view_box.viewRange()[0]) != pytest.approx(shared, abs=TIME_TOLERANCE_S)
        for c in out_of_sight
    )

    scroll = grid._scroll.verticalScrollBar()
    scroll.setValue(scroll.maximum())  # what the wheel does; no paint yet
    now_in_sight = review.chart_grid.charts_in_sight()
    assert set(map(id, now_in_sight)) & set(map(id, out_of_sight))
    for chart in now_in_sight:
        assert not chart.view_box.linksBlocked
        assert tuple(chart.view_box.viewRange()[0]) == pytest.approx(shared, abs=TIME_TOLERANCE_S)
        assert chart.crosshair.isVisible()
        assert chart.crosshair.value() == review.controller.cursor
    _settle()
    scrolled = _charts_image(review)

    # Linking every chart the plain way again changes no pixel: each caught up to where the
    # link itself puts it.
    master = grid.charts[0].view_box
    for chart in grid.charts[1:]:
        chart.view_box.blockLink(False)
        chart.view_box.linkedViewChanged(master, chart.view_box.XAxis)
    _settle()
    assert _charts_image(review) == scrolled


def test_panning_a_chart_in_sight_moves_every_chart_in_sight(review: ReviewWindow) -> None:
    grid = review.chart_grid
    start, end = review.review_session.time_range
    review.controller.seek(start + 0.8 * (end - start))
    QApplication.processEvents()
    in_sight = review.chart_grid.charts_in_sight()
    panned = in_sight[-1]  # not the first chart: the one every other follows
    assert panned.view_box is not grid.charts[0].view_box
    x0, x1 = grid.x_range
    panned.view_box.setXRange(x0 - 120, x1 - 120, padding=0)
    assert grid.x_range == pytest.approx((x0 - 120, x1 - 120), abs=TIME_TOLERANCE_S)
    for chart in in_sight:
        assert tuple(chart.view_box.viewRange()[0]) == pytest.approx(
            (x0 - 120, x1 - 120), abs=TIME_TOLERANCE_S
        )
