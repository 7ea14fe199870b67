"""A column of cards that scrolls vertically: the side panels' shared frame (resources, recovery).

The panels beside the status graph are narrow and tall; their cards wrap to the panel's width and
scroll only up and down, without a frame of their own (the tab is the frame).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


def scroll_column(body: QWidget) -> QScrollArea:
    """A frameless scroll area around ``body`` that scrolls vertically only and fits its width."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(body)
    return scroll


__all__ = ["scroll_column"]
