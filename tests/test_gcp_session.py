"""A ``[gcp]`` workspace end to end: the table's validation, the session's three cloud sources on
worker threads against the fakes, and ``incident-console status --config ws.toml --json`` in a
subprocess reporting the values the fakes serve.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.clock import SystemClock
from console.gcp.monitoring_source import SETTLE_S
from console.resource_state import CloudRunServiceState
from console.session_factory import NoSourcesError, build_session
from console.workspace_toml import WorkspaceError, parse_workspace
from tests.fakes.scenario import (
    FakeCloud,
    incident_workspace,
    seed_incident,
    workspace_toml,
    write_workspace,
)

GOOGLE = {
    "monitoring": "monitoring.googleapis.com:443",
    "logging": "logging.googleapis.com:443",
    "run": "run.googleapis.com:443",
    "vpcaccess": "https://vpcaccess.googleapis.com",
}


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    with FakeCloud() as fakes:
        yield fakes


def problems_of(text: str) -> str:
    with pytest.raises(WorkspaceError) as error:
        parse_workspace(text)
    return str(error.value)


# -- the [gcp] table -----------------------------------------------------------------------------


def test_the_gcp_table_is_read_with_its_defaults() -> None:
    workspace = incident_workspace({"monitoring": "http://127.0.0.1:8081"})
    gcp = workspace.gcp
    assert gcp is not None
    assert gcp.monitoring_endpoint == "http://127.0.0.1:8081"
    assert gcp.logging_endpoint == "logging.googleapis.com:443"
    assert (gcp.poll_interval_s, gcp.backfill_s, gcp.credentials) == (60.0, 1200.0, "")


def test_a_plaintext_endpoint_is_refused_off_loopback() -> None:
    message = problems_of(workspace_toml({"monitoring": "http://10.0.0.8:8081"}))
    assert "gcp.endpoints.monitoring" in message
    assert "accepted only on loopback" in message


def test_gcp_mistakes_are_named_with_their_fix() -> None:
    message = problems_of(
        workspace_toml(
            GOOGLE,
            gcp='credentials = "my-secret-json"\npoll_interval = "2s"\nprojekt = "x"\n'
            'project = "Netra Staging"',
        )
    )
    assert "gcp.credentials: must name a key in the OS keyring" in message
    assert "incident-console credentials import KEY.json" in message
    assert 'gcp.poll_interval: "2s" is out of range: from 10s' in message
    assert "gcp.projekt: unknown key (did you mean 'project'?)" in message
    assert '"Netra Staging" is not a Google Cloud project id' in message
    no_region = workspace_toml(GOOGLE).replace('region = "us-central1"', "")
    assert "gcp: no region: set region in [gcp] or in [incident]" in problems_of(no_region)


# -- sources -------------------------------------------------------------------------------------


def test_missing_credentials_stop_the_session_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, memory_keyring
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    with pytest.raises(NoSourcesError) as error:
        build_session(incident_workspace(GOOGLE), SystemClock())
    assert "credentials import" in str(error.value) and "--demo" in str(error.value)


def test_the_session_runs_the_cloud_sources_on_worker_threads(cloud: FakeCloud) -> None:
    now = time.time()
    seed_incident(cloud, now)
    session = build_session(incident_workspace(cloud.endpoints()), SystemClock())
    assert [s.name for s in session.sources] == ["cloud-run", "monitoring", "logging"]
    arrived = threading.Event()
    session.set_wakeup(arrived.set)
    session.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            arrived.wait(5)
            arrived.clear()
            session.drain()
            if (
                all(s.state == "ok" for s in session.source_statuses.values())
                and "backend" in session.resources
                and session.store.latest(("backend", "requests_per_s")) is not None
                and session.logs
            ):
                break
        assert all(s.state == "ok" for s in session.source_statuses.values())
        backend = session.resources["backend"]
        assert isinstance(backend, CloudRunServiceState) and backend.split
        assert session.store.latest(("backend", "requests_per_s"))[1] == pytest.approx(3.0)
        assert {e.service for e in session.logs} == {"auth", "backend"}
        assert session.health.services["backend"].status == "failing"
        # Monitoring's data is two minutes old by design: not stale.
        assert session.stale_after()["backend"] > SETTLE_S + 60
    finally:
        session.stop()
    assert not any(t.is_alive() for t in session.running_threads())


# -- status --------------------------------------------------------------------------------------


def run_status(workspace: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "GRPC_VERBOSITY": "ERROR", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "console", "status", "--config", str(workspace), "--json"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_status_reports_the_values_the_fakes_serve(cloud: FakeCloud, tmp_path: Path) -> None:
    now = time.time()
    seed_incident(cloud, now)
    workspace = write_workspace(tmp_path / "ws.toml", cloud.endpoints())
    result = run_status(workspace)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert {name: s["state"] for name, s in status["sources"].items()} == {
        "cloud-run": "ok",
        "monitoring": "ok",
        "logging": "ok",
    }
    backend = status["services"]["backend"]["metrics"]
    assert backend["requests_per_s"]["value"] == pytest.approx(3.0)
    assert backend["error_ratio"]["value"] == pytest.approx(0.2)
    low = 1.4 ** math.floor(math.log(7200) / math.log(1.4))
    assert low <= backend["latency_p95_ms"]["value"] <= low * 1.4
    assert backend["instances_active"]["value"] == 46
    assert backend["errors_5xx_per_min_logs"]["value"] == 18  # the last whole minute's 503s
    assert SETTLE_S <= backend["requests_per_s"]["age_s"] < SETTLE_S + 60 + 5
    connector = status["services"]["connector"]
    assert connector["metrics"]["saturation"]["value"] == pytest.approx(0.97)
    assert connector["status"] == "failing"
    assert status["root_cause"] == "connector"
    assert status["services"]["backend"]["status"] == "failing"  # not stale: Monitoring is late
    resources = status["resources"]
    assert resources["backend"]["summary"] == "min 1 · max 50 · 00749-6tr 50% · 00750-69k 50%"
    assert resources["connector"]["max_instances"] == 10
    assert cloud.monitoring.calls["ListTimeSeries"] == 15


def test_status_on_faulty_apis_reports_each_fault(cloud: FakeCloud, tmp_path: Path) -> None:
    seed_incident(cloud, time.time())
    cloud.monitoring.faults.fail(
        "ListTimeSeries", "PERMISSION_DENIED", times=-1, message="monitoring.timeSeries.list"
    )
    cloud.logging.faults.fail("ListLogEntries", "RESOURCE_EXHAUSTED", times=-1, message="quota")
    workspace = write_workspace(tmp_path / "ws.toml", cloud.endpoints())
    result = run_status(workspace)
    assert result.returncode == 0, result.stderr
    sources = json.loads(result.stdout)["sources"]
    assert sources["monitoring"]["state"] == "unauthorized"
    assert "roles/monitoring.viewer" in sources["monitoring"]["message"]
    assert sources["logging"]["state"] == "quota"
    assert sources["cloud-run"]["state"] == "ok"


def test_status_without_credentials_exits_2_and_offers_the_demo(tmp_path: Path) -> None:
    workspace = tmp_path / "ws.toml"
    workspace.write_text(workspace_toml(GOOGLE))
    env = {
        "HOME": str(tmp_path),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    result = run_status(workspace, {**env, "GOOGLE_APPLICATION_CREDENTIALS": ""})
    assert result.returncode == 2
    assert "credentials import" in result.stderr and "--demo" in result.stderr
    assert "Traceback" not in result.stderr


def test_stopping_does_not_wait_for_hung_servers(cloud: FakeCloud) -> None:
    """Closing the sources ends the RPCs they are blocked in, long before the calls' own
    timeouts (raised to 10 minutes here, so only the close can end them within the test)."""
    for fake in (cloud.monitoring, cloud.logging, cloud.run, cloud.vpcaccess):
        fake.faults.hang()
    session = build_session(incident_workspace(cloud.endpoints()), SystemClock())
    for source in session.sources:
        if hasattr(source, "rpc_timeout_s"):
            source.rpc_timeout_s = 600.0
    session.start()
    threads = session.running_threads()
    try:
        assert cloud.monitoring.wait_for_calls("ListTimeSeries", 1, timeout=20)
        assert cloud.run.wait_for_calls("ListServices", 1, timeout=20)
    finally:
        session.stop()
        # A generous join while the servers still hang: a busy machine is slow, but a 600 s
        # RPC is not over, so only the close can have ended the calls.
        for thread in threads:
            thread.join(timeout=60)
        still_running = [thread.name for thread in threads if thread.is_alive()]
        for fake in (cloud.monitoring, cloud.logging, cloud.run, cloud.vpcaccess):
            fake.faults.release()
    assert still_running == []
