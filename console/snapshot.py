"""Opening, saving, replaying and exporting ``.incident`` snapshots.

- ``open_snapshot(path)`` opens a file read-only (SQLite URI ``mode=ro``) and never modifies it:
  every bad input (no such file, permission denied, an empty file, a file that is not a snapshot,
  a truncated or corrupt one, one from a newer console) raises ``SnapshotError`` with one line.
  Most are recognised from the first 100 bytes before SQLite sees the file, so no ``-wal``,
  ``-shm`` or ``-journal`` file is ever created beside it. (A crashed live recording still has
  its ``-wal``; opening that reads it, which SQLite does through its ``-shm`` index.)
- ``Snapshot`` reads the workspace, series, logs and timeline; ``load_into`` fills a store and
  ``SnapshotReplaySource`` replays the recording as a ``Source`` up to the session clock, which
  is what the review window drives.
- ``save_snapshot`` writes a whole session, a recording or a time range of either to a new file,
  atomically: a temporary file in the same folder, fsync, ``os.replace``. A failed save leaves
  nothing under the final name (and an older file of that name untouched).
- ``export_csv`` / ``export_json`` turn a snapshot into plain files (UTC ISO 8601 timestamps).

``console.snapshot_format`` owns the schema and the per-version readers; this module picks the
reader by the file's version.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import secrets
import sqlite3
import stat
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from console import __version__
from console.clock import VirtualClock
from console.recorded_resources import resource_record
from console.recorder import FlightRecorder, workspace_toml_text
from console.session import Session
from console.snapshot_format import (
    APPLICATION_ID,
    CLOSED_CLEAN,
    HEADER_SIZE,
    READERS,
    REQUIRED_TABLES,
    SQLITE_MAGIC,
    ReaderV1,
    RecordedSourceStatus,
    ResourceState,
    SnapshotWriter,
    SqliteHeader,
    TimelineEntry,
    iter_sidecars,
    reader_for,
    unit_of,
    workspace_from_json,
    workspace_to_json,
)
from console.sources import Batch, LogEntry, SeriesKey, SourceStatus
from console.store import SeriesStore
from console.workspace import Workspace


class SnapshotError(Exception):
    """A snapshot file that cannot be opened: one line naming the file and what is wrong."""


# -- opening ---------------------------------------------------------------------------------------


def _read_only_uri(path: Path, *, immutable: bool) -> str:
    uri = "file:" + urllib.parse.quote(str(path.absolute())) + "?mode=ro"
    return uri + "&immutable=1" if immutable else uri


def open_snapshot(path: str | Path) -> Snapshot:
    """Open the snapshot at ``path`` read-only. Raises ``SnapshotError`` (one line) on bad input."""
    path = Path(path)

    def fail(reason: str) -> SnapshotError:
        return SnapshotError(f"{path}: {reason}")

    try:
        info = path.stat()
    except FileNotFoundError:
        raise fail("no such file") from None
    except PermissionError:
        raise fail("permission denied") from None
    except OSError as exc:
        raise fail(f"cannot read the file ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise fail("is a folder, not an incident snapshot")
    if info.st_size == 0:
        raise fail("empty file")
    try:
        with path.open("rb") as file:
            head = file.read(HEADER_SIZE)
    except PermissionError:
        raise fail("permission denied") from None
    except OSError as exc:
        raise fail(f"cannot read the file ({exc.strerror or exc})") from None

    if not head.startswith(SQLITE_MAGIC):
        if len(head) < len(SQLITE_MAGIC) and SQLITE_MAGIC.startswith(head):
            raise fail("truncated or corrupt")
        raise fail("not an incident snapshot")
    if len(head) < HEADER_SIZE:
        raise fail("truncated or corrupt")
    header = SqliteHeader.parse(head)
    if header.application_id != APPLICATION_ID:
        raise fail("not an incident snapshot (a SQLite database of another program)")
    version = header.user_version
    newest_readable = max(READERS)
    if version > newest_readable:
        raise fail(
            f"written by a newer console (format {version}); this console reads up to "
            f"{newest_readable}: upgrade"
        )
    if version not in READERS:
        raise fail(f"not an incident snapshot (unknown format version {version})")
    has_wal = path.with_name(path.name + "-wal").exists()
    page_size = header.page_size
    if page_size < 512 or info.st_size % page_size:
        raise fail("truncated or corrupt")
    if header.size_valid and not has_wal and info.st_size < header.page_count * page_size:
        raise fail("truncated or corrupt")

    # A WAL-mode file without its -wal holds everything in the main file: open it immutable so
    # SQLite creates no -wal/-shm. With a -wal (a live or crashed recording) read through it.
    uri = _read_only_uri(path, immutable=header.wal_mode and not has_wal)
    connection: sqlite3.Connection | None = None
    try:
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        sqlite_version = connection.execute("PRAGMA user_version").fetchone()[0]
        if application_id != APPLICATION_ID or sqlite_version != version:
            raise fail("truncated or corrupt (header and database disagree)")
        reader = reader_for(version, connection)
        missing = REQUIRED_TABLES[version] - reader.tables()
        if missing:
            raise fail(f"truncated or corrupt (missing table {sorted(missing)[0]})")
        meta = reader.meta()
        toml_text, model_json, file_name = reader.workspace_texts()
        snapshot = Snapshot(path, connection, reader, meta, toml_text, model_json, file_name)
    except SnapshotError:
        if connection is not None:
            connection.close()
        raise
    except sqlite3.DatabaseError as exc:
        if connection is not None:
            connection.close()
        if "unable to open" in str(exc):
            raise fail("permission denied") from None
        raise fail("truncated or corrupt") from None
    return snapshot


def _parse_stored_workspace(path: Path, toml_text: str, model_json: str) -> Workspace:
    from console.workspace_toml import WorkspaceError, parse_workspace

    try:
        return parse_workspace(toml_text)
    except WorkspaceError:
        pass
    try:
        return workspace_from_json(model_json)
    except ValueError:
        raise SnapshotError(f"{path}: the workspace stored in it is unreadable") from None


class Snapshot:
    """An open snapshot file (read-only). Close it, or use it as a context manager.

    Reads are serialised by a lock, so a replay source may poll from a worker thread while the
    GUI thread reads the timeline. A damaged region found while reading raises ``SnapshotError``.
    """

    def __init__(
        self,
        path: Path,
        connection: sqlite3.Connection,
        reader: ReaderV1,
        meta: dict[str, str],
        workspace_text: str,
        workspace_json: str,
        workspace_file_name: str = "",
    ) -> None:
        self.path = path
        self._connection = connection
        self._reader = reader
        self._lock = threading.Lock()
        self._closed = False
        self.meta = meta
        self.format_version: int = reader.version
        self.app_version: str = meta.get("app_version", "")
        #: The workspace TOML as recorded (credentials never stored).
        self.workspace_text = workspace_text
        self.workspace_json = workspace_json
        self.workspace_file_name = workspace_file_name
        self.workspace: Workspace = _parse_stored_workspace(path, workspace_text, workspace_json)
        self._time_range: tuple[float, float] | bool | None = False

    # lifecycle

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._closed = True
            self._connection.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[ReaderV1]:
        with self._lock:
            if self._closed:
                raise SnapshotError(f"{self.path}: the snapshot was closed")
            try:
                yield self._reader
            except sqlite3.DatabaseError as exc:
                raise SnapshotError(f"{self.path}: truncated or corrupt ({exc})") from None

    # facts

    @property
    def closed_cleanly(self) -> bool:
        """False for a recording whose writer crashed or is still writing."""
        return self.meta.get("closed") == CLOSED_CLEAN

    @property
    def time_range(self) -> tuple[float, float] | None:
        """Oldest and newest recorded time (epoch seconds), None when nothing was recorded."""
        if self._time_range is False:
            start, end = self.meta.get("time_start"), self.meta.get("time_end")
            if start is not None and end is not None:
                self._time_range = (float(start), float(end))
            else:
                with self._reading() as reader:
                    self._time_range = reader.sample_range()
        assert self._time_range is not False
        return self._time_range  # type: ignore[return-value]

    # content

    def series_keys(self) -> list[SeriesKey]:
        """Every recorded series, in the order first recorded."""
        with self._reading() as reader:
            return reader.series_keys()

    def unit(self, key: SeriesKey) -> str:
        """The unit recorded for ``key`` ("" when unknown)."""
        with self._reading() as reader:
            return reader.unit(key)

    def series(
        self, key: SeriesKey, t0: float | None = None, t1: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(timestamps, values)`` of ``key`` with ``t0 <= t <= t1`` (NaN marks a gap)."""
        with self._reading() as reader:
            return reader.series(key, t0, t1)

    def value_at(self, key: SeriesKey, t: float) -> tuple[float, float] | None:
        """The newest sample of ``key`` at or before ``t``, or None (one index seek)."""
        with self._reading() as reader:
            return reader.value_at(key, t)

    def data_span(
        self, key: SeriesKey, t0: float | None = None, t1: float | None = None
    ) -> tuple[float, float] | None:
        """The first and last sample time of ``key`` within ``[t0, t1]``, or None."""
        with self._reading() as reader:
            return reader.data_span(key, t0, t1)

    def first_times(self, key: SeriesKey, count: int) -> np.ndarray:
        """The times of the first ``count`` samples of ``key``."""
        with self._reading() as reader:
            return reader.first_times(key, count)

    def bucket_extremes(
        self,
        key: SeriesKey,
        origin: float,
        bucket_s: float,
        t0: float | None = None,
        t1: float | None = None,
    ) -> np.ndarray:
        """``(first t, last t, min v, max v)`` per ``bucket_s`` bucket from ``origin`` (see
        ``ReaderV1.bucket_extremes``): downsampled reads summarised inside SQLite."""
        with self._reading() as reader:
            return reader.bucket_extremes(key, origin, bucket_s, t0, t1)

    def log_times(self) -> np.ndarray:
        """The time of every log entry, ascending."""
        with self._reading() as reader:
            return reader.log_times()

    def logs(self, t0: float | None = None, t1: float | None = None) -> list[LogEntry]:
        """Log entries with ``t0 <= t <= t1``, in time order."""
        with self._reading() as reader:
            return reader.logs(t0, t1)

    def timeline(self, t0: float | None = None, t1: float | None = None) -> list[TimelineEntry]:
        """Timeline entries (status changes, actions, notes), in time order."""
        with self._reading() as reader:
            return reader.timeline(t0, t1)

    def source_statuses(
        self, t0: float | None = None, t1: float | None = None
    ) -> list[RecordedSourceStatus]:
        """Source status changes, in time order."""
        with self._reading() as reader:
            return reader.source_statuses(t0, t1)

    def resource_states(
        self, t0: float | None = None, t1: float | None = None
    ) -> list[ResourceState]:
        """Observed resource states, in time order."""
        with self._reading() as reader:
            return reader.resource_states(t0, t1)

    def load_into(
        self, store: SeriesStore, t0: float | None = None, t1: float | None = None
    ) -> int:
        """Append every series (in ``[t0, t1]``) to ``store``; returns how many samples it kept.
        The store's capacity bounds what stays: the newest samples win."""
        kept = 0
        for key in self.series_keys():
            ts, vs = self.series(key, t0, t1)
            if len(ts):
                kept += store.append(key, ts, vs)
        return kept

    def replay_source(self, name: str = "replay") -> SnapshotReplaySource:
        """A ``Source`` that replays this snapshot up to the session clock."""
        return SnapshotReplaySource(self, name)


