"""Chart grid frame cost: the console's ``ChartGrid`` against a plain pyqtgraph grid, same data.

Both grids draw the same charts and curves: the plain grid is derived from the same chart
descriptions (``console.chart_specs.charts_for``) as the console's, one default ``PlotWidget`` per
chart (default auto-range, default settings, no downsampling, no clip-to-view) at the same row
(service) and column (chart) as in the console, one curve per plotted metric, handed the full
visible arrays on every update.

The workspace is synthetic: services of the real kinds chosen so that there are exactly **32
charts** with the most curves the real chart descriptions allow (today 5 Cloud Run services of 6
charts and 1 Cloud SQL of 2: **58 curves**, 1.8 a chart, since some charts plot one metric and
the latency chart three). Rather than invent charts, both grids draw exactly what the console
would draw for such a workspace; the table prints the curve count. Each series holds the
visible range at 1 s resolution (a smooth random walk with noise and rare spikes), and every
update appends one sample per curve. An update is timed from the new sample to the end of the
synchronous repaint of what changed: the console's ``refresh(now)`` or the plain grid's
``setData`` calls, then ``QApplication.processEvents()`` until the repaint is done (a paint
counter checks that both repainted). Both windows are 1920×1080, offscreen, shown at the same
time; updates alternate between them (and which one goes first) so both share the machine's
noise. Figures: median and p95 ms per update, at 1 h, 6 h and 24 h visible (24 h uses a store
of 24 h capacity; the console's default is 6 h).

    .venv/bin/python -m benchmarks.bench_chart_grid [--updates N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass

import numpy as np

from benchmarks.harness import percentile
from console.chart_specs import charts_for
from console.clock import VirtualClock
from console.metrics import ServiceKind
from console.session import Session
from console.sources import SeriesKey
from console.workspace import GoldenPathStep, Incident, Service, Workspace

T_END = 1_790_000_000.0
WINDOW_SIZE = (1920, 1080)
#: Visible ranges measured (seconds): 1 h, 6 h, 24 h.
RANGES_S: tuple[float, ...] = (3600.0, 6 * 3600.0, 24 * 3600.0)
CURVE_COLOURS = ("#4FC3F7", "#FFB74D", "#BA68C8")


#: Charts in the measured grid (the issue's 32 charts).
CHART_COUNT = 32
_KINDS: tuple[ServiceKind, ...] = ("cloud_run", "vpc_connector", "cloud_sql", "synthetic")


def _kind_counts(charts: int) -> dict[ServiceKind, int]:
    """How many services of each kind give exactly ``charts`` charts with the most curves."""
    best: tuple[int, dict[ServiceKind, int]] = (-1, {})

    def search(index: int, left: int, counts: dict[ServiceKind, int], curves: int) -> None:
        nonlocal best
        if left == 0:
            if curves > best[0]:
                best = (curves, dict(counts))
            return
        if index == len(_KINDS):
            return
        kind = _KINDS[index]
        specs = charts_for(kind)
        for n in range(left // len(specs), -1, -1):
            counts[kind] = n
            search(
                index + 1,
                left - n * len(specs),
                counts,
                curves + n * sum(len(spec.curves) for spec in specs),
            )
        counts.pop(kind, None)

    search(0, charts, {}, 0)
    return best[1]


def grid_workspace(charts: int = CHART_COUNT) -> Workspace:
    """Services of the real kinds giving exactly ``charts`` charts (the real chart descriptions),
    with as many curves as can be: today 5 Cloud Run services and 1 Cloud SQL."""
    services = []
    for kind, count in _kind_counts(charts).items():
        for i in range(count):
            services.append(Service(f"{kind}{i}", f"{kind} {i}", kind, f"{kind}-{i}"))
    steps = tuple(GoldenPathStep(s.id, s.name) for s in services[:2])
    return Workspace(Incident("chart grid benchmark"), {s.id: s for s in services}, steps)


def chart_keys(workspace: Workspace) -> list[list[SeriesKey]]:
    """Per chart, the series it plots, in the grid's order (the same for both grids)."""
    return [keys for _row, _col, keys in chart_cells(workspace)]


def chart_cells(workspace: Workspace) -> list[tuple[int, int, list[SeriesKey]]]:
    """Each chart's row (service), column and plotted series, as the console lays them out."""
    return [
        (row, col, [(service.id, curve.metric) for curve in spec.curves])
        for row, service in enumerate(workspace.services.values())
        for col, spec in enumerate(charts_for(service.kind))
    ]


def synthetic_values(rng: np.random.Generator, n: int, fraction: bool) -> np.ndarray:
    """A smooth random walk with noise and rare spikes (``fraction``: kept within 0..1)."""
    walk = np.cumsum(rng.normal(0, 1, n)) * 0.02
    values = 0.4 + 0.2 * np.sin(np.arange(n) / 900.0) + walk * 0.05 + rng.normal(0, 0.02, n)
    spikes = rng.random(n) < 0.002
    values[spikes] += rng.random(spikes.sum()) * 0.5
    values = np.clip(values, 0.0, 1.0)
    return values if fraction else values * 400.0


