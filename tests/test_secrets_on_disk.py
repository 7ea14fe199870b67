"""A secret planted in the keyring never appears in any file the console writes.

The probes of a real workspace file log in to a real HTTP server on 127.0.0.1 with a password
from the keyring, send an API key header from the keyring, and open the chat WebSocket with the
token the login returned. Meanwhile the flight recorder writes the session, every log record of
every library goes to a file at DEBUG, and afterwards the console saves the snapshot, exports it
to JSON and CSV, prints its status as JSON and drafts the post-incident report. Then every byte
of every file under the test's folder is searched for the password, the API key and the token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.clock import VirtualClock
from console.keyring_secrets import KEYRING_SERVICE
from console.notes import add_note
from console.recorder import FlightRecorder
from console.session import Session
from console.snapshot import export_csv, export_json, open_snapshot, save_snapshot
from console.status_report import build_status
from console.workflow import attach_workflow, build_probe_sources
from console.workspace_toml import check_secrets, load_workspace
from tests.conftest import DEMO_START
from tests.probe_servers import ProbeTargets, memory_keyring

PASSWORD = "Plant3d-Passw0rd-9931"
API_KEY = "Plant3d-ApiKey-5526"

WORKSPACE = """
[incident]
title = "Secrets stay in the keyring"

[[services]]
id = "api"
kind = "cloud_run"
resource = "api"

[golden_path]
steps = ["api"]

[[probes]]
id = "golden-path"
name = "Login → AI response"
kind = "golden_path"
login_url = "{http}/login"
websocket_url = "{ws}/chat"
username = "probe@example.com"
password = "keyring:golden-path-user"
interval = "30s"
timeout = "3s"

[[probes]]
id = "api-key"
name = "API with key"
kind = "http"
url = "{http}/needs-key"
headers = {{ X-Api-Key = "keyring:api-key", Accept = "application/json" }}
interval = "30s"
timeout = "3s"

[[probes]]
id = "dropped"
name = "Chat that hangs up"
kind = "golden_path"
login_url = "{http}/login"
websocket_url = "{ws}/close-mid-stream"
password = "keyring:golden-path-user"
timeout = "3s"

[[criteria]]
id = "flow"
title = "Login → AI response works"
probe = "golden-path"
sustain = "1m"
"""


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[Path, ProbeTargets]]:
    """Run the workspace's probes for a few minutes, recording; yields the recording's path."""
    targets = ProbeTargets(PASSWORD)
    targets.http.api_key = API_KEY
    log_handler = logging.FileHandler(tmp_path / "console.log", encoding="utf-8")
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(log_handler)
    root.setLevel(logging.DEBUG)
    try:
        with memory_keyring() as backend:
            backend.set_password(KEYRING_SERVICE, "golden-path-user", PASSWORD)
            backend.set_password(KEYRING_SERVICE, "api-key", API_KEY)
            path = tmp_path / "incident.toml"
            path.write_text(
                WORKSPACE.format(http=targets.http_url, ws=targets.ws_url), encoding="utf-8"
            )
            workspace = load_workspace(path)
            assert check_secrets(workspace) == []  # every reference resolves
            clock = VirtualClock(DEMO_START)
            session = Session(workspace, clock, build_probe_sources(workspace))
            attach_workflow(session)
            recorder = FlightRecorder(session, tmp_path / "live.incident", commit_interval_s=0.05)
            recorder.start()
            add_note(session, "probes running with keyring secrets", starred=True)
            for step in range(6):
                if step == 4:
                    targets.http.password = "rotated-on-the-server"  # logins start failing
                session.poll_sources()
                session.drain()
                clock.advance(30)
            (tmp_path / "status.json").write_text(json.dumps(build_status(session)))
            assert recorder.close().state == "closed"
        yield tmp_path / "live.incident", targets
    finally:
        root.removeHandler(log_handler)
        log_handler.close()
        root.setLevel(old_level)
        targets.close()


def secrets_in(folder: Path, *secrets: str) -> dict[str, list[str]]:
    """Which files under ``folder`` contain which of ``secrets`` (as UTF-8 bytes)."""
    found: dict[str, list[str]] = {}
    for file in sorted(folder.rglob("*")):
        if file.is_file():
            data = file.read_bytes()
            hits = [s for s in secrets if s.encode() in data]
            if hits:
                found[str(file.relative_to(folder))] = hits
    return found


def test_no_file_the_console_writes_holds_a_secret(
    recorded: tuple[Path, ProbeTargets], tmp_path: Path
) -> None:
    recording, targets = recorded
    save_snapshot(recording, tmp_path / "saved.incident")
    with open_snapshot(recording) as snapshot:
        export_json(snapshot, tmp_path / "export.json")
        export_csv(snapshot, tmp_path / "csv")
        # the secrets were really used: the probes passed, then failed once the server rotated
        success = snapshot.series(("golden-path", "probe_success"))[1].tolist()
        assert success == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
        assert snapshot.series(("api-key", "probe_success"))[1].tolist() == [1.0] * 6
        kinds = {e.kind for e in snapshot.timeline()}
        assert {"note", "probe"} <= kinds
    assert any(r[1] == "/login" for r in targets.http.requests)
    written = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert {"live.incident", "saved.incident", "export.json", "console.log", "status.json"} <= set(
        written
    )
    assert "timeline.csv" in written
    workspace_text = (tmp_path / "incident.toml").read_text(encoding="utf-8")
    assert 'password = "keyring:golden-path-user"' in workspace_text  # a reference, not a secret
    assert secrets_in(tmp_path, PASSWORD, API_KEY, targets.token) == {}


@pytest.mark.gui
def test_the_post_incident_report_holds_no_secret(
    recorded: tuple[Path, ProbeTargets], tmp_path: Path
) -> None:
    report = pytest.importorskip("ui.incident_report")
    recording, targets = recorded
    report.write_report(recording, tmp_path / "report.html", tmp_path / "report-images")
    assert (tmp_path / "report.html").stat().st_size > 0
    assert secrets_in(tmp_path, PASSWORD, API_KEY, targets.token) == {}
