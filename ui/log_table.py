"""The log table: the failing requests' log lines, newest first, filterable, bounded.

Columns: time, service, revision, status, latency, message. Filters: service, severity (all, or
a level and worse) and free text (message, revision, status). Entries come from the session
(``Session.logs`` at start, ``SessionUpdate.new_logs`` afterwards: the Cloud Logging tail, or the
demo simulation); the table keeps at most ``capacity`` of them, sorted by time, newest first.
Notices of the source itself (``service == ""``: Cloud Logging suppressed entries) pass every
filter but the text, so they are never hidden by a service or severity choice.

While the reader scrolls down, new lines arriving at the top do not move the rows under their
eyes. ``install_log_table`` adds it to the window as the "Logs" panel (key L).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from console.resource_state import short_revision
from console.session import Session, SessionUpdate
from console.sources import LogEntry
from console.units import format_value
from ui.filtered_table import EntryFilter, EntryTableModel, entry_table_view
from ui.theme import PANEL, STATUS_STYLES, TEXT_DIM, qcolor

if TYPE_CHECKING:
    from ui.main_window import MainWindow

#: Most lines kept in the table (the session keeps its own, larger, bounded history).
DEFAULT_CAPACITY = 2000
COLUMNS = ("Time", "Service", "Revision", "HTTP", "Latency", "Message")
#: Typical contents of the short columns, to size them.
COLUMN_SAMPLES = ("00:00:00", "Backend", "00000-wwm", "HTTP", "Latency")
#: Cloud Logging's severities, lowest first (``LogSeverity``).
SEVERITY_LEVELS = {
    "DEFAULT": 0,
    "DEBUG": 100,
    "INFO": 200,
    "NOTICE": 300,
    "WARNING": 400,
    "ERROR": 500,
    "CRITICAL": 600,
    "ALERT": 700,
    "EMERGENCY": 800,
}
#: The severity filter's choices: label and the lowest level shown.
SEVERITY_CHOICES = (("All severities", 0), ("WARNING+", 400), ("ERROR+", 500), ("CRITICAL+", 600))
_ALIGN_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def severity_level(severity: str) -> int:
    """The numeric level of a severity name (unknown names count as DEFAULT)."""
    return SEVERITY_LEVELS.get(severity.upper(), 0)


class LogTableModel(EntryTableModel[LogEntry]):
    """Log entries sorted newest first, at most ``capacity`` of them."""

    def __init__(self, session: Session, capacity: int = DEFAULT_CAPACITY) -> None:
        super().__init__(COLUMNS)
        self.capacity = capacity
        self.services = session.workspace.services
        #: ``-t`` of each entry (``entries`` are newest first), ascending (for bisect).
        self._keys: list[float] = []
        self.add_entries(session.logs)

    # -- Qt model ------------------------------------------------------------------------------

    def entry_data(self, entry: LogEntry, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell_text(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            when = datetime.fromtimestamp(entry.t, UTC).isoformat(timespec="milliseconds")
            revision = f" · {entry.revision}" if entry.revision else ""
            return f"{when} · {entry.severity}{revision}\n{entry.message}"
        if role == Qt.ItemDataRole.ForegroundRole:
            if not entry.service:
                return qcolor(TEXT_DIM)
            failed = (entry.status or 0) >= 500 or severity_level(entry.severity) >= 500
            if column == 3 and failed:
                return qcolor(STATUS_STYLES["failing"].fill)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (3, 4):
            return _ALIGN_RIGHT
        return None

    # -- content -------------------------------------------------------------------------------

    def cell_text(self, entry: LogEntry, column: int) -> str:
        """What one cell shows."""
        if column == 0:
            return datetime.fromtimestamp(entry.t).strftime("%H:%M:%S")
        if column == 1:
            service = self.services.get(entry.service)
            return service.name if service else (entry.service or "— source")
        if column == 2:
            service = self.services.get(entry.service)
            return short_revision(service.resource if service else "", entry.revision)
        if column == 3:
            return "" if entry.status is None else str(entry.status)
        if column == 4:
            return "" if entry.latency_ms is None else format_value(entry.latency_ms, "ms")
        return entry.message

    def add_entries(self, entries: Iterable[LogEntry]) -> int:
        """Insert ``entries`` at their place by time; drop the oldest beyond the capacity.

        Returns how many rows were inserted at the top (new lines newer than all shown).
        """
        new = sorted(entries, key=lambda e: e.t, reverse=True)
        if not new:
            return 0
        new = new[: self.capacity]
        if not self.entries or new[-1].t >= self.entries[0].t:
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            self.entries[:0] = new
            self._keys[:0] = [-e.t for e in new]
            self.endInsertRows()
            on_top = len(new)
        else:  # older lines (a backfill, a catch-up list): merge and show afresh
            self.beginResetModel()
            for entry in new:
                position = bisect.bisect_left(self._keys, -entry.t)
                self._keys.insert(position, -entry.t)
                self.entries.insert(position, entry)
            self.endResetModel()
            on_top = 0
        if self.keep_top(self.capacity):
            del self._keys[self.capacity :]
        return on_top


class LogFilter(EntryFilter):
    """Service, minimum severity and text filters over a ``LogTableModel``."""

    def __init__(self, model: LogTableModel) -> None:
        super().__init__()
        self.setSourceModel(model)
        self.log_model = model
        self.service = ""
        self.min_level = 0
        self.text = ""

    def set_filters(self, service: str, min_level: int, text: str) -> None:
        """Show rows of ``service`` ("" for all) at ``min_level`` or worse containing ``text``."""
        with self.filter_change():
            self.service, self.min_level, self.text = service, min_level, text.strip().lower()

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        entry = self.log_model.entry(source_row)
        if self.text:
            haystack = f"{entry.message} {entry.revision} {entry.status or ''}".lower()
            if self.text not in haystack:
                return False
        if not entry.service:  # the source's own notices are never hidden by these filters
            return True
        if self.service and entry.service != self.service:
            return False
        return severity_level(entry.severity) >= self.min_level


class LogTable(QWidget):
    """Filters, a count, and the table of log lines, newest first."""

    def __init__(
        self, session: Session, parent: QWidget | None = None, *, capacity: int = DEFAULT_CAPACITY
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.model = LogTableModel(session, capacity)
        self.proxy = LogFilter(self.model)

        self.service_box = QComboBox()
        self.service_box.addItem("All services", "")
        for sid, service in session.workspace.services.items():
            if service.kind == "cloud_run":
                self.service_box.addItem(service.name, sid)
        self.service_box.setToolTip("Show the lines of one service")
        self.severity_box = QComboBox()
        for label, level in SEVERITY_CHOICES:
            self.severity_box.addItem(label, level)
        self.severity_box.setToolTip("Show lines at this severity or worse")
        self.text_box = QLineEdit()
        self.text_box.setPlaceholderText("Filter text (Ctrl+F) …")
        self.text_box.setClearButtonEnabled(True)
        self.count_label = QLabel()
        #: The selected line in full (the message column is narrow beside the graph).
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9pt;")
        self.count_label.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9pt;")

        self.view = entry_table_view(self.proxy, row_height=20)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        # Short columns sized for their usual text; the message takes the rest (in full below the
        # table for the selected line). Widths come from the font, so they follow its size.
        metrics = self.view.fontMetrics()
        for column, sample in enumerate(COLUMN_SAMPLES):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 14)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setStyleSheet(
            f"QTableView {{ background: {PANEL}; border: none; font-size: 9.5pt; }}"
            f" QHeaderView::section {{ background: {PANEL}; color: {TEXT_DIM}; border: none;"
            " padding: 2px 4px; font-size: 9pt; }"
        )

        filters = QHBoxLayout()
        filters.setSpacing(4)
        filters.addWidget(self.service_box, 1)
        filters.addWidget(self.severity_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        caption = QLabel("LOGS · failing requests, newest first")
        caption.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9pt; font-weight: bold;")
        layout.addWidget(caption)
        layout.addLayout(filters)
        layout.addWidget(self.text_box)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.count_label)
        self.setFocusProxy(self.text_box)

        self.service_box.currentIndexChanged.connect(self._apply_filters)
        self.severity_box.currentIndexChanged.connect(self._apply_filters)
        self.text_box.textChanged.connect(self._apply_filters)
        self.view.selectionModel().currentRowChanged.connect(self._show_detail)
        QShortcut(QKeySequence.StandardKey.Find, self, self.text_box.setFocus)
        QShortcut(QKeySequence("Escape"), self.text_box, self.text_box.clear)
        self._show_count()

    def on_session_update(self, update: SessionUpdate) -> None:
        """Add the new log lines of a drain, keeping the rows the reader looks at in place."""
        if not update.new_logs:
            return
        bar = self.view.verticalScrollBar()
        reading = bar.value() > 0
        visible_before = self.proxy.rowCount()
        on_top = self.model.add_entries(update.new_logs)
        if reading and on_top:
            added = self.proxy.rowCount() - visible_before
            if added > 0:
                position = bar.value() + added * self.view.verticalHeader().defaultSectionSize()
                self.view.doItemsLayout()  # the new rows' height counts before scrolling down
                bar.setValue(position)
        self._show_count()

    def set_filters(self, service: str = "", min_level: int = 0, text: str = "") -> None:
        """Set the three filters (as the controls would)."""
        self.service_box.setCurrentIndex(max(0, self.service_box.findData(service)))
        self.severity_box.setCurrentIndex(max(0, self.severity_box.findData(min_level)))
        self.text_box.setText(text)
        self._apply_filters()

    def shown_rows(self) -> list[list[str]]:
        """The cell texts of the rows shown, top to bottom (tests, screenshots)."""
        rows = []
        for row in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(row, 0)).row()
            entry = self.model.entry(source)
            rows.append([self.model.cell_text(entry, c) for c in range(len(COLUMNS))])
        return rows

    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.detail.setText("")
            return
        entry = self.model.entry(self.proxy.mapToSource(current).row())
        when = datetime.fromtimestamp(entry.t).strftime("%H:%M:%S.%f")[:-3]
        facts = [when, entry.severity]
        if entry.status is not None:
            facts.append(f"HTTP {entry.status}")
        if entry.latency_ms is not None:
            facts.append(format_value(entry.latency_ms, "ms"))
        if entry.revision:
            facts.append(entry.revision)
        self.detail.setText(f"{' · '.join(facts)}\n{entry.message}")

    def _apply_filters(self) -> None:
        self.proxy.set_filters(
            self.service_box.currentData() or "",
            int(self.severity_box.currentData() or 0),
            self.text_box.text(),
        )
        self._show_count()

    def _show_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        kept = f"the newest {self.model.capacity} are kept"
        if shown == total:
            self.count_label.setText(f"{total} lines · {kept}")
        else:
            self.count_label.setText(f"{shown} of {total} lines shown · {kept}")


def install_log_table(window: MainWindow) -> LogTable:
    """Add the log table to ``window`` as the "Logs" panel (key L) and keep it updated."""
    table = LogTable(window.session)
    window.add_panel(table, "Logs", ["L"])
    window.bridge.updated.connect(table.on_session_update)
    return table
