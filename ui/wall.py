"""The war-room wall: a separate, read-only, fullscreen window that rotates through pages.

``WallWindow`` arranges the frame of ``ui.wall_frame`` (a header with the incident, the page
shown and the three honest numbers: how long the incident has lasted, how old the data is, the
clock; the alert banner: STALE with the time of the last good data, source errors, no data yet,
from ``console.freshness``; a footer with every page's status symbol, the rotation, READ-ONLY)
around the pages (``ui.wall_pages``, ``ui.wall_workflow_pages``). When any data is stale a
hatched frame in the stale colour runs round the whole wall as well. It has no menu, no
toolbar, no button and no action executor: the session it shows is built read-only
(``build_session(..., read_only=True)``).

Time: the clock, ages and staleness come from the session's clock on the bridge's 1 s tick;
page rotation runs on ``monotonic`` (real seconds; tests pass a virtual clock's ``now``) and is
checked on the same tick, so the wall owns no timer but the cursor's idle timer and the help's
auto-close.

Keys: Right/Left next/previous page, 1–9 go to a page, Space pause rotation (it resumes by itself
after 5 minutes), P pin the page, F1 or ? the keys, Esc or Ctrl+Q quit. The mouse cursor hides
after ``CURSOR_IDLE_MS`` without movement.

Entry points (called by ``console.cli`` and ``console.review_commands`` through
``importlib``): ``run_wall`` (fullscreen on a chosen screen, live), ``render_wall_screenshot``
(offscreen PNG of one page or all pages), and for a recording (``open FILE --wall``, always
marked NOT LIVE) ``run_wall_review`` and ``render_wall_review_screenshot``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QScreen,
)
from PySide6.QtWidgets import QApplication, QLayout, QStackedWidget, QVBoxLayout, QWidget

from console.clock import SystemClock
from console.durations import format_duration
from console.freshness import (
    FreshnessAlert,
    FreshnessReport,
    FreshnessWatch,
    clock_text,
    freshness_alerts,
)
from console.session import Session, SessionUpdate
from console.session_factory import build_session
from console.workspace import Workspace
from ui.app import (
    _has_display,
    application,
    offscreen_application,
    polled_session,
    save_settled_grab,
    show_offscreen,
)
from ui.session_bridge import COALESCE_MS, SessionBridge
from ui.theme import BACKGROUND, STATUS_STYLES, qcolor
from ui.wall_frame import (
    CURSOR_IDLE_MS,
    AlertBanner,
    CursorHider,
    HelpOverlay,
    WallFooter,
    WallHeader,
    draw_hatch,
)
from ui.wall_pages import WallPage, build_pages
from ui.wall_rotation import PageRotation
from ui.wall_style import WallScale
from ui.wall_workflow_pages import workflow_pages

#: Seconds each page stays before the next one comes (``--rotate``).
DEFAULT_ROTATE_S = 20.0


class WallScreenError(ValueError):
    """The ``--screen`` or ``--page`` asked for does not exist (bad input: exit code 2)."""


# -- the window ------------------------------------------------------------------------------


class WallWindow(QWidget):
    """The wall for one read-only session."""

    def __init__(
        self,
        session: Session,
        bridge: SessionBridge,
        *,
        rotate_s: float = DEFAULT_ROTATE_S,
        extra_pages: Sequence[WallPage] = (),
        monotonic: Callable[[], float] = time.monotonic,
        cursor_idle_ms: int = CURSOR_IDLE_MS,
        recording: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if not session.read_only:
            raise ValueError("the wall shows read-only sessions only: build them read_only=True")
        self.session = session
        self.bridge = bridge
        self.monotonic = monotonic
        self.setWindowTitle(f"{session.workspace.incident.title} — Wall — Incident Console")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.scale = WallScale(1920, 1080)
        self.freshness_watch = FreshnessWatch(session)
        self.freshness: FreshnessReport | None = None
        self.stale_frame = False

        #: What is shown when the session is a recording (``open FILE --wall``), else None.
        self.recording = recording
        self.header = WallHeader(session, self.scale)
        self.header.recording = recording is not None
        self.alert_banner = AlertBanner(self.scale)
        early, late = workflow_pages(session, self.scale)
        self.pages: list[WallPage] = build_pages(session, self.scale, early, [*late, *extra_pages])
        self.stack = QStackedWidget()
        for page in self.pages:
            self.stack.addWidget(page)
        self.footer = WallFooter(self.scale)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.alert_banner)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.footer)
        # The wall's size is the screen's: its parts never ask the window to grow or shrink
        # (and platforms without size hints, like offscreen, are not asked).
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self._layout = layout

        #: Page indices per footer tab: the overview, then each service's pages.
        self.tabs: list[list[int]] = []
        for index, page in enumerate(self.pages):
            if self.tabs and self.pages[self.tabs[-1][0]].group == page.group:
                self.tabs[-1].append(index)
            else:
                self.tabs.append([index])
        self.rotation = PageRotation(len(self.pages), rotate_s, monotonic())
        self.help_overlay = HelpOverlay(self, self.scale)
        self.cursor_hider = CursorHider(self, cursor_idle_ms)
        self._build_actions()
        self._last_now = session.clock.now()

        bridge.updated.connect(self._on_session_update)
        bridge.ticked.connect(self._on_tick)
        self._show_page(0)
        self.header.set_now(self._last_now)
        self._show_honesty(self._last_now)

    # -- keys -----------------------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.key_actions: list[QAction] = []

        def add(keys: list[str], handler: Callable[[], object], text: str) -> QAction:
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _=False: handler())
            self.addAction(action)
            self.key_actions.append(action)
            return action

        add(["Right"], self.next_page, "Next page")
        add(["Left"], self.previous_page, "Previous page")
        add(["Space"], self.toggle_pause, "Pause rotation")
        add(["P"], self.toggle_pin, "Pin page")
        add(["F1", "?"], self.help_overlay.toggle, "Keys")
        add(["Esc"], self._escape, "Close keys or quit")
        add(["Ctrl+Q"], self.close, "Quit")
        for number in range(1, min(9, len(self.tabs)) + 1):
            add([str(number)], lambda n=number: self.go_to_tab(n - 1), f"Tab {number}")

    def _escape(self) -> None:
        if self.help_overlay.isVisible():
            self.help_overlay.hide()
        else:
            self.close()

    # -- pages ----------------------------------------------------------------------------------

    @property
    def page_index(self) -> int:
        """The index of the page shown (0: the overview)."""
        return self.rotation.current

    @property
    def current_page(self) -> WallPage:
        """The page shown."""
        return self.pages[self.rotation.current]

    def next_page(self) -> None:
        """Show the next page (Right)."""
        self._show_page(self.rotation.next(self.monotonic()))

    def previous_page(self) -> None:
        """Show the previous page (Left)."""
        self._show_page(self.rotation.previous(self.monotonic()))

    def go_to_page(self, index: int) -> None:
        """Show page ``index`` (0-based). Raises ``IndexError`` when there is no such page."""
        self._show_page(self.rotation.go_to(index, self.monotonic()))

    def go_to_tab(self, index: int) -> None:
        """Show the first page of footer tab ``index`` (0-based; the number keys)."""
        self.go_to_page(self.tabs[index][0])

    @property
    def tab_index(self) -> int:
        """The footer tab of the page shown."""
        return next(i for i, pages in enumerate(self.tabs) if self.page_index in pages)

    def toggle_pause(self) -> bool:
        """Pause the rotation or resume it (Space); returns True if now paused."""
        paused = self.rotation.toggle_pause(self.monotonic())
        self._show_footer()
        return paused

    def toggle_pin(self) -> bool:
        """Pin the page shown or release it (P); returns True if now pinned."""
        pinned = self.rotation.toggle_pin(self.monotonic())
        self._show_footer()
        return pinned

    def _show_page(self, index: int) -> None:
        page = self.pages[index]
        if self.stack.currentWidget() is not page:
            self.stack.setCurrentWidget(page)
        self.header.set_page(page.title, page.subtitle)
        page.refresh(self._last_now)
        self._show_footer()

    def rotation_text(self) -> str:
        """The footer's word on the rotation: ``▶ next in 12s``, ``❚❚ PAUSED …``."""
        state = self.rotation.state(self.monotonic())
        if state.mode == "pinned":
            return "⚑ PINNED (P releases)"
        if state.mode == "paused":
            return f"❚❚ PAUSED · resumes in {format_duration(state.seconds_left or 0)}"
        if state.mode == "off":
            return "rotation off"
        return f"▶ next page in {format_duration(state.seconds_left or 0)}"

    def _show_footer(self) -> None:
        tabs = [
            (self.pages[pages[0]].group_title, self.pages[pages[0]].page_status())
            for pages in self.tabs
        ]
        current = self.tab_index
        pages = self.tabs[current]
        part = f"{pages.index(self.page_index) + 1}/{len(pages)}" if len(pages) > 1 else ""
        self.footer.show_state(tabs, current, part, self.rotation_text())

    # -- session --------------------------------------------------------------------------------

    def _on_session_update(self, update: SessionUpdate) -> None:
        for page in self.pages:
            page.on_session_update(update)
        if update.statuses_changed or update.changed_keys:
            self._show_honesty(self.session.clock.now())
        if update.health_changed:
            self._show_footer()

    def _on_tick(self, now: float) -> None:
        self._last_now = now
        if self.rotation.advance_if_due(self.monotonic()):
            self._show_page(self.rotation.current)
        else:
            self.current_page.refresh(now)
        self.header.set_now(now)
        self._show_honesty(now)
        self._show_footer()

    def _show_honesty(self, now: float) -> None:
        report = self.freshness_watch.assess(now)
        self.freshness = report
        alerts = freshness_alerts(report, self.session.workspace)
        if self.recording is not None:
            # A recording is never live: said first and always, whatever its data looked like.
            alerts.insert(
                0,
                FreshnessAlert(
                    "recording",
                    f"● RECORDING · NOT LIVE · {self.recording}",
                    f"Shown as it was at {clock_text(now, now)} "
                    f"({datetime.fromtimestamp(now).astimezone():%a %d %b %Y}).",
                ),
            )
        self.alert_banner.show_alerts(alerts)
        self.header.show_freshness(report)
        self._set_stale_frame(bool(report.stale_services))

    @property
    def alert_headlines(self) -> list[str]:
        """The banner's headlines as shown (empty when everything is live)."""
        return self.alert_banner.headlines if self.alert_banner.isVisibleTo(self) else []

    def _set_stale_frame(self, stale: bool) -> None:
        if stale == self.stale_frame:
            return
        self.stale_frame = stale
        margin = self.scale.px(12) if stale else 0
        self._layout.setContentsMargins(margin, margin, margin, margin)
        self.update()

    # -- Qt -------------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect())
        if self.stale_frame:
            painter.fillRect(rect, qcolor(STATUS_STYLES["stale"].fill))
            draw_hatch(painter, rect, "#000000", self.scale.px(34), self.scale.px(9))
        else:
            painter.fillRect(rect, qcolor(BACKGROUND))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        scale = WallScale(self.width(), self.height())
        if scale == self.scale:
            return
        self.scale = scale
        for part in (self.header, self.alert_banner, self.footer, self.help_overlay):
            part.set_scale(scale)
        for page in self.pages:
            page.set_scale(scale)
        if self.stale_frame:
            margin = scale.px(12)
            self._layout.setContentsMargins(margin, margin, margin, margin)
        if self.help_overlay.isVisible():
            self.help_overlay.setGeometry(self.rect())

    def closeEvent(self, event: QCloseEvent) -> None:
        self.cursor_hider.release()
        super().closeEvent(event)


