"""The review engine: reading a snapshot as a store at a cursor, the review session, the golden
path's history, post-incident facts, and the pieces of saving and autosave they rely on.

Everything reads real ``.incident`` files: the demo recorded by the console's own recorder
(its history holds the onset ~45 min before the start), or hand-made series written with the
format's writer. No Qt.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from console.autosave import parse_size, prune_limits_from_environment
from console.clock import VirtualClock
from console.post_incident import action_record, gather_facts
from console.review import (
    CursorClock,
    ReadOnlyError,
    ReviewSession,
    SnapshotSeriesStore,
    coarser_extremes,
    health_history,
    path_state,
    resolve_moment,
)
from console.session import Session
from console.simulation_model import ONSET_LEAD_S
from console.snapshot import detach_session, open_snapshot, save_snapshot
from console.sources import Batch, LogEntry
from console.timeline import TimelineEntry
from tests.recordings import RECORDING_START, record_demo, write_snapshot
from tests.test_health import HEALTHY, INCIDENT, make_workspace

T0 = 1_700_000_000.0
#: A day at one sample per second would be slow to write in a test: 6 h at 1 s is plenty to
#: exercise the pyramid (its finest level alone has 2,700 buckets).
LONG_S = 6 * 3600


@pytest.fixture(scope="module")
def demo_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_demo(tmp_path_factory.mktemp("demo") / "demo.incident", duration_s=300)


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three series over 6 h at 1 s: a sine, one with spikes and a gap, one sparse (every 60 s)."""
    t = T0 + np.arange(LONG_S, dtype=float)
    sine = 500 + 400 * np.sin(t / 900)
    spiky = np.full(LONG_S, 100.0)
    spiky[[5000, 12345, 20000]] = [9000.0, 17000.0, 12000.0]
    spiky[3000:3600] = np.nan  # a ten-minute gap
    sparse_t = T0 + np.arange(0, LONG_S, 60, dtype=float)
    series = {
        ("frontend", "latency_p95_ms"): (t, sine),
        ("auth", "latency_p95_ms"): (t, spiky),
        ("database", "cpu_utilization"): (sparse_t, np.full(sparse_t.size, 0.5)),
    }
    path = tmp_path_factory.mktemp("long") / "long.incident"
    return write_snapshot(path, make_workspace(), series)


# -- the store adapter -------------------------------------------------------------------------


def test_store_reads_equal_the_recorded_samples(long_recording: Path) -> None:
    with open_snapshot(long_recording) as snapshot:
        clock = CursorClock(T0 + 7200.5)
        store = SnapshotSeriesStore(snapshot, clock)
        key = ("auth", "latency_p95_ms")
        raw_t, raw_v = snapshot.series(key)
        t, v = store.window(key, T0 + 100, T0 + 200)
        np.testing.assert_array_equal(t, raw_t[100:201])
        np.testing.assert_array_equal(v, raw_v[100:201])
        assert store.value_at(key, T0 + 12345.7) == (T0 + 12345, 17000.0)
        assert store.latest(key) == (T0 + 7200, 100.0)  # as seen at the cursor
        assert store.value_at(key, T0 - 1) is None
        gap = store.value_at(key, T0 + 3100)
        assert gap is not None and math.isnan(gap[1])
        assert store.data_span(key, T0 + 10.5, T0 + 20.5) == (T0 + 11, T0 + 20)
        assert store.data_span(key, T0 - 100, T0 - 1) is None
        assert store.version(key) == 1 and store.version(("chat", "probe_success")) == 0
        clock.set(T0 - 10)
        assert store.series_keys() == []  # nothing recorded yet at the cursor
        clock.set(T0 + 10)
        assert ("frontend", "latency_p95_ms") in store.series_keys()
        with pytest.raises(ReadOnlyError):
            store.append(key, np.array([T0]), np.array([1.0]))


