"""The chart grid (``ui.chart_grid``) and its pure description (``console.chart_specs``).

Driven by a virtual clock and a tiny synthetic source (or the demo simulation); nothing sleeps.
The grid is never shown except where a test needs real geometry.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import math

import numpy as np
import pytest

from console.chart_specs import (
    CHARTS_BY_KIND,
    axis_tick_labels,
    charts_for,
    next_y_top,
    nice_ceiling,
    time_ticks,
    unplotted_metrics,
)
from console.clock import VirtualClock
from console.metrics import METRICS_BY_KIND, SERVICE_KINDS
from console.session import Session
from console.sources import Batch
from console.units import format_value
from console.workspace import GoldenPathStep, Incident, Service, Threshold, Workspace

pytestmark = pytest.mark.gui

START = 1_764_000_000.0  # a round hour, so tick positions are easy to reason about
HISTORY_S = 3600


def make_workspace() -> Workspace:
    """One service of every kind, thresholds as in the demo workspace plus an override."""
    services = {
        "frontend": Service("frontend", "Frontend", "cloud_run", "fe", ("backend",)),
        "backend": Service(
            "backend",
            "Backend",
            "cloud_run",
            "be",
            ("connector", "database"),
            thresholds={"latency_p95_ms": Threshold("latency_p95_ms", 1500.0, 3000.0)},
        ),
        "connector": Service("connector", "VPC connector", "vpc_connector", "conn"),
        "database": Service("database", "Cloud SQL", "cloud_sql", "db"),
        "probe": Service("probe", "Chat probe", "synthetic", "chat", ("frontend",)),
    }
    thresholds = {
        "latency_p95_ms": Threshold("latency_p95_ms", 1000.0, 2000.0),
        "error_ratio": Threshold("error_ratio", 0.01, 0.05),
        "cpu_utilization": Threshold("cpu_utilization", 0.8, 0.95),
        "saturation": Threshold("saturation", 0.8, 0.95),
        "probe_success": Threshold("probe_success", 0.99, 0.9),
        "probe_latency_ms": Threshold("probe_latency_ms", 2000.0, 5000.0),
    }
    return Workspace(
        Incident("Test incident"),
        services,
        (GoldenPathStep("frontend", "Open"), GoldenPathStep("probe", "Chat")),
        thresholds,
    )


def synthetic_value(metric: str, ts: np.ndarray) -> np.ndarray:
    """A deterministic, metric-appropriate signal (fractions in 0–1, latencies in ms)."""
    phase = (ts - START) / 300.0
    wave = 0.5 + 0.5 * np.sin(phase + len(metric))
    if metric in ("error_ratio",):
        return 0.002 + 0.01 * wave
    if metric in ("cpu_utilization", "memory_utilization", "saturation", "probe_success"):
        return 0.3 + 0.6 * wave
    if metric.endswith("_ms"):
        return 100.0 + 900.0 * wave
    if metric.endswith("_bps"):
        return 1e6 + 4e6 * wave
    return 2.0 + 8.0 * wave


class SyntheticSource:
    """Every canonical metric of every service at 1 sample/s, an hour of history first."""

    name = "synthetic"
    interval_s = 1.0
    expected_delay_s = 0.0

    def __init__(self, workspace: Workspace, start: float) -> None:
        self.workspace = workspace
        self.last = start - HISTORY_S

    def poll(self, now: float) -> Batch:
        batch = Batch(self.name)
        ts = np.arange(math.floor(self.last) + 1, math.floor(now) + 1, dtype=np.float64)
        self.last = max(self.last, math.floor(now))
        if ts.size:
            for sid, service in self.workspace.services.items():
                for metric in service.metrics():
                    batch.add((sid, metric), ts, synthetic_value(metric, ts))
        return batch

    def close(self) -> None:
        pass


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def session(clock: VirtualClock) -> Session:
    workspace = make_workspace()
    session = Session(workspace, clock, [SyntheticSource(workspace, clock.now())])
    session.poll_sources()
    session.drain()
    return session


@pytest.fixture
def grid(qtbot, session: Session):
    from ui.chart_grid import ChartGrid

    widget = ChartGrid(session)
    qtbot.addWidget(widget)
    widget.refresh()
    return widget


def feed(session: Session, grid, key=None, t=None, value=1.0) -> None:
    """Apply one drain to the grid: the source's new samples, or one sample for ``key``."""
    if key is not None:
        batch = Batch("synthetic")
        batch.add(key, np.array([t]), np.array([value]))
        session.submit(batch)
    else:
        session.poll_sources()
    grid.on_session_update(session.drain())