# -- entry points ----------------------------------------------------------------------------


def choose_screen(app: QApplication, screen: int | None) -> QScreen | None:
    """The screen numbered ``screen`` (1 = the first), or the primary one when None.

    Raises ``WallScreenError`` naming the screens there are when ``screen`` does not exist.
    """
    screens = app.screens()
    if screen is None:
        return app.primaryScreen()
    if not 1 <= screen <= len(screens):
        listing = ", ".join(
            f"{i} = {s.name() or 'screen'} {s.geometry().width()}x{s.geometry().height()}"
            for i, s in enumerate(screens, start=1)
        )
        raise WallScreenError(
            f"there is no screen {screen}: this display has {len(screens)} "
            f"({listing}). Pick one with --screen N."
        )
    return screens[screen - 1]


def show_wall(
    app: QApplication,
    session: Session,
    *,
    screen: int | None = None,
    rotate_s: float = DEFAULT_ROTATE_S,
) -> tuple[WallWindow, SessionBridge]:
    """Show the wall fullscreen on ``screen`` for a live read-only session; its worker threads
    start after the first paint. Shared by ``run_wall`` and the CPU benchmark."""
    target = choose_screen(app, screen)
    bridge = SessionBridge(session)
    window = WallWindow(session, bridge, rotate_s=rotate_s)
    _fill_screen(window, target)
    QTimer.singleShot(0, bridge.start)
    return window, bridge


