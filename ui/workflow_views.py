"""Puts the incident workflow into the main window: panels, the note key, notifications.

``install_workflow_views(window)`` adds, for a session with a workflow (``session.workflow``):
the **Recovery** panel (key C: criteria board, probes, escalation timers), the **Timeline**
panel (key T), the **Note** command (key N: a note dialog; the note lands on the timeline), and
a ``DesktopNotifier`` that announces each escalation timer reaching its decision point. The views
follow the session through the window's ``SessionBridge`` (after each drain, and on the tick).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction

from console.notes import NoteError
from console.session import SessionUpdate
from ui.criteria_board import RecoveryPanel
from ui.escalation_view import DesktopNotifier
from ui.note_dialog import NoteDialog
from ui.timeline_view import TimelinePanel

if TYPE_CHECKING:  # the main window installs these views
    from ui.main_window import MainWindow


@dataclass
class WorkflowViews:
    """What ``install_workflow_views`` added to a window."""

    window: MainWindow
    recovery: RecoveryPanel
    timeline: TimelinePanel
    note_action: QAction
    notifier: DesktopNotifier
    note_dialog: NoteDialog | None = None

    def open_note_dialog(self) -> NoteDialog:
        """Open (not block on) the dialog for a new note."""
        session = self.window.session
        dialog = NoteDialog(session.clock.now(), self.window)
        dialog.accepted.connect(lambda: self._save_note(dialog))
        self.note_dialog = dialog
        dialog.open()
        return dialog

    def _save_note(self, dialog: NoteDialog) -> None:
        workflow = self.window.session.workflow
        assert workflow is not None
        try:
            workflow.add_note(dialog.text(), t=dialog.chosen_time(), starred=dialog.starred())
        except NoteError as error:
            self.window.statusBar().showMessage(f"note not added: {error}", 10_000)
            return
        self.window.statusBar().showMessage("note added to the timeline", 5_000)

    def on_session_update(self, update: SessionUpdate) -> None:
        """Notify the desktop of every timer that became due in this drain."""
        for entry in update.new_timeline:
            if entry.kind == "timer" and entry.fields.get("event") == "due":
                title = str(entry.fields.get("title") or "Escalation timer")
                self.notifier.notify(f"Decision due: {title}", entry.text)


def install_workflow_views(window: MainWindow) -> WorkflowViews | None:
    """Add the workflow's panels, note key and notifications to ``window`` (None without one)."""
    workflow = window.session.workflow
    if workflow is None:
        return None
    recovery = RecoveryPanel(workflow)
    timeline = TimelinePanel(workflow)
    window.add_panel(recovery, "Recovery", ["C"])
    window.add_panel(timeline, "Timeline", ["T"])
    note_action = window.add_action("Note", ["N"], "Add a note to the incident timeline")
    views = WorkflowViews(window, recovery, timeline, note_action, DesktopNotifier(window))
    note_action.triggered.connect(views.open_note_dialog)
    timeline.note_requested.connect(views.open_note_dialog)
    bridge = window.bridge
    bridge.updated.connect(recovery.on_session_update)
    bridge.updated.connect(timeline.on_session_update)
    bridge.updated.connect(views.on_session_update)
    bridge.ticked.connect(recovery.refresh)
    return views
