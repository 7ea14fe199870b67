"""Snapshots: every bad input refused with one line and the file left untouched; old format
versions still load; saves are atomic; replay and export give back what was recorded; the
autosave folder is found, recovered and pruned; ``record`` and ``export`` work headless.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from console import autosave
from console.clock import VirtualClock
from console.recorder import FlightRecorder
from console.session import Session
from console.snapshot import (
    Snapshot,
    SnapshotError,
    SnapshotReplaySource,
    export_csv,
    export_json,
    open_snapshot,
    save_snapshot,
)
from console.snapshot_commands import add_snapshot_commands, partial_path, run_recording
from console.snapshot_format import (
    FORMAT_VERSION,
    READERS,
    REQUIRED_TABLES,
    ReaderV1,
    SnapshotWriter,
)
from console.store import SeriesStore
from tests.damaged_snapshots import DAMAGED_SNAPSHOTS
from tests.test_health import HEALTHY, INCIDENT, make_workspace
from tests.test_recorder import T0, make_session, step

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """A small cleanly closed recording: 40 s healthy, then 40 s of incident with logs."""
    session, clock, source = make_session()
    path = tmp_path / "recording.incident"
    recorder = FlightRecorder(session, path)
    recorder.start()
    step(session, clock, 40)
    source.values = dict(INCIDENT)
    source.log = "upstream connect timeout"
    step(session, clock, 40)
    recorder.record_timeline_entry("note", T0 + 50, "paged networking")
    assert recorder.close().state == "closed"
    return path


def fingerprint(path: Path) -> tuple[bytes, int, list[str]]:
    """Bytes, mtime and the names beside ``path``: all must survive opening."""
    info = path.stat()
    data = path.read_bytes() if path.is_file() else b""
    return data, info.st_mtime_ns, sorted(p.name for p in path.parent.iterdir())


# -- bad input -------------------------------------------------------------------------------------


BAD_FILES = DAMAGED_SNAPSHOTS


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_with_one_line_and_left_untouched(
    case: str, tmp_path: Path, recording: Path
) -> None:
    make, message = BAD_FILES[case]
    folder = tmp_path / "bad"
    folder.mkdir()
    path = folder / "bad.incident"
    make(path, recording)
    before = fingerprint(path)
    with pytest.raises(SnapshotError) as caught:
        open_snapshot(path)
    text = str(caught.value)
    assert text == f"{path}: {message}" or text.startswith(f"{path}: {message} (")
    assert "\n" not in text
    assert fingerprint(path) == before  # same bytes, same mtime, no -wal/-shm/-journal


def test_missing_paths_and_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r": no such file$"):
        open_snapshot(tmp_path / "nope.incident")
    with pytest.raises(SnapshotError, match=r": no such file$"):
        open_snapshot(tmp_path / "no-folder" / "x.incident")
    with pytest.raises(SnapshotError, match=r"is a folder, not an incident snapshot$"):
        open_snapshot(tmp_path)
    assert list(tmp_path.iterdir()) == []


PERMISSION_PROBE = """
import sys
from console.snapshot import SnapshotError, open_snapshot
try:
    open_snapshot(sys.argv[1])
except SnapshotError as exc:
    print(exc)
