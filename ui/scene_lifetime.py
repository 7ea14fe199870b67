"""Deterministic end of life for pyqtgraph scenes: taking a chart scene apart when its window
closes, instead of leaving it to Python's cyclic garbage collector.

Why: a pyqtgraph item is a Qt object with Python code behind its virtual methods
(``InfiniteLine.boundingRect``, ``itemChange``…). When a closed chart view is left to the
cyclic collector, Python may clear the item's Python state, or free its Python object, while
Qt still holds the item in a scene and calls those methods (a repaint, the scene's own
destructor): the process dies inside ``InfiniteLine.boundingRect``. Taking the scene apart
while every Python object is alive and intact leaves nothing for the collector to get wrong.

- ``release_plot_scene(view)``: every item added to a view box (curves, crosshairs, threshold
  and annotation lines) is removed from its view box and the scene, so from then on Python alone
  owns it and a free-standing item can be collected at any time; then the scene deletes what is
  left (view boxes, axes, layouts) and the view is closed as pyqtgraph closes it.
- ``WindowCloseHook(widget, callback)``: calls ``callback`` once when the top-level window that
  holds ``widget`` is closed (the widget itself, if it is a window), following the widget as it
  is put into other widgets. The chart grid and the wall's charts tear themselves down with it.
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


def release_plot_scene(view: pg.GraphicsView) -> None:
    """Take ``view``'s scene apart now (see the module docstring); idempotent."""
    if getattr(view, "closed", False):
        return
    scene = view.scene()
    if scene is not None:
        for item in scene.items():
            if isinstance(item, pg.ViewBox):
                # Every child, not just ``addedItems`` (lines are added with ignoreBounds).
                for added in item.childGroup.childItems():
                    item.removeItem(added)  # out of the scene and reparented to None
    # pyqtgraph's own close: clears the scene (deleting the remaining items while their
    # Python objects are alive), forgets the central item and marks the view closed, so a
    # late resize or paint does not touch deleted items.
    pg.GraphicsView.close(view)


class WindowCloseHook(QObject):
    """Calls back once when the window holding ``widget`` is closed (a close that was accepted).

    A close is seen as Qt performs it: the window gets its close event and, when the close is
    accepted, is hidden at once. A window that is closed while already hidden counts as closed
    (no window of this application refuses a close). Minimising or hiding a window is not a
    close.
    """

    def __init__(self, widget: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._callback: Callable[[], None] | None = callback
        self._window: QWidget | None = None
        self._closing = False
        widget.installEventFilter(self)
        self._attach()

    def detach(self) -> None:
        """Stop watching (the callback will not be called)."""
        self._callback = None
        self._widget.removeEventFilter(self)
        if self._window is not None and self._window is not self._widget:
            self._window.removeEventFilter(self)
        self._window = None

    def _attach(self) -> None:
        window = self._widget.window()
        if window is self._window:
            return
        if self._window is not None and self._window is not self._widget:
            self._window.removeEventFilter(self)
        self._window = window
        if window is not self._widget:
            window.installEventFilter(self)

    def _fire(self) -> None:
        callback = self._callback
        self.detach()
        if callback is not None:
            callback()

    def _forget_close(self) -> None:
        self._closing = False  # the close was refused: no hide followed it

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ParentChange:
            self._attach()  # the widget (or its window) now lives in another window
        elif watched is self._window:
            if kind == QEvent.Type.Close:
                if self._window.isHidden():
                    self._fire()
                else:
                    self._closing = True
                    QTimer.singleShot(0, self._forget_close)
            elif kind == QEvent.Type.Hide and self._closing:
                self._fire()
        return False


__all__ = ["WindowCloseHook", "release_plot_scene"]