@pytest.mark.parametrize("width_s", [1800, 6 * 3600])
def test_downsampled_windows_keep_every_peak_and_the_point_budget(
    long_recording: Path, width_s: int
) -> None:
    with open_snapshot(long_recording) as snapshot:
        store = SnapshotSeriesStore(snapshot, CursorClock(T0))
        for key in store.recorded_keys():
            t0, t1 = T0, T0 + width_s
            raw_t, raw_v = snapshot.series(key, t0, t1)
            t, v = store.window(key, t0, t1, max_points=600)
            assert len(t) <= 600 + 4
            assert np.all(np.diff(t) >= 0)
            assert t[0] >= t0 - 60 and t[-1] <= t1 + 60
            assert np.nanmax(v) == np.nanmax(raw_v)  # spikes survive
            assert np.nanmin(v) == np.nanmin(raw_v)
            if len(raw_t) <= 600:  # few samples: exactly what is recorded
                np.testing.assert_array_equal(t, raw_t)
                np.testing.assert_array_equal(v, raw_v)


def test_wide_windows_come_from_the_pyramid_narrow_ones_from_sql(long_recording: Path) -> None:
    with open_snapshot(long_recording) as snapshot, open_snapshot(long_recording) as second:
        store = SnapshotSeriesStore(snapshot, CursorClock(T0))
        key = ("frontend", "latency_p95_ms")
        store.window(key, T0, T0 + 2000, max_points=600)  # 7 s buckets: finer than the pyramid
        assert store.reads == {"raw": 0, "aggregate": 1, "pyramid": 0}
        assert not store.has_pyramid(key)
        built = store.build_pyramids(second)  # a worker does this with its own connection
        assert built == 3  # every series, the sparse one too
        assert store.has_pyramid(key)
        pyramid = store.pyramid(key)
        assert [level.bucket_s for level in pyramid.levels][:2] == [8.0, 32.0]
        t, v = store.window(key, T0, T0 + LONG_S, max_points=600)
        assert store.reads["pyramid"] == 1 and len(t) <= 604
        _, raw_v = snapshot.series(key)
        assert np.nanmax(v) == np.nanmax(raw_v) and np.nanmin(v) == np.nanmin(raw_v)
        assert store.nbytes() > 0


def test_coarser_levels_keep_extremes_and_gaps() -> None:
    rows = np.array(
        [
            [0.0, 7.0, 1.0, 5.0],
            [8.0, 15.0, np.nan, np.nan],  # a bucket of only gaps
            [16.0, 23.0, -2.0, 3.0],
            [40.0, 47.0, 0.0, 9.0],
        ]
    )
    merged = coarser_extremes(rows, 0.0, 32.0)
    np.testing.assert_array_equal(merged[0], [0.0, 23.0, -2.0, 5.0])
    np.testing.assert_array_equal(merged[1], [40.0, 47.0, 0.0, 9.0])
    gaps = coarser_extremes(rows[1:2], 0.0, 32.0)
    assert np.isnan(gaps[0, 2]) and np.isnan(gaps[0, 3])


# -- the review session -------------------------------------------------------------------------


def test_review_session_is_read_only_without_executor_or_sources(demo_recording: Path) -> None:
    with open_snapshot(demo_recording) as snapshot:
        session = ReviewSession(snapshot)
        assert session.read_only
        assert not hasattr(session, "executor")
        assert session.sources == [] and not session.running
        assert session.cursor == session.time_range[1]
        with pytest.raises(ReadOnlyError):
            session.submit(Batch("someone"))
        with pytest.raises(ReadOnlyError):
            session.add_timeline_entry("note", "written into a recording?")


