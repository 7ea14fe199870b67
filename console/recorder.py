"""The flight recorder: a live session written continuously into an ``.incident`` file.

``FlightRecorder`` subscribes to a ``Session``. On each update (on the draining thread, the GUI's
in the window) it only *gathers*: copies of the samples each changed series received since the
last recorded timestamp, the new log entries, source status changes, cloud resource states that
changed (``console.recorded_resources``) and, by comparing health before and after, a timeline
entry whenever a service's status or the golden path's first broken step changes. It hands that
to a writer thread through a queue. The writer thread alone touches the file: SQLite in WAL
mode, one transaction committed at least every ``commit_interval_s`` (default one second) and on
``flush``/``close``. A crash or ``kill -9`` therefore loses at most about a second, and the file
is a readable snapshot at every moment.

Write errors (a full disk: ``database or disk is full``) are reported as data: ``status`` turns
``failed`` with the message, ``on_error`` is called (on the writer thread: a frontend marshals it
to its own thread), recording stops, and everything committed before stays in the file.

A clean ``close`` marks the file closed, checkpoints the WAL and switches the file back to a
rollback journal, so the finished recording is one self-contained file. A recording not marked
closed is what ``console.autosave`` offers to recover after a crash.

The writer thread sleeps until data arrives, lets one commit interval's worth gather (a flush or
close request cuts that short), then writes it all with one statement per table and commits: one
wake-up per interval however often the session drains, so it competes little with the GUI thread.

Time: sample and timeline times come from the session's clock; the commit cadence is real time
(a timed wait), because the loss bound after a crash is a real-time promise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import socket
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from console import __version__
from console.recorded_resources import resource_record
from console.resource_state import ResourceState as CloudResourceState
from console.session import Session, SessionUpdate
from console.snapshot_format import (
    CLOSED_CLEAN,
    CLOSED_OPEN,
    RecordedSourceStatus,
    ResourceState,
    SnapshotWriter,
    TimelineEntry,
    render_workspace_toml,
    unit_of,
    workspace_to_json,
)
from console.sources import LogEntry, SeriesKey, SourceStatus
from console.workspace import Workspace

#: The longest a received sample waits in memory before it is committed to the file.
DEFAULT_COMMIT_INTERVAL_S = 1.0

RecorderState = Literal["starting", "recording", "failed", "closed"]


@dataclass(frozen=True)
class RecorderStatus:
    """What the recorder says about itself, for a status bar or the ``record`` command."""

    state: RecorderState
    path: Path
    #: One line saying why recording stopped (``failed``), else "".
    error: str = ""
    #: Samples committed to the file so far.
    samples_committed: int = 0
    #: Time (session clock) of the newest committed sample, None before the first commit.
    newest_committed_t: float | None = None
    #: How many commits so far.
    commits: int = 0


@dataclass
class _Chunk:
    """Everything gathered from one session update (or the initial store contents)."""

    samples: dict[SeriesKey, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    logs: list[LogEntry] = field(default_factory=list)
    statuses: list[RecordedSourceStatus] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    resource_states: list[ResourceState] = field(default_factory=list)


@dataclass
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Close:
    done: threading.Event = field(default_factory=threading.Event)
    timeline: list[TimelineEntry] = field(default_factory=list)


def workspace_toml_text(workspace: Workspace) -> str:
    """The workspace's TOML: its file's text when that still describes this workspace, else a
    rendering of the model. Reads a file: call it off the GUI thread."""
    if workspace.path is not None:
        try:
            text = workspace.path.read_text(encoding="utf-8-sig")
            from console.workspace_toml import WorkspaceError, parse_workspace

            parsed = parse_workspace(text, workspace.path)
            if dataclasses.replace(parsed, path=None) == dataclasses.replace(workspace, path=None):
                return text
        except (OSError, UnicodeDecodeError, ImportError, WorkspaceError):
            pass
    return render_workspace_toml(workspace)


class FlightRecorder:
    """Records a session into ``path`` until ``close``.

    ``start()`` captures what the store already holds, subscribes to the session and starts the
    writer thread; it does no file I/O on the calling thread. ``record_timeline_entry`` and
    ``record_resource_state`` may be called from any thread. A file already at ``path`` is
    replaced (autosave paths are always new; ``record`` writes to its own ``.partial``).
    """

    def __init__(
        self,
        session: Session,
        path: str | Path,
        *,
        workspace_text: str | None = None,
        commit_interval_s: float = DEFAULT_COMMIT_INTERVAL_S,
        max_bytes: int | None = None,
        on_error: Callable[[str], None] | None = None,
        on_commit: Callable[[RecorderStatus], None] | None = None,
        app_version: str = __version__,
    ) -> None:
        self.session = session
        self.path = Path(path)
        self.commit_interval_s = commit_interval_s
        #: Stop with "database or disk is full" when the file would grow beyond this (None: the
        #: disk is the limit).
        self.max_bytes = max_bytes
        self.on_error = on_error
        #: Called after every commit with the new status (on the writer thread).
        self.on_commit = on_commit
        self.app_version = app_version
        self._workspace_text = workspace_text
        self._queue: queue.SimpleQueue[_Chunk | _Flush | _Close] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        #: Set by flush/close so the writer does not wait out the commit interval.
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._status = RecorderStatus("starting", self.path)
        self._accepting = False
        self._close_requested = False
        self._newest_written: float | None = None
        self._units: dict[SeriesKey, str] = {}
        self._started_at = 0.0
        self._incident_started_at: float | None = None
        self._last_t: dict[SeriesKey, float] = {}
        self._last_source_status: dict[str, SourceStatus] = {}
        self._last_resources: dict[str, CloudResourceState] = {}

    # -- lifecycle (caller's thread) -----------------------------------------------------------

    def start(self) -> None:
        """Begin recording: capture the store's contents, subscribe, start the writer thread."""
        if self._thread is not None:
            raise RuntimeError("the recorder is already started")
        session = self.session
        now = self._started_at = session.clock.now()
        # A source that knows when the incident began (the demo simulation) tells the review.
        self._incident_started_at = next(
            (
                float(started)
                for source in session.sources
                if (started := getattr(source, "incident_started_at", None)) is not None
            ),
            None,
        )
        initial = _Chunk()
        for key in list(session.store.series_keys()):
            ring = session.store.ring(key)
            if ring is None or not len(ring):
                continue
            ts, vs = ring.arrays()
            initial.samples[key] = (ts.copy(), vs.copy())
            self._last_t[key] = float(ts[-1])
        initial.logs = list(session.logs)
        for name, status in session.source_statuses.items():
            initial.statuses.append(RecordedSourceStatus(now, status))
            self._last_source_status[name] = status
        for service_id, state in session.resources.items():
            initial.resource_states.append(resource_record(state, now))
            self._last_resources[service_id] = state
        health = session.health
        initial.timeline.extend(session.timeline)
        initial.timeline.append(
            TimelineEntry(
                now,
                "recording",
                "recording started",
                {
                    "statuses": {sid: h.status for sid, h in health.services.items()},
                    "first_broken": health.first_broken,
                },
            )
        )
        self._accepting = True
        self._queue.put(initial)
        self._thread = threading.Thread(target=self._run, name="flight-recorder", daemon=True)
        self._thread.start()
        session.subscribe(self._on_update)

    def flush(self, timeout: float = 30.0) -> bool:
        """Commit everything gathered so far; True once committed (False on failure/timeout).

        Blocks the caller until the writer thread has committed: for tests, saving and shutdown,
        not for the GUI thread.
        """
        if self._thread is None or not self._thread.is_alive():
            return False
        request = _Flush()
        self._queue.put(request)
        self._wake.set()
        return request.done.wait(timeout) and self.status.state == "recording"

    def close(self, timeout: float = 60.0) -> RecorderStatus:
        """Stop recording: final commit, mark the file cleanly closed, end the writer thread."""
        thread = self._thread
        if thread is None:
            with self._lock:
                self._status = dataclasses.replace(self._status, state="closed")
            return self.status
        if not self._close_requested:
            self._close_requested = True
            self._accepting = False
            now = self.session.clock.now()
            request = _Close(timeline=[TimelineEntry(now, "recording", "recording stopped")])
            self._queue.put(request)
            self._wake.set()
            request.done.wait(timeout)
        thread.join(timeout)
        return self.status

    @property
    def status(self) -> RecorderStatus:
        """The current state, error and progress (safe from any thread)."""
        with self._lock:
            return self._status

    @property
    def error(self) -> str:
        """Why recording stopped, or "" while it works."""
        return self.status.error

    # -- what the session and the app hand in ----------------------------------------------------

    def record_timeline_entry(
        self, kind: str, t: float, text: str, fields: dict[str, Any] | None = None
    ) -> None:
        """Add a timeline entry (an action with its audit fields, a note, a status change)."""
        if self._accepting:
            self._queue.put(_Chunk(timeline=[TimelineEntry(t, kind, text, dict(fields or {}))]))

    def record_resource_state(
        self, t: float, service: str, resource: str, state: dict[str, Any]
    ) -> None:
        """Add an observed resource state (e.g. a connector's instance limits)."""
        if self._accepting:
            self._queue.put(
                _Chunk(resource_states=[ResourceState(t, service, resource, dict(state))])
            )

    def _on_update(self, update: SessionUpdate) -> None:
        """Gather what ``update`` brought; runs on the draining thread, never touches the file."""
        if not self._accepting:
            return
        session = self.session
        chunk = _Chunk()
        for key in update.changed_keys:
            ring = session.store.ring(key)
            if ring is None:
                continue
            ts, vs = ring.arrays()
            last = self._last_t.get(key)
            start = 0 if last is None else int(np.searchsorted(ts, last, side="right"))
            if start < len(ts):
                chunk.samples[key] = (ts[start:].copy(), vs[start:].copy())
                self._last_t[key] = float(ts[-1])
        chunk.logs = list(update.new_logs)
        now = session.clock.now()
        if update.statuses_changed:
            for name, status in session.source_statuses.items():
                if self._last_source_status.get(name) != status:
                    chunk.statuses.append(RecordedSourceStatus(now, status))
                    self._last_source_status[name] = status
        chunk.timeline = list(update.new_timeline)
        for service_id in sorted(update.resources_changed):
            state = session.resources.get(service_id)
            if state is not None and self._last_resources.get(service_id) != state:
                chunk.resource_states.append(resource_record(state, now))
                self._last_resources[service_id] = state
        if chunk.samples or chunk.logs or chunk.statuses or chunk.timeline or chunk.resource_states:
            self._queue.put(chunk)

    # -- the writer thread -----------------------------------------------------------------------

    def _open(self) -> tuple[sqlite3.Connection, SnapshotWriter]:
        workspace = self.session.workspace
        text = self._workspace_text
        if text is None:
            text = workspace_toml_text(workspace)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (self.path, *_sidecars(self.path)):
            stale.unlink(missing_ok=True)
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        writer = SnapshotWriter(connection)
        writer.create(
            {
                "app_version": self.app_version,
                "created_at": repr(self._started_at),
                "closed": CLOSED_OPEN,
                "writer_pid": str(os.getpid()),
                "writer_host": socket.gethostname(),
                "session_kind": "demo" if workspace.is_demo else "live",
                "title": workspace.incident.title,
            }
            | (
                {"incident_started_at": repr(self._incident_started_at)}
                if self._incident_started_at is not None
                else {}
            ),
            journal_mode="WAL",
        )
        connection.execute("PRAGMA synchronous = NORMAL")  # WAL: a process crash loses nothing
        if self.max_bytes is not None:
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]
            connection.execute(f"PRAGMA max_page_count = {max(2, self.max_bytes // page_size)}")
        file_name = workspace.path.name if workspace.path is not None else ""
        writer.begin()
        writer.write_workspace(text, workspace_to_json(workspace), file_name)
        writer.commit()
        return connection, writer

    def _write(self, writer: SnapshotWriter, chunk: _Chunk) -> int:
        writer.begin()
        workspace = self.session.workspace
        units = {key: self._units.get(key) or unit_of(workspace, key) for key in chunk.samples}
        self._units.update(units)
        written = writer.append_series(chunk.samples, units)
        for ts, _ in chunk.samples.values():
            if len(ts) and (self._newest_written is None or ts[-1] > self._newest_written):
                self._newest_written = float(ts[-1])
        writer.append_logs(chunk.logs)
        writer.append_source_statuses(chunk.statuses)
        writer.append_timeline(chunk.timeline)
        writer.append_resource_states(chunk.resource_states)
        return written

    def _run(self) -> None:
        try:
            connection, writer = self._open()
        except (sqlite3.Error, OSError) as exc:
            self._fail(exc, None)
            self._discard_until_close()
            return
        with self._lock:
            self._status = dataclasses.replace(self._status, state="recording")
        while True:
            # Sleep until something arrives, then let a commit interval's worth gather (a flush
            # or close request cuts that short): one wake-up and one write per interval,
            # however often the session drains.
            items = [self._queue.get()]
            if isinstance(items[0], _Chunk):
                self._wake.wait(self.commit_interval_s)
            self._wake.clear()
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                if self._apply(connection, writer, items):
                    return
            except (sqlite3.Error, OSError) as exc:
                self._fail(exc, connection)
                for item in items:
                    if isinstance(item, _Flush | _Close):
                        item.done.set()
                if not any(isinstance(item, _Close) for item in items):
                    self._discard_until_close()
                return

    def _apply(
        self,
        connection: sqlite3.Connection,
        writer: SnapshotWriter,
        items: list[_Chunk | _Flush | _Close],
    ) -> bool:
        """Write and commit ``items`` in order; True once the file is closed."""
        pending: list[_Chunk] = []
        for item in items:
            if isinstance(item, _Chunk):
                pending.append(item)
                continue
            if isinstance(item, _Close):
                pending.append(_Chunk(timeline=item.timeline))
            self._commit(writer, self._write(writer, _merge(pending)))
            pending = []
            if isinstance(item, _Close):
                self._finish(connection, writer)
                for other in items:
                    if isinstance(other, _Flush | _Close):
                        other.done.set()
                return True
            item.done.set()
        if pending:
            self._commit(writer, self._write(writer, _merge(pending)))
        return False

    def _commit(self, writer: SnapshotWriter, samples: int) -> None:
        writer.commit()
        with self._lock:
            s = self._status
            self._status = dataclasses.replace(
                s,
                samples_committed=s.samples_committed + samples,
                newest_committed_t=self._newest_written,
                commits=s.commits + 1,
            )
            status = self._status
        if self.on_commit is not None:
            with contextlib.suppress(Exception):  # a broken callback must not stop recording
                self.on_commit(status)

    def _finish(self, connection: sqlite3.Connection, writer: SnapshotWriter) -> None:
        writer.begin()
        writer.set_meta({"closed": CLOSED_CLEAN})
        writer.commit()
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.close()
        with self._lock:
            self._status = dataclasses.replace(self._status, state="closed")

    def _fail(self, exc: BaseException, connection: sqlite3.Connection | None) -> None:
        self._accepting = False
        if connection is not None:
            with contextlib.suppress(sqlite3.Error):
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
            with contextlib.suppress(sqlite3.Error):
                connection.close()
        message = f"recording stopped: {exc}"
        with self._lock:
            self._status = dataclasses.replace(self._status, state="failed", error=message)
        if self.on_error is not None:
            with contextlib.suppress(Exception):  # a broken callback must not hide the error
                self.on_error(message)

    def _discard_until_close(self) -> None:
        """After a failure: answer flush/close requests until closed, write nothing."""
        while True:
            item = self._queue.get()
            if isinstance(item, _Flush | _Close):
                item.done.set()
            if isinstance(item, _Close):
                return


def _merge(chunks: list[_Chunk]) -> _Chunk:
    """One chunk holding everything of ``chunks``, in order (one array per series)."""
    if len(chunks) == 1:
        return chunks[0]
    merged = _Chunk()
    parts: dict[SeriesKey, list[tuple[np.ndarray, np.ndarray]]] = {}
    for chunk in chunks:
        for key, arrays in chunk.samples.items():
            parts.setdefault(key, []).append(arrays)
        merged.logs += chunk.logs
        merged.statuses += chunk.statuses
        merged.timeline += chunk.timeline
        merged.resource_states += chunk.resource_states
    for key, arrays in parts.items():
        if len(arrays) == 1:
            merged.samples[key] = arrays[0]
        else:
            merged.samples[key] = (
                np.concatenate([ts for ts, _ in arrays]),
                np.concatenate([vs for _, vs in arrays]),
            )
    return merged


def _sidecars(path: Path) -> tuple[Path, ...]:
    return tuple(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))
