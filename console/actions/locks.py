"""One action in flight per resource, across windows and processes: a lock file per resource.

``ResourceLock`` takes an exclusive, non-blocking OS lock (``flock`` on POSIX, ``msvcrt.locking``
on Windows) on ``<runtime dir>/incident-console/actions/<key>.lock`` for the life of one action
(from the conflict check to the verified result). Another attempt on the same resource, from this
window, a second window or a second console process, fails at once with
``AlreadyInProgressError`` naming who holds it. The OS drops the lock when its holder exits,
so a crashed console never leaves a resource locked.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl


class AlreadyInProgressError(Exception):
    """Another action on the same resource is in flight."""

    def __init__(self, key: str, holder: dict[str, Any]) -> None:
        who = holder.get("user") or "someone"
        what = holder.get("action") or "an action"
        pid = holder.get("pid")
        where = f" (process {pid} on {holder.get('host', '?')})" if pid else ""
        super().__init__(f"already in progress: {what} by {who}{where}; wait for it to finish")
        self.key = key
        self.holder = holder


def runtime_dir() -> Path:
    """The per-user runtime folder for lock files (``$XDG_RUNTIME_DIR``, else the temp dir)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and Path(base).is_dir():
        return Path(base) / "incident-console" / "actions"
    user = os.environ.get("USER") or os.environ.get("USERNAME") or str(os.getuid())
    return Path(tempfile.gettempdir()) / f"incident-console-{user}" / "actions"


def lock_key(scope: str, project: str, kind: str, resource: str) -> str:
    """A file-name-safe key for one resource: ``gcp__netra-staging__vpc_connector__staging-…``."""
    raw = "__".join(part or "-" for part in (scope, project, kind, resource))
    return re.sub(r"[^A-Za-z0-9._-]", "_", raw)


class ResourceLock:
    """An exclusive lock on one resource for the life of one action (a context manager)."""

    def __init__(self, key: str, holder: dict[str, Any], directory: Path | None = None) -> None:
        self.key = key
        self.holder = dict(holder)
        self.directory = directory if directory is not None else runtime_dir()
        self.path = self.directory / f"{key}.lock"
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._file is not None

    def acquire(self) -> None:
        """Take the lock now or raise ``AlreadyInProgressError``; never waits."""
        if self._file is not None:
            raise RuntimeError("this lock is already held")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            text = handle.read()
            handle.close()
            try:
                holder = json.loads(text) if text.strip() else {}
            except json.JSONDecodeError:
                holder = {}
            raise AlreadyInProgressError(self.key, holder) from None
        handle.seek(0)
        handle.truncate()
        record = {**self.holder, "pid": os.getpid(), "host": socket.gethostname()}
        handle.write(json.dumps(record))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Let go of the lock (idempotent)."""
        handle, self._file = self._file, None
        if handle is None:
            return
        with contextlib.suppress(OSError):
            handle.seek(0)
            handle.truncate()
            handle.flush()
        with contextlib.suppress(OSError):
            _unlock(handle)
        handle.close()

    def __enter__(self) -> ResourceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _lock(handle: IO[str]) -> None:
    if os.name == "nt":  # pragma: no cover
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(handle: IO[str]) -> None:
    if os.name == "nt":  # pragma: no cover
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
