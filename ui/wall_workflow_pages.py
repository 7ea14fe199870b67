"""The wall's pages from the incident workflow: the recovery criteria and the timeline.

- **Recovery**: the verdict ("✖ NOT RECOVERED · 2 of 5 criteria met", green only when every
  criterion is met) and one row per criterion: its state by symbol, word and colour (the desk's
  ``ui.criteria_board.CRITERION_LOOKS``), its title, what the numbers say, since when, and for a
  criterion that holds, a bar of its sustain period with the time still to go.
- **Timeline**: the newest entries of the session's one timeline (notes folded with their edits,
  ``console.notes.fold_timeline``), newest first: time, kind (symbol and word) and what happened,
  coloured by what it means (``ui.timeline_view.entry_colour`` and ``kind_text``).

Both read ``session.workflow`` / ``session.timeline`` only; they decide nothing and offer nothing
to press (the wall is read-only). ``workflow_pages`` builds whichever the session has.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPaintEvent

from console.criteria import CriterionStatus, RecoveryVerdict
from console.durations import format_duration
from console.notes import fold_timeline
from console.session import Session, SessionUpdate
from console.timeline import TimelineEntry
from console.units import format_clock
from ui.criteria_board import CRITERION_LOOKS
from ui.theme import ACCENT, BACKGROUND, PANEL, STATUS_STYLES, TEXT, TEXT_DIM, qcolor
from ui.timeline_view import entry_colour, kind_text
from ui.wall_pages import WallPage
from ui.wall_style import (
    BODY_PX,
    HEADLINE_PX,
    LARGE_PX,
    SMALL_PX,
    WallScale,
    draw_text,
    fitted_font,
)

#: The newest timeline entries folded for the timeline page (more never fit on a screen).
TIMELINE_TAIL = 2000


def _page_painter(page: WallPage) -> tuple[QPainter, QRectF]:
    """A painter on ``page`` with its background filled, and the area inside the page's margins."""
    scale = page.scale
    painter = QPainter(page)
    rect = QRectF(page.rect())
    painter.fillRect(rect, qcolor(BACKGROUND))
    pad = scale.px(20)
    return painter, rect.adjusted(pad, scale.px(10), -pad, -pad)


class CriteriaPage(WallPage):
    """The recovery verdict and every criterion's state, in large type."""

    title = "Recovery"

    def __init__(self, session: Session, scale: WallScale) -> None:
        super().__init__(session, scale)
        assert session.workflow is not None
        self.board = session.workflow.board
        self.verdict: RecoveryVerdict | None = None
        self.statuses: list[CriterionStatus] = []
        self._now = session.clock.now()

    @property
    def subtitle(self) -> str:
        return "recovered only when every criterion is met"

    def page_status(self) -> str | None:
        verdict = self.board.verdict()
        if verdict.recovered:
            return "ok"
        statuses = self.board.statuses()
        if statuses and all(s.state == "unmeasurable" for s in statuses):
            return "unknown"
        return "failing"

    def refresh(self, now: float) -> None:
        verdict, statuses = self.board.verdict(), self.board.statuses()
        if (verdict, statuses, round(now)) != (self.verdict, self.statuses, round(self._now)):
            self.verdict, self.statuses, self._now = verdict, statuses, now
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter, inner = _page_painter(self)
        verdict = self.verdict or self.board.verdict()
        if verdict.recovered:
            style = STATUS_STYLES["ok"]
            since = f" · since {format_clock(verdict.since)}" if verdict.since else ""
            text = f"{style.symbol} {verdict.text()}{since}"
        else:
            style = STATUS_STYLES["failing" if verdict.total else "unknown"]
            text = f"{style.symbol} {verdict.text()}"
        line = scale.px(HEADLINE_PX * 1.35)
        draw_text(
            painter,
            QRectF(inner.left(), inner.top(), inner.width(), line),
            text,
            fitted_font(text, scale.font(HEADLINE_PX, bold=True), inner.width()),
            style.fill,
        )
        statuses = self.statuses or self.board.statuses()
        if not statuses:
            return
        top = inner.top() + line + scale.px(10)
        gap = scale.px(12)
        row_height = min(
            scale.px(190), (inner.bottom() - top - gap * (len(statuses) - 1)) / len(statuses)
        )
        for index, status in enumerate(statuses):
            row = QRectF(inner.left(), top + index * (row_height + gap), inner.width(), row_height)
            self._paint_row(painter, row, status)

    def _paint_row(self, painter: QPainter, row: QRectF, status: CriterionStatus) -> None:
        scale = self.scale
        painter.fillRect(row, qcolor(PANEL))
        symbol, colour = CRITERION_LOOKS.get(status.word, ("?", TEXT_DIM))
        pad = scale.px(16)
        inner = row.adjusted(pad, scale.px(8), -pad, -scale.px(8))
        # The state: a coloured stripe and the word with its symbol, as wide as the longest.
        painter.fillRect(QRectF(row.left(), row.top(), scale.px(10), row.height()), qcolor(colour))
        state_width = inner.width() * 0.27
        word = f"{symbol} {status.word}"
        draw_text(
            painter,
            QRectF(inner.left() + scale.px(6), inner.top(), state_width, inner.height()),
            word,
            fitted_font(word, scale.font(LARGE_PX, bold=True), state_width - scale.px(12), 0.6),
            colour,
        )
        x = inner.left() + state_width + scale.px(12)
        width = inner.right() - x
        title_height = min(inner.height() * 0.5, scale.px(LARGE_PX * 1.35))
        draw_text(
            painter,
            QRectF(x, inner.top(), width, title_height),
            status.spec.title,
            scale.font(LARGE_PX, bold=True),
            TEXT,
        )
        parts = [status.detail]
        if status.holding and status.remaining_s is not None:
            parts.append(f"{format_duration(status.remaining_s)} still to hold")
        elif status.since is not None:
            parts.append(f"since {format_clock(status.since)}")
        detail_top = inner.top() + title_height
        detail_height = min(inner.bottom() - detail_top, scale.px(BODY_PX * 1.4))
        draw_text(
            painter,
            QRectF(x, detail_top, width, detail_height),
            "  ·  ".join(p for p in parts if p),
            scale.font(BODY_PX),
            TEXT_DIM if status.state == "unmeasurable" else TEXT,
        )
        sustain = status.spec.sustain_s
        if status.holding and status.remaining_s is not None and sustain > 0:
            bar_top = detail_top + detail_height + scale.px(6)
            bar = QRectF(x, bar_top, width, min(scale.px(12), max(0.0, inner.bottom() - bar_top)))
            if bar.height() > 0:
                painter.fillRect(bar, qcolor(BACKGROUND))
                done = max(0.0, min(1.0, 1 - status.remaining_s / sustain))
                painter.fillRect(
                    QRectF(bar.left(), bar.top(), bar.width() * done, bar.height()), qcolor(ACCENT)
                )