"""


def test_an_unreadable_file_is_refused(world_readable_folder: Path, recording: Path) -> None:
    path = world_readable_folder / "locked.incident"
    shutil.copyfile(recording, path)
    path.chmod(0o000)
    before = fingerprint(path)
    if os.geteuid() != 0:
        with pytest.raises(SnapshotError, match=r": permission denied$"):
            open_snapshot(path)
    else:
        # Root reads anything: drop the capabilities that let it, as a real user would lack them.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        result = subprocess.run(
            [
                setpriv,
                "--bounding-set=-dac_override,-dac_read_search",
                sys.executable,
                "-c",
                PERMISSION_PROBE,
                str(path),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"{path}: permission denied"
    path.chmod(0o644)
    assert fingerprint(path)[0] == before[0]
    assert sorted(p.name for p in world_readable_folder.iterdir()) == ["locked.incident"]


def test_opening_and_reading_a_good_file_modifies_nothing(recording: Path) -> None:
    before = fingerprint(recording)
    with open_snapshot(recording) as snapshot:
        for key in snapshot.series_keys():
            snapshot.series(key)
        snapshot.logs()
        snapshot.timeline()
        snapshot.source_statuses()
        assert snapshot.workspace == make_workspace()
    assert fingerprint(recording) == before


# -- format versions -------------------------------------------------------------------------------


def test_every_readable_version_has_a_fixture() -> None:
    assert FORMAT_VERSION in READERS and max(READERS) == FORMAT_VERSION
    for version in READERS:
        fixture = FIXTURES / f"snapshot-v{version}.incident"
        assert fixture.is_file(), f"keep a fixture of format {version}: {fixture}"
        assert fixture.stat().st_size < 200_000


def test_v1_fixture_loads() -> None:
    path = FIXTURES / "snapshot-v1.incident"
    before = fingerprint(path)
    with open_snapshot(path) as snapshot:
        assert snapshot.format_version == 1
        assert snapshot.app_version == "0.1.0"
        assert snapshot.closed_cleanly
        assert snapshot.time_range == (1_700_000_000.0, 1_700_000_059.0)
        workspace = snapshot.workspace
        assert workspace.incident.title == "Fixture: connector saturation"
        assert list(workspace.services) == ["frontend", "auth", "connector"]
        assert workspace.thresholds["saturation"].failing == 0.95
        assert snapshot.series_keys() == [
            ("frontend", "latency_p95_ms"),
            ("auth", "latency_p95_ms"),
            ("connector", "saturation"),
        ]
        i = np.arange(60.0)
        ts, vs = snapshot.series(("auth", "latency_p95_ms"))
        np.testing.assert_array_equal(ts, 1_700_000_000.0 + i)
        expected = 200.0 + 10.0 * i
        expected[30] = math.nan
        np.testing.assert_array_equal(vs, expected)
        ts, vs = snapshot.series(("connector", "saturation"), 1_700_000_010, 1_700_000_012)
        np.testing.assert_array_equal(vs, [0.6, 0.61, 0.62])
        assert snapshot.unit(("connector", "saturation")) == "fraction"
        logs = snapshot.logs()
        assert [(e.t - 1_700_000_000, e.status, e.latency_ms) for e in logs] == [
            (20, 503, 12000.0),
            (40, 504, None),
            (50, None, 2500.0),
        ]
        timeline = snapshot.timeline()
        assert [e.kind for e in timeline] == ["recording", "status_change", "action", "note"]
        assert timeline[2].fields["command"] == "ScaleConnector"
        assert [s.status.state for s in snapshot.source_statuses()] == ["starting", "ok"]
        assert snapshot.resource_states()[0].state == {"min": 2, "max": 3}
    assert fingerprint(path) == before


def test_a_second_version_registers_beside_the_first(
    tmp_path: Path, recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shape of adding format 2: a reader subclass in READERS; version 1 keeps loading."""

    class ReaderV2(ReaderV1):
        version = 2

        def timeline(self, t0: float | None = None, t1: float | None = None) -> list:
            return [e for e in super().timeline(t0, t1) if e.kind != "recording"]

    monkeypatch.setitem(READERS, 2, ReaderV2)
    monkeypatch.setitem(REQUIRED_TABLES, 2, REQUIRED_TABLES[1])
    v2 = tmp_path / "v2.incident"
    shutil.copyfile(recording, v2)
    connection = sqlite3.connect(v2)
    connection.execute("PRAGMA user_version = 2")
    connection.close()
    with open_snapshot(v2) as snapshot:
        assert snapshot.format_version == 2
        assert all(e.kind != "recording" for e in snapshot.timeline())
    with open_snapshot(FIXTURES / "snapshot-v1.incident") as snapshot:
        assert snapshot.format_version == 1 and snapshot.timeline()[0].kind == "recording"
    connection = sqlite3.connect(v2)
    connection.execute("PRAGMA user_version = 3")
    connection.close()
    with pytest.raises(SnapshotError, match=r"format 3\); this console reads up to 2: upgrade"):
        open_snapshot(v2)


