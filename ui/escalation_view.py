"""Escalation timers on screen: the banner's countdown, a row per timer, desktop notifications.

``EscalationCountdown`` is the banner's pill: the timer whose decision point comes first, with
the time left ("⚑ Escalate to Google Cloud support in 1h 52m"), turning into an unmissable
"⚠ DECIDE NOW" once due; hidden while no timer runs. ``TimerRow`` shows one timer in the
Recovery panel with the commands its state allows (start, acknowledge, snooze, cancel), each
asking for a reason (``ui.note_dialog.ReasonDialog``). ``DesktopNotifier`` announces a due timer
with a system-tray message where the desktop has a tray, and always by asking the window for
attention and in the status bar (offscreen and on desktops without a tray that is all there is).

The state and the rules live in ``console.escalation``; these widgets only show them and turn
clicks into its commands. A refused command (``TimerError``) is shown, never raised.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStyle,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from console.durations import format_duration
from console.escalation import EscalationTimer, TimerError
from console.session import Session
from console.units import format_clock
from console.workflow import IncidentWorkflow
from ui.note_dialog import ReasonDialog
from ui.theme import ACCENT, PANEL_BORDER, STATUS_STYLES, TEXT, TEXT_DIM

#: How each timer state reads: symbol, word, colour.
TIMER_LOOKS: dict[str, tuple[str, str, str]] = {
    "idle": ("○", "NOT STARTED", TEXT_DIM),
    "running": ("⚑", "RUNNING", ACCENT),
    "due": ("⚠", "DECISION DUE", STATUS_STYLES["failing"].fill),
    "acknowledged": ("✔", "ACKNOWLEDGED", STATUS_STYLES["ok"].fill),
    "cancelled": ("■", "CANCELLED", TEXT_DIM),
    "resolved": ("✔", "NOT NEEDED", STATUS_STYLES["ok"].fill),
}


class EscalationCountdown(QLabel):
    """The banner's countdown to the next escalation decision (hidden when none runs)."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("escalation_countdown")
        self._style = ""
        self.hide()

    def set_now(self, now: float) -> None:
        """Show the nearest decision point as of ``now`` (the session clock's time)."""
        workflow = self.session.workflow
        timer = workflow.timers.next_decision() if workflow is not None else None
        if timer is None:
            self.hide()
            return
        remaining = timer.remaining_s(now) or 0.0
        if timer.state == "due" or remaining <= 0:
            text = f"⚠ DECIDE NOW: {timer.title} · {timer.countdown_text(now)}"
            style = (
                f"background: {STATUS_STYLES['failing'].fill}; color: #ffffff; font-size: 13pt;"
                f" font-weight: bold; padding: 3px 10px; border-radius: 4px;"
            )
        else:
            text = f"⚑ {timer.title} {timer.countdown_text(now)}"
            style = (
                f"color: {TEXT}; border: 2px solid {ACCENT}; font-size: 12pt; font-weight: bold;"
                " padding: 2px 8px; border-radius: 4px;"
            )
        self.setText(text)
        self.setToolTip(
            f"{timer.title}: decision point at {format_clock(timer.deadline or now)}"
            + (f"\n{timer.detail}" if timer.detail else "")
            + "\nAcknowledge, snooze or cancel it in the Recovery panel (C)."
        )
        if style != self._style:
            self._style = style
            self.setStyleSheet(style)
        self.show()