class SnapshotReplaySource:
    """Replays a snapshot as a live source: ``poll(now)`` delivers what was recorded up to
    ``now`` and not delivered before.

    Drive it with a ``VirtualClock`` (the review cursor): advance the clock, poll, drain. Moving
    the cursor backward delivers nothing (a store only grows forward): build a new session for a
    backward seek.
    """

    interval_s = 0.25
    expected_delay_s = 0.0

    def __init__(self, snapshot: Snapshot, name: str = "replay") -> None:
        self.snapshot = snapshot
        self.name = name
        #: Everything at or before this time has been delivered (None: nothing yet).
        self.delivered_until: float | None = None
        self._keys = snapshot.series_keys()

    def poll(self, now: float) -> Batch:
        """Everything recorded in ``(delivered_until, now]``."""
        status = SourceStatus(self.name, "ok", f"replaying {self.snapshot.path.name}")
        batch = Batch(self.name, status=status)
        since = self.delivered_until
        if since is not None and now <= since:
            return batch
        for key in self._keys:
            ts, vs = self.snapshot.series(key, since, now)
            if since is not None and len(ts) and ts[0] <= since:
                keep = ts > since
                ts, vs = ts[keep], vs[keep]
            if len(ts):
                batch.add(key, ts, vs)
        batch.logs = [e for e in self.snapshot.logs(since, now) if since is None or e.t > since]
        self.delivered_until = now
        return batch

    def close(self) -> None:
        """Nothing to release: the snapshot belongs to whoever opened it."""


