"""The resources panel: each Cloud Run service's traffic split and limits, each connector's state.

One card per resource, in workspace order. A Cloud Run card is a bar split by revision, each
segment labelled with the revision and its percent (a service whose traffic is split over more
than one revision says so in its title, so the backend's two revisions show at a glance), then the
service-level min/max instances and, per revision, its own limits, readiness and instances where
known. A connector card shows its state, machine type and how its instances sit against min and
max. Every card says how old its reading is. The state comes from ``Session.resources``
(``console.resource_state``), reported by the Cloud Run state source or the demo simulation;
``show_resources`` feeds it any states instead (the review: those recorded at its cursor).

``install_resource_panel`` adds it to the window as the "Resources" panel (key R).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from console.durations import format_duration
from console.resource_state import (
    CloudRunServiceState,
    ConnectorState,
    ResourceState,
    short_revision,
)
from console.session import Session, SessionUpdate
from console.units import format_clock
from ui.scroll_column import scroll_column
from ui.theme import (
    CURVE_COLOURS,
    PANEL,
    PANEL_BORDER,
    STATUS_STYLES,
    TEXT,
    TEXT_DIM,
    qcolor,
)

if TYPE_CHECKING:
    from ui.main_window import MainWindow

#: Segment colours by rank of traffic share (largest first); never a status colour.
SEGMENT_COLOURS = CURVE_COLOURS
BAR_HEIGHT = 26


class SplitBar(QWidget):
    """A horizontal bar: one segment per ``(label, fraction)``, labelled when it fits."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.segments: list[tuple[str, float]] = []
        #: A marker at this fraction of the bar (a connector's min), or None.
        self.marker: float | None = None
        self.setMinimumHeight(BAR_HEIGHT)
        self.setMaximumHeight(BAR_HEIGHT)

    def sizeHint(self) -> QSize:
        return QSize(240, BAR_HEIGHT)

    def set_segments(self, segments: list[tuple[str, float]], marker: float | None = None) -> None:
        if segments != self.segments or marker != self.marker:
            self.segments, self.marker = segments, marker
            self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.fillRect(rect, qcolor(PANEL_BORDER))
        font = QFont(self.font())
        font.setPointSizeF(9.5)
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        x = rect.left()
        for index, (label, fraction) in enumerate(self.segments):
            width = rect.width() * max(0.0, min(1.0, fraction))
            if width <= 0:
                continue
            segment = QRectF(x, rect.top(), width, rect.height())
            painter.fillRect(segment, qcolor(SEGMENT_COLOURS[index % len(SEGMENT_COLOURS)]))
            if metrics.horizontalAdvance(label) + 8 <= width:
                painter.setPen(qcolor("#111111"))
                painter.drawText(segment, Qt.AlignmentFlag.AlignCenter, label)
            x += width
            if x < rect.right():  # a thin gap shows where one revision ends
                painter.setPen(QPen(qcolor(PANEL), 2))
                painter.drawLine(int(x), int(rect.top()), int(x), int(rect.bottom()))
        if self.marker is not None:
            mx = rect.left() + rect.width() * self.marker
            painter.setPen(QPen(qcolor(TEXT), 2))
            painter.drawLine(int(mx), int(rect.top()), int(mx), int(rect.bottom()))
        painter.setPen(QPen(qcolor(PANEL_BORDER), 1))
        painter.drawRect(rect)
        painter.end()


