"""The session: sources feed a queue, the session drains it into the store and re-evaluates health.

Data flows one way. Sources (on worker threads, or called synchronously) ``submit`` batches; the
owner of the session (a Qt timer in the GUI, a plain loop headless, a test step by step) calls
``drain`` on one thread, which applies every queued batch to the store, keeps the newest log
entries, re-evaluates health and tells subscribers what changed in one ``SessionUpdate``.
Subscribers run on the draining thread and must be quick.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from console.clock import Clock
from console.health import HealthReport, Readings, evaluate
from console.resource_state import ResourceState
from console.source_runner import SourceRunner
from console.sources import Batch, LogEntry, SeriesKey, Source, SourceStatus
from console.store import DEFAULT_CAPACITY, SeriesStore
from console.timeline import TimelineEntry, health_change_entries
from console.workspace import Workspace

if TYPE_CHECKING:  # the workflow module imports this one
    from console.actions.executor import Executor
    from console.workflow import IncidentWorkflow

#: Extra seconds beyond a source's expected delay (and poll interval) before data counts as stale.
STALE_MARGIN_S = 15.0


@dataclass
class SessionUpdate:
    """What one ``drain`` changed."""

    changed_keys: set[SeriesKey] = field(default_factory=set)
    new_logs: list[LogEntry] = field(default_factory=list)
    new_timeline: list[TimelineEntry] = field(default_factory=list)
    statuses_changed: bool = False
    health_changed: bool = False
    samples: int = 0
    #: Service ids whose resource state (revisions, traffic, connector limits) changed.
    resources_changed: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not (
            self.changed_keys
            or self.new_logs
            or self.new_timeline
            or self.statuses_changed
            or self.health_changed
            or self.resources_changed
        )


Subscriber = Callable[[SessionUpdate], None]
#: A step run at the end of every ``drain`` with the new health (recovery criteria, escalation
#: timers): it returns the timeline entries it produced, which join the same update.
Evaluator = Callable[[HealthReport], list[TimelineEntry]]


class Session:
    """One incident session: workspace, sources, store, logs and the current health."""

    #: What carries out actions (``console.actions``). Only sessions that are not read-only get
    #: one (``console.actions.attach_executor``); on a read-only session the attribute is absent.
    executor: Executor

    def __init__(
        self,
        workspace: Workspace,
        clock: Clock,
        sources: Iterable[Source] = (),
        *,
        capacity: int = DEFAULT_CAPACITY,
        log_capacity: int = 5000,
        timeline_capacity: int = 20_000,
        read_only: bool = False,
    ) -> None:
        self.workspace = workspace
        #: A read-only session never gets an action executor (wall, review, ``--read-only``).
        self.read_only = read_only
        self.clock = clock
        self.sources: list[Source] = list(sources)
        self.store = SeriesStore(capacity)
        self.logs: deque[LogEntry] = deque(maxlen=log_capacity)
        #: The incident timeline in arrival order (status changes, actions, notes, ...).
        self.timeline: deque[TimelineEntry] = deque(maxlen=timeline_capacity)
        self.source_statuses: dict[str, SourceStatus] = {
            s.name: SourceStatus(s.name, "starting", expected_delay_s=s.expected_delay_s)
            for s in self.sources
        }
        self._queue: queue.SimpleQueue[Batch] = queue.SimpleQueue()
        self._subscribers: list[Subscriber] = []
        self._wakeup: Callable[[], None] | None = None
        self._runners: list[SourceRunner] = []
        #: Per service id, every source that has fed it (its stale limit is the most lenient).
        self._service_sources: dict[str, set[str]] = {}
        #: The newest cloud resource state per service id (revisions, traffic, connector limits).
        self.resources: dict[str, ResourceState] = {}
        self._evaluators: list[Evaluator] = []
        #: The incident workflow (probes, recovery criteria, escalation timers, notes) when one
        #: is attached (``console.workflow.attach_workflow``); None for a bare session.
        self.workflow: IncidentWorkflow | None = None
        self.health: HealthReport = self.evaluate_health()

    # -- feeding ------------------------------------------------------------------------------

    def submit(self, batch: Batch) -> None:
        """Queue a batch for the next ``drain``. Safe to call from any thread."""
        self._queue.put(batch)
        wakeup = self._wakeup
        if wakeup is not None:
            wakeup()

    def set_wakeup(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` (from the submitting thread) whenever a batch is queued."""
        self._wakeup = callback

    def add_timeline_entry(
        self, kind: str, text: str, fields: dict | None = None, t: float | None = None
    ) -> TimelineEntry:
        """Queue a timeline entry (a note, an action's audit record) from any thread.

        It joins ``timeline`` at the next ``drain``, like every other piece of data.
        """
        entry = TimelineEntry(self.clock.now() if t is None else t, kind, text, dict(fields or {}))
        self.submit(Batch(kind, timeline=[entry]))
        return entry

    def poll_sources(self) -> None:
        """Poll every source once, synchronously, at the clock's current time."""
        now = self.clock.now()
        for source in self.sources:
            self.submit(SourceRunner.poll_safely(source, now))

    def start(self) -> None:
        """Run each source on its own worker thread with the session's clock."""
        if self._runners:
            return
        for source in self.sources:
            runner = SourceRunner(source, self.clock, self.submit)
            runner.start()
            self._runners.append(runner)

    def stop(self) -> None:
        """Stop worker threads and close the sources. Idempotent.

        Sources are closed before the threads are joined: closing a cloud source's connections
        ends an RPC it is blocked in, so stopping never waits for a hung server's timeout.
        """
        runners, self._runners = self._runners, []
        for runner in runners:
            runner.request_stop()
        for source in self.sources:
            source.close()
        for runner in runners:
            runner.join()

    @property
    def running(self) -> bool:
        """True while worker threads are feeding the session."""
        return bool(self._runners)

    def running_threads(self) -> list[threading.Thread]:
        """The worker threads (for tests and diagnostics)."""
        return [r.thread for r in self._runners if r.thread is not None]

    # -- applying -----------------------------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback`` with each non-empty ``SessionUpdate``, on the draining thread."""
        self._subscribers.append(callback)

    def add_evaluator(self, evaluator: Evaluator) -> None:
        """Run ``evaluator`` at the end of every ``drain``, after health, on the draining thread."""
        self._evaluators.append(evaluator)

    def drain(self) -> SessionUpdate:
        """Apply every queued batch, re-evaluate health (and the evaluators), notify subscribers."""
        update = SessionUpdate()
        while True:
            try:
                batch = self._queue.get_nowait()
            except queue.Empty:
                break
            self._apply(batch, update)
        health = self.evaluate_health()
        if _health_signature(health) != _health_signature(self.health):
            update.health_changed = True
            changes = health_change_entries(self.workspace, self.health, health)
            self.timeline.extend(changes)
            update.new_timeline.extend(changes)
        self.health = health
        for evaluator in list(self._evaluators):
            entries = evaluator(health)
            self.timeline.extend(entries)
            update.new_timeline.extend(entries)
        if not update.empty:
            for callback in list(self._subscribers):
                callback(update)
        return update

    def _apply(self, batch: Batch, update: SessionUpdate) -> None:
        for key, (ts, vs) in batch.samples.items():
            kept = self.store.append(key, ts, vs)
            if kept:
                update.changed_keys.add(key)
                update.samples += kept
                self._service_sources.setdefault(key[0], set()).add(batch.source)
        if batch.logs:
            self.logs.extend(batch.logs)
            update.new_logs.extend(batch.logs)
        if batch.timeline:
            self.timeline.extend(batch.timeline)
            update.new_timeline.extend(batch.timeline)
        for service_id, state in batch.resources.items():
            if self.resources.get(service_id) != state:
                update.resources_changed.add(service_id)
            self.resources[service_id] = state
        if batch.status is not None and self.source_statuses.get(batch.source) != batch.status:
            self.source_statuses[batch.source] = batch.status
            update.statuses_changed = True

    # -- reading ------------------------------------------------------------------------------

    def readings(self, at: float | None = None) -> Readings:
        """The newest sample of every series, or the newest at or before ``at``."""
        result: dict[SeriesKey, tuple[float, float]] = {}
        for key in self.store.series_keys():
            reading = self.store.latest(key) if at is None else self.store.value_at(key, at)
            if reading is not None:
                result[key] = reading
        return result

    def stale_after(self) -> dict[str, float]:
        """Per service, how old its data may be before it counts as stale."""
        limits: dict[str, float] = {}
        by_name = {s.name: s for s in self.sources}
        for sid in self.workspace.services:
            # A service fed by several sources (Monitoring, 1–4 min late, and log counts, seconds
            # late) is judged by the most lenient, or Monitoring's normal delay would look stale.
            feeding = [by_name[n] for n in self._service_sources.get(sid, ()) if n in by_name]
            if not feeding:
                limits[sid] = STALE_MARGIN_S
            else:
                limits[sid] = max(
                    s.expected_delay_s + max(STALE_MARGIN_S, 3 * s.interval_s) for s in feeding
                )
        return limits

    def evaluate_health(self, at: float | None = None) -> HealthReport:
        """Health at ``at`` (default: now) from the store's readings."""
        now = self.clock.now() if at is None else at
        return evaluate(self.workspace, self.readings(at), now, self.stale_after())


def _health_signature(report: HealthReport) -> tuple:
    """The parts of a report whose change is worth a repaint (not ages or exact values)."""
    return (
        tuple((h.service, h.status, h.blocked_by) for h in report.services.values()),
        report.first_broken,
        report.root_cause_candidates,
    )