def filled_session(range_s: float, extra_s: int) -> tuple[Session, VirtualClock, dict]:
    """A session whose store holds ``range_s`` of 1 s samples for every plotted series, plus
    ``extra_s`` samples per series kept aside for the updates (``pending``)."""
    workspace = grid_workspace()
    capacity = max(6 * 3600, int(range_s) + extra_s)
    n = int(range_s)
    clock = VirtualClock(T_END)
    session = Session(workspace, clock, capacity=capacity)
    rng = np.random.default_rng(8)
    pending = {}
    times = T_END - n + 1 + np.arange(n + extra_s, dtype=np.float64)
    for keys in chart_keys(workspace):
        for key in keys:
            fraction = key[1].endswith(("utilization", "ratio"))
            values = synthetic_values(rng, n + extra_s, fraction)
            session.store.append(key, times[:n], values[:n])
            pending[key] = (times[n:], values[n:])
    return session, clock, pending


class PaintCounter:
    """Counts paint events of a widget tree's viewports (to check a repaint really happened)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QEvent, QObject

        counter = self

        class _Filter(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
                if event.type() == QEvent.Type.Paint:
                    counter.paints += 1
                return False

        self.paints = 0
        self.filter = _Filter()


class PlainGrid:
    """The baseline: one default ``PlotWidget`` per chart, full visible arrays every update."""

    def __init__(self, cells: list[tuple[int, int, list[SeriesKey]]]) -> None:
        import pyqtgraph as pg
        from PySide6.QtWidgets import QGridLayout, QWidget

        self.window = QWidget()
        layout = QGridLayout(self.window)
        self.curves: list[tuple[SeriesKey, pg.PlotDataItem]] = []
        self.plots: list[pg.PlotWidget] = []
        for row, col, keys in cells:
            plot = pg.PlotWidget()
            for i, key in enumerate(keys):
                item = plot.plot(pen=CURVE_COLOURS[i % len(CURVE_COLOURS)])
                self.curves.append((key, item))
            layout.addWidget(plot, row, col)
            self.plots.append(plot)

    def update(self, session: Session, now: float, range_s: float) -> None:
        """Hand every curve the full visible arrays ``[now - range, now]``."""
        for key, item in self.curves:
            t, v = session.store.window(key, now - range_s, now)
            item.setData(t.copy(), v.copy())


@dataclass
class GridFigures:
    """Milliseconds per update for one visible range."""

    range_s: float
    console_median: float
    console_p95: float
    plain_median: float
    plain_p95: float
    charts: int
    curves: int

    @property
    def ratio(self) -> float:
        """The console's median as a share of the plain grid's."""
        return self.console_median / self.plain_median


def _settle(app, painted: PaintCounter) -> None:
    """Process events until the repaint is over: the scene's deferred update posts the paint,
    so keep going until a pass paints nothing more (at least two passes, at most ten)."""
    for passes in range(10):
        before = painted.paints
        app.processEvents()
        if passes >= 1 and painted.paints == before:
            return


def run_range(range_s: float, updates: int = 60, warmup: int = 5) -> GridFigures:
    """Median and p95 ms per update of both grids at one visible range, interleaved."""
    from ui.app import application
    from ui.chart_grid import ChartGrid

    app = application()
    session, clock, pending = filled_session(range_s, updates + warmup + 1)
    console = ChartGrid(session)
    console.set_range(range_s)
    console.resize(*WINDOW_SIZE)
    plain = PlainGrid(chart_cells(session.workspace))
    plain.window.resize(*WINDOW_SIZE)
    painted = PaintCounter()
    app.installEventFilter(painted.filter)
    console.show()
    plain.window.show()
    console.refresh(T_END)
    plain.update(session, T_END, range_s)
    _settle(app, painted)

    def step_console(now: float) -> None:
        console.refresh(now)
        _settle(app, painted)

    def step_plain(now: float) -> None:
        plain.update(session, now, range_s)
        _settle(app, painted)

    timings: dict[str, list[float]] = {"console": [], "plain": []}
    paints: dict[str, int] = {"console": 0, "plain": 0}
    for i in range(updates + warmup):
        clock.advance(1.0)
        now = clock.now()
        for key, (t, v) in pending.items():
            session.store.append(key, t[i : i + 1], v[i : i + 1])
        order = (("console", step_console), ("plain", step_plain))
        if i % 2:
            order = order[::-1]
        for name, step in order:
            before = painted.paints
            start = time.perf_counter()
            step(now)
            elapsed = (time.perf_counter() - start) * 1000
            paints[name] += painted.paints > before
            if i >= warmup:
                timings[name].append(elapsed)
    app.removeEventFilter(painted.filter)
    if min(paints.values()) < updates + warmup:
        raise RuntimeError(f"updates that repainted, of {updates + warmup}: {paints}")
    console.hide()
    plain.window.hide()
    console.deleteLater()
    plain.window.deleteLater()
    app.processEvents()
    return GridFigures(
        range_s,
        statistics.median(timings["console"]),
        percentile(timings["console"], 0.95),
        statistics.median(timings["plain"]),
        percentile(timings["plain"], 0.95),
        len(plain.plots),
        len(plain.curves),
    )


def run(updates: int = 60) -> list[GridFigures]:
    """Figures for every visible range of ``RANGES_S``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return [run_range(range_s, updates) for range_s in RANGES_S]


def describe(figures: GridFigures) -> str:
    """One line for a range."""
    hours = figures.range_s / 3600
    return (
        f"chart grid {hours:g} h ({figures.charts} charts, {figures.curves} curves): "
        f"console {figures.console_median:.1f} ms "
        f"(p95 {figures.console_p95:.1f}), plain pyqtgraph {figures.plain_median:.1f} ms "
        f"(p95 {figures.plain_p95:.1f}), ratio {figures.ratio:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=60, help="timed updates per grid and range")
    for result in run(parser.parse_args().updates):
        print(describe(result))