class TimerRow(QFrame):
    """One escalation timer: state, countdown, and the commands its state allows."""

    def __init__(
        self,
        workflow: IncidentWorkflow,
        timer_id: str,
        report: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workflow = workflow
        self.timer_id = timer_id
        self.report = report
        self.dialog: ReasonDialog | None = None
        self.setObjectName("timer_row")
        self.setStyleSheet(
            f"QFrame#timer_row {{ border: 1px solid {PANEL_BORDER}; border-radius: 4px; }}"
        )
        self.state_label = QLabel()
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self.title_label.setStyleSheet(f"color: {TEXT}; font-weight: bold; font-size: 11pt;")
        self.detail_label = QLabel()
        self.detail_label.setWordWrap(True)
        self.detail_label.setStyleSheet(f"color: {TEXT_DIM};")
        self.start_button = QPushButton("Start")
        self.acknowledge_button = QPushButton("Acknowledge…")
        self.snooze_button = QPushButton("Snooze…")
        self.cancel_button = QPushButton("Cancel…")
        self.start_button.clicked.connect(self.start)
        self.acknowledge_button.clicked.connect(lambda: self.ask("acknowledge"))
        self.snooze_button.clicked.connect(lambda: self.ask("snooze"))
        self.cancel_button.clicked.connect(lambda: self.ask("cancel"))
        buttons = QHBoxLayout()
        for button in (
            self.start_button,
            self.acknowledge_button,
            self.snooze_button,
            self.cancel_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(2)
        layout.addWidget(self.state_label)
        layout.addWidget(self.title_label)
        layout.addWidget(self.detail_label)
        layout.addLayout(buttons)

    def show_timer(self, timer: EscalationTimer, now: float) -> None:
        """Show ``timer`` as of ``now``."""
        symbol, word, colour = TIMER_LOOKS[timer.state]
        when = timer.countdown_text(now)
        state = f"{symbol} {word}" + (f" · decision {when}" if when else "")
        self.state_label.setText(state)
        self.state_label.setStyleSheet(f"color: {colour}; font-weight: bold; font-size: 11pt;")
        self.title_label.setText(timer.title)
        lines = []
        if timer.detail:
            lines.append(timer.detail)
        if timer.state == "idle":
            start = {"hand": "by hand", "open": "when the console opens"}.get(
                timer.started_by, f"by the {timer.started_by} action"
            )
            lines.append(f"starts {start}; decision {format_duration(timer.after_s)} later")
        elif timer.started_at is not None:
            lines.append(f"started {format_clock(timer.started_at)}, by {timer.started_by}")
        if timer.deadline is not None and timer.state in ("running", "due"):
            lines.append(f"decision point {format_clock(timer.deadline)}")
        if timer.unless:
            lines.append(f"not needed if criterion {timer.unless} is met by then")
        if timer.reason and timer.state not in ("idle", "running"):
            lines.append(f"{timer.state}: {timer.reason}")
        elif timer.reason and timer.snoozes:
            lines.append(f"snoozed ×{timer.snoozes}: {timer.reason}")
        self.detail_label.setText("\n".join(lines))
        active = timer.state in ("running", "due")
        self.start_button.setVisible(not active)
        self.start_button.setText("Start" if timer.state == "idle" else "Start again")
        for button in (self.acknowledge_button, self.snooze_button, self.cancel_button):
            button.setVisible(active)

    def start(self) -> None:
        """Start (or restart) this timer by hand."""
        try:
            self.workflow.timers.start(self.timer_id)
        except TimerError as error:
            self.report(str(error))

    def ask(self, command: str) -> ReasonDialog:
        """Open the reason dialog for ``command`` (acknowledge, snooze or cancel)."""
        timer = self.workflow.timers.get(self.timer_id)
        prompts = {
            "acknowledge": "The decision is taken (e.g. escalated: GCP case number). "
            "The timer ends.",
            "snooze": "Push the decision point back. Why is more time needed?",
            "cancel": "The timer is no longer needed. Why?",
        }
        self.dialog = ReasonDialog(
            f"{command.capitalize()}: {timer.title}",
            prompts[command],
            self,
            duration_s=timer.snooze_s if command == "snooze" else None,
        )
        dialog = self.dialog
        dialog.accepted.connect(lambda: self._run(command, dialog))
        dialog.open()
        return dialog

    def _run(self, command: str, dialog: ReasonDialog) -> None:
        timers = self.workflow.timers
        try:
            if command == "acknowledge":
                timers.acknowledge(self.timer_id, dialog.reason())
            elif command == "snooze":
                timers.snooze(self.timer_id, dialog.reason(), dialog.duration())
            else:
                timers.cancel(self.timer_id, dialog.reason())
        except TimerError as error:
            self.report(str(error))


class DesktopNotifier:
    """Announces a decision point: tray message where there is a tray, and always in-window."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        #: Every notification given, ``(title, text)``, oldest first.
        self.shown: list[tuple[str, str]] = []
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            icon = window.windowIcon()
            if icon.isNull():
                style = QApplication.style()
                icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self.tray = QSystemTrayIcon(QIcon(icon), window)
            self.tray.setToolTip("Incident Console")

    @property
    def has_tray(self) -> bool:
        """True when messages also go to the desktop's system tray."""
        return self.tray is not None

    def notify(self, title: str, text: str) -> None:
        """Show ``title``/``text`` as a desktop notification (degrading gracefully)."""
        self.shown.append((title, text))
        if self.tray is not None:
            self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 0)
        QApplication.alert(self.window, 0)
        self.window.statusBar().showMessage(f"⚠ {title}: {text}", 0)