def _fill_screen(window: QWidget, target: QScreen | None) -> None:
    """Show ``window`` fullscreen on ``target``."""
    if target is not None:
        window.setGeometry(target.geometry())
        window.winId()  # creates the native window, so it can be put on the screen
        handle = window.windowHandle()
        if handle is not None:
            handle.setScreen(target)
    window.showFullScreen()


def run_wall(
    workspace: Workspace, *, screen: int | None = None, rotate_s: float = DEFAULT_ROTATE_S
) -> int:
    """Show the wall for ``workspace`` until it is closed (Esc, Ctrl+Q); returns the exit code.

    Raises ``WallScreenError`` for a screen that does not exist, ``NoSourcesError`` for a
    workspace without sources and ``RuntimeError`` without a display.
    """
    if os.environ.get("QT_QPA_PLATFORM") is None and not _has_display():
        raise RuntimeError(
            "no display to open the wall on (DISPLAY is not set). Use "
            "`incident-console screenshot --wall --output FILE.png` to render it instead."
        )
    app = application()
    choose_screen(app, screen)  # a bad --screen is refused before anything starts
    session = build_session(workspace, SystemClock(), read_only=True)
    window, bridge = show_wall(app, session, screen=screen, rotate_s=rotate_s)
    try:
        return int(app.exec())
    finally:
        bridge.stop()
        window.deleteLater()


