"""Synthetic probes against real HTTP and WebSocket servers on 127.0.0.1 (tests/probe_servers.py).

Every failure the issue lists is provoked for real: a slow server, a wrong status, a missing
event, events out of order, a refused connection, TLS errors (https against a plain server, a
self-signed certificate), a server closing mid-stream. Secrets come from an in-memory keyring
backend and must never show up in results, timeline entries, statuses or logs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from console.clock import VirtualClock
from console.keyring_secrets import KEYRING_SERVICE
from console.probes import (
    NetworkProbeRunner,
    ProbeResult,
    ProbeSource,
    run_golden_path_probe,
    run_http_probe,
)
from console.session import Session
from console.workspace import GOLDEN_PATH_EVENTS, ProbeSpec
from tests.conftest import DEMO_START
from tests.probe_servers import (
    SLOW_S,
    ProbeTargets,
    TlsServer,
    free_port,
    memory_keyring,
    self_signed_certificate,
)

PASSWORD = "pw-Gr33n-Tr0mb0ne-4417"


@pytest.fixture
def targets() -> Iterator[ProbeTargets]:
    servers = ProbeTargets(PASSWORD)
    yield servers
    servers.close()


@pytest.fixture
def secrets_keyring() -> Iterator[keyring.backend.KeyringBackend]:
    with memory_keyring() as backend:
        backend.set_password(KEYRING_SERVICE, "golden-path-user", PASSWORD)
        yield backend


def http_spec(url: str, **changes: object) -> ProbeSpec:
    spec = ProbeSpec(id="api", name="API /health", kind="http", url=url, timeout_s=5.0)
    return replace(spec, **changes)  # type: ignore[arg-type]


def golden_spec(targets: ProbeTargets, path: str = "/chat", **changes: object) -> ProbeSpec:
    spec = ProbeSpec(
        id="golden-path",
        name="Login → AI response",
        kind="golden_path",
        login_url=f"{targets.http_url}/login",
        websocket_url=f"{targets.ws_url}{path}",
        username="probe@example.com",
        password="keyring:golden-path-user",
        timeout_s=5.0,
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def run(spec: ProbeSpec) -> ProbeResult:
    return NetworkProbeRunner()(spec, DEMO_START)


# -- HTTP probes ---------------------------------------------------------------------------------


def test_http_probe_passes_on_the_expected_status(targets: ProbeTargets) -> None:
    result = run(http_spec(f"{targets.http_url}/health"))
    assert result.ok and result.status == 200 and result.reason == ""
    assert 0 < result.duration_ms < 5000
    assert result.t == DEMO_START
    assert result.summary().startswith("✔ ")


def test_http_probe_reports_a_wrong_status(targets: ProbeTargets) -> None:
    result = run(http_spec(f"{targets.http_url}/unavailable"))
    assert not result.ok
    assert (result.failure, result.status, result.stopped_at) == ("status", 503, "request")
    assert result.reason == "HTTP 503 (expected 200)"


def test_http_probe_does_not_follow_redirects(targets: ProbeTargets) -> None:
    moved = http_spec(f"{targets.http_url}/moved")
    assert run(moved).status == 301 and not run(moved).ok
    assert run(replace(moved, expect_status=301)).ok


def test_http_probe_times_out_on_a_slow_server(targets: ProbeTargets) -> None:
    result = run(http_spec(f"{targets.http_url}/slow", timeout_s=0.3))
    assert not result.ok
    assert result.failure == "timeout"
    assert result.reason == "timed out after 0.3 s"
    assert 250 <= result.duration_ms < SLOW_S * 1000


def test_http_probe_reports_a_refused_connection() -> None:
    result = run(http_spec(f"http://127.0.0.1:{free_port()}/health"))
    assert not result.ok and result.failure == "connection"
    assert "connection refused" in result.reason


def test_http_probe_reports_https_against_a_plain_server_as_a_tls_error(
    targets: ProbeTargets,
) -> None:
    plain = targets.http_url.replace("http://", "https://")
    result = run(http_spec(f"{plain}/health"))
    assert not result.ok and result.failure == "tls"
    assert result.reason.startswith("TLS error")


def test_http_probe_refuses_a_self_signed_certificate_unless_trusted(tmp_path: Path) -> None:
    made = self_signed_certificate(tmp_path)
    if made is None:
        pytest.skip("the openssl command is not available to make a certificate")
    cert, key = made
    server = TlsServer(cert, key)
    try:
        untrusted = run(http_spec(f"{server.url}/health"))
        trusted = run(http_spec(f"{server.url}/health", ca_file=str(cert)))
    finally:
        server.close()
    assert not untrusted.ok and untrusted.failure == "tls"
    assert "certificate not trusted" in untrusted.reason
    assert trusted.ok and trusted.status == 200


def test_http_probe_reports_a_server_hanging_up(targets: ProbeTargets) -> None:
    result = run(http_spec(f"{targets.http_url}/hang-up"))
    assert not result.ok
    assert result.failure in ("closed", "connection")
    assert result.stopped_at == "request"


def test_http_probe_sends_a_secret_header_from_the_keyring(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    spec = http_spec(f"{targets.http_url}/needs-key", headers={"X-Api-Key": "keyring:api-key"})
    secrets_keyring.set_password(KEYRING_SERVICE, "api-key", PASSWORD)
    assert run(spec).ok
    assert targets.http.requests[-1][2]["X-Api-Key"] == PASSWORD
    secrets_keyring.set_password(KEYRING_SERVICE, "api-key", "wrong")
    assert run(spec).status == 401


# -- the golden path ------------------------------------------------------------------------------


def test_golden_path_passes_with_all_five_events_in_order(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    result = run(golden_spec(targets))
    assert result.ok, result.reason
    assert result.events == GOLDEN_PATH_EVENTS
    assert result.expected_events == 5
    assert list(result.event_times_ms) == sorted(result.event_times_ms)
    assert result.event_times_ms[-1] <= result.duration_ms
    assert result.summary().endswith("5/5 events")
    # the login carried the password from the keyring, the WebSocket the token it returned
    login = next(r for r in targets.http.requests if r[1] == "/login")
    assert login[0] == "POST"
    assert targets.websocket_requests[-1]["Authorization"] == f"Bearer {targets.token}"


def test_golden_path_stops_at_login_with_a_wrong_password(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    secrets_keyring.set_password(KEYRING_SERVICE, "golden-path-user", "not-the-password")
    result = run(golden_spec(targets))
    assert not result.ok
    assert (result.stopped_at, result.status, result.failure) == ("login", 401, "status")
    assert result.events == ()
    assert not targets.websocket_requests  # never got as far as the WebSocket


@pytest.mark.parametrize(
    ("login_path", "reason"),
    [
        ("/login-down", "HTTP 503 from login (expected 2xx)"),
        ("/login-no-token", "login answered 200 without a token at 'access_token'"),
    ],
)
def test_golden_path_login_failures(
    targets: ProbeTargets,
    secrets_keyring: keyring.backend.KeyringBackend,
    login_path: str,
    reason: str,
) -> None:
    result = run(golden_spec(targets, login_url=f"{targets.http_url}{login_path}"))
    assert not result.ok and result.stopped_at == "login"
    assert result.reason == reason


def test_golden_path_waits_for_a_missing_event_until_its_timeout(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    result = run(golden_spec(targets, "/missing", timeout_s=1.0))
    assert not result.ok
    assert result.stopped_at == "tool_completed"
    assert result.failure == "timeout"
    assert result.events == ("agent_started", "agent_thinking", "tool_executing")
    assert result.reason == "no tool_completed within 1 s (3/5 events)"
    assert result.duration_ms >= 950


def test_golden_path_fails_on_events_out_of_order(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    result = run(golden_spec(targets, "/out-of-order"))
    assert not result.ok and result.failure == "events"
    assert result.stopped_at == "agent_thinking"
    assert result.events == ("agent_started",)
    assert "tool_executing arrived before agent_thinking" in result.reason


def test_golden_path_fails_when_the_agent_completes_without_an_event(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    result = run(golden_spec(targets, "/skipped"))
    assert not result.ok and result.failure == "events"
    assert result.stopped_at == "tool_completed"
    assert "agent_completed arrived before tool_completed (3/5 events)" in result.reason


def test_golden_path_reports_the_server_closing_mid_stream(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    result = run(golden_spec(targets, "/close-mid-stream"))
    assert not result.ok and result.failure == "closed"
    assert result.events == ("agent_started", "agent_thinking")
    assert result.stopped_at == "tool_executing"
    assert "closed the WebSocket after agent_thinking (2/5 events)" in result.reason


def test_golden_path_reports_a_refused_websocket_handshake(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    result = run(golden_spec(targets, "/unavailable"))
    assert not result.ok
    assert (result.stopped_at, result.failure) == ("websocket", "status")
    assert result.reason == "WebSocket refused with HTTP 503"


def test_golden_path_reports_a_websocket_nobody_listens_on(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    spec = golden_spec(targets, websocket_url=f"ws://127.0.0.1:{free_port()}/chat")
    result = run(spec)
    assert not result.ok and result.stopped_at == "websocket"
    assert "connection refused" in result.reason


def test_golden_path_wss_against_a_plain_server_is_a_tls_error(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    spec = golden_spec(targets, websocket_url=targets.ws_url.replace("ws://", "wss://") + "/chat")
    result = run(spec)
    assert not result.ok and result.stopped_at == "websocket"
    assert result.failure == "tls"


def test_golden_path_times_out_on_a_slow_agent(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    result = run(golden_spec(targets, "/slow", timeout_s=0.5))
    assert not result.ok and result.failure == "timeout"
    assert result.stopped_at == "agent_started"
    assert result.duration_ms < SLOW_S * 1000


# -- as a source ---------------------------------------------------------------------------------


def test_probe_source_runs_when_due_writes_series_and_notes_changes(
    targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    spec = golden_spec(targets, interval_s=30.0)
    source = ProbeSource(spec, NetworkProbeRunner())
    first = source.poll(DEMO_START)
    assert first.status is not None and first.status.state == "ok"
    assert set(first.samples) == {
        ("golden-path", "probe_success"),
        ("golden-path", "probe_latency_ms"),
        ("golden-path", "probe_events"),
    }
    assert first.samples[("golden-path", "probe_success")][1].tolist() == [1.0]
    assert first.samples[("golden-path", "probe_events")][1].tolist() == [5.0]
    assert [e.text for e in first.timeline] == [
        f"Login → AI response probe passes ({source.last_result.summary()[2:]})"  # type: ignore[union-attr]
    ]
    assert source.poll(DEMO_START + 10).is_empty()  # not due yet
    same = source.poll(DEMO_START + 30)
    assert same.samples and not same.timeline  # still passing: nothing new to say
    targets.http.password = "rotated"  # the probe's secret no longer logs in
    once = source.poll(DEMO_START + 60)
    assert once.samples[("golden-path", "probe_success")][1].tolist() == [0.0]
    assert not once.timeline  # one odd run is not news yet
    broken = source.poll(DEMO_START + 90)
    assert broken.timeline[0].kind == "probe"
    assert broken.timeline[0].text == (
        "Login → AI response probe fails at login: HTTP 401 from login (expected 2xx)"
    )
    assert broken.timeline[0].fields["stopped_at"] == "login"


def test_a_missing_secret_is_an_error_status_not_a_crash(targets: ProbeTargets) -> None:
    with memory_keyring() as backend:
        source = ProbeSource(golden_spec(targets), NetworkProbeRunner())
        batch = source.poll(DEMO_START)
        assert batch.status is not None and batch.status.state == "error"
        assert batch.status.message.startswith("secret missing: ")
        assert "'golden-path-user' is not in the keyring" in batch.status.message
        assert not batch.samples  # nothing measured: criteria over it stay unmeasurable
        backend.set_password(KEYRING_SERVICE, "golden-path-user", PASSWORD)
        assert source.poll(DEMO_START + 30).samples


def test_no_keyring_at_all_reads_as_secret_missing(targets: ProbeTargets) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        batch = ProbeSource(golden_spec(targets), NetworkProbeRunner()).poll(DEMO_START)
    finally:
        keyring.set_keyring(previous)
    assert batch.status is not None and batch.status.state == "error"
    assert "secret missing: no keyring is available" in batch.status.message


def test_probes_run_on_worker_threads_and_feed_the_session(
    demo_workspace, targets: ProbeTargets, secrets_keyring: keyring.backend.KeyringBackend
) -> None:
    sources = [
        ProbeSource(golden_spec(targets), NetworkProbeRunner()),
        ProbeSource(http_spec(f"{targets.http_url}/health"), NetworkProbeRunner()),
    ]
    session = Session(demo_workspace, VirtualClock(DEMO_START), sources)
    arrived = threading.Event()
    delivered: list[int] = []

    def on_batch() -> None:
        delivered.append(1)
        if len(delivered) >= 2:
            arrived.set()

    session.set_wakeup(on_batch)
    caller = threading.get_ident()
    session.start()
    try:
        assert arrived.wait(20), "the probes did not report"
        assert all(t.ident != caller for t in session.running_threads())
    finally:
        session.stop()
    session.drain()
    assert session.store.latest(("golden-path", "probe_success")) == (DEMO_START, 1.0)
    assert session.store.latest(("api", "probe_success")) == (DEMO_START, 1.0)
    assert session.source_statuses["probe api"].message == "every 30s"


def test_secrets_never_reach_results_statuses_timeline_or_logs(
    targets: ProbeTargets,
    secrets_keyring: keyring.backend.KeyringBackend,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything any library logs, websockets' wire log too
    texts: list[str] = []
    for path in ("/chat", "/missing", "/close-mid-stream"):
        source = ProbeSource(golden_spec(targets, path, timeout_s=1.0), NetworkProbeRunner())
        batch = source.poll(DEMO_START)
        texts += [repr(source.last_result), repr(batch.status)]
        texts += [json.dumps(e.fields) + e.text for e in batch.timeline]
    direct = run_golden_path_probe(golden_spec(targets), DEMO_START, PASSWORD)
    header = run_http_probe(
        http_spec(f"{targets.http_url}/needs-key"), DEMO_START, {"X-Api-Key": PASSWORD}, [PASSWORD]
    )
    texts += [repr(direct), repr(header)]
    everything = "\n".join([*texts, caplog.text])
    assert PASSWORD not in everything
    assert targets.token not in everything
