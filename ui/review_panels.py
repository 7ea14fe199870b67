"""The review window's side panels: the recorded timeline and logs, following the time cursor.

``RecordedTimelinePanel`` lists every timeline entry of the recording (status changes, the golden
path, actions with their fields, notes, criteria...), filterable by kind. Entries after the cursor
are dimmed, the newest one at or before it is selected and kept in view; double-clicking an entry
moves the cursor to it (``seek_requested``).

``RecordedLogPanel`` shows the newest ``LOG_ROWS`` log entries at or before the cursor, newest
first, like the live log table would have shown them at that moment. It re-reads only when the
cursor crosses a log entry, and only while it is shown.

``RecordedRecoveryPanel`` shows the recovery criteria at the cursor with the live window's own
board view (``ui.criteria_board.CriteriaBoardView``): the statuses of the newest evaluation at or
before the cursor of the board re-run over the recorded series (``console.criteria_history``,
computed once per review on the background worker), and the newest ``criterion``/``recovery``
entry the live console wrote by then, so the two can be compared.

They take the ``ReviewSession`` and are told the cursor with ``show_cursor(t)``; they read what
the session recorded (or what was computed from it) and decide nothing. (The Resources tab of a
review is the live ``ui.resource_panel.ResourcePanel``, fed the states recorded at the cursor.)
"""

from __future__ import annotations

import bisect
import json
import time
from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.criteria_history import CriteriaHistory
from console.durations import format_duration
from console.review import ReviewSession
from console.sources import LogEntry
from console.timeline import TimelineEntry
from ui.criteria_board import CriteriaBoardView
from ui.scroll_column import scroll_column
from ui.theme import ACCENT, PANEL, ROOT_CAUSE, STATUS_STYLES, TEXT, TEXT_DIM, qcolor

#: Log rows shown: the newest at or before the cursor.
LOG_ROWS = 200
#: Fields of a timeline entry shown in its tooltip at most.
TOOLTIP_FIELDS = 24

#: Symbol and colour per timeline kind (unknown kinds get a dot).
KIND_LOOKS: dict[str, tuple[str, str]] = {
    "status_change": ("●", TEXT_DIM),
    "golden_path": ("➜", STATUS_STYLES["failing"].fill),
    "action": ("▼", ACCENT),
    "note": ("✎", TEXT),
    "criterion": ("◆", ROOT_CAUSE),
    "criteria": ("◆", ROOT_CAUSE),
    "recording": ("○", TEXT_DIM),
    "source": ("◷", STATUS_STYLES["stale"].fill),
}
#: The kinds offered in the filter, in this order, when the recording has them.
FILTER_ORDER = ("action", "note", "golden_path", "status_change", "criterion", "criteria")

_CAPTION_STYLE = f"color: {TEXT_DIM}; font-size: 9pt; font-weight: bold;"
_LIST_STYLE = (
    f"background: {PANEL}; border: none; font-size: 10pt;"
    f" selection-background-color: #2f4a60; selection-color: {TEXT};"
)


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def entry_text(entry: TimelineEntry) -> str:
    """One line for a timeline entry: ``12:04:05  ▼ action: scale connector …``."""
    symbol, _ = KIND_LOOKS.get(entry.kind, ("•", TEXT_DIM))
    return f"{_clock(entry.t)}  {symbol} {entry.text}"


def fields_text(fields: dict) -> str:
    """An entry's fields, one ``key: value`` per line (values as compact JSON)."""
    lines = []
    for key, value in list(fields.items())[:TOOLTIP_FIELDS]:
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{key}: {shown}")
    if len(fields) > TOOLTIP_FIELDS:
        lines.append(f"… {len(fields) - TOOLTIP_FIELDS} more")
    return "\n".join(lines)