# -- atomic writes ---------------------------------------------------------------------------------


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        _fsync_path(folder)


def remove_with_sidecars(path: Path) -> None:
    """Remove ``path`` and any SQLite ``-wal``/``-shm``/``-journal`` beside it."""
    for candidate in (path, *iter_sidecars(path)):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def finish_atomically(temporary: Path, output: Path) -> None:
    """fsync ``temporary`` and move it onto ``output`` in one step, then fsync the folder."""
    _fsync_path(temporary)
    os.replace(temporary, output)
    _fsync_folder(output.parent)


def _create_temporary(output: Path) -> Path:
    """A new empty file beside ``output`` (mode 0666 less the umask, like any new file)."""
    while True:
        temporary = output.with_name(f".{output.name}.{secrets.token_hex(4)}.partial")
        try:
            fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return temporary


@contextlib.contextmanager
def atomic_output(output: Path) -> Iterator[Path]:
    """A temporary path in ``output``'s folder; moved onto ``output`` when the block succeeds,
    removed when it fails. Nothing half-written ever carries the final name."""
    output = Path(output)
    if not output.parent.is_dir():
        raise OSError(f"cannot write {output}: folder {output.parent} does not exist")
    temporary = _create_temporary(output)
    try:
        yield temporary
        finish_atomically(temporary, output)
    except BaseException:
        remove_with_sidecars(temporary)
        raise


