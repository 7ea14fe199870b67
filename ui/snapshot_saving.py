"""Saving a snapshot from the window (Ctrl+S): choose a time range and a file, then write it on a
worker thread with a progress dialog that can cancel.

- ``SaveRange``: a named time range offered in the dialog (whole session, visible chart range…).
- ``SaveSnapshotDialog``: the range choice, including a custom from/to range.
- ``choose_save``: the dialog, then the file dialog; returns ``(range, path)`` or None. Windows
  take it as a parameter (``SaveSnapshotAction(..., choose=...)``), so tests pass their own.
- ``SnapshotSaver``: runs ``console.snapshot.save_snapshot`` on a worker thread; ``progressed``,
  ``finished`` and ``failed`` arrive on the GUI thread. Cancelling abandons the write: the save is
  atomic, so nothing is left under the chosen name.
- ``SaveSnapshotAction``: the window's "Save snapshot…" command (Ctrl+S), wired to a source
  factory called on the GUI thread at save time (a flight recorder, a detached copy of the
  session, or the reviewed file's path) and to the ranges to offer.

Nothing is written on the GUI thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QDateTime, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.snapshot import SaveSource, SnapshotError, save_snapshot
from console.snapshot_format import SUFFIX
from ui.main_window import MainWindow

#: The progress dialog appears only for saves that take longer than this.
PROGRESS_DELAY_MS = 400


class SaveCancelledError(Exception):
    """Raised from the progress callback to abandon a save."""


@dataclass(frozen=True)
class SaveRange:
    """A time range to save: ``t0``/``t1`` None mean "from the beginning" / "to the end"."""

    label: str
    t0: float | None = None
    t1: float | None = None


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def range_label(what: str, t0: float, t1: float) -> str:
    """``Visible chart range (04:12:00 – 05:12:00)``."""
    return f"{what} ({_clock(t0)} – {_clock(t1)})"


class SaveSnapshotDialog(QDialog):
    """Which time range to save: one of ``ranges``, or a custom from/to."""

    def __init__(
        self,
        ranges: Sequence[SaveRange],
        bounds: tuple[float, float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save snapshot")
        self.ranges = list(ranges)
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Save which part of the session to an .incident file?"))
        for index, choice in enumerate(self.ranges):
            button = QRadioButton(choice.label)
            self.group.addButton(button, index)
            layout.addWidget(button)
        self.custom_button = QRadioButton("From … to …")
        self.group.addButton(self.custom_button, len(self.ranges))
        layout.addWidget(self.custom_button)
        grid = QGridLayout()
        self.from_edit = self._time_edit(bounds[0], bounds)
        self.to_edit = self._time_edit(bounds[1], bounds)
        grid.addWidget(QLabel("from"), 0, 0)
        grid.addWidget(self.from_edit, 0, 1)
        grid.addWidget(QLabel("to"), 1, 0)
        grid.addWidget(self.to_edit, 1, 1)
        layout.addLayout(grid)
        self.problem_label = QLabel()
        layout.addWidget(self.problem_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.group.button(0 if self.ranges else len(self.ranges)).setChecked(True)
        for edit in (self.from_edit, self.to_edit):
            edit.dateTimeChanged.connect(lambda _value: self.custom_button.setChecked(True))

    @staticmethod
    def _time_edit(t: float, bounds: tuple[float, float]) -> QDateTimeEdit:
        edit = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(t)))
        edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        edit.setMinimumDateTime(QDateTime.fromSecsSinceEpoch(int(bounds[0])))
        edit.setMaximumDateTime(QDateTime.fromSecsSinceEpoch(int(bounds[1]) + 1))
        return edit

    def select(self, index: int) -> None:
        """Choose range ``index`` (``len(ranges)``: the custom one)."""
        self.group.button(index).setChecked(True)

    def set_custom(self, t0: float, t1: float) -> None:
        """Choose the custom range ``[t0, t1]``."""
        self.from_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(t0)))
        self.to_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(t1)))
        self.custom_button.setChecked(True)

    def chosen(self) -> SaveRange:
        """The range chosen."""
        index = self.group.checkedId()
        if 0 <= index < len(self.ranges):
            return self.ranges[index]
        t0 = float(self.from_edit.dateTime().toSecsSinceEpoch())
        t1 = float(self.to_edit.dateTime().toSecsSinceEpoch())
        return SaveRange(range_label("Custom range", t0, t1), t0, t1)

    def accept(self) -> None:
        choice = self.chosen()
        if choice.t0 is not None and choice.t1 is not None and choice.t1 <= choice.t0:
            self.problem_label.setText("✖ the end must be after the start")
            return
        super().accept()


def suggested_file_name(title: str, now: float) -> str:
    """``incident-2025-03-14-0930.incident`` (the title's first words when there is one)."""
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()[:4]
    stem = "-".join(words) or "incident"
    return f"{stem}-{time.strftime('%Y%m%d-%H%M', time.localtime(now))}{SUFFIX}"


def choose_save(
    parent: QWidget,
    ranges: Sequence[SaveRange],
    bounds: tuple[float, float],
    suggested: Path,
) -> tuple[SaveRange, Path] | None:
    """Ask which range and which file (modal dialogs); None when the user cancels."""
    dialog = SaveSnapshotDialog(ranges, bounds, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    name, _ = QFileDialog.getSaveFileName(
        parent, "Save snapshot", str(suggested), f"Incident snapshots (*{SUFFIX})"
    )
    if not name:
        return None
    path = Path(name)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    return dialog.chosen(), path


Chooser = Callable[[QWidget, Sequence[SaveRange], tuple[float, float], Path], tuple | None]


class SnapshotSaver(QObject):
    """Saves on a worker thread; one save at a time."""

    progressed = Signal(int, int)
    #: The saved file's path.
    finished = Signal(object)
    #: One line saying why the save failed ("cancelled" when cancelled).
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def save(
        self, source: SaveSource, output: Path, t0: float | None = None, t1: float | None = None
    ) -> None:
        """Start writing ``source`` (limited to ``[t0, t1]``) to ``output``."""
        if self.busy:
            raise RuntimeError("a snapshot is already being saved")
        self._cancel.clear()
        self._thread = threading.Thread(
            target=self._run, args=(source, output, t0, t1), name="snapshot-save", daemon=True
        )
        self._thread.start()

    def cancel(self) -> None:
        """Abandon the save in progress (nothing is left under its name)."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker ends (for shutdown); True when it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy

    def _progress(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise SaveCancelledError
        self.progressed.emit(done, total)

    def _run(self, source: SaveSource, output: Path, t0: float | None, t1: float | None) -> None:
        try:
            save_snapshot(source, output, t0, t1, progress=self._progress)
        except SaveCancelledError:
            self.failed.emit("cancelled")
        except (SnapshotError, OSError) as exc:
            self.failed.emit(str(exc))
        else:
            self.finished.emit(output)


class SaveSnapshotAction(QObject):
    """The window's "Save snapshot…" (Ctrl+S): range and file dialogs, then a worker save."""

    def __init__(
        self,
        window: MainWindow,
        source: Callable[[], SaveSource],
        ranges: Callable[[], list[SaveRange]],
        bounds: Callable[[], tuple[float, float]],
        *,
        choose: Chooser = choose_save,
        folder: Callable[[], Path] = Path.cwd,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.source = source
        self.ranges = ranges
        self.bounds = bounds
        self.choose = choose
        self.folder = folder
        self.saver = SnapshotSaver(self)
        self.progress_dialog: QProgressDialog | None = None
        self.last_saved: Path | None = None
        self.last_error = ""
        self.action = window.add_action(
            "Save snapshot…",
            ["Ctrl+S"],
            "Save the session, or a time range of it, to an .incident file",
        )
        self.action.triggered.connect(self.trigger)
        self.saver.progressed.connect(self._on_progress)
        self.saver.finished.connect(self._on_finished)
        self.saver.failed.connect(self._on_failed)

    def trigger(self) -> None:
        """Ask what and where, then start the save (the worker writes; the GUI stays live)."""
        if self.saver.busy:
            self.window.statusBar().showMessage("A snapshot is already being saved", 4000)
            return
        now = time.time()
        title = self.window.session.workspace.incident.title
        suggested = self.folder() / suggested_file_name(title, now)
        answer = self.choose(self.window, self.ranges(), self.bounds(), suggested)
        if answer is None:
            return
        choice, path = answer
        source = self.source()  # on the GUI thread: a detached copy is consistent
        self.progress_dialog = QProgressDialog(f"Saving {path.name}…", "Cancel", 0, 0, self.window)
        self.progress_dialog.setWindowTitle("Saving snapshot")
        self.progress_dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress_dialog.setMinimumDuration(PROGRESS_DELAY_MS)
        self.progress_dialog.canceled.connect(self.saver.cancel)
        self.window.statusBar().showMessage(f"Saving {path.name}…")
        self.saver.save(source, path, choice.t0, choice.t1)

    def _close_progress(self) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.canceled.disconnect(self.saver.cancel)
            self.progress_dialog.reset()
            self.progress_dialog.deleteLater()
            self.progress_dialog = None

    def _on_progress(self, done: int, total: int) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.setMaximum(total)
            self.progress_dialog.setValue(done)

    def _on_finished(self, path: Path) -> None:
        self._close_progress()
        self.last_saved, self.last_error = path, ""
        size = path.stat().st_size / 1e6 if path.exists() else 0.0
        self.window.statusBar().showMessage(f"✔ Saved {path} ({size:.1f} MB)", 15000)

    def _on_failed(self, message: str) -> None:
        self._close_progress()
        self.last_error = message
        if message == "cancelled":
            self.window.statusBar().showMessage("Save cancelled: nothing was written", 8000)
            return
        self.window.statusBar().showMessage(f"✖ Snapshot not saved: {message}", 15000)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Snapshot not saved",
            f"The snapshot could not be saved:\n{message}\n\nNothing was written under that "
            "name; choose another folder or free some space and try again.",
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
