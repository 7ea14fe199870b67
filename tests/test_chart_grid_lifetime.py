"""The end of a chart scene's life (``ui/scene_lifetime.py``): closing a chart grid, or the window
holding it, takes its scene apart at once, so Python's cyclic garbage collector never frees
or clears a graphics item that Qt still holds, whenever it happens to run.

The stress test closes and drops grids while another grid repaints, with the collector run from
a timer, from inside another view's paint event and, with low thresholds, at whatever
allocation it likes. A regression here is a segfault, which fails the whole run loudly
(``faulthandler`` is on, see ``tests/conftest.py``).
"""

from __future__ import annotations

import gc
import os
import weakref

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from console.clock import VirtualClock
from console.session import Session

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("propagateSizeHints"),  # the offscreen platform's only complaint
]

#: Grids made, closed and dropped by the stress test.
STRESS_ROUNDS = 12


def _shown(widget: QWidget, size: tuple[int, int] = (800, 600)) -> QWidget:
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.resize(*size)
    widget.show()
    return widget


def _scene_items(grid) -> list[pg.GraphicsObject]:
    """Every curve and line the grid put into its view boxes."""
    items = []
    for chart in grid.charts:
        items.append(chart.crosshair)
        items.extend(t.line for t in chart.threshold_lines)
        items.extend(c.item for c in chart.curves)
    items.extend(line for *_, line in grid.annotations)
    return items


class _Holder(QWidget):
    """A window holding a grid, like the main window; it may refuse to close."""

    def __init__(self, grid: QWidget, refuse_close: bool = False) -> None:
        super().__init__()
        self.refuse_close = refuse_close
        QVBoxLayout(self).addWidget(grid)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.refuse_close:
            event.ignore()
        else:
            super().closeEvent(event)


def test_closing_a_grid_takes_its_scene_apart(qtbot, demo_session: Session) -> None:
    from ui.chart_grid import ChartGrid

    grid = ChartGrid(demo_session)
    qtbot.addWidget(grid)
    _shown(grid)
    now = demo_session.clock.now()
    grid.set_cursor_time(now - 120)
    grid.add_annotation("backend", now - 300, "scaled")
    grid.refresh(now)
    QApplication.processEvents()
    items = _scene_items(grid)
    assert items and all(item.scene() is grid._plots.scene() for item in items)

    grid.close()

    assert grid.is_torn_down
    # Every curve and line is out of its view box and the scene: Python alone owns it now.
    for item in items:
        assert item.scene() is None
        assert item.parentItem() is None
    assert grid._plots.scene().items() == []
    assert grid._axis_view.scene().items() == []
    # A late update (a drain, a cursor move, a pending range change) is ignored, not a crash.
    grid.refresh(now + 1)
    grid.set_cursor_time(now)
    grid.set_range(900.0)
    grid.add_annotation("backend", now, "late")
    QApplication.processEvents()


def test_closing_the_window_that_holds_a_grid_tears_it_down(qtbot, demo_session: Session) -> None:
    from ui.chart_grid import ChartGrid

    grid = ChartGrid(demo_session)
    holder = _Holder(grid)
    qtbot.addWidget(holder)
    _shown(holder)
    holder.hide()  # hiding (or minimising) a window is not closing it
    assert not grid.is_torn_down
    holder.show()
    holder.close()
    assert grid.is_torn_down


def test_a_refused_close_leaves_the_grid_working(qtbot, demo_session: Session) -> None:
    from ui.chart_grid import ChartGrid

    grid = ChartGrid(demo_session)
    holder = _Holder(grid, refuse_close=True)
    qtbot.addWidget(holder, before_close_func=lambda w: setattr(w, "refuse_close", False))
    _shown(holder)
    holder.close()
    assert holder.isVisible() and not grid.is_torn_down
    # Still drawing: a later hide is not mistaken for the refused close.
    qtbot.waitUntil(lambda: not grid._close_hook._closing)
    holder.hide()
    assert not grid.is_torn_down
    grid.set_cursor_time(demo_session.clock.now() - 60)
    assert grid.charts[0].crosshair.isVisible()


def test_a_grid_moved_into_another_window_follows_it(qtbot, demo_session: Session) -> None:
    from ui.chart_grid import ChartGrid

    grid = ChartGrid(demo_session)
    first = _Holder(QWidget())
    second = QWidget()
    qtbot.addWidget(first)
    qtbot.addWidget(second)
    QVBoxLayout(second).addWidget(grid)  # built alone, then put into a window
    _shown(first)
    _shown(second)
    first.close()
    assert not grid.is_torn_down
    second.close()
    assert grid.is_torn_down


class _CollectOnPaint(QObject):
    """Runs the garbage collector inside a view's paint event: mid event processing."""

    def __init__(self) -> None:
        super().__init__()
        self.collections = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            gc.collect()
            self.collections += 1
        return False