class RecordedTimelinePanel(QWidget):
    """Every recorded timeline entry; those after the cursor dimmed, the current one selected."""

    seek_requested = Signal(float)

    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.entries: list[TimelineEntry] = list(session.recorded_timeline)
        self._shown: list[TimelineEntry] = []
        self._current = -1
        self._cursor = session.cursor

        self.caption = QLabel("TIMELINE · double-click an entry to go there")
        self.caption.setStyleSheet(_CAPTION_STYLE)
        self.filter_box = QComboBox()
        self.filter_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.filter_box.addItem("all kinds", None)
        kinds = {e.kind for e in self.entries}
        for kind in [*FILTER_ORDER, *sorted(kinds - set(FILTER_ORDER))]:
            if kind in kinds:
                self.filter_box.addItem(kind.replace("_", " "), kind)
        self.list_widget = QListWidget()
        self.list_widget.setStyleSheet(_LIST_STYLE)
        self.list_widget.setWordWrap(True)
        self.list_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list_widget.itemDoubleClicked.connect(self._on_double_click)
        heading = QHBoxLayout()
        heading.addWidget(self.caption, 1)
        heading.addWidget(self.filter_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(heading)
        layout.addWidget(self.list_widget, 1)
        self.filter_box.currentIndexChanged.connect(lambda _index: self._rebuild())
        self._rebuild()

    # -- what is shown ---------------------------------------------------------------------------

    def set_kind_filter(self, kind: str | None) -> None:
        """Show only entries of ``kind`` (None: all)."""
        index = self.filter_box.findData(kind)
        if index >= 0:
            self.filter_box.setCurrentIndex(index)

    def texts(self) -> list[str]:
        """The rows as shown."""
        return [self.list_widget.item(i).text() for i in range(self.list_widget.count())]

    def current_entry(self) -> TimelineEntry | None:
        """The newest shown entry at or before the cursor."""
        return self._shown[self._current] if 0 <= self._current < len(self._shown) else None

    def past_count(self) -> int:
        """How many shown entries are at or before the cursor."""
        return self._current + 1

    def show_cursor(self, t: float) -> None:
        """Dim what lies after ``t``; select and reveal the newest entry at or before it."""
        self._cursor = t
        current = self._index_at(t)
        if current == self._current:
            return
        low, high = sorted((self._current, current))
        self._current = current
        self._style_rows(range(max(0, low), min(len(self._shown), high + 2)))
        self._reveal_current()

    def _index_at(self, t: float) -> int:
        low, high = 0, len(self._shown)
        while low < high:
            middle = (low + high) // 2
            if self._shown[middle].t <= t:
                low = middle + 1
            else:
                high = middle
        return low - 1

    def _rebuild(self) -> None:
        kind = self.filter_box.currentData()
        self._shown = [e for e in self.entries if kind is None or e.kind == kind]
        self.list_widget.clear()
        if not self._shown:
            self.list_widget.addItem(QListWidgetItem("Nothing recorded of this kind"))
            self._current = -1
            return
        for entry in self._shown:
            item = QListWidgetItem(entry_text(entry))
            if entry.fields:
                item.setToolTip(fields_text(entry.fields))
            self.list_widget.addItem(item)
        self._current = self._index_at(self._cursor)
        self._style_rows(range(len(self._shown)))
        self._reveal_current()

    def _style_rows(self, rows: Iterable[int]) -> None:
        for row in rows:
            entry = self._shown[row]
            item = self.list_widget.item(row)
            _, colour = KIND_LOOKS.get(entry.kind, ("•", TEXT_DIM))
            past = row <= self._current
            item.setForeground(qcolor(colour if past else TEXT_DIM, 255 if past else 110))
            font = QFont(item.font())
            font.setBold(row == self._current)
            item.setFont(font)

    def _reveal_current(self) -> None:
        if self._current >= 0:
            item = self.list_widget.item(self._current)
            self.list_widget.setCurrentItem(item)
            self.list_widget.scrollToItem(item)
        else:
            self.list_widget.setCurrentRow(-1)
            self.list_widget.scrollToTop()

    def _on_double_click(self, item: QListWidgetItem) -> None:
        row = self.list_widget.row(item)
        if 0 <= row < len(self._shown):
            self.seek_requested.emit(self._shown[row].t)


#: Columns of the log table.
LOG_COLUMNS = ("time", "service", "severity", "status", "latency", "message")


def _latency_text(latency_ms: float | None) -> str:
    if latency_ms is None:
        return ""
    return f"{latency_ms:.0f} ms" if latency_ms < 1000 else f"{latency_ms / 1000:.1f} s"


class RecordedLogPanel(QWidget):
    """The newest log entries at or before the cursor, newest first."""

    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._names = {sid: s.name for sid, s in session.workspace.services.items()}
        self._count = -1
        self._cursor = session.cursor
        self.entries: list[LogEntry] = []
        self.caption = QLabel()
        self.caption.setStyleSheet(_CAPTION_STYLE)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setColumnCount(len(LOG_COLUMNS))
        self.table.setHeaderLabels(list(LOG_COLUMNS))
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setStyleSheet(_LIST_STYLE)
        for column, width in enumerate((64, 84, 64, 46, 58)):
            self.table.setColumnWidth(column, width)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)
        self.show_cursor(session.cursor)

    def rows(self) -> list[tuple[str, ...]]:
        """The rows as shown (texts per column)."""
        return [
            tuple(self.table.topLevelItem(i).text(c) for c in range(len(LOG_COLUMNS)))
            for i in range(self.table.topLevelItemCount())
        ]

    def show_cursor(self, t: float) -> None:
        """Show the newest entries at or before ``t`` (re-read only when that set changed, and
        only while the panel is shown: a hidden tab catches up when it is shown)."""
        self._cursor = t
        if not self.isVisible() and self._count >= 0:
            return
        count = self.session.log_count_until(t)
        if count == self._count:
            self._show_caption(t, count)
            return
        self._count = count
        self.entries = self.session.logs_until(t, LOG_ROWS)
        self.table.setUpdatesEnabled(False)
        self.table.clear()
        items = []
        for entry in reversed(self.entries):
            item = QTreeWidgetItem(
                [
                    _clock(entry.t),
                    self._names.get(entry.service, entry.service),
                    entry.severity,
                    "" if entry.status is None else str(entry.status),
                    _latency_text(entry.latency_ms),
                    entry.message,
                ]
            )
            item.setToolTip(5, f"{entry.message}\nrevision {entry.revision or '?'}")
            if entry.severity in ("ERROR", "CRITICAL", "ALERT", "EMERGENCY"):
                item.setForeground(2, qcolor(STATUS_STYLES["failing"].fill))
            items.append(item)
        self.table.addTopLevelItems(items)
        self.table.setUpdatesEnabled(True)
        self._show_caption(t, count)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.show_cursor(self._cursor)

    def _show_caption(self, t: float, count: int) -> None:
        if count == 0:
            text = "LOGS · none recorded before the cursor"
        else:
            shown = min(count, LOG_ROWS)
            text = f"LOGS · the {shown} newest of {count} up to the cursor"
            if self.entries:
                text += f" · newest {format_duration(t - self.entries[-1].t)} before it"
        if text != self.caption.text():
            self.caption.setText(text)


