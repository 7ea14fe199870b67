"""Actions on the charts: every attempt's outcome marks the charts of the services it affects.

``ActionAnnotations`` listens to the session's drains; for each new audit entry (timeline kind
``action``) that ends an attempt (succeeded, failed, refused, cancelled, conflict, busy) it adds a
dashed vertical line at that moment to the charts of every affected service
(``ChartGrid.add_annotation``), labelled with the outcome and the command. A change that was made
is drawn in the accent colour, a failure in the failing colour, an attempt that changed nothing
dimmed. It works in read-only sessions too: a replayed incident shows what was done.
"""

from __future__ import annotations

from console.actions.audit import AUDIT_KIND, FINAL_OUTCOMES, OUTCOME_SYMBOLS
from console.session import SessionUpdate
from console.timeline import TimelineEntry
from ui.chart_grid import ChartGrid
from ui.theme import ACCENT, STATUS_STYLES, TEXT_DIM

OUTCOME_COLOURS = {"succeeded": ACCENT, "failed": STATUS_STYLES["failing"].fill}


def annotation_text(entry: TimelineEntry) -> str:
    """``✔ scale-connector`` for a change made (or failed), ``⊘ refused`` for an attempt that
    changed nothing; ``↶`` marks a revert."""
    fields = entry.fields
    outcome = fields.get("outcome", "")
    command = fields.get("command", {}).get("command", "action")
    revert = "↶ " if fields.get("revert_of") else ""
    symbol = OUTCOME_SYMBOLS.get(outcome, "•")
    if outcome in ("succeeded", "failed"):  # the colour says which
        return f"{symbol} {revert}{command}"
    return f"{symbol} {outcome}"


class ActionAnnotations:
    """Adds an annotation to the chart grid for every attempt that ends."""

    def __init__(self, chart_grid: ChartGrid) -> None:
        self.chart_grid = chart_grid
        #: ``(action_id, outcome)`` already drawn, so a replayed entry is drawn once.
        self._drawn: set[tuple[str, str]] = set()

    def on_session_update(self, update: SessionUpdate) -> None:
        """Draw the attempts that ended in this drain."""
        for entry in update.new_timeline:
            self.show_entry(entry)

    def show_entry(self, entry: TimelineEntry) -> bool:
        """Annotate ``entry`` if it ends an attempt; True when something was drawn."""
        if entry.kind != AUDIT_KIND:
            return False
        outcome = entry.fields.get("outcome")
        key = (str(entry.fields.get("action_id")), str(outcome))
        if outcome not in FINAL_OUTCOMES or key in self._drawn:
            return False
        self._drawn.add(key)
        colour = OUTCOME_COLOURS.get(str(outcome), TEXT_DIM)
        text = annotation_text(entry)
        # Changes label high on the chart, attempts that changed nothing lower: both stay legible
        # when they happen within the same minute.
        height = 0.92 if outcome in ("succeeded", "failed") else 0.7
        for service_id in entry.fields.get("affected", ()):
            self.chart_grid.add_annotation(service_id, entry.t, text, colour, height)
        return True
