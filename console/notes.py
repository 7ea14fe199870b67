"""The commander's notes on the incident timeline: add, star, correct the time.

A note is a timeline entry of kind ``note`` (``fields``: ``note_id``, ``starred``, ``author``).
The timeline is append-only (the flight recorder has already written what it holds), so a change
to a note is a second entry of kind ``note_edit`` naming the note: ``{"note_id", "starred"}`` to
star or unstar it, ``{"note_id", "corrected_t", "original_t"}`` to correct its time (the
original is always kept). ``fold_timeline`` applies the edits for views, exports and reports:
each note appears once, at its corrected time, with ``starred`` and ``original_t`` in its fields.

Everything here goes through ``Session.add_timeline_entry`` (thread-safe); reading a note's
current state reads ``Session.timeline`` (the draining thread).
"""

from __future__ import annotations

import dataclasses
import getpass
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from console.timeline import TimelineEntry

if TYPE_CHECKING:
    from console.session import Session

#: The longest note kept (a note is a line in the review, not a document).
MAX_NOTE_CHARS = 4000


class NoteError(Exception):
    """An empty note, or an edit of a note the timeline does not hold."""


def _author() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in this environment
        return ""


def add_note(
    session: Session, text: str, *, t: float | None = None, starred: bool = False
) -> TimelineEntry:
    """Add a note at ``t`` (default: now by the session clock). Raises ``NoteError`` if empty."""
    text = text.strip()
    if not text:
        raise NoteError("a note needs some text")
    if len(text) > MAX_NOTE_CHARS:
        raise NoteError(f"a note holds at most {MAX_NOTE_CHARS} characters ({len(text)} given)")
    fields = {"note_id": uuid.uuid4().hex[:12], "starred": bool(starred), "author": _author()}
    return session.add_timeline_entry("note", text, fields, t=t)


def find_note(session: Session, note_id: str) -> TimelineEntry:
    """The note as it stands now (edits applied). Raises ``NoteError`` when there is none."""
    notes = [e for e in fold_timeline(session.timeline, kinds={"note"}) if _id(e) == note_id]
    if not notes:
        raise NoteError(f"no note {note_id!r} on the timeline (yet)")
    return notes[0]


def set_starred(session: Session, note_id: str, starred: bool = True) -> TimelineEntry:
    """Star (or unstar) a note."""
    note = find_note(session, note_id)
    verb = "starred" if starred else "unstarred"
    return session.add_timeline_entry(
        "note_edit", f"note {verb}: {_short(note.text)}", {"note_id": note_id, "starred": starred}
    )


def correct_time(session: Session, note_id: str, corrected_t: float) -> TimelineEntry:
    """Move a note to ``corrected_t`` (when it really happened); its logged time is kept."""
    note = find_note(session, note_id)
    original = note.fields.get("original_t", note.t)
    return session.add_timeline_entry(
        "note_edit",
        f"note time corrected: {_short(note.text)}",
        {"note_id": note_id, "corrected_t": float(corrected_t), "original_t": original},
    )


def fold_timeline(
    entries: Iterable[TimelineEntry], kinds: set[str] | None = None
) -> list[TimelineEntry]:
    """The timeline with note edits applied, in time order (``kinds`` keeps only those kinds).

    Each note appears once, at its corrected time, with ``starred`` and (when corrected)
    ``original_t`` in its fields; ``note_edit`` entries themselves are left out.
    """
    entries = list(entries)
    edits: dict[str, dict] = {}
    for entry in entries:
        if entry.kind == "note_edit":
            note_id = entry.fields.get("note_id")
            if isinstance(note_id, str):
                edits.setdefault(note_id, {}).update(
                    {k: v for k, v in entry.fields.items() if k != "note_id"}
                )
    result: list[TimelineEntry] = []
    for entry in entries:
        if entry.kind == "note_edit" or (kinds is not None and entry.kind not in kinds):
            continue
        if entry.kind == "note" and _id(entry) in edits:
            change = edits[_id(entry)]
            fields = dict(entry.fields)
            t = entry.t
            if "starred" in change:
                fields["starred"] = bool(change["starred"])
            if "corrected_t" in change:
                fields["original_t"] = change.get("original_t", entry.t)
                t = float(change["corrected_t"])
            entry = dataclasses.replace(entry, t=t, fields=fields)
        result.append(entry)
    result.sort(key=lambda e: e.t)
    return result


def _id(entry: TimelineEntry) -> str | None:
    value = entry.fields.get("note_id")
    return value if isinstance(value, str) else None


def _short(text: str, limit: int = 60) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
