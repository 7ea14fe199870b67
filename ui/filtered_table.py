"""A filtered table of entries, newest first: the Qt pieces the Logs and Timeline panels share.

``EntryTableModel`` is a flat, read-only table over a Python list of entries (row 0 on top) with
fixed column titles; a panel's model adds what its cells show (``entry_data``) and how entries
arrive.
``EntryFilter`` is the proxy in front of it: ``filter_change()`` wraps a change of its criteria
so the views re-filter once. ``entry_table_view`` makes the ``QTableView`` both panels show: whole
rows selected, no grid, no wrapping, no row numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QTableView

Entry = TypeVar("Entry")
#: The invalid index: the parent of every row of a flat table.
ROOT = QModelIndex()


class EntryTableModel(QAbstractTableModel, Generic[Entry]):
    """A read-only table of ``entries`` (row 0 on top) under the titles ``columns``."""

    def __init__(self, columns: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        #: The rows, top first.
        self.entries: list[Entry] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        return self.entry_data(self.entries[index.row()], index.column(), role)

    def entry_data(self, entry: Entry, column: int, role: int) -> Any:
        """What cell ``column`` of ``entry``'s row holds for ``role`` (None: nothing)."""
        return None

    def entry(self, row: int) -> Entry:
        """The entry shown on ``row`` (0 is the top)."""
        return self.entries[row]

    def keep_top(self, keep: int) -> int:
        """Drop the rows below the first ``keep``; returns how many were dropped."""
        excess = len(self.entries) - keep
        if excess <= 0:
            return 0
        self.beginRemoveRows(QModelIndex(), keep, len(self.entries) - 1)
        del self.entries[keep:]
        self.endRemoveRows()
        return excess


class EntryFilter(QSortFilterProxyModel):
    """The filter proxy in front of an ``EntryTableModel``; subclasses hold the criteria."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    @contextmanager
    def filter_change(self) -> Iterator[None]:
        """Change the criteria inside this block; the rows are filtered again once, after it."""
        modern = hasattr(QSortFilterProxyModel, "Direction")  # Qt ≥ 6.10: invalidate* deprecated
        if modern:
            self.beginFilterChange()
        try:
            yield
        finally:
            if modern:
                self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
            else:
                self.invalidateFilter()


def entry_table_view(model: QAbstractItemModel, row_height: int) -> QTableView:
    """A table of ``model`` that selects whole rows, rows ``row_height`` px high, no grid."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(False)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(row_height)
    return view
