"""The optimized chart grid shows the same data as a plain pyqtgraph grid of the same charts.

Speed must never come from drawing something else. Both grids are the benchmark's own
(``benchmarks.bench_chart_grid``): the console's ``ChartGrid`` and a plain grid of one default
``PlotWidget`` per chart derived from the same chart descriptions, over one store of synthetic
1 s data, shown offscreen at 1920×1080 and fed the same live updates. The checks: the same
charts and curves in the same cells; the same visible time range (to within one pixel step);
every drawn point is a real sample; per pixel column the drawn minimum and maximum equal the
plain grid's (peak downsampling keeps every spike); the newest sample is drawn; the Y range
shows everything the plain grid shows; the value under the crosshair is the store's.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import math

import numpy as np
import pytest

from benchmarks.bench_chart_grid import (
    WINDOW_SIZE,
    PlainGrid,
    chart_cells,
    filled_session,
)
from console.units import format_value

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("propagateSizeHints"),  # the offscreen platform's only complaint
]

LIVE_UPDATES = 15
#: Live updates whose sample is NaN in one series (a gap in the data).
GAP = slice(4, 8)


@pytest.fixture(scope="module", params=[3600.0, 6 * 3600.0], ids=["1h", "6h"])
def grids(request, qapp):
    """Both grids over one session, shown, after ``LIVE_UPDATES`` one-second live updates.

    Built once per range (building and painting two 32-chart grids is the slow part); the
    tests only read, but for the crosshair test, which puts the crosshair back."""
    from PySide6.QtWidgets import QApplication

    from ui.chart_grid import ChartGrid

    range_s = request.param
    session, clock, pending = filled_session(range_s, LIVE_UPDATES + 1)
    # A gap (NaN samples) in one series: both grids must break the line there.
    gap_key = next(iter(pending))
    pending[gap_key][1][GAP] = np.nan
    console = ChartGrid(session)
    console.set_range(range_s)
    console.resize(*WINDOW_SIZE)
    plain = PlainGrid(chart_cells(session.workspace))
    plain.window.resize(*WINDOW_SIZE)
    console.show()
    plain.window.show()
    for i in range(LIVE_UPDATES):
        clock.advance(1.0)
        for key, (t, v) in pending.items():
            session.store.append(key, t[i : i + 1], v[i : i + 1])
        console.refresh(clock.now())
        plain.update(session, clock.now(), range_s)
        QApplication.processEvents()
    for _ in range(3):
        QApplication.processEvents()  # the plain grid auto-ranges when it paints
    console.gap_key = gap_key  # for the gap test
    yield session, console, plain, range_s, clock.now()
    console.close()
    plain.window.close()
    console.deleteLater()
    plain.window.deleteLater()
    QApplication.processEvents()


def _plain_curves(plain: PlainGrid) -> dict:
    return dict(plain.curves)


def test_the_same_charts_and_curves_in_the_same_cells(grids):
    session, console, plain, _, _ = grids
    cells = chart_cells(session.workspace)
    assert len(console.charts) == len(cells) == len(plain.plots) == 32
    for chart, (_row, col, keys) in zip(console.charts, cells, strict=True):
        assert list(chart.keys) == keys
        assert chart.column == col + 1  # column 0 holds the service names
    assert [key for key, _ in plain.curves] == [k for c in console.charts for k in c.keys]


def test_the_same_visible_time_range(grids):
    _, console, plain, range_s, now = grids
    x0, x1 = console.x_range
    step = max(1.0, range_s / console.charts[0].view_box.width())
    assert x1 - x0 == pytest.approx(range_s)
    assert now <= x1 < now + step + 1e-6  # the live edge moves in whole-pixel steps
    for key, item in plain.curves:
        pt, _ = item.getData()
        # The plain grid draws [now - range, now] and auto-ranges around it (with padding) ...
        assert pt[0] == now - range_s and pt[-1] == now, key
        # ... which the console shows too, but for its oldest pixel step.
        assert x0 <= pt[0] + step and pt[-1] <= x1
    for plot in plain.plots:
        (p0, p1), _ = plot.getViewBox().viewRange()
        assert p0 <= now - range_s and p1 >= now


def test_every_drawn_point_is_a_real_sample_and_the_newest_is_drawn(grids):
    session, console, _, _, now = grids
    store = session.store
    for chart in console.charts:
        for curve in chart.curves:
            t, v = curve.item.getData()
            assert t is not None and t.size > 0
            assert t[-1] == store.latest(curve.key)[0] == now
            raw_t, raw_v = store.window(curve.key, float(t[0]), float(t[-1]))
            index = np.searchsorted(raw_t, t)
            np.testing.assert_array_equal(raw_t[index], t)
            np.testing.assert_array_equal(raw_v[index], v)


def _column_extremes(t, v, x0, x1, columns):
    """Per pixel column of ``[x0, x1]``: the min and max of the samples in it (NaN if none)."""
    inside = (t >= x0) & (t <= x1) & ~np.isnan(v)
    col = np.minimum(((t[inside] - x0) / (x1 - x0) * columns).astype(int), columns - 1)
    lo = np.full(columns, np.inf)
    hi = np.full(columns, -np.inf)
    np.minimum.at(lo, col, v[inside])
    np.maximum.at(hi, col, v[inside])
    return lo, hi


def test_per_pixel_column_the_drawn_extremes_are_the_plain_grids(grids):
    """Peak downsampling keeps each column's min and max: what the plain grid draws there."""
    _, console, plain, _, _ = grids
    plain_items = _plain_curves(plain)
    x0, x1 = console.x_range
    columns = math.floor(console.charts[0].view_box.width())
    assert columns > 100
    for chart in console.charts:
        for curve in chart.curves:
            ct, cv = curve.item.getData()
            pt, pv = plain_items[curve.key].getData()
            c_lo, c_hi = _column_extremes(ct, cv, x0, x1, columns)
            p_lo, p_hi = _column_extremes(pt, pv, x0, x1, columns)

            # A downsampling bin may straddle two columns: compare over each column and its
            # neighbours, which is finer than a reader can tell apart.
            def spread(values, reduce):
                padded = np.concatenate([[values[0]], values, [values[-1]]])
                return reduce(np.vstack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)

            # The outermost columns are left out: a bin straddling the view's edge may have its
            # extreme just outside the view (the line still runs to it, across the edge).
            has_data = np.isfinite(p_hi)
            has_data[[0, -1]] = False
            assert np.all(spread(c_hi, np.max)[has_data] >= p_hi[has_data]), curve.key
            assert np.all(spread(c_lo, np.min)[has_data] <= p_lo[has_data]), curve.key
            # ... and never beyond what is there (drawn points are real samples).
            visible = cv[(ct >= x0) & (ct <= x1)]
            assert np.nanmax(visible) <= np.max(p_hi[np.isfinite(p_hi)])
            assert np.nanmin(visible) >= np.min(p_lo[np.isfinite(p_lo)])