# -- the pure description ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", SERVICE_KINDS)
def test_every_canonical_metric_is_plotted_once(kind):
    assert unplotted_metrics(kind) == set()
    plotted = [m for chart in charts_for(kind) for m in chart.metrics]
    assert len(plotted) == len(set(plotted))
    assert set(plotted) <= set(METRICS_BY_KIND[kind])


def test_chart_specs_never_have_more_curves_than_colours():
    from ui import theme

    for charts in CHARTS_BY_KIND.values():
        for chart in charts:
            assert 1 <= len(chart.curves) <= len(theme.CURVE_COLOURS)


def test_axis_tick_labels_use_one_scale_per_axis():
    assert axis_tick_labels([0, 0.2, 0.4], 0.2, "fraction") == ["0%", "20%", "40%"]
    assert axis_tick_labels([0, 0.005, 0.01], 0.005, "fraction") == ["0.0%", "0.5%", "1.0%"]
    assert axis_tick_labels([0, 5000, 10000], 5000, "ms") == ["0", "5 s", "10 s"]
    assert axis_tick_labels([0, 200, 400], 200, "ms") == ["0", "200 ms", "400 ms"]
    assert axis_tick_labels([0, 5e5, 1e6], 5e5, "bytes_per_s") == ["0", "0.5 MB/s", "1.0 MB/s"]
    assert axis_tick_labels([0, 2000, 4000], 2000, "bytes_per_s") == ["0", "2 kB/s", "4 kB/s"]


def test_y_top_grows_at_once_and_shrinks_only_well_below():
    latency = charts_for("cloud_run")[0]
    top = next_y_top(latency, None, 900.0)
    assert top == nice_ceiling(900.0 * 1.1) == 1000.0
    assert next_y_top(latency, top, 950.0) == top  # inside: unchanged
    assert next_y_top(latency, top, 600.0) == top  # well inside: unchanged (hysteresis)
    grown = next_y_top(latency, top, 12_000.0)
    assert grown >= 12_000.0
    assert next_y_top(latency, grown, 10_000.0) == grown
    assert next_y_top(latency, grown, 500.0) < grown  # under half: shrinks
    cpu = charts_for("cloud_sql")[0]
    assert next_y_top(cpu, None, 0.2) == 1.0  # utilizations keep their 0–100 % axis
    assert next_y_top(cpu, None, math.nan) == 1.0


def test_time_ticks_fall_on_round_local_times():
    step, ticks = time_ticks(START - 3600, START, 200)
    assert step == 900
    assert ticks == [START - 3600 + i * 900 for i in range(5)]
    step, ticks = time_ticks(START - 6 * 3600 + 17, START + 17, 150)
    assert step == 7200
    assert all(t % 7200 == 0 for t in ticks)
    # A zone 30 minutes off UTC moves the ticks to its own round hours.
    _, ticks = time_ticks(START - 3 * 3600, START, 200, utc_offset_s=1800)
    assert all((t + 1800) % 3600 == 0 for t in ticks)


# -- structure ---------------------------------------------------------------------------------


def test_every_service_gets_its_charts_in_workspace_order(grid, session):
    services = list(session.workspace.services.values())
    assert list(dict.fromkeys(c.service for c in grid.charts)) == [s.id for s in services]
    for service in services:
        charts = [c for c in grid.charts if c.service == service.id]
        assert [c.title for c in charts] == [spec.title for spec in charts_for(service.kind)]
        plotted = {key[1] for chart in charts for key in chart.keys}
        assert plotted == set(METRICS_BY_KIND[service.kind])
        assert all(key[0] == service.id for chart in charts for key in chart.keys)


def test_service_names_show_status_words(grid, session):
    from ui import theme

    for sid, header in grid._service_headers.items():
        health = session.health.services[sid]
        expected = theme.display_status(health.status, health.blocked)
        assert header.status_word == theme.STATUS_STYLES[expected].word


