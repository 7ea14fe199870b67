"""Synthetic probes: HTTP requests and the golden path, run as sources with explicit timeouts.

A probe is declared in the workspace (``[[probes]]``, model ``console.workspace.ProbeSpec``) and
runs as its own ``ProbeSource`` on a worker thread (``console.source_runner``), once per
``interval``. Each run gives a ``ProbeResult`` and three series under the probe's id:
``probe_success`` (1 or 0 per run), ``probe_latency_ms`` (the run's duration) and, for the golden
path, ``probe_events`` (how many of the expected agent events arrived in order). The first result
and every change of outcome confirmed by two runs in a row go on the timeline (kind ``probe``).

- **HTTP**: one request (``method``, ``url``, ``headers``), passes when the answer has
  ``expect_status`` within ``timeout``. Redirects are not followed (expect the 301 if that is
  what a healthy endpoint says).
- **Golden path**: ``POST login_url`` with JSON ``{"username": …, "password": …}``, which must
  answer 2xx with a token at ``token_field`` (a dotted path); then the chat WebSocket at
  ``websocket_url`` with ``Authorization: Bearer <token>``; send
  ``{"type": "user_message", "payload": {"content": message}}`` and wait for the agent's events
  (JSON frames whose ``type``, or ``event``, names them) in order: ``agent_started``,
  ``agent_thinking``, ``tool_executing``, ``tool_completed``, ``agent_completed``. Repeats of an
  event already seen are fine (several tools); an event that jumps ahead of the next expected
  one fails the run as out of order. The whole run shares one ``timeout``.

A failing target is a measurement, not an error: the run's result says where it stopped and why
(``reason``), the source stays ``ok``. A secret that cannot be read (``keyring:NAME`` not in the
keyring, no keyring at all) means the probe cannot run: its source turns ``error`` with
"secret missing: …" and no sample is written, so criteria over it read "not yet measurable".

Secrets are resolved from the OS keyring at each run, on the worker thread, and never leave this
module: results, reasons, timeline entries and statuses are redacted of the password, the token
and secret header values, and the WebSocket library's wire log is silenced (it would log the
``Authorization`` header at DEBUG level).

Durations are measured with a monotonic timer (a network round trip takes real time); the
samples' timestamps come from the session's clock (``now``). The demo answers the same probes
from the simulation instead of sockets: ``console.probe_simulation``.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from console.durations import format_duration
from console.keyring_secrets import SecretUnavailableError, is_reference, resolve_reference
from console.sources import Batch, SourceStatus
from console.timeline import TimelineEntry
from console.units import format_value
from console.workspace import ProbeSpec

#: Bytes of an HTTP answer read (the whole answer must arrive within the timeout).
MAX_BODY_BYTES = 256 * 1024
#: Seconds the WebSocket close handshake may take after a finished (or failed) run.
CLOSE_TIMEOUT_S = 1.0
#: What replaces a secret in any text the probe produces.
REDACTED = "•••"

# websockets logs every handshake header (the bearer token) at DEBUG: give it a logger that
# never emits, so no logging configuration can ever write the token anywhere.
_WIRE_LOGGER = logging.getLogger("console.probes.wire")
_WIRE_LOGGER.setLevel(logging.CRITICAL + 1)
_WIRE_LOGGER.propagate = False
_WIRE_LOGGER.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class ProbeResult:
    """One run of one probe: passed or not, how long it took, and where and why it stopped."""

    probe: str
    #: When the run started (session clock).
    t: float
    ok: bool
    duration_ms: float
    #: Why it failed, for people ("HTTP 503 (expected 200)"); "" when it passed.
    reason: str = ""
    #: A short class of failure: timeout, status, connection, tls, protocol, events, closed.
    failure: str = ""
    #: The step where it stopped: "request", "login", "websocket", "send" or the event it was
    #: waiting for; "" when it completed.
    stopped_at: str = ""
    #: Expected events that arrived, in order (golden path only).
    events: tuple[str, ...] = ()
    #: Milliseconds from the start of the run to each event in ``events``.
    event_times_ms: tuple[float, ...] = ()
    #: How many events the probe expects (0 for HTTP probes).
    expected_events: int = 0
    #: The HTTP status of the request (or of the login), when one arrived.
    status: int | None = None

    def summary(self) -> str:
        """One line: ``✔ 1.2 s · 5/5 events`` or ``✖ login: HTTP 503 (expected 200) · 4.2 s``."""
        took = format_value(self.duration_ms, "ms")
        events = ""
        if self.expected_events:
            events = f" · {len(self.events)}/{self.expected_events} events"
        if self.ok:
            return f"✔ {took}{events}"
        where = f"{self.stopped_at}: " if self.stopped_at else ""
        return f"✖ {where}{self.reason} · {took}{events}"

    def timeline_fields(self) -> dict[str, Any]:
        """JSON-ready details for a timeline entry (never a secret: results hold none)."""
        return {
            "probe": self.probe,
            "ok": self.ok,
            "duration_ms": round(self.duration_ms, 1),
            "reason": self.reason,
            "failure": self.failure,
            "stopped_at": self.stopped_at,
            "events": list(self.events),
            "event_times_ms": [round(ms, 1) for ms in self.event_times_ms],
            "expected_events": self.expected_events,
            "status": self.status,
        }


#: Runs one probe at session time ``now``; raises ``SecretUnavailableError`` when it cannot run.
ProbeRunner = Callable[[ProbeSpec, float], ProbeResult]


class ProbeSource:
    """One probe as a ``Source``: runs when due, writes its series, notes changes on the timeline.

    ``poll`` runs the probe only when ``interval`` has passed since the last run (by the session
    clock), so a synchronous caller that polls often (tests, ``status``) runs it at its own pace.
    ``last_result`` is the newest result (read from any thread; replaced whole, never mutated).
    """

    expected_delay_s = 0.0

    def __init__(self, spec: ProbeSpec, runner: ProbeRunner) -> None:
        self.spec = spec
        self.name = f"probe {spec.id}"
        self.interval_s = spec.interval_s
        self.runner = runner
        self.last_result: ProbeResult | None = None
        self._last_run_t: float | None = None
        #: The outcome last written on the timeline: (passed, where it stopped, failure class).
        self._announced: tuple[bool, str, str] | None = None
        self._closed = False

    def due(self, now: float) -> bool:
        """True when the probe should run at ``now``."""
        if self._last_run_t is None:
            return True
        return now - self._last_run_t >= self.interval_s * 0.99

    def poll(self, now: float) -> Batch:
        """Run the probe if due; a failing target is data, a missing secret is an error status."""
        batch = Batch(self.name)
        if self._closed:
            batch.status = SourceStatus(self.name, "stopped", "probe stopped")
            return batch
        if not self.due(now):
            return batch
        self._last_run_t = now
        try:
            result = self.runner(self.spec, now)
        except SecretUnavailableError as exc:
            batch.status = SourceStatus(self.name, "error", f"secret missing: {exc}")
            return batch
        stamp = np.array([result.t])
        batch.add((self.spec.id, "probe_success"), stamp, np.array([1.0 if result.ok else 0.0]))
        batch.add((self.spec.id, "probe_latency_ms"), stamp, np.array([result.duration_ms]))
        if self.spec.kind == "golden_path":
            batch.add((self.spec.id, "probe_events"), stamp, np.array([float(len(result.events))]))
        entry = self._change_entry(self.last_result, result)
        if entry is not None:
            batch.timeline.append(entry)
        self.last_result = result
        # The source works; how the target fares is the result's business (series, timeline).
        batch.status = SourceStatus(self.name, "ok", f"every {format_duration(self.interval_s)}")
        return batch

    def close(self) -> None:
        """Stop running; later polls report the probe as stopped."""
        self._closed = True

    def _change_entry(self, before: ProbeResult | None, after: ProbeResult) -> TimelineEntry | None:
        """A timeline entry when the probe starts passing or failing, or fails somewhere else.

        The first result is always noted; after that a new outcome is noted once two runs in a
        row agree on it, so a single odd run of a flapping probe is not news.
        """
        key = (after.ok, after.stopped_at, after.failure)
        confirmed = before is not None and (before.ok, before.stopped_at, before.failure) == key
        if self._announced is not None and (key == self._announced or not confirmed):
            return None
        first = self._announced is None
        self._announced = key
        name = self.spec.name
        if after.ok:
            verb = "passes" if first else "passes again"
            text = f"{name} probe {verb} ({after.summary().removeprefix('✔ ')})"
        else:
            where = f" at {after.stopped_at}" if after.stopped_at else ""
            text = f"{name} probe fails{where}: {after.reason}"
        return TimelineEntry(after.t, "probe", text, after.timeline_fields())


# -- the network probes --------------------------------------------------------------------------


class NetworkProbeRunner:
    """Runs probes against the real endpoints, with secrets read from the keyring at each run."""

    def __call__(self, spec: ProbeSpec, now: float) -> ProbeResult:
        headers = {
            name: resolve_reference(value) if is_reference(value) else value
            for name, value in spec.headers.items()
        }
        if spec.kind == "http":
            secrets = [v for k, v in headers.items() if is_reference(spec.headers[k])]
            return run_http_probe(spec, now, headers, secrets)
        password = resolve_reference(spec.password) if spec.password else ""
        return run_golden_path_probe(spec, now, password, headers)


def ssl_context(spec: ProbeSpec) -> ssl.SSLContext:
    """The TLS settings of a probe: the system's trust store, or only ``ca_file`` if given."""
    if spec.ca_file:
        return ssl.create_default_context(cafile=spec.ca_file)
    return ssl.create_default_context()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx arrives as an HTTPError and is compared with expect_status


