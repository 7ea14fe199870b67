"""The dialogs of the incident workflow: a note (new, or its time corrected) and a reason.

``NoteDialog`` asks for a note's text, whether it is starred and when it happened (now by the
session clock unless changed; seconds precision), or, in correction mode, only for the new time.
``ReasonDialog`` asks why a timer is acknowledged, snoozed or cancelled (the reason is required:
it goes on the timeline), optionally with a duration; the same dialog starts a timer by hand
(a title and a duration). Both are opened with ``open()`` (never a blocking ``exec``) and report
through ``accepted``; they validate their input and keep OK disabled until it is usable.
"""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.durations import format_duration, parse_duration
from ui.theme import STATUS_STYLES, TEXT_DIM

DATE_TIME_FORMAT = "yyyy-MM-dd HH:mm:ss"


def _date_time(t: float) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(t))


class NoteDialog(QDialog):
    """A note's text, star and time; or (``correcting``) only a new time for an existing note."""

    def __init__(
        self,
        now: float,
        parent: QWidget | None = None,
        *,
        correcting: str | None = None,
        at: float | None = None,
    ) -> None:
        super().__init__(parent)
        self.correcting = correcting
        self._initial_t = now if at is None else at
        self._now = now
        self.setWindowTitle("Correct the note's time" if correcting else "Add a note")
        self.setMinimumWidth(520)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setPlaceholderText(
            "What happened, what was decided, who was called… (Ctrl+Enter saves)"
        )
        self.text_edit.setTabChangesFocus(True)
        self.star_box = QCheckBox("★ Star: a key moment of the incident")
        self.time_edit = QDateTimeEdit(_date_time(self._initial_t))
        self.time_edit.setDisplayFormat(DATE_TIME_FORMAT)
        self.time_edit.setCalendarPopup(True)
        self.time_edit.setMaximumDateTime(_date_time(now + 60))
        self.now_button = QPushButton("Now")
        self.now_button.setToolTip("Set the time to now")
        self.now_button.clicked.connect(lambda: self.time_edit.setDateTime(_date_time(self._now)))

        form = QFormLayout()
        if correcting is None:
            form.addRow("Note", self.text_edit)
            form.addRow("", self.star_box)
        else:
            quoted = QLabel(correcting)
            quoted.setWordWrap(True)
            quoted.setStyleSheet(f"color: {TEXT_DIM};")
            form.addRow("Note", quoted)
            form.addRow("", QLabel("Its logged time is kept on the timeline."))
        form.addRow("Happened at", self.time_edit)
        form.addRow("", self.now_button)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.text_edit.textChanged.connect(self._update_ok)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._save_if_ready)
        self._update_ok()
        (self.time_edit if correcting else self.text_edit).setFocus()

    def text(self) -> str:
        """The note's text, trimmed."""
        return self.text_edit.toPlainText().strip()

    def starred(self) -> bool:
        """True when the note is starred."""
        return self.star_box.isChecked()

    def chosen_time(self) -> float:
        """When it happened: the time shown (seconds), or the exact opening time if untouched."""
        shown = float(self.time_edit.dateTime().toSecsSinceEpoch())
        return self._initial_t if shown == int(self._initial_t) else shown

    def _update_ok(self) -> None:
        ready = self.correcting is not None or bool(self.text())
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ready)

    def _save_if_ready(self) -> None:
        if self.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled():
            self.accept()


class ReasonDialog(QDialog):
    """Why (required), and optionally how long or what: for timer commands and new timers."""

    def __init__(
        self,
        title: str,
        prompt: str,
        parent: QWidget | None = None,
        *,
        duration_s: float | None = None,
        ask_title: bool = False,
        reason_label: str = "Reason",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        intro = QLabel(prompt)
        intro.setWordWrap(True)
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("e.g. Escalate to Google Cloud support")
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("goes on the timeline")
        self.duration_edit = QLineEdit(format_duration(duration_s) if duration_s else "")
        self.duration_edit.setPlaceholderText("e.g. 15m, 2h, 1h30m")
        self.error_label = QLabel()
        self.error_label.setStyleSheet(f"color: {STATUS_STYLES['failing'].fill};")
        form = QFormLayout()
        if ask_title:
            form.addRow("What to decide", self.title_edit)
        form.addRow(reason_label, self.reason_edit)
        if duration_s is not None:
            form.addRow("For" if not ask_title else "Decide in", self.duration_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self._asks_title = ask_title
        self._asks_duration = duration_s is not None
        for edit in (self.title_edit, self.reason_edit, self.duration_edit):
            edit.textChanged.connect(self._validate)
        self._validate()
        first = self.title_edit if ask_title else self.reason_edit
        first.setFocus(Qt.FocusReason.OtherFocusReason)

    def reason(self) -> str:
        """The reason, trimmed."""
        return " ".join(self.reason_edit.text().split())

    def title_text(self) -> str:
        """The new timer's title, trimmed."""
        return self.title_edit.text().strip()

    def duration(self) -> float | None:
        """The duration in seconds, or None when not asked or not valid."""
        if not self._asks_duration:
            return None
        try:
            seconds = parse_duration(self.duration_edit.text())
        except ValueError:
            return None
        return seconds if seconds > 0 else None

    def _validate(self) -> None:
        problem = ""
        if self._asks_title and not self.title_text():
            problem = "Say what is to be decided."
        elif not self._asks_title and not self.reason():
            problem = "A reason is required: it goes on the timeline."
        elif self._asks_duration and self.duration() is None:
            problem = "Write a duration such as 15m, 2h or 1h30m."
        self.error_label.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
