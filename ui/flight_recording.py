"""The flight recorder in the live window: autosave on by default, its state in the status bar,
Save snapshot (Ctrl+S), and the offer to reopen or save a recording a crashed run left behind.

- ``FlightRecording`` attaches to a live window: it prunes old autosaves on a worker thread,
  starts ``console.autosave.start_autosave`` on the session (the recorder's own thread does the
  writing), shows ``● REC`` with the recording's size in the status bar, turns it into a red
  ``✖ RECORDING STOPPED: …`` line when the recorder fails (a full disk: what was committed is
  kept), installs Ctrl+S (``ui.snapshot_saving``), and closes the recording cleanly at exit.
- ``UnfinishedRecordingDialog`` / ``ask_about_unfinished``: one recording a previous run did not
  close, with Reopen in review / Save as… / Discard / Later. ``offer_unfinished_recordings``
  asks about each (newest first) before the live window opens; the ``ask`` function is a
  parameter of ``ui.app.run_gui``, so tests answer without a person (like ``ask_open_demo``).
  ``show_reopened_recordings`` then opens those chosen for review beside the live window.

Autosave limits (age, total size) come from ``console.autosave.prune_limits_from_environment``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QWidget,
)

from console.autosave import (
    DEFAULT_MAX_AGE_S,
    DEFAULT_MAX_TOTAL_BYTES,
    UnfinishedRecording,
    autosave_dir,
    discard_recording,
    find_unfinished_recordings,
    prune_autosaves,
    prune_limits_from_environment,
    recover_recording,
    size_with_sidecars,
    start_autosave,
)
from console.durations import format_duration
from console.recorder import FlightRecorder, RecorderStatus
from console.session import Session
from console.snapshot import SaveSource, SnapshotError, detach_session
from console.snapshot_format import SUFFIX
from ui.main_window import MainWindow
from ui.review_window import ReviewWindow, show_review_window
from ui.snapshot_saving import (
    Chooser,
    SaveRange,
    SaveSnapshotAction,
    SnapshotSaver,
    choose_save,
    range_label,
)
from ui.theme import STATUS_STYLES, TEXT_DIM

RecoveryAction = Literal["reopen", "save", "discard", "later"]


@dataclass(frozen=True)
class RecoveryChoice:
    """What to do with an unfinished recording (``save_to`` for ``save``)."""

    action: RecoveryAction
    save_to: Path | None = None


# -- the live window's recorder --------------------------------------------------------------------


class RecorderIndicator(QLabel):
    """The status bar's word on the recording: ``● REC 12.4 MB``, or why it stopped."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.show_off()

    def show_off(self) -> None:
        self.setText("autosave off")
        self.setToolTip("This session is not being recorded (--no-autosave). Ctrl+S still saves.")
        self.setStyleSheet(f"color: {TEXT_DIM}; padding: 0 8px;")

    def show_recording(self, status: RecorderStatus) -> None:
        size = _size_text(status.path)
        self.setText(f"● REC {size}")
        self.setToolTip(
            f"Autosaving to {status.path} (committed every second; a crash loses at most "
            "about a second). Ctrl+S saves a copy."
        )
        self.setStyleSheet(f"color: {TEXT_DIM}; padding: 0 8px;")

    def show_failed(self, message: str, path: Path) -> None:
        self.setText(f"✖ RECORDING STOPPED: {message.removeprefix('recording stopped: ')}")
        self.setToolTip(
            f"{message}. What was recorded before is kept in {path}. Free some disk space and "
            "restart the console to record again; Ctrl+S can still save what the window holds."
        )
        fill = STATUS_STYLES["failing"].fill
        self.setStyleSheet(
            f"background: {fill}; color: #ffffff; font-weight: bold; padding: 0 8px;"
        )


def _size_text(path: Path) -> str:
    return f"{size_with_sidecars(path) / 1e6:.1f} MB"


