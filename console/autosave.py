"""The autosave folder of the flight recorder: where live sessions are recorded, which recording a
previous run left unfinished, and pruning of old recordings.

Folder: ``$INCIDENT_CONSOLE_DATA_DIR/autosave`` when that variable is set (tests, portable
installs), else ``$XDG_DATA_HOME/incident-console/autosave`` (``~/.local/share/...`` by default;
``%LOCALAPPDATA%\\incident-console\\autosave`` on Windows).

A recording is *unfinished* when its ``meta.closed`` is still ``open`` and the process that wrote
it is gone (a crash, ``kill -9``, a power cut). On the next start the console offers it:
``recover_recording`` makes it a self-contained file (the WAL folded in) that can be reviewed or
saved with ``console.snapshot.save_snapshot``; ``discard_recording`` deletes it.

Everything here touches files: call it off the GUI thread.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from console.durations import parse_duration
from console.recorder import DEFAULT_COMMIT_INTERVAL_S, FlightRecorder, RecorderStatus
from console.session import Session
from console.snapshot_format import CLOSED_OPEN, CLOSED_RECOVERED, SUFFIX, iter_sidecars

#: Environment variable that overrides the data folder.
DATA_DIR_ENV = "INCIDENT_CONSOLE_DATA_DIR"
#: Recordings older than this are pruned.
DEFAULT_MAX_AGE_S = 14 * 86400.0
#: Recordings beyond this total size are pruned, oldest first.
DEFAULT_MAX_TOTAL_BYTES = 2 * 1024**3
#: Environment variables that change the prune limits: a duration (``7d``) and a size (``500MB``).
MAX_AGE_ENV = "INCIDENT_CONSOLE_AUTOSAVE_MAX_AGE"
MAX_SIZE_ENV = "INCIDENT_CONSOLE_AUTOSAVE_MAX_SIZE"

_SIZE_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
_SIZE_UNITS |= {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def parse_size(text: str) -> int:
    """Bytes in ``text``: ``500MB``, ``2 GB``, ``1.5GiB``, ``1048576``. Raises ``ValueError``."""
    cleaned = text.strip().lower().replace(" ", "")
    number = cleaned.rstrip("bkmgtij")
    unit = cleaned[len(number) :]
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (write e.g. 500MB or 2GB)") from None
    if unit not in _SIZE_UNITS or value < 0:
        raise ValueError(f"not a size: {text!r} (write e.g. 500MB or 2GB)")
    return int(value * _SIZE_UNITS[unit])


def prune_limits_from_environment() -> tuple[float, int]:
    """``(max_age_s, max_total_bytes)`` for ``prune_autosaves``: the defaults (14 days, 2 GiB)
    unless ``INCIDENT_CONSOLE_AUTOSAVE_MAX_AGE`` / ``_MAX_SIZE`` say otherwise. Raises
    ``ValueError`` naming the variable when one is malformed."""
    age, size = DEFAULT_MAX_AGE_S, DEFAULT_MAX_TOTAL_BYTES
    if os.environ.get(MAX_AGE_ENV):
        try:
            age = parse_duration(os.environ[MAX_AGE_ENV])
        except ValueError as exc:
            raise ValueError(f"{MAX_AGE_ENV}: {exc}") from None
    if os.environ.get(MAX_SIZE_ENV):
        try:
            size = parse_size(os.environ[MAX_SIZE_ENV])
        except ValueError as exc:
            raise ValueError(f"{MAX_SIZE_ENV}: {exc}") from None
    return age, size


def data_dir() -> Path:
    """The console's data folder (not created)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "incident-console"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "incident-console"


def autosave_dir() -> Path:
    """The folder of flight recordings (not created)."""
    return data_dir() / "autosave"


def new_autosave_path(now: float | None = None, folder: Path | None = None) -> Path:
    """A fresh recording path, named by UTC start time and process id; creates the folder."""
    folder = folder if folder is not None else autosave_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return folder / f"recording-{stamp:%Y%m%dT%H%M%SZ}-{os.getpid()}{SUFFIX}"


def start_autosave(
    session: Session,
    *,
    folder: Path | None = None,
    commit_interval_s: float = DEFAULT_COMMIT_INTERVAL_S,
    max_bytes: int | None = None,
    on_error: Callable[[str], None] | None = None,
    on_commit: Callable[[RecorderStatus], None] | None = None,
) -> FlightRecorder:
    """Start a flight recorder on ``session`` into a new autosave file. Creates the folder: call
    it off the GUI thread (or accept one ``mkdir``)."""
    recorder = FlightRecorder(
        session,
        new_autosave_path(folder=folder),
        commit_interval_s=commit_interval_s,
        max_bytes=max_bytes,
        on_error=on_error,
        on_commit=on_commit,
    )
    recorder.start()
    return recorder


