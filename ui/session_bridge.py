"""The Qt side of a ``Session``: wakes the GUI thread when data arrives and drains it there.

Sources run on worker threads and call ``Session.submit``; the session's wake-up callback emits a
queued signal, so the GUI thread learns of new data without the worker ever touching a widget.
The first wake-up starts a single-shot coalescing timer (~40 ms, as PlotJuggler merges bursts);
wake-ups while it runs join the same drain. A slower tick (1 s) drains too, so health is
re-evaluated (staleness, ages) and clocks move even when no data comes in.

Deterministic mode (``coalesce_ms=None``): no timers at all. Wake-ups only mark a drain as
pending and tests call ``drain_now`` and ``tick_now`` themselves (STYLE item 5).

Nothing here decides health or formats anything; it only moves updates onto the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from console.session import Session, SessionUpdate

#: How long the first batch of a burst waits for the rest before one drain applies them all.
COALESCE_MS = 40
#: How often the session is drained even without new data, and views' clocks move.
TICK_MS = 1000


class SessionBridge(QObject):
    """Drains a session on the GUI thread and announces what changed."""

    #: A drain changed something (``SessionUpdate``); views repaint what it names.
    updated = Signal(object)
    #: The periodic tick, with the session clock's time: clocks, ages and live time axes move.
    ticked = Signal(float)
    #: Emitted by the wake-up callback on a worker thread; delivered queued on the GUI thread.
    _batch_submitted = Signal()

    def __init__(
        self,
        session: Session,
        parent: QObject | None = None,
        *,
        coalesce_ms: int | None = COALESCE_MS,
        tick_ms: int = TICK_MS,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.drain_count = 0
        self._pending = False
        self._stopped = False
        self._deterministic = coalesce_ms is None
        self._coalesce_timer = QTimer(self)
        self._coalesce_timer.setSingleShot(True)
        self._coalesce_timer.setInterval(0 if coalesce_ms is None else coalesce_ms)
        self._coalesce_timer.timeout.connect(self.drain_now)
        self._tick_timer = QTimer(self)
        self._tick_timer.setInterval(tick_ms)
        self._tick_timer.timeout.connect(self.tick_now)
        self._batch_submitted.connect(self._on_batch_submitted, Qt.ConnectionType.QueuedConnection)
        session.set_wakeup(self._on_wakeup)

    @property
    def deterministic(self) -> bool:
        """True when no timer runs and the owner drains by calling ``drain_now``."""
        return self._deterministic

    @property
    def drain_pending(self) -> bool:
        """True when a batch was submitted since the last drain."""
        return self._pending

    def start(self) -> None:
        """Start the session's worker threads and (unless deterministic) the tick timer.

        Does nothing once ``stop`` was called (a start queued behind a quick quit stays undone).
        """
        if self._stopped:
            return
        if not self._deterministic:
            self._tick_timer.start()
        self.session.start()

    def stop(self) -> None:
        """Stop the timers and the session's worker threads for good. Idempotent."""
        self._stopped = True
        self._tick_timer.stop()
        self._coalesce_timer.stop()
        self.session.set_wakeup(None)
        self.session.stop()

    def drain_now(self) -> SessionUpdate:
        """Drain the session on this thread and emit ``updated`` if anything changed."""
        self._coalesce_timer.stop()
        self._pending = False
        update = self.session.drain()
        self.drain_count += 1
        if not update.empty:
            self.updated.emit(update)
        return update

    def tick_now(self) -> SessionUpdate:
        """One tick: drain, then announce the session clock's time."""
        update = self.drain_now()
        self.ticked.emit(self.session.clock.now())
        return update

    def _on_wakeup(self) -> None:
        # Runs on the submitting (worker) thread: touch no Qt object but the queued signal.
        # The session queues the batch before calling this, and ``drain_now`` clears the flag
        # before draining, so a wake-up skipped here always finds its batch in a later drain.
        if self._pending:
            return
        self._pending = True
        if not self._deterministic:
            self._batch_submitted.emit()

    def _on_batch_submitted(self) -> None:
        if not self._coalesce_timer.isActive():
            self._coalesce_timer.start()
