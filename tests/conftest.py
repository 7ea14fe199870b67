"""Shared test set-up: Qt offscreen, crash tracebacks on, and the demo session as fixtures.

``QT_QPA_PLATFORM`` is set here, before any test module imports Qt, so every GUI test runs
without a display; ``INCIDENT_CONSOLE_DATA_DIR`` points at a fresh temporary folder, so no test
autosaves into the user's data folder. The demo session is deterministic: a virtual clock at a
fixed time, the simulation polled synchronously, no worker threads; GUI fixtures drain it
through a ``SessionBridge`` in deterministic mode.
"""

from __future__ import annotations

import faulthandler
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The window autosaves (the flight recorder): never into the user's data folder from a test.
os.environ["INCIDENT_CONSOLE_DATA_DIR"] = tempfile.mkdtemp(prefix="incident-console-tests-")
if not faulthandler.is_enabled():
    faulthandler.enable()

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from console.clock import VirtualClock
from console.session import Session
from console.session_factory import build_session
from console.sources import Batch, SeriesKey, SourceStatus
from console.workspace import Workspace
from console.workspace_toml import demo_workspace_path, load_workspace
from tests.keyring_fixtures import memory_keyring, secret_service, test_keyring

#: Keyring fixtures for every test module (tests/keyring_fixtures.py).
__all__ = ["memory_keyring", "secret_service", "test_keyring"]

#: A fixed start for the virtual clock, so the seeded demo looks the same in every run.
DEMO_START = 1_764_000_000.0


@pytest.fixture(scope="session")
def demo_workspace() -> Workspace:
    """The shipped demo workspace (resources/demo.toml), loaded once."""
    return load_workspace(demo_workspace_path())


@pytest.fixture
def demo_clock() -> VirtualClock:
    """The virtual clock the demo session runs on."""
    return VirtualClock(DEMO_START)


@pytest.fixture
def demo_session(demo_workspace: Workspace, demo_clock: VirtualClock) -> Iterator[Session]:
    """The demo session with its history applied: polled once, synchronously, and drained."""
    session = build_session(demo_workspace, demo_clock)
    session.poll_sources()
    session.drain()
    yield session
    session.stop()


class ScriptedSource:
    """A source that reports fixed values for some series at every poll (for hand-made states)."""

    name = "scripted"
    interval_s = 0.01
    expected_delay_s = 0.0

    def __init__(self, values: dict[SeriesKey, float]) -> None:
        self.values = dict(values)

    def poll(self, now: float) -> Batch:
        batch = Batch(self.name, status=SourceStatus(self.name, "ok"))
        for key, value in self.values.items():
            batch.add(key, np.array([now]), np.array([value]))
        return batch

    def close(self) -> None:
        pass


#: The demo's services with the connector failing and everything else healthy: Auth and
#: Backend are then only blocked, and so is the rest of the path after them.
CONNECTOR_DOWN: dict[SeriesKey, float] = {
    ("frontend", "latency_p95_ms"): 200.0,
    ("frontend", "error_ratio"): 0.0,
    ("auth", "latency_p95_ms"): 300.0,
    ("auth", "error_ratio"): 0.0,
    ("backend", "latency_p95_ms"): 300.0,
    ("backend", "error_ratio"): 0.0,
    ("websocket", "probe_success"): 1.0,
    ("chat", "probe_success"): 1.0,
    ("connector", "saturation"): 1.0,
    ("database", "cpu_utilization"): 0.3,
}


@pytest.fixture
def scripted_session(demo_workspace: Workspace, demo_clock: VirtualClock) -> Iterator[Session]:
    """The demo workspace fed by ``ScriptedSource(CONNECTOR_DOWN)``: polled once and drained."""
    session = Session(demo_workspace, demo_clock, [ScriptedSource(CONNECTOR_DOWN)])
    session.poll_sources()
    session.drain()
    yield session
    session.stop()


@pytest.fixture
def world_readable_folder() -> Iterator[Path]:
    """A fresh folder every user can enter, for a probe process that must reach a file in it
    (pytest's ``tmp_path`` is under a private folder); removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="incident-permission-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


# No garbage collection between tests: a chart scene no longer depends on when the cyclic
# collector runs. The chart grid and the wall's charts take their scenes apart when they (or
# their window) close, or in their finalizer when dropped unclosed (ui/scene_lifetime.py;
# tests/test_chart_grid_lifetime.py collects at awkward moments on purpose).
