"""The chart grid: one row per service (in workspace order), its name and status, then its charts.

Which charts a service gets, their units and axis labels come from ``console.chart_specs``
(the pure description; read-outs use ``console.units.format_value``); this module only draws
them. All charts live in one pyqtgraph scene (one ``GraphicsLayoutWidget``, cheaper than a
widget per chart) inside a scroll area (rows are at least ``ROW_MIN_HEIGHT`` tall). The one
shared time axis (local HH:MM, one per column) is pinned under the scrolling rows, so times stay
in sight; the charts' X ranges are linked and no chart draws a time axis of its own.

Each chart shows its title (marked ✖/▲ when a plotted metric breaches its threshold), each
curve's label in the curve's colour with its newest value (or its value at the crosshair), the
age of its newest point ("4s ago", or "◷ STALE 5m 12s" past the service's stale limit, with the
curves dimmed), and dashed threshold lines. The service cell shows the status word and symbol
(blocked included), the worst findings and what blocks it.

Mouse: hovering draws the crosshair across every chart (throttled to ``CURSOR_RATE_LIMIT_HZ``);
dragging pans and Ctrl+wheel zooms the time axis, and either pauses live mode (``live_changed``
tells the toolbar). The plain wheel scrolls the rows. Keyboard shortcuts belong to the window.

Public API::

    grid = ChartGrid(session, parent=None)
    grid.on_session_update(update)           # connect SessionBridge.updated
    grid.refresh(now=None)                   # follow the clock, redraw dirty curves, ages
    grid.set_range(seconds)                  # one of RANGE_CHOICES_S (any positive value works)
    grid.set_live(live)                      # live: x = [now - range, now]; paused: user pans
    grid.set_cursor_time(t | None)           # pinned crosshair (the review mode drives it)
    grid.is_live, grid.range_s, grid.cursor_time
    grid.charts                              # list[Chart]: .service, .title, .keys, .curves …
    grid.chart(service_id, title)            # one Chart
    grid.set_data_calls                      # total setData calls (tests check repaint economy)
    with grid.batched(): ...                 # several changes settled as one move
    grid.axis_images                         # AxisImageCache: value axes drawn before (.hits)
    grid.charts_in_sight()                   # the charts of the rows scrolled into sight
    grid.tear_down(), grid.is_torn_down      # the end of its life (automatic on close)
    signals: range_changed(float), live_changed(bool), cursor_time_changed(object)

Like the other views, the grid does not subscribe to the session: its owner connects
``SessionBridge.updated`` to ``on_session_update`` and calls ``refresh(now)`` on every
``SessionBridge.ticked`` (once a second: the live range and the "4s ago" ages move). While the
grid is shown, session updates and panning schedule a coalesced refresh themselves (at most
``MAX_REFRESH_HZ`` a second). While hidden no timer runs, so tests call ``refresh(now)`` with a
virtual clock and stay deterministic.

Repaint economy: a curve calls ``setData`` only when its series' store version changed since it
was drawn, or when the visible range left the span it was fetched for (range switch, pan, zoom).
Reads are ``store.window(..., max_points=2 × plot width)`` (peak-downsampled). Y ranges are set
here with hysteresis (``console.chart_specs.next_y_top``), never by pyqtgraph's auto-range, so
tick labels stay still. In live mode the X range moves in whole-pixel steps, not every frame.
Drawing is lean too: a chart is a ``ChartPlot`` (value axis + view box, none of ``PlotItem``'s
unused axes, menus and widgets), curves are bare ``PlotCurveItem``s (the data is already cut
and downsampled here), value axes keep a pixmap cache (their ticks and grid lines are repainted
under every curve update, but regenerated only when the Y range changes), fonts and font
metrics are built once. ``benchmarks/bench_chart_grid.py`` measures it against plain pyqtgraph
and ``tests/test_chart_grid_equivalence.py`` checks both draw the same data.

Paging (the review cursor, panning) costs one repaint: rows scrolled out of sight are not
updated until scrolling or a resize brings them into sight (before they paint), and do not
even follow the shared X range meanwhile (their X link is blocked; ``x_range`` is the first
chart's, which always leads; a chart catches up, range and crosshair, as it comes into
sight); a paused chart remembers its last few fetches (``RECENT_FETCHES``), so paging back to
a range just left reads nothing; the view boxes' transforms and their lines' bounds are
settled right after every change, not lazily in the paint, where ``InfiniteLine`` bounds that
moved requested a second full repaint; and a value axis whose Y range returns to one it
showed before draws the image it drew then (``AxisImageCache``, the grid's ``axis_images``:
no tick layout, no text), pixel for pixel what it would draw again
(``tests/test_chart_grid_paging.py``).

Lifetime: closing the grid, or the window holding it, takes both scenes apart at once
(``tear_down``, ``ui/scene_lifetime.py``), and so does its finalizer when it is dropped
unclosed; the garbage collector never meets a live scene of it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QEvent, QObject, QRectF, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QFont,
    QFontMetricsF,
    QHideEvent,
    QImage,
    QPainter,
    QResizeEvent,
    QShowEvent,
    QTransform,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsGridLayout,
    QGraphicsItem,
    QGraphicsWidget,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

from console.chart_specs import ChartSpec, axis_tick_labels, charts_for, next_y_top, time_ticks
from console.durations import format_duration
from console.health import ServiceHealth
from console.metrics import Unit, metric_spec
from console.session import Session, SessionUpdate
from console.sources import SeriesKey
from console.units import format_value
from console.workspace import Service
from ui import theme
from ui.scene_lifetime import WindowCloseHook, release_plot_scene

#: The ranges offered to the user (seconds): 15 min, 1 h, 6 h.
RANGE_CHOICES_S: tuple[float, ...] = (15 * 60.0, 3600.0, 6 * 3600.0)
#: How each range choice is written on a button.
RANGE_LABELS: dict[float, str] = {900.0: "15 min", 3600.0: "1 h", 21600.0: "6 h"}
DEFAULT_RANGE_S = 3600.0

#: Most refreshes per second caused by session updates or panning.
MAX_REFRESH_HZ = 10
#: Most crosshair updates per second while the mouse moves.
CURSOR_RATE_LIMIT_HZ = 30

ROW_MIN_HEIGHT = 140
SERVICE_COLUMN_WIDTH = 178
VALUE_AXIS_WIDTH = 62
TIME_AXIS_HEIGHT = 30
CHART_HEADER_HEIGHT = 34
LAYOUT_MARGIN = 6
COLUMN_SPACING = 10
ROW_SPACING = 8
#: Points fetched per horizontal pixel of plot (peaks survive, the line stays crisp).
POINTS_PER_PIXEL = 2
#: Fetches a paused chart remembers: paging back to a range just left reads nothing.
RECENT_FETCHES = 4
#: Value-axis images a grid keeps (``AxisImageCache``): a range an axis showed before is
#: drawn from there; ~0.1 MB each at 1600 px wide.
AXIS_IMAGES = 96
#: Plot width assumed before the layout has given plots a size (tests, first paint).
FALLBACK_PLOT_WIDTH_PX = 300
#: Opacity of the value axes' grid lines (0–255; pyqtgraph's ``showGrid(alpha=0.18)``).
GRID_ALPHA = int(0.18 * 255)
#: Opacity of curves whose newest point is older than the service's stale limit.
STALE_CURVE_OPACITY = 0.4

_TITLE_FONT_PT = 9.5
_SMALL_FONT_PT = 8.5


@functools.cache
def _font(point_size: float, bold: bool = False) -> QFont:
    """A shared font (painters copy what they are given; nobody changes it)."""
    font = QFont()
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


@functools.cache
def _metrics(point_size: float, bold: bool = False) -> QFontMetricsF:
    """The metrics of ``_font(point_size, bold)``, built once (headers repaint every second)."""
    return QFontMetricsF(_font(point_size, bold))


def _clock_text(t: float, seconds: bool = False) -> str:
    return time.strftime("%H:%M:%S" if seconds else "%H:%M", time.localtime(t))


# -- scene items -----------------------------------------------------------------------------


class AxisImageCache:
    """Value axes drawn before, as images, shared by the axes of one grid (styled alike).

    An axis whose Y range changes lays its ticks out again, records their text and lines and
    replays them (~0.5 ms a chart); paging the review charts changes the range of every chart
    in sight, mostly to a few tops they showed before (``next_y_top`` rounds them). An axis
    finds the image of what it would draw here, keyed by everything the drawing depends on
    (unit, Y range, its rectangle and the plot's, the painter's transform), and draws that
    image instead: the same pixels, composed the way Qt's item cache composes them. The
    ``AXIS_IMAGES`` most recently used images are kept.
    """

    def __init__(self, capacity: int = 0) -> None:
        self.capacity = capacity or AXIS_IMAGES
        self._images: OrderedDict[tuple, QImage] = OrderedDict()
        #: Paints served from an image / drawn and kept (tests and benchmarks read them).
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._images)

    def get(self, key: tuple) -> QImage | None:
        """The image kept for ``key``, or None."""
        found = self._images.get(key)
        if found is not None:
            self._images.move_to_end(key)
        return found

    def put(self, key: tuple, image: QImage) -> None:
        """Keep ``image`` for ``key``; the oldest image goes when the cache is full."""
        self._images[key] = image
        self._images.move_to_end(key)
        while len(self._images) > self.capacity:
            self._images.popitem(last=False)

    def clear(self) -> None:
        """Forget every image."""
        self._images.clear()


class UnitAxisItem(pg.AxisItem):
    """A value axis whose ticks are written in the chart's unit (``20%``, ``5 s``, ``2 MB/s``).

    Given an ``AxisImageCache`` (the grid's), a range it has drawn before is drawn from there.
    """

    def __init__(self, unit: Unit, image_cache: AxisImageCache | None = None) -> None:
        super().__init__("left")
        self.unit = unit
        self.image_cache = image_cache
        self.enableAutoSIPrefix(False)
        # The axis (with its grid lines across the plot) repaints whenever a curve above it
        # does; replaying its tick text costs ~0.4 ms a chart, blitting a cached pixmap ~0.
        # pyqtgraph calls update() when the ticks change, which invalidates the cache.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return axis_tick_labels(values, spacing, self.unit)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        cache = self.image_cache
        transform = painter.worldTransform()
        plain = (
            painter.opacity() == 1.0
            and painter.compositionMode() == QPainter.CompositionMode.CompositionMode_SourceOver
            and transform.type().value <= QTransform.TransformationType.TxScale.value
        )
        if cache is None or not plain:
            super().paint(painter, option, widget)
            return
        # What pyqtgraph would draw, in device pixels: the axis, its ticks and labels laid out
        # in its rectangle for its range, and the grid lines across the plot.
        bounds = self.boundingRect()
        # As Qt's device-coordinate cache sizes its pixmap: pens reach half a pixel outside.
        device = transform.mapRect(bounds).toRect().adjusted(-1, -1, 1, 1)
        within = transform * QTransform.fromTranslate(-device.left(), -device.top())
        view = self.linkedView()
        plot_rect = view.mapRectToItem(self, view.boundingRect()) if view is not None else None
        key = (
            self.unit,
            float(self.range[0]),
            float(self.range[1]),
            _rect_key(self.mapRectFromParent(self.geometry())),
            _rect_key(bounds),
            _rect_key(plot_rect) if plot_rect is not None else None,
            self.grid,
            (within.m11(), within.m12(), within.m21(), within.m22(), within.dx(), within.dy()),
            device.size().toTuple(),
            int(painter.renderHints().value),
        )
        image = cache.get(key)
        if image is None:
            image = QImage(device.size(), QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            image_painter = QPainter(image)
            try:
                image_painter.setRenderHints(painter.renderHints())
                image_painter.setWorldTransform(within)
                super().paint(image_painter, option, widget)
            finally:
                image_painter.end()
            cache.misses += 1
            cache.put(key, image)
        else:
            cache.hits += 1
        painter.save()
        painter.setWorldTransform(QTransform())
        painter.drawImage(device.topLeft(), image)
        painter.restore()


class LocalTimeAxisItem(pg.AxisItem):
    """A time axis in local HH:MM at round steps (pyqtgraph's DateAxisItem switches to hour or
    day labels too early for a 300 px wide hour)."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.enableAutoSIPrefix(False)

    def tickValues(self, min_value: float, max_value: float, size: float) -> list:
        offset = time.localtime(min_value).tm_gmtoff if min_value > 0 else 0
        step, ticks = time_ticks(min_value, max_value, size, offset)
        return [(step, ticks)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [_clock_text(v) for v in values]


class ChartViewBox(pg.ViewBox):
    """A view box that zooms with Ctrl+wheel only: the plain wheel scrolls the grid's rows."""

    def wheelEvent(self, ev, axis=None):  # pyqtgraph's signature
        if not ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            ev.ignore()
            return
        super().wheelEvent(ev, axis)


class ServiceHeaderItem(QGraphicsWidget):
    """The left cell of a row: the service's name, its status word and symbol, and why."""

    def __init__(self, service: Service) -> None:
        super().__init__()
        self.service = service
        self.display_status = "unknown"
        self.detail_lines: list[str] = []
        self.blocked_text = ""
        self.setMinimumWidth(SERVICE_COLUMN_WIDTH)
        self.setMaximumWidth(SERVICE_COLUMN_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)

    def set_health(self, health: ServiceHealth | None, names: dict[str, str]) -> None:
        """Show ``health`` (None: no data yet); ``names`` maps service ids to display names."""
        if health is None:
            status, details, blocked = "unknown", [], ""
        else:
            status = theme.display_status(health.status, health.blocked)
            details = []
            for finding in health.findings[:2]:
                spec = metric_spec(self.service.kind, finding.metric)
                label = spec.label if spec else finding.metric
                value = format_value(finding.value, spec.unit) if spec else f"{finding.value:g}"
                details.append(f"{label} {value}")
            blocked = (
                "blocked by " + ", ".join(names.get(d, d) for d in health.blocked_by)
                if health.blocked_by
                else ""
            )
        if (status, details, blocked) != (
            self.display_status,
            self.detail_lines,
            self.blocked_text,
        ):
            self.display_status, self.detail_lines, self.blocked_text = status, details, blocked
            self.update()

    @property
    def status_word(self) -> str:
        """The status word shown (``FAILING``, ``BLOCKED``…)."""
        return theme.STATUS_STYLES[self.display_status].word

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        style = theme.STATUS_STYLES[self.display_status]
        rect = self.rect()
        painter.fillRect(rect, theme.qcolor(theme.PANEL))
        painter.fillRect(
            QRectF(rect.left(), rect.top(), 5, rect.height()), theme.qcolor(style.fill)
        )
        x, width = rect.left() + 13, rect.width() - 19
        y = rect.top() + 8

        name_font = _font(11.5, bold=True)
        painter.setFont(name_font)
        painter.setPen(theme.qcolor(theme.TEXT))
        metrics = _metrics(11.5, bold=True)
        name = metrics.elidedText(self.service.name, Qt.TextElideMode.ElideRight, width)
        painter.drawText(QRectF(x, y, width, metrics.height()), Qt.AlignmentFlag.AlignLeft, name)
        y += metrics.height() + 5

        pill_font = _font(9.5, bold=True)
        pill_metrics = _metrics(9.5, bold=True)
        pill_text = f"{style.symbol} {style.word}"
        pill = QRectF(
            x, y, pill_metrics.horizontalAdvance(pill_text) + 14, pill_metrics.height() + 4
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.qcolor(style.fill))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.drawRoundedRect(pill, 3, 3)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setFont(pill_font)
        painter.setPen(theme.qcolor(style.text))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, pill_text)
        y = pill.bottom() + 6

        resource_font = _font(8.0)
        resource_metrics = _metrics(8.0)
        resource_top = rect.bottom() - resource_metrics.height() - 6

        detail_font = _font(9.0)
        detail_metrics = _metrics(9.0)
        painter.setFont(detail_font)
        painter.setPen(theme.qcolor(theme.TEXT))
        lines = [*self.detail_lines, self.blocked_text] if self.blocked_text else self.detail_lines
        wrap = Qt.TextFlag.TextWordWrap
        for line in lines:
            # "blocked by Auth, VPC connector" may wrap onto a second line rather than be cut.
            needed = detail_metrics.boundingRect(QRectF(0, 0, width, 1000), wrap, line).height()
            height = min(needed, 2 * detail_metrics.lineSpacing())
            if y + detail_metrics.height() > resource_top:
                break
            height = min(height, resource_top - y)
            painter.drawText(QRectF(x, y, width, height), wrap, line)
            y += height + 1

        if y <= resource_top:
            painter.setFont(resource_font)
            painter.setPen(theme.qcolor(theme.TEXT_DIM))
            text = resource_metrics.elidedText(
                self.service.resource, Qt.TextElideMode.ElideMiddle, width
            )
            painter.drawText(QRectF(x, resource_top, width, resource_metrics.height() + 2), 0, text)


@dataclass
class LegendEntry:
    """One curve's swatch, label and the value shown next to it."""

    colour: str
    label: str
    value: str = "–"


class ChartHeaderItem(QGraphicsWidget):
    """Two lines above a plot: title and data age; then each curve's swatch, label and value.

    Painted by hand (no layout items), so changing a value or an age only repaints this strip.
    """

    def __init__(self, title: str, entries: list[LegendEntry]) -> None:
        super().__init__()
        self.title = title
        self.entries = entries
        #: ``(symbol, colour)`` before the title when a plotted metric breaches its threshold.
        self.alert: tuple[str, str] | None = None
        self.age_text = "NO DATA"
        self.age_style: str | None = "unknown"  # a STATUS_STYLES key for a pill, or None
        self.setMinimumHeight(CHART_HEADER_HEIGHT)
        self.setMaximumHeight(CHART_HEADER_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_values(self, values: list[str]) -> bool:
        """Show ``values`` (one per entry); returns True when anything changed."""
        if [e.value for e in self.entries] == values:
            return False
        for entry, value in zip(self.entries, values, strict=True):
            entry.value = value
        self.update()
        return True

    def set_age(self, text: str, pill_style: str | None) -> None:
        """Show the data age ``text``, as a pill in ``STATUS_STYLES[pill_style]`` if given."""
        if (text, pill_style) != (self.age_text, self.age_style):
            self.age_text, self.age_style = text, pill_style
            self.update()

    def set_alert(self, alert: tuple[str, str] | None) -> None:
        """Mark the title with a status symbol and colour, or clear the mark."""
        if alert != self.alert:
            self.alert = alert
            self.update()

    def sizeHint(self, which: Qt.SizeHint, constraint: QSizeF = QSizeF()) -> QSizeF:  # noqa: B008
        if which == Qt.SizeHint.PreferredSize:
            return QSizeF(VALUE_AXIS_WIDTH + 160, CHART_HEADER_HEIGHT)
        return super().sizeHint(which, constraint)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        rect = self.rect()
        x0, right = rect.left() + 3, rect.right() - 2
        line_height = rect.height() / 2

        # Age, right-aligned on the first line.
        small = _font(_SMALL_FONT_PT, bold=self.age_style is not None)
        small_metrics = _metrics(_SMALL_FONT_PT, bold=self.age_style is not None)
        painter.setFont(small)
        age_width = small_metrics.horizontalAdvance(self.age_text) + 10
        age_rect = QRectF(right - age_width, rect.top() + 2, age_width, line_height - 3)
        if self.age_style is not None:
            style = theme.STATUS_STYLES[self.age_style]
            painter.fillRect(age_rect, theme.qcolor(style.fill))
            painter.setPen(theme.qcolor(style.text))
        else:
            painter.setPen(theme.qcolor(theme.TEXT_DIM))
        painter.drawText(age_rect, Qt.AlignmentFlag.AlignCenter, self.age_text)

        # Title, with the alert symbol when a plotted metric breaches its threshold.
        title_font = _font(_TITLE_FONT_PT, bold=True)
        painter.setFont(title_font)
        title_metrics = _metrics(_TITLE_FONT_PT, bold=True)
        x = x0
        if self.alert is not None:
            symbol, colour = self.alert
            painter.setPen(theme.qcolor(colour))
            painter.drawText(
                QRectF(x, rect.top(), 40, line_height), Qt.AlignmentFlag.AlignVCenter, symbol
            )
            x += title_metrics.horizontalAdvance(symbol + " ")
        painter.setPen(theme.qcolor(self.alert[1] if self.alert else theme.TEXT))
        title = title_metrics.elidedText(
            self.title, Qt.TextElideMode.ElideRight, max(0.0, age_rect.left() - x - 6)
        )
        painter.drawText(
            QRectF(x, rect.top(), age_rect.left() - x, line_height),
            Qt.AlignmentFlag.AlignVCenter,
            title,
        )

        # Legend with values on the second line: each curve's label in the curve's colour, then
        # its value. When that does not fit, a colour swatch stands in for the label.
        label_font = _font(_SMALL_FONT_PT, bold=True)
        value_font = _font(_SMALL_FONT_PT, bold=True)
        label_metrics = value_metrics = _metrics(_SMALL_FONT_PT, bold=True)
        swatch, gap = 10.0, 10.0

        def marker_width(entry: LegendEntry, with_labels: bool) -> float:
            if with_labels:
                return label_metrics.horizontalAdvance(entry.label + " ")
            return swatch + 3

        def width_of(with_labels: bool) -> float:
            return sum(
                marker_width(e, with_labels) + value_metrics.horizontalAdvance(e.value) + gap
                for e in self.entries
            )

        with_labels = width_of(True) <= right - x0
        y = rect.top() + line_height
        x = x0
        for entry in self.entries:
            colour = theme.qcolor(entry.colour)
            if with_labels:
                painter.setFont(label_font)
                painter.setPen(colour)
                painter.drawText(
                    QRectF(x, y, max(0.0, right - x), line_height),
                    Qt.AlignmentFlag.AlignVCenter,
                    entry.label,
                )
            else:
                painter.fillRect(QRectF(x, y + line_height / 2 - 1.5, swatch, 3), colour)
            x += marker_width(entry, with_labels)
            painter.setFont(value_font)
            painter.setPen(theme.qcolor(theme.TEXT))
            painter.drawText(
                QRectF(x, y, max(0.0, right - x), line_height),
                Qt.AlignmentFlag.AlignVCenter,
                entry.value,
            )
            x += value_metrics.horizontalAdvance(entry.value) + gap


class ChartPlot(pg.GraphicsWidget):
    """A chart's plot: its value axis left of its view box, laid out as ``pg.PlotItem`` lays
    them out (1 px margins, no spacing), and nothing else.

    The charts here use none of the rest of a PlotItem (title, time axis, buttons, menus,
    options widget); building those costs ~4 ms a chart at start-up and its hidden axes would
    still relabel themselves on every range change. The subset of PlotItem's API the grid and
    its extensions use is kept: ``getViewBox``, ``getAxis``, ``addItem``, ``removeItem``.
    """

    def __init__(self, view_box: pg.ViewBox, value_axis: pg.AxisItem) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.vb = view_box
        layout = QGraphicsGridLayout()
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setHorizontalSpacing(0)
        layout.setVerticalSpacing(0)
        self.setLayout(layout)
        layout.addItem(view_box, 0, 1)
        value_axis.linkToView(view_box)
        layout.addItem(value_axis, 0, 0)
        # As in PlotItem: above images at z=0, below items that draw over axes at z>=1.
        value_axis.setZValue(0.5)
        value_axis.setFlag(QGraphicsItem.GraphicsItemFlag.ItemNegativeZStacksBehindParent)
        layout.setColumnStretchFactor(0, 1)
        layout.setColumnStretchFactor(1, 100)
        self.axes: dict[str, pg.AxisItem] = {"left": value_axis}

    def getViewBox(self) -> pg.ViewBox:
        """The view box the curves live in."""
        return self.vb

    def getAxis(self, name: str) -> pg.AxisItem:
        """The axis called ``name`` (only ``"left"``: the time axis is the grid's)."""
        return self.axes[name]

    def addItem(self, item: QGraphicsItem, ignoreBounds: bool = False) -> None:  # noqa: N803
        """Add ``item`` to the view box (``ignoreBounds``: not counted for auto-range)."""
        self.vb.addItem(item, ignoreBounds=ignoreBounds)

    def removeItem(self, item: QGraphicsItem) -> None:
        """Remove ``item`` from the view box."""
        self.vb.removeItem(item)


class _Spacer(QGraphicsWidget):
    """An empty cell of fixed width (keeps the time axis under the plots' value axes)."""

    def __init__(self, width: float) -> None:
        super().__init__()
        self.setMinimumWidth(width)
        self.setMaximumWidth(width)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)


# -- the model of one chart ------------------------------------------------------------------


@dataclass
class Curve:
    """One drawn series and what was last handed to ``setData``."""

    key: SeriesKey
    label: str
    colour: str
    item: pg.PlotCurveItem
    #: The store version last handed to ``setData`` (0: never, like an empty series).
    drawn_version: int = 0
    #: The point budget of the last read (``store.window(..., max_points)``).
    max_points: int | None = None
    t: np.ndarray = field(default_factory=lambda: np.empty(0))
    v: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass(frozen=True)
class RecentFetch:
    """What a paused chart read for one span: per series ``(version, max_points, t, v)``."""

    span: tuple[float, float]
    view_width: float
    plot_width_px: float
    curves: dict[SeriesKey, tuple[int, int | None, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class ThresholdLine:
    """A dashed horizontal line at a workspace threshold."""

    metric: str
    level: str  # "degraded" or "failing"
    value: float
    line: pg.InfiniteLine


class Chart:
    """One chart of one service: its plot, header, curves, threshold lines and crosshair."""

    def __init__(
        self,
        service: Service,
        spec: ChartSpec,
        plot: ChartPlot,
        header: ChartHeaderItem,
        column: int,
    ) -> None:
        self.service = service.id
        #: The grid column (1 = the first chart column, right of the service names).
        self.column = column
        self.spec = spec
        self.title = spec.title
        self.plot = plot
        self.header = header
        self.view_box: pg.ViewBox = plot.getViewBox()
        self.curves: list[Curve] = []
        self.threshold_lines: list[ThresholdLine] = []
        self.crosshair = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.TEXT, width=1))
        self.crosshair.setZValue(100)
        self.crosshair.hide()
        plot.addItem(self.crosshair, ignoreBounds=True)
        #: How many times this chart handed data to a curve (tests check repaint economy).
        self.set_data_calls = 0
        #: The time span and point budget the curves were last fetched for.
        self.fetched_span: tuple[float, float] | None = None
        self.fetched_view_width = 0.0
        #: The last few fetches while paused, newest last (paging back reuses them).
        self.recent_fetches: deque[RecentFetch] = deque(maxlen=RECENT_FETCHES)
        self.y_top: float | None = None
        #: The largest value the Y range must show even without data (the lowest threshold).
        self.y_floor = 0.0
        self.age_s: float | None = None
        self.stale = False

    @property
    def keys(self) -> tuple[SeriesKey, ...]:
        """The series this chart plots, in curve order."""
        return tuple(curve.key for curve in self.curves)

    def curve(self, metric: str) -> Curve:
        """The curve of ``metric``."""
        return next(c for c in self.curves if c.key[1] == metric)

    @property
    def readout(self) -> dict[SeriesKey, str]:
        """The value text shown next to each curve's swatch (at the cursor, else the newest)."""
        return {c.key: e.value for c, e in zip(self.curves, self.header.entries, strict=True)}

    @property
    def age_text(self) -> str:
        """The age marker in the chart's corner: ``"4s ago"``, ``"◷ STALE 5m 12s"``, ``NO DATA``."""
        return self.header.age_text


# -- the grid --------------------------------------------------------------------------------


class _AxisFooterScrollArea(QScrollArea):
    """A scroll area that keeps a footer (the time axis) pinned under its scrolling viewport.

    The footer gets exactly the viewport's width, so it stays aligned with the columns whether
    or not the vertical scroll bar is shown.
    """

    def __init__(self, footer: QWidget, footer_height: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: Called after every resize (the grid then brings every chart up to date).
        self.resized: Callable[[], None] | None = None
        self.footer = footer
        self.footer.setParent(self)
        self.footer.show()  # setParent hides a widget; it shows with the scroll area
        self.footer_height = footer_height
        self.setViewportMargins(0, 0, 0, footer_height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        viewport = self.viewport().geometry()
        self.footer.setGeometry(
            viewport.left(), viewport.bottom() + 1, viewport.width(), self.footer_height
        )
        if self.resized is not None:
            self.resized()


class _LeaveWatcher(QObject):
    """Calls back when the mouse leaves a widget (clears the hover crosshair)."""

    def __init__(self, callback: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._callback = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self._callback()
        return False


class ChartGrid(QWidget):
    """Live charts of every service of a session, on one shared time axis."""

    range_changed = Signal(float)
    live_changed = Signal(bool)
    #: The displayed cursor time (hover or pinned) as a float, or None when there is none.
    cursor_time_changed = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._range_s = DEFAULT_RANGE_S
        self._live = True
        self._pinned_cursor: float | None = None
        #: The word before the visible range when not live (the review window says REVIEW).
        self.paused_caption = "❚❚ PAUSED"
        self._hover_cursor: float | None = None
        self._age_second: int | None = None
        self._last_now: float | None = None
        self._last_refresh_monotonic = 0.0
        self.charts: list[Chart] = []
        self._charts_by_key: dict[SeriesKey, list[Chart]] = {}
        self._service_headers: dict[str, ServiceHeaderItem] = {}
        self._names = {sid: s.name for sid, s in session.workspace.services.items()}
        #: Marks added with ``add_annotation``: ``(service_id, t, text, line)``.
        self.annotations: list[tuple[str, float, str, pg.InfiniteLine]] = []
        #: The value axes' images of ranges drawn before (shared: the axes are styled alike).
        self.axis_images = AxisImageCache()

        self._plots = pg.GraphicsLayoutWidget()
        self._plots.setBackground(theme.BACKGROUND)
        self._plots.setFrameShape(QFrame.Shape.NoFrame)
        self._axis_view = pg.GraphicsLayoutWidget()
        self._axis_view.setBackground(theme.BACKGROUND)
        self._axis_view.setFrameShape(QFrame.Shape.NoFrame)
        self._axis_view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._axis_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._build_rows()
        self._build_time_axes()

        self._scroll = _AxisFooterScrollArea(self._axis_view, TIME_AXIS_HEIGHT)
        self._scroll.setWidget(self._plots)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Rows scrolled out of sight are not kept up to date; scrolling or resizing brings the
        # rows that come into sight up to date before they are painted.
        self._scroll.verticalScrollBar().valueChanged.connect(self._sync_rows_in_sight)
        self._scroll.resized = self._sync_all_rows

        self._mode_label = QLabel()
        self._mode_label.setTextFormat(Qt.TextFormat.RichText)
        self._mode_label.setStyleSheet(
            f"color: {theme.TEXT_DIM}; font-size: 9.5pt; padding: 2px {LAYOUT_MARGIN + 2}px;"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._mode_label)
        layout.addWidget(self._scroll, 1)

        # A coalescing single-shot refresh for session updates and panning. It only runs while
        # the grid is shown (see _schedule_refresh): tests drive refresh() themselves.
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self._on_refresh_timer)
        self._mouse_proxy = pg.SignalProxy(
            self._plots.scene().sigMouseMoved,
            rateLimit=CURSOR_RATE_LIMIT_HZ,
            slot=self._on_mouse_moved,
        )
        self._leave_watcher = _LeaveWatcher(self._clear_hover_cursor, self)
        self._plots.viewport().installEventFilter(self._leave_watcher)
        self._torn_down = False
        self._batch_depth = 0

        self._master_view = self.charts[0].view_box if self.charts else None
        if self._master_view is not None:
            self._master_view.sigXRangeChanged.connect(self._on_x_range_changed)
        self._apply_health()
        now = session.clock.now()
        self._follow(now)
        self._update_mode_label()
        # Closing the grid, or the window it is in, takes its scene apart (ui/scene_lifetime.py).
        self._close_hook = WindowCloseHook(self, self.tear_down)

    # -- construction -------------------------------------------------------------------------

    def _build_rows(self) -> None:
        layout = self._plots.ci
        layout.setContentsMargins(LAYOUT_MARGIN, LAYOUT_MARGIN, LAYOUT_MARGIN, LAYOUT_MARGIN)
        layout.layout.setHorizontalSpacing(COLUMN_SPACING)
        layout.layout.setVerticalSpacing(ROW_SPACING)
        services = list(self.session.workspace.services.values())
        self._columns = max((len(charts_for(s.kind)) for s in services), default=1)
        first_view: pg.ViewBox | None = None
        for row, service in enumerate(services):
            header = ServiceHeaderItem(service)
            layout.addItem(header, row=row, col=0)
            self._service_headers[service.id] = header
            for col, spec in enumerate(charts_for(service.kind), start=1):
                chart = self._build_chart(service, spec, layout.addLayout(row=row, col=col), col)
                if first_view is None:
                    first_view = chart.view_box
                else:
                    chart.view_box.setXLink(first_view)
                self.charts.append(chart)
                for key in chart.keys:
                    self._charts_by_key.setdefault(key, []).append(chart)
            layout.layout.setRowMinimumHeight(row, ROW_MIN_HEIGHT)
            layout.layout.setRowStretchFactor(row, 1)
        layout.layout.setColumnFixedWidth(0, SERVICE_COLUMN_WIDTH)
        for col in range(1, self._columns + 1):
            layout.layout.setColumnStretchFactor(col, 1)
        rows = len(services)
        self._plots.setMinimumHeight(
            rows * ROW_MIN_HEIGHT + max(0, rows - 1) * ROW_SPACING + 2 * LAYOUT_MARGIN
        )

    def _build_chart(
        self, service: Service, spec: ChartSpec, cell: pg.GraphicsLayout, column: int
    ) -> Chart:
        cell.setContentsMargins(0, 0, 0, 0)
        cell.layout.setSpacing(0)
        entries = [
            LegendEntry(theme.CURVE_COLOURS[i % len(theme.CURVE_COLOURS)], curve.label)
            for i, curve in enumerate(spec.curves)
        ]
        header = ChartHeaderItem(spec.title, entries)
        cell.addItem(header, row=0, col=0)

        value_axis = UnitAxisItem(spec.unit, self.axis_images)
        value_axis.setWidth(VALUE_AXIS_WIDTH)
        _style_axis(value_axis)
        # No context menu: building pyqtgraph's ViewBox menu costs ~4 ms a chart at start-up.
        plot = ChartPlot(ChartViewBox(enableMenu=False), value_axis)
        value_axis.setGrid(GRID_ALPHA)
        plot.setMinimumHeight(60)
        view = plot.getViewBox()
        view.setMouseEnabled(x=True, y=False)
        view.setBackgroundColor(theme.PANEL)
        view.disableAutoRange()
        view.setMenuEnabled(False)
        view.setLimits(minXRange=60.0, maxXRange=48 * 3600.0)
        view.sigRangeChangedManually.connect(self._on_user_moved_view)
        cell.addItem(plot, row=1, col=0)

        chart = Chart(service, spec, plot, header, column)
        floors = []
        for curve_spec, entry in zip(spec.curves, entries, strict=True):
            # A bare PlotCurveItem: the data is already cut to the fetched span and
            # peak-downsampled here, so PlotDataItem's clip-to-view and downsampling layers
            # would only add Python per setData. NaN samples break the line, as before.
            item = pg.PlotCurveItem(
                pen=pg.mkPen(entry.colour, width=1), antialias=False, connect="finite"
            )
            plot.addItem(item)
            key = (service.id, curve_spec.metric)
            chart.curves.append(Curve(key, curve_spec.label, entry.colour, item))
            threshold = self.session.workspace.threshold(service.id, curve_spec.metric)
            if threshold is None:
                continue
            metric = metric_spec(service.kind, curve_spec.metric)
            for level, value, colour in (
                ("degraded", threshold.degraded, theme.THRESHOLD_DEGRADED),
                ("failing", threshold.failing, theme.THRESHOLD_FAILING),
            ):
                if value is None:
                    continue
                line = pg.InfiniteLine(
                    pos=value,
                    angle=0,
                    movable=False,
                    pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
                )
                line.setZValue(-5)
                plot.addItem(line, ignoreBounds=True)
                chart.threshold_lines.append(ThresholdLine(curve_spec.metric, level, value, line))
            # The Y range always shows the first limit a worsening metric would cross.
            first = threshold.degraded if threshold.degraded is not None else threshold.failing
            if metric is not None and metric.higher_is_worse and first is not None:
                floors.append(first)
        chart.y_floor = max(floors, default=0.0)
        self._set_y_top(chart, next_y_top(spec, None, chart.y_floor))
        return chart

    def _build_time_axes(self) -> None:
        layout = self._axis_view.ci
        layout.setContentsMargins(LAYOUT_MARGIN, 0, LAYOUT_MARGIN, 0)
        layout.layout.setHorizontalSpacing(COLUMN_SPACING)
        layout.addItem(_Spacer(SERVICE_COLUMN_WIDTH), row=0, col=0)
        layout.layout.setColumnFixedWidth(0, SERVICE_COLUMN_WIDTH)
        self.time_axes: list[LocalTimeAxisItem] = []
        for col in range(1, self._columns + 1):
            cell = layout.addLayout(row=0, col=col)
            cell.setContentsMargins(0, 0, 0, 0)
            cell.layout.setSpacing(0)
            # Mirror PlotItem's own 1 px margins so ticks sit exactly under the plots.
            cell.addItem(_Spacer(VALUE_AXIS_WIDTH + 1), row=0, col=0)
            axis = LocalTimeAxisItem()
            _style_axis(axis)
            axis.setHeight(TIME_AXIS_HEIGHT - 2)
            if self.charts:
                axis.linkToView(self.charts[0].view_box)
            cell.addItem(axis, row=0, col=1)
            cell.addItem(_Spacer(1), row=0, col=2)
            layout.layout.setColumnStretchFactor(col, 1)
            self.time_axes.append(axis)

    # -- public API ---------------------------------------------------------------------------

    @property
    def range_s(self) -> float:
        """The width of the visible time range, in seconds."""
        return self._range_s

    @property
    def is_live(self) -> bool:
        """True while the charts follow the clock."""
        return self._live

    @property
    def cursor_time(self) -> float | None:
        """The crosshair's time: the mouse's while hovering, else the pinned one, else None."""
        return self._hover_cursor if self._hover_cursor is not None else self._pinned_cursor

    @property
    def set_data_calls(self) -> int:
        """Total ``setData`` calls over all charts since construction."""
        return sum(chart.set_data_calls for chart in self.charts)

    @property
    def x_range(self) -> tuple[float, float]:
        """The visible time range ``(t0, t1)`` shared by every chart."""
        if self._master_view is None:
            return (0.0, 0.0)
        x0, x1 = self._master_view.viewRange()[0]
        return float(x0), float(x1)

    def chart(self, service_id: str, title: str) -> Chart:
        """The chart titled ``title`` of ``service_id``."""
        return next(c for c in self.charts if c.service == service_id and c.title == title)

    def add_annotation(
        self,
        service_id: str,
        t: float,
        text: str,
        colour: str = theme.ACCENT,
        height: float = 0.9,
    ) -> None:
        """Mark time ``t`` on every chart of ``service_id`` (an action, a note) with a dashed
        vertical line; the row's first chart also shows ``text`` left of the line, ``height``
        (0 bottom, 1 top) up the chart."""
        if self._torn_down:
            return
        labelled = False
        for chart in self.charts:
            if chart.service != service_id:
                continue
            line = pg.InfiniteLine(
                pos=t,
                angle=90,
                movable=False,
                pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
                label=None if labelled else text.replace("{", "(").replace("}", ")"),
                labelOpts={
                    "position": height,
                    "color": colour,
                    "fill": (21, 25, 30, 210),
                    "anchors": [(1, 0.5), (1, 0.5)],
                },
            )
            line.setZValue(50)
            chart.plot.addItem(line, ignoreBounds=True)
            self.annotations.append((service_id, t, text, line))
            labelled = True

    def on_session_update(self, update: SessionUpdate) -> None:
        """Take note of a drain: the next refresh redraws only the curves whose series changed
        (their store version differs from the one drawn); a health change updates the labels."""
        if self._torn_down:
            return
        if update.health_changed:
            self._apply_health()
        if not update.changed_keys.isdisjoint(self._charts_by_key):
            self._schedule_refresh()

    def refresh(self, now: float | None = None) -> None:
        """Follow the clock (live), redraw curves whose series changed, update ages and values."""
        if self._torn_down:
            return
        now = self.session.clock.now() if now is None else now
        self._last_now = now
        self._last_refresh_monotonic = time.monotonic()
        if self._live:
            self._follow(now)
        x0, x1 = self.x_range
        fetched_any = False
        band = self._band_in_sight()
        in_sight = [band is None or self._in_band(chart, band) for chart in self.charts]
        self._link_x_ranges(in_sight)
        for chart, wanted in zip(self.charts, in_sight, strict=True):
            if wanted:
                fetched_any |= self._sync_chart(chart, x0, x1)
        second = math.floor(now)
        if fetched_any or second != self._age_second:
            self._age_second = second
            self._update_ages(now)
        if fetched_any:
            self._update_readouts()
        if not self._live:
            self._update_mode_label()
        # This refresh did what a pending coalesced one would do.
        self._refresh_timer.stop()
        self._settle_lines()

    def set_range(self, seconds: float) -> None:
        """Show ``seconds`` of history (live: up to now; paused: ending where the view ends)."""
        if seconds <= 0:
            raise ValueError("a chart range must be positive")
        if seconds == self._range_s:
            return
        self._range_s = float(seconds)
        if self._live:
            self._follow(self._last_now if self._last_now is not None else self.session.clock.now())
        elif self._master_view is not None:
            _, x1 = self.x_range
            self._master_view.setXRange(x1 - seconds, x1, padding=0)
        self._update_mode_label()
        self.range_changed.emit(self._range_s)
        self._schedule_refresh(now=True)

    def set_live(self, live: bool) -> None:
        """Follow the clock (True) or freeze the range so the user can pan and zoom (False)."""
        if live == self._live:
            return
        self._live = live
        if live:
            self._follow(self.session.clock.now())
        self._update_mode_label()
        self.live_changed.emit(live)
        self._schedule_refresh(now=True)

    def set_cursor_time(self, t: float | None) -> None:
        """Pin the crosshair at ``t`` (None removes it); mouse hover takes precedence."""
        self._pinned_cursor = t
        self._apply_cursor()

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        """Several changes as one move (the review cursor pages, moves its line and refreshes):
        the charts settle once at the end instead of after each change."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            self._settle_lines()

    def charts_in_sight(self) -> list[Chart]:
        """The charts whose row is at least partly scrolled into sight (all when hidden)."""
        band = self._band_in_sight()
        return [chart for chart in self.charts if band is None or self._in_band(chart, band)]

    @property
    def is_torn_down(self) -> bool:
        """True once ``tear_down`` ran: the grid is closed for good and draws nothing."""
        return self._torn_down

    def tear_down(self) -> None:
        """Take the grid apart now: stop its timer, disconnect the mouse and range signals and
        empty both scenes (every curve and line leaves its view box; the rest is deleted).

        Runs by itself when the grid, or the window holding it, is closed; idempotent. Qt
        then holds no item whose Python object the garbage collector could free or clear at
        an awkward moment (see ``ui/scene_lifetime.py``). Afterwards every update is ignored.
        """
        if self._torn_down:
            return
        self._torn_down = True
        self._close_hook.detach()
        self._refresh_timer.stop()
        self._refresh_timer.timeout.disconnect(self._on_refresh_timer)
        self._mouse_proxy.disconnect()
        self._mouse_proxy.timer.stop()
        self._plots.viewport().removeEventFilter(self._leave_watcher)
        if self._master_view is not None:
            self._master_view.sigXRangeChanged.disconnect(self._on_x_range_changed)
        for chart in self.charts:
            chart.view_box.sigRangeChangedManually.disconnect(self._on_user_moved_view)
        self._master_view = None
        release_plot_scene(self._plots)
        release_plot_scene(self._axis_view)

    def __del__(self) -> None:
        # Dropped without being closed and found in a reference cycle: the collector runs every
        # finalizer of the garbage before it clears any of it, so the scene is still intact
        # here and can be taken apart safely (see ui/scene_lifetime.py).
        built = getattr(self, "_close_hook", None) is not None
        if built and not self._torn_down and shiboken6.isValid(self):
            self.tear_down()

    # -- internals: data ----------------------------------------------------------------------

    def _plot_width_px(self) -> float:
        width = self.charts[0].view_box.width() if self.charts else 0.0
        return width if width >= 50 else FALLBACK_PLOT_WIDTH_PX

    def _follow(self, now: float) -> None:
        """Live: show ``[now - range, now]``, moved in whole-pixel steps (sub-pixel moves would
        repaint every chart for nothing)."""
        if self._master_view is None:
            return
        step = max(1.0, self._range_s / self._plot_width_px())
        x1 = math.ceil(now / step) * step
        x0 = x1 - self._range_s
        current = self.x_range
        if abs(current[0] - x0) > 1e-6 or abs(current[1] - x1) > 1e-6:
            self._master_view.setXRange(x0, x1, padding=0)

    def _band_in_sight(self) -> tuple[float, float] | None:
        """The rows' vertical band on screen, in scene coordinates, or None when every row
        counts (the grid is hidden: tests and reports drive it, or a resize is pending)."""
        if not self.isVisible():
            return None
        top = float(self._scroll.verticalScrollBar().value())
        return top, top + self._scroll.viewport().height()

    @staticmethod
    def _in_band(chart: Chart, band: tuple[float, float]) -> bool:
        top = chart.header.sceneBoundingRect().top()
        bottom = chart.plot.sceneBoundingRect().bottom()
        return bottom >= band[0] and top <= band[1]

    def _sync_rows_in_sight(self, *_args: object) -> None:
        """Rows scrolled into sight: hand them what a refresh would have (before they paint)."""
        band = self._band_in_sight()
        self._sync_rows(lambda chart: band is None or self._in_band(chart, band))

    def _sync_all_rows(self) -> None:
        """After a resize every row may be in sight: bring them all up to date."""
        self._sync_rows(lambda chart: True)

    def _sync_rows(self, wanted: Callable[[Chart], bool]) -> None:
        if self._torn_down or self._last_now is None:
            return  # nothing drawn yet: the first refresh does it
        x0, x1 = self.x_range
        in_sight = [wanted(chart) for chart in self.charts]
        self._link_x_ranges(in_sight, unlink=False)
        for chart, wanted_now in zip(self.charts, in_sight, strict=True):
            if wanted_now:
                self._sync_chart(chart, x0, x1)
        self._settle_lines()

    def _link_x_ranges(self, in_sight: list[bool], unlink: bool = True) -> None:
        """Charts in sight (``in_sight``, one flag per chart) follow the first chart's X range;
        with ``unlink`` the others stop following it until they come into sight.

        Every chart's view box is X-linked to the first one's; a page moved all 34 ranges, and
        with them every transform, curve and line bound and dirty item of the rows out of
        sight. A chart out of sight now has its link blocked (pyqtgraph's ``blockLink``); one
        that comes back into sight is unblocked and catches up at once, computed as the link
        would have (``linkedViewChanged``), and its crosshair is put at the cursor, before
        anything reads or paints it. The first chart leads and is never blocked: panning any
        chart in sight still moves it."""
        master = self._master_view
        if master is None:
            return
        for chart, wanted in zip(self.charts, in_sight, strict=True):
            view = chart.view_box
            if view is master:
                continue
            if wanted and view.linksBlocked:
                view.blockLink(False)
                view.linkedViewChanged(master, pg.ViewBox.XAxis)
                self._place_crosshair(chart, self.cursor_time)
            elif not wanted and unlink and not view.linksBlocked:
                view.blockLink(True)

    def _sync_chart(self, chart: Chart, x0: float, x1: float) -> bool:
        """Hand new data to the chart's curves if needed; returns True if any curve got data."""
        store = self.session.store
        width = max(x1 - x0, 1e-9)
        span = chart.fetched_span
        covered = (
            span is not None
            and span[0] <= x0
            and x1 <= span[1]
            and 0.67 < width / chart.fetched_view_width < 1.5
        )
        plot_width_px = self._plot_width_px()
        recent: RecentFetch | None = None
        if covered:
            assert span is not None
            redraw = [c for c in chart.curves if store.version(c.key) != c.drawn_version]
        else:
            # Live: a little history to the left and the future to the right, so new samples
            # and the moving range stay inside the span. Paused: half a view either side, or
            # a span read recently that holds the view (paging back and forth reads nothing).
            if self._live:
                span = (x0 - 0.05 * width, x1 + width)
            else:
                recent = _recent_fetch(chart, x0, x1, plot_width_px)
                span = recent.span if recent else (x0 - 0.5 * width, x1 + 0.5 * width)
            chart.fetched_span = span
            chart.fetched_view_width = recent.view_width if recent else width
            # A series that never had data has nothing to draw (version 0 is "empty").
            redraw = [c for c in chart.curves if store.version(c.key) or c.drawn_version]
        points_per_second = POINTS_PER_PIXEL * plot_width_px / width
        for curve in redraw:
            version = store.version(curve.key)
            kept = recent.curves.get(curve.key) if recent else None
            if kept is not None and kept[0] == version:
                _, curve.max_points, t, v = kept
                curve.item.setData(t, v)
                curve.t, curve.v, curve.drawn_version = t, v, version
                chart.set_data_calls += 1
                continue
            extent = store.data_span(curve.key, span[0], span[1])
            if extent is not None and extent[1] > extent[0]:
                # Budget by the stretch that holds data, so the resolution stays ~2 points per
                # pixel whether the span's future half is still empty or not.
                curve.max_points = max(4, math.ceil(points_per_second * (extent[1] - extent[0])))
                t, v = store.window(curve.key, span[0], span[1], curve.max_points)
            else:
                t, v = store.window(curve.key, span[0], span[1])
            if not t.flags.owndata:
                # A view into the store's ring is overwritten once the ring wraps; the curve
                # keeps its arrays to repaint from, so it gets its own (small) copy.
                t, v = t.copy(), v.copy()
            curve.item.setData(t, v)
            curve.t, curve.v, curve.drawn_version = t, v, version
            chart.set_data_calls += 1
        if not covered and not self._live:
            if recent is not None:
                chart.recent_fetches.remove(recent)
            chart.recent_fetches.append(
                RecentFetch(
                    span,
                    chart.fetched_view_width,
                    plot_width_px,
                    {c.key: (c.drawn_version, c.max_points, c.t, c.v) for c in chart.curves},
                )
            )
        # Paused views move under the mouse, so their visible peak is re-read every refresh.
        if redraw or not covered or chart.y_top is None or not self._live:
            self._update_y_range(chart, x0, x1)
        return bool(redraw)

    def _update_y_range(self, chart: Chart, x0: float, x1: float) -> None:
        peak = chart.y_floor
        for curve in chart.curves:
            lo = int(np.searchsorted(curve.t, x0, side="left"))
            hi = int(np.searchsorted(curve.t, x1, side="right"))
            if hi > lo:
                visible = curve.v[lo:hi]
                if not np.all(np.isnan(visible)):
                    peak = max(peak, float(np.nanmax(visible)))
        self._set_y_top(chart, next_y_top(chart.spec, chart.y_top, peak))

    @staticmethod
    def _set_y_top(chart: Chart, top: float) -> None:
        if top != chart.y_top:
            chart.y_top = top
            chart.view_box.setYRange(0.0, top, padding=0.03)

    def _settle_lines(self) -> None:
        """Bring the view boxes' transforms and their lines' bounds up to date now, not while
        painting.

        pyqtgraph updates a view box's transform in the scene's paint preparation and an
        ``InfiniteLine`` (crosshair, thresholds, annotations) computes its bounds lazily in the
        paint that follows; bounds that moved then schedule a second paint of every plot (a
        page cost two full repaints). Settled here, the one paint already requested covers
        them. Unchanged views and lines return at once."""
        if self._torn_down or self._batch_depth:
            return
        for chart in self.charts:
            view = chart.view_box
            view.updateMatrix()
            for item in view.childGroup.childItems():
                if isinstance(item, pg.InfiniteLine):
                    item.boundingRect()

    def _update_ages(self, now: float) -> None:
        limits = self.session.stale_after()
        store = self.session.store
        for chart in self.charts:
            newest = None
            for key in chart.keys:
                latest = store.latest(key)
                if latest is not None and (newest is None or latest[0] > newest):
                    newest = latest[0]
            if newest is None:
                chart.age_s, stale = None, False
                chart.header.set_age("NO DATA", "unknown")
            else:
                age = max(0.0, now - newest)
                chart.age_s = age
                owner = self.session.workspace.services.get(chart.service)
                specs = [metric_spec(owner.kind, m) for m in chart.spec.metrics] if owner else []
                period = max((m.period_s for m in specs if m is not None), default=0.0)
                stale = age > limits.get(chart.service, math.inf) + period
                if stale:
                    chart.header.set_age(
                        f"{theme.STATUS_STYLES['stale'].symbol} STALE {format_duration(age)}",
                        "stale",
                    )
                else:
                    chart.header.set_age(f"{format_duration(age)} ago", None)
            if stale != chart.stale:
                chart.stale = stale
                for curve in chart.curves:
                    curve.item.setOpacity(STALE_CURVE_OPACITY if stale else 1.0)

    def _update_readouts(self) -> None:
        t = self.cursor_time
        store = self.session.store
        limits = self.session.stale_after() if t is not None else {}
        for chart in self.charts:
            values = []
            for curve in chart.curves:
                if t is None:
                    reading = store.latest(curve.key)
                else:
                    reading = store.value_at(curve.key, t)
                    # A sample long before the cursor is not the value at the cursor (a gap).
                    if reading is not None and t - reading[0] > limits.get(chart.service, 30.0):
                        reading = None
                values.append(format_value(reading[1] if reading else math.nan, chart.spec.unit))
            chart.header.set_values(values)

    def _apply_health(self) -> None:
        report = self.session.health
        for sid, header in self._service_headers.items():
            header.set_health(report.services.get(sid), self._names)
        for chart in self.charts:
            health = report.services.get(chart.service)
            alert = None
            if health is not None:
                for finding in health.findings:  # worst first
                    if finding.metric in chart.spec.metrics:
                        style = theme.STATUS_STYLES[finding.level]
                        alert = (style.symbol, style.fill)
                        break
            chart.header.set_alert(alert)

    # -- internals: cursor, mouse, timers -----------------------------------------------------

    def _apply_cursor(self) -> None:
        if self._torn_down:
            return
        t = self.cursor_time
        for chart in self.charts:
            # Out of sight (its X link blocked): placed when it comes into sight.
            if not chart.view_box.linksBlocked:
                self._place_crosshair(chart, t)
        self._settle_lines()
        self._update_readouts()
        self._update_mode_label()
        self.cursor_time_changed.emit(t)

    @staticmethod
    def _place_crosshair(chart: Chart, t: float | None) -> None:
        if t is None:
            chart.crosshair.hide()
        else:
            chart.crosshair.setPos(t)
            chart.crosshair.show()

    def _clear_hover_cursor(self) -> None:
        self._set_hover_cursor(None)

    def _set_hover_cursor(self, t: float | None) -> None:
        if t != self._hover_cursor:
            self._hover_cursor = t
            self._apply_cursor()

    def _on_mouse_moved(self, args: tuple) -> None:
        pos = args[0]
        for chart in self.charts:
            if chart.view_box.sceneBoundingRect().contains(pos):
                self._set_hover_cursor(float(chart.view_box.mapSceneToView(pos).x()))
                return
        self._set_hover_cursor(None)

    def _on_user_moved_view(self, *_args: object) -> None:
        """Dragging or Ctrl+wheel on a chart means "let me look": stop following the clock."""
        self.set_live(False)

    def _on_x_range_changed(self, *_args: object) -> None:
        if not self._live:
            self._update_mode_label()
            self._schedule_refresh()

    def _schedule_refresh(self, now: bool = False) -> None:
        """Coalesce refresh requests to at most MAX_REFRESH_HZ; only while shown."""
        if self._torn_down or not self.isVisible() or self._refresh_timer.isActive():
            return
        min_interval = 1.0 / MAX_REFRESH_HZ
        wait = min_interval - (time.monotonic() - self._last_refresh_monotonic)
        self._refresh_timer.start(0 if now or wait <= 0 else int(wait * 1000))

    def _on_refresh_timer(self) -> None:
        self.refresh()

    def _update_mode_label(self) -> None:
        range_text = RANGE_LABELS.get(self._range_s, format_duration(self._range_s))
        if self._live:
            text = (
                f"<b style='color:{theme.ACCENT}'>● LIVE</b>&nbsp; last {range_text}"
                "&nbsp;·&nbsp; drag a chart to pause and look back"
            )
        else:
            x0, x1 = self.x_range
            text = (
                f"<b style='color:{theme.STATUS_STYLES['degraded'].fill}'>"
                f"{self.paused_caption}</b>&nbsp; "
                f"{_clock_text(x0)} – {_clock_text(x1)}&nbsp;·&nbsp; drag to pan, "
                "Ctrl+wheel to zoom"
            )
        cursor = self.cursor_time
        if cursor is not None:
            text += (
                f"&nbsp;&nbsp;&nbsp;<b style='color:{theme.TEXT}'>cursor "
                f"{_clock_text(cursor, seconds=True)}</b>"
            )
        if text != self._mode_label.text():
            self._mode_label.setText(text)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._schedule_refresh(now=True)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._refresh_timer.stop()


def _recent_fetch(chart: Chart, x0: float, x1: float, plot_width_px: float) -> RecentFetch | None:
    """The newest recent fetch of ``chart`` that holds ``[x0, x1]`` at the resolution a new read
    would have (the same view width within the ``covered`` tolerance, the same plot width)."""
    width = max(x1 - x0, 1e-9)
    for fetch in reversed(chart.recent_fetches):
        if (
            fetch.span[0] <= x0
            and x1 <= fetch.span[1]
            and 0.67 < width / fetch.view_width < 1.5
            and fetch.plot_width_px == plot_width_px
        ):
            return fetch
    return None


def _rect_key(rect: QRectF) -> tuple[float, float, float, float]:
    return rect.x(), rect.y(), rect.width(), rect.height()


def _style_axis(axis: pg.AxisItem) -> None:
    """Readable on the dark background, without crowding: dim text, one tick level."""
    axis.setPen(pg.mkPen(theme.PANEL_BORDER, width=1))
    axis.setTextPen(pg.mkPen(theme.TEXT_DIM))
    axis.setStyle(tickFont=_font(_SMALL_FONT_PT), tickTextOffset=4, maxTickLevel=1)


__all__ = [
    "DEFAULT_RANGE_S",
    "RANGE_CHOICES_S",
    "RANGE_LABELS",
    "Chart",
    "ChartGrid",
    "Curve",
    "ThresholdLine",
]
