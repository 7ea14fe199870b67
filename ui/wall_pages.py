"""The pages the wall rotates through: the overview, then one page of charts per service.

- **Overview**: the golden path as large tiles (shape, symbol and word per step; the first break
  ringed, the steps after it subdued), the verdict and the root-cause candidate in large type,
  the dependency status graph (the desk's ``StatusGraphView``, allowed to grow with the wall) and
  the worst signals (``ui.findings_list.finding_rows``: root cause first, failing before
  degraded).
- **One page per service** (golden-path services in path order, then the others): a status
  panel (the status as a tile with its word and symbol, why, what blocks it, what it blocks, the
  age of its data) and its charts (``ui.wall_charts.WallChart``, as ``console.chart_specs``
  describes them for its kind) in a grid sized for the wall. A page holds at most
  ``MAX_CHARTS_PER_PAGE`` charts; a kind with more gets two pages ("Auth 1/2", "Auth 2/2").

Every page is a ``WallPage``: it takes the session and a ``WallScale`` and is told of session
updates (``on_session_update``: health changed) and of the clock (``refresh(now)``: only while it
is shown, once a second). Other pages (the recovery criteria and the timeline of
``ui.wall_workflow_pages``, pages of later work) join through ``build_pages``' ``early_pages``
and ``extra_pages``: any ``WallPage`` subclass works, nothing else in the wall needs to change
(see docs/wall.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPaintEvent, QPen, QPolygonF, QTransform
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QSizePolicy,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

from console.chart_specs import ChartSpec, charts_for
from console.durations import format_duration
from console.health import HealthReport
from console.session import Session, SessionUpdate
from console.status_report import describe_finding
from ui.banner import golden_path_verdict, root_cause_text
from ui.findings_list import finding_rows
from ui.status_graph import ServiceNodeItem, StatusGraphView
from ui.theme import (
    BACKGROUND,
    BLOCKED_EDGE,
    PANEL,
    ROOT_CAUSE,
    SERVICE_KIND_LABELS,
    STATUS_STYLES,
    TEXT,
    TEXT_DIM,
    display_status,
    qcolor,
)
from ui.wall_charts import WallChart
from ui.wall_style import (
    BODY_PX,
    HEADLINE_PX,
    LARGE_PX,
    SMALL_PX,
    TITLE_PX,
    WallScale,
    draw_caption,
    draw_pill,
    draw_status_tile,
    draw_text,
    fitted_font,
    wall_font,
)

#: Most charts on one service page (the status panel takes one more cell).
MAX_CHARTS_PER_PAGE = 5


class WallPage(QWidget):
    """One page of the wall. Subclasses draw something of the session, sized by ``scale``."""

    #: The page's name in the header, e.g. ``Overview`` or ``Auth 1/2``.
    title = "Page"

    def __init__(self, session: Session, scale: WallScale, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.scale = scale
        self.setAutoFillBackground(False)

    @property
    def subtitle(self) -> str:
        """A second line for the header (the kind and resource of a service)."""
        return ""

    @property
    def group(self) -> str:
        """Consecutive pages of one group share a footer tab (a service's pages)."""
        return self.title

    @property
    def group_title(self) -> str:
        """The name of the page's footer tab (a service's name for each of its pages)."""
        return self.title

    def page_status(self) -> str | None:
        """A ``STATUS_STYLES`` key whose symbol marks the page in the footer, or None."""
        return None

    def set_scale(self, scale: WallScale) -> None:
        """Resize fonts and pens for a new wall size."""
        self.scale = scale
        self.update()

    def on_session_update(self, update: SessionUpdate) -> None:
        """A drain changed something (cheap: all pages hear it, shown or not)."""

    def refresh(self, now: float) -> None:
        """Follow the clock; called once a second while the page is shown, and when it appears."""


# -- overview --------------------------------------------------------------------------------


class GoldenPathStrip(QWidget):
    """The golden path as large status tiles joined by arrows, one per step."""

    def __init__(self, session: Session, scale: WallScale) -> None:
        super().__init__()
        self.session = session
        self.scale = scale
        #: Per step: ``(label, service name, display status, detail, place)``.
        self.steps: list[tuple[str, str, str, str, str]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_scale(scale)

    def set_scale(self, scale: WallScale) -> None:
        self.scale = scale
        self.setFixedHeight(
            scale.px(SMALL_PX * 1.6 + TITLE_PX * 1.25 + SMALL_PX * 1.3 + HEADLINE_PX * 1.3)
            + scale.px(BODY_PX * 1.25) * 2
            + scale.px(40)
        )
        self.update()

    def show_health(self, health: HealthReport) -> None:
        """Show each step of ``health``'s golden path; repaints only on change."""
        workspace = self.session.workspace
        steps = []
        place = "upstream"
        for step in health.golden_path:
            if step.service == health.first_broken:
                place = "first_break"
            status = display_status(step.status, bool(step.blocked_by))
            if step.blocked_by:
                names = ", ".join(workspace.services[s].name for s in step.blocked_by)
                detail = f"blocked by {names}"
            else:
                findings = health.services[step.service].findings
                detail = describe_finding(workspace, step.service, findings[0]) if findings else ""
            name = workspace.services[step.service].name
            steps.append((step.label, name, status, detail, place))
            if place == "first_break":
                place = "downstream"
        if steps != self.steps:
            self.steps = steps
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter = QPainter(self)
        painter.fillRect(self.rect(), qcolor(BACKGROUND))
        rect = QRectF(self.rect())
        caption_height = scale.px(SMALL_PX * 1.6)
        draw_caption(
            painter,
            QRectF(rect.left(), rect.top(), rect.width(), caption_height),
            "GOLDEN PATH  ·  the user's journey, step by step",
            scale,
        )
        count = len(self.steps)
        if not count:
            return
        arrow = scale.px(54)
        ring = scale.px(10)
        top = rect.top() + caption_height + ring
        height = rect.bottom() - top - ring
        width = (rect.width() - 2 * ring - (count - 1) * arrow) / count
        x = rect.left() + ring
        for index, (label, name, status, detail, place) in enumerate(self.steps):
            tile = QRectF(x, top, width, height)
            draw_status_tile(
                painter,
                tile,
                status,
                scale,
                emphasised=place == "first_break",
                subdued=place == "downstream",
            )
            self._paint_words(painter, tile, label, name, status, detail)
            if index < count - 1:
                self._paint_arrow(painter, QRectF(tile.right(), top, arrow, height))
            x += width + arrow

    def _paint_words(
        self, painter: QPainter, tile: QRectF, label: str, name: str, status: str, detail: str
    ) -> None:
        scale = self.scale
        style = STATUS_STYLES[status]
        pad = scale.px(18)
        inner = tile.adjusted(pad, scale.px(10), -pad, -scale.px(8))
        y = inner.top()
        line = scale.px(TITLE_PX * 1.25)
        draw_text(
            painter,
            QRectF(inner.left(), y, inner.width(), line),
            label,
            scale.font(TITLE_PX, bold=True),
            style.text,
        )
        y += line
        line = scale.px(SMALL_PX * 1.3)
        if name != label:
            draw_text(
                painter,
                QRectF(inner.left(), y, inner.width(), line),
                name,
                scale.font(SMALL_PX, bold=True),
                style.text,
            )
        y += line
        line = scale.px(HEADLINE_PX * 1.3)
        word = f"{style.symbol} {style.word}"
        draw_text(
            painter,
            QRectF(inner.left(), y, inner.width(), line),
            word,
            fitted_font(word, scale.font(HEADLINE_PX, bold=True), inner.width()),
            style.text,
        )
        y += line
        font = scale.font(BODY_PX)
        painter.setFont(font)
        painter.setPen(qcolor(style.text))
        detail_rect = QRectF(inner.left(), y, inner.width(), max(0.0, inner.bottom() - y))
        painter.drawText(
            detail_rect, int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignTop), detail
        )

    def _paint_arrow(self, painter: QPainter, rect: QRectF) -> None:
        scale = self.scale
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        y = rect.center().y()
        head = rect.width() * 0.42
        left, right = rect.left() + rect.width() * 0.14, rect.right() - rect.width() * 0.14
        painter.setPen(QPen(qcolor(TEXT_DIM), scale.px(5)))
        painter.drawLine(int(left), int(y), int(right - head * 0.6), int(y))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(qcolor(TEXT_DIM))
        painter.drawPolygon(
            QPolygonF(
                [
                    QPointF(right, y),
                    QPointF(right - head, y - head * 0.6),
                    QPointF(right - head, y + head * 0.6),
                ]
            )
        )


class VerdictLines(QWidget):
    """The golden path's verdict and the root-cause candidate, in large type."""

    def __init__(self, session: Session, scale: WallScale) -> None:
        super().__init__()
        self.session = session
        self.scale = scale
        self.verdict: tuple[str, str] = ("unknown", "")
        self.root_cause: str | None = None
        #: The second line as shown (the candidate, or why there is none).
        self.root_line = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_scale(scale)

    def set_scale(self, scale: WallScale) -> None:
        self.scale = scale
        self.setFixedHeight(scale.px(LARGE_PX * 1.45) * 2 + scale.px(8))
        self.update()

    def show_health(self, health: HealthReport) -> None:
        workspace = self.session.workspace
        names = {sid: s.name for sid, s in workspace.services.items()}
        verdict = golden_path_verdict(health, names)
        root = root_cause_text(workspace, health)
        unjudged = unjudged_services(health)
        if root is not None:
            root_line = root
        elif unjudged:
            root_line = f"Root-cause candidate: unknown (no fresh data for {len(unjudged)})"
        else:
            root_line = "Root-cause candidate: none (no failing service)"
        if (verdict, root, root_line) != (self.verdict, self.root_cause, self.root_line):
            self.verdict, self.root_cause, self.root_line = verdict, root, root_line
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter = QPainter(self)
        painter.fillRect(self.rect(), qcolor(BACKGROUND))
        line = scale.px(LARGE_PX * 1.45)
        rect = QRectF(self.rect()).adjusted(scale.px(10), scale.px(4), -scale.px(10), 0)
        font = scale.font(LARGE_PX, bold=True)
        status, text = self.verdict
        draw_text(
            painter,
            QRectF(rect.left(), rect.top(), rect.width(), line),
            text,
            font,
            STATUS_STYLES[status].fill if status != "unknown" else TEXT,
        )
        draw_text(
            painter,
            QRectF(rect.left(), rect.top() + line, rect.width(), line),
            self.root_line,
            font,
            ROOT_CAUSE if self.root_cause else TEXT_DIM,
        )


class WorstSignals(QWidget):
    """The failing and degraded metrics, worst first, as many as fit in large type."""

    def __init__(self, session: Session, scale: WallScale) -> None:
        super().__init__()
        self.session = session
        self.scale = scale
        self.rows: list[tuple[str, str]] = []
        #: Names of the services without fresh data: nothing can be said about them.
        self.unjudged: list[str] = []
        self.shown_rows = 0

    def set_scale(self, scale: WallScale) -> None:
        self.scale = scale
        self.update()

    def show_health(self, health: HealthReport) -> None:
        rows = finding_rows(self.session, health)
        names = self.session.workspace.services
        unjudged = [names[sid].name for sid in unjudged_services(health)]
        if (rows, unjudged) != (self.rows, self.unjudged):
            self.rows, self.unjudged = rows, unjudged
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter = QPainter(self)
        rect = QRectF(self.rect())
        painter.fillRect(rect, qcolor(PANEL))
        pad = scale.px(18)
        inner = rect.adjusted(pad, scale.px(10), -pad, -scale.px(10))
        caption = scale.px(SMALL_PX * 1.7)
        draw_caption(
            painter,
            QRectF(inner.left(), inner.top(), inner.width(), caption),
            "WORST SIGNALS  ·  ◆ root-cause candidate",
            scale,
        )
        y = inner.top() + caption
        font = scale.font(BODY_PX, bold=True)
        line = QFontMetricsF(font).height() * 1.3
        if self.unjudged:
            # Said first: a quiet list means nothing while data is missing.
            everyone = len(self.unjudged) == len(self.session.workspace.services)
            who = "any service" if everyone else ", ".join(self.unjudged)
            painter.setFont(font)
            painter.setPen(qcolor(STATUS_STYLES["stale"].fill))
            wrap = int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignTop)
            text = f"◷ No fresh data for {who}: not judged"
            height = min(
                QFontMetricsF(font)
                .boundingRect(QRectF(0, 0, inner.width(), 10_000), wrap, text)
                .height(),
                2 * line,
            )
            painter.drawText(QRectF(inner.left(), y, inner.width(), height), wrap, text)
            y += height + line * 0.3
        if not self.rows:
            if not self.unjudged:
                draw_text(
                    painter,
                    QRectF(inner.left(), y, inner.width(), line),
                    f"{STATUS_STYLES['ok'].symbol} No failing or degraded metric",
                    font,
                    STATUS_STYLES["ok"].fill,
                )
            self.shown_rows = 0
            return
        fits = max(1, int((inner.bottom() - y) // line))
        shown = self.rows if len(self.rows) <= fits else self.rows[: fits - 1]
        root_rows = sum(1 for _, text in self.rows if text.startswith("◆"))
        for index, (level, text) in enumerate(shown):
            colour = ROOT_CAUSE if index < root_rows else STATUS_STYLES[level].fill
            draw_text(painter, QRectF(inner.left(), y, inner.width(), line), text, font, colour)
            y += line
        if len(shown) < len(self.rows):
            draw_text(
                painter,
                QRectF(inner.left(), y, inner.width(), line),
                f"+ {len(self.rows) - len(shown)} more",
                scale.font(BODY_PX),
                TEXT_DIM,
            )
        self.shown_rows = len(shown)


class WallServiceNode(ServiceNodeItem):
    """A status-graph node for the wall: the name and the status in large type, then the
    root-cause badge or what blocks the service. The findings are in the worst signals beside."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        style = self.paint_shape(painter)
        colour = qcolor(style.text)
        inner = self.body_rect().adjusted(14, 6, -12, -4)
        width = inner.width()
        big = wall_font(30, bold=True)
        name_font = fitted_font(self.name, big, width, 0.75)
        y = self._draw_line(painter, self.name, name_font, colour, inner, inner.top())
        status_font = fitted_font(self.look.status_text, big, width, 0.75)
        y = self._draw_line(painter, self.look.status_text, status_font, colour, inner, y)
        third = wall_font(21, bold=True)
        if self.look.root_cause:
            text = "◆ ROOT CAUSE?"
            metrics = QFontMetricsF(third)
            badge = QRectF(
                inner.left() - 4, y + 3, metrics.horizontalAdvance(text) + 14, metrics.height() + 4
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(qcolor(ROOT_CAUSE))
            painter.drawRoundedRect(badge, 4, 4)
            draw_text(painter, badge, text, third, "#000000", Qt.AlignmentFlag.AlignCenter)
        else:
            blocked = [d for d in self.look.details if d.startswith("blocked by")]
            if blocked:
                third = fitted_font(blocked[0], third, width, 0.8)
                self._draw_line(painter, blocked[0], third, colour, inner, y + 3)


class WallStatusGraph(StatusGraphView):
    """The desk's dependency graph, read-only, allowed to grow as large as the wall allows."""

    node_item_class = WallServiceNode

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setInteractive(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # A graph narrower than its area hangs from the top, level with the signals beside it.
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setMinimumSize(10, 10)

    def fit_scene(self) -> None:
        """Scale the whole graph into the view (no upper limit: the wall is read from afar)."""
        rect = self.sceneRect()
        viewport = self.viewport().rect()
        if rect.isEmpty() or viewport.isEmpty():
            return
        scale = min(viewport.width() / rect.width(), viewport.height() / rect.height())
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(rect.center())


class OverviewPage(WallPage):
    """Golden path, verdict and root cause, the status graph and the worst signals."""

    title = "Overview"

    def __init__(self, session: Session, scale: WallScale, parent: QWidget | None = None) -> None:
        super().__init__(session, scale, parent)
        self.golden_path = GoldenPathStrip(session, scale)
        self.verdict = VerdictLines(session, scale)
        self.status_graph = WallStatusGraph(session)
        self.worst_signals = WorstSignals(session, scale)
        lower = QHBoxLayout()
        lower.setSpacing(0)
        lower.addWidget(self.status_graph, 3)
        lower.addWidget(self.worst_signals, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.golden_path)
        layout.addWidget(self.verdict)
        layout.addLayout(lower, 1)
        self._layout = layout
        self.set_scale(scale)
        self._show(session.health)

    @property
    def subtitle(self) -> str:
        return "where the journey breaks, and why"

    def page_status(self) -> str | None:
        return self.verdict.verdict[0]

    def set_scale(self, scale: WallScale) -> None:
        super().set_scale(scale)
        margin = scale.px(14)
        self._layout.setContentsMargins(margin, scale.px(6), margin, margin)
        for widget in (self.golden_path, self.verdict, self.worst_signals):
            widget.set_scale(scale)
        self.status_graph.fit_scene()

    def on_session_update(self, update: SessionUpdate) -> None:
        if update.health_changed:
            self._show(self.session.health)

    def _show(self, health: HealthReport) -> None:
        self.golden_path.show_health(health)
        self.verdict.show_health(health)
        self.status_graph.show_health(health)
        self.worst_signals.show_health(health)


# -- one service -----------------------------------------------------------------------------


class ServiceStatusPanel(QWidget):
    """A service's status as a large tile, and why: findings, blockers, what it blocks, age."""

    def __init__(self, session: Session, service_id: str, scale: WallScale) -> None:
        super().__init__()
        self.session = session
        self.service_id = service_id
        self.scale = scale
        self.status = "unknown"
        self.lines: list[tuple[str, str]] = []
        self.root_cause = False
        self.age_text = ""
        self.age_style: str | None = None
        self.setMinimumSize(10, 10)

    def set_scale(self, scale: WallScale) -> None:
        self.scale = scale
        self.update()

    def show_health(self, health: HealthReport) -> None:
        """Show the service's status, findings, blockers and dependents it blocks."""
        workspace = self.session.workspace
        sid = self.service_id
        own = health.services[sid]
        status = display_status(own.status, own.blocked)
        lines = [
            (
                STATUS_STYLES[f.level].fill,
                f"{STATUS_STYLES[f.level].symbol} " + describe_finding(workspace, sid, f),
            )
            for f in own.findings
        ]
        if own.blocked_by:
            names = ", ".join(workspace.services[d].name for d in own.blocked_by)
            lines.append((BLOCKED_EDGE, f"{STATUS_STYLES['blocked'].symbol} blocked by {names}"))
        blocks = [
            workspace.services[d].name
            for d in workspace.dependents_of(sid)
            if sid in health.services[d].blocked_by
        ]
        if blocks:
            lines.append((BLOCKED_EDGE, "➜ blocks " + ", ".join(blocks)))
        if not lines and own.status == "ok":
            lines.append((STATUS_STYLES["ok"].fill, "every metric within its limits"))
        root = sid in health.root_cause_candidates[:1]
        if (status, lines, root) != (self.status, self.lines, self.root_cause):
            self.status, self.lines, self.root_cause = status, lines, root
            self.update()

    def show_age(self, age_s: float | None, stale: bool) -> None:
        """Show how old the service's newest data is (a STALE pill past its limit)."""
        if age_s is None:
            text, style = "NO DATA", "unknown"
        elif stale:
            text, style = f"◷ STALE · data {format_duration(age_s)} old", "stale"
        else:
            text, style = f"data {format_duration(age_s)} old", None
        if (text, style) != (self.age_text, self.age_style):
            self.age_text, self.age_style = text, style
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        scale = self.scale
        painter = QPainter(self)
        rect = QRectF(self.rect())
        painter.fillRect(rect, qcolor(PANEL))
        pad = scale.px(20)
        inner = rect.adjusted(pad, pad, -pad, -pad)
        style = STATUS_STYLES[self.status]

        tile_height = scale.px(HEADLINE_PX * 2.1)
        tile = QRectF(inner.left(), inner.top(), inner.width(), tile_height)
        draw_status_tile(painter, tile, self.status, scale, emphasised=self.root_cause)
        draw_text(
            painter,
            tile.adjusted(scale.px(22), 0, -scale.px(12), 0),
            f"{style.symbol} {style.word}",
            scale.font(HEADLINE_PX * 1.15, bold=True),
            style.text,
        )
        y = tile.bottom() + scale.px(16)
        if self.root_cause:
            height = scale.px(BODY_PX * 1.5)
            draw_pill(
                painter,
                inner.left(),
                y,
                height,
                "◆ ROOT-CAUSE CANDIDATE",
                scale.font(BODY_PX, bold=True),
                ROOT_CAUSE,
                "#000000",
            )
            y += height + scale.px(12)

        age_height = scale.px(SMALL_PX * 1.6)
        bottom = inner.bottom() - age_height - scale.px(8)
        wrap = int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignTop)
        # The reasons in large type when they all fit, else in body type.
        for size in (LARGE_PX, BODY_PX):
            font = scale.font(size, bold=True)
            metrics = QFontMetricsF(font)
            heights = [
                min(
                    metrics.boundingRect(QRectF(0, 0, inner.width(), 10_000), wrap, text).height(),
                    2 * metrics.lineSpacing(),
                )
                + scale.px(10)
                for _, text in self.lines
            ]
            if y + sum(heights) <= bottom:
                break
        for colour, text in self.lines:
            needed = metrics.boundingRect(QRectF(0, 0, inner.width(), 10_000), wrap, text)
            height = min(needed.height(), 2 * metrics.lineSpacing())
            if y + metrics.height() > bottom:
                break
            painter.setFont(font)
            painter.setPen(qcolor(colour))
            painter.drawText(QRectF(inner.left(), y, inner.width(), height), wrap, text)
            y += height + scale.px(10)

        small = scale.font(SMALL_PX, bold=True)
        if self.age_style is not None:
            age_style = STATUS_STYLES[self.age_style]
            draw_pill(
                painter,
                inner.left(),
                inner.bottom() - age_height,
                age_height,
                self.age_text,
                small,
                age_style.fill,
                age_style.text,
            )
        else:
            draw_text(
                painter,
                QRectF(inner.left(), inner.bottom() - age_height, inner.width(), age_height),
                self.age_text,
                small,
                TEXT_DIM,
            )


def unjudged_services(health: HealthReport) -> list[str]:
    """Services whose status cannot be judged now: no data yet, or none fresh (stale)."""
    return [sid for sid, h in health.services.items() if h.status in ("unknown", "stale")]


#: Where a cell goes in a service page's grid: ``(row, column, row span, column span)``.
Cell = tuple[int, int, int, int]


def service_page_layout(charts: int) -> tuple[list[Cell], list[int]]:
    """Cells for the status panel and then each chart, and the columns' stretch factors.

    Charts stay wide (time runs left to right): one or two charts go right of the panel, in
    a column twice as wide as it; three as a 2×2 grid with the panel; four or five as 3×2.
    """
    if charts <= 1:
        return [(0, 0, 1, 1), (0, 1, 1, 1)][: charts + 1], [1, 2]
    if charts == 2:
        return [(0, 0, 2, 1), (0, 1, 1, 1), (1, 1, 1, 1)], [1, 2]
    columns = 2 if charts == 3 else 3
    cells = [(i // columns, i % columns, 1, 1) for i in range(charts + 1)]
    return cells, [1] * columns


class ServicePage(WallPage):
    """One service: its status panel and its charts (or one part of them: ``part`` of
    ``parts``, for a kind with more charts than fit on a page)."""

    def __init__(
        self,
        session: Session,
        service_id: str,
        scale: WallScale,
        specs: Sequence[ChartSpec] | None = None,
        part: tuple[int, int] = (1, 1),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(session, scale, parent)
        self.service_id = service_id
        service = session.workspace.services[service_id]
        self.part = part
        self._group_title = service.name
        self.title = service.name if part[1] == 1 else f"{service.name} {part[0]}/{part[1]}"
        kind = SERVICE_KIND_LABELS.get(service.kind, service.kind)
        self._subtitle = f"{kind} · {service.resource}"
        self.status_panel = ServiceStatusPanel(session, service_id, scale)
        specs = charts_for(service.kind) if specs is None else specs
        self.charts = [WallChart(session, service, spec, scale) for spec in specs]
        grid = QGridLayout(self)
        cells, stretches = service_page_layout(len(self.charts))
        for widget, (row, column, rows, columns) in zip(
            [self.status_panel, *self.charts], cells, strict=True
        ):
            grid.addWidget(widget, row, column, rows, columns)
        for column, stretch in enumerate(stretches):
            grid.setColumnStretch(column, stretch)
        for row in range(max(r + span for r, _, span, _ in cells)):
            grid.setRowStretch(row, 1)
        self._grid = grid
        self.set_scale(scale)
        self._apply_health(session.health)

    @property
    def subtitle(self) -> str:
        return self._subtitle

    @property
    def group(self) -> str:
        return self.service_id

    @property
    def group_title(self) -> str:
        return self._group_title

    def page_status(self) -> str | None:
        return self.status_panel.status

    def set_scale(self, scale: WallScale) -> None:
        super().set_scale(scale)
        margin = scale.px(14)
        self._grid.setContentsMargins(margin, scale.px(8), margin, margin)
        self._grid.setHorizontalSpacing(scale.px(26))
        self._grid.setVerticalSpacing(scale.px(18))
        self.status_panel.set_scale(scale)
        for chart in self.charts:
            chart.set_scale(scale)

    def on_session_update(self, update: SessionUpdate) -> None:
        if update.health_changed:
            self._apply_health(self.session.health)

    def _apply_health(self, health: HealthReport) -> None:
        self.status_panel.show_health(health)
        service_health = health.services.get(self.service_id)
        for chart in self.charts:
            chart.apply_health(service_health)

    def refresh(self, now: float) -> None:
        limit = self.session.stale_after().get(self.service_id, 0.0)
        for chart in self.charts:
            chart.refresh(now, limit)
        ages = [c.age_s for c in self.charts if c.age_s is not None]
        age = min(ages) if ages else None
        self.status_panel.show_age(age, age is not None and age > limit)


def service_page_order(session: Session) -> list[str]:
    """Golden-path services in path order, then the other services in workspace order."""
    order: list[str] = []
    for step in session.workspace.golden_path:
        if step.service not in order:
            order.append(step.service)
    order.extend(sid for sid in session.workspace.services if sid not in order)
    return order


def chart_parts(specs: Sequence[ChartSpec]) -> list[list[ChartSpec]]:
    """``specs`` in as few pages as hold at most ``MAX_CHARTS_PER_PAGE`` each, split evenly
    and in order (six charts: three and three, not five and one)."""
    count = max(1, math.ceil(len(specs) / MAX_CHARTS_PER_PAGE))
    size = math.ceil(len(specs) / count) if specs else 0
    return [list(specs[i : i + size]) for i in range(0, len(specs), size)] if size else [[]]


def build_pages(
    session: Session,
    scale: WallScale,
    early_pages: Sequence[WallPage] = (),
    extra_pages: Sequence[WallPage] = (),
) -> list[WallPage]:
    """The wall's pages: the overview, ``early_pages`` (the recovery criteria), the pages of
    each service, then ``extra_pages`` (the timeline, pages of later work)."""
    pages: list[WallPage] = [OverviewPage(session, scale), *early_pages]
    for sid in service_page_order(session):
        parts = chart_parts(charts_for(session.workspace.services[sid].kind))
        for number, specs in enumerate(parts, start=1):
            pages.append(ServicePage(session, sid, scale, specs, (number, len(parts))))
    pages.extend(extra_pages)
    return pages


__all__ = [
    "MAX_CHARTS_PER_PAGE",
    "OverviewPage",
    "ServicePage",
    "WallPage",
    "build_pages",
    "chart_parts",
    "service_page_layout",
    "service_page_order",
]