def test_threshold_lines_sit_at_the_workspace_thresholds(grid, session):
    workspace = session.workspace
    seen = 0
    for chart in grid.charts:
        expected = set()
        for key in chart.keys:
            threshold = workspace.threshold(*key)
            if threshold is None:
                continue
            for level in ("degraded", "failing"):
                value = getattr(threshold, level)
                if value is not None:
                    expected.add((key[1], level, value))
        drawn = {(t.metric, t.level, t.value) for t in chart.threshold_lines}
        assert drawn == expected
        for line in chart.threshold_lines:
            assert line.line.value() == pytest.approx(line.value)
            assert line.line.angle == 0
        seen += len(expected)
    assert seen > 0
    # The service's own threshold wins over the workspace-wide one.
    backend_latency = grid.chart("backend", "Latency")
    assert {t.value for t in backend_latency.threshold_lines} == {1500.0, 3000.0}


def test_time_axis_shows_only_once_and_charts_share_x(grid):
    for chart in grid.charts:
        assert set(chart.plot.axes) == {"left"}  # no time axis of its own
    grid.set_live(False)
    grid.charts[0].view_box.setXRange(START - 1000, START - 400, padding=0)
    for chart in grid.charts:
        x0, x1 = chart.view_box.viewRange()[0]
        assert (x0, x1) == pytest.approx((START - 1000, START - 400))
    for axis in grid.time_axes:
        assert tuple(axis.range) == pytest.approx((START - 1000, START - 400))


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's only complaint
def test_time_axis_lines_up_with_the_plots(qtbot, grid):
    from PySide6.QtWidgets import QApplication

    grid.resize(1600, 900)
    grid.show()
    qtbot.waitExposed(grid)
    QApplication.processEvents()

    def left_in_grid(view, item) -> float:
        point = view.mapFromScene(item.sceneBoundingRect().topLeft())
        return view.viewport().mapTo(grid, point).x()

    for col, axis in enumerate(grid.time_axes, start=1):
        chart = next(c for c in grid.charts if c.column == col)
        assert (
            abs(left_in_grid(grid._axis_view, axis) - left_in_grid(grid._plots, chart.view_box))
            <= 1
        )
        assert axis.width() == pytest.approx(chart.view_box.width(), abs=1)


# -- data ------------------------------------------------------------------------------------


def test_curves_hold_exactly_the_stores_samples(grid, session):
    store = session.store
    for chart in grid.charts:
        assert chart.fetched_span is not None
        for curve in chart.curves:
            t0, t1 = chart.fetched_span
            expected_t, expected_v = store.window(curve.key, t0, t1, curve.max_points)
            np.testing.assert_array_equal(curve.item.xData, expected_t)
            np.testing.assert_array_equal(curve.item.yData, expected_v)
            shown_t, shown_v = curve.item.getData()
            assert shown_t is not None and len(shown_t) > 0
            for i in np.linspace(0, len(shown_t) - 1, 7).astype(int):
                assert store.value_at(curve.key, float(shown_t[i])) == (shown_t[i], shown_v[i])
            # Peak downsampling keeps the extremes of what is shown.
            _, raw_v = store.window(curve.key, t0, t1)
            assert np.nanmax(curve.item.yData) == np.nanmax(raw_v)
            assert np.nanmin(curve.item.yData) == np.nanmin(raw_v)


def test_reads_are_downsampled_to_about_two_points_per_pixel(grid):
    chart = grid.chart("frontend", "Latency")
    x0, x1 = grid.x_range
    visible = np.count_nonzero(
        (chart.curves[0].item.xData >= x0) & (chart.curves[0].item.xData <= x1)
    )
    assert visible <= 2 * 300 + 4  # the fallback plot width before layout is 300 px


