"""The plan/confirm dialog: what an action will change, whether it may, and what happened.

One attempt at a time, top to bottom: the values to ask for (prefilled with the resource's current
settings, read fresh when the dialog opens), then the plan (before → after, the blast radius, the
pre-flight checks with any suggested alternative, the server's dry run and the gcloud equivalent),
then the confirmation (in production the operator types the resource's name; in staging an explicit
"Execute"), progress with a Cancel that works until the request is sent, and the result: verified
or not, the watch of the affected services (improved / no change / worse) and Revert.

Every step is a call on the ``ActionEngine`` made through an ``ActionRunner`` (off the GUI thread;
synchronous in tests); the dialog only builds commands from its fields and shows what comes back.
The Execute button stays disabled until the plan and its checks have finished and allow it.

Keyboard: Enter plans (and, once planned, executes); Tab moves between fields and buttons; Esc
closes (an attempt planned but not executed is recorded as cancelled).
"""

from __future__ import annotations

import html
import threading
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.actions.commands import (
    Command,
    CommandError,
    RouteTraffic,
    ScaleConnector,
    ScaleService,
)
from console.actions.pipeline import (
    ActionEngine,
    ActionNotAllowedError,
    ActionResult,
    PlannedAction,
)
from console.actions.target import ACTIONABLE_KINDS, Target, resolve_target
from console.durations import format_duration
from console.resource_state import (
    LATEST,
    CloudRunServiceState,
    ConnectorState,
    ResourceState,
    describe_resource,
    short_revision,
)
from ui.action_runner import ActionRunner
from ui.session_bridge import SessionBridge
from ui.theme import (
    ACCENT,
    PANEL_BORDER,
    PRODUCTION,
    STAGING,
    STATUS_STYLES,
    TEXT,
    TEXT_DIM,
)

#: How each check verdict and each outcome is drawn (symbol, colour).
VERDICT_LOOK = {
    "pass": ("✔", STATUS_STYLES["ok"].fill),
    "warn": ("▲", STATUS_STYLES["degraded"].fill),
    "refuse": ("✖", STATUS_STYLES["failing"].fill),
}
OUTCOME_LOOK = {
    "succeeded": ("✔ DONE", STATUS_STYLES["ok"].fill),
    "failed": ("✖ FAILED", STATUS_STYLES["failing"].fill),
    "conflict": ("↺ CHANGED BY SOMEONE ELSE", STATUS_STYLES["degraded"].fill),
    "busy": ("⧗ ALREADY IN PROGRESS", STATUS_STYLES["degraded"].fill),
    "cancelled": ("■ CANCELLED", TEXT_DIM),
    "refused": ("⊘ REFUSED", STATUS_STYLES["failing"].fill),
}
WATCH_LOOK = {
    "improved": STATUS_STYLES["ok"].fill,
    "worse": STATUS_STYLES["failing"].fill,
    "no change": STATUS_STYLES["degraded"].fill,
}
MAX_INSTANCES_FIELD = 1000


def _section(title: str) -> QLabel:
    label = QLabel(title)
    label.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9pt; font-weight: bold; padding-top: 6px;")
    return label