# -- saving ----------------------------------------------------------------------------------------

SaveSource = Session | FlightRecorder | Snapshot | str | Path


def _in_range(t: float, t0: float | None, t1: float | None) -> bool:
    return (t0 is None or t >= t0) and (t1 is None or t <= t1)


def detach_session(session: Session) -> Session:
    """A copy of what ``session`` holds now (samples, logs, timeline, source states) that no
    source feeds and no drain touches: call this on the draining thread, then save the copy from
    any thread while the live session goes on. Costs one copy of the store (milliseconds)."""
    copy = Session(
        session.workspace,
        VirtualClock(session.clock.now()),
        capacity=session.store.capacity,
        log_capacity=session.logs.maxlen or len(session.logs) or 1,
        timeline_capacity=session.timeline.maxlen or len(session.timeline) or 1,
        read_only=True,
    )
    for key in list(session.store.series_keys()):
        ring = session.store.ring(key)
        if ring is not None and len(ring):
            ts, vs = ring.arrays()
            copy.store.append(key, ts.copy(), vs.copy())
    copy.logs.extend(session.logs)
    copy.timeline.extend(session.timeline)
    copy.source_statuses = dict(session.source_statuses)
    copy.resources = dict(session.resources)
    return copy


#: Called as ``progress(done, total)`` while saving; raising from it abandons the save.
SaveProgress = Callable[[int, int], None]


def _copy_snapshot(
    snapshot: Snapshot,
    writer: SnapshotWriter,
    t0: float | None,
    t1: float | None,
    progress: SaveProgress | None = None,
) -> None:
    writer.write_workspace(
        snapshot.workspace_text, snapshot.workspace_json, snapshot.workspace_file_name
    )
    keys = snapshot.series_keys()
    for done, key in enumerate(keys, start=1):
        ts, vs = snapshot.series(key, t0, t1)
        writer.append_samples(key, ts, vs, snapshot.unit(key))
        if progress is not None:
            progress(done, len(keys) + 1)
    writer.append_logs(snapshot.logs(t0, t1))
    writer.append_source_statuses(snapshot.source_statuses(t0, t1))
    states = snapshot.resource_states(t0, t1)
    if t0 is not None:  # the state each resource was in when the range begins, read before it
        carried = {r.service: r for r in snapshot.resource_states(None, t0) if r.t < t0}
        states = [*carried.values(), *states]
    writer.append_resource_states(states)
    writer.append_timeline(snapshot.timeline(t0, t1))