class TimelinePage(WallPage):
    """The newest timeline entries, newest first, in large type."""

    title = "Timeline"

    def __init__(self, session: Session, scale: WallScale) -> None:
        super().__init__(session, scale)
        self.entries: list[TimelineEntry] = []
        self._dirty = True

    @property
    def subtitle(self) -> str:
        return "what happened, newest first"

    def on_session_update(self, update: SessionUpdate) -> None:
        if update.new_timeline:
            self._dirty = True

    def refresh(self, now: float) -> None:
        if not self._dirty:
            return
        self._dirty = False
        timeline = self.session.timeline
        tail = list(timeline)[-TIMELINE_TAIL:] if len(timeline) > TIMELINE_TAIL else timeline
        entries = list(reversed(fold_timeline(tail)))
        if entries != self.entries:
            self.entries = entries
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter, inner = _page_painter(self)
        font = scale.font(BODY_PX, bold=True)
        line = QFontMetricsF(font).height() * 1.45
        if not self.entries:
            draw_text(
                painter,
                QRectF(inner.left(), inner.top(), inner.width(), line),
                "Nothing on the timeline yet",
                font,
                TEXT_DIM,
            )
            return
        time_width = QFontMetricsF(font).horizontalAdvance("00:00:00") + scale.px(28)
        kind_font = scale.font(SMALL_PX * 1.1, bold=True)
        kind_width = QFontMetricsF(kind_font).horizontalAdvance("⌁ golden path") + scale.px(30)
        y = inner.top()
        for index, entry in enumerate(self.entries):
            if y + line > inner.bottom():
                break
            if index % 2 == 0:
                painter.fillRect(QRectF(inner.left(), y, inner.width(), line), qcolor(PANEL))
            colour = entry_colour(entry)
            x = inner.left() + scale.px(10)
            draw_text(painter, QRectF(x, y, time_width, line), format_clock(entry.t), font, TEXT)
            x += time_width
            draw_text(painter, QRectF(x, y, kind_width, line), kind_text(entry), kind_font, colour)
            x += kind_width
            draw_text(
                painter,
                QRectF(x, y, inner.right() - x - scale.px(10), line),
                entry.text,
                font,
                colour,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            )
            y += line


def workflow_pages(session: Session, scale: WallScale) -> tuple[list[WallPage], list[WallPage]]:
    """The pages the session's workflow offers: ``(after the overview, at the end)``.

    The recovery page when the workspace declares criteria; the timeline page always (every
    session keeps one timeline).
    """
    early: list[WallPage] = []
    workflow = getattr(session, "workflow", None)
    if workflow is not None and workflow.board.verdict().total:
        early.append(CriteriaPage(session, scale))
    return early, [TimelinePage(session, scale)]


__all__ = ["CriteriaPage", "TimelinePage", "workflow_pages"]
