"""Runs the action engine's blocking calls off the GUI thread and brings the results back.

Each job is a plain callable (read a state, plan, execute) run on its own worker thread; its result
or its exception, and any progress lines it reports on the way, come back to the GUI thread by
queued signals and are handed to the callbacks given with the job. Widgets never block on the
network and never touch the engine from a worker.

Synchronous mode (``synchronous=True``, for tests with a deterministic ``SessionBridge``): the job
runs at once on the calling thread and the callbacks are called before ``run`` returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

Job = Callable[[], Any]
ProgressSink = Callable[[str, bool], None]


class ActionRunner(QObject):
    """Worker threads for engine calls, with results and progress delivered on the GUI thread."""

    #: (callback, value): a job finished (value) or failed (an exception), or reported progress.
    _delivered = Signal(object, object)
    #: Emitted on the GUI thread when the number of running jobs changes.
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, synchronous: bool = False) -> None:
        super().__init__(parent)
        self.synchronous = synchronous
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._delivered.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> int:
        """Jobs still running on worker threads."""
        with self._lock:
            return len(self._threads)

    def run(
        self,
        job: Job,
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        """Run ``job``; then call ``on_done(result)`` or ``on_error(exception)`` on this thread."""
        if self.synchronous:
            try:
                result = job()
            except Exception as exc:  # delivered as data, never into the void
                on_error(exc)
            else:
                on_done(result)
            return

        def work() -> None:
            try:
                result = job()
            except Exception as exc:
                self._delivered.emit(on_error, exc)
            else:
                self._delivered.emit(on_done, result)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())
                    idle = not self._threads
                if idle:
                    self._delivered.emit(self.busy_changed.emit, False)

        thread = threading.Thread(target=work, name="action-job", daemon=True)
        with self._lock:
            first = not self._threads
            self._threads.add(thread)
        if first:
            self.busy_changed.emit(True)
        thread.start()

    def progress_sink(self, receiver: ProgressSink) -> ProgressSink:
        """A progress callback safe to call from a worker: ``receiver`` runs on the GUI thread."""
        if self.synchronous:
            return receiver

        def sink(text: str, cancellable: bool) -> None:
            self._delivered.emit(lambda args: receiver(*args), (text, cancellable))

        return sink

    def wait(self, timeout_s: float = 10.0) -> bool:
        """Join every running job (for shutdown and tests); True when all finished."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout_s)
        return all(not t.is_alive() for t in threads)

    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        callback(value)