def _copy_session(
    session: Session,
    writer: SnapshotWriter,
    t0: float | None,
    t1: float | None,
    progress: SaveProgress | None = None,
) -> None:
    workspace = session.workspace
    file_name = workspace.path.name if workspace.path is not None else ""
    writer.write_workspace(workspace_toml_text(workspace), workspace_to_json(workspace), file_name)
    low = -math.inf if t0 is None else t0
    high = math.inf if t1 is None else t1
    keys = list(session.store.series_keys())
    for done, key in enumerate(keys, start=1):
        ts, vs = session.store.window(key, low, high)
        writer.append_samples(key, ts, vs, unit_of(workspace, key))
        if progress is not None:
            progress(done, len(keys) + 1)
    writer.append_logs([e for e in session.logs if _in_range(e.t, t0, t1)])
    writer.append_timeline([e for e in session.timeline if _in_range(e.t, t0, t1)])
    now = session.clock.now()
    writer.append_source_statuses(
        [RecordedSourceStatus(now, s) for s in session.source_statuses.values()]
    )
    # Only the newest state of each resource is in memory: kept when read before the range ends.
    states = [resource_record(s, now) for s in session.resources.values()]
    writer.append_resource_states([r for r in states if r.t <= high])


def save_snapshot(
    source: SaveSource,
    output: str | Path,
    t0: float | None = None,
    t1: float | None = None,
    *,
    app_version: str = __version__,
    progress: SaveProgress | None = None,
) -> Path:
    """Write ``source`` (a session, a flight recorder, an open snapshot or a snapshot's path),
    limited to ``[t0, t1]`` when given, to ``output`` in the current format, atomically.

    A recorder is flushed first and saved from its file (the whole history); a session is saved
    from memory (what its store still holds, its logs and timeline). ``progress(done, total)`` is
    called as series are copied; an exception raised from it abandons the save, leaving nothing
    under ``output``. Raises ``SnapshotError`` for an unreadable source and ``OSError`` (one line)
    when the output cannot be written.
    """
    output = Path(output)
    opened: Snapshot | None = None
    try:
        if isinstance(source, FlightRecorder):
            source.flush()
            opened = open_snapshot(source.path)
        elif isinstance(source, str | Path):
            opened = open_snapshot(source)
        snapshot = opened if opened is not None else source
        meta = {"app_version": app_version, "closed": CLOSED_CLEAN, "session_kind": "saved"}
        if isinstance(snapshot, Snapshot):
            meta["saved_from"] = snapshot.path.name
            meta["created_at"] = snapshot.meta.get("created_at", "")
            for key in ("title", "incident_started_at"):
                if key in snapshot.meta:
                    meta[key] = snapshot.meta[key]
        else:
            assert isinstance(snapshot, Session)
            meta["created_at"] = repr(snapshot.clock.now())
            meta["title"] = snapshot.workspace.incident.title
        try:
            with atomic_output(output) as temporary:
                connection = sqlite3.connect(temporary, isolation_level=None)
                try:
                    writer = SnapshotWriter(connection)
                    writer.create(meta)
                    writer.begin()
                    if isinstance(snapshot, Snapshot):
                        _copy_snapshot(snapshot, writer, t0, t1, progress)
                    else:
                        _copy_session(snapshot, writer, t0, t1, progress)
                    writer.commit()
                finally:
                    connection.close()
        except sqlite3.Error as exc:
            raise OSError(f"cannot write {output}: {exc}") from None
        except OSError as exc:
            if exc.filename is not None or exc.strerror:
                raise OSError(f"cannot write {output}: {exc.strerror or exc}") from None
            raise
    finally:
        if opened is not None:
            opened.close()
    return output


# -- export ----------------------------------------------------------------------------------------


