"""The review bar: the time cursor over a recording, with play/pause, speed and step buttons.

``ReviewStrip`` is the scrubber: the recorded range left to right, coloured by the golden path's
state over time (whole / degraded / broken at a step / no data, each with a word where it fits,
never by colour alone), marks for actions, notes and criteria from the timeline, hour ticks and
the cursor. Clicking or dragging on it asks for a seek; it moves nothing itself.

``ReviewPlayer`` plays: at 1×–60× recorded seconds per real second it asks for the cursor to
advance, ``FRAME_MS`` apart. With ``frame_ms=None`` no timer runs and tests call ``advance``
with the real seconds that passed (STYLE item 5: every timer has a deterministic mode).

``ReviewBar`` arranges both with the buttons and the cursor's time. It knows nothing of the
session: the owner (``ui.review_window.ReviewController``) connects ``seek_requested``,
``step_requested`` and the player's ``advanced`` to the cursor and calls ``show_cursor``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QElapsedTimer, QObject, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.durations import format_duration
from console.review import GoldenPathSpan
from ui.banner import ElidedLabel
from ui.theme import ACCENT, PANEL, PANEL_BORDER, ROOT_CAUSE, STATUS_STYLES, TEXT, TEXT_DIM, qcolor

#: Playback speeds offered (recorded seconds per real second).
SPEEDS: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
DEFAULT_SPEED = 10.0
#: Time between playback frames while playing (about 30 frames per second).
FRAME_MS = 33
STRIP_HEIGHT = 24
#: Room above the track for timeline marks and below it for the time ticks.
MARK_ROOM, TICK_ROOM = 14, 14

#: How each golden-path state is drawn on the strip: status style and word.
SPAN_LOOKS: dict[str, tuple[str, str]] = {
    "whole": ("ok", "WHOLE"),
    "degraded": ("degraded", "DEGRADED"),
    "broken": ("failing", "BROKEN"),
    "no_data": ("unknown", "NO DATA"),
}

#: Timeline kinds marked on the strip, with their mark and colour.
MARKED_KINDS: dict[str, tuple[str, str]] = {
    "action": ("▼", ACCENT),
    "note": ("✎", TEXT),
    "criterion": ("◆", ROOT_CAUSE),
    "criteria": ("◆", ROOT_CAUSE),
}


def clock_text(t: float) -> str:
    """Local ``HH:MM:SS`` of ``t``."""
    return time.strftime("%H:%M:%S", time.localtime(t))


@dataclass(frozen=True)
class StripMark:
    """A timeline entry marked on the strip."""

    t: float
    kind: str
    text: str


class ReviewPlayer(QObject):
    """Plays a recording: asks the cursor to advance ``speed`` recorded seconds per real second.

    ``advanced(seconds)`` says how far to move. The owner calls ``pause`` at the end.
    """

    advanced = Signal(float)
    playing_changed = Signal(bool)
    speed_changed = Signal(float)

    def __init__(self, parent: QObject | None = None, *, frame_ms: int | None = FRAME_MS) -> None:
        super().__init__(parent)
        self._speed = DEFAULT_SPEED
        self._playing = False
        self._timer: QTimer | None = None
        self._elapsed = QElapsedTimer()
        if frame_ms is not None:
            self._timer = QTimer(self)
            self._timer.setInterval(frame_ms)
            self._timer.setTimerType(Qt.TimerType.PreciseTimer)
            self._timer.timeout.connect(self._on_frame)

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Play ``speed`` recorded seconds per real second (1–60)."""
        speed = min(max(float(speed), SPEEDS[0]), SPEEDS[-1])
        if speed != self._speed:
            self._speed = speed
            self.speed_changed.emit(speed)

    def faster(self) -> None:
        """The next speed up."""
        self.set_speed(next((s for s in SPEEDS if s > self._speed), SPEEDS[-1]))

    def slower(self) -> None:
        """The next speed down."""
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self._speed), SPEEDS[0]))

    def play(self) -> None:
        if self._playing:
            return
        self._playing = True
        self._elapsed.start()
        if self._timer is not None:
            self._timer.start()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if not self._playing:
            return
        self._playing = False
        if self._timer is not None:
            self._timer.stop()
        self.playing_changed.emit(False)

    def toggle(self) -> None:
        """Play or pause."""
        if self._playing:
            self.pause()
        else:
            self.play()

    def advance(self, real_seconds: float) -> None:
        """One frame after ``real_seconds`` of real time (the timer calls it; tests too)."""
        if self._playing and real_seconds > 0:
            self.advanced.emit(real_seconds * self._speed)

    def _on_frame(self) -> None:
        # Measured, not assumed: a late frame moves the cursor further, so playback keeps time.
        elapsed_ms = self._elapsed.restart()
        self.advance(min(elapsed_ms, 1000) / 1000.0)