def page_outputs(output: Path, page: int | None, page_count: int) -> list[tuple[int, Path]]:
    """``(page index, file)`` to render: page ``page`` (1-based) to ``output``, or every page
    to ``NAME-1.png``, ``NAME-2.png``… beside ``output`` when ``page`` is None."""
    if page is None:
        return [
            (index, output.with_name(f"{output.stem}-{index + 1}{output.suffix}"))
            for index in range(page_count)
        ]
    if not 1 <= page <= page_count:
        raise WallScreenError(f"there is no page {page}: the wall has pages 1..{page_count}")
    return [(page - 1, output)]


def _render_pages(
    app: QApplication,
    window: WallWindow,
    output: Path,
    size: tuple[int, int],
    page: int | None,
) -> list[Path]:
    """Show ``window`` offscreen at ``size`` and save page ``page`` (None: every page)."""
    targets = page_outputs(output, page, len(window.pages))
    show_offscreen(window, window.bridge, size)
    written: list[Path] = []
    for index, path in targets:
        window.go_to_page(index)
        save_settled_grab(app, window, path)
        written.append(path)
    return written


def render_wall_screenshot(
    workspace: Workspace,
    output: Path,
    size: tuple[int, int] = (1920, 1080),
    at_s: float = 0.0,
    page: int | None = 1,
) -> list[Path]:
    """Render wall page ``page`` (1-based; None: every page) offscreen to PNG, without threads.

    The sources are polled at the current time (their history) and again ``at_s`` later on a
    virtual clock. Returns the files written. Raises ``WallScreenError`` for a page that does
    not exist and ``OSError`` when a file cannot be written.
    """
    output = Path(output)
    app = offscreen_application(output)
    session = polled_session(workspace, at_s, read_only=True)
    window: WallWindow | None = None
    try:
        bridge = SessionBridge(session, coalesce_ms=None)
        window = WallWindow(session, bridge, rotate_s=0, monotonic=session.clock.now)
        return _render_pages(app, window, output, size, page)
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
        session.stop()


