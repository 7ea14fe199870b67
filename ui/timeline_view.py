"""The Timeline panel: the incident's one timeline, newest first, with the commander's notes.

Every entry of ``Session.timeline`` (status changes, the golden path, probes, criteria, recovery,
timers, source errors, actions, notes) as one row: time, kind (symbol and word) and what
happened, coloured by what it means (a service turning failing, a probe passing again). Notes are
folded with their edits (``console.notes.fold_timeline``): a starred note is marked ★ and bold, a
note whose time was corrected shows the corrected time with a mark and keeps the logged time in
its tooltip. Filter by kind, by starred notes, or by text.

Keys (in the panel): S stars or unstars the selected note, E corrects its time; N (window-wide)
adds a note. New entries are inserted at the top without rebuilding the list; an edit of a note
rebuilds it (rare) and keeps the selection.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.notes import fold_timeline
from console.session import SessionUpdate
from console.timeline import TimelineEntry
from console.units import format_clock
from console.workflow import IncidentWorkflow
from ui.filtered_table import EntryFilter, EntryTableModel, entry_table_view
from ui.note_dialog import NoteDialog
from ui.theme import STATUS_STYLES, TEXT, TEXT_DIM, TIMELINE_KINDS

#: The kind column shows the kind's symbol only (the word is in the tooltip and the filter):
#: the panel is narrow and the text needs the room.
COLUMNS = ("Time", "", "What happened")
#: The role under which each row's ``TimelineEntry`` is available.
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
#: Fields shown in a row's tooltip at most.
TOOLTIP_FIELDS = 16
ALL_KINDS = "All kinds"


def entry_colour(entry: TimelineEntry) -> str:
    """The colour of what an entry means: the status a service turned to, a probe's verdict…"""
    fields = entry.fields
    if entry.kind == "status_change" and fields.get("to") in STATUS_STYLES:
        return STATUS_STYLES[fields["to"]].fill
    if entry.kind == "golden_path":
        return STATUS_STYLES["ok" if fields.get("to") is None else "failing"].fill
    if entry.kind == "probe" and "ok" in fields:
        return STATUS_STYLES["ok" if fields["ok"] else "failing"].fill
    if entry.kind in ("criterion", "recovery"):
        good = fields.get("state") == "met" or fields.get("recovered") is True
        return STATUS_STYLES["ok" if good else "failing"].fill
    if entry.kind == "timer" and fields.get("event") == "due":
        return STATUS_STYLES["failing"].fill
    if entry.kind == "source":
        return STATUS_STYLES["ok" if fields.get("state") == "ok" else "degraded"].fill
    return TIMELINE_KINDS.get(entry.kind, ("", "", TEXT))[2]


def kind_text(entry: TimelineEntry) -> str:
    """``✎ note``, ``★ note`` (starred), ``● status``…"""
    symbol, word, _ = TIMELINE_KINDS.get(entry.kind, ("·", entry.kind, TEXT))
    if entry.kind == "note" and entry.fields.get("starred"):
        symbol = "★"
    return f"{symbol} {word}"


def _tooltip(entry: TimelineEntry) -> str:
    lines = [f"{format_clock(entry.t)} · {kind_text(entry)}", entry.text]
    if entry.kind == "note" and "original_t" in entry.fields:
        logged = entry.fields["original_t"]
        lines.append(f"time corrected; first logged at {format_clock(float(logged))}")
    shown = [
        (k, v) for k, v in entry.fields.items() if k not in ("note_id",) and v not in (None, "", [])
    ]
    for key, value in shown[:TOOLTIP_FIELDS]:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{key}: {text if len(text) <= 120 else text[:119] + '…'}")
    return "\n".join(lines)


