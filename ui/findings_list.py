"""The findings list: why each service is in its status, one line per failing or degraded metric.

"✖ VPC connector · saturation 100% ≥ 95%". The root-cause candidate comes first, then failing
before degraded, in workspace order. The findings themselves come from ``console.health``; this
widget only lists them, and rebuilds its rows only when their text changes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from console.health import HealthReport
from console.session import Session, SessionUpdate
from console.status_report import describe_finding
from ui.theme import PANEL, ROOT_CAUSE, STATUS_STYLES, TEXT_DIM, qcolor

_LEVEL_ORDER = {"failing": 0, "degraded": 1}


def finding_rows(session: Session, health: HealthReport) -> list[tuple[str, str]]:
    """``(level, text)`` per finding, root-cause candidate first, then failing before degraded."""
    workspace = session.workspace
    order = {sid: i for i, sid in enumerate(workspace.services)}
    rows: list[tuple[int, int, int, str, str]] = []
    for sid, service_health in health.services.items():
        name = workspace.services[sid].name
        is_root = sid == health.root_cause
        for finding in service_health.findings:
            symbol = STATUS_STYLES[finding.level].symbol
            text = f"{symbol} {name} · {describe_finding(workspace, sid, finding)}"
            if is_root:
                text = f"◆ {text}"
            rows.append((not is_root, _LEVEL_ORDER[finding.level], order[sid], finding.level, text))
    rows.sort(key=lambda row: row[:3])
    return [(level, text) for *_, level, text in rows]


class FindingsList(QWidget):
    """A caption and the list of failing and degraded metrics."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._rows: list[tuple[str, str]] | None = None
        caption = QLabel("WHY · failing and degraded metrics")
        caption.setToolTip("◆ marks the root-cause candidate's findings")
        caption.setStyleSheet(f"color: {TEXT_DIM}; font-size: 9pt; font-weight: bold;")
        self.list_widget = QListWidget()
        self.list_widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list_widget.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.list_widget.setWordWrap(True)
        self.list_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_widget.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list_widget.setStyleSheet(
            f"QListWidget {{ background: {PANEL}; border: none; font-size: 10.5pt; }}"
            " QListWidget::item { padding: 3px 4px; }"
        )
        self.setMinimumWidth(220)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(caption)
        layout.addWidget(self.list_widget, 1)
        self.show_health(session.health)

    def texts(self) -> list[str]:
        """The rows as shown."""
        return [text for _, text in self._rows or []]

    def on_session_update(self, update: SessionUpdate) -> None:
        """Re-read the health after a drain."""
        self.show_health(self.session.health)

    def show_health(self, health: HealthReport) -> None:
        """List the findings of ``health``; untouched when the rows did not change."""
        rows = finding_rows(self.session, health)
        if rows == self._rows:
            return
        self._rows = rows
        self.list_widget.clear()
        if not rows:
            self.list_widget.addItem(QListWidgetItem("No failing or degraded metric"))
            return
        root_rows = sum(1 for _, text in rows if text.startswith("◆"))
        for index, (level, text) in enumerate(rows):
            item = QListWidgetItem(text)
            item.setForeground(
                qcolor(ROOT_CAUSE if index < root_rows else STATUS_STYLES[level].fill)
            )
            self.list_widget.addItem(item)