def test_the_cursor_moves_health_back_in_time(demo_recording: Path) -> None:
    with open_snapshot(demo_recording) as snapshot:
        session = ReviewSession(snapshot)
        start, end = session.time_range
        assert end - start == pytest.approx(3600 + 300, abs=2)
        assert session.health.first_broken == "auth"
        assert session.health.root_cause == "connector"
        heard = []
        session.subscribe(heard.append)
        update = session.seek(start)
        assert heard == [update] and update.health_changed
        assert path_state(session.health) == "whole"
        assert session.health.first_broken is None
        assert session.health.t == start
        assert session.seek(start).empty  # the cursor did not move
        session.seek(end + 3600)  # clamped
        assert session.cursor == end
        assert session.health.first_broken == "auth"
        assert session.evaluate_health(at=start).first_broken is None  # without moving
        assert session.cursor == end


def test_logs_timeline_and_sources_follow_the_cursor(demo_recording: Path) -> None:
    with open_snapshot(demo_recording) as snapshot:
        session = ReviewSession(snapshot, at=0)  # clamped to the start
        start, end = session.time_range
        assert session.cursor == start
        assert list(session.logs) == [] and list(session.timeline) == []
        assert session.source_statuses["simulation"].state == "ok"  # its settled state
        recorded_start = float(snapshot.meta["created_at"])
        update = session.seek(recorded_start + 60)
        assert {e.text for e in update.new_timeline} >= {"recording started"}
        assert all(e.t <= recorded_start + 60 for e in session.timeline)
        assert update.new_logs and all(e.t <= recorded_start + 60 for e in update.new_logs)
        assert list(session.logs)[-len(update.new_logs) :] == update.new_logs
        newest = session.logs_until(recorded_start + 60, 5)
        assert len(newest) == 5 and newest == list(session.logs)[-5:]
        session.seek(start + 60)  # backward: rebuilt, nothing from the future
        assert all(e.t <= start + 60 for e in session.logs)
        assert all(e.t <= start + 60 for e in session.timeline)
        assert session.timeline_index(end) == len(session.recorded_timeline)
        assert session.recorded_timeline[-1].text == "recording stopped"


def test_stale_limits_come_from_the_recorded_sources_and_spacing(long_recording: Path) -> None:
    with open_snapshot(long_recording) as snapshot:
        session = ReviewSession(snapshot)
        limits = session.stale_after()
        assert limits["frontend"] == 15.0  # 1 s samples: the live margin
        assert limits["database"] == 180.0  # a sample a minute: three spacings
        session.seek(T0 + 100)
        assert session.health.services["database"].status != "stale"


def test_health_history_finds_the_outage_of_the_demo(demo_recording: Path) -> None:
    with open_snapshot(demo_recording) as snapshot:
        session = ReviewSession(snapshot)
        start, end = session.time_range
        history = health_history(session, start, end, max_samples=400, refine_to_s=1.0)
        states = [(s.state, s.first_broken) for s in history.spans]
        assert states[0] == ("whole", None) and states[-1] == ("broken", "auth")
        outage = history.outage_window()
        assert outage is not None and outage[1] == end
        onset = RECORDING_START - ONSET_LEAD_S
        assert onset < outage[0] < RECORDING_START  # it broke inside the history
        # Located to the second: just before, whole; at the change, broken.
        assert session.evaluate_health(at=outage[0] - 1.0).first_broken is None
        assert session.evaluate_health(at=outage[0]).first_broken == "auth"
        assert history.worst["auth"] == "failing" and history.worst["frontend"] == "ok"
        assert max(history.root_cause_s, key=history.root_cause_s.get) == "connector"


# -- moments on the command line ------------------------------------------------------------------


def test_resolve_moment() -> None:
    start, end = 1_700_000_000.0, 1_700_003_600.0
    assert resolve_moment("start", (start, end)) == start
    assert resolve_moment("END", (start, end)) == end
    assert resolve_moment("25m", (start, end)) == start + 1500
    assert resolve_moment("-5m", (start, end)) == end - 300
    assert resolve_moment("2023-11-14T22:20:00Z", (start, end)) == start + 400
    local = datetime.fromtimestamp(start + 1800).astimezone()
    assert resolve_moment(local.strftime("%H:%M:%S"), (start, end)) == start + 1800
    for bad in ("soon", "25:00", "12:xx", "2023-13-40T00:00"):
        with pytest.raises(ValueError, match="not a moment of the recording"):
            resolve_moment(bad, (start, end))