class TimelineModel(EntryTableModel[TimelineEntry]):
    """The folded timeline, newest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)
        self._bold = QFont()
        self._bold.setBold(True)

    def entry_data(self, entry: TimelineEntry, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                corrected = entry.kind == "note" and "original_t" in entry.fields
                return format_clock(entry.t) + (" ✱" if corrected else "")
            if column == 1:
                return kind_text(entry).split(" ", 1)[0]
            return entry.text
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 0:
                return QColor(TEXT_DIM)
            return QColor(entry_colour(entry))
        if (
            role == Qt.ItemDataRole.FontRole
            and entry.kind == "note"
            and entry.fields.get("starred")
        ):
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(entry)
        if role == ENTRY_ROLE:
            return entry
        return None

    def reset(self, entries: list[TimelineEntry]) -> None:
        """Show ``entries`` (in time order), newest first."""
        self.beginResetModel()
        self.entries = entries[::-1]
        self.endResetModel()

    def prepend(self, entries: list[TimelineEntry], keep: int | None = None) -> None:
        """Add ``entries`` (in time order, none older than the newest shown) at the top, then
        drop the oldest rows beyond ``keep`` (the session's timeline is bounded too)."""
        if not entries:
            return
        self.beginInsertRows(QModelIndex(), 0, len(entries) - 1)
        self.entries[:0] = entries[::-1]
        self.endInsertRows()
        if keep is not None:
            self.keep_top(keep)


class TimelineFilter(EntryFilter):
    """Keeps the rows of one kind (or starred notes) whose text contains the search."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind: str | None = None
        self.starred_only = False
        self.search = ""

    def set_filter(self, kind: str | None, starred_only: bool, search: str) -> None:
        """Keep only ``kind`` (None: all), starred notes, rows containing ``search``."""
        with self.filter_change():
            self.kind, self.starred_only, self.search = kind, starred_only, search.strip().lower()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, TimelineModel)
        entry = model.entries[row]
        if self.starred_only and not (entry.kind == "note" and entry.fields.get("starred")):
            return False
        if self.kind is not None and entry.kind != self.kind:
            return False
        return not self.search or self.search in entry.text.lower()


class TimelinePanel(QWidget):
    """The Timeline tab: filters, the list, and the note commands."""

    #: The user asked for a new note (the window opens the dialog).
    note_requested = Signal()

    def __init__(self, workflow: IncidentWorkflow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workflow = workflow
        self.session = workflow.session
        self.model = TimelineModel(self)
        self.proxy = TimelineFilter(self)
        self.proxy.setSourceModel(self.model)
        self.dialog: NoteDialog | None = None

        self.kind_box = QComboBox()
        self.kind_box.setToolTip("Show one kind of entry")
        self.starred_box = QCheckBox("★ only")
        self.starred_box.setToolTip("Show only starred notes")
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search…")
        self.search_edit.setClearButtonEnabled(True)
        self.count_label = QLabel()
        self.count_label.setStyleSheet(f"color: {TEXT_DIM};")
        filters = QHBoxLayout()
        filters.addWidget(self.kind_box, 1)
        filters.addWidget(self.starred_box)
        filters.addWidget(self.search_edit, 1)

        self.table = entry_table_view(self.proxy, row_height=22)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self.correct_selected_time())

        self.note_button = QPushButton("✎ Note… (N)")
        self.star_button = QPushButton("★ Star (S)")
        self.time_button = QPushButton("Correct time… (E)")
        self.note_button.clicked.connect(self.note_requested.emit)
        self.star_button.clicked.connect(self.toggle_star)
        self.time_button.clicked.connect(self.correct_selected_time)
        commands = QHBoxLayout()
        for button in (self.note_button, self.star_button, self.time_button):
            commands.addWidget(button)
        commands.addStretch(1)
        commands.addWidget(self.count_label)
        for keys, slot in (("S", self.toggle_star), ("E", self.correct_selected_time)):
            shortcut = QShortcut(QKeySequence(keys), self, slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # in the panel

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(commands)

        self.kind_box.currentIndexChanged.connect(self._apply_filter)
        self.starred_box.toggled.connect(self._apply_filter)
        self.search_edit.textChanged.connect(self._apply_filter)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._kinds: list[str] = []
        self.rebuild()

    # -- reading the session ---------------------------------------------------------------------

    def on_session_update(self, update: SessionUpdate) -> None:
        """Add what the drain brought: new rows at the top, or a rebuild after a note edit."""
        new = update.new_timeline
        if not new:
            return
        newest = self.model.entries[0].t if self.model.entries else float("-inf")
        if any(e.kind == "note_edit" for e in new) or min(e.t for e in new) < newest:
            self.rebuild()
            return
        self.model.prepend(sorted(new, key=lambda e: e.t), keep=self.session.timeline.maxlen)
        self._update_kinds()
        self._update_count()

    def rebuild(self) -> None:
        """Re-read the whole timeline (folded), keeping the selected entry selected."""
        selected = self.selected_entry()
        self.model.reset(fold_timeline(self.session.timeline))
        self._update_kinds()
        self._update_count()
        if selected is not None:
            self._select(selected)
        self._update_buttons()

    def entries_shown(self) -> list[TimelineEntry]:
        """The entries the filters let through, top (newest) first."""
        rows = range(self.proxy.rowCount())
        return [self.proxy.index(row, 0).data(ENTRY_ROLE) for row in rows]

    def selected_entry(self) -> TimelineEntry | None:
        """The selected row's entry, or None."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].data(ENTRY_ROLE) if rows else None

    # -- filters ---------------------------------------------------------------------------------

    def set_kind_filter(self, kind: str | None) -> None:
        """Show only ``kind`` (None: all kinds)."""
        index = 0 if kind is None else self.kind_box.findData(kind)
        if index < 0:
            self._kinds.append(kind)  # type: ignore[arg-type]
            self.kind_box.addItem(kind_text(TimelineEntry(0, kind or "", "")), kind)
            index = self.kind_box.count() - 1
        self.kind_box.setCurrentIndex(index)

    def _apply_filter(self) -> None:
        kind = self.kind_box.currentData()
        self.proxy.set_filter(kind, self.starred_box.isChecked(), self.search_edit.text())
        self._update_count()

    def _update_kinds(self) -> None:
        present = sorted({e.kind for e in self.model.entries}, key=_kind_order)
        if present == self._kinds:
            return
        current = self.kind_box.currentData()
        blocked = self.kind_box.blockSignals(True)
        self.kind_box.clear()
        self.kind_box.addItem(ALL_KINDS, None)
        for kind in present:
            symbol, word, _ = TIMELINE_KINDS.get(kind, ("·", kind, TEXT))
            self.kind_box.addItem(f"{symbol} {word}", kind)
        index = self.kind_box.findData(current) if current is not None else 0
        self.kind_box.setCurrentIndex(max(0, index))
        self.kind_box.blockSignals(blocked)
        self._kinds = present

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown} of {total}" if shown != total else f"{total} entries")

    # -- notes -----------------------------------------------------------------------------------

    def _selected_note(self) -> TimelineEntry | None:
        entry = self.selected_entry()
        return entry if entry is not None and entry.kind == "note" else None

    def _update_buttons(self) -> None:
        note = self._selected_note()
        self.star_button.setEnabled(note is not None)
        self.time_button.setEnabled(note is not None)
        starred = bool(note is not None and note.fields.get("starred"))
        self.star_button.setText("☆ Unstar (S)" if starred else "★ Star (S)")

    def toggle_star(self) -> None:
        """Star the selected note, or unstar it."""
        note = self._selected_note()
        if note is None:
            return
        self.workflow.star_note(note.fields["note_id"], not note.fields.get("starred"))

    def correct_selected_time(self) -> NoteDialog | None:
        """Open the dialog that moves the selected note to when it really happened."""
        note = self._selected_note()
        if note is None:
            return None
        dialog = NoteDialog(self.session.clock.now(), self, correcting=note.text, at=note.t)
        note_id = note.fields["note_id"]
        dialog.accepted.connect(
            lambda: self.workflow.correct_note_time(note_id, dialog.chosen_time())
        )
        self.dialog = dialog
        dialog.open()
        return dialog

    def _select(self, entry: TimelineEntry) -> None:
        key = _identity(entry)
        for row, candidate in enumerate(self.model.entries):
            if _identity(candidate) == key:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                if index.isValid():
                    self.table.selectRow(index.row())
                return


def _identity(entry: TimelineEntry) -> tuple:
    note_id = entry.fields.get("note_id")
    return ("note", note_id) if note_id else (entry.t, entry.kind, entry.text)


def _kind_order(kind: str) -> tuple[int, str]:
    order = list(TIMELINE_KINDS)
    return (order.index(kind) if kind in order else len(order), kind)