@dataclass
class _Run:
    """Bookkeeping of one run: its budget, its clock and the texts to keep secret."""

    spec: ProbeSpec
    t: float
    secrets: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0

    def remaining_s(self) -> float:
        return self.spec.timeout_s - (time.perf_counter() - self.started)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, REDACTED)
        return text

    def result(self, ok: bool, **kwargs: Any) -> ProbeResult:
        reason = self.redact(kwargs.pop("reason", ""))
        return ProbeResult(self.spec.id, self.t, ok, self.elapsed_ms(), reason=reason, **kwargs)


def _http_request(
    run: _Run,
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes | None = None,
) -> tuple[int, bytes]:
    """One request within the run's remaining budget: ``(status, body)``. Raises ``OSError``
    (timeouts, refusals, TLS) and ``urllib.error.HTTPError`` is turned into its status."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ssl_context(run.spec)), _NoRedirect()
    )
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    budget = run.remaining_s()
    if budget <= 0:
        raise TimeoutError("no time left")
    try:
        response = opener.open(request, timeout=budget)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, b""
    with response:
        status = response.status
        data = response.read(MAX_BODY_BYTES)
    if run.remaining_s() < 0:
        raise TimeoutError("the answer arrived too late")
    return status, data


def describe_network_error(error: BaseException, timeout_s: float) -> tuple[str, str]:
    """``(failure, reason)`` for an exception of a network call: what a person should read."""
    if isinstance(error, urllib.error.URLError) and not isinstance(error.reason, str):
        error = error.reason  # type: ignore[assignment]
    if isinstance(error, ssl.SSLCertVerificationError):
        detail = error.verify_message or str(error)
        return "tls", f"TLS error: certificate not trusted ({detail})"
    if isinstance(error, ssl.SSLError):
        detail = error.reason or str(error)
        return "tls", f"TLS error: {detail} (is it really https/wss?)"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timeout", f"timed out after {timeout_s:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection", "connection refused (nothing listens there)"
    if isinstance(error, socket.gaierror):
        return "connection", f"host name not resolved ({error.strerror or error})"
    if isinstance(error, http.client.RemoteDisconnected | ConnectionResetError | EOFError):
        return "closed", "the server closed the connection without an answer"
    if isinstance(error, http.client.HTTPException):
        return "protocol", f"bad HTTP answer: {type(error).__name__}"
    if isinstance(error, urllib.error.URLError):
        return "connection", f"cannot connect: {error.reason}"
    if isinstance(error, OSError):
        return "connection", f"network error: {error.strerror or error}"
    return "protocol", f"{type(error).__name__}: {error}"


def run_http_probe(
    spec: ProbeSpec, now: float, headers: dict[str, str], secrets: Iterable[str] = ()
) -> ProbeResult:
    """One HTTP probe run: the request, compared with ``expect_status``, within ``timeout``."""
    run = _Run(spec, now, list(secrets))
    try:
        status, _ = _http_request(run, spec.url, spec.method, headers)
    except (OSError, http.client.HTTPException, ValueError) as error:
        failure, reason = describe_network_error(error, spec.timeout_s)
        return run.result(False, reason=reason, failure=failure, stopped_at="request")
    if status != spec.expect_status:
        return run.result(
            False,
            reason=f"HTTP {status} (expected {spec.expect_status})",
            failure="status",
            stopped_at="request",
            status=status,
        )
    return run.result(True, status=status)


def _token_at(document: object, dotted: str) -> str | None:
    for part in dotted.split("."):
        if not isinstance(document, dict) or part not in document:
            return None
        document = document[part]
    return document if isinstance(document, str) and document else None


def run_golden_path_probe(
    spec: ProbeSpec, now: float, password: str, headers: dict[str, str] | None = None
) -> ProbeResult:
    """One golden-path run: login, chat WebSocket, the agent's events in order, within
    ``timeout``."""
    secrets = [password, *(v for k, v in (headers or {}).items() if is_reference(spec.headers[k]))]
    run = _Run(spec, now, secrets)
    expected = spec.events
    body = json.dumps({"username": spec.username, "password": password}).encode()
    login_headers = {**(headers or {}), "Content-Type": "application/json"}

    def login_failed(failure: str, reason: str, status: int | None = None) -> ProbeResult:
        return run.result(
            False,
            reason=reason,
            failure=failure,
            stopped_at="login",
            status=status,
            expected_events=len(expected),
        )

    try:
        status, data = _http_request(run, spec.login_url, "POST", login_headers, body)
    except (OSError, http.client.HTTPException, ValueError) as error:
        return login_failed(*describe_network_error(error, spec.timeout_s))
    if not 200 <= status < 300:
        return login_failed("status", f"HTTP {status} from login (expected 2xx)", status)
    try:
        token = _token_at(json.loads(data), spec.token_field)
    except (ValueError, UnicodeDecodeError):
        token = None
    if token is None:
        reason = f"login answered {status} without a token at {spec.token_field!r}"
        return login_failed("protocol", reason, status)
    run.secrets.append(token)
    return _chat(run, token, headers or {}, status)


def _chat(run: _Run, token: str, headers: dict[str, str], login_status: int) -> ProbeResult:
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
    from websockets.sync.client import connect

    spec = run.spec
    expected = spec.events
    arrived: list[str] = []
    times: list[float] = []

    def failed(stopped_at: str, failure: str, reason: str) -> ProbeResult:
        return run.result(
            False,
            reason=reason,
            failure=failure,
            stopped_at=stopped_at,
            events=tuple(arrived),
            event_times_ms=tuple(times),
            expected_events=len(expected),
            status=login_status,
        )

    budget = run.remaining_s()
    if budget <= 0:
        return failed("websocket", "timeout", f"timed out after {spec.timeout_s:g} s")
    secure = spec.websocket_url.lower().startswith("wss:")
    try:
        connection = connect(
            spec.websocket_url,
            additional_headers={**headers, "Authorization": f"Bearer {token}"},
            open_timeout=budget,
            close_timeout=CLOSE_TIMEOUT_S,
            ssl=ssl_context(spec) if secure else None,
            logger=_WIRE_LOGGER,
        )
    except InvalidStatus as error:
        code = error.response.status_code
        return failed("websocket", "status", f"WebSocket refused with HTTP {code}")
    except InvalidHandshake as error:
        return failed("websocket", "protocol", f"WebSocket handshake failed: {error}")
    except (OSError, ValueError) as error:
        failure, reason = describe_network_error(error, spec.timeout_s)
        return failed("websocket", failure, reason)
    with connection:
        message = {"type": "user_message", "payload": {"content": spec.message}}
        try:
            connection.send(json.dumps(message))
        except ConnectionClosed:
            return failed("send", "closed", "the server closed the WebSocket before the message")
        next_index = 0
        while next_index < len(expected):
            waiting_for = expected[next_index]
            so_far = f"({next_index}/{len(expected)} events)"
            remaining = run.remaining_s()
            if remaining <= 0:
                return failed(
                    waiting_for, "timeout", f"no {waiting_for} within {spec.timeout_s:g} s {so_far}"
                )
            try:
                frame = connection.recv(timeout=remaining)
            except TimeoutError:
                return failed(
                    waiting_for, "timeout", f"no {waiting_for} within {spec.timeout_s:g} s {so_far}"
                )
            except ConnectionClosed:
                after = f" after {arrived[-1]}" if arrived else ""
                return failed(
                    waiting_for, "closed", f"the server closed the WebSocket{after} {so_far}"
                )
            event = _event_type(frame)
            if event is None or event not in expected:
                continue  # heartbeats, progress text, other messages
            position = expected.index(event)
            if position < next_index:
                continue  # a repeat (another tool call, more thinking)
            if position > next_index:
                return failed(
                    waiting_for,
                    "events",
                    f"events out of order: {event} arrived before {waiting_for} {so_far}",
                )
            arrived.append(event)
            times.append(run.elapsed_ms())
            next_index += 1
    return run.result(
        True,
        events=tuple(arrived),
        event_times_ms=tuple(times),
        expected_events=len(expected),
        status=login_status,
    )


def _event_type(frame: str | bytes) -> str | None:
    try:
        message = json.loads(frame)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(message, dict):
        return None
    event = message.get("type", message.get("event"))
    return event if isinstance(event, str) else None