def test_the_model_json_stands_in_when_the_toml_no_longer_validates(
    tmp_path: Path, recording: Path
) -> None:
    path = tmp_path / "old.incident"
    shutil.copyfile(recording, path)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE workspace SET toml = '[incident]\nfuture_key = 1\n'")
    connection.commit()
    connection.close()
    with open_snapshot(path) as snapshot:
        assert snapshot.workspace == make_workspace()


# -- saving ----------------------------------------------------------------------------------------


def series_of(path: Path) -> dict:
    with open_snapshot(path) as snapshot:
        return {key: snapshot.series(key) for key in snapshot.series_keys()}


def test_save_a_time_range_of_a_recording(tmp_path: Path, recording: Path) -> None:
    output = tmp_path / "range.incident"
    save_snapshot(recording, output, T0 + 30, T0 + 50)
    with open_snapshot(output) as saved, open_snapshot(recording) as original:
        assert saved.closed_cleanly and saved.meta["session_kind"] == "saved"
        assert saved.time_range == (T0 + 30, T0 + 50)
        for key in original.series_keys():
            np.testing.assert_array_equal(saved.series(key)[0], T0 + np.arange(30, 51))
            np.testing.assert_array_equal(
                saved.series(key)[1], original.series(key, T0 + 30, T0 + 50)[1]
            )
        assert [e.t for e in saved.logs()] == [T0 + t for t in range(41, 51)]
        assert saved.timeline() == original.timeline(T0 + 30, T0 + 50)
        assert "paged networking" in [e.text for e in saved.timeline()]
        assert saved.workspace == original.workspace
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_save_a_live_session_and_a_live_recorder(tmp_path: Path) -> None:
    session, clock, _ = make_session()
    recorder = FlightRecorder(session, tmp_path / "live.incident")
    recorder.start()
    step(session, clock, 20)
    save_snapshot(session, tmp_path / "from-session.incident")
    save_snapshot(recorder, tmp_path / "from-recorder.incident")
    recorder.close()
    for name in ("from-session.incident", "from-recorder.incident"):
        saved = series_of(tmp_path / name)
        assert set(saved) == set(HEALTHY)
        for key, (ts, vs) in saved.items():
            np.testing.assert_array_equal(ts, session.store.ring(key).arrays()[0])
            np.testing.assert_array_equal(vs, session.store.ring(key).arrays()[1])
    with open_snapshot(tmp_path / "from-recorder.incident") as saved:
        assert saved.timeline()[0].text == "recording started"