#: Timeline kinds the live recovery board writes (a criterion met or lost, recovery declared).
RECOVERY_KINDS = ("criterion", "recovery")


class RecordedRecoveryPanel(QWidget):
    """The recovery criteria at the cursor, re-evaluated from the recorded series."""

    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.history: CriteriaHistory | None = None
        self._cursor = session.cursor
        self._live_entries = [e for e in session.recorded_timeline if e.kind in RECOVERY_KINDS]
        self._live_times = [e.t for e in self._live_entries]
        criteria = session.workspace.criteria

        self.caption = QLabel("RECOVERY AT THE CURSOR · re-evaluated from the recorded series")
        self.caption.setStyleSheet(_CAPTION_STYLE)
        self.caption.setToolTip(
            "The recovery criteria of the recording's workspace, evaluated over the recorded "
            "series with the same rules as the live console (sustain periods included), as they "
            "stood at the cursor. The live console's own entries are on the Timeline."
        )
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        self.state_label.setStyleSheet(f"color: {TEXT_DIM};")
        self.board_view: CriteriaBoardView | None = None
        self.live_label = QLabel()
        self.live_label.setWordWrap(True)
        self.live_label.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9pt;")

        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addWidget(self.state_label)
        if criteria:
            self.board_view = CriteriaBoardView(criteria)
            self.board_view.hide()  # until the evaluation is done
            column.addWidget(self.board_view)
            self.state_label.setText("Evaluating the recovery criteria over the recording…")
        else:
            self.state_label.setText("The recording's workspace declares no recovery criteria.")
        column.addWidget(self.live_label)
        column.addStretch(1)
        scroll = scroll_column(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.caption)
        layout.addWidget(scroll, 1)
        self._show_live_entry(self._cursor)

    def show_progress(self, fraction: float) -> None:
        """The evaluation's progress (from the background worker), until it is done."""
        if self.history is None and self.board_view is not None:
            self.state_label.setText(
                f"Evaluating the recovery criteria over the recording… {100 * fraction:.0f} %"
            )

    def show_failure(self, message: str) -> None:
        """The evaluation failed: say so (and why) instead of waiting for it."""
        if self.board_view is not None:
            self.board_view.hide()
        self.state_label.setText(
            f"✖ The recovery criteria could not be evaluated over this recording: {message}"
        )
        self.state_label.setStyleSheet(f"color: {STATUS_STYLES['failing'].fill};")
        self.state_label.show()

    def set_history(self, history: CriteriaHistory) -> None:
        """The board evaluated over the recording: show it at the cursor from now on."""
        self.history = history
        self.show_cursor(self._cursor, force=True)

    def show_cursor(self, t: float, *, force: bool = False) -> None:
        """Show the criteria as evaluated at ``t`` (only while shown, unless ``force``: a
        hidden tab catches up when it is shown)."""
        self._cursor = t
        if not force and not self.isVisible():
            return
        self._show_live_entry(t)
        history, view = self.history, self.board_view
        if history is None or view is None:
            return
        moment = history.at(t)
        if moment is None or (not history.complete and history.end is not None and t > history.end):
            view.hide()
            end = history.end
            self.state_label.setText(
                "The evaluation stopped before the cursor"
                + (f" (it reached {_clock(end)})." if end is not None else ".")
            )
            self.state_label.show()
            return
        self.state_label.hide()
        view.show()
        view.show_board(moment.statuses, moment.verdict, t)

    def board_texts(self) -> list[str]:
        """The verdict and each card's state line as shown (tests, screenshots)."""
        if self.board_view is None or not self.board_view.isVisibleTo(self):
            return [self.state_label.text()]
        view = self.board_view
        return [view.verdict_label.text(), *(card.state_text for card in view.cards.values())]

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.show_cursor(self._cursor, force=True)

    def _show_live_entry(self, t: float) -> None:
        index = bisect.bisect_right(self._live_times, t) - 1
        if not self._live_entries:
            text = "Live, the console wrote no criterion or recovery entry in this recording."
        elif index < 0:
            text = "Live, the console had written no criterion or recovery entry by the cursor."
        else:
            entry = self._live_entries[index]
            text = f"Live, the newest entry by the cursor: {_clock(entry.t)} {entry.text}"
        if text != self.live_label.text():
            self.live_label.setText(text)
