"""Recordings for the review and report tests, made by the console's own recorder.

``record_demo`` records the demo (its hour of history, in which the incident begins about 45
minutes before the start, then ``duration_s`` more) into a real ``.incident`` file with the
headless ``record`` path, on a virtual clock, as fast as possible (well under a second).
``write_snapshot`` writes hand-made series and timeline entries with the format's own writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from console.clock import VirtualClock
from console.session_factory import build_session
from console.snapshot_commands import run_recording
from console.snapshot_format import (
    CLOSED_CLEAN,
    SnapshotWriter,
    render_workspace_toml,
    workspace_to_json,
)
from console.sources import LogEntry, SeriesKey
from console.timeline import TimelineEntry
from console.workspace import Workspace
from console.workspace_toml import demo_workspace_path, load_workspace

#: The virtual clock's start for recorded demos (the same as conftest's DEMO_START).
RECORDING_START = 1_764_000_000.0


def record_demo(path: Path, duration_s: float = 300.0, start: float = RECORDING_START) -> Path:
    """Record the demo headless into ``path``: its history, then ``duration_s`` seconds."""
    session = build_session(load_workspace(demo_workspace_path()), VirtualClock(start))
    try:
        run_recording(session, path, duration_s, speed=0)
    finally:
        session.stop()
    return path


def write_snapshot(
    path: Path,
    workspace: Workspace,
    series: Mapping[SeriesKey, tuple[np.ndarray, np.ndarray]],
    timeline: Iterable[TimelineEntry] = (),
    logs: Iterable[LogEntry] = (),
    meta: Mapping[str, str] | None = None,
) -> Path:
    """A cleanly closed snapshot of hand-made data, written with ``SnapshotWriter``."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        writer = SnapshotWriter(connection)
        writer.create({"app_version": "test", "closed": CLOSED_CLEAN, **(meta or {})})
        writer.begin()
        writer.write_workspace(render_workspace_toml(workspace), workspace_to_json(workspace))
        writer.append_series(series)
        writer.append_logs(list(logs))
        writer.append_timeline(list(timeline))
        writer.commit()
    finally:
        connection.close()
    return path