class FlightRecording(QObject):
    """Autosave for one live window: start, show, save from, stop."""

    #: The recorder failed (one line); delivered on the GUI thread.
    failed = Signal(str)
    #: A commit happened (``RecorderStatus``); delivered on the GUI thread.
    committed = Signal(object)
    #: Something worth a status bar message (a malformed prune limit).
    notice = Signal(str)

    def __init__(
        self,
        window: MainWindow,
        session: Session,
        *,
        enabled: bool = True,
        folder: Path | None = None,
        max_bytes: int | None = None,
        choose_save_target: Chooser = choose_save,
    ) -> None:
        super().__init__(window)
        self.max_bytes = max_bytes
        self.window = window
        self.session = session
        self.folder = folder
        self.recorder: FlightRecorder | None = None
        self.indicator = RecorderIndicator()
        window.statusBar().addPermanentWidget(self.indicator)
        self.failed.connect(self._on_failed)
        self.committed.connect(self._on_committed)
        self.notice.connect(lambda text: window.statusBar().showMessage(text, 30000))
        self._pruner: threading.Thread | None = None
        self.pruned: list[Path] = []
        self._last_indicator_update = 0.0
        if enabled:
            self.start()
        self.save_action = SaveSnapshotAction(
            window,
            source=self._save_source,
            ranges=self._save_ranges,
            bounds=self._bounds,
            choose=choose_save_target,
        )

    def start(self) -> None:
        """Start recording (the file is created by the recorder's thread) and prune old files.
        A folder that cannot be made is shown like any recorder failure; the session goes on."""
        try:
            self.recorder = start_autosave(
                self.session,
                folder=self.folder,
                max_bytes=self.max_bytes,
                on_error=self.failed.emit,
                on_commit=self.committed.emit,
            )
        except OSError as exc:
            folder = self.folder if self.folder is not None else autosave_dir()
            self.indicator.show_failed(f"recording stopped: cannot create {folder}: {exc}", folder)
            return
        self.indicator.show_recording(self.recorder.status)
        keep = [self.recorder.path]
        self._pruner = threading.Thread(
            target=self._prune, args=(keep,), name="autosave-prune", daemon=True
        )
        self._pruner.start()

    def _prune(self, keep: list[Path]) -> None:
        try:
            age, size = prune_limits_from_environment()
        except ValueError as exc:
            self.notice.emit(f"✖ {exc}; old autosaves are pruned with the default limits")
            age, size = DEFAULT_MAX_AGE_S, DEFAULT_MAX_TOTAL_BYTES
        self.pruned = prune_autosaves(self.folder, max_age_s=age, max_total_bytes=size, keep=keep)

    def stop(self, timeout: float = 60.0) -> RecorderStatus | None:
        """Close the recording cleanly (final commit; the file is marked closed)."""
        self.save_action.saver.wait(timeout)
        if self._pruner is not None:
            self._pruner.join(timeout)
        if self.recorder is None:
            return None
        return self.recorder.close(timeout)

    @property
    def path(self) -> Path | None:
        return self.recorder.path if self.recorder is not None else None

    def _on_committed(self, status: RecorderStatus) -> None:
        now = time.monotonic()
        if now - self._last_indicator_update >= 1.0 and status.state == "recording":
            self._last_indicator_update = now
            self.indicator.show_recording(status)

    def _on_failed(self, message: str) -> None:
        path = self.recorder.path if self.recorder is not None else Path("?")
        self.indicator.show_failed(message, path)
        self.window.statusBar().showMessage(f"✖ {message}; what was recorded is kept", 30000)

    # -- saving ------------------------------------------------------------------------------------

    def _save_source(self) -> SaveSource:
        recorder = self.recorder
        if recorder is not None and recorder.status.state == "recording":
            return recorder  # the whole history, flushed first (on the saver's thread)
        return detach_session(self.session)  # what the window holds, copied on the GUI thread

    def _bounds(self) -> tuple[float, float]:
        now = self.session.clock.now()
        keys = list(self.session.store.series_keys())
        oldest = [ring.arrays()[0][0] for k in keys if (ring := self.session.store.ring(k))]
        return (min(oldest, default=now - 3600), now)

    def _save_ranges(self) -> list[SaveRange]:
        now = self.session.clock.now()
        x0, x1 = self.window.chart_grid.x_range
        recording = self.recorder is not None and self.recorder.status.state == "recording"
        whole = "The whole session" + (" (everything recorded)" if recording else "")
        ranges = [SaveRange(whole)]
        if x1 > x0:
            x1 = min(x1, now)
            ranges.append(SaveRange(range_label("The visible chart range", x0, x1), x0, x1))
        ranges.append(SaveRange(range_label("The last 15 minutes", now - 900, now), now - 900, now))
        return ranges


# -- unfinished recordings ------------------------------------------------------------------------


def describe_recording(recording: UnfinishedRecording) -> str:
    """``"Golden path blocked…", recorded 09:12–10:47 (1h 35m), 12.3 MB``."""
    title = recording.title or recording.path.name
    text = f"“{title}”"
    if recording.time_range is not None:
        start, end = recording.time_range
        when = time.strftime("%a %d %b %H:%M", time.localtime(start))
        text += f", recorded {when}–{time.strftime('%H:%M', time.localtime(end))}"
        text += f" ({format_duration(end - start)})"
    return f"{text}, {recording.size_bytes / 1e6:.1f} MB"