def iso_utc(t: float) -> str:
    """``t`` (epoch seconds) as UTC ISO 8601 with milliseconds: ``2025-03-14T09:30:00.000Z``."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write_text_atomically(path: Path, text: str) -> None:
    with atomic_output(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def series_file_name(key: SeriesKey) -> str:
    """The CSV file name of a series: ``service.metric.csv``."""
    return f"{key[0]}.{key[1]}.csv"


def export_csv(
    snapshot: Snapshot, folder: str | Path, t0: float | None = None, t1: float | None = None
) -> list[Path]:
    """One CSV per series (``timestamp,value``; timestamps UTC ISO 8601, an empty value is a
    gap), plus ``logs.csv`` and ``timeline.csv``, into ``folder`` (created if missing). Each file
    is written atomically. Returns the files written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OSError(f"cannot export to {folder}: it is a file; CSV export writes a folder")
    if not folder.parent.is_dir():
        raise OSError(f"cannot export to {folder}: folder {folder.parent} does not exist")
    folder.mkdir(exist_ok=True)
    written = []
    for key in snapshot.series_keys():
        ts, vs = snapshot.series(key, t0, t1)
        rows = [
            (iso_utc(t), "" if math.isnan(v) else repr(v))
            for t, v in zip(ts.tolist(), vs.tolist(), strict=True)
        ]
        path = folder / series_file_name(key)
        _write_text_atomically(path, _csv_text(("timestamp", "value"), rows))
        written.append(path)
    logs = [
        (
            iso_utc(e.t),
            e.service,
            e.severity,
            "" if e.status is None else e.status,
            "" if e.latency_ms is None else repr(e.latency_ms),
            e.revision,
            e.message,
        )
        for e in snapshot.logs(t0, t1)
    ]
    header = ("timestamp", "service", "severity", "status", "latency_ms", "revision", "message")
    _write_text_atomically(folder / "logs.csv", _csv_text(header, logs))
    timeline = [
        (iso_utc(e.t), e.kind, e.text, json.dumps(e.fields, ensure_ascii=False, sort_keys=True))
        for e in snapshot.timeline(t0, t1)
    ]
    _write_text_atomically(
        folder / "timeline.csv", _csv_text(("timestamp", "kind", "text", "fields"), timeline)
    )
    return [*written, folder / "logs.csv", folder / "timeline.csv"]


def snapshot_as_json(
    snapshot: Snapshot, t0: float | None = None, t1: float | None = None
) -> dict[str, Any]:
    """The whole snapshot as one JSON-ready document (timestamps UTC ISO 8601, gaps null)."""
    time_range = snapshot.time_range
    series = []
    for key in snapshot.series_keys():
        ts, vs = snapshot.series(key, t0, t1)
        series.append(
            {
                "service": key[0],
                "metric": key[1],
                "unit": snapshot.unit(key),
                "timestamps": [iso_utc(t) for t in ts.tolist()],
                "values": [_number(v) for v in vs.tolist()],
            }
        )
    return {
        "format": "incident-console-export",
        "export_version": 1,
        "snapshot_format": snapshot.format_version,
        "app_version": snapshot.app_version,
        "title": snapshot.workspace.incident.title,
        "time_range": None
        if time_range is None
        else {"start": iso_utc(time_range[0]), "end": iso_utc(time_range[1])},
        "workspace": json.loads(snapshot.workspace_json),
        "series": series,
        "logs": [
            {
                "timestamp": iso_utc(e.t),
                "service": e.service,
                "severity": e.severity,
                "message": e.message,
                "status": e.status,
                "latency_ms": e.latency_ms,
                "revision": e.revision,
            }
            for e in snapshot.logs(t0, t1)
        ],
        "timeline": [
            {"timestamp": iso_utc(e.t), "kind": e.kind, "text": e.text, "fields": e.fields}
            for e in snapshot.timeline(t0, t1)
        ],
    }


def export_json(
    snapshot: Snapshot, output: str | Path, t0: float | None = None, t1: float | None = None
) -> Path:
    """Write ``snapshot_as_json`` to ``output`` atomically."""
    output = Path(output)
    text = json.dumps(snapshot_as_json(snapshot, t0, t1), ensure_ascii=False, indent=1) + "\n"
    _write_text_atomically(output, text)
    return output
