"""Runs one source on a worker thread: poll, hand the batch over, wait for the next interval.

A source that raises is reported as data (a ``SourceStatus`` in state ``error``) and retried with
exponential backoff; an exception never escapes into the void. Waiting uses an ``Event`` so a
stop request ends the wait at once, not at the next poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from console.clock import Clock
from console.sources import Batch, Source, SourceStatus

#: Longest wait between retries of a failing source.
MAX_BACKOFF_S = 60.0


class SourceRunner:
    """A worker thread that polls one source at its interval until asked to stop."""

    def __init__(self, source: Source, clock: Clock, deliver: Callable[[Batch], None]) -> None:
        self.source = source
        self.clock = clock
        self.deliver = deliver
        self.thread: threading.Thread | None = None
        self._stop = threading.Event()

    @staticmethod
    def poll_safely(source: Source, now: float) -> Batch:
        """Poll ``source``; an exception becomes a batch whose status says what went wrong."""
        try:
            return source.poll(now)
        except Exception as exc:  # a source's failure is data, not a crash
            message = f"{type(exc).__name__}: {exc}"
            status = SourceStatus(source.name, "error", message, source.expected_delay_s)
            return Batch(source.name, status=status)

    def start(self) -> None:
        """Start the worker thread (a daemon, so a hung RPC never blocks exit)."""
        self.thread = threading.Thread(
            target=self._run, name=f"source:{self.source.name}", daemon=True
        )
        self.thread.start()

    def request_stop(self) -> None:
        """Ask the thread to stop after its current poll."""
        self._stop.set()

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the thread to end."""
        if self.thread is not None:
            self.thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            batch = self.poll_safely(self.source, self.clock.now())
            if self._stop.is_set():
                break
            self.deliver(batch)
            failed = batch.status is not None and batch.status.state in (
                "error",
                "unauthorized",
                "quota",
            )
            failures = failures + 1 if failed else 0
            delay = self.source.interval_s
            if failures:
                delay = min(MAX_BACKOFF_S, self.source.interval_s * 2 ** min(failures, 6))
            self._stop.wait(delay)
