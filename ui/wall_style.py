"""How the wall is sized and drawn: sizes from the window height, fonts, and the drawn pieces
(elided text, pills, status tiles, the hatched "not live" fill) its painted widgets share.

Everything on the wall is sized from ``WallScale``: a pixel size given for a 1080-line screen is
multiplied by the window's height / 1080 (by the width / 1920 on screens narrower than 16:9, so
nothing is clipped there), so the wall looks the same from 1920×1080 to 3840×2160, only sharper.
Status is drawn as everywhere else in the console: the word and symbol of ``ui.theme`` and the
shape of ``ui.status_graph.status_outline``, never by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen

from ui.status_graph import status_outline, status_pen
from ui.theme import PANEL, STATUS_STYLES, TEXT, TEXT_DIM, qcolor

#: The height the design sizes are given for.
DESIGN_HEIGHT = 1080.0
DESIGN_WIDTH = 1920.0

#: Text sizes in pixels on a 1080-line wall (about 2.5 mm per pixel line on a 65" screen).
HEADLINE_PX = 52  # status words, the clock
TITLE_PX = 40  # the incident title, page titles, tile labels
LARGE_PX = 34  # chart values, verdict lines
BODY_PX = 28  # findings, details, chart titles
AXIS_PX = 23  # axis tick labels
SMALL_PX = 20  # captions, the footer: the smallest text on the wall


@dataclass(frozen=True)
class WallScale:
    """Pixel sizes for a wall window of ``width`` × ``height``."""

    width: int
    height: int

    @property
    def factor(self) -> float:
        """Multiplier from design pixels (1080 lines) to this window's pixels."""
        return max(0.25, min(self.height / DESIGN_HEIGHT, self.width / DESIGN_WIDTH))

    def px(self, design_px: float) -> int:
        """``design_px`` (given for a 1920×1080 wall) in this window's pixels, at least 1."""
        return max(1, round(design_px * self.factor))

    def font(self, design_px: float, bold: bool = False) -> QFont:
        """A font of ``design_px`` design pixels."""
        return wall_font(self.px(design_px), bold)


def wall_font(pixel_size: int, bold: bool = False) -> QFont:
    """A font of ``pixel_size`` pixels (pixels, not points: the wall sizes from pixels)."""
    font = QFont()
    font.setPixelSize(max(1, pixel_size))
    font.setBold(bold)
    return font


def draw_text(
    painter: QPainter,
    rect: QRectF,
    text: str,
    font: QFont,
    colour: str | QColor,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
) -> float:
    """Draw one line of ``text`` in ``rect``, ending in "…" when too long; returns its width."""
    metrics = QFontMetricsF(font)
    elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(0.0, rect.width()))
    painter.setFont(font)
    painter.setPen(colour if isinstance(colour, QColor) else qcolor(colour))
    painter.drawText(rect, int(align), elided)
    return metrics.horizontalAdvance(elided)


def draw_caption(painter: QPainter, rect: QRectF, text: str, scale: WallScale) -> None:
    """A block's caption (``GOLDEN PATH · …``): the wall's smallest text, bold and dim."""
    draw_text(painter, rect, text, scale.font(SMALL_PX, bold=True), TEXT_DIM)


def fitted_font(text: str, font: QFont, width: float, smallest: float = 0.6) -> QFont:
    """``font``, made smaller (down to ``smallest`` of its size) until ``text`` fits ``width``.

    For the few words that must be read whole (a status word in a narrow tile); beyond the
    smallest size the text is elided as usual.
    """
    metrics = QFontMetricsF(font)
    needed = metrics.horizontalAdvance(text)
    if needed <= width or needed <= 0:
        return font
    fitted = QFont(font)
    size = max(font.pixelSize() * smallest, font.pixelSize() * width / needed)
    fitted.setPixelSize(max(1, int(size)))
    return fitted


def draw_pill(
    painter: QPainter,
    x: float,
    y: float,
    height: float,
    text: str,
    font: QFont,
    fill: str,
    text_colour: str = "#ffffff",
) -> QRectF:
    """A filled rounded label whose left edge is at ``x``; returns the rect drawn."""
    metrics = QFontMetricsF(font)
    pad = height * 0.3
    rect = QRectF(x, y, metrics.horizontalAdvance(text) + 2 * pad, height)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(qcolor(fill))
    painter.drawRoundedRect(rect, height * 0.15, height * 0.15)
    painter.setFont(font)
    painter.setPen(qcolor(text_colour))
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
    return rect


def draw_status_tile(
    painter: QPainter,
    rect: QRectF,
    status: str,
    scale: WallScale,
    *,
    emphasised: bool = False,
    subdued: bool = False,
) -> None:
    """The status's shape filled in its colour, with its border (thick, dashed or dotted).

    ``emphasised`` (the first broken step) adds a heavy light ring; ``subdued`` (steps after it,
    which only follow from the break) lays the panel colour over the fill.
    """
    style = STATUS_STYLES[status]
    corner = min(rect.height(), rect.width()) * 0.16
    path = status_outline(rect, status, corner)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if emphasised:
        painter.setPen(QPen(qcolor(TEXT), scale.px(9)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(qcolor(style.fill))
    painter.drawPath(path)
    if subdued:
        painter.setBrush(qcolor(PANEL, 120))
        painter.drawPath(path)
    pen = status_pen(status, scale.factor * 1.2)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)


def hatch_brush(colour: str, alpha: int = 90) -> QBrush:
    """Diagonal stripes: the pattern that says "not live" on top of the stale colour."""
    return QBrush(qcolor(colour, alpha), Qt.BrushStyle.BDiagPattern)
