"""Colours, symbols and fonts shared by every view, so a status looks the same everywhere.

Status is never shown by colour alone: each has a word and a symbol (``console.health``) and a
node shape in the status graph. The palette is a dark one for dim war rooms, with hues chosen to
stay distinguishable for the common colour-vision deficiencies (blue/orange/vermillion, after
Okabe & Ito) and a high-contrast text colour on each.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor


@dataclass(frozen=True)
class StatusStyle:
    """How one status is drawn: fill, text on that fill, word and symbol."""

    fill: str
    text: str
    word: str
    symbol: str


STATUS_STYLES: dict[str, StatusStyle] = {
    "ok": StatusStyle("#1b9e77", "#ffffff", "OK", "✔"),
    "degraded": StatusStyle("#e69f00", "#111111", "DEGRADED", "▲"),
    "failing": StatusStyle("#d55e00", "#ffffff", "FAILING", "✖"),
    "blocked": StatusStyle("#7a5195", "#ffffff", "BLOCKED", "⊘"),
    "unknown": StatusStyle("#5b6770", "#ffffff", "NO DATA", "?"),
    "stale": StatusStyle("#8c8c8c", "#111111", "STALE", "◷"),
}

#: How each kind of service is named on screen.
SERVICE_KIND_LABELS: dict[str, str] = {
    "cloud_run": "Cloud Run",
    "vpc_connector": "Serverless VPC connector",
    "cloud_sql": "Cloud SQL",
    "synthetic": "Synthetic probe",
}

#: The root-cause candidate's mark (badge and outline): yellow, a hue no status uses.
ROOT_CAUSE = "#f0e442"
#: Edges and chip borders that say "this is blocked by that".
BLOCKED_EDGE = "#ff6b4a"

BACKGROUND = "#15191e"
PANEL = "#1e242b"
PANEL_BORDER = "#2e3742"
TEXT = "#e8edf2"
TEXT_DIM = "#9aa7b4"
ACCENT = "#56b4e9"
PRODUCTION = "#c0392b"
STAGING = "#2c6e9b"
DEMO = "#8e44ad"

#: Curve colours for up to four series in one chart (blue, orange, sky, yellow: colour-blind safe).
CURVE_COLOURS = ("#56b4e9", "#e69f00", "#f0e442", "#cc79a7")
THRESHOLD_DEGRADED = "#e69f00"
THRESHOLD_FAILING = "#d55e00"


#: How each kind of timeline entry is marked (symbol, word, colour) in the timeline views.
TIMELINE_KINDS: dict[str, tuple[str, str, str]] = {
    "note": ("✎", "note", TEXT),
    "status_change": ("●", "status", TEXT_DIM),
    "golden_path": ("➜", "golden path", STATUS_STYLES["failing"].fill),
    "probe": ("⌁", "probe", ACCENT),
    "criterion": ("◆", "criterion", ROOT_CAUSE),
    "recovery": ("◆", "recovery", STATUS_STYLES["ok"].fill),
    "timer": ("⚑", "timer", STATUS_STYLES["degraded"].fill),
    "action": ("▼", "action", ACCENT),
    "source": ("◷", "source", STATUS_STYLES["stale"].fill),
    "recording": ("◉", "recording", TEXT_DIM),
}


def display_status(status: str, blocked: bool) -> str:
    """The status to draw: a service that is not failing itself but is blocked shows as blocked."""
    if blocked and status != "failing":
        return "blocked"
    return status


def qcolor(hex_colour: str, alpha: int = 255) -> QColor:
    """A ``QColor`` from ``#rrggbb`` with an optional alpha."""
    colour = QColor(hex_colour)
    colour.setAlpha(alpha)
    return colour


APP_STYLESHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: 10pt; }}
QToolBar {{ background: {PANEL}; border: none; spacing: 6px; padding: 3px; }}
QToolButton {{ padding: 4px 10px; border: 1px solid {PANEL_BORDER}; border-radius: 3px; }}
QToolButton:checked {{ background: {ACCENT}; color: #000; }}
QStatusBar {{ background: {PANEL}; color: {TEXT_DIM}; }}
QSplitter::handle {{ background: {PANEL_BORDER}; }}
"""
