"""One chart on the wall: a large title, each curve's value in large type, the data age, and a
pyqtgraph plot with large axis labels, its own time axis and labelled threshold lines.

What a chart plots comes from ``console.chart_specs`` (the same description as the desk's chart
grid), its tick labels from the grid's ``UnitAxisItem`` and ``LocalTimeAxisItem`` (the time axis
asks for wider tick spacing to fit its larger labels), its Y range from ``next_y_top``
(hysteresis: tick labels stay still) and its read-outs from ``console.units.format_value``.
Nothing here decides health: the chart marks its title with the worst finding of the session's
health that concerns one of its metrics, and counts as stale past ``Session.stale_after``.

A wall chart never takes the mouse or keyboard. It does work only in ``refresh(now)``, which the
page calls once a second while it is shown: curves whose series changed get new data
(``store.window`` peak-downsampled to about two points per pixel), the X range follows the clock
in whole-pixel steps and the ages move.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from console.chart_specs import ChartSpec, next_y_top, time_ticks
from console.durations import format_duration
from console.health import ServiceHealth
from console.metrics import metric_spec
from console.session import Session
from console.sources import SeriesKey
from console.units import format_value
from console.workspace import Service
from ui import theme
from ui.chart_grid import LocalTimeAxisItem, UnitAxisItem
from ui.scene_lifetime import WindowCloseHook, release_plot_scene
from ui.wall_style import (
    AXIS_PX,
    BODY_PX,
    LARGE_PX,
    SMALL_PX,
    WallScale,
    draw_pill,
    draw_text,
    wall_font,
)

#: The time span every wall chart shows, up to now.
WALL_RANGE_S = 3600.0
#: Points fetched per horizontal pixel of plot.
POINTS_PER_PIXEL = 2
#: Opacity of curves whose newest point is older than the service's stale limit.
STALE_CURVE_OPACITY = 0.35
#: Widest tick label per unit, to size the value axis.
_WIDEST_TICK = {
    "ms": "88.8 s",
    "fraction": "100%",
    "per_s": "888.8",
    "count": "888",
    "bytes_per_s": "88.8 MB/s",
}


def _by_value(item: tuple[tuple[str, float], list[str]]) -> float:
    return item[0][1]


class WallTimeAxis(LocalTimeAxisItem):
    """The grid's local HH:MM time axis, with tick spacing for the wall's larger labels."""

    def __init__(self) -> None:
        super().__init__()
        self.min_spacing_px = 50.0

    def tickValues(self, min_value: float, max_value: float, size: float) -> list:
        offset = time.localtime(min_value).tm_gmtoff if min_value > 0 else 0
        step, ticks = time_ticks(min_value, max_value, size, offset, self.min_spacing_px)
        return [(step, ticks)]


@dataclass
class WallCurve:
    """One drawn series and the store version it was last drawn from."""

    key: SeriesKey
    label: str
    colour: str
    item: pg.PlotDataItem
    drawn_version: int = 0
    t: np.ndarray = field(default_factory=lambda: np.empty(0))
    v: np.ndarray = field(default_factory=lambda: np.empty(0))


class WallChartHeader(QWidget):
    """Two painted lines: alert symbol, title and data age; then each curve's label and value."""

    def __init__(self, title: str, legend: list[tuple[str, str]], scale: WallScale) -> None:
        super().__init__()
        self.title = title
        #: ``(label, colour)`` per curve.
        self.legend = legend
        self.values = ["–"] * len(legend)
        #: ``(symbol, colour)`` when a plotted metric breaches its threshold.
        self.alert: tuple[str, str] | None = None
        self.age_text = "NO DATA"
        #: A ``STATUS_STYLES`` key for a pill (stale, no data), or None for plain text.
        self.age_style: str | None = "unknown"
        self.scale = scale
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_scale(scale)

    def set_scale(self, scale: WallScale) -> None:
        """Resize for a new wall size."""
        self.scale = scale
        self.setFixedHeight(scale.px(BODY_PX * 1.35 + LARGE_PX * 1.4 + 6))
        self.update()

    def show_state(
        self,
        values: list[str],
        alert: tuple[str, str] | None,
        age_text: str,
        age_style: str | None,
    ) -> None:
        """Show new values, alert and age; repaints only when something changed."""
        state = (values, alert, age_text, age_style)
        if state != (self.values, self.alert, self.age_text, self.age_style):
            self.values, self.alert, self.age_text, self.age_style = (
                list(values),
                alert,
                age_text,
                age_style,
            )
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter = QPainter(self)
        painter.fillRect(self.rect(), theme.qcolor(theme.BACKGROUND))
        rect = QRectF(self.rect()).adjusted(scale.px(4), 0, -scale.px(4), 0)
        first = QRectF(rect.left(), rect.top(), rect.width(), scale.px(BODY_PX * 1.35))

        # The age, right-aligned on the first line: plain when fresh, a pill when not.
        small = scale.font(SMALL_PX, bold=True)
        if self.age_style is not None:
            style = theme.STATUS_STYLES[self.age_style]
            width = QFontMetricsF(small).horizontalAdvance(self.age_text)
            pill_height = scale.px(SMALL_PX * 1.45)
            x = first.right() - width - 0.6 * pill_height
            y = first.center().y() - pill_height / 2
            age_left = draw_pill(
                painter, x, y, pill_height, self.age_text, small, style.fill, style.text
            ).left()
        else:
            width = QFontMetricsF(small).horizontalAdvance(self.age_text)
            age_left = first.right() - width
            draw_text(
                painter,
                QRectF(age_left, first.top(), width + 2, first.height()),
                self.age_text,
                small,
                theme.TEXT_DIM,
            )

        title_font = scale.font(BODY_PX, bold=True)
        x = first.left()
        colour = theme.TEXT
        if self.alert is not None:
            symbol, colour = self.alert
            x += draw_text(
                painter,
                QRectF(x, first.top(), first.width(), first.height()),
                symbol + " ",
                title_font,
                colour,
            )
        draw_text(
            painter,
            QRectF(x, first.top(), max(0.0, age_left - x - scale.px(8)), first.height()),
            self.title,
            title_font,
            colour,
        )

        # Legend with values: the label in its curve's colour, the value in large white type.
        # When they do not fit, both shrink (to 60 % at most) rather than lose a value.
        second = QRectF(rect.left(), first.bottom(), rect.width(), rect.height() - first.height())
        gap = scale.px(24)
        texts = [
            (label + " ", value) for (label, _), value in zip(self.legend, self.values, strict=True)
        ]
        label_px, value_px = scale.px(BODY_PX), scale.px(LARGE_PX)
        needed = sum(
            QFontMetricsF(wall_font(label_px, True)).horizontalAdvance(label)
            + QFontMetricsF(wall_font(value_px, True)).horizontalAdvance(value)
            for label, value in texts
        ) + gap * (len(texts) - 1)
        if needed > second.width() > 0:
            shrink = max(0.6, second.width() / needed)
            label_px, value_px, gap = (
                round(label_px * shrink),
                round(value_px * shrink),
                round(gap * shrink),
            )
        label_font, value_font = wall_font(label_px, True), wall_font(value_px, True)
        label_metrics, value_metrics = QFontMetricsF(label_font), QFontMetricsF(value_font)
        x = second.left()
        bottom = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
        for (_, curve_colour), (label_text, value) in zip(self.legend, texts, strict=True):
            label_width = label_metrics.horizontalAdvance(label_text)
            draw_text(
                painter,
                QRectF(x, second.top(), label_width + 1, second.height()),
                label_text,
                label_font,
                curve_colour,
                bottom,
            )
            x += label_width
            draw_text(
                painter,
                QRectF(x, second.top(), max(0.0, second.right() - x), second.height()),
                value,
                value_font,
                theme.TEXT_DIM if self.age_style == "stale" else theme.TEXT,  # old news, dimmed
                bottom,
            )
            x += value_metrics.horizontalAdvance(value) + gap


