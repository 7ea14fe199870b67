"""The frame of the war-room wall around its pages: header, alert banner, footer, the keys'
overlay, and the cursor that hides itself.

- ``WallHeader``: the incident's title, environment and DEMO marks, the page shown, and the three
  honest numbers (INCIDENT FOR, DATA AGE, CLOCK; for a recording NOT LIVE and RECORDED).
- ``AlertBanner``: the wall-wide alerts of ``console.freshness`` (STALE hatched, source errors,
  no data yet) and the recording mark; hidden while everything is live.
- ``WallFooter``: one numbered tab per page group with its status symbol, the rotation, READ-ONLY.
- ``HelpOverlay``: the keys over the middle of the wall, closing by itself.
- ``CursorHider``: hides the mouse cursor after a few seconds without movement.

All are painted by hand and sized from ``ui.wall_style.WallScale``; ``ui.wall.WallWindow``
arranges them and tells them what to show. They decide nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

from console.durations import format_duration
from console.freshness import FreshnessAlert, FreshnessReport
from console.session import Session
from ui.banner import incident_started_at
from ui.theme import (
    BACKGROUND,
    DEMO,
    PANEL,
    PANEL_BORDER,
    PRODUCTION,
    STAGING,
    STATUS_STYLES,
    TEXT,
    TEXT_DIM,
    qcolor,
)
from ui.wall_style import (
    BODY_PX,
    HEADLINE_PX,
    LARGE_PX,
    SMALL_PX,
    TITLE_PX,
    WallScale,
    draw_pill,
    draw_text,
    fitted_font,
)

#: The mouse cursor hides after this long without movement.
CURSOR_IDLE_MS = 3000
#: The key list closes by itself after this long (nobody may be there to close it).
HELP_AUTO_CLOSE_MS = 30_000

#: ``(keys, what they do)`` as the help lists them.
KEY_HELP: tuple[tuple[str, str], ...] = (
    ("→  /  ←", "next / previous page"),
    ("1 … 9", "go to the numbered tab of the footer"),
    ("Space", "pause the rotation (resumes by itself after 5 min)"),
    ("P", "pin this page (P again releases it)"),
    ("F1  /  ?", "show or hide these keys"),
    ("Esc  /  Ctrl+Q", "quit the wall"),
)


def _look(style: str) -> tuple[str, str]:
    """Fill and text colour of a pill or band: a ``STATUS_STYLES`` key, or ``recording``."""
    if style == "recording":
        return DEMO, "#ffffff"
    look = STATUS_STYLES[style]
    return look.fill, look.text


class WallHeader(QWidget):
    """Environment, DEMO, title and the page; the incident's duration, the data's age, the clock."""

    def __init__(self, session: Session, scale: WallScale) -> None:
        super().__init__()
        self.session = session
        self.scale = scale
        self.opened_at = session.clock.now()
        self.page_title = ""
        self.page_subtitle = ""
        self.elapsed_text = ""
        self.clock_text = ""
        self.clock_caption = ""
        #: The data age as shown, and its look: None (live), "stale", "failing", "unknown" or
        #: "recording" (a recording on the wall: its time is not now).
        self.data_age_text = "–"
        self.data_age_style: str | None = "unknown"
        self.recording = False
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_scale(scale)

    def set_scale(self, scale: WallScale) -> None:
        self.scale = scale
        self.setFixedHeight(scale.px(TITLE_PX * 1.3 + LARGE_PX * 1.35 + 26))
        self.update()

    def set_page(self, title: str, subtitle: str) -> None:
        if (title, subtitle) != (self.page_title, self.page_subtitle):
            self.page_title, self.page_subtitle = title, subtitle
            self.update()

    def set_now(self, now: float) -> None:
        """Move the incident's duration and the clock to ``now`` (the session clock's time)."""
        started = incident_started_at(self.session, self.opened_at)
        stamp = datetime.fromtimestamp(now).astimezone()
        texts = (
            format_duration(now - started),
            stamp.strftime("%H:%M:%S"),
            stamp.strftime("%a %d %b · %Z"),
        )
        if texts != (self.elapsed_text, self.clock_text, self.clock_caption):
            self.elapsed_text, self.clock_text, self.clock_caption = texts
            self.update()

    def show_freshness(self, report: FreshnessReport) -> None:
        """Show the age of the newest data, marked when stale, failing or absent."""
        age = report.data_age_s
        if self.recording:
            text, style = "● REC", "recording"
        elif age is None:
            text, style = "NO DATA", "unknown"
        elif report.stale_services:
            text, style = f"◷ {format_duration(age)}", "stale"
        elif report.problems:
            text, style = f"✖ {format_duration(age)}", "failing"
        else:
            text, style = format_duration(age), None
        if (text, style) != (self.data_age_text, self.data_age_style):
            self.data_age_text, self.data_age_style = text, style
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter = QPainter(self)
        rect = QRectF(self.rect())
        painter.fillRect(rect, qcolor(PANEL))
        painter.fillRect(
            QRectF(rect.left(), rect.bottom() - scale.px(2) + 1, rect.width(), scale.px(2)),
            qcolor(PANEL_BORDER),
        )
        pad = scale.px(18)
        inner = rect.adjusted(pad, scale.px(8), -pad, -scale.px(10))

        # Right: three blocks, each a caption over a large value.
        caption_font = scale.font(SMALL_PX, bold=True)
        value_font = scale.font(HEADLINE_PX * 0.95, bold=True)
        value_metrics = QFontMetricsF(value_font)
        caption_height = scale.px(SMALL_PX * 1.35)
        blocks = [
            (("RECORDED " if self.recording else "CLOCK ") + self.clock_caption, self.clock_text),
            ("NOT LIVE" if self.recording else "DATA AGE", self.data_age_text),
            ("INCIDENT FOR", self.elapsed_text),
        ]
        styles = [None, self.data_age_style, None]
        right = inner.right()
        gap = scale.px(40)
        value_top = inner.top() + caption_height
        value_height = inner.bottom() - value_top
        for (caption, value), style in zip(blocks, styles, strict=True):
            caption_width = QFontMetricsF(caption_font).horizontalAdvance(caption)
            width = max(caption_width, value_metrics.horizontalAdvance(value) + scale.px(24))
            left = right - width
            draw_text(
                painter,
                QRectF(left, inner.top(), width, caption_height),
                caption,
                caption_font,
                TEXT_DIM,
            )
            if style is None:
                draw_text(
                    painter,
                    QRectF(left, value_top, width, value_height),
                    value,
                    value_font,
                    TEXT,
                )
            else:
                fill, text_colour = _look(style)
                draw_pill(
                    painter,
                    left,
                    value_top + scale.px(4),
                    value_height - scale.px(6),
                    value,
                    value_font,
                    fill,
                    text_colour,
                )
            right = left - gap

        # Left: the incident's title; below, the environment, DEMO and the page shown.
        incident = self.session.workspace.incident
        line = scale.px(TITLE_PX * 1.3)
        title_width = max(0.0, right + gap - inner.left() - scale.px(24))
        title_font = fitted_font(incident.title, scale.font(TITLE_PX, bold=True), title_width, 0.75)
        draw_text(
            painter,
            QRectF(inner.left(), inner.top(), title_width, line),
            incident.title,
            title_font,
            TEXT,
        )
        page_line = QRectF(inner.left(), inner.top() + line, title_width, 0)
        page_line.setBottom(inner.bottom())
        pill_font = scale.font(BODY_PX * 0.85, bold=True)
        pill_height = scale.px(BODY_PX * 1.35)
        pill_y = page_line.center().y() - pill_height / 2
        production = incident.environment == "production"
        x = inner.left()
        pill = draw_pill(
            painter,
            x,
            pill_y,
            pill_height,
            incident.environment.upper(),
            pill_font,
            PRODUCTION if production else STAGING,
        )
        x = pill.right() + scale.px(12)
        if self.session.workspace.is_demo:
            pill = draw_pill(painter, x, pill_y, pill_height, "DEMO DATA", pill_font, DEMO)
            x = pill.right() + scale.px(12)
        page_line.setLeft(x + scale.px(6))
        width = draw_text(
            painter, page_line, "▸ " + self.page_title, scale.font(LARGE_PX, bold=True), TEXT
        )
        if self.page_subtitle:
            draw_text(
                painter,
                page_line.adjusted(width + scale.px(20), 0, 0, 0),
                self.page_subtitle,
                scale.font(BODY_PX),
                TEXT_DIM,
            )


def draw_hatch(painter: QPainter, rect: QRectF, colour: str, spacing: float, width: float) -> None:
    """Diagonal stripes over ``rect``: the pattern that says "not live" beside the word."""
    painter.save()
    painter.setClipRect(rect)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(qcolor(colour, 70), width))
    x = rect.left() - rect.height()
    while x < rect.right():
        painter.drawLine(QPointF(x, rect.bottom()), QPointF(x + rect.height(), rect.top()))
        x += spacing
    painter.restore()


class AlertBanner(QWidget):
    """Wall-wide alerts: STALE (hatched), source errors, no data yet. Hidden when all is live."""

    #: The look of each kind of alert (see ``_look``).
    LOOKS: ClassVar[dict[str, str]] = {
        "stale": "stale",
        "error": "failing",
        "waiting": "unknown",
        "recording": "recording",
    }

    def __init__(self, scale: WallScale) -> None:
        super().__init__()
        self.scale = scale
        self.alerts: list[FreshnessAlert] = []
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setVisible(False)

    def _alert_height(self) -> int:
        return self.scale.px(LARGE_PX * 1.15 * 1.3 + BODY_PX * 1.3 + 20)

    def set_scale(self, scale: WallScale) -> None:
        self.scale = scale
        self.setFixedHeight(self._alert_height() * max(1, len(self.alerts)))
        self.update()

    def show_alerts(self, alerts: list[FreshnessAlert]) -> None:
        """Show ``alerts`` (hidden when empty); repaints only when they change."""
        if alerts == self.alerts:
            return
        self.alerts = list(alerts)
        self.setFixedHeight(self._alert_height() * max(1, len(alerts)))
        self.setVisible(bool(alerts))
        self.update()

    @property
    def headlines(self) -> list[str]:
        """The first line of each alert, as shown."""
        return [alert.headline for alert in self.alerts]

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter = QPainter(self)
        height = self._alert_height()
        pad = scale.px(20)
        headline_font = scale.font(LARGE_PX * 1.15, bold=True)
        detail_font = scale.font(BODY_PX, bold=True)
        for index, alert in enumerate(self.alerts):
            fill, text_colour = _look(self.LOOKS[alert.kind])
            band = QRectF(0, index * height, self.width(), height)
            painter.fillRect(band, qcolor(fill))
            if alert.kind == "stale":
                draw_hatch(painter, band, "#000000", scale.px(34), scale.px(9))
            inner = band.adjusted(pad, scale.px(8), -pad, -scale.px(8))
            split = inner.top() + scale.px(LARGE_PX * 1.15 * 1.3)
            draw_text(
                painter,
                QRectF(inner.left(), inner.top(), inner.width(), split - inner.top()),
                alert.headline,
                fitted_font(alert.headline, headline_font, inner.width(), 0.7),
                text_colour,
            )
            draw_text(
                painter,
                QRectF(inner.left(), split, inner.width(), inner.bottom() - split),
                alert.detail,
                fitted_font(alert.detail, detail_font, inner.width(), 0.75),
                text_colour,
            )
            painter.fillRect(
                QRectF(band.left(), band.bottom() - scale.px(2), band.width(), scale.px(2)),
                qcolor(BACKGROUND),
            )


class WallFooter(QWidget):
    """One numbered tab per page group (the overview, each service) with its status symbol, the
    current one inverted and naming its part ("3 ✖ Auth 1/2"); the rotation; READ-ONLY; keys."""

    def __init__(self, scale: WallScale) -> None:
        super().__init__()
        self.scale = scale
        #: ``(title, status or None)`` per tab.
        self.tabs: list[tuple[str, str | None]] = []
        self.current = 0
        #: The part of the current tab shown, e.g. ``1/2`` ("" for a single page).
        self.part = ""
        self.rotation_text = ""
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_scale(scale)

    def set_scale(self, scale: WallScale) -> None:
        self.scale = scale
        self.setFixedHeight(scale.px(SMALL_PX * 2.3))
        self.update()

    def show_state(
        self, tabs: list[tuple[str, str | None]], current: int, part: str, rotation_text: str
    ) -> None:
        state = (tabs, current, part, rotation_text)
        if state != (self.tabs, self.current, self.part, self.rotation_text):
            self.tabs, self.current, self.part, self.rotation_text = (
                list(tabs),
                current,
                part,
                rotation_text,
            )
            self.update()

    def tab_label(self, index: int, with_title: bool = True) -> str:
        """The text of tab ``index``: ``3 ✖ Auth`` (``3 ✖`` without title)."""
        title, status = self.tabs[index]
        symbol = f" {STATUS_STYLES[status].symbol}" if status else ""
        if not with_title:
            return f"{index + 1}{symbol}"
        part = f" {self.part}" if index == self.current and self.part else ""
        return f"{index + 1}{symbol} {title}{part}"

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter = QPainter(self)
        rect = QRectF(self.rect())
        painter.fillRect(rect, qcolor(PANEL))
        pad = scale.px(14)
        inner = rect.adjusted(pad, scale.px(5), -pad, -scale.px(5))
        font = scale.font(SMALL_PX, bold=True)
        metrics = QFontMetricsF(font)

        right_text = f"{self.rotation_text}  ·  READ-ONLY  ·  F1 keys"
        right_width = metrics.horizontalAdvance(right_text)
        draw_text(
            painter,
            QRectF(inner.right() - right_width, inner.top(), right_width + 1, inner.height()),
            right_text,
            font,
            TEXT_DIM,
        )
        room = inner.right() - right_width - scale.px(24) - inner.left()
        tab_pad = scale.px(10)

        def width_with_titles(metrics: QFontMetricsF) -> float:
            return sum(
                metrics.horizontalAdvance(self.tab_label(i)) + 2 * tab_pad
                for i in range(len(self.tabs))
            )

        # Every tab with its title if it fits; else in condensed type; else numbers and
        # symbols only, but the current tab always named.
        with_titles = width_with_titles(metrics) <= room
        if not with_titles:
            condensed = QFont(font)
            condensed.setStretch(QFont.Stretch.Condensed)
            if width_with_titles(QFontMetricsF(condensed)) <= room:
                font, metrics, with_titles = condensed, QFontMetricsF(condensed), True
        x = inner.left()
        for index, (_, status) in enumerate(self.tabs):
            text = self.tab_label(index, with_titles or index == self.current)
            width = metrics.horizontalAdvance(text) + 2 * tab_pad
            tab = QRectF(x, inner.top(), width, inner.height())
            if index == self.current:
                painter.fillRect(tab, qcolor(TEXT))
                draw_text(painter, tab, text, font, BACKGROUND, Qt.AlignmentFlag.AlignCenter)
            else:
                colour = STATUS_STYLES[status].fill if status not in (None, "ok") else TEXT_DIM
                draw_text(painter, tab, text, font, colour, Qt.AlignmentFlag.AlignCenter)
            x += width


class HelpOverlay(QWidget):
    """The keys, drawn over the middle of the wall; closes by itself after a while."""

    def __init__(self, parent: QWidget, scale: WallScale) -> None:
        super().__init__(parent)
        self.scale = scale
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self._auto_close = QTimer(self)
        self._auto_close.setSingleShot(True)
        self._auto_close.setInterval(HELP_AUTO_CLOSE_MS)
        self._auto_close.timeout.connect(self.hide)
        self.hide()

    def set_scale(self, scale: WallScale) -> None:
        self.scale = scale
        self.update()

    def toggle(self) -> bool:
        """Show or hide the keys; returns True when shown."""
        if self.isVisible():
            self.hide()
            return False
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.show()
        self.raise_()
        self._auto_close.start()
        return True

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter = QPainter(self)
        painter.fillRect(self.rect(), qcolor("#000000", 150))
        row = scale.px(LARGE_PX * 1.6)
        width = min(self.width() * 0.8, scale.px(1300))
        height = row * (len(KEY_HELP) + 2)
        box = QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)
        painter.setPen(QPen(qcolor(TEXT), scale.px(3)))
        painter.setBrush(qcolor(PANEL))
        painter.drawRoundedRect(box, scale.px(12), scale.px(12))
        inner = box.adjusted(scale.px(40), scale.px(20), -scale.px(40), -scale.px(20))
        draw_text(
            painter,
            QRectF(inner.left(), inner.top(), inner.width(), row),
            "Wall keys  ·  read-only: nothing here changes the cloud",
            scale.font(LARGE_PX, bold=True),
            TEXT,
        )
        key_width = inner.width() * 0.32
        for index, (keys, what) in enumerate(KEY_HELP, start=1):
            y = inner.top() + index * row + row * 0.3
            draw_text(
                painter,
                QRectF(inner.left(), y, key_width, row),
                keys,
                scale.font(LARGE_PX, bold=True),
                TEXT,
            )
            draw_text(
                painter,
                QRectF(inner.left() + key_width, y, inner.width() - key_width, row),
                what,
                scale.font(BODY_PX),
                TEXT,
            )


class CursorHider(QObject):
    """Hides the mouse cursor after ``idle_ms`` without movement; any movement shows it again.

    Uses the application's override cursor (children such as graphics views set their own
    cursors, which an override beats) and always restores it on ``release``.
    """

    def __init__(self, parent: QObject, idle_ms: int = CURSOR_IDLE_MS) -> None:
        super().__init__(parent)
        self.hidden = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(idle_ms)
        self._timer.timeout.connect(self.hide_cursor)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._timer.start()

    def hide_cursor(self) -> None:
        """Hide the cursor now (the idle timer calls this)."""
        if not self.hidden:
            QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)
            self.hidden = True

    def show_cursor(self) -> None:
        """Show the cursor and start counting idle time again."""
        if self.hidden:
            QApplication.restoreOverrideCursor()
            self.hidden = False
        self._timer.start()

    def release(self) -> None:
        """Stop watching and give the cursor back (the wall is closing)."""
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        if self.hidden:
            QApplication.restoreOverrideCursor()
            self.hidden = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseMove:
            self.show_cursor()
        return False
