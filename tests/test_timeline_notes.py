"""Notes on the one incident timeline: add, star, correct the time (the original kept), folded for
views; and the workflow's entries (notes, probes, criteria, timers) stored by the flight recorder,
read back from the snapshot and exported.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from console.clock import VirtualClock
from console.escalation import start_timers_for_action
from console.notes import NoteError, add_note, correct_time, fold_timeline, set_starred
from console.recorder import FlightRecorder
from console.session import Session
from console.snapshot import export_csv, export_json, open_snapshot
from tests.conftest import DEMO_START


def notes_of(session: Session) -> list:
    return fold_timeline(session.timeline, kinds={"note"})


def test_a_note_is_a_timeline_entry_at_the_session_clock(demo_session: Session) -> None:
    entry = add_note(demo_session, "  Paged the network on-call (Priya)  ")
    assert entry.kind == "note" and entry.t == DEMO_START
    assert entry.text == "Paged the network on-call (Priya)"
    assert entry.fields["starred"] is False and len(entry.fields["note_id"]) == 12
    assert "author" in entry.fields
    assert entry not in demo_session.timeline  # it joins at the next drain, like all data
    update = demo_session.drain()
    assert entry in update.new_timeline and entry in demo_session.timeline


def test_empty_or_huge_notes_are_refused(demo_session: Session) -> None:
    with pytest.raises(NoteError, match="needs some text"):
        add_note(demo_session, "   \n ")
    with pytest.raises(NoteError, match="at most"):
        add_note(demo_session, "x" * 5000)


def test_starring_and_unstarring_a_note(demo_session: Session) -> None:
    note = add_note(demo_session, "Decided: pin backend traffic to 00750-69k")
    demo_session.drain()
    note_id = note.fields["note_id"]
    set_starred(demo_session, note_id)
    demo_session.drain()
    assert notes_of(demo_session)[0].fields["starred"] is True
    set_starred(demo_session, note_id, False)
    demo_session.drain()
    assert notes_of(demo_session)[0].fields["starred"] is False
    edits = [e for e in demo_session.timeline if e.kind == "note_edit"]
    assert [e.fields["starred"] for e in edits] == [True, False]  # the edits stay on record
    with pytest.raises(NoteError, match="no note"):
        set_starred(demo_session, "not-a-note")


def test_correcting_a_time_keeps_the_original(
    demo_session: Session, demo_clock: VirtualClock
) -> None:
    demo_clock.advance(600)
    note = add_note(demo_session, "Connector hit 10 instances")
    demo_session.drain()
    logged = note.t
    correct_time(demo_session, note.fields["note_id"], DEMO_START + 120)
    demo_session.drain()
    correct_time(demo_session, note.fields["note_id"], DEMO_START + 150)  # corrected again
    demo_session.drain()
    [folded] = notes_of(demo_session)
    assert folded.t == DEMO_START + 150
    assert folded.fields["original_t"] == logged  # the first logged time, not the first fix
    assert folded.text == "Connector hit 10 instances"
    raw = next(e for e in demo_session.timeline if e.kind == "note")
    assert raw.t == logged  # the note itself is never rewritten


def test_the_folded_timeline_is_one_ordered_record(
    demo_session: Session, demo_clock: VirtualClock
) -> None:
    demo_clock.advance(60)
    late = add_note(demo_session, "Auth 503s began around here")
    demo_session.poll_sources()
    demo_session.drain()
    correct_time(demo_session, late.fields["note_id"], DEMO_START - 1800)
    demo_session.drain()
    folded = fold_timeline(demo_session.timeline)
    assert [e.t for e in folded] == sorted(e.t for e in folded)
    assert not [e for e in folded if e.kind == "note_edit"]
    kinds = {e.kind for e in folded}
    assert {"note", "probe", "golden_path"} <= kinds
    assert folded[0].kind == "note"  # moved back before everything else of this session


def test_workflow_entries_are_recorded_and_exported(
    demo_session: Session, demo_clock: VirtualClock, tmp_path: Path
) -> None:
    recorder = FlightRecorder(demo_session, tmp_path / "live.incident", commit_interval_s=0.05)
    recorder.start()
    note = add_note(demo_session, "Scaling the connector to e2-standard-4", starred=True)
    start_timers_for_action(demo_session, "ScaleConnector")
    for _ in range(4):
        demo_clock.advance(30)
        demo_session.poll_sources()
        demo_session.drain()
    correct_time(demo_session, note.fields["note_id"], DEMO_START - 60)
    demo_session.drain()
    assert recorder.close().state == "closed"

    with open_snapshot(tmp_path / "live.incident") as snapshot:
        stored = snapshot.timeline()
        kinds = {e.kind for e in stored}
        assert {"note", "note_edit", "probe", "timer", "recording"} <= kinds
        [folded_note] = fold_timeline(stored, kinds={"note"})
        assert folded_note.fields["starred"] is True
        assert folded_note.t == DEMO_START - 60
        assert folded_note.fields["original_t"] == DEMO_START
        export_json(snapshot, tmp_path / "export.json")
        export_csv(snapshot, tmp_path / "csv")

    document = json.loads((tmp_path / "export.json").read_text(encoding="utf-8"))
    texts = [e["text"] for e in document["timeline"]]
    assert "Scaling the connector to e2-standard-4" in texts
    assert any(t.startswith("Login → AI response probe fails") for t in texts)
    with (tmp_path / "csv" / "timeline.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert any(
        r["kind"] == "timer" and "Escalate to Google Cloud support" in r["text"] for r in rows
    )
    assert {r["kind"] for r in rows} >= {"note", "probe", "timer"}
    probe_series = {("golden-path", "probe_success"), ("golden-path", "probe_events")}
    with open_snapshot(tmp_path / "live.incident") as snapshot:
        assert probe_series <= set(snapshot.series_keys())
