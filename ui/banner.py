"""The incident banner: what incident, where, for how long, and where the golden path breaks.

Top row: the environment (an unmistakable red PRODUCTION band, or a calm staging marker), a DEMO
label for the simulation, the title, the GCP project and region, the time since the incident
started and the wall clock (both from the session's clock, so a screenshot or a replay shows its
own time). Below: the golden path as a strip of chips, one per step, with the first broken step
emphasised, and the root-cause candidate with the findings that make it one.

The banner only shows ``session.health`` (``console.health`` decides every status) and formats
findings with ``console.status_report.describe_finding``; it decides nothing itself.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from console.durations import format_duration
from console.health import GoldenPathStepHealth, HealthReport
from console.session import Session, SessionUpdate
from console.status_report import describe_finding
from console.workspace import Workspace
from ui.escalation_view import EscalationCountdown
from ui.theme import (
    BLOCKED_EDGE,
    DEMO,
    PANEL,
    PANEL_BORDER,
    PRODUCTION,
    ROOT_CAUSE,
    STAGING,
    STATUS_STYLES,
    TEXT,
    TEXT_DIM,
    display_status,
)


def incident_started_at(session: Session, fallback: float) -> float:
    """When the incident started: the simulation's own start, the workspace's, else ``fallback``.

    ``fallback`` is the time the session was opened.
    """
    for source in session.sources:
        started = getattr(source, "incident_started_at", None)
        if started is not None:
            return float(started)
    if session.workspace.incident.started_at is not None:
        return session.workspace.incident.started_at
    return fallback


#: Text as tall as any one line a status label shows (the status symbols come from fallback fonts).
_TALLEST_LINE = "Ag ✔✖▲◆⊘◑●○◷?…"


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when it is too narrow, instead of being cut off.

    ``text()`` stays the full text; the tooltip shows it too.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:
        if text != self.text():
            super().setText(text)
            self.setToolTip(text)

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self._line_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self._line_height())

    def _line_height(self) -> int:
        """As tall as any line the label may show, whatever it shows now: a status symbol drawn
        from a fallback font is taller than plain text, and a label whose height followed its
        text would make the whole window below it jump."""
        flags = int(self.alignment()) | int(Qt.TextFlag.TextSingleLine)
        text = self.fontMetrics().boundingRect(QRect(0, 0, 100_000, 1_000), flags, _TALLEST_LINE)
        margins = self.contentsMargins()
        frame = 2 * self.frameWidth() + 2 * self.margin()
        return text.height() + margins.top() + margins.bottom() + frame

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        elided = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment()), elided)


def _pill_style(background: str, foreground: str = "#ffffff") -> str:
    return (
        f"background: {background}; color: {foreground}; font-weight: bold; font-size: 11pt;"
        "padding: 3px 10px; border-radius: 4px;"
    )


#: The border of the step where the golden path first breaks (the thickest a chip has).
_FIRST_BREAK_BORDER_PX = 4


class GoldenPathChip(QFrame):
    """One golden-path step: label and service, status word and symbol, and why."""

    def __init__(self, service_name: str, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("golden_path_chip")
        self.service_name = service_name
        self.display_status = ""
        self.place = ""
        title = label if label == service_name else f"{label} · {service_name}"
        self.title_label = ElidedLabel(title)
        self.status_label = ElidedLabel()
        self.detail_label = ElidedLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 5, 10, 5)
        layout.setSpacing(1)
        for widget in (self.title_label, self.status_label, self.detail_label):
            layout.addWidget(widget)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(150)

    @property
    def status_text(self) -> str:
        """The status line as shown, e.g. ``✖ FAILING``."""
        return self.status_label.text()

    @property
    def detail_text(self) -> str:
        """The detail line as shown, e.g. ``blocked by VPC connector``."""
        return self.detail_label.text()

    def show_step(self, status: str, detail: str, place: str) -> None:
        """Show one state of the step; restyles only when the look changes.

        ``place`` is where the step stands relative to the first break: ``"first_break"``
        (emphasised: thick light border), ``"downstream"`` (after it: drawn subdued, since it
        only follows from the break) or ``"upstream"``.
        """
        style = STATUS_STYLES[status]
        self.status_label.setText(f"{style.symbol} {style.word}")
        self.detail_label.setText(detail)
        if (status, place) == (self.display_status, self.place):
            return
        self.display_status, self.place = status, place
        fill = style.fill
        width, border = 1, f"solid {PANEL_BORDER}"
        if place == "first_break":
            width, border = _FIRST_BREAK_BORDER_PX, f"solid {TEXT}"
        elif place == "downstream":
            fill = _blend(style.fill, PANEL, 0.55)
        if status == "blocked" and place != "first_break":
            width, border = 2, f"dashed {BLOCKED_EDGE}"
        # The thicker the border, the thinner the padding: a chip keeps its size whatever its
        # state, so the banner (and everything under it) never jumps when the break moves.
        pad = _FIRST_BREAK_BORDER_PX - width
        self.layout().setContentsMargins(10 + pad, 5 + pad, 10 + pad, 5 + pad)
        border = f"{width}px {border}"
        self.setStyleSheet(
            f"QFrame#golden_path_chip {{ background: {fill}; border: {border};"
            " border-radius: 6px; }"
            f" QLabel {{ background: transparent; color: {style.text}; }}"
        )
        self.title_label.setStyleSheet("font-size: 11pt; font-weight: bold;")
        self.status_label.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.detail_label.setStyleSheet("font-size: 10pt;")

    @property
    def emphasised(self) -> bool:
        """True for the first broken step of the path."""
        return self.place == "first_break"


def _blend(colour: str, background: str, amount: float) -> str:
    """``colour`` laid over ``background`` with opacity ``amount``, as ``#rrggbb``."""
    top, bottom = QColor(colour), QColor(background)
    mixed = QColor(
        round(top.red() * amount + bottom.red() * (1 - amount)),
        round(top.green() * amount + bottom.green() * (1 - amount)),
        round(top.blue() * amount + bottom.blue() * (1 - amount)),
    )
    return mixed.name()


