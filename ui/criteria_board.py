"""The Recovery panel: the recovery criteria board, the probes' last runs and the escalation timers.

Top: the verdict ("✖ NOT RECOVERED · 2 of 5 criteria met" or "✔ RECOVERED"), which only turns
green when every criterion is met. Then one card per criterion: its state by word, symbol and
colour (MET, HOLDING with a bar of the sustain period and the time still to go, NOT MET since
when and why, NOT YET MEASURABLE), its title and what the numbers say. Then each probe's last
run (passed or where it stopped and why, how long, which events arrived, how long ago; "secret
missing" when it cannot run), and the escalation timers with their commands (``TimerRow``).

Everything shown comes from ``session.workflow`` (``console.criteria``, ``console.escalation``,
``console.probes``); the panel decides nothing. The verdict and the cards are one widget,
``CriteriaBoardView``, fed statuses with ``show_board``: the review of a recording feeds it the
board re-evaluated at its cursor (``ui.review_panels.RecordedRecoveryPanel``). It refreshes its
texts after each drain and on the 1-second tick (countdowns move without new data). Key C brings
it to the front.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.criteria import CriterionStatus, RecoveryVerdict
from console.durations import format_duration
from console.escalation import TimerError
from console.probes import ProbeResult
from console.session import SessionUpdate
from console.units import format_clock, format_value
from console.workflow import IncidentWorkflow
from console.workspace import CriterionSpec
from ui.banner import ElidedLabel
from ui.escalation_view import TimerRow
from ui.note_dialog import ReasonDialog
from ui.scroll_column import scroll_column
from ui.theme import ACCENT, PANEL, PANEL_BORDER, STATUS_STYLES, TEXT, TEXT_DIM

#: How each criterion state reads: symbol, colour (the word comes from ``CriterionStatus``).
CRITERION_LOOKS: dict[str, tuple[str, str]] = {
    "MET": ("✔", STATUS_STYLES["ok"].fill),
    "HOLDING": ("◑", ACCENT),
    "NOT MET": ("✖", STATUS_STYLES["failing"].fill),
    "NOT YET MEASURABLE": ("?", STATUS_STYLES["unknown"].fill),
}


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(
        f"color: {TEXT_DIM}; font-size: 9pt; font-weight: bold; letter-spacing: 1px;"
        " padding-top: 6px;"
    )
    return label


def _for(t: float | None, now: float) -> str:
    return format_duration(max(0.0, now - t)) if t is not None else "?"


def _since_text(t: float | None, now: float) -> str:
    if t is None:
        return ""
    return f"since {format_clock(t)} ({format_duration(max(0.0, now - t))})"


class CriterionCard(QFrame):
    """One criterion in two lines: symbol and title; state, since when and why (or time to go).

    Compact on purpose: the five of the seed fit the panel's first screen. Full texts are in the
    tooltips; while the criterion holds, a thin bar fills over its sustain period.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("criterion_card")
        self.title_label = ElidedLabel()
        self.title_label.setStyleSheet(f"color: {TEXT}; font-size: 10pt; font-weight: bold;")
        self.state_label = ElidedLabel()
        self.sustain_bar = QProgressBar()
        self.sustain_bar.setRange(0, 1000)
        self.sustain_bar.setTextVisible(False)
        self.sustain_bar.setFixedHeight(4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(7, 3, 6, 3)
        layout.setSpacing(1)
        layout.addWidget(self.title_label)
        layout.addWidget(self.state_label)
        layout.addWidget(self.sustain_bar)
        self._look = ""

    @property
    def state_text(self) -> str:
        """The second line as shown (full, before eliding)."""
        return self.state_label.text()

    def show_status(self, status: CriterionStatus, now: float) -> None:
        """Show ``status`` with durations as of ``now``."""
        word = status.word
        symbol, colour = CRITERION_LOOKS[word]
        self.title_label.setText(f"{symbol} {status.spec.title}")
        sustain = status.spec.sustain_s
        holding = status.holding and sustain > 0 and status.holding_since is not None
        if holding:
            held = max(0.0, now - (status.holding_since or now))
            left = format_duration(max(0.0, sustain - held))
            line = f"HOLDING {format_duration(held)} of {format_duration(sustain)}: {left} to go"
            self.sustain_bar.setValue(round(1000 * min(1.0, held / sustain)))
        elif status.state == "met":
            line = f"MET for {_for(status.since, now)}"
        elif status.state == "unmeasurable":
            line = f"NOT YET MEASURABLE: {status.detail}"
        else:
            line = f"NOT MET for {_for(status.since, now)}: {status.detail}"
        self.state_label.setText(line)
        self.sustain_bar.setVisible(holding)
        tip = f"{status.spec.title}\n{line}"
        if status.since is not None:
            tip += f"\n{status.word.lower()} since {format_clock(status.since)}"
        if status.spec.require:
            tip += f"\nrule: {status.spec.require}"
        if sustain:
            tip += f", held for {format_duration(sustain)} without a breach"
        self.setToolTip(tip)
        if word != self._look:
            self._look = word
            self.state_label.setStyleSheet(f"color: {colour}; font-size: 10pt;")
            self.setStyleSheet(
                f"QFrame#criterion_card {{ background: {PANEL}; border: 1px solid {PANEL_BORDER};"
                f" border-left: 5px solid {colour}; border-radius: 3px; }}"
                f" QProgressBar {{ border: none; background: {PANEL_BORDER}; }}"
                f" QProgressBar::chunk {{ background: {ACCENT}; }}"
            )


class ProbeLine(QFrame):
    """One probe's last run."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.headline = QLabel()
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setStyleSheet(f"color: {TEXT_DIM};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)

    def show_result(self, result: ProbeResult | None, problem: str, now: float) -> None:
        """Show the newest result (or why the probe cannot run) as of ``now``."""
        if problem:
            colour, head = STATUS_STYLES["failing"].fill, f"⚠ {self.name}: cannot run"
            detail = problem
        elif result is None:
            colour, head, detail = STATUS_STYLES["unknown"].fill, f"? {self.name}", "not run yet"
        else:
            ago = format_duration(max(0.0, now - result.t))
            took = format_value(result.duration_ms, "ms")
            if result.ok:
                colour = STATUS_STYLES["ok"].fill
                head = f"✔ {self.name}: passes in {took}"
            else:
                colour = STATUS_STYLES["failing"].fill
                where = f" at {result.stopped_at}" if result.stopped_at else ""
                head = f"✖ {self.name}: fails{where}"
            parts = [] if result.ok else [f"{result.reason} ({took})"]
            if result.expected_events:
                parts.append(f"events {len(result.events)}/{result.expected_events}")
            parts.append(f"{ago} ago")
            detail = " · ".join(parts)
        self.headline.setText(head)
        self.headline.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.detail.setText(detail)


class CriteriaBoardView(QWidget):
    """The verdict and one card per criterion, fed a board's statuses with ``show_board``.

    The live Recovery panel feeds it from ``session.workflow.board`` after every drain; the
    review feeds it the board re-evaluated at the cursor (``console.criteria_history``).
    """

    def __init__(self, specs: Sequence[CriterionSpec], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdict_label = QLabel()
        self.verdict_label.setWordWrap(True)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(3)
        column.addWidget(self.verdict_label)
        self.cards: dict[str, CriterionCard] = {}
        for spec in specs:
            card = CriterionCard()
            self.cards[spec.id] = card
            column.addWidget(card)
        if not self.cards:
            column.addWidget(QLabel("No recovery criteria: declare [[criteria]] in the workspace."))

    def show_board(
        self, statuses: Sequence[CriterionStatus], verdict: RecoveryVerdict, now: float
    ) -> None:
        """Show the verdict and each criterion's status, durations as of ``now``."""
        look = "failing"
        if verdict.recovered:
            look = "ok"
            text = f"✔ RECOVERED · all {verdict.total} criteria met"
            if verdict.since is not None:
                text += f" · {_since_text(verdict.since, now)}"
        elif verdict.total:
            waiting = [
                s.spec.sustain_s - (now - s.holding_since)
                for s in statuses
                if s.state != "met" and s.holding_since is not None
            ]
            on_track = len(statuses) == verdict.total and all(
                s.state == "met" or s.holding for s in statuses
            )
            text = f"✖ NOT RECOVERED · {verdict.met} of {verdict.total} criteria met"
            if on_track and waiting:  # all hold: recovery is a matter of time, barring a breach
                text = (
                    f"◑ NOT RECOVERED YET · {verdict.met} of {verdict.total} met"
                    f" · {format_duration(max(0.0, *waiting))} to go if nothing breaks"
                )
                look = "degraded"
        else:
            look, text = "unknown", "No recovery criteria declared"
        self.verdict_label.setText(text)
        style = (
            f"background: {STATUS_STYLES[look].fill}; color: {STATUS_STYLES[look].text};"
            " font-size: 12pt; font-weight: bold;"
            " padding: 3px 8px; border-radius: 3px;"
        )
        if self.verdict_label.styleSheet() != style:
            self.verdict_label.setStyleSheet(style)
        for status in statuses:
            card = self.cards.get(status.spec.id)
            if card is not None:
                card.show_status(status, now)


class RecoveryPanel(QWidget):
    """The Recovery tab: verdict, criteria, probes and escalation timers of the workflow."""

    def __init__(self, workflow: IncidentWorkflow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workflow = workflow
        session = workflow.session
        self.board_view = CriteriaBoardView(session.workspace.criteria)
        self.verdict_label = self.board_view.verdict_label
        self.cards = self.board_view.cards
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(f"color: {STATUS_STYLES['failing'].fill};")
        self.message_label.hide()

        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(6, 4, 6, 6)
        column.setSpacing(3)
        column.addWidget(self.board_view)
        column.addWidget(self.message_label)

        self.probe_lines: dict[str, ProbeLine] = {}
        if session.workspace.probes:
            column.addWidget(_heading("PROBES"))
            for probe in session.workspace.probes:
                line = ProbeLine(probe.name)
                self.probe_lines[probe.id] = line
                column.addWidget(line)

        column.addWidget(_heading("ESCALATION TIMERS"))
        self.timer_column = QVBoxLayout()
        self.timer_column.setSpacing(5)
        column.addLayout(self.timer_column)
        self.timer_rows: dict[str, TimerRow] = {}
        self.new_timer_button = QPushButton("+ Timer…")
        self.new_timer_button.setToolTip("Start an escalation timer by hand: what, and when")
        self.new_timer_button.clicked.connect(self.ask_new_timer)
        column.addWidget(self.new_timer_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addStretch(1)
        self.new_timer_dialog: ReasonDialog | None = None

        scroll = scroll_column(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.refresh(session.clock.now())

    # -- updates ---------------------------------------------------------------------------------

    def on_session_update(self, update: SessionUpdate) -> None:
        """Re-read the workflow after a drain."""
        self.refresh(self.workflow.session.clock.now())

    def refresh(self, now: float) -> None:
        """Show the board, the probes and the timers as of ``now``."""
        board = self.workflow.board
        self.board_view.show_board(board.statuses(), board.verdict(), now)
        results = self.workflow.probe_results()
        for probe_id, line in self.probe_lines.items():
            line.show_result(results.get(probe_id), self.workflow.probe_problem(probe_id), now)
        self._show_timers(now)

    def _show_timers(self, now: float) -> None:
        for timer in self.workflow.timers.timers():
            row = self.timer_rows.get(timer.id)
            if row is None:
                row = TimerRow(self.workflow, timer.id, self.show_message)
                self.timer_rows[timer.id] = row
                self.timer_column.addWidget(row)
            row.show_timer(timer, now)

    def show_message(self, text: str) -> None:
        """Show a refused command's message (it stays until the next one)."""
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    # -- starting a timer by hand ----------------------------------------------------------------

    def ask_new_timer(self) -> ReasonDialog:
        """Open the dialog that starts a timer by hand."""
        dialog = ReasonDialog(
            "Start an escalation timer",
            "At the decision point the console notifies you and writes it on the timeline.",
            self,
            duration_s=7200.0,
            ask_title=True,
            reason_label="Why now (optional)",
        )
        dialog.accepted.connect(lambda: self._start_custom(dialog))
        self.new_timer_dialog = dialog
        dialog.open()
        return dialog

    def _start_custom(self, dialog: ReasonDialog) -> None:
        try:
            self.workflow.timers.start_custom(
                dialog.title_text(), dialog.duration() or 0.0, reason=dialog.reason()
            )
        except TimerError as error:
            self.show_message(str(error))
            return
        self.show_message("")
        self.refresh(self.workflow.session.clock.now())
