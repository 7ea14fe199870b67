"""Entry points the command line calls (through ``importlib``): the window, and a screenshot.

``run_gui`` opens the console on a workspace: the window is shown first, then the session's
worker threads start, and the GUI thread only drains and paints. ``render_screenshot`` renders
the same window offscreen to a PNG with a virtual clock and no threads (the sources are polled
synchronously), for the ``screenshot`` command, the README image and the tests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from console.clock import SystemClock, VirtualClock
from console.session import Session
from console.session_factory import NoSourcesError, build_session
from console.workspace import Workspace
from console.workspace_toml import demo_workspace_path, load_workspace
from ui.error_dialog import ask_to_open_demo
from ui.flight_recording import (
    AskUnfinished,
    FlightRecording,
    ask_about_unfinished,
    offer_unfinished_recordings,
    show_reopened_recordings,
)
from ui.main_window import MainWindow
from ui.session_bridge import SessionBridge
from ui.theme import APP_STYLESHEET

APP_NAME = "Incident Console"
#: Exit code when the workspace cannot be used and the user declined the demo.
EXIT_BAD_INPUT = 2
#: Rounds of event processing that let a fresh window lay out and paint before it is grabbed.
LAYOUT_ROUNDS = 4


def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def application() -> QApplication:
    """The running QApplication, created (named and styled) on first use."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "incident-console"])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("incident-console")  # matches packaging/incident-console.desktop
    app.setStyleSheet(APP_STYLESHEET)
    app.setWindowIcon(application_icon())
    return app


def application_icon() -> QIcon:
    """The console's icon in every shipped size (resources/icons, made from its SVG)."""
    icon = QIcon()
    folder = resources.files("resources") / "icons"
    for size in (16, 32, 48, 64, 128, 256, 512):
        with resources.as_file(folder / f"incident-console-{size}.png") as path:
            icon.addFile(str(path))
    return icon


def _open_session(
    workspace: Workspace | None,
    config_error: str | None,
    ask: Callable[[str], bool],
    read_only: bool = False,
) -> Session | None:
    """The session to show, or None when the workspace is unusable and the demo was declined."""
    if config_error is not None and not ask(config_error):
        return None
    if workspace is None or config_error is not None:
        workspace = load_workspace(demo_workspace_path())
    try:
        return build_session(workspace, SystemClock(), read_only=read_only)
    except NoSourcesError as exc:
        if not ask(str(exc)):
            return None
        demo = load_workspace(demo_workspace_path())
        return build_session(demo, SystemClock(), read_only=read_only)


def run_gui(
    workspace: Workspace | None,
    *,
    config_error: str | None = None,
    ask_open_demo: Callable[[str], bool] = ask_to_open_demo,
    autosave: bool = True,
    ask_unfinished: AskUnfinished = ask_about_unfinished,
    read_only: bool = False,
) -> int:
    """Show the console on ``workspace`` (the demo when None) until the window closes.

    ``read_only`` (``--read-only``) builds the session without an action executor: the window
    then offers nothing that changes the cloud.

    ``config_error`` is the text of a workspace that failed to load: it is shown in a dialog that
    offers the demo instead (``ask_open_demo``, replaceable in tests). With ``autosave`` the
    flight recorder records the session into the autosave folder (``ui.flight_recording``), and
    recordings a crashed run left unfinished are offered first (``ask_unfinished``; Reopen opens
    a review window beside the live one). Returns the exit code: the event loop's, or 2 when the
    workspace is unusable and the demo was declined.
    """
    if os.environ.get("QT_QPA_PLATFORM") is None and not _has_display():
        raise RuntimeError(
            "no display to open a window on (DISPLAY is not set). Use "
            "`incident-console screenshot --output FILE.png` or `status` instead."
        )
    app = application()
    session = _open_session(workspace, config_error, ask_open_demo, read_only)
    if session is None:
        return EXIT_BAD_INPUT
    reopen = offer_unfinished_recordings(ask_unfinished) if autosave else []
    window, bridge = show_live_window(app, session)
    recording = FlightRecording(window, session, enabled=autosave)  # before the sources start
    reviews = show_reopened_recordings(app, reopen, window)
    try:
        return int(app.exec())
    finally:
        bridge.stop()
        recording.stop()
        for review in reviews:
            review.close()
        window.deleteLater()


def show_live_window(app: QApplication, session: Session) -> tuple[MainWindow, SessionBridge]:
    """Build and show the window for a live session; its worker threads start after first paint.

    Shared by ``run_gui`` and the cold-start benchmark, so the benchmark measures this path.
    """
    bridge = SessionBridge(session)
    window = MainWindow(session, bridge)
    screen = app.primaryScreen()
    if screen is not None:
        available = screen.availableGeometry()
        window.resize(min(1600, available.width()), min(1000, available.height()))
    window.show()
    # Worker threads start once the event loop runs, i.e. after the window's first paint.
    QTimer.singleShot(0, bridge.start)
    return window, bridge


def render_screenshot(
    workspace: Workspace,
    output: Path,
    size: tuple[int, int] = (1600, 1000),
    at_s: float = 0.0,
) -> None:
    """Render the main window for ``workspace`` to the PNG ``output``, offscreen, without threads.

    The sources are polled once at the current time (their history), then, when ``at_s`` > 0,
    again after a virtual clock has moved ``at_s`` seconds on. Raises ``OSError`` when the file
    cannot be written.
    """
    output = Path(output)
    app = offscreen_application(output)
    session = polled_session(workspace, at_s)
    window: MainWindow | None = None
    try:
        bridge = SessionBridge(session, coalesce_ms=None)
        window = MainWindow(session, bridge)
        show_offscreen(window, bridge, size)
        save_settled_grab(app, window, output)
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
        session.stop()


# -- offscreen renders (the ``screenshot`` command, of the window and of the wall) ------------


def offscreen_application(output: Path) -> QApplication:
    """The application for an offscreen render to ``output``; raises ``OSError`` when the
    folder of ``output`` does not exist (before anything is built)."""
    if not output.parent.is_dir():
        raise OSError(f"cannot write {output}: folder {output.parent} does not exist")
    if not _has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return application()


def polled_session(workspace: Workspace, at_s: float = 0.0, *, read_only: bool = False) -> Session:
    """A session for a render: on a virtual clock set to now, its sources polled once (their
    history) and, when ``at_s`` > 0, again ``at_s`` seconds later; no threads."""
    clock = VirtualClock(SystemClock().now())
    session = build_session(workspace, clock, read_only=read_only)
    try:
        session.poll_sources()
        if at_s > 0:
            clock.advance(at_s)
            session.poll_sources()
    except BaseException:
        session.stop()
        raise
    return session


def show_offscreen(window: QWidget, bridge: SessionBridge, size: tuple[int, int]) -> None:
    """Show ``window`` at ``size`` without putting it on a screen, and give it the session."""
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.resize(*size)
    window.show()
    bridge.tick_now()


def save_settled_grab(app: QApplication, widget: QWidget, output: Path) -> None:
    """Let ``widget`` lay out and paint, then save it to the PNG ``output`` (``OSError`` if
    that fails)."""
    for _ in range(LAYOUT_ROUNDS):
        app.processEvents()
    if not widget.grab().save(str(output), "PNG"):
        raise OSError(f"cannot write {output} (not writable, or not a PNG name?)")