def test_the_y_range_shows_everything_the_plain_grid_shows(grids):
    _, console, plain, _, _ = grids
    plain_items = _plain_curves(plain)
    for chart in console.charts:
        (_, _), (y0, y1) = chart.view_box.viewRange()
        for curve in chart.curves:
            _, pv = plain_items[curve.key].getData()
            assert y0 <= 0.0 <= np.nanmin(pv)
            assert np.nanmax(pv) <= y1


def test_the_value_under_the_crosshair_is_the_stores(grids):
    session, console, _, range_s, now = grids
    for t in (now - range_s / 2, now - 17.0, now):
        console.set_cursor_time(t)
        for chart in console.charts:
            for curve in chart.curves:
                _, expected = session.store.value_at(curve.key, t)
                assert chart.readout[curve.key] == format_value(expected, chart.spec.unit)
    console.set_cursor_time(None)


def test_a_gap_in_the_data_stays_a_gap(grids):
    session, console, plain, _, _ = grids
    key = console.gap_key
    gap_times = session.store.window(key, 0, math.inf)[0][-LIVE_UPDATES:][GAP]
    curve = next(c for chart in console.charts for c in chart.curves if c.key == key)
    for item in (curve.item, _plain_curves(plain)[key]):
        t, v = item.getData()
        assert np.all(np.isnan(v[np.isin(t, gap_times)]))
        assert np.count_nonzero(np.isin(t, gap_times)) == len(gap_times)
