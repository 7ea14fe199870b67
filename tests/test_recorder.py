"""The flight recorder: what a session received ends up in the file, on the writer thread, within
about a second; a crash loses at most that; a full disk stops recording but keeps what was
committed; the timeline follows health; no credential is ever written.

Sessions are driven by a small scripted source and a virtual clock (the demo simulation in one
test); the crash test kills a real recording subprocess. Waiting is on events, child output and
the file's contents, never on sleeps.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from console.autosave import find_unfinished_recordings, recover_recording
from console.clock import VirtualClock
from console.recorder import FlightRecorder, RecorderStatus
from console.session import Session
from console.snapshot import open_snapshot
from console.snapshot_format import (
    TimelineEntry,
    strip_credentials,
    strip_credentials_from_toml,
)
from console.sources import Batch, LogEntry, SourceStatus
from tests.recording_process import RecordingProcess
from tests.test_health import HEALTHY, INCIDENT, make_workspace

T0 = 1_700_000_000.0


class ScriptedSource:
    """One sample per series per poll from ``values``; a log line per poll when ``log`` is set."""

    name = "scripted"
    interval_s = 1.0
    expected_delay_s = 0.0

    def __init__(self, values: dict) -> None:
        self.values = dict(values)
        self.log: str | None = None

    def poll(self, now: float) -> Batch:
        batch = Batch(self.name, status=SourceStatus(self.name, "ok"))
        for key, value in self.values.items():
            batch.add(key, np.array([now]), np.array([value]))
        if self.log:
            batch.logs.append(LogEntry(now, "auth", "ERROR", self.log, 503, 12_000.0, "r1"))
        return batch

    def close(self) -> None:
        pass


def make_session(values: dict | None = None) -> tuple[Session, VirtualClock, ScriptedSource]:
    clock = VirtualClock(T0)
    source = ScriptedSource(values if values is not None else HEALTHY)
    return Session(make_workspace(), clock, [source]), clock, source


def step(session: Session, clock: VirtualClock, seconds: int = 1) -> None:
    for _ in range(seconds):
        clock.advance(1)
        session.poll_sources()
        session.drain()


def assert_file_matches_store(path: Path, session: Session) -> None:
    with open_snapshot(path) as snapshot:
        assert set(snapshot.series_keys()) == set(session.store.series_keys())
        for key in session.store.series_keys():
            ts, vs = session.store.ring(key).arrays()
            got_ts, got_vs = snapshot.series(key)
            np.testing.assert_array_equal(got_ts, ts)
            np.testing.assert_array_equal(got_vs, vs)  # NaN == NaN here

        def in_time_order(entries: list[LogEntry]) -> list[LogEntry]:
            return sorted(entries, key=lambda e: (e.t, e.service, e.message))

        assert snapshot.logs() == in_time_order(snapshot.logs())  # the file reads in time order
        assert in_time_order(snapshot.logs()) == in_time_order(list(session.logs))


def test_records_a_session_and_reads_it_back_equal_to_the_store(tmp_path: Path) -> None:
    session, clock, source = make_session()
    session.poll_sources()
    session.drain()  # data before the recorder starts is recorded too
    recorder = FlightRecorder(session, tmp_path / "r.incident")
    recorder.start()
    step(session, clock, 30)
    source.values = dict(INCIDENT)
    source.values[("frontend", "latency_p95_ms")] = float("nan")  # a gap survives
    source.log = "upstream connect timeout"
    step(session, clock, 30)
    source.values = dict(HEALTHY)
    source.log = None
    step(session, clock, 10)
    status = recorder.close()
    assert status.state == "closed" and status.error == ""
    assert status.samples_committed == 71 * len(HEALTHY)
    assert status.newest_committed_t == clock.now()
    assert_file_matches_store(tmp_path / "r.incident", session)

    with open_snapshot(tmp_path / "r.incident") as snapshot:
        assert snapshot.closed_cleanly
        assert snapshot.time_range == (T0, clock.now())
        assert snapshot.workspace == make_workspace()
        assert snapshot.unit(("auth", "latency_p95_ms")) == "ms"
        timeline = snapshot.timeline()
        kinds = [e.kind for e in timeline]
        # what the session's timeline held before the recorder started comes first
        started = kinds.index("recording")
        assert set(kinds[:started]) <= {"status_change", "golden_path"}
        assert timeline[started].text == "recording started" and kinds[-1] == "recording"
        broke = [e for e in timeline if e.kind == "golden_path" and e.fields["to"] == "auth"]
        healed = [e for e in timeline if e.kind == "golden_path" and e.fields["to"] is None]
        assert len(broke) == 1 and broke[0].t == T0 + 31
        assert broke[0].fields["root_cause"] == "connector"
        assert len(healed) == 1 and healed[0].t == T0 + 61
        auth = [e for e in timeline if e.kind == "status_change" and e.fields["service"] == "auth"]
        assert [(e.fields["from"], e.fields["to"]) for e in auth] == [
            ("unknown", "ok"),  # the first data, before the recorder started
            ("ok", "failing"),
            ("failing", "ok"),
        ]
        assert auth[1].text == "Auth: ok → failing"
        assert auth[1].fields["blocked_by"] == ["connector"]
        statuses = snapshot.source_statuses()
        assert [s.status.state for s in statuses] == ["ok"]
    assert not list(tmp_path.glob("*-wal")) and not list(tmp_path.glob("*-shm"))


def test_records_the_demo_simulation(tmp_path: Path) -> None:
    from console.session_factory import build_session
    from console.workspace_toml import demo_workspace_path, load_workspace

    workspace = load_workspace(demo_workspace_path())
    clock = VirtualClock(T0)
    session = build_session(workspace, clock)
    recorder = FlightRecorder(session, tmp_path / "demo.incident")
    recorder.start()
    session.poll_sources()  # the simulation's history arrives at once
    session.drain()
    for _ in range(60):
        clock.advance(5)
        session.poll_sources()
        session.drain()
    assert recorder.close().state == "closed"
    assert_file_matches_store(tmp_path / "demo.incident", session)
    with open_snapshot(tmp_path / "demo.incident") as snapshot:
        assert snapshot.workspace_text == demo_workspace_path().read_text(encoding="utf-8")
        assert snapshot.workspace.services == workspace.services
        assert snapshot.meta["session_kind"] == "demo"
        assert any(e.kind == "golden_path" for e in snapshot.timeline())


def test_the_file_is_only_touched_on_the_writer_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connecting_threads: list[str] = []
    real_connect = sqlite3.connect

    def spying_connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        connecting_threads.append(threading.current_thread().name)
        return real_connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("console.recorder.sqlite3.connect", spying_connect)
    session, clock, _ = make_session()
    recorder = FlightRecorder(session, tmp_path / "r.incident")
    recorder.start()
    step(session, clock, 5)
    recorder.close()
    assert connecting_threads == ["flight-recorder"]


def test_commits_within_the_interval_without_being_asked(tmp_path: Path) -> None:
    committed = threading.Event()
    statuses: list[RecorderStatus] = []

    def on_commit(status: RecorderStatus) -> None:
        statuses.append(status)
        if status.samples_committed:
            committed.set()

    session, clock, _ = make_session()
    path = tmp_path / "r.incident"
    recorder = FlightRecorder(session, path, commit_interval_s=0.2, on_commit=on_commit)
    recorder.start()
    step(session, clock, 3)
    started = time.monotonic()
    assert committed.wait(10), "no commit without flush or close"
    assert time.monotonic() - started < 5
    uri = "file:" + urllib.parse.quote(str(path)) + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as reader:
        assert reader.execute("SELECT count(*) FROM samples").fetchone()[0] > 0
    recorder.close()


def test_timeline_entries_and_resource_states_from_any_thread(tmp_path: Path) -> None:
    session, clock, _ = make_session()
    recorder = FlightRecorder(session, tmp_path / "r.incident")
    recorder.start()
    step(session, clock, 2)
    worker = threading.Thread(
        target=recorder.record_timeline_entry,
        args=("action", T0 + 2, "scale connector to 3..10"),
        kwargs={"fields": {"who": "ic", "command": "ScaleConnector", "access_token": "ya29.x"}},
    )
    worker.start()
    worker.join()
    recorder.record_timeline_entry("note", T0 + 2.5, "paged the network team")
    recorder.record_resource_state(
        T0 + 2, "connector", "staging-connector", {"min": 2, "max": 3, "password": "x"}
    )
    assert recorder.flush()
    recorder.close()
    with open_snapshot(tmp_path / "r.incident") as snapshot:
        action = next(e for e in snapshot.timeline() if e.kind == "action")
        assert action == TimelineEntry(
            T0 + 2, "action", "scale connector to 3..10", {"who": "ic", "command": "ScaleConnector"}
        )
        assert any(e.text == "paged the network team" for e in snapshot.timeline())
        (state,) = snapshot.resource_states()
        assert state.state == {"min": 2, "max": 3}


SECRET_TOML = """\
[incident]
title = "t"
api_token = "tok-123"   # a token
[cloud]
project = "p"
key_file = "/home/me/key.json"
auth = { user = "me", password = "hunter2", region = "eu" }
notes = '''
not secret
'''
[credentials]
client_secret = "abc"
refresh = "def"
[golden_path]
steps = []
"""


def test_credentials_are_stripped_from_what_is_written(tmp_path: Path) -> None:
    stripped = strip_credentials_from_toml(SECRET_TOML)
    for secret in ("tok-123", "key.json", "hunter2", "abc", "def", "[credentials]"):
        assert secret not in stripped
    for kept in ('title = "t"', 'project = "p"', 'user = "me"', 'region = "eu"', "not secret"):
        assert kept in stripped
    assert "[golden_path]" in stripped
    model = {"a": 1, "Token": "x", "nested": [{"db_password": "y", "b": 2}], "keyFile": 3}
    assert strip_credentials(model) == {"a": 1, "nested": [{"b": 2}]}

    session, clock, _ = make_session()
    recorder = FlightRecorder(session, tmp_path / "r.incident", workspace_text=SECRET_TOML)
    recorder.start()
    step(session, clock, 1)
    recorder.close()
    raw = (tmp_path / "r.incident").read_bytes()
    for secret in (b"tok-123", b"key.json", b"hunter2", b"client_secret"):
        assert secret not in raw


def test_a_full_disk_stops_recording_and_keeps_what_was_committed(tmp_path: Path) -> None:
    errors: list[str] = []
    failed = threading.Event()

    def on_error(message: str) -> None:
        errors.append(message)
        failed.set()

    wide = {("frontend", f"series_{i}"): float(i) for i in range(200)}
    session, clock, _ = make_session(wide)
    path = tmp_path / "r.incident"
    recorder = FlightRecorder(
        session, path, max_bytes=256 * 1024, on_error=on_error, commit_interval_s=0.05
    )
    recorder.start()
    step(session, clock, 5)
    assert recorder.flush()
    committed = recorder.status
    assert committed.samples_committed == 5 * 200
    for _ in range(200):  # far more than fits in 256 kB
        step(session, clock, 1)
        if failed.is_set():
            break
    assert failed.wait(30)
    status = recorder.close()
    assert status.state == "failed"
    assert "database or disk is full" in status.error
    assert errors == [status.error]
    assert not recorder.flush()
    step(session, clock, 1)  # the session goes on; the recorder ignores it quietly
    with open_snapshot(path) as snapshot:
        assert not snapshot.closed_cleanly
        ts, _ = snapshot.series(("frontend", "series_0"))
        assert len(ts) >= 5
        np.testing.assert_array_equal(ts[:5], T0 + np.arange(1, 6))


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        timeout=30,
    )
    return result.returncode == 0


def test_a_really_full_filesystem_stops_recording(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    if not _mount_tmpfs(folder, "512k"):
        pytest.skip("cannot mount a small tmpfs here (needs root with CAP_SYS_ADMIN)")
    try:
        failed = threading.Event()
        wide = {("frontend", f"series_{i}"): float(i) for i in range(200)}
        session, clock, _ = make_session(wide)
        path = folder / "r.incident"
        recorder = FlightRecorder(
            session, path, on_error=lambda _: failed.set(), commit_interval_s=0.05
        )
        recorder.start()
        step(session, clock, 3)
        assert recorder.flush()
        for _ in range(2000):
            step(session, clock, 1)
            if failed.is_set():
                break
        assert failed.wait(30)
        status = recorder.close()
        assert status.state == "failed"
        assert "full" in status.error or "I/O" in status.error, status.error
        with open_snapshot(path) as snapshot:
            ts, _ = snapshot.series(("frontend", "series_0"))
            np.testing.assert_array_equal(ts[:3], T0 + np.arange(1, 4))
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True, timeout=30)


CRASHING_CHILD = r"""
import threading
import numpy as np
from console.autosave import start_autosave
from console.clock import SystemClock
from console.session import Session
from console.sources import Batch, SourceStatus
from tests.test_health import HEALTHY, make_workspace

