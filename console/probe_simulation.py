"""The demo's probes: answered by the simulated services as they are right now, not over sockets.

In a demo workspace every ``[[probes]]`` entry runs as a ``ProbeSource`` exactly as in a live
session (its own worker thread, interval, series, timeline entries); only its runner differs.
``SimulatedProbeRunner`` asks the simulation (``DemoSimulation.latest_values``) for the newest
values of the services the probe exercises and decides the run the way those services would
answer it. No URL is contacted and no secret is read: the demo runs offline, without a keyring.

- **HTTP probe** of a Cloud Run service (``service = "auth"``): the answer takes a latency drawn
  from the service's p50/p95 (lognormal); slower than the probe's ``timeout`` it times out;
  otherwise it is a 503 with the service's current error ratio as probability, else
  ``expect_status``. A synthetic service passes with its ``probe_success`` as probability. Other
  kinds (connector, database) are not HTTP endpoints and answer at once.
- **Golden path**: login is an HTTP call to the auth service (as above); the WebSocket handshake
  succeeds with the simulated WebSocket probe's success ratio and takes ~80 ms plus a backend
  round trip; the agent's five events then all arrive with the chat probe's success ratio given
  the handshake, else the run waits out its timeout for a missing event.

So while auth and backend fail (the seed incident) the golden-path probe fails, mostly at the
WebSocket or the events, sometimes at login; after the remediation it passes in about 1–2 s.

Draws are deterministic: a generator seeded by (simulation seed, probe id, second), so the same
demo gives the same probe results.
"""

from __future__ import annotations

import math
import random
import zlib
from statistics import NormalDist

from console.probes import ProbeResult
from console.simulation import DemoSimulation
from console.simulation_model import CHAT_AGENT_THINK_S, WEBSOCKET_HANDSHAKE_BASE_S
from console.workspace import ProbeSpec

#: How long a non-HTTP service (connector, database) takes to "answer" a probe.
INSTANT_ANSWER_MS = 40.0
#: The lognormal spread used when a service reports no usable p95.
DEFAULT_SIGMA = 0.35
_NORMAL = NormalDist()
_P95_Z = 1.6448536269514722