@pytest.mark.parametrize("failure", ["while writing", "at fsync"])
def test_a_failed_save_leaves_nothing_under_the_final_name(
    failure: str, tmp_path: Path, recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    def fsync_fails(fd: int) -> None:
        raise OSError(28, "No space left on device")

    if failure == "while writing":
        monkeypatch.setattr(SnapshotWriter, "append_timeline", disk_full)
    else:
        monkeypatch.setattr("console.snapshot.os.fsync", fsync_fails)
    folder = tmp_path / "out"
    folder.mkdir()
    new = folder / "new.incident"
    with pytest.raises(OSError, match=r"^cannot write .*new\.incident: "):
        save_snapshot(recording, new)
    assert not new.exists()
    existing = folder / "existing.incident"
    existing.write_bytes(b"the previous save")
    with pytest.raises(OSError):
        save_snapshot(recording, existing)
    assert existing.read_bytes() == b"the previous save"
    assert sorted(p.name for p in folder.iterdir()) == ["existing.incident"]


def test_saving_into_a_missing_folder_says_so(tmp_path: Path, recording: Path) -> None:
    with pytest.raises(OSError, match="does not exist"):
        save_snapshot(recording, tmp_path / "missing" / "x.incident")
    with pytest.raises(SnapshotError, match="no such file"):
        save_snapshot(tmp_path / "missing.incident", tmp_path / "x.incident")


# -- replay ----------------------------------------------------------------------------------------


def test_replay_delivers_the_recording_up_to_the_cursor(recording: Path) -> None:
    with open_snapshot(recording) as snapshot:
        start, end = snapshot.time_range
        clock = VirtualClock(start + 9.5)
        session = Session(snapshot.workspace, clock, [snapshot.replay_source()])
        session.poll_sources()
        session.drain()
        key = ("auth", "latency_p95_ms")
        np.testing.assert_array_equal(session.store.ring(key).arrays()[0], T0 + np.arange(1, 11))
        assert session.health.first_broken is None
        clock.set(end)
        session.poll_sources()
        session.drain()
        for key in snapshot.series_keys():
            np.testing.assert_array_equal(
                session.store.ring(key).arrays()[0], snapshot.series(key)[0]
            )
        assert session.health.first_broken == "auth"
        assert list(session.logs) == snapshot.logs()
        assert session.source_statuses["replay"].state == "ok"
        clock.advance(10)
        session.poll_sources()
        assert session.drain().changed_keys == set()


def test_load_into_a_store(recording: Path) -> None:
    store = SeriesStore(capacity=50)
    with open_snapshot(recording) as snapshot:
        kept = snapshot.load_into(store)
        assert kept == 50 * len(snapshot.series_keys())
        ts, _ = store.ring(("auth", "error_ratio")).arrays()
        np.testing.assert_array_equal(ts, T0 + np.arange(31, 81))  # the newest samples win
        assert isinstance(snapshot.replay_source(), SnapshotReplaySource)


# -- export ----------------------------------------------------------------------------------------


def parse_iso_utc(text: str) -> float:
    assert text.endswith("Z")
    return datetime.fromisoformat(text).timestamp()


def test_export_csv_one_file_per_series_in_utc(tmp_path: Path, recording: Path) -> None:
    with open_snapshot(recording) as snapshot:
        files = export_csv(snapshot, tmp_path / "csv")
        keys = snapshot.series_keys()
        names = sorted(p.name for p in (tmp_path / "csv").iterdir())
        assert names == sorted([f"{s}.{m}.csv" for s, m in keys] + ["logs.csv", "timeline.csv"])
        assert len(files) == len(names)
        for key in keys:
            with (tmp_path / "csv" / f"{key[0]}.{key[1]}.csv").open() as file:
                rows = list(csv.reader(file))
            assert rows[0] == ["timestamp", "value"]
            ts, vs = snapshot.series(key)
            assert [parse_iso_utc(r[0]) for r in rows[1:]] == ts.tolist()
            assert [float(r[1]) for r in rows[1:]] == vs.tolist()
        with (tmp_path / "csv" / "logs.csv").open() as file:
            logs = list(csv.DictReader(file))
        assert len(logs) == 40 and logs[0]["message"] == "upstream connect timeout"
        assert logs[0]["timestamp"] == "2023-11-14T22:14:01.000Z"  # T0 + 41 s


def test_export_csv_writes_gaps_as_empty_values(tmp_path: Path) -> None:
    with open_snapshot(FIXTURES / "snapshot-v1.incident") as snapshot:
        export_csv(snapshot, tmp_path)
    rows = list(csv.reader((tmp_path / "auth.latency_p95_ms.csv").open()))
    assert rows[31] == ["2023-11-14T22:13:50.000Z", ""]


def test_export_json_is_one_document(tmp_path: Path, recording: Path) -> None:
    output = tmp_path / "x.json"
    with open_snapshot(recording) as snapshot:
        export_json(snapshot, output)
        document = json.loads(output.read_text())
        assert document["format"] == "incident-console-export"
        assert document["snapshot_format"] == FORMAT_VERSION
        assert document["title"] == "test incident"
        assert parse_iso_utc(document["time_range"]["start"]) == T0 + 1
        by_key = {(s["service"], s["metric"]): s for s in document["series"]}
        assert set(by_key) == set(snapshot.series_keys())
        auth = by_key[("auth", "latency_p95_ms")]
        assert auth["unit"] == "ms"
        ts, vs = snapshot.series(("auth", "latency_p95_ms"))
        assert [parse_iso_utc(t) for t in auth["timestamps"]] == ts.tolist()
        assert auth["values"] == vs.tolist()
        assert len(document["logs"]) == 40
        assert document["workspace"]["incident"]["title"] == "test incident"
    with open_snapshot(FIXTURES / "snapshot-v1.incident") as snapshot:
        export_json(snapshot, output)
    document = json.loads(output.read_text())
    assert document["series"][1]["values"][30] is None


# -- commands --------------------------------------------------------------------------------------


def parse(*argv: str) -> tuple[argparse.Namespace, dict]:
    parser = argparse.ArgumentParser(prog="incident-console")
    handlers = add_snapshot_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv), handlers