class IncidentBanner(QWidget):
    """The banner above everything: incident, environment, clocks, golden path, root cause."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.opened_at = session.clock.now()
        incident = session.workspace.incident
        self.setObjectName("incident_banner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            f"QWidget#incident_banner {{ background: {PANEL};"
            f" border-bottom: 1px solid {PANEL_BORDER}; }}"
            " QLabel { background: transparent; }"
        )

        production = incident.environment == "production"
        self.production_band = QLabel(
            "⚠  PRODUCTION  ·  real users  ·  every action changes live systems"
        )
        self.production_band.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.production_band.setStyleSheet(
            f"background: {PRODUCTION}; color: #ffffff; font-size: 15pt; font-weight: bold;"
            "padding: 4px; letter-spacing: 2px;"
        )
        self.production_band.setVisible(production)

        self.environment_label = QLabel(incident.environment.upper())
        self.environment_label.setStyleSheet(_pill_style(PRODUCTION if production else STAGING))
        self.environment_label.setToolTip(f"Environment: {incident.environment}")
        self.demo_label = QLabel("DEMO · simulated data")
        self.demo_label.setStyleSheet(_pill_style(DEMO))
        self.demo_label.setToolTip("This workspace runs on the built-in simulation, not on GCP.")
        self.demo_label.setVisible(session.workspace.is_demo)

        self.title_label = ElidedLabel(incident.title)
        self.title_label.setStyleSheet(f"color: {TEXT}; font-size: 17pt; font-weight: bold;")
        where = " · ".join(
            part
            for part in (incident.reference, f"project {incident.project}", incident.region)
            if part and part != "project "
        )
        self.location_label = ElidedLabel(where)
        self.location_label.setStyleSheet(f"color: {TEXT_DIM}; font-size: 11pt;")

        self.elapsed_label = QLabel()
        self.elapsed_label.setStyleSheet(f"color: {TEXT}; font-size: 15pt; font-weight: bold;")
        self.elapsed_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.clock_label = QLabel()
        self.clock_label.setStyleSheet(f"color: {TEXT_DIM}; font-size: 11pt;")
        self.clock_label.setAlignment(Qt.AlignmentFlag.AlignRight)

        self.verdict_label = ElidedLabel()
        self.root_cause_label = ElidedLabel()

        heading = QHBoxLayout()
        heading.setSpacing(10)
        heading.addWidget(self.environment_label)
        heading.addWidget(self.demo_label)
        heading.addWidget(self.title_label, 1)
        #: The next escalation decision's countdown (hidden while no timer runs).
        self.escalation_countdown = EscalationCountdown(session)
        heading.addWidget(self.escalation_countdown)
        heading.addWidget(self.elapsed_label)
        subheading = QHBoxLayout()
        subheading.addWidget(self.location_label, 1)
        subheading.addWidget(self.clock_label)

        self.chips: list[GoldenPathChip] = []
        self.arrows: list[QLabel] = []
        self.path_strip = QHBoxLayout()
        self.path_strip.setSpacing(4)
        caption = QLabel("GOLDEN\nPATH")
        caption.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9pt; font-weight: bold;")
        self.path_strip.addWidget(caption)
        services = session.workspace.services
        for index, step in enumerate(session.workspace.golden_path):
            if index:
                arrow = QLabel("➜")
                arrow.setStyleSheet(f"color: {TEXT_DIM}; font-size: 16pt;")
                self.arrows.append(arrow)
                self.path_strip.addWidget(arrow)
            chip = GoldenPathChip(services[step.service].name, step.label)
            self.chips.append(chip)
            self.path_strip.addWidget(chip, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(4)
        layout.addWidget(self.production_band)
        body = QVBoxLayout()
        body.setContentsMargins(12, 6, 12, 0)
        body.setSpacing(4)
        body.addLayout(heading)
        body.addLayout(subheading)
        body.addWidget(self.verdict_label)
        body.addLayout(self.path_strip)
        body.addWidget(self.root_cause_label)
        layout.addLayout(body)

        self.show_health(session.health)
        self.set_now(session.clock.now())

    # -- updates ------------------------------------------------------------------------------

    def on_session_update(self, update: SessionUpdate) -> None:
        """Re-read the health after a drain (texts only change when their values do)."""
        self.show_health(self.session.health)

    def set_now(self, now: float) -> None:
        """Move the elapsed time and the wall clock to ``now`` (the session clock's time)."""
        started = incident_started_at(self.session, self.opened_at)
        self.elapsed_label.setText(f"incident for {format_duration(now - started)}")
        self.escalation_countdown.set_now(now)
        stamp = datetime.fromtimestamp(now).astimezone()
        self.clock_label.setText(stamp.strftime("%H:%M:%S %Z  ·  %a %d %b"))

    def show_health(self, health: HealthReport) -> None:
        """Show the golden path and the root-cause candidate of ``health``."""
        names = {sid: s.name for sid, s in self.session.workspace.services.items()}
        place = "upstream"
        for chip, step in zip(self.chips, health.golden_path, strict=True):
            if step.service == health.first_broken:
                place = "first_break"
            status = display_status(step.status, bool(step.blocked_by))
            chip.show_step(status, self._step_detail(step, health), place)
            if place == "first_break":
                place = "downstream"
        self._show_verdict(health, names)
        self._show_root_cause(health, names)

    # -- texts --------------------------------------------------------------------------------

    def _step_detail(self, step: GoldenPathStepHealth, health: HealthReport) -> str:
        names = self.session.workspace.services
        if step.blocked_by:
            return "blocked by " + ", ".join(names[sid].name for sid in step.blocked_by)
        findings = health.services[step.service].findings
        if findings:
            return describe_finding(self.session.workspace, step.service, findings[0])
        return ""

    def _show_verdict(self, health: HealthReport, names: dict[str, str]) -> None:
        status, text = golden_path_verdict(health, names)
        _show(self.verdict_label, text, STATUS_STYLES[status].fill, "13pt")

    def _show_root_cause(self, health: HealthReport, names: dict[str, str]) -> None:
        text = root_cause_text(self.session.workspace, health)
        if text is None:
            # The same size as a candidate, so the banner keeps its height.
            _show(
                self.root_cause_label,
                "Root-cause candidate: none (no failing service)",
                size="13pt",
            )
            return
        _show(self.root_cause_label, text, ROOT_CAUSE, "13pt")


def golden_path_verdict(health: HealthReport, names: dict[str, str]) -> tuple[str, str]:
    """``(status, text)`` of the whole golden path: broken at a step, whole, without fresh data
    or degraded. ``names`` maps service ids to display names. The banner and the wall show it."""
    steps = health.golden_path
    broken = next((s for s in steps if s.service == health.first_broken), None)
    without_data = [s.label for s in steps if s.status in ("unknown", "stale")]
    if broken is not None:
        return "failing", f"✖ GOLDEN PATH BROKEN at {broken.label} ({names[broken.service]})"
    if all(s.status == "ok" for s in steps):
        return "ok", "✔ GOLDEN PATH WHOLE"
    if without_data:
        return "unknown", "? GOLDEN PATH: no fresh data for " + ", ".join(without_data)
    return "degraded", "▲ GOLDEN PATH DEGRADED"


def root_cause_text(workspace: Workspace, health: HealthReport) -> str | None:
    """``◆ Root-cause candidate: VPC connector (saturation 100% ≥ 95%)``, or None without one."""
    root = health.root_cause
    if root is None:
        return None
    names = {sid: s.name for sid, s in workspace.services.items()}
    failing = [f for f in health.services[root].findings if f.level == "failing"]
    reasons = "; ".join(describe_finding(workspace, root, f) for f in failing)
    text = f"◆ Root-cause candidate: {names[root]}" + (f" ({reasons})" if reasons else "")
    others = [names[sid] for sid in health.root_cause_candidates[1:]]
    if others:
        text += "   · also failing on its own: " + ", ".join(others)
    return text


def _show(label: QLabel, text: str, colour: str = TEXT_DIM, size: str = "12pt") -> None:
    """Set a label's text and colour; the style sheet is only re-applied when it changes."""
    label.setText(text)
    style = f"color: {colour}; font-size: {size}; font-weight: bold;"
    if label.styleSheet() != style:
        label.setStyleSheet(style)
