"""The post-incident report: one self-contained HTML file drafted from an ``.incident`` snapshot.

``write_report(path, output)`` opens the snapshot read-only, gathers the facts with
``console.post_incident.gather_facts`` (summary, golden-path outage window, services affected,
timeline, actions with before/after, recovery criteria), renders two kinds of pictures offscreen
with the console's own widgets (the review bar's golden-path strip, and the chart grid over the
whole recording) and writes HTML with the pictures embedded as base64 PNG data URIs, so the
report is one file that opens anywhere, offline. ``images`` also writes the PNGs to a folder.

It needs Qt (offscreen is enough: no display, no network, no credentials). The HTML is written
atomically (``console.snapshot.atomic_output``).
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMessageLogContext,
    Qt,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QPixmap

from console import __version__
from console.durations import format_duration
from console.post_incident import PostIncidentFacts, gather_facts
from console.review import GoldenPathSpan, ReviewSession
from console.snapshot import atomic_output, open_snapshot
from ui.chart_grid import ChartGrid
from ui.review_bar import MARKED_KINDS, SPAN_LOOKS, ReviewStrip, StripMark
from ui.theme import STATUS_STYLES

#: Width of the pictures, in pixels.
IMAGE_WIDTH = 1400
#: Height per service row of the chart picture.
CHART_ROW_HEIGHT = 150
#: Timeline rows written at most (the rest are counted).
MAX_TIMELINE_ROWS = 3000
#: Event rounds that let an offscreen widget lay out and paint before it is grabbed.
LAYOUT_ROUNDS = 4


@dataclass(frozen=True)
class ReportImage:
    """A picture of the report: its file name, caption and PNG bytes."""

    name: str
    caption: str
    png: bytes

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


# -- pictures ----------------------------------------------------------------------------------


def _png(pixmap: QPixmap) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    pixmap.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def _settle() -> None:
    from PySide6.QtWidgets import QApplication

    for _ in range(LAYOUT_ROUNDS):
        QApplication.processEvents()


#: What the offscreen platform says whenever a window is shown; it says nothing about the report.
_OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"


@contextlib.contextmanager
def _offscreen_size_hints_quiet() -> Iterator[None]:
    """Drop the offscreen platform's size-hint notice while showing a window for a picture;
    every other Qt message goes where it went before."""

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if message == _OFFSCREEN_NOISE:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


def strip_image(facts: PostIncidentFacts, names: dict[str, str]) -> ReportImage:
    """The golden path over the recording, with actions, notes and criteria marked."""
    strip = ReviewStrip(facts.start, facts.end)
    strip.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    strip.set_spans(facts.history.spans, names, "")
    strip.set_marks(
        [StripMark(e.t, e.kind, e.text) for e in facts.timeline if e.kind in MARKED_KINDS]
    )
    strip.cursor = facts.end
    strip.resize(IMAGE_WIDTH, strip.sizeHint().height())
    strip.show()
    _settle()
    image = ReportImage(
        "golden-path.png",
        "The golden path over the recording (green whole, orange broken, grey no data; "
        "▼ actions, ✎ notes, ◆ criteria). Times are local.",
        _png(strip.grab()),
    )
    strip.close()
    strip.deleteLater()
    return image


def charts_image(session: ReviewSession) -> ReportImage:
    """Every chart of every service over the whole recording (the console's chart grid)."""
    start, end = session.time_range
    session.seek(end)
    grid = ChartGrid(session)
    grid.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    rows = len(session.workspace.services)
    grid.resize(IMAGE_WIDTH, rows * CHART_ROW_HEIGHT + 80)
    grid.set_live(False)
    with _offscreen_size_hints_quiet():
        grid.show()
        _settle()
    if grid.charts:
        margin = max(1.0, 0.005 * (end - start))
        grid.charts[0].view_box.setXRange(start - margin, end + margin, padding=0)
    grid.refresh(end)
    _settle()
    # Leave out the mode line above the charts ("drag to pan…" means nothing on paper).
    scroll = grid.layout().itemAt(grid.layout().count() - 1).widget()
    pixmap = grid.grab(scroll.geometry()) if scroll is not None else grid.grab()
    image = ReportImage(
        "charts.png",
        "Every chart over the whole recording; the values beside each title are those at the "
        "end of the recording. Dashed lines are the workspace thresholds. Times are local.",
        _png(pixmap),
    )
    grid.close()
    grid.deleteLater()
    return image


# -- HTML ----------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def utc_text(t: float, with_date: bool = False) -> str:
    """``09:30:00`` or ``2025-03-14 09:30:00`` UTC."""
    stamp = datetime.fromtimestamp(t, UTC)
    return stamp.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def _value_text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _local_offset_text(t: float) -> str:
    offset = time.localtime(t).tm_gmtoff
    sign = "+" if offset >= 0 else "−"
    return f"UTC{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"


STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1c2127;
       max-width: 1440px; margin: 24px auto; padding: 0 20px; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 20px; margin-top: 34px; border-bottom: 2px solid #d0d7de; padding-bottom: 4px; }
.meta { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; margin: 10px 0; }
th, td { text-align: left; vertical-align: top; padding: 4px 10px;
         border-bottom: 1px solid #e1e4e8; }
table.facts th { width: 210px; color: #57606a; font-weight: 600; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.pill { display: inline-block; padding: 0 8px; border-radius: 3px; font-weight: 700;
        font-size: 13px; }
.verdict { font-size: 17px; font-weight: 700; }
figure { margin: 14px 0; }
figure img { max-width: 100%; border: 1px solid #d0d7de; }
figcaption { color: #57606a; font-size: 13px; }
.changes td, .changes th { font-family: ui-monospace, monospace; font-size: 13px; }
details { margin: 4px 0 10px; } summary { cursor: pointer; color: #57606a; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; font-size: 13px; }
dt { color: #57606a; } dd { margin: 0; font-family: ui-monospace, monospace;
     white-space: pre-wrap; word-break: break-word; }
.none { color: #57606a; font-style: italic; }
"""


def _pill(look: str, text: str) -> str:
    style = STATUS_STYLES[look]
    return (
        f'<span class="pill" style="background:{style.fill};color:{style.text}">'
        f"{_e(style.symbol)} {_e(text)}</span>"
    )


def _status_pill(status: str) -> str:
    style = STATUS_STYLES.get(status, STATUS_STYLES["unknown"])
    return _pill(status if status in STATUS_STYLES else "unknown", style.word)


def _span_pill(span: GoldenPathSpan, names: dict[str, str]) -> str:
    look, word = SPAN_LOOKS[span.state]
    if span.state == "broken" and span.first_broken:
        word = f"{word} at {names.get(span.first_broken, span.first_broken)}"
    return _pill(look, word)


def _summary(facts: PostIncidentFacts) -> list[str]:
    rows: list[tuple[str, str]] = []
    rows.append(
        (
            "Recording",
            f"{_e(utc_text(facts.start, True))} – {_e(utc_text(facts.end, True))} UTC "
            f"({_e(format_duration(facts.duration_s))})"
            + ("" if facts.closed_cleanly else " · <b>unfinished recording</b> (recovered)"),
        )
    )
    if facts.incident_started_at is not None:
        rows.append(("Incident began", f"{_e(utc_text(facts.incident_started_at, True))} UTC"))
    outage = facts.outage
    if outage is None:
        verdict = _pill("ok", "WHOLE") + " the golden path was whole throughout the recording"
    else:
        end = (
            "still broken at the end of the recording"
            if facts.broken_at_end
            else (f"restored at {_e(utc_text(outage[1]))} UTC")
        )
        verdict = (
            _pill("failing", "BROKEN") + f" from {_e(utc_text(outage[0]))} UTC, {end}; broken for "
            f"{_e(format_duration(facts.broken_total_s))} in all"
        )
    rows.append(("Golden path outage", f'<span class="verdict">{verdict}</span>'))
    if facts.broken_steps:
        rows.append(("Broken at", _e(", ".join(facts.broken_steps))))
    if facts.root_causes:
        (main, main_s), *others = facts.root_causes
        roots = f"<b>{_e(main)}</b> (the candidate for {_e(format_duration(main_s))})"
        if others:
            roots += "; also, briefly: " + ", ".join(
                f"{_e(name)} ({_e(format_duration(seconds))})" for name, seconds in others
            )
    else:
        roots = '<span class="none">none (no service failed on its own)</span>'
    rows.append(("Root-cause candidate", roots))
    affected = ", ".join(f"{_e(s.name)} {_status_pill(s.worst)}" for s in facts.affected)
    rows.append(("Services affected", affected or '<span class="none">none</span>'))
    outcomes: dict[str, int] = {}
    for action in facts.actions:
        outcomes[action.outcome or "recorded"] = outcomes.get(action.outcome or "recorded", 0) + 1
    rows.append(
        (
            "Actions",
            ", ".join(f"{n} {_e(k)}" for k, n in outcomes.items())
            or '<span class="none">no actions recorded</span>',
        )
    )
    met = [e for e in facts.criteria if e.kind == "criterion" and e.fields.get("state") == "met"]
    recovered = [e for e in facts.criteria if e.kind == "recovery" and e.fields.get("recovered")]
    if not facts.criteria:
        criteria = '<span class="none">no recovery criteria recorded</span>'
    else:
        criteria = f"{len(met)} times a criterion was met"
        if recovered:
            criteria += f"; RECOVERED at {_e(utc_text(recovered[-1].t))} UTC"
    rows.append(("Recovery criteria", criteria))
    logs = ", ".join(f"{_e(s)} {n}" for s, n in sorted(facts.logs_per_service.items()))
    rows.append(("Log entries recorded", logs or '<span class="none">none</span>'))
    rows.append(("Notes", str(len(facts.notes))))
    out = ['<table class="facts">']
    out += [f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows]
    out.append("</table>")
    return out


def _figure(image: ReportImage) -> str:
    return (
        f'<figure><img src="{image.data_uri()}" alt="{_e(image.caption)}">'
        f"<figcaption>{_e(image.caption)}</figcaption></figure>"
    )


def _spans_table(
    spans: Sequence[GoldenPathSpan], names: dict[str, str], step_s: float
) -> list[str]:
    out = [
        f'<p class="meta">Health evaluated every {_e(format_duration(step_s))} over the '
        "recording, each change located to the second. A change shorter than that step can be "
        "missed; the timeline below lists the changes seen live.</p>",
        "<table><tr><th>from (UTC)</th><th>to</th><th>for</th><th>golden path</th>"
        "<th>root-cause candidate</th></tr>",
    ]
    for span in spans:
        out.append(
            f'<tr><td class="time">{_e(utc_text(span.start))}</td>'
            f'<td class="time">{_e(utc_text(span.end))}</td>'
            f"<td>{_e(format_duration(span.duration_s))}</td><td>{_span_pill(span, names)}</td>"
            f"<td>{_e(names.get(span.root_cause or '', span.root_cause or ''))}</td></tr>"
        )
    out.append("</table>")
    return out


def _timeline_table(entries: Sequence[Any]) -> list[str]:
    if not entries:
        return ['<p class="none">Nothing on the timeline.</p>']
    out = ["<table><tr><th>time (UTC)</th><th>kind</th><th>what</th></tr>"]
    for entry in entries[:MAX_TIMELINE_ROWS]:
        starred = " ★" if entry.kind == "note" and entry.fields.get("starred") else ""
        out.append(
            f'<tr><td class="time">{_e(utc_text(entry.t))}</td><td>{_e(entry.kind)}</td>'
            f"<td>{_e(entry.text)}{starred}</td></tr>"
        )
    out.append("</table>")
    if len(entries) > MAX_TIMELINE_ROWS:
        out.append(
            f'<p class="none">… and {len(entries) - MAX_TIMELINE_ROWS} more entries '
            "(export the snapshot as JSON for all of them).</p>"
        )
    return out


def _fields_list(fields: dict[str, Any]) -> str:
    items = "".join(
        f"<dt>{_e(key)}</dt><dd>{_e(_value_text(value))}</dd>" for key, value in fields.items()
    )
    return f"<dl>{items}</dl>"


def _actions(facts: PostIncidentFacts) -> list[str]:
    if not facts.actions:
        return ['<p class="none">No actions were recorded.</p>']
    out = []
    for action in facts.actions:
        entry = action.entry
        out.append(f"<h3>{_e(utc_text(entry.t))} UTC · {_e(entry.text)}</h3>")
        if action.changes:
            out.append('<table class="changes"><tr><th>setting</th><th>before</th><th>after</th>')
            out.append("</tr>")
            for change in action.changes:
                marker = "" if change.before == change.after else " ◀"
                out.append(
                    f"<tr><td>{_e(change.name)}</td><td>{_e(_value_text(change.before))}</td>"
                    f"<td>{_e(_value_text(change.after))}{marker}</td></tr>"
                )
            out.append("</table>")
        if action.other_fields:
            out.append("<details><summary>every recorded field</summary>")
            out.append(_fields_list(action.other_fields))
            out.append("</details>")
    return out


def _criteria(facts: PostIncidentFacts) -> list[str]:
    if not facts.criteria:
        return ['<p class="none">No recovery criteria recorded.</p>']
    out = ["<table><tr><th>time (UTC)</th><th>criterion</th><th>what happened</th></tr>"]
    for entry in facts.criteria:
        name = entry.fields.get("criterion") or entry.kind
        out.append(
            f'<tr><td class="time">{_e(utc_text(entry.t))}</td><td>{_e(name)}</td>'
            f"<td>{_e(entry.text)}</td></tr>"
        )
    out.append("</table>")
    return out


def render_html(
    facts: PostIncidentFacts, images: Iterable[ReportImage], names: dict[str, str]
) -> str:
    """The whole report as one HTML document."""
    pictures = {image.name: image for image in images}
    title = f"Post-incident report: {facts.title}"
    drafted = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_e(facts.environment.upper())} · {_e(facts.location)} · drafted '
        f"{_e(drafted)} by Incident Console {_e(__version__)} from {_e(facts.file_name)} "
        f"(snapshot format {facts.format_version}, recorded by console "
        f"{_e(facts.app_version or '?')}). Times are UTC; the pictures use local time "
        f"({_e(_local_offset_text(facts.start))}).</p>",
        '<h2 id="summary">Summary</h2>',
        *_summary(facts),
    ]
    if "golden-path.png" in pictures:
        parts.append(_figure(pictures["golden-path.png"]))
    parts += ['<h2 id="golden-path">The golden path over time</h2>']
    parts += _spans_table(facts.history.spans, names, facts.history.step_s)
    parts += ['<h2 id="timeline">Timeline</h2>', *_timeline_table(facts.timeline)]
    parts += ['<h2 id="actions">Actions, with before and after</h2>', *_actions(facts)]
    parts += ['<h2 id="criteria">Recovery criteria</h2>', *_criteria(facts)]
    parts.append('<h2 id="charts">Charts</h2>')
    if "charts.png" in pictures:
        parts.append(_figure(pictures["charts.png"]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(path: Path, output: Path, images_folder: Path | None = None) -> list[ReportImage]:
    """Draft the report of the snapshot at ``path`` into ``output`` (HTML, atomically); with
    ``images_folder``, also write each picture there as a PNG. Returns the pictures. Raises
    ``SnapshotError`` for a bad snapshot and ``OSError`` when a file cannot be written."""
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from ui.app import application

    application()
    with open_snapshot(path) as snapshot:
        session = ReviewSession(snapshot)
        facts = gather_facts(session)
        names = {sid: s.name for sid, s in session.workspace.services.items()}
        images = [strip_image(facts, names), charts_image(session)]
        text = render_html(facts, images, names)
    with atomic_output(output) as temporary:
        temporary.write_text(text, encoding="utf-8")
    if images_folder is not None:
        images_folder.mkdir(parents=True, exist_ok=True)
        for image in images:
            with atomic_output(images_folder / image.name) as temporary:
                temporary.write_bytes(image.png)
    return images