def run(*argv: str) -> int:
    args, handlers = parse(*argv)
    return handlers[args.command](args)


def test_export_command(tmp_path: Path, recording: Path, capsys: pytest.CaptureFixture) -> None:
    assert run("export", str(recording), "--format", "csv", "--output", str(tmp_path / "c")) == 0
    assert (tmp_path / "c" / "auth.latency_p95_ms.csv").is_file()
    assert run("export", str(recording), "--format", "json", "--output", str(tmp_path / "j")) == 0
    assert json.loads((tmp_path / "j").read_text())["title"] == "test incident"
    capsys.readouterr()
    assert run("export", str(recording), "--format", "json", "--output", "-") == 0
    assert json.loads(capsys.readouterr().out)["title"] == "test incident"
    with pytest.raises(SnapshotError, match="no such file"):
        run("export", str(tmp_path / "nope.incident"), "--format", "json", "--output", "x.json")
    with pytest.raises(SnapshotError, match="does not exist"):
        run("export", str(recording), "--format", "json", "--output", str(tmp_path / "n" / "x"))


def test_record_command_runs_the_demo_fast(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "demo.incident"
    assert run("record", "--demo", "--for", "2m", "--fast", "--output", str(output)) == 0
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.incident"]
    with open_snapshot(output) as snapshot:
        assert snapshot.closed_cleanly and snapshot.meta["session_kind"] == "demo"
        start, end = snapshot.time_range
        created = float(snapshot.meta["created_at"])
        assert end == pytest.approx(created + 120, abs=1.0)
        assert start < created - 600  # the simulation's history is in the recording
        assert len(snapshot.series_keys()) > 20
    with pytest.raises(SnapshotError, match="does not exist"):
        run("record", "--demo", "--for", "1m", "--fast", "--output", str(tmp_path / "n" / "x"))


def test_record_paces_a_scripted_session(tmp_path: Path) -> None:
    session, _, _ = make_session()
    output = tmp_path / "paced.incident"
    result = run_recording(session, output, 3.0, speed=1000.0)
    assert result.recorded_s == 3.0 and result.status.state == "closed"
    assert session.clock.now() == T0 + 3
    assert not partial_path(output).exists()
    # A poll at the start, then one step (this source gives one sample per poll).
    assert series_of(output)[("auth", "error_ratio")][0].tolist() == [T0, T0 + 3]


def test_a_failed_record_keeps_the_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_recorder(session: Session, path: Path) -> FlightRecorder:
        return FlightRecorder(session, path, max_bytes=64 * 1024, commit_interval_s=0.05)

    monkeypatch.setattr("console.snapshot_commands.FlightRecorder", failing_recorder)
    wide = {("frontend", f"series_{i}"): float(i) for i in range(300)}
    session, _, _ = make_session(wide)
    output = tmp_path / "full.incident"
    with pytest.raises(OSError, match="database or disk is full; what was committed is kept in"):
        run_recording(session, output, 3600.0, speed=0)
    assert not output.exists()
    assert partial_path(output).exists()


# -- autosave --------------------------------------------------------------------------------------


def test_autosave_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INCIDENT_CONSOLE_DATA_DIR", str(tmp_path / "data"))
    assert autosave.autosave_dir() == tmp_path / "data" / "autosave"
    monkeypatch.delenv("INCIDENT_CONSOLE_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert autosave.autosave_dir() == tmp_path / "xdg" / "incident-console" / "autosave"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "share" / "incident-console" / "autosave"
    assert autosave.autosave_dir() == expected
    path = autosave.new_autosave_path(now=T0, folder=tmp_path / "auto")
    assert path.parent.is_dir() and path.name.startswith("recording-20231114T221320Z-")
    assert path.suffix == ".incident"


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    return child.pid


def test_unfinished_recordings_are_found_unless_their_writer_lives(tmp_path: Path) -> None:
    session, clock, _ = make_session()
    live = autosave.start_autosave(session, folder=tmp_path)
    step(session, clock, 3)
    assert live.flush()
    assert autosave.find_unfinished_recordings(tmp_path) == []  # written by this process

    crashed = tmp_path / "recording-crashed.incident"
    save_snapshot(live, crashed)
    connection = sqlite3.connect(crashed)
    connection.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [("closed", "open"), ("writer_pid", str(dead_pid()))],
    )
    connection.commit()
    connection.close()
    live.close()
    (found,) = autosave.find_unfinished_recordings(tmp_path)
    assert found.path == crashed and found.title == "test incident"
    assert found.time_range == (T0 + 1, T0 + 3)
    autosave.discard_recording(crashed)
    assert autosave.find_unfinished_recordings(tmp_path) == []


def make_recording_file(path: Path, size: int, age_s: float, now: float) -> None:
    path.write_bytes(b"\0" * size)
    os.utime(path, (now - age_s, now - age_s))


def test_prune_by_age_and_total_size(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    day = 86400.0
    for name, size, age in [
        ("a-ancient", 10, 30 * day),
        ("b-old", 400, 5 * day),
        ("c-older", 400, 6 * day),
        ("d-new", 400, 1 * day),
        ("e-newest", 400, 0.1 * day),
    ]:
        make_recording_file(tmp_path / f"{name}.incident", size, age, now)
    (tmp_path / "b-old.incident-wal").write_bytes(b"\0" * 100)
    os.utime(tmp_path / "b-old.incident-wal", (now - 5 * day, now - 5 * day))
    (tmp_path / "notes.txt").write_text("not a recording")
    removed = autosave.prune_autosaves(
        tmp_path,
        max_age_s=14 * day,
        max_total_bytes=1000,
        now=now,
        keep=[tmp_path / "c-older.incident"],
    )
    assert sorted(p.name for p in removed) == [
        "a-ancient.incident",
        "b-old.incident",
        "d-new.incident",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "c-older.incident",
        "e-newest.incident",
        "notes.txt",
    ]
    assert autosave.prune_autosaves(tmp_path, max_total_bytes=10**9, now=now) == []


def test_prune_never_removes_a_recording_being_written(tmp_path: Path) -> None:
    session, clock, _ = make_session()
    live = autosave.start_autosave(session, folder=tmp_path)
    step(session, clock, 2)
    assert live.flush()
    assert autosave.prune_autosaves(tmp_path, max_age_s=0, max_total_bytes=0, now=4e9) == []
    live.close()
    assert autosave.prune_autosaves(tmp_path, max_age_s=0, max_total_bytes=0, now=4e9) == [
        live.path
    ]
    assert list(tmp_path.iterdir()) == []


def test_snapshot_is_a_context_manager(recording: Path) -> None:
    with open_snapshot(recording) as snapshot:
        assert isinstance(snapshot, Snapshot)
    with pytest.raises(SnapshotError, match="the snapshot was closed"):
        snapshot.series_keys()


def test_the_command_line_refuses_bad_snapshots_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from console.cli import build_parser

    try:
        build_parser().parse_args(["export", "x", "--format", "json", "--output", "y"])
    except SystemExit:
        capsys.readouterr()
        pytest.skip("console.cli does not wire the export command yet")
    for name, content in [("empty.incident", b""), ("random.incident", b"x" * 5000)]:
        (tmp_path / name).write_bytes(content)
    output = tmp_path / "out.json"
    for name in ("empty.incident", "random.incident", "missing.incident"):
        command = [sys.executable, "-m", "console", "export", str(tmp_path / name)]
        command += ["--format", "json", "--output", str(output)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not output.exists()