def test_an_update_of_one_series_redraws_only_its_chart(grid, session, clock):
    before = {id(c): c.set_data_calls for c in grid.charts}
    total = grid.set_data_calls
    grid.refresh()  # nothing changed: nothing is handed to any curve
    assert grid.set_data_calls == total

    t = clock.advance(1.0)
    key = ("backend", "latency_p99_ms")
    feed(session, grid, key, t, 12_345.0)
    grid.refresh()
    changed = [c for c in grid.charts if c.set_data_calls != before[id(c)]]
    assert [(c.service, c.title) for c in changed] == [("backend", "Latency")]
    assert grid.set_data_calls == total + 1  # one curve, not the chart's three
    assert changed[0].curve("latency_p99_ms").item.yData[-1] == 12_345.0
    assert changed[0].readout[key] == format_value(12_345.0, "ms")


def test_y_range_grows_with_a_spike_and_is_not_touched_without_new_data(grid, session, clock):
    chart = grid.chart("backend", "Latency")
    top = chart.view_box.viewRange()[1][1]
    t = clock.advance(1.0)
    feed(session, grid, ("backend", "latency_p99_ms"), t, 17_000.0)
    grid.refresh()
    grown = chart.view_box.viewRange()[1][1]
    assert grown >= 17_000.0 > top
    other = grid.chart("database", "Connections")
    other_range = other.view_box.viewRange()[1]
    grid.refresh()
    assert chart.view_box.viewRange()[1][1] == grown
    assert other.view_box.viewRange()[1] == other_range
    for c in grid.charts:
        assert not any(c.view_box.autoRangeEnabled())


def test_live_follows_the_clock_and_paused_does_not(grid, session, clock):
    x0, x1 = grid.x_range
    assert grid.is_live
    assert x1 - x0 == pytest.approx(grid.range_s)
    assert 0 <= x1 - clock.now() < grid.range_s / 100

    clock.advance(600)
    feed(session, grid)
    grid.refresh()
    x0, x1 = grid.x_range
    assert 0 <= x1 - clock.now() < grid.range_s / 100

    changes = []
    grid.live_changed.connect(changes.append)
    grid.set_live(False)
    frozen = grid.x_range
    clock.advance(600)
    feed(session, grid)
    grid.refresh()
    assert grid.x_range == frozen
    grid.set_live(True)
    assert 0 <= grid.x_range[1] - clock.now() < grid.range_s / 100
    assert changes == [False, True]


def test_dragging_a_chart_pauses(grid):
    grid.charts[3].view_box.sigRangeChangedManually.emit([True, False])
    assert not grid.is_live


def test_paused_pan_fetches_the_newly_visible_span(grid, session):
    grid.set_range(900)
    grid.refresh()
    grid.set_live(False)
    chart = grid.chart("frontend", "Requests / 5xx")
    calls = chart.set_data_calls
    grid.charts[0].view_box.setXRange(START - 3000, START - 2100, padding=0)
    grid.refresh()
    assert chart.set_data_calls == calls + len(chart.curves)
    t0, t1 = chart.fetched_span
    assert t0 <= START - 3000
    assert t1 >= START - 2100
    grid.refresh()  # still covered: nothing new
    assert chart.set_data_calls == calls + len(chart.curves)


def test_range_switch_changes_the_x_range(grid, clock):
    from ui.chart_grid import RANGE_CHOICES_S

    emitted = []
    grid.range_changed.connect(emitted.append)
    for seconds in RANGE_CHOICES_S:
        grid.set_range(seconds)
        grid.refresh()
        x0, x1 = grid.x_range
        assert x1 - x0 == pytest.approx(seconds)
        assert 0 <= x1 - clock.now() < seconds / 100
        assert grid.range_s == seconds
    assert emitted == list(RANGE_CHOICES_S)  # 1 h is re-announced after 15 min

    grid.set_live(False)
    _, end = grid.x_range
    grid.set_range(900)
    assert grid.x_range == pytest.approx((end - 900, end), abs=1e-3)
    with pytest.raises(ValueError):
        grid.set_range(0)


def test_crosshair_reads_the_stores_value_at_the_cursor(grid, session):
    t = START - 1234.5
    moved = []
    grid.cursor_time_changed.connect(moved.append)
    grid.set_cursor_time(t)
    assert moved == [t]
    assert grid.cursor_time == t
    for chart in grid.charts:
        assert chart.crosshair.isVisible()
        assert chart.crosshair.value() == t
        for key, text in chart.readout.items():
            _, value = session.store.value_at(key, t)
            assert text == format_value(value, chart.spec.unit)
    grid.set_cursor_time(None)
    for chart in grid.charts:
        assert not chart.crosshair.isVisible()
        for key, text in chart.readout.items():
            assert text == format_value(session.store.latest(key)[1], chart.spec.unit)