class WallChart(QWidget):
    """One chart of one service on the wall."""

    def __init__(
        self, session: Session, service: Service, spec: ChartSpec, scale: WallScale
    ) -> None:
        super().__init__()
        self.session = session
        self.service = service.id
        self.spec = spec
        self.title = spec.title
        self.scale = scale
        self.curves: list[WallCurve] = []
        #: Dashed lines at the workspace's thresholds, with their colours.
        self.threshold_lines: list[tuple[pg.InfiniteLine, str]] = []
        self.y_top: float | None = None
        self.y_floor = 0.0
        self.stale = False
        self.age_s: float | None = None
        #: How many times a curve was handed new data (tests check the economy).
        self.set_data_calls = 0
        self._x_range: tuple[float, float] | None = None
        self._fetched_from = math.inf
        self._torn_down = False

        colours = theme.CURVE_COLOURS
        legend = [(c.label, colours[i % len(colours)]) for i, c in enumerate(spec.curves)]
        self.header = WallChartHeader(spec.title, legend, scale)
        self.value_axis = UnitAxisItem(spec.unit)
        self.time_axis = WallTimeAxis()
        self.plot_widget = pg.PlotWidget(
            background=theme.BACKGROUND,
            axisItems={"left": self.value_axis, "bottom": self.time_axis},
        )
        self.plot_widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.plot_widget.setMinimumSize(10, 10)
        plot = self.plot_widget.getPlotItem()
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.showGrid(x=False, y=True, alpha=0.25)
        self.view_box: pg.ViewBox = plot.getViewBox()
        self.view_box.setBackgroundColor(theme.PANEL)
        self.view_box.disableAutoRange()
        self.view_box.setMenuEnabled(False)
        self.plot = plot

        floors = []
        # Threshold lines: one per (level, value), named by the curves it concerns when the
        # chart has several, e.g. "✖ CPU, mem 95%". The label sits on the bad side of its line.
        limits: dict[tuple[str, float], list[str]] = {}
        lower_is_worse: set[tuple[str, float]] = set()
        for (label, colour), curve_spec in zip(legend, spec.curves, strict=True):
            item = pg.PlotDataItem(antialias=False, clipToView=True, autoDownsample=False)
            plot.addItem(item)
            key = (service.id, curve_spec.metric)
            self.curves.append(WallCurve(key, label, colour, item))
            threshold = session.workspace.threshold(service.id, curve_spec.metric)
            if threshold is None:
                continue
            metric = metric_spec(service.kind, curve_spec.metric)
            for level, value in (("degraded", threshold.degraded), ("failing", threshold.failing)):
                if value is not None:
                    limits.setdefault((level, value), []).append(label)
                    if metric is not None and not metric.higher_is_worse:
                        lower_is_worse.add((level, value))
            first = threshold.degraded if threshold.degraded is not None else threshold.failing
            if metric is not None and metric.higher_is_worse and first is not None:
                floors.append(first)
        several = len({name for names in limits.values() for name in names}) > 1
        for index, ((level, value), names) in enumerate(sorted(limits.items(), key=_by_value)):
            colour = theme.THRESHOLD_FAILING if level == "failing" else theme.THRESHOLD_DEGRADED
            words = [theme.STATUS_STYLES[level].symbol]
            if several:
                words.append(", ".join(names))
            words.append(format_value(value, spec.unit))
            line = pg.InfiniteLine(
                pos=value,
                angle=0,
                movable=False,
                label=" ".join(words),
                # Side by side along the line, so close limits (80 % and 85 %) never overlap.
                labelOpts={
                    "position": min(0.9, 0.02 + 0.2 * index),
                    "color": colour,
                    "fill": theme.qcolor(theme.PANEL, 215),  # legible over curves and lines
                    "anchors": [(0, 0), (0, 0)]
                    if (level, value) in lower_is_worse
                    else [(0, 1), (0, 1)],
                },
            )
            line.setZValue(5)  # above the curves, so its label stays readable over them
            plot.addItem(line, ignoreBounds=True)
            self.threshold_lines.append((line, colour))
        self.y_floor = max(floors, default=0.0)
        self._set_y_top(next_y_top(spec, None, self.y_floor))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.plot_widget, 1)
        self.set_scale(scale)
        # Closing the wall takes this chart's scene apart (ui/scene_lifetime.py).
        self._close_hook = WindowCloseHook(self, self.tear_down)

    # -- lifetime -------------------------------------------------------------------------------

    @property
    def is_torn_down(self) -> bool:
        """True once ``tear_down`` ran: the chart is closed for good and draws nothing."""
        return self._torn_down

    def tear_down(self) -> None:
        """Empty the plot's scene now: curves and threshold lines leave their view box (Python
        alone owns them from then on), the rest is deleted while its Python objects are alive.
        Runs by itself when the window holding the chart closes; idempotent; later refreshes
        are ignored."""
        if self._torn_down:
            return
        self._torn_down = True
        self._close_hook.detach()
        release_plot_scene(self.plot_widget)

    def __del__(self) -> None:
        # Dropped unclosed and found in a reference cycle: finalizers run before the collector
        # clears anything, so the scene is still intact here (see ui/scene_lifetime.py).
        built = getattr(self, "_close_hook", None) is not None
        if built and not self._torn_down and shiboken6.isValid(self):
            self.tear_down()

    # -- sizing ---------------------------------------------------------------------------------

    def set_scale(self, scale: WallScale) -> None:
        """Restyle fonts, pens and axes for a new wall size."""
        if self._torn_down:
            return
        self.scale = scale
        self.header.set_scale(scale)
        tick_font = scale.font(AXIS_PX)
        metrics = QFontMetricsF(tick_font)
        for axis in (self.value_axis, self.time_axis):
            axis.setPen(pg.mkPen(theme.TEXT_DIM, width=max(1, scale.px(1.5))))
            axis.setTextPen(pg.mkPen(theme.TEXT))
            axis.setStyle(
                tickFont=tick_font,
                tickTextOffset=scale.px(8),
                tickLength=scale.px(8),
                maxTickLevel=0,
                autoExpandTextSpace=False,
            )
        widest = metrics.horizontalAdvance(_WIDEST_TICK.get(self.spec.unit, "888.8"))
        self.value_axis.setWidth(round(widest + scale.px(20)))
        self.time_axis.setHeight(round(metrics.height() + scale.px(16)))
        self.time_axis.min_spacing_px = metrics.horizontalAdvance("00:00") * 1.7
        pen_width = max(1.5, scale.px(2.5))
        for curve in self.curves:
            curve.item.setPen(pg.mkPen(curve.colour, width=pen_width))
        label_font = scale.font(SMALL_PX, bold=True)
        for line, colour in self.threshold_lines:
            line.setPen(pg.mkPen(colour, width=max(1.0, scale.px(2)), style=Qt.PenStyle.DashLine))
            line.label.setFont(label_font)
        # The plot width may have changed: recompute the live range and refetch the curves.
        self._x_range = None
        self._fetched_from = math.inf

    # -- data -------------------------------------------------------------------------------------

    def _plot_width_px(self) -> float:
        width = self.view_box.width()
        return width if width >= 50 else 600.0

    def refresh(self, now: float, stale_limit_s: float) -> None:
        """Follow the clock, hand changed series to their curves, update values and age."""
        if self._torn_down:
            return
        width_s = WALL_RANGE_S
        step = max(1.0, width_s / self._plot_width_px())
        x1 = math.ceil(now / step) * step
        x0 = x1 - width_s
        if self._x_range != (x0, x1):
            self._x_range = (x0, x1)
            self.view_box.setXRange(x0, x1, padding=0)
        store = self.session.store
        refetch_all = x0 < self._fetched_from
        changed = False
        max_points = max(8, round(POINTS_PER_PIXEL * self._plot_width_px()))
        for curve in self.curves:
            version = store.version(curve.key)
            if version == curve.drawn_version and not (refetch_all and version):
                continue
            # A little history left of the view, so the range can move a while without a read.
            t, v = store.window(curve.key, x0 - 0.05 * width_s, x1, max_points)
            if not t.flags.owndata:
                t, v = t.copy(), v.copy()  # a ring view is overwritten when the ring wraps
            curve.item.setData(t, v)
            curve.t, curve.v, curve.drawn_version = t, v, version
            self.set_data_calls += 1
            changed = True
        if refetch_all:
            self._fetched_from = x0 - 0.05 * width_s
        if changed or self.y_top is None:
            self._update_y_range(x0, x1)
        self._update_texts(now, stale_limit_s)

    def _update_y_range(self, x0: float, x1: float) -> None:
        peak = self.y_floor
        for curve in self.curves:
            lo = int(np.searchsorted(curve.t, x0, side="left"))
            visible = curve.v[lo:]
            if visible.size and not np.all(np.isnan(visible)):
                peak = max(peak, float(np.nanmax(visible)))
        self._set_y_top(next_y_top(self.spec, self.y_top, peak))

    def _set_y_top(self, top: float) -> None:
        if top != self.y_top:
            self.y_top = top
            self.view_box.setYRange(0.0, top, padding=0.03)

    def _update_texts(self, now: float, stale_limit_s: float) -> None:
        store = self.session.store
        values = []
        newest: float | None = None
        for curve in self.curves:
            reading = store.latest(curve.key)
            values.append(format_value(reading[1] if reading else math.nan, self.spec.unit))
            if reading is not None and (newest is None or reading[0] > newest):
                newest = reading[0]
        if newest is None:
            self.age_s, stale = None, False
            age_text, age_style = "NO DATA", "unknown"
        else:
            self.age_s = max(0.0, now - newest)
            stale = self.age_s > stale_limit_s
            if stale:
                symbol = theme.STATUS_STYLES["stale"].symbol
                age_text, age_style = f"{symbol} STALE {format_duration(self.age_s)}", "stale"
            else:
                age_text, age_style = f"{format_duration(self.age_s)} ago", None
        if stale != self.stale:
            self.stale = stale
            for curve in self.curves:
                curve.item.setOpacity(STALE_CURVE_OPACITY if stale else 1.0)
        self.header.show_state(values, self.header.alert, age_text, age_style)

    def apply_health(self, health: ServiceHealth | None) -> None:
        """Mark the title with the worst finding about one of this chart's metrics."""
        if self._torn_down:
            return
        alert = None
        if health is not None:
            for finding in health.findings:  # worst first
                if finding.metric in self.spec.metrics:
                    style = theme.STATUS_STYLES[finding.level]
                    alert = (style.symbol, style.fill)
                    break
        header = self.header
        header.show_state(header.values, alert, header.age_text, header.age_style)

    @property
    def values(self) -> list[str]:
        """The value texts shown, one per curve."""
        return list(self.header.values)

    @property
    def age_text(self) -> str:
        """The age marker: ``"4s ago"``, ``"◷ STALE 5m 12s"`` or ``"NO DATA"``."""
        return self.header.age_text