class UnfinishedRecordingDialog(QMessageBox):
    """One unfinished recording and what to do with it."""

    def __init__(
        self, recording: UnfinishedRecording, index: int, total: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.recording = recording
        self.setIcon(QMessageBox.Icon.Warning)
        count = f" ({index} of {total})" if total > 1 else ""
        self.setWindowTitle(f"Incident Console: unfinished recording{count}")
        self.setText("The console did not close properly last time. Its recording is kept:")
        self.setInformativeText(
            f"{describe_recording(recording)}\n\n{recording.path}\n\n"
            "Reopen it to review what happened, save it under a name of your choice, or "
            "discard it. Later keeps it and asks again next time."
        )
        self.buttons: dict[RecoveryAction, object] = {
            "reopen": self.addButton("Reopen in review", QMessageBox.ButtonRole.AcceptRole),
            "save": self.addButton("Save as…", QMessageBox.ButtonRole.ActionRole),
            "discard": self.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole),
            "later": self.addButton("Later", QMessageBox.ButtonRole.RejectRole),
        }
        self.setDefaultButton(self.buttons["reopen"])  # type: ignore[arg-type]
        self.setEscapeButton(self.buttons["later"])  # type: ignore[arg-type]

    def chosen_action(self) -> RecoveryAction:
        clicked = self.clickedButton()
        for action, button in self.buttons.items():
            if button is clicked:
                return action
        return "later"


def ask_about_unfinished(
    recording: UnfinishedRecording, index: int, total: int, parent: QWidget | None = None
) -> RecoveryChoice:
    """Ask (modal) what to do with ``recording``; Save as… asks for the file; Discard asks
    for confirmation."""
    dialog = UnfinishedRecordingDialog(recording, index, total, parent)
    dialog.exec()
    action = dialog.chosen_action()
    if action == "save":
        suggested = Path.home() / recording.path.name.replace("recording-", "incident-")
        name, _ = QFileDialog.getSaveFileName(
            parent, "Save the recording as", str(suggested), f"Incident snapshots (*{SUFFIX})"
        )
        if not name:
            return RecoveryChoice("later")
        path = Path(name)
        return RecoveryChoice("save", path if path.suffix == SUFFIX else Path(name + SUFFIX))
    if action == "discard":
        sure = QMessageBox.question(
            parent,
            "Discard the recording?",
            f"Delete {recording.path.name} for good? What it recorded cannot be recovered.",
        )
        if sure != QMessageBox.StandardButton.Yes:
            return RecoveryChoice("later")
    return RecoveryChoice(action)


AskUnfinished = Callable[[UnfinishedRecording, int, int], RecoveryChoice]


def save_with_progress(source: SaveSource, output: Path, parent: QWidget | None = None) -> str:
    """Save on a worker thread while a progress dialog runs (a local event loop, so the caller
    may be before the main window exists); returns "" on success, else why it failed."""
    saver = SnapshotSaver()
    dialog = QProgressDialog(f"Saving {output.name}…", "Cancel", 0, 0, parent)
    dialog.setWindowTitle("Saving the recording")
    dialog.setMinimumDuration(400)
    dialog.canceled.connect(saver.cancel)
    loop = QEventLoop()
    outcome: list[str] = []
    saver.finished.connect(lambda _path: (outcome.append(""), loop.quit()))
    saver.failed.connect(lambda message: (outcome.append(message), loop.quit()))
    saver.progressed.connect(lambda done, total: (dialog.setMaximum(total), dialog.setValue(done)))
    saver.save(source, output)
    if not outcome:
        loop.exec()
    dialog.canceled.disconnect(saver.cancel)
    dialog.reset()
    dialog.deleteLater()
    return outcome[0] if outcome else "interrupted"


def offer_unfinished_recordings(
    ask: AskUnfinished = ask_about_unfinished, folder: Path | None = None
) -> list[Path]:
    """Ask about each recording a previous run left unfinished; returns those to reopen in
    review (recovered first: the write-ahead log folded in). Saving writes a copy (the
    recording stays, marked recovered, and is pruned with the other autosaves)."""
    recordings = find_unfinished_recordings(folder if folder is not None else autosave_dir())
    reopen: list[Path] = []
    for index, recording in enumerate(recordings, start=1):
        choice = ask(recording, index, len(recordings))
        if choice.action == "reopen":
            reopen.append(recover_recording(recording.path))
        elif choice.action == "save" and choice.save_to is not None:
            recover_recording(recording.path)
            problem = save_with_progress(recording.path, choice.save_to)
            if problem:
                QMessageBox.warning(
                    None,
                    "Recording not saved",
                    f"{problem}\n\nThe recording is still in {recording.path}.",
                )
        elif choice.action == "discard":
            discard_recording(recording.path)
    return reopen


def show_reopened_recordings(
    app: QApplication, paths: list[Path], window: MainWindow
) -> list[ReviewWindow]:
    """Open each recording chosen for review beside the live ``window``; one that cannot be
    reviewed (nothing recorded in it, damaged) is named in the live window's status bar."""
    reviews = []
    for path in paths:
        try:
            reviews.append(show_review_window(app, path))
        except SnapshotError as exc:
            window.statusBar().showMessage(f"✖ cannot reopen the recording: {exc}", 30000)
    return reviews
