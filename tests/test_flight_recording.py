"""The flight recorder in the live window: on by default in ``run_gui``, off with
``autosave=False``, failures in the status bar, Ctrl+S from a live session, and the offer to
reopen, save or discard a recording left behind by a real recording process killed with SIGKILL.

``run_gui`` runs its real event loop here; each test ends it from a zero-delay timer queued by
its own answer to the unfinished-recording question (never a sleep). The killed recorder is a
real subprocess; the parent waits for its output with ``select`` and a deadline.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from console.autosave import find_unfinished_recordings
from console.session import Session
from console.snapshot import open_snapshot
from console.workspace import Workspace
from tests.recording_process import RecordingProcess
from tests.shown_windows import shown_main_window
from ui.app import run_gui
from ui.flight_recording import (
    FlightRecording,
    RecoveryChoice,
    UnfinishedRecordingDialog,
    describe_recording,
)
from ui.main_window import MainWindow
from ui.review_window import ReviewWindow
from ui.session_bridge import SessionBridge
from ui.snapshot_saving import SaveRange

pytestmark = pytest.mark.gui

#: A demo session recorded into the autosave folder, on a clock that runs 20× real time, until
#: it is killed. It says when a few commits are in the file.
RECORDING_CHILD = r"""
import threading
from console.autosave import start_autosave
from console.clock import SystemClock, VirtualClock
from console.session_factory import build_session
from console.workspace_toml import demo_workspace_path, load_workspace

clock = VirtualClock(SystemClock().now())
session = build_session(load_workspace(demo_workspace_path()), clock)
recorder = start_autosave(session)
print("path", recorder.path, flush=True)
pause = threading.Event()
said = False
while True:
    session.poll_sources()
    session.drain()
    if not said and recorder.status.commits >= 3:
        print("committed", recorder.status.newest_committed_t, flush=True)
        said = True
    clock.advance(1.0)
    pause.wait(0.05)
"""


@pytest.fixture
def killed_recording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A demo recording whose process was killed with SIGKILL, in this test's data folder."""
    monkeypatch.setenv("INCIDENT_CONSOLE_DATA_DIR", str(tmp_path / "data"))
    with RecordingProcess(RECORDING_CHILD, tmp_path / "data", timeout_s=120) as child:
        path = child.recording_path()
        while not child.line().startswith("committed"):
            pass
        child.kill()
    assert child.process.returncode == -signal.SIGKILL
    assert path.with_name(path.name + "-wal").exists()  # killed mid-recording
    return path


def quit_soon(then: Callable[[], None] | None = None) -> None:
    """End ``run_gui``'s event loop once its live window is up (after ``then``). Until then the
    check is queued again: a save before the window (a local event loop) must not swallow it."""

    def finish() -> None:
        if not live_windows():
            QTimer.singleShot(10, finish)
            return
        if then is not None:
            then()
        QApplication.quit()

    QTimer.singleShot(0, finish)


def live_windows() -> list[MainWindow]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, MainWindow) and not isinstance(w, ReviewWindow) and w.isVisible()
    ]


def autosaves(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "autosave").glob("*.incident"))


# -- run_gui ------------------------------------------------------------------------------------


