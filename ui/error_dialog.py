"""The dialog shown when the workspace cannot be used: its problems, and the way out (the demo).

Errors found before the window exists are shown once Qt is up, readably, never as a traceback
(STYLE item 7). The dialog is built by ``config_error_box`` so tests can drive it without a
person: ``ask_to_open_demo`` only runs it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

#: Problems beyond this many lines go to the dialog's "Show Details…" part.
SHOWN_LINES = 12


def config_error_box(problems: str, parent: QWidget | None = None) -> QMessageBox:
    """A message box listing ``problems`` with "Open the demo" and "Quit" buttons."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Incident Console: cannot open the workspace")
    box.setText("The workspace cannot be used, so the console cannot show it.")
    lines = problems.strip().splitlines() or ["(no details)"]
    shown = "\n".join(lines[:SHOWN_LINES])
    if len(lines) > SHOWN_LINES:
        shown += f"\n… and {len(lines) - SHOWN_LINES} more lines (Show Details…)"
        box.setDetailedText(problems)
    box.setInformativeText(
        f"{shown}\n\nFix the file and start again, or open the built-in demo incident instead."
    )
    box.addButton("Open the demo", QMessageBox.ButtonRole.AcceptRole)
    quit_button = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(quit_button)
    box.setEscapeButton(quit_button)
    return box


def ask_to_open_demo(problems: str, parent: QWidget | None = None) -> bool:
    """Show the problems (modal); True when the user chose to open the demo instead."""
    box = config_error_box(problems, parent)
    box.exec()
    clicked = box.clickedButton()
    return clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.AcceptRole
