"""Windows opened by GUI tests: shown offscreen at a given size, exposed and active.

``show_for_test`` does it for any top-level widget; ``shown_main_window`` builds the live
``MainWindow`` on a session and its bridge first. ``offscreen_dialog`` marks a test that opens
dialogs offscreen.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from console.session import Session
from ui.main_window import MainWindow
from ui.session_bridge import SessionBridge

#: The offscreen platform cannot pass a dialog's size limits to a window system and says so
#: once per dialog; that says nothing about our code.
offscreen_dialog = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def show_for_test(qtbot, window: QWidget, size: tuple[int, int]) -> None:
    """Hand ``window`` to ``qtbot`` (closed after the test), show it at ``size``, wait until
    it is exposed and make it the active window (so its shortcuts work)."""
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()


def shown_main_window(
    qtbot, session: Session, bridge: SessionBridge, size: tuple[int, int] = (1280, 800)
) -> MainWindow:
    """The main window on ``session`` and ``bridge``, shown for the test (``show_for_test``)."""
    window = MainWindow(session, bridge)
    show_for_test(qtbot, window, size)
    return window