# -- a recording on the wall (``open FILE --wall``) ------------------------------------------


def recording_description(path: Path, time_range: tuple[float, float]) -> str:
    """``x.incident · recorded Fri 14 Mar 09:02–11:40``: what the recording banner names."""
    start = datetime.fromtimestamp(time_range[0]).astimezone()
    end = datetime.fromtimestamp(time_range[1]).astimezone()
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %d %b %H:%M}"
    return f"{path.name} · recorded {start:%a %d %b %H:%M}–{until}"


def open_wall_review(
    path: Path,
    *,
    at: float | None = None,
    rotate_s: float = DEFAULT_ROTATE_S,
    deterministic: bool = False,
) -> WallWindow:
    """The wall (not shown) for the recording at ``path``, its cursor at ``at`` (default: the
    end). The session is a ``ReviewSession``: read-only, no sources, no executor. The snapshot
    closes with the window. Raises ``SnapshotError`` for a file that is not a readable snapshot.
    """
    from console.review import ReviewSession
    from console.snapshot import open_snapshot

    snapshot = open_snapshot(path)
    try:
        session = ReviewSession(snapshot, at=at)
        bridge = SessionBridge(session, coalesce_ms=None if deterministic else COALESCE_MS)
        window = WallWindow(
            session,
            bridge,
            rotate_s=rotate_s,
            recording=recording_description(Path(path), session.time_range),
        )
    except BaseException:
        snapshot.close()
        raise
    # The incident's duration counts from the recording's start (a review session has no
    # simulation to say when the incident began).
    window.header.opened_at = session.time_range[0]
    window.header.set_now(session.clock.now())
    window.destroyed.connect(lambda *_: _close_quietly(snapshot))
    return window


def _close_quietly(snapshot: object) -> None:
    with contextlib.suppress(Exception):
        snapshot.close()  # type: ignore[attr-defined]


def run_wall_review(
    path: Path,
    *,
    at: float | None = None,
    screen: int | None = None,
    rotate_s: float = DEFAULT_ROTATE_S,
) -> int:
    """Show the recording at ``path`` on the wall, fullscreen, until it is closed."""
    if os.environ.get("QT_QPA_PLATFORM") is None and not _has_display():
        raise RuntimeError(
            "no display to open the wall on (DISPLAY is not set). Use "
            "`incident-console open FILE --wall --screenshot OUT.png` to render it instead."
        )
    app = application()
    target = choose_screen(app, screen)
    window = open_wall_review(path, at=at, rotate_s=rotate_s)
    _fill_screen(window, target)
    QTimer.singleShot(0, window.bridge.start)
    try:
        return int(app.exec())
    finally:
        window.bridge.stop()
        window.close()
        window.deleteLater()


def render_wall_review_screenshot(
    path: Path,
    output: Path,
    size: tuple[int, int] = (1920, 1080),
    at: float | None = None,
    page: int | None = 1,
) -> list[Path]:
    """Render the recording's wall page ``page`` (None: every page) offscreen to PNG."""
    output = Path(output)
    app = offscreen_application(output)
    window = open_wall_review(path, at=at, rotate_s=0, deterministic=True)
    try:
        return _render_pages(app, window, output, size, page)
    finally:
        window.close()
        window.deleteLater()