# -- post-incident facts --------------------------------------------------------------------------


def test_action_records_pair_before_and_after() -> None:
    entry = TimelineEntry(
        T0,
        "action",
        "✔ scale-connector staging-connector succeeded",
        {
            "outcome": "succeeded",
            "before": {"min_instances": 2, "max_instances": 3},
            "after": {"min_instances": 2, "max_instances": 10},
            "who": {"local": "ic"},
        },
    )
    record = action_record(entry)
    assert [(c.name, c.before, c.after) for c in record.changes] == [
        ("min_instances", 2, 2),
        ("max_instances", 3, 10),
    ]
    assert record.other_fields == {"outcome": "succeeded", "who": {"local": "ic"}}
    planned_only = action_record(
        TimelineEntry(T0, "action", "planned", {"before": {"x": 1}, "planned_after": {"x": 2}})
    )
    assert [(c.before, c.after) for c in planned_only.changes] == [(1, 2)]
    odd = action_record(TimelineEntry(T0, "action", "free-form", {"before": "3 instances"}))
    assert odd.changes == () and odd.other_fields == {"before": "3 instances"}


def test_facts_of_a_recording_with_actions_notes_and_criteria(tmp_path: Path) -> None:
    t = T0 + np.arange(600, dtype=float)
    series = {}
    for key, healthy in HEALTHY.items():
        values = np.full(600, healthy)
        values[200:400] = INCIDENT[key]  # broken from T0+200 to T0+400
        series[key] = (t, values)
    timeline = [
        TimelineEntry(T0 + 250, "note", "paged networking", {"note_id": "n1", "starred": True}),
        TimelineEntry(T0 + 260, "note_edit", "", {"note_id": "n1", "corrected_t": T0 + 240}),
        TimelineEntry(
            T0 + 300,
            "action",
            "✔ scale connector succeeded",
            {"outcome": "succeeded", "before": {"max": 3}, "after": {"max": 10}},
        ),
        TimelineEntry(
            T0 + 450, "criterion", "✔ criterion met: fast", {"criterion": "fast", "state": "met"}
        ),
    ]
    logs = [LogEntry(T0 + 210, "auth", "ERROR", "timeout", 503, 12000.0, "r1")]
    path = write_snapshot(
        tmp_path / "x.incident",
        make_workspace(),
        series,
        timeline,
        logs,
        {"incident_started_at": repr(T0 + 200)},
    )
    with open_snapshot(path) as snapshot:
        facts = gather_facts(ReviewSession(snapshot), max_samples=120)
    assert facts.outage == (pytest.approx(T0 + 200, abs=1), pytest.approx(T0 + 400, abs=1))
    assert not facts.broken_at_end
    assert facts.broken_total_s == pytest.approx(200, abs=2)
    assert facts.broken_steps == ("Auth",)
    assert facts.root_causes[0][0] == "VPC connector"
    assert {s.service for s in facts.affected} >= {"auth", "backend", "connector"}
    assert "frontend" not in {s.service for s in facts.affected}
    assert [a.outcome for a in facts.actions] == ["succeeded"]
    assert [(c.before, c.after) for c in facts.actions[0].changes] == [(3, 10)]
    assert [e.text for e in facts.criteria] == ["✔ criterion met: fast"]
    (note,) = facts.notes
    assert note.t == T0 + 240 and note.fields["original_t"] == T0 + 250  # edit folded in
    assert "note_edit" not in {e.kind for e in facts.timeline}
    assert facts.incident_started_at == T0 + 200
    assert facts.logs_per_service == {"Auth": 1}


