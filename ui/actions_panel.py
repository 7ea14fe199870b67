"""The Actions panel: each changeable resource's current settings with its guarded buttons.

One card per VPC connector ("Scale…") and per Cloud Run service ("Scale…", "Route traffic…"), with
the settings read fresh from the API (off the GUI thread) when the panel is first shown, after every
action and on "Refresh". A button opens the ``PlanDialog`` for that action; the status graph's node
menu offers the same actions (``fill_node_menu``). Below the cards, the latest attempts with their
outcome and watch verdict, and Revert for the changes this window made.

``install_actions(window)`` wires it all into a ``MainWindow``: the panel (tab "Actions", key A),
the node menu and the chart annotations. A read-only session has no executor, so it gets no panel
and no menu entries at all (the buttons are absent, not disabled); it still gets the annotations.

Keyboard: A shows the panel and focuses its first button; Tab / Shift+Tab or the arrow keys move
between buttons; Enter or Space opens the dialog.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.actions.audit import AUDIT_KIND, FINAL_OUTCOMES, OUTCOME_SYMBOLS
from console.actions.commands import Command, RouteTraffic, ScaleConnector, ScaleService
from console.actions.pipeline import ActionEngine, ActionResult
from console.actions.plan import blast_radius
from console.actions.target import Target, resolve_target
from console.resource_state import ResourceState, describe_resource
from console.session import SessionUpdate
from console.workspace import Workspace
from ui.action_annotations import ActionAnnotations
from ui.action_runner import ActionRunner
from ui.plan_dialog import PlanDialog
from ui.session_bridge import SessionBridge
from ui.theme import ACCENT, PANEL, PANEL_BORDER, STATUS_STYLES, TEXT, TEXT_DIM

if TYPE_CHECKING:
    from ui.main_window import MainWindow

#: Which actions each kind of resource offers, in button order: (command name, button text).
ACTIONS_BY_KIND: dict[str, tuple[tuple[str, str], ...]] = {
    "vpc_connector": ((ScaleConnector.name, "Scale…"),),
    "cloud_run": ((ScaleService.name, "Scale…"), (RouteTraffic.name, "Traffic…")),
}
#: The same actions as the status graph's node menu words them.
MENU_TEXTS = {
    ScaleConnector.name: "Scale connector…",
    ScaleService.name: "Scale service…",
    RouteTraffic.name: "Route traffic…",
}
#: How long the GUI waits between "Execute" and sending, so Cancel can still stop it.
GUI_GRACE_S = 3.0
#: How often the cards re-read their resources while the panel is visible (live sessions).
REFRESH_MS = 30_000
RECENT_ROWS = 5


def actionable_services(workspace: Workspace) -> list[str]:
    """Services an action can change, those whose change reaches most golden-path steps first
    (the shared connector before the services it carries), then in workspace order."""
    ids = [sid for sid, s in workspace.services.items() if s.kind in ACTIONS_BY_KIND]
    order = list(workspace.services)
    radius = {sid: blast_radius(workspace, sid) for sid in ids}
    return sorted(
        ids,
        key=lambda sid: (-len(radius[sid].steps), -len(radius[sid].services), order.index(sid)),
    )


class ResourceCard(QFrame):
    """One resource: name, cloud name, current settings and its action buttons."""

    def __init__(self, target: Target, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target = target
        self.setObjectName("resourceCard")
        self.setStyleSheet(
            f"QFrame#resourceCard {{ background: {PANEL}; border: 1px solid {PANEL_BORDER};"
            " border-radius: 4px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 6, 4)
        layout.setSpacing(2)
        title = QLabel(
            f"<b>{html.escape(target.name)}</b> <span style='color:{TEXT_DIM}; font-size: 9pt'>"
            f"· {html.escape(target.kind_word)} {html.escape(target.resource)}</span>"
        )
        title.setStyleSheet("background: transparent;")
        layout.addWidget(title)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.settings_label = QLabel("reading…")
        self.settings_label.setWordWrap(True)
        row.addWidget(self.settings_label, 1)
        self.button_row = QHBoxLayout()
        self.button_row.setSpacing(4)
        row.addLayout(self.button_row)
        layout.addLayout(row)
        self._settings_style(TEXT_DIM)
        self.state: ResourceState | None = None

    def _settings_style(self, colour: str) -> None:
        self.settings_label.setStyleSheet(f"background: transparent; color: {colour};")

    def show_state(self, state: ResourceState) -> None:
        """Show the settings just read."""
        self.state = state
        self.settings_label.setText(describe_resource(state))
        self._settings_style(TEXT)

    def show_error(self, error: Exception) -> None:
        """Say that the settings could not be read (the buttons stay: the dialog re-reads)."""
        self.settings_label.setText(f"cannot read: {error}")
        self._settings_style(STATUS_STYLES["failing"].fill)


class ActionsPanel(QWidget):
    """The resources an action can change, their settings and buttons, and recent attempts."""

    #: A plan dialog was opened (tests and the window use it).
    dialog_opened = Signal(object)

    def __init__(
        self,
        engine: ActionEngine,
        runner: ActionRunner,
        bridge: SessionBridge,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.runner = runner
        self.bridge = bridge
        self.dialog: PlanDialog | None = None
        self.results: dict[str, ActionResult] = {}
        self.cards: dict[str, ResourceCard] = {}
        self.buttons: dict[tuple[str, str], QPushButton] = {}
        self._read_once = False

        session = engine.session
        who = engine.who()
        caption = QLabel(
            f"ACTIONS · {session.workspace.incident.environment.upper()} · as {who['user']}"
            f" / {who['cloud_identity']}"
        )
        caption.setWordWrap(True)
        caption.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9pt; font-weight: bold;")
        caption.setToolTip(
            "Every action: plan → checks → dry run → confirm → execute → verify → watch, "
            "audited on the timeline. Nothing is sent before you confirm."
        )

        cards = QWidget()
        cards_layout = QVBoxLayout(cards)
        cards_layout.setContentsMargins(0, 0, 0, 0)
        cards_layout.setSpacing(6)
        for sid in actionable_services(session.workspace):
            service = session.workspace.services[sid]
            actions = ACTIONS_BY_KIND[service.kind]
            target = resolve_target(session.workspace, sid, service.kind)
            card = ResourceCard(target)
            for command_name, text in actions:
                button = QPushButton(text)
                button.setAutoDefault(True)  # Enter clicks the focused button, like Space
                button.setToolTip(f"{MENU_TEXTS[command_name]} {target.resource}")
                button.clicked.connect(
                    lambda _=False, c=command_name, s=sid: self.open_dialog(c, s)
                )
                button.installEventFilter(self)
                card.button_row.addWidget(button)
                self.buttons[(sid, command_name)] = button
            card.button_row.addStretch(1)
            cards_layout.addWidget(card)
            self.cards[sid] = card
        self.recent_caption = QLabel("RECENT ACTIONS")
        self.recent_caption.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9pt; font-weight: bold;")
        self.recent_host = QWidget()
        self.recent_layout = QVBoxLayout(self.recent_host)
        self.recent_layout.setContentsMargins(0, 0, 0, 0)
        self.recent_layout.setSpacing(2)
        self.revert_buttons: dict[str, QPushButton] = {}
        cards_layout.addWidget(self.recent_caption)
        cards_layout.addWidget(self.recent_host)
        cards_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(cards)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setAutoDefault(True)
        self.refresh_button.installEventFilter(self)
        self.refresh_button.setToolTip("Read every resource's settings again")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(caption, 1)
        top.addWidget(self.refresh_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        first = next(iter(self.buttons.values()), None)
        if first is not None:
            self.setFocusProxy(first)
        self._show_recent()

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        bridge.updated.connect(self.on_session_update)

    # ---- reading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read every resource's settings (off the GUI thread)."""
        self._read_once = True
        for card in self.cards.values():
            target = card.target
            self.runner.run(
                lambda t=target: self.engine.read_state(t),
                lambda state, c=card: c.show_state(state),
                lambda error, c=card: c.show_error(error),
            )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._read_once:
            self.refresh()
        if not self.bridge.deterministic:
            self._refresh_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._refresh_timer.stop()
        super().hideEvent(event)

    # ---- actions ----------------------------------------------------------------------------

    def open_dialog(
        self,
        command_name: str,
        service_id: str,
        initial: Command | None = None,
        revert_of: str | None = None,
    ) -> PlanDialog:
        """Open the plan dialog for ``command_name`` on ``service_id`` (prefilled with
        ``initial`` and planned at once, when given)."""
        previous = self.dialog
        if previous is not None:
            previous.reject()
            previous.deleteLater()
        dialog = PlanDialog(
            self.engine,
            self.runner,
            self.bridge,
            command_name,
            service_id,
            initial=initial,
            revert_of=revert_of,
            parent=self.window(),
        )
        dialog.action_finished.connect(self._on_action_finished)
        self.dialog = dialog
        dialog.open()
        self.dialog_opened.emit(dialog)
        return dialog

    def fill_node_menu(self, service_id: str, menu: QMenu) -> None:
        """Add this resource's actions to the status graph node's context menu."""
        service = self.engine.session.workspace.services.get(service_id)
        if service is None:
            return
        for command_name, _ in ACTIONS_BY_KIND.get(service.kind, ()):
            action = menu.addAction(MENU_TEXTS[command_name])
            action.triggered.connect(
                lambda _=False, c=command_name, s=service_id: self.open_dialog(c, s)
            )
        if service.kind == "cloud_run":
            latest = menu.addAction("Send all traffic to the latest revision…")
            latest.triggered.connect(
                lambda _=False, s=service_id: self.open_dialog(
                    RouteTraffic.name, s, RouteTraffic(s, to_latest=True)
                )
            )

    def revert(self, action_id: str) -> PlanDialog | None:
        """Open the dialog planning the inverse of a change this window made."""
        result = self.results.get(action_id)
        if result is None or not result.revertible:
            return None
        command = self.engine.revert_command(result)
        return self.open_dialog(command.name, command.resource, command, revert_of=action_id)

    def _on_action_finished(self, result: ActionResult) -> None:
        self.results[result.action_id] = result
        card = self.cards.get(result.planned.plan.target.service_id)
        if card is not None and result.state is not None:
            card.show_state(result.state)
        self._show_recent()

    # ---- recent attempts --------------------------------------------------------------------

    def on_session_update(self, update: SessionUpdate) -> None:
        """Refresh the list of recent attempts when audit entries arrive."""
        if any(e.kind == AUDIT_KIND for e in update.new_timeline):
            self._show_recent()

    def recent_entries(self) -> list[tuple[str, str, str]]:
        """``(action_id, outcome, text)`` of the latest attempts (newest first), with the watch
        verdict appended to the changes that were watched."""
        finals: list[tuple[str, str, str, float]] = []
        verdicts: dict[str, str] = {}
        for entry in self.engine.session.timeline:
            if entry.kind != AUDIT_KIND:
                continue
            outcome = entry.fields.get("outcome")
            action_id = str(entry.fields.get("action_id"))
            if outcome == "watched":
                verdicts[action_id] = str(entry.fields.get("verdict"))
            elif outcome in FINAL_OUTCOMES:
                when = datetime.fromtimestamp(entry.t).strftime("%H:%M:%S")
                symbol = OUTCOME_SYMBOLS.get(str(outcome), "•")
                what = entry.fields.get("description", "")
                text = f"{symbol} {when} {what} — {outcome}"
                finals.append((action_id, str(outcome), text, entry.t))
        rows = []
        for action_id, outcome, text, _t in reversed(finals[-RECENT_ROWS:]):
            if action_id in verdicts:
                text += f" · watch: {verdicts[action_id]}"
            rows.append((action_id, outcome, text))
        return rows

    def _show_recent(self) -> None:
        while self.recent_layout.count():
            item = self.recent_layout.takeAt(0)
            layout = item.layout()
            widget = item.widget()
            if layout is not None:
                while layout.count():
                    child = layout.takeAt(0).widget()
                    if child is not None:
                        child.deleteLater()
            if widget is not None:
                widget.deleteLater()
        self.revert_buttons = {}
        rows = self.recent_entries()
        self.recent_caption.setVisible(bool(rows))
        for action_id, outcome, text in rows:
            row = QHBoxLayout()
            label = QLabel(text)
            label.setWordWrap(True)
            colour = {
                "succeeded": ACCENT,
                "failed": STATUS_STYLES["failing"].fill,
            }.get(outcome, TEXT_DIM)
            label.setStyleSheet(f"color: {colour}; font-size: 9pt;")
            row.addWidget(label, 1)
            result = self.results.get(action_id)
            if result is not None and result.revertible:
                button = QPushButton("Revert…")
                button.setAutoDefault(True)
                button.installEventFilter(self)
                button.clicked.connect(lambda _=False, a=action_id: self.revert(a))
                row.addWidget(button)
                self.revert_buttons[action_id] = button
            self.recent_layout.addLayout(row)

    # ---- keyboard ---------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up and Down move between the action buttons (the scroll area would take them); Space
        presses the focused button rather than pausing the charts (the window's Space)."""
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Space
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            event.accept()
            return False
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            buttons = list(self.buttons.values())
            if watched in buttons and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                step = 1 if event.key() == Qt.Key.Key_Down else -1
                index = (buttons.index(watched) + step) % len(buttons)
                buttons[index].setFocus(Qt.FocusReason.TabFocusReason)
                return True
        return super().eventFilter(watched, event)


@dataclass(frozen=True)
class ActionViews:
    """What ``install_actions`` added to a window."""

    annotations: ActionAnnotations
    #: None in a read-only session: no panel, no buttons, no menu entries.
    panel: ActionsPanel | None


def install_actions(window: MainWindow) -> ActionViews:
    """Add the guarded actions to ``window``: chart annotations always; the Actions panel (key
    A) and the node menu entries only when the session has an executor (not read-only)."""
    session = window.session
    annotations = ActionAnnotations(window.chart_grid)
    window.bridge.updated.connect(annotations.on_session_update)
    for entry in list(session.timeline):
        annotations.show_entry(entry)
    if getattr(session, "executor", None) is None:
        return ActionViews(annotations, None)
    engine = ActionEngine(session, grace_s=GUI_GRACE_S)
    runner = ActionRunner(window, synchronous=window.bridge.deterministic)
    panel = ActionsPanel(engine, runner, window.bridge)
    window.add_panel(panel, "Actions", ["A"])
    window.status_graph.node_menu_providers.append(panel.fill_node_menu)
    return ActionViews(annotations, panel)
