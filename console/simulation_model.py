"""The causal model behind the demo simulation: the seed incident (Issue #1278), second by second.

Chain: capacity → utilisation → queueing → latency → timeouts → 503s → blocked dependents.
Cloud Run revisions hold database connections through the VPC connector; the connector's demand
is those connections plus the traffic it carries; when demand reaches its capacity
(instances × machine-type capacity) requests queue, latency grows, the slowest requests time out
as 503s and the probes of the golden path (WebSocket, chat) fail. ``docs/simulation.md`` explains
the model and its numbers; every tunable number is a named constant below.

The model is pure: no threads, no locks, no clock. ``IncidentModel.advance(t_end)`` computes every
second up to ``t_end`` and returns the samples. Randomness is counter-based: the noise of simulated
second ``t`` comes from a generator seeded with ``(seed, t // NOISE_BLOCK_S)``, so the output never
depends on how the time span was cut into calls. Memory does not grow with simulated time: the
model keeps one noise block, fixed-size probe windows and a 59-second carry of error counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from console.sources import LogEntry

# ---------------------------------------------------------------------------------------------
# API-facing types
# ---------------------------------------------------------------------------------------------


class SimulatedApiError(Exception):
    """A change the real Google API would refuse (INVALID_ARGUMENT, NOT_FOUND, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.detail = message


@dataclass(frozen=True)
class ConnectorSettings:
    """A Serverless VPC Access connector as the API describes it."""

    min_instances: int
    max_instances: int
    machine_type: str
    #: Instances provisioned right now (connectors scale out, never in).
    instances: int


@dataclass(frozen=True)
class Revision:
    """One Cloud Run revision of a service."""

    name: str
    traffic_percent: int
    instances: int
    ready: bool = True


@dataclass(frozen=True)
class ServiceSettings:
    """A Cloud Run service's scaling limits and its revisions."""

    min_instances: int
    max_instances: int
    revisions: tuple[Revision, ...]


# ---------------------------------------------------------------------------------------------
# Model constants (see docs/simulation.md for where each number comes from)
# ---------------------------------------------------------------------------------------------

#: Connector capacity of one instance, in e2-micro instance-equivalents.
MACHINE_TYPE_CAPACITY: dict[str, float] = {"f1-micro": 0.5, "e2-micro": 1.0, "e2-standard-4": 4.0}
#: The real API's limits for a connector (Google docs, gcloud, the Terraform provider).
CONNECTOR_MIN_INSTANCES_FLOOR = 2
CONNECTOR_MAX_INSTANCES_RANGE = (3, 10)
#: Cloud Run limits checked by ``scale_service`` (max instances default 100, quota 1000).
CLOUD_RUN_MAX_INSTANCES_LIMIT = 1000

#: Seconds between two connector instances added by its autoscaler (the report: "30 s").
CONNECTOR_SCALE_STEP_S = 30
#: Seconds to replace one instance after a machine-type change.
CONNECTOR_REPLACE_STEP_S = 30
#: The autoscaler adds instances while demand exceeds this fraction of capacity.
CONNECTOR_TARGET_UTILIZATION = 0.7
#: Connector demand (e2-micro units) per open database connection through it (keep-alives, TLS).
DEMAND_PER_CONNECTION = 0.041
#: Demand from other staging workloads sharing the connector (Redis, internal APIs), × load.
DEMAND_SHARED = 1.0
#: Demand per request per second carried for auth and backend.
DEMAND_PER_AUTH_RPS = 0.1
DEMAND_PER_BACKEND_RPS = 0.6
#: Extra demand from reconnect churn: pools reopen dropped connections (× drop probability).
DEMAND_RECONNECT_CHURN = 0.2
#: Bytes per second the connector moves per e2-micro unit of carried demand.
SENT_BYTES_PER_UNIT = 2.6e6
RECEIVED_BYTES_PER_UNIT = 3.9e6

#: Connector queueing: per-round-trip wait W(ρ) = W_REF · exp(BETA · (ρ − RHO_REF)) below RHO_REF
#: and its tangent W_REF · (1 + BETA · (ρ − RHO_REF)) above it (timeouts and drops bound the queue,
#: and a bounded slope keeps the feedback loops through instances and reconnects stable).
QUEUE_WAIT_REF_S = 1.15
QUEUE_RHO_REF = 1.13
QUEUE_BETA = 10.0
QUEUE_WAIT_MAX_S = 60.0
#: Time constant (s) of the connector's backlog following its utilisation.
QUEUE_TAU_S = 60.0
#: Width of the soft knee of the drop probability around ρ = 1.
DROP_KNEE_WIDTH = 0.02

#: Cloud Run request queueing when instances × concurrency do not cover the in-flight requests.
RUN_QUEUE_WAIT_S = 0.25
RUN_QUEUE_BETA = 6.0
#: Clients retry failed requests: offered rate × (1 + RETRY_GAIN × error ratio).
RETRY_GAIN = 0.5
#: Cloud Run instance dynamics (instances per second): start, drain at 0 % traffic, idle scale-in.
RUN_SCALE_UP_PER_S = 0.25
RUN_DRAIN_PER_S = 0.15
RUN_IDLE_SCALE_IN_PER_S = 1.0 / 120.0
#: Traffic moves to a new split with this time constant (s).
TRAFFIC_SHIFT_TAU_S = 3.0

#: Load: a gentle daily shape (peak at 17:00 UTC) times a slow AR(1) noise.
LOAD_DAILY_AMPLITUDE = 0.06
LOAD_PEAK_HOUR_UTC = 17.0
LOAD_NOISE_KEEP = 0.995
LOAD_NOISE_STD = 0.03

#: Cloud SQL: CPU = base + per connection + per reconnecting connection (retry storm).
SQL_CPU_BASE = 0.325
SQL_CPU_PER_CONNECTION = 0.00165
SQL_CPU_PER_RECONNECT = 0.0068
SQL_MEMORY_BASE = 0.45
SQL_MEMORY_PER_CONNECTION = 0.001
SQL_ADMIN_CONNECTIONS = 6
#: Time constant (s) of the retry storm's load on Cloud SQL following the drop probability.
SQL_RECONNECT_TAU_S = 120.0

#: Synthetic probes: every PROBE_INTERVAL_S, judged over the last PROBE_WINDOW probes (5 min).
PROBE_INTERVAL_S = 5
PROBE_WINDOW = 60
WEBSOCKET_PROBE_TIMEOUT_S = 5.0
WEBSOCKET_HANDSHAKE_BASE_S = 0.08
CHAT_PROBE_TIMEOUT_S = 30.0
#: The chat probe waits for this many agent events, each within CHAT_EVENT_DEADLINE_S.
CHAT_AGENT_EVENTS = 5
CHAT_EVENT_DEADLINE_S = 5.0
CHAT_AGENT_THINK_S = 0.8

#: Log entries kept per service per simulated second (the metrics still count every 503).
MAX_LOGS_PER_SECOND = 3
#: Seconds of simulated time per noise block (one generator per block).
NOISE_BLOCK_S = 3600
#: Trailing window (s) of the 5xx rate, like Cloud Monitoring's 60 s alignment.
ERROR_RATE_WINDOW_S = 60

BACKEND_OLD_REVISION_SUFFIX = "00749-6tr"
BACKEND_NEW_REVISION_SUFFIX = "00750-69k"
#: The onset: revision 00750-69k deployed beside 00749-6tr, 50/50, this long before ``start``.
ONSET_LEAD_S = 45 * 60

Role = Literal["frontend", "auth", "backend", "websocket", "chat", "connector", "database"]
ROLES: tuple[Role, ...] = (
    "frontend",
    "auth",
    "backend",
    "websocket",
    "chat",
    "connector",
    "database",
)


@dataclass(frozen=True)
class CloudRunProfile:
    """The fixed behaviour of one Cloud Run service in the model."""

    role: Role
    requests_per_s: float
    #: Median latency (s) when nothing queues.
    base_median_s: float
    #: Lognormal spread of latency.
    sigma: float
    #: Requests slower than this end as 503 "upstream request timeout".
    timeout_s: float
    #: Requests one instance serves at once (Cloud Run concurrency).
    concurrency: float
    #: Long-lived requests (WebSocket sessions) held open at load 1.
    sessions: float
    #: Instances kept warm per revision serving traffic (revision template min-instances).
    revision_min_instances: int
    #: Database round trips through the connector per request.
    round_trips: float
    #: Database connections each instance of each revision holds (its pool), by revision suffix.
    pool_by_revision: Mapping[str, float]
    #: (revision suffix, initial traffic percent) before the onset.
    initial_revisions: tuple[tuple[str, int], ...]
    cpu_base: float
    cpu_per_rps_per_instance: float
    memory_base: float
    memory_per_inflight_per_instance: float


FRONTEND = CloudRunProfile(
    role="frontend",
    requests_per_s=8.0,
    base_median_s=0.115,
    sigma=0.45,
    timeout_s=60.0,
    concurrency=80.0,
    sessions=0.0,
    revision_min_instances=2,
    round_trips=0.0,
    pool_by_revision={},
    initial_revisions=(("00231-q7w", 100),),
    cpu_base=0.08,
    cpu_per_rps_per_instance=0.04,
    memory_base=0.30,
    memory_per_inflight_per_instance=0.01,
)
AUTH = CloudRunProfile(
    role="auth",
    requests_per_s=1.5,
    base_median_s=0.12,
    sigma=0.57,
    timeout_s=20.0,
    concurrency=20.0,
    sessions=0.0,
    revision_min_instances=6,
    round_trips=4.4,
    pool_by_revision={"00412-k2m": 4.0},
    initial_revisions=(("00412-k2m", 100),),
    cpu_base=0.10,
    cpu_per_rps_per_instance=0.25,
    memory_base=0.35,
    memory_per_inflight_per_instance=0.03,
)
BACKEND = CloudRunProfile(
    role="backend",
    requests_per_s=0.25,
    base_median_s=0.2,
    sigma=0.47,
    timeout_s=18.0,
    concurrency=4.0,
    sessions=16.0,
    revision_min_instances=20,
    round_trips=5.1,
    # 00750-69k shipped a larger pool with its longer database timeout: each instance holds more.
    pool_by_revision={BACKEND_OLD_REVISION_SUFFIX: 3.0, BACKEND_NEW_REVISION_SUFFIX: 6.0},
    initial_revisions=((BACKEND_OLD_REVISION_SUFFIX, 100),),
    cpu_base=0.10,
    cpu_per_rps_per_instance=0.5,
    memory_base=0.42,
    memory_per_inflight_per_instance=0.04,
)
#: Connections through the connector an auth request opens (token lookup, session write): each
#: may be dropped, and auth does not retry.
AUTH_CONNECTION_ATTEMPTS = 1.3
#: Share of backend requests that open a fresh connection (WebSocket handshakes, background jobs)
#: and fail when the connector drops it; pooled requests retry a dropped connection twice.
BACKEND_UNPOOLED_SHARE = 0.05
#: Share of backend requests that call auth (token checks missing the cache).
BACKEND_AUTH_CALL_FRACTION = 0.2

#: Columns of the per-second noise used inside the sequential loop.
_LOOP_NORMALS = 3  # load, websocket latency, chat latency
_LOG_FIELDS = 5  # time offset, cause, message, detail, revision
_LOOP_UNIFORMS_FIXED = 5  # auth errors, backend errors, websocket auth, chat agent, spare
_LOOP_UNIFORMS = _LOOP_UNIFORMS_FIXED + 2 * MAX_LOGS_PER_SECOND * _LOG_FIELDS
#: Columns of per-second noise for the vectorised metric outputs.
_OUTPUT_NOISE_COLUMNS = 32
#: The output-noise columns that set each Cloud Run service's percentile spread.
_SPREAD_COLUMNS = [0, 5, 10]
#: Relative noise of the latency percentiles from one second to the next.
LATENCY_PERCENTILE_NOISE = 0.05

_SQRT2 = math.sqrt(2.0)
_Z50, _Z95, _Z99 = 0.0, 1.6448536269514722, 2.3263478740408408


def revision_name(resource: str, suffix: str) -> str:
    """The Cloud Run revision name for a service resource and a revision suffix."""
    return f"{resource}-{suffix}"


def _normal_survival(x: float) -> float:
    """P(Z > x) for a standard normal Z."""
    return 0.5 * math.erfc(x / _SQRT2)


# ---------------------------------------------------------------------------------------------
# Mutable state
# ---------------------------------------------------------------------------------------------


@dataclass
class _RunServiceState:
    """The evolving state of one Cloud Run service: its revisions and scaling limits."""

    profile: CloudRunProfile
    resource: str
    min_instances: int = 0
    max_instances: int = 100
    revision_suffixes: list[str] = field(default_factory=list)
    target_shares: list[float] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    instances: list[float] = field(default_factory=list)
    pools: list[float] = field(default_factory=list)
    error_ratio: float = 0.0
    mean_latency_s: float = 0.0

    def add_revision(self, suffix: str, share: float, instances: float) -> None:
        self.revision_suffixes.append(suffix)
        self.target_shares.append(share)
        self.shares.append(share)
        self.instances.append(instances)
        self.pools.append(float(self.profile.pool_by_revision.get(suffix, 0.0)))

    def revision_names(self) -> list[str]:
        return [revision_name(self.resource, s) for s in self.revision_suffixes]


@dataclass
class _ConnectorState:
    """The connector: configured limits, instances by machine type, autoscaler timers."""

    min_instances: int = 2
    max_instances: int = 10
    machine_type: str = "e2-micro"
    #: Instances of the configured machine type.
    current_type_instances: int = 8
    #: Instances of other machine types still being replaced, and their summed capacity.
    other_instances: int = 0
    other_capacity: float = 0.0
    seconds_since_scale: int = 0
    seconds_since_replace: int = 0

    @property
    def instances(self) -> int:
        return self.current_type_instances + self.other_instances


@dataclass
class _ProbeWindow:
    """The last PROBE_WINDOW outcomes of one synthetic probe (a fixed-size ring)."""

    ok: list[int]
    latency_ms: list[float]
    cursor: int = 0

    @classmethod
    def healthy(cls, latency_ms: float) -> _ProbeWindow:
        return cls([1] * PROBE_WINDOW, [latency_ms] * PROBE_WINDOW)

    def record(self, ok: bool, latency_ms: float) -> None:
        self.ok[self.cursor] = 1 if ok else 0
        self.latency_ms[self.cursor] = latency_ms
        self.cursor = (self.cursor + 1) % PROBE_WINDOW

    def success(self) -> float:
        return sum(self.ok) / PROBE_WINDOW

    def mean_latency_ms(self) -> float:
        return sum(self.latency_ms) / PROBE_WINDOW


@dataclass
class _NoiseBlock:
    """All random numbers of one block of NOISE_BLOCK_S simulated seconds."""

    index: int
    #: The daily load shape of each second of the block.
    daily_load: np.ndarray
    loop_normals: np.ndarray
    loop_uniforms: np.ndarray
    output_normals: np.ndarray
    #: exp(LATENCY_PERCENTILE_NOISE · z) per Cloud Run service: the spread of its percentiles.
    latency_spread: np.ndarray


@dataclass(frozen=True)
class ModelOutput:
    """Samples of a span of simulated seconds, by role and canonical metric."""

    timestamps: np.ndarray
    series: dict[Role, dict[str, np.ndarray]]
    logs: list[LogEntry]


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


@dataclass
class _Event:
    """A change applied to the running model before simulated second ``t`` is computed."""

    t: int
    order: int
    apply: Callable[[], None]


class IncidentModel:
    """The seed incident as a deterministic, causal, second-by-second model.

    ``origin`` is the first simulated second. ``onset`` is when revision 00750-69k is deployed.
    Changes (``schedule_*``) are queued with the simulated second they take effect at; one for a
    second already computed takes effect at the next one.
    """

    def __init__(
        self,
        seed: int,
        origin: int,
        onset: int,
        resources: Mapping[Role, str],
        log_services: Mapping[Role, str],
    ) -> None:
        self.seed = int(seed)
        self.next_t = int(origin)
        self.onset = int(onset)
        self._resources = dict(resources)
        self._log_services = dict(log_services)
        self._noise: _NoiseBlock | None = None
        self._events: list[_Event] = []
        self._event_counter = 0

        self.run = {
            p.role: _RunServiceState(p, self._resources.get(p.role, p.role))
            for p in (FRONTEND, AUTH, BACKEND)
        }
        # Start from the steady state before the onset (a warm-up settles the rest).
        initial_instances = {"frontend": 3.0, "auth": 7.0, "backend": 26.0}
        for role, state in self.run.items():
            for suffix, percent in state.profile.initial_revisions:
                state.add_revision(suffix, percent / 100.0, initial_instances[role])
            state.mean_latency_s = state.profile.base_median_s
        self.connector = _ConnectorState()
        self.load_noise = 0.0
        self.rho_smoothed = 0.6
        self.drop_probability = 0.0
        self.sql_reconnect_drop = 0.0
        self.websocket_probe = _ProbeWindow.healthy(300.0)
        self.chat_probe = _ProbeWindow.healthy(1300.0)
        #: The last ERROR_RATE_WINDOW_S − 1 per-second 503 counts of auth and backend.
        self.error_carry = {
            "auth": np.zeros(ERROR_RATE_WINDOW_S - 1, dtype=np.int64),
            "backend": np.zeros(ERROR_RATE_WINDOW_S - 1, dtype=np.int64),
        }
        self._schedule(self.onset, self._deploy_new_backend_revision)

    # ---- changes ------------------------------------------------------------------------------

    def schedule_traffic(self, role: Role, split: Mapping[str, int], t: int) -> None:
        """From second ``t``, send each revision of ``role`` its percent of ``split`` (others 0)."""
        state = self.run[role]
        percents = dict(split)

        def apply() -> None:
            state.target_shares = [percents.get(n, 0) / 100.0 for n in state.revision_names()]

        self._schedule(t, apply)

    def schedule_service_scaling(
        self, role: Role, min_instances: int, max_instances: int, t: int
    ) -> None:
        """From second ``t``, hold the service's instances between the two limits."""
        state = self.run[role]

        def apply() -> None:
            state.min_instances, state.max_instances = min_instances, max_instances

        self._schedule(t, apply)

    def schedule_connector(
        self, min_instances: int, max_instances: int, machine_type: str, t: int
    ) -> None:
        """From second ``t``, the connector's new limits; a new machine type starts replacing
        instances one by one."""
        c = self.connector

        def apply() -> None:
            c.min_instances, c.max_instances = min_instances, max_instances
            if machine_type != c.machine_type:
                c.other_capacity += c.current_type_instances * MACHINE_TYPE_CAPACITY[c.machine_type]
                c.other_instances += c.current_type_instances
                c.current_type_instances = 0
                c.machine_type = machine_type
                c.seconds_since_replace = 0

        self._schedule(t, apply)

    def _schedule(self, t: int, apply: Callable[[], None]) -> None:
        self._event_counter += 1
        self._events.append(_Event(max(int(t), self.next_t), self._event_counter, apply))
        self._events.sort(key=lambda e: (e.t, e.order))

    def _deploy_new_backend_revision(self) -> None:
        """The onset: 00750-69k is deployed beside 00749-6tr and traffic splits 50/50."""
        backend = self.run["backend"]
        backend.add_revision(BACKEND_NEW_REVISION_SUFFIX, 0.0, 0.0)
        backend.target_shares = [0.5, 0.5]

    # ---- noise --------------------------------------------------------------------------------

    def _noise_block(self, index: int) -> _NoiseBlock:
        """The noise of block ``index``. Transcendental functions are applied here, to whole
        blocks, so later per-span arithmetic is exact whatever the span boundaries."""
        if self._noise is None or self._noise.index != index:
            entropy = [self.seed % 2**63, index % 2**63]
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
            seconds = index * NOISE_BLOCK_S + np.arange(NOISE_BLOCK_S, dtype=np.float64)
            hours_from_peak = np.mod(seconds, 86400.0) / 3600.0 - LOAD_PEAK_HOUR_UTC
            daily = 1.0 + LOAD_DAILY_AMPLITUDE * np.cos(2.0 * np.pi * hours_from_peak / 24.0)
            loop_normals = rng.standard_normal((NOISE_BLOCK_S, _LOOP_NORMALS))
            loop_uniforms = rng.random((NOISE_BLOCK_S, _LOOP_UNIFORMS))
            output_normals = rng.standard_normal((NOISE_BLOCK_S, _OUTPUT_NOISE_COLUMNS))
            spread = np.exp(LATENCY_PERCENTILE_NOISE * output_normals[:, _SPREAD_COLUMNS])
            self._noise = _NoiseBlock(
                index, daily, loop_normals, loop_uniforms, output_normals, spread
            )
        return self._noise

    # ---- advancing ----------------------------------------------------------------------------

    def advance(self, t_end: int) -> ModelOutput:
        """Compute every second from ``next_t`` through ``t_end`` and return their samples."""
        t_end = int(t_end)
        parts: list[ModelOutput] = []
        while self.next_t <= t_end:
            while self._events and self._events[0].t <= self.next_t:
                self._events.pop(0).apply()
            block = self.next_t // NOISE_BLOCK_S
            stop = min(t_end + 1, (block + 1) * NOISE_BLOCK_S)
            if self._events:
                stop = min(stop, self._events[0].t)
            parts.append(self._advance_segment(self.next_t, stop - self.next_t))
        return concat_outputs(parts)

    def _advance_segment(self, t0: int, n: int) -> ModelOutput:
        """Run ``n`` seconds from ``t0`` without events or noise-block boundaries inside."""
        noise = self._noise_block(t0 // NOISE_BLOCK_S)
        first = t0 - noise.index * NOISE_BLOCK_S
        timestamps = np.arange(t0, t0 + n, dtype=np.float64)
        span = slice(first, first + n)
        rows, logs = self._loop(
            t0,
            noise.daily_load[span].tolist(),
            noise.loop_normals[span].tolist(),
            noise.loop_uniforms[span].tolist(),
        )
        table = np.array(rows, dtype=np.float64).reshape(n, len(_ROW_FIELDS))
        columns = {name: table[:, i] for i, name in enumerate(_ROW_FIELDS)}
        series = self._derive_metrics(
            columns, noise.output_normals[span], noise.latency_spread[span]
        )
        return ModelOutput(timestamps, series, logs)

    def _loop(
        self,
        t0: int,
        daily: list[float],
        normals: list[list[float]],
        uniforms: list[list[float]],
    ) -> tuple[list[tuple[float, ...]], list[LogEntry]]:
        """The sequential part: state variables that feed back on each other, one second at a
        time, with scalars only. Everything that is a pure function of the recorded row is
        derived afterwards, vectorised."""
        exp, log, ceil = math.exp, math.log, math.ceil
        survival = _normal_survival
        frontend, auth, backend = self.run["frontend"], self.run["auth"], self.run["backend"]
        services = (frontend, auth, backend)
        conn = self.connector
        ws_probe, chat_probe = self.websocket_probe, self.chat_probe
        load_noise, rho_s, p_drop = self.load_noise, self.rho_smoothed, self.drop_probability
        load_innovation = LOAD_NOISE_STD * math.sqrt(1.0 - LOAD_NOISE_KEEP**2)
        shift = 1.0 - math.exp(-1.0 / TRAFFIC_SHIFT_TAU_S)
        queue_keep = math.exp(-1.0 / QUEUE_TAU_S)
        reconnect_keep = math.exp(-1.0 / SQL_RECONNECT_TAU_S)
        sql_drop = self.sql_reconnect_drop
        cap_cfg = MACHINE_TYPE_CAPACITY[conn.machine_type]
        auth_log_id = self._log_services.get("auth")
        backend_log_id = self._log_services.get("backend")
        mean_factor = [exp(0.5 * s.profile.sigma**2) for s in services]
        ws_success, ws_latency_ms = ws_probe.success(), ws_probe.mean_latency_ms()
        chat_success, chat_latency_ms = chat_probe.success(), chat_probe.mean_latency_ms()
        rows: list[tuple[float, ...]] = []
        logs: list[LogEntry] = []
        n = len(daily)
        for i in range(n):
            t = t0 + i
            zl = normals[i]
            ul = uniforms[i]
            load_noise = LOAD_NOISE_KEEP * load_noise + load_innovation * zl[0]
            load = daily[i] * (1.0 + load_noise)

            # Cloud Run: offered load, in-flight requests, instances per revision.
            connections = 0.0
            rps = [0.0, 0.0, 0.0]
            instances_total = [0.0, 0.0, 0.0]
            run_wait = [0.0, 0.0, 0.0]
            inflight_per_instance = [0.0, 0.0, 0.0]
            for k in range(3):
                svc = services[k]
                prof = svc.profile
                rate = prof.requests_per_s * load * (1.0 + RETRY_GAIN * svc.error_ratio)
                rps[k] = rate
                inflight = prof.sessions * load + rate * svc.mean_latency_s
                shares, targets_share, inst = svc.shares, svc.target_shares, svc.instances
                nrev = len(inst)
                targets = [0.0] * nrev
                for j in range(nrev):
                    sh = shares[j] + (targets_share[j] - shares[j]) * shift
                    if abs(sh - targets_share[j]) < 1e-4:
                        sh = targets_share[j]
                    shares[j] = sh
                    if sh > 1e-3:
                        targets[j] = prof.revision_min_instances + ceil(
                            sh * inflight / prof.concurrency
                        )
                wanted = sum(targets)
                if wanted > svc.max_instances:
                    scale = svc.max_instances / wanted
                    targets = [x * scale for x in targets]
                elif wanted < svc.min_instances:
                    for j in range(nrev):
                        targets[j] += (svc.min_instances - wanted) * shares[j]
                total = 0.0
                for j in range(nrev):
                    x, target = inst[j], targets[j]
                    if x < target:
                        x = min(target, x + RUN_SCALE_UP_PER_S)
                    elif x > target:
                        fast = shares[j] <= 1e-3 or x > svc.max_instances
                        x = max(target, x - (RUN_DRAIN_PER_S if fast else RUN_IDLE_SCALE_IN_PER_S))
                    inst[j] = x
                    total += x
                    connections += x * svc.pools[j]
                instances_total[k] = total
                capacity = max(total, 1.0) * prof.concurrency
                inflight_per_instance[k] = inflight / max(total, 1.0)
                run_wait[k] = min(
                    QUEUE_WAIT_MAX_S,
                    RUN_QUEUE_WAIT_S * exp(RUN_QUEUE_BETA * (inflight / capacity - 1.0)),
                )

            # The connector: demand, capacity, autoscaler, backlog.
            demand = (
                DEMAND_SHARED * load
                + DEMAND_PER_AUTH_RPS * rps[1]
                + DEMAND_PER_BACKEND_RPS * rps[2]
                + DEMAND_PER_CONNECTION * connections * (1.0 + DEMAND_RECONNECT_CHURN * p_drop)
            )
            capacity = conn.current_type_instances * cap_cfg + conn.other_capacity
            rho = demand / capacity
            total_conn = conn.current_type_instances + conn.other_instances
            conn.seconds_since_scale += 1
            wants_more = total_conn < conn.min_instances or (
                demand > CONNECTOR_TARGET_UTILIZATION * capacity
            )
            if (
                wants_more
                and total_conn < conn.max_instances
                and conn.seconds_since_scale >= CONNECTOR_SCALE_STEP_S
            ):
                conn.current_type_instances += 1
                conn.seconds_since_scale = 0
            if conn.other_instances:
                conn.seconds_since_replace += 1
                if conn.seconds_since_replace >= CONNECTOR_REPLACE_STEP_S:
                    conn.other_capacity -= conn.other_capacity / conn.other_instances
                    conn.other_instances -= 1
                    if not conn.other_instances:
                        conn.other_capacity = 0.0
                    conn.current_type_instances += 1
                    conn.seconds_since_replace = 0
            total_conn = conn.current_type_instances + conn.other_instances
            capacity = conn.current_type_instances * cap_cfg + conn.other_capacity
            busy = min(demand * total_conn / capacity, total_conn)
            saturation = busy / conn.max_instances
            rho_s = rho + (rho_s - rho) * queue_keep
            x = (rho_s - 1.0) / DROP_KNEE_WIDTH
            overflow = DROP_KNEE_WIDTH * (x if x > 30.0 else math.log1p(exp(x)))
            p_drop = min(0.95, overflow / rho_s)
            sql_drop = p_drop + (sql_drop - p_drop) * reconnect_keep
            excess = QUEUE_BETA * (rho_s - QUEUE_RHO_REF)
            wait = QUEUE_WAIT_REF_S * (exp(excess) if excess < 0.0 else 1.0 + excess)
            wait = min(QUEUE_WAIT_MAX_S, wait)

            # Latency medians and failure fractions.
            m_front = FRONTEND.base_median_s + run_wait[0]
            m_auth = AUTH.base_median_s + AUTH.round_trips * wait + run_wait[1]
            m_back = (
                BACKEND.base_median_s
                + BACKEND.round_trips * wait
                + BACKEND_AUTH_CALL_FRACTION * m_auth
                + run_wait[2]
            )
            # In-flight time is bounded by the timeout: slower requests are cut off as 503s.
            frontend.mean_latency_s = min(FRONTEND.timeout_s, m_front * mean_factor[0])
            auth.mean_latency_s = min(AUTH.timeout_s, m_auth * mean_factor[1])
            backend.mean_latency_s = min(BACKEND.timeout_s, m_back * mean_factor[2])
            tail_auth = survival(log(AUTH.timeout_s / m_auth) / AUTH.sigma)
            tail_back = survival(log(BACKEND.timeout_s / m_back) / BACKEND.sigma)
            drop_back = BACKEND_UNPOOLED_SHARE * p_drop + (1.0 - BACKEND_UNPOOLED_SHARE) * p_drop**3
            auth_dropped = 1.0 - (1.0 - p_drop) ** AUTH_CONNECTION_ATTEMPTS
            err_auth = min(1.0, auth_dropped + (1.0 - auth_dropped) * tail_auth)
            err_back = min(1.0, drop_back + tail_back)
            auth.error_ratio, backend.error_ratio = err_auth, err_back

            # Realised 503s this second (inverse-transform Poisson draws) and their log lines.
            count_auth = _poisson(rps[1] * err_auth, ul[0])
            count_back = _poisson(rps[2] * err_back, ul[1])
            if count_auth and auth_log_id is not None:
                cause_drop = auth_dropped / err_auth if err_auth > 0 else 0.0
                _log_errors(logs, t, auth_log_id, auth, count_auth, ul, 0, cause_drop)
            if count_back and backend_log_id is not None:
                cause_drop = drop_back / err_back if err_back > 0 else 0.0
                _log_errors(logs, t, backend_log_id, backend, count_back, ul, 1, cause_drop)

            # Synthetic probes of the golden path, every PROBE_INTERVAL_S seconds.
            if t % PROBE_INTERVAL_S == 0:
                ws_latency = (WEBSOCKET_HANDSHAKE_BASE_S + m_back) * exp(BACKEND.sigma * zl[1])
                ws_ok = ws_latency < WEBSOCKET_PROBE_TIMEOUT_S and ul[2] >= err_auth
                ws_probe.record(
                    ws_ok, 1000.0 * (ws_latency if ws_ok else WEBSOCKET_PROBE_TIMEOUT_S)
                )
                event_ok = 1.0 - survival(log(CHAT_EVENT_DEADLINE_S / m_back) / BACKEND.sigma)
                chat_ok = ws_ok and ul[3] < event_ok**CHAT_AGENT_EVENTS
                chat_latency = ws_latency + CHAT_AGENT_THINK_S + m_back * exp(BACKEND.sigma * zl[2])
                chat_ok = chat_ok and chat_latency < CHAT_PROBE_TIMEOUT_S
                chat_probe.record(
                    chat_ok, 1000.0 * (chat_latency if chat_ok else CHAT_PROBE_TIMEOUT_S)
                )
                ws_success, ws_latency_ms = ws_probe.success(), ws_probe.mean_latency_ms()
                chat_success, chat_latency_ms = chat_probe.success(), chat_probe.mean_latency_ms()

            rows.append(
                (
                    rps[0], rps[1], rps[2],
                    m_front, m_auth, m_back,
                    instances_total[0], instances_total[1], instances_total[2],
                    inflight_per_instance[0], inflight_per_instance[1], inflight_per_instance[2],
                    count_auth, count_back,
                    connections, demand, capacity, total_conn, saturation, rho, sql_drop,
                    ws_success, ws_latency_ms, chat_success, chat_latency_ms,
                )
            )  # fmt: skip
        self.load_noise, self.rho_smoothed, self.drop_probability = load_noise, rho_s, p_drop
        self.sql_reconnect_drop = sql_drop
        self.next_t = t0 + n
        return rows, logs

    # ---- derived metrics (vectorised) ---------------------------------------------------------

    def _derive_metrics(
        self, c: dict[str, np.ndarray], z: np.ndarray, latency_spread: np.ndarray
    ) -> dict[Role, dict[str, np.ndarray]]:
        """Canonical metrics from the recorded rows; ``z`` holds one column of noise per use.

        Only exact arithmetic (+ − × ÷, min, max, round) happens here, never a transcendental
        function of an array, so a second's values do not depend on where its span began."""
        series: dict[Role, dict[str, np.ndarray]] = {}
        trailing = {
            role: self._trailing_error_rate(role, c[f"count_{role}"])
            for role in ("auth", "backend")
        }
        for k, (role, prof) in enumerate(
            (("frontend", FRONTEND), ("auth", AUTH), ("backend", BACKEND))
        ):
            base = 5 * k
            rps = c[f"rps_{role}"]
            median_s = c[f"median_{role}"]
            instances = c[f"instances_{role}"]
            errors = trailing.get(role, np.zeros_like(rps))
            spread = latency_spread[:, k]

            def percentile(zq: float, median_s=median_s, spread=spread, prof=prof) -> np.ndarray:
                factor = math.exp(prof.sigma * zq)
                return 1000.0 * np.minimum(prof.timeout_s, median_s * factor * spread)

            active = np.round(instances)
            series[role] = {
                "requests_per_s": rps * (1.0 + 0.03 * z[:, base + 1]),
                "errors_5xx_per_s": errors,
                "error_ratio": np.clip(errors / np.maximum(rps, 1e-9), 0.0, 1.0),
                "latency_p50_ms": percentile(_Z50),
                "latency_p95_ms": percentile(_Z95),
                "latency_p99_ms": percentile(_Z99),
                "instances_active": active,
                # Idle instances follow the (smooth) instance count: a real autoscaler keeps a
                # few warm and does not flip them every second.
                "instances_idle": np.round(1.0 + 0.06 * instances),
                "cpu_utilization": np.clip(
                    prof.cpu_base
                    + prof.cpu_per_rps_per_instance * rps / np.maximum(instances, 1.0)
                    + 0.015 * z[:, base + 3],
                    0.01,
                    1.0,
                ),
                "memory_utilization": np.clip(
                    prof.memory_base
                    + prof.memory_per_inflight_per_instance * c[f"inflight_{role}"]
                    + 0.01 * z[:, base + 4],
                    0.05,
                    1.0,
                ),
            }
        carried = np.minimum(c["demand"], c["capacity"])
        series["connector"] = {
            "throughput_sent_bps": carried * SENT_BYTES_PER_UNIT * (1.0 + 0.04 * z[:, 15]),
            "throughput_received_bps": carried * RECEIVED_BYTES_PER_UNIT * (1.0 + 0.04 * z[:, 16]),
            "instances": c["connector_instances"].copy(),
            "cpu_utilization": np.clip(
                0.04 + 0.88 * np.minimum(c["rho"], 1.0) + 0.01 * z[:, 17], 0.0, 1.0
            ),
            "saturation": np.clip(c["saturation"], 0.0, 1.0),
        }
        connections = c["connections"]
        series["database"] = {
            "cpu_utilization": np.clip(
                SQL_CPU_BASE
                + SQL_CPU_PER_CONNECTION * connections
                + SQL_CPU_PER_RECONNECT * connections * c["sql_drop"]
                + 0.008 * z[:, 18],
                0.0,
                1.0,
            ),
            "memory_utilization": np.clip(
                SQL_MEMORY_BASE + SQL_MEMORY_PER_CONNECTION * connections + 0.005 * z[:, 19],
                0.0,
                1.0,
            ),
            "connections": np.round(connections + SQL_ADMIN_CONNECTIONS + 1.5 * z[:, 20]),
        }
        series["websocket"] = {
            "probe_success": c["websocket_success"].copy(),
            "probe_latency_ms": c["websocket_latency_ms"].copy(),
        }
        series["chat"] = {
            "probe_success": c["chat_success"].copy(),
            "probe_latency_ms": c["chat_latency_ms"].copy(),
        }
        return series

    def _trailing_error_rate(self, role: str, counts: np.ndarray) -> np.ndarray:
        """503s per second over the trailing ERROR_RATE_WINDOW_S, in exact integer arithmetic."""
        carry = self.error_carry[role]
        joined = np.concatenate([carry, counts.astype(np.int64)])
        cumulative = np.concatenate([[0], np.cumsum(joined)])
        w = ERROR_RATE_WINDOW_S
        window_sums = cumulative[w:] - cumulative[:-w]
        self.error_carry[role] = joined[-(w - 1) :].copy()
        return window_sums.astype(np.float64) / w

    # ---- inspection ---------------------------------------------------------------------------

    def buffer_sizes(self) -> dict[str, int]:
        """Sizes of every internal buffer; none may grow with simulated time."""
        sizes = {
            "events": len(self._events),
            "websocket_window": len(self.websocket_probe.ok),
            "chat_window": len(self.chat_probe.ok),
            "noise_rows": 0 if self._noise is None else len(self._noise.loop_uniforms),
        }
        for role, carry in self.error_carry.items():
            sizes[f"error_carry_{role}"] = len(carry)
        for role, state in self.run.items():
            sizes[f"revisions_{role}"] = len(state.instances)
        return sizes


_ROW_FIELDS = (
    "rps_frontend", "rps_auth", "rps_backend",
    "median_frontend", "median_auth", "median_backend",
    "instances_frontend", "instances_auth", "instances_backend",
    "inflight_frontend", "inflight_auth", "inflight_backend",
    "count_auth", "count_backend",
    "connections", "demand", "capacity", "connector_instances", "saturation", "rho", "sql_drop",
    "websocket_success", "websocket_latency_ms", "chat_success", "chat_latency_ms",
)  # fmt: skip


def _poisson(rate: float, u: float) -> int:
    """A Poisson draw with mean ``rate`` from one uniform ``u`` (inverse transform, capped)."""
    if rate <= 0.0:
        return 0
    p = math.exp(-rate)
    cumulative = p
    k = 0
    while u > cumulative and k < 1000:
        k += 1
        p *= rate / k
        cumulative += p
    return k


_SQL_SOCKET = "Cloud SQL connection failed: socket timeout"
_CONNECTOR_TIMEOUT = "connection to 10.8.0.{ip} via VPC connector timed out"
_UPSTREAM_TIMEOUT = "upstream request timeout"
#: Log messages by (role, cause), as (cumulative probability, message) ending at 1.0.
_MESSAGES: dict[tuple[str, bool], tuple[tuple[float, str], ...]] = {
    ("auth", True): ((0.7, _SQL_SOCKET), (1.0, _CONNECTOR_TIMEOUT)),
    ("auth", False): ((1.0, _UPSTREAM_TIMEOUT),),
    ("backend", True): ((0.6, _CONNECTOR_TIMEOUT), (1.0, _SQL_SOCKET)),
    ("backend", False): ((0.5, _UPSTREAM_TIMEOUT), (0.8, _CONNECTOR_TIMEOUT), (1.0, _SQL_SOCKET)),
}
#: Seconds a request waits for a database connection before "socket timeout".
DB_CONNECT_TIMEOUT_S = 10.0


def _log_errors(
    logs: list[LogEntry],
    t: int,
    service_id: str,
    state: _RunServiceState,
    count: int,
    uniforms: list[float],
    slot: int,
    cause_drop: float,
) -> None:
    """Append up to MAX_LOGS_PER_SECOND entries for ``count`` 503s in the second ending at t."""
    names = state.revision_names()
    for n in range(min(count, MAX_LOGS_PER_SECOND)):
        base = _LOOP_UNIFORMS_FIXED + (slot * MAX_LOGS_PER_SECOND + n) * _LOG_FIELDS
        u_time, u_cause, u_message, u_detail, u_revision = uniforms[base : base + _LOG_FIELDS]
        ip = 2 + int(u_detail * 10)
        dropped = u_cause < cause_drop
        if dropped:
            latency_s = DB_CONNECT_TIMEOUT_S * (1.0 + 0.05 * u_detail)
        else:
            latency_s = state.profile.timeout_s * (1.0 + 0.02 * u_detail)
        table = _MESSAGES[(state.profile.role, dropped)]
        message = next((m for limit, m in table if u_message <= limit), table[-1][1])
        cumulative, revision = 0.0, names[-1]
        for name, share in zip(names, state.shares, strict=True):
            cumulative += share
            if u_revision < cumulative:
                revision = name
                break
        logs.append(
            LogEntry(
                t=t - 1.0 + u_time,
                service=service_id,
                severity="ERROR",
                message=message.format(ip=ip),
                status=503,
                latency_ms=round(1000.0 * latency_s, 1),
                revision=revision,
            )
        )


def concat_outputs(parts: list[ModelOutput]) -> ModelOutput:
    """Join consecutive outputs into one."""
    parts = [p for p in parts if len(p.timestamps)]
    if not parts:
        return ModelOutput(np.zeros(0), {}, [])
    if len(parts) == 1:
        return parts[0]
    series: dict[Role, dict[str, np.ndarray]] = {}
    for role, metrics in parts[0].series.items():
        series[role] = {
            name: np.concatenate([p.series[role][name] for p in parts]) for name in metrics
        }
    logs = [entry for p in parts for entry in p.logs]
    return ModelOutput(np.concatenate([p.timestamps for p in parts]), series, logs)