def test_grids_closed_and_dropped_while_others_repaint_survive_the_collector(
    qtbot, demo_session: Session, demo_clock: VirtualClock
) -> None:
    from ui.chart_grid import ChartGrid

    steady = ChartGrid(demo_session)
    qtbot.addWidget(steady)
    _shown(steady, (900, 700))
    collector = _CollectOnPaint()
    steady._plots.viewport().installEventFilter(collector)
    service = next(iter(demo_session.workspace.services))
    dropped: list[weakref.ref] = []
    timer_collections: list[int] = []
    thresholds = gc.get_threshold()
    # Collections at arbitrary allocations too, wherever Qt happens to be.
    gc.set_threshold(200, 2, 2)
    try:
        for round_ in range(STRESS_ROUNDS):
            grid = ChartGrid(demo_session)
            window = grid if round_ % 2 == 0 else _Holder(grid)
            _shown(window)
            now = demo_clock.now()
            grid.set_cursor_time(now - 100)
            grid.add_annotation(service, now - 200, f"mark {round_}")
            grid.refresh(now)
            QApplication.processEvents()
            # A hover the rate limiter still holds, a collection queued behind the close,
            # a refresh queued for a grid about to go.
            grid._plots.scene().sigMouseMoved.emit(QPointF(300, 100))
            QTimer.singleShot(0, lambda: timer_collections.append(gc.collect()))
            grid._schedule_refresh(now=True)
            window.close()
            grid.set_cursor_time(now - 90)
            dropped.append(weakref.ref(grid))
            del grid, window

            # Meanwhile the other grid moves on and repaints (collecting inside its paint).
            demo_clock.advance(1.0)
            demo_session.poll_sources()
            steady.on_session_update(demo_session.drain())
            steady.set_cursor_time(demo_clock.now() - 50 + round_)
            steady.refresh(demo_clock.now())
            steady._plots.viewport().update()
            expected = round_ + 1
            qtbot.waitUntil(lambda n=expected: len(timer_collections) >= n)
    finally:
        gc.set_threshold(*thresholds)
    gc.collect()
    assert collector.collections > 0
    assert [ref for ref in dropped if ref() is not None] == []  # every grid really went
    assert not steady.is_torn_down
    assert steady.charts[0].crosshair.isVisible()


def test_closing_the_wall_tears_its_charts_down(qtbot, demo_session: Session) -> None:
    from console.chart_specs import charts_for
    from ui.wall_charts import WallChart
    from ui.wall_style import WallScale

    service = demo_session.workspace.services["backend"]
    charts = [
        WallChart(demo_session, service, spec, WallScale(1920, 1080))
        for spec in charts_for(service.kind)
    ]
    page = QWidget()  # a page built alone, then put into the wall's window
    page_layout = QVBoxLayout(page)
    for chart in charts:
        page_layout.addWidget(chart)
    wall = QWidget()
    QVBoxLayout(wall).addWidget(page)
    qtbot.addWidget(wall)
    _shown(wall, (1920, 1080))
    now = demo_session.clock.now()
    for chart in charts:
        chart.refresh(now, 60.0)
    QApplication.processEvents()
    lines = [line for chart in charts for line, _ in chart.threshold_lines]
    curves = [curve.item for chart in charts for curve in chart.curves]
    assert lines and all(line.scene() is not None for line in lines)

    wall.close()

    assert all(chart.is_torn_down for chart in charts)
    assert all(item.scene() is None and item.parentItem() is None for item in lines + curves)
    charts[0].refresh(now + 1, 60.0)  # a late tick of the wall's clock is ignored
    QApplication.processEvents()


def test_a_grid_dropped_without_closing_is_taken_apart_before_collection(
    qtbot, demo_session: Session
) -> None:
    from ui.chart_grid import ChartGrid

    steady = ChartGrid(demo_session)
    qtbot.addWidget(steady)
    _shown(steady)
    collector = _CollectOnPaint()
    steady._plots.viewport().installEventFilter(collector)
    dropped = ChartGrid(demo_session)
    _shown(dropped)
    dropped.set_cursor_time(demo_session.clock.now() - 60)
    QApplication.processEvents()
    crosshair = dropped.charts[0].crosshair
    dropped.hide()  # hidden, never closed
    gone = weakref.ref(dropped)
    del dropped
    assert gone() is not None  # held by its own reference cycles: the collector's job

    steady._plots.viewport().update()
    qtbot.waitUntil(lambda: gone() is None)  # collected inside the steady grid's paint

    assert collector.collections > 0
    # Its finalizer took the scene apart while everything was intact: the crosshair left it
    # and belongs to Python (a scene destroyed around it would have deleted it).
    assert crosshair.scene() is None and crosshair.parentItem() is None
