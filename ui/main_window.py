"""The main window: arranges the banner, the status graph, the findings and the chart grid.

It owns no data and no timers (STYLE: no god window). The ``SessionBridge`` drains the session on
the GUI thread; each view subscribes to the bridge and repaints what changed. The window adds the
toolbar (chart range, pause/live, full screen, help), the keyboard shortcuts and a status bar with
the sources' states and the age of the newest data.

Shortcuts: 1 / 2 / 3 chart range 15 min / 1 h / 6 h, Space pause/live, F11 full screen,
F1 or ? the shortcut list, Ctrl+Q quit.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLayout,
    QMainWindow,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from console.durations import format_duration
from console.session import Session, SessionUpdate
from ui.actions_panel import install_actions
from ui.banner import IncidentBanner
from ui.chart_grid import RANGE_CHOICES_S, RANGE_LABELS, ChartGrid
from ui.findings_list import FindingsList
from ui.log_table import install_log_table
from ui.resource_panel import install_resource_panel
from ui.session_bridge import SessionBridge
from ui.status_graph import StatusGraphView
from ui.theme import STATUS_STYLES, TEXT_DIM
from ui.workflow_views import install_workflow_views

#: The shortcut keys of the chart ranges, in the order of ``RANGE_CHOICES_S``.
RANGE_KEYS = ("1", "2", "3")

#: The smallest window in which the banner, the graph and the charts stay legible.
MINIMUM_SIZE = (1024, 640)

#: How each source state reads in the status bar.
SOURCE_STATE_TEXT: dict[str, tuple[str, str]] = {
    "starting": ("◷", "starting"),
    "ok": ("✔", "ok"),
    "error": ("✖", "ERROR"),
    "unauthorized": ("✖", "NOT AUTHORIZED"),
    "quota": ("◷", "QUOTA, backing off"),
    "stopped": ("■", "stopped"),
}


def shortcut_text(action: QAction) -> str:
    """The keys of ``action`` as the user reads them: ``F1 or ?``."""
    return " or ".join(
        s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()
    )


class ShortcutsDialog(QDialog):
    """The list of keyboard shortcuts, built from the window's own actions."""

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        self.rows: list[tuple[str, str]] = []
        for row, action in enumerate(actions):
            keys = shortcut_text(action)
            what = action.statusTip() or action.text()
            self.rows.append((keys, what))
            key_label = QLabel(keys)
            key_label.setStyleSheet("font-weight: bold; font-size: 12pt;")
            grid.addWidget(key_label, row, 0)
            grid.addWidget(QLabel(what), row, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(buttons)


class MainWindow(QMainWindow):
    """The console's window for one session."""

    def __init__(
        self, session: Session, bridge: SessionBridge, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.bridge = bridge
        incident = session.workspace.incident
        self.setWindowTitle(f"{incident.title} — Incident Console")

        self.banner = IncidentBanner(session)
        self.status_graph = StatusGraphView(session)
        self.findings = FindingsList(session)
        self.chart_grid = ChartGrid(session)

        #: The panels beside the graph; "Why" first. Other views join with ``add_panel``.
        self.side_tabs = QTabWidget()
        self.side_tabs.setDocumentMode(True)
        self.side_tabs.addTab(self.findings, "Why")
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.status_graph)
        upper.addWidget(self.side_tabs)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 1)
        upper.setSizes([1000, 480])  # wide enough for every tab title at 1600 px
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(upper)
        self.splitter.addWidget(self.chart_grid)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([330, 670])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        # A fixed minimum instead of one that follows every label's size hint: the window never
        # jumps when a text grows, and platforms without size hints (offscreen) are not asked.
        self.layout().setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(*MINIMUM_SIZE)

        self._build_actions()
        self._build_status_bar()
        self.help_dialog: ShortcutsDialog | None = None

        for view in (self.banner, self.status_graph, self.findings, self.chart_grid):
            bridge.updated.connect(view.on_session_update)
        bridge.updated.connect(self._on_session_update)
        bridge.ticked.connect(self._on_tick)
        self.chart_grid.range_changed.connect(self._show_range)
        self.chart_grid.live_changed.connect(self._show_live)
        self._show_range(self.chart_grid.range_s)
        self._show_live(self.chart_grid.is_live)
        self._show_sources()
        self._show_data_age()
        #: The guarded actions: chart annotations, and the Actions panel (key A) unless the
        #: session is read-only.
        self.action_views = install_actions(self)
        #: Recovery (C) and Timeline (T) panels, the note key N, notifications; None without a
        #: workflow (``ui.workflow_views``).
        self.workflow_views = install_workflow_views(self)
        #: The live log table (L) and the traffic split and limits (R); a recording (a session
        #: without sources) shows its own recorded logs instead.
        self.log_table = install_log_table(self) if session.sources else None
        self.resource_panel = install_resource_panel(self) if session.sources else None

    # -- actions and shortcuts ----------------------------------------------------------------

    def _action(self, text: str, keys: list[str], tip: str, *, checkable: bool = False) -> QAction:
        """A window-wide action with shortcuts; it joins the shortcut list in creation order."""
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({shortcut_text(action)})")
        self.addAction(action)  # shortcuts work even when the toolbar is hidden (full screen)
        if keys:
            self._shortcut_actions.append(action)
        return action

    def add_action(self, text: str, keys: list[str], tip: str, *, toolbar: bool = True) -> QAction:
        """Add a command with shortcuts (and a toolbar button): how other views extend the window.

        The caller connects ``triggered``; the action appears in the shortcut help by itself.
        """
        action = self._action(text, keys, tip)
        if toolbar:
            self.toolbar.insertAction(self.help_action, action)
        return action

    def add_panel(self, widget: QWidget, title: str, keys: list[str] | None = None) -> None:
        """Add a tab beside the status graph; ``keys`` bring it to the front."""
        self.side_tabs.addTab(widget, title)
        if keys:
            action = self._action(title, keys, f"Show the {title} panel")
            action.triggered.connect(lambda: self._show_panel(widget))

    def _show_panel(self, widget: QWidget) -> None:
        """Bring a side panel to the front and give it the keyboard focus."""
        self.side_tabs.setCurrentWidget(widget)
        widget.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _build_actions(self) -> None:
        self._shortcut_actions: list[QAction] = []
        toolbar = QToolBar("View")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

        range_caption = QLabel("  Chart range ")
        range_caption.setStyleSheet(f"color: {TEXT_DIM};")
        toolbar.addWidget(range_caption)
        self.range_group = QActionGroup(self)
        self.range_group.setExclusive(True)
        self.range_actions: dict[float, QAction] = {}
        for seconds, key in zip(RANGE_CHOICES_S, RANGE_KEYS, strict=False):
            label = RANGE_LABELS[seconds]
            action = self._action(
                label, [key], f"Show the last {label} on every chart", checkable=True
            )
            action.triggered.connect(lambda _=False, s=seconds: self.set_chart_range(s))
            self.range_group.addAction(action)
            self.range_actions[seconds] = action
            toolbar.addAction(action)

        toolbar.addSeparator()
        self.live_action = self._action(
            "● LIVE", ["Space"], "Pause or resume the live charts", checkable=True
        )
        self.live_action.triggered.connect(self.set_live)  # checked == live
        toolbar.addAction(self.live_action)

        toolbar.addSeparator()
        self.fullscreen_action = self._action(
            "Full screen", ["F11"], "Full screen on or off", checkable=True
        )
        self.fullscreen_action.toggled.connect(self.set_full_screen)
        toolbar.addAction(self.fullscreen_action)
        self.help_action = self._action("Shortcuts", ["F1", "?"], "Show the keyboard shortcuts")
        self.help_action.triggered.connect(self.show_shortcuts)
        toolbar.addAction(self.help_action)
        self.quit_action = self._action("Quit", ["Ctrl+Q"], "Quit the console")
        self.quit_action.triggered.connect(self.close)
        toolbar.addAction(self.quit_action)

    def shortcut_actions(self) -> list[QAction]:
        """Every action with a keyboard shortcut, in the order the help lists them."""
        return list(self._shortcut_actions)

    # -- user intent --------------------------------------------------------------------------

    def set_chart_range(self, seconds: float) -> None:
        """Show the last ``seconds`` on every chart."""
        self.chart_grid.set_range(seconds)

    def set_live(self, live: bool) -> None:
        """Follow the newest data (live) or hold the charts still (paused)."""
        self.chart_grid.set_live(live)

    def set_full_screen(self, full: bool) -> None:
        """Full screen (for the war-room wall) or back to a normal window."""
        if full:
            self.showFullScreen()
        else:
            self.showNormal()

    def show_shortcuts(self) -> ShortcutsDialog:
        """Open (not block on) the list of shortcuts."""
        if self.help_dialog is None:
            self.help_dialog = ShortcutsDialog(self.shortcut_actions(), self)
        self.help_dialog.open()
        return self.help_dialog

    # -- status bar -----------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        self.sources_label = QLabel()
        self.data_age_label = QLabel()
        bar = self.statusBar()
        bar.addWidget(self.sources_label, 1)
        bar.addPermanentWidget(self.data_age_label)

    def _show_range(self, seconds: float) -> None:
        action = self.range_actions.get(float(seconds))
        if action is not None:
            action.setChecked(True)
        else:  # a range without a button (zoomed by hand): no button is the current one
            checked = self.range_group.checkedAction()
            if checked is not None:
                self.range_group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
                checked.setChecked(False)
                self.range_group.setExclusionPolicy(QActionGroup.ExclusionPolicy.Exclusive)

    def _show_live(self, live: bool) -> None:
        self.live_action.setChecked(live)
        self.live_action.setText("● LIVE" if live else "❚❚ PAUSED")

    def _show_sources(self) -> None:
        parts = []
        failing = False
        for name, status in self.session.source_statuses.items():
            symbol, word = SOURCE_STATE_TEXT.get(status.state, ("?", status.state))
            text = f"{symbol} {name}: {word}"
            if status.message:
                text += f" ({status.message})"
            failing = failing or status.state in ("error", "unauthorized", "quota")
            parts.append(text)
        self.sources_label.setText("Sources  " + "   ".join(parts or ["none"]))
        colour = STATUS_STYLES["failing"].fill if failing else TEXT_DIM
        self.sources_label.setStyleSheet(f"color: {colour}; padding: 0 6px;")  # on change only

    def _show_data_age(self) -> None:
        services = self.session.health.services.values()
        ages = [h.age_s for h in services if h.age_s is not None]
        stale = sum(1 for h in services if h.status == "stale")
        text = f"newest data {format_duration(min(ages))} old" if ages else "no data yet"
        if stale:
            text = f"{STATUS_STYLES['stale'].symbol} {text} · {stale} STALE"
        self.data_age_label.setText(text)
        colour = STATUS_STYLES["degraded"].fill if stale or not ages else TEXT_DIM
        style = f"color: {colour}; padding: 0 8px;"
        if self.data_age_label.styleSheet() != style:
            self.data_age_label.setStyleSheet(style)

    def _on_session_update(self, update: SessionUpdate) -> None:
        if update.statuses_changed:
            self._show_sources()
        self._show_data_age()

    def _on_tick(self, now: float) -> None:
        self.banner.set_now(now)
        self.chart_grid.refresh(now)
        self._show_data_age()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.WindowStateChange:
            # Full screen may also end from the window manager: keep the toggle in step.
            blocked = self.fullscreen_action.blockSignals(True)
            self.fullscreen_action.setChecked(self.isFullScreen())
            self.fullscreen_action.blockSignals(blocked)
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.help_dialog is not None:
            self.help_dialog.close()
        super().closeEvent(event)