class Ticker:
    name, interval_s, expected_delay_s = "ticker", 0.05, 0.0
    def poll(self, now):
        batch = Batch(self.name, status=SourceStatus(self.name, "ok"))
        for key, value in HEALTHY.items():
            batch.add(key, np.array([now]), np.array([value]))
        return batch
    def close(self):
        pass

session = Session(make_workspace(), SystemClock(), [Ticker()])
recorder = start_autosave(session)
print("path", recorder.path, flush=True)
pause = threading.Event()
while True:
    session.poll_sources()
    session.drain()
    print("drained", repr(session.store.latest(("frontend", "latency_p95_ms"))[0]), flush=True)
    pause.wait(0.05)
"""


def _committed_span(path: Path) -> float:
    """Seconds of samples committed in ``path``, read through a read-only connection."""
    if not path.exists():
        return 0.0
    uri = "file:" + urllib.parse.quote(str(path)) + "?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as reader:
            low, high = reader.execute("SELECT min(t), max(t) FROM samples").fetchone()
    except sqlite3.Error:
        return 0.0
    return 0.0 if low is None else high - low


def test_sigkill_loses_at_most_about_a_second(tmp_path: Path) -> None:
    with RecordingProcess(CRASHING_CHILD, tmp_path, timeout_s=60) as child:
        path = child.recording_path()
        last_drained = None
        while _committed_span(path) < 1.5:  # several commits are in the file
            last_drained = float(child.line().split()[1])
        child.kill()
    assert child.process.stdout is not None
    for line in child.process.stdout.read().splitlines():  # progress printed just before the kill
        if line.startswith("drained "):
            last_drained = float(line.split()[1])
    assert child.process.returncode == -signal.SIGKILL
    assert last_drained is not None

    with open_snapshot(path) as snapshot:
        assert not snapshot.closed_cleanly
        newest = max(snapshot.series(key)[0][-1] for key in snapshot.series_keys())
        assert newest <= last_drained + 1e-6
        assert last_drained - newest <= 2.0, f"lost {last_drained - newest:.2f} s"

    (unfinished,) = find_unfinished_recordings(tmp_path / "autosave")
    assert unfinished.path == path and unfinished.title == "test incident"
    recover_recording(path)
    assert not path.with_name(path.name + "-wal").exists()
    assert find_unfinished_recordings(tmp_path / "autosave") == []
    with open_snapshot(path) as snapshot:
        assert snapshot.meta["closed"] == "recovered"
        assert max(snapshot.series(key)[0][-1] for key in snapshot.series_keys()) == newest


def test_a_file_that_cannot_be_created_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("in the way")
    errors: list[str] = []
    session, clock, _ = make_session()
    recorder = FlightRecorder(session, tmp_path / "a-file" / "r.incident", on_error=errors.append)
    recorder.start()
    step(session, clock, 2)  # the session is not disturbed
    assert not recorder.flush()
    status = recorder.close()
    assert status.state == "failed" and status.error.startswith("recording stopped: ")
    assert errors == [status.error]