class ReviewStrip(QWidget):
    """The scrubber: recorded range, golden-path states over time, timeline marks, cursor."""

    seek_requested = Signal(float)

    def __init__(self, start: float, end: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start = start
        self.end = max(end, start + 1.0)
        self.cursor = end
        self.spans: list[GoldenPathSpan] = []
        self.span_names: dict[str, str] = {}
        self.marks: list[StripMark] = []
        #: "computing…" until the golden path's history has arrived.
        self.note = "golden-path history: computing…"
        self.setMinimumHeight(MARK_ROOM + STRIP_HEIGHT + TICK_ROOM)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click or drag to move the time cursor")

    def sizeHint(self) -> QSize:
        return QSize(600, MARK_ROOM + STRIP_HEIGHT + TICK_ROOM)

    # -- model ---------------------------------------------------------------------------------

    def set_spans(self, spans: Sequence[GoldenPathSpan], names: dict[str, str], note: str) -> None:
        """Show the golden path's states over time; ``names`` maps service ids to names."""
        self.spans = list(spans)
        self.span_names = dict(names)
        self.note = note
        self.update()

    def set_marks(self, marks: Sequence[StripMark]) -> None:
        self.marks = list(marks)
        self.update()

    def set_cursor(self, t: float) -> None:
        if t != self.cursor:
            old = self._x(self.cursor)
            self.cursor = t
            new = self._x(t)
            # Repaint only the old and new cursor columns (and the time label above them).
            for x in (old, new):
                self.update(int(x) - 60, 0, 120, self.height())

    # -- geometry -------------------------------------------------------------------------------

    def _track(self) -> QRectF:
        return QRectF(8, MARK_ROOM, max(1.0, self.width() - 16), STRIP_HEIGHT)

    def _x(self, t: float) -> float:
        track = self._track()
        fraction = (t - self.start) / (self.end - self.start)
        return track.left() + min(max(fraction, 0.0), 1.0) * track.width()

    def time_at(self, x: float) -> float:
        """The recorded time under horizontal position ``x``."""
        track = self._track()
        fraction = min(max((x - track.left()) / track.width(), 0.0), 1.0)
        return self.start + fraction * (self.end - self.start)

    # -- mouse ----------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self.time_at(event.position().x()))
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self.time_at(event.position().x()))
            event.accept()
        else:
            super().mouseMoveEvent(event)

    # -- painting -------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        track = self._track()
        painter.fillRect(track, qcolor(PANEL))
        small = QFont()
        small.setPointSizeF(8.0)
        bold = QFont(small)
        bold.setBold(True)
        painter.setFont(bold)
        metrics = QFontMetricsF(bold)
        for span in self.spans:
            x0, x1 = self._x(span.start), self._x(span.end)
            look, word = SPAN_LOOKS[span.state]
            style = STATUS_STYLES[look]
            rect = QRectF(x0, track.top(), max(1.0, x1 - x0), track.height())
            painter.fillRect(rect, qcolor(style.fill))
            if span.state == "broken" and span.first_broken:
                word = f"{word} at {self.span_names.get(span.first_broken, span.first_broken)}"
            label = f"{style.symbol} {word}"
            if metrics.horizontalAdvance(label) + 8 <= rect.width():
                painter.setPen(qcolor(style.text))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        if not self.spans:
            painter.setPen(qcolor(TEXT_DIM))
            painter.setFont(small)
            painter.drawText(track, Qt.AlignmentFlag.AlignCenter, self.note)
        painter.setPen(QPen(qcolor(PANEL_BORDER), 1))
        painter.drawRect(track)
        self._paint_ticks(painter, track, small)
        self._paint_marks(painter, track, bold)
        self._paint_cursor(painter, track, bold)
        painter.end()

    def _paint_ticks(self, painter: QPainter, track: QRectF, font: QFont) -> None:
        """Hour (or 10-minute) ticks under the track, labelled where there is room."""
        span = self.end - self.start
        step = next(
            (s for s in (60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600) if span / s <= 12), 86400
        )
        offset = time.localtime(self.start).tm_gmtoff
        first = math.ceil((self.start + offset) / step) * step - offset
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        painter.setPen(qcolor(TEXT_DIM))
        last_right = -1e9
        t = first
        while t <= self.end:
            x = self._x(t)
            painter.drawLine(int(x), int(track.bottom()), int(x), int(track.bottom()) + 3)
            text = time.strftime("%H:%M", time.localtime(t))
            width = metrics.horizontalAdvance(text)
            if x - width / 2 > last_right + 6 and x + width / 2 < self.width():
                painter.drawText(QRectF(x - width / 2, track.bottom() + 2, width, 12), 0, text)
                last_right = x + width / 2
            t += step

    def _paint_marks(self, painter: QPainter, track: QRectF, font: QFont) -> None:
        painter.setFont(font)
        for mark in self.marks:
            symbol, colour = MARKED_KINDS.get(mark.kind, ("•", TEXT_DIM))
            x = self._x(mark.t)
            painter.setPen(QPen(qcolor(colour), 1))
            painter.drawLine(int(x), int(track.top()), int(x), int(track.bottom()))
            painter.drawText(QRectF(x - 6, 0, 12, 13), Qt.AlignmentFlag.AlignCenter, symbol)

    def _paint_cursor(self, painter: QPainter, track: QRectF, font: QFont) -> None:
        x = self._x(self.cursor)
        painter.setPen(QPen(QColor("#000000"), 4))
        painter.drawLine(int(x), int(track.top()) - 2, int(x), int(track.bottom()) + 2)
        painter.setPen(QPen(qcolor(TEXT), 2))
        painter.drawLine(int(x), int(track.top()) - 2, int(x), int(track.bottom()) + 2)


