"""The session pipeline: batches queue up, one drain applies them, health follows, threads work.

Driven by a small scripted source (not the thing under test) and a virtual clock; the threaded
path waits on conditions, never sleeps.
"""

from __future__ import annotations

import threading

import numpy as np

from console.clock import VirtualClock
from console.session import Session, SessionUpdate
from console.source_runner import SourceRunner
from console.sources import Batch, LogEntry, SourceStatus
from tests.test_health import make_workspace

T0 = 1_700_000_000.0


class ScriptedSource:
    """Delivers one sample per series per poll with values from a table; can be told to fail."""

    name = "scripted"
    interval_s = 0.01
    expected_delay_s = 0.0

    def __init__(self, values: dict) -> None:
        self.values = values
        self.fail_with: Exception | None = None
        self.polls = 0
        self.closed = False
        self.polled = threading.Event()

    def poll(self, now: float) -> Batch:
        self.polls += 1
        self.polled.set()
        if self.fail_with is not None:
            raise self.fail_with
        batch = Batch(self.name, status=SourceStatus(self.name, "ok"))
        for key, value in self.values.items():
            batch.add(key, np.array([now]), np.array([value]))
        return batch

    def close(self) -> None:
        self.closed = True


def incident_values() -> dict:
    from tests.test_health import INCIDENT

    return dict(INCIDENT)


def test_drain_applies_all_queued_batches_once_and_notifies() -> None:
    clock = VirtualClock(T0)
    source = ScriptedSource(incident_values())
    session = Session(make_workspace(), clock, [source])
    updates: list[SessionUpdate] = []
    session.subscribe(updates.append)
    session.poll_sources()
    clock.advance(1)
    session.poll_sources()
    update = session.drain()
    assert len(updates) == 1 and updates[0] is update
    assert update.samples == 2 * len(source.values)
    assert update.changed_keys == set(source.values)
    assert update.health_changed and update.statuses_changed
    assert session.health.root_cause == "connector"
    assert session.source_statuses["scripted"].state == "ok"
    assert session.drain().empty  # nothing new: subscribers are not called again
    assert len(updates) == 1


def test_health_goes_stale_when_data_stops() -> None:
    clock = VirtualClock(T0)
    session = Session(make_workspace(), clock, [ScriptedSource(incident_values())])
    session.poll_sources()
    session.drain()
    assert session.health.services["auth"].status == "failing"
    clock.advance(session.stale_after()["auth"] + 1)
    update = session.drain()
    assert update.health_changed
    assert session.health.services["auth"].status == "stale"


def test_logs_are_kept_bounded() -> None:
    session = Session(make_workspace(), VirtualClock(T0), log_capacity=3)
    for i in range(5):
        session.submit(Batch("x", logs=[LogEntry(T0 + i, "auth", "ERROR", f"503 #{i}", 503)]))
    update = session.drain()
    assert len(update.new_logs) == 5
    assert [e.message for e in session.logs] == ["503 #2", "503 #3", "503 #4"]


def test_a_source_that_raises_becomes_an_error_status() -> None:
    clock = VirtualClock(T0)
    source = ScriptedSource(incident_values())
    source.fail_with = ConnectionError("connection refused")
    session = Session(make_workspace(), clock, [source])
    session.poll_sources()
    session.drain()
    status = session.source_statuses["scripted"]
    assert status.state == "error"
    assert "connection refused" in status.message
    assert session.health.services["auth"].status == "unknown"


def test_worker_threads_feed_the_queue_and_stop_cleanly() -> None:
    clock = VirtualClock(T0)
    source = ScriptedSource(incident_values())
    session = Session(make_workspace(), clock, [source])
    woken = threading.Event()
    session.set_wakeup(woken.set)
    session.start()
    try:
        assert woken.wait(10), "no batch arrived from the worker thread"
        assert session.running and session.running_threads()[0].name == "source:scripted"
    finally:
        session.stop()
    assert source.closed and not session.running
    assert session.drain().samples >= len(source.values)


def test_poll_safely_turns_an_exception_into_an_error_status() -> None:
    source = ScriptedSource({})
    source.fail_with = RuntimeError("quota exceeded")
    delivered: list[Batch] = []
    runner = SourceRunner(source, VirtualClock(T0), delivered.append)
    batch = runner.poll_safely(source, T0)
    assert batch.status is not None and batch.status.state == "error"
    assert "RuntimeError: quota exceeded" in batch.status.message


def test_timeline_gets_health_changes_and_entries_from_any_producer() -> None:
    clock = VirtualClock(T0)
    source = ScriptedSource(incident_values())
    session = Session(make_workspace(), clock, [source])
    session.poll_sources()
    first = session.drain()
    broke = [e for e in first.new_timeline if e.kind == "golden_path"]
    assert len(broke) == 1 and broke[0].fields["to"] == "auth"
    assert broke[0].fields["root_cause"] == "connector"
    note = session.add_timeline_entry("note", "scaling the connector now", {"starred": True})
    assert note not in session.timeline  # it joins at the next drain, like all data
    update = session.drain()
    assert update.new_timeline == [note] and session.timeline[-1] == note
    assert note.t == clock.now()