class PlanDialog(QDialog):
    """Plan, check, confirm, execute and follow one action (and its revert) on one resource."""

    #: An attempt ended (``ActionResult``), whatever the outcome.
    action_finished = Signal(object)
    #: The phase changed: ``reading``, ``editing``, ``planning``, ``planned``, ``executing``,
    #: ``done`` (tests wait on it).
    phase_changed = Signal(str)

    def __init__(
        self,
        engine: ActionEngine,
        runner: ActionRunner,
        bridge: SessionBridge,
        command_name: str,
        service_id: str,
        *,
        initial: Command | None = None,
        revert_of: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.runner = runner
        self.bridge = bridge
        self.command_name = command_name
        self.target: Target = resolve_target(
            engine.session.workspace, service_id, ACTIONABLE_KINDS[command_name]
        )
        self.state: ResourceState | None = None
        self.planned: PlannedAction | None = None
        self.result: ActionResult | None = None
        self.revert_of = revert_of
        self.phase = "reading"
        self._pending_command = initial
        self._cancel_event: threading.Event | None = None
        self._filling = False
        self.setModal(True)
        self.setMinimumSize(640, 560)
        self.resize(740, 860)
        self.setStyleSheet(
            f"QPushButton {{ padding: 5px 14px; border: 1px solid {PANEL_BORDER};"
            " border-radius: 3px; }"
            f" QCheckBox::indicator {{ width: 14px; height: 14px; border: 1px solid {TEXT_DIM};"
            " border-radius: 2px; }"
            f" QCheckBox::indicator:checked {{ background: {ACCENT}; }}"
            f" QPushButton:default {{ border: 2px solid {ACCENT}; }}"
            f" QPushButton:focus {{ border: 2px solid {TEXT}; }}"
            f" QPushButton:disabled {{ color: {TEXT_DIM}; }}"
        )
        self._build()
        self._set_phase("reading")
        self._read_state()
        bridge.ticked.connect(self._on_tick)
        self._ticking = True

    # ---- construction -----------------------------------------------------------------------

    def _build(self) -> None:
        target = self.target
        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        # A fixed minimum rather than one following every label's size hint: the dialog does not
        # jump as texts change (and offscreen platforms are not asked for size hints).
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)

        header = QHBoxLayout()
        self.title_label = QLabel()
        self.title_label.setStyleSheet("font-size: 14pt; font-weight: bold;")
        header.addWidget(self.title_label, 1)
        production = target.environment == "production"
        badge = QLabel("PRODUCTION" if production else "STAGING")
        badge.setStyleSheet(
            f"background: {PRODUCTION if production else STAGING}; color: #fff; "
            "font-weight: bold; padding: 3px 10px; border-radius: 3px;"
        )
        header.addWidget(badge)
        layout.addLayout(header)
        self.current_label = QLabel("Reading the current state…")
        self.current_label.setStyleSheet(f"color: {TEXT_DIM};")
        self.current_label.setWordWrap(True)
        layout.addWidget(self.current_label)

        layout.addWidget(_section("CHANGE"))
        self.form_host = QWidget()
        self.form_layout = QVBoxLayout(self.form_host)
        self.form_layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form_host)
        self.input_error = QLabel()
        self.input_error.setStyleSheet(f"color: {STATUS_STYLES['failing'].fill};")
        self.input_error.hide()
        layout.addWidget(self.input_error)
        plan_row = QHBoxLayout()
        self.plan_button = QPushButton("&Plan")
        self.plan_button.setToolTip("Read the resource, plan the change and run the checks (Enter)")
        self.plan_button.clicked.connect(self.plan)
        plan_row.addWidget(self.plan_button)
        plan_row.addStretch(1)
        layout.addLayout(plan_row)

        layout.addWidget(_section("PLAN"))
        self.plan_view = QTextBrowser()
        self.plan_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.plan_view.setOpenLinks(False)
        self.plan_view.setMinimumHeight(250)
        self.plan_view.setStyleSheet(
            f"QTextBrowser {{ background: #15191e; border: 1px solid {PANEL_BORDER}; }}"
        )
        layout.addWidget(self.plan_view, 1)
        self._show_plan_hint()
        tools = QHBoxLayout()
        self.suggestion_button = QPushButton("Use the &suggestion")
        self.suggestion_button.clicked.connect(self.use_suggestion)
        self.suggestion_button.hide()
        tools.addWidget(self.suggestion_button)
        tools.addStretch(1)
        self.copy_button = QPushButton("Copy &gcloud")
        self.copy_button.setToolTip("Copy the equivalent gcloud command")
        self.copy_button.clicked.connect(self.copy_gcloud)
        self.copy_button.setEnabled(False)
        tools.addWidget(self.copy_button)
        layout.addLayout(tools)

        layout.addWidget(_section("CONFIRM"))
        confirm_row = QHBoxLayout()
        self.confirm_label = QLabel()
        confirm_row.addWidget(self.confirm_label)
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setPlaceholderText(target.resource)
        self.confirm_edit.textChanged.connect(self._update_buttons)
        confirm_row.addWidget(self.confirm_edit, 1)
        self.execute_button = QPushButton("&Execute")
        self.execute_button.clicked.connect(self.execute)
        confirm_row.addWidget(self.execute_button)
        layout.addLayout(confirm_row)
        if production:
            self.confirm_label.setText(f"Type <b>{html.escape(target.resource)}</b> to confirm:")
        else:
            self.confirm_label.setText("Staging: nothing is sent until you press Execute.")
            self.confirm_edit.hide()

        progress_row = QHBoxLayout()
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        progress_row.addWidget(self.progress_label, 1)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFixedWidth(120)
        self.progress_bar.hide()
        progress_row.addWidget(self.progress_bar)
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setToolTip("Stop the action; possible until the request is sent")
        self.cancel_button.clicked.connect(self.cancel_execution)
        self.cancel_button.hide()
        progress_row.addWidget(self.cancel_button)
        layout.addLayout(progress_row)

        self.result_frame = QFrame()
        self.result_frame.setStyleSheet(
            f"QFrame {{ border: 1px solid {PANEL_BORDER}; border-radius: 4px; }}"
            " QLabel { border: none; }"
        )
        result_layout = QVBoxLayout(self.result_frame)
        self.outcome_label = QLabel()
        self.outcome_label.setStyleSheet("font-size: 13pt; font-weight: bold;")
        result_layout.addWidget(self.outcome_label)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        result_layout.addWidget(self.result_label)
        self.watch_label = QLabel()
        self.watch_label.setWordWrap(True)
        result_layout.addWidget(self.watch_label)
        result_buttons = QHBoxLayout()
        self.revert_button = QPushButton("&Revert")
        self.revert_button.setToolTip("Plan the inverse change from the recorded before-state")
        self.revert_button.clicked.connect(self.revert)
        result_buttons.addWidget(self.revert_button)
        self.replan_button = QPushButton("Plan &again")
        self.replan_button.clicked.connect(self.plan)
        result_buttons.addWidget(self.replan_button)
        result_buttons.addStretch(1)
        result_layout.addLayout(result_buttons)
        self.result_frame.hide()
        layout.addWidget(self.result_frame)

        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        bottom.addWidget(self.close_button)
        layout.addLayout(bottom)
        self._set_title()

    def _show_plan_hint(self) -> None:
        self.plan_view.setHtml(
            f"<p style='color:{TEXT_DIM}'>Set the values above, then Plan (Enter): what changes, "
            "what it affects, the checks, the server's dry run and the gcloud equivalent appear "
            "here. Nothing is sent before you confirm.</p>"
        )

    def _set_title(self) -> None:
        kind = {
            ScaleConnector.name: ScaleConnector.title,
            ScaleService.name: ScaleService.title,
            RouteTraffic.name: RouteTraffic.title,
        }[self.command_name]
        prefix = "Revert: " if self.revert_of else ""
        text = f"{prefix}{kind} · {self.target.resource}"
        self.title_label.setText(text)
        self.setWindowTitle(f"{text} — Incident Console")

    # ---- the form ---------------------------------------------------------------------------

    def _clear_form(self) -> None:
        while self.form_layout.count():
            item = self.form_layout.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()

    def _build_form(self, state: ResourceState) -> None:
        self._clear_form()
        box = QWidget()
        self.form_layout.addWidget(box)
        self.fields: dict[str, Any] = {}
        if isinstance(state, ConnectorState):
            form = QFormLayout(box)
            low = QSpinBox()
            low.setRange(0, 100)
            high = QSpinBox()
            high.setRange(0, 100)
            machine = QComboBox()
            machine.addItems(list(self.engine.limits.machine_types))
            if state.machine_type not in self.engine.limits.machine_types:
                machine.addItem(state.machine_type)
            form.addRow("&Min instances", low)
            form.addRow("Ma&x instances", high)
            form.addRow("Machine &type", machine)
            self.fields = {"min_instances": low, "max_instances": high, "machine_type": machine}
        elif self.command_name == ScaleService.name:
            form = QFormLayout(box)
            low = QSpinBox()
            low.setRange(0, MAX_INSTANCES_FIELD)
            high = QSpinBox()
            high.setRange(0, MAX_INSTANCES_FIELD)
            high.setSpecialValueText("default")
            form.addRow("&Min instances (service)", low)
            form.addRow("Ma&x instances (service)", high)
            self.fields = {"min_instances": low, "max_instances": high}
        else:
            assert isinstance(state, CloudRunServiceState)
            grid = QGridLayout(box)
            grid.setHorizontalSpacing(12)
            self.latest_box = QCheckBox("All traffic to the &latest revision (LATEST)")
            self.latest_box.toggled.connect(self._on_form_changed)
            grid.addWidget(self.latest_box, 0, 0, 1, 4)
            self.percent_boxes: dict[str, QSpinBox] = {}
            for row, revision in enumerate(state.revisions, start=1):
                short = short_revision(self.target.resource, revision.name)
                name = QLabel(short)
                name.setStyleSheet("font-weight: bold;")
                facts = "ready" if revision.ready else "NOT READY"
                if revision.instances is not None:
                    facts += f" · {revision.instances} instances"
                if revision.name == state.latest_ready_revision:
                    facts += " · latest"
                grid.addWidget(name, row, 0)
                grid.addWidget(QLabel(facts), row, 1)
                spin = QSpinBox()
                spin.setRange(0, 100)
                spin.setSuffix(" %")
                spin.setAccessibleName(f"traffic to {short}")
                spin.valueChanged.connect(self._on_form_changed)
                grid.addWidget(spin, row, 2)
                only = QPushButton(f"All to {short}")
                only.setAutoDefault(False)
                only.clicked.connect(lambda _=False, n=revision.name: self._all_to(n))
                grid.addWidget(only, row, 3)
                self.percent_boxes[revision.name] = spin
            self.total_label = QLabel()
            grid.addWidget(self.total_label, len(state.revisions) + 1, 2)
        for widget in self.fields.values():
            signal = getattr(widget, "valueChanged", None) or widget.currentTextChanged
            signal.connect(self._on_form_changed)
        self._fill_form(state)

    def _fill_form(self, state: ResourceState, command: Command | None = None) -> None:
        self._filling = True
        try:
            if isinstance(state, ConnectorState):
                values = state.settings()
                if isinstance(command, ScaleConnector):
                    values.update(command.arguments())
                self.fields["min_instances"].setValue(values["min_instances"])
                self.fields["max_instances"].setValue(values["max_instances"])
                self.fields["machine_type"].setCurrentText(values["machine_type"])
            elif self.command_name == ScaleService.name:
                assert isinstance(state, CloudRunServiceState)
                values = state.settings()
                if isinstance(command, ScaleService):
                    values.update(command.arguments())
                self.fields["min_instances"].setValue(values["min_instances"])
                self.fields["max_instances"].setValue(values["max_instances"] or 0)
            else:
                assert isinstance(state, CloudRunServiceState)
                latest = state.traffic_targets() == {LATEST: 100}
                split = {r.name: r.percent for r in state.revisions}
                if isinstance(command, RouteTraffic):
                    latest = command.to_latest
                    if not latest:
                        split = {name: 0 for name in split}
                        for name, percent in command.split:
                            revision = state.revision(name)
                            if revision is not None:
                                split[revision.name] = percent
                self.latest_box.setChecked(latest)
                for name, spin in self.percent_boxes.items():
                    spin.setValue(split.get(name, 0))
        finally:
            self._filling = False
        self._on_form_changed()

    def _all_to(self, revision: str) -> None:
        self.latest_box.setChecked(False)
        for name, spin in self.percent_boxes.items():
            spin.setValue(100 if name == revision else 0)

    def form_command(self) -> Command:
        """The command the fields describe: the fields that differ from the current state (all
        of them when none does, so the plan says that nothing would change)."""
        state = self.state
        assert state is not None
        sid = self.target.service_id
        if self.command_name == RouteTraffic.name:
            if self.latest_box.isChecked():
                return RouteTraffic(sid, to_latest=True)
            split = tuple(
                (name, spin.value()) for name, spin in self.percent_boxes.items() if spin.value()
            )
            if not split:
                raise CommandError("give at least one revision some traffic")
            return RouteTraffic(sid, split)
        values: dict[str, Any] = {}
        for key, widget in self.fields.items():
            values[key] = widget.currentText() if isinstance(widget, QComboBox) else widget.value()
        if self.command_name == ScaleService.name and values["max_instances"] == 0:
            values["max_instances"] = None
        current = state.settings()
        changed = {k: v for k, v in values.items() if v != current.get(k)}
        chosen = changed or {k: v for k, v in values.items() if v is not None}
        if self.command_name == ScaleConnector.name:
            return ScaleConnector(sid, **chosen)
        return ScaleService(sid, **chosen)

    def _on_form_changed(self, *_args: object) -> None:
        if self.command_name == RouteTraffic.name and hasattr(self, "percent_boxes"):
            latest = self.latest_box.isChecked()
            for spin in self.percent_boxes.values():
                spin.setEnabled(not latest)
            total = sum(s.value() for s in self.percent_boxes.values())
            ok = latest or total == 100
            colour = STATUS_STYLES["ok"].fill if ok else STATUS_STYLES["failing"].fill
            self.total_label.setText("LATEST 100 %" if latest else f"total {total} %")
            self.total_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
        if self._filling:
            return
        if self.planned is not None and self.phase == "planned":
            self.engine.cancel(self.planned, "the values changed before confirming")
            self.planned = None
            self.plan_view.setHtml(
                f"<p style='color:{TEXT_DIM}'>The values changed: plan again (Enter).</p>"
            )
            self._set_phase("editing")

    # ---- phases -----------------------------------------------------------------------------

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self._update_buttons()
        self.phase_changed.emit(phase)

    def _update_buttons(self) -> None:
        phase = self.phase
        editing = phase in ("editing", "planned")
        self.form_host.setEnabled(editing or phase == "done")
        self.plan_button.setEnabled(editing or phase == "done")
        can_execute = (
            phase == "planned"
            and self.planned is not None
            and not self.planned.refused
            and (
                not self.planned.needs_typed_name
                or self.confirm_edit.text().strip() == self.planned.confirm_name
            )
        )
        self.execute_button.setEnabled(can_execute)
        self.confirm_edit.setEnabled(phase == "planned" and bool(self.planned))
        self.close_button.setEnabled(phase != "executing")
        if phase == "planned" and self.planned is not None and not self.planned.refused:
            self.execute_button.setDefault(True)
            self.plan_button.setDefault(False)
        else:
            self.plan_button.setDefault(True)
            self.execute_button.setDefault(False)

    # ---- reading ----------------------------------------------------------------------------

    def _read_state(self) -> None:
        target = self.target
        self.runner.run(
            lambda: self.engine.read_state(target), self._on_state_read, self._on_read_failed
        )

    def _on_state_read(self, state: ResourceState) -> None:
        self.state = state
        self.current_label.setText(f"Now: {describe_resource(state)}")
        self._build_form(state)
        command, self._pending_command = self._pending_command, None
        self._set_phase("editing")
        if command is not None:
            self._fill_form(state, command)
            self.plan()
        else:
            first = next(iter(getattr(self, "fields", {}).values()), None)
            if first is None and self.command_name == RouteTraffic.name:
                first = self.latest_box
            if first is not None:
                first.setFocus()

    def _on_read_failed(self, error: Exception) -> None:
        self.current_label.setText(f"Cannot read {self.target.resource}: {error}")
        self.current_label.setStyleSheet(f"color: {STATUS_STYLES['failing'].fill};")
        self._set_phase("done")

    # ---- planning ---------------------------------------------------------------------------

    def plan(self) -> None:
        """Plan the command the fields describe (off the GUI thread)."""
        if self.state is None or self.phase in ("planning", "executing", "reading"):
            return
        if self.planned is not None and self.planned.final_outcome is None:
            self.engine.cancel(self.planned, "planned again before confirming")
        try:
            command = self.form_command()
        except CommandError as exc:
            self.input_error.setText(str(exc))
            self.input_error.show()
            return
        self.input_error.hide()
        self.planned = None
        self.result = None
        self.result_frame.hide()
        self.suggestion_button.hide()
        self.plan_view.setHtml(
            f"<p style='color:{TEXT_DIM}'>Planning: reading {html.escape(self.target.resource)} "
            "fresh, running the checks and the dry run…</p>"
        )
        self._set_phase("planning")
        revert_of = self.revert_of
        self.runner.run(
            lambda: self.engine.plan(command, revert_of=revert_of),
            self._on_planned,
            self._on_plan_failed,
        )

    def _on_planned(self, planned: PlannedAction) -> None:
        self.planned = planned
        self.state = planned.plan.before
        self.current_label.setText(f"Now: {describe_resource(planned.plan.before)}")
        self.plan_view.setHtml(plan_html(planned))
        self.copy_button.setEnabled(True)
        self.suggestion_button.setVisible(planned.suggestion is not None)
        self.confirm_edit.clear()
        self._set_phase("planned")
        if planned.refused:
            self.outcome_label.setText(OUTCOME_LOOK["refused"][0])
            self.outcome_label.setStyleSheet(
                f"font-size: 13pt; font-weight: bold; color: {OUTCOME_LOOK['refused'][1]};"
            )
            self.result_label.setText(
                "Nothing was sent: " + " ".join(c.message for c in planned.refusals)
            )
            self.watch_label.clear()
            self.revert_button.hide()
            self.replan_button.hide()
            self.result_frame.show()
            (self.suggestion_button if planned.suggestion else self.plan_button).setFocus()
        elif planned.needs_typed_name:
            self.confirm_edit.setFocus()
        else:
            self.execute_button.setFocus()

    def _on_plan_failed(self, error: Exception) -> None:
        self.plan_view.setHtml(
            f"<p style='color:{STATUS_STYLES['failing'].fill}'><b>Could not plan:</b> "
            f"{html.escape(str(error))}</p><p>Nothing was sent.</p>"
        )
        self._set_phase("editing")

    def use_suggestion(self) -> None:
        """Fill the fields with the refusing check's suggested command and plan it."""
        if self.planned is None or self.planned.suggestion is None or self.state is None:
            return
        self._fill_form(self.state, self.planned.suggestion)
        self._set_phase("editing")
        self.plan()

    def copy_gcloud(self) -> None:
        """Put the plan's gcloud equivalent on the clipboard."""
        if self.planned is not None:
            QGuiApplication.clipboard().setText(self.planned.plan.gcloud)

    # ---- executing --------------------------------------------------------------------------

    def execute(self) -> None:
        """Confirm and execute the plan (off the GUI thread), with progress and Cancel."""
        planned = self.planned
        if planned is None or self.phase != "planned" or not self.execute_button.isEnabled():
            return
        try:
            self.engine.confirm(planned, typed_name=self.confirm_edit.text(), confirmed=True)
        except ActionNotAllowedError as exc:
            self.input_error.setText(str(exc))
            self.input_error.show()
            return
        self._cancel_event = threading.Event()
        cancel = self._cancel_event
        self.progress_bar.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.progress_label.setText("Starting…")
        self._set_phase("executing")
        self.cancel_button.setFocus()
        sink = self.runner.progress_sink(self._on_progress)
        self.runner.run(
            lambda: self.engine.execute(planned, progress=sink, cancel=cancel),
            self._on_executed,
            self._on_execute_failed,
        )

    def cancel_execution(self) -> None:
        """Ask the running action to stop (it does, unless the request was already sent)."""
        if self._cancel_event is not None:
            self._cancel_event.set()
            self.progress_label.setText("Cancelling…")

    def _on_progress(self, text: str, cancellable: bool) -> None:
        self.progress_label.setText(text)
        self.cancel_button.setEnabled(cancellable)
        if not cancellable and self.cancel_button.hasFocus():
            self.close_button.setFocus()

    def _on_executed(self, result: ActionResult) -> None:
        self.result = result
        self._cancel_event = None
        self.progress_bar.hide()
        self.cancel_button.hide()
        self.progress_label.clear()
        text, colour = OUTCOME_LOOK.get(result.outcome, (result.outcome.upper(), TEXT))
        self.outcome_label.setText(text)
        self.outcome_label.setStyleSheet(f"font-size: 13pt; font-weight: bold; color: {colour};")
        self.result_label.setText(result.message)
        if result.state is not None:
            self.state = result.state
            self.current_label.setText(f"Now: {describe_resource(result.state)}")
        self.revert_button.setVisible(result.revertible)
        self.replan_button.setVisible(result.outcome in ("conflict", "busy", "failed"))
        self.watch_label.clear()
        self.result_frame.show()
        self._set_phase("done")
        self.action_finished.emit(result)
        if result.outcome == "conflict":
            self.result_label.setText(
                result.message + " Planned again below from the new state: review it."
            )
            self.planned = None
            self.plan()
            return
        self._show_watch()
        (self.revert_button if result.revertible else self.close_button).setFocus()

    def _on_execute_failed(self, error: Exception) -> None:
        self.progress_bar.hide()
        self.cancel_button.hide()
        self.progress_label.setText(f"Could not execute: {error}")
        self._set_phase("done")

    # ---- after ------------------------------------------------------------------------------

    def _on_tick(self, _now: float) -> None:
        if self.result is not None and self.result.ok:
            self._show_watch()

    def _show_watch(self) -> None:
        result = self.result
        if result is None or not result.ok:
            return
        report = self.engine.watch_report(result.action_id)
        if report is None:
            return
        names = {sid: s.name for sid, s in self.engine.session.workspace.services.items()}
        affected = ", ".join(names.get(s, s) for s in result.planned.plan.blast_radius.services)
        if report.finished:
            colour = WATCH_LOOK.get(report.verdict, TEXT)
            self.watch_label.setText(
                f"<b style='color:{colour}'>Watch: {html.escape(report.summary(names))}</b>"
                f"<br><span style='color:{TEXT_DIM}'>{html.escape(affected)}, "
                f"{format_duration(report.window_s)} after the action vs the minutes before"
                "</span>"
            )
            return
        so_far = report.summary(names).split(": ", 1)
        detail = so_far[1] if len(so_far) > 1 else "no change yet"
        self.watch_label.setText(
            f"Watching {html.escape(affected)}: {format_duration(report.remaining_s)} left"
            f"<br><span style='color:{TEXT_DIM}'>so far: {html.escape(detail)}</span>"
        )

    def revert(self) -> None:
        """Plan the inverse of the finished action, here, through the same pipeline."""
        if self.result is None or not self.result.revertible:
            return
        try:
            command = self.engine.revert_command(self.result)
        except (CommandError, ActionNotAllowedError) as exc:
            self.input_error.setText(str(exc))
            self.input_error.show()
            return
        self.revert_of = self.result.action_id
        self.result = None
        self.planned = None
        self.result_frame.hide()
        self._set_title()
        self._pending_command = command
        self._set_phase("reading")
        self._read_state()

    # ---- closing ----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.phase == "executing":  # the action runs on; its result is audited anyway
            event.ignore()
            return
        super().closeEvent(event)

    def done(self, result: int) -> None:
        """Closing (Close, Esc, the window's ×): an attempt planned but not executed is recorded
        as cancelled. Not while an action executes."""
        if self.phase == "executing":
            return
        if self.planned is not None and self.planned.final_outcome is None:
            self.engine.cancel(self.planned, "the dialog was closed before confirming")
        if self._ticking:
            self._ticking = False
            self.bridge.ticked.disconnect(self._on_tick)
        super().done(result)