def _button(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the window's actions
    return button


class ReviewBar(QWidget):
    """Cursor controls for a recording: buttons, speed, the cursor's time and the strip."""

    seek_requested = Signal(float)
    #: Move the cursor by this many seconds (negative: back).
    step_requested = Signal(float)
    #: The play/pause button was pressed.
    play_requested = Signal()
    fit_requested = Signal()

    def __init__(
        self,
        start: float,
        end: float,
        file_name: str,
        parent: QWidget | None = None,
        *,
        frame_ms: int | None = FRAME_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("review_bar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            f"QWidget#review_bar {{ background: {PANEL}; border-top: 1px solid {PANEL_BORDER}; }}"
            " QLabel { background: transparent; }"
        )
        self.start, self.end = start, end
        #: Plays the recording (``frame_ms=None``: no timer; tests call ``player.advance``).
        self.player = ReviewPlayer(self, frame_ms=frame_ms)

        self.mode_label = QLabel("▶ REVIEW")
        self.mode_label.setStyleSheet(
            f"background: {ACCENT}; color: #000; font-weight: bold; font-size: 10.5pt;"
            " padding: 2px 8px; border-radius: 3px;"
        )
        self.mode_label.setToolTip(f"Reviewing {file_name}: read-only, nothing can change")
        # The first thing to give way in a narrow window (the window title names the file too).
        self.file_label = ElidedLabel(f"{file_name} · read-only")
        self.file_label.setStyleSheet(f"color: {TEXT_DIM};")
        self.file_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.start_button = _button("|◀", "To the start of the recording (Home)")
        self.back_button = _button("◀◀", "Back 10 s (←); Shift: 1 min")
        self.play_button = _button("▶ Play", "Play or pause (Space)")
        self.play_button.setMinimumWidth(84)
        self.forward_button = _button("▶▶", "Forward 10 s (→); Shift: 1 min")
        self.end_button = _button("▶|", "To the end of the recording (End)")
        self.fit_button = _button("⤢ Whole recording", "Show the whole recording on the charts (0)")
        self.speed_box = QComboBox()
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed_box.setToolTip("Playback speed ([ slower, ] faster)")
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}×", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(self.player.speed))

        self.time_label = QLabel()
        self.time_label.setStyleSheet(f"color: {TEXT}; font-size: 15pt; font-weight: bold;")
        self.offset_label = QLabel()
        self.offset_label.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9.5pt;")
        self.strip = ReviewStrip(start, end)

        controls = QHBoxLayout()
        controls.setSpacing(6)
        controls.addWidget(self.mode_label)
        for widget in (
            self.start_button,
            self.back_button,
            self.play_button,
            self.forward_button,
            self.end_button,
            self.speed_box,
        ):
            controls.addWidget(widget)
        controls.addSpacing(12)
        controls.addWidget(self.time_label)
        controls.addWidget(self.offset_label)
        controls.addWidget(self.file_label, 1)
        controls.addWidget(self.fit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 4)
        layout.setSpacing(2)
        layout.addLayout(controls)
        layout.addWidget(self.strip)

        self.strip.seek_requested.connect(self.seek_requested)
        self.start_button.clicked.connect(lambda: self.seek_requested.emit(self.start))
        self.end_button.clicked.connect(lambda: self.seek_requested.emit(self.end))
        self.back_button.clicked.connect(lambda: self.step_requested.emit(-10.0))
        self.forward_button.clicked.connect(lambda: self.step_requested.emit(10.0))
        self.play_button.clicked.connect(self.play_requested)
        self.fit_button.clicked.connect(self.fit_requested)
        self.speed_box.currentIndexChanged.connect(
            lambda index: self.player.set_speed(self.speed_box.itemData(index))
        )
        self.player.speed_changed.connect(self._show_speed)
        self.player.playing_changed.connect(self._show_playing)
        self.show_cursor(end)

    def show_cursor(self, t: float) -> None:
        """Show the cursor at ``t``: its time, its place in the recording, the strip."""
        self.time_label.setText(clock_text(t))
        self.offset_label.setText(
            f"{format_duration(t - self.start)} of {format_duration(self.end - self.start)}"
        )
        self.strip.set_cursor(t)

    @property
    def cursor_text(self) -> str:
        """The cursor's time as shown."""
        return self.time_label.text()

    def _show_speed(self, speed: float) -> None:
        index = self.speed_box.findData(speed)
        if index >= 0 and index != self.speed_box.currentIndex():
            self.speed_box.setCurrentIndex(index)

    def _show_playing(self, playing: bool) -> None:
        self.play_button.setText("❚❚ Pause" if playing else "▶ Play")