@dataclass(frozen=True)
class UnfinishedRecording:
    """A recording that a previous run did not close."""

    path: Path
    title: str
    #: Epoch seconds of the first and last recorded data, None when nothing was recorded.
    time_range: tuple[float, float] | None
    size_bytes: int


def _recording_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == SUFFIX and p.is_file())
    except OSError:
        return []


def size_with_sidecars(path: Path) -> int:
    """Bytes of ``path`` and its SQLite ``-wal``/``-shm``/``-journal`` files."""
    total = 0
    for candidate in (path, *iter_sidecars(path)):
        with contextlib.suppress(OSError):
            total += candidate.stat().st_size
    return total


def _newest_mtime(path: Path) -> float:
    newest = 0.0
    for candidate in (path, *iter_sidecars(path)):
        with contextlib.suppress(OSError):
            newest = max(newest, candidate.stat().st_mtime)
    return newest


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if pid <= 0 or os.name != "posix":
        return False  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_meta(path: Path) -> dict[str, str] | None:
    from console.snapshot import SnapshotError, open_snapshot

    try:
        with open_snapshot(path) as snapshot:
            meta = dict(snapshot.meta)
            time_range = snapshot.time_range
    except SnapshotError:
        return None
    if time_range is not None:
        meta["time_start"], meta["time_end"] = repr(time_range[0]), repr(time_range[1])
    return meta


def _written_by_live_process(meta: dict[str, str]) -> bool:
    import socket

    if meta.get("writer_host", "") not in ("", socket.gethostname()):
        return False
    try:
        return _process_alive(int(meta.get("writer_pid", "0")))
    except ValueError:
        return False


def find_unfinished_recordings(folder: Path | None = None) -> list[UnfinishedRecording]:
    """Recordings left open by a process that is gone, newest first."""
    folder = folder if folder is not None else autosave_dir()
    found = []
    for path in _recording_files(folder):
        meta = _read_meta(path)
        if meta is None or meta.get("closed") != CLOSED_OPEN or _written_by_live_process(meta):
            continue
        time_range = None
        if "time_start" in meta and "time_end" in meta:
            time_range = (float(meta["time_start"]), float(meta["time_end"]))
        found.append(
            UnfinishedRecording(path, meta.get("title", ""), time_range, size_with_sidecars(path))
        )
    found.sort(key=lambda r: _newest_mtime(r.path), reverse=True)
    return found


def recover_recording(path: Path) -> Path:
    """Fold a crashed recording's WAL into the file and mark it recovered, so it opens and copies
    as one file. The one deliberate write to a recording after its writer is gone."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('closed', ?)", (CLOSED_RECOVERED,)
        )
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode = DELETE")
    finally:
        connection.close()
    return path


def discard_recording(path: Path) -> None:
    """Delete a recording and its SQLite side files."""
    for candidate in (path, *iter_sidecars(path)):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def prune_autosaves(
    folder: Path | None = None,
    *,
    max_age_s: float = DEFAULT_MAX_AGE_S,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    keep: Iterable[Path] = (),
    now: float | None = None,
) -> list[Path]:
    """Delete recordings older than ``max_age_s``, then the oldest until the rest fit in
    ``max_total_bytes``. Never deletes a path in ``keep`` or one another live console is writing.
    Returns the deleted paths."""
    folder = folder if folder is not None else autosave_dir()
    now = time.time() if now is None else now
    kept_paths = {Path(p).resolve() for p in keep}
    recordings = sorted(_recording_files(folder), key=_newest_mtime)  # oldest first
    sizes = {p: size_with_sidecars(p) for p in recordings}
    total = sum(sizes.values())
    removed: list[Path] = []

    def removable(path: Path) -> bool:
        if path.resolve() in kept_paths:
            return False
        meta = _read_meta(path)
        return not (
            meta is not None
            and meta.get("closed") == CLOSED_OPEN
            and _written_by_live_process(meta)
        )

    for path in recordings:
        too_old = now - _newest_mtime(path) > max_age_s
        if (too_old or total > max_total_bytes) and removable(path):
            discard_recording(path)
            removed.append(path)
            total -= sizes[path]
    return removed
