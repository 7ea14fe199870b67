"""A recorded demo in which the documented remediation happens, for the review's panel tests.

``record_remediated_demo`` runs the demo on a virtual clock with the console's own flight
recorder (the same recorder a live window uses), lets the incident run ``before_s`` seconds,
then scales the connector (min 3, e2-standard-4) and pins the backend's traffic to 00750-69k
through the real action pipeline (plan, checks, dry run, confirm, execute on the simulation
executor, verify, audit), and records ``after_s`` seconds more: long enough for every recovery
criterion (the longest sustain is 30 minutes) to be met. Takes a few seconds, no sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from console.actions import ActionEngine, RouteTraffic, ScaleConnector
from console.clock import VirtualClock
from console.recorder import FlightRecorder
from console.session_factory import build_session
from console.workspace_toml import demo_workspace_path, load_workspace
from tests.recordings import RECORDING_START

#: The backend's two revisions in the demo.
OLD_REVISION = "netra-backend-staging-00749-6tr"
NEW_REVISION = "netra-backend-staging-00750-69k"


@dataclass(frozen=True)
class RemediatedRecording:
    """The file and the moments that matter in it."""

    path: Path
    #: When the connector scale was sent (before it) and verified (after it).
    scale_started: float
    scale_finished: float
    #: When the traffic pin was sent and verified.
    pin_started: float
    pin_finished: float


def record_remediated_demo(
    path: Path,
    lock_dir: Path,
    *,
    before_s: float = 120.0,
    after_s: float = 45 * 60.0,
    step_s: float = 5.0,
) -> RemediatedRecording:
    """Record the demo with the remediation ``before_s`` after the live start into ``path``."""
    clock = VirtualClock(RECORDING_START)
    session = build_session(load_workspace(demo_workspace_path()), clock)
    recorder = FlightRecorder(session, path)
    try:
        session.poll_sources()
        session.drain()
        recorder.start()

        def run_for(seconds: float) -> None:
            done = 0.0
            while done < seconds:
                step = min(step_s, seconds - done)
                clock.advance(step)
                done += step
                session.poll_sources()
                session.drain()

        run_for(before_s)
        engine = ActionEngine(session, lock_dir=lock_dir, user="reviewer-test")
        results = []
        for command in (
            ScaleConnector("connector", 3, None, "e2-standard-4"),
            RouteTraffic("backend", ((NEW_REVISION, 100),)),
        ):
            planned = engine.plan(command)
            assert not planned.refused, planned.refusals
            engine.confirm(planned, confirmed=True)
            result = engine.execute(planned)
            assert result.ok, result.message
            session.poll_sources()
            session.drain()
            results.append(result)
        run_for(after_s)
        status = recorder.close()
        assert status.state == "closed", status
    finally:
        recorder.close()
        session.stop()
    scaled, pinned = results
    return RemediatedRecording(
        path, scaled.started_at, scaled.finished_at, pinned.started_at, pinned.finished_at
    )