class SimulatedProbeRunner:
    """Runs probes against the demo simulation's current state (a ``ProbeRunner``)."""

    def __init__(self, simulation: DemoSimulation) -> None:
        self.simulation = simulation
        self.roles = simulation.role_services()

    def __call__(self, spec: ProbeSpec, now: float) -> ProbeResult:
        draw = random.Random(zlib.crc32(f"{self.simulation.seed}:{spec.id}:{int(now)}".encode()))
        if spec.kind == "http":
            return self._http(spec, now, draw)
        return self._golden_path(spec, now, draw)

    # -- answers ---------------------------------------------------------------------------------

    def _values(self, service_id: str | None) -> dict[str, float]:
        return self.simulation.latest_values(service_id) if service_id else {}

    def _kind(self, service_id: str | None) -> str | None:
        services = self.simulation.workspace.services
        return services[service_id].kind if service_id in services else None

    def _request(
        self, service_id: str | None, timeout_ms: float, draw: random.Random
    ) -> tuple[float, str]:
        """One simulated request: ``(latency_ms, outcome)`` with outcome ok, timeout or 503."""
        values = self._values(service_id)
        kind = self._kind(service_id)
        if kind == "cloud_run" and "latency_p50_ms" in values:
            latency = _lognormal(
                values["latency_p50_ms"], values.get("latency_p95_ms", math.nan), draw
            )
            if latency >= timeout_ms:
                return timeout_ms, "timeout"
            if draw.random() < values.get("error_ratio", 0.0):
                return latency, "503"
            return latency, "ok"
        if kind == "synthetic" and "probe_success" in values:
            latency = min(values.get("probe_latency_ms", INSTANT_ANSWER_MS), timeout_ms)
            if draw.random() >= values["probe_success"]:
                return timeout_ms, "timeout"
            return latency, "ok"
        return INSTANT_ANSWER_MS, "ok"

    def _http(self, spec: ProbeSpec, now: float, draw: random.Random) -> ProbeResult:
        timeout_ms = spec.timeout_s * 1000.0
        latency, outcome = self._request(spec.service, timeout_ms, draw)
        if outcome == "timeout":
            return ProbeResult(
                spec.id, now, False, latency, reason=f"timed out after {spec.timeout_s:g} s",
                failure="timeout", stopped_at="request",
            )  # fmt: skip
        if outcome == "503":
            return ProbeResult(
                spec.id, now, False, latency, reason=f"HTTP 503 (expected {spec.expect_status})",
                failure="status", stopped_at="request", status=503,
            )  # fmt: skip
        return ProbeResult(spec.id, now, True, latency, status=spec.expect_status)

    def _golden_path(self, spec: ProbeSpec, now: float, draw: random.Random) -> ProbeResult:
        expected = spec.events
        timeout_ms = spec.timeout_s * 1000.0
        total = len(expected)

        def failed(elapsed: float, stopped_at: str, failure: str, reason: str, **kw) -> ProbeResult:
            return ProbeResult(
                spec.id, now, False, elapsed, reason=reason, failure=failure,
                stopped_at=stopped_at, expected_events=total, **kw,
            )  # fmt: skip

        login_ms, outcome = self._request(self.roles.get("auth"), timeout_ms, draw)
        if outcome == "timeout":
            return failed(timeout_ms, "login", "timeout", f"timed out after {spec.timeout_s:g} s")
        if outcome == "503":
            return failed(
                login_ms, "login", "status", "HTTP 503 from login (expected 2xx)", status=503
            )
        backend = self._values(self.roles.get("backend"))
        backend_ms = _lognormal(
            backend.get("latency_p50_ms", 200.0), backend.get("latency_p95_ms", math.nan), draw
        )
        elapsed = login_ms + WEBSOCKET_HANDSHAKE_BASE_S * 1000.0 + backend_ms
        websocket_ok = self._values(self.roles.get("websocket")).get("probe_success", 1.0)
        if elapsed >= timeout_ms:
            reason = f"timed out after {spec.timeout_s:g} s"
            return failed(timeout_ms, "websocket", "timeout", reason, status=200)
        if draw.random() >= websocket_ok:
            reason = "WebSocket refused with HTTP 503"
            return failed(elapsed, "websocket", "status", reason, status=200)
        chat_ok = self._values(self.roles.get("chat")).get("probe_success", 1.0)
        all_events = min(1.0, chat_ok / websocket_ok) if websocket_ok > 0 else 0.0
        # The agent: started at once, thinks, runs a tool (a backend round trip), completes.
        answer_ms = _lognormal(
            backend.get("latency_p50_ms", 200.0), backend.get("latency_p95_ms", math.nan), draw
        )
        think_ms = CHAT_AGENT_THINK_S * 1000.0
        offsets = [50.0, 50.0 + think_ms / 2, think_ms, think_ms + answer_ms, think_ms + answer_ms]
        offsets += [offsets[-1]] * max(0, total - len(offsets))
        times = [elapsed + offset + 5.0 * i for i, offset in enumerate(offsets[:total])]
        stop_at = total
        if draw.random() >= all_events:
            stop_at = min(total - 1, int(draw.random() * total))
        arrived = [t for t in times[:stop_at] if t < timeout_ms]
        if len(arrived) < total:
            missing = expected[len(arrived)]
            return failed(
                timeout_ms, missing, "timeout",
                f"no {missing} within {spec.timeout_s:g} s ({len(arrived)}/{total} events)",
                events=expected[: len(arrived)], event_times_ms=tuple(arrived), status=200,
            )  # fmt: skip
        return ProbeResult(
            spec.id, now, True, times[-1], events=expected, event_times_ms=tuple(times),
            expected_events=total, status=200,
        )  # fmt: skip


def _lognormal(median_ms: float, p95_ms: float, draw: random.Random) -> float:
    """A latency around ``median_ms`` whose 95th percentile is ``p95_ms``."""
    if not median_ms > 0:
        return INSTANT_ANSWER_MS
    sigma = DEFAULT_SIGMA
    if p95_ms == p95_ms and p95_ms > median_ms:
        sigma = math.log(p95_ms / median_ms) / _P95_Z
    u = min(max(draw.random(), 1e-9), 1 - 1e-9)
    return median_ms * math.exp(sigma * _NORMAL.inv_cdf(u))