def test_mouse_hover_moves_the_crosshair(grid):
    chart = grid.chart("connector", "Throughput")
    rect = chart.view_box.sceneBoundingRect()
    if rect.width() < 10:  # never laid out (not shown): give the view a size of its own
        chart.view_box.resize(300, 100)
        rect = chart.view_box.sceneBoundingRect()
    pos = rect.center()
    grid._on_mouse_moved((pos,))
    expected = chart.view_box.mapSceneToView(pos).x()
    assert grid.cursor_time == pytest.approx(expected, abs=1e-3)
    grid._set_hover_cursor(None)
    assert grid.cursor_time is None


def test_mouse_leaving_the_charts_clears_the_hover_crosshair(grid):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    grid.set_cursor_time(START - 600)
    grid._set_hover_cursor(START - 60)
    assert grid.cursor_time == START - 60
    QApplication.sendEvent(grid._plots.viewport(), QEvent(QEvent.Type.Leave))
    assert grid.cursor_time == START - 600  # back to the pinned cursor


class FakeWheel:
    """The two things ``ChartViewBox.wheelEvent`` asks of a wheel event before zooming."""

    def __init__(self, modifiers) -> None:
        self._modifiers = modifiers
        self.ignored = False

    def modifiers(self):
        return self._modifiers

    def ignore(self) -> None:
        self.ignored = True


def test_plain_wheel_is_left_to_the_scroll_area(grid):
    from PySide6.QtCore import Qt

    view = grid.charts[0].view_box
    before = grid.x_range
    wheel = FakeWheel(Qt.KeyboardModifier.NoModifier)
    view.wheelEvent(wheel)
    assert wheel.ignored
    assert grid.x_range == before
    assert grid.is_live


def test_age_label_turns_stale_past_the_services_limit(grid, session, clock):
    chart = grid.chart("database", "Connections")
    assert chart.age_text == "0s ago"
    limit = session.stale_after()["database"]
    clock.advance(limit - 1)
    grid.refresh()
    assert chart.age_text == f"{int(limit - 1)}s ago"
    assert not chart.stale
    clock.advance(312 - limit + 1)
    grid.refresh()
    assert chart.stale
    assert chart.age_text == "◷ STALE 5m 12s"
    assert chart.header.age_style == "stale"
    assert all(curve.item.opacity() < 1 for curve in chart.curves)
    feed(session, grid)  # data again: fresh
    grid.refresh()
    assert not chart.stale
    assert chart.age_text == "0s ago"


def test_a_chart_without_data_says_so(qtbot, clock):
    from ui.chart_grid import ChartGrid

    workspace = make_workspace()
    session = Session(workspace, clock, [])
    grid = ChartGrid(session)
    qtbot.addWidget(grid)
    grid.refresh()
    assert {chart.age_text for chart in grid.charts} == {"NO DATA"}
    assert grid.set_data_calls == 0


def test_with_the_demo_simulation(qtbot):
    simulation = pytest.importorskip("console.simulation")
    workspace_toml = pytest.importorskip("console.workspace_toml")
    from ui.chart_grid import ChartGrid

    workspace = workspace_toml.load_workspace(workspace_toml.demo_workspace_path())
    clock = VirtualClock(START)
    session = Session(workspace, clock, [simulation.DemoSimulation(workspace, start=clock.now())])
    session.poll_sources()
    session.drain()
    grid = ChartGrid(session)
    qtbot.addWidget(grid)
    grid.refresh()
    assert len({c.service for c in grid.charts}) == len(workspace.services)
    for chart in grid.charts:
        assert chart.age_text == "0s ago"
        for curve in chart.curves:
            assert len(curve.item.xData) > 0
    calls = grid.set_data_calls
    clock.advance(1.0)
    session.poll_sources()
    update = session.drain()
    grid.on_session_update(update)
    grid.refresh()
    redrawn = grid.set_data_calls - calls
    assert redrawn == len([k for k in update.changed_keys if k in grid._charts_by_key])
