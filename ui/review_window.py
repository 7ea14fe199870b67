"""Review mode: a recorded incident in the console's main window, read-only, with a time cursor.

``ReviewWindow`` is the ``MainWindow`` on a ``console.review.ReviewSession`` (no sources, no
executor, no flight recorder), plus the review bar (``ui.review_bar``) at the bottom, the
recorded timeline and logs as side panels (``ui.review_panels``), the live Resources panel fed
the resource states recorded at the cursor, the Recovery tab (the criteria re-evaluated from the
recorded series, at the cursor), and Save snapshot (Ctrl+S).
The "● LIVE" toggle is removed (a recording is never live): Space plays and pauses instead.

``ReviewController`` owns the cursor: ``seek(t)`` moves the session's clock and ticks the bridge,
so every view re-renders exactly as after a live drain (the banner, status graph and findings
read ``session.health``, evaluated at the cursor); it pins the charts' cursor line, keeps it in
the visible range (paging the charts when the cursor leaves them), and moves the bar and panels.
Seeks while dragging are coalesced to ``SEEK_RATE_HZ``; playback asks for one seek per frame.

``ReviewBackground`` computes, on a worker thread with its own connection to the file, the
golden path's history for the bar's strip, then the recovery criteria over the recording
(``console.criteria_history``), then the series' downsampling pyramids, so zooming out to the
whole recording later costs no SQL on the GUI thread.

Keys (also in F1): Space play/pause, ← / → 10 s, Shift+← / Shift+→ 1 min, Home / End, [ / ]
slower / faster, N / P next / previous timeline entry, 0 whole recording, 1/2/3 chart ranges,
T / L / R / C the Timeline / Logs / Resources / Recovery tab, Ctrl+S save a snapshot (or a time
range).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QToolBar, QWidget

from console.criteria_history import criteria_history
from console.durations import format_duration
from console.review import HealthHistory, ReviewSession, health_history
from console.snapshot import Snapshot, SnapshotError, open_snapshot
from console.units import format_clock
from ui.main_window import MainWindow
from ui.resource_panel import ResourcePanel
from ui.review_bar import FRAME_MS, MARKED_KINDS, ReviewBar, StripMark
from ui.review_panels import RecordedLogPanel, RecordedRecoveryPanel, RecordedTimelinePanel
from ui.session_bridge import SessionBridge
from ui.snapshot_saving import Chooser, SaveRange, SaveSnapshotAction, choose_save, range_label

#: Most cursor moves per second while the strip is dragged.
SEEK_RATE_HZ = 30
#: Golden-path samples over the recording for the strip (about one per pixel).
STRIP_SAMPLES = 1200
#: Where the cursor lands when the charts page to follow it (fraction of the visible range).
PAGE_LEAD = 0.1
#: Recordings up to this long open showing all of it; longer ones open on the chart range
#: (1 h) around the cursor, so the first frame reads an hour, not a day.
WHOLE_VIEW_UP_TO_S = 2 * 3600.0


class ReviewController(QObject):
    """Moves the review cursor and keeps every view in step with it."""

    cursor_moved = Signal(float)

    def __init__(
        self,
        session: ReviewSession,
        window: ReviewWindow,
        *,
        throttle: bool = True,
    ) -> None:
        super().__init__(window)
        self.session = session
        self.window = window
        self.bar = window.review_bar
        self._pending: float | None = None
        self._last_seek = 0.0
        self._throttle_timer: QTimer | None = None
        if throttle:
            self._throttle_timer = QTimer(self)
            self._throttle_timer.setSingleShot(True)
            self._throttle_timer.timeout.connect(self._apply_pending)
        self._event_times = [e.t for e in session.recorded_timeline]

    @property
    def cursor(self) -> float:
        return self.session.cursor

    def seek(self, t: float) -> None:
        """Put the cursor at ``t`` (clamped to the recording) and show everything there."""
        t = self.session.clamp(t)
        self._last_seek = time.monotonic()
        self.session.clock.set(t)
        grid = self.window.chart_grid
        with grid.batched():  # page, cursor line and refresh settle the charts once
            self.keep_in_view(t)
            # The cursor line first: the grid's read-outs, health and the refresh then all
            # read the series at t once (the store remembers one moment's readings).
            grid.set_cursor_time(t)
            self.window.bridge.tick_now()  # ReviewSession.drain evaluates at the cursor
        self.bar.show_cursor(t)
        self.window.timeline_panel.show_cursor(t)
        self.window.log_panel.show_cursor(t)
        self.cursor_moved.emit(t)

    def request_seek(self, t: float) -> None:
        """A seek that may be coalesced with the next ones (dragging): at most SEEK_RATE_HZ."""
        if self._throttle_timer is None:
            self.seek(t)
            return
        self._pending = t
        if self._throttle_timer.isActive():
            return
        wait = 1.0 / SEEK_RATE_HZ - (time.monotonic() - self._last_seek)
        self._throttle_timer.start(max(0, int(wait * 1000)))

    def _apply_pending(self) -> None:
        if self._pending is not None:
            t, self._pending = self._pending, None
            self.seek(t)

    def step(self, seconds: float) -> None:
        """Move the cursor by ``seconds`` (negative: back)."""
        self.seek(self.cursor + seconds)

    def advance(self, seconds: float) -> None:
        """Playback: move on by ``seconds``; pause at the end of the recording."""
        end = self.session.time_range[1]
        self.seek(self.cursor + seconds)
        if self.cursor >= end:
            self.bar.player.pause()

    def toggle_play(self) -> None:
        """Play or pause; playing from the very end starts again from the beginning."""
        player = self.bar.player
        if not player.playing and self.cursor >= self.session.time_range[1]:
            self.seek(self.session.time_range[0])
        player.toggle()

    def next_event(self, direction: int) -> None:
        """Jump to the next (1) or previous (-1) timeline entry."""
        times = self._event_times
        if direction > 0:
            index = bisect.bisect_right(times, self.cursor + 1e-6)
            if index < len(times):
                self.seek(times[index])
        else:
            index = bisect.bisect_left(times, self.cursor - 1e-6) - 1
            if index >= 0:
                self.seek(times[index])

    # -- the charts' visible range ---------------------------------------------------------------

    def keep_in_view(self, t: float) -> None:
        """Page the charts so that ``t`` is visible (the cursor near the left edge when moving
        forward, near the right when moving back); a visible cursor does not move them."""
        x0, x1 = self.window.chart_grid.x_range
        width = x1 - x0
        if width <= 0 or x0 <= t <= x1:
            return
        # No refresh here: the seek that called this ticks the bridge, which refreshes.
        if t > x1:
            self.show_time_range(t - PAGE_LEAD * width, t + (1 - PAGE_LEAD) * width, False)
        else:
            self.show_time_range(t - (1 - PAGE_LEAD) * width, t + PAGE_LEAD * width, False)

    def show_time_range(self, t0: float, t1: float, refresh: bool = True) -> None:
        """Show ``[t0, t1]`` on every chart (they share one X range)."""
        grid = self.window.chart_grid
        if grid.charts:
            grid.charts[0].view_box.setXRange(t0, t1, padding=0)
            if refresh:
                grid.refresh(self.cursor)
        self.window._show_range(float(round(t1 - t0)))  # no button stays lit for another width

    def fit_recording(self) -> None:
        """Show the whole recording on the charts."""
        start, end = self.session.time_range
        margin = max(1.0, 0.01 * (end - start))
        self.show_time_range(start - margin, end + margin)

    def show_range_around_cursor(self, seconds: float) -> None:
        """Show ``seconds`` centred on the cursor (a chart range key in review)."""
        self.show_time_range(self.cursor - seconds / 2, self.cursor + seconds / 2)

    def show_first_view(self) -> None:
        """The view a review opens on: the whole recording when it is short, else the chart
        range around the cursor, inside the recording as far as it goes."""
        start, end = self.session.time_range
        if end - start <= WHOLE_VIEW_UP_TO_S:
            self.fit_recording()
            return
        width = self.window.chart_grid.range_s
        t0 = min(max(self.cursor - (1 - PAGE_LEAD) * width, start), end - width)
        self.show_time_range(t0, t0 + width)


class ReviewBackground(QObject):
    """Slow work for the review off the GUI thread: the golden path's history, the pyramids,
    then the recovery criteria over the recording."""

    history_ready = Signal(object)
    criteria_progress = Signal(float)
    criteria_ready = Signal(object)
    criteria_failed = Signal(str)
    failed = Signal(str)

    def __init__(self, session: ReviewSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Evaluate the recovery criteria (a screenshot, which never shows them, skips it).
        self.with_criteria = True

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="review-background", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _evaluate_criteria(self, own: Snapshot, history_session: ReviewSession) -> None:
        try:
            criteria = criteria_history(
                own,
                history_session.workspace,
                history_session.stale_after(),
                *self.session.time_range,
                stop=self._stop,
                progress=self.criteria_progress.emit,
            )
        except Exception as exc:  # a fault barrier: reported, and the pyramids still come
            self.criteria_failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.criteria_ready.emit(criteria)

    def run(self) -> None:
        """The work itself (on the worker thread; tests may call it directly)."""
        try:
            own = open_snapshot(self.session.snapshot.path)
        except SnapshotError as exc:
            self.failed.emit(str(exc))
            return
        try:
            history_session = ReviewSession(own)
            history = health_history(
                history_session,
                *self.session.time_range,
                max_samples=STRIP_SAMPLES,
                refine_to_s=None,
                stop=self._stop,
            )
            self.history_ready.emit(history)
            # The pyramids first: scrubbing keeps up at 30 frames/s only with them, while the
            # Recovery tab says it is evaluating until its turn comes.
            self.session.review_store.build_pyramids(own, stop=self._stop)
            if self.with_criteria:
                self._evaluate_criteria(own, history_session)
        except SnapshotError as exc:
            self.failed.emit(str(exc))
        finally:
            own.close()


class ReviewWindow(MainWindow):
    """The main window on a recording: read-only, with the review bar, timeline and logs."""

    def __init__(
        self,
        session: ReviewSession,
        *,
        deterministic: bool = False,
        choose_save_target: Chooser = choose_save,
        parent: QWidget | None = None,
    ) -> None:
        bridge = SessionBridge(session, coalesce_ms=None)
        super().__init__(session, bridge, parent)
        self.review_session = session
        path = session.snapshot.path
        incident = session.workspace.incident
        self.setWindowTitle(f"REVIEW · {path.name} — {incident.title} — Incident Console")

        # A recording is never live: the LIVE toggle goes, Space plays instead.
        self.live_action.setShortcuts([])
        self.live_action.setEnabled(False)
        self.live_action.setVisible(False)
        self.chart_grid.set_live(False)
        self.chart_grid.paused_caption = "◆ REVIEW"
        # "incident for …" counts from the recorded start of the incident when there is one.
        recorded_start = session.snapshot.meta.get("incident_started_at")
        self._incident_start_known = recorded_start is not None
        if recorded_start is not None:
            self.banner.opened_at = float(recorded_start)

        start, end = session.time_range
        self.review_bar = ReviewBar(
            start, end, path.name, frame_ms=None if deterministic else FRAME_MS
        )
        bar_holder = QToolBar("Review")
        bar_holder.setMovable(False)
        bar_holder.setFloatable(False)
        bar_holder.addWidget(self.review_bar)
        bar_holder.setStyleSheet("QToolBar { padding: 0; border: none; }")
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, bar_holder)

        # Every recorded action marks its charts from the start, wherever the cursor begins.
        for entry in session.recorded_timeline:
            self.action_views.annotations.show_entry(entry)

        self.timeline_panel = RecordedTimelinePanel(session)
        self.log_panel = RecordedLogPanel(session)
        self.add_panel(self.timeline_panel, "Timeline", ["T"])
        self.add_panel(self.log_panel, "Logs", ["L"])
        # The live window's Resources panel, fed the states recorded at the cursor, and the
        # recovery criteria re-evaluated from the recorded series (read-only: no buttons).
        self.resource_panel = ResourcePanel(session, recorded=True)
        self.recovery_panel = RecordedRecoveryPanel(session)
        self.add_panel(self.resource_panel, "Resources", ["R"])
        self.add_panel(self.recovery_panel, "Recovery", ["C"])
        self.review_bar.strip.set_marks(
            [
                StripMark(e.t, e.kind, e.text)
                for e in session.recorded_timeline
                if e.kind in MARKED_KINDS
            ]
        )

        self.controller = ReviewController(session, self, throttle=not deterministic)
        self._build_review_actions()
        self.save_action = SaveSnapshotAction(
            self,
            source=lambda: session.snapshot.path,
            ranges=self._save_ranges,
            bounds=lambda: session.time_range,
            choose=choose_save_target,
            folder=lambda: path.parent,
        )

        self.background = ReviewBackground(session, self)
        self.background.history_ready.connect(self._show_history)
        self.background.criteria_progress.connect(self.recovery_panel.show_progress)
        self.background.criteria_ready.connect(self.recovery_panel.set_history)
        self.background.criteria_failed.connect(self.recovery_panel.show_failure)
        self.background.failed.connect(
            lambda message: self.statusBar().showMessage(f"✖ {message}", 15000)
        )
        self.history: HealthHistory | None = None
        self._deterministic = deterministic

        bar = self.review_bar
        bar.seek_requested.connect(self.controller.request_seek)
        bar.step_requested.connect(self.controller.step)
        bar.fit_requested.connect(self.controller.fit_recording)
        bar.play_requested.connect(self.controller.toggle_play)
        bar.player.advanced.connect(self.controller.advance)
        self.timeline_panel.seek_requested.connect(self.controller.seek)
        self.controller.cursor_moved.connect(self._show_cursor_panels)
        self.side_tabs.currentChanged.connect(lambda _index: self._show_cursor_panels())
        self._connect_chart_clicks()
        self.controller.show_first_view()
        self.controller.seek(session.cursor)

    def set_chart_range(self, seconds: float) -> None:
        """A range key: ``seconds`` around the review cursor (not "the last …": nothing is live)."""
        super().set_chart_range(seconds)
        self.controller.show_range_around_cursor(seconds)

    # -- set-up ----------------------------------------------------------------------------------

    def _build_review_actions(self) -> None:
        controller = self.controller
        player = self.review_bar.player
        for text, keys, tip, slot in (
            ("Play / pause", ["Space"], "Play or pause the recording", controller.toggle_play),
            ("Back 10 s", ["Left"], "Move the cursor 10 s back", lambda: controller.step(-10)),
            ("Forward 10 s", ["Right"], "Move the cursor 10 s on", lambda: controller.step(10)),
            (
                "Back 1 min",
                ["Shift+Left"],
                "Move the cursor 1 min back",
                lambda: controller.step(-60),
            ),
            (
                "Forward 1 min",
                ["Shift+Right"],
                "Move the cursor 1 min on",
                lambda: controller.step(60),
            ),
            (
                "Start",
                ["Home"],
                "To the start of the recording",
                lambda: controller.seek(self.review_session.time_range[0]),
            ),
            (
                "End",
                ["End"],
                "To the end of the recording",
                lambda: controller.seek(self.review_session.time_range[1]),
            ),
            ("Slower", ["["], "Play slower", player.slower),
            ("Faster", ["]"], "Play faster", player.faster),
            ("Next entry", ["N"], "To the next timeline entry", lambda: controller.next_event(1)),
            (
                "Previous entry",
                ["P"],
                "To the previous timeline entry",
                lambda: controller.next_event(-1),
            ),
            (
                "Whole recording",
                ["0"],
                "Show the whole recording on the charts",
                controller.fit_recording,
            ),
        ):
            action = self.add_action(text, keys, tip, toolbar=False)
            action.triggered.connect(slot)

    def _connect_chart_clicks(self) -> None:
        """A click (not a drag) on a chart puts the cursor there."""
        if not self.chart_grid.charts:
            return
        scene = self.chart_grid.charts[0].view_box.scene()

        def clicked(event) -> None:  # pyqtgraph's MouseClickEvent
            if event.button() != Qt.MouseButton.LeftButton:
                return
            for chart in self.chart_grid.charts:
                box = chart.view_box
                if box.sceneBoundingRect().contains(event.scenePos()):
                    self.controller.seek(float(box.mapSceneToView(event.scenePos()).x()))
                    return

        scene.sigMouseClicked.connect(clicked)

    def _save_ranges(self) -> list[SaveRange]:
        start, end = self.review_session.time_range
        x0, x1 = self.chart_grid.x_range
        x0, x1 = max(x0, start), min(x1, end)
        cursor = self.controller.cursor
        ranges = [SaveRange(range_label("The whole recording", start, end))]
        if x1 > x0:
            ranges.append(SaveRange(range_label("The visible chart range", x0, x1), x0, x1))
        if cursor > start:
            ranges.append(
                SaveRange(range_label("From the start to the cursor", start, cursor), start, cursor)
            )
        return ranges

    def _show_cursor_panels(self, t: float | None = None) -> None:
        """The Resources and Recovery tabs at the cursor (only the one in front does any work;
        the other catches up when it is brought to the front)."""
        t = self.controller.cursor if t is None else t
        if self.side_tabs.currentWidget() is self.resource_panel:
            self.resource_panel.show_resources(
                self.review_session.resources, t, empty_text=self._no_resources_text(t)
            )
        self.recovery_panel.show_cursor(t)

    def _no_resources_text(self, t: float) -> str:
        first = self.review_session.recorded_resources.first_time()
        if first is None:
            return (
                "No resource state in this recording: revisions, traffic and limits are recorded "
                "when a source reports them (the demo, or the Cloud Run state source)."
            )
        return (
            f"No resource state read yet at the cursor: the first was read at {format_clock(first)}"
            f", {format_duration(max(0.0, first - t))} later."
        )

    # -- background ------------------------------------------------------------------------------

    def start_background(self) -> None:
        """Start the worker (after the first paint); deterministic windows run it inline."""
        if self._deterministic:
            self.background.run()
        else:
            self.background.start()

    def _show_history(self, history: HealthHistory) -> None:
        self.history = history
        broken = history.broken_spans()
        if not self._incident_start_known and broken:
            self.banner.opened_at = broken[0].start  # the golden path's first break
            self.banner.set_now(self.controller.cursor)
        names = {sid: s.name for sid, s in self.review_session.workspace.services.items()}
        step = history.step_s
        note = f"golden path sampled every {step:.0f} s" if step >= 1 else "golden path"
        self.review_bar.strip.set_spans(history.spans, names, note)
        self.review_bar.strip.setToolTip(
            f"Golden path over the recording ({note}). Click or drag to move the time cursor."
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        self.review_bar.player.pause()
        self.background.stop()
        self.save_action.saver.wait(60)
        super().closeEvent(event)


def open_review_window(
    path: Path,
    *,
    at: float | None = None,
    deterministic: bool = False,
    choose_save_target: Chooser = choose_save,
) -> ReviewWindow:
    """Open ``path`` read-only and build its review window (not shown). Raises
    ``SnapshotError`` (one line) for a file that is not a readable snapshot."""
    snapshot: Snapshot = open_snapshot(path)
    try:
        session = ReviewSession(snapshot, at=at)
        window = ReviewWindow(
            session, deterministic=deterministic, choose_save_target=choose_save_target
        )
    except BaseException:
        snapshot.close()
        raise
    window.destroyed.connect(lambda *_: _close_quietly(snapshot))
    return window


def _close_quietly(snapshot: Snapshot) -> None:
    with contextlib.suppress(Exception):
        snapshot.close()


def show_review_window(app: QApplication, path: Path, *, at: float | None = None) -> ReviewWindow:
    """Open, size and show the review of ``path``; the background work starts after the first
    paint. Raises ``SnapshotError`` for a bad file."""
    window = open_review_window(path, at=at)
    screen = app.primaryScreen()
    if screen is not None:
        available = screen.availableGeometry()
        window.resize(min(1600, available.width()), min(1000, available.height()))
    window.show()
    QTimer.singleShot(0, window.start_background)
    return window


def run_review(path: Path, *, at: float | None = None) -> int:
    """Show the review of ``path`` until its window closes; returns the event loop's code."""
    from ui.app import _has_display, application

    if os.environ.get("QT_QPA_PLATFORM") is None and not _has_display():
        raise RuntimeError(
            "no display to open a window on (DISPLAY is not set). Use "
            "`incident-console open FILE --screenshot OUT.png` or `report` instead."
        )
    app = application()
    window = show_review_window(app, path, at=at)
    try:
        return int(app.exec())
    finally:
        window.close()
        window.deleteLater()


def render_review_screenshot(
    path: Path, output: Path, size: tuple[int, int] = (1600, 1000), at: float | None = None
) -> None:
    """Render the review of ``path`` with the cursor at ``at`` (default: the end) to the PNG
    ``output``, offscreen; the golden-path strip is computed first. Raises ``OSError`` when the
    file cannot be written."""
    from ui.app import LAYOUT_ROUNDS, _has_display, application

    if not _has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = application()
    window = open_review_window(path, at=at, deterministic=True)
    try:
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        window.resize(*size)
        window.show()
        window.background.with_criteria = False  # the Recovery tab is not in the picture
        window.start_background()
        window.controller.seek(window.controller.cursor)
        for _ in range(LAYOUT_ROUNDS):
            app.processEvents()
        if not window.grab().save(str(output), "PNG"):
            raise OSError(f"cannot write {output} (not writable, or not a PNG name?)")
    finally:
        window.close()
        window.deleteLater()