# -- saving: progress, cancelling, a live session -------------------------------------------


def test_save_reports_progress_and_a_cancelled_save_leaves_nothing(
    demo_recording: Path, tmp_path: Path
) -> None:
    seen: list[tuple[int, int]] = []
    output = save_snapshot(
        demo_recording, tmp_path / "copy.incident", progress=lambda d, n: seen.append((d, n))
    )
    assert seen and seen[-1][0] == seen[-1][1] - 1 and len(seen) == seen[-1][1] - 1
    with open_snapshot(output) as copy, open_snapshot(demo_recording) as original:
        assert copy.series_keys() == original.series_keys()
        assert copy.meta["incident_started_at"] == original.meta["incident_started_at"]

    class StopError(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        if done == 3:
            raise StopError

    with pytest.raises(StopError):
        save_snapshot(demo_recording, tmp_path / "cancelled.incident", progress=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.incident"]


def test_a_detached_copy_saves_what_the_session_held(tmp_path: Path) -> None:
    clock = VirtualClock(T0)
    session = Session(make_workspace(), clock)
    t = T0 + np.arange(10, dtype=float)
    batch = Batch("test", logs=[LogEntry(T0 + 1, "auth", "ERROR", "boom", 503)])
    batch.add(("auth", "latency_p95_ms"), t, t - T0)
    session.submit(batch)
    session.add_timeline_entry("note", "looked at auth", t=T0 + 5)
    session.drain()
    copy = detach_session(session)
    session.submit(Batch("test", logs=[LogEntry(T0 + 11, "auth", "ERROR", "later", 503)]))
    session.drain()  # the live session goes on; the copy does not move
    assert len(copy.logs) == 1 and copy.read_only and copy.sources == []
    output = save_snapshot(copy, tmp_path / "live.incident")
    with open_snapshot(output) as snapshot:
        _, vs = snapshot.series(("auth", "latency_p95_ms"))
        np.testing.assert_array_equal(vs, np.arange(10.0))
        assert [e.message for e in snapshot.logs()] == ["boom"]
        assert "looked at auth" in [e.text for e in snapshot.timeline()]


# -- autosave limits -----------------------------------------------------------------------------


def test_prune_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INCIDENT_CONSOLE_AUTOSAVE_MAX_AGE", raising=False)
    monkeypatch.delenv("INCIDENT_CONSOLE_AUTOSAVE_MAX_SIZE", raising=False)
    assert prune_limits_from_environment() == (14 * 86400.0, 2 * 1024**3)
    monkeypatch.setenv("INCIDENT_CONSOLE_AUTOSAVE_MAX_AGE", "3d")
    monkeypatch.setenv("INCIDENT_CONSOLE_AUTOSAVE_MAX_SIZE", "500MB")
    assert prune_limits_from_environment() == (3 * 86400.0, 500_000_000)
    monkeypatch.setenv("INCIDENT_CONSOLE_AUTOSAVE_MAX_SIZE", "lots")
    with pytest.raises(ValueError, match="INCIDENT_CONSOLE_AUTOSAVE_MAX_SIZE: not a size"):
        prune_limits_from_environment()
    assert parse_size("1.5GiB") == 1610612736 and parse_size("2 GB") == 2_000_000_000


def test_opening_for_review_modifies_nothing(demo_recording: Path) -> None:
    before = demo_recording.read_bytes(), demo_recording.stat().st_mtime_ns
    names = sorted(p.name for p in demo_recording.parent.iterdir())
    with open_snapshot(demo_recording) as snapshot:
        session = ReviewSession(snapshot)
        session.review_store.build_pyramids()
        health_history(session, *session.time_range, max_samples=50)
    assert (demo_recording.read_bytes(), demo_recording.stat().st_mtime_ns) == before
    assert sorted(p.name for p in demo_recording.parent.iterdir()) == names
    with sqlite3.connect(demo_recording) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()