def plan_html(planned: PlannedAction) -> str:
    """The plan as rich text: changes, blast radius, checks, dry run and gcloud."""
    plan = planned.plan
    esc = html.escape
    rows = []
    for change in plan.changes:
        before = "default" if change.before is None else change.before
        after = "default" if change.after is None else change.after
        if change.changed:
            rows.append(
                f"<tr><td>{esc(change.label)}</td><td>{esc(str(before))}</td>"
                f"<td>→</td><td><b style='color:{ACCENT}'>{esc(str(after))}</b></td></tr>"
            )
        else:
            rows.append(
                f"<tr style='color:{TEXT_DIM}'><td>{esc(change.label)}</td>"
                f"<td>{esc(str(before))}</td><td></td><td>unchanged</td></tr>"
            )
    checks = []
    for check in planned.checks:
        symbol, colour = VERDICT_LOOK[check.verdict]
        line = (
            f"<div><b style='color:{colour}'>{symbol}</b> "
            f"<span style='color:{TEXT_DIM}'>{esc(check.rule)}</span> {esc(check.message)}"
        )
        if check.suggestion_text:
            line += f"<br>&nbsp;&nbsp;&nbsp;<i>Suggestion: {esc(check.suggestion_text)}</i>"
        checks.append(line + "</div>")
    dry = ""
    if planned.dry_run is not None:
        colour = TEXT if planned.dry_run.ok else STATUS_STYLES["failing"].fill
        dry = (
            f"<p><b>Dry run:</b> <span style='color:{colour}'>{esc(planned.dry_run.message)}</span>"
        )
    return (
        "<table cellspacing='0' cellpadding='3'>"
        "<tr style='color:#9aa7b4'><td>field</td><td>before</td><td></td><td>after</td></tr>"
        + "".join(rows)
        + "</table>"
        f"<p><b>Affects:</b> {esc(plan.blast_radius.text())}</p>"
        "<p><b>Checks</b></p>" + "".join(checks) + dry + "<p><b>gcloud equivalent</b><br>"
        f"<code style='color:{TEXT}'>{esc(plan.gcloud)}</code></p>"
    )