def test_run_gui_records_the_session_and_closes_the_file_cleanly(
    qtbot, demo_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCIDENT_CONSOLE_DATA_DIR", str(tmp_path))
    seen: dict[str, str] = {}

    def look() -> None:
        (window,) = live_windows()
        recording = window.findChild(FlightRecording)
        seen["indicator"] = recording.indicator.text()
        seen["path"] = str(recording.path)

    def never_asked(*_args: object) -> RecoveryChoice:
        raise AssertionError("nothing was unfinished")

    quit_soon(look)
    assert run_gui(demo_workspace, ask_unfinished=never_asked) == 0
    assert seen["indicator"].startswith("● REC")
    (path,) = autosaves(tmp_path)
    assert str(path) == seen["path"]
    with open_snapshot(path) as snapshot:
        assert snapshot.closed_cleanly
        assert snapshot.workspace.incident.title == demo_workspace.incident.title
        assert [e.text for e in snapshot.timeline()][-1] == "recording stopped"
    assert not path.with_name(path.name + "-wal").exists()


def test_run_gui_without_autosave_records_nothing(
    qtbot, demo_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCIDENT_CONSOLE_DATA_DIR", str(tmp_path))
    seen: list[str] = []

    def look() -> None:
        (window,) = live_windows()
        seen.append(window.findChild(FlightRecording).indicator.text())

    quit_soon(look)
    assert run_gui(demo_workspace, autosave=False) == 0
    assert seen == ["autosave off"]
    assert not (tmp_path / "autosave").exists()


@pytest.mark.slow
def test_reopen_an_unfinished_recording_after_sigkill(
    qtbot, demo_workspace: Workspace, killed_recording: Path, tmp_path: Path
) -> None:
    asked: list[tuple[Path, int, int]] = []
    reviewed: list[Path] = []

    def look() -> None:
        reviews = [w for w in QApplication.topLevelWidgets() if isinstance(w, ReviewWindow)]
        reviewed.extend(w.review_session.snapshot.path for w in reviews)

    def reopen(recording, index: int, total: int) -> RecoveryChoice:
        asked.append((recording.path, index, total))
        assert recording.title == demo_workspace.incident.title
        assert "recorded" in describe_recording(recording)
        quit_soon(look)
        return RecoveryChoice("reopen")

    assert run_gui(demo_workspace, ask_unfinished=reopen) == 0
    assert asked == [(killed_recording, 1, 1)]
    assert reviewed == [killed_recording]
    assert not killed_recording.with_name(killed_recording.name + "-wal").exists()
    with open_snapshot(killed_recording) as snapshot:
        assert snapshot.meta["closed"] == "recovered"
        assert len(snapshot.series_keys()) > 20
    folder = tmp_path / "data"
    assert find_unfinished_recordings(folder / "autosave") == []
    # This run's own recording sits beside it, closed cleanly.
    (own,) = [p for p in autosaves(folder) if p != killed_recording]
    with open_snapshot(own) as snapshot:
        assert snapshot.closed_cleanly


@pytest.mark.slow
@pytest.mark.parametrize("action", ["save", "discard", "later"])
def test_save_discard_or_keep_an_unfinished_recording(
    qtbot,
    demo_workspace: Workspace,
    killed_recording: Path,
    tmp_path: Path,
    action: str,
) -> None:
    output = tmp_path / "kept.incident"

    def answer(recording, index: int, total: int) -> RecoveryChoice:
        quit_soon()
        return RecoveryChoice(action, output if action == "save" else None)  # type: ignore[arg-type]

    assert run_gui(demo_workspace, ask_unfinished=answer) == 0
    unfinished = find_unfinished_recordings(tmp_path / "data" / "autosave")
    if action == "save":
        with open_snapshot(killed_recording) as original, open_snapshot(output) as saved:
            assert saved.series_keys() == original.series_keys()
            key = original.series_keys()[0]
            np.testing.assert_array_equal(saved.series(key)[0], original.series(key)[0])
            assert saved.closed_cleanly
        assert unfinished == []
    elif action == "discard":
        assert not killed_recording.exists()
        assert not killed_recording.with_name(killed_recording.name + "-wal").exists()
        assert unfinished == []
    else:
        assert [r.path for r in unfinished] == [killed_recording]  # asked again next time


#: The offscreen platform cannot pass a dialog's size limits to a window system and says so.
@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_the_unfinished_recording_dialog_offers_four_ways(qtbot, killed_recording: Path) -> None:
    (recording,) = find_unfinished_recordings(killed_recording.parent)
    dialog = UnfinishedRecordingDialog(recording, 1, 2)
    qtbot.addWidget(dialog)
    texts = [dialog.buttons[a].text() for a in ("reopen", "save", "discard", "later")]
    assert texts == ["Reopen in review", "Save as…", "Discard", "Later"]
    assert "(1 of 2)" in dialog.windowTitle()
    assert str(recording.path) in dialog.informativeText()
    QTimer.singleShot(0, dialog.buttons["discard"].click)
    dialog.exec()
    assert dialog.chosen_action() == "discard"


# -- the recorder in a window ------------------------------------------------------------------


@pytest.fixture
def live_window(qtbot, demo_session: Session) -> Iterator[MainWindow]:
    bridge = SessionBridge(demo_session, coalesce_ms=None)
    yield shown_main_window(qtbot, demo_session, bridge, (1280, 800))


def test_a_full_disk_stops_recording_visibly(
    qtbot, live_window: MainWindow, demo_session: Session, tmp_path: Path
) -> None:
    recording = FlightRecording(live_window, demo_session, folder=tmp_path, max_bytes=64 * 1024)
    qtbot.waitUntil(lambda: "RECORDING STOPPED" in recording.indicator.text(), timeout=30_000)
    assert "full" in recording.indicator.text()
    assert "kept" in live_window.statusBar().currentMessage()
    assert recording.stop().state == "failed"
    with open_snapshot(recording.path) as snapshot:  # what was committed is readable
        assert snapshot.workspace.incident.title == demo_session.workspace.incident.title


def test_an_autosave_folder_that_cannot_be_made_is_shown(
    qtbot, live_window: MainWindow, demo_session: Session, tmp_path: Path
) -> None:
    (tmp_path / "in-the-way").write_text("a file")
    recording = FlightRecording(live_window, demo_session, folder=tmp_path / "in-the-way" / "x")
    assert recording.recorder is None
    assert recording.indicator.text().startswith("✖ RECORDING STOPPED: cannot create")
    assert recording.stop() is None


class Chooser:
    def __init__(self, path: Path, index: int = 0) -> None:
        self.path, self.index = path, index

    def __call__(
        self, parent: QWidget, ranges: Sequence[SaveRange], bounds, suggested: Path
    ) -> tuple[SaveRange, Path]:
        return ranges[self.index], self.path


@pytest.mark.parametrize("autosave", [True, False])
def test_ctrl_s_saves_the_live_session(
    qtbot, live_window: MainWindow, demo_session: Session, tmp_path: Path, autosave: bool
) -> None:
    output = tmp_path / "saved.incident"
    recording = FlightRecording(
        live_window,
        demo_session,
        enabled=autosave,
        folder=tmp_path / "autosave",
        choose_save_target=Chooser(output),
    )
    with qtbot.waitSignal(recording.save_action.saver.finished, timeout=60_000):
        qtbot.keyClick(live_window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    with open_snapshot(output) as saved:
        assert set(saved.series_keys()) == set(demo_session.store.series_keys())
        key = ("auth", "latency_p95_ms")
        np.testing.assert_array_equal(
            saved.series(key)[0], demo_session.store.ring(key).arrays()[0]
        )
        assert len(saved.logs()) == len(demo_session.logs)
    recording.stop()
    assert (tmp_path / "autosave").exists() == autosave