class ResourceCard(QFrame):
    """One resource: a title, a bar and the detail lines.

    ``recorded``: the state comes from a recording, which keeps a state when it changed, so the
    title says since when it held ("since 16:02:20 (40s)", ``observed_at`` as
    ``console.recorded_resources`` sets it) instead of how old the reading is.
    """

    def __init__(self, name: str, parent: QWidget | None = None, *, recorded: bool = False) -> None:
        super().__init__(parent)
        self.name = name
        self.recorded = recorded
        self.setObjectName("resourceCard")
        self.setStyleSheet(
            f"#resourceCard {{ background: {PANEL}; border: 1px solid {PANEL_BORDER};"
            " border-radius: 4px; }"
        )
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setStyleSheet("font-size: 10.5pt; border: none;")
        self.title.setWordWrap(True)
        self.bar = SplitBar()
        self.detail = QLabel()
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setWordWrap(True)
        self.detail.setStyleSheet(f"color: {TEXT}; font-size: 9.5pt; border: none;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)

    def show_state(self, state: ResourceState, now: float) -> None:
        if isinstance(state, ConnectorState):
            self._show_connector(state, now)
        else:
            self._show_service(state, now)

    def _age(self, state: ResourceState, now: float) -> str:
        if not state.observed_at:
            return ""
        age = max(0.0, now - state.observed_at)
        if self.recorded:
            return f"since {format_clock(state.observed_at)} ({format_duration(age)})"
        return f"read {format_duration(age)} ago" if age >= 2 else "read just now"

    def _title(self, text: str, badge: str, badge_colour: str, age: str) -> None:
        badge_html = (
            f" &nbsp;<span style='background:{badge_colour}; color:#111111;'>&nbsp;{badge}&nbsp;"
            "</span>"
            if badge
            else ""
        )
        age_html = f" &nbsp;<span style='color:{TEXT_DIM}; font-size:9pt;'>{age}</span>"
        self.title.setText(f"<b>{text}</b>{badge_html}{age_html if age else ''}")

    def _show_service(self, state: CloudRunServiceState, now: float) -> None:
        traffic = state.traffic()
        badge = f"SPLIT · {len(traffic)} revisions" if state.split else ""
        if not badge and any(not r.ready for r in state.revisions if r.percent > 0):
            badge = "NOT READY"
        self._title(self.name, badge, STATUS_STYLES["degraded"].fill, self._age(state, now))
        self.bar.set_segments(
            [(f"{short_revision(state.resource, r)} {p}%", p / 100.0) for r, p in traffic]
        )
        colour_of = {
            name: SEGMENT_COLOURS[i % len(SEGMENT_COLOURS)] for i, (name, _) in enumerate(traffic)
        }
        limits = (
            f"service min <b>{_n(state.min_instances)}</b> max <b>{_n(state.max_instances)}</b>"
        )
        parts = [limits + (" · <i>reconciling</i>" if state.reconciling else "")]
        tips = [
            f"{state.resource}: service-level min {_n(state.min_instances)}, "
            f"max {_n(state.max_instances)} instances"
        ]
        for revision in state.revisions:
            short = short_revision(state.resource, revision.name)
            running = "" if revision.instances is None else f" {revision.instances} running"
            if revision.percent > 0 or revision.instances:
                swatch = colour_of.get(revision.name, TEXT_DIM)
                parts.append(f"<span style='color:{swatch}'>■</span> {short}{running}")
            own = ""
            if revision.min_instances is not None or revision.max_instances is not None:
                own = f", own min {_n(revision.min_instances)} max {_n(revision.max_instances)}"
            tips.append(
                f"{short}: {revision.percent}% of traffic"
                + (" (as latest)" if revision.via_latest else "")
                + own
                + ("" if revision.instances is None else f", {revision.instances} running")
                + ("" if revision.ready else ", NOT READY")
            )
        self.detail.setText(" · ".join(parts))
        self.setToolTip("\n".join(tips))

    def _show_connector(self, state: ConnectorState, now: float) -> None:
        high = state.max_instances or 0
        running = state.instances
        at_max = bool(high) and running is not None and running >= high
        badge = state.state if state.state != "READY" else ("AT MAX" if at_max else "")
        self._title(self.name, badge, STATUS_STYLES["degraded"].fill, self._age(state, now))
        if high and running is not None:
            marker = (state.min_instances or 0) / high if state.min_instances else None
            self.bar.set_segments([(f"{running} of max {high} instances", running / high)], marker)
        else:
            self.bar.set_segments(
                [(f"max {_n(state.max_instances)} instances", 1.0 if high else 0.0)]
            )
        detail = (
            f"{state.state} · {state.machine_type or '?'} · min <b>{_n(state.min_instances)}</b>"
            f" max <b>{_n(state.max_instances)}</b>"
        )
        self.detail.setText(detail)
        throughput = ""
        if state.max_throughput_mbps:
            throughput = (
                f", throughput {_n(state.min_throughput_mbps)}–{state.max_throughput_mbps} Mbps"
            )
        self.setToolTip(
            f"{state.full_name or state.resource}: {state.state}, {state.machine_type}, "
            f"min {_n(state.min_instances)} max {_n(state.max_instances)} instances"
            + ("" if running is None else f", {running} running")
            + throughput
            + (" (the white line marks the minimum)" if running is not None and high else "")
        )


def _n(value: int | None) -> str:
    return "–" if value is None else str(value)


def needs_attention(state: ResourceState) -> bool:
    """A split service, a revision with traffic that is not ready, a connector at its maximum or
    not READY: what the commander should see first."""
    if isinstance(state, ConnectorState):
        at_max = state.max_instances is not None and (state.instances or 0) >= state.max_instances
        return state.state != "READY" or at_max
    return (
        state.split
        or state.reconciling
        or any(not r.ready for r in state.revisions if r.percent > 0)
    )


def card_order(services: Mapping[str, object], resources: Mapping[str, ResourceState]) -> list[str]:
    """Service ids with resource state: those needing attention first, then workspace order."""
    order = list(services)

    def rank(service_id: str) -> tuple[bool, int]:
        position = order.index(service_id) if service_id in order else len(order)
        return (not needs_attention(resources[service_id]), position)

    return sorted(resources, key=rank)


class ResourcePanel(QWidget):
    """Cards for every resource the session knows the state of, in workspace order.

    ``recorded``: the states shown are a recording's (the review), see ``ResourceCard``.
    """

    def __init__(
        self, session: Session, parent: QWidget | None = None, *, recorded: bool = False
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.recorded = recorded
        self.cards: dict[str, ResourceCard] = {}
        self._order: list[str] = []
        caption = QLabel("RESOURCES · traffic split and instance limits")
        caption.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9pt; font-weight: bold;")
        self.empty = QLabel(
            "No resource state yet: the Cloud Run state source reads revisions, traffic and "
            "limits every 30 s."
        )
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(f"color: {TEXT_DIM};")
        self._cards_box = QWidget()
        self._cards_layout = QVBoxLayout(self._cards_box)
        self._cards_layout.setContentsMargins(0, 0, 0, 0)
        self._cards_layout.setSpacing(6)
        self._cards_layout.addWidget(self.empty)
        self._cards_layout.addStretch(1)
        scroll = scroll_column(self._cards_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(caption)
        layout.addWidget(scroll, 1)
        self.setMinimumWidth(220)
        self.refresh()

    def on_session_update(self, update: SessionUpdate) -> None:
        """Redraw the cards whose state changed (or whose connector's instance count did)."""
        if update.resources_changed or any(m == "instances" for _, m in update.changed_keys):
            self.refresh()

    def _with_instances(self, service_id: str, state: ResourceState) -> ResourceState:
        """A connector's API state does not say how many instances run: Monitoring does."""
        if isinstance(state, ConnectorState) and state.instances is None:
            running = _monitored_instances(self.session, service_id)
            if running is not None:
                return replace(state, instances=running)
        return state

    def refresh(self, now: float | None = None) -> None:
        """Show every known state (ages move with the clock)."""
        now = self.session.clock.now() if now is None else now
        self.show_resources(self.session.resources, now)

    def show_resources(
        self,
        resources: Mapping[str, ResourceState],
        now: float,
        empty_text: str | None = None,
    ) -> None:
        """Show these states (ages as of ``now``); cards of services not in ``resources`` are
        hidden. ``empty_text`` replaces what the panel says when there is nothing to show (the
        review feeds the states recorded at its cursor this way)."""
        resources = {sid: self._with_instances(sid, s) for sid, s in resources.items()}
        self.empty.setVisible(not resources)
        if empty_text is not None and empty_text != self.empty.text():
            self.empty.setText(empty_text)
        for service_id, card in self.cards.items():
            card.setVisible(service_id in resources)
        order = card_order(self.session.workspace.services, resources)
        for service_id in order:
            card = self.cards.get(service_id)
            if card is None:
                service = self.session.workspace.services.get(service_id)
                card = ResourceCard(service.name if service else service_id, recorded=self.recorded)
                self.cards[service_id] = card
            card.show_state(resources[service_id], now)
        if order != self._order:
            self._order = order
            for index, service_id in enumerate(order):
                self._cards_layout.insertWidget(index + 1, self.cards[service_id])


def _monitored_instances(session: Session, service_id: str) -> int | None:
    reading = session.store.latest((service_id, "instances"))
    if reading is None or reading[1] != reading[1]:
        return None
    return round(reading[1])


def install_resource_panel(window: MainWindow) -> ResourcePanel:
    """Add the resources panel to ``window`` ("Resources", key R) and keep it updated."""
    panel = ResourcePanel(window.session)
    window.add_panel(panel, "Resources", ["R"])
    window.bridge.updated.connect(panel.on_session_update)
    window.bridge.ticked.connect(panel.refresh)
    return panel
